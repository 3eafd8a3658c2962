/* SPDX-License-Identifier: MIT */
/* test_faults_fates.c: fault rules that decide fates: drop next and duplicate, deliveries
 * across the life of streams and subscribers, hold and heal, disconnect, expiry lag. */
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
/* Drop next, duplicate                                                                      */
/* ---------------------------------------------------------------------------------------- */

static void test_drop_next_drops_exactly_the_next_deliveries_then_none(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dropnext", -1, &s);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, 0), s2 = faults_subscribe(fx, s.sid, 1);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_next = 3};
    sf_fault_id rule = add_fault(fx, &fp);
    assert_int_equal(fault_info(fx, rule).drop_next_left, 3);

    char sids[6][SF_SID_SIZE];
    for (int i = 0; i < 6; i++)
        faults_publish(fx, s.sid, i, sids[i]);

    /* deliveries in order: m0->s1, m0->s2, m1->s1 are the next three */
    assert_int_equal(recs[0].n, 4);
    for (int j = 0; j < 4; j++)
        assert_int_equal(recs[0].ev[j].payload, j + 2);
    assert_int_equal(recs[1].n, 5);
    for (int j = 0; j < 5; j++)
        assert_int_equal(recs[1].ev[j].payload, j + 1);

    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    const struct {
        sf_subscriber_id sub;
        int msg;
    } want[] = {{s1, 0}, {s2, 0}, {s1, 1}};
    for (int k = 0; k < 3; k++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_int_equal(je.subscriber, want[k].sub);
        assert_string_equal(je.message_sid, sids[want[k].msg]);
        assert_int_equal(je.rule, rule);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));

    sf_fault_info info = fault_info(fx, rule);
    assert_int_equal(info.drop_next_left, 0);
    assert_int_equal(info.hits, 3);
    assert_int_equal(info.params.drop_next, 3);
    assert_int_equal(fault_sub_stats(fx, s1).dropped, 2);
    assert_int_equal(fault_sub_stats(fx, s2).dropped, 1);
}

static void test_drop_next_on_subscriber_scope_counts_only_its_deliveries(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dropnext", -1, &s);
    sf_subscriber_id s1 = faults_subscribe(fx, s.sid, 0), s2 = faults_subscribe(fx, s.sid, 1);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s2, .drop_next = 3};
    sf_fault_id rule = add_fault(fx, &fp);
    for (int i = 0; i < 5; i++)
        faults_publish(fx, s.sid, i, NULL);
    assert_int_equal(recs[0].n, 5);
    assert_int_equal(recs[1].n, 2);
    assert_int_equal(recs[1].ev[0].payload, 3);
    assert_int_equal(recs[1].ev[1].payload, 4);
    assert_int_equal(fault_sub_stats(fx, s1).dropped, 0);
    assert_int_equal(fault_sub_stats(fx, s2).dropped, 3);
    assert_int_equal(fault_info(fx, rule).drop_next_left, 0);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_DROPPED), s2, NULL), 3);
}

static void test_duplicate_rate_one_delivers_every_message_twice(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dup", -1, &s);
    sf_subscriber_id subs[2] = {faults_subscribe(fx, s.sid, 0), faults_subscribe(fx, s.sid, 1)};
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0};
    sf_fault_id rule = add_fault(fx, &fp);

    enum { N = 5 };
    char sids[N][SF_SID_SIZE];
    for (int i = 0; i < N; i++)
        faults_publish(fx, s.sid, i, sids[i]);
    sf_run_until_idle(fx->fake);

    for (int k = 0; k < 2; k++) {
        assert_int_equal(recs[k].n, 2 * N);
        for (int i = 0; i < N; i++) {
            const rec_event *orig = &recs[k].ev[2 * i], *copy = &recs[k].ev[2 * i + 1];
            assert_string_equal(orig->message_sid, sids[i]);
            assert_string_equal(copy->message_sid, sids[i]);
            assert_false(orig->is_duplicate);
            assert_true(copy->is_duplicate);
            assert_int_equal(copy->payload, i);
        }
        sf_subscriber_stats st = fault_sub_stats(fx, subs[k]);
        assert_int_equal(st.delivered, 2 * N);
        assert_int_equal(st.duplicated, N);

        sf_journal_filter f = {.subscriber = subs[k], .kinds = KIND(SF_JOURNAL_DUPLICATED)};
        uint64_t cursor = 0;
        sf_journal_entry je;
        for (int i = 0; i < N; i++) {
            assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
            assert_string_equal(je.message_sid, sids[i]);
            assert_int_equal(je.rule, rule);
            assert_true(je.duplicate);
        }
        assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
        /* delivered entries: one original and one copy per message */
        f.kinds = KIND(SF_JOURNAL_DELIVERED);
        cursor = 0;
        size_t copies = 0, total = 0;
        while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
            copies += je.duplicate;
            total++;
        }
        assert_int_equal(total, 2 * N);
        assert_int_equal(copies, N);
    }
    assert_int_equal(fault_info(fx, rule).hits, 2 * N);
}

static sf_status fetch(sf_fixture *fx, const char *id, sf_error *err)
{
    sf_stream_record r;
    return sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &r, err);
}

enum { DUPJ_N = 30 }; /* messages of the duplicate-with-jitter test */

/* Per message of the duplicate-with-jitter test: the until of its delayed original and of its
 * duplicated copy, and how many of each the journal holds. */
typedef struct dup_untils {
    sf_ms orig_until[DUPJ_N], copy_until[DUPJ_N];
    int norig[DUPJ_N], ncopy[DUPJ_N];
} dup_untils;

/* Reads sub's delayed and duplicated entries, all of the rule, into du. */
static void read_dup_journal(sf_fixture *fx, sf_subscriber_id sub, sf_fault_id rule, msgmap *map,
                             dup_untils *du)
{
    sf_journal_filter f = {.subscriber = sub,
                           .kinds = KIND(SF_JOURNAL_DELAYED) | KIND(SF_JOURNAL_DUPLICATED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        int i = msgmap_find(map, je.message_sid);
        assert_true(i >= 0);
        assert_int_equal(je.rule, rule);
        if (je.kind == SF_JOURNAL_DELAYED) {
            assert_false(je.duplicate);
            du->orig_until[i] = je.until_ms;
            du->norig[i]++;
        } else {
            assert_true(je.duplicate);
            du->copy_until[i] = je.until_ms;
            du->ncopy[i]++;
        }
    }
}

/* Each message arrived once as original and once as copy, each within the delay and jitter at
 * its journaled until, and some copy drew a jitter of its own. */
static void check_arrivals_at_untils(const dup_untils *du)
{
    assert_int_equal(recs[0].n, 2 * DUPJ_N);
    static int got_orig[DUPJ_N], got_copy[DUPJ_N];
    memset(got_orig, 0, sizeof got_orig);
    memset(got_copy, 0, sizeof got_copy);
    size_t copy_differs = 0;
    for (size_t j = 0; j < recs[0].n; j++) {
        const rec_event *e = &recs[0].ev[j];
        int i = e->payload;
        assert_true(i >= 0 && i < DUPJ_N);
        assert_int_equal(du->norig[i], 1);
        assert_int_equal(du->ncopy[i], 1);
        assert_true(e->delivered_ms >= e->published_ms + 10);
        assert_true(e->delivered_ms <= e->published_ms + 60);
        if (e->is_duplicate) {
            assert_int_equal(e->delivered_ms, du->copy_until[i]);
            got_copy[i]++;
        } else {
            assert_int_equal(e->delivered_ms, du->orig_until[i]);
            got_orig[i]++;
        }
        copy_differs += du->orig_until[i] != du->copy_until[i];
    }
    for (int i = 0; i < DUPJ_N; i++) {
        assert_int_equal(got_orig[i], 1);
        assert_int_equal(got_copy[i], 1);
    }
    assert_true(copy_differs > 0); /* the copy draws its own jitter */
}

static void test_duplicate_copy_with_jitter_arrives_at_its_duplicated_until(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dupjitter", -1, &s);
    sf_subscriber_id sub = faults_subscribe(fx, s.sid, 0);
    sf_fault_params fp = {
        .scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0, .delay_ms = 10, .jitter_ms = 50};
    sf_fault_id rule = add_fault(fx, &fp);
    msgmap *map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < DUPJ_N; i++) {
        faults_publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
        advance_ms(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    static dup_untils du;
    memset(&du, 0, sizeof du);
    read_dup_journal(fx, sub, rule, map, &du);
    check_arrivals_at_untils(&du);
}

/* ---------------------------------------------------------------------------------------- */
/* Deliveries and the life of streams and subscribers                                        */
/* ---------------------------------------------------------------------------------------- */

static void test_run_until_idle_runs_expiries_on_the_way_and_leaves_later_ones(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record live, early, late;
    sf_fixture_stream(fx, "live", -1, &live);
    sf_fixture_stream(fx, "early", 1, &early); /* expires at +1 s */
    sf_fixture_stream(fx, "late", 10, &late);  /* expires at +10 s */
    faults_subscribe(fx, live.sid, 0);
    sf_ms t0 = sf_clock_now(fx->fake);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 5000};
    add_fault(fx, &fp);
    faults_publish(fx, live.sid, 0, NULL);
    assert_int_equal(sf_pending_deliveries(fx->fake), 1);
    assert_int_equal(sf_pending_events(fx->fake), 3);

    size_t ran = sf_run_until_idle(fx->fake);
    assert_int_equal(ran, 2); /* the early expiry, then the delivery */
    assert_int_equal(sf_clock_now(fx->fake), t0 + 5000);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].delivered_ms, t0 + 5000);
    assert_status(fetch(fx, early.sid, NULL), SF_ERR_NOT_FOUND);
    assert_status(fetch(fx, late.sid, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, late.date_expires_ms);
    assert_int_equal(sf_run_until_idle(fx->fake), 0); /* no delivery pending: nothing runs */
    assert_int_equal(sf_clock_now(fx->fake), t0 + 5000);
}

static void test_delayed_delivery_to_an_expired_stream_is_lost_after_removed(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "short", 1, &s);
    sf_subscriber_id sub = faults_subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 2000};
    add_fault(fx, &fp);
    sf_ms t0 = sf_clock_now(fx->fake);
    char sid[SF_SID_SIZE];
    faults_publish(fx, s.sid, 0, sid);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(recs[0].ev[0].delivered_ms, t0 + 1000);
    sf_subscriber_stats st = fault_sub_stats(fx, sub);
    assert_false(st.attached);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.lost, 1);
    assert_int_equal(st.in_flight, 0);
    sf_journal_filter f = {.subscriber = sub, .kinds = KIND(SF_JOURNAL_LOST)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_string_equal(je.message_sid, sid);
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

static void test_unsubscribe_loses_deliveries_in_flight(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "leave", -1, &s);
    sf_subscriber_id gone = faults_subscribe(fx, s.sid, 0), stays = faults_subscribe(fx, s.sid, 1);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 100};
    add_fault(fx, &fp);
    faults_publish(fx, s.sid, 0, NULL);
    faults_publish(fx, s.sid, 1, NULL);
    assert_status(sf_unsubscribe(fx->fake, gone, NULL), SF_OK);
    assert_status(sf_unsubscribe(fx->fake, gone, NULL), SF_OK); /* twice: not an error */
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(recs[1].n, 2);
    sf_subscriber_stats st = fault_sub_stats(fx, gone);
    assert_false(st.attached);
    assert_int_equal(st.lost, 2);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_LOST), gone, NULL), 2);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_UNSUBSCRIBED), gone, NULL), 1);
    assert_int_equal(fault_sub_stats(fx, stays).lost, 0);
    sf_error err;
    assert_status(sf_unsubscribe(fx->fake, 99, &err), SF_ERR_INVALID_ARGUMENT);
}

static void test_stream_removal_loses_parked_deliveries(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "parked", -1, &s);
    sf_subscriber_id held = faults_subscribe(fx, s.sid, 0);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    faults_publish(fx, s.sid, 0, NULL);
    faults_publish(fx, s.sid, 1, NULL);
    assert_int_equal(fault_sub_stats(fx, held).parked, 2);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, s.sid, NULL), SF_OK);
    sf_subscriber_stats st = fault_sub_stats(fx, held);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.lost, 2);
    assert_false(st.attached);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(recs[0].ev[0].reason, SF_REMOVED_DELETED);
    /* healing afterwards has nothing to deliver */
    assert_status(sf_subscriber_heal(fx->fake, held, true, NULL), SF_OK);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_LOST), held, NULL), 2);
}

/* ---------------------------------------------------------------------------------------- */
/* Hold and heal                                                                             */
/* ---------------------------------------------------------------------------------------- */

static void test_hold_parks_deliveries_and_heal_with_flush_delivers_them_in_order(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "hold", -1, &s);
    sf_subscriber_id held = faults_subscribe(fx, s.sid, 0),
                     free_sub = faults_subscribe(fx, s.sid, 1);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    assert_true(fault_sub_stats(fx, held).held);

    char sids[5][SF_SID_SIZE];
    sf_ms published[5];
    for (int i = 0; i < 5; i++) {
        published[i] = sf_clock_now(fx->fake);
        faults_publish(fx, s.sid, i, sids[i]);
        advance_ms(fx, 10);
    }
    advance_ms(fx, 1000);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(recs[1].n, 5); /* the other subscriber is not partitioned */
    sf_subscriber_stats st = fault_sub_stats(fx, held);
    assert_int_equal(st.parked, 5);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.lost, 0);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0); /* parked ones are not queued */
    assert_int_equal(sf_run_until_idle(fx->fake), 0);
    assert_int_equal(recs[0].n, 0);

    sf_journal_filter f = {.subscriber = held, .kinds = KIND(SF_JOURNAL_HELD)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    for (int i = 0; i < 5; i++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[i]);
        assert_int_equal(je.t_ms, published[i]);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));

    sf_ms heal_at = sf_clock_now(fx->fake);
    assert_status(sf_subscriber_heal(fx->fake, held, true, NULL), SF_OK);
    assert_int_equal(recs[0].n, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(recs[0].ev[i].message_sid, sids[i]);
        assert_int_equal(recs[0].ev[i].published_ms, published[i]);
        assert_int_equal(recs[0].ev[i].delivered_ms, heal_at);
    }
    st = fault_sub_stats(fx, held);
    assert_false(st.held);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.delivered, 5);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_DELIVERED), held, NULL), 5);
    assert_int_equal(fault_sub_stats(fx, free_sub).delivered, 5);

    /* healed: the next message arrives at once */
    faults_publish(fx, s.sid, 5, NULL);
    assert_int_equal(recs[0].n, 6);
}

static void test_heal_without_flush_discards_parked_deliveries(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "hold", -1, &s);
    sf_subscriber_id held = faults_subscribe(fx, s.sid, 0);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    char sids[5][SF_SID_SIZE];
    for (int i = 0; i < 5; i++)
        faults_publish(fx, s.sid, i, sids[i]);
    assert_int_equal(fault_sub_stats(fx, held).parked, 5);

    assert_status(sf_subscriber_heal(fx->fake, held, false, NULL), SF_OK);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    sf_subscriber_stats st = fault_sub_stats(fx, held);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.lost, 5);
    assert_int_equal(st.delivered, 0);
    assert_false(st.held);

    sf_journal_filter f = {.subscriber = held, .kinds = KIND(SF_JOURNAL_DISCARDED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    for (int i = 0; i < 5; i++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[i]);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_DELIVERED), held, NULL), 0);

    faults_publish(fx, s.sid, 5, NULL);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].payload, 5);
}

static void test_hold_parks_delayed_deliveries_when_they_fall_due(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "hold", -1, &s);
    sf_subscriber_id held = faults_subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 50};
    add_fault(fx, &fp);
    faults_publish(fx, s.sid, 0, NULL);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    assert_int_equal(fault_sub_stats(fx, held).in_flight, 1);
    advance_ms(fx, 100);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(fault_sub_stats(fx, held).in_flight, 0);
    assert_int_equal(fault_sub_stats(fx, held).parked, 1);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_HELD), held, NULL), 1);
    sf_ms heal_at = sf_clock_now(fx->fake);
    assert_status(sf_subscriber_heal(fx->fake, held, true, NULL), SF_OK);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].delivered_ms, heal_at);
}

/* ---------------------------------------------------------------------------------------- */
/* Disconnect                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void test_disconnect_loses_messages_of_the_gap_and_replays_nothing(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "gap", -1, &s);
    sf_subscriber_id d = faults_subscribe(fx, s.sid, 0), other = faults_subscribe(fx, s.sid, 1);
    char sids[5][SF_SID_SIZE];
    faults_publish(fx, s.sid, 0, sids[0]);
    assert_status(sf_subscriber_disconnect(fx->fake, d, NULL), SF_OK);
    assert_false(fault_sub_stats(fx, d).connected);
    faults_publish(fx, s.sid, 1, sids[1]);
    advance_ms(fx, 5);
    faults_publish(fx, s.sid, 2, sids[2]);
    advance_ms(fx, 5);
    assert_int_equal(recs[0].n, 1);

    assert_status(sf_subscriber_reconnect(fx->fake, d, NULL), SF_OK);
    assert_true(fault_sub_stats(fx, d).connected);
    advance_ms(fx, 1000);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 1); /* nothing replayed */
    faults_publish(fx, s.sid, 3, sids[3]);
    faults_publish(fx, s.sid, 4, sids[4]);

    int want[] = {0, 3, 4};
    assert_int_equal(recs[0].n, 3);
    for (int j = 0; j < 3; j++)
        assert_string_equal(recs[0].ev[j].message_sid, sids[want[j]]);
    assert_int_equal(recs[1].n, 5);

    sf_subscriber_stats st = fault_sub_stats(fx, d);
    assert_int_equal(st.lost, 2);
    assert_int_equal(st.delivered, 3);
    assert_int_equal(fault_sub_stats(fx, other).lost, 0);

    sf_journal_filter f = {.subscriber = d, .kinds = KIND(SF_JOURNAL_LOST)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    for (int i = 1; i <= 2; i++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[i]);
        assert_int_equal(je.rule, 0);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
    f.kinds = KIND(SF_JOURNAL_DELIVERED);
    cursor = 0;
    for (int j = 0; j < 3; j++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[want[j]]);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

static void test_disconnect_loses_delayed_delivery_falling_due_in_the_gap(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "gap", -1, &s);
    sf_subscriber_id d = faults_subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 100};
    add_fault(fx, &fp);
    sf_ms t0 = sf_clock_now(fx->fake);
    char sid[SF_SID_SIZE];
    faults_publish(fx, s.sid, 0, sid);
    advance_ms(fx, 10);
    assert_status(sf_subscriber_disconnect(fx->fake, d, NULL), SF_OK);
    advance_ms(fx, 190);
    assert_status(sf_subscriber_reconnect(fx->fake, d, NULL), SF_OK);
    advance_ms(fx, 1000);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(fault_sub_stats(fx, d).lost, 1);
    sf_journal_filter f = {.subscriber = d, .kinds = KIND(SF_JOURNAL_LOST)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_string_equal(je.message_sid, sid);
    assert_int_equal(je.t_ms, t0 + 100);
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

/* ---------------------------------------------------------------------------------------- */
/* Expiry lag                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void assert_expired_entries(sf_fixture *fx, const char *stream, sf_ms at)
{
    sf_journal_filter f = {.stream_sid = stream, .kinds = KIND(SF_JOURNAL_EXPIRED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_int_equal(je.t_ms, at);
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

static void test_expiry_lag_fake_scope_keeps_stream_until_the_lag_has_passed(void **state)
{
    sf_fixture *fx = *state;
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = 5000};
    sf_fault_id rule = add_fault(fx, &fp);
    sf_stream_record s;
    sf_fixture_stream(fx, "lagging", 10, &s);
    assert_true(s.has_date_expires);
    sf_ms deadline = s.date_expires_ms;
    faults_subscribe(fx, s.sid, 0);

    assert_status(sf_clock_set(fx->fake, deadline, NULL), SF_OK);
    assert_status(fetch(fx, s.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline + 4999, NULL), SF_OK);
    assert_status(fetch(fx, s.sid, NULL), SF_OK);
    assert_status(fetch(fx, "lagging", NULL), SF_OK);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_EXPIRED), 0, NULL), 0);
    assert_int_equal(recs[0].n, 0);

    assert_status(sf_clock_set(fx->fake, deadline + 5000, NULL), SF_OK);
    sf_error err;
    assert_status(fetch(fx, s.sid, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_expired_entries(fx, s.sid, deadline + 5000);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(recs[0].ev[0].reason, SF_REMOVED_EXPIRED);
    assert_int_equal(recs[0].ev[0].delivered_ms, deadline + 5000);
    assert_int_equal(fault_info(fx, rule).hits, 1);
}

static void test_expiry_lag_stream_scope_delays_only_its_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record a, b;
    sf_fixture_stream(fx, "a", 10, &a);
    sf_fixture_stream(fx, "b", 10, &b);
    assert_int_equal(a.date_expires_ms, b.date_expires_ms);
    sf_ms deadline = a.date_expires_ms;
    sf_fault_params fp = {.scope = SF_SCOPE_STREAM, .stream_sid = a.sid, .expiry_lag_ms = 5000};
    sf_fault_id rule = add_fault(fx, &fp);

    assert_status(sf_clock_set(fx->fake, deadline - 1, NULL), SF_OK);
    assert_status(fetch(fx, b.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline, NULL), SF_OK);
    assert_status(fetch(fx, b.sid, NULL), SF_ERR_NOT_FOUND); /* no lag for b */
    assert_status(fetch(fx, a.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline + 4999, NULL), SF_OK);
    assert_status(fetch(fx, a.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline + 5000, NULL), SF_OK);
    assert_status(fetch(fx, a.sid, NULL), SF_ERR_NOT_FOUND);

    assert_expired_entries(fx, b.sid, deadline);
    assert_expired_entries(fx, a.sid, deadline + 5000);
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_EXPIRED), 0, NULL), 2);
    assert_int_equal(fault_info(fx, rule).hits, 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, faults_setup, faults_teardown)
#define TU(fn) cmocka_unit_test_setup_teardown(fn, faults_setup_unlimited, faults_teardown)
    const struct CMUnitTest tests[] = {
        T(test_drop_next_drops_exactly_the_next_deliveries_then_none),
        T(test_drop_next_on_subscriber_scope_counts_only_its_deliveries),
        T(test_duplicate_rate_one_delivers_every_message_twice),
        T(test_duplicate_copy_with_jitter_arrives_at_its_duplicated_until),
        T(test_run_until_idle_runs_expiries_on_the_way_and_leaves_later_ones),
        T(test_delayed_delivery_to_an_expired_stream_is_lost_after_removed),
        T(test_unsubscribe_loses_deliveries_in_flight),
        T(test_stream_removal_loses_parked_deliveries),
        T(test_hold_parks_deliveries_and_heal_with_flush_delivers_them_in_order),
        T(test_heal_without_flush_discards_parked_deliveries),
        T(test_hold_parks_delayed_deliveries_when_they_fall_due),
        T(test_disconnect_loses_messages_of_the_gap_and_replays_nothing),
        T(test_disconnect_loses_delayed_delivery_falling_due_in_the_gap),
        T(test_expiry_lag_fake_scope_keeps_stream_until_the_lag_has_passed),
        T(test_expiry_lag_stream_scope_delays_only_its_stream),
    };
#undef T
#undef TU
    return cmocka_run_group_tests(tests, NULL, NULL);
}
