/* SPDX-License-Identifier: MIT */
/* replay.c: sf_replay. Two cursors walk the recorded lines: one re-executes each recorded
 * call in order, the other compares every entry the replay journals with the next recorded
 * line, byte for byte, once every call has run. */
#include "replay.h"
#include "syncfake_snapshot.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cursor {
    const char *text;
    size_t len, pos;
} cursor;

typedef struct replay {
    cursor exec, cmp;
    sf__rline line; /* the line being executed */
    sf__rline seen; /* a compared line, for its seq */
    sf_fake *fake;
    bool external;      /* the recording's clock was not manual */
    sf_ms clock;        /* what the external clock reads */
    uint64_t last_seq;  /* replay entries compared up to this seq */
    bool from_snapshot; /* started from a snapshot (sf_replay_snapshot) */
    uint64_t exec_seq;  /* the seq of the last line the exec cursor read */
    sf_replay_report *report;
} replay;

/* The next non-empty line (a trailing \r dropped); false at the end. */
static bool next_line(cursor *c, const char **line, size_t *n)
{
    while (c->pos < c->len) {
        const char *start = c->text + c->pos;
        const char *nl = memchr(start, '\n', c->len - c->pos);
        size_t k = nl ? (size_t)(nl - start) : c->len - c->pos;
        c->pos += k + (nl ? 1 : 0);
        if (k && start[k - 1] == '\r')
            k--;
        if (k) {
            *line = start, *n = k;
            return true;
        }
    }
    return false;
}

static sf_status refuse(sf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static sf_status refuse(sf_error *err, const char *fmt, ...)
{
    char msg[SF_ERROR_MESSAGE_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s", msg);
}

static sf_ms read_clock(void *user) { return *(const sf_ms *)user; }

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static sf_status diverge(replay *r, uint64_t seq, const char *exp, size_t en, const char *got,
                         size_t gn)
{
    sf_replay_report *rep = r->report;
    rep->diverged = true;
    rep->seq = seq;
    rep->expected = copy(exp, en);
    rep->got = copy(got, gn);
    return rep->expected && rep->got ? SF_OK : SF_ERR_NOMEM;
}

/* Whether a recorded line says what the replay's entry says. The parameters (the last key)
 * are the replay's input, not its result, so they are left out: an edited parameter shows
 * where its effects begin, not on its own line. */
static bool same_entry(replay *r, const char *exp, size_t en, const sf_journal_entry *e)
{
    char plain[1024], why[160];
    size_t n = sf_journal_entry_json(e, plain, sizeof plain);
    if (n >= sizeof plain || !sf__rline_parse(exp, en, &r->seen, why))
        return false;
    int key = r->seen.params >= 0 ? r->seen.params - 1
                                  : sf__rline_find(&r->seen, 0, "params_dropped") - 1;
    size_t cut = key >= 0 ? (size_t)r->seen.tok[key].start - 2 : en - 1; /* before ,"params */
    return cut + 1 == n && memcmp(exp, plain, cut) == 0 && plain[cut] == '}';
}

/* Compares what the replay journaled since the last comparison. */
static sf_status compare_new(replay *r)
{
    uint64_t at = sf_journal_cursor_after(r->fake, r->last_seq);
    sf_journal_entry e;
    while (sf_journal_next(r->fake, NULL, &at, &e)) {
        size_t n = sf_journal_entry_json_data(r->fake, &e, NULL, 0);
        char *got = malloc(n + 1);
        if (!got)
            return SF_ERR_NOMEM;
        sf_journal_entry_json_data(r->fake, &e, got, n + 1);
        const char *exp;
        size_t en;
        sf_status st = SF_OK;
        if (!next_line(&r->cmp, &exp, &en))
            st = diverge(r, e.seq, "", 0, got, n);
        else if (!same_entry(r, exp, en, &e))
            st = diverge(r, r->seen.ntok > 0 ? r->seen.seq : e.seq, exp, en, got, n);
        free(got);
        if (st != SF_OK || r->report->diverged)
            return st;
        r->report->compared++;
        r->last_seq = e.seq;
    }
    return SF_OK;
}

static bool limits_from(const sf__rline *l, int obj, sf_limits *m)
{
    uint64_t u[9];
    static const char *const keys[9] = {"max_data_bytes",    "publish_rate_per_s", "publish_burst",
                                        "unique_name_max",   "page_size_default",  "page_size_max",
                                        "friendly_name_max", "webhook_url_max",    "ttl_max_s"};
    for (int i = 0; i < 9; i++)
        if (!sf__rline_u64(l, obj, keys[i], &u[i]))
            return false;
    m->max_data_bytes = u[0], m->publish_rate_per_s = (uint32_t)u[1];
    m->publish_burst = (uint32_t)u[2], m->unique_name_max = u[3];
    m->page_size_default = (uint32_t)u[4], m->page_size_max = (uint32_t)u[5];
    m->friendly_name_max = u[6], m->webhook_url_max = u[7], m->ttl_max_s = (int64_t)u[8];
    return u[1] <= UINT32_MAX && u[2] <= UINT32_MAX && u[4] <= UINT32_MAX && u[5] <= UINT32_MAX &&
           u[8] <= INT64_MAX &&
           sf__rline_i64(l, obj, "debouncing_window_min_ms", &m->debouncing_window_min_ms) &&
           sf__rline_i64(l, obj, "debouncing_window_max_ms", &m->debouncing_window_max_ms);
}

/* The options of record.start; strings point into `a`. */
static bool options_from(replay *r, const sf__rline *l, sf__rargs *a, sf_options *o)
{
    int P = l->params;
    const char *clock = sf__rarg_name(a, l, "clock");
    bool fresh;
    sf_options_init(o);
    if (!clock || (strcmp(clock, "manual") && strcmp(clock, "external")) ||
        !sf__rline_bool(l, P, "fresh", &fresh) || !fresh)
        return false;
    r->external = strcmp(clock, "external") == 0;
    o->clock = r->external ? SF_CLOCK_CALLBACK : SF_CLOCK_MANUAL;
    o->clock_fn = read_clock;
    o->clock_user = &r->clock;
    o->journal_params = true;
    uint64_t cap, bytes;
    bool ok = sf__rline_u64(l, P, "seed", &o->seed) &&
              sf__rline_i64(l, P, "manual_start_ms", &o->manual_start_ms) &&
              sf__rline_i64(l, P, "now_ms", &r->clock) &&
              sf__rline_u64(l, P, "journal_capacity", &cap) &&
              sf__rline_u64(l, P, "journal_params_bytes", &bytes) &&
              limits_from(l, sf__rline_find(l, P, "limits"), &o->limits);
    o->journal_capacity = (size_t)cap;
    o->journal_params_bytes = (size_t)bytes;
    o->account_sid = sf__rarg_name(a, l, "account_sid");
    o->auth_token = sf__rarg_name(a, l, "auth_token");
    o->base_url = sf__rarg_name(a, l, "base_url");
    return ok && a->ok;
}

static sf_status start(replay *r, sf_error *err)
{
    const char *text;
    size_t n;
    char why[160];
    if (!next_line(&r->exec, &text, &n))
        return refuse(err, "the journal is empty");
    if (!sf__rline_parse(text, n, &r->line, why))
        return refuse(err, "first line: %s", why);
    sf__rline *l = &r->line;
    if (l->params_dropped)
        return refuse(err, "seq %llu: its parameters were dropped (journal_params_bytes)",
                      (unsigned long long)l->seq);
    if (l->params < 0)
        return refuse(err,
                      "seq %llu: no parameters (record with journal_params and read the "
                      "journal with ?data=1)",
                      (unsigned long long)l->seq);
    if (l->kind != SF_JOURNAL_CALL || l->call != SF__CALL_RECORD_START || l->seq != 1)
        return refuse(err,
                      "seq %llu: a journal replays from its record.start entry with seq "
                      "1 (recorded from a new or reset fake, never cleared or overwritten)",
                      (unsigned long long)l->seq);
    r->exec_seq = 1;
    sf__rargs a = {.ok = true};
    sf_options o;
    sf_status st = options_from(r, l, &a, &o)
                       ? sf_fake_new(&o, &r->fake, err)
                       : refuse(err, "seq 1: record.start is malformed or was not recorded on a "
                                     "fresh fake");
    sf__rargs_free(&a);
    return st;
}

/* Whether line l is a call to re-execute; an error when it cannot be. */
static sf_status executable(const sf__rline *l, bool from_snapshot, bool *run, sf_error *err)
{
    unsigned long long seq = (unsigned long long)l->seq;
    *run = l->kind == SF_JOURNAL_API || l->kind == SF_JOURNAL_CALL;
    if (!*run)
        return SF_OK;
    if (l->params_dropped)
        return refuse(err, "seq %llu: its parameters were dropped (journal_params_bytes)", seq);
    if (l->params < 0)
        return refuse(err,
                      "seq %llu: no parameters (record with journal_params and read the "
                      "journal with ?data=1)",
                      seq);
    if (sf__rarg_flag(l, "nested"))
        return refuse(err,
                      "seq %llu: a call made inside a subscriber callback cannot be "
                      "replayed",
                      seq);
    if (l->kind == SF_JOURNAL_CALL && l->call == SF__CALL_RECORD_START && !from_snapshot)
        return refuse(err, "seq %llu: recording started again here", seq);
    return SF_OK;
}

/* A restored fake's recording turned on (syncfake-server --load --record-calls). */
static void restart_recording(sf_fake *fake)
{
    sf_journal_record_calls(fake, false, NULL);
    sf_journal_record_calls(fake, true, NULL);
}

/* Re-executes every recorded call, then compares the replay's journal with the recorded one
 * as they stand at the end: an entry that sf_account_reset removed is then gone from both. */
static sf_status run_lines(replay *r, sf_error *err)
{
    const char *text;
    size_t n;
    char why[160];
    uint64_t seen = r->exec_seq; /* the last line read */
    while (next_line(&r->exec, &text, &n)) {
        sf__rline *l = &r->line;
        bool run;
        sf_status st;
        if (n > SF_REPLAY_LINE_MAX || !sf__rline_parse(text, n, l, why))
            return refuse(err, "line after seq %llu: %s", (unsigned long long)seen,
                          n > SF_REPLAY_LINE_MAX ? "longer than SF_REPLAY_LINE_MAX" : why);
        if (l->seq != seen + 1) /* what was there may have been a call */
            return refuse(err,
                          "seq %llu follows seq %llu: entries are missing (removed by "
                          "sf_account_reset or sf_journal_clear, or read by an account)",
                          (unsigned long long)l->seq, (unsigned long long)seen);
        seen = l->seq;
        if ((st = executable(l, r->from_snapshot, &run, err)) != SF_OK)
            return st;
        if (!run)
            continue;
        int64_t now = l->t_ms;
        if (l->kind == SF_JOURNAL_CALL && l->call == SF__CALL_CLOCK_SAMPLE &&
            !sf__rline_i64(l, l->params, "now_ms", &now))
            return refuse(err, "seq %llu: malformed clock.sample", (unsigned long long)l->seq);
        if (r->external)
            r->clock = now;
        if (l->kind == SF_JOURNAL_CALL && l->call == SF__CALL_RECORD_START)
            restart_recording(r->fake);
        else if (!sf__replay_exec(r->fake, l, why))
            return refuse(err, "seq %llu: %s", (unsigned long long)l->seq, why);
        r->report->calls++;
    }
    sf_status st = compare_new(r);
    const char *rest;
    if (st == SF_OK && !r->report->diverged && next_line(&r->cmp, &rest, &n))
        st = diverge(r, sf__rline_parse(rest, n, &r->seen, why) ? r->seen.seq : 0, rest, n, "", 0);
    return st;
}

sf_status sf_replay(const char *journal, size_t len, sf_replay_report *report, sf_error *err)
{
    if (!report)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "report is NULL");
    memset(report, 0, sizeof *report);
    if (!journal)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "journal is NULL");
    replay *r = calloc(1, sizeof *r); /* two lines' tokens: too big for some stacks */
    if (!r)
        return sf__fail(err, SF_ERR_NOMEM);
    r->exec = r->cmp = (cursor){journal, len, 0};
    r->report = report;
    sf_status st = start(r, err);
    if (st == SF_OK)
        st = run_lines(r, err);
    if (st == SF_ERR_NOMEM)
        sf__fail(err, st);
    else if (st == SF_OK)
        sf__ok(err);
    sf_fake_free(r->fake);
    free(r);
    return st;
}

/* Skips the recorded lines before the snapshot's journal position (both cursors). */
static sf_status skip_history(replay *r, sf_error *err)
{
    uint64_t next = r->fake->journal.next_seq;
    const char *text;
    size_t n, before = 0;
    char why[160];
    for (;;) {
        before = r->exec.pos;
        if (!next_line(&r->exec, &text, &n))
            break;
        if (!sf__rline_parse(text, n, &r->line, why))
            return refuse(err, "line after seq %llu: %s", (unsigned long long)r->last_seq, why);
        if (r->line.seq >= next) {
            if (r->line.seq != next)
                return refuse(err,
                              "the journal jumps from seq %llu to %llu: it does not "
                              "continue the snapshot",
                              (unsigned long long)next - 1, (unsigned long long)r->line.seq);
            break;
        }
    }
    r->exec.pos = r->cmp.pos = before;
    r->last_seq = r->exec_seq = next - 1;
    return SF_OK;
}

sf_status sf_replay_snapshot(const char *snapshot, size_t snapshot_len, bool external_clock,
                             const char *journal, size_t len, sf_replay_report *report,
                             sf_error *err)
{
    if (!report)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "report is NULL");
    memset(report, 0, sizeof *report);
    if (!journal || !snapshot)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "journal or snapshot is NULL");
    replay *r = calloc(1, sizeof *r);
    if (!r)
        return sf__fail(err, SF_ERR_NOMEM);
    r->exec = r->cmp = (cursor){journal, len, 0};
    r->report = report;
    r->from_snapshot = true;
    r->external = external_clock;
    sf_options o;
    sf_options_init(&o);
    o.clock = external_clock ? SF_CLOCK_CALLBACK : SF_CLOCK_MANUAL;
    o.clock_fn = read_clock;
    o.clock_user = &r->clock;
    sf_status st = sf_fake_from_snapshot_buffer(&o, snapshot, snapshot_len, &r->fake, err);
    if (st == SF_OK && (st = sf__params_continue(r->fake)) != SF_OK)
        sf__fail(err, st);
    if (st == SF_OK && (st = skip_history(r, err)) == SF_OK && (st = run_lines(r, err)) == SF_OK)
        sf__ok(err);
    else if (st == SF_ERR_NOMEM)
        sf__fail(err, st);
    sf_fake_free(r->fake);
    free(r);
    return st;
}

void sf_replay_report_free(sf_replay_report *report)
{
    if (!report)
        return;
    free(report->expected);
    free(report->got);
    report->expected = report->got = NULL;
}
