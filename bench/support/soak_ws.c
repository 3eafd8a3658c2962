/* SPDX-License-Identifier: MIT */
/* soak_ws.c: the soak's WebSocket + Twilsock clients (soak_ws.h). */
#define _GNU_SOURCE
#include "soak_ws.h"

#include "loopback.h"
#include "soak_conn.h"
#include "twilsock_frame.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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
static size_t ws_frame_at(const soak_ws *c, int *opcode, const uint8_t **data, size_t *len)
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
    if (hl + n > SOAK_WS_IN_CAP)
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
int soak_ws_next(soak_ws *c, bool wait, const uint8_t **data, size_t *len)
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
        ssize_t n = wait ? (ssize_t)soak_recv_wait(c->fd, c->in + c->len, SOAK_WS_IN_CAP - c->len,
                                                   "websocket")
                         : recv(c->fd, c->in + c->len, SOAK_WS_IN_CAP - c->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (n <= 0)
            return -1;
        c->len += (size_t)n;
    }
}

/* Waits for a Twilsock frame whose header or payload holds `needle`. */
void soak_ws_expect(soak_ws *c, const char *needle, const char *what)
{
    const uint8_t *data;
    size_t len;
    for (;;) {
        int r = soak_ws_next(c, true, &data, &len);
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
void soak_ws_open(soak_ws *c, const char *stream)
{
    char body[8192], token[4096], form[256], key[25], accept[29], req[512];
    snprintf(form, sizeof form, "Identity=soak&ServiceSid=%s&Ttl=3600", soak_service_sid);
    soak_api("POST", "/_syncfake/tokens", form, 201, body, sizeof body);
    if (!lb_json_str(body, "token", token, sizeof token))
        lb_die("no token in %s", body);
    c->fd = soak_connect();
    c->len = c->used = 0;
    lb_ws_key(key, accept);
    lb_send_all(c->fd, req, lb_ws_upgrade_request("/v3/wsconnect", key, req, sizeof req),
                "upgrade");
    uint8_t *sep;
    while (!(sep = memmem(c->in, c->len, "\r\n\r\n", 4))) {
        size_t n = soak_recv_wait(c->fd, c->in + c->len, 8192 - c->len, "upgrade");
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
    soak_ws_expect(c, "\"method\":\"reply\"", "the init reply");
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
    soak_ws_expect(c, "subscription_established", "subscription_established");
    soak_count.ws_opened++;
}

/* Ends the connection: a close frame and its answer, or just the socket. */
void soak_ws_end(soak_ws *c, bool graceful)
{
    if (graceful) {
        static const uint8_t normal[2] = {0x03, 0xe8}; /* 1000 */
        ws_send(c->fd, 8, normal, 2);
        const uint8_t *data;
        size_t len;
        while (soak_ws_next(c, true, &data, &len) > 0) {
        }
    }
    close(c->fd);
    c->fd = -1;
}
