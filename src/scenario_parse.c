/* SPDX-License-Identifier: MIT */
/* scenario_parse.c: a scenario's text -> steps (the format is in syncfake_scenario.h). The
 * whole text is checked before anything runs, so a bad line changes nothing. */
#include "internal.h"
#include "scenario_names.h"
#include "scenario_parse.h"

#include <string.h>

static const char *const ns_what[NS_COUNT] = {"service", "stream", "subscriber", "fault"};

bool sf__scn_name_step(sf__scn_parser *ps, sf__scn_step *st, int ns, bool declare)
{
    sf__scn_word w;
    if (!sf__scn_need_word(ps, &w, ns_what[ns]))
        return false;
    return declare ? sf__scn_declare(ps, ns, &w, &st->a) : sf__scn_use(ps, ns, &w, &st->a);
}

static bool parse_service(sf__scn_parser *ps, sf__scn_step *st)
{
    return sf__scn_name_step(ps, st, NS_SERVICE, true) && sf__scn_need_end(ps);
}

static bool parse_stream(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w, k, v;
    char shown[48];
    bool has_service = false;
    if (!sf__scn_name_step(ps, st, NS_STREAM, true))
        return false;
    while (sf__scn_next(ps, &w)) {
        uint64_t ttl;
        if (sf__scn_split(&w, &k, &v) && sf__scn_is(&k, "service")) {
            if (!sf__scn_use(ps, NS_SERVICE, &v, &st->b))
                return false;
            has_service = true;
        } else if (sf__scn_split(&w, &k, &v) && sf__scn_is(&k, "ttl") &&
                   sf__scn_uint(&v, UINT32_MAX, &ttl)) {
            st->flag = true;
            st->n = (int64_t)ttl;
        } else {
            return sf__scn_fail(ps, "expected service=NAME or ttl=SECONDS, got '%s'",
                                sf__scn_show(&w, shown));
        }
    }
    if (!has_service) {
        if (ps->s->names[NS_SERVICE].count == 0)
            return sf__scn_fail(ps, "expected a `service` line before the first stream");
        st->b = ps->s->names[NS_SERVICE].count - 1;
    }
    ps->s->stream_service[st->a] = st->b;
    return true;
}

static bool parse_subscribe(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w, k, v;
    char shown[48];
    if (!sf__scn_name_step(ps, st, NS_SUBSCRIBER, true) || !sf__scn_need_word(ps, &w, "a stream") ||
        !sf__scn_use(ps, NS_STREAM, &w, &st->b))
        return false;
    while (sf__scn_next(ps, &w)) {
        uint64_t client;
        if (sf__scn_split(&w, &k, &v) && sf__scn_is(&k, "client") &&
            sf__scn_uint(&v, UINT64_MAX, &client) && client > 0) {
            st->has_client = true;
            st->n = (int64_t)client; /* read back as uint64_t */
        } else if (sf__scn_is(&w, "skip_local")) {
            st->flag = true;
        } else {
            return sf__scn_fail(ps, "expected client=N (N >= 1) or skip_local, got '%s'",
                                sf__scn_show(&w, shown));
        }
    }
    return true;
}

/* Just past the '}' that closes the object opening at p (braces inside strings do not
 * count), or NULL. Whether the text is valid JSON is the fake's to say (54008). */
static const char *json_object_end(const char *p, const char *end)
{
    int depth = 0;
    bool in_string = false;
    for (; p < end; p++) {
        if (in_string) {
            if (*p == '\\' && p + 1 < end)
                p++;
            else if (*p == '"')
                in_string = false;
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if ((*p == '}' || *p == ']') && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

/* [client=N] {JSON}, then the end of the line or a comment. */
static bool parse_data(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w, k, v;
    uint64_t client;
    const char *before = ps->p;
    if (sf__scn_next(ps, &w) && sf__scn_split(&w, &k, &v) && sf__scn_is(&k, "client")) {
        if (!sf__scn_uint(&v, UINT64_MAX, &client) || client == 0)
            return sf__scn_fail(ps, "expected client=N with N >= 1");
        st->has_client = true;
        st->n = (int64_t)client;
    } else {
        ps->p = before;
    }
    if (sf__scn_at_end(ps) || *ps->p != '{')
        return sf__scn_fail(ps, "expected message data: a JSON object {...}");
    const char *end = json_object_end(ps->p, ps->end);
    if (!end)
        return sf__scn_fail(ps, "expected message data: a JSON object {...} closed on its line");
    st->data = ps->p;
    st->data_len = (size_t)(end - ps->p);
    ps->p = end;
    return sf__scn_need_end(ps); /* blanks or a comment may follow */
}

static bool parse_publish(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word label, w;
    st->count = 1;
    return sf__scn_need_word(ps, &label, "a message label") &&
           sf__scn_label_declare(ps, &label, 0, &st->a) && sf__scn_need_word(ps, &w, "a stream") &&
           sf__scn_use(ps, NS_STREAM, &w, &st->b) && parse_data(ps, st);
}

static bool parse_burst(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word label, count, w;
    uint64_t n;
    if (!sf__scn_need_word(ps, &label, "a label prefix") ||
        !sf__scn_need_word(ps, &count, "a count"))
        return false;
    if (!sf__scn_uint(&count, SF_SCENARIO_BURST_MAX, &n) || n == 0)
        return sf__scn_fail(ps, "expected a count of 1-%d publishes", SF_SCENARIO_BURST_MAX);
    st->count = (uint32_t)n;
    st->kind = SCN_PUBLISH;
    return sf__scn_label_declare(ps, &label, st->count, &st->a) &&
           sf__scn_need_word(ps, &w, "a stream") && sf__scn_use(ps, NS_STREAM, &w, &st->b) &&
           parse_data(ps, st);
}

static bool parse_ttl(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    uint64_t ttl;
    if (!sf__scn_name_step(ps, st, NS_STREAM, false) || !sf__scn_need_word(ps, &w, "a TTL"))
        return false;
    if (!sf__scn_uint(&w, UINT32_MAX, &ttl))
        return sf__scn_fail(ps, "expected a TTL in seconds (an integer >= 0)");
    st->n = (int64_t)ttl;
    return sf__scn_need_end(ps);
}

static bool parse_advance(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    if (!sf__scn_need_word(ps, &w, "a duration"))
        return false;
    if (!sf__scn_duration(&w, &st->n))
        return sf__scn_fail(ps, "expected a duration such as 250ms, 3s or 2m");
    return sf__scn_need_end(ps);
}

static bool parse_set(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    uint64_t ms;
    if (!sf__scn_need_word(ps, &w, "a time"))
        return false;
    if (w.len > 6 && memcmp(w.s, "start+", 6) == 0) {
        sf__scn_word d = {w.s + 6, w.len - 6};
        st->flag = true;
        if (!sf__scn_duration(&d, &st->n))
            return sf__scn_fail(ps, "expected start+DURATION such as start+90s");
    } else if (sf__scn_uint(&w, (uint64_t)SF_TIME_MAX_MS, &ms)) {
        st->n = (sf_ms)ms;
    } else {
        return sf__scn_fail(ps, "expected ms since the epoch or start+DURATION");
    }
    return sf__scn_need_end(ps);
}

static bool parse_heal(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    if (!sf__scn_name_step(ps, st, NS_SUBSCRIBER, false))
        return false;
    if (sf__scn_next(ps, &w)) {
        if (!sf__scn_is(&w, "discard"))
            return sf__scn_fail(ps, "expected `discard` or the end of the line");
        st->flag = true;
    }
    return sf__scn_need_end(ps);
}

static bool parse_subscriber_step(sf__scn_parser *ps, sf__scn_step *st)
{
    return sf__scn_name_step(ps, st, NS_SUBSCRIBER, false) && sf__scn_need_end(ps);
}

static bool parse_stream_step(sf__scn_parser *ps, sf__scn_step *st)
{
    return sf__scn_name_step(ps, st, NS_STREAM, false) && sf__scn_need_end(ps);
}

static bool parse_unfault(sf__scn_parser *ps, sf__scn_step *st)
{
    return sf__scn_name_step(ps, st, NS_FAULT, false) && sf__scn_need_end(ps);
}

static bool parse_idle(sf__scn_parser *ps, sf__scn_step *st)
{
    (void)st;
    return sf__scn_need_end(ps);
}

typedef struct keyword {
    const char *word;
    sf__scn_kind kind;
    bool (*parse)(sf__scn_parser *ps, sf__scn_step *st);
} keyword;

static const keyword keywords[] = {
    {"service", SCN_SERVICE, parse_service},
    {"stream", SCN_STREAM, parse_stream},
    {"subscribe", SCN_SUBSCRIBE, parse_subscribe},
    {"unsubscribe", SCN_UNSUBSCRIBE, parse_subscriber_step},
    {"fault", SCN_FAULT, sf__scn_parse_fault},
    {"unfault", SCN_UNFAULT, parse_unfault},
    {"publish", SCN_PUBLISH, parse_publish},
    {"burst", SCN_PUBLISH, parse_burst},
    {"ttl", SCN_TTL, parse_ttl},
    {"delete", SCN_DELETE, parse_stream_step},
    {"advance", SCN_ADVANCE, parse_advance},
    {"set", SCN_SET, parse_set},
    {"idle", SCN_IDLE, parse_idle},
    {"hold", SCN_HOLD, parse_subscriber_step},
    {"heal", SCN_HEAL, parse_heal},
    {"disconnect", SCN_DISCONNECT, parse_subscriber_step},
    {"reconnect", SCN_RECONNECT, parse_subscriber_step},
    {"expect", SCN_EXPECT_RECEIVED, sf__scn_parse_expect}, /* sets the exact kind */
};

static bool parse_step(sf__scn_parser *ps, const sf__scn_word *first, sf__scn_step *st)
{
    char shown[48];
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
        if (sf__scn_is(first, keywords[i].word)) {
            st->kind = keywords[i].kind;
            return keywords[i].parse(ps, st);
        }
    }
    return sf__scn_fail(ps,
                        "expected a step (service, stream, subscribe, unsubscribe, fault, "
                        "unfault, publish, burst, ttl, delete, advance, set, idle, hold, heal, "
                        "disconnect, reconnect, expect), got '%s'",
                        sf__scn_show(first, shown));
}

static bool new_step(sf__scn_parser *ps, sf__scn_step **out)
{
    sf__scenario *s = ps->s;
    if (s->step_count == SF_SCENARIO_STEPS_MAX)
        return sf__scn_fail(ps, "at most %d steps in a scenario", SF_SCENARIO_STEPS_MAX);
    sf__scn_step *grown = sf__realloc(ps->fake, s->steps, (s->step_count + 1) * sizeof *grown);
    if (!grown)
        return sf__scn_nomem(ps);
    s->steps = grown;
    *out = &s->steps[s->step_count++];
    memset(*out, 0, sizeof **out);
    (*out)->line = ps->line;
    return true;
}

/* One line: blank, a comment, or one step. */
static bool parse_line(sf__scn_parser *ps)
{
    sf__scn_word first;
    if (ps->end - ps->p > SF_SCENARIO_LINE_MAX)
        return sf__scn_fail(ps, "expected a line of at most %d bytes", SF_SCENARIO_LINE_MAX);
    if (memchr(ps->p, '\0', (size_t)(ps->end - ps->p)))
        return sf__scn_fail(ps, "expected text, got a NUL byte");
    if (!sf__scn_next(ps, &first)) /* blank, or a comment */
        return true;
    sf__scn_step *st = NULL;
    return new_step(ps, &st) && parse_step(ps, &first, st);
}

sf_status sf__scenario_parse(sf_fake *fake, const char *text, size_t len, sf__scenario *out,
                             size_t *error_line, sf_error *err)
{
    memset(out, 0, sizeof *out);
    *error_line = 0;
    sf__scn_parser ps = {.fake = fake, .s = out, .err = err, .error_line = error_line};
    if (len > SF_SCENARIO_TEXT_MAX)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "a scenario is at most %d bytes",
                               SF_SCENARIO_TEXT_MAX);
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl ? nl : end;
        ps.line++;
        ps.p = p;
        ps.end = line_end > p && line_end[-1] == '\r' ? line_end - 1 : line_end;
        if (!parse_line(&ps))
            return ps.status;
        p = nl ? nl + 1 : end;
    }
    return SF_OK;
}

void sf__scenario_free(sf_fake *fake, sf__scenario *s)
{
    for (size_t i = 0; i < s->step_count; i++)
        sf__free(fake, s->steps[i].labels);
    sf__free(fake, s->steps);
    for (int ns = 0; ns < NS_COUNT; ns++)
        sf__free(fake, s->names[ns].name);
    sf__free(fake, s->label_names.name);
    sf__free(fake, s->label_first);
    sf__free(fake, s->label_burst);
    memset(s, 0, sizeof *s);
}
