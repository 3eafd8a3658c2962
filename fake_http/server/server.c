/* SPDX-License-Identifier: MIT */
/* server.c: see server.h. One mutex guards the fake: every dispatch, every event callback
 * (which runs inside a dispatch or a background tick) and every unsubscribe happens under it.
 * libmicrohttpd runs an epoll loop on a small thread pool. Event-stream connections live in
 * sse.c. */
#include "server.h"
#include "conn_limits.h"
#include "sse.h"
#include "render.h"
#include "cors.h"
#include "websocket_server.h"
#include "request_log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct sf_server {
    struct MHD_Daemon *daemon;
    sf_fake *fake;
    pthread_mutex_t lock;     /* the fake and the event streams */
    sf_sse_list streams;
    sf_conn_table *conns;     /* the connection cap and request deadline */
    bool stopping;
    bool wall_clock;
    void (*on_reset)(sf_fake *fake, void *ctx);
    void *on_reset_ctx;
    const char *admin_sid, *admin_token; /* the config's, borrowed */
    pthread_t ticker;
    pthread_cond_t tick_wake; /* signalled (under lock) when stopping */
    bool ticker_started;
    uint16_t port;
    sf_ws_hub *ws;            /* NULL: no WebSocket endpoint */
    char *ws_path;
    const char *instance_id;  /* config->instance_id */
    const sf_cors *cors;      /* config->cors */
    sf_request_log *request_log; /* config->request_log */
    bool mhd_log;             /* config->mhd_log */
};

/* A request being received: libmicrohttpd hands the body over in pieces. */
typedef struct request_state {
    char *body;
    size_t len, cap;
    bool too_large;
    uint64_t started_us;      /* when its head was read, for the request log */
} request_state;

/* The answer being queued by this thread's request, for the request log (see handle). */
static _Thread_local sf_request_note *current_note;

static void note_queued(unsigned status, struct MHD_Response *resp)
{
    if (current_note)
        sf_request_note_response(current_note, status, resp);
}

static void note_body(const char *body, size_t len)
{
    if (current_note)
        sf_request_note_body(current_note, body, len);
}

/* ---- requests ---- */

typedef struct header_list {
    sf_http_header items[128];
    size_t count;
    bool overflow;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    header_list *h = cls;
    if (h->count < sizeof h->items / sizeof h->items[0])
        h->items[h->count++] = (sf_http_header){key, value ? value : ""};
    else
        h->overflow = true;
    return MHD_YES;
}

typedef struct query_builder {
    char *text;
    size_t len, cap;
    bool failed;
    bool has_args;
} query_builder;

static void query_add(query_builder *q, const char *s)
{
    size_t n = strlen(s);
    if (q->failed)
        return;
    if (q->len + n + 1 > q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        while (cap < q->len + n + 1)
            cap *= 2;
        char *t = realloc(q->text, cap);
        if (!t) {
            q->failed = true;
            return;
        }
        q->text = t;
        q->cap = cap;
    }
    memcpy(q->text + q->len, s, n + 1);
    q->len += n;
}

/* libmicrohttpd splits the query into arguments; with the identity unescaper they are still
 * raw, so joining them gives back the query as sent for the dispatcher to decode. */
static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    query_builder *q = cls;
    query_add(q, q->has_args ? "&" : "");
    q->has_args = true;
    query_add(q, key);
    if (value) {
        query_add(q, "=");
        query_add(q, value);
    }
    return MHD_YES;
}

static size_t keep_escaped(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s); /* each path segment and form field is decoded by the dispatcher */
}

/* cors_origin: the page's origin when the control API answers one (cors.c), else NULL. */
static enum MHD_Result queue(struct MHD_Connection *conn, const sf_http_response *r,
                             const char *cors_origin)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->body_len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "Date", r->date);
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->warning[0]) /* printable ASCII only (param_warn.c): safe as a header value */
        MHD_add_response_header(resp, "Syncfake-Warning", r->warning);
    if (r->cache_control)
        MHD_add_response_header(resp, "Cache-Control", r->cache_control);
    if (r->status == 401) /* as Twilio: the scheme it wants */
        MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
    sf_cors_headers(resp, cors_origin, false);
    note_queued((unsigned)r->status, resp);
    note_body(r->body, r->body_len);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* An answer the server makes itself (the request never reached the dispatcher). */
static enum MHD_Result queue_simple(sf_server *srv, struct MHD_Connection *conn, int status,
                                    const char *json)
{
    sf_http_response r;
    memset(&r, 0, sizeof r);
    r.status = status;
    r.content_type = "application/json";
    r.body = (char *)json;
    r.body_len = strlen(json);
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), r.date); /* the fake's clock, as always */
    pthread_mutex_unlock(&srv->lock);
    return queue(conn, &r, NULL);
}

static enum MHD_Result queue_status(sf_server *srv, struct MHD_Connection *conn, sf_status st);

/* A preflight of the control API (cors.c), answered without credentials: 204 and the CORS
 * headers for an allowed origin, 403 for any other. */
static enum MHD_Result answer_preflight(sf_server *srv, struct MHD_Connection *conn,
                                        const char *allowed)
{
    if (!allowed)
        return queue_status(srv, conn, SF_ERR_ORIGIN_NOT_ALLOWED);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    char date[30];
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), date); /* the fake's clock, as always */
    pthread_mutex_unlock(&srv->lock);
    MHD_add_response_header(resp, "Date", date);
    sf_cors_headers(resp, allowed, true);
    note_queued(MHD_HTTP_NO_CONTENT, resp);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The server's own refusals, with their Twilio error body from the status table. */
static enum MHD_Result queue_status(sf_server *srv, struct MHD_Connection *conn, sf_status st)
{
    sf_http_buf body;
    sf_http_buf_init(&body);
    sf_http_render_status(&body, st);
    enum MHD_Result ret =
        body.failed ? MHD_NO : queue_simple(srv, conn, sf_status_http(st), body.data);
    sf_http_buf_free(&body);
    return ret;
}

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

/* A Twilio-shaped refusal, its body from the status table, after which the connection is
 * closed. */
static enum MHD_Result refuse(sf_server *srv, struct MHD_Connection *conn, sf_status st)
{
    char date[30];
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), date);
    pthread_mutex_unlock(&srv->lock);
    sf_http_buf body;
    sf_http_buf_init(&body);
    sf_http_render_status(&body, st);
    struct MHD_Response *resp =
        body.failed ? NULL
                    : MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_COPY);
    if (resp)
        note_body(body.data, body.len);
    sf_http_buf_free(&body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Date", date);
    MHD_add_response_header(resp, "Connection", "close");
    note_queued((unsigned)sf_status_http(st), resp);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)sf_status_http(st), resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Journals a request the server refuses before the dispatcher sees it (refused.c), as the
 * account its credentials name. */
static void journal_refused(sf_server *srv, struct MHD_Connection *conn, const char *method,
                            sf_status status, sf_refusal reason)
{
    header_list headers = {.count = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
    sf_http_request req = {.method = method,
                           .headers = headers.items,
                           .header_count = headers.count,
                           .admin_sid = srv->admin_sid,
                           .admin_token = srv->admin_token};
    pthread_mutex_lock(&srv->lock);
    if (!srv->stopping)
        sf_http_journal_refused(srv->fake, &req, status, reason);
    pthread_mutex_unlock(&srv->lock);
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
        journal_refused(srv, conn, method, SF_ERR_WEBSOCKET_HANDSHAKE,
                        SF_REFUSAL_BAD_WEBSOCKET_HANDSHAKE);
        return queue_status(srv, conn, SF_ERR_WEBSOCKET_HANDSHAKE);
    }
    struct MHD_Response *resp = MHD_create_response_for_upgrade(sf_ws_upgraded, srv->ws);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Upgrade", "websocket"); /* MHD adds Connection: Upgrade */
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    note_queued(MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    sf_server *srv = cls;
    request_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof *rs);
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
        if (!sf_conn_admitted(srv->conns, conn))
            return refuse(srv, conn, SF_ERR_TOO_MANY_CONNECTIONS);
        sf_status malformed = malformed_request(conn, version);
        if (malformed != SF_OK) {
            journal_refused(srv, conn, method, malformed, SF_REFUSAL_MALFORMED_REQUEST);
            return refuse(srv, conn, malformed);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (rs->len + *upload_size > SF_HTTP_MAX_BODY) {
            rs->too_large = true;
        } else {
            if (rs->len + *upload_size > rs->cap) {
                size_t cap = rs->cap ? rs->cap : 1024;
                while (cap < rs->len + *upload_size)
                    cap *= 2;
                char *b = realloc(rs->body, cap);
                if (!b)
                    return MHD_NO;
                rs->body = b;
                rs->cap = cap;
            }
            memcpy(rs->body + rs->len, upload, *upload_size);
            rs->len += *upload_size;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    sf_conn_received(srv->conns, conn); /* the whole request is in: no deadline now */
    if (rs->too_large) {
        journal_refused(srv, conn, method, SF_ERR_REQUEST_TOO_LARGE,
                        SF_REFUSAL_BODY_TOO_LARGE);
        return queue_status(srv, conn, SF_ERR_REQUEST_TOO_LARGE);
    }
    const char *cors_origin; /* a page's origin the control API answers (cors.c), or NULL */
    if (sf_cors_classify(srv->cors, conn, url, method, &cors_origin) == SF_CORS_PREFLIGHT)
        return answer_preflight(srv, conn, cors_origin);
    if (srv->ws && strcmp(url, srv->ws_path) == 0)
        return upgrade(srv, conn, method);

    header_list headers = {.count = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
    if (headers.overflow) {
        journal_refused(srv, conn, method, SF_ERR_HEADERS_TOO_LARGE,
                        SF_REFUSAL_HEADERS_TOO_LARGE);
        return queue_status(srv, conn, SF_ERR_HEADERS_TOO_LARGE);
    }
    query_builder target = {0};
    query_add(&target, url);
    size_t path_len = target.len;
    query_add(&target, "?");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &target);
    if (target.failed)
        return MHD_NO;
    if (target.len == path_len + 1)
        target.text[path_len] = '\0'; /* no query */

    sf_sse_stream *stream = sf_sse_new(&srv->streams);
    sf_http_events_hook hook = stream ? sf_sse_hook(stream) : (sf_http_events_hook){0};
    sf_http_request req = {method,   target.text, headers.items, headers.count,
                           rs->body, rs->len,     stream ? &hook : NULL,
                           srv->admin_sid, srv->admin_token, srv->instance_id,
                           !srv->request_log                        ? SF_HTTP_REQUEST_LOG_NONE
                           : sf_request_log_is_on(srv->request_log) ? SF_HTTP_REQUEST_LOG_ON
                                                                    : SF_HTTP_REQUEST_LOG_OFF};
    sf_http_response resp;
    pthread_mutex_lock(&srv->lock);
    if (srv->stopping) { /* no new work: a stream opened now would stay suspended at the stop */
        pthread_mutex_unlock(&srv->lock);
        free(target.text);
        sf_sse_discard(stream);
        return refuse(srv, conn, SF_ERR_SERVER_STOPPING);
    }
    sf_http_dispatch(srv->fake, &req, &resp);
    if (resp.request_log_set != SF_HTTP_REQUEST_LOG_NONE && srv->request_log)
        sf_request_log_set(srv->request_log, resp.request_log_set == SF_HTTP_REQUEST_LOG_ON);
    if (resp.fake_was_reset) {
        if (srv->on_reset)
            srv->on_reset(srv->fake, srv->on_reset_ctx);
        srv->streams.generation++;
        sf_sse_close_all(&srv->streams);
    }
    if (resp.event_stream)
        sf_sse_attach(stream, conn, resp.subscriber, resp.body, resp.body_len);
    pthread_mutex_unlock(&srv->lock);
    free(target.text);

    enum MHD_Result ret;
    if (resp.event_stream) {
        note_queued(200, NULL);
        ret = sf_sse_respond(stream, conn, resp.date, cors_origin);
        /* long-lived: only its queue cap ends a stream whose client stops reading */
        MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    } else {
        sf_sse_discard(stream);
        ret = resp.status ? queue(conn, &resp, cors_origin) : MHD_NO;
    }
    sf_http_response_free(&resp);
    return ret;
}

/* Serves a request's pieces (serve) and writes its request-log line once it is answered. */
static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    sf_server *srv = cls;
    bool first = *con_cls == NULL;
    uint64_t now = sf_request_log_now_us();
    sf_request_note note = {.queued = false};
    current_note = &note;
    enum MHD_Result ret = serve(cls, conn, url, method, version, upload, upload_size, con_cls);
    current_note = NULL;
    request_state *rs = *con_cls;
    if (rs && first)
        rs->started_us = now;
    if (note.queued && srv->request_log)
        sf_request_log_line(srv->request_log, method, url, &note,
                            rs ? sf_request_log_now_us() - rs->started_us : 0);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    sf_server *srv = cls;
    (void)code;
    sf_conn_answered(srv->conns, conn); /* kept alive: the next request has a deadline */
    request_state *rs = *con_cls;
    if (rs) {
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

/* Sleeps 20 ms, or less when the server stops (a stop waits for this thread). */
static void pause_tick(sf_server *srv)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 20 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping &&
           pthread_cond_timedwait(&srv->tick_wake, &srv->lock, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&srv->lock);
}

/* Keeps time moving in the background: with the wall clock, TTLs expire and delayed
 * deliveries arrive without a request; and every few seconds each event stream gets a comment
 * line, so a client that went away is noticed (a suspended connection sees no disconnect). */
static void *tick(void *arg)
{
    sf_server *srv = arg;
    for (unsigned n = 1;; n++) {
        pthread_mutex_lock(&srv->lock);
        bool stop = srv->stopping;
        if (!stop && srv->wall_clock)
            sf_run_due(srv->fake);
        if (!stop && n % 500 == 0) /* every 10 s */
            sf_sse_keepalive_all(&srv->streams);
        pthread_mutex_unlock(&srv->lock);
        if (stop)
            return NULL;
        sf_conn_reap(srv->conns, sf_conn_now_ms()); /* requests past their deadline */
        pause_tick(srv);
    }
}

/* libmicrohttpd's own messages (such as "Failed to send the footers" when an event-stream
 * client leaves) say nothing about the fake: written only when asked for (config->mhd_log). */
static void mhd_message(void *cls, const char *format, va_list args)
{
    const sf_server *srv = cls;
    if (!srv->mhd_log)
        return;
    fputs("syncfake-server: libmicrohttpd: ", stderr);
    vfprintf(stderr, format, args);
}

/* libmicrohttpd's own limits sit above ours: room for the connections admitted past the cap
 * (they get a 503) and those cut but not yet closed; past it, it drops connections silently. */
static struct MHD_Daemon *start_daemon(sf_server *srv, int mhd_fd)
{
    unsigned max = sf_conn_table_max(srv->conns);
    return MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handle, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_message, srv, /* first */
        MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)mhd_fd, MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        sf_conn_notify, srv->conns, MHD_OPTION_CONNECTION_LIMIT, max + max / 4 + 16,
        MHD_OPTION_CONNECTION_TIMEOUT, SF_SERVER_IDLE_TIMEOUT_S, MHD_OPTION_END);
}

int sf_server_listen(const char *host, uint16_t port, uint16_t *bound_port)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (!host || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "syncfake-server: --host must be an IPv4 address: %s\n",
                host ? host : "(none)");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); /* 2 threads accept */
    if (fd >= 0 && fd <= 2) { /* 0 means "none" in sf_server_config: keep clear of stdio */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    int on = 1;
    socklen_t len = sizeof addr;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        fprintf(stderr, "syncfake-server: cannot listen on %s:%u: %s\n", host, (unsigned)port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound_port = ntohs(addr.sin_port);
    return fd;
}

sf_server *sf_server_start(const sf_server_config *config)
{
    int listen_fd = config->listen_fd;
    uint16_t port = config->port;
    if (listen_fd <= 0) {
        listen_fd = sf_server_listen(config->host, config->port, &port);
        if (listen_fd < 0)
            return NULL;
    } else {
        struct sockaddr_in addr;
        socklen_t len = sizeof addr;
        if (getsockname(listen_fd, (struct sockaddr *)&addr, &len) == 0)
            port = ntohs(addr.sin_port);
    }
    sf_server *srv = calloc(1, sizeof *srv);
    if (!srv) {
        close(listen_fd);
        return NULL;
    }
    srv->fake = config->fake;
    srv->wall_clock = config->wall_clock;
    srv->on_reset = config->on_reset;
    srv->on_reset_ctx = config->on_reset_ctx;
    srv->admin_sid = config->admin_sid;
    srv->admin_token = config->admin_token;
    srv->instance_id = config->instance_id;
    srv->cors = config->cors;
    srv->request_log = config->request_log;
    srv->mhd_log = config->mhd_log;
    if (config->ws) {
        srv->ws = sf_ws_hub_new(config->ws, config->ws_io_threads);
        srv->ws_path = strdup(config->ws_path ? config->ws_path : "/v3/wsconnect");
        if (!srv->ws || !srv->ws_path) {
            sf_ws_hub_free(srv->ws);
            free(srv->ws_path);
            free(srv);
            close(listen_fd);
            return NULL;
        }
    }
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->tick_wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    srv->streams = (sf_sse_list){.lock = &srv->lock,
                                 .fake = config->fake,
                                 .queue_max = config->sse_queue_max ? config->sse_queue_max
                                                                    : SF_SSE_QUEUE_MAX_DEFAULT};

    /* libmicrohttpd serves, and at its stop closes, a duplicate of the socket: ours is closed
     * here whatever happens, so a failed start can never close it twice */
    int mhd_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
    close(listen_fd);
    srv->conns = sf_conn_table_new(config->max_connections, config->request_timeout_ms);
    srv->daemon = mhd_fd < 0 || !srv->conns ? NULL : start_daemon(srv, mhd_fd);
    if (!srv->daemon) {
        fprintf(stderr, "syncfake-server: cannot serve %s:%u\n", config->host, (unsigned)port);
        if (mhd_fd >= 0 && !srv->conns)
            close(mhd_fd);
        sf_conn_table_free(srv->conns);
        sf_ws_hub_free(srv->ws);
        free(srv->ws_path);
        pthread_cond_destroy(&srv->tick_wake);
        pthread_mutex_destroy(&srv->lock);
        free(srv);
        return NULL;
    }
    srv->port = port;
    srv->ticker_started = pthread_create(&srv->ticker, NULL, tick, srv) == 0;
    return srv;
}

uint16_t sf_server_port(const sf_server *server) { return server->port; }

void sf_server_lock(sf_server *server) { pthread_mutex_lock(&server->lock); }

void sf_server_unlock(sf_server *server) { pthread_mutex_unlock(&server->lock); }

void sf_server_stop(sf_server *srv)
{
    if (!srv)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_signal(&srv->tick_wake);
    sf_sse_close_all(&srv->streams);
    pthread_mutex_unlock(&srv->lock);
    if (srv->ticker_started)
        pthread_join(srv->ticker, NULL);
    /* libmicrohttpd wants every upgraded socket given back before it stops */
    sf_ws_hub_stop(srv->ws);
    MHD_stop_daemon(srv->daemon);
    sf_conn_table_free(srv->conns);
    sf_ws_hub_free(srv->ws);
    free(srv->ws_path);
    pthread_cond_destroy(&srv->tick_wake);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
