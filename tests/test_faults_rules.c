/* SPDX-License-Identifier: MIT */
/* test_faults_rules.c: the fault rule table (add, list, remove, limits) and the determinism of
 * faulty runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "faults_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* The rule table                                                                            */
/* ---------------------------------------------------------------------------------------- */

static void test_fault_remove_stops_the_rule_and_ids_are_not_reused(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "rm", -1, &s);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, 0);
    sf_fault_params all = {.scope = SF_SCOPE_FAKE, .drop_rate = 1.0};
    sf_fault_params mine = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1, .delay_ms = 40};
    sf_fault_id r1 = add_fault(fx, &all), r2 = add_fault(fx, &mine);
    assert_int_equal(r1, 1);
    assert_int_equal(r2, 2);

    faults_publish(fx, s.sid, 0, NULL);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(fault_sub_stats(fx, s1).dropped, 1);

    sf_error err;
    assert_status(sf_fault_remove(fx->fake, r1, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 1);
    sf_ms t = sf_clock_now(fx->fake);
    faults_publish(fx, s.sid, 1, NULL);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].payload, 1);
    assert_int_equal(recs[0].ev[0].delivered_ms, t + 40); /* the other rule still applies */

    assert_status(sf_fault_remove(fx->fake, r2, NULL), SF_OK);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    t = sf_clock_now(fx->fake);
    faults_publish(fx, s.sid, 2, NULL);
    assert_int_equal(recs[0].n, 2); /* no rule: delivered before publish returns */
    assert_int_equal(recs[0].ev[1].delivered_ms, t);

    assert_status(sf_fault_remove(fx->fake, r1, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_fault_remove(fx->fake, 999, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(add_fault(fx, &all), 3); /* never reused */
}

/* The three listed rules (out) have ids 1..3, the parameters they were added with (rule 2 on
 * stream_sid, rule 3 on subscriber s1) and no hits yet. */
static void check_listed_rules(const sf_fault_info *out, const char *stream_sid,
                               sf_subscriber_id s1)
{
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[i].id, (sf_fault_id)(i + 1));
    assert_int_equal(out[0].params.scope, SF_SCOPE_FAKE);
    assert_true(out[0].params.duplicate_rate == 1.0);
    assert_int_equal(out[0].params.delay_ms, 7);
    assert_int_equal(out[0].params.jitter_ms, 3);
    assert_null(out[0].params.stream_sid);
    assert_int_equal(out[1].params.scope, SF_SCOPE_STREAM);
    assert_string_equal(out[1].stream_sid, stream_sid);
    assert_ptr_equal(out[1].params.stream_sid, out[1].stream_sid);
    assert_int_equal(out[1].params.drop_next, 2);
    assert_int_equal(out[1].drop_next_left, 2);
    assert_int_equal(out[1].params.expiry_lag_ms, 100);
    assert_int_equal(out[2].params.scope, SF_SCOPE_SUBSCRIBER);
    assert_int_equal(out[2].params.subscriber, s1);
    assert_true(out[2].params.drop_rate == 0.25);
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[i].hits, 0);
}

/* Three publishes to stream_sid: the stream rule's drop_next takes the first two; the third is
 * either dropped by the subscriber rule's draw or delayed and duplicated by rule 1 (two hits). */
static void check_hits_after_three_publishes(sf_fixture *fx, const char *stream_sid,
                                             sf_subscriber_id s1)
{
    sf_fault_info out[4];
    faults_publish(fx, stream_sid, 0, NULL);
    faults_publish(fx, stream_sid, 1, NULL);
    faults_publish(fx, stream_sid, 2, NULL);
    sf_run_until_idle(fx->fake);
    assert_int_equal(sf_fault_list(fx->fake, out, 4), 3);
    assert_int_equal(out[1].drop_next_left, 0);
    assert_int_equal(out[1].hits, 2);
    assert_true(out[2].hits <= 1);
    sf_subscriber_stats st = fault_sub_stats(fx, s1);
    assert_int_equal(st.dropped, 2 + out[2].hits);
    assert_int_equal(out[0].hits, out[2].hits ? 0 : 2);
    assert_int_equal(st.delivered, out[2].hits ? 0 : 2);
    assert_int_equal(recs[0].n, st.delivered);
}

static void test_fault_list_shows_ids_params_and_hits(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "list", -1, &s);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, 0);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);

    sf_fault_params p1 = {
        .scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0, .delay_ms = 7, .jitter_ms = 3};
    char sid_copy[SF_SID_SIZE];
    memcpy(sid_copy, s.sid, SF_SID_SIZE);
    sf_fault_params p2 = {
        .scope = SF_SCOPE_STREAM, .stream_sid = sid_copy, .drop_next = 2, .expiry_lag_ms = 100};
    sf_fault_params p3 = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1, .drop_rate = 0.25};
    add_fault(fx, &p1);
    add_fault(fx, &p2);
    add_fault(fx, &p3);
    memset(sid_copy, 'x', SF_SID_LEN); /* the rule keeps its own copy */

    sf_fault_info out[4];
    memset(out, 0xa5, sizeof out);
    assert_int_equal(sf_fault_list(fx->fake, out, 4), 3);
    check_listed_rules(out, s.sid, s1);
    unsigned char sentinel[sizeof out[3]];
    memset(sentinel, 0xa5, sizeof sentinel);
    assert_memory_equal(&out[3], sentinel, sizeof sentinel); /* only 3 written */

    /* cap smaller than the table: count still reported, only cap written */
    sf_fault_info one[2];
    memset(one, 0xa5, sizeof one);
    assert_int_equal(sf_fault_list(fx->fake, one, 1), 3);
    assert_int_equal(one[0].id, 1);
    assert_memory_equal(&one[1], sentinel, sizeof sentinel);

    check_hits_after_three_publishes(fx, s.sid, s1);
}

static void test_fault_add_rejects_invalid_params(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "bad", -1, &s);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, 0);
    const struct {
        const char *what;
        sf_fault_params p;
    } cases[] = {
        {"drop_rate 1.5", {.scope = SF_SCOPE_FAKE, .drop_rate = 1.5}},
        {"drop_rate -0.1", {.scope = SF_SCOPE_FAKE, .drop_rate = -0.1}},
        {"drop_rate NaN", {.scope = SF_SCOPE_FAKE, .drop_rate = NAN}},
        {"duplicate_rate 1.5", {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.5}},
        {"duplicate_rate NaN", {.scope = SF_SCOPE_FAKE, .duplicate_rate = NAN}},
        {"duplicate_rate inf", {.scope = SF_SCOPE_FAKE, .duplicate_rate = INFINITY}},
        {"negative delay", {.scope = SF_SCOPE_FAKE, .delay_ms = -1}},
        {"negative jitter", {.scope = SF_SCOPE_FAKE, .jitter_ms = -5}},
        {"negative expiry lag", {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = -1}},
        {"stream scope without SID", {.scope = SF_SCOPE_STREAM, .drop_rate = 0.5}},
        {"stream scope with a name", {.scope = SF_SCOPE_STREAM, .stream_sid = "bad"}},
        {"unknown subscriber", {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 99}},
        {"subscriber 0", {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 0}},
        {"subscriber scope with expiry lag",
         {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1, .expiry_lag_ms = 1000}},
        {"unknown scope", {.scope = (sf_fault_scope)7}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        sf_fault_id id = 12345;
        sf_status st = sf_fault_add(fx->fake, &cases[i].p, &id, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("%s: got %s, want SF_ERR_INVALID_ARGUMENT", cases[i].what, sf_status_name(st));
        assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
        sf_assert_twilio_error(&err, 400, 20001);
        assert_int_equal(id, 12345);
        assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    }
    sf_error err;
    assert_status(sf_fault_add(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    /* nothing was spent: the first valid rule is still rule 1, and publishing is unaffected */
    sf_fault_params ok = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1};
    assert_int_equal(add_fault(fx, &ok), 1);
    faults_publish(fx, s.sid, 0, NULL);
    assert_int_equal(recs[0].n, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Determinism                                                                               */
/* ---------------------------------------------------------------------------------------- */

enum { SEED_SUBS = 4, SEED_MSGS = 200 };

typedef struct seed_run {
    unsigned char dropped[SEED_MSGS][SEED_SUBS];
    char *journal;
    size_t journal_len;
    size_t ndropped;
} seed_run;

static void seed_run_do(sf_fixture *fx, int rec, seed_run *out)
{
    sf_stream_record s;
    sf_fixture_stream(fx, "seeded", -1, &s);
    for (int k = 0; k < SEED_SUBS; k++)
        assert_int_equal(faults_subscribe(fx, s.sid, rec + k), (sf_subscriber_id)(k + 1));
    sf_fault_params fp = {
        .scope = SF_SCOPE_FAKE, .drop_rate = 0.5, .duplicate_rate = 0.2, .jitter_ms = 20};
    add_fault(fx, &fp);
    msgmap *map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < SEED_MSGS; i++) {
        faults_publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
        advance_ms(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    memset(out->dropped, 0, sizeof out->dropped);
    out->ndropped = 0;
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        int idx = msgmap_find(map, je.message_sid);
        assert_true(idx >= 0);
        assert_true(je.subscriber >= 1 && je.subscriber <= SEED_SUBS);
        out->dropped[idx][je.subscriber - 1] = 1;
        out->ndropped++;
    }
    out->journal_len = sf_journal_render(fx->fake, NULL, NULL, 0);
    out->journal = scratch_alloc(out->journal_len + 1);
    assert_int_equal(sf_journal_render(fx->fake, NULL, out->journal, out->journal_len + 1),
                     out->journal_len);
}

static void assert_same_events(const recorder *a, const recorder *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t j = 0; j < a->n; j++) {
        assert_string_equal(a->ev[j].message_sid, b->ev[j].message_sid);
        assert_int_equal(a->ev[j].delivered_ms, b->ev[j].delivered_ms);
        assert_int_equal(a->ev[j].is_duplicate, b->ev[j].is_duplicate);
        assert_int_equal(a->ev[j].payload, b->ev[j].payload);
    }
}

static void test_same_seed_twice_gives_identical_fates(void **state)
{
    sf_fixture *one = *state;
    sf_fixture *two = extra_fixture(SF_TEST_SEED, false);
    seed_run *a = scratch_alloc(sizeof *a), *b = scratch_alloc(sizeof *b);
    seed_run_do(one, 0, a);
    seed_run_do(two, SEED_SUBS, b);
    assert_true(a->ndropped > 0);
    assert_memory_equal(a->dropped, b->dropped, sizeof a->dropped);
    assert_int_equal(a->journal_len, b->journal_len);
    assert_memory_equal(a->journal, b->journal, a->journal_len);
    for (int k = 0; k < SEED_SUBS; k++)
        assert_same_events(&recs[k], &recs[SEED_SUBS + k]);
}

static void test_different_seed_gives_different_drop_pattern(void **state)
{
    sf_fixture *one = *state;
    sf_fixture *other = extra_fixture(SF_TEST_SEED + 1, false);
    seed_run *a = scratch_alloc(sizeof *a), *b = scratch_alloc(sizeof *b);
    seed_run_do(one, 0, a);
    seed_run_do(other, SEED_SUBS, b);
    /* both are plausible draws at 0.5, and not the same draws */
    size_t cells = SEED_MSGS * SEED_SUBS;
    assert_true(a->ndropped > cells / 4 && a->ndropped < 3 * cells / 4);
    assert_true(b->ndropped > cells / 4 && b->ndropped < 3 * cells / 4);
    assert_true(memcmp(a->dropped, b->dropped, sizeof a->dropped) != 0);
    size_t differ = 0;
    for (int i = 0; i < SEED_MSGS; i++)
        for (int k = 0; k < SEED_SUBS; k++)
            differ += a->dropped[i][k] != b->dropped[i][k];
    assert_true(differ > cells / 4); /* independent draws disagree about half the time */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, faults_setup, faults_teardown)
#define TU(fn) cmocka_unit_test_setup_teardown(fn, faults_setup_unlimited, faults_teardown)
    const struct CMUnitTest tests[] = {
        T(test_fault_remove_stops_the_rule_and_ids_are_not_reused),
        T(test_fault_list_shows_ids_params_and_hits),
        T(test_fault_add_rejects_invalid_params),
        T(test_same_seed_twice_gives_identical_fates),
        T(test_different_seed_gives_different_drop_pattern),
    };
#undef T
#undef TU
    return cmocka_run_group_tests(tests, NULL, NULL);
}
