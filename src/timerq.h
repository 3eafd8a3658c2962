/* SPDX-License-Identifier: MIT */
/* timerq.h: the fake's event queue, a binary min-heap of intrusive timers ordered by
 * (due time, sequence). The sequence is taken when a timer is armed, so ties run in the order
 * they were scheduled. Each timer knows its heap slot, so cancelling is O(log n). The heap
 * keeps each entry's (due, seq) inline, so sifting compares without touching the timers. */
#ifndef SF_TIMERQ_H
#define SF_TIMERQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sf__timer_kind {
    SF__TIMER_STREAM_EXPIRY = 1,
    SF__TIMER_DELIVERY = 2,
    SF__TIMER_REMOVED_NOTICE = 3
} sf__timer_kind;

typedef struct sf__timer {
    int64_t due;
    uint64_t seq;
    uint32_t slot;  /* index in the heap; SF__TIMER_IDLE when not queued */
    uint8_t kind;
} sf__timer;

#define SF__TIMER_IDLE UINT32_MAX

typedef struct sf__timerq_entry {
    int64_t due;
    uint64_t seq;
    sf__timer *timer;
} sf__timerq_entry;

typedef struct sf__timerq {
    sf__timerq_entry *heap;
    uint32_t count;
    uint32_t cap;
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

static inline bool sf__timer_armed(const sf__timer *t) { return t->slot != SF__TIMER_IDLE; }

#endif
