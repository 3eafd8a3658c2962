/* SPDX-License-Identifier: MIT */
/* test_alloc_failure_calls.c: allocation failures in stream update, list and publish, subscribe,
 * fault rules and injected errors: each failed call changes nothing; the call that gets
 * through matches a twin without failures (tests/support/alloc_suite.h). */
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
#include "alloc_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* sf_stream_update                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* No timer armed anywhere: a TTL update must create the heap. */
static void test_stream_update_ttl_fails_cleanly_when_timer_heap_is_empty(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_stream(fx->fake, fx->service_sid, "updated", -1, NULL);
    alloc_make_stream(twin, fx->service_sid, "updated", -1, NULL);
    assert_status(sf_clock_advance(fx->fake, 500, NULL), SF_OK);
    assert_status(sf_clock_advance(twin, 500, NULL), SF_OK);
    sf_stream_params p = {.has_ttl = true, .ttl = 3};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "updated");
    oom_report rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 1);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "updated", &rec, NULL), SF_OK);
    assert_true(rec.has_date_expires);
    assert_int_equal(rec.date_expires_ms, SF_DEFAULT_EPOCH_MS + 500 + 3000);
    assert_int_equal(rec.date_updated_ms, SF_DEFAULT_EPOCH_MS + 500);
    alloc_twin_free(twin, &talloc);
}

static void test_stream_update_ttl_fails_cleanly_when_timer_heap_must_grow(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_stream_record target;
    alloc_make_stream(fx->fake, fx->service_sid, NULL, -1, &target);
    alloc_make_stream(twin, fx->service_sid, NULL, -1, NULL);
    alloc_make_streams(fx->fake, fx->service_sid, 64, 20);
    alloc_make_streams(twin, fx->service_sid, 64, 20);
    sf_stream_params p = {.has_ttl = true, .ttl = 1, .unique_name = "ignored"};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "%s", target.sid);
    oom_report rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, SF_DEFAULT_EPOCH_MS + 1000);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, target.sid, &rec, NULL), SF_OK);
    assert_false(rec.has_unique_name);
    alloc_twin_free(twin, &talloc);
}

/* Re-arming an armed timer, or clearing it, takes no memory: nothing can fail. */
static void test_stream_update_of_armed_or_cleared_ttl_needs_no_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_stream(fx->fake, fx->service_sid, "armed", 10, NULL);
    alloc_make_stream(twin, fx->service_sid, "armed", 10, NULL);
    sf_stream_params p = {.has_ttl = true, .ttl = 99};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "armed");
    oom_report rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_stream_params clear = {.has_ttl = true, .ttl = 0};
    ctx.params = &clear;
    rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "armed", &rec, NULL), SF_OK);
    assert_false(rec.has_date_expires);
    alloc_twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* sf_stream_list and sf_stream_publish                                                      */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_list_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    /* an empty list */
    oom_report rep = oom_loop(fx, twin, op_stream_list, &ctx);
    assert_int_equal(rep.failed, 2);
    alloc_make_streams(fx->fake, fx->service_sid, 5, 40);
    alloc_make_streams(twin, fx->service_sid, 5, 40);
    /* a middle page: both tokens */
    sf_page_params pp = {.has_page_size = true, .page_size = 2, .has_page = true, .page = 1};
    ctx.params = &pp;
    rep = oom_loop(fx, twin, op_stream_list, &ctx);
    assert_int_equal(rep.failed, 2);
    alloc_twin_free(twin, &talloc);
}

/* Publishing uses scratch space allocated with the fake: it never allocates, so an
 * allocation failure cannot make it fail. */
static void test_stream_publish_needs_no_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_stream(fx->fake, fx->service_sid, "pub", -1, NULL);
    alloc_make_stream(twin, fx->service_sid, "pub", -1, NULL);
    /* subscribers with no fault in the way are served on the spot, without queueing */
    sf_subscribe_params sub = {.on_event = alloc_count_event};
    for (int i = 0; i < 2; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "pub", &sub, NULL, NULL),
                      SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "pub", &sub, NULL, NULL), SF_OK);
    }
    long seen = events_seen;
    static const char data[] = "{ \"a\" : [1, 2.5e3, true, null, \"x\"], \"b\" : {} }";
    sf_publish_params p = {.data = data, .data_len = sizeof data - 1};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "pub");
    oom_report rep = oom_loop(fx, twin, op_stream_publish, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "pub", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 299);
    assert_int_equal(events_seen, seen + 2 + 2); /* both subscribers, on both fakes */
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    alloc_twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* Subscribers, fault rules, injected errors                                                 */
/* ---------------------------------------------------------------------------------------- */

static void test_subscribe_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_stream(fx->fake, fx->service_sid, "watched", -1, NULL);
    alloc_make_stream(twin, fx->service_sid, "watched", -1, NULL);
    sf_subscribe_params sub = {.on_event = alloc_count_event, .client_id = 9};
    op_ctx ctx = {.params = &sub};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "watched");
    oom_report rep = oom_loop(fx, twin, op_subscribe, &ctx);
    assert_int_equal(rep.failed, 2); /* the fake's subscriber array, the subscriber */
    rep = oom_loop(fx, twin, op_subscribe, &ctx);
    assert_int_equal(rep.failed, 1);
    /* fill the array's first block (16), then one more must held_grow it */
    for (int i = 2; i < 16; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "watched", &sub, NULL, NULL),
                      SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "watched", &sub, NULL, NULL),
                      SF_OK);
    }
    rep = oom_loop(fx, twin, op_subscribe, &ctx);
    assert_int_equal(rep.failed, 2);
    /* every subscriber is attached exactly once */
    sf_stream_stats stats;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "watched", &stats, NULL),
                  SF_OK);
    assert_int_equal(stats.subscribers, 17);
    long seen = events_seen;
    sf_publish_params pub = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "watched", &pub, NULL, NULL),
                  SF_OK);
    assert_int_equal(events_seen, seen + 17);
    alloc_twin_free(twin, &talloc);
}

/* Fault rules send a publish down the queued path: the message, the delivery plans, the
 * deliveries and heap room are all allocated before anything is committed. A drop_next rule
 * must not lose its pending drop to a failed attempt. */
static void test_stream_publish_through_fault_rules_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_stream_record fan;
    alloc_make_stream(fx->fake, fx->service_sid, "fan", -1, &fan);
    alloc_make_stream(twin, fx->service_sid, "fan", -1, NULL);
    sf_subscribe_params sub = {.on_event = alloc_count_event};
    sf_subscriber_id first = 0;
    for (int i = 0; i < 3; i++) {
        assert_status(
            sf_subscribe(fx->fake, NULL, fx->service_sid, "fan", &sub, i ? NULL : &first, NULL),
            SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "fan", &sub, NULL, NULL), SF_OK);
    }
    sf_fault_params delay_dup = {.scope = SF_SCOPE_STREAM,
                                 .stream_sid = fan.sid,
                                 .delay_ms = 100,
                                 .jitter_ms = 50,
                                 .duplicate_rate = 1.0};
    sf_fault_params drop_one = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = first, .drop_next = 1};
    const sf_fault_params *rules[] = {&delay_dup, &drop_one};
    for (int i = 0; i < 2; i++) {
        assert_status(sf_fault_add(fx->fake, rules[i], NULL, NULL), SF_OK);
        assert_status(sf_fault_add(twin, rules[i], NULL, NULL), SF_OK);
    }
    static const char data[] = "{\"n\": 1}";
    sf_publish_params pub = {.data = data, .data_len = sizeof data - 1, .client_id = 4};
    op_ctx ctx = {.params = &pub};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "fan");
    oom_report rep = oom_loop(fx, twin, op_stream_publish, &ctx);
    /* message, plans, 4 deliveries (the first subscriber's is dropped), the timer heap */
    assert_int_equal(rep.failed, 7);
    assert_int_equal(sf_pending_deliveries(fx->fake), 4);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, first, &st, NULL), SF_OK);
    assert_int_equal(st.dropped, 1);
    sf_fault_info info[2];
    assert_int_equal(sf_fault_list(fx->fake, info, 2), 2);
    assert_int_equal(info[1].drop_next_left, 0);
    assert_int_equal(info[1].hits, 1);

    /* delivered, the deliveries go back to a free list: the next publish takes them again */
    long seen = events_seen;
    assert_int_equal(sf_run_until_idle(fx->fake), 4);
    assert_int_equal(sf_run_until_idle(twin), 4);
    assert_int_equal(events_seen, seen + 8);
    rep = oom_loop(fx, twin, op_stream_publish, &ctx);
    assert_int_equal(rep.failed, 4); /* message, plans, the 2 deliveries beyond the 4 kept */
    assert_int_equal(sf_pending_deliveries(fx->fake), 6);
    alloc_twin_free(twin, &talloc);
}

static void test_fault_add_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_fault_params everywhere = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.25, .delay_ms = 10};
    op_ctx ctx = {.params = &everywhere};
    oom_report rep = oom_loop(fx, twin, op_fault_add, &ctx);
    assert_int_equal(rep.failed, 3); /* the rule, the list of rules, the shared list */

    /* a subscriber's own rule: the rule and that subscriber's list */
    sf_stream_record rec;
    alloc_make_stream(fx->fake, fx->service_sid, "ruled", -1, &rec);
    alloc_make_stream(twin, fx->service_sid, "ruled", -1, NULL);
    sf_subscribe_params sub = {.on_event = alloc_count_event};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "ruled", &sub, &id, NULL), SF_OK);
    assert_status(sf_subscribe(twin, NULL, fx->service_sid, "ruled", &sub, NULL, NULL), SF_OK);
    sf_fault_params mine = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = id, .drop_next = 2};
    ctx.params = &mine;
    rep = oom_loop(fx, twin, op_fault_add, &ctx);
    assert_int_equal(rep.failed, 2);

    /* 8 rules fill the first block of the list of rules: the 9th must held_grow it */
    sf_fault_params stream_rule = {
        .scope = SF_SCOPE_STREAM, .stream_sid = rec.sid, .expiry_lag_ms = 5};
    for (int i = 2; i < 8; i++) {
        assert_status(sf_fault_add(fx->fake, &stream_rule, NULL, NULL), SF_OK);
        assert_status(sf_fault_add(twin, &stream_rule, NULL, NULL), SF_OK);
    }
    ctx.params = &stream_rule;
    rep = oom_loop(fx, twin, op_fault_add, &ctx);
    assert_int_equal(rep.failed, 2); /* the rule, the list of rules (the shared list has room) */
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 9);
    alloc_twin_free(twin, &talloc);
}

static void test_inject_error_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_error_injection inj = {.op = SF_OP_STREAM_REMOVE,
                              .count = 2,
                              .http_status = 503,
                              .code = 20503,
                              .message = "try later"};
    op_ctx ctx = {.params = &inj};
    oom_report rep = oom_loop(fx, twin, op_inject_error, &ctx);
    assert_int_equal(rep.failed, 1);
    /* exactly one injection of two calls is queued, on both fakes */
    sf_fake *fakes[] = {fx->fake, twin};
    for (int f = 0; f < 2; f++) {
        sf_stream_record rec;
        alloc_make_stream(fakes[f], fx->service_sid, "doomed", -1, &rec);
        for (int i = 0; i < 2; i++) {
            sf_error err;
            assert_status(sf_stream_remove(fakes[f], NULL, fx->service_sid, "doomed", &err),
                          SF_ERR_INJECTED);
            assert_int_equal(err.http_status, 503);
            assert_int_equal(err.code, 20503);
            assert_string_equal(err.message, "try later");
        }
        assert_status(sf_stream_remove(fakes[f], NULL, fx->service_sid, "doomed", NULL), SF_OK);
    }
    alloc_twin_free(twin, &talloc);
}

/* Removing a watched stream queues a `removed` event per subscriber: the room for them is
 * taken first, so a failed remove leaves the stream and its subscribers as they were. */
static void test_stream_remove_with_subscribers_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_stream(fx->fake, fx->service_sid, "watched", -1, NULL);
    alloc_make_stream(twin, fx->service_sid, "watched", -1, NULL);
    sf_subscribe_params sub = {.on_event = alloc_count_event};
    for (int i = 0; i < 3; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "watched", &sub, NULL, NULL),
                      SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "watched", &sub, NULL, NULL),
                      SF_OK);
    }
    long seen = events_seen;
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "watched");
    oom_report rep = oom_loop(fx, twin, op_stream_remove, &ctx);
    assert_int_equal(rep.failed, 1);             /* the timer heap, for three `removed` events */
    assert_int_equal(events_seen, seen + 3 + 3); /* once per subscriber, on each fake */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "watched", NULL, NULL),
                  SF_ERR_NOT_FOUND);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, 1, &st, NULL), SF_OK);
    assert_false(st.attached);
    alloc_twin_free(twin, &talloc);
}

static void test_service_remove_with_subscribers_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_subscribe_params sub = {.on_event = alloc_count_event};
    const char *names[] = {"one", "two"};
    for (int i = 0; i < 2; i++) {
        alloc_make_stream(fx->fake, fx->service_sid, names[i], -1, NULL);
        alloc_make_stream(twin, fx->service_sid, names[i], -1, NULL);
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, names[i], &sub, NULL, NULL),
                      SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, names[i], &sub, NULL, NULL), SF_OK);
    }
    long seen = events_seen;
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_service_remove, &ctx);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(events_seen, seen + 2 + 2);
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, NULL, NULL), SF_ERR_NOT_FOUND);
    alloc_twin_free(twin, &talloc);
}

/* The journal grows its ring by doubling; when that allocation fails the call still goes
 * through and the oldest entry makes room. */
static void test_journal_growth_failure_never_fails_a_call(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record rec;
    alloc_make_stream(fx->fake, fx->service_sid, "logged", -1, &rec);
    while (sf_journal_count(fx->fake) < 256)
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "logged", NULL, NULL),
                      SF_OK);
    assert_int_equal(sf_journal_count(fx->fake), 256);
    assert_int_equal(sf_journal_overwritten(fx->fake), 0);
    long live = fx->alloc.live, failures = fx->alloc.failures;
    fx->alloc.fail_at = fx->alloc.calls + 1;
    sf_error err;
    sf_stream_record got;
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "logged", &got, &err);
    fx->alloc.fail_at = 0;
    assert_int_equal(fx->alloc.failures, failures + 1); /* the ring's growth was refused */
    assert_status(st, SF_OK);
    assert_status(err.status, SF_OK);
    assert_memory_equal(&got, &rec, sizeof rec);
    assert_int_equal(fx->alloc.live, live);
    assert_int_equal(sf_journal_count(fx->fake), 256);
    assert_int_equal(sf_journal_overwritten(fx->fake), 1);
    /* the newest entry is that fetch; the oldest (the fixture's service.create) is gone */
    uint64_t cursor = 0;
    sf_journal_entry e, last;
    assert_true(sf_journal_next(fx->fake, NULL, &cursor, &e));
    assert_int_equal(e.seq, 2);
    while (sf_journal_next(fx->fake, NULL, &cursor, &e))
        last = e;
    assert_int_equal(last.seq, 257);
    assert_int_equal(last.kind, SF_JOURNAL_API);
    assert_int_equal(last.op, SF_OP_STREAM_FETCH);
    assert_int_equal(last.status, 200);
    assert_string_equal(last.stream_sid, rec.sid);
    /* with memory back, the next call grows the ring */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "logged", NULL, NULL), SF_OK);
    assert_int_equal(sf_journal_count(fx->fake), 257);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, alloc_teardown)
#define S(name) cmocka_unit_test_teardown(name, alloc_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_stream_update_ttl_fails_cleanly_when_timer_heap_is_empty),
        T(test_stream_update_ttl_fails_cleanly_when_timer_heap_must_grow),
        T(test_stream_update_of_armed_or_cleared_ttl_needs_no_allocation),
        T(test_stream_list_fails_cleanly_at_every_allocation),
        T(test_stream_publish_needs_no_allocation),
        T(test_subscribe_fails_cleanly_at_every_allocation),
        T(test_stream_publish_through_fault_rules_fails_cleanly),
        T(test_fault_add_fails_cleanly_at_every_allocation),
        T(test_inject_error_fails_cleanly),
        T(test_stream_remove_with_subscribers_fails_cleanly),
        T(test_service_remove_with_subscribers_fails_cleanly),
        T(test_journal_growth_failure_never_fails_a_call),
    };
    return cmocka_run_group_tests_name("alloc_failure_calls", tests, NULL, NULL);
}
