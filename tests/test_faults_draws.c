/* SPDX-License-Identifier: MIT */
/* test_faults_draws.c: fault rules that draw: drop rates, rule scopes, delay and jitter, and
 * the independence of the draws of different rules and subscribers. */
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
/* Drop rate                                                                                 */
/* ---------------------------------------------------------------------------------------- */

#define DROP_SUBS 10
#define DROP_MSGS 1000

/* How often each subscriber got each message, by callback and by journaled drop. */
typedef struct {
    unsigned char delivered[DROP_SUBS][DROP_MSGS], dropped[DROP_SUBS][DROP_MSGS];
} drop_fates;

/* Every callback is a plain, undelayed delivery to its subscriber of a published message;
 * counts them into fates->delivered. */
static void count_delivered_callbacks(const sf_subscriber_id *subs, msgmap *map, drop_fates *fates)
{
    for (int k = 0; k < DROP_SUBS; k++) {
        for (size_t j = 0; j < recs[k].n; j++) {
            const rec_event *e = &recs[k].ev[j];
            assert_int_equal(e->kind, SF_EVENT_MESSAGE_PUBLISHED);
            assert_int_equal(e->sub, subs[k]);
            assert_false(e->is_duplicate);
            assert_true(e->payload >= 0 && e->payload < DROP_MSGS);
            assert_int_equal(msgmap_find(map, e->message_sid), e->payload);
            assert_int_equal(e->delivered_ms, e->published_ms);
            fates->delivered[k][e->payload]++;
        }
    }
}

/* Every dropped entry names the rule, the stream, the service and a published message;
 * counts them into fates->dropped and returns how many there are. */
static size_t count_journaled_drops(sf_fixture *fx, const char *stream_sid, sf_fault_id rule,
                                    msgmap *map, drop_fates *fates)
{
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    size_t total_dropped = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_int_equal(je.kind, SF_JOURNAL_DROPPED);
        assert_int_equal(je.rule, rule);
        assert_string_equal(je.stream_sid, stream_sid);
        assert_string_equal(je.service_sid, fx->service_sid);
        assert_false(je.duplicate);
        assert_true(je.subscriber >= 1 && je.subscriber <= DROP_SUBS);
        int idx = msgmap_find(map, je.message_sid);
        assert_true(idx >= 0);
        fates->dropped[je.subscriber - 1][idx]++;
        total_dropped++;
    }
    return total_dropped;
}

/* Every delivery has exactly one fate, delivered once or dropped once by the rule, and each
 * subscriber's stats agree; returns how many were delivered. */
static size_t check_one_fate_each(sf_fixture *fx, const sf_subscriber_id *subs,
                                  const drop_fates *fates)
{
    size_t total_delivered = 0;
    for (int k = 0; k < DROP_SUBS; k++) {
        size_t sub_dropped = 0;
        for (int i = 0; i < DROP_MSGS; i++) {
            if (fates->delivered[k][i] + fates->dropped[k][i] != 1)
                fail_msg("subscriber %d message %d: delivered %d times, dropped %d times", k + 1, i,
                         fates->delivered[k][i], fates->dropped[k][i]);
            sub_dropped += fates->dropped[k][i];
            total_delivered += fates->delivered[k][i];
        }
        sf_subscriber_stats st = fault_sub_stats(fx, subs[k]);
        assert_int_equal(st.dropped, sub_dropped);
        assert_int_equal(st.delivered, DROP_MSGS - sub_dropped);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.in_flight, 0);
    }
    return total_delivered;
}

static void test_drop_rate_drops_that_fraction_and_journals_each_drop_with_its_rule(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "drops", -1, &s);
    sf_subscriber_id subs[DROP_SUBS];
    for (int k = 0; k < DROP_SUBS; k++) {
        subs[k] = faults_subscribe(fx, s.sid, k);
        assert_int_equal(subs[k], (sf_subscriber_id)(k + 1));
    }
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.3};
    sf_fault_id rule = add_fault(fx, &fp);

    msgmap *map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < DROP_MSGS; i++) {
        faults_publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
    }
    assert_int_equal(sf_pending_deliveries(fx->fake), 0); /* no delay: all settled at once */

    static drop_fates fates;
    memset(&fates, 0, sizeof fates);
    count_delivered_callbacks(subs, map, &fates);
    size_t total_dropped = count_journaled_drops(fx, s.sid, rule, map, &fates);
    size_t total_delivered = check_one_fate_each(fx, subs, &fates);
    double p = (double)total_dropped / (DROP_SUBS * DROP_MSGS);
    if (fabs(p - 0.3) >= 0.02)
        fail_msg("observed drop fraction %.4f, want 0.3 +- 0.02", p);

    /* the journal's delivered entries are the callbacks, and no other fate was recorded */
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_DELIVERED), 0, NULL),
                     total_delivered);
    assert_int_equal(sf_test_journal_count(fx->fake,
                                           KIND(SF_JOURNAL_DELAYED) | KIND(SF_JOURNAL_DUPLICATED) |
                                               KIND(SF_JOURNAL_HELD) | KIND(SF_JOURNAL_LOST) |
                                               KIND(SF_JOURNAL_DISCARDED),
                                           0, NULL),
                     0);
    assert_int_equal(fault_info(fx, rule).hits, total_dropped);
}

/* ---------------------------------------------------------------------------------------- */
/* Scopes                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_scope_rule_touches_only_its_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record a, b;
    sf_fixture_stream(fx, "a", -1, &a);
    sf_fixture_stream(fx, "b", -1, &b);
    sf_subscriber_id a1 = faults_subscribe(fx, a.sid, 0), a2 = faults_subscribe(fx, a.sid, 1);
    sf_subscriber_id b1 = faults_subscribe(fx, b.sid, 2);
    sf_fault_params fp = {
        .scope = SF_SCOPE_STREAM, .stream_sid = a.sid, .drop_rate = 0.5, .delay_ms = 20};
    sf_fault_id rule = add_fault(fx, &fp);

    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        faults_publish(fx, a.sid, i, NULL);
        faults_publish(fx, b.sid, i, NULL);
        /* stream b is untouched: delivered before its publish returns */
        assert_int_equal(recs[2].n, (size_t)i + 1);
        advance_ms(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    for (size_t j = 0; j < recs[2].n; j++) {
        assert_int_equal(recs[2].ev[j].payload, (int)j);
        assert_int_equal(recs[2].ev[j].delivered_ms, recs[2].ev[j].published_ms);
    }
    assert_int_equal(fault_sub_stats(fx, b1).dropped, 0);
    assert_int_equal(fault_sub_stats(fx, b1).delivered, N);

    /* stream a: every delivery either dropped or delayed by exactly 20 ms */
    size_t a_dropped = 0;
    for (int k = 0; k < 2; k++) {
        sf_subscriber_id id = k == 0 ? a1 : a2;
        sf_subscriber_stats st = fault_sub_stats(fx, id);
        assert_int_equal(st.delivered + st.dropped, N);
        assert_int_equal(recs[k].n, st.delivered);
        for (size_t j = 0; j < recs[k].n; j++)
            assert_int_equal(recs[k].ev[j].delivered_ms, recs[k].ev[j].published_ms + 20);
        a_dropped += st.dropped;
    }
    assert_true(a_dropped > 0 && a_dropped < 2 * N);

    /* every fate the rule caused names stream a; nothing about stream b carries a rule */
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED) | KIND(SF_JOURNAL_DELAYED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    size_t fates = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_string_equal(je.stream_sid, a.sid);
        assert_int_equal(je.rule, rule);
        assert_true(je.subscriber == a1 || je.subscriber == a2);
        fates++;
    }
    assert_int_equal(fates, 2 * N);
    assert_int_equal(fault_info(fx, rule).hits, 2 * N);
    assert_int_equal(sf_test_journal_count(fx->fake,
                                           ~KIND(SF_JOURNAL_API) & ~KIND(SF_JOURNAL_SUBSCRIBED) &
                                               ~KIND(SF_JOURNAL_DELIVERED),
                                           b1, NULL),
                     0);
}

static void test_subscriber_scope_rule_touches_only_its_subscriber(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s, other;
    sf_fixture_stream(fx, "s", -1, &s);
    sf_fixture_stream(fx, "other", -1, &other);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, 0), s2 = faults_subscribe(fx, s.sid, 1);
    sf_subscriber_id s3 = faults_subscribe(fx, s.sid, 2), o1 = faults_subscribe(fx, other.sid, 3);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER,
                          .subscriber = s2,
                          .drop_rate = 0.5,
                          .delay_ms = 15,
                          .duplicate_rate = 0.5};
    sf_fault_id rule = add_fault(fx, &fp);

    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        faults_publish(fx, s.sid, i, NULL);
        faults_publish(fx, other.sid, i, NULL);
        advance_ms(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    int untouched[] = {0, 2, 3};
    sf_subscriber_id untouched_ids[] = {s1, s3, o1};
    for (int u = 0; u < 3; u++) {
        const recorder *r = &recs[untouched[u]];
        assert_int_equal(r->n, N);
        for (size_t j = 0; j < r->n; j++) {
            assert_int_equal(r->ev[j].payload, (int)j);
            assert_false(r->ev[j].is_duplicate);
            assert_int_equal(r->ev[j].delivered_ms, r->ev[j].published_ms);
        }
        sf_subscriber_stats st = fault_sub_stats(fx, untouched_ids[u]);
        assert_int_equal(st.dropped, 0);
        assert_int_equal(st.duplicated, 0);
        assert_int_equal(st.delivered, N);
    }

    sf_subscriber_stats st2 = fault_sub_stats(fx, s2);
    assert_true(st2.dropped > 0 && st2.dropped < N);
    assert_true(st2.duplicated > 0);
    assert_int_equal(st2.delivered, (N - st2.dropped) + st2.duplicated);
    for (size_t j = 0; j < recs[1].n; j++)
        assert_int_equal(recs[1].ev[j].delivered_ms, recs[1].ev[j].published_ms + 15);

    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED) | KIND(SF_JOURNAL_DELAYED) |
                                    KIND(SF_JOURNAL_DUPLICATED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_int_equal(je.subscriber, s2);
        assert_int_equal(je.rule, rule);
        assert_string_equal(je.stream_sid, s.sid);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Delay and jitter                                                                          */
/* ---------------------------------------------------------------------------------------- */

enum { JITTER_SUBS = 3, JITTER_N = 100 };

/* One delay-and-jitter run: what was published when, and what the journal's delayed entries
 * said of each (subscriber, message). Static: too large for the stack. */
static struct jitter_run {
    msgmap *map;
    sf_fault_id rule;
    sf_ms published[JITTER_N];
    sf_ms until[JITTER_SUBS][JITTER_N];
    int ndelayed[JITTER_SUBS][JITTER_N];
} jr;

/* The tail is still in flight: run_until_idle delivers all of it. */
static void jitter_drain(sf_fixture *fx, const sf_subscriber_id *subs)
{
    size_t pending = sf_pending_deliveries(fx->fake);
    assert_true(pending > 0);
    uint64_t in_flight = 0;
    for (int k = 0; k < JITTER_SUBS; k++)
        in_flight += fault_sub_stats(fx, subs[k]).in_flight;
    assert_int_equal(in_flight, pending);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_true(next > sf_clock_now(fx->fake));
    assert_int_equal(sf_run_until_idle(fx->fake), pending);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    assert_false(sf_next_event_time(fx->fake, &next));
}

/* Each (subscriber, message) has one delayed entry naming the rule: its until_ms. */
static void jitter_read_delayed(sf_fixture *fx)
{
    memset(jr.ndelayed, 0, sizeof jr.ndelayed);
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DELAYED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_int_equal(je.rule, jr.rule);
        assert_true(je.subscriber >= 1 && je.subscriber <= JITTER_SUBS);
        int idx = msgmap_find(jr.map, je.message_sid);
        assert_true(idx >= 0);
        assert_int_equal(je.t_ms, jr.published[idx]);
        jr.until[je.subscriber - 1][idx] = je.until_ms;
        jr.ndelayed[je.subscriber - 1][idx]++;
    }
}

/* Subscriber k's callbacks: each message once, 10-60 ms after its publish, at the time its
 * delayed entry said, in time order. Counts order inversions and the largest delay. */
static void jitter_check_subscriber(int k, size_t *inversions, sf_ms *max_extra)
{
    const recorder *r = &recs[k];
    assert_int_equal(r->n, JITTER_N);
    int seen[JITTER_N] = {0};
    for (size_t j = 0; j < r->n; j++) {
        const rec_event *e = &r->ev[j];
        int i = e->payload;
        assert_true(i >= 0 && i < JITTER_N);
        seen[i]++;
        assert_int_equal(msgmap_find(jr.map, e->message_sid), i);
        sf_ms published = jr.published[i];
        assert_int_equal(e->published_ms, published);
        if (e->delivered_ms < published + 10 || e->delivered_ms > published + 60)
            fail_msg("message %d published at %lld arrived at %lld", i, (long long)published,
                     (long long)e->delivered_ms);
        assert_int_equal(jr.ndelayed[k][i], 1);
        assert_int_equal(e->delivered_ms, jr.until[k][i]);
        if (j > 0) {
            /* the queue runs in time order */
            assert_true(e->delivered_ms >= r->ev[j - 1].delivered_ms);
            if (e->payload < r->ev[j - 1].payload)
                (*inversions)++;
        }
        if (e->delivered_ms - published > *max_extra)
            *max_extra = e->delivered_ms - published;
    }
    for (int i = 0; i < JITTER_N; i++)
        assert_int_equal(seen[i], 1);
}

/* The delivered entries agree with the callbacks. */
static void jitter_check_delivered_entries(sf_fixture *fx)
{
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DELIVERED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    size_t ndelivered = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        int idx = msgmap_find(jr.map, je.message_sid);
        assert_true(idx >= 0);
        assert_int_equal(je.until_ms, jr.published[idx]);
        assert_int_equal(je.t_ms, jr.until[je.subscriber - 1][idx]);
        ndelivered++;
    }
    assert_int_equal(ndelivered, JITTER_SUBS * JITTER_N);
}

static void test_delay_and_jitter_reorder_within_bounds_matching_delayed_journal(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "jitter", -1, &s);
    sf_subscriber_id subs[JITTER_SUBS];
    for (int k = 0; k < JITTER_SUBS; k++)
        subs[k] = faults_subscribe(fx, s.sid, k);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 10, .jitter_ms = 50};
    jr.rule = add_fault(fx, &fp);
    jr.map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < JITTER_N; i++) {
        jr.published[i] = sf_clock_now(fx->fake);
        faults_publish(fx, s.sid, i, sid);
        msgmap_add(jr.map, sid, i);
        advance_ms(fx, 2);
    }
    jitter_drain(fx, subs);
    jitter_read_delayed(fx);

    size_t inversions = 0;
    sf_ms max_extra = 0;
    for (int k = 0; k < JITTER_SUBS; k++) {
        jitter_check_subscriber(k, &inversions, &max_extra);
        sf_subscriber_stats st = fault_sub_stats(fx, subs[k]);
        assert_int_equal(st.delivered, JITTER_N);
        assert_int_equal(st.in_flight, 0);
    }
    assert_true(inversions > 0); /* jitter reorders */
    assert_true(max_extra > 10); /* and actually adds time */
    jitter_check_delivered_entries(fx);
    assert_int_equal(fault_info(fx, jr.rule).hits, JITTER_SUBS * JITTER_N);
}

/* ---------------------------------------------------------------------------------------- */
/* Independence of draws                                                                     */
/* ---------------------------------------------------------------------------------------- */

typedef struct seq_row {
    char message_sid[SF_SID_SIZE];
    sf_ms delivered_ms;
} seq_row;

/* One run: stream, subscriber 1 (recorder rec), optionally a fake-scope rule, optionally a
 * second subscriber (recorder rec+1) with its own rule; 150 publishes 3 ms apart. */
static void independence_run(sf_fixture *fx, int rec, bool first_rule, bool second)
{
    sf_stream_record s;
    sf_fixture_stream(fx, "independent", -1, &s);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, rec);
    assert_int_equal(s1, 1);
    if (first_rule) {
        sf_fault_params fp = {
            .scope = SF_SCOPE_FAKE, .drop_rate = 0.2, .delay_ms = 5, .jitter_ms = 30};
        add_fault(fx, &fp);
    }
    if (second) {
        sf_subscriber_id s2 = faults_subscribe(fx, s.sid, rec + 1);
        sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER,
                              .subscriber = s2,
                              .drop_rate = 0.5,
                              .jitter_ms = 100,
                              .duplicate_rate = 0.3};
        add_fault(fx, &fp);
    }
    for (int i = 0; i < 150; i++) {
        faults_publish(fx, s.sid, i, NULL);
        advance_ms(fx, 3);
    }
    sf_run_until_idle(fx->fake);
}

static seq_row *seq_of(const recorder *r)
{
    seq_row *rows = scratch_alloc((r->n ? r->n : 1) * sizeof *rows);
    for (size_t j = 0; j < r->n; j++) {
        memcpy(rows[j].message_sid, r->ev[j].message_sid, SF_SID_SIZE);
        rows[j].delivered_ms = r->ev[j].delivered_ms;
    }
    return rows;
}

/* Journal entries of subscriber 1, without their sequence numbers (others' entries shift
 * those); compared field by field. */
static void assert_same_subscriber_journal(sf_fake *a, sf_fake *b, sf_subscriber_id sub)
{
    sf_journal_filter f = {.subscriber = sub};
    uint64_t ca = 0, cb = 0;
    sf_journal_entry ea, eb;
    size_t n = 0;
    for (;;) {
        bool ha = sf_journal_next(a, &f, &ca, &ea), hb = sf_journal_next(b, &f, &cb, &eb);
        assert_int_equal(ha, hb);
        if (!ha)
            break;
        assert_int_equal(ea.kind, eb.kind);
        assert_int_equal(ea.t_ms, eb.t_ms);
        assert_string_equal(ea.stream_sid, eb.stream_sid);
        assert_string_equal(ea.message_sid, eb.message_sid);
        assert_int_equal(ea.rule, eb.rule);
        assert_int_equal(ea.until_ms, eb.until_ms);
        assert_int_equal(ea.duplicate, eb.duplicate);
        n++;
    }
    assert_true(n > 0);
}

static void test_second_subscriber_with_own_rule_leaves_first_sequence_identical(void **state)
{
    sf_fixture *alone = *state;
    sf_fixture *with = extra_fixture(SF_TEST_SEED, false);
    independence_run(alone, 0, true, false);
    independence_run(with, 2, true, true);

    const recorder *r_alone = &recs[0], *r_with = &recs[2];
    assert_true(r_alone->n > 0 && r_alone->n < 150); /* some dropped */
    assert_true(recs[3].n > 0);                      /* the second subscriber got some too */
    assert_int_equal(r_with->n, r_alone->n);
    assert_memory_equal(seq_of(r_with), seq_of(r_alone), r_alone->n * sizeof(seq_row));
    size_t inversions = 0;
    for (size_t j = 1; j < r_alone->n; j++)
        inversions += r_alone->ev[j].payload < r_alone->ev[j - 1].payload;
    assert_true(inversions > 0); /* the sequence compared is a reordered one */
    assert_same_subscriber_journal(alone->fake, with->fake, 1);
}

static void test_second_subscriber_with_own_rule_leaves_unfaulted_first_identical(void **state)
{
    sf_fixture *alone = *state;
    sf_fixture *with = extra_fixture(SF_TEST_SEED, false);
    independence_run(alone, 0, false, false);
    independence_run(with, 2, false, true);
    assert_int_equal(recs[0].n, 150);
    assert_int_equal(recs[2].n, 150);
    assert_memory_equal(seq_of(&recs[2]), seq_of(&recs[0]), 150 * sizeof(seq_row));
    assert_true(recs[3].n > 0 && recs[3].n != 150);
    assert_same_subscriber_journal(alone->fake, with->fake, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, faults_setup, faults_teardown)
#define TU(fn) cmocka_unit_test_setup_teardown(fn, faults_setup_unlimited, faults_teardown)
    const struct CMUnitTest tests[] = {
        TU(test_drop_rate_drops_that_fraction_and_journals_each_drop_with_its_rule),
        T(test_stream_scope_rule_touches_only_its_stream),
        T(test_subscriber_scope_rule_touches_only_its_subscriber),
        T(test_delay_and_jitter_reorder_within_bounds_matching_delayed_journal),
        T(test_second_subscriber_with_own_rule_leaves_first_sequence_identical),
        T(test_second_subscriber_with_own_rule_leaves_unfaulted_first_identical),
    };
#undef T
#undef TU
    return cmocka_run_group_tests(tests, NULL, NULL);
}
