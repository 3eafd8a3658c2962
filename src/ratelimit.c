/* SPDX-License-Identifier: MIT */
/* ratelimit.c: the per-stream publish token bucket, on the fake's clock.
 * Tokens are counted in thousandths so that a refill of R tokens/s is exactly R milli-tokens
 * per millisecond: no floating point, no drift. */
#include "internal.h"
#include "timebound.h"

#include <string.h>

#define MILLI 1000u

static uint64_t capacity(const sf_fake *fake)
{
    return (uint64_t)fake->opts.limits.publish_burst * MILLI;
}

static uint64_t level_at(const sf_fake *fake, const sf__bucket *b, sf_ms now)
{
    uint64_t cap = capacity(fake);
    uint64_t rate = fake->opts.limits.publish_rate_per_s;
    uint64_t elapsed = now > b->refilled_at ? (uint64_t)(now - b->refilled_at) : 0;
    if (elapsed >= cap) /* rate >= 1, so this much time refills any bucket */
        return cap;
    uint64_t level = b->milli_tokens + elapsed * rate;
    return level < cap ? level : cap;
}

void sf__bucket_init(const sf_fake *fake, sf__bucket *b, sf_ms now)
{
    b->milli_tokens = capacity(fake);
    b->refilled_at = now;
}

bool sf__bucket_allows(const sf_fake *fake, const sf__bucket *b, sf_ms now)
{
    if (fake->opts.limits.publish_rate_per_s == 0)
        return true;
    return level_at(fake, b, now) >= MILLI;
}

void sf__bucket_take(const sf_fake *fake, sf__bucket *b, sf_ms now)
{
    if (fake->opts.limits.publish_rate_per_s == 0)
        return;
    b->milli_tokens = level_at(fake, b, now) - MILLI;
    b->refilled_at = now;
}

void sf__bucket_state(const sf_fake *fake, const sf__bucket *b, sf_ms now, sf_rate_state *out)
{
    uint32_t rate = fake->opts.limits.publish_rate_per_s;
    memset(out, 0, sizeof *out); /* padding too: records compare with memcmp */
    out->capacity = fake->opts.limits.publish_burst;
    out->limited = rate != 0;
    if (!out->limited) {
        out->tokens = out->capacity;
        out->next_allowed_ms = now;
        return;
    }
    uint64_t level = level_at(fake, b, now);
    out->tokens = (uint32_t)(level / MILLI);
    out->next_allowed_ms = now;
    if (level < MILLI)
        out->next_allowed_ms = sf__time_add(now, (sf_ms)((MILLI - level + rate - 1) / rate));
}
