/* SPDX-License-Identifier: MIT */
/* twilsock_session.h: Twilio's client SDK over a WebSocket: Twilsock V3.0 frames carrying an
 * access token (init/update), tunnelled Sync client API requests for streams (v3 Streams and
 * v4 Subscriptions) and notifications. Every Twilsock subscription is a core subscriber, so the
 * fake's clock, faults and journal apply to SDK clients too. */
#ifndef SF_TWILSOCK_SESSION_H
#define SF_TWILSOCK_SESSION_H

#include "syncfake.h"
#include "websocket.h"

#include <stdbool.h>

/* What the session layer needs from the server: the one lock that guards the fake. */
typedef struct sf_ts_host {
    void (*lock)(void *ctx);
    void (*unlock)(void *ctx);
    void *ctx;
    sf_fake *fake;
    const char *base_url;    /* for the URLs of descriptors, e.g. http://127.0.0.1:8787 */
    const char *instance_id; /* the server run's id (instance_id.h), part of the offline
                                storage id; NULL: none */
} sf_ts_host;

typedef struct sf_ts_manager sf_ts_manager;

sf_ts_manager *sf_ts_manager_new(void);
/* Connects the manager to its server once it runs (before any connection is served). Starts
 * the thread that announces expiring tokens and closes expired ones, on the fake's clock. */
bool sf_ts_manager_start(sf_ts_manager *mgr, const sf_ts_host *host);
/* The WebSocket handler to give the server. */
const sf_ws_handler *sf_ts_handler(sf_ts_manager *mgr);
/* Stops the token thread: before the server stops (the thread uses the server's lock). */
void sf_ts_manager_stop(sf_ts_manager *mgr);
/* Frees the manager (stopping its thread if still running); after the server has stopped,
 * when every session is closed. */
void sf_ts_manager_free(sf_ts_manager *mgr);

/* Warning before a token expires (client_update "token_about_to_expire"). */
#define SF_TS_TOKEN_WARNING_MS 10000

#endif
