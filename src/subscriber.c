/* SPDX-License-Identifier: MIT */
/* subscriber.c: attaching and detaching subscribers, and the scripted states that a test can
 * put one in (held, disconnected). A detached record stays readable (its stats, by id) and
 * keeps its links, so iteration never meets freed memory. Records outlive their detach until
 * the fake is freed or reset, except unsubscribed ones: the last SF__RETAINED_SUBSCRIBERS are
 * kept, older ones are freed (their ids become unknown), so that a long-running fake with
 * subscribers coming and going holds bounded memory. */
#include "internal.h"
#include "journal_params.h"

#include <string.h>

/* The index of the first kept record with an id >= id (binary search: subs is in id order). */
static uint64_t sub_id_at(const void *subs, size_t i)
{
    return ((sf__subscriber *const *)subs)[i]->id;
}

static size_t index_of(const sf_fake *fake, sf_subscriber_id id)
{
    return sf__lower_bound(fake->subs, fake->sub_count, id, sub_id_at);
}

sf__subscriber *sf__subscriber_get(sf_fake *fake, sf_subscriber_id id)
{
    size_t i = index_of(fake, id);
    return i < fake->sub_count && fake->subs[i]->id == id ? fake->subs[i] : NULL;
}

/* Nothing points at it any more: no delivery in flight, no queued notice, no rule. */
static bool forgettable(const sf__subscriber *sub)
{
    return !sub->stream && sub->stats.in_flight == 0 && sub->notice.slot == SF__TIMER_IDLE &&
           sub->rule_count == 0 && !sub->parked_head;
}

/* Frees the oldest unsubscribed records beyond the retained number. Only outside callbacks:
 * then no walk over a stream's subscribers is under way. One still referenced waits at the
 * head of the queue until it no longer is (its deliveries fall due, its notice is sent); one
 * that rules name leaves the queue and is kept (rules live until removed). */
static void forget_retired(sf_fake *fake)
{
    while (fake->dispatch_depth == 0 && fake->retired_count > SF__RETAINED_SUBSCRIBERS) {
        sf__subscriber *old = fake->retired_head;
        bool named = old->rule_count > 0;
        if (!named && !forgettable(old))
            return;
        fake->retired_head = old->retired_next;
        if (!fake->retired_head)
            fake->retired_tail = NULL;
        fake->retired_count--;
        if (named)
            continue;
        size_t i = index_of(fake, old->id);
        memmove(&fake->subs[i], &fake->subs[i + 1], (fake->sub_count - i - 1) * sizeof *fake->subs);
        fake->sub_count--;
        sf__free(fake, old->rules);
        sf__free(fake, old);
    }
}

void sf__subscriber_queue_retired(sf_fake *fake, sf__subscriber *sub)
{
    sub->retired_next = NULL;
    if (fake->retired_tail)
        fake->retired_tail->retired_next = sub;
    else
        fake->retired_head = sub;
    fake->retired_tail = sub;
    fake->retired_count++;
}

static void retire(sf_fake *fake, sf__subscriber *sub)
{
    sub->released = true;
    sf__subscriber_queue_retired(fake, sub);
    forget_retired(fake);
}

void sf__subscriber_init(sf__subscriber *sub)
{
    memset(sub, 0, sizeof *sub);
    sub->notice.slot = SF__TIMER_IDLE;
    sub->notice.kind = SF__TIMER_REMOVED_NOTICE;
}

bool sf__subscribers_reserve(sf_fake *fake)
{
    sf__subscriber **subs =
        sf__array_grow(fake, fake->subs, &fake->sub_cap, fake->sub_count + 1, sizeof *subs, 16);
    if (subs)
        fake->subs = subs;
    return subs != NULL;
}

void sf__subscriber_link(sf__stream *s, sf__subscriber *sub)
{
    sub->prev = s->subs_tail;
    if (s->subs_tail)
        s->subs_tail->next = sub;
    else
        s->subs_head = sub;
    s->subs_tail = sub;
    s->sub_count++;
    if (sub->held || sub->disconnected)
        s->impaired++;
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

static sf__jentry *journal_sub(sf_fake *fake, sf_journal_kind kind, const sf__subscriber *sub,
                               const char *service_sid)
{
    sf__jentry *e = sf__journal_append(fake, kind);
    if (!e)
        return NULL;
    e->subscriber = sub->id;
    e->account = sub->account;
    sf__journal_sids(e, service_sid, sub->stream_sid, NULL);
    return e;
}

sf_status sf_subscribe(sf_fake *fake, const char *account_sid, const char *service_sid,
                       const char *stream_id, const sf_subscribe_params *params,
                       sf_subscriber_id *out, sf_error *err)
{
    if (!fake || !params || !params->on_event)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s",
                               !fake ? "fake is NULL" : "on_event callback is required");
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_subscribe(fake, account_sid, service_sid, stream_id, params));
    sf__begin(fake);
    sf__stream *s;
    sf_status st = sf__resolve_stream(fake, account_sid, service_sid, stream_id, "", &s, err);
    if (st != SF_OK)
        return st;
    sf__subscriber *sub = sf__malloc(fake, sizeof *sub);
    if (!sub)
        return sf__fail(err, SF_ERR_NOMEM);
    if (!sf__subscribers_reserve(fake)) {
        sf__free(fake, sub);
        return sf__fail(err, SF_ERR_NOMEM);
    }
    sf__subscriber_init(sub);
    sub->id = ++fake->last_sub_id;
    sub->stream = s;
    sub->account = s->service->account;
    sf__stream_sid(s, sub->stream_sid);
    sub->fn = params->on_event;
    sub->user = params->user;
    sub->client_id = params->client_id;
    sub->skip_local = params->skip_local && params->client_id != 0;
    sub->connection = params->connection;
    memcpy(sub->stats.stream_sid, sub->stream_sid, SF_SID_SIZE);
    sub->stats.connected = true;
    fake->subs[fake->sub_count++] = sub;
    sf__subscriber_link(s, sub);
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
    return sf_unsubscribe_because(fake, id, SF_UNSUBSCRIBE_REQUESTED, err);
}

sf_status sf_unsubscribe_because(sf_fake *fake, sf_subscriber_id id, sf_unsubscribe_reason reason,
                                 sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    if (!sf_unsubscribe_reason_name(reason) && reason != SF_UNSUBSCRIBE_REQUESTED)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown reason %d", (int)reason);
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_unsubscribe(fake, id, reason));
    sf__begin(fake);
    if (sub->stream) {
        const char *service_sid = sub->stream->service->sid;
        sf__jentry *e = journal_sub(fake, SF_JOURNAL_UNSUBSCRIBED, sub, service_sid);
        if (e)
            e->reason = (uint8_t)reason;
        detach(fake, sub);
    }
    if (!sub->released)
        retire(fake, sub); /* may free sub */
    else
        forget_retired(fake); /* a head that was still referenced may be free now */
    sf__ok(err);
    return SF_OK;
}

const char *sf_unsubscribe_reason_name(sf_unsubscribe_reason reason)
{
    return reason == SF_UNSUBSCRIBE_QUEUE_FULL ? "queue_full" : NULL;
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
    if (fake->free_requested)
        return; /* freed by a callback: nobody is listening any more */
    fake->dispatch_depth++;
    sub->fn(fake, &ev, sub->user);
    fake->dispatch_depth--;
}

void sf__subscriber_notice_due(sf_fake *fake, sf__subscriber *sub) { tell_removed(fake, sub); }

void sf__subscribers_remove_all(sf_fake *fake, sf__stream *s, bool notify, sf_removed_reason reason)
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
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_id(fake, SF__CALL_HOLD, id));
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
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_heal(fake, id, flush));
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

static sf_status set_connected(sf_fake *fake, sf_subscriber_id id, bool connected, sf_error *err)
{
    sf__subscriber *sub;
    sf_status st = lookup(fake, id, &sub, err);
    if (st != SF_OK)
        return st;
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_id(fake, connected ? SF__CALL_RECONNECT : SF__CALL_DISCONNECT, id));
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
    SF__OUTERMOST(fake);
    sf__begin(fake);
    *out = sub->stats;
    out->attached = sub->stream != NULL;
    if (sub->account)
        memcpy(out->account_sid, sub->account->sid, SF_SID_SIZE);
    else
        out->account_sid[0] = '\0';
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
    fake->last_sub_id = 0;
    fake->retired_head = fake->retired_tail = NULL;
    fake->retired_count = 0;
}
