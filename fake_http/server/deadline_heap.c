/* SPDX-License-Identifier: MIT */
/* deadline_heap.c: see deadline_heap.h. */
#include "deadline_heap.h"

#include <stdlib.h>

/* The heap's allocator hook: the C allocator (the server's memory is not the fake's). */
static void *c_realloc(void *ctx, void *ptr, size_t size)
{
    (void)ctx;
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

bool sf_deadline_reserve(sf_deadline_heap *h, size_t n)
{
    return sf__heap_reserve(h, n, c_realloc, NULL);
}

void sf_deadline_set(sf_deadline_heap *h, void *item, size_t *slot, int64_t due, uint64_t tie)
{
    sf__heap_set(h, item, slot, due, tie);
}

void sf_deadline_remove(sf_deadline_heap *h, size_t *slot) { sf__heap_remove(h, slot); }

const sf_deadline *sf_deadline_first(const sf_deadline_heap *h) { return sf__heap_first(h); }

void sf_deadline_free(sf_deadline_heap *h) { sf__heap_release(h, c_realloc, NULL); }
