/* SPDX-License-Identifier: MIT */
/* test_expiry_deadline.c: stream expiry: the deadline to the millisecond, the queued removal event,
 * updates that re-arm or cancel it, and services removed with their streams. */
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
/* the deadline                                                                           */
/* ------------------------------------------------------------------------------------- */

static void test_stream_is_usable_everywhere_one_ms_before_deadline(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "brief", 10, &s), SF_OK);
    assert_int_equal(s.date_expires_ms, NOW0 + 10000);
    assert_status(sf_clock_advance(fx->fake, 9999, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 9999);

    assert_alive(fx, s.sid);
    assert_alive(fx, "brief");
    assert_true(listed(fx, s.sid));
    assert_status(sf_test_publish(fx, "brief", "{\"x\":1}", NULL, &err), SF_OK);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, s.sid, &rs, &err), SF_OK);
    assert_int_equal(rs.tokens, 299);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    /* and removing it there works */
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, s.sid, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, s.sid, &r, &err),
                  SF_ERR_NOT_FOUND);
}

static void test_stream_ttl_expires_exactly_at_deadline(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, keep, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "brief", 10, &s), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "keep", -1, &keep), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 9999, NULL), SF_OK);
    assert_alive(fx, s.sid);
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 10000);

    const char *ids[] = {s.sid, "brief"};
    for (int i = 0; i < 2; i++) {
        sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, ids[i], &r, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        st = sf_test_update_ttl(fx, ids[i], 100, &r, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        st = sf_test_update_ttl(fx, ids[i], 0, &r, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        st = sf_test_publish(fx, ids[i], "{\"x\":1}", NULL, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "/Messages");
        st = sf_stream_remove(fx->fake, NULL, fx->service_sid, ids[i], &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        sf_rate_state rs;
        st = sf_stream_rate_state(fx->fake, NULL, fx->service_sid, ids[i], &rs, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
    }
    assert_false(listed(fx, s.sid));
    assert_true(listed(fx, keep.sid));
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_false(sf_next_event_time(fx->fake, NULL));
}

static void test_expired_unique_name_can_be_reused(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, r;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "phoenix", 1, &a), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "phoenix", 1, &b), SF_OK);
    assert_string_not_equal(a.sid, b.sid);
    assert_int_equal(b.date_expires_ms, NOW0 + 2000);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "phoenix", &r, &err), SF_OK);
    assert_string_equal(r.sid, b.sid);
}

static void test_expiry_runs_when_clock_set_reaches_deadline(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "set", 3, &s), SF_OK);
    assert_status(sf_clock_set(fx->fake, NOW0 + 2999, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_alive(fx, "set");
    assert_status(sf_clock_set(fx->fake, NOW0 + 3000, &err), SF_OK);
    /* the expiry ran inside sf_clock_set: nothing is pending any more */
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_gone(fx, "set");
}

static void test_expiry_runs_inside_clock_advance_before_any_other_call(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    assert_status(create_in(fx, fx->service_sid, "adv", 2, &s), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_false(sf_next_event_time(fx->fake, NULL));
    assert_int_equal(sf_run_due(fx->fake), 0); /* nothing left to run */
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 5000);
    assert_gone(fx, s.sid);
}

static void test_clock_set_far_past_many_deadlines_expires_all(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s[20];
    char name[16];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "s%02d", i);
        assert_status(create_in(fx, fx->service_sid, name, 1 + (i * 7) % 20, &s[i]), SF_OK);
    }
    assert_int_equal(sf_pending_events(fx->fake), 20);
    assert_status(sf_clock_set(fx->fake, NOW0 + 20000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    char buf[512];
    listing(fx, fx->service_sid, buf, sizeof buf);
    assert_string_equal(buf, "");
}

/* ------------------------------------------------------------------------------------- */
/* the event queue                                                                        */
/* ------------------------------------------------------------------------------------- */

static void test_next_event_time_and_pending_events_track_expiries(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_ms next;
    assert_false(sf_next_event_time(fx->fake, &next));
    assert_int_equal(sf_pending_events(fx->fake), 0);

    sf_stream_record a, b, c, d;
    assert_status(create_in(fx, fx->service_sid, "a", 30, &a), SF_OK);
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 30000);
    assert_status(create_in(fx, fx->service_sid, "b", 10, &b), SF_OK);
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 10000);
    assert_status(create_in(fx, fx->service_sid, "c", 20, &c), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "d", -1, &d), SF_OK); /* no expiry */
    assert_int_equal(sf_pending_events(fx->fake), 3);
    assert_true(sf_next_event_time(fx->fake, NULL)); /* out may be NULL */

    assert_status(sf_clock_advance(fx->fake, 10000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 2);
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 20000);

    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, "c", NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 30000);

    assert_status(sf_clock_advance(fx->fake, 20000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_false(sf_next_event_time(fx->fake, &next));
    assert_alive(fx, "d");
}

static void test_many_streams_expire_in_deadline_order(void **state)
{
    sf_fixture *fx = fx_of(state);
    /* created in this order, with these TTLs (seconds) */
    const char *names[] = {"e5", "a1", "c3", "b2", "d4", "f6", "b2x", "a1x"};
    const int64_t ttls[] = {5, 1, 3, 2, 4, 6, 2, 1};
    for (int i = 0; i < 8; i++) {
        sf_stream_record r;
        assert_status(create_in(fx, fx->service_sid, names[i], ttls[i], &r), SF_OK);
    }
    sf_stream_record forever;
    assert_status(create_in(fx, fx->service_sid, "zz", 0, &forever), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 8);

    const char *expected[] = {
        "e5,a1,c3,b2,d4,f6,b2x,a1x,zz", /* t = 0.999 s */
        "e5,c3,b2,d4,f6,b2x,zz",        /* t = 1 s */
        "e5,c3,d4,f6,zz",               /* t = 2 s */
        "e5,d4,f6,zz",                  /* t = 3 s */
        "e5,f6,zz",                     /* t = 4 s */
        "f6,zz",                        /* t = 5 s */
        "zz",                           /* t = 6 s */
    };
    const size_t pending[] = {8, 6, 4, 3, 2, 1, 0};
    char buf[256];
    assert_status(sf_clock_advance(fx->fake, 999, NULL), SF_OK);
    listing(fx, fx->service_sid, buf, sizeof buf);
    assert_string_equal(buf, expected[0]);
    assert_int_equal(sf_pending_events(fx->fake), pending[0]);
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    for (int step = 1; step < 7; step++) {
        listing(fx, fx->service_sid, buf, sizeof buf);
        assert_string_equal(buf, expected[step]);
        assert_int_equal(sf_pending_events(fx->fake), pending[step]);
        sf_ms next;
        if (pending[step]) {
            assert_true(sf_next_event_time(fx->fake, &next));
            assert_int_equal(next, NOW0 + (step + 1) * 1000);
        } else {
            assert_false(sf_next_event_time(fx->fake, &next));
        }
        assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    }
}

static void test_streams_sharing_a_deadline_expire_together(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, c;
    assert_status(create_in(fx, fx->service_sid, "a", 2, &a), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "b", 1, &b), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "c", 3, &c), SF_OK);
    assert_int_equal(a.date_expires_ms, b.date_expires_ms);
    assert_status(sf_clock_advance(fx->fake, 999, NULL), SF_OK);
    char buf[64];
    listing(fx, fx->service_sid, buf, sizeof buf);
    assert_string_equal(buf, "a,b,c");
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    listing(fx, fx->service_sid, buf, sizeof buf);
    assert_string_equal(buf, "c");
    assert_int_equal(sf_pending_events(fx->fake), 1);
}

static void test_large_number_of_expiries_run_in_order(void **state)
{
    sf_fixture *fx = fx_of(state);
    /* 200 streams (more than one heap growth) with scattered TTLs 1..50 s */
    enum { N = 200 };
    int64_t ttl[N];
    for (int i = 0; i < N; i++) {
        ttl[i] = 1 + (i * 37 + 11) % 50;
        char name[16];
        snprintf(name, sizeof name, "n%03d", i);
        sf_stream_record r;
        assert_status(create_in(fx, fx->service_sid, name, ttl[i], &r), SF_OK);
    }
    /* cancel a few and re-arm a few, so the heap sees removals from the middle */
    for (int i = 0; i < N; i += 17) {
        char name[16];
        snprintf(name, sizeof name, "n%03d", i);
        sf_stream_record r;
        sf_error err;
        assert_status(sf_test_update_ttl(fx, name, i % 2 ? 0 : 25, &r, &err), SF_OK);
        ttl[i] = i % 2 ? 0 : 25;
    }
    for (int sec = 1; sec <= 51; sec++) {
        assert_status(sf_clock_set(fx->fake, NOW0 + sec * 1000, NULL), SF_OK);
        size_t expect_pending = 0;
        for (int i = 0; i < N; i++)
            if (ttl[i] > sec)
                expect_pending++;
        assert_int_equal(sf_pending_events(fx->fake), expect_pending);
        sf_page_params pp = {.has_page_size = true, .page_size = 100};
        sf_stream_page *page = NULL;
        sf_error err;
        size_t alive = 0;
        assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err), SF_OK);
        for (;;) {
            alive += page->info.count;
            for (size_t k = 0; k < page->info.count; k++) {
                int idx = atoi(page->records[k].unique_name + 1);
                assert_true(ttl[idx] == 0 || ttl[idx] > sec);
            }
            if (!page->info.has_next)
                break;
            sf_page_params np = {
                .has_page_size = true, .page_size = 100, .page_token = page->info.next_token};
            char token[SF_PAGE_TOKEN_SIZE];
            memcpy(token, page->info.next_token, sizeof token);
            np.page_token = token;
            sf_stream_page_free(fx->fake, page);
            page = NULL;
            assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &np, &page, &err), SF_OK);
        }
        sf_stream_page_free(fx->fake, page);
        size_t expect_alive = 0;
        for (int i = 0; i < N; i++)
            if (ttl[i] == 0 || ttl[i] > sec)
                expect_alive++;
        assert_int_equal(alive, expect_alive);
    }
}

/* ------------------------------------------------------------------------------------- */
/* update re-arms, Ttl=0 cancels                                                          */
/* ------------------------------------------------------------------------------------- */

static void test_update_rearms_expiry_from_update_time(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, u;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "extend", 10, &s), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 6000, NULL), SF_OK);
    assert_status(sf_test_update_ttl(fx, "extend", 10, &u, &err), SF_OK);
    assert_int_equal(u.date_expires_ms, NOW0 + 16000);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 16000);
    /* the old deadline passes harmlessly */
    assert_status(sf_clock_set(fx->fake, NOW0 + 10000, NULL), SF_OK);
    assert_alive(fx, "extend");
    assert_status(sf_clock_set(fx->fake, NOW0 + 15999, NULL), SF_OK);
    assert_alive(fx, "extend");
    assert_status(sf_clock_set(fx->fake, NOW0 + 16000, NULL), SF_OK);
    assert_gone(fx, "extend");
}

static void test_update_to_shorter_ttl_expires_sooner(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, u;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "long", 1000, &a), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "mid", 500, &b), SF_OK);
    assert_status(sf_test_update_ttl(fx, "long", 2, &u, &err), SF_OK);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 2000);
    assert_status(sf_clock_advance(fx->fake, 2000, NULL), SF_OK);
    assert_gone(fx, "long");
    assert_alive(fx, "mid");
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 500000);
}

static void test_update_ttl_zero_cancels_pending_expiry(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, other, u;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "saved", 5, &s), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "other", 50, &other), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 2);
    assert_status(sf_test_update_ttl(fx, s.sid, 0, &u, &err), SF_OK);
    assert_false(u.has_date_expires);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 50000);
    /* cancelling again is harmless */
    assert_status(sf_test_update_ttl(fx, s.sid, 0, &u, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);

    assert_status(sf_clock_advance(fx->fake, INT64_C(400) * 86400 * 1000, NULL), SF_OK);
    assert_alive(fx, "saved");
    assert_gone(fx, "other");
    assert_int_equal(sf_pending_events(fx->fake), 0);
}

static void test_rearm_after_cancel_schedules_again(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, u;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "again", 5, &s), SF_OK);
    assert_status(sf_test_update_ttl(fx, "again", 0, &u, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_status(sf_clock_advance(fx->fake, 10000, NULL), SF_OK);
    assert_status(sf_test_update_ttl(fx, "again", 1, &u, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_int_equal(u.date_expires_ms, NOW0 + 11000);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_gone(fx, "again");
}

static void test_failed_update_keeps_the_pending_expiry(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, u;
    sf_error err;
    assert_status(create_in(fx, fx->service_sid, "kept", 5, &s), SF_OK);
    assert_status(sf_test_update_ttl(fx, "kept", -5, &u, &err), SF_ERR_INVALID_TTL);
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "kept", NULL, &u, &err),
                  SF_ERR_NO_PARAMETERS);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 5000);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    assert_gone(fx, "kept");
}

/* ------------------------------------------------------------------------------------- */
/* services                                                                               */
/* ------------------------------------------------------------------------------------- */

static void test_removing_a_service_removes_its_streams_and_pending_expiries(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_service_record svc2;
    sf_error err;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, &err), SF_OK);
    sf_stream_record a, b, c, mine;
    assert_status(create_in(fx, svc2.sid, "a", 5, &a), SF_OK);
    assert_status(create_in(fx, svc2.sid, "b", 1, &b), SF_OK);
    assert_status(create_in(fx, svc2.sid, "c", -1, &c), SF_OK);
    assert_status(create_in(fx, fx->service_sid, "mine", 3, &mine), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 3);

    assert_status(sf_service_remove(fx->fake, NULL, svc2.sid, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 3000);

    sf_stream_record r;
    sf_status st = sf_stream_fetch(fx->fake, NULL, svc2.sid, a.sid, &r, &err);
    expect_not_found(st, &err, svc2.sid, a.sid, "");
    st = sf_stream_fetch(fx->fake, NULL, svc2.sid, "c", &r, &err);
    expect_not_found(st, &err, svc2.sid, "c", "");

    /* the other service's stream still expires on time */
    assert_status(sf_clock_advance(fx->fake, 10000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_gone(fx, "mine");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
#define P(fn) cmocka_unit_test(fn)
    const struct CMUnitTest tests[] = {
        T(test_stream_is_usable_everywhere_one_ms_before_deadline),
        T(test_stream_ttl_expires_exactly_at_deadline),
        T(test_expired_unique_name_can_be_reused),
        T(test_expiry_runs_when_clock_set_reaches_deadline),
        T(test_expiry_runs_inside_clock_advance_before_any_other_call),
        T(test_clock_set_far_past_many_deadlines_expires_all),
        T(test_next_event_time_and_pending_events_track_expiries),
        T(test_many_streams_expire_in_deadline_order),
        T(test_streams_sharing_a_deadline_expire_together),
        T(test_large_number_of_expiries_run_in_order),
        T(test_update_rearms_expiry_from_update_time),
        T(test_update_to_shorter_ttl_expires_sooner),
        T(test_update_ttl_zero_cancels_pending_expiry),
        T(test_rearm_after_cancel_schedules_again),
        T(test_failed_update_keeps_the_pending_expiry),
        T(test_removing_a_service_removes_its_streams_and_pending_expiries),
    };
#undef T
#undef P
    return cmocka_run_group_tests(tests, NULL, NULL);
}
