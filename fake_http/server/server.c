/* server.c: see server.h. One mutex guards the fake: every dispatch, every event callback
 * (which runs inside a dispatch or a background tick) and every unsubscribe happens under it.
 * libmicrohttpd runs an epoll loop on a small thread pool. An event-stream connection has its
 * own queue, guarded by its own mutex; when the queue is empty the connection is suspended
 * (it costs no thread and no polling) and the next event resumes it. */
#include "server.h"
#include "cors.h"
#include "websocket_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct sse_chunk {
    struct sse_chunk *next;
    size_t len, sent;
    char text[];
} sse_chunk;

/* One server-sent-event connection: a subscriber of the fake. */
typedef struct sse_stream {
    sf_server *server;
    pthread_mutex_t lock;
    struct MHD_Connection *conn;
    bool suspended;           /* waiting for an event: resume it to send */
    sse_chunk *head, *tail;
    bool finished;            /* a `removed` event was queued: end after it */
    bool closed;              /* server stopping or fake reset: end now */
    sf_subscriber_id subscriber;
    uint64_t generation;      /* the fake's reset generation it subscribed in */
    struct sse_stream *prev, *next; /* server->streams */
} sse_stream;

struct sf_server {
    struct MHD_Daemon *daemon;
    sf_fake *fake;
    pthread_mutex_t lock;     /* the fake, streams list, generation */
    uint64_t generation;      /* bumped by every reset: old subscriber ids are void */
    sse_stream *streams;
    bool stopping;
    bool wall_clock;
    void (*on_reset)(sf_fake *fake, void *ctx);
    void *on_reset_ctx;
    pthread_t ticker;
    bool ticker_started;
    uint16_t port;
    sf_ws_hub *ws;            /* NULL: no WebSocket endpoint */
    char *ws_path;
    const char *instance_id;  /* config->instance_id */
    const sf_cors *cors;      /* config->cors */
};

/* A request being received: libmicrohttpd hands the body over in pieces. */
typedef struct request_state {
    char *body;
    size_t len, cap;
    bool too_large;
} request_state;

/* ---- event streams ---- */

/* Lets a suspended stream run again. Caller holds s->lock. */
static void wake(sse_stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

static void sse_push(sse_stream *s, char *text, size_t len, bool last)
{
    sse_chunk *c = malloc(sizeof *c + len);
    if (!c)
        return;
    c->next = NULL;
    c->len = len;
    c->sent = 0;
    memcpy(c->text, text, len);
    pthread_mutex_lock(&s->lock);
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    if (last)
        s->finished = true;
    wake(s);
    pthread_mutex_unlock(&s->lock);
}

/* Called by the fake (under the server lock) for this connection's subscriber. */
static void sse_on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    size_t len;
    char *text = sf_http_sse_format(ev, &len);
    if (!text)
        return;
    sse_push(user, text, len, ev->kind == SF_EVENT_REMOVED);
    free(text);
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    ssize_t n = 0;
    while (s->head && (size_t)n < max) {
        sse_chunk *c = s->head;
        size_t take = c->len - c->sent;
        if (take > max - (size_t)n)
            take = max - (size_t)n;
        memcpy(buf + n, c->text + c->sent, take);
        c->sent += take;
        n += (ssize_t)take;
        if (c->sent == c->len) {
            s->head = c->next;
            if (!s->head)
                s->tail = NULL;
            free(c);
        }
    }
    if (n == 0 && (s->closed || s->finished)) {
        pthread_mutex_unlock(&s->lock);
        return MHD_CONTENT_READER_END_OF_STREAM;
    }
    if (n == 0) { /* nothing to send: park the connection until sse_push wakes it */
        s->suspended = true;
        MHD_suspend_connection(s->conn);
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void sse_free(void *cls)
{
    sse_stream *s = cls;
    sf_server *srv = s->server;
    pthread_mutex_lock(&srv->lock);
    if (s->generation == srv->generation)
        sf_unsubscribe(srv->fake, s->subscriber, NULL);
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&srv->lock);
    while (s->head) {
        sse_chunk *c = s->head;
        s->head = c->next;
        free(c);
    }
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* Ends every stream (server stopping, or the fake was reset). Caller holds srv->lock. */
static void close_streams(sf_server *srv)
{
    for (sse_stream *s = srv->streams; s; s = s->next) {
        pthread_mutex_lock(&s->lock);
        s->closed = true;
        wake(s);
        pthread_mutex_unlock(&s->lock);
    }
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
    sf_cors_headers(resp, cors_origin, false);
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

/* A preflight of the control API (cors.c), answered without credentials: 204 and the CORS
 * headers for an allowed origin, 403 for any other. */
static enum MHD_Result answer_preflight(sf_server *srv, struct MHD_Connection *conn,
                                        const char *allowed)
{
    if (!allowed)
        return queue_simple(srv, conn, 403,
                            "{\"code\": 20403, \"message\": \"Origin not allowed: start "
                            "syncfake-server with --cors-origin ORIGIN\", \"more_info\": "
                            "\"https://www.twilio.com/docs/errors/20403\", \"status\": 403}");
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
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result start_event_stream(sf_server *srv, struct MHD_Connection *conn,
                                          sse_stream *s, const sf_http_response *r,
                                          const char *cors_origin)
{
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
                                                                  sse_read, s, sse_free);
    if (!resp) {
        sse_free(s);
        return MHD_NO;
    }
    (void)srv;
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Date", r->date);
    sf_cors_headers(resp, cors_origin, false);
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

static sse_stream *sse_new(sf_server *srv)
{
    sse_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->server = srv;
    pthread_mutex_init(&s->lock, NULL);
    return s;
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
        !sf_ws_accept_key(key, accept))
        return queue_simple(srv, conn, 400,
                            "{\"code\": 20001, \"message\": \"Invalid WebSocket handshake\", "
                            "\"more_info\": \"https://www.twilio.com/docs/errors/20001\", "
                            "\"status\": 400}");
    struct MHD_Response *resp = MHD_create_response_for_upgrade(sf_ws_upgraded, srv->ws);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Upgrade", "websocket"); /* MHD adds Connection: Upgrade */
    MHD_add_response_header(resp, "Sec-WebSocket-Accept", accept);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **con_cls)
{
    (void)version;
    sf_server *srv = cls;
    request_state *rs = *con_cls;
    if (!rs) {
        rs = calloc(1, sizeof *rs);
        if (!rs)
            return MHD_NO;
        *con_cls = rs;
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
    if (rs->too_large)
        return queue_simple(srv, conn, 413,
                            "{\"code\": 54006, \"message\": \"Request entity too large\", "
                            "\"more_info\": \"https://www.twilio.com/docs/errors/54006\", "
                            "\"status\": 413}");
    const char *cors_origin; /* a page's origin the control API answers (cors.c), or NULL */
    if (sf_cors_classify(srv->cors, conn, url, method, &cors_origin) == SF_CORS_PREFLIGHT)
        return answer_preflight(srv, conn, cors_origin);
    if (srv->ws && strcmp(url, srv->ws_path) == 0)
        return upgrade(srv, conn, method);

    header_list headers = {.count = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
    if (headers.overflow)
        return queue_simple(srv, conn, 431,
                            "{\"code\": 20001, \"message\": \"Too many header fields\", "
                            "\"more_info\": \"https://www.twilio.com/docs/errors/20001\", "
                            "\"status\": 431}");
    query_builder target = {0};
    query_add(&target, url);
    size_t path_len = target.len;
    query_add(&target, "?");
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &target);
    if (target.failed)
        return MHD_NO;
    if (target.len == path_len + 1)
        target.text[path_len] = '\0'; /* no query */

    sse_stream *stream = sse_new(srv);
    sf_http_events_hook hook = {sse_on_event, stream};
    sf_http_request req = {method,   target.text, headers.items, headers.count,
                           rs->body, rs->len,     stream ? &hook : NULL, srv->instance_id};
    sf_http_response resp;
    pthread_mutex_lock(&srv->lock);
    sf_http_dispatch(srv->fake, &req, &resp);
    if (resp.fake_was_reset) {
        if (srv->on_reset)
            srv->on_reset(srv->fake, srv->on_reset_ctx);
        srv->generation++;
        close_streams(srv);
    }
    if (resp.event_stream) {
        stream->conn = conn;
        stream->subscriber = resp.subscriber;
        stream->generation = srv->generation;
        stream->next = srv->streams;
        if (srv->streams)
            srv->streams->prev = stream;
        srv->streams = stream;
        /* the first event ("subscribed") goes out before anything the fake sends later */
        sse_push(stream, resp.body, resp.body_len, false);
    }
    pthread_mutex_unlock(&srv->lock);
    free(target.text);

    enum MHD_Result ret;
    if (resp.event_stream) {
        ret = start_event_stream(srv, conn, stream, &resp, cors_origin);
    } else {
        if (stream) {
            pthread_mutex_destroy(&stream->lock);
            free(stream);
        }
        ret = resp.status ? queue(conn, &resp, cors_origin) : MHD_NO;
    }
    sf_http_response_free(&resp);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    request_state *rs = *con_cls;
    if (rs) {
        free(rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

/* Keeps time moving in the background: with the wall clock, TTLs expire and delayed
 * deliveries arrive without a request; and every few seconds each event stream gets a comment
 * line, so a client that went away is noticed (a suspended connection sees no disconnect). */
static void *tick(void *arg)
{
    sf_server *srv = arg;
    struct timespec pause = {0, 20 * 1000000L};
    for (unsigned n = 1;; n++) {
        pthread_mutex_lock(&srv->lock);
        bool stop = srv->stopping;
        if (!stop && srv->wall_clock)
            sf_run_due(srv->fake);
        if (!stop && n % 500 == 0) /* every 10 s */
            for (sse_stream *s = srv->streams; s; s = s->next)
                sse_push(s, ": keepalive\n\n", 13, false);
        pthread_mutex_unlock(&srv->lock);
        if (stop)
            return NULL;
        nanosleep(&pause, NULL);
    }
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
    srv->instance_id = config->instance_id;
    srv->cors = config->cors;
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

    /* libmicrohttpd serves, and at its stop closes, a duplicate of the socket: ours is closed
     * here whatever happens, so a failed start can never close it twice */
    int mhd_fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
    close(listen_fd);
    srv->daemon = mhd_fd < 0 ? NULL : MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
            MHD_USE_ERROR_LOG, 0, NULL,
        NULL, handle, srv, MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_LISTEN_SOCKET,
        (MHD_socket)mhd_fd,
        MHD_OPTION_UNESCAPE_CALLBACK, keep_escaped, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed,
        NULL, MHD_OPTION_CONNECTION_LIMIT, 4000u, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
        MHD_OPTION_END);
    if (!srv->daemon) {
        fprintf(stderr, "syncfake-server: cannot serve %s:%u\n", config->host, (unsigned)port);
        sf_ws_hub_free(srv->ws);
        free(srv->ws_path);
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
    close_streams(srv);
    pthread_mutex_unlock(&srv->lock);
    if (srv->ticker_started)
        pthread_join(srv->ticker, NULL);
    /* libmicrohttpd wants every upgraded socket given back before it stops */
    sf_ws_hub_stop(srv->ws);
    MHD_stop_daemon(srv->daemon);
    sf_ws_hub_free(srv->ws);
    free(srv->ws_path);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}
