/* SPDX-License-Identifier: MIT */
/* test_free_in_callback.c: sf_fake_free called inside a subscriber callback is deferred: no
 * further callback runs, the call that ran the callback returns its usual result, and the fake
 * (every block of it) is released when the outermost API call returns. Each test frees from
 * a callback run by a different path: a fast-path publish, a delayed delivery run by a clock
 * move, a queued `removed` notice, a heal that flushes parked deliveries, sf_run_until_idle
 * and a publish made from inside another callback. The counting allocator of the fixture must
 * show zero live blocks right after the outermost call; under ASan the old code reports a
 * heap-use-after-free. sf_fake_reset inside a callback stays refused. */
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

#define DATA "{\"i\":1}"

typedef struct listener {
    int calls;
    bool free_it;  /* free the fake on the first event */
    bool reset_it; /* try a reset on the first event */
    sf_status reset_status;
    const char *publish_to; /* publish to this stream on the first event */
    const char *service_sid;
} listener;

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)ev;
    listener *l = user;
    if (l->calls++ > 0)
        return;
    if (l->publish_to) {
        sf_publish_params pp = {.data = DATA, .data_len = strlen(DATA)};
        sf_stream_publish(fake, NULL, l->service_sid, l->publish_to, &pp, NULL, NULL);
    }
    if (l->reset_it) {
        sf_error err;
        l->reset_status = sf_fake_reset(fake, &err);
    }
    if (l->free_it)
        sf_fake_free(fake);
}

static sf_subscriber_id subscribe(sf_fixture *fx, const char *stream, listener *l)
{
    sf_subscribe_params sp = {.on_event = on_event, .user = l};
    sf_subscriber_id id;
    sf_error err;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, stream, &sp, &id, &err), SF_OK);
    return id;
}

/* The fake is gone: every block given back; the teardown must not free it again. */
static void assert_released(sf_fixture *fx)
{
    assert_int_equal(fx->alloc.live, 0);
    fx->fake = NULL;
}

static void test_free_in_fast_publish(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_fixture_stream(fx, NULL, 0, &st);
    listener first = {.free_it = true}, second = {0};
    subscribe(fx, st.sid, &first);
    subscribe(fx, st.sid, &second);
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(first.calls, 1);
    assert_int_equal(second.calls, 0); /* nothing runs after the free */
    assert_released(fx);
}

static void test_free_in_delayed_delivery(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_error err;
    sf_fixture_stream(fx, NULL, 0, &st);
    listener l = {.free_it = true};
    subscribe(fx, st.sid, &l);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 100};
    assert_status(sf_fault_add(fx->fake, &fp, NULL, &err), SF_OK);
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(l.calls, 0);
    assert_status(sf_clock_advance(fx->fake, 1000, &err), SF_OK);
    assert_int_equal(l.calls, 1); /* the second delivery, also due, is not made */
    assert_released(fx);
}

static void test_free_in_removed_notice(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_error err;
    sf_fixture_stream(fx, NULL, 0, &st);
    listener a = {.free_it = true}, b = {0};
    subscribe(fx, st.sid, &a);
    subscribe(fx, st.sid, &b);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, st.sid, &err), SF_OK);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 0);
    assert_released(fx);
}

static void test_free_in_heal_flush(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_error err;
    sf_fixture_stream(fx, NULL, 0, &st);
    listener l = {.free_it = true};
    sf_subscriber_id id = subscribe(fx, st.sid, &l);
    assert_status(sf_subscriber_hold(fx->fake, id, &err), SF_OK);
    for (int i = 0; i < 3; i++)
        assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(l.calls, 0);
    assert_status(sf_subscriber_heal(fx->fake, id, true, &err), SF_OK);
    assert_int_equal(l.calls, 1);
    assert_released(fx);
}

static void test_free_in_run_until_idle(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_error err;
    sf_fixture_stream(fx, NULL, 0, &st);
    listener l = {.free_it = true};
    subscribe(fx, st.sid, &l);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 5, .jitter_ms = 50};
    assert_status(sf_fault_add(fx->fake, &fp, NULL, &err), SF_OK);
    for (int i = 0; i < 4; i++)
        assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_true(sf_run_until_idle(fx->fake) >= 1);
    assert_int_equal(l.calls, 1);
    assert_released(fx);
}

/* A callback publishes to another stream; that delivery's callback frees the fake. */
static void test_free_in_nested_callback(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record a, b;
    sf_fixture_stream(fx, NULL, 0, &a);
    sf_fixture_stream(fx, NULL, 0, &b);
    listener inner = {.free_it = true};
    listener outer = {.publish_to = b.sid, .service_sid = fx->service_sid};
    listener late = {0};
    subscribe(fx, a.sid, &outer);
    subscribe(fx, b.sid, &inner);
    subscribe(fx, b.sid, &late);
    assert_status(sf_test_publish(fx, a.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(outer.calls, 1);
    assert_int_equal(inner.calls, 1);
    assert_int_equal(late.calls, 0);
    assert_released(fx);
}

static void test_reset_in_callback_refused(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_fixture_stream(fx, NULL, 0, &st);
    listener l = {.reset_it = true};
    subscribe(fx, st.sid, &l);
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(l.calls, 1);
    assert_status(l.reset_status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_fake_generation(fx->fake), 0);
    /* the fake still works */
    assert_status(sf_test_publish(fx, st.sid, DATA, NULL, NULL), SF_OK);
    assert_int_equal(l.calls, 2);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_free_in_fast_publish),      T(test_free_in_delayed_delivery),
        T(test_free_in_removed_notice),    T(test_free_in_heal_flush),
        T(test_free_in_run_until_idle),    T(test_free_in_nested_callback),
        T(test_reset_in_callback_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
