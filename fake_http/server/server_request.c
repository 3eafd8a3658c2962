/* SPDX-License-Identifier: MIT */
/* server_request.c: a request from its first byte to its answer: admission and malformed
 * shapes, the body (at most SF_HTTP_MAX_BODY bytes, the cap of its buffer), CORS preflights,
 * the WebSocket upgrade, then the dispatcher under the server's lock. */
#include "server_internal.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A request being received: libmicrohttpd hands the body over in pieces. */
typedef struct request_state {
    sf_http_buf body; /* capped at SF_HTTP_MAX_BODY */
    bool too_large;
    uint64_t started_us; /* when its head was read, for the request log */
} request_state;

/* ---- the request target ---- */

typedef struct query_builder {
    sf_http_buf text;
    bool has_args;
} query_builder;

/* libmicrohttpd splits the query into arguments; with the identity unescaper they are still
 * raw, so joining them gives back the query as sent for the dispatcher to decode. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    query_builder *q = cls;
    sf_http_buf_str(&q->text, q->has_args ? "&" : "");
    q->has_args = true;
    sf_http_buf_str(&q->text, key);
    if (value) {
        sf_http_buf_str(&q->text, "=");
        sf_http_buf_str(&q->text, value);
    }
    return MHD_YES;
}

/* The path and the query as sent, into *target (false: out of memory). */
static bool request_target(struct MHD_Connection *conn, const char *url, sf_http_buf *target)
{
    query_builder q = {.has_args = false};
    sf_http_buf_init(&q.text);
    sf_http_buf_str(&q.text, url);
    size_t path_len = q.text.len;
    sf_http_buf_str(&q.text, "?");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    if (!q.text.failed && q.text.len == path_len + 1)
        q.text.data[path_len] = '\0'; /* no query */
    *target = q.text;
    return !q.text.failed;
}

size_t sf_server_keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s); /* each path segment and form field is decoded by the dispatcher */
}

/* ---- shapes refused before the body ---- */

typedef struct length_headers {
    const char *first;
    bool conflict;
} length_headers;

static enum MHD_Result check_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    length_headers *l = cls;
    if (strcasecmp(key, "Content-Length") != 0)
        return MHD_YES;
    if (l->first && strcmp(l->first, value ? value : "") != 0)
        l->conflict = true;
    if (!l->first)
        l->first = value ? value : "";
    return MHD_YES;
}

/* Whether a Content-Length value (digits only: the front door let nothing else through)
 * passes the body cap. */
static bool length_over_cap(const char *value)
{
    uint64_t n = 0;
    for (const char *p = value; p && *p >= '0' && *p <= '9'; p++) {
        n = n * 10 + (uint64_t)(*p - '0');
        if (n > SF_HTTP_MAX_BODY)
            return true;
    }
    return false;
}

/* Request shapes the transport refuses (400) before reading a body: two different
 * Content-Length values (a request-smuggling shape) and HTTP/1.1 without Host. SF_OK: none. */
static sf_status malformed_request(struct MHD_Connection *conn, const char *version)
{
    length_headers l = {NULL, false};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, check_length, &l);
    if (l.conflict)
        return SF_ERR_CONFLICTING_CONTENT_LENGTH;
    if (strcmp(version, "HTTP/1.1") == 0 &&
        !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host"))
        return SF_ERR_MISSING_HOST;
    return SF_OK;
}

/* A declared body over the cap is refused before it is read (the front door passes on no
 * byte of it): 413 at once, journalled, instead of reading up to 2^64 - 1 bytes first. */
static enum MHD_Result refuse_declared_length(sf_server *srv, struct MHD_Connection *conn,
                                              const char *method)
{
    sf_server_journal_refused(srv, conn, method, SF_ERR_REQUEST_TOO_LARGE,
                              SF_REFUSAL_BODY_TOO_LARGE);
    return sf_server_refuse(srv, conn, SF_ERR_REQUEST_TOO_LARGE);
}

/* ---- WebSocket upgrade ---- */

/* Whether the comma-separated header value lists `token` (case-insensitive). */
static bool has_token(const char *value, const char *token)
{
    size_t n = strlen(token);
    for (const char *p = value; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == n && strncasecmp(p, token, n) == 0)
            return true;
        p = end;
    }
    return false;
}

/* A request to the WebSocket path: 101 and the upgrade, or 400. Not authenticated: the
 * Twilsock layer checks the token in its first message. */
static enum MHD_Result upgrade(sf_server *srv, struct MHD_Connection *conn, const char *method)
{
    const char *up = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Upgrade");
    const char *connection = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Connection");
    const char *version =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Version");
    const char *key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Sec-WebSocket-Key");
    char accept[SF_WS_ACCEPT_LEN + 1];
    if (strcmp(method, "GET") != 0 || !up || strcasecmp(up, "websocket") != 0 ||
        !has_token(connection, "upgrade") || !version || strcmp(version, "13") != 0 ||
        !sf_ws_accept_key(key, accept)) {
        sf_server_journal_refused(srv, conn, method, SF_ERR_WEBSOCKET_HANDSHAKE,
                                  SF_REFUSAL_BAD_WEBSOCKET_HANDSHAKE);
        return sf_server_queue_status(srv, conn, SF_ERR_WEBSOCKET_HANDSHAKE);
    }
    struct MHD_Response *resp = MHD_create_response_for_upgrade(sf_ws_upgraded, srv->ws);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Upgrade", "websocket"); /* MHD adds Connection: Upgrade */
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    sf_server_note_queued(MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- the dispatcher ---- */

/* The dispatcher's answer, under the server's lock: false when the server stops (no new
 * work: a stream opened now would stay suspended at the stop). */
static bool dispatch_locked(sf_server *srv, struct MHD_Connection *conn, const sf_http_request *req,
                            sf_sse_stream *stream, sf_http_response *resp)
{
    pthread_mutex_lock(&srv->lock);
    if (srv->stopping) {
        pthread_mutex_unlock(&srv->lock);
        return false;
    }
    sf_http_dispatch(srv->fake, req, resp);
    if (resp->request_log_set != SF_HTTP_REQUEST_LOG_NONE && srv->request_log)
        sf_request_log_set(srv->request_log, resp->request_log_set == SF_HTTP_REQUEST_LOG_ON);
    if (resp->fake_was_reset) {
        if (srv->on_reset)
            srv->on_reset(srv->fake, srv->on_reset_ctx);
        srv->streams.generation++;
        sf_sse_close_all(&srv->streams);
    }
    if (resp->event_stream)
        sf_sse_attach(stream, conn, resp->subscriber, resp->body, resp->body_len);
    pthread_mutex_unlock(&srv->lock);
    return true;
}

/* Queues the dispatcher's answer: an event stream, or a plain response. */
static enum MHD_Result answer(struct MHD_Connection *conn, sf_http_response *resp,
                              sf_sse_stream *stream, const char *cors_origin)
{
    enum MHD_Result ret;
    if (resp->event_stream) {
        sf_server_note_queued(200, NULL);
        ret = sf_sse_respond(stream, conn, resp->date, cors_origin);
        /* long-lived: only its queue cap ends a stream whose client stops reading */
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    } else {
        sf_sse_discard(stream);
        ret = resp->status ? sf_server_queue(conn, resp, cors_origin) : MHD_NO;
    }
    sf_http_response_free(resp);
    return ret;
}

static int request_log_state(const sf_server *srv)
{
    return !srv->request_log                        ? SF_HTTP_REQUEST_LOG_NONE
           : sf_request_log_is_on(srv->request_log) ? SF_HTTP_REQUEST_LOG_ON
                                                    : SF_HTTP_REQUEST_LOG_OFF;
}

/* A complete request for the dispatcher. */
static enum MHD_Result dispatch(sf_server *srv, struct MHD_Connection *conn, const char *url,
                                const char *method, request_state *rs, const char *cors_origin)
{
    header_list headers = {.count = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, sf_server_collect_header, &headers);
    if (headers.overflow) {
        sf_server_journal_refused(srv, conn, method, SF_ERR_HEADERS_TOO_LARGE,
                                  SF_REFUSAL_HEADERS_TOO_LARGE);
        return sf_server_queue_status(srv, conn, SF_ERR_HEADERS_TOO_LARGE);
    }
    sf_http_buf target;
    if (!request_target(conn, url, &target)) {
        sf_http_buf_free(&target);
        return MHD_NO;
    }
    sf_sse_stream *stream = sf_sse_new(&srv->streams);
    sf_http_events_hook hook = stream ? sf_sse_hook(stream) : (sf_http_events_hook){0};
    sf_http_request req = {
        method,           target.data,      headers.items,         headers.count,
        rs->body.data,    rs->body.len,     stream ? &hook : NULL, srv->admin_sid,
        srv->admin_token, srv->instance_id, request_log_state(srv)};
    sf_http_response resp;
    bool served = dispatch_locked(srv, conn, &req, stream, &resp);
    sf_http_buf_free(&target);
    if (!served) {
        sf_sse_discard(stream);
        return sf_server_refuse(srv, conn, SF_ERR_SERVER_STOPPING);
    }
    return answer(conn, &resp, stream, cors_origin);
}

/* ---- a request's pieces ---- */

/* The first call for a request (its head): admission and malformed shapes. */
static enum MHD_Result begin(sf_server *srv, struct MHD_Connection *conn, const char *method,
                             const char *version, void **con_cls)
{
    request_state *rs = calloc(1, sizeof *rs);
    if (!rs)
        return MHD_NO;
    sf_http_buf_init_max(&rs->body, SF_HTTP_MAX_BODY);
    *con_cls = rs;
    if (!sf_conn_admitted(srv->conns, conn))
        return sf_server_refuse(srv, conn, SF_ERR_TOO_MANY_CONNECTIONS);
    sf_status malformed = malformed_request(conn, version);
    if (malformed != SF_OK) {
        sf_server_journal_refused(srv, conn, method, malformed, SF_REFUSAL_MALFORMED_REQUEST);
        return sf_server_refuse(srv, conn, malformed);
    }
    if (length_over_cap(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length")))
        return refuse_declared_length(srv, conn, method);
    return MHD_YES;
}

/* A piece of the body: kept while the whole stays within the cap, else the request is
 * marked too large (answered once it is all in). false: out of memory. */
static bool take_body(request_state *rs, const char *upload, size_t n)
{
    if (rs->too_large)
        return true;
    if (!sf_http_buf_fits(&rs->body, n)) {
        rs->too_large = true;
        return true;
    }
    if (!sf_http_buf_reserve(&rs->body, n))
        return false;
    sf_http_buf_put(&rs->body, upload, n);
    return true;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    sf_server *srv = cls;
    request_state *rs = *con_cls;
    if (!rs)
        return begin(srv, conn, method, version, con_cls);
    if (*upload_size) {
        bool kept = take_body(rs, upload, *upload_size);
        *upload_size = 0;
        return kept ? MHD_YES : MHD_NO;
    }
    sf_conn_received(srv->conns, conn); /* the whole request is in: no deadline now */
    if (rs->too_large) {
        sf_server_journal_refused(srv, conn, method, SF_ERR_REQUEST_TOO_LARGE,
                                  SF_REFUSAL_BODY_TOO_LARGE);
        return sf_server_queue_status(srv, conn, SF_ERR_REQUEST_TOO_LARGE);
    }
    const char *cors_origin; /* a page's origin the control API answers (cors.c), or NULL */
    if (sf_cors_classify(srv->cors, conn, url, method, &cors_origin) == SF_CORS_PREFLIGHT)
        return sf_server_answer_preflight(srv, conn, cors_origin);
    if (srv->ws && strcmp(url, srv->ws_path) == 0)
        return upgrade(srv, conn, method);
    return dispatch(srv, conn, url, method, rs, cors_origin);
}

/* Serves a request's pieces (serve) and writes its request-log line once it is answered. */
enum MHD_Result sf_server_handle(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    sf_server *srv = cls;
    bool first = *con_cls == NULL;
    uint64_t now = sf_request_log_now_us();
    sf_request_note note = {.queued = false};
    sf_server_note_begin(&note);
    enum MHD_Result ret = serve(cls, conn, url, method, version, upload, upload_size, con_cls);
    sf_server_note_end();
    request_state *rs = *con_cls;
    if (rs && first)
        rs->started_us = now;
    if (note.queued && srv->request_log)
        sf_request_log_line(srv->request_log, method, url, &note,
                            rs ? sf_request_log_now_us() - rs->started_us : 0);
    return ret;
}

void sf_server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    sf_server *srv = cls;
    (void)code;
    sf_conn_answered(srv->conns, conn); /* kept alive: the next request has a deadline */
    request_state *rs = *con_cls;
    if (rs) {
        sf_http_buf_free(&rs->body);
        free(rs);
        *con_cls = NULL;
    }
}
