/* SPDX-License-Identifier: MIT */
/* events.c: runs the fake's event queue in (due time, sequence) order. */
#include "internal.h"
#include "journal_params.h"

static void dispatch(sf_fake *fake, sf__timer *t)
{
    switch ((sf__timer_kind)t->kind) {
    case SF__TIMER_STREAM_EXPIRY:
        sf__stream_expire(fake, SF__CONTAINER_OF(t, sf__stream, expiry));
        break;
    case SF__TIMER_DELIVERY:
        sf__delivery_due(fake, SF__CONTAINER_OF(t, sf__delivery, timer));
        break;
    case SF__TIMER_REMOVED_NOTICE:
        sf__subscriber_notice_due(fake, SF__CONTAINER_OF(t, sf__subscriber, notice));
        break;
    }
}

size_t sf__run_until(sf_fake *fake, sf_ms until)
{
    size_t ran = 0;
    sf__timer *t;
    while ((t = sf__timerq_peek(&fake->timers)) && t->due <= until) {
        if (t->due > fake->now)
            fake->now = t->due; /* each event runs with the clock at its due time */
        sf__timerq_pop(&fake->timers);
        dispatch(fake, t);
        ran++;
    }
    if (until > fake->now)
        fake->now = until;
    return ran;
}

bool sf_next_event_time(const sf_fake *fake, sf_ms *out)
{
    const sf__timer *t = fake ? sf__timerq_peek(&fake->timers) : NULL;
    if (!t)
        return false;
    if (out)
        *out = t->due;
    return true;
}

size_t sf_pending_events(const sf_fake *fake) { return fake ? sf__timerq_count(&fake->timers) : 0; }

size_t sf_pending_deliveries(const sf_fake *fake) { return fake ? fake->pending_deliveries : 0; }

size_t sf_run_until_idle(sf_fake *fake)
{
    if (!fake || fake->opts.clock != SF_CLOCK_MANUAL || fake->dispatch_depth > 0)
        return 0;
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_plain(fake, SF__CALL_RUN_UNTIL_IDLE));
    size_t ran = 0;
    while (fake->pending_deliveries > 0) {
        const sf__timer *t = sf__timerq_peek(&fake->timers);
        ran += sf__run_until(fake, t->due);
    }
    return ran;
}
