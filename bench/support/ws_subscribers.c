/* SPDX-License-Identifier: MIT */
/* ws_subscribers.c: ws_fanout's Twilsock subscribers (ws_subscribers.h). */
#define _GNU_SOURCE
#include "ws_subscribers.h"

#include "loopback.h"
#include "twilsock_frame.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define IN_MAX (SF_TS_MAX_FRAME + 64 * 1024)
#define WS_PATH "/v3/wsconnect"

void wss_alloc(wss_set *s)
{
    size_t total = (size_t)s->count * s->messages;
    s->conns = calloc(s->count, sizeof *s->conns);
    s->seen = calloc(total, 1);
    s->lat_ms = malloc(total * sizeof *s->lat_ms);
    if (!s->conns || !s->seen || !s->lat_ms)
        lb_die("out of memory");
}

/* Registers EPOLLOUT interest, or drops it, when that changes. */
static void ep_mod(wss_conn *c, bool want_out)
{
    if (c->want_out == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.u32 = c->idx};
    if (epoll_ctl(c->set->ep, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        lb_die("epoll_ctl: %s", strerror(errno));
    c->want_out = want_out;
}

/* Sends what the socket accepts of the queued bytes; EPOLLOUT while some are left. */
static void conn_flush(wss_conn *c)
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

/* Appends bytes to the output queue. */
static void conn_queue(wss_conn *c, const void *data, size_t len)
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
static void ws_send(wss_conn *c, int opcode, const uint8_t *data, size_t len)
{
    uint8_t h[14], mask[4];
    size_t hl = lb_ws_frame_head(opcode, len, h, mask);
    conn_queue(c, h, hl);
    size_t at = c->out_len;
    conn_queue(c, data, len);
    for (size_t i = 0; i < len; i++)
        c->out[at + i] ^= mask[i & 3];
}

/* Sends one Twilsock message (header + payload) in a binary frame. */
static void ts_send(wss_conn *c, const char *header, const char *payload)
{
    size_t n;
    uint8_t *frame = sf_ts_build(header, payload, strlen(payload), &n);
    if (!frame)
        lb_die("sf_ts_build failed");
    ws_send(c, 2, frame, n);
    free(frame);
    conn_flush(c);
}

/* Twilsock `init` with the access token. */
static void send_init(wss_conn *c)
{
    char header[WSS_TOKEN_MAX + 128];
    snprintf(header, sizeof header,
             "{\"method\":\"init\",\"id\":\"TM%030" PRIx32 "00\","
             "\"token\":\"%s\"}",
             (uint32_t)c->idx, c->set->token);
    ts_send(c, header, "");
}

/* A tunnelled POST /v4/Subscriptions establishing a subscription to the stream. */
static void send_subscribe(wss_conn *c)
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
             c->set->stream_sid);
    ts_send(c, header, payload);
}

void wss_open(wss_set *s, unsigned i)
{
    wss_conn *c = &s->conns[i];
    c->set = s;
    c->idx = i;
    c->fd = lb_tcp_socket(true);
    if (!lb_tcp_connect(c->fd))
        lb_die("connection %u: connect: %s", i, strerror(errno));
    c->state = WSS_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = i};
    if (epoll_ctl(c->set->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        lb_die("epoll_ctl: %s", strerror(errno));
    c->want_out = true;
    c->in_cap = 16384;
    c->in = malloc(c->in_cap);
    if (!c->in)
        lb_die("out of memory");
}

/* The HTTP upgrade request to /v3/wsconnect, once connected. */
static void send_upgrade(wss_conn *c)
{
    char key[25], req[512];
    lb_ws_key(key, c->accept);
    size_t n = lb_ws_upgrade_request(WS_PATH, key, req, sizeof req);
    conn_queue(c, req, n);
    c->state = WSS_HANDSHAKE;
    conn_flush(c);
}

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
static void on_delivery(wss_conn *c, const char *payload, size_t plen, int64_t t)
{
    const char *s = memmem(payload, plen, "\"seq\":", 6);
    char *end;
    unsigned long seq = s ? strtoul(s + 6, &end, 10) : ULONG_MAX;
    if (!memmem(payload, plen, c->set->stream_sid, strlen(c->set->stream_sid)) ||
        seq >= c->set->messages || c->set->pub_start[seq] == 0) {
        c->set->foreign++;
        return;
    }
    uint8_t *mark = &c->set->seen[(size_t)c->idx * c->set->messages + seq];
    if (*mark) {
        c->duplicates++;
        c->set->duplicates++;
        return;
    }
    *mark = 1;
    c->received++;
    c->set->deliveries++;
    c->set->lat_ms[c->set->nlat++] = (double)(t - c->set->pub_start[seq]) / 1e6;
    c->set->last_delivery_ns = t;
}

/* A notification while subscribing: subscription_established makes the connection ready. */
static void on_subscribe_notification(wss_conn *c, const ts_parts *p)
{
    if (memmem(p->payload, p->plen, "\"subscription_failed\"", 21))
        lb_die("connection %u: %.*s", c->idx, (int)p->plen, p->payload);
    if (memmem(p->payload, p->plen, "\"subscription_established\"", 26) &&
        memmem(p->payload, p->plen, c->set->stream_sid, strlen(c->set->stream_sid))) {
        if (!c->sub_replied)
            lb_die("connection %u: established before the request's reply", c->idx);
        c->state = WSS_READY;
        c->set->ready_count++;
        c->set->setting_up--;
    }
}

/* A frame while setting up (init or subscribing), parsed strictly as the SDK's would be. */
static void on_setup_frame(wss_conn *c, const uint8_t *m, size_t len, const ts_parts *p)
{
    sf_ts_frame *f = malloc(sizeof *f);
    if (!f || !sf_ts_parse(m, len, f))
        lb_die("connection %u: frame refused by sf_ts_parse: %.*s", c->idx,
               (int)(len < 300 ? len : 300), (const char *)m);
    bool ok200 = memmem(p->hdr, p->hlen, "\"status\":{\"code\":200", 20) != NULL;
    if (c->state == WSS_INIT && strcmp(f->method, "reply") == 0) {
        if (!ok200)
            lb_die("connection %u: init refused: %.*s", c->idx, (int)p->hlen, p->hdr);
        c->state = WSS_SUBSCRIBING;
        send_subscribe(c);
    } else if (c->state == WSS_SUBSCRIBING && strcmp(f->method, "reply") == 0) {
        if (!ok200 || !memmem(p->hdr, p->hlen, "\"http_status\":{\"code\":200", 25))
            lb_die("connection %u: subscription refused: %.*s %.*s", c->idx, (int)p->hlen, p->hdr,
                   (int)p->plen, p->payload);
        c->sub_replied = true;
    } else if (c->state == WSS_SUBSCRIBING && strcmp(f->method, "notification") == 0) {
        on_subscribe_notification(c, p);
    } else {
        lb_die("connection %u: unexpected frame while setting up: %.*s", c->idx, (int)p->hlen,
               p->hdr);
    }
    free(f);
}

/* The SDK's automatic acknowledgement of a notification: a `reply` with its id. */
static void send_ack(wss_conn *c, const char *hdr, size_t hlen)
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
static void on_message(wss_conn *c, const uint8_t *m, size_t len, int64_t t)
{
    ts_parts p;
    if (!ts_split(m, len, &p))
        lb_die("connection %u: malformed Twilsock frame: %.*s", c->idx,
               (int)(len < 300 ? len : 300), (const char *)m);
    bool notification = memmem(p.hdr, p.hlen, "\"method\":\"notification\"", 23) != NULL;
    if (c->state == WSS_READY && notification &&
        memmem(p.payload, p.plen, "\"stream_message_published\"", 26)) {
        on_delivery(c, p.payload, p.plen, t);
    } else if (c->state == WSS_INIT || c->state == WSS_SUBSCRIBING) {
        on_setup_frame(c, m, len, &p);
        return;
    } else {
        c->set->foreign++;
    }
    if (c->set->ack && notification)
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
static bool ws_read_head(const wss_conn *c, const uint8_t *b, size_t avail, ws_head *h)
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
static void conn_in_reserve(wss_conn *c, size_t need)
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
static void on_data_frame(wss_conn *c, const ws_head *h, const uint8_t *data, int64_t t)
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

/* One whole frame: c->set->pings answered, pongs ignored, data passed on, anything else fatal. */
static void on_frame(wss_conn *c, const ws_head *h, const uint8_t *data, int64_t t)
{
    if (h->opcode == 9) { /* ping */
        c->set->pings++;
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
static size_t parse_frames(wss_conn *c, int64_t t)
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

/* Reads what the socket has: the upgrade answer, then WebSocket frames. */
static void conn_readable(wss_conn *c)
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
                   c->idx, c->set->ready_count, c->set->count);
        c->in_len += (size_t)n;
        bool full = c->in_len == c->in_cap;
        if (c->state == WSS_HANDSHAKE) {
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
            c->state = WSS_INIT;
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

void wss_event(wss_conn *c, uint32_t events)
{
    if (c->state == WSS_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
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
