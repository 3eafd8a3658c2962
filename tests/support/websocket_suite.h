/* SPDX-License-Identifier: MIT */
/* websocket_suite.h: what the test_websocket_*.c suites share: a loopback server (three
 * WebSocket I/O threads) whose WebSocket handler is the test handler below, the counters of
 * what that handler saw, and client-side checks over tests/support/ws_client.h.
 *
 * The test handler echoes every message back with sf_ws_sendv (in three pieces, as a binary
 * message); "!close" makes it send "bye", sf_ws_close(1000) and try one more send (which must
 * fail); "!flood" makes it send WS_FLOOD_LEN-byte messages until a send fails. It lists the
 * open connections in ws_echo.live, so that a test's own thread may sf_ws_send to them under
 * ws_echo.lock. Helpers fail the test through cmocka: include this after <cmocka.h>. */
#ifndef SF_TEST_WEBSOCKET_SUITE_H
#define SF_TEST_WEBSOCKET_SUITE_H

#include "server.h"
#include "syncfake.h"
#include "websocket.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_IO_TIMEOUT_MS 5000
#define WS_SHORT_TIMEOUT_MS 300 /* "nothing more happens" checks */
#define WS_PATH "/v3/wsconnect"
#define WS_MAX_CONNS 64
#define WS_FLOOD_LEN 60000 /* a 4-byte frame header: 60,004 bytes a message */

typedef struct ws_session {
    sf_ws_conn *conn;
    int slot; /* in ws_echo.live; -1 when the list was full */
} ws_session;

/* Everything the handler saw; `lock` plays the part of the server lock: a test's sender sends
 * under it and closed() takes it, so no send touches a connection after closed() returned. */
typedef struct ws_echo_state {
    pthread_mutex_t lock;
    ws_session *live[WS_MAX_CONNS];
    int opened, closed, messages;
    atomic_bool double_close; /* closed() twice, or a send accepted after sf_ws_close */
    atomic_int flood_sent;    /* messages "!flood" got queued; -1 before it ran */
} ws_echo_state;

extern ws_echo_state ws_echo;
extern const sf_ws_handler ws_echo_handler;

/* The server: a manual-clock fake (seed 7) behind it. */
typedef struct ws_env {
    sf_fake *fake;
    sf_server *srv; /* a test that stops the server itself sets it to NULL */
    uint16_t port;
} ws_env;

/* cmocka setup and teardown (of a group or of a test): *state is the ws_env. The teardown
 * stops the server and fails when some opened connection did not get its closed(). */
int ws_env_setup(void **state);
int ws_env_teardown(void **state);

/* The handler's open() and closed() counts so far. */
void ws_counts(int *opened, int *closed);
/* Waits until closed() ran `n` times in all; false when it did not within WS_IO_TIMEOUT_MS or
 * ran more often. */
bool ws_wait_closed(int n);
/* Waits until every opened connection was closed (closed() runs on the connection's I/O
 * thread, a little after the client saw the close), then reads the counters. */
void ws_settled_counts(int *opened, int *closed);

/* Sends a len-byte message (opcode 1 text or 2 binary) and expects it back, binary. */
void ws_echo_check(int fd, int opcode, size_t len);
/* Sends close `code`, expects the server's close (same code), then EOF; closes fd. */
void ws_close_handshake(int fd, uint16_t code);
/* Expects close `code` from the server, then its EOF (it shut its side down); closes fd. */
void ws_expect_close(int fd, uint16_t code);

/* Connects, sends the upgrade request (RFC 6455's example key) and the `len` bytes of `frames`
 * right behind it in one write, and asserts the 101 answer (its head read byte by byte, so no
 * frame is consumed); returns the socket. */
int ws_upgrade_with(uint16_t port, const void *frames, size_t len);

/* A raw HTTP exchange on a new connection: the response (head and body) into buf; returns
 * its status, or -1. */
int ws_http_raw(uint16_t port, const char *request, char *buf, size_t cap);

#endif
