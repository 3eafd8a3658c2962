/* SPDX-License-Identifier: MIT */
/* ws_client.c: see ws_client.h. */
#define _POSIX_C_SOURCE 200809L
#include "ws_client.h"

#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PAYLOAD_TIMEOUT_MS 5000

static bool wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = {fd, events, 0};
    int r;
    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    return r > 0;
}

static bool send_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        if (!wait_fd(fd, POLLOUT, PAYLOAD_TIMEOUT_MS))
            return false;
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT); /* poll says when */
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* 1: read all n bytes; 0: EOF first (or a reset before any byte); -1: timeout or error. */
static int read_exact(int fd, void *buf, size_t n, int timeout_ms)
{
    uint8_t *p = buf;
    while (n > 0) {
        if (!wait_fd(fd, POLLIN, timeout_ms))
            return -1;
        ssize_t r = recv(fd, p, n, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r == 0)
            return 0;
        if (r < 0)
            return p == buf && errno == ECONNRESET ? 0 : -1;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

/* The next value of an LCG kept in *state, safe across threads. */
static uint32_t next_random(atomic_uint_least32_t *state)
{
    uint_least32_t old = atomic_load(state), next;
    do
        next = (uint32_t)(old * 1664525u + 1013904223u);
    while (!atomic_compare_exchange_weak(state, &old, next));
    return (uint32_t)next;
}

bool sf_wsc_read_head(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t len = 0;
    while (len + 1 < cap) {
        if (read_exact(fd, buf + len, 1, timeout_ms) != 1)
            break;
        len++;
        buf[len] = '\0';
        if (len >= 4 && memcmp(buf + len - 4, "\r\n\r\n", 4) == 0)
            return true;
    }
    buf[len] = '\0';
    return false;
}

/* Connects and sends `request`; then the head of the answer must be a 101. */
static int upgrade(uint16_t port, const char *request, size_t n, char *head, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || !send_all(fd, request, n)) {
        close(fd);
        return -1;
    }
    sf_wsc_read_head(fd, head, cap, PAYLOAD_TIMEOUT_MS);
    if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int sf_wsc_open(uint16_t port, const char *path)
{
    char req[512], head[1024];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path);
    return n < 0 || (size_t)n >= sizeof req ? -1 : upgrade(port, req, (size_t)n, head, sizeof head);
}

void sf_wsc_new_key(char out[25])
{
    static atomic_uint_least32_t state = 12345;
    uint8_t raw[16];
    for (int i = 0; i < 16; i++)
        raw[i] = (uint8_t)(next_random(&state) >> 8);
    base64_encode_raw(out, 16, raw);
    out[24] = '\0';
}

void sf_wsc_accept(const char *key, char out[29])
{
    struct sha1_ctx c;
    uint8_t d[SHA1_DIGEST_SIZE];
    sha1_init(&c);
    sha1_update(&c, strlen(key), (const uint8_t *)key);
    sha1_update(&c, 36, (const uint8_t *)"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    sha1_digest(&c, sizeof d, d);
    base64_encode_raw(out, sizeof d, d);
    out[28] = '\0';
}

int sf_wsc_open_key(uint16_t port, const char *path, const char *key)
{
    char fresh[25];
    if (!key) {
        sf_wsc_new_key(fresh);
        key = fresh;
    }
    char req[512], head[2048], want[29];
    int n = snprintf(req, sizeof req,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: WebSocket\r\n"
                     "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, (unsigned)port, key);
    if (n < 0 || (size_t)n >= sizeof req)
        return -1;
    int fd = upgrade(port, req, (size_t)n, head, sizeof head);
    if (fd < 0)
        return -1;
    char accept[64];
    sf_wsc_accept(key, want);
    if (!lb_header(head, "Sec-WebSocket-Accept", accept, sizeof accept) ||
        strcmp(accept, want) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

uint8_t *sf_wsc_frame_bytes(bool fin, int opcode, const void *payload, size_t len, size_t *out_len)
{
    static atomic_uint_least32_t mask_state = 0x9e3779b9u; /* fixed sequence: repeatable runs */
    uint8_t *f = malloc(len + 14);
    if (!f)
        return NULL;
    size_t h = 0;
    f[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (len < 126) {
        f[h++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        f[h++] = 0x80 | 126;
        f[h++] = (uint8_t)(len >> 8);
        f[h++] = (uint8_t)len;
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            f[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint8_t mask[4];
    uint32_t m = next_random(&mask_state);
    memcpy(mask, &m, 4);
    memcpy(f + h, mask, 4);
    h += 4;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        f[h + i] = p[i] ^ mask[i % 4];
    *out_len = h + len;
    return f;
}

bool sf_wsc_send_raw(int fd, const void *data, size_t len) { return send_all(fd, data, len); }

bool sf_wsc_send(int fd, bool fin, int opcode, const void *payload, size_t len)
{
    size_t n;
    uint8_t *f = sf_wsc_frame_bytes(fin, opcode, payload, len, &n);
    bool ok = f && send_all(fd, f, n);
    free(f);
    return ok;
}

sf_wsc_frame sf_wsc_read(int fd, int timeout_ms)
{
    sf_wsc_frame f = {false, -2, NULL, 0};
    uint8_t h[2];
    int r = read_exact(fd, h, 2, timeout_ms);
    if (r == 0)
        f.opcode = -1;
    if (r != 1 || (h[1] & 0x80)) /* a server never masks */
        return f;
    uint64_t len = h[1] & 0x7f;
    size_t ext = len == 126 ? 2 : len == 127 ? 8 : 0;
    if (ext) {
        uint8_t b[8];
        if (read_exact(fd, b, ext, PAYLOAD_TIMEOUT_MS) != 1)
            return f;
        len = 0;
        for (size_t i = 0; i < ext; i++)
            len = len << 8 | b[i];
    }
    if (len > (64u << 20))
        return f;
    f.data = malloc(len + 1);
    if (!f.data || (len && read_exact(fd, f.data, len, PAYLOAD_TIMEOUT_MS) != 1)) {
        free(f.data);
        f.data = NULL;
        return f;
    }
    f.data[len] = 0;
    f.len = len;
    f.fin = h[0] & 0x80;
    f.opcode = h[0] & 0x0f;
    return f;
}

uint16_t sf_wsc_close_code(const sf_wsc_frame *f)
{
    return f->len >= 2 ? (uint16_t)(f->data[0] << 8 | f->data[1]) : 0;
}
