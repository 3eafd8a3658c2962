/* SPDX-License-Identifier: MIT */
/* delivery.c: fan-out of a published message and the fate of each delivery.
 *
 * Two paths with one meaning. Every publish conceptually queues one delivery per attached
 * subscriber at its due time, and the queue runs in (due time, sequence) order. When no fault
 * can touch the stream and the call is not nested in a callback, every due time is "now" and
 * nothing else is due, so the fast path hands the message to each subscriber in order without
 * queueing anything: same order, same journal, no allocation per subscriber. Otherwise each
 * delivery's fate is planned from the rules, allocations are made, and only then is anything
 * committed, so a failed publish changes nothing. */
#include "internal.h"
#include "timebound.h"

#include <string.h>

enum { DRAW_DROP = 1, DRAW_DUPLICATE, DRAW_JITTER, DRAW_DUPLICATE_JITTER };

/* The part of every draw about one message: (seed, stream, message). */
uint64_t sf__message_draw_key(const sf_fake *fake, const sf__message *m)
{
    return sf__hash3(fake->opts.seed, m->stream_key, m->ordinal);
}

/* A uniform draw in [0, 1) that depends only on (seed, stream, message, subscriber, rule,
 * purpose): adding a subscriber or a rule never changes another draw. */
static double draw(const sf_fake *fake, const sf__rule *r, const sf__message *m,
                   sf_subscriber_id sub, unsigned purpose)
{
    (void)fake;
    uint64_t who = sub * UINT64_C(0x9e3779b97f4a7c15) ^ ((uint64_t)r->id << 8 | purpose);
    uint64_t h = sf__mix64(m->draw_key ^ sf__mix64(who));
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

static sf_ms jitter(const sf_fake *fake, const sf__rule *r, const sf__message *m,
                    sf_subscriber_id sub, unsigned purpose)
{
    if (r->params.jitter_ms <= 0)
        return 0;
    return (sf_ms)(draw(fake, r, m, sub, purpose) * (double)(r->params.jitter_ms + 1));
}

typedef struct plan {
    sf__subscriber *sub;
    bool skip; /* its own client published it and it asked not to get those */
    bool lost, dropped, duplicate;
    sf__rule *drop_rule, *delay_rule, *duplicate_rule;
    sf_ms delay, duplicate_delay;
} plan;

static bool applies(const sf__rule *r, const sf__stream *s)
{
    return sf__rule_account_ok(r, s->service->account) &&
           (r->params.scope != SF_SCOPE_STREAM || sf__stream_has_sid(s, r->stream_sid));
}

static void plan_rule(const sf_fake *fake, sf__rule *r, const sf__message *m, plan *p)
{
    sf_subscriber_id id = p->sub->id;
    if (!p->dropped && r->drop_next_left > r->pending_drops) {
        r->pending_drops++;
        p->dropped = true;
        p->drop_rule = r;
    } else if (!p->dropped && r->params.drop_rate > 0 &&
               draw(fake, r, m, id, DRAW_DROP) < r->params.drop_rate) {
        p->dropped = true;
        p->drop_rule = r;
    }
    if (p->dropped)
        return; /* nothing else matters for this delivery */
    if (r->params.delay_ms > 0 || r->params.jitter_ms > 0) {
        /* each rule adds at most 2^41 ms; the sum saturates where every deadline does */
        p->delay = sf__time_add(p->delay, r->params.delay_ms + jitter(fake, r, m, id, DRAW_JITTER));
        if (!p->delay_rule)
            p->delay_rule = r;
    }
    if (!p->duplicate && r->params.duplicate_rate > 0 &&
        draw(fake, r, m, id, DRAW_DUPLICATE) < r->params.duplicate_rate) {
        p->duplicate = true;
        p->duplicate_rule = r;
    }
}

/* The duplicate copy's own delay: the same rules, their own jitter draws. */
static void plan_duplicate_delay(const sf_fake *fake, sf__rule *r, const sf__message *m, plan *p)
{
    if (r->params.delay_ms > 0 || r->params.jitter_ms > 0)
        p->duplicate_delay =
            sf__time_add(p->duplicate_delay, r->params.delay_ms + jitter(fake, r, m, p->sub->id,
                                                                         DRAW_DUPLICATE_JITTER));
}

static void make_plan(sf_fake *fake, const sf__stream *s, const sf__message *m, plan *p)
{
    if (p->sub->skip_local && p->sub->client_id == m->publisher) {
        p->skip = true;
        return;
    }
    if (p->sub->disconnected) {
        p->lost = true;
        return;
    }
    for (size_t i = 0; i < fake->shared_count; i++)
        if (applies(fake->shared_rules[i], s))
            plan_rule(fake, fake->shared_rules[i], m, p);
    for (size_t i = 0; i < p->sub->rule_count; i++)
        plan_rule(fake, p->sub->rules[i], m, p);
    if (p->dropped) {
        p->duplicate = false;
        return;
    }
    if (!p->duplicate)
        return;
    for (size_t i = 0; i < fake->shared_count; i++)
        if (applies(fake->shared_rules[i], s))
            plan_duplicate_delay(fake, fake->shared_rules[i], m, p);
    for (size_t i = 0; i < p->sub->rule_count; i++)
        plan_duplicate_delay(fake, p->sub->rules[i], m, p);
}

static sf__delivery *delivery_new(sf_fake *fake)
{
    sf__delivery *d = fake->free_deliveries;
    if (d) {
        fake->free_deliveries = d->next;
        return d;
    }
    return sf__malloc(fake, sizeof *d);
}

static void delivery_recycle(sf_fake *fake, sf__delivery *d)
{
    d->next = fake->free_deliveries;
    fake->free_deliveries = d;
}

void sf__message_unref(sf_fake *fake, sf__message *msg)
{
    if (--msg->refs == 0)
        sf__free(fake, msg);
}

bool sf__fanout_fast_ok(const sf_fake *fake, const sf__stream *s)
{
    return fake->dispatch_depth == 0 && fake->shared_count == 0 && s->impaired == 0 &&
           fake->rule_count == 0;
}

void sf__deliver(sf_fake *fake, sf__subscriber *sub, const sf__message *msg, bool duplicate)
{
    sub->stats.delivered++;
    if (duplicate)
        sub->stats.duplicated++;
    sf__journal_fate(fake, SF_JOURNAL_DELIVERED, msg, sub->id, NULL, msg->published, duplicate);
    sf_event ev = {.kind = SF_EVENT_MESSAGE_PUBLISHED,
                   .subscriber = sub->id,
                   .service_sid = msg->service_sid,
                   .stream_sid = msg->stream_sid,
                   .message_sid = msg->sid,
                   .data = msg->data,
                   .data_len = msg->len,
                   .is_local = msg->publisher != 0 && msg->publisher == sub->client_id,
                   .is_duplicate = duplicate,
                   .published_ms = msg->published,
                   .delivered_ms = fake->now};
    if (fake->free_requested)
        return; /* freed by a callback: nobody is listening any more */
    fake->dispatch_depth++;
    sub->fn(fake, &ev, sub->user);
    fake->dispatch_depth--;
}

void sf__fanout_now(sf_fake *fake, sf__stream *s, const sf__message *msg)
{
    /* Subscribers that attach during a callback have larger ids and are not served; ones that
     * detach are skipped. Detached records keep their next pointer, so the walk continues. */
    sf_subscriber_id last = s->subs_tail ? s->subs_tail->id : 0;
    for (sf__subscriber *sub = s->subs_head; sub && sub->id <= last; sub = sub->next)
        if (sub->stream && !(sub->skip_local && sub->client_id == msg->publisher))
            sf__deliver(fake, sub, msg, false);
}

void sf__delivery_due(sf_fake *fake, sf__delivery *d)
{
    fake->pending_deliveries--;
    if (d->sub)
        d->sub->stats.in_flight--;
    sf__delivery_fire(fake, d);
}

void sf__delivery_fire(sf_fake *fake, sf__delivery *d)
{
    sf__subscriber *sub = d->sub;
    if (sub) {
        if (!sub->stream) {
            sub->stats.lost++;
            sf__journal_fate(fake, SF_JOURNAL_LOST, d->msg, sub->id, NULL, fake->now, d->duplicate);
        } else if (sub->disconnected) {
            sub->stats.lost++;
            sf__journal_fate(fake, SF_JOURNAL_LOST, d->msg, sub->id, NULL, fake->now, d->duplicate);
        } else if (sub->held) {
            sf__journal_fate(fake, SF_JOURNAL_HELD, d->msg, sub->id, NULL, fake->now, d->duplicate);
            sub->stats.parked++;
            d->next = NULL;
            if (sub->parked_tail)
                sub->parked_tail->next = d;
            else
                sub->parked_head = d;
            sub->parked_tail = d;
            return; /* kept until a heal */
        } else {
            sf__deliver(fake, sub, d->msg, d->duplicate);
        }
    }
    sf__message_unref(fake, d->msg);
    delivery_recycle(fake, d);
}

/* Queues a planned delivery (already allocated) at publish time + delay. */
static void enqueue(sf_fake *fake, sf__delivery *d, sf__message *msg, sf__subscriber *sub,
                    bool duplicate, sf_ms delay)
{
    d->msg = msg;
    msg->refs++;
    d->sub = sub;
    d->duplicate = duplicate;
    d->next = NULL;
    d->timer.slot = SF__TIMER_IDLE;
    d->timer.kind = SF__TIMER_DELIVERY;
    sub->stats.in_flight++;
    fake->pending_deliveries++;
    sf__timerq_arm(&fake->timers, &d->timer, sf__time_add(msg->published, delay));
}

/* Applies a plan: counters, rule hits, queued deliveries. Its journal entries are written by
 * sf__fanout_journal, after the publish call itself is journaled. */
static void commit_plan(sf_fake *fake, sf__message *msg, plan *p, sf__delivery **spare)
{
    sf__subscriber *sub = p->sub;
    if (p->skip)
        return;
    if (p->lost) {
        sub->stats.lost++;
        return;
    }
    if (p->dropped) {
        sub->stats.dropped++;
        p->drop_rule->hits++;
        if (p->drop_rule->pending_drops > 0) { /* dropped by drop_next, not by chance */
            p->drop_rule->drop_next_left--;
            p->drop_rule->pending_drops--;
        }
        return;
    }
    if (p->delay > 0)
        p->delay_rule->hits++;
    sf__delivery *d = *spare;
    *spare = d->next;
    enqueue(fake, d, msg, sub, false, p->delay);
    if (p->duplicate) {
        p->duplicate_rule->hits++;
        d = *spare;
        *spare = d->next;
        enqueue(fake, d, msg, sub, true, p->duplicate_delay);
    }
}

void sf__fanout_journal(sf_fake *fake, const sf__message *msg, void *plans, size_t n)
{
    plan *ps = plans;
    for (size_t i = 0; i < n; i++) {
        plan *p = &ps[i];
        sf_subscriber_id id = p->sub->id;
        if (p->skip)
            continue;
        if (p->lost) {
            sf__journal_fate(fake, SF_JOURNAL_LOST, msg, id, NULL, msg->published, false);
            continue;
        }
        if (p->dropped) {
            sf__journal_fate(fake, SF_JOURNAL_DROPPED, msg, id, p->drop_rule, msg->published,
                             false);
            continue;
        }
        if (p->delay > 0)
            sf__journal_fate(fake, SF_JOURNAL_DELAYED, msg, id, p->delay_rule,
                             sf__time_add(msg->published, p->delay), false);
        if (p->duplicate)
            sf__journal_fate(fake, SF_JOURNAL_DUPLICATED, msg, id, p->duplicate_rule,
                             sf__time_add(msg->published, p->duplicate_delay), true);
    }
    sf__free(fake, plans);
}

static void forget_pending_drops(sf_fake *fake)
{
    for (size_t i = 0; i < fake->rule_count; i++)
        fake->rules[i]->pending_drops = 0;
}

sf_status sf__fanout(sf_fake *fake, sf__stream *s, sf__message *msg, void **plans_out,
                     size_t *count_out)
{
    size_t n = s->sub_count, needed = 0;
    plan *plans = sf__malloc(fake, n * sizeof *plans);
    if (!plans)
        return SF_ERR_NOMEM;
    size_t i = 0;
    for (sf__subscriber *sub = s->subs_head; sub; sub = sub->next, i++) {
        memset(&plans[i], 0, sizeof plans[i]);
        plans[i].sub = sub;
        make_plan(fake, s, msg, &plans[i]);
        if (!plans[i].skip && !plans[i].lost && !plans[i].dropped)
            needed += plans[i].duplicate ? 2 : 1;
    }
    /* every allocation before any change: deliveries, and heap room for each */
    sf__delivery *spare = NULL;
    size_t fresh = 0; /* how many of `spare` (at its front) came from the allocator */
    bool ok = true;
    for (size_t k = 0; k < needed && ok; k++) {
        bool pooled = fake->free_deliveries != NULL;
        sf__delivery *d = delivery_new(fake);
        ok = d != NULL;
        if (ok) {
            d->next = spare;
            spare = d;
            fresh += !pooled;
        }
    }
    if (ok)
        ok = sf__timerq_reserve_n(fake, &fake->timers, needed);
    if (!ok) {
        /* back as they were: fresh blocks freed, pooled ones returned to the pool */
        for (size_t k = 0; spare; k++) {
            sf__delivery *d = spare;
            spare = d->next;
            if (k < fresh)
                sf__free(fake, d);
            else
                delivery_recycle(fake, d);
        }
        forget_pending_drops(fake);
        sf__free(fake, plans);
        return SF_ERR_NOMEM;
    }
    for (i = 0; i < n; i++)
        commit_plan(fake, msg, &plans[i], &spare);
    forget_pending_drops(fake);
    *plans_out = plans;
    *count_out = n;
    return SF_OK;
}

void sf__deliveries_release(sf_fake *fake)
{
    /* Queued deliveries are owned by the timer queue; parked ones by their subscriber. Called
     * at teardown, after every stream (and so every expiry timer) is gone: the queue holds
     * deliveries only, and is emptied here. */
    for (size_t i = 0; i < sf__timerq_count(&fake->timers); i++) {
        sf__timer *t = sf__timerq_at(&fake->timers, i);
        t->slot = SF__TIMER_IDLE;
        if (t->kind == SF__TIMER_DELIVERY) {
            sf__delivery *d = SF__CONTAINER_OF(t, sf__delivery, timer);
            sf__message_unref(fake, d->msg);
            sf__free(fake, d);
        }
    }
    fake->timers.heap.len = 0;
    for (size_t i = 0; i < fake->sub_count; i++) {
        sf__subscriber *sub = fake->subs[i];
        while (sub->parked_head) {
            sf__delivery *d = sub->parked_head;
            sub->parked_head = d->next;
            sf__message_unref(fake, d->msg);
            sf__free(fake, d);
        }
    }
    while (fake->free_deliveries) {
        sf__delivery *d = fake->free_deliveries;
        fake->free_deliveries = d->next;
        sf__free(fake, d);
    }
    fake->pending_deliveries = 0;
}
