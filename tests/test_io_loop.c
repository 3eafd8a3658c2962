/* SPDX-License-Identifier: MIT */
/* test_io_loop.c: the server's I/O loop (fake_http/server/io_loop.c) on its own, without
 * WebSocket: a watch scheduled from another thread is serviced on the loop's thread, a readable
 * socket is reported, a deadline expires, and scheduling twice before the loop runs services
 * once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "io_loop.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct probe {
    sf_io_watch w; /* first: the callbacks cast back */
    atomic_int scheduled, readable, expired;
    atomic_bool on_loop_thread, set_failed;
    pthread_t loop_thread;
    int64_t deadline_ms; /* > 0: set on the first turn */
} probe;

static void service(sf_io_watch *w, uint32_t events)
{
    probe *p = (probe *)w;
    atomic_store(&p->on_loop_thread, pthread_equal(pthread_self(), p->loop_thread) != 0);
    if (events & EPOLLIN) {
        char scrap[64];
        ssize_t n = read(w->fd, scrap, sizeof scrap);
        (void)n;
        atomic_fetch_add(&p->readable, 1);
        return;
    }
    atomic_fetch_add(&p->scheduled, 1);
    if (!sf_io_watch_set(w, true, false)) /* no cmocka asserts off the test's thread */
        atomic_store(&p->set_failed, true);
    if (p->deadline_ms > 0)
        sf_io_deadline(w, sf_io_now_ms() + p->deadline_ms);
}

static void expired(sf_io_watch *w)
{
    probe *p = (probe *)w;
    sf_io_watch_forget(w);
    atomic_fetch_add(&p->expired, 1);
}

/* Waits up to 2 s for *counter to reach want. */
static bool wait_for(atomic_int *counter, int want)
{
    for (int i = 0; i < 2000 && atomic_load(counter) < want; i++)
        nanosleep(&(struct timespec){0, 1000000L}, NULL);
    return atomic_load(counter) >= want;
}

static void scheduled_readable_and_expired(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    sf_io_loop loop = {0};
    assert_true(sf_io_loop_start(&loop, service, expired));
    probe p = {.deadline_ms = 100, .loop_thread = loop.thread};
    sf_io_watch_init(&p.w, &loop, fds[0]);

    sf_io_schedule(&p.w); /* from this thread */
    assert_true(wait_for(&p.scheduled, 1));
    assert_true(atomic_load(&p.on_loop_thread));
    assert_false(atomic_load(&p.set_failed));
    assert_int_equal(write(fds[1], "x", 1), 1);
    assert_true(wait_for(&p.readable, 1));
    assert_int_equal(atomic_load(&p.expired), 0); /* 100 ms are not over yet */
    int64_t before = sf_io_now_ms();
    assert_true(wait_for(&p.expired, 1));
    assert_true(sf_io_now_ms() - before <= 1000);
    assert_int_equal(p.w.deadline, -1); /* forgotten: out of the deadlines */
    assert_int_equal(p.w.events, 0);    /* and out of the epoll set */

    sf_io_loop_quit(&loop);
    sf_io_loop_close(&loop);
    close(fds[0]);
    close(fds[1]);
    assert_int_equal(atomic_load(&p.scheduled), 1);
    assert_int_equal(atomic_load(&p.expired), 1);
}

/* Blocks the loop's thread in its service call until released, so that schedules pile up. */
static atomic_bool release_first;

static void slow_service(sf_io_watch *w, uint32_t events)
{
    (void)events;
    probe *p = (probe *)w;
    if (atomic_fetch_add(&p->scheduled, 1) == 0)
        while (!atomic_load(&release_first))
            nanosleep(&(struct timespec){0, 1000000L}, NULL);
}

static void no_expiry(sf_io_watch *w) { (void)w; }

static void schedules_coalesce(void **state)
{
    (void)state;
    sf_io_loop loop = {0};
    assert_true(sf_io_loop_start(&loop, slow_service, no_expiry));
    probe first = {0}, other = {0};
    sf_io_watch_init(&first.w, &loop, -1);
    sf_io_watch_init(&other.w, &loop, -1);
    sf_io_schedule(&first.w);
    assert_true(wait_for(&first.scheduled, 1)); /* the loop is now busy with `first` */
    sf_io_schedule(&other.w);
    sf_io_schedule(&other.w); /* already queued: no second turn */
    assert_true(other.w.queued);
    atomic_store(&release_first, true);
    assert_true(wait_for(&other.scheduled, 1));
    nanosleep(&(struct timespec){0, 50 * 1000000L}, NULL);
    assert_int_equal(atomic_load(&other.scheduled), 1);
    sf_io_loop_quit(&loop);
    sf_io_loop_close(&loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(scheduled_readable_and_expired),
        cmocka_unit_test(schedules_coalesce),
    };
    return cmocka_run_group_tests_name("io_loop", tests, NULL, NULL);
}
