/* SPDX-License-Identifier: MIT */
/* twilsock_internal.h: what the Twilsock session's files share (private to them). The session
 * (twilsock_session.c: tokens, connections, the token watcher) owns the state below; the
 * client API for streams (twilsock_streams.c) and its subscriptions
 * (twilsock_subscriptions.c) act on it; twilsock_reply.c writes every frame they send. All of
 * it runs under the host's lock (see twilsock_session.c), except sf_ts_send_frame's own send. */
#ifndef SF_TWILSOCK_INTERNAL_H
#define SF_TWILSOCK_INTERNAL_H

#include "buf.h"
#include "deadline_heap.h"
#include "json_field.h"
#include "twilsock_frame.h"
#include "twilsock_session.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

typedef struct ts_subscription {
    char stream_sid[SF_SID_SIZE];
    sf_subscriber_id id;
} ts_subscription;

typedef struct ts_session {
    sf_ts_manager *mgr;
    sf_ws_conn *conn;
    uint64_t client_id;  /* marks this connection's own publishes (not echoed back) */
    bool authed, warned; /* a live token; its expiry was announced */
    char account_sid[SF_SID_SIZE];
    char service_sid[SF_SID_SIZE];
    char identity[257];
    int64_t exp_ms;
    uint64_t generation; /* the fake's reset generation of its subscriptions */
    ts_subscription *subs;
    size_t sub_count, sub_cap;
    size_t deadline_slot; /* in mgr->deadlines while its token is live */
} ts_session;

struct sf_ts_manager {
    sf_ts_host host;
    char base_url[SF_BASE_URL_CAP];
    sf_ws_handler handler;
    /* sessions with a live token, by when the token watcher next has work for them: the
     * `client_update` warning, then the expiry */
    sf_deadline_heap deadlines;
    size_t session_count; /* the heap has room for every session */
    uint64_t next_client_id;
    uint64_t next_notification;
    /* the notification payload of the message being fanned out, built once for every
     * session (under the host lock); `published_data_at` is where its data starts */
    sf_http_buf published;
    char published_stream[SF_SID_SIZE], published_message[SF_SID_SIZE];
    size_t published_data_at, published_data_len;
    pthread_t ticker;
    bool ticker_started;
    atomic_bool stopping; /* read without the host lock: the host may be going away */
    atomic_bool started;  /* host set: connections before that are refused */
};

/* ---- twilsock_reply.c: the frames a session sends ---- */

void sf_ts_send_frame(ts_session *s, const char *header, const char *payload, size_t len);
/* The answer to a tunnelled request: transport 200, the Sync answer (status, body) in
 * http_status and the payload. */
void sf_ts_reply_http(ts_session *s, const char *id, int status, const sf_http_buf *body);
/* The same with a fixed JSON text as the body. */
void sf_ts_reply_json(ts_session *s, const char *id, int status, const char *json);
/* A tunnelled request's error, in the client API's error object. */
void sf_ts_reply_error(ts_session *s, const char *id, const sf_error *err);
/* A 400 Invalid parameter naming `why`. */
void sf_ts_bad_request(ts_session *s, const char *id, const char *why);
/* The error of a request on stream `stream_id`, in the client API's not-found (below). */
void sf_ts_reply_stream_error(ts_session *s, const char *id, const char *stream_id, sf_error *err);
/* Turns REST's not-found into the client API's own for a stream SID or unique name. */
void sf_ts_client_api_error(const char *stream_id, sf_error *err);
/* A Twilsock-level answer (init/update/refused message): a status object, no payload. */
void sf_ts_reply_status(ts_session *s, const char *id, sf_status st);
/* The answer to a good `init` (capabilities, offline storage id, account descriptor). */
void sf_ts_reply_init(ts_session *s, const char *id);
/* A `twilio.sync.event` notification carrying `payload`. */
void sf_ts_notify(ts_session *s, const sf_http_buf *payload);
/* The `client_update` announcing the token's expiry. */
void sf_ts_warn_token_expiring(ts_session *s);
/* The `close` frame of an expired token (410 TOKEN_EXPIRED). */
void sf_ts_close_token_expired(ts_session *s);

/* ---- twilsock_streams.c: the Sync client API (a `message` frame's tunnelled request) ---- */

void sf_ts_client_request(ts_session *s, const sf_ts_frame *f);

/* ---- twilsock_subscriptions.c: v4 Subscriptions and the notifications they bring ---- */

/* POST /v4/Subscriptions with the request's JSON payload (an empty doc when unreadable). */
void sf_ts_subscriptions(ts_session *s, const char *id, const sf_jf_doc *payload);
/* Detaches every core subscriber of a closing session. */
void sf_ts_unsubscribe_all(ts_session *s);

#endif
