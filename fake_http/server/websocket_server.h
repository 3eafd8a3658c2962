/* SPDX-License-Identifier: MIT */
/* websocket_server.h: the server side of websocket.h, for server.c only. A hub owns every
 * upgraded connection of one server and its I/O threads: sf_ws_upgraded (libmicrohttpd's
 * upgrade callback, with the hub as its closure) hands a connection to an I/O thread;
 * sf_ws_hub_stop closes them all and waits until each has ended. */
#ifndef SF_WEBSOCKET_SERVER_H
#define SF_WEBSOCKET_SERVER_H

#include "websocket.h"

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#define SF_WS_MAX_MESSAGE (1u << 20) /* larger incoming messages: close 1009 */
#define SF_WS_ACCEPT_LEN 28          /* base64 of a SHA-1 digest */

typedef struct sf_ws_hub sf_ws_hub;

#define SF_WS_MAX_IO_THREADS 16

/* Starts `io_threads` I/O threads (0: one per two CPUs, at least 1, at most 4; more than
 * SF_WS_MAX_IO_THREADS: that many). NULL when they cannot be started. */
sf_ws_hub *sf_ws_hub_new(const sf_ws_handler *handler, unsigned io_threads);
/* Sends close 1001 on every open connection, waits until each is closed (closed() ran, the
 * socket was given back to libmicrohttpd), then joins the I/O threads. New upgrades are
 * refused from then on. Call before MHD_stop_daemon. */
void sf_ws_hub_stop(sf_ws_hub *hub);
/* After MHD_stop_daemon (the upgrade callback may run until then). */
void sf_ws_hub_free(sf_ws_hub *hub);

/* true when `key` is a valid Sec-WebSocket-Key (base64 of 16 bytes); writes the
 * Sec-WebSocket-Accept value (SF_WS_ACCEPT_LEN chars + NUL) into `accept`. */
bool sf_ws_accept_key(const char *key, char accept[SF_WS_ACCEPT_LEN + 1]);

/* Hands over the client's own socket in place of `sock`, libmicrohttpd's end of an upgraded
 * connection (the server's front door relays every connection: front_door.h), so that
 * WebSocket bytes skip the relay. true: *client_fd is the caller's to close, *rest (malloc'd,
 * may be NULL) the client's bytes that had not reached sock yet. false: use sock. */
typedef bool (*sf_ws_takeover_fn)(void *ctx, int sock, int *client_fd, char **rest,
                                  size_t *rest_len);
/* Set once, before any upgrade; NULL: every connection is served on libmicrohttpd's socket. */
void sf_ws_hub_set_takeover(sf_ws_hub *hub, sf_ws_takeover_fn fn, void *ctx);

/* An MHD_UpgradeHandler; cls is the sf_ws_hub. */
void sf_ws_upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
                    const char *extra_in, size_t extra_in_size, MHD_socket sock,
                    struct MHD_UpgradeResponseHandle *urh);

#endif
