/* SPDX-License-Identifier: MIT */
/* timerq.h: the fake's event queue, intrusive timers ordered by (due time, sequence) in the
 * project's one binary min-heap (heap.h) on the fake's allocator. The sequence is taken when a
 * timer is armed, so ties run in the order they were scheduled. Each timer knows its heap slot,
 * so cancelling is O(log n). */
#ifndef SF_TIMERQ_H
#define SF_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heap.h"

typedef enum sf__timer_kind {
    SF__TIMER_STREAM_EXPIRY = 1,
    SF__TIMER_DELIVERY = 2,
    SF__TIMER_REMOVED_NOTICE = 3
} sf__timer_kind;

typedef struct sf__timer {
    int64_t due;
    uint64_t seq;
    size_t slot; /* the heap's slot number (heap.h); SF__TIMER_IDLE when not queued */
    uint8_t kind;
} sf__timer;

#define SF__TIMER_IDLE 0

typedef struct sf__timerq {
    sf__heap heap; /* items are sf__timer, tie is the timer's seq */
    uint64_t next_seq;
} sf__timerq;

struct sf_fake;

void sf__timerq_init(sf__timerq *q);
void sf__timerq_release(struct sf_fake *fake, sf__timerq *q);
/* Makes room for one more timer so that a following arm cannot fail. */
bool sf__timerq_reserve(struct sf_fake *fake, sf__timerq *q);
/* Makes room for n more timers. */
bool sf__timerq_reserve_n(struct sf_fake *fake, sf__timerq *q, size_t n);
/* Arms (or re-arms) `t` at `due`. Needs a prior successful reserve when t is idle. */
void sf__timerq_arm(sf__timerq *q, sf__timer *t, int64_t due);
void sf__timerq_cancel(sf__timerq *q, sf__timer *t);
/* Puts `t` back with the (due, seq) it had when a snapshot was taken (snapshot_load.c).
 * Needs a prior successful reserve; seq must be below q->next_seq. */
void sf__timerq_restore(sf__timerq *q, sf__timer *t, int64_t due, uint64_t seq);
/* Takes the earliest timer off the queue (there must be one). */
void sf__timerq_pop(sf__timerq *q);
/* The earliest timer, or NULL. */
sf__timer *sf__timerq_peek(const sf__timerq *q);

/* How many timers are queued, and the i-th of them in heap order (for walks over all). */
static inline size_t sf__timerq_count(const sf__timerq *q) { return q->heap.len; }
static inline sf__timer *sf__timerq_at(const sf__timerq *q, size_t i) { return q->heap.at[i].item; }

static inline bool sf__timer_armed(const sf__timer *t) { return t->slot != SF__TIMER_IDLE; }

#endif
