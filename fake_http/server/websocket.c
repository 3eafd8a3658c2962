/* SPDX-License-Identifier: MIT */
/* websocket.c: see websocket.h and websocket_server.h. This file: the handshake key and the hub
 * (its I/O threads and its connections); ws_conn.c: one connection; io_loop.c: one I/O thread.
 *
 * I/O: a few threads (sf_ws_hub_new), each running one epoll set (level-triggered) over the
 * sockets it was given and an eventfd. A connection belongs to one I/O thread for its whole
 * life; its wslay context, its handler callbacks and its socket reads happen there only.
 *
 * Sending: sf_ws_send (any thread) frames the message itself (a server frame is a 2-10 byte
 * header and the unmasked payload) and appends it to the connection's outbox, one growing
 * bounded byte buffer (buf.h), under the connection's mutex. Only when the outbox goes from empty
 * to non-empty is the connection put on its I/O thread's ready list, and only when that list goes
 * from empty to non-empty is the eventfd written: a fan-out to 1,000 connections costs 1,000
 * memcpys and a couple of wake-ups, and messages that pile up while a thread is busy leave in one
 * send(). The I/O thread swaps the outbox for an empty buffer and writes without the mutex, so a
 * sender never waits for a system call. wslay's own frames (pongs, close) reach the same outbox
 * through its send callback, which runs with the mutex held so no frame is ever split by another.
 * An outbox above SF_WS_MAX_OUTBOX (a peer that stopped reading) closes the connection
 * with 1008 rather than growing without bound.
 *
 * Ending a connection: the close handshake (ours or the peer's) is followed by shutdown(WR)
 * and reading until the peer's EOF, so the peer reads our close frame rather than a reset;
 * every wait after a close is bounded (2 s, 50 ms while the server stops: ws_conn.c). Then, on the
 * I/O thread and in this order: sends start failing, the socket leaves the epoll set,
 * handler->closed(session), MHD_upgrade_action(CLOSE), the hub forgets the connection, the
 * connection is freed.
 *
 * Locks, always taken in this order: hub->lock, conn->lock, loop->lock (io_loop.h). No lock of this
 * module is held while a handler callback runs. */
#include "ws_conn.h"

#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
    if (!base64_decode_update(&b64, &raw_len, raw, key_len, key) || !base64_decode_final(&b64) ||
        raw_len != 16)
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

/* ---- the hub ---- */

static void loops_stop(sf_ws_hub *hub)
{
    if (hub->loops_stopped)
        return;
    hub->loops_stopped = true;
    for (size_t i = 0; i < hub->loop_count; i++)
        sf_io_loop_quit(&hub->loops[i]); /* every connection has ended */
}

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
    size_t want = io_threads == 0                     ? default_io_threads()
                  : io_threads > SF_WS_MAX_IO_THREADS ? SF_WS_MAX_IO_THREADS
                                                      : io_threads;
    while (hub->loop_count < want &&
           sf_io_loop_start(&hub->loops[hub->loop_count], sf_ws_conn_service, sf_ws_conn_expired))
        hub->loop_count++;
    if (hub->loop_count < want) {
        size_t tried = hub->loop_count + 1; /* the one that failed is half set up */
        hub->loop_count = tried;
        loops_stop(hub);
        for (size_t i = 0; i < tried; i++)
            sf_io_loop_close(&hub->loops[i]);
        pthread_cond_destroy(&hub->idle);
        pthread_mutex_destroy(&hub->lock);
        free(hub);
        return NULL;
    }
    return hub;
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

void sf_ws_hub_forget(sf_ws_hub *hub, sf_ws_conn *c)
{
    pthread_mutex_lock(&hub->lock);
    hub_unlink(hub, c);
    hub->live--;
    pthread_cond_broadcast(&hub->idle);
    pthread_mutex_unlock(&hub->lock);
}

/* Gives c to an I/O thread, whose first turn calls open(). false: the server stops. */
static bool hub_adopt(sf_ws_hub *hub, sf_ws_conn *c)
{
    pthread_mutex_lock(&hub->lock);
    bool ok = !hub->stopping;
    if (ok) {
        c->io.loop = &hub->loops[hub->next_loop++ % hub->loop_count];
        c->next = hub->conns;
        if (hub->conns)
            hub->conns->prev = c;
        hub->conns = c;
        hub->live++;
        pthread_mutex_lock(&c->lock);
        sf_io_schedule(&c->io);
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_unlock(&hub->lock);
    return ok;
}

void sf_ws_hub_set_takeover(sf_ws_hub *hub, sf_ws_takeover_fn fn, void *ctx)
{
    pthread_mutex_lock(&hub->lock);
    hub->takeover = fn;
    hub->takeover_ctx = ctx;
    pthread_mutex_unlock(&hub->lock);
}

/* Appends n bytes to *buf (*len of them); false: out of memory. */
static bool append(char **buf, size_t *len, const void *p, size_t n)
{
    if (!n)
        return true;
    char *more = realloc(*buf, *len + n);
    if (!more)
        return false;
    memcpy(more + *len, p, n);
    *buf = more;
    *len += n;
    return true;
}

/* The client's own socket when the front door hands it over, and into *extra (malloc'd) the
 * client's bytes after the request in order: those libmicrohttpd read, those still in sock,
 * those the relay had not passed on. -1: use sock (and extra_in). */
static int take_client(sf_ws_hub *hub, int sock, const char *extra_in, size_t extra_in_size,
                       char **extra, size_t *extra_len)
{
    pthread_mutex_lock(&hub->lock);
    sf_ws_takeover_fn fn = hub->takeover;
    void *ctx = hub->takeover_ctx;
    pthread_mutex_unlock(&hub->lock);
    int fd;
    char *rest = NULL;
    size_t rest_len = 0;
    if (!fn || !fn(ctx, sock, &fd, &rest, &rest_len))
        return -1;
    bool ok = append(extra, extra_len, extra_in, extra_in_size);
    char chunk[4096];
    ssize_t n;
    while (ok && (n = recv(sock, chunk, sizeof chunk, MSG_DONTWAIT)) > 0)
        ok = append(extra, extra_len, chunk, (size_t)n);
    ok = ok && append(extra, extra_len, rest, rest_len);
    free(rest);
    if (!ok) { /* out of memory: the connection cannot go on either way */
        close(fd);
        free(*extra);
        *extra = NULL;
        *extra_len = 0;
        return -2;
    }
    return fd;
}

void sf_ws_upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
                    const char *extra_in, size_t extra_in_size, MHD_socket sock,
                    struct MHD_UpgradeResponseHandle *urh)
{
    (void)connection;
    (void)con_cls;
    sf_ws_hub *hub = cls;
    char *extra = NULL;
    size_t extra_len = 0;
    int own = take_client(hub, sock, extra_in, extra_in_size, &extra, &extra_len);
    sf_ws_conn *c = own == -2  ? NULL
                    : own >= 0 ? sf_ws_conn_new(hub, own, urh, extra, extra_len)
                               : sf_ws_conn_new(hub, sock, urh, extra_in, extra_in_size);
    free(extra);
    if (c)
        c->own_fd = own >= 0 ? own : -1;
    if (c && hub_adopt(hub, c))
        return;
    MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
    if (c)
        sf_ws_conn_free(c);
    if (own >= 0)
        close(own);
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
            sf_ws_request_close_locked(c, SF_WS_GOING_AWAY);
            sf_io_schedule(&c->io); /* also when a close was asked before: shorter wait */
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
        sf_io_loop_close(&hub->loops[i]);
    pthread_cond_destroy(&hub->idle);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}
