/* SPDX-License-Identifier: MIT */
/* test_subscriber_reentrancy.c: subscriber callbacks that call the API: nested publishes,
 * subscribes, unsubscribes and removals, and the order in which their events arrive. */
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
#include "subscriber_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* Re-entrancy: callbacks that call the API                                                 */
/* ---------------------------------------------------------------------------------------- */

static void act_publish_while_budget(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    char data[32];
    snprintf(data, sizeof data, "{ \"nested\" : %d }", r->counter++);
    sf_message_record m;
    sf_error err;
    sf_status st = publish_c(fake, r->fx->service_sid, r->stream_id, data, 0, &m, &err);
    if (r->nstatus < 16)
        r->statuses[r->nstatus++] = st;
    if (st == SF_OK && r->nested < 8) {
        memcpy(r->nested_sids[r->nested++], m.sid, SF_SID_SIZE);
        if (strcmp(m.data, "{\"nested\":0}") != 0 && strcmp(m.data, "{\"nested\":1}") != 0 &&
            strcmp(m.data, "{\"nested\":2}") != 0)
            r->statuses[r->nstatus - 1] = SF_STATUS_COUNT; /* wrong echo: flag it */
    }
    if (r->watch && r->nseen < 8)
        r->seen[r->nseen++] = r->watch->n;
}

/* Everything arrived before the outer publish (outer_sid) returned: A's three nested
 * publishes succeeded, and each message went to A (ia) then B (ib), outer first, then the
 * nested ones in order. */
static void check_nested_delivered_after_current(const trace *log, const recorder *a,
                                                 sf_subscriber_id ia, sf_subscriber_id ib,
                                                 const char *outer_sid)
{
    /* everything arrived before the outer publish returned */
    assert_int_equal(a->nstatus, 3);
    for (size_t i = 0; i < 3; i++)
        assert_status(a->statuses[i], SF_OK);
    assert_int_equal(a->nested, 3);
    assert_false(log->overflow);
    assert_int_equal(log->n, 8);
    const char *order[4] = {outer_sid, a->nested_sids[0], a->nested_sids[1], a->nested_sids[2]};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(log->items[2 * i].subscriber, ia);
        assert_string_equal(log->items[2 * i].message_sid, order[i]);
        assert_int_equal(log->items[2 * i + 1].subscriber, ib);
        assert_string_equal(log->items[2 * i + 1].message_sid, order[i]);
    }
}

/* B got each message on stream_sid at the unmoved time with its data; A's nested publishes
 * delivered nothing inline. */
static void check_nested_times_and_no_inline_delivery(const recorder *a, const recorder *b,
                                                      const char *stream_sid)
{
    /* each nested message is published and delivered at the same (unmoved) time */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(b->ev[i].published_ms, NOW0);
        assert_int_equal(b->ev[i].delivered_ms, NOW0);
        assert_string_equal(b->ev[i].stream_sid, stream_sid);
    }
    assert_string_equal(b->ev[0].data, "{\"outer\":1}");
    assert_string_equal(b->ev[1].data, "{\"nested\":0}");
    assert_string_equal(b->ev[2].data, "{\"nested\":1}");
    assert_string_equal(b->ev[3].data, "{\"nested\":2}");
    /* a nested publish delivers nothing inline: when A's first nested publish returned, B had
     * not even received the outer message yet (it comes after A's callback) */
    assert_int_equal(a->nseen, 3);
    assert_int_equal(a->seen[0], 0);
    assert_int_equal(a->seen[1], 1);
    assert_int_equal(a->seen[2], 2);
}

static void test_callback_publishing_to_same_stream_delivers_nested_after_current(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "echo", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log);
    a->fx = fx;
    a->stream_id = "echo";
    a->budget = 3; /* publishes on its first three messages only */
    a->action = act_publish_while_budget;
    a->watch = b;
    sf_subscriber_id ia = attach(fx, "echo", a, 0);
    sf_subscriber_id ib = attach(fx, s.sid, b, 0);

    sf_message_record out;
    sf_error err;
    assert_status(publish_c(fx->fake, fx->service_sid, "echo", "{ \"outer\" : 1 }", 0, &out, &err),
                  SF_OK);
    /* the outer publish's borrowed data survives the nested publishes */
    assert_string_equal(out.data, "{\"outer\":1}");
    check_nested_delivered_after_current(&log, a, ia, ib, out.sid);
    check_nested_times_and_no_inline_delivery(a, b, s.sid);
    assert_int_equal(log.max_depth, 1);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    sf_stream_stats ss = stream_stats(fx, "echo");
    assert_int_equal(ss.messages_published, 4);
    assert_int_equal(sub_stats(fx, ia).delivered, 4);
    assert_int_equal(sub_stats(fx, ib).delivered, 4);
    /* budget spent: the next publish is delivered once to each and nothing more */
    char next[SF_SID_SIZE];
    publish_ok(fx, "echo", "{\"outer\":2}", 0, next);
    assert_int_equal(log.n, 10);
    assert_string_equal(log.items[8].message_sid, next);
    assert_string_equal(log.items[9].message_sid, next);
    rec_free(a);
    rec_free(b);
}

static void act_publish_other_stream_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_message_record m;
    sf_error err;
    sf_status st =
        publish_c(fake, r->fx->service_sid, r->other_stream_id, "{\"relay\":true}", 0, &m, &err);
    r->statuses[r->nstatus++] = st;
    if (st == SF_OK)
        memcpy(r->nested_sids[r->nested++], m.sid, SF_SID_SIZE);
}

static void test_callback_publishing_to_another_stream_delivers_before_outer_returns(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s1, s2;
    sf_fixture_stream(fx, "in", -1, &s1);
    sf_fixture_stream(fx, "out", -1, &s2);
    trace log = {0};
    recorder *relay = rec_new(&log), *sink = rec_new(&log), *peer = rec_new(&log);
    relay->fx = fx;
    relay->other_stream_id = "out";
    relay->budget = 1;
    relay->action = act_publish_other_stream_once;
    attach(fx, "in", relay, 0);
    sf_subscriber_id ipeer = attach(fx, "in", peer, 0);
    sf_subscriber_id isink = attach(fx, "out", sink, 0);
    char outer[SF_SID_SIZE];
    publish_ok(fx, "in", "{}", 0, outer);
    assert_int_equal(relay->nstatus, 1);
    assert_status(relay->statuses[0], SF_OK);
    assert_int_equal(log.n, 3);
    assert_string_equal(log.items[1].message_sid, outer);
    assert_int_equal(log.items[1].subscriber, ipeer); /* the current message first */
    assert_int_equal(log.items[2].subscriber, isink);
    assert_string_equal(log.items[2].message_sid, relay->nested_sids[0]);
    assert_string_equal(sink->ev[0].stream_sid, s2.sid);
    assert_string_equal(sink->ev[0].data, "{\"relay\":true}");
    assert_int_equal(stream_stats(fx, "out").messages_published, 1);
    rec_free(relay);
    rec_free(sink);
    rec_free(peer);
}

static void act_subscribe_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_subscribe_params p = {.on_event = rec_on_event, .user = r->spawn};
    sf_subscriber_id id = 0;
    sf_error err;
    sf_status st = sf_subscribe(fake, NULL, r->fx->service_sid, r->stream_id, &p, &id, &err);
    r->statuses[r->nstatus++] = st;
    r->target = id;
    r->spawn->id = id;
}

static void test_callback_subscribing_new_subscriber_gets_next_message_not_current(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "grow", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log), *c = rec_new(&log);
    a->fx = fx;
    a->stream_id = "grow";
    a->budget = 1;
    a->spawn = c;
    a->action = act_subscribe_once;
    sf_subscriber_id ia = attach(fx, "grow", a, 0);
    sf_subscriber_id ib = attach(fx, "grow", b, 0);
    char m1[SF_SID_SIZE], m2[SF_SID_SIZE];
    publish_ok(fx, "grow", "{\"n\":1}", 0, m1);
    assert_int_equal(a->nstatus, 1);
    assert_status(a->statuses[0], SF_OK);
    sf_subscriber_id ic = a->target;
    assert_int_equal(ic, 3);
    assert_int_equal(a->n, 1);
    assert_int_equal(b->n, 1); /* B still gets the current message */
    assert_int_equal(c->n, 0); /* C attached during it: not the current one */
    assert_true(sub_stats(fx, ic).attached);
    assert_int_equal(stream_stats(fx, "grow").subscribers, 3);
    publish_ok(fx, "grow", "{\"n\":2}", 0, m2);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->ev[0].message_sid, m2);
    assert_int_equal(c->ev[0].subscriber, ic);
    assert_int_equal(log.n, 5);
    assert_int_equal(log.items[2].subscriber, ia);
    assert_int_equal(log.items[3].subscriber, ib);
    assert_int_equal(log.items[4].subscriber, ic);
    rec_free(a);
    rec_free(b);
    rec_free(c);
}

static void act_unsubscribe_target_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_error err;
    r->statuses[r->nstatus++] = sf_unsubscribe(fake, r->target, &err);
}

static void test_callback_unsubscribing_later_subscriber_prevents_current_delivery(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "shrink", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log), *c = rec_new(&log);
    sf_subscriber_id ia = attach(fx, "shrink", a, 0);
    sf_subscriber_id ib = attach(fx, "shrink", b, 0);
    sf_subscriber_id ic = attach(fx, "shrink", c, 0);
    a->action = act_unsubscribe_target_once;
    a->budget = 1;
    a->target = ib;
    char m1[SF_SID_SIZE], m2[SF_SID_SIZE];
    publish_ok(fx, "shrink", "{\"n\":1}", 0, m1);
    assert_status(a->statuses[0], SF_OK);
    assert_int_equal(b->n, 0);
    assert_int_equal(a->n, 1);
    assert_int_equal(c->n, 1);
    assert_string_equal(c->ev[0].message_sid, m1);
    sf_subscriber_stats st = sub_stats(fx, ib);
    assert_false(st.attached);
    assert_int_equal(st.delivered, 0);
    publish_ok(fx, "shrink", "{\"n\":2}", 0, m2);
    assert_int_equal(b->n, 0);
    assert_int_equal(a->n, 2);
    assert_int_equal(c->n, 2);
    assert_int_equal(log.n, 4);
    assert_int_equal(log.items[0].subscriber, ia);
    assert_int_equal(log.items[1].subscriber, ic);
    assert_int_equal(stream_stats(fx, "shrink").subscribers, 2);
    rec_free(a);
    rec_free(b);
    rec_free(c);
}

static void test_callback_unsubscribing_itself_keeps_current_and_stops_later(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "self", -1, &s);
    recorder *a = rec_new(NULL), *b = rec_new(NULL);
    sf_subscriber_id ia = attach(fx, "self", a, 0);
    attach(fx, "self", b, 0);
    a->action = act_unsubscribe_target_once;
    a->budget = 1;
    a->target = ia;
    publish_ok(fx, "self", "{}", 0, NULL);
    publish_ok(fx, "self", "{}", 0, NULL);
    assert_status(a->statuses[0], SF_OK);
    assert_int_equal(a->n, 1);
    assert_int_equal(b->n, 2);
    assert_false(sub_stats(fx, ia).attached);
    rec_free(a);
    rec_free(b);
}

static void act_remove_stream_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_error err;
    r->statuses[r->nstatus++] =
        sf_stream_remove(fake, NULL, r->fx->service_sid, r->stream_id, &err);
    /* the stream is gone for calls made right after, from the callback */
    sf_message_record m;
    r->statuses[r->nstatus++] =
        publish_c(fake, r->fx->service_sid, r->stream_id, "{}", 0, &m, &err);
    r->errors[0] = err;
}

static void test_callback_removing_stream_sends_removed_instead_of_message(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "gone", 60, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log), *c = rec_new(&log);
    a->fx = fx;
    a->stream_id = "gone";
    a->budget = 1;
    a->action = act_remove_stream_once;
    sf_subscriber_id ia = attach(fx, "gone", a, 0);
    sf_subscriber_id ib = attach(fx, "gone", b, 0);
    sf_subscriber_id ic = attach(fx, "gone", c, 0);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 5, &err), SF_OK);
    char m1[SF_SID_SIZE];
    publish_ok(fx, "gone", "{\"n\":1}", 0, m1); /* the publish itself succeeded */
    assert_int_equal(a->nstatus, 2);
    assert_status(a->statuses[0], SF_OK);
    assert_status(a->statuses[1], SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&a->errors[0], 404, 20404);
    /* A: the message, then REMOVED; B and C: REMOVED only */
    assert_int_equal(a->n, 2);
    assert_int_equal(a->ev[0].kind, SF_EVENT_MESSAGE_PUBLISHED);
    assert_string_equal(a->ev[0].message_sid, m1);
    assert_removed(&a->ev[1], ia, fx->service_sid, s.sid, SF_REMOVED_DELETED, NOW0 + 5);
    assert_int_equal(b->n, 1);
    assert_removed(&b->ev[0], ib, fx->service_sid, s.sid, SF_REMOVED_DELETED, NOW0 + 5);
    assert_int_equal(c->n, 1);
    assert_removed(&c->ev[0], ic, fx->service_sid, s.sid, SF_REMOVED_DELETED, NOW0 + 5);
    assert_int_equal(log.n, 4);
    for (int k = 0; k < 3; k++)
        assert_false(sub_stats(fx, (sf_subscriber_id)(k + 1)).attached);
    assert_int_equal(sub_stats(fx, ib).delivered, 0);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "gone", &rec, &err),
                  SF_ERR_NOT_FOUND);
    /* its TTL never fires afterwards, and nothing is left queued */
    assert_status(sf_clock_advance(fx->fake, 120000, &err), SF_OK);
    assert_int_equal(log.n, 4);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    /* the name can be reused */
    sf_stream_record again;
    sf_fixture_stream(fx, "gone", -1, &again);
    publish_ok(fx, "gone", "{}", 0, NULL);
    assert_int_equal(log.n, 4);
    rec_free(a);
    rec_free(b);
    rec_free(c);
}

/* The header: "events those calls cause are queued and run ... before the outermost call
 * returns". A remove made from a callback must therefore not call back into the callbacks
 * while the first callback is still running. */
static void test_callback_removing_stream_does_not_nest_callbacks(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "nest", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log);
    a->fx = fx;
    a->stream_id = "nest";
    a->budget = 1;
    a->action = act_remove_stream_once;
    attach(fx, "nest", a, 0);
    attach(fx, "nest", b, 0);
    publish_ok(fx, "nest", "{}", 0, NULL);
    assert_status(a->statuses[0], SF_OK);
    assert_int_equal(count_kind(a, SF_EVENT_REMOVED), 1);
    assert_int_equal(count_kind(b, SF_EVENT_REMOVED), 1);
    assert_int_equal(log.max_depth, 1);
    rec_free(a);
    rec_free(b);
}

static void act_remove_service_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_error err;
    r->statuses[r->nstatus++] = sf_service_remove(fake, NULL, r->fx->service_sid, &err);
}

static void test_callback_removing_service_detaches_every_stream_subscriber(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s1, s2;
    sf_fixture_stream(fx, "svc-a", -1, &s1);
    sf_fixture_stream(fx, "svc-b", -1, &s2);
    recorder *a = rec_new(NULL), *b = rec_new(NULL), *c = rec_new(NULL);
    a->fx = fx;
    a->budget = 1;
    a->action = act_remove_service_once;
    attach(fx, "svc-a", a, 0);
    attach(fx, "svc-a", b, 0);
    attach(fx, "svc-b", c, 0);
    publish_ok(fx, "svc-a", "{}", 0, NULL);
    assert_status(a->statuses[0], SF_OK);
    assert_int_equal(a->n, 2);
    assert_int_equal(a->ev[1].kind, SF_EVENT_REMOVED);
    assert_int_equal(b->n, 1);
    assert_int_equal(b->ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(c->n, 1);
    assert_removed(&c->ev[0], 3, fx->service_sid, s2.sid, SF_REMOVED_DELETED, NOW0);
    sf_service_record rec;
    sf_error err;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &rec, &err), SF_ERR_NOT_FOUND);
    rec_free(a);
    rec_free(b);
    rec_free(c);
}

static void act_try_clock_and_reset(sf_fake *fake, const sf_event *ev, recorder *r)
{
    (void)ev;
    if (r->budget <= 0)
        return;
    r->budget--;
    sf_error err;
    r->statuses[r->nstatus] = sf_clock_advance(fake, 1000, &err);
    r->errors[r->nstatus++] = err;
    r->statuses[r->nstatus] = sf_clock_set(fake, sf_clock_now(fake) + 1000, &err);
    r->errors[r->nstatus++] = err;
    r->statuses[r->nstatus] = sf_fake_reset(fake, &err);
    r->errors[r->nstatus++] = err;
    r->counter = (int)sf_run_until_idle(fake) + 10 * (int)sf_run_due(fake);
}

static void test_callback_cannot_move_clock_or_reset_fake(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "frozen", 2, &s);
    recorder *a = rec_new(NULL), *b = rec_new(NULL);
    a->budget = 1;
    a->counter = -1;
    a->action = act_try_clock_and_reset;
    sf_subscriber_id ia = attach(fx, "frozen", a, 0);
    attach(fx, "frozen", b, 0);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 1999, &err), SF_OK);
    char m1[SF_SID_SIZE];
    publish_ok(fx, "frozen", "{}", 0, m1);
    assert_int_equal(a->nstatus, 3);
    for (int i = 0; i < 3; i++) {
        assert_status_not(a->statuses[i], SF_OK);
        assert_status(a->errors[i].status, a->statuses[i]);
        assert_int_equal(a->errors[i].http_status, 400);
    }
    assert_status(a->statuses[0], SF_ERR_INVALID_ARGUMENT);
    assert_status(a->statuses[1], SF_ERR_INVALID_ARGUMENT);
    assert_status(a->statuses[2], SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(a->counter, 0); /* neither ran anything */
    /* the clock did not move (the 2 s TTL would otherwise have fired) and nothing was reset */
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 1999);
    assert_int_equal(a->ev[0].clock_in_callback, NOW0 + 1999);
    assert_int_equal(b->n, 1);
    assert_string_equal(b->ev[0].message_sid, m1);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "frozen", &rec, &err), SF_OK);
    assert_true(sub_stats(fx, ia).attached);
    assert_int_equal(stream_stats(fx, "frozen").messages_published, 1);
    /* outside callbacks the clock moves again; the expiry's REMOVED callback is refused too */
    a->budget = 1;
    assert_status(sf_clock_advance(fx->fake, 1, &err), SF_OK);
    assert_int_equal(a->n, 2);
    assert_int_equal(a->ev[1].kind, SF_EVENT_REMOVED);
    assert_int_equal(a->ev[1].reason, SF_REMOVED_EXPIRED);
    assert_int_equal(a->nstatus, 6);
    for (int i = 3; i < 6; i++)
        assert_status(a->statuses[i], SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 2000);
    /* the fake still works: the service survived the refused reset */
    sf_service_record svc;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &svc, &err), SF_OK);
    rec_free(a);
    rec_free(b);
}

/* A callback that keeps publishing forever would never let the outer call return; a bounded
 * chain of nested publishes through several subscribers terminates with all messages seen. */
static void test_bounded_chain_of_nested_publishes_through_two_subscribers(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "ping", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log);
    a->fx = b->fx = fx;
    a->stream_id = b->stream_id = "ping";
    a->budget = b->budget = 3;
    a->action = b->action = act_publish_while_budget;
    attach(fx, "ping", a, 0);
    attach(fx, "ping", b, 0);
    publish_ok(fx, "ping", "{}", 0, NULL);
    /* 1 outer + 3 from A + 3 from B messages, each to both subscribers */
    assert_int_equal(a->nested, 3);
    assert_int_equal(b->nested, 3);
    assert_int_equal(a->n, 7);
    assert_int_equal(b->n, 7);
    assert_false(log.overflow);
    assert_int_equal(log.max_depth, 1);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(a->ev[i].message_sid, b->ev[i].message_sid);
    /* the queue runs in publish order: A's first nested message, then B's first */
    assert_string_equal(a->ev[1].message_sid, a->nested_sids[0]);
    assert_string_equal(a->ev[2].message_sid, b->nested_sids[0]);
    assert_int_equal(stream_stats(fx, "ping").messages_published, 7);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    rec_free(a);
    rec_free(b);
}

static void act_subscribe_then_publish_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_subscribe_params p = {.on_event = rec_on_event, .user = r->spawn};
    sf_error err;
    r->statuses[r->nstatus++] =
        sf_subscribe(fake, NULL, r->fx->service_sid, r->stream_id, &p, &r->target, &err);
    sf_message_record m;
    sf_status st =
        publish_c(fake, r->fx->service_sid, r->stream_id, "{\"n\":\"nested\"}", 0, &m, &err);
    r->statuses[r->nstatus++] = st;
    if (st == SF_OK)
        memcpy(r->nested_sids[r->nested++], m.sid, SF_SID_SIZE);
}

static void test_subscriber_added_in_callback_gets_messages_published_after_it(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "join", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log), *c = rec_new(&log);
    a->fx = fx;
    a->stream_id = "join";
    a->budget = 1;
    a->spawn = c;
    a->action = act_subscribe_then_publish_once;
    sf_subscriber_id ia = attach(fx, "join", a, 0);
    sf_subscriber_id ib = attach(fx, "join", b, 0);
    char outer[SF_SID_SIZE];
    publish_ok(fx, "join", "{\"n\":\"outer\"}", 0, outer);
    assert_status(a->statuses[0], SF_OK);
    assert_status(a->statuses[1], SF_OK);
    sf_subscriber_id ic = a->target;
    /* outer to A and B; then the nested message to A, B and the new C, in that order */
    assert_int_equal(log.n, 5);
    sf_subscriber_id want_sub[5] = {ia, ib, ia, ib, ic};
    const char *want_msg[5] = {outer, outer, a->nested_sids[0], a->nested_sids[0],
                               a->nested_sids[0]};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(log.items[i].subscriber, want_sub[i]);
        assert_string_equal(log.items[i].message_sid, want_msg[i]);
    }
    assert_int_equal(c->n, 1);
    assert_string_equal(c->ev[0].data, "{\"n\":\"nested\"}");
    rec_free(a);
    rec_free(b);
    rec_free(c);
}

static void act_publish_then_remove_once(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || r->budget <= 0)
        return;
    r->budget--;
    sf_message_record m;
    sf_error err;
    r->statuses[r->nstatus++] =
        publish_c(fake, r->fx->service_sid, r->stream_id, "{\"late\":1}", 0, &m, &err);
    r->statuses[r->nstatus++] =
        sf_stream_remove(fake, NULL, r->fx->service_sid, r->stream_id, &err);
}

static void test_no_event_reaches_a_subscriber_after_its_removed_event(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "last-word", -1, &s);
    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log);
    a->fx = fx;
    a->stream_id = "last-word";
    a->budget = 1;
    a->action = act_publish_then_remove_once;
    sf_subscriber_id ia = attach(fx, "last-word", a, 0);
    sf_subscriber_id ib = attach(fx, "last-word", b, 0);
    publish_ok(fx, "last-word", "{}", 0, NULL);
    assert_status(a->statuses[0], SF_OK);
    assert_status(a->statuses[1], SF_OK);
    /* each got exactly one REMOVED and it is the last thing it saw */
    assert_int_equal(count_kind(a, SF_EVENT_REMOVED), 1);
    assert_int_equal(count_kind(b, SF_EVENT_REMOVED), 1);
    assert_int_equal(a->ev[a->n - 1].kind, SF_EVENT_REMOVED);
    assert_int_equal(b->ev[b->n - 1].kind, SF_EVENT_REMOVED);
    assert_int_equal(count_kind(b, SF_EVENT_MESSAGE_PUBLISHED), 0); /* not the outer one */
    /* the nested message, still in flight at the detach, is counted lost, not delivered */
    assert_int_equal(sub_stats(fx, ia).lost, 1);
    assert_int_equal(sub_stats(fx, ib).lost, 1);
    assert_int_equal(sub_stats(fx, ia).delivered, 1);
    assert_int_equal(sub_stats(fx, ib).delivered, 0);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 10000, &err), SF_OK);
    assert_int_equal(a->n, 2);
    assert_int_equal(b->n, 1);
    rec_free(a);
    rec_free(b);
}

static void act_on_removed_create_short_stream(sf_fake *fake, const sf_event *ev, recorder *r)
{
    if (ev->kind != SF_EVENT_REMOVED || r->budget <= 0)
        return;
    r->budget--;
    sf_stream_params p = {.unique_name = "born-in-callback", .has_ttl = true, .ttl = 1};
    sf_stream_record rec;
    sf_error err;
    r->statuses[r->nstatus++] = sf_stream_create(fake, NULL, r->fx->service_sid, &p, &rec, &err);
    sf_subscribe_params sp = {.on_event = rec_on_event, .user = r->spawn};
    r->statuses[r->nstatus++] =
        sf_subscribe(fake, NULL, r->fx->service_sid, "born-in-callback", &sp, &r->target, &err);
    sf_message_record m;
    r->statuses[r->nstatus++] =
        publish_c(fake, r->fx->service_sid, r->other_stream_id, "{\"obituary\":1}", 0, &m, &err);
}

static void test_expiry_callbacks_run_at_their_due_times_in_order(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record x, y, news;
    sf_fixture_stream(fx, "x", 10, &x);
    sf_fixture_stream(fx, "y", 12, &y);
    sf_fixture_stream(fx, "news", -1, &news);
    trace log = {0};
    recorder *rx = rec_new(&log), *ry = rec_new(&log), *rz = rec_new(&log), *rn = rec_new(&log);
    rx->fx = fx;
    rx->budget = 1;
    rx->spawn = rz;
    rx->other_stream_id = "news";
    rx->action = act_on_removed_create_short_stream;
    attach(fx, "x", rx, 0);
    attach(fx, "y", ry, 0);
    attach(fx, "news", rn, 0);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 60000, &err), SF_OK);
    assert_int_equal(rx->nstatus, 3);
    for (int i = 0; i < 3; i++)
        assert_status(rx->statuses[i], SF_OK);
    /* x expires at +10 s; its callback publishes to "news" (delivered at +10 s) and creates a
     * stream with a 1 s TTL, which expires at +11 s, before y at +12 s */
    assert_int_equal(log.n, 4);
    assert_int_equal(log.items[0].subscriber, rx->id);
    assert_int_equal(log.items[1].subscriber, rn->id);
    assert_int_equal(log.items[2].subscriber, rx->target);
    assert_int_equal(log.items[3].subscriber, ry->id);
    assert_int_equal(rx->ev[0].delivered_ms, NOW0 + 10000);
    assert_int_equal(rn->n, 1);
    assert_int_equal(rn->ev[0].kind, SF_EVENT_MESSAGE_PUBLISHED);
    assert_int_equal(rn->ev[0].published_ms, NOW0 + 10000);
    assert_int_equal(rn->ev[0].delivered_ms, NOW0 + 10000);
    assert_int_equal(rz->n, 1);
    assert_int_equal(rz->ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(rz->ev[0].reason, SF_REMOVED_EXPIRED);
    assert_int_equal(rz->ev[0].delivered_ms, NOW0 + 11000);
    assert_int_equal(ry->ev[0].delivered_ms, NOW0 + 12000);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 60000);
    rec_free(rx);
    rec_free(ry);
    rec_free(rz);
    rec_free(rn);
}

/* skip_local: a subscriber never gets what its own client published (Twilio's client SDKs
 * raise their own event for those), on the direct path and on the queued one alike; others
 * still get it, and nothing is journaled for the skipped delivery. */
static void test_skip_local_subscriber_does_not_get_its_own_publishes(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record st;
    sf_fixture_stream(fx, "echo", -1, &st);
    recorder *own = rec_new(NULL), *other = rec_new(NULL);
    sf_subscribe_params sp = {
        .on_event = rec_on_event, .user = own, .client_id = 9, .skip_local = true};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "echo", &sp, &own->id, NULL),
                  SF_OK);
    sp.user = other;
    sp.client_id = 0;
    sp.skip_local = false;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "echo", &sp, &other->id, NULL),
                  SF_OK);
    sf_publish_params mine = {.data = "{\"a\":1}", .data_len = 7, .client_id = 9};
    sf_publish_params theirs = {.data = "{\"b\":2}", .data_len = 7, .client_id = 0};
    for (int path = 0; path < 2; path++) {
        if (path == 1) { /* a rule sends every delivery through the queue */
            sf_fault_params delay = {.scope = SF_SCOPE_FAKE, .delay_ms = 5};
            assert_status(sf_fault_add(fx->fake, &delay, NULL, NULL), SF_OK);
        }
        assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "echo", &mine, NULL, NULL),
                      SF_OK);
        assert_status(
            sf_stream_publish(fx->fake, NULL, fx->service_sid, "echo", &theirs, NULL, NULL), SF_OK);
        sf_run_until_idle(fx->fake);
    }
    assert_int_equal(own->n, 2);   /* only the other client's two messages */
    assert_int_equal(other->n, 4); /* all four */
    sf_subscriber_stats stats;
    assert_status(sf_subscriber_stats_get(fx->fake, own->id, &stats, NULL), SF_OK);
    assert_int_equal(stats.delivered, 2);
    sf_journal_filter f = {.subscriber = own->id, .kinds = 1u << SF_JOURNAL_DELIVERED};
    uint64_t cursor = 0;
    sf_journal_entry e;
    int entries = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &e))
        entries++;
    assert_int_equal(entries, 2);
    rec_free(own);
    rec_free(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, subscriber_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_skip_local_subscriber_does_not_get_its_own_publishes,
                                        sf_fixture_setup, sf_fixture_teardown),
        T(test_callback_publishing_to_same_stream_delivers_nested_after_current),
        T(test_callback_publishing_to_another_stream_delivers_before_outer_returns),
        T(test_callback_subscribing_new_subscriber_gets_next_message_not_current),
        T(test_callback_unsubscribing_later_subscriber_prevents_current_delivery),
        T(test_callback_unsubscribing_itself_keeps_current_and_stops_later),
        T(test_callback_removing_stream_sends_removed_instead_of_message),
        T(test_callback_removing_stream_does_not_nest_callbacks),
        T(test_callback_removing_service_detaches_every_stream_subscriber),
        T(test_callback_cannot_move_clock_or_reset_fake),
        T(test_bounded_chain_of_nested_publishes_through_two_subscribers),
        T(test_subscriber_added_in_callback_gets_messages_published_after_it),
        T(test_no_event_reaches_a_subscriber_after_its_removed_event),
        T(test_expiry_callbacks_run_at_their_due_times_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
