/* SPDX-License-Identifier: MIT */
/* twilsock_subscriptions.c: the client API's v4 Subscriptions (establish and cancel, each a
 * core subscriber of the stream) and the notifications the core's events become. */
#include "twilsock_internal.h"

#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SUBSCRIPTIONS 1024
#define MAX_BATCH 100 /* requests one POST /v4/Subscriptions may carry */

static ts_subscription *find_subscription(ts_session *s, const char *stream_sid)
{
    for (size_t i = 0; i < s->sub_count; i++)
        if (strcmp(s->subs[i].stream_sid, stream_sid) == 0)
            return &s->subs[i];
    return NULL;
}

static void drop_subscription(ts_session *s, ts_subscription *sub)
{
    *sub = s->subs[--s->sub_count];
}

/* Whether the session's subscribers are still the core's (a reset detached them all). */
static bool subscribers_live(const ts_session *s)
{
    return s->generation == sf_fake_generation(s->mgr->host.fake);
}

void sf_ts_unsubscribe_all(ts_session *s)
{
    if (subscribers_live(s))
        for (size_t i = 0; i < s->sub_count; i++)
            sf_unsubscribe(s->mgr->host.fake, s->subs[i].id, NULL);
}

/* ---- core events to notifications ---- */

/* The payload of a published message's notification, the same for every session: built
 * once per message and reused while the fan-out goes on (a duplicate or a later delivery of
 * the same message matches too; anything else rebuilds it). */
static const sf_http_buf *published_payload(sf_ts_manager *mgr, const sf_event *ev)
{
    sf_http_buf *b = &mgr->published;
    if (!b->failed && b->len && mgr->published_data_len == ev->data_len &&
        strcmp(mgr->published_message, ev->message_sid) == 0 &&
        strcmp(mgr->published_stream, ev->stream_sid) == 0 &&
        memcmp(b->data + mgr->published_data_at, ev->data, ev->data_len) == 0)
        return b;
    sf_http_buf_free(b);
    sf_http_buf_init(b);
    sf_http_buf_printf(b,
                       "{\"event_type\":\"stream_message_published\","
                       "\"event_protocol_version\":4,\"event\":{\"stream_sid\":\"%s\","
                       "\"message_sid\":\"%s\",\"message_data\":",
                       ev->stream_sid, ev->message_sid);
    mgr->published_data_at = b->len;
    mgr->published_data_len = ev->data_len;
    sf_http_buf_add(b, ev->data, ev->data_len);
    sf_http_buf_str(b, "}}");
    snprintf(mgr->published_stream, sizeof mgr->published_stream, "%s", ev->stream_sid);
    snprintf(mgr->published_message, sizeof mgr->published_message, "%s", ev->message_sid);
    return b;
}

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    ts_session *s = user;
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED) {
        sf_ts_notify(s, published_payload(s->mgr, ev));
        return;
    }
    ts_subscription *sub = find_subscription(s, ev->stream_sid);
    if (sub)
        drop_subscription(s, sub); /* the core detached it */
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_buf_printf(&b,
                       "{\"event_type\":\"stream_removed\",\"event_protocol_version\":4,"
                       "\"event\":{\"stream_sid\":\"%s\"}}",
                       ev->stream_sid);
    sf_ts_notify(s, &b);
    sf_http_buf_free(&b);
}

/* ---- establish and cancel ---- */

/* Room for one more subscription; false with err set when there is none. */
static bool reserve_subscription(ts_session *s, sf_error *err)
{
    if (s->sub_count == MAX_SUBSCRIPTIONS) {
        sf_http_status_error(SF_ERR_TOO_MANY_SUBSCRIPTIONS, NULL, err);
        return false;
    }
    if (s->sub_count < s->sub_cap)
        return true;
    size_t cap = s->sub_cap ? s->sub_cap * 2 : 8;
    ts_subscription *subs = realloc(s->subs, cap * sizeof *subs);
    if (!subs) {
        sf_http_status_error(SF_ERR_NOMEM, NULL, err);
        return false;
    }
    s->subs = subs;
    s->sub_cap = cap;
    return true;
}

/* Subscribes one stream; false with err set when it cannot be. */
static bool establish(ts_session *s, const char *stream_sid, sf_error *err)
{
    if (find_subscription(s, stream_sid))
        return true;
    if (!reserve_subscription(s, err))
        return false;
    sf_subscribe_params sp = {.on_event = on_event,
                              .user = s,
                              .client_id = s->client_id,
                              .skip_local = true,
                              .connection = SF_CONNECTION_TWILSOCK};
    sf_subscriber_id sid;
    if (sf_subscribe(s->mgr->host.fake, s->account_sid, s->service_sid, stream_sid, &sp, &sid,
                     err) != SF_OK) {
        sf_ts_client_api_error(stream_sid, err);
        return false;
    }
    ts_subscription *sub = &s->subs[s->sub_count++];
    snprintf(sub->stream_sid, sizeof sub->stream_sid, "%s", stream_sid);
    sub->id = sid;
    s->generation = sf_fake_generation(s->mgr->host.fake);
    return true;
}

static void cancel(ts_session *s, const char *stream_sid)
{
    ts_subscription *sub = find_subscription(s, stream_sid);
    if (!sub)
        return;
    if (subscribers_live(s))
        sf_unsubscribe(s->mgr->host.fake, sub->id, NULL);
    drop_subscription(s, sub);
}

/* The events of one batch's notifications: those that succeeded, those that failed. */
typedef struct batch {
    sf_http_buf ok, failed;
    size_t n_ok, n_failed;
} batch;

/* Establishes or cancels each request's object_sid (a cancel always succeeds). */
static void run_batch(ts_session *s, const sf_jf_doc *p, int requests, bool cancelling, batch *out)
{
    int count = sf_jf_count(p, requests);
    for (int i = requests + 1, k = 0; k < count; k++, i = sf_jf_next(p, i)) {
        char stream_sid[SF_SID_SIZE + 1] = "";
        sf_jf_string(p, sf_jf_member(p, i, "object_sid"), stream_sid, sizeof stream_sid);
        sf_error err;
        if (cancelling) {
            cancel(s, stream_sid);
        } else if (!establish(s, stream_sid, &err)) {
            sf_http_buf_printf(&out->failed,
                               "%s{\"object_sid\":\"%s\",\"object_type\":\"stream\","
                               "\"error\":",
                               out->n_failed++ ? "," : "", stream_sid);
            sf_http_render_client_error(&out->failed, &err);
            sf_http_buf_str(&out->failed, "}");
            continue;
        }
        sf_http_buf_printf(&out->ok, "%s{\"object_sid\":\"%s\",\"object_type\":\"stream\"%s}",
                           out->n_ok++ ? "," : "", stream_sid,
                           cancelling ? ""
                                      : ",\"replay_status\":\"completed\",\"last_event_id\":0");
    }
}

/* The correlation id as sent (a number or a string, cut to fit), or null. */
static void correlation_text(const sf_jf_doc *p, int correlation, char corr[64])
{
    snprintf(corr, 64, "null");
    if (correlation < 0)
        return;
    const char *text;
    size_t len;
    sf_jf_span(p, correlation, &text, &len);
    size_t quotes = sf_jf_kind_of(p, correlation) == SF_JF_STRING ? 2 : 0;
    if (len - quotes < 60)
        snprintf(corr, 64, "%.*s", (int)len, text);
}

/* One notification of the batch: {"event_type":...,"correlation_id":...,"events":[...]}. */
static void notify_batch(ts_session *s, const char *event_type, const char *corr,
                         const sf_http_buf *events)
{
    sf_http_buf note;
    sf_http_buf_init(&note);
    sf_http_buf_printf(&note, "{\"event_type\":\"%s\",\"correlation_id\":%s,\"events\":[",
                       event_type, corr);
    sf_http_buf_add(&note, events->data, events->len);
    sf_http_buf_str(&note, "]}");
    sf_ts_notify(s, &note);
    sf_http_buf_free(&note);
}

void sf_ts_subscriptions(ts_session *s, const char *id, const sf_jf_doc *p)
{
    int requests = sf_jf_member(p, 0, "requests");
    char what[16];
    if (!sf_jf_string(p, sf_jf_member(p, 0, "action"), what, sizeof what) ||
        sf_jf_kind_of(p, requests) != SF_JF_ARRAY || sf_jf_count(p, requests) > MAX_BATCH ||
        (strcmp(what, "establish") != 0 && strcmp(what, "cancel") != 0))
        return sf_ts_bad_request(s, id, "action and requests");
    bool cancelling = strcmp(what, "cancel") == 0;

    batch b = {0};
    sf_http_buf_init(&b.ok);
    sf_http_buf_init(&b.failed);
    run_batch(s, p, requests, cancelling, &b);
    /* max_batch_size: the Kotlin SDK requires it (SubscriptionManager.kt SubscriptionResponse)
     * and sends batches of at most that many; 100 is what one request here may carry */
    sf_ts_reply_json(s, id, 200, "{\"estimated_delivery_in_ms\":100,\"max_batch_size\":100}");

    char corr[64];
    correlation_text(p, sf_jf_member(p, 0, "correlation_id"), corr);
    if (b.n_ok)
        notify_batch(s, cancelling ? "subscription_canceled" : "subscription_established", corr,
                     &b.ok);
    if (b.n_failed)
        notify_batch(s, "subscription_failed", corr, &b.failed);
    sf_http_buf_free(&b.ok);
    sf_http_buf_free(&b.failed);
}
