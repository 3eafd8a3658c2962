/* SPDX-License-Identifier: MIT */
/* fuzz_websocket.c: libFuzzer target over the WebSocket framing path from the wire up: the
 * input is what a client writes after the upgrade, read by an I/O thread (io_loop.c, ws_conn.c)
 * (frame guard, wslay, close handshake) over one end of a socketpair and handed to the Twilsock
 * session (twilsock_session.c). This file stands in for libmicrohttpd: it hands the socket
 * to sf_ws_upgraded and, as MHD_upgrade_action(CLOSE) does, closes it at the end.
 *
 * Input: one flags byte, then the client's bytes (seeds in fuzz/corpus/websocket, made by
 * fuzz/make_seeds.py from the tests' frames). Flags bit 0: a masked frame with a good `init`
 * goes first; bit 1: the first (flags >> 2) bytes arrive as bytes libmicrohttpd read past
 * the request. Checks: nothing crashes, leaks or reads out of bounds; the connection ends
 * (its socket closes) within 10 s of the input's end; closed() runs exactly once; the server
 * writes only well-formed frames (FIN set, unmasked, shortest length, binary, pong or a
 * final close), every binary one a well-formed Twilsock frame. */
#include "ts_fixture.h"

#include "websocket_server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define END_WAIT_MS 10000

struct MHD_UpgradeResponseHandle {
    int fd;
};

static ts_fixture fx;
static sf_ws_hub *hub;
static atomic_int opened, closed_count, given_back;
static const sf_ws_handler *ts;
static pthread_mutex_t end_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t end_cond = PTHREAD_COND_INITIALIZER;

/* The connection's last use of its handle: the socket is given back, and the harness may go
 * on to the next input. */
enum MHD_Result MHD_upgrade_action(struct MHD_UpgradeResponseHandle *urh,
                                   enum MHD_UpgradeAction action, ...)
{
    if (action != MHD_UPGRADE_ACTION_CLOSE)
        abort();
    close(urh->fd);
    pthread_mutex_lock(&end_lock);
    atomic_fetch_add(&given_back, 1);
    pthread_cond_broadcast(&end_cond);
    pthread_mutex_unlock(&end_lock);
    return MHD_YES;
}

static void *count_open(void *ctx, sf_ws_conn *conn)
{
    (void)ctx;
    void *s = ts->open(ts->ctx, conn);
    if (s)
        atomic_fetch_add(&opened, 1);
    return s;
}

static void pass_message(void *session, const uint8_t *data, size_t len)
{
    ts->message(session, data, len);
}

static void count_closed(void *session)
{
    ts->closed(session);
    atomic_fetch_add(&closed_count, 1);
}

/* Waits until `count` sockets in all were given back; aborts after END_WAIT_MS. */
static void wait_given_back(int count)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += END_WAIT_MS / 1000;
    pthread_mutex_lock(&end_lock);
    while (atomic_load(&given_back) < count)
        if (pthread_cond_timedwait(&end_cond, &end_lock, &until) != 0)
            abort(); /* the connection did not end */
    pthread_mutex_unlock(&end_lock);
}

static const sf_ws_handler counting = {count_open, pass_message, count_closed, NULL};

/* The client's side: writes `in` (then shuts its write side) and reads until the server's
 * EOF (its close handshake shuts its write side, or the socket closed). */
static size_t exchange(int fd, const uint8_t *in, size_t in_len, uint8_t **out)
{
    size_t out_len = 0, out_cap = 0, sent = 0;
    *out = NULL;
    if (in_len == 0)
        shutdown(fd, SHUT_WR);
    for (;;) {
        struct pollfd p = {fd, (short)(POLLIN | (sent < in_len ? POLLOUT : 0)), 0};
        if (poll(&p, 1, END_WAIT_MS) <= 0)
            abort(); /* the server neither read nor ended the connection */
        if (sent < in_len && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t n = send(fd, in + sent, in_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                sent = in_len; /* the server closed: the rest cannot go */
            if (sent == in_len)
                shutdown(fd, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (out_cap - out_len < 65536) {
                out_cap = out_cap * 2 + 65536;
                *out = realloc(*out, out_cap);
                if (!*out)
                    abort();
            }
            ssize_t n = recv(fd, *out + out_len, out_cap - out_len, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                return out_len; /* EOF (or reset): the connection ended */
            if (n > 0)
                out_len += (size_t)n;
        }
    }
}

/* The server's frames: see the header comment. */
static void check_output(const uint8_t *o, size_t len)
{
    size_t p = 0;
    while (p < len) {
        if (len - p < 2)
            abort();
        uint8_t b0 = o[p], b1 = o[p + 1];
        int opcode = b0 & 0x0f;
        if (!(b0 & 0x80) || (b0 & 0x70) || (b1 & 0x80) ||
            (opcode != 2 && opcode != 8 && opcode != 10))
            abort();
        uint64_t n = b1 & 0x7f;
        size_t h = 2;
        if (n == 126 || n == 127) {
            size_t ext = n == 126 ? 2 : 8;
            if (len - p < 2 + ext)
                abort();
            n = 0;
            for (size_t i = 0; i < ext; i++)
                n = n << 8 | o[p + 2 + i];
            if (n < (ext == 2 ? 126u : 65536u))
                abort(); /* not the shortest form */
            h += ext;
        }
        if (n > len - p - h)
            abort();
        if (opcode == 2)
            ts_fixture_check_server_frame(o + p + h, (size_t)n);
        if (opcode == 8 && p + h + n != len)
            abort(); /* nothing after a close */
        if (opcode != 2 && n > 125)
            abort();
        p += h + (size_t)n;
    }
}

static uint8_t *with_init(const uint8_t *data, size_t size, size_t *len)
{
    size_t ts_len;
    uint8_t *init = ts_fixture_init_frame(&fx, &ts_len);
    uint8_t *all = init ? malloc(ts_len + 8 + size) : NULL;
    if (!all)
        abort();
    size_t h = 0;
    all[h++] = 0x82;
    all[h++] = 0x80 | 126;
    all[h++] = (uint8_t)(ts_len >> 8);
    all[h++] = (uint8_t)ts_len;
    memset(all + h, 0, 4); /* a zero mask: the payload goes as it is */
    h += 4;
    memcpy(all + h, init, ts_len);
    memcpy(all + h + ts_len, data, size);
    free(init);
    *len = h + ts_len + size;
    return all;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!hub) {
        ts_fixture_start(&fx);
        ts = sf_ts_handler(fx.mgr);
        hub = sf_ws_hub_new(&counting, 1);
        if (!hub)
            abort();
    }
    if (size < 1)
        return 0;
    ts_fixture_next_input(&fx);
    uint8_t flags = data[0];
    size_t len = size - 1;
    uint8_t *in = (flags & 1) ? with_init(data + 1, len, &len) : malloc(len ? len : 1);
    if (!in)
        abort();
    if (!(flags & 1))
        memcpy(in, data + 1, len);
    ts_fixture_expand(&fx, in, len); /* SID placeholders: only in unmasked payloads */
    const uint8_t *bytes = in;
    size_t extra = (flags & 2) ? (size_t)(flags >> 2) : 0;
    if (extra > len)
        extra = len;

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        abort();
    int before = atomic_load(&given_back); /* = opened = closed_count */
    struct MHD_UpgradeResponseHandle urh = {sv[0]};
    sf_ws_upgraded(hub, NULL, NULL, (const char *)bytes, extra, sv[0], &urh);
    uint8_t *out;
    size_t out_len = exchange(sv[1], bytes + extra, len - extra, &out);
    close(sv[1]); /* the server reads our EOF if it still reads */
    wait_given_back(before + 1);
    if (atomic_load(&closed_count) != before + 1 || atomic_load(&opened) != before + 1)
        abort(); /* closed() exactly once for the one connection open() accepted */
    check_output(out, out_len);
    free(out);
    free(in);
    return 0;
}
