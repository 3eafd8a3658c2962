/* SPDX-License-Identifier: MIT */
/*
 * syncfake_http.h: the HTTP face of syncfake. Twilio Sync's wire contract (paths, form
 * parameters, JSON bodies, status codes, error bodies, paging meta) as a pure function
 * request -> response over an sf_fake, with no socket. The loopback server
 * (build/syncfake-server) is a thin adapter over it.
 *
 * Every rule lives in the core (syncfake.h); this layer only translates. One fake must not be
 * used by two threads at once: a server serialises calls to sf_http_dispatch.
 */
#ifndef SYNCFAKE_HTTP_H
#define SYNCFAKE_HTTP_H

#include "syncfake.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_http_header {
    const char *name; /* matched without regard to case */
    const char *value;
} sf_http_header;

/* Called for each event of a subscriber made by the events endpoint (server use). */
typedef struct sf_http_events_hook {
    sf_event_fn on_event;
    void *user;
} sf_http_events_hook;

/* A server's request log as the control API sees and sets it (GET/POST
 * /_syncfake/request-log): NONE in process, where there is no log. */
enum { SF_HTTP_REQUEST_LOG_NONE = 0, SF_HTTP_REQUEST_LOG_ON = 1, SF_HTTP_REQUEST_LOG_OFF = 2 };

typedef struct sf_http_request {
    const char *method; /* "GET", "POST", "DELETE", ... */
    const char *target; /* path and optional "?query", still percent-encoded */
    const sf_http_header *headers;
    size_t header_count;
    const char *body; /* may be NULL when body_len is 0 */
    size_t body_len;
    const sf_http_events_hook *events; /* NULL: the events endpoint answers 404 */
    /* Basic credentials (user, password) with the fake-wide powers of the control API under
     * /_syncfake/ (clock moves, a full reset, every account's journal, rules and
     * subscribers), as the fake's own default account has them; refused (401) elsewhere.
     * NULL: none. A server passes its --admin credential here. */
    const char *admin_sid;
    const char *admin_token;
    const char *instance_id; /* the serving process's id, shown by GET /_syncfake/clock
                                (JSON-escaped); NULL in process: not shown */
    int request_log;         /* SF_HTTP_REQUEST_LOG_*: the serving process's log */
} sf_http_request;

#define SF_HTTP_WARNING_CAP 1024

typedef struct sf_http_response {
    int status;
    const char *content_type; /* static; NULL for 204 */
    char date[30];            /* RFC 7231 "Date" from the fake clock */
    char allow[32];           /* "Allow" for 405, else "" */
    char *body;               /* owned, NUL-terminated; free with sf_http_response_free */
    size_t body_len;
    bool event_stream;           /* text/event-stream: the connection is now a subscriber */
    sf_subscriber_id subscriber; /* which one (detach it when the connection closes) */
    bool fake_was_reset;         /* POST /_syncfake/reset ran: subscriber ids start over */
    /* "Syncfake-Warning" when not "": what Twilio would silently ignore in the request (an
     * unknown or wrongly cased parameter, a JSON body), warnings joined by " | ", ending in
     * " | ..." when more did not fit (the journal has each). Never changes the answer. */
    char warning[SF_HTTP_WARNING_CAP];
    int request_log_set;       /* SF_HTTP_REQUEST_LOG_ON/OFF: POST /_syncfake/request-log
                                  asks the server to turn its log on/off; NONE: leave it */
    const char *cache_control; /* static "Cache-Control" value, NULL: none (the page) */
} sf_http_response;

/* Largest request body accepted (413 beyond). */
#define SF_HTTP_MAX_BODY (64 * 1024)
#define SF_HTTP_MAX_TARGET 8192

/* Answers one request. Always fills *resp (even for malformed requests: a Twilio error body);
 * returns resp->status. resp must be released with sf_http_response_free. */
SF_API int sf_http_dispatch(sf_fake *fake, const sf_http_request *req, sf_http_response *resp);

SF_API void sf_http_response_free(sf_http_response *resp);

/* Journals a request that a server refused before it reached sf_http_dispatch (a body over
 * the cap, too many headers, a malformed request or WebSocket handshake): a `refused` entry
 * (sf_journal_request_refused) with req's method, of the account its Basic credentials
 * authenticate as or name. Only method, headers and the admin credential of req are read. */
SF_API void sf_http_journal_refused(sf_fake *fake, const sf_http_request *req, sf_status status,
                                    sf_refusal reason);

/* One server-sent event for a subscriber event ("event: NAME\ndata: JSON\n\n"), malloc'd,
 * NUL-terminated; NULL when out of memory. */
SF_API char *sf_http_sse_format(const sf_event *event, size_t *len);

#ifdef __cplusplus
}
#endif

#endif
