/* SPDX-License-Identifier: MIT */
/*
 * soak.c: N minutes of mixed churn against build/syncfake-server, with its RSS over time.
 *
 *   soak [SERVER] [--minutes N | --seconds N] [--rate CYCLES_PER_S] [--pool N]
 *        [--threshold-kb N] [--valgrind] [--seed N] [--server-log FILE] [--heap-count LIB]
 *
 * The program starts the server (`--port 0 --clock manual --limit publish_rate_per_s=0`) and
 * runs cycles until the time is up. One cycle, on one keep-alive REST connection:
 *
 *   create a stream (every other one with a Ttl of 1-8 s, left to expire), list the streams,
 *   fetch it, update its Ttl, publish to it; open a server-sent-event subscription to it
 *   (/_syncfake/Services/{IS}/Streams/{TO}/Events), publish, read the event, disconnect; mint
 *   an access token, open a WebSocket, Twilsock init, subscribe to the stream, publish, read
 *   the notification, disconnect (a close frame or a dropped socket, in turn); publish to a
 *   shared stream; move the fake's clock 250 ms (POST /_syncfake/clock AdvanceMs); delete the
 *   stream unless it was left to expire.
 *
 * A pool of --pool (default 8) WebSocket and as many event-stream connections stays
 * subscribed to the shared stream; each cycle drains them without blocking and replaces one
 * of each, so long-lived and short-lived subscribers mix. Every answer's status is checked;
 * a 5xx, an unexpected status or a lost connection ends the run with status 1.
 *
 * The server's VmRSS (/proc/PID/status) is sampled every 1/20 of the run and printed as a
 * table. The run plateaus when RSS grows by at most --threshold-kb (default 1024) from the
 * sample at half time to the largest later sample; otherwise the exit status is 1. The first
 * half absorbs the expected growth: the journal (a ring of 65,536 entries of 88 bytes, grown
 * by doubling) fills within the first 65,536 journaled calls, the 1,024 retained
 * unsubscribed subscriber records fill, and the allocator settles. --heap-count LIB preloads
 * bench/preload/heap_count.c's library into the server and adds its live heap to the table:
 * growing with RSS, a leak or an unbounded structure; flat, the allocator.
 * --valgrind runs the server under valgrind's leak checker instead (RSS is then valgrind's):
 * a definite or indirect leak at exit makes the server's status, and so the run, fail.
 */
#define _GNU_SOURCE
#include "heap_count.h"
#include "loopback.h"
#include "twilsock_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SAMPLES 20
#define CLOCK_STEP_MS 250
#define IO_WAIT_MS 5000 /* one answer, event or frame: longer is a failure */
#define POOL_MAX 64
#define WS_IN_CAP (256 * 1024)
#define REST_IN_CAP (1024 * 1024)

static struct {
    const char *server, *server_log, *heap_lib;
    unsigned seconds, rate, pool, threshold_kb;
    bool valgrind;
    uint64_t seed;
} opt = {NULL, NULL, NULL, 600, 200, 8, 1024, false, 1};

static struct {
    uint64_t cycles, requests, sse_opened, ws_opened, pool_reopened, events, notifications;
} count;

static char service_sid[64], hub_sid[64];

/* ---------------------------------------------------------------------------------------- */
/* Waiting for bytes                                                                         */
/* ---------------------------------------------------------------------------------------- */

/* recv() once, waiting up to IO_WAIT_MS; the bytes read, 0 at end of stream. */
static size_t recv_wait(int fd, void *buf, size_t cap, const char *what)
{
    int64_t end = lb_now_ns() + IO_WAIT_MS * 1000000LL;
    for (;;) {
        lb_check_deadline(what);
        int left = (int)((end - lb_now_ns()) / 1000000);
        if (left <= 0)
            lb_die("%s: nothing from the server for %d ms", what, IO_WAIT_MS);
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, left < 100 ? left : 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            lb_die("%s: recv: %s", what, strerror(errno));
        return (size_t)n;
    }
}

static int connect_blocking(void)
{
    int fd = lb_tcp_socket(false);
    if (!lb_tcp_connect(fd))
        lb_die("connect: %s", strerror(errno));
    return fd;
}

/* ---------------------------------------------------------------------------------------- */
/* REST on one keep-alive connection                                                         */
/* ---------------------------------------------------------------------------------------- */

static struct {
    int fd;
    char in[REST_IN_CAP];
    size_t len;
} rest = {.fd = -1};

/* Reads one whole answer; its status, *body (in rest.in) NUL-ended, *used its size. */
static int rest_read(const char *path, char **body, size_t *used, bool *closing)
{
    for (;;) {
        rest.in[rest.len] = '\0';
        char *sep = strstr(rest.in, "\r\n\r\n");
        char *cl = sep ? strcasestr(rest.in, "\r\nContent-Length:") : NULL;
        bool empty = strncmp(rest.in, "HTTP/1.1 204 ", 13) == 0; /* no body, no length */
        if (sep && !empty && (!cl || cl > sep))
            lb_die("%s: answer without Content-Length: %.400s", path, rest.in);
        size_t body_len = sep && !empty ? strtoul(cl + 17, NULL, 10) : 0;
        size_t total = sep ? (size_t)(sep + 4 - rest.in) + body_len : 0;
        if (sep && rest.len >= total) {
            int status = 0;
            sscanf(rest.in, "HTTP/1.%*d %d", &status);
            *closing = strcasestr(rest.in, "\r\nConnection: close") != NULL;
            *body = sep + 4;
            *used = total;
            return status;
        }
        if (rest.len + 1 >= sizeof rest.in)
            lb_die("%s: answer over %d bytes", path, REST_IN_CAP);
        size_t n = recv_wait(rest.fd, rest.in + rest.len, sizeof rest.in - 1 - rest.len, path);
        if (n == 0)
            lb_die("%s: the server closed the REST connection mid-answer", path);
        rest.len += n;
    }
}

/* One request; the status must be `want`. The body is copied to out (may be NULL). */
static void api(const char *method, const char *path, const char *form, int want, char *out,
                size_t cap)
{
    if (rest.fd < 0) {
        rest.fd = connect_blocking();
        rest.len = 0;
    }
    char req[4096];
    size_t flen = form ? strlen(form) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nAuthorization: %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, (unsigned)lb_srv.port, lb_srv.basic, flen, form ? form : "");
    if (n <= 0 || (size_t)n >= sizeof req)
        lb_die("request too long");
    lb_send_all(rest.fd, req, (size_t)n, path);
    count.requests++;
    char *body;
    size_t used;
    bool closing;
    int status = rest_read(path, &body, &used, &closing);
    if (status != want)
        lb_die("%s %s answered %d (want %d): %.300s", method, path, status, want, body);
    if (out) {
        size_t blen = used - (size_t)(body - rest.in);
        snprintf(out, cap, "%.*s", (int)blen, body);
    }
    memmove(rest.in, rest.in + used, rest.len - used);
    rest.len -= used;
    if (closing) { /* the server ends keep-alive connections now and then */
        close(rest.fd);
        rest.fd = -1;
    }
}

static void publish(const char *stream, uint64_t n)
{
    char path[256], form[128];
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s/Messages", service_sid, stream);
    snprintf(form, sizeof form, "Data=%%7B%%22n%%22%%3A%" PRIu64 "%%7D", n);
    api("POST", path, form, 201, NULL, 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Server-sent events                                                                        */
/* ---------------------------------------------------------------------------------------- */

/* Opens an event stream on `stream` and reads up to its "subscribed" event. */
static int sse_open(const char *stream)
{
    int fd = connect_blocking();
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /_syncfake/Services/%s/Streams/%s/Events HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%u\r\nAuthorization: %s\r\nAccept: text/event-stream\r\n\r\n",
                     service_sid, stream, (unsigned)lb_srv.port, lb_srv.basic);
    lb_send_all(fd, req, (size_t)n, "event stream");
    char in[8192];
    size_t len = 0;
    while (!memmem(in, len, "event: subscribed", 17) || !memmem(in, len, "}\n\n", 3)) {
        if (len == sizeof in)
            lb_die("event stream: oversized start");
        size_t r = recv_wait(fd, in + len, sizeof in - len, "event stream");
        if (r == 0)
            lb_die("event stream: closed before `subscribed`: %.*s", (int)len, in);
        len += r;
    }
    if (strncmp(in, "HTTP/1.1 200", 12) != 0)
        lb_die("event stream refused: %.*s", (int)len, in);
    count.sse_opened++;
    return fd;
}

/* Reads until a message_published event arrives. */
static void sse_expect_event(int fd)
{
    char in[8192];
    size_t len = 0;
    while (!memmem(in, len, "event: message_published", 24) || !memmem(in, len, "}\n\n", 3)) {
        if (len == sizeof in)
            len = 0; /* chunked framing and other events: keep looking */
        size_t r = recv_wait(fd, in + len, sizeof in - len, "event stream");
        if (r == 0)
            lb_die("event stream: closed before the event");
        len += r;
    }
    count.events++;
}

/* Reads what is there without waiting; false when the server closed the stream. */
static bool drain(int fd)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* WebSocket + Twilsock                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct ws_client {
    int fd; /* -1: not open */
    uint8_t *in;
    size_t len, used; /* used: the bytes of the frame handed out last, dropped next time */
} ws_client;

static void ws_send(int fd, int opcode, const uint8_t *data, size_t len)
{
    uint8_t *frame = malloc(len + 14), mask[4];
    if (!frame)
        lb_die("out of memory");
    size_t hl = lb_ws_frame_head(opcode, len, frame, mask);
    for (size_t i = 0; i < len; i++)
        frame[hl + i] = data[i] ^ mask[i & 3];
    lb_send_all(fd, frame, hl + len, "websocket");
    free(frame);
}

static void ts_send(int fd, const char *header, const char *payload)
{
    size_t n;
    uint8_t *frame = sf_ts_build(header, payload, strlen(payload), &n);
    if (!frame)
        lb_die("sf_ts_build failed");
    ws_send(fd, 2, frame, n);
    free(frame);
}

/* A whole frame at the start of c->in: its length, 0 if incomplete. */
static size_t ws_frame_at(const ws_client *c, int *opcode, const uint8_t **data, size_t *len)
{
    const uint8_t *b = c->in;
    if (c->len < 2)
        return 0;
    uint64_t n = b[1] & 0x7f;
    size_t hl = 2;
    if (n == 126 && c->len >= 4) {
        n = (uint64_t)b[2] << 8 | b[3];
        hl = 4;
    } else if (n == 127 && c->len >= 10) {
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | b[2 + i];
        hl = 10;
    } else if (n >= 126) {
        return 0;
    }
    if (hl + n > WS_IN_CAP)
        lb_die("websocket: frame of %" PRIu64 " bytes", n);
    if (c->len < hl + n)
        return 0;
    *opcode = b[0] & 0x0f;
    *data = b + hl;
    *len = (size_t)n;
    return hl + (size_t)n;
}

/* The next data frame (pings answered on the way): 1, 0 when none came (without waiting when
 * !wait) or -1 when the server closed (a close frame or end of stream). */
static int ws_next(ws_client *c, bool wait, const uint8_t **data, size_t *len)
{
    memmove(c->in, c->in + c->used, c->len - c->used);
    c->len -= c->used;
    c->used = 0;
    for (;;) {
        int opcode;
        size_t whole = ws_frame_at(c, &opcode, data, len);
        if (whole) {
            c->used = whole;
            if (opcode == 8)
                return -1;
            if (opcode == 1 || opcode == 2)
                return 1;
            if (opcode == 9)
                ws_send(c->fd, 10, *data, *len);
            memmove(c->in, c->in + whole, c->len - whole); /* a control frame: next */
            c->len -= whole;
            c->used = 0;
            continue;
        }
        ssize_t n = wait
                        ? (ssize_t)recv_wait(c->fd, c->in + c->len, WS_IN_CAP - c->len, "websocket")
                        : recv(c->fd, c->in + c->len, WS_IN_CAP - c->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

/* Waits for a Twilsock frame whose header or payload holds `needle`. */
static void ws_expect(ws_client *c, const char *needle, const char *what)
{
    const uint8_t *data;
    size_t len;
    for (;;) {
        int r = ws_next(c, true, &data, &len);
        if (r < 0)
            lb_die("websocket closed while waiting for %s", what);
        if (memmem(data, len, "subscription_failed", 19) || memmem(data, len, "\"code\":4", 8) ||
            memmem(data, len, "\"code\":5", 8))
            lb_die("websocket: %s refused: %.*s", what, (int)(len < 400 ? len : 400), data);
        if (memmem(data, len, needle, strlen(needle)))
            return;
    }
}

/* The WebSocket handshake, Twilsock init and a subscription to `stream`, established. */
static void ws_open(ws_client *c, const char *stream)
{
    char body[8192], token[4096], form[256], key[25], accept[29], req[512];
    snprintf(form, sizeof form, "Identity=soak&ServiceSid=%s&Ttl=3600", service_sid);
    api("POST", "/_syncfake/tokens", form, 201, body, sizeof body);
    if (!lb_json_str(body, "token", token, sizeof token))
        lb_die("no token in %s", body);
    c->fd = connect_blocking();
    c->len = c->used = 0;
    lb_ws_key(key, accept);
    lb_send_all(c->fd, req, lb_ws_upgrade_request("/v3/wsconnect", key, req, sizeof req),
                "upgrade");
    uint8_t *sep;
    while (!(sep = memmem(c->in, c->len, "\r\n\r\n", 4))) {
        size_t n = recv_wait(c->fd, c->in + c->len, 8192 - c->len, "upgrade");
        if (n == 0 || (c->len += n) == 8192)
            lb_die("upgrade: no answer");
    }
    if (strncmp((char *)c->in, "HTTP/1.1 101", 12) != 0 || !memmem(c->in, c->len, accept, 28))
        lb_die("upgrade refused: %.*s", (int)(sep - c->in), c->in);
    c->used = (size_t)(sep + 4 - c->in);
    char header[sizeof token + 256], payload[512];
    snprintf(header, sizeof header, "{\"method\":\"init\",\"id\":\"TMsoakinit\",\"token\":\"%s\"}",
             token);
    ts_send(c->fd, header, "");
    ws_expect(c, "\"method\":\"reply\"", "the init reply");
    snprintf(header, sizeof header,
             "{\"method\":\"message\",\"id\":\"TMsoaksub\",\"http_request\":{\"host\":"
             "\"127.0.0.1\",\"path\":\"/v4/Subscriptions\",\"method\":\"POST\",\"params\":{},"
             "\"headers\":{\"Content-Type\":\"application/json\"}},\"payload_type\":"
             "\"application/json\"}");
    snprintf(payload, sizeof payload,
             "{\"event_protocol_version\":4,\"action\":\"establish\",\"correlation_id\":1,"
             "\"requests\":[{\"object_sid\":\"%s\",\"object_type\":\"stream\","
             "\"last_event_id\":0}]}",
             stream);
    ts_send(c->fd, header, payload);
    ws_expect(c, "subscription_established", "subscription_established");
    count.ws_opened++;
}

/* Ends the connection: a close frame and its answer, or just the socket. */
static void ws_end(ws_client *c, bool graceful)
{
    if (graceful) {
        static const uint8_t normal[2] = {0x03, 0xe8}; /* 1000 */
        ws_send(c->fd, 8, normal, 2);
        const uint8_t *data;
        size_t len;
        while (ws_next(c, true, &data, &len) > 0) {
        }
    }
    close(c->fd);
    c->fd = -1;
}

/* ---------------------------------------------------------------------------------------- */
/* One cycle, the pool                                                                       */
/* ---------------------------------------------------------------------------------------- */

static ws_client pool_ws[POOL_MAX];
static int pool_sse[POOL_MAX];

/* Creates, lists, fetches, updates a stream; returns whether it was left to expire. */
static bool stream_rest(char *sid, size_t cap)
{
    char path[256], form[64], body[8192];
    bool expiring = count.cycles % 2;
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", service_sid);
    snprintf(form, sizeof form, "Ttl=%u", 1 + lb_rnd32() % 8);
    api("POST", path, expiring ? form : NULL, 201, body, sizeof body);
    if (!lb_json_str(body, "sid", sid, cap))
        lb_die("no stream sid in %s", body);
    api("GET", path, NULL, 200, NULL, 0);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", service_sid, sid);
    api("GET", path, NULL, 200, NULL, 0);
    if (!expiring)
        api("POST", path, "Ttl=3600", 200, NULL, 0);
    return expiring;
}

static void cycle(void)
{
    char sid[64], path[256];
    bool expiring = stream_rest(sid, sizeof sid);
    publish(sid, count.cycles);

    int sse = sse_open(sid);
    publish(sid, count.cycles);
    sse_expect_event(sse);
    close(sse);

    static ws_client ws;
    if (!ws.in && !(ws.in = malloc(WS_IN_CAP)))
        lb_die("out of memory");
    ws_open(&ws, sid);
    publish(sid, count.cycles);
    ws_expect(&ws, "stream_message_published", "the notification");
    count.notifications++;
    ws_end(&ws, count.cycles % 2 == 0);

    publish(hub_sid, count.cycles);
    char form[32];
    snprintf(form, sizeof form, "AdvanceMs=%d", CLOCK_STEP_MS);
    api("POST", "/_syncfake/clock", form, 200, NULL, 0);
    if (!expiring) {
        snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", service_sid, sid);
        api("DELETE", path, NULL, 204, NULL, 0);
    }
    count.cycles++;
}

/* Drains every pool connection, reopens the closed ones and replaces one of each kind. */
static void pool_tend(void)
{
    unsigned swap_ws = opt.pool ? lb_rnd32() % opt.pool : 0;
    unsigned swap_sse = opt.pool ? lb_rnd32() % opt.pool : 0;
    for (unsigned i = 0; i < opt.pool; i++) {
        ws_client *c = &pool_ws[i];
        const uint8_t *data;
        size_t len;
        int r = 0;
        while (c->fd >= 0 && (r = ws_next(c, false, &data, &len)) > 0) {
        }
        if (c->fd >= 0 && (r < 0 || i == swap_ws)) {
            count.pool_reopened += r < 0;
            ws_end(c, false);
        }
        if (c->fd < 0)
            ws_open(c, hub_sid);
        bool open = pool_sse[i] >= 0 && drain(pool_sse[i]);
        if (pool_sse[i] >= 0 && (!open || i == swap_sse)) {
            count.pool_reopened += !open;
            close(pool_sse[i]);
            pool_sse[i] = -1;
        }
        if (pool_sse[i] < 0)
            pool_sse[i] = sse_open(hub_sid);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* RSS samples, verdict                                                                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct sample {
    double t_s;
    uint64_t cycles, requests;
    long rss_kb, anon_kb, hwm_kb;
    long heap_kb, blocks; /* the live heap (--heap-count); -1 unknown */
} sample;

static sample samples[SAMPLES + 1];
static const sf_heap_counts *heap; /* the server's, with --heap-count */
static const char *unlink_at_exit; /* its file */
static size_t nsamples;

/* A "Name:   N kB" line of /proc/PID/status; -1 if missing. */
static long status_kb(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static void take_sample(double t_s)
{
    char path[64], text[8192];
    snprintf(path, sizeof path, "/proc/%d/status", (int)lb_srv.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        lb_die("cannot read %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    sample *s = &samples[nsamples++];
    *s = (sample){.t_s = t_s,
                  .cycles = count.cycles,
                  .requests = count.requests,
                  .rss_kb = status_kb(text, "\nVmRSS:"),
                  .anon_kb = status_kb(text, "\nRssAnon:"),
                  .hwm_kb = status_kb(text, "\nVmHWM:"),
                  .heap_kb = -1,
                  .blocks = -1};
    if (heap && heap->magic == SF_HEAP_COUNT_MAGIC) {
        s->heap_kb = (long)(__atomic_load_n(&heap->live_bytes, __ATOMIC_RELAXED) / 1024);
        s->blocks = (long)__atomic_load_n(&heap->live_blocks, __ATOMIC_RELAXED);
    }
    printf("  %7.1f %9" PRIu64 " %10" PRIu64 " %10ld %10ld %10ld %10ld %10ld\n", s->t_s, s->cycles,
           s->requests, s->rss_kb, s->anon_kb, s->hwm_kb, s->heap_kb, s->blocks);
    fflush(stdout);
}

/* From the half-time sample to the largest later value of a field (kB). */
static long second_half_growth(size_t field_offset)
{
    const char *mid = (const char *)&samples[nsamples / 2];
    long base = *(const long *)(mid + field_offset), peak = base;
    for (size_t i = nsamples / 2; i < nsamples; i++) {
        long v = *(const long *)((const char *)&samples[i] + field_offset);
        peak = v > peak ? v : peak;
    }
    return peak - base;
}

/* Whether RSS grew by at most the threshold in the second half; says why when not. */
static bool verdict(void)
{
    const sample *mid = &samples[nsamples / 2], *last = &samples[nsamples - 1];
    long growth = second_half_growth(offsetof(sample, rss_kb));
    printf("\nsoak: %" PRIu64 " cycles, %" PRIu64 " requests, %" PRIu64
           " event streams and %" PRIu64 " WebSockets opened (%" PRIu64
           " pool connections ended by the server), %" PRIu64 " events and %" PRIu64
           " notifications checked\n",
           count.cycles, count.requests, count.sse_opened, count.ws_opened, count.pool_reopened,
           count.events, count.notifications);
    printf("soak: RSS %ld kB at start, %ld kB at half time (%.0f s), %ld kB at the end; "
           "second half growth %ld kB (threshold %u kB)\n",
           samples[0].rss_kb, mid->rss_kb, mid->t_s, last->rss_kb, growth, opt.threshold_kb);
    if (mid->heap_kb >= 0)
        printf("soak: live heap %ld kB at half time, %ld kB at the end; second half growth "
               "%ld kB\n",
               mid->heap_kb, last->heap_kb, second_half_growth(offsetof(sample, heap_kb)));
    if (mid->requests < 65536)
        printf("soak: only %" PRIu64 " requests by half time: the journal (65,536 entries) may "
               "still have been filling; run longer\n",
               mid->requests);
    bool ok = growth <= (long)opt.threshold_kb;
    if (ok)
        printf("soak: PLATEAU\n");
    else if (mid->heap_kb < 0)
        printf("soak: NO PLATEAU (RSS still growing in the second half)\n");
    else
        printf("soak: NO PLATEAU: %s\n",
               second_half_growth(offsetof(sample, heap_kb)) > (long)opt.threshold_kb
                   ? "the live heap grows too (a leak or an unbounded structure)"
                   : "the live heap is flat (the allocator keeps what was freed)");
    return ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Main                                                                                      */
/* ---------------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: soak [SERVER] [--minutes N | --seconds N] [--rate CYCLES_PER_S] "
                    "[--pool N] [--threshold-kb N] [--valgrind] [--seed N] [--server-log FILE] "
                    "[--heap-count LIB]\n");
    exit(2);
}

static unsigned parse_uint(const char *s, unsigned min, unsigned max)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v < min || v > max)
        usage();
    return (unsigned)v;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--minutes") == 0 && ++i)
            opt.seconds = 60 * parse_uint(v, 1, 24 * 60);
        else if (strcmp(a, "--seconds") == 0 && ++i)
            opt.seconds = parse_uint(v, 10, 24 * 3600);
        else if (strcmp(a, "--rate") == 0 && ++i)
            opt.rate = parse_uint(v, 0, 100000);
        else if (strcmp(a, "--pool") == 0 && ++i)
            opt.pool = parse_uint(v, 0, POOL_MAX);
        else if (strcmp(a, "--threshold-kb") == 0 && ++i)
            opt.threshold_kb = parse_uint(v, 0, 1u << 30);
        else if (strcmp(a, "--seed") == 0 && ++i)
            opt.seed = parse_uint(v, 1, UINT32_MAX);
        else if (strcmp(a, "--server-log") == 0 && v && ++i)
            opt.server_log = v;
        else if (strcmp(a, "--heap-count") == 0 && v && ++i)
            opt.heap_lib = v;
        else if (strcmp(a, "--valgrind") == 0)
            opt.valgrind = true;
        else if (a[0] != '-' && !opt.server)
            opt.server = a;
        else
            usage();
    }
    if (!opt.server)
        opt.server = getenv("SYNCFAKE_SERVER");
    if (!opt.server || !*opt.server)
        opt.server = "build/syncfake-server";
}

/* The server gets the counting library and a file for its counts, which we map. */
static void map_heap_counts(void)
{
    static char path[64];
    if (opt.valgrind)
        lb_die("--heap-count and --valgrind do not mix (both replace malloc)");
    if (access(opt.heap_lib, R_OK) != 0)
        lb_die("%s: not readable (build it: make)", opt.heap_lib);
    snprintf(path, sizeof path, "/tmp/sf-soak-heap.%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    void *page = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, 4096) == 0)
        page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    if (page == MAP_FAILED)
        lb_die("cannot map %s: %s", path, strerror(errno));
    unlink_at_exit = path;
    heap = page;
    setenv(SF_HEAP_COUNT_ENV, path, 1);
    setenv("LD_PRELOAD", opt.heap_lib, 1);
}

static void start(void)
{
    static const char *const args[] = {"--clock", "manual", "--limit", "publish_rate_per_s=0",
                                       NULL};
    static const char *const valgrind[] = {"valgrind",
                                           "--quiet",
                                           "--leak-check=full",
                                           "--show-leak-kinds=definite,indirect",
                                           "--errors-for-leak-kinds=definite,indirect",
                                           "--error-exitcode=99",
                                           NULL};
    if (opt.valgrind)
        lb_set_stop_wait_ms(120000); /* the leak check runs at exit */
    lb_server_stderr = opt.server_log;
    if (opt.heap_lib)
        map_heap_counts();
    lb_start_server(opt.valgrind ? valgrind : NULL, opt.server, args);
    unsetenv("LD_PRELOAD"); /* only the server is counted */
    lb_seed(opt.seed);
    char body[8192], path[128];
    api("POST", "/v1/Services", "FriendlyName=soak", 201, body, sizeof body);
    if (!lb_json_str(body, "sid", service_sid, sizeof service_sid))
        lb_die("no service sid in %s", body);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", service_sid);
    api("POST", path, "UniqueName=hub", 201, body, sizeof body);
    if (!lb_json_str(body, "sid", hub_sid, sizeof hub_sid))
        lb_die("no stream sid in %s", body);
    for (unsigned i = 0; i < opt.pool; i++) {
        pool_ws[i].fd = -1;
        pool_sse[i] = -1;
        if (!(pool_ws[i].in = malloc(WS_IN_CAP)))
            lb_die("out of memory");
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    lb_init("soak", opt.seconds + 300);
    if (access(opt.server, X_OK) != 0)
        lb_die("%s is not an executable (build it: make)", opt.server);
    start();
    printf("soak: %s (pid %d) on port %u for %u s, %u cycles/s%s, pool %u+%u%s\n", opt.server,
           (int)lb_srv.pid, (unsigned)lb_srv.port, opt.seconds, opt.rate,
           opt.rate ? "" : " (unpaced)", opt.pool, opt.pool,
           opt.valgrind ? ", under valgrind" : "");
    printf("\n  %7s %9s %10s %10s %10s %10s %10s %10s\n", "t_s", "cycles", "requests", "VmRSS_kB",
           "RssAnon_kB", "VmHWM_kB", "heap_kB", "blocks");
    int64_t t0 = lb_now_ns(), end = t0 + (int64_t)opt.seconds * 1000000000LL;
    int64_t every = (end - t0) / SAMPLES, next_sample = t0;
    for (;;) {
        int64_t t = lb_now_ns();
        if (t >= next_sample) {
            take_sample((double)(t - t0) / 1e9);
            next_sample += every;
            if (nsamples == SAMPLES + 1)
                break;
        }
        int64_t due = opt.rate ? t0 + (int64_t)(count.cycles * 1e9 / opt.rate) : t;
        if (due > t) {
            int64_t wait = due - t < next_sample - t ? due - t : next_sample - t;
            nanosleep(&(struct timespec){0, wait > 0 ? (long)(wait % 1000000000) : 0}, NULL);
            continue;
        }
        pool_tend();
        cycle();
    }
    bool ok = verdict();
    for (unsigned i = 0; i < opt.pool; i++) {
        if (pool_ws[i].fd >= 0)
            ws_end(&pool_ws[i], false);
        if (pool_sse[i] >= 0)
            close(pool_sse[i]);
    }
    if (rest.fd >= 0)
        close(rest.fd);
    bool clean = lb_stop_server();
    if (unlink_at_exit)
        unlink(unlink_at_exit);
    if (!clean)
        printf("soak: the server did not stop cleanly%s%s%s\n",
               opt.valgrind ? " (under valgrind: a leak or an error)" : "",
               opt.server_log ? "; its stderr is in " : "", opt.server_log ? opt.server_log : "");
    return ok && clean ? 0 : 1;
}
