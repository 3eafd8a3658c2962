/* SPDX-License-Identifier: MIT */
/* ts_server.h: a loopback server whose WebSocket endpoint is a Twilsock session manager, as
 * syncfake-server runs it, for the suites that drive the client API over real sockets. */
#ifndef SF_TEST_TS_SERVER_H
#define SF_TEST_TS_SERVER_H

#include "server.h"
#include "syncfake.h"
#include "twilsock_session.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct ts_server {
    sf_server *srv;
    sf_ts_manager *mgr;
    uint16_t port;
} ts_server;

/* Serves fake on 127.0.0.1 (a free port) with io_threads WebSocket I/O threads (0: the
 * server's default); base_url is the one descriptors' URLs start with. false, with nothing
 * left running, when any part fails to start. */
bool ts_server_start(ts_server *t, sf_fake *fake, const char *base_url, unsigned io_threads);
/* Stops the session manager, then the server, and frees both (the fake is the caller's). */
void ts_server_stop(ts_server *t);

#endif
