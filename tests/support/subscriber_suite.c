/* SPDX-License-Identifier: MIT */
/* subscriber_suite.c: see subscriber_suite.h. */
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

/* Every recorder of the running test, so that a failed assertion does not leak them. */
static recorder *live_recorders[16];

recorder *rec_new(trace *log)
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

void rec_free(recorder *r)
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
int subscriber_teardown(void **state)
{
    int rc = sf_fixture_teardown(state);
    for (size_t i = 0; i < 16; i++)
        rec_free(live_recorders[i]);
    return rc;
}

void copy_sid(char out[SF_SID_SIZE], const char *in)
{
    out[0] = '\0';
    if (in) {
        strncpy(out, in, SF_SID_SIZE - 1);
        out[SF_SID_SIZE - 1] = '\0';
    }
}

void rec_on_event(sf_fake *fake, const sf_event *ev, void *user)
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

size_t count_kind(const recorder *r, sf_event_kind kind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->ev[i].kind == kind;
    return n;
}

sf_subscriber_id attach(sf_fixture *fx, const char *stream_id, recorder *r, uint64_t client_id)
{
    sf_subscribe_params p = {.on_event = rec_on_event, .user = r, .client_id = client_id};
    sf_subscriber_id id = 0;
    sf_error err;
    sf_status st = sf_subscribe(fx->fake, NULL, fx->service_sid, stream_id, &p, &id, &err);
    if (st != SF_OK)
        fail_msg("subscribe to %s failed: %d %s", stream_id, err.code, err.message);
    assert_true(id > 0);
    r->id = id;
    return id;
}

sf_status publish_c(sf_fake *fake, const char *service_sid, const char *stream_id, const char *data,
                    uint64_t client_id, sf_message_record *m, sf_error *err)
{
    sf_publish_params p = {
        .data = data, .data_len = data ? strlen(data) : 0, .client_id = client_id};
    return sf_stream_publish(fake, NULL, service_sid, stream_id, &p, m, err);
}

/* Publishes and asserts success; returns the message SID in `sid`. */
void publish_ok(sf_fixture *fx, const char *stream_id, const char *data, uint64_t client_id,
                char sid[SF_SID_SIZE])
{
    sf_message_record m;
    sf_error err;
    sf_status st = publish_c(fx->fake, fx->service_sid, stream_id, data, client_id, &m, &err);
    if (st != SF_OK)
        fail_msg("publish to %s failed: %d %s", stream_id, err.code, err.message);
    if (sid)
        memcpy(sid, m.sid, SF_SID_SIZE);
}

sf_subscriber_stats sub_stats(sf_fixture *fx, sf_subscriber_id id)
{
    sf_subscriber_stats s;
    sf_error err;
    memset(&s, 0xab, sizeof s);
    sf_status st = sf_subscriber_stats_get(fx->fake, id, &s, &err);
    if (st != SF_OK)
        fail_msg("subscriber stats of %llu failed: %s", (unsigned long long)id, err.message);
    return s;
}

sf_stream_stats stream_stats(sf_fixture *fx, const char *stream_id)
{
    sf_stream_stats s;
    sf_error err;
    memset(&s, 0xab, sizeof s);
    sf_status st = sf_stream_stats_get(fx->fake, NULL, fx->service_sid, stream_id, &s, &err);
    if (st != SF_OK)
        fail_msg("stream stats of %s failed: %s", stream_id, err.message);
    return s;
}

void assert_removed(const rec_event *e, sf_subscriber_id id, const char *service_sid,
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
