/* SPDX-License-Identifier: MIT */
/* heap.c: see heap.h. */
#include "heap.h"

static bool before(const sf__heap_entry *a, const sf__heap_entry *b)
{
    return a->due < b->due || (a->due == b->due && a->tie < b->tie);
}

static void place(sf__heap *h, size_t i, sf__heap_entry e)
{
    h->at[i] = e;
    *e.slot = i + 1;
}

static void sift_up(sf__heap *h, size_t i)
{
    sf__heap_entry e = h->at[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&e, &h->at[parent]))
            break;
        place(h, i, h->at[parent]);
        i = parent;
    }
    place(h, i, e);
}

static void sift_down(sf__heap *h, size_t i)
{
    sf__heap_entry e = h->at[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && before(&h->at[child + 1], &h->at[child]))
            child++;
        if (!before(&h->at[child], &e))
            break;
        place(h, i, h->at[child]);
        i = child;
    }
    place(h, i, e);
}

bool sf__heap_reserve(sf__heap *h, size_t n, sf__heap_realloc_fn alloc, void *ctx)
{
    if (n <= h->cap)
        return true;
    size_t cap = h->cap ? h->cap : 16;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof *h->at)
            return false;
        cap *= 2;
    }
    sf__heap_entry *at = alloc(ctx, h->at, cap * sizeof *at);
    if (!at)
        return false;
    h->at = at;
    h->cap = cap;
    return true;
}

void sf__heap_set(sf__heap *h, void *item, size_t *slot, int64_t due, uint64_t tie)
{
    sf__heap_entry e = {due, tie, item, slot};
    if (*slot == 0) {
        if (h->len == h->cap)
            return;
        place(h, h->len++, e);
        sift_up(h, h->len - 1);
        return;
    }
    size_t i = *slot - 1; /* moved: it may go either way */
    place(h, i, e);
    sift_up(h, i);
    sift_down(h, *slot - 1);
}

void sf__heap_remove(sf__heap *h, size_t *slot)
{
    if (*slot == 0)
        return;
    size_t i = *slot - 1;
    *slot = 0;
    h->len--;
    if (i == h->len)
        return;
    size_t *moved = h->at[h->len].slot; /* the last entry fills the hole, then finds its place */
    place(h, i, h->at[h->len]);
    sift_up(h, i);
    sift_down(h, *moved - 1);
}

void sf__heap_release(sf__heap *h, sf__heap_realloc_fn alloc, void *ctx)
{
    if (h->at)
        alloc(ctx, h->at, 0);
    h->at = NULL;
    h->len = h->cap = 0;
}
