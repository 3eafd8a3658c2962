/* SPDX-License-Identifier: MIT */
/* deadline_heap.h: items by (due time, tie-breaker), for background work that must find what is
 * due without scanning everything that is not (token expiry of the Twilsock sessions). The
 * core's one heap (src/heap.h) on the C allocator: each item keeps its own slot number (index
 * + 1 while in the heap, 0 when not), so it can be moved or removed in O(log n). Not
 * thread-safe: the caller serialises. */
#ifndef SF_DEADLINE_HEAP_H
#define SF_DEADLINE_HEAP_H

#include "../../src/heap.h"

typedef sf__heap_entry sf_deadline;
typedef sf__heap sf_deadline_heap;

/* Room for n items in all, so that sf_deadline_set cannot fail. false: out of memory. */
bool sf_deadline_reserve(sf_deadline_heap *h, size_t n);
/* Puts the item in (when *slot is 0) or moves it to its new due time. There must be room
 * (sf_deadline_reserve) for an item not yet in. */
void sf_deadline_set(sf_deadline_heap *h, void *item, size_t *slot, int64_t due, uint64_t tie);
/* Takes the item out; nothing when it is not in (*slot 0). */
void sf_deadline_remove(sf_deadline_heap *h, size_t *slot);
/* The earliest item, or NULL when empty. */
const sf_deadline *sf_deadline_first(const sf_deadline_heap *h);
void sf_deadline_free(sf_deadline_heap *h);

#endif
