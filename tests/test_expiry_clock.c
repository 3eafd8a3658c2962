/* SPDX-License-Identifier: MIT */
/* test_expiry_clock.c: stream expiry as the clock moves: the clock seen in callbacks, the expiry
 * lag fault, and the manual clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "fixture.h"
#include "expiry_suite.h"

/* ------------------------------------------------------------------------------------- */
/* callback clock                                                                         */
/* ------------------------------------------------------------------------------------- */

static sf_ms read_var(void *user) { return *(const sf_ms *)user; }

static sf_fixture *callback_fixture(void **st, sf_ms *var)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = SF_TEST_SEED;
    o.clock = SF_CLOCK_CALLBACK;
    o.clock_fn = read_var;
    o.clock_user = var;
    assert_int_equal(sf_fixture_setup_with(st, &o), 0);
    return *st;
}

static void test_callback_clock_expires_stream_at_next_call_after_deadline(void **state)
{
    (void)state;
    sf_ms t = INT64_C(1700000000123);
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_stream_record s, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "cb", 10, &s), SF_OK);
    assert_int_equal(s.date_created_ms, t);
    assert_int_equal(s.date_expires_ms, t + 10000);

    t += 9999;
    assert_alive(fx, "cb");
    assert_int_equal(sf_pending_events(fx->fake), 1);

    t += 1;
    /* nothing has run yet: the fake only learns the time on the next call */
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_status stt = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "cb", &r, &err);
    expect_not_found(stt, &err, fx->service_sid, "cb", "");
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_int_equal(sf_clock_now(fx->fake), t);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_callback_clock_expiry_seen_by_list_and_publish(void **state)
{
    (void)state;
    sf_ms t = INT64_C(1600000000000);
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_stream_record a, b;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "a", 1, &a), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "b", 2, &b), SF_OK);
    t += 1500;
    char buf[64];
    listing(fx, fx->service_sid, buf, sizeof buf);
    assert_string_equal(buf, "b");
    assert_status(sf_test_publish(fx, "b", "{\"x\":1}", NULL, &err), SF_OK);
    t += 500;
    sf_status stt = sf_test_publish(fx, "b", "{\"x\":1}", NULL, &err);
    expect_not_found(stt, &err, fx->service_sid, "b", "/Messages");
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_run_due_runs_expiries_of_callback_clock(void **state)
{
    (void)state;
    sf_ms t = INT64_C(1500000000000);
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_stream_record a, b, c;
    assert_status(create_in(fx, fx->service_sid, "a", 1, &a), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "b", 2, &b), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "c", 3, &c), SF_OK);
    assert_int_equal(sf_run_due(fx->fake), 0);
    t += 2000;
    assert_int_equal(sf_pending_events(fx->fake), 3);
    assert_int_equal(sf_run_due(fx->fake), 2);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_int_equal(sf_run_due(fx->fake), 0);
    t += 1000;
    assert_int_equal(sf_run_due(fx->fake), 1);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_callback_clock_never_goes_backwards(void **state)
{
    (void)state;
    sf_ms t = INT64_C(1700000000000);
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    assert_int_equal(sf_clock_now(fx->fake), t);
    sf_stream_record s, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "mono", 5, &s), SF_OK);

    t += 4000;
    assert_int_equal(sf_clock_now(fx->fake), INT64_C(1700000004000));
    t -= 60000; /* the callback goes back a minute */
    assert_int_equal(sf_clock_now(fx->fake), INT64_C(1700000004000));
    sf_stream_record late;
    assert_status(create_in(fx, fx->service_sid, "late", 1, &late), SF_OK);
    assert_int_equal(late.date_created_ms, INT64_C(1700000004000));
    assert_int_equal(late.date_expires_ms, INT64_C(1700000005000));
    sf_stream_params p = {.has_ttl = true, .ttl = 5};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "mono", &p, &r, &err), SF_OK);
    assert_int_equal(r.date_updated_ms, INT64_C(1700000004000));
    assert_int_equal(r.date_expires_ms, INT64_C(1700000009000));

    /* forward again, but still behind the latest time seen: nothing changes */
    t = INT64_C(1700000003000);
    assert_int_equal(sf_clock_now(fx->fake), INT64_C(1700000004000));
    assert_alive(fx, "late");
    /* past the latest seen time: now moves, and "late" expires */
    t = INT64_C(1700000005000);
    assert_int_equal(sf_clock_now(fx->fake), INT64_C(1700000005000));
    sf_status stt = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "late", &r, &err);
    expect_not_found(stt, &err, fx->service_sid, "late", "");
    assert_alive(fx, "mono");
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_callback_clock_near_end_of_time_does_not_overflow_deadline(void **state)
{
    (void)state;
    sf_ms t = SF_TIME_MAX_MS - 500;
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_stream_record s, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "end", 31536000, &s), SF_OK);
    /* the deadline is past the fake's range: it saturates at its end, never wraps */
    assert_true(s.has_date_expires);
    assert_int_equal(s.date_expires_ms, SF_TIME_MAX_MS);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "end", &r, &err), SF_OK);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

/* Saturated deadline: the record says the stream never expires (date_expires null), so
 * reaching the last representable millisecond must not remove it. */
static void test_stream_reported_as_never_expiring_survives_end_of_time(void **state)
{
    (void)state;
    sf_ms t = INT64_MAX - 500;
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_stream_record s, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "end", 10, &s), SF_OK);
    bool says_never = !s.has_date_expires;
    t = INT64_MAX;
    sf_status fetched = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "end", &r, &err);
    assert_int_equal(sf_fixture_teardown(&st), 0);
    if (says_never && fetched != SF_OK)
        fail_msg("record had date_expires null, yet the stream expired at INT64_MAX");
}

/* Same saturated deadline with an expiry lag rule: stream.c adds the lag to INT64_MAX, a signed
 * overflow (UBSan aborts the process here, which is why this test runs last). */
static void test_expiry_lag_on_saturated_deadline_does_not_overflow(void **state)
{
    (void)state;
    sf_ms t = INT64_MAX - 500;
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = 5000};
    sf_fault_id id;
    sf_error err;
    assert_status(sf_fault_add(fx->fake, &fp, &id, &err), SF_OK);
    sf_stream_record s, r;
    assert_status(create_in(fx, fx->service_sid, "end", 10, &s), SF_OK);
    bool says_never = !s.has_date_expires;
    t = INT64_MAX;
    sf_status fetched = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "end", &r, &err);
    assert_int_equal(sf_fixture_teardown(&st), 0);
    if (says_never && fetched != SF_OK)
        fail_msg("record had date_expires null, yet the stream expired at INT64_MAX");
}

/* ------------------------------------------------------------------------------------- */
/* expiry lag fault                                                                       */
/* ------------------------------------------------------------------------------------- */

static void test_expiry_lag_fault_keeps_stream_until_deadline_plus_lag(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = 5000};
    sf_fault_id id;
    sf_error err;
    assert_status(sf_fault_add(fx->fake, &fp, &id, &err), SF_OK);
    sf_stream_record s, r;
    assert_status(create_in(fx, fx->service_sid, "laggy", 10, &s), SF_OK);
    assert_int_equal(s.date_expires_ms, NOW0 + 10000); /* date_expires is not moved */
    assert_status(sf_clock_set(fx->fake, NOW0 + 10000, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "laggy", &r, &err), SF_OK);
    assert_int_equal(r.date_expires_ms, NOW0 + 10000);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 15000);
    assert_status(sf_clock_set(fx->fake, NOW0 + 14999, NULL), SF_OK);
    assert_alive(fx, "laggy");
    assert_status(sf_clock_set(fx->fake, NOW0 + 15000, NULL), SF_OK);
    assert_gone(fx, "laggy");
    assert_int_equal(sf_pending_events(fx->fake), 0);
}

static void test_expiry_lag_on_one_stream_leaves_others_on_time(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, u;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "a", 2, &a), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "b", 2, &b), SF_OK);
    sf_fault_params fp = {.scope = SF_SCOPE_STREAM, .stream_sid = b.sid, .expiry_lag_ms = 3000};
    sf_fault_id id;
    assert_status(sf_fault_add(fx->fake, &fp, &id, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 2000, NULL), SF_OK);
    assert_gone(fx, "a");
    assert_alive(fx, "b");
    /* an update while lagging starts a fresh deadline (and a fresh lag) */
    assert_status(sf_test_update_ttl(fx, "b", 1, &u, &err), SF_OK);
    assert_int_equal(u.date_expires_ms, NOW0 + 3000);
    assert_status(sf_clock_set(fx->fake, NOW0 + 5999, NULL), SF_OK);
    assert_alive(fx, "b");
    assert_status(sf_clock_set(fx->fake, NOW0 + 6000, NULL), SF_OK);
    assert_gone(fx, "b");
}

static void test_clock_calls_on_callback_clock_fail_not_manual(void **state)
{
    (void)state;
    sf_ms t = INT64_C(1700000000000);
    void *st = NULL;
    sf_fixture *fx = callback_fixture(&st, &t);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 1000, &err), SF_ERR_CLOCK_NOT_MANUAL);
    assert_status(err.status, SF_ERR_CLOCK_NOT_MANUAL);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_clock_set(fx->fake, t + 1000, &err), SF_ERR_CLOCK_NOT_MANUAL);
    assert_status(err.status, SF_ERR_CLOCK_NOT_MANUAL);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_non_null(strstr(err.message, "Invalid parameter"));
    assert_int_equal(sf_clock_now(fx->fake), t);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_clock_calls_on_system_clock_fail_not_manual(void **state)
{
    (void)state;
    sf_options o;
    sf_options_init(&o);
    o.seed = SF_TEST_SEED;
    o.clock = SF_CLOCK_SYSTEM;
    void *st = NULL;
    assert_int_equal(sf_fixture_setup_with(&st, &o), 0);
    sf_fixture *fx = st;
    sf_error err;
    sf_ms before = sf_clock_now(fx->fake);
    assert_true(before > SF_DEFAULT_EPOCH_MS); /* the real clock is after 2015 */
    assert_status(sf_clock_advance(fx->fake, 1, &err), SF_ERR_CLOCK_NOT_MANUAL);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_clock_set(fx->fake, before + 1000000, &err), SF_ERR_CLOCK_NOT_MANUAL);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_true(sf_clock_now(fx->fake) >= before);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

/* ------------------------------------------------------------------------------------- */
/* manual clock                                                                           */
/* ------------------------------------------------------------------------------------- */

static void test_manual_clock_starts_at_default_epoch_and_moves_only_when_told(void **state)
{
    sf_fixture *fx = fx_of(state);
    assert_int_equal(sf_clock_now(fx->fake), NOW0);
    assert_int_equal(sf_run_due(fx->fake), 0);
    assert_int_equal(sf_clock_now(fx->fake), NOW0);
    assert_status(sf_clock_advance(fx->fake, 0, NULL), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), NOW0);
    assert_status(sf_clock_advance(fx->fake, 250, NULL), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 250);
    assert_status(sf_clock_set(fx->fake, NOW0 + 250, NULL), SF_OK); /* same time is fine */
    assert_status(sf_clock_set(fx->fake, NOW0 + 1000, NULL), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 1000);
}

static void test_manual_clock_honours_manual_start(void **state)
{
    (void)state;
    sf_options o;
    sf_options_init(&o);
    o.seed = SF_TEST_SEED;
    o.manual_start_ms = 5000;
    void *st = NULL;
    assert_int_equal(sf_fixture_setup_with(&st, &o), 0);
    sf_fixture *fx = st;
    assert_int_equal(sf_clock_now(fx->fake), 5000);
    sf_stream_record s;
    assert_status(create_in(fx, fx->service_sid, "s", 1, &s), SF_OK);
    assert_int_equal(s.date_created_ms, 5000);
    assert_int_equal(s.date_expires_ms, 6000);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_clock_set_backwards_fails_and_changes_nothing(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    assert_status(create_in(fx, fx->service_sid, "s", 10, &s), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    sf_error err;
    assert_status(sf_clock_set(fx->fake, NOW0 + 4999, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_clock_set(fx->fake, 0, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 5000);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_alive(fx, "s");
}

static void test_clock_advance_negative_or_overflowing_fails(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, -1, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_clock_advance(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(fx->fake, INT64_MAX, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_int_equal(sf_clock_now(fx->fake), NOW0);
    /* up to the end of the fake's range is allowed */
    assert_status(sf_clock_advance(fx->fake, SF_TIME_MAX_MS - NOW0 + 1, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(fx->fake, SF_TIME_MAX_MS - NOW0, &err), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), SF_TIME_MAX_MS);
    assert_status(sf_clock_advance(fx->fake, 1, &err), SF_ERR_INVALID_ARGUMENT);
}

static void test_clock_functions_tolerate_null_fake(void **state)
{
    (void)state;
    sf_error err;
    assert_int_equal(sf_clock_now(NULL), 0);
    assert_int_equal(sf_run_due(NULL), 0);
    assert_int_equal(sf_pending_events(NULL), 0);
    sf_ms next;
    assert_false(sf_next_event_time(NULL, &next));
    assert_status(sf_clock_set(NULL, 0, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_clock_advance(NULL, 0, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
#define P(fn) cmocka_unit_test(fn)
    const struct CMUnitTest tests[] = {
        P(test_callback_clock_expires_stream_at_next_call_after_deadline),
        P(test_callback_clock_expiry_seen_by_list_and_publish),
        P(test_run_due_runs_expiries_of_callback_clock),
        P(test_callback_clock_never_goes_backwards),
        P(test_callback_clock_near_end_of_time_does_not_overflow_deadline),
        P(test_stream_reported_as_never_expiring_survives_end_of_time),
        T(test_expiry_lag_fault_keeps_stream_until_deadline_plus_lag),
        T(test_expiry_lag_on_one_stream_leaves_others_on_time),
        P(test_clock_calls_on_callback_clock_fail_not_manual),
        P(test_clock_calls_on_system_clock_fail_not_manual),
        T(test_manual_clock_starts_at_default_epoch_and_moves_only_when_told),
        P(test_manual_clock_honours_manual_start),
        T(test_clock_set_backwards_fails_and_changes_nothing),
        T(test_clock_advance_negative_or_overflowing_fails),
        P(test_clock_functions_tolerate_null_fake),
        /* last: under UBSan a failure here aborts the whole binary */
        P(test_expiry_lag_on_saturated_deadline_does_not_overflow),
    };
#undef T
#undef P
    return cmocka_run_group_tests(tests, NULL, NULL);
}
