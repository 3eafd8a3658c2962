/* SPDX-License-Identifier: MIT */
/* ws_conn.c: one WebSocket connection (see websocket.c for its life and the lock order):
 * framing and the outbox for senders on any thread, wslay on its I/O thread, the close
 * handshake and the end. */
#include "ws_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLOSE_WAIT_MS 2000 /* after a close is requested/sent: until the socket goes */
/* The same while the server stops: a client on the same host answers a close in far less, and
 * one that does not must not hold up the stop (SIGTERM exits within 200 ms). */
#define STOP_WAIT_MS 50
#define PROTOCOL_ERROR 1002
#define POLICY_VIOLATION 1008
#define OUTBOX_KEEP (64u * 1024) /* an emptied outbox larger than this is given back */

static sf_ws_conn *conn_of(sf_io_watch *w)
{
    return (sf_ws_conn *)((char *)w - offsetof(sf_ws_conn, io));
}

/* ---- the outbox ---- */

/* Writes what the socket takes: first `wire`, then what was appended to `out` meanwhile,
 * taken in one swap so that senders never wait for a system call. Returns whether both are
 * empty. The I/O thread, without c->lock. */
static bool flush(sf_ws_conn *c)
{
    for (;;) {
        if (sf_http_buf_pending(&c->wire) == 0) {
            sf_http_buf_clear(&c->wire, OUTBOX_KEEP);
            pthread_mutex_lock(&c->lock);
            sf_http_buf spare = c->wire;
            c->wire = c->out;
            c->out = spare;
            pthread_mutex_unlock(&c->lock);
            if (sf_http_buf_pending(&c->wire) == 0)
                return true;
        }
        ssize_t n = send(c->io.fd, c->wire.data + c->wire.off, sf_http_buf_pending(&c->wire),
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return false;
            c->failed = true; /* the peer is gone: what is left cannot arrive */
            sf_http_buf_clear(&c->wire, OUTBOX_KEEP);
            return true;
        }
        sf_http_buf_consume(&c->wire, (size_t)n);
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
void sf_ws_request_close_locked(sf_ws_conn *c, uint16_t code)
{
    if (c->close_requested || c->ended)
        return;
    c->close_requested = true;
    c->close_code = code;
    sf_io_schedule(&c->io);
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
    } else if (!sf_http_buf_fits(&conn->out, header_len + len)) {
        sf_ws_request_close_locked(conn, POLICY_VIOLATION); /* the peer stopped reading */
    } else if (sf_http_buf_reserve(&conn->out, header_len + len)) {
        bool was_empty = sf_http_buf_pending(&conn->out) == 0;
        sf_http_buf_put(&conn->out, header, header_len);
        for (size_t i = 0; i < count; i++)
            sf_http_buf_put(&conn->out, chunks[i].data, chunks[i].len);
        if (was_empty)
            sf_io_schedule(&conn->io); /* otherwise it is queued, or its thread is on it */
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
    sf_ws_request_close_locked(conn, code);
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

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
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
        n = recv(c->io.fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return guarded(ctx, c, buf, (size_t)n);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF or error */
    return -1;
}

/* wslay's frames go to the outbox; wslay_event_send runs with c->lock held. A full outbox
 * asks for close 1008, as sf_ws_sendv does. */
static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    sf_ws_conn *c = user;
    if (!sf_http_buf_fits(&c->out, len)) { /* a full outbox: the peer stopped reading */
        sf_ws_request_close_locked(c, POLICY_VIOLATION);
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* wslay keeps the frame */
        return -1;
    }
    if (!sf_http_buf_reserve(&c->out, len)) {
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
        return -1;
    }
    sf_http_buf_put(&c->out, data, len);
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

void sf_ws_conn_free(sf_ws_conn *c)
{
    if (c->ws)
        wslay_event_context_free(c->ws);
    sf_http_buf_free(&c->out);
    sf_http_buf_free(&c->wire);
    free(c->extra);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* The connection's last step: see websocket.c for the order. */
static void conn_end(sf_ws_conn *c)
{
    sf_ws_hub *hub = c->hub;
    pthread_mutex_lock(&c->lock);
    c->ended = true; /* from now on sf_ws_send fails; conn stays valid until closed() returns */
    sf_io_unschedule(&c->io);
    pthread_mutex_unlock(&c->lock);
    sf_io_watch_forget(&c->io);
    if (c->session)
        hub->handler->closed(c->session);
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);
    if (c->own_fd >= 0)
        close(c->own_fd);
    sf_ws_hub_forget(hub, c);
    sf_ws_conn_free(c);
}

/* A header the guard stopped: reading ends and close 1002 goes after what is queued, the
 * way wslay answers the protocol errors it reports itself. */
static void refuse_bad_frame(sf_ws_conn *c)
{
    if (!c->guard.bad || !wslay_event_want_read(c->ws))
        return;
    wslay_event_shutdown_read(c->ws);
    pthread_mutex_lock(&c->lock);
    sf_ws_request_close_locked(c, PROTOCOL_ERROR);
    pthread_mutex_unlock(&c->lock);
}

/* Reads what arrived: frames through wslay, or discarded bytes once half-closed. */
static void read_side(sf_ws_conn *c)
{
    if (c->half_closed) {
        uint8_t scrap[4096];
        for (;;) {
            ssize_t n = recv(c->io.fd, scrap, sizeof scrap, MSG_DONTWAIT);
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

/* Queues our close frame when one was asked for, and lets wslay write its frames into the
 * outbox. Returns whether a close was asked; *stopping: whether the server stops. */
static bool queue_frames(sf_ws_conn *c, bool *stopping)
{
    pthread_mutex_lock(&c->lock);
    bool asked = c->close_requested;
    *stopping = c->stopping;
    if (asked && !c->close_queued && !c->failed) {
        /* everything sent before the close is already in the outbox, ahead of it */
        (void)wslay_event_queue_close(c->ws, c->close_code, NULL, 0);
        c->close_queued = true;
    }
    if (!c->failed && wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
        c->failed = true;
    pthread_mutex_unlock(&c->lock);
    return asked;
}

/* Moves the connection on: our close frame, wslay's frames, the outbox, then whether it is
 * closing, finished or waiting. May end (free) the connection. */
static void advance(sf_ws_conn *c)
{
    /* bytes libmicrohttpd read past the request: wslay reads them before the socket */
    while (!c->failed && c->extra_off < c->extra_len && wslay_event_want_read(c->ws)) {
        if (wslay_event_recv(c->ws) != 0)
            c->failed = true;
        refuse_bad_frame(c);
    }
    bool stopping;
    bool asked = queue_frames(c, &stopping);
    bool out_empty = c->failed || flush(c);

    bool want_read = wslay_event_want_read(c->ws);
    bool close_sent = wslay_event_get_close_sent(c->ws);
    if (asked || !want_read || close_sent || wslay_event_get_close_received(c->ws))
        sf_io_deadline(&c->io, sf_io_now_ms() + (stopping ? STOP_WAIT_MS : CLOSE_WAIT_MS));
    if (!c->failed && !want_read && out_empty && !wslay_event_want_write(c->ws)) {
        if (!close_sent)
            c->failed = true; /* wslay stopped reading without a close: nothing more to do */
        else if (!c->half_closed) {
            shutdown(c->io.fd, SHUT_WR);
            c->half_closed = true;
            read_side(c); /* the EOF may be here already */
        }
    }
    if (!c->failed && !sf_io_watch_set(&c->io, want_read || c->half_closed, !out_empty))
        c->failed = true;
    if (c->failed || sf_io_deadline_passed(&c->io))
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

void sf_ws_conn_service(sf_io_watch *w, uint32_t events)
{
    sf_ws_conn *c = conn_of(w);
    if (!c->started)
        return start(c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        read_side(c);
    advance(c);
}

void sf_ws_conn_expired(sf_io_watch *w)
{
    conn_end(conn_of(w)); /* the peer did not finish the close in time */
}

/* ---- a new connection ---- */

/* Non-blocking, and small frames leave at once (a TCP socket; errors elsewhere are
 * harmless). */
static bool socket_setup(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    bool ok = fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0;
    int on = 1, off = 0;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    (void)setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    return ok;
}

sf_ws_conn *sf_ws_conn_new(sf_ws_hub *hub, int fd, struct MHD_UpgradeResponseHandle *urh,
                           const char *extra_in, size_t extra_in_size)
{
    sf_ws_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->hub = hub;
    c->urh = urh;
    c->own_fd = -1;
    sf_io_watch_init(&c->io, NULL, fd); /* its loop is chosen by the hub */
    sf_http_buf_init_max(&c->out, SF_WS_MAX_OUTBOX);
    sf_http_buf_init_max(&c->wire, SF_WS_MAX_OUTBOX);
    struct wslay_event_callbacks cb = {on_recv, on_send, NULL, NULL, NULL, NULL, on_msg};
    bool ok = wslay_event_context_server_init(&c->ws, &cb, c) == 0;
    if (ok) {
        wslay_event_config_set_max_recv_msg_length(c->ws, SF_WS_MAX_MESSAGE);
        ok = socket_setup(fd);
    }
    if (ok && extra_in_size) {
        c->extra = malloc(extra_in_size);
        ok = c->extra != NULL;
        if (ok) {
            memcpy(c->extra, extra_in, extra_in_size);
            c->extra_len = extra_in_size;
        }
    }
    if (!ok) {
        sf_ws_conn_free(c);
        return NULL;
    }
    return c;
}
