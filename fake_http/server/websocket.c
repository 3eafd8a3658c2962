/* SPDX-License-Identifier: MIT */
/* websocket.c: see websocket.h and websocket_server.h.
 *
 * I/O: a few threads (sf_ws_hub_new), each running one epoll set (level-triggered) over the
 * sockets it was given and an eventfd. A connection belongs to one I/O thread for its whole
 * life; its wslay context, its handler callbacks and its socket reads happen there only.
 *
 * Sending: sf_ws_send (any thread) frames the message itself (a server frame is a 2-10 byte
 * header and the unmasked payload) and appends it to the connection's outbox, one growing
 * byte buffer, under the connection's mutex. Only when the outbox goes from empty to
 * non-empty is the connection put on its I/O thread's ready list, and only when that list
 * goes from empty to non-empty is the eventfd written: a fan-out to 1,000 connections costs
 * 1,000 memcpys and a couple of wake-ups, and messages that pile up while a thread is busy
 * leave in one send(). The I/O thread swaps the outbox for an empty buffer and writes
 * without the mutex, so a sender never waits for a system call. wslay's own frames (pongs,
 * close) reach the same outbox through its send callback, which runs with the mutex held so
 * no frame is ever split by another.
 * An outbox above SF_WS_MAX_OUTBOX (a peer that stopped reading) closes the connection
 * with 1008 rather than growing without bound.
 *
 * Ending a connection: the close handshake (ours or the peer's) is followed by shutdown(WR)
 * and reading until the peer's EOF, so the peer reads our close frame rather than a reset;
 * every wait after a close is bounded (2 s, 250 ms while the server stops). Then, on the
 * I/O thread and in this order: sends start failing, the socket leaves the epoll set,
 * handler->closed(session), MHD_upgrade_action(CLOSE), the hub forgets the connection, the
 * connection is freed.
 *
 * Locks, always taken in this order: hub->lock, conn->lock, loop->lock. No lock of this
 * module is held while a handler callback runs. */
#include "websocket_server.h"

#include "ws_frame_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define CLOSE_WAIT_MS 2000    /* after a close is requested/sent: until the socket goes */
#define STOP_WAIT_MS 50       /* the same while the server stops: a client on the same
                                 * host answers a close in far less; one that does not must
                                 * not hold up the stop (SIGTERM exits within 200 ms) */
#define GOING_AWAY 1001
#define PROTOCOL_ERROR 1002
#define POLICY_VIOLATION 1008
#define EVENTS_PER_WAIT 256
#define OUTBOX_KEEP (64u * 1024) /* an emptied outbox larger than this is given back */

typedef struct io_loop io_loop;

/* Bytes waiting for the socket: [off, len) of data. */
typedef struct byte_buf {
    uint8_t *data;
    size_t off, len, cap;
} byte_buf;

struct sf_ws_conn {
    sf_ws_hub *hub;
    io_loop *loop;
    struct MHD_UpgradeResponseHandle *urh;
    int fd;
    struct sf_ws_conn *prev, *next;         /* hub->conns, under hub->lock */
    struct sf_ws_conn *ready_prev, *ready_next; /* loop->ready, under loop->lock */
    bool queued;                            /* on loop->ready (loop->lock) */

    pthread_mutex_t lock;        /* guards the fields below */
    byte_buf out;                /* framed messages, appended by any thread */
    bool close_requested;        /* sf_ws_close, server stop or a full outbox: no more sends */
    uint16_t close_code;
    bool stopping;               /* the server stops: shorter waits */
    bool ended;                  /* the connection is ending: sends fail, no more scheduling */

    /* the I/O thread only */
    byte_buf wire;               /* taken from `out`, being written: always goes first */
    wslay_event_context_ptr ws;
    void *session;
    sf_ws_guard guard;           /* the client's frame headers, before wslay reads them */
    uint8_t *extra;              /* bytes libmicrohttpd read past the request */
    size_t extra_len, extra_off;
    bool started;                /* open() was called */
    bool close_queued;           /* our close frame is in wslay */
    bool half_closed;            /* shutdown(WR) done: reading until the peer's EOF */
    bool failed;                 /* EOF, socket error or protocol failure: end now */
    uint32_t events;             /* what the epoll set watches; 0: not in it */
    int64_t deadline;            /* closing: end at this time; -1 otherwise */
    struct sf_ws_conn *closing_prev, *closing_next; /* loop->closing */
};

struct io_loop {
    sf_ws_hub *hub;
    int epfd, wake_fd;
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;        /* guards ready, quit */
    sf_ws_conn *ready_head, *ready_tail; /* connections with something to do */
    bool quit;
    sf_ws_conn *closing;         /* the I/O thread only: connections with a deadline */
};

struct sf_ws_hub {
    const sf_ws_handler *handler;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    sf_ws_conn *conns;
    size_t live;                 /* connections not yet ended */
    unsigned next_loop;
    bool stopping;
    bool loops_stopped;
    size_t loop_count;
    io_loop loops[SF_WS_MAX_IO_THREADS];
};

/* ---- time ---- */

/* Socket deadlines only (how long to wait for a peer's close): transport time, never the
 * fake's time, which comes from its clock alone. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- handshake ---- */

bool sf_ws_accept_key(const char *key, char accept[SF_WS_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    size_t key_len = key ? strlen(key) : 0;
    if (key_len != 24)
        return false;
    struct base64_decode_ctx b64;
    uint8_t raw[BASE64_DECODE_LENGTH(24)];
    size_t raw_len = sizeof raw;
    base64_decode_init(&b64);
    if (!base64_decode_update(&b64, &raw_len, raw, key_len, key) ||
        !base64_decode_final(&b64) || raw_len != 16)
        return false;
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&sha);
    sha1_update(&sha, key_len, (const uint8_t *)key);
    sha1_update(&sha, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&sha, sizeof digest, digest);
    base64_encode_raw(accept, sizeof digest, digest);
    accept[SF_WS_ACCEPT_LEN] = '\0';
    return true;
}

/* ---- the ready list and the wake-up ---- */

static void wake(io_loop *l)
{
    uint64_t one = 1;
    ssize_t n = write(l->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN only when the counter is huge: the thread is awake anyway */
}

/* Puts c on its I/O thread's ready list. Caller holds c->lock and checked !c->ended. */
static void schedule_locked(sf_ws_conn *c)
{
    io_loop *l = c->loop;
    bool first = false;
    pthread_mutex_lock(&l->lock);
    if (!c->queued) {
        c->queued = true;
        c->ready_next = NULL;
        c->ready_prev = l->ready_tail;
        if (l->ready_tail)
            l->ready_tail->ready_next = c;
        else
            l->ready_head = c;
        l->ready_tail = c;
        first = c->ready_prev == NULL;
    }
    pthread_mutex_unlock(&l->lock);
    if (first)
        wake(l);
}

/* Caller holds l->lock. */
static void ready_remove(io_loop *l, sf_ws_conn *c)
{
    if (c->ready_prev)
        c->ready_prev->ready_next = c->ready_next;
    else
        l->ready_head = c->ready_next;
    if (c->ready_next)
        c->ready_next->ready_prev = c->ready_prev;
    else
        l->ready_tail = c->ready_prev;
    c->ready_prev = c->ready_next = NULL;
    c->queued = false;
}

static sf_ws_conn *ready_pop(io_loop *l)
{
    pthread_mutex_lock(&l->lock);
    sf_ws_conn *c = l->ready_head;
    if (c)
        ready_remove(l, c);
    pthread_mutex_unlock(&l->lock);
    return c;
}

/* ---- the outbox ---- */

static size_t pending(const byte_buf *b) { return b->len - b->off; }

/* Room for n more bytes at data + len. */
static bool buf_reserve(byte_buf *b, size_t n)
{
    if (b->off > 0 && (b->off == b->len || b->len + n > b->cap)) {
        memmove(b->data, b->data + b->off, pending(b));
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n <= b->cap)
        return true;
    if (n > SIZE_MAX / 2 - b->len)
        return false;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *grown = realloc(b->data, cap);
    if (!grown)
        return false;
    b->data = grown;
    b->cap = cap;
    return true;
}

/* After buf_reserve. */
static void buf_put(byte_buf *b, const void *data, size_t n)
{
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
}

static void buf_clear(byte_buf *b)
{
    b->off = b->len = 0;
    if (b->cap > OUTBOX_KEEP) { /* a burst is over: give the memory back */
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    }
}

/* Writes what the socket takes: first `wire`, then what was appended to `out` meanwhile,
 * taken in one swap so that senders never wait for a system call. Returns whether both are
 * empty. The I/O thread, without c->lock. */
static bool flush(sf_ws_conn *c)
{
    for (;;) {
        if (pending(&c->wire) == 0) {
            buf_clear(&c->wire);
            pthread_mutex_lock(&c->lock);
            byte_buf spare = c->wire;
            c->wire = c->out;
            c->out = spare;
            pthread_mutex_unlock(&c->lock);
            if (pending(&c->wire) == 0)
                return true;
        }
        ssize_t n = send(c->fd, c->wire.data + c->wire.off, pending(&c->wire),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            c->failed = true; /* the peer is gone: what is left cannot arrive */
            buf_clear(&c->wire);
            return true;
        }
        c->wire.off += (size_t)n;
    }
}

/* ---- sending from any thread ---- */

/* A server frame header: FIN, binary, no mask, the payload length. */
static size_t frame_header(uint8_t h[10], size_t len)
{
    size_t n = 0;
    h[n++] = 0x82;
    if (len < 126) {
        h[n++] = (uint8_t)len;
    } else if (len <= 0xffff) {
        h[n++] = 126;
        h[n++] = (uint8_t)(len >> 8);
        h[n++] = (uint8_t)len;
    } else {
        h[n++] = 127;
        for (int shift = 56; shift >= 0; shift -= 8)
            h[n++] = (uint8_t)((uint64_t)len >> shift);
    }
    return n;
}

/* Caller holds c->lock. */
static void request_close_locked(sf_ws_conn *c, uint16_t code)
{
    if (c->close_requested || c->ended)
        return;
    c->close_requested = true;
    c->close_code = code;
    schedule_locked(c);
}

bool sf_ws_send(sf_ws_conn *conn, const uint8_t *data, size_t len)
{
    sf_ws_chunk one = {data, len};
    return sf_ws_sendv(conn, &one, 1);
}

bool sf_ws_sendv(sf_ws_conn *conn, const sf_ws_chunk *chunks, size_t count)
{
    if (!conn || (!chunks && count))
        return false;
    size_t len = 0;
    for (size_t i = 0; i < count; i++) {
        if ((!chunks[i].data && chunks[i].len) || chunks[i].len > SF_WS_MAX_OUTBOX)
            return false;
        len += chunks[i].len;
        if (len > SF_WS_MAX_OUTBOX)
            return false;
    }
    uint8_t header[10];
    size_t header_len = frame_header(header, len);
    bool ok = false;
    pthread_mutex_lock(&conn->lock);
    if (conn->close_requested || conn->ended) {
        /* sends fail from here on */
    } else if (pending(&conn->out) + header_len + len > SF_WS_MAX_OUTBOX) {
        request_close_locked(conn, POLICY_VIOLATION); /* the peer stopped reading */
    } else if (buf_reserve(&conn->out, header_len + len)) {
        bool was_empty = pending(&conn->out) == 0;
        buf_put(&conn->out, header, header_len);
        for (size_t i = 0; i < count; i++)
            buf_put(&conn->out, chunks[i].data, chunks[i].len);
        if (was_empty)
            schedule_locked(conn); /* otherwise it is queued, or its thread is on it */
        ok = true;
    }
    pthread_mutex_unlock(&conn->lock);
    return ok;
}

void sf_ws_close(sf_ws_conn *conn, uint16_t code)
{
    if (!conn)
        return;
    pthread_mutex_lock(&conn->lock);
    request_close_locked(conn, code);
    pthread_mutex_unlock(&conn->lock);
}

/* ---- wslay callbacks (the I/O thread) ---- */

/* What of n received bytes wslay may read: those before a header it would fail on. */
static ssize_t guarded(wslay_event_context_ptr ctx, sf_ws_conn *c, const uint8_t *buf, size_t n)
{
    size_t ok = sf_ws_guard_feed(&c->guard, buf, n);
    if (ok > 0)
        return (ssize_t)ok;
    wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* wslay stops; read_side closes */
    return -1;
}

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
    (void)flags;
    sf_ws_conn *c = user;
    if (c->guard.bad) { /* nothing after a bad header reaches wslay: see refuse_bad_frame */
        c->extra_off = c->extra_len;
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
        return -1;
    }
    if (c->extra_off < c->extra_len) {
        size_t n = c->extra_len - c->extra_off;
        if (n > len)
            n = len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return guarded(ctx, c, buf, n);
    }
    ssize_t n;
    do
        n = recv(c->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return guarded(ctx, c, buf, (size_t)n);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF or error */
    return -1;
}

/* wslay's frames go to the outbox; wslay_event_send runs with c->lock held. */
static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    sf_ws_conn *c = user;
    if (!buf_reserve(&c->out, len)) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    buf_put(&c->out, data, len);
    return (ssize_t)len;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    sf_ws_conn *c = user;
    if (arg->opcode != WSLAY_BINARY_FRAME && arg->opcode != WSLAY_TEXT_FRAME)
        return;
    /* a pong for a ping that came between the fragments goes before the answers */
    if (wslay_event_want_write(ctx)) {
        pthread_mutex_lock(&c->lock);
        if (wslay_event_send(ctx) != 0)
            c->failed = true;
        pthread_mutex_unlock(&c->lock);
    }
    c->hub->handler->message(c->session, arg->msg, arg->msg_length);
}

/* ---- one connection on its I/O thread ---- */

static void closing_add(io_loop *l, sf_ws_conn *c, int64_t deadline)
{
    if (c->deadline < 0) {
        c->closing_prev = NULL;
        c->closing_next = l->closing;
        if (l->closing)
            l->closing->closing_prev = c;
        l->closing = c;
    }
    if (c->deadline < 0 || deadline < c->deadline)
        c->deadline = deadline;
}

static void closing_remove(io_loop *l, sf_ws_conn *c)
{
    if (c->deadline < 0)
        return;
    if (c->closing_prev)
        c->closing_prev->closing_next = c->closing_next;
    else
        l->closing = c->closing_next;
    if (c->closing_next)
        c->closing_next->closing_prev = c->closing_prev;
    c->deadline = -1;
}

static void conn_free(sf_ws_conn *c)
{
    if (c->ws)
        wslay_event_context_free(c->ws);
    free(c->out.data);
    free(c->wire.data);
    free(c->extra);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Caller holds hub->lock. */
static void hub_unlink(sf_ws_hub *hub, sf_ws_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

/* The connection's last step: see the header comment for the order. */
static void conn_end(sf_ws_conn *c)
{
    io_loop *l = c->loop;
    sf_ws_hub *hub = c->hub;
    pthread_mutex_lock(&c->lock);
    c->ended = true; /* from now on sf_ws_send fails; conn stays valid until closed() returns */
    pthread_mutex_lock(&l->lock);
    if (c->queued)
        ready_remove(l, c);
    pthread_mutex_unlock(&l->lock);
    pthread_mutex_unlock(&c->lock);
    if (c->events)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    closing_remove(l, c);
    if (c->session)
        hub->handler->closed(c->session);
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);

    pthread_mutex_lock(&hub->lock);
    hub_unlink(hub, c);
    hub->live--;
    pthread_cond_broadcast(&hub->idle);
    pthread_mutex_unlock(&hub->lock);
    conn_free(c);
}

/* Makes the epoll set watch what the connection waits for. */
static void watch(sf_ws_conn *c, bool want_in, bool want_out)
{
    uint32_t events = (want_in ? EPOLLIN : 0) | (want_out ? EPOLLOUT : 0);
    if (!events)
        events = EPOLLERR; /* stays registered: errors and hang-ups are still reported */
    if (events == c->events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(c->loop->epfd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) == 0)
        c->events = events;
    else
        c->failed = true;
}

/* A header the guard stopped: reading ends and close 1002 goes after what is queued, the
 * way wslay answers the protocol errors it reports itself. */
static void refuse_bad_frame(sf_ws_conn *c)
{
    if (!c->guard.bad || !wslay_event_want_read(c->ws))
        return;
    wslay_event_shutdown_read(c->ws);
    pthread_mutex_lock(&c->lock);
    request_close_locked(c, PROTOCOL_ERROR);
    pthread_mutex_unlock(&c->lock);
}

/* Reads what arrived: frames through wslay, or discarded bytes once half-closed. */
static void read_side(sf_ws_conn *c)
{
    if (c->half_closed) {
        uint8_t scrap[4096];
        for (;;) {
            ssize_t n = recv(c->fd, scrap, sizeof scrap, MSG_DONTWAIT);
            if (n > 0)
                continue;
            if (n < 0 && errno == EINTR)
                continue;
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                c->failed = true; /* the peer's EOF: the close is complete */
            return;
        }
    }
    if (wslay_event_want_read(c->ws) && wslay_event_recv(c->ws) != 0)
        c->failed = true; /* EOF or a socket error */
    refuse_bad_frame(c);
}

/* Moves the connection on: our close frame, wslay's frames, the outbox, then whether it is
 * closing, finished or waiting. May end (free) the connection. */
static void advance(sf_ws_conn *c)
{
    io_loop *l = c->loop;
    /* bytes libmicrohttpd read past the request: wslay reads them before the socket */
    while (!c->failed && c->extra_off < c->extra_len && wslay_event_want_read(c->ws)) {
        if (wslay_event_recv(c->ws) != 0)
            c->failed = true;
        refuse_bad_frame(c);
    }

    pthread_mutex_lock(&c->lock);
    bool asked = c->close_requested;
    bool stopping = c->stopping;
    if (asked && !c->close_queued && !c->failed) {
        /* everything sent before the close is already in the outbox, ahead of it */
        (void)wslay_event_queue_close(c->ws, c->close_code, NULL, 0);
        c->close_queued = true;
    }
    if (!c->failed && wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
        c->failed = true;
    pthread_mutex_unlock(&c->lock);
    bool out_empty = c->failed || flush(c);

    bool want_read = wslay_event_want_read(c->ws);
    bool close_sent = wslay_event_get_close_sent(c->ws);
    if (asked || !want_read || close_sent || wslay_event_get_close_received(c->ws))
        closing_add(l, c, now_ms() + (stopping ? STOP_WAIT_MS : CLOSE_WAIT_MS));
    if (!c->failed && !want_read && out_empty && !wslay_event_want_write(c->ws)) {
        if (!close_sent)
            c->failed = true; /* wslay stopped reading without a close: nothing more to do */
        else if (!c->half_closed) {
            shutdown(c->fd, SHUT_WR);
            c->half_closed = true;
            read_side(c); /* the EOF may be here already */
        }
    }
    if (!c->failed)
        watch(c, want_read || c->half_closed, !out_empty);
    if (c->failed || (c->deadline >= 0 && now_ms() >= c->deadline))
        conn_end(c);
}

/* A new connection's first turn: open() and the epoll set, or the end when refused. */
static void start(sf_ws_conn *c)
{
    c->started = true;
    pthread_mutex_lock(&c->lock);
    bool stop_first = c->stopping;
    pthread_mutex_unlock(&c->lock);
    const sf_ws_handler *h = c->hub->handler;
    c->session = stop_first ? NULL : h->open(h->ctx, c);
    if (!c->session) {
        conn_end(c);
        return;
    }
    advance(c);
}

static void service(sf_ws_conn *c, uint32_t events)
{
    if (!c->started)
        return start(c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_side(c);
    advance(c);
}

/* ---- the I/O threads ---- */

static int next_timeout(io_loop *l)
{
    if (!l->closing)
        return -1;
    int64_t first = l->closing->deadline;
    for (sf_ws_conn *c = l->closing->closing_next; c; c = c->closing_next)
        if (c->deadline < first)
            first = c->deadline;
    int64_t left = first - now_ms();
    return left <= 0 ? 0 : left > 60000 ? 60000 : (int)left;
}

static void expire(io_loop *l)
{
    if (!l->closing)
        return;
    int64_t now = now_ms();
    sf_ws_conn *c = l->closing;
    while (c) {
        sf_ws_conn *next = c->closing_next;
        if (now >= c->deadline)
            conn_end(c); /* the peer did not finish the close in time */
        c = next;
    }
}

static void *loop_main(void *arg)
{
    io_loop *l = arg;
    struct epoll_event events[EVENTS_PER_WAIT];
    for (;;) {
        int n = epoll_wait(l->epfd, events, EVENTS_PER_WAIT, next_timeout(l));
        /* every event is for a distinct, live connection: nothing below ends another one
         * before its event is handled (the ready list and deadlines come after) */
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == l) {
                uint64_t v;
                ssize_t r = read(l->wake_fd, &v, sizeof v);
                (void)r;
            } else {
                service(events[i].data.ptr, events[i].events);
            }
        }
        for (sf_ws_conn *c; (c = ready_pop(l));)
            service(c, 0);
        expire(l);
        pthread_mutex_lock(&l->lock);
        bool quit = l->quit;
        pthread_mutex_unlock(&l->lock);
        if (quit)
            return NULL; /* the hub stopped: every connection has ended */
    }
}

static void loop_close(io_loop *l)
{
    if (l->epfd >= 0)
        close(l->epfd);
    if (l->wake_fd >= 0)
        close(l->wake_fd);
    pthread_mutex_destroy(&l->lock);
}

static bool loop_start(io_loop *l, sf_ws_hub *hub)
{
    l->hub = hub;
    pthread_mutex_init(&l->lock, NULL);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = l};
    l->thread_started = l->epfd >= 0 && l->wake_fd >= 0 &&
                        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) == 0 &&
                        pthread_create(&l->thread, NULL, loop_main, l) == 0;
    return l->thread_started;
}

static void loops_stop(sf_ws_hub *hub)
{
    if (hub->loops_stopped)
        return;
    hub->loops_stopped = true;
    for (size_t i = 0; i < hub->loop_count; i++) {
        io_loop *l = &hub->loops[i];
        if (l->thread_started) {
            pthread_mutex_lock(&l->lock);
            l->quit = true;
            pthread_mutex_unlock(&l->lock);
            wake(l);
            pthread_join(l->thread, NULL);
        }
    }
}

/* ---- the hub ---- */

/* Sending is mostly system calls, which scale with cores; the rest of the server (and, on a
 * test machine, the clients) need the other half. */
static size_t default_io_threads(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    long n = cpus / 2;
    return n < 1 ? 1 : n > 4 ? 4 : (size_t)n;
}

sf_ws_hub *sf_ws_hub_new(const sf_ws_handler *handler, unsigned io_threads)
{
    sf_ws_hub *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    hub->handler = handler;
    pthread_mutex_init(&hub->lock, NULL);
    pthread_cond_init(&hub->idle, NULL);
    size_t want = io_threads == 0                      ? default_io_threads()
                  : io_threads > SF_WS_MAX_IO_THREADS ? SF_WS_MAX_IO_THREADS
                                                      : io_threads;
    while (hub->loop_count < want && loop_start(&hub->loops[hub->loop_count], hub))
        hub->loop_count++;
    if (hub->loop_count < want) {
        size_t tried = hub->loop_count + 1; /* the one that failed is half set up */
        hub->loop_count = tried;
        loops_stop(hub);
        for (size_t i = 0; i < tried; i++)
            loop_close(&hub->loops[i]);
        pthread_cond_destroy(&hub->idle);
        pthread_mutex_destroy(&hub->lock);
        free(hub);
        return NULL;
    }
    return hub;
}

void sf_ws_upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
                    const char *extra_in, size_t extra_in_size, MHD_socket sock,
                    struct MHD_UpgradeResponseHandle *urh)
{
    (void)connection;
    (void)con_cls;
    sf_ws_hub *hub = cls;
    sf_ws_conn *c = calloc(1, sizeof *c);
    if (!c) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->hub = hub;
    c->urh = urh;
    c->fd = sock;
    c->deadline = -1;
    struct wslay_event_callbacks cb = {on_recv, on_send, NULL, NULL, NULL, NULL, on_msg};
    bool ok = wslay_event_context_server_init(&c->ws, &cb, c) == 0;
    if (ok) {
        wslay_event_config_set_max_recv_msg_length(c->ws, SF_WS_MAX_MESSAGE);
        int fl = fcntl(sock, F_GETFL);
        ok = fl >= 0 && fcntl(sock, F_SETFL, fl | O_NONBLOCK) == 0;
        /* small frames leave at once (a TCP socket; errors elsewhere are harmless) */
        int on = 1, off = 0;
        (void)setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        (void)setsockopt(sock, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    }
    if (ok && extra_in_size) {
        c->extra = malloc(extra_in_size);
        ok = c->extra != NULL;
        if (ok) {
            memcpy(c->extra, extra_in, extra_in_size);
            c->extra_len = extra_in_size;
        }
    }
    if (ok) {
        pthread_mutex_lock(&hub->lock);
        ok = !hub->stopping;
        if (ok) {
            c->loop = &hub->loops[hub->next_loop++ % hub->loop_count];
            c->next = hub->conns;
            if (hub->conns)
                hub->conns->prev = c;
            hub->conns = c;
            hub->live++;
            pthread_mutex_lock(&c->lock);
            schedule_locked(c); /* its I/O thread calls open() */
            pthread_mutex_unlock(&c->lock);
        }
        pthread_mutex_unlock(&hub->lock);
    }
    if (!ok) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        conn_free(c);
    }
}

void sf_ws_hub_stop(sf_ws_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->stopping = true;
    for (sf_ws_conn *c = hub->conns; c; c = c->next) {
        pthread_mutex_lock(&c->lock);
        if (!c->ended) {
            c->stopping = true;
            request_close_locked(c, GOING_AWAY);
            schedule_locked(c); /* also when a close was asked before: shorter wait */
        }
        pthread_mutex_unlock(&c->lock);
    }
    while (hub->live)
        pthread_cond_wait(&hub->idle, &hub->lock);
    pthread_mutex_unlock(&hub->lock);
    loops_stop(hub);
}

void sf_ws_hub_free(sf_ws_hub *hub)
{
    if (!hub)
        return;
    sf_ws_hub_stop(hub); /* no-op when already stopped */
    for (size_t i = 0; i < hub->loop_count; i++)
        loop_close(&hub->loops[i]);
    pthread_cond_destroy(&hub->idle);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}
