/* SPDX-License-Identifier: MIT */
/*
 * ws_fanout.c: Twilsock fan-out of build/syncfake-server, end to end over loopback.
 *
 *   ws_fanout [SERVER] [--conns N] [--messages N] [--rate PER_S] [--ack] [--timeout S]
 *             [--out FILE] [--name PREFIX]
 *
 * SERVER defaults to $SYNCFAKE_SERVER, then build/syncfake-server. The program starts it
 * (fork + exec, `--port 0 --clock wall --limit publish_rate_per_s=0`), reads its banner,
 * creates a service and a stream and mints one access token over REST, then opens N
 * WebSocket connections (default 1,000) to /v3/wsconnect. Each sends Twilsock `init` and,
 * once that is answered 200, a tunnelled POST /v4/Subscriptions establishing a subscription
 * to the stream; the run waits until every connection got `subscription_established`.
 *
 * Then it publishes M messages (default 200) over REST on one keep-alive connection, one
 * after another (the next request goes out when the previous answer is in; --rate paces them
 * instead), each with its sequence number and send time in the data. One thread and one
 * epoll set read every connection; each delivery is timed as its receive time minus the start
 * of its publish request (CLOCK_MONOTONIC). Reported:
 *
 *   ws_fanout_deliveries_per_s   all deliveries / (last delivery - first publish start)
 *   ws_fanout_p50_ms             publish-to-receive latency, median over every delivery
 *   ws_fanout_p99_ms             the same, 99th percentile
 *
 * (--name PREFIX replaces "ws_fanout" in those names.)
 *
 * Targets: >= 100,000 deliveries/s and p99 < 20 ms, both in one run: bench/http.sh paces 105
 * publishes/s (105,000 deliveries/s) for them. Back to back, the publisher outruns the
 * fan-out, messages queue, and p99 measures that queue (bench/http.sh reports that run's rate
 * as the ceiling). Every connection must receive every
 * message exactly once: missing and duplicate counts are printed and make the exit status 1.
 * The figures are appended to the JSON array in FILE (default build/bench-http.json, which
 * bench/http.sh writes first), or a new array is written when the file is missing.
 *
 * Client frames are masked (RFC 6455 section 5.3); server pings are answered with pongs.
 * --ack makes every connection answer each notification with a Twilsock `reply`, as the JS
 * SDK does (the server ignores them; they add load). Everything is bounded: the whole run is
 * aborted with a message after --timeout seconds (default 60), and the server is killed.
 */
#define _GNU_SOURCE
#include "bench_json.h"
#include "loopback.h"
#include "rest_pub.h"
#include "twilsock_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TARGET_DELIVERIES_PER_S 100000.0
#define TARGET_P99_MS 20.0
#define SETUP_WINDOW 200          /* connections being set up at once */
#define DRAIN_AFTER_LAST_MS 10000 /* after the last publish answer: wait this long at most */
#define SETUP_STALL_MS 10000      /* no connection subscribed for this long: give up */
#define IN_MAX (SF_TS_MAX_FRAME + 64 * 1024)
#define WS_PATH "/v3/wsconnect"

/* ---------------------------------------------------------------------------------------- */
/* Options, time, failure                                                                    */
/* ---------------------------------------------------------------------------------------- */

static struct {
    const char *server, *out;
    unsigned conns, messages;
    double rate; /* publishes/s; 0: back to back */
    bool ack;
    unsigned timeout_s;
    const char *name; /* prefix of the figures' names */
} opt = {NULL, "build/bench-http.json", 1000, 200, 0, false, 60, "ws_fanout"};

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* ---------------------------------------------------------------------------------------- */
/* WebSocket client connections                                                              */
/* ---------------------------------------------------------------------------------------- */

enum { ST_CONNECTING, ST_HANDSHAKE, ST_INIT, ST_SUBSCRIBING, ST_READY };

typedef struct conn {
    int fd;
    unsigned idx;
    int state;
    bool want_out;    /* EPOLLOUT registered */
    bool sub_replied; /* the Subscriptions request was answered 200 */
    char accept[29];  /* expected Sec-WebSocket-Accept */
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *frag; /* a fragmented message being put together */
    size_t frag_len;
    int frag_opcode;
    uint8_t *out; /* bytes not yet accepted by the socket */
    size_t out_len, out_cap;
    unsigned received, duplicates;
} conn;

static conn *conns;
static int ep;
static char service_sid[64], stream_sid[64], token[4096];
static rest_pub pub; /* the publisher (rest_pub.h), in the same epoll set */

/* Results. */
static uint8_t *seen;  /* [conn * messages + seq] */
static double *lat_ms; /* one per delivery */
static size_t nlat;
static int64_t last_delivery_ns;
static uint64_t deliveries, duplicates, foreign, pings;

static void ep_mod(conn *c, bool want_out)
{
    if (c->want_out == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u32 = c->idx};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        lb_die("epoll_ctl: %s", strerror(errno));
    c->want_out = want_out;
}

static void conn_flush(conn *c)
{
    while (c->out_len) {
        ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            lb_die("connection %u: send: %s", c->idx, strerror(errno));
        memmove(c->out, c->out + n, c->out_len - (size_t)n);
        c->out_len -= (size_t)n;
    }
    ep_mod(c, c->out_len != 0);
}

static void conn_queue(conn *c, const void *data, size_t len)
{
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + len)
            cap *= 2;
        uint8_t *o = realloc(c->out, cap);
        if (!o)
            lb_die("out of memory");
        c->out = o;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
}

/* One masked client frame (FIN set). */
static void ws_send(conn *c, int opcode, const uint8_t *data, size_t len)
{
    uint8_t h[14], mask[4];
    size_t hl = lb_ws_frame_head(opcode, len, h, mask);
    conn_queue(c, h, hl);
    size_t at = c->out_len;
    conn_queue(c, data, len);
    for (size_t i = 0; i < len; i++)
        c->out[at + i] ^= mask[i & 3];
}

static void ts_send(conn *c, const char *header, const char *payload)
{
    size_t n;
    uint8_t *frame = sf_ts_build(header, payload, strlen(payload), &n);
    if (!frame)
        lb_die("sf_ts_build failed");
    ws_send(c, 2, frame, n);
    free(frame);
    conn_flush(c);
}

static void send_init(conn *c)
{
    char header[sizeof token + 128];
    snprintf(header, sizeof header,
             "{\"method\":\"init\",\"id\":\"TM%030" PRIx32 "00\","
             "\"token\":\"%s\"}",
             (uint32_t)c->idx, token);
    ts_send(c, header, "");
}

static void send_subscribe(conn *c)
{
    char header[512], payload[256];
    snprintf(header, sizeof header,
             "{\"method\":\"message\",\"id\":\"TM%030" PRIx32 "01\",\"http_request\":"
             "{\"host\":\"127.0.0.1\",\"path\":\"/v4/Subscriptions\",\"method\":\"POST\","
             "\"params\":{},\"headers\":{\"Content-Type\":\"application/json\"}},"
             "\"payload_type\":\"application/json\"}",
             (uint32_t)c->idx);
    snprintf(payload, sizeof payload,
             "{\"event_protocol_version\":4,\"action\":\"establish\",\"correlation_id\":1,"
             "\"requests\":[{\"object_sid\":\"%s\",\"object_type\":\"stream\","
             "\"last_event_id\":0}]}",
             stream_sid);
    ts_send(c, header, payload);
}

static void conn_open(unsigned i)
{
    conn *c = &conns[i];
    c->idx = i;
    c->fd = lb_tcp_socket(true);
    if (!lb_tcp_connect(c->fd))
        lb_die("connection %u: connect: %s", i, strerror(errno));
    c->state = ST_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        lb_die("epoll_ctl: %s", strerror(errno));
    c->want_out = true;
    c->in_cap = 16384;
    c->in = malloc(c->in_cap);
    if (!c->in)
        lb_die("out of memory");
}

static void send_upgrade(conn *c)
{
    char key[25], req[512];
    lb_ws_key(key, c->accept);
    size_t n = lb_ws_upgrade_request(WS_PATH, key, req, sizeof req);
    conn_queue(c, req, n);
    c->state = ST_HANDSHAKE;
    conn_flush(c);
}

static unsigned ready_count, setting_up;

/* A Twilsock message cut in two: its header and its payload. */
typedef struct ts_parts {
    const char *hdr, *payload;
    size_t hlen, plen;
} ts_parts;

/* The payload_size in a Twilsock header matches what follows it. */
static bool ts_split(const uint8_t *m, size_t len, ts_parts *p)
{
    static const char pre[] = "TWILSOCK V3.0 ";
    if (len < sizeof pre || memcmp(m, pre, sizeof pre - 1) != 0)
        return false;
    size_t i = sizeof pre - 1, h = 0;
    while (i < len && m[i] >= '0' && m[i] <= '9' && h < SF_TS_MAX_HEADER)
        h = h * 10 + (m[i++] - '0');
    if (i + 2 > len || m[i] != '\r' || m[i + 1] != '\n' || i + 2 + h > len)
        return false;
    p->hdr = (const char *)m + i + 2;
    p->hlen = h;
    size_t at = i + 2 + h;
    if (at + 2 <= len && m[at] == '\r' && m[at + 1] == '\n')
        at += 2;
    p->payload = (const char *)m + at;
    p->plen = len - at;
    const char *ps = memmem(p->hdr, h, "\"payload_size\":", 15);
    if (!ps)
        return p->plen == 0;
    return strtoull(ps + 15, NULL, 10) == p->plen;
}

/* A delivery: {"event_type":"stream_message_published",...,"message_data":{"seq":N,...}} */
static void on_delivery(conn *c, const char *payload, size_t plen, int64_t t)
{
    const char *s = memmem(payload, plen, "\"seq\":", 6);
    char *end;
    unsigned long seq = s ? strtoul(s + 6, &end, 10) : ULONG_MAX;
    if (!memmem(payload, plen, stream_sid, strlen(stream_sid)) || seq >= opt.messages ||
        pub.start[seq] == 0) {
        foreign++;
        return;
    }
    uint8_t *mark = &seen[(size_t)c->idx * opt.messages + seq];
    if (*mark) {
        c->duplicates++;
        duplicates++;
        return;
    }
    *mark = 1;
    c->received++;
    deliveries++;
    lat_ms[nlat++] = (double)(t - pub.start[seq]) / 1e6;
    last_delivery_ns = t;
}

/* A notification while subscribing: subscription_established makes the connection ready. */
static void on_subscribe_notification(conn *c, const ts_parts *p)
{
    if (memmem(p->payload, p->plen, "\"subscription_failed\"", 21))
        lb_die("connection %u: %.*s", c->idx, (int)p->plen, p->payload);
    if (memmem(p->payload, p->plen, "\"subscription_established\"", 26) &&
        memmem(p->payload, p->plen, stream_sid, strlen(stream_sid))) {
        if (!c->sub_replied)
            lb_die("connection %u: established before the request's reply", c->idx);
        c->state = ST_READY;
        ready_count++;
        setting_up--;
    }
}

/* A frame while setting up (init or subscribing), parsed strictly as the SDK's would be. */
static void on_setup_frame(conn *c, const uint8_t *m, size_t len, const ts_parts *p)
{
    sf_ts_frame *f = malloc(sizeof *f);
    if (!f || !sf_ts_parse(m, len, f))
        lb_die("connection %u: frame refused by sf_ts_parse: %.*s", c->idx,
               (int)(len < 300 ? len : 300), (const char *)m);
    bool ok200 = memmem(p->hdr, p->hlen, "\"status\":{\"code\":200", 20) != NULL;
    if (c->state == ST_INIT && strcmp(f->method, "reply") == 0) {
        if (!ok200)
            lb_die("connection %u: init refused: %.*s", c->idx, (int)p->hlen, p->hdr);
        c->state = ST_SUBSCRIBING;
        send_subscribe(c);
    } else if (c->state == ST_SUBSCRIBING && strcmp(f->method, "reply") == 0) {
        if (!ok200 || !memmem(p->hdr, p->hlen, "\"http_status\":{\"code\":200", 25))
            lb_die("connection %u: subscription refused: %.*s %.*s", c->idx, (int)p->hlen, p->hdr,
                   (int)p->plen, p->payload);
        c->sub_replied = true;
    } else if (c->state == ST_SUBSCRIBING && strcmp(f->method, "notification") == 0) {
        on_subscribe_notification(c, p);
    } else {
        lb_die("connection %u: unexpected frame while setting up: %.*s", c->idx, (int)p->hlen,
               p->hdr);
    }
    free(f);
}

/* The SDK's automatic acknowledgement of a notification: a `reply` with its id. */
static void send_ack(conn *c, const char *hdr, size_t hlen)
{
    const char *id = memmem(hdr, hlen, "\"id\":\"", 6);
    const char *e = id ? memchr(id + 6, '"', hlen - (size_t)(id + 6 - hdr)) : NULL;
    if (!e)
        return;
    char ack[256];
    snprintf(ack, sizeof ack,
             "{\"method\":\"reply\",\"id\":\"%.*s\",\"status\":{\"code\":200,"
             "\"status\":\"OK\"}}",
             (int)(e - id - 6), id + 6);
    size_t n;
    uint8_t *frame = sf_ts_build(ack, "", 0, &n);
    if (!frame)
        lb_die("sf_ts_build failed");
    ws_send(c, 2, frame, n);
    free(frame);
    conn_flush(c);
}

/* One complete WebSocket message (binary) from the server. */
static void on_message(conn *c, const uint8_t *m, size_t len, int64_t t)
{
    ts_parts p;
    if (!ts_split(m, len, &p))
        lb_die("connection %u: malformed Twilsock frame: %.*s", c->idx,
               (int)(len < 300 ? len : 300), (const char *)m);
    bool notification = memmem(p.hdr, p.hlen, "\"method\":\"notification\"", 23) != NULL;
    if (c->state == ST_READY && notification &&
        memmem(p.payload, p.plen, "\"stream_message_published\"", 26)) {
        on_delivery(c, p.payload, p.plen, t);
    } else if (c->state == ST_INIT || c->state == ST_SUBSCRIBING) {
        on_setup_frame(c, m, len, &p);
        return;
    } else {
        foreign++;
    }
    if (opt.ack && notification)
        send_ack(c, p.hdr, p.hlen);
}

/* A WebSocket frame's head: FIN, opcode, payload length and the head's own length. */
typedef struct ws_head {
    bool fin;
    int opcode;
    uint64_t len;
    size_t hl;
} ws_head;

/* Reads the frame head at b; false when fewer than its bytes are in. */
static bool ws_read_head(const conn *c, const uint8_t *b, size_t avail, ws_head *h)
{
    if (avail < 2)
        return false;
    h->fin = b[0] & 0x80;
    h->opcode = b[0] & 0x0f;
    if (b[1] & 0x80)
        lb_die("connection %u: masked frame from the server", c->idx);
    h->len = b[1] & 0x7f;
    h->hl = 2;
    if (h->len == 126) {
        if (avail < 4)
            return false;
        h->len = (uint64_t)b[2] << 8 | b[3];
        h->hl = 4;
    } else if (h->len == 127) {
        if (avail < 10)
            return false;
        h->len = 0;
        for (int i = 0; i < 8; i++)
            h->len = h->len << 8 | b[2 + i];
        h->hl = 10;
    }
    if (h->len > IN_MAX)
        lb_die("connection %u: frame of %" PRIu64 " bytes", c->idx, h->len);
    return true;
}

/* Grows the input buffer to hold `need` bytes (a whole frame). */
static void conn_in_reserve(conn *c, size_t need)
{
    if (need <= c->in_cap)
        return;
    uint8_t *in = realloc(c->in, need);
    if (!in)
        lb_die("out of memory");
    c->in = in;
    c->in_cap = need;
}

/* A binary frame or a continuation: a whole message, or one more fragment of one. */
static void on_data_frame(conn *c, const ws_head *h, const uint8_t *data, int64_t t)
{
    if (h->opcode == 2 && h->fin && !c->frag) {
        on_message(c, data, (size_t)h->len, t);
        return;
    }
    if ((h->opcode == 0) != (c->frag != NULL))
        lb_die("connection %u: bad fragment sequence", c->idx);
    uint8_t *f = realloc(c->frag, c->frag_len + h->len + 1);
    if (!f)
        lb_die("out of memory");
    memcpy(f + c->frag_len, data, (size_t)h->len);
    c->frag = f;
    c->frag_len += (size_t)h->len;
    if (h->fin) {
        on_message(c, c->frag, c->frag_len, t);
        free(c->frag);
        c->frag = NULL;
        c->frag_len = 0;
    }
}

/* One whole frame: pings answered, pongs ignored, data passed on, anything else fatal. */
static void on_frame(conn *c, const ws_head *h, const uint8_t *data, int64_t t)
{
    if (h->opcode == 9) { /* ping */
        pings++;
        ws_send(c, 10, data, (size_t)h->len);
        conn_flush(c);
    } else if (h->opcode == 10) {
    } else if (h->opcode == 8) {
        unsigned code = h->len >= 2 ? (unsigned)data[0] << 8 | data[1] : 0;
        lb_die("connection %u: the server closed the WebSocket (code %u)", c->idx, code);
    } else if (h->opcode == 1) {
        lb_die("connection %u: text frame from the server (the SDK needs binary)", c->idx);
    } else if (h->opcode == 2 || h->opcode == 0) {
        on_data_frame(c, h, data, t);
    } else {
        lb_die("connection %u: unknown opcode %d", c->idx, h->opcode);
    }
}

/* WebSocket frames from the server (never masked). Returns the bytes used. */
static size_t parse_frames(conn *c, int64_t t)
{
    size_t off = 0;
    for (;;) {
        const uint8_t *b = c->in + off;
        size_t avail = c->in_len - off;
        ws_head h;
        if (!ws_read_head(c, b, avail, &h))
            break;
        if (avail < h.hl + h.len) {
            conn_in_reserve(c, h.hl + (size_t)h.len); /* make room for the whole frame */
            break;
        }
        off += h.hl + (size_t)h.len;
        on_frame(c, &h, b + h.hl, t);
    }
    return off;
}

static void conn_readable(conn *c)
{
    for (;;) {
        if (c->in_len == c->in_cap) {
            size_t cap = c->in_cap * 2;
            uint8_t *in = realloc(c->in, cap);
            if (!in)
                lb_die("out of memory");
            c->in = in;
            c->in_cap = cap;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        int64_t t = lb_now_ns();
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0)
            lb_die("connection %u: recv: %s", c->idx, strerror(errno));
        if (n == 0)
            lb_die("connection %u: the server closed the socket (%u of %u connections ready)",
                   c->idx, ready_count, opt.conns);
        c->in_len += (size_t)n;
        bool full = c->in_len == c->in_cap;
        if (c->state == ST_HANDSHAKE) {
            uint8_t *sep = memmem(c->in, c->in_len, "\r\n\r\n", 4);
            if (!sep) {
                if (c->in_len > 8192)
                    lb_die("connection %u: oversized handshake answer", c->idx);
                continue;
            }
            *sep = '\0';
            char *acc = strcasestr((char *)c->in, "\r\nSec-WebSocket-Accept:");
            if (strncmp((char *)c->in, "HTTP/1.1 101", 12) != 0 || !acc)
                lb_die("connection %u: upgrade refused: %s", c->idx, (char *)c->in);
            acc += strlen("\r\nSec-WebSocket-Accept:");
            while (*acc == ' ')
                acc++;
            if (strncmp(acc, c->accept, 28) != 0)
                lb_die("connection %u: wrong Sec-WebSocket-Accept", c->idx);
            size_t used = (size_t)(sep + 4 - c->in);
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
            c->state = ST_INIT;
            send_init(c);
        }
        size_t used = parse_frames(c, t);
        if (used) {
            memmove(c->in, c->in + used, c->in_len - used);
            c->in_len -= used;
        }
        if (!full)
            return; /* level-triggered: epoll says when there is more */
    }
}

static void conn_event(conn *c, uint32_t events)
{
    if (c->state == ST_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
        int err = 0;
        socklen_t l = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
        if (err)
            lb_die("connection %u: connect: %s", c->idx, strerror(err));
        send_upgrade(c);
        return;
    }
    if (events & EPOLLOUT)
        conn_flush(c);
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        conn_readable(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Report                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static sf_bench_figure figures[3];
static char names[3][64];
static size_t nfigures;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

static void row(const char *name, double value, const char *unit, const char *target, int pass)
{
    printf("  %-28s %12.3f  %-12s %-10s %s\n", name, value, unit, target ? target : "-",
           pass < 0 ? "info"
           : pass   ? "PASS"
                    : "MISS");
}

/* ---------------------------------------------------------------------------------------- */
/* Main                                                                                      */
/* ---------------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: ws_fanout [SERVER] [--conns N] [--messages N] [--rate PER_S] "
                    "[--ack] [--timeout S] [--out FILE] [--name PREFIX]\n");
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

/* Reads the command line into opt; anything unknown or out of range: usage (exit 2). */
static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--conns") == 0 && ++i)
            opt.conns = parse_uint(v, 1, 100000);
        else if (strcmp(a, "--messages") == 0 && ++i)
            opt.messages = parse_uint(v, 1, 1000000);
        else if (strcmp(a, "--rate") == 0 && ++i)
            opt.rate = parse_uint(v, 0, 1000000);
        else if (strcmp(a, "--timeout") == 0 && ++i)
            opt.timeout_s = parse_uint(v, 1, 3600);
        else if (strcmp(a, "--out") == 0 && v && ++i)
            opt.out = v;
        else if (strcmp(a, "--name") == 0 && v && strlen(v) < 40 && ++i)
            opt.name = v;
        else if (strcmp(a, "--ack") == 0)
            opt.ack = true;
        else if (a[0] != '-' && !opt.server)
            opt.server = a;
        else
            usage();
    }
}

/* Picks the server: the argument, then $SYNCFAKE_SERVER, then build/syncfake-server. */
static void find_server(void)
{
    if (!opt.server)
        opt.server = getenv("SYNCFAKE_SERVER");
    if (!opt.server || !*opt.server)
        opt.server = "build/syncfake-server";
    if (access(opt.server, X_OK) != 0)
        lb_die("%s is not an executable (build it: make)", opt.server);
}

/* Raises the open files limit: every connection is one descriptor here and one in the server
 * (its socket), with room to spare; the server inherits the raised limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)opt.conns * 2 + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
            lb_die("open files limit %llu, need %llu (ulimit -n)", (unsigned long long)rl.rlim_cur,
                   (unsigned long long)need);
    }
}

/* Allocates the connections and the results for `total` deliveries. */
static void alloc_results(size_t total)
{
    conns = calloc(opt.conns, sizeof *conns);
    seen = calloc(total, 1);
    lat_ms = malloc(total * sizeof *lat_ms);
    if (!conns || !seen || !lat_ms)
        lb_die("out of memory");
    rest_pub_init(&pub, service_sid, stream_sid, opt.messages);
}

/* Over REST: creates the service and the stream and mints the access token. */
static void create_stream(void)
{
    char *body;
    int st = lb_rest("POST", "/v1/Services", "FriendlyName=ws-fanout", &body);
    if (st != 201 || !lb_json_str(body, "sid", service_sid, sizeof service_sid))
        lb_die("creating a service: %d %s", st, body);
    free(body);
    char path[256];
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", service_sid);
    st = lb_rest("POST", path, "UniqueName=ws-fanout", &body);
    if (st != 201 || !lb_json_str(body, "sid", stream_sid, sizeof stream_sid))
        lb_die("creating a stream: %d %s", st, body);
    free(body);
    char form[256];
    snprintf(form, sizeof form, "Identity=ws-fanout&ServiceSid=%s&Ttl=3600", service_sid);
    st = lb_rest("POST", "/_syncfake/tokens", form, &body);
    if (st != 201 || !lb_json_str(body, "token", token, sizeof token))
        lb_die("minting a token: %d %s", st, body);
    free(body);
}

/* One epoll_wait of at most timeout_ms, its events handed to the publisher or a connection. */
static void poll_once(int timeout_ms)
{
    enum { MAXEV = 512 };
    struct epoll_event evs[MAXEV];
    int n = epoll_wait(ep, evs, MAXEV, timeout_ms);
    if (n < 0 && errno != EINTR)
        lb_die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u32 == REST_PUB_TAG)
            rest_pub_readable(&pub);
        else
            conn_event(&conns[evs[i].data.u32], evs[i].events);
    }
}

/* Setup gave up: says how far each opened connection got, then dies. */
static void setup_failed(unsigned opened, bool stalled)
{
    unsigned by_state[5] = {0};
    for (unsigned i = 0; i < opened; i++)
        by_state[conns[i].state]++;
    fflush(stdout);
    fprintf(stderr,
            "ws_fanout: %s: %u of %u connections subscribed (opened %u; connecting %u, "
            "waiting for the upgrade answer %u, init %u, subscribing %u)\n",
            stalled ? "setup stalled (no progress for 10 s)" : "setup timed out", ready_count,
            opt.conns, opened, by_state[ST_CONNECTING], by_state[ST_HANDSHAKE], by_state[ST_INIT],
            by_state[ST_SUBSCRIBING]);
    if (by_state[ST_HANDSHAKE] && ready_count + by_state[ST_HANDSHAKE] == opt.conns)
        fprintf(stderr,
                "ws_fanout: the server stopped accepting connections at %u (%u "
                "WebSockets + this program's REST connection); its libmicrohttpd "
                "connection limit (MHD_OPTION_CONNECTION_LIMIT in "
                "fake_http/server/server.c) counts upgraded WebSockets too. Try "
                "--conns %u\n",
                ready_count + 1, ready_count, ready_count);
    lb_die("giving up");
}

/* Opens every connection (SETUP_WINDOW at a time) until all are subscribed; returns seconds. */
static double setup_connections(void)
{
    int64_t t_setup = lb_now_ns();
    unsigned next = 0, ready_before = 0;
    int64_t progress_ns = t_setup;
    while (ready_count < opt.conns) {
        while (next < opt.conns && setting_up < SETUP_WINDOW) {
            conn_open(next++);
            setting_up++;
        }
        poll_once(100);
        int64_t t = lb_now_ns();
        if (ready_count != ready_before) {
            ready_before = ready_count;
            progress_ns = t;
        }
        bool stalled = t - progress_ns > SETUP_STALL_MS * 1000000LL;
        if (t > lb_deadline_ns() || stalled)
            setup_failed(next, stalled);
    }
    return (double)(lb_now_ns() - t_setup) / 1e9;
}

/* Sends the next publish when it is due; returns how long epoll may wait (ms). */
static int publish_if_due(int64_t first_pub, int64_t t)
{
    int timeout = 100;
    if (!pub.busy && pub.seq < opt.messages) {
        int64_t due = opt.rate > 0 ? first_pub + (int64_t)(pub.seq * 1e9 / opt.rate) : t;
        if (due <= t)
            rest_pub_send(&pub);
        else if ((due - t) / 1000000 < timeout)
            timeout = (int)((due - t) / 1000000);
    }
    return timeout;
}

/* What the publish-and-receive phase measured. */
typedef struct run_result {
    int64_t first_pub, end;     /* first publish start; last delivery (or the end) */
    double srv_cpu0, self_cpu0; /* CPU seconds used before it (server, this program) */
    double srv_cpu, self_cpu;   /* CPU seconds used during it */
} run_result;

/* Publishes every message and receives until all `total` deliveries are in (or it is time);
 * r->srv_cpu0 and r->self_cpu0 are already set. */
static void publish_and_receive(size_t total, run_result *r)
{
    r->first_pub = lb_now_ns();
    int64_t drain_until = INT64_MAX;
    while (deliveries < total) {
        poll_once(publish_if_due(r->first_pub, lb_now_ns()));
        int64_t t = lb_now_ns();
        if (pub.answered == opt.messages && drain_until == INT64_MAX)
            drain_until = t + DRAIN_AFTER_LAST_MS * 1000000LL;
        if (t > drain_until || t > lb_deadline_ns()) {
            fflush(stdout);
            fprintf(stderr, "ws_fanout: %s: %" PRIu64 " of %zu deliveries\n",
                    t > lb_deadline_ns() ? "overall timeout" : "10 s after the last publish",
                    deliveries, total);
            if (pub.answered < opt.messages)
                lb_die("timed out after %u s: %u of %u publishes answered", opt.timeout_s,
                       pub.answered, opt.messages);
            break;
        }
    }
    r->end = deliveries ? last_delivery_ns : lb_now_ns();
    int threads = 0;
    r->srv_cpu = lb_proc_cpu_s(lb_srv.pid, &threads) - r->srv_cpu0;
    r->self_cpu = self_cpu_s() - r->self_cpu0;
}

/* The headline figures, also written to the figures file. */
typedef struct headline {
    double rate, p50, p99;
    uint64_t missing;
} headline;

/* Lists up to 20 connections that missed deliveries. */
static void print_missing(uint64_t missing)
{
    unsigned short_conns = 0;
    for (unsigned i = 0; i < opt.conns; i++)
        short_conns += conns[i].received < opt.messages;
    printf("\n  MISSING: %" PRIu64 " deliveries; %u of %u connections short:", missing, short_conns,
           opt.conns);
    for (unsigned i = 0, shown = 0; i < opt.conns && shown < 20; i++)
        if (conns[i].received < opt.messages) {
            printf(" #%u:%u", i, opt.messages - conns[i].received);
            shown++;
        }
    printf("%s\n", short_conns > 20 ? " ..." : "");
}

/* Prints the table of figures; returns the headline ones. */
static headline print_report(const run_result *r, size_t total)
{
    headline h;
    double span_s = (double)(r->end - r->first_pub) / 1e9;
    h.rate = span_s > 0 ? (double)deliveries / span_s : 0;
    qsort(lat_ms, nlat, sizeof *lat_ms, cmp_double);
    h.p50 = pct(lat_ms, nlat, 50);
    h.p99 = pct(lat_ms, nlat, 99);
    qsort(pub.ms, pub.answered, sizeof *pub.ms, cmp_double);
    h.missing = total - deliveries;

    printf("\n  %-28s %12s  %-12s %-10s\n", "figure", "value", "unit", "target");
    row("deliveries_per_s", h.rate, "deliveries/s", ">= 100000", h.rate >= TARGET_DELIVERIES_PER_S);
    row("p50_ms", h.p50, "ms", "-", -1);
    row("p90_ms", pct(lat_ms, nlat, 90), "ms", "-", -1);
    row("p99_ms", h.p99, "ms", "< 20", h.p99 < TARGET_P99_MS);
    row("p99.9_ms", pct(lat_ms, nlat, 99.9), "ms", "-", -1);
    row("max_ms", nlat ? lat_ms[nlat - 1] : 0, "ms", "-", -1);
    row("deliveries", (double)deliveries, "deliveries", "-", -1);
    row("missing", (double)h.missing, "deliveries", "0", h.missing == 0);
    row("duplicates", (double)duplicates, "deliveries", "0", duplicates == 0);
    row("first_publish_to_last_s", span_s, "s", "-", -1);
    row("publish_http_p50_ms", pct(pub.ms, pub.answered, 50), "ms", "-", -1);
    row("publish_http_p99_ms", pct(pub.ms, pub.answered, 99), "ms", "-", -1);
    row("server_cpu_s", r->srv_cpu, "s", "-", -1);
    row("server_cpu_per_delivery_us", deliveries ? r->srv_cpu / (double)deliveries * 1e6 : 0, "us",
        "-", -1);
    row("client_cpu_s", r->self_cpu, "s", "-", -1);
    if (foreign || pings)
        printf("  (%" PRIu64 " other frames, %" PRIu64 " pings answered)\n", foreign, pings);
    if (h.missing)
        print_missing(h.missing);
    return h;
}

/* Appends <name>_deliveries_per_s, _p99_ms and _p50_ms to opt.out; false if it cannot. */
static bool write_figures(const headline *h)
{
    snprintf(names[0], sizeof names[0], "%s_deliveries_per_s", opt.name);
    snprintf(names[1], sizeof names[1], "%s_p99_ms", opt.name);
    snprintf(names[2], sizeof names[2], "%s_p50_ms", opt.name);
    figures[nfigures++] = (sf_bench_figure){names[0], "deliveries/s", h->rate};
    figures[nfigures++] = (sf_bench_figure){names[1], "ms", h->p99};
    figures[nfigures++] = (sf_bench_figure){names[2], "ms", h->p50};
    if (sf_bench_json_append(opt.out, figures, nfigures) != 0) {
        fprintf(stderr, "ws_fanout: cannot write %s\n", opt.out);
        return false;
    }
    printf("appended to %s\n", opt.out);
    return true;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    lb_init("ws_fanout", opt.timeout_s);
    find_server();
    lb_seed((uint64_t)lb_now_ns());
    raise_fd_limit();
    size_t total = (size_t)opt.conns * opt.messages;
    alloc_results(total);

    static const char *const server_args[] = {"--clock", "wall", "--limit", "publish_rate_per_s=0",
                                              NULL};
    lb_start_server(NULL, opt.server, server_args);
    create_stream();
    printf("ws_fanout: %s on port %u, %u WebSocket connections, %u messages%s%s\n", opt.server,
           (unsigned)lb_srv.port, opt.conns, opt.messages,
           opt.rate > 0 ? ", paced" : ", back to back", opt.ack ? ", acks on" : "");
    fflush(stdout);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        lb_die("epoll_create1: %s", strerror(errno));
    /* the publisher connects first: it must not find the server full of WebSockets */
    rest_pub_start(&pub, ep);

    double setup_s = setup_connections();
    int threads = 0;
    run_result r;
    r.srv_cpu0 = lb_proc_cpu_s(lb_srv.pid, &threads);
    r.self_cpu0 = self_cpu_s();
    printf("ws_fanout: %u connections subscribed in %.2f s (server: %d threads)\n", opt.conns,
           setup_s, threads);
    fflush(stdout);

    publish_and_receive(total, &r);
    for (unsigned i = 0; i < opt.conns; i++)
        close(conns[i].fd);
    close(pub.fd);
    bool clean_stop = lb_stop_server();

    headline h = print_report(&r, total);
    if (!write_figures(&h))
        return 1;
    return h.missing || duplicates || !clean_stop ? 1 : 0;
}
