/* SPDX-License-Identifier: MIT */
/* conn_limits.h: how many connections syncfake-server holds, and how long a connection may
 * take to send a request. Without these, a few thousand idle sockets (or sockets trickling a
 * header byte now and then) fill libmicrohttpd's table and lock every client out.
 *
 * - A connection that is waiting for a request (new, or kept alive after a response) must
 *   deliver the complete request, head and body, within `request_timeout_ms`; else it is cut.
 * - At most `max_connections` are served at once. When a new connection would pass the cap,
 *   the connection that has waited longest for its request is cut to make room (oldest first,
 *   so a flood of idle sockets cannot keep a real client out); when every connection is busy
 *   (answering, or a long-lived event stream or WebSocket), the new one is answered 503.
 * - Long-lived connections (event streams, WebSockets) are exempt once established.
 *
 * Thread-safe: libmicrohttpd's threads and the server's ticker call in. */
#ifndef SF_CONN_LIMITS_H
#define SF_CONN_LIMITS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#define SF_CONN_MAX_DEFAULT 1024u
#define SF_CONN_REQUEST_TIMEOUT_MS_DEFAULT 10000u

typedef struct sf_conn_table sf_conn_table;

/* NULL when out of memory. 0 for either value: its default. */
sf_conn_table *sf_conn_table_new(unsigned max_connections, unsigned request_timeout_ms);
void sf_conn_table_free(sf_conn_table *t);
unsigned sf_conn_table_max(const sf_conn_table *t);

/* MHD_OPTION_NOTIFY_CONNECTION callback; cls is the table. */
void sf_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode code);
/* The request's head arrived. False: the connection was admitted over the cap, answer 503. */
bool sf_conn_admitted(sf_conn_table *t, struct MHD_Connection *conn);
/* The whole request arrived: no deadline and no eviction until its answer is done (an event
 * stream's or a WebSocket's answer lasts as long as the connection). */
void sf_conn_received(sf_conn_table *t, struct MHD_Connection *conn);
/* The answer was sent and the connection stays open: it waits for its next request. */
void sf_conn_answered(sf_conn_table *t, struct MHD_Connection *conn);
/* Cuts the connections whose request deadline has passed; now_ms from sf_conn_now_ms. */
void sf_conn_reap(sf_conn_table *t, int64_t now_ms);
/* The monotonic clock the deadlines use (never the fake's clock). */
int64_t sf_conn_now_ms(void);

#endif
