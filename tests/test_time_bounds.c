/* SPDX-License-Identifier: MIT */
/* test_time_bounds.c: the fake's time range, SF_TIME_MIN_MS..SF_TIME_MAX_MS
 * (1970-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z).
 *
 * Inputs outside it are refused with SF_ERR_INVALID_ARGUMENT naming the bound and change
 * nothing (sf_clock_set, sf_clock_advance, options.manual_start_ms); a callback clock outside it
 * is clamped; deadlines from a time in range plus a valid delay, jitter, expiry lag or TTL
 * saturate at SF_TIME_MAX_MS (delivery due times, journal until_ms, date_expires, the rate
 * limiter's next_allowed_ms), so they never overflow and the clock can still reach them.
 * Under UBSan the old code aborts on the signed overflow of the first tests. */
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

#define KIND(k) (1u << (k))
#define DATA "{\"i\":1}"

typedef struct seen {
    int n;
    sf_ms delivered_ms[8];
} seen;

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    seen *s = user;
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED && s->n < 8)
        s->delivered_ms[s->n++] = ev->delivered_ms;
}

/* The until_ms of the only journal entry of `kind`. */
static sf_ms journal_until(sf_fake *fake, sf_journal_kind kind)
{
    sf_journal_filter f = {.kinds = KIND(kind)};
    sf_journal_entry e;
    uint64_t cursor = 0;
    assert_true(sf_journal_next(fake, &f, &cursor, &e));
    sf_ms until = e.until_ms;
    assert_false(sf_journal_next(fake, &f, &cursor, &e));
    return until;
}

static void test_range_constants(void **state)
{
    (void)state;
    char iso[21], http[30];
    sf_format_iso8601(SF_TIME_MAX_MS, iso);
    assert_string_equal(iso, "9999-12-31T23:59:59Z");
    sf_format_http_date(SF_TIME_MAX_MS, http);
    assert_string_equal(http, "Fri, 31 Dec 9999 23:59:59 GMT");
    sf_format_iso8601(SF_TIME_MIN_MS, iso);
    assert_string_equal(iso, "1970-01-01T00:00:00Z");
}

/* The input: NowMs=9223372036854775000 is refused and the clock does not move. */
static void test_clock_set_above_range(void **state)
{
    sf_fixture *fx = *state;
    sf_ms before = sf_clock_now(fx->fake);
    sf_error err;
    assert_status(sf_clock_set(fx->fake, INT64_C(9223372036854775000), &err),
                  SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_non_null(strstr(err.message, "253402300799999"));
    assert_non_null(strstr(err.message, "9999-12-31T23:59:59.999Z"));
    assert_int_equal(sf_clock_now(fx->fake), before);
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS + 1, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(fx->fake, INT64_MAX, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(fx->fake), before);
    /* the last millisecond itself is a valid time */
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS, &err), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), SF_TIME_MAX_MS);
}

static void test_clock_advance_past_range(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS - 1000, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1001, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_non_null(strstr(err.message, "0..1000"));
    assert_non_null(strstr(err.message, "253402300799999"));
    assert_status(sf_clock_advance(fx->fake, INT64_MAX, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(fx->fake), SF_TIME_MAX_MS - 1000);
    assert_status(sf_clock_advance(fx->fake, 1000, &err), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), SF_TIME_MAX_MS);
    assert_status(sf_clock_advance(fx->fake, 0, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1, &err), SF_ERR_INVALID_ARGUMENT);
}

static void test_manual_start_bounds(void **state)
{
    (void)state;
    sf_options o;
    sf_fake *fake = NULL;
    sf_error err;
    sf_options_init(&o);
    o.manual_start_ms = SF_TIME_MAX_MS + 1;
    assert_status(sf_fake_new(&o, &fake, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(fake);
    assert_non_null(strstr(err.message, "manual_start_ms must be within 0..253402300799999"));
    o.manual_start_ms = -1;
    assert_status(sf_fake_new(&o, &fake, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(fake);
    o.manual_start_ms = SF_TIME_MAX_MS;
    assert_status(sf_fake_new(&o, &fake, &err), SF_OK);
    assert_int_equal(sf_clock_now(fake), SF_TIME_MAX_MS);
    sf_fake_free(fake);
}

static sf_ms callback_time;
static sf_ms callback_clock(void *user)
{
    (void)user;
    return callback_time;
}

/* A callback clock outside the range pins the fake at the bound; deadlines still saturate. */
static void test_callback_clock_clamped(void **state)
{
    (void)state;
    sf_options o;
    sf_fake *fake = NULL;
    sf_error err;
    sf_options_init(&o);
    o.clock = SF_CLOCK_CALLBACK;
    o.clock_fn = callback_clock;
    callback_time = -5000;
    assert_status(sf_fake_new(&o, &fake, &err), SF_OK);
    assert_int_equal(sf_clock_now(fake), 0);
    callback_time = INT64_MAX;
    assert_int_equal(sf_clock_now(fake), SF_TIME_MAX_MS);
    sf_service_record svc;
    sf_stream_record st;
    sf_stream_params sp = {.has_ttl = true, .ttl = 3600};
    assert_status(sf_service_create(fake, NULL, NULL, &svc, &err), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, &sp, &st, &err), SF_OK);
    assert_true(st.has_date_expires);
    assert_int_equal(st.date_expires_ms, SF_TIME_MAX_MS);
    assert_int_equal(st.date_created_ms, SF_TIME_MAX_MS);
    /* at the end of time the stream's deadline has come: the next call expires it */
    assert_status(sf_stream_fetch(fake, NULL, svc.sid, st.sid, NULL, &err), SF_ERR_NOT_FOUND);
    sf_fake_free(fake);
}

/* The publish: a delay of 1,000,000 ms near the end of time. */
static void test_delay_saturates(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_error err;
    seen s = {0};
    sf_fixture_stream(fx, NULL, 0, &st);
    sf_subscribe_params sp = {.on_event = on_event, .user = &s};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, st.sid, &sp, NULL, &err), SF_OK);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 1000000};
    assert_status(sf_fault_add(fx->fake, &fp, NULL, &err), SF_OK);
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS - 10, &err), SF_OK);
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    sf_ms due;
    assert_true(sf_next_event_time(fx->fake, &due));
    assert_int_equal(due, SF_TIME_MAX_MS);
    assert_int_equal(journal_until(fx->fake, SF_JOURNAL_DELAYED), SF_TIME_MAX_MS);
    assert_int_equal(s.n, 0);
    assert_int_equal(sf_run_until_idle(fx->fake), 1);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.delivered_ms[0], SF_TIME_MAX_MS);
    assert_int_equal(sf_clock_now(fx->fake), SF_TIME_MAX_MS);
}

/* Several rules of the largest delay and jitter add up; the sum saturates too. */
static void test_delay_sum_and_duplicate_saturate(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_error err;
    seen s = {0};
    sf_fixture_stream(fx, NULL, 0, &st);
    sf_subscribe_params sp = {.on_event = on_event, .user = &s};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, st.sid, &sp, NULL, &err), SF_OK);
    const sf_ms big = INT64_C(1) << 40;
    for (int i = 0; i < 3; i++) {
        sf_fault_params fp = {.scope = SF_SCOPE_STREAM,
                              .stream_sid = st.sid,
                              .delay_ms = big,
                              .jitter_ms = big,
                              .duplicate_rate = 1.0};
        assert_status(sf_fault_add(fx->fake, &fp, NULL, &err), SF_OK);
    }
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS - 2 * big, &err), SF_OK);
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(journal_until(fx->fake, SF_JOURNAL_DELAYED), SF_TIME_MAX_MS);
    assert_int_equal(journal_until(fx->fake, SF_JOURNAL_DUPLICATED), SF_TIME_MAX_MS);
    assert_int_equal(sf_run_until_idle(fx->fake), 2);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.delivered_ms[0], SF_TIME_MAX_MS);
    assert_int_equal(s.delivered_ms[1], SF_TIME_MAX_MS);
    /* a delay above the documented 2^40 ms is refused, naming the bound */
    sf_fault_params too_long = {.scope = SF_SCOPE_FAKE, .delay_ms = big + 1};
    assert_status(sf_fault_add(fx->fake, &too_long, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "0..2^40 ms"));
}

static void test_ttl_and_expiry_lag_saturate(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_stream_record st, updated;
    sf_fault_params lag = {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = INT64_C(1) << 40};
    assert_status(sf_fault_add(fx->fake, &lag, NULL, &err), SF_OK);
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS - 5000, &err), SF_OK);
    sf_fixture_stream(fx, "late", 3600, &st);
    assert_true(st.has_date_expires);
    assert_int_equal(st.date_expires_ms, SF_TIME_MAX_MS);
    /* an update counts from now: saturates the same way */
    sf_stream_params up = {.has_ttl = true, .ttl = 31536000};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, st.sid, &up, &updated, &err),
                  SF_OK);
    assert_int_equal(updated.date_expires_ms, SF_TIME_MAX_MS);
    /* at the deadline the lag rule holds it; the lagged deadline is the end of time as well */
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS, &err), SF_OK);
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_EXPIRED)};
    sf_journal_entry e;
    uint64_t cursor = 0;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &e));
    assert_int_equal(e.t_ms, SF_TIME_MAX_MS);
    assert_int_equal(sf_pending_events(fx->fake), 0);
}

static void test_rate_state_saturates(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_stream_record st;
    assert_status(sf_clock_set(fx->fake, SF_TIME_MAX_MS, &err), SF_OK);
    sf_fixture_stream(fx, NULL, 0, &st);
    for (int i = 0; i < 300; i++)
        assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, st.sid, &rs, &err), SF_OK);
    assert_int_equal(rs.tokens, 0);
    assert_int_equal(rs.next_allowed_ms, SF_TIME_MAX_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_constants),
        cmocka_unit_test_setup_teardown(test_clock_set_above_range, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_clock_advance_past_range, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test(test_manual_start_bounds),
        cmocka_unit_test(test_callback_clock_clamped),
        cmocka_unit_test_setup_teardown(test_delay_saturates, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_delay_sum_and_duplicate_saturate, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_ttl_and_expiry_lag_saturate, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_rate_state_saturates, sf_fixture_setup,
                                        sf_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
