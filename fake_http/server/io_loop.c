/* SPDX-License-Identifier: MIT */
/* io_loop.c: see io_loop.h. */
#include "io_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define EVENTS_PER_WAIT 256
#define LONGEST_WAIT_MS 60000

int64_t sf_io_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(sf_io_loop *l)
{
    uint64_t one = 1;
    ssize_t n = write(l->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN only when the counter is huge: the thread is awake anyway */
}

/* ---- the ready list ---- */

void sf_io_watch_init(sf_io_watch *w, sf_io_loop *l, int fd)
{
    *w = (sf_io_watch){.loop = l, .fd = fd, .deadline = -1};
}

void sf_io_schedule(sf_io_watch *w)
{
    sf_io_loop *l = w->loop;
    bool first = false;
    pthread_mutex_lock(&l->lock);
    if (!w->queued) {
        w->queued = true;
        w->ready_next = NULL;
        w->ready_prev = l->ready_tail;
        if (l->ready_tail)
            l->ready_tail->ready_next = w;
        else
            l->ready_head = w;
        l->ready_tail = w;
        first = w->ready_prev == NULL;
    }
    pthread_mutex_unlock(&l->lock);
    if (first)
        wake(l);
}

/* Caller holds l->lock. */
static void ready_remove(sf_io_loop *l, sf_io_watch *w)
{
    if (w->ready_prev)
        w->ready_prev->ready_next = w->ready_next;
    else
        l->ready_head = w->ready_next;
    if (w->ready_next)
        w->ready_next->ready_prev = w->ready_prev;
    else
        l->ready_tail = w->ready_prev;
    w->ready_prev = w->ready_next = NULL;
    w->queued = false;
}

void sf_io_unschedule(sf_io_watch *w)
{
    pthread_mutex_lock(&w->loop->lock);
    if (w->queued)
        ready_remove(w->loop, w);
    pthread_mutex_unlock(&w->loop->lock);
}

static sf_io_watch *ready_pop(sf_io_loop *l)
{
    pthread_mutex_lock(&l->lock);
    sf_io_watch *w = l->ready_head;
    if (w)
        ready_remove(l, w);
    pthread_mutex_unlock(&l->lock);
    return w;
}

/* ---- the epoll set and the deadlines (the loop's thread) ---- */

bool sf_io_watch_set(sf_io_watch *w, bool want_in, bool want_out)
{
    uint32_t events = (want_in ? EPOLLIN : 0) | (want_out ? EPOLLOUT : 0);
    if (!events)
        events = EPOLLERR; /* stays registered: errors and hang-ups are still reported */
    if (events == w->events)
        return true;
    struct epoll_event ev = {.events = events, .data.ptr = w};
    if (epoll_ctl(w->loop->epfd, w->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, w->fd, &ev) != 0)
        return false;
    w->events = events;
    return true;
}

void sf_io_deadline(sf_io_watch *w, int64_t at)
{
    sf_io_loop *l = w->loop;
    if (w->deadline < 0) {
        w->timed_prev = NULL;
        w->timed_next = l->timed;
        if (l->timed)
            l->timed->timed_prev = w;
        l->timed = w;
    }
    if (w->deadline < 0 || at < w->deadline)
        w->deadline = at;
}

static void deadline_clear(sf_io_watch *w)
{
    if (w->deadline < 0)
        return;
    if (w->timed_prev)
        w->timed_prev->timed_next = w->timed_next;
    else
        w->loop->timed = w->timed_next;
    if (w->timed_next)
        w->timed_next->timed_prev = w->timed_prev;
    w->deadline = -1;
}

bool sf_io_deadline_passed(const sf_io_watch *w)
{
    return w->deadline >= 0 && sf_io_now_ms() >= w->deadline;
}

void sf_io_watch_forget(sf_io_watch *w)
{
    if (w->events)
        epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    w->events = 0;
    deadline_clear(w);
}

static int next_timeout(sf_io_loop *l)
{
    if (!l->timed)
        return -1;
    int64_t first = l->timed->deadline;
    for (sf_io_watch *w = l->timed->timed_next; w; w = w->timed_next)
        if (w->deadline < first)
            first = w->deadline;
    int64_t left = first - sf_io_now_ms();
    return left <= 0 ? 0 : left > LONGEST_WAIT_MS ? LONGEST_WAIT_MS : (int)left;
}

static void expire(sf_io_loop *l)
{
    if (!l->timed)
        return;
    int64_t now = sf_io_now_ms();
    sf_io_watch *w = l->timed;
    while (w) {
        sf_io_watch *next = w->timed_next;
        if (now >= w->deadline)
            l->expired(w); /* it may be freed: next was taken first */
        w = next;
    }
}

/* ---- the thread ---- */

static void *loop_main(void *arg)
{
    sf_io_loop *l = arg;
    struct epoll_event events[EVENTS_PER_WAIT];
    for (;;) {
        int n = epoll_wait(l->epfd, events, EVENTS_PER_WAIT, next_timeout(l));
        /* every event is for a distinct, live watch: nothing below ends another one before
         * its event is handled (the ready list and deadlines come after) */
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == l) {
                uint64_t v;
                ssize_t r = read(l->wake_fd, &v, sizeof v);
                (void)r;
            } else {
                l->service(events[i].data.ptr, events[i].events);
            }
        }
        for (sf_io_watch *w; (w = ready_pop(l));)
            l->service(w, 0);
        expire(l);
        pthread_mutex_lock(&l->lock);
        bool quit = l->quit;
        pthread_mutex_unlock(&l->lock);
        if (quit)
            return NULL;
    }
}

bool sf_io_loop_start(sf_io_loop *l, sf_io_service_fn service, sf_io_expired_fn expired)
{
    l->service = service;
    l->expired = expired;
    pthread_mutex_init(&l->lock, NULL);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    l->thread_started = l->epfd >= 0 && l->wake_fd >= 0 &&
                        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) == 0 &&
                        pthread_create(&l->thread, NULL, loop_main, l) == 0;
    return l->thread_started;
}

void sf_io_loop_quit(sf_io_loop *l)
{
    if (!l->thread_started)
        return;
    pthread_mutex_lock(&l->lock);
    l->quit = true;
    pthread_mutex_unlock(&l->lock);
    wake(l);
    pthread_join(l->thread, NULL);
    l->thread_started = false;
}

void sf_io_loop_close(sf_io_loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    pthread_mutex_destroy(&l->lock);
}
