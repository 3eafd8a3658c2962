/* SPDX-License-Identifier: MIT */
/* account_reset.c: sf_account_reset, a reset of one account's things (services, streams,
 * subscribers, deliveries in flight, rules, injections, journal entries) that leaves the
 * other accounts and everything fake-wide (clock, counters, ids) as they were. */
#include "internal.h"
#include "journal_params.h"

/* Cancels the queued deliveries to subscribers of `a` without a fate: the reset forgets
 * them as it forgets the subscribers. Collected first, as cancelling reorders the heap. */
static void cancel_deliveries(sf_fake *fake, const sf__account *a)
{
    sf__delivery *chain = NULL;
    for (size_t i = 0; i < sf__timerq_count(&fake->timers); i++) {
        sf__timer *t = sf__timerq_at(&fake->timers, i);
        if (t->kind != SF__TIMER_DELIVERY)
            continue;
        sf__delivery *d = SF__CONTAINER_OF(t, sf__delivery, timer);
        if (d->sub && d->sub->account == a) {
            d->next = chain; /* queued deliveries do not use next */
            chain = d;
        }
    }
    while (chain) {
        sf__delivery *d = chain;
        chain = d->next;
        sf__timerq_cancel(&fake->timers, &d->timer);
        fake->pending_deliveries--;
        d->sub->stats.in_flight--;
        d->sub = NULL;
        sf__delivery_fire(fake, d); /* with no subscriber it only releases */
    }
}

/* Subscribers of `a` (all detached by now) lose their account: no control API finds them. */
static void forget_subscribers(sf_fake *fake, const sf__account *a)
{
    for (size_t i = 0; i < fake->sub_count; i++)
        if (fake->subs[i]->account == a)
            fake->subs[i]->account = NULL;
}

sf_status sf_account_reset(sf_fake *fake, const char *account_sid, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    if (fake->dispatch_depth > 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "an account cannot be reset inside a subscriber callback");
    SF__RECORDED(sf__rec_account_reset(fake, account_sid));
    sf__account *a;
    sf_status st = sf__resolve_account(fake, account_sid, &a, err);
    if (st != SF_OK)
        return st;
    sf_ms now = sf__begin(fake);
    /* as if each service were removed: subscribers hear `removed` (queued, or told at once
     * when the queue cannot grow), which the run below delivers */
    while (a->services.head)
        sf__service_destroy(fake, SF__CONTAINER_OF(a->services.head, sf__service, order), true);
    sf__run_until(fake, now);
    cancel_deliveries(fake, a);
    forget_subscribers(fake, a);
    sf__faults_forget_account(fake, a);
    sf__journal_forget_account(fake, a);
    sf__ok(err);
    return SF_OK;
}
