/* SPDX-License-Identifier: MIT */
/* test_subscriber.c: subscribers and fault-free delivery: exactly once, in publish order,
 * before the publish returns; local flags; detaching by unsubscribe, remove, expiry and
 * service removal; statistics; and callbacks that call the API again (re-entrancy). */
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

#define NOW0 SF_DEFAULT_EPOCH_MS

/* ---------------------------------------------------------------------------------------- */
/* Recording subscribers                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* One event as seen by a callback, copied out of the borrowed pointers. */
typedef struct rec_event {
    sf_event_kind kind;
    sf_subscriber_id subscriber;
    char service_sid[SF_SID_SIZE];
    char stream_sid[SF_SID_SIZE];
    char message_sid[SF_SID_SIZE];
    bool has_message_sid;
    char data[96];
    size_t data_len;
    bool data_ok; /* data was NUL-terminated at data_len and fitted the copy */
    bool is_local, is_duplicate;
    sf_ms published_ms, delivered_ms;
    sf_removed_reason reason;
    sf_ms clock_in_callback; /* sf_clock_now() read from inside the callback */
} rec_event;

/* The order in which events reached every subscriber of a test (shared by recorders). */
typedef struct trace_item {
    sf_subscriber_id subscriber;
    sf_event_kind kind;
    char message_sid[SF_SID_SIZE];
} trace_item;

typedef struct trace {
    trace_item items[256];
    size_t n;
    int depth;     /* callbacks currently running */
    int max_depth; /* deepest nesting of callbacks seen */
    bool overflow;
} trace;

typedef struct recorder recorder;
typedef void (*rec_action)(sf_fake *fake, const sf_event *ev, recorder *r);

struct recorder {
    rec_event *ev;
    size_t n, cap;
    bool overflow;
    trace *log;         /* optional */
    rec_action action;  /* optional: what the callback does after recording */
    sf_subscriber_id id;

    /* context for actions */
    sf_fixture *fx;
    const char *stream_id;
    const char *other_stream_id;
    int budget;                 /* how many more times the action may act */
    int counter;
    sf_subscriber_id target;    /* a subscriber an action works on */
    recorder *spawn;            /* a recorder an action subscribes */
    sf_status statuses[16];     /* statuses of API calls made by the action */
    sf_error errors[8];
    size_t nstatus;
    char nested_sids[8][SF_SID_SIZE];
    size_t nested;
    size_t seen[8];             /* watch->n right after each nested call returned */
    size_t nseen;
    recorder *watch;            /* the recorder whose count is sampled */
};

/* Every recorder of the running test, so that a failed assertion does not leak them. */
static recorder *live_recorders[16];

static recorder *rec_new(trace *log)
{
    recorder *r = calloc(1, sizeof *r);
    assert_non_null(r);
    r->cap = 16;
    r->ev = calloc(r->cap, sizeof *r->ev);
    assert_non_null(r->ev);
    r->log = log;
    size_t i = 0;
    while (i < 16 && live_recorders[i])
        i++;
    assert_true(i < 16);
    live_recorders[i] = r;
    return r;
}

static void rec_free(recorder *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < 16; i++)
        if (live_recorders[i] == r)
            live_recorders[i] = NULL;
    free(r->ev);
    free(r);
}

/* The fixture's teardown (which fails on a leak inside the fake), then the recorders. */
static int teardown(void **state)
{
    int rc = sf_fixture_teardown(state);
    for (size_t i = 0; i < 16; i++)
        rec_free(live_recorders[i]);
    return rc;
}

static void copy_sid(char out[SF_SID_SIZE], const char *in)
{
    out[0] = '\0';
    if (in) {
        strncpy(out, in, SF_SID_SIZE - 1);
        out[SF_SID_SIZE - 1] = '\0';
    }
}

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    recorder *r = user;
    if (r->log) {
        r->log->depth++;
        if (r->log->depth > r->log->max_depth)
            r->log->max_depth = r->log->depth;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap * 2;
        rec_event *grown = realloc(r->ev, cap * sizeof *grown);
        if (grown) {
            r->ev = grown;
            r->cap = cap;
        }
    }
    if (r->n < r->cap) {
        rec_event *e = &r->ev[r->n++];
        memset(e, 0, sizeof *e);
        e->kind = ev->kind;
        e->subscriber = ev->subscriber;
        copy_sid(e->service_sid, ev->service_sid);
        copy_sid(e->stream_sid, ev->stream_sid);
        e->has_message_sid = ev->message_sid != NULL;
        copy_sid(e->message_sid, ev->message_sid);
        e->data_len = ev->data_len;
        if (ev->data && ev->data_len < sizeof e->data) {
            memcpy(e->data, ev->data, ev->data_len);
            e->data[ev->data_len] = '\0';
            e->data_ok = ev->data[ev->data_len] == '\0' && strlen(ev->data) == ev->data_len;
        }
        e->is_local = ev->is_local;
        e->is_duplicate = ev->is_duplicate;
        e->published_ms = ev->published_ms;
        e->delivered_ms = ev->delivered_ms;
        e->reason = ev->reason;
        e->clock_in_callback = sf_clock_now(fake);
    } else {
        r->overflow = true;
    }
    if (r->log) {
        if (r->log->n < sizeof r->log->items / sizeof r->log->items[0]) {
            trace_item *t = &r->log->items[r->log->n++];
            t->subscriber = ev->subscriber;
            t->kind = ev->kind;
            copy_sid(t->message_sid, ev->message_sid);
        } else {
            r->log->overflow = true;
        }
    }
    if (r->action)
        r->action(fake, ev, r);
    if (r->log)
        r->log->depth--;
}

static size_t count_kind(const recorder *r, sf_event_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->ev[i].kind == kind;
    return n;
}

static sf_subscriber_id attach(sf_fixture *fx, const char *stream_id, recorder *r,
                               uint64_t client_id)
{
    sf_subscribe_params p = {.on_event = on_event, .user = r, .client_id = client_id};
    sf_subscriber_id id = 0;
    sf_error err;
    sf_status st = sf_subscribe(fx->fake, NULL, fx->service_sid, stream_id, &p, &id, &err);
    if (st != SF_OK)
        fail_msg("subscribe to %s failed: %d %s", stream_id, err.code, err.message);
    assert_true(id > 0);
    r->id = id;
    return id;
}

static sf_status publish_c(sf_fake *fake, const char *service_sid, const char *stream_id,
                           const char *data, uint64_t client_id, sf_message_record *m,
                           sf_error *err)
{
    sf_publish_params p = {.data = data, .data_len = data ? strlen(data) : 0,
                           .client_id = client_id};
    return sf_stream_publish(fake, NULL, service_sid, stream_id, &p, m, err);
}

/* Publishes and asserts success; returns the message SID in `sid`. */
static void publish_ok(sf_fixture *fx, const char *stream_id, const char *data,
                       uint64_t client_id, char sid[SF_SID_SIZE])
{
    sf_message_record m;
    sf_error err;
    sf_status st = publish_c(fx->fake, fx->service_sid, stream_id, data, client_id, &m, &err);
    if (st != SF_OK)
        fail_msg("publish to %s failed: %d %s", stream_id, err.code, err.message);
    if (sid)
        memcpy(sid, m.sid, SF_SID_SIZE);
}

static sf_subscriber_stats sub_stats(sf_fixture *fx, sf_subscriber_id id)
{
    sf_subscriber_stats s;
    sf_error err;
    memset(&s, 0xab, sizeof s);
    sf_status st = sf_subscriber_stats_get(fx->fake, id, &s, &err);
    if (st != SF_OK)
        fail_msg("subscriber stats of %llu failed: %s", (unsigned long long)id, err.message);
    return s;
}

static sf_stream_stats stream_stats(sf_fixture *fx, const char *stream_id)
{
    sf_stream_stats s;
    sf_error err;
    memset(&s, 0xab, sizeof s);
    sf_status st = sf_stream_stats_get(fx->fake, NULL, fx->service_sid, stream_id, &s, &err);
    if (st != SF_OK)
        fail_msg("stream stats of %s failed: %s", stream_id, err.message);
    return s;
}

static void assert_removed(const rec_event *e, sf_subscriber_id id, const char *service_sid,
                           const char *stream_sid, sf_removed_reason reason, sf_ms at)
{
    assert_int_equal(e->kind, SF_EVENT_REMOVED);
    assert_int_equal(e->subscriber, id);
    assert_string_equal(e->service_sid, service_sid);
    assert_string_equal(e->stream_sid, stream_sid);
    assert_int_equal(e->reason, reason);
    assert_int_equal(e->delivered_ms, at);
    assert_false(e->is_duplicate);
}

/* ---------------------------------------------------------------------------------------- */
/* Fan-out without faults                                                                   */
/* ---------------------------------------------------------------------------------------- */

enum { FAN_N = 5, FAN_M = 200 };

static void test_every_subscriber_gets_every_message_once_in_order_before_publish_returns(
    void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "fan", -1, &s);
    recorder *r[FAN_N];
    sf_subscriber_id ids[FAN_N];
    for (int k = 0; k < FAN_N; k++) {
        r[k] = rec_new(NULL);
        ids[k] = attach(fx, k % 2 ? s.sid : "fan", r[k], 0);
        assert_int_equal(ids[k], (sf_subscriber_id)(k + 1)); /* numbered from 1 in order */
    }
    static char sids[FAN_M][SF_SID_SIZE];
    sf_ms times[FAN_M];
    for (int i = 0; i < FAN_M; i++) {
        sf_error err;
        assert_status(sf_clock_advance(fx->fake, i % 3, &err), SF_OK);
        char data[96], compact[96];
        snprintf(data, sizeof data, "{ \"i\" : %d ,\n \"tag\" : \"m %d\" }", i, i);
        snprintf(compact, sizeof compact, "{\"i\":%d,\"tag\":\"m %d\"}", i, i);
        sf_message_record m;
        assert_status(publish_c(fx->fake, fx->service_sid, i % 2 ? "fan" : s.sid, data, 0,
                                   &m, &err), SF_OK);
        assert_string_equal(m.data, compact);
        memcpy(sids[i], m.sid, SF_SID_SIZE);
        times[i] = sf_clock_now(fx->fake);
        /* delivered before the publish returned: each subscriber has exactly i+1 events */
        for (int k = 0; k < FAN_N; k++) {
            assert_int_equal(r[k]->n, (size_t)(i + 1));
            const rec_event *e = &r[k]->ev[i];
            assert_string_equal(e->message_sid, m.sid);
            assert_string_equal(e->data, compact);
            assert_int_equal(e->data_len, strlen(compact));
            assert_true(e->data_ok);
        }
    }
    for (int k = 0; k < FAN_N; k++) {
        assert_false(r[k]->overflow);
        assert_int_equal(r[k]->n, FAN_M);
        for (int i = 0; i < FAN_M; i++) {
            const rec_event *e = &r[k]->ev[i];
            assert_int_equal(e->kind, SF_EVENT_MESSAGE_PUBLISHED);
            assert_int_equal(e->subscriber, ids[k]);
            assert_string_equal(e->service_sid, fx->service_sid);
            assert_string_equal(e->stream_sid, s.sid);
            assert_string_equal(e->message_sid, sids[i]); /* publish order */
            assert_false(e->is_local);
            assert_false(e->is_duplicate);
            assert_int_equal(e->published_ms, times[i]);
            assert_int_equal(e->delivered_ms, times[i]);
            assert_int_equal(e->clock_in_callback, times[i]);
        }
        /* exactly once: every message SID is distinct, so no message came twice */
        for (int i = 0; i < FAN_M; i++)
            for (int k2 = i + 1; k2 < FAN_M; k2++)
                if (strcmp(sids[i], sids[k2]) == 0)
                    fail_msg("message SID %s published twice", sids[i]);
        sf_subscriber_stats st = sub_stats(fx, ids[k]);
        assert_true(st.attached);
        assert_true(st.connected);
        assert_false(st.held);
        assert_string_equal(st.stream_sid, s.sid);
        assert_int_equal(st.delivered, FAN_M);
        assert_int_equal(st.duplicated, 0);
        assert_int_equal(st.dropped, 0);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.in_flight, 0);
        assert_int_equal(st.parked, 0);
    }
    sf_stream_stats ss = stream_stats(fx, "fan");
    assert_int_equal(ss.messages_published, FAN_M);
    assert_int_equal(ss.subscribers, FAN_N);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    for (int k = 0; k < FAN_N; k++)
        rec_free(r[k]);
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
    recorder *c7 = rec_new(NULL), *c8 = rec_new(NULL), *c0 = rec_new(NULL),
             *c7b = rec_new(NULL);
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
    sf_subscribe_params p = {.on_event = on_event, .user = r};
    sf_subscriber_id id = 777;
    sf_error err;
    const char *unknown[] = {"nope", "TO00000000000000000000000000000000"};
    for (int i = 0; i < 2; i++) {
        memset(&err, 0, sizeof err);
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, unknown[i], &p, &id, &err), SF_ERR_NOT_FOUND);
        assert_status(err.status, SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
    }
    /* an unknown service, and a stream of another service */
    sf_service_record svc2;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, &err), SF_OK);
    assert_status(sf_subscribe(fx->fake, NULL, "IS00000000000000000000000000000000", "exists",
                                  &p, &id, &err), SF_ERR_NOT_FOUND);
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
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "nocb", &p, &id, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "nocb", NULL, &id, &err), SF_ERR_INVALID_ARGUMENT);
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
    sf_subscribe_params p = {.on_event = on_event, .user = r[0]};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, s.sid, &p, &id, &err), SF_ERR_NOT_FOUND);
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
    assert_removed(&b->ev[0], ib, fx->service_sid, s20.sid, SF_REMOVED_EXPIRED,
                   NOW0 + 250 + 20000);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.items[1].subscriber, ia);
    assert_int_equal(log.items[2].subscriber, ib);
    assert_int_equal(c->n, 0);
    assert_false(sub_stats(fx, ia).attached);
    assert_false(sub_stats(fx, ib).attached);
    assert_true(sub_stats(fx, ic).attached);
    sf_message_record m;
    assert_status(publish_c(fx->fake, fx->service_sid, "ttl10", "{}", 0, &m, &err), SF_ERR_NOT_FOUND);
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
    sf_subscribe_params kp2 = {.on_event = on_event, .user = k};
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
    assert_status(publish_c(fx->fake, fx->service_sid, "stats", "not json", 0, &m, &err), SF_ERR_DATA_INVALID);
    assert_int_equal(stream_stats(fx, "stats").messages_published, 4);
    assert_int_equal(sub_stats(fx, ib).delivered, 2);
    assert_int_equal(b->n, 2);
    /* errors */
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, 0, &st, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_stats_get(fx->fake, 3, &st, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_stats_get(fx->fake, ia, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "missing", &ss, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    rec_free(a);
    rec_free(b);
}

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
    assert_status(publish_c(fx->fake, fx->service_sid, "echo", "{ \"outer\" : 1 }", 0, &out,
                               &err), SF_OK);
    /* the outer publish's borrowed data survives the nested publishes */
    assert_string_equal(out.data, "{\"outer\":1}");
    /* everything arrived before the outer publish returned */
    assert_int_equal(a->nstatus, 3);
    for (size_t i = 0; i < 3; i++)
        assert_status(a->statuses[i], SF_OK);
    assert_int_equal(a->nested, 3);
    assert_false(log.overflow);
    assert_int_equal(log.n, 8);
    const char *order[4] = {out.sid, a->nested_sids[0], a->nested_sids[1], a->nested_sids[2]};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(log.items[2 * i].subscriber, ia);
        assert_string_equal(log.items[2 * i].message_sid, order[i]);
        assert_int_equal(log.items[2 * i + 1].subscriber, ib);
        assert_string_equal(log.items[2 * i + 1].message_sid, order[i]);
    }
    /* each nested message is published and delivered at the same (unmoved) time */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(b->ev[i].published_ms, NOW0);
        assert_int_equal(b->ev[i].delivered_ms, NOW0);
        assert_string_equal(b->ev[i].stream_sid, s.sid);
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
    sf_status st = publish_c(fake, r->fx->service_sid, r->other_stream_id, "{\"relay\":true}",
                             0, &m, &err);
    r->statuses[r->nstatus++] = st;
    if (st == SF_OK)
        memcpy(r->nested_sids[r->nested++], m.sid, SF_SID_SIZE);
}

static void test_callback_publishing_to_another_stream_delivers_before_outer_returns(
    void **state)
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
    sf_subscribe_params p = {.on_event = on_event, .user = r->spawn};
    sf_subscriber_id id = 0;
    sf_error err;
    sf_status st = sf_subscribe(fake, NULL, r->fx->service_sid, r->stream_id, &p, &id, &err);
    r->statuses[r->nstatus++] = st;
    r->target = id;
    r->spawn->id = id;
}

static void test_callback_subscribing_new_subscriber_gets_next_message_not_current(
    void **state)
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

static void test_callback_unsubscribing_later_subscriber_prevents_current_delivery(
    void **state)
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
    r->statuses[r->nstatus++] = sf_stream_remove(fake, NULL, r->fx->service_sid, r->stream_id,
                                                 &err);
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
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "gone", &rec, &err), SF_ERR_NOT_FOUND);
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
        assert_int_not_equal(a->statuses[i], SF_OK);
        assert_int_equal(a->errors[i].status, a->statuses[i]);
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
    sf_subscribe_params p = {.on_event = on_event, .user = r->spawn};
    sf_error err;
    r->statuses[r->nstatus++] =
        sf_subscribe(fake, NULL, r->fx->service_sid, r->stream_id, &p, &r->target, &err);
    sf_message_record m;
    sf_status st = publish_c(fake, r->fx->service_sid, r->stream_id, "{\"n\":\"nested\"}", 0, &m,
                             &err);
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
    sf_subscribe_params sp = {.on_event = on_event, .user = r->spawn};
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
    recorder *rx = rec_new(&log), *ry = rec_new(&log), *rz = rec_new(&log),
             *rn = rec_new(&log);
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
    sf_subscribe_params sp = {.on_event = on_event, .user = own, .client_id = 9,
                              .skip_local = true};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "echo", &sp, &own->id, NULL), SF_OK);
    sp.user = other;
    sp.client_id = 0;
    sp.skip_local = false;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "echo", &sp, &other->id, NULL), SF_OK);
    sf_publish_params mine = {.data = "{\"a\":1}", .data_len = 7, .client_id = 9};
    sf_publish_params theirs = {.data = "{\"b\":2}", .data_len = 7, .client_id = 0};
    for (int path = 0; path < 2; path++) {
        if (path == 1) { /* a rule sends every delivery through the queue */
            sf_fault_params delay = {.scope = SF_SCOPE_FAKE, .delay_ms = 5};
            assert_status(sf_fault_add(fx->fake, &delay, NULL, NULL), SF_OK);
        }
        assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "echo", &mine, NULL, NULL), SF_OK);
        assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "echo", &theirs, NULL, NULL), SF_OK);
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
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_skip_local_subscriber_does_not_get_its_own_publishes,
                                        sf_fixture_setup, sf_fixture_teardown),
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
