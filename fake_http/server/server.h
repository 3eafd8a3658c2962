/* SPDX-License-Identifier: MIT */
/* server.h: syncfake-server, a libmicrohttpd adapter over the in-process dispatcher. It adds
 * no behaviour: it moves bytes between sockets and sf_http_dispatch, serialises access to the
 * one fake, turns events-endpoint connections into server-sent-event streams, and (with the
 * wall clock) runs due events in the background so TTLs expire without requests. */
#ifndef SF_SERVER_H
#define SF_SERVER_H

#include "syncfake_http.h"
#include "websocket.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct sf_server sf_server;

typedef struct sf_server_config {
    const char *host; /* "127.0.0.1" */
    uint16_t port;    /* 0: any free port */
    int listen_fd;    /* > 0: serve this socket from sf_server_listen (host and port are
                         then only named in messages); the server owns it from here on,
                         also when it fails to start. 0: bind host:port itself */
    sf_fake *fake;    /* used only under the server's lock */
    bool wall_clock;  /* run due events every few ms in the background */
    /* After POST /_syncfake/reset, under the lock: puts back what the fake was started with
     * beyond its options (extra accounts, API keys). NULL: nothing. */
    void (*on_reset)(sf_fake *fake, void *ctx);
    void *on_reset_ctx;
    const sf_ws_handler *ws; /* NULL: no WebSocket endpoint; else must outlive the server */
    const char *ws_path;     /* where GETs upgrade to WebSocket; NULL: "/v3/wsconnect" */
    unsigned ws_io_threads;  /* threads serving the WebSockets; 0: one per two CPUs (1-4) */
    /* Basic credentials with the control API's fake-wide powers (sf_http_request.admin_sid);
     * NULL: none. Borrowed: must outlive the server. */
    const char *admin_sid;
    const char *admin_token;
    size_t sse_queue_max;        /* bytes of events waiting for one event-stream client before it
                                    is cut off (journal: unsubscribed, reason queue_full); 0: 16 MiB */
    unsigned max_connections;    /* served at once (see conn_limits.h); 0: 1024 */
    unsigned request_timeout_ms; /* to deliver a whole request once waiting; 0: 10000 */
    const char *instance_id;     /* shown by GET /_syncfake/clock; NULL: not shown. Must outlive
                                    the server */
    const struct sf_cors *cors;  /* origins whose pages may call the control API (cors.h);
                                    NULL: no CORS. Must outlive the server */
    struct sf_request_log *request_log; /* the request log (request_log.h), on or off, which
                                   POST /_syncfake/request-log turns on and off; NULL: none.
                                   Must outlive the server */
    bool mhd_log; /* write libmicrohttpd's own messages to stderr (default: quiet) */
} sf_server_config;

/* A connection answering a request (not an event stream or WebSocket) that makes no progress
 * for this long is closed. */
#define SF_SERVER_IDLE_TIMEOUT_S 30u

/* A listening TCP socket on host (an IPv4 address) and port (0: any free one), for a caller
 * that must know the port before it makes the fake (whose base URL names it): the port is
 * bound once, never released and bound again. Returns the socket (> 2) and sets *bound_port,
 * or -1 (message on stderr). */
int sf_server_listen(const char *host, uint16_t port, uint16_t *bound_port);

/* Starts serving. NULL on failure (message on stderr). */
sf_server *sf_server_start(const sf_server_config *config);
/* The lock that guards the fake: hold it for any use of the fake while the server runs. */
void sf_server_lock(sf_server *server);
void sf_server_unlock(sf_server *server);
/* The port actually bound. */
uint16_t sf_server_port(const sf_server *server);
/* Stops accepting connections (the front door, front_door.h), answers new requests 503 from
 * here on (a stream opened during the stop would stay suspended, and libmicrohttpd aborts on
 * that), ends every event stream, sends close 1001 on every WebSocket and waits for their
 * closed() callbacks and I/O threads, waits for connections, closes the relays, frees the
 * server.
 * Must not be called with anything held that a WebSocket handler's closed() takes. */
void sf_server_stop(sf_server *server);

#endif
