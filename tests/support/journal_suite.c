/* SPDX-License-Identifier: MIT */
/* journal_suite.c: see journal_suite.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "journal_suite.h"

/* What the running test made, released by the teardown if an assertion cut the test short. */
static jfake *live_fakes[4];

void forget_fake(jfake *j)
{
    for (size_t i = 0; i < 4; i++)
        if (live_fakes[i] == j)
            live_fakes[i] = NULL;
}

jfake *jfake_new_with(uint64_t seed, size_t journal_capacity, const sf_limits *limits)
{
    jfake *j = calloc(1, sizeof *j);
    assert_non_null(j);
    size_t slot = 0;
    while (slot < 4 && live_fakes[slot])
        slot++;
    assert_true(slot < 4);
    live_fakes[slot] = j;
    sf_options o;
    sf_options_init(&o);
    o.seed = seed;
    o.journal_capacity = journal_capacity;
    if (limits)
        o.limits = *limits;
    o.allocator = sf_test_allocator(&j->alloc);
    sf_error err;
    if (sf_fake_new(&o, &j->fake, &err) != SF_OK)
        fail_msg("sf_fake_new: %s", err.message);
    return j;
}

jfake *jfake_new(uint64_t seed) { return jfake_new_with(seed, 65536, NULL); }

/* Frees the fake and checks that it gave back every block. */
void jfake_free(jfake *j)
{
    if (!j)
        return;
    forget_fake(j);
    sf_fake_free(j->fake);
    long live = j->alloc.live;
    free(j);
    assert_int_equal(live, 0);
}

void jok(sf_status st, const sf_error *err)
{
    if (st != SF_OK)
        fail_msg("call failed: %d %s (%d)", err->http_status, err->message, err->code);
}

static size_t deliveries_seen;

void jcount_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    size_t *n = user;
    if (n)
        (*n)++;
    deliveries_seen++;
}

sf_subscriber_id jsubscribe(sf_fake *fake, const char *svc, const char *stream, uint64_t client_id,
                            size_t *counter)
{
    sf_subscribe_params p = {.on_event = jcount_event, .user = counter, .client_id = client_id};
    sf_subscriber_id id = 0;
    sf_error err;
    jok(sf_subscribe(fake, NULL, svc, stream, &p, &id, &err), &err);
    return id;
}

sf_status jpublish(sf_fake *fake, const char *svc, const char *stream, const char *data,
                   uint64_t client_id, sf_message_record *m, sf_error *err)
{
    sf_publish_params p = {.data = data, .data_len = strlen(data), .client_id = client_id};
    return sf_stream_publish(fake, NULL, svc, stream, &p, m, err);
}

void jmake_stream(sf_fake *fake, const char *svc, const char *name, long long ttl,
                  sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = ttl >= 0, .ttl = ttl >= 0 ? ttl : 0};
    sf_error err;
    jok(sf_stream_create(fake, NULL, svc, &p, out, &err), &err);
}

/* The same calls for every fake: services, streams, subscribers, publishes under a
 * drop + jitter rule, clock moves, a failed fetch, an expiry, removals. */
void jscenario(sf_fake *f)
{
    sf_error err;
    sf_service_record s1, s2;
    jok(sf_service_create(f, NULL, NULL, &s1, &err), &err);
    sf_service_params sp = {.friendly_name = "second"};
    jok(sf_service_create(f, NULL, &sp, &s2, &err), &err);
    sf_stream_record alpha, beta, gamma;
    jmake_stream(f, s1.sid, "alpha", 5, &alpha);
    jmake_stream(f, s1.sid, "beta", -1, &beta);
    jmake_stream(f, s2.sid, NULL, -1, &gamma);
    jsubscribe(f, s1.sid, "alpha", 1, NULL);
    jsubscribe(f, s1.sid, alpha.sid, 0, NULL);
    jsubscribe(f, s1.sid, "beta", 2, NULL);
    sf_subscriber_id g = jsubscribe(f, s2.sid, gamma.sid, 0, NULL);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.3, .delay_ms = 5, .jitter_ms = 50};
    sf_fault_id rule;
    jok(sf_fault_add(f, &fp, &rule, &err), &err);
    const char *targets[3][2] = {{s1.sid, "alpha"}, {s1.sid, "beta"}, {s2.sid, gamma.sid}};
    for (int i = 0; i < 24; i++) {
        jok(sf_clock_advance(f, 20 * (i % 4), &err), &err);
        char data[48];
        snprintf(data, sizeof data, "{ \"i\": %d }", i);
        sf_message_record m;
        jok(jpublish(f, targets[i % 3][0], targets[i % 3][1], data, (uint64_t)(i % 3), &m, &err),
            &err);
    }
    sf_run_until_idle(f);
    sf_stream_record rec;
    if (sf_stream_fetch(f, NULL, s1.sid, "nope", &rec, &err) != SF_ERR_NOT_FOUND)
        fail_msg("fetch of an unknown stream did not fail");
    jok(sf_clock_advance(f, 6000, &err), &err); /* alpha expires */
    jok(sf_stream_remove(f, NULL, s1.sid, "beta", &err), &err);
    jok(sf_unsubscribe(f, g, &err), &err);
    sf_message_record m;
    jok(jpublish(f, s2.sid, gamma.sid, "{\"after\":true}", 0, &m, &err), &err);
    sf_run_until_idle(f);
    jok(sf_service_remove(f, NULL, s2.sid, &err), &err);
}

char *render_all(const sf_fake *fake, const sf_journal_filter *filter, size_t *len_out)
{
    size_t n = sf_journal_render(fake, filter, NULL, 0);
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    memset(buf, 'X', n + 1);
    size_t again = sf_journal_render(fake, filter, buf, n + 1);
    assert_int_equal(again, n);
    assert_int_equal(buf[n], '\0');
    assert_int_equal(strlen(buf), n);
    if (len_out)
        *len_out = n;
    return buf;
}

char *write_all(const sf_fake *fake, const sf_journal_filter *filter, size_t *len_out)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    sf_error err;
    jok(sf_journal_write(fake, filter, f, &err), &err);
    long size = ftell(f);
    assert_true(size >= 0);
    rewind(f);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len_out = (size_t)size;
    return buf;
}

static const char *const key_names[K_COUNT] = {
    "seq",           "t_ms", "time",     "kind",        "op",         "method",
    "status",        "code", "injected", "service_sid", "stream_sid", "message_sid",
    "subscriber_id", "rule", "until_ms", "duplicate",   "reason"};

int key_index(const char *k, size_t n)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(key_names[i]) == n && memcmp(key_names[i], k, n) == 0)
            return i;
    return -1;
}

/* A line being parsed: the whole of it (for messages) and the next byte. */
typedef struct line_cursor {
    const char *line, *p, *end;
    int len;
} line_cursor;

/* The next key, as an index into key_names, after checking it is known and in order. */
static int read_key(line_cursor *c, int last, int nkeys)
{
    if (c->p == c->end || *c->p++ != '"')
        fail_msg("expected a key at offset %d: %.*s", (int)(c->p - c->line), c->len, c->line);
    const char *k = c->p;
    while (c->p < c->end && *c->p != '"')
        c->p++;
    if (c->p == c->end)
        fail_msg("unterminated key: %.*s", c->len, c->line);
    int idx = key_index(k, (size_t)(c->p - k));
    c->p++;
    if (idx < 0)
        fail_msg("unknown key %.*s: %.*s", (int)(c->p - k - 1), k, c->len, c->line);
    if (idx <= last)
        fail_msg("key %s out of order: %.*s", key_names[idx], c->len, c->line);
    if (nkeys < 4 && idx != nkeys)
        fail_msg("line must start with seq, t_ms, time, kind: %.*s", c->len, c->line);
    if (c->p == c->end || *c->p++ != ':')
        fail_msg("expected ':' after %s: %.*s", key_names[idx], c->len, c->line);
    return idx;
}

/* A string of letters, digits, '.' and '_' (and '-' and ':' in time) into out->str[idx]. */
static void read_string_value(line_cursor *c, int idx, parsed_line *out)
{
    if (c->p == c->end || *c->p++ != '"')
        fail_msg("%s must be a string: %.*s", key_names[idx], c->len, c->line);
    const char *v = c->p;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '_' || (idx == K_TIME && (ch == '-' || ch == ':'))))
            fail_msg("unexpected character in %s: %.*s", key_names[idx], c->len, c->line);
        c->p++;
    }
    if (c->p == c->end || (size_t)(c->p - v) >= sizeof out->str[idx])
        fail_msg("bad string for %s: %.*s", key_names[idx], c->len, c->line);
    memcpy(out->str[idx], v, (size_t)(c->p - v));
    c->p++;
}

static void read_bool_value(line_cursor *c, int idx, parsed_line *out)
{
    size_t left = (size_t)(c->end - c->p);
    if (left >= 4 && memcmp(c->p, "true", 4) == 0) {
        out->flag[idx] = true;
        c->p += 4;
    } else if (left >= 5 && memcmp(c->p, "false", 5) == 0) {
        c->p += 5;
    } else {
        fail_msg("%s must be true/false: %.*s", key_names[idx], c->len, c->line);
    }
}

/* An integer without leading zeros into out->num[idx]. */
static void read_int_value(line_cursor *c, int idx, parsed_line *out)
{
    bool neg = c->p < c->end && *c->p == '-';
    if (neg)
        c->p++;
    const char *d = c->p;
    long long v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        v = v * 10 + (*c->p++ - '0');
    if (c->p == d || (c->p - d > 1 && *d == '0'))
        fail_msg("%s must be an integer: %.*s", key_names[idx], c->len, c->line);
    out->num[idx] = neg ? -v : v;
}

static void read_value(line_cursor *c, int idx, parsed_line *out)
{
    switch (idx) {
    case K_KIND:
    case K_OP:
    case K_METHOD:
    case K_SERVICE_SID:
    case K_STREAM_SID:
    case K_MESSAGE_SID:
    case K_TIME:
    case K_REASON:
        read_string_value(c, idx, out);
        break;
    case K_INJECTED:
    case K_DUPLICATE:
        read_bool_value(c, idx, out);
        break;
    default:
        read_int_value(c, idx, out);
    }
}

/* What the values must mean: time is t_ms written out, the SIDs are of the right kind, and
 * the whole line is one valid, already compact JSON object. */
static void check_line_values(const char *line, size_t len, const parsed_line *out)
{
    char iso[21], want_time[32];
    sf_format_iso8601(out->num[K_T_MS], iso);
    snprintf(want_time, sizeof want_time, "%.19s.%03lldZ", iso, out->num[K_T_MS] % 1000);
    if (strcmp(out->str[K_TIME], want_time) != 0)
        fail_msg("time %s is not t_ms %lld (%s): %.*s", out->str[K_TIME], out->num[K_T_MS],
                 want_time, (int)len, line);
    if (out->has[K_SERVICE_SID] && !sf_sid_is(out->str[K_SERVICE_SID], "IS"))
        fail_msg("bad service_sid: %.*s", (int)len, line);
    if (out->has[K_STREAM_SID] && !sf_sid_is(out->str[K_STREAM_SID], "TO"))
        fail_msg("bad stream_sid: %.*s", (int)len, line);
    if (out->has[K_MESSAGE_SID] && !sf_sid_is(out->str[K_MESSAGE_SID], "TZ"))
        fail_msg("bad message_sid: %.*s", (int)len, line);
    char *compact = malloc(len + 1);
    assert_non_null(compact);
    size_t clen = 0;
    assert_status(sf_json_compact_object(line, len, compact, len + 1, &clen), SF_OK);
    assert_int_equal(clen, len);
    assert_memory_equal(compact, line, len);
    free(compact);
}

/* Parses line[0..len) (no newline) or fails the test naming the reason. */
void parse_line(const char *line, size_t len, parsed_line *out)
{
    memset(out, 0, sizeof *out);
    line_cursor c = {line, line, line + len, (int)len};
    if (c.p == c.end || *c.p++ != '{')
        fail_msg("line does not start with '{': %.*s", c.len, line);
    for (int last = -1, nkeys = 0;; nkeys++) {
        int idx = read_key(&c, last, nkeys);
        last = idx;
        out->has[idx] = true;
        read_value(&c, idx, out);
        if (c.p == c.end)
            fail_msg("line ends early: %.*s", c.len, line);
        if (*c.p == '}') {
            c.p++;
            break;
        }
        if (*c.p++ != ',')
            fail_msg("expected ',' or '}': %.*s", c.len, line);
    }
    if (c.p != c.end)
        fail_msg("trailing bytes after the object: %.*s", c.len, line);
    check_line_values(line, len, out);
}

/* Checks every line of a rendering: shape, key order, per-kind keys, seq continuity.
 * Returns the number of lines; counts lines per kind into kinds[] when given. */
size_t check_lines(const char *text, size_t len, uint64_t first_seq,
                   size_t kinds[SF_JOURNAL_KIND_COUNT])
{
    size_t lines = 0;
    const char *p = text, *end = text + len;
    uint64_t want = first_seq;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            fail_msg("the last line has no newline");
        parsed_line pl;
        parse_line(p, (size_t)(nl - p), &pl);
        char prefix[64];
        snprintf(prefix, sizeof prefix, "{\"seq\":%llu,\"t_ms\":", (unsigned long long)want);
        if (strncmp(p, prefix, strlen(prefix)) != 0)
            fail_msg("expected seq %llu: %.*s", (unsigned long long)want, (int)(nl - p), p);
        want++;
        int kind = -1;
        for (int k = 0; k < SF_JOURNAL_KIND_COUNT; k++)
            if (strcmp(pl.str[K_KIND], sf_journal_kind_name((sf_journal_kind)k)) == 0)
                kind = k;
        if (kind < 0)
            fail_msg("unknown kind: %.*s", (int)(nl - p), p);
        if (kinds)
            kinds[kind]++;
        bool api = kind == SF_JOURNAL_API, refused = kind == SF_JOURNAL_REFUSED;
        assert_int_equal(pl.has[K_OP], api);
        assert_int_equal(pl.has[K_METHOD], refused);
        assert_int_equal(pl.has[K_STATUS], api || refused);
        assert_int_equal(pl.has[K_CODE], api || refused);
        assert_int_equal(pl.has[K_INJECTED], api);
        if (api) {
            sf_op op;
            assert_true(sf_op_parse(pl.str[K_OP], &op));
            assert_false(pl.has[K_DUPLICATE]);
            assert_false(pl.has[K_SUBSCRIBER_ID]);
        }
        if (kind == SF_JOURNAL_DELIVERED) {
            assert_true(pl.has[K_SERVICE_SID]);
            assert_true(pl.has[K_STREAM_SID]);
            assert_true(pl.has[K_MESSAGE_SID]);
            assert_true(pl.has[K_SUBSCRIBER_ID]);
            assert_true(pl.has[K_UNTIL_MS]);
            assert_true(pl.has[K_DUPLICATE]);
            assert_true(pl.num[K_UNTIL_MS] <= pl.num[K_T_MS]); /* published, then delivered */
        }
        if (kind == SF_JOURNAL_SUBSCRIBED || kind == SF_JOURNAL_UNSUBSCRIBED ||
            kind == SF_JOURNAL_REMOVED) {
            assert_true(pl.has[K_SUBSCRIBER_ID]);
            assert_true(pl.has[K_STREAM_SID]);
        }
        if (kind == SF_JOURNAL_DROPPED)
            assert_true(pl.has[K_RULE]);
        lines++;
        p = nl + 1;
    }
    return lines;
}

int journal_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < 4; i++) {
        jfake *j = live_fakes[i];
        if (j) {
            live_fakes[i] = NULL;
            sf_fake_free(j->fake);
            free(j);
        }
    }
    return 0;
}
