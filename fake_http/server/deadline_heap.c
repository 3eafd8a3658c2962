/* SPDX-License-Identifier: MIT */
/* deadline_heap.c: see deadline_heap.h. */
#include "deadline_heap.h"

#include <stdlib.h>

static bool before(const sf_deadline *a, const sf_deadline *b)
{
    return a->due < b->due || (a->due == b->due && a->tie < b->tie);
}

static void place(sf_deadline_heap *h, size_t i, sf_deadline d)
{
    h->at[i] = d;
    *d.slot = i + 1;
}

static void sift_up(sf_deadline_heap *h, size_t i)
{
    sf_deadline d = h->at[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&d, &h->at[parent]))
            break;
        place(h, i, h->at[parent]);
        i = parent;
    }
    place(h, i, d);
}

static void sift_down(sf_deadline_heap *h, size_t i)
{
    sf_deadline d = h->at[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->len)
            break;
        if (child + 1 < h->len && before(&h->at[child + 1], &h->at[child]))
            child++;
        if (!before(&h->at[child], &d))
            break;
        place(h, i, h->at[child]);
        i = child;
    }
    place(h, i, d);
}

bool sf_deadline_reserve(sf_deadline_heap *h, size_t n)
{
    if (n <= h->cap)
        return true;
    size_t cap = h->cap ? h->cap : 16;
    while (cap < n) {
        if (cap > SIZE_MAX / 2 / sizeof *h->at)
            return false;
        cap *= 2;
    }
    sf_deadline *at = realloc(h->at, cap * sizeof *at);
    if (!at)
        return false;
    h->at = at;
    h->cap = cap;
    return true;
}

void sf_deadline_set(sf_deadline_heap *h, void *item, size_t *slot, int64_t due, uint64_t tie)
{
    sf_deadline d = {due, tie, item, slot};
    if (*slot == 0) {
        if (h->len == h->cap)
            return; /* no room was reserved: a caller's bug, never a write out of bounds */
        place(h, h->len++, d);
        sift_up(h, h->len - 1);
        return;
    }
    size_t i = *slot - 1;
    place(h, i, d);
    sift_up(h, i);
    sift_down(h, *slot - 1);
}

void sf_deadline_remove(sf_deadline_heap *h, size_t *slot)
{
    if (*slot == 0)
        return;
    size_t i = *slot - 1;
    *slot = 0;
    h->len--;
    if (i == h->len)
        return;
    size_t *moved = h->at[h->len].slot; /* the last item fills the hole, then finds its place */
    place(h, i, h->at[h->len]);
    sift_up(h, i);
    sift_down(h, *moved - 1);
}

const sf_deadline *sf_deadline_first(const sf_deadline_heap *h)
{
    return h->len ? &h->at[0] : NULL;
}

void sf_deadline_free(sf_deadline_heap *h)
{
    free(h->at);
    h->at = NULL;
    h->len = h->cap = 0;
}
