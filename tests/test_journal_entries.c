/* SPDX-License-Identifier: MIT */
/* test_journal_entries.c: the journal: byte-identical for the same seed and calls, and what each
 * entry carries (api, refused, delivered, injected, publish order). */
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

/* ---------------------------------------------------------------------------------------- */
/* Determinism                                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_same_seed_and_calls_give_byte_identical_journals(void **state)
{
    (void)state;
    jfake *a = jfake_new(SF_TEST_SEED), *b = jfake_new(SF_TEST_SEED);
    jscenario(a->fake);
    jscenario(b->fake);
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
    jscenario(a->fake);
    jscenario(b->fake);
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
    jscenario(a->fake);
    sf_error err;
    jok(sf_fake_reset(a->fake, &err), &err);
    assert_int_equal(sf_journal_count(a->fake), 0);
    jscenario(a->fake);
    jscenario(b->fake);
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

/* What the api-entries test made: the service, its stream and the two messages published. */
typedef struct {
    sf_service_record svc;
    sf_stream_record s;
    sf_message_record m1, m2;
} api_made;

/* Makes a service and a stream, fails a fetch, publishes twice then once too often and injects
 * a failed fetch: the calls whose api entries the test reads. */
static void make_api_calls(jfake *j, api_made *mk)
{
    sf_error err;
    jok(sf_service_create(j->fake, NULL, NULL, &mk->svc, &err), &err);
    jok(sf_clock_advance(j->fake, 1234, &err), &err);
    jmake_stream(j->fake, mk->svc.sid, "jstream", -1, &mk->s);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(j->fake, NULL, mk->svc.sid, "nope", &rec, &err),
                  SF_ERR_NOT_FOUND);
    sf_message_record m3;
    jok(jpublish(j->fake, mk->svc.sid, "jstream", "{}", 0, &mk->m1, &err), &err);
    jok(jpublish(j->fake, mk->svc.sid, mk->s.sid, "{}", 0, &mk->m2, &err), &err);
    assert_status(jpublish(j->fake, mk->svc.sid, "jstream", "{}", 0, &m3, &err),
                  SF_ERR_RATE_LIMITED);
    sf_error_injection inj = {
        .op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 503, .code = 20503};
    jok(sf_inject_error(j->fake, &inj, &err), &err);
    assert_status(sf_stream_fetch(j->fake, NULL, mk->svc.sid, mk->s.sid, &rec, &err),
                  SF_ERR_INJECTED);
}

/* The service.create and stream.create entries: time, code, SIDs and the stream's JSON line. */
static void check_create_entries(const jfake *j, const api_made *mk)
{
    sf_journal_entry e;
    uint64_t cur = 0;
    assert_true(find_api(j->fake, SF_OP_SERVICE_CREATE, 201, &e, &cur));
    assert_int_equal(e.seq, 1);
    assert_int_equal(e.t_ms, NOW0);
    assert_int_equal(e.code, 0);
    assert_string_equal(e.service_sid, mk->svc.sid);

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_CREATE, 201, &e, &cur));
    assert_int_equal(e.kind, SF_JOURNAL_API);
    assert_int_equal(e.t_ms, NOW0 + 1234);
    assert_int_equal(e.code, 0);
    assert_false(e.injected);
    assert_string_equal(e.service_sid, mk->svc.sid);
    assert_string_equal(e.stream_sid, mk->s.sid);
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
             (unsigned long long)e.seq, (long long)(NOW0 + 1234), mk->svc.sid, mk->s.sid);
    assert_string_equal(line, want);
    assert_int_equal(n, strlen(want));
}

/* The failed entries: the 404 fetch, the two publishes, the rate-limited one and the injected
 * 503 fetch, each with its code and SIDs. */
static void check_failure_and_publish_entries(const jfake *j, const api_made *mk)
{
    sf_journal_entry e;
    char line[512];
    uint64_t cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_FETCH, 404, &e, &cur));
    assert_int_equal(e.code, 20404);
    assert_false(e.injected);
    assert_string_equal(e.stream_sid, ""); /* it named no stream that exists */

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_MESSAGE_CREATE, 201, &e, &cur));
    assert_string_equal(e.message_sid, mk->m1.sid);
    assert_string_equal(e.stream_sid, mk->s.sid); /* published by name, journaled by SID */
    assert_true(find_api(j->fake, SF_OP_MESSAGE_CREATE, 201, &e, &cur));
    assert_string_equal(e.message_sid, mk->m2.sid);
    cur = 0;
    assert_true(find_api(j->fake, SF_OP_MESSAGE_CREATE, 429, &e, &cur));
    assert_int_equal(e.code, 54009);
    assert_string_equal(e.stream_sid, mk->s.sid);
    assert_string_equal(e.message_sid, ""); /* no message was made */
    sf_journal_entry_json(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"op\":\"message.create\",\"status\":429,\"code\":54009,"
                                 "\"injected\":false"));
    assert_null(strstr(line, "message_sid"));

    cur = 0;
    assert_true(find_api(j->fake, SF_OP_STREAM_FETCH, 503, &e, &cur));
    assert_true(e.injected);
    assert_int_equal(e.code, 20503);
    sf_journal_entry_json(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"status\":503,\"code\":20503,\"injected\":true"));
}

static void test_api_entries_carry_op_status_and_code(void **state)
{
    (void)state;
    sf_limits lim;
    sf_limits_init(&lim);
    lim.publish_burst = 2;
    jfake *j = jfake_new_with(SF_TEST_SEED, 1000, &lim);
    api_made mk;
    make_api_calls(j, &mk);
    check_create_entries(j, &mk);
    check_failure_and_publish_entries(j, &mk);

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
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    jmake_stream(j->fake, svc.sid, "kept", -1, &s);
    sf_error_injection inj = {
        .op = SF_OP_STREAM_UPDATE, .count = 1, .http_status = 503, .code = 20503};
    jok(sf_inject_error(j->fake, &inj, &err), &err);
    jok(sf_clock_advance(j->fake, 77, &err), &err);
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
    jok(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &now, &err), &err);
    assert_memory_equal(&now, &s, sizeof now);
    sf_stream_params up = {.has_ttl = true, .ttl = 60};
    assert_status(sf_stream_update(j->fake, NULL, svc.sid, s.sid, &up, &now, &err),
                  SF_ERR_INJECTED);
    jfake_free(j);
}

/* The delivered-entries test's service, stream and its two subscribers, a then b. */
typedef struct {
    sf_service_record svc;
    sf_stream_record s;
    sf_subscriber_id a, b;
} delivery_setup;

/* Fast path: message m is delivered at the publish time to a then b, each entry and its JSON
 * line naming message, stream, service and subscriber, and nothing else is delivered. */
static void check_fast_path_deliveries(const jfake *j, const delivery_setup *ds,
                                       const sf_message_record *m)
{
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_DELIVERED};
    sf_journal_entry e;
    uint64_t cur = 0;
    sf_subscriber_id want[2] = {ds->a, ds->b};
    for (int i = 0; i < 2; i++) {
        assert_true(sf_journal_next(j->fake, &f, &cur, &e));
        assert_int_equal(e.kind, SF_JOURNAL_DELIVERED);
        assert_string_equal(e.message_sid, m->sid);
        assert_string_equal(e.stream_sid, ds->s.sid);
        assert_string_equal(e.service_sid, ds->svc.sid);
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
                 (unsigned long long)e.seq, (long long)(NOW0 + 77), ds->svc.sid, ds->s.sid, m->sid,
                 (unsigned long long)want[i], (long long)(NOW0 + 77));
        assert_string_equal(line, expect);
    }
    assert_false(sf_journal_next(j->fake, &f, &cur, &e));
}

/* A delay rule on b: the message is journaled delayed (until = arrival) now and delivered
 * later with until = the publish time. */
static void check_delayed_delivery(jfake *j, const delivery_setup *ds)
{
    sf_error err;
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = ds->b, .delay_ms = 250};
    sf_fault_id rule;
    jok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    sf_journal_clear(j->fake);
    sf_message_record m2;
    jok(jpublish(j->fake, ds->svc.sid, "d", "{}", 0, &m2, &err), &err);
    jok(sf_clock_advance(j->fake, 1000, &err), &err);
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_DELIVERED | 1u << SF_JOURNAL_DELAYED,
                           .subscriber = ds->b};
    sf_journal_entry e;
    uint64_t cur = 0;
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
    assert_int_equal(e.subscriber, ds->b);
    assert_false(sf_journal_next(j->fake, &f, &cur, &e));
}

static void test_delivered_entries_name_message_subscriber_and_publish_time(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    delivery_setup ds;
    jok(sf_service_create(j->fake, NULL, NULL, &ds.svc, &err), &err);
    jmake_stream(j->fake, ds.svc.sid, "d", -1, &ds.s);
    ds.a = jsubscribe(j->fake, ds.svc.sid, "d", 0, NULL);
    ds.b = jsubscribe(j->fake, ds.svc.sid, "d", 0, NULL);
    jok(sf_clock_advance(j->fake, 77, &err), &err);
    sf_message_record m;
    jok(jpublish(j->fake, ds.svc.sid, "d", "{}", 0, &m, &err), &err);
    check_fast_path_deliveries(j, &ds, &m);
    check_delayed_delivery(j, &ds);
    jfake_free(j);
}

/* An after-apply injected 500 on a publish: the api entry is marked injected yet names the
 * message that was made, and that message was delivered to a (got counts a's deliveries). */
static void check_injected_after_apply(jfake *j, const char *svc_sid, sf_subscriber_id a,
                                       const size_t *got)
{
    sf_error err;
    sf_error_injection inj = {.op = SF_OP_MESSAGE_CREATE,
                              .count = 1,
                              .http_status = 500,
                              .code = 20500,
                              .after_apply = true};
    jok(sf_inject_error(j->fake, &inj, &err), &err);
    sf_journal_clear(j->fake);
    sf_message_record m;
    assert_status(jpublish(j->fake, svc_sid, "marks", "{}", 0, &m, &err), SF_ERR_INJECTED);
    assert_int_equal(*got, 1);
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
}

/* A duplicate rule on a: the copy is journaled once as duplicated and delivered with
 * duplicate set, next to the original's plain delivery. */
static void check_duplicate_copy_marked(jfake *j, const char *svc_sid, sf_subscriber_id a,
                                        const size_t *got)
{
    sf_error err;
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = a, .duplicate_rate = 1.0};
    sf_fault_id rule;
    jok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    sf_journal_clear(j->fake);
    sf_message_record m2;
    jok(jpublish(j->fake, svc_sid, "marks", "{}", 0, &m2, &err), &err);
    sf_run_until_idle(j->fake);
    assert_int_equal(*got, 3);
    sf_journal_filter fates = {.subscriber = a};
    sf_journal_entry e;
    uint64_t cur = 0;
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
            assert_non_null(
                strstr(line, e.duplicate ? ",\"duplicate\":true}" : ",\"duplicate\":false}"));
        }
    }
    assert_int_equal(dup_entries, 1);
    assert_int_equal(delivered, 2);
    assert_int_equal(delivered_dup, 1);
}

static void test_injected_after_apply_and_duplicate_copies_are_marked(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    jmake_stream(j->fake, svc.sid, "marks", -1, &s);
    size_t got = 0;
    sf_subscriber_id a = jsubscribe(j->fake, svc.sid, "marks", 0, &got);
    check_injected_after_apply(j, svc.sid, a, &got);
    check_duplicate_copy_marked(j, svc.sid, a, &got);
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
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    jmake_stream(j->fake, svc.sid, "order", -1, &s);
    jsubscribe(j->fake, svc.sid, "order", 0, NULL);
    sf_subscriber_id b = jsubscribe(j->fake, svc.sid, "order", 0, NULL);
    sf_message_record m_fast, m_slow;
    jok(jpublish(j->fake, svc.sid, "order", "{}", 0, &m_fast, &err), &err);
    sf_fault_params fp = {
        .scope = SF_SCOPE_SUBSCRIBER, .subscriber = b, .drop_next = 1, .delay_ms = 10};
    sf_fault_id rule;
    jok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    jok(jpublish(j->fake, svc.sid, "order", "{}", 0, &m_slow, &err), &err);
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

int main(void)
{
#define T(fn) cmocka_unit_test_teardown(fn, journal_teardown)
    const struct CMUnitTest tests[] = {
        T(test_same_seed_and_calls_give_byte_identical_journals),
        T(test_different_seed_gives_a_different_journal),
        T(test_reset_fake_repeats_the_journal_of_a_new_one),
        T(test_api_entries_carry_op_status_and_code),
        T(test_refused_calls_are_journaled_and_change_nothing),
        T(test_delivered_entries_name_message_subscriber_and_publish_time),
        T(test_injected_after_apply_and_duplicate_copies_are_marked),
        T(test_publish_api_entry_precedes_the_fates_of_its_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
