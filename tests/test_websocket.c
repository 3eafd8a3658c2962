/* SPDX-License-Identifier: MIT */
/* test_websocket.c: WebSocket connections of the loopback server (fake_http/server/websocket.c
 * behind server.c's upgrade) over real TCP sockets, with a hand-written minimal client: the
 * HTTP upgrade, masked frames out, frames in, every socket operation with a poll() deadline.
 *
 * The test handler echoes every message back with sf_ws_sendv (in three pieces); "!close" makes
 * it send "bye" and sf_ws_close(1000); "!flood" makes it send 60,000-byte messages until a send
 * fails; a broadcaster thread may sf_ws_send to every open connection.
 *
 * Covered: the 101 answer and Sec-WebSocket-Accept (RFC 6455's example key); echo of small,
 * 1,000-byte (16-bit length), 70,000-byte (64-bit length), exactly 1 MiB and fragmented
 * messages (with a ping between the fragments); text in, binary out; ping -> pong; client
 * close -> close reply and closed() exactly once; server close after queued messages; bad
 * handshakes -> 400 JSON; a 2 MiB message -> close 1009; sf_server_stop with 5 open
 * WebSockets (close 1001, every closed() ran, promptly); 20 connections opening and closing
 * while another thread sends to them (run it under ThreadSanitizer too); a peer that lets
 * more than SF_WS_MAX_OUTBOX bytes pile up gets what fitted, then close 1008; a ping or pong
 * over 125 bytes, a fragmented control frame or a length not in its shortest form gets close
 * 1002 after the answer to what came before it. */
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
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "syncfake_http.h"
#include "websocket.h"

#define IO_TIMEOUT_MS 5000
#define SHORT_TIMEOUT_MS 300
#define WS_PATH "/v3/wsconnect"
#define MAX_CONNS 64
#define FLOOD_LEN 60000 /* a 4-byte frame header: 60,004 bytes a message */

/* ---------------------------------------------------------------------------------------- */
/* Time                                                                                      */
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

/* ---------------------------------------------------------------------------------------- */
/* The test handler                                                                          */
/* ---------------------------------------------------------------------------------------- */

typedef struct session {
    sf_ws_conn *conn;
    int slot;
} session;

/* Everything the handler saw; `lock` plays the part of the server lock: the broadcaster sends
 * under it and closed() takes it, so no send touches a connection after closed() returned. */
static struct {
    pthread_mutex_t lock;
    session *live[MAX_CONNS];
    int opened, closed, messages;
    atomic_bool double_close; /* closed() twice, or a send accepted after sf_ws_close */
    atomic_int flood_sent;    /* messages "!flood" got queued; -1 before it ran */
} H = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *h_open(void *ctx, sf_ws_conn *conn)
{
    (void)ctx;
    session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->conn = conn;
    s->slot = -1;
    pthread_mutex_lock(&H.lock);
    H.opened++;
    for (int i = 0; i < MAX_CONNS; i++)
        if (!H.live[i]) {
            H.live[i] = s;
            s->slot = i;
            break;
        }
    pthread_mutex_unlock(&H.lock);
    return s;
}

static void h_message(void *sess, const uint8_t *data, size_t len)
{
    session *s = sess;
    pthread_mutex_lock(&H.lock);
    H.messages++;
    pthread_mutex_unlock(&H.lock);
    if (len == 6 && memcmp(data, "!close", 6) == 0) {
        sf_ws_send(s->conn, (const uint8_t *)"bye", 3);
        sf_ws_close(s->conn, 1000);
        bool after = sf_ws_send(s->conn, (const uint8_t *)"late", 4);
        if (after) /* must not be sent: the close was asked before */
            atomic_store(&H.double_close, true);
        return;
    }
    if (len == 6 && memcmp(data, "!flood", 6) == 0) {
        /* the handler runs on the connection's I/O thread: nothing leaves until it returns */
        static uint8_t chunk[FLOOD_LEN];
        int sent = 0;
        for (;;) {
            memset(chunk, (uint8_t)sent, sizeof chunk);
            if (!sf_ws_send(s->conn, chunk, sizeof chunk))
                break;
            sent++;
        }
        atomic_store(&H.flood_sent, sent);
        return;
    }
    /* a message in three pieces: the first byte, the middle, the last byte */
    size_t first = len > 0, last = len > 1;
    sf_ws_chunk pieces[3] = {
        {data, first}, {data + first, len - first - last}, {data + len - last, last}};
    sf_ws_sendv(s->conn, pieces, 3);
}

static void h_closed(void *sess)
{
    session *s = sess;
    pthread_mutex_lock(&H.lock);
    H.closed++;
    if (s->slot >= 0 && H.live[s->slot] == s)
        H.live[s->slot] = NULL;
    else if (s->slot >= 0)
        atomic_store(&H.double_close, true);
    pthread_mutex_unlock(&H.lock);
    s->conn = NULL;
    free(s);
}

static const sf_ws_handler HANDLER = {h_open, h_message, h_closed, NULL};

static void counts(int *opened, int *closed)
{
    pthread_mutex_lock(&H.lock);
    *opened = H.opened;
    *closed = H.closed;
    pthread_mutex_unlock(&H.lock);
}

/* Waits until closed() ran `n` times in all. */
static bool wait_closed(int n)
{
    int64_t end = now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        int o, c;
        counts(&o, &c);
        if (c >= n)
            return c == n;
        if (now_ms() > end)
            return false;
        sleep_ms(2);
    }
}

/* Waits until every opened connection was closed (closed() runs on the connection's I/O thread,
 * a little after the client saw the close), then reads the counters. */
static void settled_counts(int *opened, int *closed)
{
    int64_t end = now_ms() + IO_TIMEOUT_MS;
    do {
        counts(opened, closed);
        if (*opened == *closed)
            return;
        sleep_ms(2);
    } while (now_ms() < end);
    fail_msg("opened %d, closed %d", *opened, *closed);
}

/* ---------------------------------------------------------------------------------------- */
/* Server                                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct env {
    sf_fake *fake;
    sf_server *srv;
    uint16_t port;
} env;

static int env_setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    sf_options o;
    sf_options_init(&o);
    o.seed = 7;
    o.clock = SF_CLOCK_MANUAL;
    o.base_url = "http://127.0.0.1";
    sf_error err;
    if (sf_fake_new(&o, &e->fake, &err) != SF_OK) {
        free(e);
        return -1;
    }
    /* three I/O threads: connections are spread over several, whatever the machine */
    sf_server_config cfg = {
        .host = "127.0.0.1", .fake = e->fake, .ws = &HANDLER, .ws_io_threads = 3};
    e->srv = sf_server_start(&cfg);
    if (!e->srv) {
        sf_fake_free(e->fake);
        free(e);
        return -1;
    }
    e->port = sf_server_port(e->srv);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    env *e = *state;
    if (!e)
        return 0;
    sf_server_stop(e->srv);
    sf_fake_free(e->fake);
    free(e);
    *state = NULL;
    int o, c;
    counts(&o, &c);
    if (o != c) { /* every opened connection was closed by the stop */
        fprintf(stderr, "opened %d closed %d\n", o, c);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Socket helpers (all with deadlines)                                                       */
/* ---------------------------------------------------------------------------------------- */

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

static bool send_all(int fd, const void *data, size_t len, int timeout_ms)
{
    const uint8_t *p = data;
    int64_t end = now_ms() + timeout_ms;
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return false;
        int64_t left = end - now_ms();
        if (left <= 0)
            return false;
        struct pollfd pf = {fd, POLLOUT, 0};
        poll(&pf, 1, (int)left);
    }
    return true;
}

/* 1: got n bytes; 0: EOF before any byte; -1: timeout or error (or EOF midway). */
static int read_exact(int fd, void *buf, size_t n, int timeout_ms)
{
    uint8_t *p = buf;
    size_t got = 0;
    int64_t end = now_ms() + timeout_ms;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, 0);
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        if (r == 0)
            return got == 0 ? 0 : -1;
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return got == 0 && errno == ECONNRESET ? 0 : -1;
        int64_t left = end - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd pf = {fd, POLLIN, 0};
        poll(&pf, 1, (int)left);
    }
    return 1;
}

/* Reads an HTTP response head (up to the blank line) byte by byte, so no frame is consumed. */
static bool read_head(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    while (n + 1 < cap) {
        if (read_exact(fd, buf + n, 1, IO_TIMEOUT_MS) != 1)
            return false;
        n++;
        buf[n] = '\0';
        if (n >= 4 && memcmp(buf + n - 4, "\r\n\r\n", 4) == 0)
            return true;
    }
    return false;
}

/* The value of header `name` in a response head, copied into out. */
static bool head_value(const char *head, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
        line += 2;
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            const char *e = strstr(v, "\r\n");
            size_t len = e ? (size_t)(e - v) : strlen(v);
            if (len >= cap)
                return false;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

static void expected_accept(const char *key, char out[29])
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

static uint32_t rng_state = 12345;
static pthread_mutex_t rng_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t rnd(void)
{
    pthread_mutex_lock(&rng_lock);
    rng_state = rng_state * 1103515245u + 12345u;
    uint32_t r = rng_state >> 8;
    pthread_mutex_unlock(&rng_lock);
    return r;
}

static void random_key(char out[25])
{
    uint8_t raw[16];
    for (int i = 0; i < 16; i++)
        raw[i] = (uint8_t)rnd();
    base64_encode_raw(out, 16, raw);
    out[24] = '\0';
}

/* Opens a WebSocket: returns the socket or -1. */
static int ws_open_key(uint16_t port, const char *key)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET " WS_PATH " HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: WebSocket\r\n"
                     "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     (unsigned)port, key);
    char head[2048], accept[64], want[29];
    expected_accept(key, want);
    if (!send_all(fd, req, (size_t)n, IO_TIMEOUT_MS) || !read_head(fd, head, sizeof head) ||
        strncmp(head, "HTTP/1.1 101", 12) != 0 ||
        !head_value(head, "Sec-WebSocket-Accept", accept, sizeof accept) ||
        strcmp(accept, want) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int ws_open(uint16_t port)
{
    char key[25];
    random_key(key);
    return ws_open_key(port, key);
}

/* Builds one masked client frame. */
static uint8_t *frame(bool fin, int opcode, const void *payload, size_t len, size_t *out_len)
{
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
    uint32_t m = rnd();
    memcpy(mask, &m, 4);
    memcpy(f + h, mask, 4);
    h += 4;
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        f[h + i] = p[i] ^ mask[i % 4];
    *out_len = h + len;
    return f;
}

static bool ws_send_frame(int fd, bool fin, int opcode, const void *payload, size_t len)
{
    size_t n;
    uint8_t *f = frame(fin, opcode, payload, len, &n);
    bool ok = f && send_all(fd, f, n, IO_TIMEOUT_MS);
    free(f);
    return ok;
}

typedef struct ws_frame {
    bool fin;
    int opcode; /* -1: EOF, -2: timeout or bad frame */
    uint8_t *data;
    size_t len;
} ws_frame;

static ws_frame ws_read(int fd, int timeout_ms)
{
    ws_frame f = {false, -2, NULL, 0};
    uint8_t h[2];
    int r = read_exact(fd, h, 2, timeout_ms);
    if (r == 0)
        f.opcode = -1;
    if (r != 1)
        return f;
    if (h[1] & 0x80) /* a server never masks */
        return f;
    uint64_t len = h[1] & 0x7f;
    if (len == 126) {
        uint8_t b[2];
        if (read_exact(fd, b, 2, IO_TIMEOUT_MS) != 1)
            return f;
        len = (uint64_t)b[0] << 8 | b[1];
    } else if (len == 127) {
        uint8_t b[8];
        if (read_exact(fd, b, 8, IO_TIMEOUT_MS) != 1)
            return f;
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | b[i];
    }
    if (len > (64u << 20))
        return f;
    f.data = malloc(len + 1);
    if (!f.data || (len && read_exact(fd, f.data, len, IO_TIMEOUT_MS) != 1)) {
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

static uint16_t close_code(const ws_frame *f)
{
    return f->len >= 2 ? (uint16_t)(f->data[0] << 8 | f->data[1]) : 0;
}

/* Sends close `code`, expects the server's close (same code), then EOF. */
static void ws_close_handshake(int fd, uint16_t code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    assert_true(ws_send_frame(fd, true, 8, p, 2));
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(close_code(&f), code);
    free(f.data);
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1); /* the server closes the TCP connection */
    close(fd);
}

static void echo_check(int fd, int opcode, size_t len)
{
    uint8_t *msg = malloc(len ? len : 1);
    assert_non_null(msg);
    for (size_t i = 0; i < len; i++)
        msg[i] = opcode == 1 ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 7 + len);
    assert_true(ws_send_frame(fd, true, opcode, msg, len));
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2); /* binary, whatever came in */
    assert_true(f.fin);
    assert_int_equal(f.len, len);
    assert_memory_equal(f.data, msg, len);
    free(f.data);
    free(msg);
}

/* A raw HTTP exchange: returns the status; the head and body go into buf. */
static int http_raw(uint16_t port, const char *request, char *buf, size_t cap)
{
    int fd = tcp_connect(port);
    if (fd < 0)
        return -1;
    if (!send_all(fd, request, strlen(request), IO_TIMEOUT_MS) || !read_head(fd, buf, cap)) {
        close(fd);
        return -1;
    }
    char cl[32];
    size_t head_len = strlen(buf);
    if (head_value(buf, "Content-Length", cl, sizeof cl)) {
        size_t n = strtoul(cl, NULL, 10);
        if (head_len + n + 1 <= cap && read_exact(fd, buf + head_len, n, IO_TIMEOUT_MS) == 1)
            buf[head_len + n] = '\0';
    }
    close(fd);
    return atoi(buf + 9);
}

/* ---------------------------------------------------------------------------------------- */
/* Tests                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_handshake(void **state)
{
    env *e = *state;
    int base_o, base_c;
    settled_counts(&base_o, &base_c);
    int fd = tcp_connect(e->port);
    assert_true(fd >= 0);
    const char *req = "GET " WS_PATH "?x=1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_true(send_all(fd, req, strlen(req), IO_TIMEOUT_MS));
    char head[2048], v[128];
    assert_true(read_head(fd, head, sizeof head));
    assert_memory_equal(head, "HTTP/1.1 101", 12);
    assert_true(head_value(head, "Sec-WebSocket-Accept", v, sizeof v));
    assert_string_equal(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455, section 1.3 */
    assert_true(head_value(head, "Upgrade", v, sizeof v));
    assert_true(strcasecmp(v, "websocket") == 0);
    assert_true(head_value(head, "Connection", v, sizeof v));
    for (char *p = v; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    assert_non_null(strstr(v, "upgrade"));
    echo_check(fd, 2, 5);
    ws_close_handshake(fd, 1000);
    assert_true(wait_closed(base_c + 1));
}

/* Frames the client sent right behind the request (before the 101) are not lost. */
static void test_frame_with_request(void **state)
{
    env *e = *state;
    int fd = tcp_connect(e->port);
    assert_true(fd >= 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
    size_t flen;
    uint8_t *f = frame(true, 2, "early", 5, &flen);
    assert_non_null(f);
    uint8_t all[700];
    memcpy(all, req, (size_t)n);
    memcpy(all + n, f, flen);
    free(f);
    assert_true(send_all(fd, all, (size_t)n + flen, IO_TIMEOUT_MS));
    char head[2048];
    assert_true(read_head(fd, head, sizeof head));
    assert_memory_equal(head, "HTTP/1.1 101", 12);
    ws_frame r = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, 2);
    assert_int_equal(r.len, 5);
    assert_memory_equal(r.data, "early", 5);
    free(r.data);
    ws_close_handshake(fd, 1000);
}

static void test_echo_sizes(void **state)
{
    env *e = *state;
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    echo_check(fd, 2, 0);
    echo_check(fd, 2, 125);
    echo_check(fd, 2, 126);
    echo_check(fd, 2, 1000); /* 16-bit length */
    echo_check(fd, 2, 65535);
    echo_check(fd, 2, 70000);    /* 64-bit length */
    echo_check(fd, 1, 11);       /* text in, binary out */
    echo_check(fd, 2, 1u << 20); /* the limit itself is fine */
    ws_close_handshake(fd, 1000);
}

static void test_fragmented_with_ping(void **state)
{
    env *e = *state;
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i % 251);
    assert_true(ws_send_frame(fd, false, 2, big, 1000));
    assert_true(ws_send_frame(fd, true, 9, "ping!", 5)); /* control frame between fragments */
    assert_true(ws_send_frame(fd, false, 0, big + 1000, 60000));
    assert_true(ws_send_frame(fd, true, 0, big + 61000, sizeof big - 61000));
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 10); /* pong first, with the ping's payload */
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "ping!", 5);
    free(f.data);
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2);
    assert_int_equal(f.len, sizeof big);
    assert_memory_equal(f.data, big, sizeof big);
    free(f.data);
    /* fragmented text */
    assert_true(ws_send_frame(fd, false, 1, "hel", 3));
    assert_true(ws_send_frame(fd, true, 0, "lo", 2));
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "hello", 5);
    free(f.data);
    ws_close_handshake(fd, 1000);
}

static void test_ping_pong(void **state)
{
    env *e = *state;
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    assert_true(ws_send_frame(fd, true, 9, NULL, 0));
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 10);
    assert_int_equal(f.len, 0);
    free(f.data);
    assert_true(ws_send_frame(fd, true, 9, "abc", 3));
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 10);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, "abc", 3);
    free(f.data);
    ws_close_handshake(fd, 1000);
}

/* Expects close `code` from the server, then its EOF (it shut its side down). */
static void expect_close(int fd, uint16_t code)
{
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(close_code(&f), code);
    free(f.data);
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1);
    close(fd);
}

/* Frame headers wslay's reader fails on: each gets close 1002 (RFC 6455 5.5, 7.4.1), after
 * the answer to what came before it in the same write, and closed() runs once. */
static void test_bad_control_frames(void **state)
{
    env *e = *state;
    uint8_t *big = malloc(70000);
    assert_non_null(big);
    memset(big, 'p', 70000);
    for (int kind = 0; kind < 6; kind++) {
        int o0, c0;
        settled_counts(&o0, &c0);
        int fd = ws_open(e->port);
        assert_true(fd >= 0);
        size_t n1, n2;
        uint8_t *good = frame(true, 2, "before", 6, &n1);
        uint8_t *bad = NULL;
        switch (kind) {
        case 0:
            bad = frame(true, 9, big, 126, &n2);
            break; /* ping over 125 bytes */
        case 1:
            bad = frame(false, 9, big, 5, &n2);
            break; /* fragmented ping */
        case 2:
            bad = frame(true, 10, big, 200, &n2);
            break; /* pong over 125 bytes */
        case 3:
            bad = frame(false, 8, big, 2, &n2);
            break; /* fragmented close */
        case 4:    /* 16-bit length under 126 */
            bad = frame(true, 2, big, 130, &n2);
            bad[2] = 0;
            bad[3] = 5;
            n2 = 4 + 4 + 5;
            break;
        default: /* 64-bit length under 65536 */
            bad = frame(true, 2, big, 70000, &n2);
            memset(bad + 2, 0, 7);
            bad[9] = 5;
            n2 = 10 + 4 + 5;
            break;
        }
        assert_non_null(good);
        assert_non_null(bad);
        uint8_t both[512];
        assert_true(n1 + n2 <= sizeof both);
        memcpy(both, good, n1);
        memcpy(both + n1, bad, n2);
        free(good);
        free(bad);
        assert_true(send_all(fd, both, n1 + n2, IO_TIMEOUT_MS)); /* one write: one read */
        ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
        assert_int_equal(f.opcode, 2);
        assert_int_equal(f.len, 6);
        free(f.data);
        expect_close(fd, 1002);
        assert_true(wait_closed(c0 + 1));
    }
    free(big);
}

/* The same when the frames come in the upgrade request's packet (bytes libmicrohttpd read
 * past the request, which wslay reads first). */
static void test_bad_frame_with_request(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    int fd = tcp_connect(e->port);
    assert_true(fd >= 0);
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n");
    uint8_t big[130] = {0};
    size_t n1, n2;
    uint8_t *good = frame(true, 2, "early", 5, &n1);
    uint8_t *bad = frame(true, 9, big, sizeof big, &n2);
    assert_non_null(good);
    assert_non_null(bad);
    uint8_t all[1024];
    memcpy(all, req, (size_t)n);
    memcpy(all + n, good, n1);
    memcpy(all + n + n1, bad, n2);
    free(good);
    free(bad);
    assert_true(send_all(fd, all, (size_t)n + n1 + n2, IO_TIMEOUT_MS));
    char head[2048];
    assert_true(read_head(fd, head, sizeof head));
    assert_memory_equal(head, "HTTP/1.1 101", 12);
    ws_frame r = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, 2);
    assert_int_equal(r.len, 5);
    free(r.data);
    expect_close(fd, 1002);
    assert_true(wait_closed(c0 + 1));
}

static void test_client_close(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    echo_check(fd, 2, 3);
    ws_close_handshake(fd, 1000);
    assert_true(wait_closed(c0 + 1));
    sleep_ms(SHORT_TIMEOUT_MS);
    int o, c;
    counts(&o, &c);
    assert_int_equal(o, o0 + 1);
    assert_int_equal(c, c0 + 1); /* exactly once */
    assert_false(atomic_load(&H.double_close));
}

static void test_client_vanishes(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    echo_check(fd, 2, 3);
    close(fd); /* no close frame */
    assert_true(wait_closed(c0 + 1));
}

static void test_server_close(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    assert_true(ws_send_frame(fd, true, 2, "!close", 6));
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2); /* what was queued before the close goes first */
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, "bye", 3);
    free(f.data);
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(close_code(&f), 1000);
    free(f.data);
    uint8_t p[2] = {0x03, 0xe8};
    assert_true(ws_send_frame(fd, true, 8, p, 2));
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1);
    close(fd);
    assert_true(wait_closed(c0 + 1));
    assert_false(atomic_load(&H.double_close)); /* the send after sf_ws_close failed */
}

static void test_bad_handshakes(void **state)
{
    env *e = *state;
    static const char *const bad[] = {
        /* no key */
        "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n",
        /* version 8 */
        "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
        /* POST */
        "POST " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        "Content-Length: 0\r\n\r\n",
        /* no Upgrade */
        "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        /* Connection without upgrade */
        "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        /* key not 16 bytes of base64 */
        "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: not-a-key\r\nSec-WebSocket-Version: 13\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char buf[4096], ct[64];
        int status = http_raw(e->port, bad[i], buf, sizeof buf);
        if (status != 400)
            fail_msg("case %zu: status %d", i, status);
        assert_true(head_value(buf, "Content-Type", ct, sizeof ct));
        assert_string_equal(ct, "application/json");
        assert_non_null(strstr(buf, "\"status\": 400"));
        assert_non_null(strstr(buf, "\"code\": "));
        assert_non_null(strstr(buf, "\"more_info\": \"https://www.twilio.com/docs/errors/"));
    }
}

static void test_too_big(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    size_t len = 2u << 20;
    uint8_t *msg = calloc(1, len);
    assert_non_null(msg);
    size_t flen;
    uint8_t *f = frame(true, 2, msg, len, &flen);
    free(msg);
    assert_non_null(f);
    assert_true(send_all(fd, f, flen, IO_TIMEOUT_MS)); /* the server drains what it refuses */
    free(f);
    ws_frame r = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, 8);
    assert_int_equal(close_code(&r), 1009);
    free(r.data);
    r = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, -1);
    close(fd);
    assert_true(wait_closed(c0 + 1));
    int o, c;
    counts(&o, &c);
    assert_int_equal(o, o0 + 1);
}

/* A peer that stops reading: the server queues what fits in SF_WS_MAX_OUTBOX, refuses the
 * next send and closes with 1008 after what was queued, instead of growing without bound. */
static void test_outbox_limit(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    atomic_store(&H.flood_sent, -1);
    int fd = ws_open(e->port);
    assert_true(fd >= 0);
    assert_true(ws_send_frame(fd, true, 2, "!flood", 6));
    int64_t end = now_ms() + IO_TIMEOUT_MS;
    while (atomic_load(&H.flood_sent) < 0 && now_ms() < end)
        sleep_ms(2);
    int sent = atomic_load(&H.flood_sent);
    assert_int_equal(sent, (int)(SF_WS_MAX_OUTBOX / (FLOOD_LEN + 4)));
    for (int i = 0; i < sent; i++) {
        ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
        assert_int_equal(f.opcode, 2);
        assert_int_equal(f.len, FLOOD_LEN);
        assert_int_equal(f.data[0], (uint8_t)i);
        assert_int_equal(f.data[FLOOD_LEN - 1], (uint8_t)i);
        free(f.data);
    }
    ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(close_code(&f), 1008);
    free(f.data);
    uint8_t code[2] = {1008 >> 8, 1008 & 0xff};
    assert_true(ws_send_frame(fd, true, 8, code, 2));
    f = ws_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1); /* then EOF */
    close(fd);
    assert_true(wait_closed(c0 + 1));
}

/* A plain GET elsewhere still reaches the dispatcher. */
static void test_other_paths_untouched(void **state)
{
    env *e = *state;
    char buf[4096];
    int status = http_raw(e->port, "GET /v1/Services HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
    assert_int_equal(status, 401); /* no credentials */
}

/* sf_server_stop with open WebSockets: every one gets close 1001, every closed() runs. */
static void test_stop_with_open(void **state)
{
    (void)state;
    env *e = NULL;
    assert_int_equal(env_setup((void **)&e), 0);
    int o0, c0;
    settled_counts(&o0, &c0);
    int fds[5];
    for (int i = 0; i < 5; i++) {
        fds[i] = ws_open(e->port);
        assert_true(fds[i] >= 0);
        echo_check(fds[i], 2, 10);
    }
    int64_t t0 = now_ms();
    sf_server_stop(e->srv);
    int64_t took = now_ms() - t0;
    e->srv = NULL;
    int o, c;
    counts(&o, &c);
    assert_int_equal(o, o0 + 5);
    assert_int_equal(c, c0 + 5);
    assert_true(took < 2000);
    for (int i = 0; i < 5; i++) {
        ws_frame f = ws_read(fds[i], IO_TIMEOUT_MS);
        assert_int_equal(f.opcode, 8);
        assert_int_equal(close_code(&f), 1001);
        free(f.data);
        close(fds[i]);
    }
    sf_fake_free(e->fake);
    free(e);
}

/* ---- 20 connections opening and closing while another thread sends ---- */

static atomic_bool broadcasting;
static atomic_long broadcast_sent;

static void *broadcaster(void *arg)
{
    (void)arg;
    uint64_t seq = 0;
    while (atomic_load(&broadcasting)) {
        pthread_mutex_lock(&H.lock);
        for (int i = 0; i < MAX_CONNS; i++) {
            if (!H.live[i])
                continue;
            uint8_t msg[16] = "seq:";
            memcpy(msg + 4, &seq, 8);
            if (sf_ws_send(H.live[i]->conn, msg, 12))
                atomic_fetch_add(&broadcast_sent, 1);
        }
        pthread_mutex_unlock(&H.lock);
        seq++;
        sleep_ms(1);
    }
    return NULL;
}

typedef struct churn_arg {
    uint16_t port;
    int id;
    int failures;
    int received;
} churn_arg;

static void *churn(void *arg)
{
    churn_arg *a = arg;
    for (int round = 0; round < 4; round++) {
        int fd = ws_open(a->port);
        if (fd < 0) {
            a->failures++;
            continue;
        }
        /* read a few broadcast messages, in order */
        uint64_t last = 0;
        bool first = true;
        for (int k = 0; k < 3; k++) {
            ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
            if (f.opcode != 2 || f.len != 12 || memcmp(f.data, "seq:", 4) != 0) {
                a->failures++;
                free(f.data);
                break;
            }
            uint64_t seq;
            memcpy(&seq, f.data + 4, 8);
            if (!first && seq <= last)
                a->failures++;
            first = false;
            last = seq;
            a->received++;
            free(f.data);
        }
        if ((a->id + round) % 3 == 0) {
            close(fd); /* abrupt */
        } else {
            uint8_t p[2] = {0x03, 0xe8};
            if (!ws_send_frame(fd, true, 8, p, 2))
                a->failures++;
            /* broadcast frames may come before the close reply */
            for (;;) {
                ws_frame f = ws_read(fd, IO_TIMEOUT_MS);
                free(f.data);
                if (f.opcode == 8)
                    break;
                if (f.opcode < 0) {
                    a->failures++;
                    break;
                }
            }
            close(fd);
        }
    }
    return NULL;
}

static void test_churn_with_sender(void **state)
{
    env *e = *state;
    int o0, c0;
    settled_counts(&o0, &c0);
    atomic_store(&broadcasting, true);
    pthread_t b;
    assert_int_equal(pthread_create(&b, NULL, broadcaster, NULL), 0);
    enum { N = 20 };
    pthread_t t[N];
    churn_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (churn_arg){e->port, i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, churn, &args[i]), 0);
    }
    int failures = 0, received = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        failures += args[i].failures;
        received += args[i].received;
    }
    assert_int_equal(failures, 0);
    assert_int_equal(received, N * 4 * 3);
    assert_true(wait_closed(c0 + N * 4));
    atomic_store(&broadcasting, false);
    pthread_join(b, NULL);
    int o, c;
    counts(&o, &c);
    assert_int_equal(o, o0 + N * 4);
    assert_int_equal(c, c0 + N * 4);
    assert_false(atomic_load(&H.double_close));
    assert_true(atomic_load(&broadcast_sent) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_frame_with_request),
        cmocka_unit_test(test_echo_sizes),
        cmocka_unit_test(test_fragmented_with_ping),
        cmocka_unit_test(test_ping_pong),
        cmocka_unit_test(test_bad_control_frames),
        cmocka_unit_test(test_bad_frame_with_request),
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_client_vanishes),
        cmocka_unit_test(test_server_close),
        cmocka_unit_test(test_bad_handshakes),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_outbox_limit),
        cmocka_unit_test(test_other_paths_untouched),
        cmocka_unit_test(test_churn_with_sender),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_stop_with_open),
    };
    int failed = cmocka_run_group_tests_name("websocket", tests, env_setup, env_teardown);
    failed += cmocka_run_group_tests_name("websocket_stop", alone, NULL, NULL);
    return failed;
}
