/* SPDX-License-Identifier: MIT */
/* clock.c: the only place that reads a real clock. Each API call samples time once through
 * sf__begin and passes that "now" down, so a call never sees time move under it. */
#include "internal.h"
#include "journal_params.h"
#include "timebound.h"

#include <time.h>

static sf_ms system_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (sf_ms)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static sf_ms sample(sf_fake *fake)
{
    sf_ms t = fake->now;
    if (fake->opts.clock == SF_CLOCK_SYSTEM)
        t = system_now();
    else if (fake->opts.clock == SF_CLOCK_CALLBACK)
        t = fake->opts.clock_fn(fake->opts.clock_user);
    t = sf__time_clamp(t); /* a callback outside the range pins the clock at its bound */
    t = t > fake->now ? t : fake->now; /* the fake's time never goes backwards */
    sf_ms due;
    if (t > fake->now && fake->params && sf_next_event_time(fake, &due) && due <= t)
        sf__rec_clock_sample(fake, t); /* a replay runs what this reading makes due */
    return t;
}

sf_ms sf__begin(sf_fake *fake)
{
    if (fake->dispatch_depth > 0)
        return fake->now; /* inside a callback time stands at the event being run */
    sf__run_until(fake, sample(fake));
    return fake->now;
}

sf_ms sf_clock_now(sf_fake *fake)
{
    if (!fake)
        return 0;
    SF__OUTERMOST(fake);
    return sf__begin(fake);
}

size_t sf_run_due(sf_fake *fake)
{
    if (!fake || fake->dispatch_depth > 0)
        return 0;
    SF__OUTERMOST(fake);
    return sf__run_until(fake, sample(fake));
}

sf_status sf_clock_set(sf_fake *fake, sf_ms now_ms, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_clock_set(fake, now_ms));
    if (fake->opts.clock != SF_CLOCK_MANUAL)
        return sf__fail_detail(err, SF_ERR_CLOCK_NOT_MANUAL,
                               "the clock can only be moved in manual mode");
    if (fake->dispatch_depth > 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "the clock cannot move inside a subscriber callback");
    if (now_ms < SF_TIME_MIN_MS || now_ms > SF_TIME_MAX_MS)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "now_ms must be within %lld..%lld "
                               "(1970-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z)",
                               (long long)SF_TIME_MIN_MS, (long long)SF_TIME_MAX_MS);
    if (now_ms < fake->now)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "time moves forward only (now %lld, asked %lld)",
                               (long long)fake->now, (long long)now_ms);
    sf__run_until(fake, now_ms);
    sf__ok(err);
    return SF_OK;
}

sf_status sf_clock_advance(sf_fake *fake, sf_ms delta_ms, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    if (fake->opts.clock != SF_CLOCK_MANUAL)
        return sf_clock_set(fake, fake->now, err);
    if (delta_ms < 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "delta_ms must be >= 0 and fit");
    if (delta_ms > SF_TIME_MAX_MS - fake->now) /* now is in range: no overflow */
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "delta_ms must be within 0..%lld: the clock ends at %lld "
                               "(9999-12-31T23:59:59.999Z)",
                               (long long)(SF_TIME_MAX_MS - fake->now), (long long)SF_TIME_MAX_MS);
    return sf_clock_set(fake, fake->now + delta_ms, err);
}
