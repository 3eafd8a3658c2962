/* SPDX-License-Identifier: MIT */
/* heap.h: the one binary min-heap of the project, ordered by (due, tie). The core's event queue
 * (timerq.c) and the server's token deadlines (fake_http/server/deadline_heap.c) both use it.
 * Each entry keeps its (due, tie) inline, so sifting compares without touching the items, and
 * points at its item's slot number (index + 1 while in the heap, 0 when not), so an item can be
 * moved or removed in O(log n). Memory comes from the caller's allocator hook, so the core
 * keeps every byte on the fake's allocator. Not thread-safe: the caller serialises. */
#ifndef SF_HEAP_H
#define SF_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf__heap_entry {
    int64_t due;
    uint64_t tie; /* equal due times: the smaller tie first */
    void *item;
    size_t *slot; /* the item's: its index + 1 while in the heap, 0 when not */
} sf__heap_entry;

typedef struct sf__heap {
    sf__heap_entry *at;
    size_t len, cap;
} sf__heap;

/* The allocator hook: realloc semantics, and size 0 frees ptr (returning NULL). */
typedef void *(*sf__heap_realloc_fn)(void *ctx, void *ptr, size_t size);

/* Room for n entries in all, so that sf__heap_set cannot fail. false: out of memory (the heap
 * is unchanged). */
bool sf__heap_reserve(sf__heap *h, size_t n, sf__heap_realloc_fn alloc, void *ctx);
/* Puts the item in (when *slot is 0) or moves it to (due, tie). An item not yet in needs room
 * (sf__heap_reserve); without it nothing is written (a caller's bug, never out of bounds). */
void sf__heap_set(sf__heap *h, void *item, size_t *slot, int64_t due, uint64_t tie);
/* Takes the item out; nothing when it is not in (*slot 0). */
void sf__heap_remove(sf__heap *h, size_t *slot);
/* The earliest entry, or NULL when empty. */
static inline const sf__heap_entry *sf__heap_first(const sf__heap *h)
{
    return h->len ? &h->at[0] : NULL;
}
/* Gives the memory back through the hook; the items are not touched (they may be gone). */
void sf__heap_release(sf__heap *h, sf__heap_realloc_fn alloc, void *ctx);

#endif
