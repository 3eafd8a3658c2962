/* SPDX-License-Identifier: MIT */
/* test_subscriber_fanout.c: subscribers: fan-out of every publish to every subscriber without
 * faults, and the `removed` events of removal and expiry. */
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
/* Fan-out without faults                                                                   */
/* ---------------------------------------------------------------------------------------- */

enum { FAN_N = 5, FAN_M = 200 };

/* The fan-out test's stream, its subscribers' recorders and ids, and each message's SID and
 * publish time. */
typedef struct {
    const char *stream_sid;
    recorder *r[FAN_N];
    sf_subscriber_id ids[FAN_N];
    char (*sids)[SF_SID_SIZE];
    sf_ms times[FAN_M];
} fan_scene;

/* Publishes message i (to the stream's name or SID by turns) and checks every subscriber got
 * it, compacted, before the publish returned. */
static void publish_and_check_delivered_at_once(sf_fixture *fx, fan_scene *fs, int i)
{
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, i % 3, &err), SF_OK);
    char data[96], compact[96];
    snprintf(data, sizeof data, "{ \"i\" : %d ,\n \"tag\" : \"m %d\" }", i, i);
    snprintf(compact, sizeof compact, "{\"i\":%d,\"tag\":\"m %d\"}", i, i);
    sf_message_record m;
    assert_status(
        publish_c(fx->fake, fx->service_sid, i % 2 ? "fan" : fs->stream_sid, data, 0, &m, &err),
        SF_OK);
    assert_string_equal(m.data, compact);
    memcpy(fs->sids[i], m.sid, SF_SID_SIZE);
    fs->times[i] = sf_clock_now(fx->fake);
    /* delivered before the publish returned: each subscriber has exactly i+1 events */
    for (int k = 0; k < FAN_N; k++) {
        assert_int_equal(fs->r[k]->n, (size_t)(i + 1));
        const rec_event *e = &fs->r[k]->ev[i];
        assert_string_equal(e->message_sid, m.sid);
        assert_string_equal(e->data, compact);
        assert_int_equal(e->data_len, strlen(compact));
        assert_true(e->data_ok);
    }
}

/* Subscriber k got every message once, in publish order, at its publish time. */
static void check_subscriber_events(sf_fixture *fx, const fan_scene *fs, int k)
{
    const recorder *r = fs->r[k];
    assert_false(r->overflow);
    assert_int_equal(r->n, FAN_M);
    for (int i = 0; i < FAN_M; i++) {
        const rec_event *e = &r->ev[i];
        assert_int_equal(e->kind, SF_EVENT_MESSAGE_PUBLISHED);
        assert_int_equal(e->subscriber, fs->ids[k]);
        assert_string_equal(e->service_sid, fx->service_sid);
        assert_string_equal(e->stream_sid, fs->stream_sid);
        assert_string_equal(e->message_sid, fs->sids[i]); /* publish order */
        assert_false(e->is_local);
        assert_false(e->is_duplicate);
        assert_int_equal(e->published_ms, fs->times[i]);
        assert_int_equal(e->delivered_ms, fs->times[i]);
        assert_int_equal(e->clock_in_callback, fs->times[i]);
    }
    /* exactly once: every message SID is distinct, so no message came twice */
    for (int i = 0; i < FAN_M; i++)
        for (int k2 = i + 1; k2 < FAN_M; k2++)
            if (strcmp(fs->sids[i], fs->sids[k2]) == 0)
                fail_msg("message SID %s published twice", fs->sids[i]);
}

/* Subscriber id's stats: attached and connected to the stream, every message delivered, no
 * other fate, nothing in flight. */
static void check_fanout_subscriber_stats(sf_fixture *fx, const char *stream_sid,
                                          sf_subscriber_id id)
{
    sf_subscriber_stats st = sub_stats(fx, id);
    assert_true(st.attached);
    assert_true(st.connected);
    assert_false(st.held);
    assert_string_equal(st.stream_sid, stream_sid);
    assert_int_equal(st.delivered, FAN_M);
    assert_int_equal(st.duplicated, 0);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.parked, 0);
}

static void
test_every_subscriber_gets_every_message_once_in_order_before_publish_returns(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "fan", -1, &s);
    static char sids[FAN_M][SF_SID_SIZE];
    fan_scene fs = {.stream_sid = s.sid, .sids = sids};
    for (int k = 0; k < FAN_N; k++) {
        fs.r[k] = rec_new(NULL);
        fs.ids[k] = attach(fx, k % 2 ? s.sid : "fan", fs.r[k], 0);
        assert_int_equal(fs.ids[k], (sf_subscriber_id)(k + 1)); /* numbered from 1 in order */
    }
    for (int i = 0; i < FAN_M; i++)
        publish_and_check_delivered_at_once(fx, &fs, i);
    for (int k = 0; k < FAN_N; k++) {
        check_subscriber_events(fx, &fs, k);
        check_fanout_subscriber_stats(fx, s.sid, fs.ids[k]);
    }
    sf_stream_stats ss = stream_stats(fx, "fan");
    assert_int_equal(ss.messages_published, FAN_M);
    assert_int_equal(ss.subscribers, FAN_N);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    for (int k = 0; k < FAN_N; k++)
        rec_free(fs.r[k]);
}

static void test_later_subscriber_misses_earlier_messages(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "late", -1, &s);
    recorder *early = rec_new(NULL), *late = rec_new(NULL);
    attach(fx, "late", early, 0);
    char sids[5][SF_SID_SIZE];
    for (int i = 0; i < 3; i++)
        publish_ok(fx, "late", "{\"before\":true}", 0, sids[i]);
    sf_subscriber_id late_id = attach(fx, "late", late, 0);
    assert_int_equal(late->n, 0); /* nothing replayed on attach */
    for (int i = 3; i < 5; i++)
        publish_ok(fx, "late", "{\"after\":true}", 0, sids[i]);
    assert_int_equal(early->n, 5);
    assert_int_equal(late->n, 2);
    assert_string_equal(late->ev[0].message_sid, sids[3]);
    assert_string_equal(late->ev[1].message_sid, sids[4]);
    for (int i = 0; i < 5; i++)
        assert_string_equal(early->ev[i].message_sid, sids[i]);
    assert_int_equal(sub_stats(fx, late_id).delivered, 2);
    rec_free(early);
    rec_free(late);
}

static void test_is_local_only_for_the_publishing_client(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "local", -1, &s);
    recorder *c7 = rec_new(NULL), *c8 = rec_new(NULL), *c0 = rec_new(NULL), *c7b = rec_new(NULL);
    attach(fx, "local", c7, 7);
    attach(fx, "local", c8, 8);
    attach(fx, "local", c0, 0);
    attach(fx, "local", c7b, 7); /* a second subscription of client 7 */
    publish_ok(fx, "local", "{\"from\":7}", 7, NULL);
    publish_ok(fx, "local", "{\"from\":0}", 0, NULL);
    publish_ok(fx, "local", "{\"from\":9}", 9, NULL);
    publish_ok(fx, "local", "{\"from\":8}", 8, NULL);
    recorder *all[] = {c7, c8, c0, c7b};
    for (int k = 0; k < 4; k++)
        assert_int_equal(all[k]->n, 4);
    /* from 7 */
    assert_true(c7->ev[0].is_local);
    assert_false(c8->ev[0].is_local);
    assert_false(c0->ev[0].is_local);
    assert_true(c7b->ev[0].is_local);
    /* from 0: never local, not even to the subscriber whose client_id is 0 */
    for (int k = 0; k < 4; k++)
        assert_false(all[k]->ev[1].is_local);
    /* from 9: nobody's */
    for (int k = 0; k < 4; k++)
        assert_false(all[k]->ev[2].is_local);
    /* from 8 */
    assert_false(c7->ev[3].is_local);
    assert_true(c8->ev[3].is_local);
    assert_false(c0->ev[3].is_local);
    assert_false(c7b->ev[3].is_local);
    for (int k = 0; k < 4; k++)
        rec_free(all[k]);
}

static void test_subscribe_by_sid_and_by_unique_name_reach_the_same_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s, other;
    sf_fixture_stream(fx, "named", -1, &s);
    sf_fixture_stream(fx, NULL, -1, &other);
    recorder *by_sid = rec_new(NULL), *by_name = rec_new(NULL), *unnamed = rec_new(NULL);
    sf_subscriber_id a = attach(fx, s.sid, by_sid, 0);
    sf_subscriber_id b = attach(fx, "named", by_name, 0);
    sf_subscriber_id c = attach(fx, other.sid, unnamed, 0);
    assert_string_equal(sub_stats(fx, a).stream_sid, s.sid);
    assert_string_equal(sub_stats(fx, b).stream_sid, s.sid);
    assert_string_equal(sub_stats(fx, c).stream_sid, other.sid);
    char m1[SF_SID_SIZE], m2[SF_SID_SIZE], m3[SF_SID_SIZE];
    publish_ok(fx, "named", "{\"via\":\"name\"}", 0, m1);
    publish_ok(fx, s.sid, "{\"via\":\"sid\"}", 0, m2);
    publish_ok(fx, other.sid, "{\"via\":\"other\"}", 0, m3);
    assert_int_equal(by_sid->n, 2);
    assert_int_equal(by_name->n, 2);
    assert_string_equal(by_sid->ev[0].message_sid, m1);
    assert_string_equal(by_name->ev[0].message_sid, m1);
    assert_string_equal(by_sid->ev[1].message_sid, m2);
    assert_string_equal(by_name->ev[1].message_sid, m2);
    assert_string_equal(by_name->ev[0].stream_sid, s.sid); /* the SID, never the name */
    assert_int_equal(unnamed->n, 1);
    assert_string_equal(unnamed->ev[0].message_sid, m3);
    assert_string_equal(unnamed->ev[0].stream_sid, other.sid);
    assert_int_equal(stream_stats(fx, "named").subscribers, 2);
    rec_free(by_sid);
    rec_free(by_name);
    rec_free(unnamed);
}

static void test_subscribe_to_unknown_stream_is_404_and_spends_no_id(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "exists", -1, &s);
    recorder *r = rec_new(NULL);
    sf_subscribe_params p = {.on_event = rec_on_event, .user = r};
    sf_subscriber_id id = 777;
    sf_error err;
    const char *unknown[] = {"nope", "TO00000000000000000000000000000000"};
    for (int i = 0; i < 2; i++) {
        memset(&err, 0, sizeof err);
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, unknown[i], &p, &id, &err),
                      SF_ERR_NOT_FOUND);
        assert_status(err.status, SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
    }
    /* an unknown service, and a stream of another service */
    sf_service_record svc2;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, &err), SF_OK);
    assert_status(
        sf_subscribe(fx->fake, NULL, "IS00000000000000000000000000000000", "exists", &p, &id, &err),
        SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_status(sf_subscribe(fx->fake, NULL, svc2.sid, s.sid, &p, &id, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_int_equal(id, 777); /* out untouched on failure */
    assert_int_equal(stream_stats(fx, "exists").subscribers, 0);
    /* no id spent: the first successful subscription is number 1 */
    assert_int_equal(attach(fx, "exists", r, 0), 1);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, 2, &st, &err), SF_ERR_INVALID_ARGUMENT);
    rec_free(r);
}

static void test_subscribe_without_callback_is_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "nocb", -1, &s);
    sf_subscribe_params p = {.on_event = NULL, .client_id = 3};
    sf_subscriber_id id = 555;
    sf_error err;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "nocb", &p, &id, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "nocb", NULL, &id, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(id, 555);
    assert_int_equal(stream_stats(fx, "nocb").subscribers, 0);
    /* publishing still works and reaches nobody */
    publish_ok(fx, "nocb", "{}", 0, NULL);
    assert_int_equal(stream_stats(fx, "nocb").messages_published, 1);
}

static void test_unsubscribe_stops_deliveries_and_is_idempotent(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "unsub", -1, &s);
    recorder *a = rec_new(NULL), *b = rec_new(NULL);
    sf_subscriber_id ia = attach(fx, "unsub", a, 0);
    sf_subscriber_id ib = attach(fx, "unsub", b, 0);
    char m[3][SF_SID_SIZE];
    publish_ok(fx, "unsub", "{\"n\":1}", 0, m[0]);
    sf_error err;
    assert_status(sf_unsubscribe(fx->fake, ia, &err), SF_OK);
    assert_int_equal(a->n, 1); /* detaching sends no event */
    assert_int_equal(stream_stats(fx, "unsub").subscribers, 1);
    sf_subscriber_stats st = sub_stats(fx, ia);
    assert_false(st.attached);
    assert_int_equal(st.delivered, 1);
    assert_string_equal(st.stream_sid, s.sid); /* still inspectable */
    publish_ok(fx, "unsub", "{\"n\":2}", 0, m[1]);
    publish_ok(fx, "unsub", "{\"n\":3}", 0, m[2]);
    assert_int_equal(a->n, 1);
    assert_string_equal(a->ev[0].message_sid, m[0]);
    assert_int_equal(b->n, 3);
    for (int i = 0; i < 3; i++)
        assert_string_equal(b->ev[i].message_sid, m[i]);
    /* twice is fine */
    assert_status(sf_unsubscribe(fx->fake, ia, &err), SF_OK);
    assert_int_equal(stream_stats(fx, "unsub").subscribers, 1);
    assert_int_equal(sub_stats(fx, ia).delivered, 1);
    /* unknown ids */
    memset(&err, 0, sizeof err);
    assert_status(sf_unsubscribe(fx->fake, 0, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_unsubscribe(fx->fake, 3, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_unsubscribe(fx->fake, 12345, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_true(sub_stats(fx, ib).attached);
    assert_int_equal(sub_stats(fx, ib).delivered, 3);
    rec_free(a);
    rec_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Removal and expiry                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_remove_sends_one_removed_deleted_to_each_and_detaches(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "doomed", -1, &s);
    recorder *r[3];
    sf_subscriber_id ids[3];
    for (int k = 0; k < 3; k++) {
        r[k] = rec_new(NULL);
        ids[k] = attach(fx, k == 1 ? s.sid : "doomed", r[k], (uint64_t)k);
    }
    publish_ok(fx, "doomed", "{\"x\":1}", 0, NULL);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 1500, &err), SF_OK);
    sf_ms at = sf_clock_now(fx->fake);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, "doomed", &err), SF_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(r[k]->n, 2);
        assert_int_equal(count_kind(r[k], SF_EVENT_REMOVED), 1);
        assert_removed(&r[k]->ev[1], ids[k], fx->service_sid, s.sid, SF_REMOVED_DELETED, at);
        assert_false(r[k]->ev[1].has_message_sid);
        sf_subscriber_stats st = sub_stats(fx, ids[k]);
        assert_false(st.attached);
        assert_string_equal(st.stream_sid, s.sid);
        assert_int_equal(st.delivered, 1);
    }
    /* a new stream with the same name is a different stream: the old subscribers are gone */
    sf_stream_record again;
    sf_fixture_stream(fx, "doomed", -1, &again);
    assert_string_not_equal(again.sid, s.sid);
    assert_int_equal(stream_stats(fx, "doomed").subscribers, 0);
    publish_ok(fx, "doomed", "{\"x\":2}", 0, NULL);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, "doomed", &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 100000, &err), SF_OK);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(r[k]->n, 2); /* nothing more, no second REMOVED */
        assert_status(sf_unsubscribe(fx->fake, ids[k], &err), SF_OK);
    }
    /* the old SID is gone for subscribing and publishing */
    sf_subscribe_params p = {.on_event = rec_on_event, .user = r[0]};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, s.sid, &p, &id, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    for (int k = 0; k < 3; k++)
        rec_free(r[k]);
}

static void test_ttl_expiry_sends_removed_expired_at_the_deadline(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s10, s20, forever;
    sf_fixture_stream(fx, "ttl10", 10, &s10);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 250, &err), SF_OK);
    sf_fixture_stream(fx, "ttl20", 20, &s20);
    sf_fixture_stream(fx, "forever", -1, &forever);
    assert_true(s10.has_date_expires);
    assert_int_equal(s10.date_expires_ms, NOW0 + 10000);
    assert_int_equal(s20.date_expires_ms, NOW0 + 250 + 20000);
    recorder *a = rec_new(NULL), *b = rec_new(NULL), *c = rec_new(NULL);
    trace log = {0};
    a->log = b->log = c->log = &log;
    sf_subscriber_id ia = attach(fx, "ttl10", a, 0);
    sf_subscriber_id ib = attach(fx, "ttl20", b, 0);
    sf_subscriber_id ic = attach(fx, "forever", c, 0);

    /* one millisecond before the deadline nothing happens */
    assert_status(sf_clock_set(fx->fake, NOW0 + 9999, &err), SF_OK);
    assert_int_equal(a->n, 0);
    assert_true(sub_stats(fx, ia).attached);
    publish_ok(fx, "ttl10", "{\"last\":true}", 0, NULL);
    assert_int_equal(a->n, 1);

    /* one step over both deadlines: each expires at its own deadline, in deadline order */
    assert_status(sf_clock_advance(fx->fake, 60000, &err), SF_OK);
    assert_int_equal(sf_clock_now(fx->fake), NOW0 + 9999 + 60000);
    assert_int_equal(a->n, 2);
    assert_removed(&a->ev[1], ia, fx->service_sid, s10.sid, SF_REMOVED_EXPIRED, NOW0 + 10000);
    assert_int_equal(a->ev[1].clock_in_callback, NOW0 + 10000);
    assert_int_equal(b->n, 1);
    assert_removed(&b->ev[0], ib, fx->service_sid, s20.sid, SF_REMOVED_EXPIRED, NOW0 + 250 + 20000);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.items[1].subscriber, ia);
    assert_int_equal(log.items[2].subscriber, ib);
    assert_int_equal(c->n, 0);
    assert_false(sub_stats(fx, ia).attached);
    assert_false(sub_stats(fx, ib).attached);
    assert_true(sub_stats(fx, ic).attached);
    sf_message_record m;
    assert_status(publish_c(fx->fake, fx->service_sid, "ttl10", "{}", 0, &m, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_status(sf_clock_advance(fx->fake, 60000, &err), SF_OK);
    assert_int_equal(a->n, 2); /* exactly one REMOVED */
    assert_int_equal(b->n, 1);
    rec_free(a);
    rec_free(b);
    rec_free(c);
}

static void test_expiry_exactly_at_deadline_on_clock_advance(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "edge", 3, &s);
    recorder *r = rec_new(NULL);
    sf_subscriber_id id = attach(fx, "edge", r, 0);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 2999, &err), SF_OK);
    assert_int_equal(r->n, 0);
    assert_status(sf_clock_advance(fx->fake, 1, &err), SF_OK); /* now == deadline */
    assert_int_equal(r->n, 1);
    assert_removed(&r->ev[0], id, fx->service_sid, s.sid, SF_REMOVED_EXPIRED, NOW0 + 3000);
    rec_free(r);
}

static void test_service_remove_sends_removed_to_subscribers_of_all_its_streams(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s1, s2, keep;
    sf_fixture_stream(fx, "one", -1, &s1);
    sf_fixture_stream(fx, "two", 30, &s2);
    sf_service_record other;
    sf_error err;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &other, &err), SF_OK);
    sf_stream_params kp = {.unique_name = "one"}; /* same name, other service */
    assert_status(sf_stream_create(fx->fake, NULL, other.sid, &kp, &keep, &err), SF_OK);

    trace log = {0};
    recorder *a = rec_new(&log), *b = rec_new(&log), *c = rec_new(&log), *k = rec_new(&log);
    sf_subscriber_id ia = attach(fx, "one", a, 0);
    sf_subscriber_id ib = attach(fx, "two", b, 0);
    sf_subscriber_id ic = attach(fx, "one", c, 0);
    sf_subscribe_params kp2 = {.on_event = rec_on_event, .user = k};
    sf_subscriber_id ik;
    assert_status(sf_subscribe(fx->fake, NULL, other.sid, "one", &kp2, &ik, &err), SF_OK);

    assert_status(sf_clock_advance(fx->fake, 42, &err), SF_OK);
    assert_status(sf_service_remove(fx->fake, NULL, fx->service_sid, &err), SF_OK);
    assert_int_equal(a->n, 1);
    assert_int_equal(b->n, 1);
    assert_int_equal(c->n, 1);
    assert_removed(&a->ev[0], ia, fx->service_sid, s1.sid, SF_REMOVED_DELETED, NOW0 + 42);
    assert_removed(&b->ev[0], ib, fx->service_sid, s2.sid, SF_REMOVED_DELETED, NOW0 + 42);
    assert_removed(&c->ev[0], ic, fx->service_sid, s1.sid, SF_REMOVED_DELETED, NOW0 + 42);
    assert_false(sub_stats(fx, ia).attached);
    assert_false(sub_stats(fx, ib).attached);
    assert_false(sub_stats(fx, ic).attached);
    assert_int_equal(log.n, 3);
    /* the other service is untouched */
    assert_int_equal(k->n, 0);
    assert_true(sub_stats(fx, ik).attached);
    sf_message_record m;
    assert_status(publish_c(fx->fake, other.sid, "one", "{}", 0, &m, &err), SF_OK);
    assert_int_equal(k->n, 1);
    assert_int_equal(a->n, 1);
    /* the TTL of a removed stream never fires later */
    assert_status(sf_clock_advance(fx->fake, 120000, &err), SF_OK);
    assert_int_equal(b->n, 1);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    rec_free(a);
    rec_free(b);
    rec_free(c);
    rec_free(k);
}

static void test_stats_count_subscribers_and_messages(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "stats", -1, &s);
    sf_stream_stats ss = stream_stats(fx, s.sid);
    assert_int_equal(ss.messages_published, 0);
    assert_int_equal(ss.subscribers, 0);
    assert_true(ss.rate.limited);
    assert_int_equal(ss.rate.capacity, 300);
    assert_int_equal(ss.rate.tokens, 300);
    publish_ok(fx, "stats", "{}", 0, NULL); /* no subscriber yet: still counted */
    recorder *a = rec_new(NULL), *b = rec_new(NULL);
    sf_subscriber_id ia = attach(fx, "stats", a, 0);
    publish_ok(fx, "stats", "{}", 0, NULL);
    sf_subscriber_id ib = attach(fx, "stats", b, 0);
    publish_ok(fx, "stats", "{}", 0, NULL);
    publish_ok(fx, "stats", "{}", 0, NULL);
    ss = stream_stats(fx, "stats");
    assert_int_equal(ss.messages_published, 4);
    assert_int_equal(ss.subscribers, 2);
    assert_int_equal(ss.rate.tokens, 296);
    assert_int_equal(sub_stats(fx, ia).delivered, 3);
    assert_int_equal(sub_stats(fx, ib).delivered, 2);
    sf_error err;
    assert_status(sf_unsubscribe(fx->fake, ia, &err), SF_OK);
    assert_int_equal(stream_stats(fx, "stats").subscribers, 1);
    /* a rejected publish counts nothing */
    sf_message_record m;
    assert_status(publish_c(fx->fake, fx->service_sid, "stats", "not json", 0, &m, &err),
                  SF_ERR_DATA_INVALID);
    assert_int_equal(stream_stats(fx, "stats").messages_published, 4);
    assert_int_equal(sub_stats(fx, ib).delivered, 2);
    assert_int_equal(b->n, 2);
    /* errors */
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, 0, &st, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_stats_get(fx->fake, 3, &st, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_stats_get(fx->fake, ia, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "missing", &ss, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    rec_free(a);
    rec_free(b);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, subscriber_teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_subscriber_gets_every_message_once_in_order_before_publish_returns),
        T(test_later_subscriber_misses_earlier_messages),
        T(test_is_local_only_for_the_publishing_client),
        T(test_subscribe_by_sid_and_by_unique_name_reach_the_same_stream),
        T(test_subscribe_to_unknown_stream_is_404_and_spends_no_id),
        T(test_subscribe_without_callback_is_invalid_argument),
        T(test_unsubscribe_stops_deliveries_and_is_idempotent),
        T(test_stream_remove_sends_one_removed_deleted_to_each_and_detaches),
        T(test_ttl_expiry_sends_removed_expired_at_the_deadline),
        T(test_expiry_exactly_at_deadline_on_clock_advance),
        T(test_service_remove_sends_removed_to_subscribers_of_all_its_streams),
        T(test_stats_count_subscribers_and_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
