/* websocket.h: WebSocket connections on the server's port (RFC 6455, via libmicrohttpd's
 * connection upgrade and wslay's framing). Binary messages only go out; pings are answered;
 * every upgraded socket is closed exactly once. A handler turns messages into a protocol
 * (Twilsock: twilsock_session.c). */
#ifndef SF_WEBSOCKET_H
#define SF_WEBSOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf_ws_conn sf_ws_conn;

typedef struct sf_ws_handler {
    /* A connection opened: returns its session (NULL refuses it: the socket is closed). */
    void *(*open)(void *ctx, sf_ws_conn *conn);
    /* A complete binary or text message arrived (called on the connection's own thread). */
    void (*message)(void *session, const uint8_t *data, size_t len);
    /* The connection is gone; called exactly once, after which conn must not be used. */
    void (*closed)(void *session);
    void *ctx;
} sf_ws_handler;

/* Queues a binary message. Thread-safe; false when the connection is closing. */
bool sf_ws_send(sf_ws_conn *conn, const uint8_t *data, size_t len);
/* Sends a close frame with `code` after what is queued, then closes. Thread-safe. */
void sf_ws_close(sf_ws_conn *conn, uint16_t code);

#endif
