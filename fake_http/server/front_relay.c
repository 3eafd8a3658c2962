/* SPDX-License-Identifier: MIT */
/* front_relay.c: one connection's relay between the client's socket and the pair's end that
 * libmicrohttpd does not hold. Each turn reads what its watch said is there, runs the checker
 * over new client bytes, writes what may go on both ways, then decides what to watch next:
 * a side is read only while the buffer towards the other side has room (backpressure), and
 * a watch that wants nothing leaves the epoll set (a hang-up must not wake the loop in
 * vain). A closed relay's sockets close at once; its memory goes on a later turn (its timer
 * is scheduled), since another event of the same epoll batch may still name it. */
#include "front_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static bool would_block(void) { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR; }

static void end_init(sf_front_end *e, sf_relay *r, int side, int fd)
{
    sf_io_watch_init(&e->w, &r->front->loop, fd);
    e->relay = r;
    e->side = side;
}

/* From now, ms for what is left (a later call moves it). */
static void drain_deadline(sf_relay *r, int64_t ms)
{
    sf_io_watch_forget(&r->timer.w); /* the timer is in no epoll set: this clears its deadline */
    sf_io_deadline(&r->timer.w, sf_io_now_ms() + ms);
}

/* A buffer from the spares (n of them), else allocated; NULL: out of memory. */
static char *take_buf(char **spares, unsigned *n, size_t size)
{
    return *n ? spares[--*n] : malloc(size);
}

static void give_buf(char **spares, unsigned *n, char *buf)
{
    if (buf && *n < SF_FRONT_SPARE_BUFS)
        spares[(*n)++] = buf;
    else
        free(buf);
}

/* A buffer is given back once it is empty (idle connections hold none). */
static void drop_empty(sf_relay *r)
{
    sf_front *f = r->front;
    if (r->up && r->up_sent == r->up_len) {
        give_buf(f->spare_up, &f->spare_ups, r->up);
        r->up = NULL;
        r->up_len = r->up_sent = r->up_checked = r->up_examined = 0;
    }
    if (r->down && r->down_sent == r->down_len) {
        give_buf(f->spare_down, &f->spare_downs, r->down);
        r->down = NULL;
        r->down_len = r->down_sent = 0;
    }
}

static void close_pair(sf_relay *r)
{
    if (r->pair_closed)
        return;
    sf_io_watch_forget(&r->pair.w);
    close(r->pair.w.fd);
    r->pair_closed = true;
    r->up_sent = r->up_len; /* nobody takes it now */
    drain_deadline(r, SF_FRONT_FLUSH_MS);
    r->front->live--;
    sf_front_room(r->front);
}

void sf_relay_close(sf_relay *r)
{
    if (r->closed)
        return;
    close_pair(r);
    sf_io_watch_forget(&r->client.w);
    if (!r->client_given)
        close(r->client.w.fd);
    sf_io_watch_forget(&r->timer.w);
    r->closed = true;
    sf_io_schedule(&r->timer.w); /* freed on that turn */
}

static void relay_free(sf_relay *r)
{
    sf_io_unschedule(&r->timer.w);
    sf_front *f = r->front;
    if (r->prev)
        r->prev->next = r->next;
    else
        f->relays = r->next;
    if (r->next)
        r->next->prev = r->prev;
    give_buf(f->spare_up, &f->spare_ups, r->up);
    give_buf(f->spare_down, &f->spare_downs, r->down);
    free(r->answer);
    free(r);
}

/* ---- client to server ---- */

/* The checker over bytes not yet looked at. A refusal makes the answer. Refused in its head,
 * the request never reached libmicrohttpd: the requests before it still go on, then the pair
 * is half-closed, and the answer follows libmicrohttpd's answers to them, once it closes its
 * end. Refused in its body, libmicrohttpd holds part of it and may wait for the rest in spite
 * of the half-close: the pair is closed at once (an earlier pipelined answer still being
 * written is cut: docs/http.md). */
static void run_checker(sf_relay *r)
{
    if (r->up_examined < r->up_len)
        r->up_examined += sf_fc_feed(&r->check, r->up + r->up_examined, r->up_len - r->up_examined);
    r->up_checked = r->up_examined - sf_fc_pending(&r->check);
    sf_status st = sf_fc_refusal(&r->check);
    if (st == SF_OK || r->refused)
        return;
    r->refused = true;
    sf_front *f = r->front;
    r->answer = malloc(SF_FRONT_ANSWER_MAX);
    r->answer_len = r->answer ? f->answer(f->answer_ctx, st, r->answer, SF_FRONT_ANSWER_MAX) : 0;
    if (sf_fc_head_passed(&r->check))
        close_pair(r);
    else
        drain_deadline(r, SF_FRONT_FLUSH_MS);
}

static bool up_room(const sf_relay *r) { return r->up_len - r->up_sent < SF_FRONT_UP_BUF; }

/* Reading once the pair is gone or a request refused: what the client sends is dropped. */
static bool discarding(const sf_relay *r) { return r->pair_closed || r->refused; }

static bool client_wants_read(const sf_relay *r)
{
    return !r->client_eof && !r->client_dead && (discarding(r) || up_room(r));
}

static void read_client(sf_relay *r)
{
    char scratch[4096];
    ssize_t n;
    sf_front *f = r->front;
    if (!r->up && !discarding(r) &&
        !(r->up = take_buf(f->spare_up, &f->spare_ups, SF_FRONT_UP_BUF)))
        return; /* out of memory: tried again on the next turn */
    if (discarding(r)) {
        n = recv(r->client.w.fd, scratch, sizeof scratch, 0);
    } else {
        if (r->up_sent) { /* keep the unsent bytes at the front */
            memmove(r->up, r->up + r->up_sent, r->up_len - r->up_sent);
            r->up_len -= r->up_sent;
            r->up_checked -= r->up_sent;
            r->up_examined -= r->up_sent;
            r->up_sent = 0;
        }
        n = recv(r->client.w.fd, r->up + r->up_len, SF_FRONT_UP_BUF - r->up_len, 0);
        if (n > 0) {
            r->up_len += (size_t)n;
            run_checker(r);
        }
    }
    if (n == 0)
        r->client_eof = true;
    else if (n < 0 && !would_block())
        r->client_dead = true;
}

static void write_pair(sf_relay *r)
{
    if (r->pair_closed || r->up_sent >= r->up_checked)
        return;
    ssize_t n = send(r->pair.w.fd, r->up + r->up_sent, r->up_checked - r->up_sent,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
        r->up_sent += (size_t)n;
    else if (n < 0 && !would_block())
        close_pair(r); /* libmicrohttpd closed its end */
}

/* ---- server to client ---- */

/* The first bytes of the answer to an Upgrade request: a 101 makes the relay opaque. */
static void note_answer(sf_relay *r, const char *p, size_t n)
{
    while (n && sf_fc_waiting(&r->check)) {
        r->answer_head[r->answer_seen++] = *p++;
        n--;
        if (r->answer_seen < sizeof r->answer_head)
            continue;
        bool switched =
            memcmp(r->answer_head, "HTTP/1.", 7) == 0 && memcmp(r->answer_head + 8, " 101", 4) == 0;
        r->answer_seen = 0;
        sf_fc_answered(&r->check, switched);
        run_checker(r); /* the bytes that waited */
    }
}

static bool down_room(const sf_relay *r) { return r->down_len - r->down_sent < SF_FRONT_DOWN_BUF; }

static void read_pair(sf_relay *r)
{
    if (r->pair_closed || !down_room(r))
        return;
    sf_front *f = r->front;
    if (!r->down && !(r->down = take_buf(f->spare_down, &f->spare_downs, SF_FRONT_DOWN_BUF)))
        return;
    if (r->down_sent) {
        memmove(r->down, r->down + r->down_sent, r->down_len - r->down_sent);
        r->down_len -= r->down_sent;
        r->down_sent = 0;
    }
    ssize_t n = recv(r->pair.w.fd, r->down + r->down_len, SF_FRONT_DOWN_BUF - r->down_len, 0);
    if (n > 0) {
        r->down_len += (size_t)n;
        note_answer(r, r->down + r->down_len - (size_t)n, (size_t)n);
    } else if (n == 0 || !would_block()) {
        close_pair(r); /* libmicrohttpd closed the connection: the client is told once the
                          rest is written */
    }
}

static void write_client(sf_relay *r)
{
    if (r->client_dead)
        return;
    char *buf = r->down;
    size_t *sent = &r->down_sent, len = r->down_len - r->down_sent;
    if (!len && r->pair_closed) { /* a refusal comes after libmicrohttpd's last answer */
        buf = r->answer;
        sent = &r->answer_sent;
        len = r->answer_len - r->answer_sent;
    }
    if (!len)
        return;
    ssize_t n = send(r->client.w.fd, buf + *sent, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0)
        *sent += (size_t)n;
    else if (n < 0 && !would_block())
        r->client_dead = true;
}

static bool down_done(const sf_relay *r)
{
    return r->down_sent == r->down_len && r->answer_sent == r->answer_len;
}

/* ---- a turn ---- */

static bool watch(sf_front_end *e, bool in, bool out)
{
    if (in || out)
        return sf_io_watch_set(&e->w, in, out);
    sf_io_watch_forget(&e->w);
    return true;
}

/* Half-closes passed on, the end decided, the watches set. */
static void settle(sf_relay *r)
{
    write_pair(r);
    write_client(r);
    if ((r->client_eof || r->refused) && !r->pair_closed && !r->pair_shut &&
        r->up_sent == r->up_checked) {
        shutdown(r->pair.w.fd, SHUT_WR); /* the client's end of stream, or of what goes on */
        r->pair_shut = true;
    }
    if (r->pair_closed && down_done(r) && !r->client_shut && !r->client_dead) {
        shutdown(r->client.w.fd, SHUT_WR); /* libmicrohttpd's */
        r->client_shut = true;
        drain_deadline(r, SF_FRONT_LINGER_MS);
    }
    drop_empty(r);
    if (r->client_dead || (r->pair_closed && down_done(r) && r->client_eof))
        return sf_relay_close(r);
    bool ok = watch(&r->client, client_wants_read(r), !down_done(r) && !r->client_shut);
    if (!r->pair_closed)
        ok = ok && watch(&r->pair, down_room(r), r->up_sent < r->up_checked);
    if (!ok)
        sf_relay_close(r);
}

void sf_relay_service(sf_front_end *e, uint32_t events)
{
    sf_relay *r = e->relay;
    if (r->closed) {
        if (e->side == SF_FRONT_TIMER && !events)
            relay_free(r); /* scheduled by sf_relay_close: no event names it any more */
        return;
    }
    bool readable = events & (EPOLLIN | EPOLLERR | EPOLLHUP);
    if (e->side == SF_FRONT_CLIENT && readable && client_wants_read(r))
        read_client(r);
    else if (e->side == SF_FRONT_PAIR && readable)
        read_pair(r);
    settle(r);
}

/* Past the deadline: a refused request's answer goes now if libmicrohttpd never closed (the
 * client has SF_FRONT_DRAIN_MS more to take it); else the relay closes. */
void sf_relay_expired(sf_relay *r)
{
    if (r->refused && !r->pair_closed) {
        close_pair(r);
        settle(r);
    } else {
        sf_relay_close(r);
    }
}

sf_relay *sf_relay_new(struct sf_front *f, int client_fd, int pair_fd, int mhd_fd)
{
    sf_relay *r = malloc(sizeof *r);
    if (!r)
        return NULL;
    memset(r, 0, sizeof *r);
    r->front = f;
    r->mhd_fd = mhd_fd;
    end_init(&r->client, r, SF_FRONT_CLIENT, client_fd);
    end_init(&r->pair, r, SF_FRONT_PAIR, pair_fd);
    end_init(&r->timer, r, SF_FRONT_TIMER, -1);
    sf_fc_init(&r->check);
    if (!sf_io_watch_set(&r->client.w, true, false) || !sf_io_watch_set(&r->pair.w, true, false)) {
        sf_io_watch_forget(&r->client.w);
        sf_io_watch_forget(&r->pair.w);
        free(r);
        return NULL;
    }
    r->next = f->relays;
    if (f->relays)
        f->relays->prev = r;
    f->relays = r;
    f->live++;
    return r;
}

/* The 101 is read from the pair (libmicrohttpd wrote it before calling the upgrade callback)
 * and written to the client; then the client's socket goes, with the bytes not passed on. */
bool sf_relay_give_client(sf_relay *r, int *client_fd, char **rest, size_t *rest_len)
{
    if (r->closed || r->pair_closed || r->refused)
        return false;
    for (int i = 0; i < 4 && !r->pair_closed && r->check.state != SF_FC_OPAQUE; i++)
        read_pair(r);
    if (r->check.state == SF_FC_OPAQUE && !r->pair_closed)
        write_client(r);
    size_t n = r->up_len - r->up_sent;
    char *copy = n ? malloc(n) : NULL;
    if (r->check.state != SF_FC_OPAQUE || r->pair_closed || r->client_dead ||
        r->down_sent != r->down_len || (n && !copy)) {
        free(copy);
        settle(r);
        return false;
    }
    if (n)
        memcpy(copy, r->up + r->up_sent, n);
    *rest = copy;
    *rest_len = n;
    *client_fd = r->client.w.fd;
    r->client_given = true;
    sf_relay_close(r);
    return true;
}

void sf_relay_finish(sf_relay *r)
{
    if (!r->closed) {
        read_pair(r); /* e.g. the end of an event stream, written as libmicrohttpd stopped */
        write_client(r);
        sf_relay_close(r);
    }
    relay_free(r);
}
