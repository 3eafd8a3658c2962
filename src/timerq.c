/* SPDX-License-Identifier: MIT */
/* timerq.c: the fake's timers on the one heap (heap.c), every byte on the fake's allocator. */
#include "internal.h"

/* The heap's allocator hook: the fake's allocator, so allocation failures reach the fake. */
static void *fake_realloc(void *ctx, void *ptr, size_t size)
{
    if (size == 0) {
        sf__free(ctx, ptr);
        return NULL;
    }
    return sf__realloc(ctx, ptr, size);
}

void sf__timerq_init(sf__timerq *q)
{
    q->heap = (sf__heap){NULL, 0, 0};
    q->next_seq = 0;
}

void sf__timerq_release(sf_fake *fake, sf__timerq *q)
{
    for (size_t i = 0; i < q->heap.len; i++)
        *q->heap.at[i].slot = SF__TIMER_IDLE;
    sf__heap_release(&q->heap, fake_realloc, fake);
    sf__timerq_init(q);
}

bool sf__timerq_reserve(sf_fake *fake, sf__timerq *q) { return sf__timerq_reserve_n(fake, q, 1); }

bool sf__timerq_reserve_n(sf_fake *fake, sf__timerq *q, size_t n)
{
    if (n > SIZE_MAX / 4 || q->heap.len + n > SIZE_MAX / 4)
        return false;
    return sf__heap_reserve(&q->heap, q->heap.len + n, fake_realloc, fake);
}

void sf__timerq_arm(sf__timerq *q, sf__timer *t, int64_t due)
{
    t->due = due;
    t->seq = q->next_seq++;
    sf__heap_set(&q->heap, t, &t->slot, due, t->seq);
}

void sf__timerq_restore(sf__timerq *q, sf__timer *t, int64_t due, uint64_t seq)
{
    t->due = due;
    t->seq = seq;
    sf__heap_set(&q->heap, t, &t->slot, due, seq);
}

void sf__timerq_cancel(sf__timerq *q, sf__timer *t) { sf__heap_remove(&q->heap, &t->slot); }

void sf__timerq_pop(sf__timerq *q) { sf__heap_remove(&q->heap, q->heap.at[0].slot); }

sf__timer *sf__timerq_peek(const sf__timerq *q)
{
    const sf__heap_entry *first = sf__heap_first(&q->heap);
    return first ? first->item : NULL;
}
