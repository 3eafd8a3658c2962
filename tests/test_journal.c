/* SPDX-License-Identifier: MIT */
/* test_journal.c: the JSON Lines journal: determinism (same seed and calls, same bytes),
 * line shape and key order, API and delivery entries, filters, the bounded ring, clearing,
 * and snprintf-style rendering that never overflows. */
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

#define NOW0 SF_DEFAULT_EPOCH_MS

/* ---------------------------------------------------------------------------------------- */
/* Fakes made here (two at once for the determinism tests), each with a counting allocator   */
/* ---------------------------------------------------------------------------------------- */

typedef struct jfake {
    sf_fake *fake;
    sf_test_alloc alloc;
    char svc[SF_SID_SIZE];
} jfake;

/* What the running test made, released by the teardown if an assertion cut the test short. */
static jfake *live_fakes[4];

static void forget_fake(jfake *j)
{
    for (size_t i = 0; i < 4; i++)
        if (live_fakes[i] == j)
            live_fakes[i] = NULL;
}

static jfake *jfake_new_with(uint64_t seed, size_t journal_capacity, const sf_limits *limits)
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

static jfake *jfake_new(uint64_t seed) { return jfake_new_with(seed, 65536, NULL); }

/* Frees the fake and checks that it gave back every block. */
static void jfake_free(jfake *j)
{
    if (!j)
        return;
    forget_fake(j);
    sf_fake_free(j->fake);
    long live = j->alloc.live;
    free(j);
    assert_int_equal(live, 0);
}

static void ok(sf_status st, const sf_error *err)
{
    if (st != SF_OK)
        fail_msg("call failed: %d %s (%d)", err->http_status, err->message, err->code);
}

static size_t deliveries_seen;

static void count_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    size_t *n = user;
    if (n)
        (*n)++;
    deliveries_seen++;
}

static sf_subscriber_id subscribe(sf_fake *fake, const char *svc, const char *stream,
                                  uint64_t client_id, size_t *counter)
{
    sf_subscribe_params p = {.on_event = count_event, .user = counter, .client_id = client_id};
    sf_subscriber_id id = 0;
    sf_error err;
    ok(sf_subscribe(fake, NULL, svc, stream, &p, &id, &err), &err);
    return id;
}

static sf_status publish(sf_fake *fake, const char *svc, const char *stream, const char *data,
                         uint64_t client_id, sf_message_record *m, sf_error *err)
{
    sf_publish_params p = {.data = data, .data_len = strlen(data), .client_id = client_id};
    return sf_stream_publish(fake, NULL, svc, stream, &p, m, err);
}

static void make_stream(sf_fake *fake, const char *svc, const char *name, long long ttl,
                        sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = ttl >= 0, .ttl = ttl >= 0 ? ttl : 0};
    sf_error err;
    ok(sf_stream_create(fake, NULL, svc, &p, out, &err), &err);
}

/* The same calls for every fake: services, streams, subscribers, publishes under a
 * drop + jitter rule, clock moves, a failed fetch, an expiry, removals. */
static void scenario(sf_fake *f)
{
    sf_error err;
    sf_service_record s1, s2;
    ok(sf_service_create(f, NULL, NULL, &s1, &err), &err);
    sf_service_params sp = {.friendly_name = "second"};
    ok(sf_service_create(f, NULL, &sp, &s2, &err), &err);
    sf_stream_record alpha, beta, gamma;
    make_stream(f, s1.sid, "alpha", 5, &alpha);
    make_stream(f, s1.sid, "beta", -1, &beta);
    make_stream(f, s2.sid, NULL, -1, &gamma);
    subscribe(f, s1.sid, "alpha", 1, NULL);
    subscribe(f, s1.sid, alpha.sid, 0, NULL);
    subscribe(f, s1.sid, "beta", 2, NULL);
    sf_subscriber_id g = subscribe(f, s2.sid, gamma.sid, 0, NULL);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.3, .delay_ms = 5,
                          .jitter_ms = 50};
    sf_fault_id rule;
    ok(sf_fault_add(f, &fp, &rule, &err), &err);
    const char *targets[3][2] = {{s1.sid, "alpha"}, {s1.sid, "beta"}, {s2.sid, gamma.sid}};
    for (int i = 0; i < 24; i++) {
        ok(sf_clock_advance(f, 20 * (i % 4), &err), &err);
        char data[48];
        snprintf(data, sizeof data, "{ \"i\": %d }", i);
        sf_message_record m;
        ok(publish(f, targets[i % 3][0], targets[i % 3][1], data, (uint64_t)(i % 3), &m, &err),
           &err);
    }
    sf_run_until_idle(f);
    sf_stream_record rec;
    if (sf_stream_fetch(f, NULL, s1.sid, "nope", &rec, &err) != SF_ERR_NOT_FOUND)
        fail_msg("fetch of an unknown stream did not fail");
    ok(sf_clock_advance(f, 6000, &err), &err); /* alpha expires */
    ok(sf_stream_remove(f, NULL, s1.sid, "beta", &err), &err);
    ok(sf_unsubscribe(f, g, &err), &err);
    sf_message_record m;
    ok(publish(f, s2.sid, gamma.sid, "{\"after\":true}", 0, &m, &err), &err);
    sf_run_until_idle(f);
    ok(sf_service_remove(f, NULL, s2.sid, &err), &err);
}

static char *render_all(const sf_fake *fake, const sf_journal_filter *filter, size_t *len_out)
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

static char *write_all(const sf_fake *fake, const sf_journal_filter *filter, size_t *len_out)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    sf_error err;
    ok(sf_journal_write(fake, filter, f, &err), &err);
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

/* ---------------------------------------------------------------------------------------- */
/* A strict little checker for one journal line                                             */
/* ---------------------------------------------------------------------------------------- */

enum {
    K_SEQ, K_T_MS, K_TIME, K_KIND, K_OP, K_METHOD, K_STATUS, K_CODE, K_INJECTED, K_SERVICE_SID,
    K_STREAM_SID, K_MESSAGE_SID, K_SUBSCRIBER_ID, K_RULE, K_UNTIL_MS, K_DUPLICATE, K_REASON,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "seq", "t_ms", "time", "kind", "op", "method", "status", "code", "injected", "service_sid",
    "stream_sid", "message_sid", "subscriber_id", "rule", "until_ms", "duplicate", "reason"};

typedef struct parsed_line {
    bool has[K_COUNT];
    long long num[K_COUNT];
    bool flag[K_COUNT];
    char str[K_COUNT][64];
} parsed_line;

static int key_index(const char *k, size_t n)
{
    for (int i = 0; i < K_COUNT; i++)
        if (strlen(key_names[i]) == n && memcmp(key_names[i], k, n) == 0)
            return i;
    return -1;
}

/* Parses line[0..len) (no newline) or fails the test naming the reason. */
static void parse_line(const char *line, size_t len, parsed_line *out)
{
    memset(out, 0, sizeof *out);
    const char *p = line, *end = line + len;
    int last = -1, nkeys = 0;
    if (p == end || *p++ != '{')
        fail_msg("line does not start with '{': %.*s", (int)len, line);
    for (;;) {
        if (p == end || *p++ != '"')
            fail_msg("expected a key at offset %d: %.*s", (int)(p - line), (int)len, line);
        const char *k = p;
        while (p < end && *p != '"')
            p++;
        if (p == end)
            fail_msg("unterminated key: %.*s", (int)len, line);
        int idx = key_index(k, (size_t)(p - k));
        p++;
        if (idx < 0)
            fail_msg("unknown key %.*s: %.*s", (int)(p - k - 1), k, (int)len, line);
        if (idx <= last)
            fail_msg("key %s out of order: %.*s", key_names[idx], (int)len, line);
        if (nkeys < 4 && idx != nkeys)
            fail_msg("line must start with seq, t_ms, time, kind: %.*s", (int)len, line);
        last = idx;
        nkeys++;
        out->has[idx] = true;
        if (p == end || *p++ != ':')
            fail_msg("expected ':' after %s: %.*s", key_names[idx], (int)len, line);
        switch (idx) {
        case K_KIND: case K_OP: case K_METHOD: case K_SERVICE_SID: case K_STREAM_SID:
        case K_MESSAGE_SID: case K_TIME: case K_REASON: {
            if (p == end || *p++ != '"')
                fail_msg("%s must be a string: %.*s", key_names[idx], (int)len, line);
            const char *v = p;
            while (p < end && *p != '"') {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                      (idx == K_TIME && (c == '-' || c == ':'))))
                    fail_msg("unexpected character in %s: %.*s", key_names[idx], (int)len,
                             line);
                p++;
            }
            if (p == end || (size_t)(p - v) >= sizeof out->str[idx])
                fail_msg("bad string for %s: %.*s", key_names[idx], (int)len, line);
            memcpy(out->str[idx], v, (size_t)(p - v));
            p++;
            break;
        }
        case K_INJECTED: case K_DUPLICATE:
            if ((size_t)(end - p) >= 4 && memcmp(p, "true", 4) == 0) {
                out->flag[idx] = true;
                p += 4;
            } else if ((size_t)(end - p) >= 5 && memcmp(p, "false", 5) == 0) {
                p += 5;
            } else {
                fail_msg("%s must be true/false: %.*s", key_names[idx], (int)len, line);
            }
            break;
        default: {
            bool neg = p < end && *p == '-';
            if (neg)
                p++;
            const char *d = p;
            long long v = 0;
            while (p < end && *p >= '0' && *p <= '9')
                v = v * 10 + (*p++ - '0');
            if (p == d || (p - d > 1 && *d == '0'))
                fail_msg("%s must be an integer: %.*s", key_names[idx], (int)len, line);
            out->num[idx] = neg ? -v : v;
        }
        }
        if (p == end)
            fail_msg("line ends early: %.*s", (int)len, line);
        if (*p == '}') {
            p++;
            break;
        }
        if (*p++ != ',')
            fail_msg("expected ',' or '}': %.*s", (int)len, line);
    }
    if (p != end)
        fail_msg("trailing bytes after the object: %.*s", (int)len, line);
    /* time is t_ms, written out */
    char iso[21], want_time[32];
    sf_format_iso8601(out->num[K_T_MS], iso);
    snprintf(want_time, sizeof want_time, "%.19s.%03lldZ", iso, out->num[K_T_MS] % 1000);
    if (strcmp(out->str[K_TIME], want_time) != 0)
        fail_msg("time %s is not t_ms %lld (%s): %.*s", out->str[K_TIME], out->num[K_T_MS],
                 want_time, (int)len, line);
    /* the SIDs are SIDs of the right kind */
    if (out->has[K_SERVICE_SID] && !sf_sid_is(out->str[K_SERVICE_SID], "IS"))
        fail_msg("bad service_sid: %.*s", (int)len, line);
    if (out->has[K_STREAM_SID] && !sf_sid_is(out->str[K_STREAM_SID], "TO"))
        fail_msg("bad stream_sid: %.*s", (int)len, line);
    if (out->has[K_MESSAGE_SID] && !sf_sid_is(out->str[K_MESSAGE_SID], "TZ"))
        fail_msg("bad message_sid: %.*s", (int)len, line);
    /* and the whole line is one valid, already compact JSON object */
    char *compact = malloc(len + 1);
    assert_non_null(compact);
    size_t clen = 0;
    assert_status(sf_json_compact_object(line, len, compact, len + 1, &clen), SF_OK);
    assert_int_equal(clen, len);
    assert_memory_equal(compact, line, len);
    free(compact);
}

/* Checks every line of a rendering: shape, key order, per-kind keys, seq continuity.
 * Returns the number of lines; counts lines per kind into kinds[] when given. */
static size_t check_lines(const char *text, size_t len, uint64_t first_seq,
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

/* ---------------------------------------------------------------------------------------- */
/* Determinism                                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_same_seed_and_calls_give_byte_identical_journals(void **state)
{
    (void)state;
    jfake *a = jfake_new(SF_TEST_SEED), *b = jfake_new(SF_TEST_SEED);
    scenario(a->fake);
    scenario(b->fake);
    size_t la, lb, wa, wb;
    char *ra = render_all(a->fake, NULL, &la);
    char *rb = render_all(b->fake, NULL, &lb);
    char *fa = write_all(a->fake, NULL, &wa);
    char *fb = write_all(b->fake, NULL, &wb);
    assert_true(la > 1000);
    assert_int_equal(la, lb);
    assert_memory_equal(ra, rb, la);
    /* sf_journal_write gives the same bytes as sf_journal_render */
    assert_int_equal(wa, la);
    assert_memory_equal(fa, ra, la);
    assert_int_equal(wb, lb);
    assert_memory_equal(fb, rb, lb);
    /* the scenario exercised every kind it should have */
    size_t kinds[SF_JOURNAL_KIND_COUNT] = {0};
    size_t lines = check_lines(ra, la, 1, kinds);
    assert_int_equal(lines, sf_journal_count(a->fake));
    assert_int_equal(sf_journal_overwritten(a->fake), 0);
    assert_true(kinds[SF_JOURNAL_API] >= 30);
    assert_int_equal(kinds[SF_JOURNAL_SUBSCRIBED], 4);
    assert_int_equal(kinds[SF_JOURNAL_UNSUBSCRIBED], 1);
    assert_true(kinds[SF_JOURNAL_DELIVERED] > 0);
    assert_true(kinds[SF_JOURNAL_DROPPED] > 0);
    assert_true(kinds[SF_JOURNAL_DELAYED] > 0);
    assert_int_equal(kinds[SF_JOURNAL_EXPIRED], 1);
    assert_int_equal(kinds[SF_JOURNAL_REMOVED], 3); /* alpha x2 (expired), beta x1 */
    /* every publish to a subscribed stream has exactly one fate per subscriber: 8 publishes
     * to alpha (2 subscribers), 8 to beta (1), 8 to gamma (1; the last one has none) */
    assert_int_equal(kinds[SF_JOURNAL_DELIVERED] + kinds[SF_JOURNAL_DROPPED], 8 * 2 + 8 + 8);
    free(ra);
    free(rb);
    free(fa);
    free(fb);
    jfake_free(a);
    jfake_free(b);
}

static void test_different_seed_gives_a_different_journal(void **state)
{
    (void)state;
    jfake *a = jfake_new(SF_TEST_SEED), *b = jfake_new(SF_TEST_SEED + 1);
    scenario(a->fake);
    scenario(b->fake);
    size_t la, lb;
    char *ra = render_all(a->fake, NULL, &la);
    char *rb = render_all(b->fake, NULL, &lb);
    assert_false(la == lb && memcmp(ra, rb, la) == 0);
    /* both are well formed */
    check_lines(ra, la, 1, NULL);
    check_lines(rb, lb, 1, NULL);
    free(ra);
    free(rb);
    jfake_free(a);
    jfake_free(b);
}

static void test_reset_fake_repeats_the_journal_of_a_new_one(void **state)
{
    (void)state;
    jfake *a = jfake_new(SF_TEST_SEED), *b = jfake_new(SF_TEST_SEED);
    scenario(a->fake);
    sf_error err;
    ok(sf_fake_reset(a->fake, &err), &err);
    assert_int_equal(sf_journal_count(a->fake), 0);
    scenario(a->fake);
    scenario(b->fake);
    size_t la, lb;
    char *ra = render_all(a->fake, NULL, &la);
    char *rb = render_all(b->fake, NULL, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(ra, rb, la);
    assert_memory_equal(ra, "{\"seq\":1,", 9); /* seq starts over */
    free(ra);
    free(rb);
    jfake_free(a);
    jfake_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Entries                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static bool find_api(const sf_fake *fake, sf_op op, int status, sf_journal_entry *out,
                     uint64_t *cursor)
{
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_API};
    while (sf_journal_next(fake, &f, cursor, out))
        if (out->op == op && out->status == status)
            return true;
    return false;
}

static void test_api_entries_carry_op_status_and_code(void **state)
{
    (void)state;
    sf_limits lim;
    sf_limits_init(&lim);
    lim.publish_burst = 2;
    jfake *j = jfake_new_with(SF_TEST_SEED, 1000, &lim);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    ok(sf_clock_advance(j->fake, 1234, &err), &err);
    make_stream(j->fake, svc.sid, "jstream", -1, &s);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(j->fake, NULL, svc.sid, "nope", &rec, &err), SF_ERR_NOT_FOUND);
    sf_message_record m1, m2, m3;
    ok(publish(j->fake, svc.sid, "jstream", "{}", 0, &m1, &err), &err);
    ok(publish(j->fake, svc.sid, s.sid, "{}", 0, &m2, &err), &err);
    assert_status(publish(j->fake, svc.sid, "jstream", "{}", 0, &m3, &err), SF_ERR_RATE_LIMITED);
    sf_error_injection inj = {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 503,
                              .code = 20503};
    ok(sf_inject_error(j->fake, &inj, &err), &err);
    assert_status(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &rec, &err), SF_ERR_INJECTED);

    sf_journal_entry e;
    uint64_t cur = 0;
    assert_true(find_api(j->fake, SF_OP_SERVICE_CREATE, 201, &e, &cur));
    assert_int_equal(e.seq, 1);
    assert_int_equal(e.t_ms, NOW0);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.service_sid, svc.sid);

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_CREATE, 201, &e, &cur));
    assert_int_equal(e.kind, SF_JOURNAL_API);
    assert_int_equal(e.t_ms, NOW0 + 1234);
    assert_int_equal(e.code, 0);
    assert_false(e.injected);
    assert_string_equal(e.service_sid, svc.sid);
    assert_string_equal(e.stream_sid, s.sid);
    assert_string_equal(e.message_sid, "");
    assert_int_equal(e.subscriber, 0);
    char line[512];
    size_t n = sf_journal_entry_json(&e, line, sizeof line);
    assert_true(n < sizeof line);
    char want[512];
    snprintf(want, sizeof want,
             "{\"seq\":%llu,\"t_ms\":%lld,\"time\":\"2015-07-30T20:00:01.234Z\","
             "\"kind\":\"api\",\"op\":\"stream.create\","
             "\"status\":201,\"code\":0,\"injected\":false,\"service_sid\":\"%s\","
             "\"stream_sid\":\"%s\"}",
             (unsigned long long)e.seq, (long long)(NOW0 + 1234), svc.sid, s.sid);
    assert_string_equal(line, want);
    assert_int_equal(n, strlen(want));

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_FETCH, 404, &e, &cur));
    assert_int_equal(e.code, 20404);
    assert_false(e.injected);
    assert_string_equal(e.stream_sid, ""); /* it named no stream that exists */

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_MESSAGE_CREATE, 201, &e, &cur));
    assert_string_equal(e.message_sid, m1.sid);
    assert_string_equal(e.stream_sid, s.sid); /* published by name, journaled by SID */
    assert_true(find_api(j->fake, SF_OP_MESSAGE_CREATE, 201, &e, &cur));
    assert_string_equal(e.message_sid, m2.sid);
    cur = 0;
    assert_true(find_api(j->fake, SF_OP_MESSAGE_CREATE, 429, &e, &cur));
    assert_int_equal(e.code, 54009);
    assert_string_equal(e.stream_sid, s.sid);
    assert_string_equal(e.message_sid, ""); /* no message was made */
    n = sf_journal_entry_json(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"op\":\"message.create\",\"status\":429,\"code\":54009,"
                                 "\"injected\":false"));
    assert_null(strstr(line, "message_sid"));

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_FETCH, 503, &e, &cur));
    assert_true(e.injected);
    assert_int_equal(e.code, 20503);
    sf_journal_entry_json(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"status\":503,\"code\":20503,\"injected\":true"));

    /* the whole journal is well formed */
    size_t len;
    char *all = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(all, len, 1, NULL), sf_journal_count(j->fake));
    free(all);
    jfake_free(j);
}

/* What an adapter refused before the fake saw it (sf_journal_refused): one api entry with the
 * status's HTTP status and code and the SIDs given, and nothing else: no state, no injection
 * used up. */
static void test_refused_calls_are_journaled_and_change_nothing(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 1000, NULL);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "kept", -1, &s);
    sf_error_injection inj = {.op = SF_OP_STREAM_UPDATE, .count = 1, .http_status = 503,
                              .code = 20503};
    ok(sf_inject_error(j->fake, &inj, &err), &err);
    ok(sf_clock_advance(j->fake, 77, &err), &err);
    size_t before = sf_journal_count(j->fake);

    sf_journal_refused(j->fake, SF_OP_STREAM_UPDATE, svc.sid, s.sid, SF_ERR_INVALID_TTL);
    sf_journal_refused(j->fake, SF_OP_STREAM_UPDATE, svc.sid, "kept", SF_ERR_INVALID_TTL);
    sf_journal_refused(j->fake, SF_OP_STREAM_LIST, "not-a-sid", NULL, SF_ERR_INVALID_PARAMETER);
    /* nothing to record */
    sf_journal_refused(j->fake, SF_OP_STREAM_UPDATE, svc.sid, s.sid, SF_OK);
    sf_journal_refused(j->fake, SF_OP_COUNT, svc.sid, s.sid, SF_ERR_INVALID_TTL);
    sf_journal_refused(NULL, SF_OP_STREAM_UPDATE, svc.sid, s.sid, SF_ERR_INVALID_TTL);
    assert_int_equal(sf_journal_count(j->fake), before + 3);

    sf_journal_entry e;
    uint64_t cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_UPDATE, 400, &e, &cur));
    assert_int_equal(e.code, 54011);
    assert_int_equal(e.t_ms, NOW0 + 77);
    assert_false(e.injected);
    assert_string_equal(e.service_sid, svc.sid);
    assert_string_equal(e.stream_sid, s.sid);
    assert_true(find_api(j->fake, SF_OP_STREAM_UPDATE, 400, &e, &cur));
    assert_string_equal(e.stream_sid, ""); /* a unique name is not journaled as a SID */
    cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_LIST, 400, &e, &cur));
    assert_int_equal(e.code, 20001);
    assert_string_equal(e.service_sid, "");

    /* the stream is as it was, and the injected error still waits for a real update */
    sf_stream_record now;
    ok(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &now, &err), &err);
    assert_memory_equal(&now, &s, sizeof now);
    sf_stream_params up = {.has_ttl = true, .ttl = 60};
    assert_status(sf_stream_update(j->fake, NULL, svc.sid, s.sid, &up, &now, &err), SF_ERR_INJECTED);
    jfake_free(j);
}

static void test_delivered_entries_name_message_subscriber_and_publish_time(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "d", -1, &s);
    sf_subscriber_id a = subscribe(j->fake, svc.sid, "d", 0, NULL);
    sf_subscriber_id b = subscribe(j->fake, svc.sid, "d", 0, NULL);
    ok(sf_clock_advance(j->fake, 77, &err), &err);
    sf_message_record m;
    ok(publish(j->fake, svc.sid, "d", "{}", 0, &m, &err), &err);

    /* fast path: delivered at the publish time, to a then b */
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_DELIVERED};
    sf_journal_entry e;
    uint64_t cur = 0;
    sf_subscriber_id want[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        assert_true(sf_journal_next(j->fake, &f, &cur, &e));
        assert_int_equal(e.kind, SF_JOURNAL_DELIVERED);
        assert_string_equal(e.message_sid, m.sid);
        assert_string_equal(e.stream_sid, s.sid);
        assert_string_equal(e.service_sid, svc.sid);
        assert_int_equal(e.subscriber, want[i]);
        assert_int_equal(e.until_ms, NOW0 + 77);
        assert_int_equal(e.t_ms, NOW0 + 77);
        assert_int_equal(e.rule, 0);
        assert_false(e.duplicate);
        char line[512], expect[512];
        sf_journal_entry_json(&e, line, sizeof line);
        snprintf(expect, sizeof expect,
                 "{\"seq\":%llu,\"t_ms\":%lld,\"time\":\"2015-07-30T20:00:00.077Z\","
                 "\"kind\":\"delivered\",\"service_sid\":\"%s\","
                 "\"stream_sid\":\"%s\",\"message_sid\":\"%s\",\"subscriber_id\":%llu,"
                 "\"until_ms\":%lld,\"duplicate\":false}",
                 (unsigned long long)e.seq, (long long)(NOW0 + 77), svc.sid, s.sid, m.sid,
                 (unsigned long long)want[i], (long long)(NOW0 + 77));
        assert_string_equal(line, expect);
    }
    assert_false(sf_journal_next(j->fake, &f, &cur, &e));

    /* a delay: delayed (until = arrival) now, delivered later with until = publish time */
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = b, .delay_ms = 250};
    sf_fault_id rule;
    ok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    sf_journal_clear(j->fake);
    sf_message_record m2;
    ok(publish(j->fake, svc.sid, "d", "{}", 0, &m2, &err), &err);
    ok(sf_clock_advance(j->fake, 1000, &err), &err);
    f.kinds = 1u << SF_JOURNAL_DELIVERED | 1u << SF_JOURNAL_DELAYED;
    f.subscriber = b;
    cur = 0;
    assert_true(sf_journal_next(j->fake, &f, &cur, &e));
    assert_int_equal(e.kind, SF_JOURNAL_DELAYED);
    assert_int_equal(e.t_ms, NOW0 + 77);
    assert_int_equal(e.until_ms, NOW0 + 77 + 250);
    assert_int_equal(e.rule, rule);
    assert_string_equal(e.message_sid, m2.sid);
    assert_true(sf_journal_next(j->fake, &f, &cur, &e));
    assert_int_equal(e.kind, SF_JOURNAL_DELIVERED);
    assert_int_equal(e.t_ms, NOW0 + 77 + 250);
    assert_int_equal(e.until_ms, NOW0 + 77); /* when it was published */
    assert_string_equal(e.message_sid, m2.sid);
    assert_int_equal(e.subscriber, b);
    assert_false(sf_journal_next(j->fake, &f, &cur, &e));
    jfake_free(j);
}

static void test_injected_after_apply_and_duplicate_copies_are_marked(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "marks", -1, &s);
    size_t got = 0;
    sf_subscriber_id a = subscribe(j->fake, svc.sid, "marks", 0, &got);
    /* the message goes out, then the call reports an injected 500 */
    sf_error_injection inj = {.op = SF_OP_MESSAGE_CREATE, .count = 1, .http_status = 500,
                              .code = 20500, .after_apply = true};
    ok(sf_inject_error(j->fake, &inj, &err), &err);
    sf_journal_clear(j->fake);
    sf_message_record m;
    assert_status(publish(j->fake, svc.sid, "marks", "{}", 0, &m, &err), SF_ERR_INJECTED);
    assert_int_equal(got, 1);
    uint64_t cur = 0;
    sf_journal_entry e;
    sf_journal_filter api = {.kinds = 1u << SF_JOURNAL_API};
    assert_true(sf_journal_next(j->fake, &api, &cur, &e));
    assert_int_equal(e.op, SF_OP_MESSAGE_CREATE);
    assert_true(e.injected);
    assert_int_equal(e.status, 500);
    assert_int_equal(e.code, 20500);
    assert_true(sf_sid_is(e.message_sid, "TZ")); /* the change was applied */
    char applied[SF_SID_SIZE];
    memcpy(applied, e.message_sid, SF_SID_SIZE);
    sf_journal_filter del = {.kinds = 1u << SF_JOURNAL_DELIVERED};
    cur = 0;
    assert_true(sf_journal_next(j->fake, &del, &cur, &e));
    assert_string_equal(e.message_sid, applied);
    assert_int_equal(e.subscriber, a);

    /* a duplicate rule: the copy is journaled as duplicated and delivered with duplicate */
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = a, .duplicate_rate = 1.0};
    sf_fault_id rule;
    ok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    sf_journal_clear(j->fake);
    sf_message_record m2;
    ok(publish(j->fake, svc.sid, "marks", "{}", 0, &m2, &err), &err);
    sf_run_until_idle(j->fake);
    assert_int_equal(got, 3);
    sf_journal_filter fates = {.subscriber = a};
    cur = 0;
    size_t dup_entries = 0, delivered = 0, delivered_dup = 0;
    while (sf_journal_next(j->fake, &fates, &cur, &e)) {
        assert_string_equal(e.message_sid, m2.sid);
        if (e.kind == SF_JOURNAL_DUPLICATED) {
            dup_entries++;
            assert_int_equal(e.rule, rule);
            assert_true(e.duplicate);
            assert_int_equal(e.until_ms, NOW0);
        } else if (e.kind == SF_JOURNAL_DELIVERED) {
            delivered++;
            delivered_dup += e.duplicate;
            assert_int_equal(e.until_ms, NOW0);
            char line[512];
            sf_journal_entry_json(&e, line, sizeof line);
            assert_non_null(strstr(line, e.duplicate ? ",\"duplicate\":true}"
                                                     : ",\"duplicate\":false}"));
        }
    }
    assert_int_equal(dup_entries, 1);
    assert_int_equal(delivered, 2);
    assert_int_equal(delivered_dup, 1);
    jfake_free(j);
}

/* "every API call and every delivery fate, in order": a message's fates come after the API
 * call that published it, whichever path (fast or queued) the publish took. */
static void test_publish_api_entry_precedes_the_fates_of_its_message(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "order", -1, &s);
    subscribe(j->fake, svc.sid, "order", 0, NULL);
    sf_subscriber_id b = subscribe(j->fake, svc.sid, "order", 0, NULL);
    sf_message_record m_fast, m_slow;
    ok(publish(j->fake, svc.sid, "order", "{}", 0, &m_fast, &err), &err);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = b, .drop_next = 1,
                          .delay_ms = 10};
    sf_fault_id rule;
    ok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    ok(publish(j->fake, svc.sid, "order", "{}", 0, &m_slow, &err), &err);
    sf_run_until_idle(j->fake);

    const char *sids[2] = {m_fast.sid, m_slow.sid};
    for (int i = 0; i < 2; i++) {
        uint64_t api_seq = 0, first_fate = UINT64_MAX, cur = 0;
        size_t fates = 0;
        sf_journal_entry e;
        while (sf_journal_next(j->fake, NULL, &cur, &e)) {
            if (strcmp(e.message_sid, sids[i]) != 0)
                continue;
            if (e.kind == SF_JOURNAL_API) {
                assert_int_equal(e.op, SF_OP_MESSAGE_CREATE);
                api_seq = e.seq;
            } else {
                fates++;
                if (e.seq < first_fate)
                    first_fate = e.seq;
            }
        }
        assert_true(api_seq > 0);
        assert_true(fates >= 2);
        if (first_fate < api_seq)
            fail_msg("%s publish: a fate of %s (seq %llu) is journaled before its "
                     "message.create (seq %llu)",
                     i == 0 ? "fast" : "queued", sids[i], (unsigned long long)first_fate,
                     (unsigned long long)api_seq);
    }
    jfake_free(j);
}

/* ---------------------------------------------------------------------------------------- */
/* Filters                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* Names the filter test gives its streams and subscribers, to describe entries by. */
typedef struct filter_names {
    const char *stream_sid[2]; /* "f1", "f2" */
    sf_subscriber_id sub[3];   /* 'a', 'b', 'c' */
} filter_names;

/* One entry as "kind:detail@stream": detail is the op of an api entry, else the subscriber's
 * letter; "@-" when the entry names no stream. */
static void describe_entry(const sf_journal_entry *e, const filter_names *nm, char *out,
                           size_t cap)
{
    char detail[32] = "-";
    if (e->kind == SF_JOURNAL_API)
        snprintf(detail, sizeof detail, "%s", sf_op_name(e->op));
    for (int i = 0; i < 3; i++) {
        if (e->kind != SF_JOURNAL_API && e->subscriber == nm->sub[i])
            snprintf(detail, sizeof detail, "%c", 'a' + i);
    }
    const char *stream = "-";
    for (int i = 0; i < 2; i++) {
        if (strcmp(e->stream_sid, nm->stream_sid[i]) == 0)
            stream = i == 0 ? "f1" : "f2";
    }
    snprintf(out, cap, "%s:%s@%s", sf_journal_kind_name(e->kind), detail, stream);
}

/* sf_journal_next with `f` returns exactly the entries `expected` describes (space-separated
 * describe_entry texts, written by hand from the calls the test made), each equal to the
 * unfiltered entry of its seq; sf_journal_render with `f` renders exactly those. */
static void check_filter(const sf_fake *fake, const sf_journal_filter *f, const filter_names *nm,
                         const char *expected)
{
    size_t total = sf_journal_count(fake);
    sf_journal_entry *all = calloc(total + 1, sizeof *all);
    assert_non_null(all);
    uint64_t cur = 0;
    size_t n = 0;
    while (sf_journal_next(fake, NULL, &cur, &all[n]))
        n++;
    assert_int_equal(n, total);
    size_t cap = 1 << 20;
    char *got = calloc(1, cap), *json = malloc(cap);
    assert_non_null(got);
    assert_non_null(json);
    size_t glen = 0, jlen = 0, k = 0;
    sf_journal_entry e;
    cur = 0;
    while (sf_journal_next(fake, f, &cur, &e)) {
        while (k < n && all[k].seq != e.seq)
            k++;
        assert_true(k < n); /* in journal order, each one once */
        assert_memory_equal(&e, &all[k++], sizeof e);
        char text[96];
        describe_entry(&e, nm, text, sizeof text);
        glen += (size_t)snprintf(got + glen, cap - glen, "%s%s", glen ? " " : "", text);
        jlen += sf_journal_entry_json(&e, json + jlen, cap - jlen);
        json[jlen++] = '\n';
    }
    assert_string_equal(got, expected);
    size_t rlen;
    char *r = render_all(fake, f, &rlen);
    assert_int_equal(rlen, jlen);
    assert_memory_equal(r, json, jlen);
    free(r);
    free(json);
    free(got);
    free(all);
}

static void test_filters_select_by_stream_subscriber_and_kinds(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s1, s2;
    make_stream(j->fake, svc.sid, "f1", -1, &s1);
    make_stream(j->fake, svc.sid, "f2", -1, &s2);
    sf_subscriber_id a = subscribe(j->fake, svc.sid, "f1", 0, NULL);
    sf_subscriber_id b = subscribe(j->fake, svc.sid, "f1", 0, NULL);
    sf_subscriber_id c = subscribe(j->fake, svc.sid, "f2", 0, NULL);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = b, .drop_next = 2};
    sf_fault_id rule;
    ok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    sf_message_record m;
    for (int i = 0; i < 5; i++) {
        ok(publish(j->fake, svc.sid, "f1", "{}", 0, &m, &err), &err);
        ok(publish(j->fake, svc.sid, "f2", "{}", 0, &m, &err), &err);
    }
    sf_run_until_idle(j->fake);
    ok(sf_unsubscribe(j->fake, a, &err), &err);

    filter_names nm = {{s1.sid, s2.sid}, {a, b, c}};

    /* by stream: its create, subscription, publishes and their fates; nothing of f1 */
    sf_journal_filter by_stream = {.stream_sid = s2.sid};
    check_filter(j->fake, &by_stream, &nm,
                 "api:stream.create@f2 subscribed:c@f2"
                 " api:message.create@f2 delivered:c@f2 api:message.create@f2 delivered:c@f2"
                 " api:message.create@f2 delivered:c@f2 api:message.create@f2 delivered:c@f2"
                 " api:message.create@f2 delivered:c@f2");

    /* by subscriber: b's first two messages are dropped by its rule */
    sf_journal_filter by_sub = {.subscriber = b};
    check_filter(j->fake, &by_sub, &nm,
                 "subscribed:b@f1 dropped:b@f1 dropped:b@f1"
                 " delivered:b@f1 delivered:b@f1 delivered:b@f1");
    sf_journal_filter by_c = {.subscriber = c};
    check_filter(j->fake, &by_c, &nm,
                 "subscribed:c@f2 delivered:c@f2 delivered:c@f2 delivered:c@f2 delivered:c@f2"
                 " delivered:c@f2");

    /* by kinds */
    sf_journal_filter dropped = {.kinds = 1u << SF_JOURNAL_DROPPED};
    check_filter(j->fake, &dropped, &nm, "dropped:b@f1 dropped:b@f1");
    sf_journal_filter subs = {.kinds = 1u << SF_JOURNAL_SUBSCRIBED |
                                       1u << SF_JOURNAL_UNSUBSCRIBED};
    check_filter(j->fake, &subs, &nm,
                 "subscribed:a@f1 subscribed:b@f1 subscribed:c@f2 unsubscribed:a@f1");
    sf_journal_filter api = {.kinds = 1u << SF_JOURNAL_API};
    check_filter(j->fake, &api, &nm,
                 "api:service.create@- api:stream.create@f1 api:stream.create@f2"
                 " api:message.create@f1 api:message.create@f2 api:message.create@f1"
                 " api:message.create@f2 api:message.create@f1 api:message.create@f2"
                 " api:message.create@f1 api:message.create@f2 api:message.create@f1"
                 " api:message.create@f2");

    /* combined: all three must hold */
    sf_journal_filter comb = {.stream_sid = s1.sid, .subscriber = b,
                              .kinds = 1u << SF_JOURNAL_DELIVERED};
    check_filter(j->fake, &comb, &nm, "delivered:b@f1 delivered:b@f1 delivered:b@f1");
    sf_journal_filter none = {.stream_sid = s2.sid, .subscriber = b};
    check_filter(j->fake, &none, &nm, "");
    sf_journal_filter unknown = {.stream_sid = "TO00000000000000000000000000000000"};
    check_filter(j->fake, &unknown, &nm, "");
    /* an empty filter selects everything. A drop is journaled when the message is published,
     * a delivery when it arrives: b's drops come before a's deliveries of the same message */
    sf_journal_filter empty = {0};
    check_filter(j->fake, &empty, &nm,
                 "api:service.create@- api:stream.create@f1 api:stream.create@f2"
                 " subscribed:a@f1 subscribed:b@f1 subscribed:c@f2"
                 " api:message.create@f1 dropped:b@f1 delivered:a@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 dropped:b@f1 delivered:a@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 delivered:a@f1 delivered:b@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 delivered:a@f1 delivered:b@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 delivered:a@f1 delivered:b@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " unsubscribed:a@f1");
    assert_int_equal(sf_journal_render(j->fake, &none, NULL, 0), 0);
    jfake_free(j);
}

/* ---------------------------------------------------------------------------------------- */
/* The ring, clearing                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_ring_of_ten_keeps_the_last_ten_and_counts_the_rest(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 10, NULL);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "ring", -1, &s);
    sf_subscriber_id sub = subscribe(j->fake, svc.sid, "ring", 0, NULL);
    /* 3 entries so far; 11 publishes with one subscriber add 22: 25 in all */
    sf_message_record m;
    for (int i = 0; i < 11; i++) {
        ok(sf_clock_advance(j->fake, 1, &err), &err);
        ok(publish(j->fake, svc.sid, "ring", "{}", 0, &m, &err), &err);
    }
    assert_int_equal(sf_journal_count(j->fake), 10);
    assert_int_equal(sf_journal_overwritten(j->fake), 15);
    uint64_t cur = 0;
    sf_journal_entry e;
    uint64_t want = 16;
    while (sf_journal_next(j->fake, NULL, &cur, &e)) {
        assert_int_equal(e.seq, want);
        want++;
    }
    assert_int_equal(want, 26);
    /* the newest entry is the last delivery */
    assert_int_equal(e.kind, SF_JOURNAL_DELIVERED);
    assert_string_equal(e.message_sid, m.sid);
    assert_int_equal(e.subscriber, sub);
    size_t len;
    char *r = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(r, len, 16, NULL), 10);
    free(r);
    /* keeps rolling */
    ok(publish(j->fake, svc.sid, "ring", "{}", 0, &m, &err), &err);
    assert_int_equal(sf_journal_count(j->fake), 10);
    assert_int_equal(sf_journal_overwritten(j->fake), 17);
    cur = 0;
    assert_true(sf_journal_next(j->fake, NULL, &cur, &e));
    assert_int_equal(e.seq, 18);
    jfake_free(j);
}

static void test_ring_larger_than_first_allocation_stays_continuous(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 300, NULL);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "big", -1, &s);
    subscribe(j->fake, svc.sid, "big", 0, NULL);
    sf_message_record m;
    for (int i = 0; i < 400; i++) { /* 3 + 800 entries, through a 256 -> 300 growth */
        ok(sf_clock_advance(j->fake, 1000, &err), &err);
        ok(publish(j->fake, svc.sid, "big", "{}", 0, &m, &err), &err);
    }
    assert_int_equal(sf_journal_count(j->fake), 300);
    assert_int_equal(sf_journal_overwritten(j->fake), 803 - 300);
    size_t len;
    char *r = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(r, len, 504, NULL), 300);
    free(r);
    jfake_free(j);
}

static void test_capacity_zero_keeps_nothing(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 0, NULL);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    make_stream(j->fake, svc.sid, "zero", -1, &s);
    size_t got = 0;
    subscribe(j->fake, svc.sid, "zero", 0, &got);
    sf_message_record m;
    ok(publish(j->fake, svc.sid, "zero", "{}", 0, &m, &err), &err);
    assert_int_equal(got, 1); /* the fake works without a journal */
    assert_int_equal(sf_journal_count(j->fake), 0);
    uint64_t cur = 0;
    sf_journal_entry e;
    assert_false(sf_journal_next(j->fake, NULL, &cur, &e));
    char buf[8];
    memset(buf, 'X', sizeof buf);
    assert_int_equal(sf_journal_render(j->fake, NULL, buf, sizeof buf), 0);
    assert_int_equal(buf[0], '\0');
    size_t wlen;
    char *w = write_all(j->fake, NULL, &wlen);
    assert_int_equal(wlen, 0);
    free(w);
    jfake_free(j);
}

static void test_clear_empties_the_journal_and_sequence_keeps_counting(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 10, NULL);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    for (int i = 0; i < 12; i++)
        make_stream(j->fake, svc.sid, NULL, -1, &s); /* 13 entries: 3 overwritten */
    assert_int_equal(sf_journal_overwritten(j->fake), 3);
    sf_journal_clear(j->fake);
    assert_int_equal(sf_journal_count(j->fake), 0);
    assert_int_equal(sf_journal_overwritten(j->fake), 3);
    assert_int_equal(sf_journal_render(j->fake, NULL, NULL, 0), 0);
    uint64_t cur = 0;
    sf_journal_entry e;
    assert_false(sf_journal_next(j->fake, NULL, &cur, &e));
    sf_stream_record rec;
    ok(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &rec, &err), &err);
    assert_int_equal(sf_journal_count(j->fake), 1);
    cur = 0;
    assert_true(sf_journal_next(j->fake, NULL, &cur, &e));
    assert_int_equal(e.seq, 14);
    assert_int_equal(e.op, SF_OP_STREAM_FETCH);
    assert_int_equal(e.status, 200);
    /* fill past capacity again after a clear */
    for (int i = 0; i < 15; i++)
        ok(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &rec, &err), &err);
    assert_int_equal(sf_journal_count(j->fake), 10);
    assert_int_equal(sf_journal_overwritten(j->fake), 3 + 6);
    size_t len;
    char *r = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(r, len, 20, NULL), 10);
    free(r);
    jfake_free(j);
}

/* ---------------------------------------------------------------------------------------- */
/* Bounded output                                                                           */
/* ---------------------------------------------------------------------------------------- */

#define GUARD 0x5a

static void test_entry_json_with_small_buffers_returns_needed_length_and_never_overflows(
    void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    scenario(j->fake);
    uint64_t cur = 0;
    sf_journal_entry e;
    size_t checked = 0;
    while (sf_journal_next(j->fake, NULL, &cur, &e)) {
        char full[1024];
        size_t need = sf_journal_entry_json(&e, full, sizeof full);
        assert_true(need > 0 && need < sizeof full);
        assert_int_equal(strlen(full), need);
        assert_int_equal(sf_journal_entry_json(&e, NULL, 0), need);
        for (size_t cap = 0; cap <= need + 2; cap++) {
            char buf[1024 + 1];
            memset(buf, GUARD, sizeof buf);
            size_t got = sf_journal_entry_json(&e, buf, cap);
            assert_int_equal(got, need);
            if (cap > 0) {
                size_t kept = cap - 1 < need ? cap - 1 : need;
                assert_memory_equal(buf, full, kept);
                assert_int_equal(buf[kept], '\0');
            }
            for (size_t k = cap; k < sizeof buf; k++)
                if ((unsigned char)buf[k] != GUARD)
                    fail_msg("entry_json wrote byte %zu with cap %zu", k, cap);
        }
        checked++;
    }
    assert_true(checked > 50);
    jfake_free(j);
}

static void test_render_with_small_buffers_returns_needed_length_and_never_overflows(
    void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    scenario(j->fake);
    size_t need;
    char *full = render_all(j->fake, NULL, &need);
    char *buf = malloc(need + 64);
    assert_non_null(buf);
    /* every cap around the line boundaries, and a spread elsewhere */
    for (size_t cap = 0; cap <= need + 2; cap += (cap < 600 || cap + 600 > need) ? 1 : 97) {
        memset(buf, GUARD, need + 64);
        size_t got = sf_journal_render(j->fake, NULL, buf, cap);
        assert_int_equal(got, need);
        if (cap > 0) {
            size_t kept = cap - 1 < need ? cap - 1 : need;
            assert_memory_equal(buf, full, kept);
            assert_int_equal(buf[kept], '\0');
        }
        for (size_t k = cap; k < need + 64; k++)
            if ((unsigned char)buf[k] != GUARD)
                fail_msg("render wrote byte %zu with cap %zu", k, cap);
    }
    /* a filtered rendering too */
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_DELIVERED};
    size_t fneed = sf_journal_render(j->fake, &f, NULL, 0);
    assert_true(fneed > 0 && fneed < need);
    memset(buf, GUARD, need + 64);
    assert_int_equal(sf_journal_render(j->fake, &f, buf, fneed), fneed);
    assert_int_equal(buf[fneed - 1], '\0'); /* one short: the last newline gave way to NUL */
    assert_int_equal((unsigned char)buf[fneed], GUARD);
    free(buf);
    free(full);
    jfake_free(j);
}

static void test_write_reports_a_failed_stream_and_bad_arguments(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    ok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    FILE *ro = fopen("/dev/null", "r"); /* writes to a read-only stream fail */
    assert_non_null(ro);
    memset(&err, 0, sizeof err);
    assert_status(sf_journal_write(j->fake, NULL, ro, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    fclose(ro);
    assert_status(sf_journal_write(j->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_journal_write(NULL, NULL, stdout, &err), SF_ERR_INVALID_ARGUMENT);
    /* the journal itself is untouched */
    assert_int_equal(sf_journal_count(j->fake), 1);
    jfake_free(j);
}

static int teardown(void **state)
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

int main(void)
{
#define T(fn) cmocka_unit_test_teardown(fn, teardown)
    const struct CMUnitTest tests[] = {
        T(test_same_seed_and_calls_give_byte_identical_journals),
        T(test_different_seed_gives_a_different_journal),
        T(test_reset_fake_repeats_the_journal_of_a_new_one),
        T(test_api_entries_carry_op_status_and_code),
        T(test_refused_calls_are_journaled_and_change_nothing),
        T(test_delivered_entries_name_message_subscriber_and_publish_time),
        T(test_injected_after_apply_and_duplicate_copies_are_marked),
        T(test_publish_api_entry_precedes_the_fates_of_its_message),
        T(test_filters_select_by_stream_subscriber_and_kinds),
        T(test_ring_of_ten_keeps_the_last_ten_and_counts_the_rest),
        T(test_ring_larger_than_first_allocation_stays_continuous),
        T(test_capacity_zero_keeps_nothing),
        T(test_clear_empties_the_journal_and_sequence_keeps_counting),
        T(test_entry_json_with_small_buffers_returns_needed_length_and_never_overflows),
        T(test_render_with_small_buffers_returns_needed_length_and_never_overflows),
        T(test_write_reports_a_failed_stream_and_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
