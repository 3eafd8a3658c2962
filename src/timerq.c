/* SPDX-License-Identifier: MIT */
/* timerq.c: binary min-heap of intrusive timers, ordered by (due, seq). */
#include "internal.h"

static bool before(const sf__timerq_entry *a, const sf__timerq_entry *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void place(sf__timerq *q, uint32_t slot, sf__timerq_entry e)
{
    q->heap[slot] = e;
    e.timer->slot = slot;
}

static void sift_up(sf__timerq *q, uint32_t slot)
{
    sf__timerq_entry e = q->heap[slot];
    while (slot > 0) {
        uint32_t parent = (slot - 1) / 2;
        if (!before(&e, &q->heap[parent]))
            break;
        place(q, slot, q->heap[parent]);
        slot = parent;
    }
    place(q, slot, e);
}

static void sift_down(sf__timerq *q, uint32_t slot)
{
    sf__timerq_entry e = q->heap[slot];
    for (;;) {
        uint32_t child = 2 * slot + 1;
        if (child >= q->count)
            break;
        if (child + 1 < q->count && before(&q->heap[child + 1], &q->heap[child]))
            child++;
        if (!before(&q->heap[child], &e))
            break;
        place(q, slot, q->heap[child]);
        slot = child;
    }
    place(q, slot, e);
}

void sf__timerq_init(sf__timerq *q)
{
    q->heap = NULL;
    q->count = 0;
    q->cap = 0;
    q->next_seq = 0;
}

void sf__timerq_release(sf_fake *fake, sf__timerq *q)
{
    for (uint32_t i = 0; i < q->count; i++)
        q->heap[i].timer->slot = SF__TIMER_IDLE;
    sf__free(fake, q->heap);
    sf__timerq_init(q);
}

bool sf__timerq_reserve(sf_fake *fake, sf__timerq *q) { return sf__timerq_reserve_n(fake, q, 1); }

bool sf__timerq_reserve_n(sf_fake *fake, sf__timerq *q, size_t n)
{
    if (n <= q->cap - q->count)
        return true;
    if (n > UINT32_MAX / 4 || q->count + n > UINT32_MAX / 4)
        return false;
    uint32_t cap = q->cap ? q->cap : 64;
    while (cap < q->count + n)
        cap *= 2;
    sf__timerq_entry *heap = sf__realloc(fake, q->heap, (size_t)cap * sizeof *heap);
    if (!heap)
        return false;
    q->heap = heap;
    q->cap = cap;
    return true;
}

void sf__timerq_arm(sf__timerq *q, sf__timer *t, int64_t due)
{
    t->due = due;
    t->seq = q->next_seq++;
    sf__timerq_entry e = {due, t->seq, t};
    if (sf__timer_armed(t)) {
        /* re-armed: it may have moved either way */
        q->heap[t->slot] = e;
        sift_up(q, t->slot);
        sift_down(q, t->slot);
        return;
    }
    place(q, q->count++, e);
    sift_up(q, t->slot);
}

void sf__timerq_restore(sf__timerq *q, sf__timer *t, int64_t due, uint64_t seq)
{
    t->due = due;
    t->seq = seq;
    place(q, q->count++, (sf__timerq_entry){due, seq, t});
    sift_up(q, t->slot);
}

void sf__timerq_cancel(sf__timerq *q, sf__timer *t)
{
    if (!sf__timer_armed(t))
        return;
    uint32_t slot = t->slot;
    sf__timerq_entry last = q->heap[--q->count];
    t->slot = SF__TIMER_IDLE;
    if (last.timer == t)
        return;
    place(q, slot, last);
    sift_up(q, slot);
    sift_down(q, last.timer->slot);
}

void sf__timerq_pop(sf__timerq *q)
{
    sf__timer *t = q->heap[0].timer;
    t->slot = SF__TIMER_IDLE;
    if (--q->count == 0)
        return;
    q->heap[0] = q->heap[q->count]; /* the last entry sinks from the root: no sift up */
    sift_down(q, 0);
}

sf__timer *sf__timerq_peek(const sf__timerq *q) { return q->count ? q->heap[0].timer : NULL; }
