/* SPDX-License-Identifier: MIT */
/* server_internal.h: what the files of the server share (server.c: its life and background
 * thread; server_request.c: a request from its first byte to the dispatcher; server_answer.c:
 * the answers the server queues); not for other files. */
#ifndef SF_SERVER_INTERNAL_H
#define SF_SERVER_INTERNAL_H

#include "server.h"
#include "conn_limits.h"
#include "cors.h"
#include "front_door.h"
#include "request_log.h"
#include "sse.h"
#include "websocket_server.h"

#include <microhttpd.h>
#include <pthread.h>

struct sf_server {
    struct MHD_Daemon *daemon;
    sf_front *front; /* accepts, checks and relays every connection */
    sf_fake *fake;
    pthread_mutex_t lock; /* the fake and the event streams */
    sf_sse_list streams;
    sf_conn_table *conns; /* the connection cap and request deadline */
    bool stopping;
    bool wall_clock;
    void (*on_reset)(sf_fake *fake, void *ctx);
    void *on_reset_ctx;
    const char *admin_sid, *admin_token; /* the config's, borrowed */
    pthread_t ticker;
    pthread_cond_t tick_wake; /* signalled (under lock) when stopping */
    bool ticker_started;
    uint16_t port;
    sf_ws_hub *ws; /* NULL: no WebSocket endpoint */
    char *ws_path;
    const char *instance_id;     /* config->instance_id */
    const sf_cors *cors;         /* config->cors */
    sf_request_log *request_log; /* config->request_log */
    bool mhd_log;                /* config->mhd_log */
};

/* Up to 128 request headers, as the dispatcher takes them. */
typedef struct header_list {
    sf_http_header items[128];
    size_t count;
    bool overflow;
} header_list;

/* libmicrohttpd's header visitor filling a header_list. */
enum MHD_Result sf_server_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value);

/* server_answer.c. The request-log note of this thread's request: answers queued while it is
 * set are noted in it (NULL: none). */
void sf_server_note_begin(sf_request_note *note);
void sf_server_note_end(void);
void sf_server_note_queued(unsigned status, struct MHD_Response *resp);
/* A dispatcher answer; cors_origin: the page's origin when the control API answers one. */
enum MHD_Result sf_server_queue(struct MHD_Connection *conn, const sf_http_response *r,
                                const char *cors_origin);
/* The server's own refusals, with their Twilio error body from the status table. */
enum MHD_Result sf_server_queue_status(sf_server *srv, struct MHD_Connection *conn, sf_status st);
/* A preflight of the control API (cors.c): 204 for an allowed origin, 403 for any other. */
enum MHD_Result sf_server_answer_preflight(sf_server *srv, struct MHD_Connection *conn,
                                           const char *allowed);
/* The front door's answer to a request it refuses (sf_front_answer_fn; ctx: the server): as
 * sf_server_refuse's, written out whole. */
size_t sf_server_front_answer(void *ctx, sf_status st, char *out, size_t cap);
/* A Twilio-shaped refusal after which the connection is closed. */
enum MHD_Result sf_server_refuse(sf_server *srv, struct MHD_Connection *conn, sf_status st);
/* Journals a request refused before the dispatcher sees it, as the account its credentials
 * name. */
void sf_server_journal_refused(sf_server *srv, struct MHD_Connection *conn, const char *method,
                               sf_status status, sf_refusal reason);

/* server_request.c: libmicrohttpd's callbacks for requests. */
enum MHD_Result sf_server_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls);
void sf_server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code);
size_t sf_server_keep_escaped(void *cls, struct MHD_Connection *c, char *s);

#endif
