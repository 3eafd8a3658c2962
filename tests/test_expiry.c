/* SPDX-License-Identifier: MIT */
/* test_expiry.c: stream TTL expiry, the event queue and the fake's clock. */
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

#define NOW0 SF_DEFAULT_EPOCH_MS

static sf_status create(sf_fixture *fx, const char *service_sid, const char *name, int64_t ttl,
                        sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = ttl >= 0, .ttl = ttl};
    sf_error err;
    return sf_stream_create(fx->fake, NULL, service_sid, &p, out, &err);
}

static void expect_not_found(sf_status st, const sf_error *err, const char *service_sid,
                             const char *id, const char *suffix)
{
    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "The requested resource /Services/%s/Streams/%s%s was not found",
             service_sid, id, suffix);
    assert_status(st, SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(err, 404, 20404);
    assert_string_equal(err->message, msg);
}

/* Listed SIDs joined by ',' in listed order (single page of up to 100). */
static void listing(sf_fixture *fx, const char *service_sid, char *buf, size_t cap)
{
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_stream_page *page = NULL;
    sf_error err;
    if (sf_stream_list(fx->fake, NULL, service_sid, &pp, &page, &err) != SF_OK)
        fail_msg("list failed: %d %s", err.code, err.message);
    assert_false(page->info.has_next);
    buf[0] = '\0';
    for (size_t i = 0; i < page->info.count; i++) {
        if (i)
            strncat(buf, ",", cap - strlen(buf) - 1);
        strncat(buf, page->records[i].unique_name, cap - strlen(buf) - 1);
    }
    sf_stream_page_free(fx->fake, page);
}

static bool listed(sf_fixture *fx, const char *sid)
{
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_stream_page *page = NULL;
    sf_error err;
    if (sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err) != SF_OK)
        fail_msg("list failed: %d %s", err.code, err.message);
    bool found = false;
    for (size_t i = 0; i < page->info.count; i++)
        if (strcmp(page->records[i].sid, sid) == 0)
            found = true;
    sf_stream_page_free(fx->fake, page);
    return found;
}

static void assert_alive(sf_fixture *fx, const char *id)
{
    sf_stream_record r;
    sf_error err;
    if (sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &r, &err) != SF_OK)
        fail_msg("%s should be alive at %lld: %s", id, (long long)sf_clock_now(fx->fake),
                 err.message);
}

static void assert_gone(sf_fixture *fx, const char *id)
{
    sf_stream_record r;
    sf_error err;
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &r, &err);
    expect_not_found(st, &err, fx->service_sid, id, "");
}

/* ------------------------------------------------------------------------------------- */
/* the deadline                                                                           */
/* ------------------------------------------------------------------------------------- */

static void test_stream_is_usable_everywhere_one_ms_before_deadline(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, r;
    sf_error err;
    assert_status(create(fx, fx->service_sid, "brief", 10, &s), SF_OK);
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
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, s.sid, &r, &err), SF_ERR_NOT_FOUND);
}

static void test_stream_ttl_expires_exactly_at_deadline(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s, keep, r;
    sf_error err;
    assert_status(create(fx, fx->service_sid, "brief", 10, &s), SF_OK);
    assert_status(create(fx, fx->service_sid, "keep", -1, &keep), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "phoenix", 1, &a), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_status(create(fx, fx->service_sid, "phoenix", 1, &b), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "set", 3, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "adv", 2, &s), SF_OK);
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
        assert_status(create(fx, fx->service_sid, name, 1 + (i * 7) % 20, &s[i]), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "a", 30, &a), SF_OK);
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 30000);
    assert_status(create(fx, fx->service_sid, "b", 10, &b), SF_OK);
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 10000);
    assert_status(create(fx, fx->service_sid, "c", 20, &c), SF_OK);
    assert_status(create(fx, fx->service_sid, "d", -1, &d), SF_OK); /* no expiry */
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
        assert_status(create(fx, fx->service_sid, names[i], ttls[i], &r), SF_OK);
    }
    sf_stream_record forever;
    assert_status(create(fx, fx->service_sid, "zz", 0, &forever), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "a", 2, &a), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_status(create(fx, fx->service_sid, "b", 1, &b), SF_OK);
    assert_status(create(fx, fx->service_sid, "c", 3, &c), SF_OK);
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
        assert_status(create(fx, fx->service_sid, name, ttl[i], &r), SF_OK);
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
            sf_page_params np = {.has_page_size = true, .page_size = 100,
                                 .page_token = page->info.next_token};
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
    assert_status(create(fx, fx->service_sid, "extend", 10, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "long", 1000, &a), SF_OK);
    assert_status(create(fx, fx->service_sid, "mid", 500, &b), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "saved", 5, &s), SF_OK);
    assert_status(create(fx, fx->service_sid, "other", 50, &other), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "again", 5, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "kept", 5, &s), SF_OK);
    assert_status(sf_test_update_ttl(fx, "kept", -5, &u, &err), SF_ERR_INVALID_TTL);
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "kept", NULL, &u, &err), SF_ERR_NO_PARAMETERS);
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
    assert_status(create(fx, svc2.sid, "a", 5, &a), SF_OK);
    assert_status(create(fx, svc2.sid, "b", 1, &b), SF_OK);
    assert_status(create(fx, svc2.sid, "c", -1, &c), SF_OK);
    assert_status(create(fx, fx->service_sid, "mine", 3, &mine), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "cb", 10, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "a", 1, &a), SF_OK);
    assert_status(create(fx, fx->service_sid, "b", 2, &b), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "a", 1, &a), SF_OK);
    assert_status(create(fx, fx->service_sid, "b", 2, &b), SF_OK);
    assert_status(create(fx, fx->service_sid, "c", 3, &c), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "mono", 5, &s), SF_OK);

    t += 4000;
    assert_int_equal(sf_clock_now(fx->fake), INT64_C(1700000004000));
    t -= 60000; /* the callback goes back a minute */
    assert_int_equal(sf_clock_now(fx->fake), INT64_C(1700000004000));
    sf_stream_record late;
    assert_status(create(fx, fx->service_sid, "late", 1, &late), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "end", 31536000, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "end", 10, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "end", 10, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "laggy", 10, &s), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "a", 2, &a), SF_OK);
    assert_status(create(fx, fx->service_sid, "b", 2, &b), SF_OK);
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
    assert_status(create(fx, fx->service_sid, "s", 1, &s), SF_OK);
    assert_int_equal(s.date_created_ms, 5000);
    assert_int_equal(s.date_expires_ms, 6000);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_clock_set_backwards_fails_and_changes_nothing(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    assert_status(create(fx, fx->service_sid, "s", 10, &s), SF_OK);
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
    assert_status(sf_clock_advance(fx->fake, SF_TIME_MAX_MS - NOW0 + 1, &err), SF_ERR_INVALID_ARGUMENT);
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
