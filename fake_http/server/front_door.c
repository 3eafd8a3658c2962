/* SPDX-License-Identifier: MIT */
/* front_door.c: see front_door.h. The listening socket is a watch of the front door's loop;
 * each turn accepts up to SF_FRONT_ACCEPTS_PER_TURN clients (the relays get their turn
 * between bursts). Out of descriptors, accepting pauses for SF_FRONT_ACCEPT_PAUSE_MS instead
 * of spinning on a socket that stays readable. */
#define _GNU_SOURCE /* accept4: the accepted socket non-blocking and close-on-exec at once */
#include "front_internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static bool out_of_resources(int err)
{
    return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

static void pause_accepting(sf_front *f)
{
    sf_io_watch_forget(&f->listen.w);
    sf_io_deadline(&f->pause.w, sf_io_now_ms() + SF_FRONT_ACCEPT_PAUSE_MS);
}

/* A client accepted: its relay, and libmicrohttpd's end of the pair handed over. */
static void admit(sf_front *f, int client_fd, const struct sockaddr *addr, socklen_t len)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        int err = errno;
        close(client_fd);
        if (out_of_resources(err))
            pause_accepting(f);
        return;
    }
    int on = 1; /* answers go out as libmicrohttpd writes them, as before the relay */
    setsockopt(client_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    sf_relay *r = sf_relay_new(f, client_fd, sv[0], sv[1]);
    if (!r) {
        close(client_fd);
        close(sv[0]);
        close(sv[1]);
        return;
    }
    pthread_mutex_lock(&f->add_lock);
    bool added = !f->stopping && MHD_add_connection(f->daemon, sv[1], addr, len) == MHD_YES;
    bool stopping = f->stopping;
    pthread_mutex_unlock(&f->add_lock);
    if (stopping)
        close(sv[1]); /* never handed over */
    if (!added)       /* libmicrohttpd closed its end (its table is full, or memory) */
        sf_relay_close(r);
}

static void close_listen(sf_front *f)
{
    if (f->listen_fd < 0)
        return;
    sf_io_watch_forget(&f->listen.w);
    sf_io_watch_forget(&f->pause.w);
    close(f->listen_fd);
    f->listen_fd = -1;
}

static bool stopping(sf_front *f)
{
    pthread_mutex_lock(&f->add_lock);
    bool stop = f->stopping;
    pthread_mutex_unlock(&f->add_lock);
    return stop;
}

static void accept_some(sf_front *f)
{
    if (stopping(f))
        return close_listen(f);
    for (int i = 0; i < SF_FRONT_ACCEPTS_PER_TURN; i++) {
        if (f->live >= f->live_max) { /* until a connection closes (sf_front_room) */
            f->full = true;
            sf_io_watch_forget(&f->listen.w);
            return;
        }
        struct sockaddr_storage addr;
        socklen_t len = sizeof addr;
        int fd =
            accept4(f->listen_fd, (struct sockaddr *)&addr, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            admit(f, fd, (struct sockaddr *)&addr, len);
            continue;
        }
        if (out_of_resources(errno))
            pause_accepting(f);
        if (errno != ECONNABORTED && errno != EINTR && errno != EPROTO)
            return; /* EAGAIN: none left; paused; or an error the next turn may not have */
    }
}

/* A request of sf_front_take_client, on the caller's stack until `done`. */
typedef struct sf_front_take {
    int mhd_fd, client_fd;
    char *rest;
    size_t rest_len;
    bool ok, done;
    struct sf_front_take *next;
} sf_front_take;

bool sf_front_take_client(sf_front *f, int mhd_fd, int *client_fd, char **rest, size_t *rest_len)
{
    sf_front_take t = {.mhd_fd = mhd_fd, .client_fd = -1};
    pthread_mutex_lock(&f->add_lock);
    t.next = f->takes;
    f->takes = &t;
    pthread_mutex_unlock(&f->add_lock);
    sf_io_schedule(&f->take_turn.w);
    pthread_mutex_lock(&f->add_lock);
    while (!t.done)
        pthread_cond_wait(&f->taken, &f->add_lock);
    pthread_mutex_unlock(&f->add_lock);
    *client_fd = t.client_fd;
    *rest = t.rest;
    *rest_len = t.rest_len;
    return t.ok;
}

/* The front door's thread: answers every waiting sf_front_take_client. */
static void serve_takes(sf_front *f)
{
    pthread_mutex_lock(&f->add_lock);
    sf_front_take *list = f->takes;
    f->takes = NULL;
    pthread_mutex_unlock(&f->add_lock);
    for (sf_front_take *t = list; t; t = t->next)
        for (sf_relay *r = f->relays; r && !t->ok; r = r->next)
            if (r->mhd_fd == t->mhd_fd)
                t->ok = sf_relay_give_client(r, &t->client_fd, &t->rest, &t->rest_len);
    pthread_mutex_lock(&f->add_lock);
    while (list) {
        sf_front_take *next = list->next; /* list is gone once done is seen */
        list->done = true;
        list = next;
    }
    pthread_cond_broadcast(&f->taken);
    pthread_mutex_unlock(&f->add_lock);
}

/* Accepting (again): at the start, and after a pause. */
static void resume(sf_front *f)
{
    sf_io_watch_forget(&f->pause.w); /* a pause is over (its deadline must not stay due) */
    if (f->full || f->listen_fd < 0 || stopping(f))
        return;
    if (!sf_io_watch_set(&f->listen.w, true, false))
        pause_accepting(f);
}

void sf_front_room(sf_front *f)
{
    if (!f->full || f->live >= f->live_max)
        return;
    f->full = false;
    if (f->pause.w.deadline >= 0)
        return; /* paused for descriptors: the pause's end resumes */
    resume(f);
}

static void service(sf_io_watch *w, uint32_t events)
{
    sf_front_end *e = (sf_front_end *)w;
    if (e->relay)
        sf_relay_service(e, events);
    else if (e->side == SF_FRONT_LISTEN)
        accept_some((sf_front *)((char *)e - offsetof(sf_front, listen)));
    else if (e->side == SF_FRONT_TAKE)
        serve_takes((sf_front *)((char *)e - offsetof(sf_front, take_turn)));
    else
        resume((sf_front *)((char *)e - offsetof(sf_front, pause)));
}

static void expired(sf_io_watch *w)
{
    sf_front_end *e = (sf_front_end *)w;
    if (e->relay)
        sf_relay_expired(e->relay);
    else
        resume((sf_front *)((char *)e - offsetof(sf_front, pause)));
}

sf_front *sf_front_start(int listen_fd, struct MHD_Daemon *daemon, unsigned max_live,
                         sf_front_answer_fn answer, void *ctx)
{
    sf_front *f = calloc(1, sizeof *f);
    if (!f) {
        close(listen_fd);
        return NULL;
    }
    f->listen_fd = listen_fd;
    f->daemon = daemon;
    f->live_max = max_live ? max_live : 1;
    f->answer = answer;
    f->answer_ctx = ctx;
    pthread_mutex_init(&f->add_lock, NULL);
    pthread_cond_init(&f->taken, NULL);
    sf_io_watch_init(&f->take_turn.w, &f->loop, -1);
    f->take_turn.side = SF_FRONT_TAKE;
    sf_io_watch_init(&f->listen.w, &f->loop, listen_fd);
    f->listen.side = SF_FRONT_LISTEN;
    sf_io_watch_init(&f->pause.w, &f->loop, -1);
    f->pause.side = SF_FRONT_PAUSE;
    if (!sf_io_loop_start(&f->loop, service, expired)) {
        sf_front_free(f);
        return NULL;
    }
    sf_io_schedule(&f->pause.w); /* the listening socket is watched from the loop's thread */
    return f;
}

void sf_front_stop_accepting(sf_front *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->add_lock);
    f->stopping = true;
    pthread_mutex_unlock(&f->add_lock);
    sf_io_schedule(&f->listen.w); /* closes the listening socket on its thread */
}

void sf_front_free(sf_front *f)
{
    if (!f)
        return;
    sf_io_loop_quit(&f->loop);
    while (f->relays)
        sf_relay_finish(f->relays);
    while (f->spare_ups)
        free(f->spare_up[--f->spare_ups]);
    while (f->spare_downs)
        free(f->spare_down[--f->spare_downs]);
    if (f->listen_fd >= 0)
        close(f->listen_fd);
    sf_io_loop_close(&f->loop);
    pthread_cond_destroy(&f->taken);
    pthread_mutex_destroy(&f->add_lock);
    free(f);
}
