/* SPDX-License-Identifier: MIT */
/* http_client.c: see http_client.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_client.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

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

void hc_basic_auth(const char *user, const char *password, char *out, size_t cap)
{
    char plain[512], enc[700];
    snprintf(plain, sizeof plain, "%s:%s", user, password);
    base64(plain, enc);
    int n = snprintf(out, cap, "Basic %.600s", enc);
    assert_true(n > 0 && (size_t)n < cap);
}

/* The value of "key" in a flat JSON text: a string (unescaped only of \" and \\), a number,
 * true/false/null, or (for objects) the balanced {...} text. False when absent. */
bool hc_json_get(const char *json, const char *key, char *out, size_t cap)
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

long long hc_json_int(const char *json, const char *key)
{
    char v[64];
    if (!hc_json_get(json, key, v, sizeof v))
        return -1;
    return strtoll(v, NULL, 10);
}

void hresp_free(hresp *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

bool hc_open(hconn *c, uint16_t port)
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

void hc_close(hconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

bool hc_send(hconn *c, const void *data, size_t n)
{
    const char *p = data;
    int64_t deadline = lb_now_ms() + HC_IO_TIMEOUT_MS;
    while (n > 0) {
        if (lb_wait_fd(c->fd, POLLOUT, deadline) != 1)
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
        if (lb_wait_fd(c->fd, POLLIN, deadline) != 1)
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
bool hc_read_head(hconn *c, hresp *r, int64_t deadline)
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

bool hc_read_body(hconn *c, hresp *r, int64_t deadline)
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
bool hc_send_request(hconn *c, const char *method, const char *target, const char *auth,
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
bool hc_request(hconn *c, const char *method, const char *target, const char *auth,
                const char *form, hresp *r)
{
    memset(r, 0, sizeof *r);
    if (!hc_send_request(c, method, target, auth, form ? "application/x-www-form-urlencoded" : NULL,
                         form, form ? strlen(form) : 0, NULL))
        return false;
    int64_t deadline = lb_now_ms() + HC_IO_TIMEOUT_MS;
    return hc_read_head(c, r, deadline) && hc_read_body(c, r, deadline);
}

/* Same, asserting the transport worked and the status. */
void hc_expect(hconn *c, const char *method, const char *target, const char *auth, const char *form,
               int status, hresp *r)
{
    if (!hc_request(c, method, target, auth, form, r))
        fail_msg("%s %.200s: no HTTP answer within %d ms", method, target, HC_IO_TIMEOUT_MS);
    if (r->status != status)
        fail_msg("%s %.200s: status %d, expected %d: %.500s", method, target, r->status, status,
                 r->body ? r->body : "");
}

/* Sends GET .../Events and reads the head: true when the transport worked. */
bool sse_open(sse_reader *s, hconn *c, const char *target, const char *auth)
{
    memset(s, 0, sizeof *s);
    s->c = c;
    if (!hc_send_request(c, "GET", target, auth, NULL, NULL, 0, "Accept: text/event-stream\r\n"))
        return false;
    if (!hc_read_head(c, &s->head, lb_now_ms() + HC_IO_TIMEOUT_MS))
        return false;
    return body_append(&s->head, "", 0);
}

void sse_close(sse_reader *s) { hresp_free(&s->head); }

/* The next event: 1 an event, 0 the stream ended cleanly, -1 nothing within timeout_ms (or a
 * malformed stream), -2 the connection closed without the last chunk. */
int sse_next(sse_reader *s, sse_event *ev, int timeout_ms)
{
    int64_t deadline = lb_now_ms() + timeout_ms;
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
