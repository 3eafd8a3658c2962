/* SPDX-License-Identifier: MIT */
/* websocket_suite.c: see websocket_suite.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"
#include "websocket_suite.h"
#include "ws_client.h"

#include <unistd.h>

ws_echo_state ws_echo = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void *h_open(void *ctx, sf_ws_conn *conn)
{
    (void)ctx;
    ws_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->conn = conn;
    s->slot = -1;
    pthread_mutex_lock(&ws_echo.lock);
    ws_echo.opened++;
    for (int i = 0; i < WS_MAX_CONNS; i++)
        if (!ws_echo.live[i]) {
            ws_echo.live[i] = s;
            s->slot = i;
            break;
        }
    pthread_mutex_unlock(&ws_echo.lock);
    return s;
}

static void h_message(void *sess, const uint8_t *data, size_t len)
{
    ws_session *s = sess;
    pthread_mutex_lock(&ws_echo.lock);
    ws_echo.messages++;
    pthread_mutex_unlock(&ws_echo.lock);
    if (len == 6 && memcmp(data, "!close", 6) == 0) {
        sf_ws_send(s->conn, (const uint8_t *)"bye", 3);
        sf_ws_close(s->conn, 1000);
        bool after = sf_ws_send(s->conn, (const uint8_t *)"late", 4);
        if (after) /* must not be sent: the close was asked before */
            atomic_store(&ws_echo.double_close, true);
        return;
    }
    if (len == 6 && memcmp(data, "!flood", 6) == 0) {
        /* the handler runs on the connection's I/O thread: nothing leaves until it returns */
        static uint8_t chunk[WS_FLOOD_LEN];
        int sent = 0;
        for (;;) {
            memset(chunk, (uint8_t)sent, sizeof chunk);
            if (!sf_ws_send(s->conn, chunk, sizeof chunk))
                break;
            sent++;
        }
        atomic_store(&ws_echo.flood_sent, sent);
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
    ws_session *s = sess;
    pthread_mutex_lock(&ws_echo.lock);
    ws_echo.closed++;
    if (s->slot >= 0 && ws_echo.live[s->slot] == s)
        ws_echo.live[s->slot] = NULL;
    else if (s->slot >= 0)
        atomic_store(&ws_echo.double_close, true);
    pthread_mutex_unlock(&ws_echo.lock);
    s->conn = NULL;
    free(s);
}

const sf_ws_handler ws_echo_handler = {h_open, h_message, h_closed, NULL};

void ws_counts(int *opened, int *closed)
{
    pthread_mutex_lock(&ws_echo.lock);
    *opened = ws_echo.opened;
    *closed = ws_echo.closed;
    pthread_mutex_unlock(&ws_echo.lock);
}

/* Waits until closed() ran `n` times in all. */
bool ws_wait_closed(int n)
{
    int64_t end = lb_now_ms() + WS_IO_TIMEOUT_MS;
    for (;;) {
        int o, c;
        ws_counts(&o, &c);
        if (c >= n)
            return c == n;
        if (lb_now_ms() > end)
            return false;
        lb_sleep_ms(2);
    }
}

/* Waits until every opened connection was closed (closed() runs on the connection's I/O thread,
 * a little after the client saw the close), then reads the counters. */
void ws_settled_counts(int *opened, int *closed)
{
    int64_t end = lb_now_ms() + WS_IO_TIMEOUT_MS;
    do {
        ws_counts(opened, closed);
        if (*opened == *closed)
            return;
        lb_sleep_ms(2);
    } while (lb_now_ms() < end);
    fail_msg("opened %d, closed %d", *opened, *closed);
}

int ws_env_setup(void **state)
{
    ws_env *e = calloc(1, sizeof *e);
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
        .host = "127.0.0.1", .fake = e->fake, .ws = &ws_echo_handler, .ws_io_threads = 3};
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

int ws_env_teardown(void **state)
{
    ws_env *e = *state;
    if (!e)
        return 0;
    sf_server_stop(e->srv);
    sf_fake_free(e->fake);
    free(e);
    *state = NULL;
    int o, c;
    ws_counts(&o, &c);
    if (o != c) { /* every opened connection was closed by the stop */
        fprintf(stderr, "opened %d closed %d\n", o, c);
        return -1;
    }
    return 0;
}

/* Sends close `code`, expects the server's close (same code), then EOF. */
void ws_close_handshake(int fd, uint16_t code)
{
    uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    assert_true(sf_wsc_send(fd, true, 8, p, 2));
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(sf_wsc_close_code(&f), code);
    free(f.data);
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1); /* the server closes the TCP connection */
    close(fd);
}

void ws_echo_check(int fd, int opcode, size_t len)
{
    uint8_t *msg = malloc(len ? len : 1);
    assert_non_null(msg);
    for (size_t i = 0; i < len; i++)
        msg[i] = opcode == 1 ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 7 + len);
    assert_true(sf_wsc_send(fd, true, opcode, msg, len));
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2); /* binary, whatever came in */
    assert_true(f.fin);
    assert_int_equal(f.len, len);
    assert_memory_equal(f.data, msg, len);
    free(f.data);
    free(msg);
}

int ws_upgrade_with(uint16_t port, const void *frames, size_t len)
{
    static const char req[] =
        "GET " WS_PATH " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n";
    int fd = lb_connect(port);
    assert_true(fd >= 0);
    size_t n = sizeof req - 1;
    uint8_t *all = malloc(n + len);
    assert_non_null(all);
    memcpy(all, req, n);
    memcpy(all + n, frames, len);
    bool sent = sf_wsc_send_raw(fd, all, n + len);
    free(all);
    assert_true(sent);
    char head[2048];
    assert_true(sf_wsc_read_head(fd, head, sizeof head, WS_IO_TIMEOUT_MS));
    assert_memory_equal(head, "HTTP/1.1 101", 12);
    return fd;
}

int ws_http_raw(uint16_t port, const char *request, char *buf, size_t cap)
{
    int fd = lb_connect(port);
    if (fd < 0)
        return -1;
    int status = -1;
    if (lb_send_str(fd, request, WS_IO_TIMEOUT_MS) &&
        lb_read_response(fd, buf, cap, WS_IO_TIMEOUT_MS) > 0)
        status = lb_status(buf);
    close(fd);
    return status;
}

/* Expects close `code` from the server, then its EOF (it shut its side down). */
void ws_expect_close(int fd, uint16_t code)
{
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(sf_wsc_close_code(&f), code);
    free(f.data);
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1);
    close(fd);
}
