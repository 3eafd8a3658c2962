/* SPDX-License-Identifier: MIT */
/* timebound.h: arithmetic on the fake's times. Every time the fake holds lies in
 * SF_TIME_MIN_MS..SF_TIME_MAX_MS; a deadline computed from a time and a (non-negative) span
 * saturates at SF_TIME_MAX_MS instead of overflowing, so it stays a date the fake can reach
 * and render. */
#ifndef SF_TIMEBOUND_H
#define SF_TIMEBOUND_H

#include "syncfake.h"

/* t pulled into the fake's range (for clock values the fake did not choose). */
static inline sf_ms sf__time_clamp(sf_ms t)
{
    return t < SF_TIME_MIN_MS ? SF_TIME_MIN_MS : t > SF_TIME_MAX_MS ? SF_TIME_MAX_MS : t;
}

/* t + span, saturated at SF_TIME_MAX_MS; a negative span counts as 0. */
static inline sf_ms sf__time_add(sf_ms t, sf_ms span)
{
    sf_ms sum;
    if (span <= 0)
        return t;
    if (__builtin_add_overflow(t, span, &sum) || sum > SF_TIME_MAX_MS)
        return SF_TIME_MAX_MS;
    return sum;
}

#endif
