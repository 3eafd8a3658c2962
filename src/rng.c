/* SPDX-License-Identifier: MIT */
/* rng.c: the fake's only source of randomness. SplitMix64's finaliser (Steele, Lea, Flood
 * 2014) as a keyed hash: every random value is a pure function of (seed, what it decides), so
 * the same seed means the same thing on every platform and compiler. */
#include "internal.h"

uint64_t sf__mix64(uint64_t x)
{
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

uint64_t sf__hash3(uint64_t seed, uint64_t a, uint64_t b)
{
    return sf__mix64(sf__mix64(sf__mix64(seed) ^ a) ^ b);
}
