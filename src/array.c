/* SPDX-License-Identifier: MIT */
/* array.c: what the core's arrays share: growth by doubling, the binary search of an array
 * whose keys only grow (ids and ordinals are handed out in order), and a ring's regrowth. */
#include "internal.h"

#include <string.h>

void *sf__array_grow(sf_fake *fake, void *arr, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return arr;
    size_t ncap = *cap ? *cap * 2 : first;
    while (ncap < need)
        ncap *= 2;
    void *n = sf__realloc(fake, arr, ncap * elem);
    if (n)
        *cap = ncap;
    return n;
}

size_t sf__lower_bound(const void *items, size_t count, uint64_t key,
                       uint64_t (*key_at)(const void *items, size_t i))
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_at(items, mid) < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void *sf__ring_regrow(sf_fake *fake, const void *ring, size_t elem, size_t count, size_t head,
                      size_t cap, size_t new_cap)
{
    unsigned char *n = sf__malloc(fake, new_cap * elem);
    if (!n)
        return NULL;
    for (size_t i = 0; i < count; i++) /* oldest first */
        memcpy(n + i * elem, (const unsigned char *)ring + (head + i) % cap * elem, elem);
    return n;
}
