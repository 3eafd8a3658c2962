/* SPDX-License-Identifier: MIT */
/* io_loop.h: the server's I/O loop, one thread running one epoll set (level-triggered) over
 * the sockets it was given and an eventfd that wakes it. It knows nothing of WebSocket: what
 * it watches is an sf_io_watch embedded in a connection, and it calls back `service` for a
 * watch whose socket is ready or that was scheduled, and `expired` for one whose deadline
 * passed (Redis's ae.c and libuv's src/unix are the models of the separation).
 *
 * Any thread may schedule a watch (sf_io_schedule): it joins the loop's ready list, and only
 * when that list goes from empty to non-empty is the eventfd written, so a burst of work for
 * one thread costs one wake-up. Everything else here runs on the loop's thread only.
 *
 * Lock: loop->lock guards the ready list and quit, and is taken inside any lock of the
 * caller's (the connection's), never around it. No lock is held while a callback runs. */
#ifndef SF_IO_LOOP_H
#define SF_IO_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct sf_io_loop sf_io_loop;

/* One socket of a loop, embedded in its owner (who finds itself from it with offsetof). */
typedef struct sf_io_watch {
    sf_io_loop *loop;
    int fd;
    struct sf_io_watch *ready_prev, *ready_next; /* loop->ready, under loop->lock */
    bool queued;                                 /* on loop->ready (loop->lock) */
    /* the loop's thread only */
    uint32_t events;                             /* what the epoll set watches; 0: not in it */
    int64_t deadline;                            /* sf_io_now_ms time to expire; -1: none */
    struct sf_io_watch *timed_prev, *timed_next; /* loop->timed */
} sf_io_watch;

typedef void (*sf_io_service_fn)(sf_io_watch *w, uint32_t epoll_events);
typedef void (*sf_io_expired_fn)(sf_io_watch *w);

struct sf_io_loop {
    int epfd, wake_fd;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;                 /* guards ready, quit */
    sf_io_watch *ready_head, *ready_tail; /* watches with something to do */
    bool quit;
    sf_io_watch *timed; /* the loop's thread only: watches with a deadline */
    sf_io_service_fn service;
    sf_io_expired_fn expired;
};

/* Transport time for socket deadlines (monotonic), never the fake's time. */
int64_t sf_io_now_ms(void);

/* Sets the loop up and starts its thread. false: it did not start (sf_io_loop_close still
 * needed). */
bool sf_io_loop_start(sf_io_loop *l, sf_io_service_fn service, sf_io_expired_fn expired);
/* Ends the thread after its current turn (the owner ended every watch first). */
void sf_io_loop_quit(sf_io_loop *l);
void sf_io_loop_close(sf_io_loop *l);

/* A watch of loop l on fd, not yet watched nor scheduled. */
void sf_io_watch_init(sf_io_watch *w, sf_io_loop *l, int fd);
/* Any thread: service(w, 0) will run on the loop's thread. */
void sf_io_schedule(sf_io_watch *w);
/* Any thread: takes w off the ready list. */
void sf_io_unschedule(sf_io_watch *w);
/* Makes the epoll set watch readability and/or writability (errors and hang-ups are always
 * reported). false: epoll refused. */
bool sf_io_watch_set(sf_io_watch *w, bool want_in, bool want_out);
/* Takes w out of the epoll set and the deadlines (before its socket goes). */
void sf_io_watch_forget(sf_io_watch *w);
/* expired(w) at `at` (or earlier, when an earlier deadline is already set). */
void sf_io_deadline(sf_io_watch *w, int64_t at);
/* Whether w has a deadline that has passed. */
bool sf_io_deadline_passed(const sf_io_watch *w);

#endif
