/* SPDX-License-Identifier: MIT */
/* subscriber.c: attaching and detaching subscribers, and the scripted states that a test can
 * put one in (held, disconnected). Subscriber records live until the fake is freed or reset,
 * so ids stay valid for inspection after a detach and iteration never meets freed memory. */
#include "internal.h"

#include <string.h>

sf__subscriber *sf__subscriber_get(sf_fake *fake, sf_subscriber_id id)
{
    if (id == 0 || id > fake->sub_count)
        return NULL;
    return fake->subs[id - 1];
}

static sf_status lookup(sf_fake *fake, sf_subscriber_id id, sf__subscriber **out, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    *out = sf__subscriber_get(fake, id);
    if (!*out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown subscriber %llu",
                               (unsigned long long)id);
    return SF_OK;
}

static void journal_sub(sf_fake *fake, sf_journal_kind kind, const sf__subscriber *sub,
                        const char *service_sid)
{
    sf__jentry *e = sf__journal_append(fake, kind);
    if (!e)
        return;
    e->subscriber = sub->id;
    sf__journal_sids(e, service_sid, sub->stream_sid, NULL);
}

sf_status sf_subscribe(sf_fake *fake, const char *account_sid, const char *service_sid,
                       const char *stream_id, const sf_subscribe_params *params,
                       sf_subscriber_id *out, sf_error *err)
{
    if (!fake || !params || !params->on_event)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s",
                               !fake ? "fake is NULL" : "on_event callback is required");
    sf__begin(fake);
    sf__stream *s;
    sf_status st = sf__resolve_stream(fake, account_sid, service_sid, stream_id, "", &s, err);
    if (st != SF_OK)
        return st;
    sf__subscriber *sub = sf__malloc(fake, sizeof *sub);
    if (!sub)
        return sf__fail(err, SF_ERR_NOMEM);
    if (fake->sub_count == fake->sub_cap) {
        size_t cap = fake->sub_cap ? fake->sub_cap * 2 : 16;
        sf__subscriber **subs = sf__realloc(fake, fake->subs, cap * sizeof *subs);
        if (!subs) {
            sf__free(fake, sub);
            return sf__fail(err, SF_ERR_NOMEM);
        }
        fake->subs = subs;
        fake->sub_cap = cap;
    }
    memset(sub, 0, sizeof *sub);
    sub->id = fake->sub_count + 1;
    sub->stream = s;
    memcpy(sub->stream_sid, s->sid, SF_SID_SIZE);
    sub->fn = params->on_event;
    sub->user = params->user;
    sub->client_id = params->client_id;
    sub->skip_local = params->skip_local && params->client_id != 0;
    memcpy(sub->stats.stream_sid, s->sid, SF_SID_SIZE);
    sub->stats.connected = true;
    sub->notice.slot = SF__TIMER_IDLE;
    sub->notice.kind = SF__TIMER_REMOVED_NOTICE;
    fake->subs[fake->sub_count++] = sub;

    sub->prev = s->subs_tail;
    if (s->subs_tail)
        s->subs_tail->next = sub;
    else
        s->subs_head = sub;
    s->subs_tail = sub;
    s->sub_count++;
    journal_sub(fake, SF_JOURNAL_SUBSCRIBED, sub, s->service->sid);
    if (out)
        *out = sub->id;
    sf__ok(err);
    return SF_OK;
}

static bool impaired(const sf__subscriber *sub) { return sub->held || sub->disconnected; }

/* Takes the parked deliveries as a chain, so that callbacks run while handling them (which
 * may hold the subscriber again) park into a fresh list instead of the one being walked. */
static sf__delivery *take_parked(sf__subscriber *sub)
{
    sf__delivery *chain = sub->parked_head;
    sub->parked_head = sub->parked_tail = NULL;
    sub->stats.parked = 0;
    return chain;
}

/* Unlinks from the stream. prev/next are left as they were: an iteration standing on this
 * subscriber still finds its way forward (see sf__fanout_now). Parked deliveries are lost. */
static void detach(sf_fake *fake, sf__subscriber *sub)
{
    sf__stream *s = sub->stream;
    if (!s)
        return;
    if (sub->prev)
        sub->prev->next = sub->next;
    else
        s->subs_head = sub->next;
    if (sub->next)
        sub->next->prev = sub->prev;
    else
        s->subs_tail = sub->prev;
    s->sub_count--;
    if (impaired(sub))
        s->impaired--;
    sub->stream = NULL;
    sf__delivery *d = take_parked(sub);
    while (d) {
        sf__delivery *next = d->next;
        sub->stats.lost++;
        sf__journal_fate(fake, SF_JOURNAL_LOST, d->msg, sub->id, NULL, fake->now, d->duplicate);
        d->sub = NULL;
        sf__delivery_fire(fake, d); /* with no subscriber it only releases */
        d = next;
    }
}

sf_status sf_unsubscribe(sf_fake *fake, sf_subscriber_id id, sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    sf__begin(fake);
    if (sub->stream) {
        const char *service_sid = sub->stream->service->sid;
        journal_sub(fake, SF_JOURNAL_UNSUBSCRIBED, sub, service_sid);
        detach(fake, sub);
    }
    sf__ok(err);
    return SF_OK;
}

/* Tells a detached subscriber its stream is gone. */
static void tell_removed(sf_fake *fake, sf__subscriber *sub)
{
    journal_sub(fake, SF_JOURNAL_REMOVED, sub, sub->notice_service);
    sf_event ev = {.kind = SF_EVENT_REMOVED,
                   .subscriber = sub->id,
                   .service_sid = sub->notice_service,
                   .stream_sid = sub->stream_sid,
                   .delivered_ms = fake->now,
                   .reason = sub->notice_reason};
    fake->dispatch_depth++;
    sub->fn(fake, &ev, sub->user);
    fake->dispatch_depth--;
}

void sf__subscriber_notice_due(sf_fake *fake, sf__subscriber *sub) { tell_removed(fake, sub); }

void sf__subscribers_remove_all(sf_fake *fake, sf__stream *s, bool notify,
                                sf_removed_reason reason)
{
    sf__subscriber *first = s->subs_head;
    sf_subscriber_id last_id = s->subs_tail ? s->subs_tail->id : 0;
    /* Queued like any other event, so a remove made from a callback does not call back into
     * a subscriber that is still running; callers reserve the room (else: told at once). */
    bool queued = notify && sf__timerq_reserve_n(fake, &fake->timers, s->sub_count);
    for (sf__subscriber *sub = first; sub && sub->id <= last_id; sub = sub->next) {
        if (sub->stream != s)
            continue;
        memcpy(sub->notice_service, s->service->sid, SF_SID_SIZE);
        sub->notice_reason = reason;
        detach(fake, sub);
        if (queued)
            sf__timerq_arm(&fake->timers, &sub->notice, fake->now);
    }
    if (!notify || queued)
        return;
    for (sf__subscriber *sub = first; sub && sub->id <= last_id; sub = sub->next)
        tell_removed(fake, sub);
}

sf_status sf_subscriber_hold(sf_fake *fake, sf_subscriber_id id, sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    sf__begin(fake);
    if (!sub->held) {
        if (sub->stream && !impaired(sub))
            sub->stream->impaired++;
        sub->held = true;
        sub->stats.held = true;
    }
    sf__ok(err);
    return SF_OK;
}

sf_status sf_subscriber_heal(sf_fake *fake, sf_subscriber_id id, bool flush, sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    sf__begin(fake);
    if (sub->held) {
        sub->held = false;
        sub->stats.held = false;
        if (sub->stream && !impaired(sub))
            sub->stream->impaired--;
    }
    sf__delivery *d = take_parked(sub);
    while (d) {
        sf__delivery *next = d->next;
        if (!flush) {
            sub->stats.lost++;
            sf__journal_fate(fake, SF_JOURNAL_DISCARDED, d->msg, sub->id, NULL, fake->now,
                             d->duplicate);
            d->sub = NULL;
        }
        sf__delivery_fire(fake, d); /* delivers now (flush) or only releases */
        d = next;
    }
    if (fake->dispatch_depth == 0)
        sf__run_until(fake, fake->now);
    sf__ok(err);
    return SF_OK;
}

static sf_status set_connected(sf_fake *fake, sf_subscriber_id id, bool connected,
                               sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    sf__begin(fake);
    if (sub->disconnected == connected) {
        bool was = impaired(sub);
        sub->disconnected = !connected;
        sub->stats.connected = connected;
        if (sub->stream && was != impaired(sub)) {
            if (was)
                sub->stream->impaired--;
            else
                sub->stream->impaired++;
        }
    }
    sf__ok(err);
    return SF_OK;
}

sf_status sf_subscriber_disconnect(sf_fake *fake, sf_subscriber_id id, sf_error *err)
{
    return set_connected(fake, id, false, err);
}

sf_status sf_subscriber_reconnect(sf_fake *fake, sf_subscriber_id id, sf_error *err)
{
    return set_connected(fake, id, true, err);
}

sf_status sf_subscriber_stats_get(sf_fake *fake, sf_subscriber_id id, sf_subscriber_stats *out,
                                  sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    if (!out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "out is NULL");
    sf__begin(fake);
    *out = sub->stats;
    out->attached = sub->stream != NULL;
    sf__ok(err);
    return SF_OK;
}

void sf__subscribers_release(sf_fake *fake)
{
    for (size_t i = 0; i < fake->sub_count; i++) {
        sf__free(fake, fake->subs[i]->rules);
        sf__free(fake, fake->subs[i]);
    }
    sf__free(fake, fake->subs);
    fake->subs = NULL;
    fake->sub_count = fake->sub_cap = 0;
}
