/* SPDX-License-Identifier: MIT */
/* test_http_server.c: the loopback server (fake_http/server/server.c and the syncfake-server
 * binary) over real TCP sockets. A small hand-written HTTP/1.1 client lives here: keep-alive,
 * Basic auth, Content-Length and chunked bodies, and an incremental server-sent-event reader.
 * Every socket operation has a deadline (poll), so a broken server fails a test instead of
 * hanging it.
 *
 * Covered: TCP answers equal the in-process dispatcher's byte for byte; 8 threads x 1,000
 * requests with consistent results (run it under ThreadSanitizer too); the events endpoint
 * (subscribed, 100 message_published in order, removed, end of stream); a subscriber-scope
 * drop rule and the journal's `dropped` entries; oversized bodies, paths and headers; reset and
 * stop with event streams open; the binary's start-up line and its clean exit on SIGTERM and
 * SIGINT.
 *
 * SF_TEST_SCALE (1..1000, default 1000) sets the requests per thread of the concurrency test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "assert_status.h"
#include "server.h"
#include "syncfake_http.h"

#define IO_TIMEOUT_MS 5000    /* every read and write on a socket */
#define SHORT_TIMEOUT_MS 1500 /* "nothing more comes" checks */
#define THREADS 8
#define MESSAGES 100
#define FAKE_SEED 7
#define BASE_URL "http://127.0.0.1"

/* ---------------------------------------------------------------------------------------- */
/* Time and small text helpers                                                               */
/* ---------------------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static const char *find_bytes(const char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    if (m == 0 || n < m)
        return NULL;
    for (size_t i = 0; i + m <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, m) == 0)
            return hay + i;
    return NULL;
}

static void base64(const char *in, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        out[o++] = t[(v >> 18) & 63];
        out[o++] = t[(v >> 12) & 63];
        out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

static void basic_auth(const char *user, const char *password, char *out, size_t cap)
{
    char plain[512], enc[700];
    snprintf(plain, sizeof plain, "%s:%s", user, password);
    base64(plain, enc);
    int n = snprintf(out, cap, "Basic %.600s", enc);
    assert_true(n > 0 && (size_t)n < cap);
}

/* The value of "key" in a flat JSON text: a string (unescaped only of \" and \\), a number,
 * true/false/null, or (for objects) the balanced {...} text. False when absent. */
static bool json_get(const char *json, const char *key, char *out, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p || cap == 0)
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p != ':')
        return false;
    p++;
    while (*p == ' ')
        p++;
    size_t n = 0;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && p[1])
                p++;
            if (n + 1 < cap)
                out[n++] = *p;
        }
    } else if (*p == '{') {
        int depth = 0;
        do {
            if (*p == '{')
                depth++;
            else if (*p == '}')
                depth--;
            if (n + 1 < cap)
                out[n++] = *p;
            p++;
        } while (*p && depth > 0);
    } else {
        while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ')
            if (n + 1 < cap)
                out[n++] = *p++;
            else
                p++;
    }
    out[n] = '\0';
    return true;
}

static long long json_int(const char *json, const char *key)
{
    char v[64];
    if (!json_get(json, key, v, sizeof v))
        return -1;
    return strtoll(v, NULL, 10);
}

/* ---------------------------------------------------------------------------------------- */
/* A tiny HTTP/1.1 client                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct hconn {
    int fd;
    uint16_t port;
    char buf[32768];
    size_t start, end; /* unread bytes: buf[start..end) */
} hconn;

typedef struct hresp {
    int status;
    char content_type[128];
    char date[64];
    char allow[64];
    char connection[32];
    bool chunked;
    long long content_length; /* -1: none */
    char *body;               /* NUL-terminated, malloc'd */
    size_t body_len;
} hresp;

static void hresp_free(hresp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static bool hc_open(hconn *c, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0)
        return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c->fd);
        c->fd = -1;
        return false;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return true;
}

static void hc_close(hconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/* Waits for `events` on fd until the deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

static bool hc_send(hconn *c, const void *data, size_t n)
{
    const char *p = data;
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    while (n > 0) {
        if (wait_fd(c->fd, POLLOUT, deadline) != 1)
            return false;
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads more bytes: >0 read, 0 end of file, -1 timeout or error. */
static int hc_fill(hconn *c, int64_t deadline)
{
    if (c->start > 0) {
        memmove(c->buf, c->buf + c->start, c->end - c->start);
        c->end -= c->start;
        c->start = 0;
    }
    if (c->end == sizeof c->buf)
        return -1; /* a line longer than the buffer */
    for (;;) {
        if (wait_fd(c->fd, POLLIN, deadline) != 1)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->end, sizeof c->buf - c->end, MSG_DONTWAIT);
        if (r > 0) {
            c->end += (size_t)r;
            return (int)r;
        }
        if (r == 0)
            return 0;
        if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
    }
}

/* One line without its CRLF: 1 ok, 0 end of file, -1 timeout or error. */
static int hc_line(hconn *c, char *out, size_t cap, int64_t deadline)
{
    for (;;) {
        char *nl = memchr(c->buf + c->start, '\n', c->end - c->start);
        if (nl) {
            size_t n = (size_t)(nl - (c->buf + c->start));
            size_t keep = n > 0 && c->buf[c->start + n - 1] == '\r' ? n - 1 : n;
            if (keep >= cap)
                return -1;
            memcpy(out, c->buf + c->start, keep);
            out[keep] = '\0';
            c->start += n + 1;
            return 1;
        }
        int r = hc_fill(c, deadline);
        if (r <= 0)
            return r;
    }
}

/* Exactly n bytes: 1 ok, 0 end of file, -1 timeout or error. */
static int hc_bytes(hconn *c, char *out, size_t n, int64_t deadline)
{
    while (n > 0) {
        size_t have = c->end - c->start;
        if (have == 0) {
            int r = hc_fill(c, deadline);
            if (r <= 0)
                return r;
            continue;
        }
        size_t take = have < n ? have : n;
        memcpy(out, c->buf + c->start, take);
        c->start += take;
        out += take;
        n -= take;
    }
    return 1;
}

/* Status line and headers. */
static bool hc_read_head(hconn *c, hresp *r, int64_t deadline)
{
    char line[8192];
    memset(r, 0, sizeof *r);
    r->content_length = -1;
    if (hc_line(c, line, sizeof line, deadline) != 1)
        return false;
    if (sscanf(line, "HTTP/1.%*d %d", &r->status) != 1)
        return false;
    for (;;) {
        if (hc_line(c, line, sizeof line, deadline) != 1)
            return false;
        if (!line[0])
            return true;
        char *colon = strchr(line, ':');
        if (!colon)
            return false;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (strcasecmp(line, "Content-Type") == 0)
            snprintf(r->content_type, sizeof r->content_type, "%s", v);
        else if (strcasecmp(line, "Date") == 0)
            snprintf(r->date, sizeof r->date, "%s", v);
        else if (strcasecmp(line, "Allow") == 0)
            snprintf(r->allow, sizeof r->allow, "%s", v);
        else if (strcasecmp(line, "Connection") == 0)
            snprintf(r->connection, sizeof r->connection, "%s", v);
        else if (strcasecmp(line, "Content-Length") == 0)
            r->content_length = strtoll(v, NULL, 10);
        else if (strcasecmp(line, "Transfer-Encoding") == 0 && strcasecmp(v, "chunked") == 0)
            r->chunked = true;
    }
}

static bool body_append(hresp *r, const char *p, size_t n)
{
    char *b = realloc(r->body, r->body_len + n + 1);
    if (!b)
        return false;
    memcpy(b + r->body_len, p, n);
    r->body = b;
    r->body_len += n;
    b[r->body_len] = '\0';
    return true;
}

/* One chunk of a chunked body into r (n = 0 means the last chunk, trailers read).
 * 1 ok, 0 end of file, -1 timeout or error. */
static int hc_chunk(hconn *c, hresp *r, size_t *n, int64_t deadline)
{
    char line[256];
    int st = hc_line(c, line, sizeof line, deadline);
    if (st != 1)
        return st;
    char *end;
    unsigned long long size = strtoull(line, &end, 16);
    if (end == line || size > (1u << 24))
        return -1;
    *n = (size_t)size;
    if (size == 0) {
        do { /* trailers up to the empty line */
            st = hc_line(c, line, sizeof line, deadline);
            if (st != 1)
                return st;
        } while (line[0]);
        return 1;
    }
    char *tmp = malloc((size_t)size);
    if (!tmp)
        return -1;
    st = hc_bytes(c, tmp, (size_t)size, deadline);
    if (st == 1 && !body_append(r, tmp, (size_t)size))
        st = -1;
    free(tmp);
    if (st != 1)
        return st;
    st = hc_line(c, line, sizeof line, deadline);
    return st == 1 && line[0] ? -1 : st;
}

static bool hc_read_body(hconn *c, hresp *r, int64_t deadline)
{
    if (!body_append(r, "", 0))
        return false;
    if (r->chunked) {
        for (;;) {
            size_t n;
            if (hc_chunk(c, r, &n, deadline) != 1)
                return false;
            if (n == 0)
                return true;
        }
    }
    if (r->content_length >= 0) {
        char *tmp = malloc((size_t)r->content_length + 1);
        if (!tmp)
            return false;
        bool ok = hc_bytes(c, tmp, (size_t)r->content_length, deadline) == 1 &&
                  body_append(r, tmp, (size_t)r->content_length);
        free(tmp);
        return ok;
    }
    if (r->status == 204 || r->status == 304)
        return true;
    for (;;) { /* until the server closes */
        size_t have = c->end - c->start;
        if (have) {
            if (!body_append(r, c->buf + c->start, have))
                return false;
            c->start = c->end;
        }
        int st = hc_fill(c, deadline);
        if (st == 0)
            return true;
        if (st < 0)
            return false;
    }
}

/* Sends one request. body may be NULL (no Content-Length unless the method is POST). */
static bool hc_send_request(hconn *c, const char *method, const char *target, const char *auth,
                            const char *content_type, const char *body, size_t body_len,
                            const char *extra_headers)
{
    size_t cap = strlen(target) + (extra_headers ? strlen(extra_headers) : 0) + 1024;
    char *head = malloc(cap);
    if (!head)
        return false;
    int n = snprintf(head, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n", method, target,
                     (unsigned)c->port);
    if (auth)
        n += snprintf(head + n, cap - (size_t)n, "Authorization: %s\r\n", auth);
    n += snprintf(head + n, cap - (size_t)n,
                  "Accept: application/json\r\nConnection: keep-alive\r\n");
    if (body || strcmp(method, "POST") == 0) {
        if (content_type)
            n += snprintf(head + n, cap - (size_t)n, "Content-Type: %s\r\n", content_type);
        n += snprintf(head + n, cap - (size_t)n, "Content-Length: %zu\r\n", body ? body_len : 0);
    }
    n += snprintf(head + n, cap - (size_t)n, "%s\r\n", extra_headers ? extra_headers : "");
    bool ok = hc_send(c, head, (size_t)n) && (!body || !body_len || hc_send(c, body, body_len));
    free(head);
    return ok;
}

/* A whole exchange: form body (Content-Type x-www-form-urlencoded) for POST. */
static bool hc_request(hconn *c, const char *method, const char *target, const char *auth,
                       const char *form, hresp *r)
{
    memset(r, 0, sizeof *r);
    if (!hc_send_request(c, method, target, auth, form ? "application/x-www-form-urlencoded" : NULL,
                         form, form ? strlen(form) : 0, NULL))
        return false;
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    return hc_read_head(c, r, deadline) && hc_read_body(c, r, deadline);
}

/* Same, asserting the transport worked and the status. */
static void hc_expect(hconn *c, const char *method, const char *target, const char *auth,
                      const char *form, int status, hresp *r)
{
    if (!hc_request(c, method, target, auth, form, r))
        fail_msg("%s %.200s: no HTTP answer within %d ms", method, target, IO_TIMEOUT_MS);
    if (r->status != status)
        fail_msg("%s %.200s: status %d, expected %d: %.500s", method, target, r->status, status,
                 r->body ? r->body : "");
}

/* ---------------------------------------------------------------------------------------- */
/* Server-sent events over a chunked (or close-delimited) response                           */
/* ---------------------------------------------------------------------------------------- */

typedef struct sse_reader {
    hconn *c;
    hresp head;  /* status and headers; head.body collects the decoded stream */
    size_t used; /* bytes of head.body already turned into events */
    bool ended;  /* the stream ended cleanly (last chunk or EOF) */
} sse_reader;

typedef struct sse_event {
    char name[64];
    char data[8192];
} sse_event;

/* Sends GET .../Events and reads the head: true when the transport worked. */
static bool sse_open(sse_reader *s, hconn *c, const char *target, const char *auth)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    if (!hc_send_request(c, "GET", target, auth, NULL, NULL, 0, "Accept: text/event-stream\r\n"))
        return false;
    if (!hc_read_head(c, &s->head, now_ms() + IO_TIMEOUT_MS))
        return false;
    return body_append(&s->head, "", 0);
}

static void sse_close(sse_reader *s) { hresp_free(&s->head); }

/* The next event: 1 an event, 0 the stream ended cleanly, -1 nothing within timeout_ms (or a
 * malformed stream), -2 the connection closed without the last chunk. */
static int sse_next(sse_reader *s, sse_event *ev, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        const char *from = s->head.body + s->used;
        const char *sep = find_bytes(from, s->head.body_len - s->used, "\n\n");
        if (sep) {
            memset(ev, 0, sizeof *ev);
            size_t block = (size_t)(sep - from);
            char *text = malloc(block + 1);
            if (!text)
                return -1;
            memcpy(text, from, block);
            text[block] = '\0';
            s->used += block + 2;
            char *save = NULL;
            for (char *line = strtok_r(text, "\n", &save); line;
                 line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "event: ", 7) == 0)
                    snprintf(ev->name, sizeof ev->name, "%s", line + 7);
                else if (strncmp(line, "data: ", 6) == 0)
                    snprintf(ev->data, sizeof ev->data, "%s", line + 6);
            }
            free(text);
            return 1;
        }
        if (s->ended)
            return s->used == s->head.body_len ? 0 : -1;
        if (s->head.chunked) {
            size_t n;
            int st = hc_chunk(s->c, &s->head, &n, deadline);
            if (st < 0)
                return -1;
            if (st == 0) /* EOF without the last chunk: a cut stream */
                return -2;
            if (n == 0)
                s->ended = true;
        } else {
            size_t have = s->c->end - s->c->start;
            if (have) {
                if (!body_append(&s->head, s->c->buf + s->c->start, have))
                    return -1;
                s->c->start = s->c->end;
                continue;
            }
            int st = hc_fill(s->c, deadline);
            if (st < 0)
                return -1;
            if (st == 0)
                s->ended = true;
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Fixture: a manual-clock fake behind a server on a free port, one service                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct env {
    sf_fake *fake;
    sf_server *srv;
    uint16_t port;
    char auth[512];
    char service[SF_SID_SIZE];
} env;

static void fake_options(sf_options *o)
{
    sf_options_init(o);
    o->seed = FAKE_SEED;
    o->clock = SF_CLOCK_MANUAL;
    o->base_url = BASE_URL;
    o->limits.publish_rate_per_s = 0; /* 1,000 publishes a stream: no 429 */
}

static sf_fake *new_fake(void)
{
    sf_options o;
    fake_options(&o);
    sf_fake *fake = NULL;
    sf_error err;
    if (sf_fake_new(&o, &fake, &err) != SF_OK)
        fail_msg("sf_fake_new: %s", err.message);
    return fake;
}

static int env_setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->fake = new_fake();
    sf_server_config cfg = {.host = "127.0.0.1", .port = 0, .fake = e->fake};
    e->srv = sf_server_start(&cfg);
    if (!e->srv) {
        sf_fake_free(e->fake);
        free(e);
        return -1;
    }
    e->port = sf_server_port(e->srv);
    basic_auth(sf_fake_account_sid(e->fake), sf_fake_auth_token(e->fake), e->auth, sizeof e->auth);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    sf_server_stop(e->srv); /* NULL when the test stopped it itself */
    sf_fake_free(e->fake);
    free(e);
    *state = NULL;
    return 0;
}

/* Creates the fixture's service over HTTP. */
static void env_service(env *e, hconn *c)
{
    hresp r;
    hc_expect(c, "POST", "/v1/Services", e->auth, "FriendlyName=loopback", 201, &r);
    assert_true(json_get(r.body, "sid", e->service, sizeof e->service));
    assert_int_equal(strlen(e->service), SF_SID_LEN);
    hresp_free(&r);
}

static void env_connect(env *e, hconn *c)
{
    if (!hc_open(c, e->port))
        fail_msg("cannot connect to 127.0.0.1:%u: %s", (unsigned)e->port, strerror(errno));
}

/* Creates a stream (optional unique name); its SID into sid. */
static void create_stream(env *e, hconn *c, const char *unique_name, char sid[SF_SID_SIZE])
{
    char target[128], form[512];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", e->service);
    if (unique_name)
        snprintf(form, sizeof form, "UniqueName=%s", unique_name);
    else
        form[0] = '\0';
    hresp r;
    hc_expect(c, "POST", target, e->auth, form, 201, &r);
    assert_true(json_get(r.body, "sid", sid, SF_SID_SIZE));
    assert_int_equal(strlen(sid), SF_SID_LEN);
    hresp_free(&r);
}

/* Publishes {"n":i} (plus a tag); the message SID into sid. */
static void publish(env *e, hconn *c, const char *stream, int i, char sid[SF_SID_SIZE])
{
    char target[160], form[256];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s/Messages", e->service, stream);
    snprintf(form, sizeof form, "Data=%%7B%%22n%%22%%3A%d%%2C%%22tag%%22%%3A%%22a+b%%22%%7D", i);
    hresp r;
    hc_expect(c, "POST", target, e->auth, form, 201, &r);
    assert_true(json_get(r.body, "sid", sid, SF_SID_SIZE));
    assert_int_equal(strlen(sid), SF_SID_LEN);
    char data[128], want[128];
    snprintf(want, sizeof want, "{\"n\":%d,\"tag\":\"a b\"}", i);
    assert_true(json_get(r.body, "data", data, sizeof data));
    assert_string_equal(data, want);
    hresp_free(&r);
}

static void events_target(const env *e, const char *stream, char *out, size_t cap)
{
    snprintf(out, cap, "/_syncfake/Services/%s/Streams/%s/Events", e->service, stream);
}

/* Opens an event stream and reads its `subscribed` event; returns the subscriber id. */
static long long subscribe(env *e, hconn *c, sse_reader *s, const char *stream)
{
    char target[200];
    events_target(e, stream, target, sizeof target);
    env_connect(e, c);
    if (!sse_open(s, c, target, e->auth))
        fail_msg("GET %s: no answer within %d ms", target, IO_TIMEOUT_MS);
    assert_int_equal(s->head.status, 200);
    assert_string_equal(s->head.content_type, "text/event-stream");
    sse_event ev;
    assert_int_equal(sse_next(s, &ev, IO_TIMEOUT_MS), 1);
    assert_string_equal(ev.name, "subscribed");
    long long id = json_int(ev.data, "subscriber_id");
    assert_true(id > 0);
    return id;
}

/* Lines of the whole journal (GET /_syncfake/journal, page after page), malloc'd text. */
static char *journal(env *e, hconn *c)
{
    enum { PAGE = 10000 };
    char *text = calloc(1, 1);
    size_t len = 0;
    unsigned long long since = 0;
    for (bool more = true; more;) {
        char target[96];
        snprintf(target, sizeof target, "/_syncfake/journal?since=%llu&limit=%d", since, PAGE);
        hresp r;
        hc_expect(c, "GET", target, e->auth, NULL, 200, &r);
        assert_string_equal(r.content_type, "application/x-ndjson");
        size_t n = strlen(r.body), lines = 0;
        const char *last = NULL;
        for (const char *p = r.body; *p; p++)
            if (*p == '\n') {
                lines++;
                if (p[1])
                    last = p + 1;
            }
        if (lines && !last)
            last = r.body;
        more = lines == PAGE; /* a short page is the last one */
        if (more)
            assert_int_equal(sscanf(last, "{\"seq\":%llu", &since), 1);
        text = realloc(text, len + n + 1);
        assert_non_null(text);
        memcpy(text + len, r.body, n + 1);
        len += n;
        hresp_free(&r);
    }
    return text;
}

/* Whether `line` holds `frag` not followed by a digit (so "\"rule\":1" does not match 12). */
static bool has_fragment(const char *line, const char *frag)
{
    if (!frag)
        return true;
    size_t n = strlen(frag);
    for (const char *p = strstr(line, frag); p; p = strstr(p + 1, frag))
        if (p[n] < '0' || p[n] > '9')
            return true;
    return false;
}

/* Journal lines that contain every one of the given fragments. */
static size_t journal_count(const char *text, const char *a, const char *b, const char *d)
{
    size_t n = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, len);
        assert_non_null(copy);
        if (has_fragment(copy, a) && has_fragment(copy, b) && has_fragment(copy, d))
            n++;
        free(copy);
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

/* ---------------------------------------------------------------------------------------- */
/* 1. TCP answers equal the in-process dispatcher's                                          */
/* ---------------------------------------------------------------------------------------- */

typedef struct twin {
    sf_fake *fake;
    const char *auth;
} twin;

/* Sends the request over TCP and to the twin fake in-process; asserts identical answers.
 * Returns the TCP body (malloc'd). */
static char *same_answer(hconn *c, twin *t, const char *method, const char *target,
                         const char *auth, const char *form, int status)
{
    hresp r;
    if (!hc_request(c, method, target, auth, form, &r))
        fail_msg("%s %s: no HTTP answer", method, target);

    sf_http_header headers[2];
    size_t nh = 0;
    if (auth)
        headers[nh++] = (sf_http_header){"Authorization", auth};
    if (form)
        headers[nh++] = (sf_http_header){"Content-Type", "application/x-www-form-urlencoded"};
    sf_http_request req = {method,
                           target,
                           headers,
                           nh,
                           form,
                           form ? strlen(form) : 0,
                           NULL,
                           NULL,
                           NULL,
                           NULL,
                           SF_HTTP_REQUEST_LOG_NONE};
    sf_http_response want;
    sf_http_dispatch(t->fake, &req, &want);

    if (r.status != want.status || r.status != status)
        fail_msg("%s %s: TCP %d, in-process %d, expected %d; TCP body %.300s", method, target,
                 r.status, want.status, status, r.body);
    assert_string_equal(r.content_type, want.content_type ? want.content_type : "");
    assert_string_equal(r.date, want.date);
    assert_string_equal(r.allow, want.allow);
    if (r.body_len != want.body_len || memcmp(r.body, want.body ? want.body : "", r.body_len))
        fail_msg("%s %s: bodies differ\n TCP:        %.600s\n in-process: %.600s", method, target,
                 r.body, want.body ? want.body : "");
    sf_http_response_free(&want);
    char *body = r.body;
    r.body = NULL;
    hresp_free(&r);
    return body;
}

static void test_tcp_equals_in_process(void **state)
{
    env *e = *state;
    twin t = {new_fake(), e->auth};
    hconn c;
    env_connect(e, &c);
    char svc[64], to[64], path[512], next[1024];

    char *b = same_answer(&c, &t, "POST", "/v1/Services", e->auth, "FriendlyName=twin%20one", 201);
    assert_true(json_get(b, "sid", svc, sizeof svc));
    free(b);
    snprintf(path, sizeof path, "/v1/Services/%s", svc);
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 200));

    snprintf(path, sizeof path, "/v1/Services/%s/Streams", svc);
    b = same_answer(&c, &t, "POST", path, e->auth, "UniqueName=a%2Fslash&Ttl=3600", 201);
    assert_true(json_get(b, "sid", to, sizeof to));
    free(b);
    free(same_answer(&c, &t, "POST", path, e->auth, "UniqueName=second", 201));
    free(same_answer(&c, &t, "POST", path, e->auth, "", 201));
    free(same_answer(&c, &t, "POST", path, e->auth, "UniqueName=second", 409));
    free(same_answer(&c, &t, "POST", path, e->auth, "Ttl=-1", 400));

    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", svc, to);
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 200));
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/a%%2Fslash", svc);
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 200));
    free(same_answer(&c, &t, "POST", path, e->auth, "", 400)); /* update without Ttl */

    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s/Messages", svc, to);
    free(same_answer(&c, &t, "POST", path, e->auth, "Data=%7B%22a%22%3A+1%2C%22b%22%3A%5B%5D%7D",
                     201));
    free(same_answer(&c, &t, "POST", path, e->auth, "Data=not-json", 400));
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 404));

    /* paging: the query survives the trip, including a PageToken from next_page_url */
    snprintf(path, sizeof path, "/v1/Services/%s/Streams?PageSize=1", svc);
    b = same_answer(&c, &t, "GET", path, e->auth, NULL, 200);
    assert_true(json_get(b, "next_page_url", next, sizeof next));
    free(b);
    assert_true(strncmp(next, BASE_URL, strlen(BASE_URL)) == 0);
    b = same_answer(&c, &t, "GET", next + strlen(BASE_URL), e->auth, NULL, 200);
    assert_non_null(strstr(b, "\"second\""));
    free(b);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams?PageSize=abc", svc);
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 400));

    /* the clock moves both Dates */
    free(same_answer(&c, &t, "POST", "/_syncfake/clock", e->auth, "AdvanceMs=1500", 200));
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", svc, to);
    free(same_answer(&c, &t, "DELETE", path, e->auth, NULL, 204));
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 404));
    free(same_answer(&c, &t, "PUT", "/v1/Services", e->auth, NULL, 405));
    free(same_answer(&c, &t, "GET", "/v1/Services", "Basic QUM6bm9wZQ==", NULL, 401));
    free(same_answer(&c, &t, "GET", "/v1/Services", NULL, NULL, 401));
    free(same_answer(&c, &t, "GET", "/nowhere/at/all", e->auth, NULL, 404));
    free(same_answer(&c, &t, "GET", "/v1/Services/%zz", e->auth, NULL, 400));
    b = same_answer(&c, &t, "GET", "/_syncfake/journal", e->auth, NULL, 200);
    assert_non_null(strstr(b, "\"kind\":\"api\""));
    free(b);

    hc_close(&c);
    sf_fake_free(t.fake);
}

/* ---------------------------------------------------------------------------------------- */
/* 2. 8 threads x 1,000 requests                                                             */
/* ---------------------------------------------------------------------------------------- */

typedef struct worker {
    env *e;
    int index;
    int requests; /* this thread's total, create included */
    char stream[SF_SID_SIZE];
    char (*sids)[SF_SID_SIZE];
    int publishes, fetches;
    char failure[512]; /* first failure; "" when all went well */
} worker;

static void worker_fail(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void worker_fail(worker *w, const char *fmt, ...)
{
    if (w->failure[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->failure, sizeof w->failure, fmt, ap);
    va_end(ap);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    env *e = w->e;
    hconn c;
    if (!hc_open(&c, e->port)) {
        worker_fail(w, "thread %d: connect failed", w->index);
        return NULL;
    }
    char target[200], form[256];
    hresp r;
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", e->service);
    snprintf(form, sizeof form, "UniqueName=worker-%d", w->index);
    if (!hc_request(&c, "POST", target, e->auth, form, &r) || r.status != 201 ||
        !json_get(r.body, "sid", w->stream, sizeof w->stream)) {
        worker_fail(w, "thread %d: create: %d %.200s", w->index, r.status, r.body);
        hresp_free(&r);
        hc_close(&c);
        return NULL;
    }
    hresp_free(&r);
    for (int i = 1; i < w->requests && !w->failure[0]; i++) {
        if (i % 5 == 0) { /* fetch, by unique name */
            snprintf(target, sizeof target, "/v1/Services/%s/Streams/worker-%d", e->service,
                     w->index);
            char sid[64];
            if (!hc_request(&c, "GET", target, e->auth, NULL, &r) || r.status != 200 ||
                !json_get(r.body, "sid", sid, sizeof sid) || strcmp(sid, w->stream) != 0)
                worker_fail(w, "thread %d: fetch %d: %d %.200s", w->index, i, r.status, r.body);
            w->fetches++;
        } else {
            snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s/Messages", e->service,
                     w->stream);
            snprintf(form, sizeof form, "Data=%%7B%%22t%%22%%3A%d%%2C%%22i%%22%%3A%d%%7D", w->index,
                     i);
            char data[128], want[128];
            snprintf(want, sizeof want, "{\"t\":%d,\"i\":%d}", w->index, i);
            if (!hc_request(&c, "POST", target, e->auth, form, &r) || r.status != 201 ||
                !json_get(r.body, "sid", w->sids[w->publishes], SF_SID_SIZE) ||
                strncmp(w->sids[w->publishes], "TZ", 2) != 0 ||
                !json_get(r.body, "data", data, sizeof data) || strcmp(data, want) != 0)
                worker_fail(w, "thread %d: publish %d: %d %.200s", w->index, i, r.status, r.body);
            else
                w->publishes++;
        }
        hresp_free(&r);
    }
    hc_close(&c);
    return NULL;
}

static int cmp_sid(const void *a, const void *b) { return strcmp(a, b); }

static int scale(void)
{
    const char *s = getenv("SF_TEST_SCALE");
    long v = s ? strtol(s, NULL, 10) : 1000;
    return v < 10 ? 10 : v > 1000 ? 1000 : (int)v;
}

static void test_concurrent_clients(void **state)
{
    env *e = *state;
    hconn c;
    env_connect(e, &c);
    env_service(e, &c);
    const int per_thread = scale();

    char *before = journal(e, &c);
    size_t api_before = journal_count(before, "\"kind\":\"api\"", NULL, NULL);
    free(before);

    worker w[THREADS];
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].e = e;
        w[t].index = t;
        w[t].requests = per_thread;
        w[t].sids = calloc((size_t)per_thread, SF_SID_SIZE);
        assert_non_null(w[t].sids);
    }
    int64_t t0 = now_ms();
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&tid[t], NULL, worker_main, &w[t]), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(tid[t], NULL);
    int64_t elapsed = now_ms() - t0;
    print_message("    %d threads x %d requests: %" PRId64 " ms\n", THREADS, per_thread, elapsed);

    int publishes = 0;
    for (int t = 0; t < THREADS; t++) {
        if (w[t].failure[0])
            fail_msg("%s", w[t].failure);
        assert_int_equal(1 + w[t].publishes + w[t].fetches, per_thread);
        publishes += w[t].publishes;
    }

    /* no message SID twice, across all threads */
    char(*all)[SF_SID_SIZE] = calloc((size_t)publishes, SF_SID_SIZE);
    assert_non_null(all);
    int n = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < w[t].publishes; i++)
            memcpy(all[n++], w[t].sids[i], SF_SID_SIZE);
    qsort(all, (size_t)n, SF_SID_SIZE, cmp_sid);
    for (int i = 1; i < n; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            fail_msg("message SID %s returned twice", all[i]);
    free(all);

    /* the journal (over HTTP) saw every request exactly once */
    char *text = journal(e, &c);
    size_t api_after = journal_count(text, "\"kind\":\"api\"", NULL, NULL);
    assert_int_equal(api_after - api_before, (size_t)(THREADS * per_thread));
    for (int t = 0; t < THREADS; t++) {
        char sid_frag[64];
        snprintf(sid_frag, sizeof sid_frag, "\"stream_sid\":\"%s\"", w[t].stream);
        assert_int_equal(
            journal_count(text, "\"op\":\"message.create\",\"status\":201", sid_frag, NULL),
            (size_t)w[t].publishes);
        assert_int_equal(
            journal_count(text, "\"op\":\"stream.fetch\",\"status\":200", sid_frag, NULL),
            (size_t)w[t].fetches);
        assert_int_equal(
            journal_count(text, "\"op\":\"stream.create\",\"status\":201", sid_frag, NULL), 1);
    }
    assert_int_equal(journal_count(text, "\"kind\":\"api\"", "\"code\":0", NULL), api_after);
    free(text);
    hc_close(&c);

    /* and in-process, once the server is gone, the stream stats agree */
    sf_server_stop(e->srv);
    e->srv = NULL;
    for (int t = 0; t < THREADS; t++) {
        sf_stream_stats st;
        sf_error err;
        assert_status(sf_stream_stats_get(e->fake, NULL, e->service, w[t].stream, &st, &err),
                      SF_OK);
        assert_int_equal(st.messages_published, (uint64_t)w[t].publishes);
        assert_int_equal(st.subscribers, 0);
        free(w[t].sids);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* 3. Server-sent events                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_events_in_order_then_removed(void **state)
{
    env *e = *state;
    hconn c, sc;
    env_connect(e, &c);
    env_service(e, &c);
    char stream[SF_SID_SIZE];
    create_stream(e, &c, "events-demo", stream);

    sse_reader s;
    long long sub = subscribe(e, &sc, &s, "events-demo"); /* by unique name */

    char sids[MESSAGES][SF_SID_SIZE];
    for (int i = 0; i < MESSAGES; i++)
        publish(e, &c, stream, i, sids[i]);

    sse_event ev;
    for (int i = 0; i < MESSAGES; i++) {
        if (sse_next(&s, &ev, IO_TIMEOUT_MS) != 1)
            fail_msg("event %d of %d did not arrive within %d ms", i, MESSAGES, IO_TIMEOUT_MS);
        assert_string_equal(ev.name, "message_published");
        char v[256], want[128];
        assert_true(json_get(ev.data, "stream_sid", v, sizeof v));
        assert_string_equal(v, stream);
        assert_true(json_get(ev.data, "message_sid", v, sizeof v));
        if (strcmp(v, sids[i]) != 0)
            fail_msg("event %d: message_sid %s, published %s", i, v, sids[i]);
        assert_true(json_get(ev.data, "data", v, sizeof v));
        snprintf(want, sizeof want, "{\"n\":%d,\"tag\":\"a b\"}", i);
        assert_string_equal(v, want);
        assert_true(json_get(ev.data, "is_duplicate", v, sizeof v));
        assert_string_equal(v, "false");
    }

    /* subscriber stats over the control API agree */
    char target[200];
    hresp r;
    snprintf(target, sizeof target, "/_syncfake/subscribers/%lld", sub);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    assert_int_equal(json_int(r.body, "delivered"), MESSAGES);
    assert_int_equal(json_int(r.body, "dropped"), 0);
    hresp_free(&r);

    /* delete: `removed`, then the stream ends */
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s", e->service, stream);
    hc_expect(&c, "DELETE", target, e->auth, NULL, 204, &r);
    hresp_free(&r);
    assert_int_equal(sse_next(&s, &ev, IO_TIMEOUT_MS), 1);
    assert_string_equal(ev.name, "removed");
    char v[128];
    assert_true(json_get(ev.data, "stream_sid", v, sizeof v));
    assert_string_equal(v, stream);
    assert_true(json_get(ev.data, "reason", v, sizeof v));
    assert_string_equal(v, "deleted");
    assert_int_equal(sse_next(&s, &ev, IO_TIMEOUT_MS), 0);

    /* the journal saw the deliveries in publish order */
    char *text = journal(e, &c);
    char sub_frag[64];
    snprintf(sub_frag, sizeof sub_frag, "\"subscriber_id\":%lld", sub);
    assert_int_equal(journal_count(text, "\"kind\":\"delivered\"", sub_frag, NULL), MESSAGES);
    assert_int_equal(journal_count(text, "\"kind\":\"subscribed\"", sub_frag, NULL), 1);
    free(text);

    sse_close(&s);
    hc_close(&sc);
    hc_close(&c);
}

static void test_events_errors(void **state)
{
    env *e = *state;
    hconn c;
    env_connect(e, &c);
    env_service(e, &c);
    char target[200];
    hresp r;

    events_target(e, "no-such-stream", target, sizeof target);
    hc_expect(&c, "GET", target, e->auth, NULL, 404, &r);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(json_int(r.body, "code"), 20404);
    hresp_free(&r);

    char stream[SF_SID_SIZE];
    create_stream(e, &c, NULL, stream);
    events_target(e, stream, target, sizeof target);
    hc_expect(&c, "POST", target, e->auth, "", 405, &r);
    assert_string_equal(r.allow, "GET");
    hresp_free(&r);
    hc_expect(&c, "GET", target, NULL, NULL, 401, &r);
    assert_int_equal(json_int(r.body, "code"), 20003);
    hresp_free(&r);

    /* the same keep-alive connection still serves ordinary requests */
    snprintf(target, sizeof target, "/v1/Services/%s", e->service);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    hresp_free(&r);
    hc_close(&c);
}

static void test_events_drop_rule_journal(void **state)
{
    env *e = *state;
    hconn c, sc;
    env_connect(e, &c);
    env_service(e, &c);
    char stream[SF_SID_SIZE];
    create_stream(e, &c, NULL, stream);

    sse_reader s;
    long long sub = subscribe(e, &sc, &s, stream); /* by SID */

    char form[128];
    hresp r;
    snprintf(form, sizeof form, "Scope=subscriber&Target=%lld&DropRate=0.3", sub);
    hc_expect(&c, "POST", "/_syncfake/faults", e->auth, form, 201, &r);
    long long rule = json_int(r.body, "id");
    assert_true(rule > 0);
    char v[64];
    assert_true(json_get(r.body, "scope", v, sizeof v));
    assert_string_equal(v, "subscriber");
    hresp_free(&r);

    char sids[MESSAGES][SF_SID_SIZE];
    for (int i = 0; i < MESSAGES; i++)
        publish(e, &c, stream, i, sids[i]);

    char target[200];
    snprintf(target, sizeof target, "/_syncfake/subscribers/%lld", sub);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    long long delivered = json_int(r.body, "delivered"), dropped = json_int(r.body, "dropped");
    hresp_free(&r);
    assert_int_equal(delivered + dropped, MESSAGES);

    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s", e->service, stream);
    hc_expect(&c, "DELETE", target, e->auth, NULL, 204, &r);
    hresp_free(&r);

    /* read everything up to `removed`; received SIDs are a subsequence of the published */
    bool got[MESSAGES] = {false};
    int received = 0, next = 0;
    sse_event ev;
    for (;;) {
        int st = sse_next(&s, &ev, IO_TIMEOUT_MS);
        if (st != 1)
            fail_msg("stream ended (%d) before `removed` after %d events", st, received);
        if (strcmp(ev.name, "removed") == 0)
            break;
        assert_string_equal(ev.name, "message_published");
        assert_true(json_get(ev.data, "message_sid", v, sizeof v));
        while (next < MESSAGES && strcmp(sids[next], v) != 0)
            next++;
        if (next == MESSAGES)
            fail_msg("event %s out of order or unknown", v);
        got[next++] = true;
        received++;
    }
    assert_int_equal(sse_next(&s, &ev, IO_TIMEOUT_MS), 0);
    print_message("    DropRate=0.3: %d of %d received\n", received, MESSAGES);
    assert_true(received < MESSAGES);
    assert_true(received > 0);
    assert_int_equal(received, delivered);

    /* every missing message is named by a `dropped` journal entry with subscriber and rule */
    char *text = journal(e, &c);
    char sub_frag[64], rule_frag[64], sid_frag[64];
    snprintf(sub_frag, sizeof sub_frag, "\"subscriber_id\":%lld", sub);
    snprintf(rule_frag, sizeof rule_frag, "\"rule\":%lld", rule);
    int missing = 0;
    for (int i = 0; i < MESSAGES; i++) {
        snprintf(sid_frag, sizeof sid_frag, "\"message_sid\":\"%.34s\"", sids[i]);
        size_t drops = journal_count(text, "\"kind\":\"dropped\"", sid_frag, sub_frag);
        size_t with_rule = journal_count(text, "\"kind\":\"dropped\"", sid_frag, rule_frag);
        size_t deliveries = journal_count(text, "\"kind\":\"delivered\"", sid_frag, sub_frag);
        if (got[i]) {
            if (drops != 0 || deliveries != 1)
                fail_msg("%s received but journal has %zu drops, %zu deliveries", sids[i], drops,
                         deliveries);
        } else {
            missing++;
            if (drops != 1 || with_rule != 1 || deliveries != 0)
                fail_msg("%s missing but journal has %zu drops (%zu with rule %lld), %zu "
                         "deliveries",
                         sids[i], drops, with_rule, rule, deliveries);
        }
    }
    assert_int_equal(missing, dropped);
    assert_int_equal(journal_count(text, "\"kind\":\"dropped\"", NULL, NULL), (size_t)missing);
    free(text);

    /* the rule counts its hits */
    snprintf(target, sizeof target, "/_syncfake/faults/%lld", rule);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    assert_int_equal(json_int(r.body, "hits"), missing);
    hresp_free(&r);

    sse_close(&s);
    hc_close(&sc);
    hc_close(&c);
}

/* ---------------------------------------------------------------------------------------- */
/* 4. Oversized requests                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* POST /v1/Services with a form body of exactly `size` bytes (a padding field). */
static void post_sized(env *e, size_t size, hresp *r)
{
    const char *prefix = "FriendlyName=big&Pad=";
    char *body = malloc(size + 1);
    assert_non_null(body);
    memset(body, 'a', size);
    memcpy(body, prefix, strlen(prefix));
    body[size] = '\0';
    hconn c;
    env_connect(e, &c);
    assert_true(hc_send_request(&c, "POST", "/v1/Services", e->auth,
                                "application/x-www-form-urlencoded", body, size, NULL));
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    if (!hc_read_head(&c, r, deadline) || !hc_read_body(&c, r, deadline))
        fail_msg("POST of %zu bytes: no answer within %d ms", size, IO_TIMEOUT_MS);
    free(body);
    hc_close(&c);
}

static void test_oversized_body_413(void **state)
{
    env *e = *state;
    hresp r;
    post_sized(e, SF_HTTP_MAX_BODY, &r); /* the limit itself is fine */
    assert_int_equal(r.status, 201);
    hresp_free(&r);

    post_sized(e, SF_HTTP_MAX_BODY + 1, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(json_int(r.body, "code"), 54006);
    assert_int_equal(json_int(r.body, "status"), 413);
    hresp_free(&r);

    post_sized(e, 1024 * 1024, &r);
    assert_int_equal(r.status, 413);
    assert_int_equal(json_int(r.body, "code"), 54006);
    hresp_free(&r);

    /* a chunked upload over the limit too (built by hand: no Content-Length) */
    hconn c;
    env_connect(e, &c);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /v1/Services HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     e->auth);
    assert_true(hc_send(&c, head, (size_t)n));
    char chunk[8192 + 16];
    memset(chunk, 'a', sizeof chunk);
    n = snprintf(chunk, 16, "2000\r\n");
    chunk[n] = 'a'; /* snprintf's NUL */
    memcpy(chunk + n + 8192, "\r\n", 2);
    for (int i = 0; i < 10; i++) /* 80 KiB */
        assert_true(hc_send(&c, chunk, (size_t)n + 8192 + 2));
    assert_true(hc_send(&c, "0\r\n\r\n", 5));
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    assert_true(hc_read_head(&c, &r, deadline) && hc_read_body(&c, &r, deadline));
    assert_int_equal(r.status, 413);
    assert_int_equal(json_int(r.body, "code"), 54006);
    hresp_free(&r);
    hc_close(&c);

    /* the server is unharmed */
    env_connect(e, &c);
    hc_expect(&c, "GET", "/v1/Services", e->auth, NULL, 200, &r);
    hresp_free(&r);
    hc_close(&c);
}

/* docs/http.md "REST v1 on the wire": Date from the fake clock; the 413 made by the server too. */
static void test_oversized_body_date_is_fake_clock(void **state)
{
    env *e = *state;
    char want[30];
    sf_format_http_date(SF_DEFAULT_EPOCH_MS, want); /* the manual clock never moved */
    hresp r;
    char date[64];
    post_sized(e, SF_HTTP_MAX_BODY, &r);
    snprintf(date, sizeof date, "%s", r.date);
    hresp_free(&r);
    assert_string_equal(date, want); /* the dispatcher's answer */
    post_sized(e, SF_HTTP_MAX_BODY + 1, &r);
    int status = r.status;
    snprintf(date, sizeof date, "%s", r.date);
    hresp_free(&r);
    assert_int_equal(status, 413);
    assert_string_equal(date, want); /* the server's own 413 */
}

static void test_long_path_and_headers(void **state)
{
    env *e = *state;
    hconn c;
    hresp r;

    /* 10 KB path: over the dispatcher's 8 KiB target limit: 400 JSON */
    size_t len = 10 * 1024;
    char *path = malloc(len + 1);
    assert_non_null(path);
    memset(path, 'x', len);
    memcpy(path, "/v1/Services/", 13);
    path[len] = '\0';
    env_connect(e, &c);
    hc_expect(&c, "GET", path, e->auth, NULL, 400, &r);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(json_int(r.body, "status"), 400);
    hresp_free(&r);

    /* just under the limit: an unknown service, 404 JSON naming the resource */
    path[SF_HTTP_MAX_TARGET] = '\0';
    hc_expect(&c, "GET", path, e->auth, NULL, 404, &r);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(json_int(r.body, "code"), 20404);
    hresp_free(&r);
    hc_close(&c);
    free(path);

    /* 100 KB path: whoever answers, a 4xx and no hang */
    len = 100 * 1024;
    path = malloc(len + 1);
    assert_non_null(path);
    memset(path, 'y', len);
    path[0] = '/';
    path[len] = '\0';
    env_connect(e, &c);
    if (!hc_request(&c, "GET", path, e->auth, NULL, &r))
        fail_msg("100 KB path: no answer within %d ms", IO_TIMEOUT_MS);
    print_message("    100 KB path: %d %s\n", r.status, r.content_type);
    assert_in_range(r.status, 400, 499);
    hresp_free(&r);
    hc_close(&c);
    free(path);

    /* a 40 KB header */
    char *big = malloc(40 * 1024 + 32);
    assert_non_null(big);
    int n = snprintf(big, 32, "X-Big: ");
    memset(big + n, 'z', 40 * 1024);
    memcpy(big + n + 40 * 1024, "\r\n", 3);
    env_connect(e, &c);
    assert_true(hc_send_request(&c, "GET", "/v1/Services", e->auth, NULL, NULL, 0, big));
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    if (!hc_read_head(&c, &r, deadline) || !hc_read_body(&c, &r, deadline))
        fail_msg("40 KB header: no answer within %d ms", IO_TIMEOUT_MS);
    print_message("    40 KB header: %d %s\n", r.status, r.content_type);
    assert_in_range(r.status, 400, 499);
    hresp_free(&r);
    hc_close(&c);
    free(big);

    /* garbage instead of a request line */
    env_connect(e, &c);
    assert_true(hc_send(&c, "HELLO\r\n\r\n", 9));
    deadline = now_ms() + IO_TIMEOUT_MS;
    if (hc_read_head(&c, &r, deadline)) {
        assert_in_range(r.status, 400, 499);
        hresp_free(&r);
    } /* else: closed without an answer, also acceptable */
    hc_close(&c);

    /* still serving */
    env_connect(e, &c);
    hc_expect(&c, "GET", "/v1/Services", e->auth, NULL, 200, &r);
    hresp_free(&r);
    hc_close(&c);
}

/* ---------------------------------------------------------------------------------------- */
/* 5. Reset and stop with event streams open                                                 */
/* ---------------------------------------------------------------------------------------- */

static void reset_closes_streams(env *e, const char *reset_target)
{
    hconn c, sc1, sc2;
    env_connect(e, &c);
    env_service(e, &c);
    char stream[SF_SID_SIZE], msg[SF_SID_SIZE];
    create_stream(e, &c, "before-reset", stream);
    sse_reader s1, s2;
    subscribe(e, &sc1, &s1, stream);
    subscribe(e, &sc2, &s2, "before-reset");
    publish(e, &c, stream, 1, msg);

    hresp r;
    hc_expect(&c, "POST", reset_target, e->auth, "", 204, &r);
    hresp_free(&r);

    /* each stream: the message published before the reset, then a clean end (checked at the
     * end of the test, so that what follows runs either way) */
    sse_reader *all[2] = {&s1, &s2};
    char not_ended[256] = "";
    for (int i = 0; i < 2; i++) {
        sse_event ev;
        assert_int_equal(sse_next(all[i], &ev, IO_TIMEOUT_MS), 1);
        assert_string_equal(ev.name, "message_published");
        int st = sse_next(all[i], &ev, SHORT_TIMEOUT_MS);
        if (st != 0 && !not_ended[0])
            snprintf(not_ended, sizeof not_ended, "event stream %d not ended after POST %s (%s)",
                     i + 1, reset_target,
                     st == -1   ? "still open"
                     : st == -2 ? "cut"
                                : ev.name);
    }

    /* the fake is new: the service is gone; a new subscriber of a new stream works, and the
     * old connections closing does not detach it */
    char target[200];
    snprintf(target, sizeof target, "/v1/Services/%s", e->service);
    hc_expect(&c, "GET", target, e->auth, NULL, 404, &r);
    hresp_free(&r);
    env_service(e, &c); /* same SIDs as before: the counters started over */
    create_stream(e, &c, "after-reset", stream);
    hconn sc3;
    sse_reader s3;
    long long sub = subscribe(e, &sc3, &s3, stream);
    assert_int_equal(sub, 1); /* subscriber ids start over too */
    sse_close(&s1);
    hc_close(&sc1);
    sse_close(&s2);
    hc_close(&sc2);
    sleep_ms(300);
    publish(e, &c, stream, 2, msg);
    sse_event ev;
    int got = sse_next(&s3, &ev, SHORT_TIMEOUT_MS);
    sse_close(&s3);
    hc_close(&sc3);
    hc_close(&c);
    if (got != 1)
        fail_msg("%s%sthe new subscriber %lld got no event (%d): an old connection detached it",
                 not_ended, not_ended[0] ? "; " : "", sub, got);
    assert_string_equal(ev.name, "message_published");
    char v[64];
    assert_true(json_get(ev.data, "message_sid", v, sizeof v));
    assert_string_equal(v, msg);
    if (not_ended[0])
        fail_msg("%s", not_ended);
}

static void test_reset_closes_event_streams(void **state)
{
    reset_closes_streams(*state, "/_syncfake/reset");
}

/* The dispatcher decodes each path segment, so this is a reset as well (docs/http.md "REST v1"). */
static void test_reset_encoded_path_closes_event_streams(void **state)
{
    reset_closes_streams(*state, "/_syncfake/re%73et");
}

typedef struct stopper {
    sf_server *srv;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} stopper;

static void *stop_main(void *arg)
{
    stopper *s = arg;
    sf_server_stop(s->srv);
    pthread_mutex_lock(&s->lock);
    s->done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* A socket bound first (sf_server_listen, port 0): the server serves that very port, which is
 * never released in between, refuses a second bind of it, and closes it when it stops. */
static void test_prebound_listener(void **state)
{
    (void)state;
    uint16_t port = 0;
    int fd = sf_server_listen("127.0.0.1", 0, &port);
    assert_true(fd > 2);
    assert_int_not_equal(port, 0);
    uint16_t again;
    assert_int_equal(sf_server_listen("127.0.0.1", port, &again), -1); /* in use */
    assert_int_equal(sf_server_listen("localhost", 0, &again), -1);    /* not an address */

    sf_fake *fake = new_fake();
    sf_server_config cfg = {.host = "127.0.0.1", .listen_fd = fd, .fake = fake};
    sf_server *srv = sf_server_start(&cfg);
    assert_non_null(srv);
    assert_int_equal(sf_server_port(srv), port);
    hconn c;
    assert_true(hc_open(&c, port));
    hresp r;
    hc_expect(&c, "GET", "/v1/Services", NULL, NULL, 401, &r); /* it is syncfake answering */
    hresp_free(&r);
    hc_close(&c);
    sf_server_stop(srv);
    sf_fake_free(fake);
    /* the port is free again: nothing kept it open */
    int fd2 = sf_server_listen("127.0.0.1", port, &again);
    assert_true(fd2 > 2);
    assert_int_equal(again, port);
    close(fd2);
}

static void test_stop_with_open_event_stream(void **state)
{
    env *e = *state;
    hconn c, sc, idle;
    env_connect(e, &c);
    env_service(e, &c);
    char stream[SF_SID_SIZE], msg[SF_SID_SIZE];
    create_stream(e, &c, NULL, stream);
    sse_reader s;
    subscribe(e, &sc, &s, stream);
    publish(e, &c, stream, 7, msg);
    env_connect(e, &idle); /* a keep-alive connection that never sends anything */

    stopper st = {e->srv, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    pthread_t tid;
    int64_t t0 = now_ms();
    assert_int_equal(pthread_create(&tid, NULL, stop_main, &st), 0);
    e->srv = NULL; /* the teardown must not stop it again */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += IO_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&st.lock);
    while (!st.done)
        if (pthread_cond_timedwait(&st.cond, &st.lock, &until) != 0)
            break;
    bool done = st.done;
    pthread_mutex_unlock(&st.lock);
    if (!done)
        fail_msg("sf_server_stop did not return within %d ms with an event stream open",
                 IO_TIMEOUT_MS); /* the stopper thread is left behind */
    pthread_join(tid, NULL);
    print_message("    sf_server_stop: %" PRId64 " ms\n", now_ms() - t0);

    /* the client sees the message, then the end of the stream (last chunk or EOF) */
    sse_event ev;
    int r = sse_next(&s, &ev, IO_TIMEOUT_MS);
    if (r == 1) {
        assert_string_equal(ev.name, "message_published");
        r = sse_next(&s, &ev, IO_TIMEOUT_MS);
    }
    if (r == -1)
        fail_msg("the event stream neither ended nor closed within %d ms of the stop",
                 IO_TIMEOUT_MS);
    assert_true(r == 0 || r == -2); /* last chunk, or cut by the stop: both prompt */
    sse_close(&s);
    hc_close(&sc);
    hc_close(&idle);
    hc_close(&c);
}

/* ---------------------------------------------------------------------------------------- */
/* 6. The syncfake-server binary: start-up line, one request, SIGTERM / SIGINT               */
/* ---------------------------------------------------------------------------------------- */

typedef struct child {
    pid_t pid;
    int out; /* its stdout */
    uint16_t port;
    char auth[512];
    char base_url[128];
} child;

static bool server_binary(char *out, size_t cap)
{
    const char *env_bin = getenv("SF_SERVER_BIN");
    if (env_bin && access(env_bin, X_OK) == 0) {
        snprintf(out, cap, "%s", env_bin);
        return true;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return false;
    *slash = '\0';
    const char *tries[] = {"/syncfake-server", "/../syncfake-server"};
    for (size_t i = 0; i < 2; i++) {
        size_t dir = strlen(self), name = strlen(tries[i]);
        if (dir + name + 1 > cap)
            return false;
        memcpy(out, self, dir);
        memcpy(out + dir, tries[i], name + 1);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* One line of the child's stdout (byte by byte, so nothing is read ahead). */
static bool child_line(child *ch, char *out, size_t cap, int64_t deadline)
{
    size_t n = 0;
    for (;;) {
        if (wait_fd(ch->out, POLLIN, deadline) != 1)
            return false;
        char ch1;
        ssize_t r = read(ch->out, &ch1, 1);
        if (r <= 0)
            return false;
        if (ch1 == '\n') {
            out[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            out[n++] = ch1;
    }
}

/* Runs syncfake-server with `args` (NULL-terminated) and its stdout on ch->out; nothing read. */
static void child_spawn(child *ch, const char *const *args)
{
    char bin[PATH_MAX];
    if (!server_binary(bin, sizeof bin)) {
        print_message("    syncfake-server not built next to the test: skipped\n");
        skip();
    }
    const char *argv[24] = {bin};
    size_t argc = 1;
    for (; args[argc - 1] && argc < 23; argc++)
        argv[argc] = args[argc - 1];
    argv[argc] = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        dup2(fds[1], STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    memset(ch, 0, sizeof *ch);
    ch->pid = pid;
    ch->out = fds[0];
}

static void child_start(child *ch)
{
    char bin[PATH_MAX];
    if (!server_binary(bin, sizeof bin)) {
        print_message("    syncfake-server not built next to the test: skipped\n");
        skip();
    }
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execl(bin, bin, "--port", "0", "--clock", "manual", "--seed", "5", (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    memset(ch, 0, sizeof *ch);
    ch->pid = pid;
    ch->out = fds[0];

    /* "syncfake-server listening on http://HOST:PORT", then the credentials */
    char line[512], host[64], sid[64] = "", token[128] = "";
    unsigned port = 0;
    int64_t deadline = now_ms() + 3 * IO_TIMEOUT_MS; /* sanitizers start slowly */
    if (!child_line(ch, line, sizeof line, deadline))
        fail_msg("syncfake-server printed no first line");
    char tail = 0;
    if (sscanf(line, "syncfake-server listening on http://%63[^:]:%u%c", host, &port, &tail) != 2)
        fail_msg("unexpected first line: \"%s\"", line);
    assert_string_equal(host, "127.0.0.1");
    assert_true(port > 0 && port < 65536);
    ch->port = (uint16_t)port;
    for (int i = 0; i < 5; i++) {
        if (!child_line(ch, line, sizeof line, deadline))
            fail_msg("syncfake-server printed %d credential lines, expected 5", i);
        if (strncmp(line, "account_sid ", 12) == 0)
            snprintf(sid, sizeof sid, "%.40s", line + 12);
        else if (strncmp(line, "auth_token ", 11) == 0)
            snprintf(token, sizeof token, "%.100s", line + 11);
        else if (strncmp(line, "base_url ", 9) == 0)
            snprintf(ch->base_url, sizeof ch->base_url, "%.100s", line + 9);
        else if (strncmp(line, "clock ", 6) == 0)
            assert_string_equal(line + 6, "manual");
        else if (strncmp(line, "seed ", 5) == 0)
            assert_string_equal(line + 5, "5");
        else
            fail_msg("unexpected line: \"%s\"", line);
    }
    assert_int_equal(strlen(sid), SF_SID_LEN);
    assert_true(token[0] != '\0');
    char want_base[128];
    snprintf(want_base, sizeof want_base, "http://127.0.0.1:%u", port);
    assert_string_equal(ch->base_url, want_base); /* followable URLs even with --port 0 */
    basic_auth(sid, token, ch->auth, sizeof ch->auth);
}

/* Waits up to timeout for the child; returns its wait status, or -1 (then it is killed). */
static int child_wait(child *ch, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    int status;
    for (;;) {
        pid_t r = waitpid(ch->pid, &status, WNOHANG);
        if (r == ch->pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (now_ms() >= deadline) {
            kill(ch->pid, SIGKILL);
            waitpid(ch->pid, &status, 0);
            close(ch->out);
            return -1;
        }
        sleep_ms(10);
    }
    close(ch->out);
    return status;
}

/* True while the child runs; else *status is its wait status. */
static bool child_alive(child *ch, int *status) { return waitpid(ch->pid, status, WNOHANG) == 0; }

static void child_stop(child *ch, int sig)
{
    assert_int_equal(kill(ch->pid, sig), 0);
    int status = child_wait(ch, IO_TIMEOUT_MS);
    if (status == -1)
        fail_msg("syncfake-server did not exit within %d ms of signal %d", IO_TIMEOUT_MS, sig);
    if (WIFSIGNALED(status))
        fail_msg("syncfake-server died of signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* One request against the child: a service is created and its URL uses the base URL. */
static void child_request(child *ch)
{
    hconn c;
    if (!hc_open(&c, ch->port))
        fail_msg("cannot connect to the child on port %u", (unsigned)ch->port);
    hresp r;
    hc_expect(&c, "POST", "/v1/Services", ch->auth, "FriendlyName=child", 201, &r);
    char url[256];
    assert_true(json_get(r.body, "url", url, sizeof url));
    assert_true(strncmp(url, ch->base_url, strlen(ch->base_url)) == 0);
    hresp_free(&r);
    hc_close(&c);
}

static void test_binary_sigterm(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    child_request(&ch);
    child_stop(&ch, SIGTERM);
}

static void test_binary_sigint(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    child_request(&ch);
    child_stop(&ch, SIGINT);
}

/* A signal while an event stream is open still ends the process promptly and cleanly. */
static void test_binary_sigterm_with_event_stream(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    hconn c, sc;
    assert_true(hc_open(&c, ch.port));
    hresp r;
    char svc[64], to[64], target[256];
    hc_expect(&c, "POST", "/v1/Services", ch.auth, "", 201, &r);
    assert_true(json_get(r.body, "sid", svc, sizeof svc));
    hresp_free(&r);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", svc);
    hc_expect(&c, "POST", target, ch.auth, "", 201, &r);
    assert_true(json_get(r.body, "sid", to, sizeof to));
    hresp_free(&r);
    snprintf(target, sizeof target, "/_syncfake/Services/%s/Streams/%s/Events", svc, to);
    assert_true(hc_open(&sc, ch.port));
    sse_reader s;
    assert_true(sse_open(&s, &sc, target, ch.auth));
    assert_int_equal(s.head.status, 200);
    sse_event ev;
    assert_int_equal(sse_next(&s, &ev, IO_TIMEOUT_MS), 1);
    assert_string_equal(ev.name, "subscribed");
    child_stop(&ch, SIGTERM);
    int st = sse_next(&s, &ev, IO_TIMEOUT_MS);
    assert_true(st == 0 || st == -2); /* ended or cut by the exit; -1 would be a hang */
    sse_close(&s);
    hc_close(&sc);
    hc_close(&c);
}

/* Control-API paths that match no route answer 404 JSON and never take the server down. */
static void test_binary_unknown_control_paths(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    const char *paths[] = {"/_syncfake/nothing", "/_syncfake/", "/_syncfake/subscribers/x",
                           "/_syncfake/faults/0", "/_syncfake"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        hconn c;
        if (!hc_open(&c, ch.port))
            fail_msg("before GET %s: the server is gone", paths[i]);
        hresp r;
        bool answered = hc_request(&c, "GET", paths[i], ch.auth, NULL, &r);
        hc_close(&c);
        if (!answered) {
            hresp_free(&r);
            sleep_ms(200);
            int status = 0;
            if (!child_alive(&ch, &status)) {
                close(ch.out);
                fail_msg("GET %s: syncfake-server died without answering (%s %d)", paths[i],
                         WIFSIGNALED(status) ? "signal" : "exit status",
                         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            }
            kill(ch.pid, SIGKILL);
            child_wait(&ch, IO_TIMEOUT_MS);
            fail_msg("GET %s: no answer", paths[i]);
        }
        if (r.status != 404)
            fail_msg("GET %s: status %d, expected 404", paths[i], r.status);
        assert_string_equal(r.content_type, "application/json");
        assert_int_equal(json_int(r.body, "code"), 20404);
        hresp_free(&r);
    }
    child_stop(&ch, SIGTERM);
}

/* --help prints the usage and exits 0; a bad or incomplete option exits 2 with the usage. */
static void test_binary_help_and_bad_options(void **state)
{
    (void)state;
    child ch;
    char line[512];
    static const char *const help[] = {"--help", NULL};
    child_spawn(&ch, help);
    assert_true(child_line(&ch, line, sizeof line, now_ms() + 3 * IO_TIMEOUT_MS));
    assert_true(strncmp(line, "usage: syncfake-server", 22) == 0);
    int status = child_wait(&ch, 3 * IO_TIMEOUT_MS);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    static const char *const bad[][4] = {
        {"--port", "abc", NULL},
        {"--port", "70000", NULL},
        {"--clock", "sundial", NULL},
        {"--limit", "no_such_limit=3", NULL},
        {"--account", "not-an-account", NULL},
        {"--api-key",
         "SK00000000000000000000000000000001:secret:AC0000000000000000000000000000dead", NULL},
        {"--account-sid", "ACnothex", NULL},
        {"--seed", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        child_spawn(&ch, bad[i]);
        status = child_wait(&ch, 3 * IO_TIMEOUT_MS);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
            fail_msg("syncfake-server %s %s: expected exit 2, got status %d", bad[i][0],
                     bad[i][1] ? bad[i][1] : "", status);
    }
}

/* Extra accounts and keys authenticate, limits and the base URL apply, the wall clock shows. */
static void test_binary_accounts_keys_limits_base_url(void **state)
{
    (void)state;
    static const char *const args[] = {
        "--port",
        "0",
        "--host",
        "127.0.0.1",
        "--clock",
        "wall",
        "--seed",
        "9",
        "--account-sid",
        "AC00000000000000000000000000000001",
        "--auth-token",
        "main-token",
        "--account",
        "AC00000000000000000000000000000002:other-token",
        "--api-key",
        "SK00000000000000000000000000000003:key-secret:AC00000000000000000000000000000002",
        "--limit",
        "page_size_max=5",
        "--base-url",
        "http://fake.example",
        NULL};
    child ch;
    child_spawn(&ch, args);
    char line[512];
    int64_t deadline = now_ms() + 3 * IO_TIMEOUT_MS;
    unsigned port = 0;
    assert_true(child_line(&ch, line, sizeof line, deadline));
    assert_int_equal(sscanf(line, "syncfake-server listening on http://127.0.0.1:%u", &port), 1);
    ch.port = (uint16_t)port;
    for (int i = 0; i < 5; i++) {
        assert_true(child_line(&ch, line, sizeof line, deadline));
        if (strncmp(line, "clock ", 6) == 0)
            assert_string_equal(line + 6, "wall");
        if (strncmp(line, "base_url ", 9) == 0)
            assert_string_equal(line + 9, "http://fake.example");
        if (strncmp(line, "account_sid ", 12) == 0)
            assert_string_equal(line + 12, "AC00000000000000000000000000000001");
    }
    hconn c;
    assert_true(hc_open(&c, ch.port));
    hresp r;
    char auth[512];
    /* the API key acts for the extra account; its service is invisible to the main account */
    basic_auth("SK00000000000000000000000000000003", "key-secret", auth, sizeof auth);
    hc_expect(&c, "POST", "/v1/Services", auth, "FriendlyName=keyed", 201, &r);
    char sid[64], url[256], account[64];
    assert_true(json_get(r.body, "sid", sid, sizeof sid));
    assert_true(json_get(r.body, "url", url, sizeof url));
    assert_true(json_get(r.body, "account_sid", account, sizeof account));
    assert_string_equal(account, "AC00000000000000000000000000000002");
    assert_true(strncmp(url, "http://fake.example/v1/Services/", 32) == 0);
    hresp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/Services/%.34s", sid);
    basic_auth("AC00000000000000000000000000000002", "other-token", auth, sizeof auth);
    hc_expect(&c, "GET", path, auth, NULL, 200, &r);
    hresp_free(&r);
    basic_auth("AC00000000000000000000000000000001", "main-token", auth, sizeof auth);
    hc_expect(&c, "GET", path, auth, NULL, 404, &r);
    hresp_free(&r);
    /* --limit page_size_max=5 */
    hc_expect(&c, "GET", "/v1/Services?PageSize=6", auth, NULL, 400, &r);
    assert_non_null(strstr(r.body, "54454"));
    hresp_free(&r);
    hc_expect(&c, "GET", "/v1/Services?PageSize=5", auth, NULL, 200, &r);
    hresp_free(&r);
    hc_expect(&c, "GET", "/_syncfake/clock", auth, NULL, 200, &r);
    assert_non_null(strstr(r.body, "\"mode\": \"wall\""));
    hresp_free(&r);
    hc_close(&c);
    child_stop(&ch, SIGTERM);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_equals_in_process, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_clients, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_events_in_order_then_removed, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_events_errors, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_events_drop_rule_journal, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_body_413, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_body_date_is_fake_clock, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_long_path_and_headers, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_reset_closes_event_streams, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_reset_encoded_path_closes_event_streams, env_setup,
                                        env_teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_open_event_stream, env_setup, env_teardown),
        cmocka_unit_test(test_prebound_listener),
        cmocka_unit_test(test_binary_sigterm),
        cmocka_unit_test(test_binary_sigint),
        cmocka_unit_test(test_binary_sigterm_with_event_stream),
        cmocka_unit_test(test_binary_unknown_control_paths),
        cmocka_unit_test(test_binary_help_and_bad_options),
        cmocka_unit_test(test_binary_accounts_keys_limits_base_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
