/* SPDX-License-Identifier: MIT */
/* ws_conn.h: what the WebSocket hub (websocket.c) and its connections (ws_conn.c) share; not
 * for other files. See websocket.c for the life of a connection and the lock order. */
#ifndef SF_WS_CONN_H
#define SF_WS_CONN_H

#include "buf.h"
#include "io_loop.h"
#include "websocket_server.h"
#include "ws_frame_guard.h"

#include <pthread.h>
#include <wslay/wslay.h>

#define SF_WS_GOING_AWAY 1001

struct sf_ws_conn {
    sf_ws_hub *hub;
    sf_io_watch io; /* its socket on its I/O thread (io_loop.h) */
    struct MHD_UpgradeResponseHandle *urh;
    int own_fd; /* the client's socket taken over from the front door (closed at the end), or
                   -1: io.fd is libmicrohttpd's, closed by MHD_upgrade_action */
    struct sf_ws_conn *prev, *next; /* hub->conns, under hub->lock */

    pthread_mutex_t lock; /* guards the fields below */
    sf_http_buf out;      /* framed messages, appended by any thread (SF_WS_MAX_OUTBOX) */
    bool close_requested; /* sf_ws_close, server stop or a full outbox: no more sends */
    uint16_t close_code;
    bool stopping; /* the server stops: shorter waits */
    bool ended;    /* the connection is ending: sends fail, no more scheduling */

    /* the I/O thread only */
    sf_http_buf wire; /* taken from `out`, being written: always goes first */
    wslay_event_context_ptr ws;
    void *session;
    sf_ws_guard guard; /* the client's frame headers, before wslay reads them */
    uint8_t *extra;    /* bytes libmicrohttpd read past the request */
    size_t extra_len, extra_off;
    bool started;      /* open() was called */
    bool close_queued; /* our close frame is in wslay */
    bool half_closed;  /* shutdown(WR) done: reading until the peer's EOF */
    bool failed;       /* EOF, socket error or protocol failure: end now */
};

struct sf_ws_hub {
    const sf_ws_handler *handler;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    sf_ws_conn *conns;
    size_t live; /* connections not yet ended */
    unsigned next_loop;
    bool stopping;
    bool loops_stopped;
    size_t loop_count;
    sf_io_loop loops[SF_WS_MAX_IO_THREADS];
    sf_ws_takeover_fn takeover; /* under lock */
    void *takeover_ctx;
};

/* ws_conn.c: a connection on the upgraded socket, with its wslay context (NULL: out of
 * memory or a socket it cannot use; the caller closes the socket). */
sf_ws_conn *sf_ws_conn_new(sf_ws_hub *hub, int fd, struct MHD_UpgradeResponseHandle *urh,
                           const char *extra_in, size_t extra_in_size);
void sf_ws_conn_free(sf_ws_conn *c);
/* Caller holds c->lock: asks for the close handshake (once) and schedules the connection. */
void sf_ws_request_close_locked(sf_ws_conn *c, uint16_t code);
/* The I/O loop's callbacks (io_loop.h) for a connection's watch. */
void sf_ws_conn_service(sf_io_watch *w, uint32_t events);
void sf_ws_conn_expired(sf_io_watch *w);

/* websocket.c: the hub forgets an ended connection (which is freed next). */
void sf_ws_hub_forget(sf_ws_hub *hub, sf_ws_conn *c);

#endif
