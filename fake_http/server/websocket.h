/* SPDX-License-Identifier: MIT */
/* websocket.h: WebSocket connections on the server's port (RFC 6455, via libmicrohttpd's
 * connection upgrade and wslay's framing). Binary messages only go out; pings are answered;
 * every upgraded socket is closed exactly once. A handler turns messages into a protocol
 * (Twilsock: twilsock_session.c).
 *
 * Threads: a few I/O threads (sf_ws_hub_new) serve every connection. A connection's open(),
 * message() and closed() run on its I/O thread, one at a time, with no lock of this module
 * held (they may take the server lock and call sf_ws_send/sf_ws_close); a callback that
 * blocks delays the other connections of that thread, so callbacks must not wait long.
 *
 * Lifetime of an sf_ws_conn (not reference-counted): it is valid from open() until closed()
 * returns, and freed right after. sf_ws_send/sf_ws_close may be called from any thread during
 * that whole time, including while closed() runs (they then return false / do nothing: sends
 * start failing before closed() is called). After closed() returns, nobody may use the
 * pointer: the session layer must make sure of it, e.g. by removing the session from what
 * other threads reach under the same lock (the server lock) inside closed(), and by calling
 * sf_ws_send only under that lock. When open() returns NULL, closed() is never called and
 * conn is invalid as soon as open() returns. */
#ifndef SF_WEBSOCKET_H
#define SF_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_WS_MAX_OUTBOX (16u << 20) /* unsent bytes a connection may hold */

typedef struct sf_ws_conn sf_ws_conn;

typedef struct sf_ws_handler {
    /* A connection opened: returns its session (NULL refuses it: the socket is closed). */
    void *(*open)(void *ctx, sf_ws_conn *conn);
    /* A complete binary or text message arrived (called on the connection's I/O thread). */
    void (*message)(void *session, const uint8_t *data, size_t len);
    /* The connection is gone (peer close, error, sf_ws_close, server stop); called exactly
     * once per session open() returned, after which conn must not be used. */
    void (*closed)(void *session);
    void *ctx;
} sf_ws_handler;

/* Queues a binary message (the data is copied). Thread-safe; false when the connection is
 * closing (after sf_ws_close, a server stop, or once it ended) or out of memory. A peer that
 * lets more than SF_WS_MAX_OUTBOX bytes pile up unread is closed with 1008 (and this send
 * fails): a server cannot buffer for a reader that stopped. */
bool sf_ws_send(sf_ws_conn *conn, const uint8_t *data, size_t len);

/* One piece of a message for sf_ws_sendv. */
typedef struct sf_ws_chunk {
    const void *data;
    size_t len;
} sf_ws_chunk;

/* sf_ws_send of the concatenation of `count` chunks, without joining them first. */
bool sf_ws_sendv(sf_ws_conn *conn, const sf_ws_chunk *chunks, size_t count);

/* Sends a close frame with `code` after what is queued, then closes (waiting at most 2 s for
 * the peer's close). Thread-safe; later calls and sends are ignored / fail. */
void sf_ws_close(sf_ws_conn *conn, uint16_t code);

#endif
