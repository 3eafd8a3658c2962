/* SPDX-License-Identifier: MIT */
/* front_door.h: the server's front door. libmicrohttpd answers some malformed requests itself,
 * before the server's handler runs, with fixed HTML pages; so the server accepts connections
 * itself and relays each one to libmicrohttpd through a socket pair, checking every request
 * on the way (front_check.h). A request the checker refuses is answered with the server's
 * Twilio-shaped JSON error (the `answer` callback) and the connection is closed; everything
 * else reaches libmicrohttpd byte for byte, and its answers reach the client untouched.
 *
 * One thread (an sf_io_loop of its own) accepts and relays. Each client costs three
 * descriptors: its socket, the relay's end of the pair and libmicrohttpd's end.
 * The connection caps and deadlines (conn_limits.h) act on libmicrohttpd's end: when
 * libmicrohttpd closes it, the relay passes the close on to the client. */
#ifndef SF_FRONT_DOOR_H
#define SF_FRONT_DOOR_H

#include "syncfake.h"

#include <microhttpd.h>
#include <stddef.h>

typedef struct sf_front sf_front;

/* Writes the whole answer for a refused request (status line, headers with Connection: close,
 * body) into out (cap bytes). Returns its length, 0 when it does not fit. Called on the front
 * door's thread. */
typedef size_t (*sf_front_answer_fn)(void *ctx, sf_status status, char *out, size_t cap);

/* Accepts on listen_fd (owned from here on, also on failure) and hands each client to daemon
 * (started with MHD_USE_NO_LISTEN_SOCKET). At most max_live connections are handed over and
 * open at once (the daemon's MHD_OPTION_CONNECTION_LIMIT: a client past it would be refused
 * by libmicrohttpd; it waits in the listening socket's backlog instead, as it did when
 * libmicrohttpd accepted). NULL: out of memory or no thread. */
sf_front *sf_front_start(int listen_fd, struct MHD_Daemon *daemon, unsigned max_live,
                         sf_front_answer_fn answer, void *ctx);
/* For an upgraded connection (a WebSocket), the client's own socket in place of mhd_fd,
 * libmicrohttpd's end of its pair, so its bytes skip the relay: the relay has passed the 101
 * on to the client and steps aside. Any thread; waits for the front door's thread. true:
 * *client_fd is the caller's, *rest (malloc'd, may be NULL) holds the client's bytes the relay
 * had not passed on yet; those it had are still readable on mhd_fd. false: nothing changed
 * (the relay goes on relaying). */
bool sf_front_take_client(sf_front *f, int mhd_fd, int *client_fd, char **rest, size_t *rest_len);
/* No connection is handed to libmicrohttpd after this returns (the daemon may then stop); the
 * listening socket is closed soon after. Relays go on. */
void sf_front_stop_accepting(sf_front *f);
/* After the daemon stopped: ends the thread, passes on what each relay still holds if the
 * client takes it at once, closes every connection and the listening socket, frees. */
void sf_front_free(sf_front *f);

#endif
