/* SPDX-License-Identifier: MIT */
/* test_websocket_limits.c: what a WebSocket peer of the loopback server may not do, and what
 * it gets: a ping or pong over 125 bytes, a fragmented control frame, or a length not in its
 * shortest form gets close 1002 after the answer to what came before it in the same write, also
 * when those frames came in the upgrade request's packet; a 2 MiB message gets close 1009; a
 * peer that lets more than SF_WS_MAX_OUTBOX bytes pile up (websocket_suite.h's "!flood") gets
 * what fitted, then close 1008. Each time closed() runs once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "loopback.h"
#include "websocket_suite.h"
#include "ws_client.h"

/* Frame headers wslay's reader fails on: each gets close 1002 (RFC 6455 5.5, 7.4.1), after
 * the answer to what came before it in the same write, and closed() runs once. */
static void test_bad_control_frames(void **state)
{
    ws_env *e = *state;
    uint8_t *big = malloc(70000);
    assert_non_null(big);
    memset(big, 'p', 70000);
    for (int kind = 0; kind < 6; kind++) {
        int o0, c0;
        ws_settled_counts(&o0, &c0);
        int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
        assert_true(fd >= 0);
        size_t n1, n2;
        uint8_t *good = sf_wsc_frame_bytes(true, 2, "before", 6, &n1);
        uint8_t *bad = NULL;
        switch (kind) {
        case 0:
            bad = sf_wsc_frame_bytes(true, 9, big, 126, &n2);
            break; /* ping over 125 bytes */
        case 1:
            bad = sf_wsc_frame_bytes(false, 9, big, 5, &n2);
            break; /* fragmented ping */
        case 2:
            bad = sf_wsc_frame_bytes(true, 10, big, 200, &n2);
            break; /* pong over 125 bytes */
        case 3:
            bad = sf_wsc_frame_bytes(false, 8, big, 2, &n2);
            break; /* fragmented close */
        case 4:    /* 16-bit length under 126 */
            bad = sf_wsc_frame_bytes(true, 2, big, 130, &n2);
            bad[2] = 0;
            bad[3] = 5;
            n2 = 4 + 4 + 5;
            break;
        default: /* 64-bit length under 65536 */
            bad = sf_wsc_frame_bytes(true, 2, big, 70000, &n2);
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
        assert_true(sf_wsc_send_raw(fd, both, n1 + n2)); /* one write: one read */
        sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
        assert_int_equal(f.opcode, 2);
        assert_int_equal(f.len, 6);
        free(f.data);
        ws_expect_close(fd, 1002);
        assert_true(ws_wait_closed(c0 + 1));
    }
    free(big);
}

/* The same when the frames come in the upgrade request's packet (bytes libmicrohttpd read
 * past the request, which wslay reads first). */
static void test_bad_frame_with_request(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    uint8_t big[130] = {0};
    size_t n1, n2;
    uint8_t *good = sf_wsc_frame_bytes(true, 2, "early", 5, &n1);
    uint8_t *bad = sf_wsc_frame_bytes(true, 9, big, sizeof big, &n2);
    assert_non_null(good);
    assert_non_null(bad);
    uint8_t both[512];
    memcpy(both, good, n1);
    memcpy(both + n1, bad, n2);
    free(good);
    free(bad);
    int fd = ws_upgrade_with(e->port, both, n1 + n2);
    sf_wsc_frame r = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, 2);
    assert_int_equal(r.len, 5);
    free(r.data);
    ws_expect_close(fd, 1002);
    assert_true(ws_wait_closed(c0 + 1));
}

static void test_too_big(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    size_t len = 2u << 20;
    uint8_t *msg = calloc(1, len);
    assert_non_null(msg);
    size_t flen;
    uint8_t *f = sf_wsc_frame_bytes(true, 2, msg, len, &flen);
    free(msg);
    assert_non_null(f);
    assert_true(sf_wsc_send_raw(fd, f, flen)); /* the server drains what it refuses */
    free(f);
    sf_wsc_frame r = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, 8);
    assert_int_equal(sf_wsc_close_code(&r), 1009);
    free(r.data);
    r = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, -1);
    close(fd);
    assert_true(ws_wait_closed(c0 + 1));
    int o, c;
    ws_counts(&o, &c);
    assert_int_equal(o, o0 + 1);
}

/* A peer that stops reading: the server queues what fits in SF_WS_MAX_OUTBOX, refuses the
 * next send and closes with 1008 after what was queued, instead of growing without bound. */
static void test_outbox_limit(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    atomic_store(&ws_echo.flood_sent, -1);
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    assert_true(sf_wsc_send(fd, true, 2, "!flood", 6));
    int64_t end = lb_now_ms() + WS_IO_TIMEOUT_MS;
    while (atomic_load(&ws_echo.flood_sent) < 0 && lb_now_ms() < end)
        lb_sleep_ms(2);
    int sent = atomic_load(&ws_echo.flood_sent);
    assert_int_equal(sent, (int)(SF_WS_MAX_OUTBOX / (WS_FLOOD_LEN + 4)));
    for (int i = 0; i < sent; i++) {
        sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
        assert_int_equal(f.opcode, 2);
        assert_int_equal(f.len, WS_FLOOD_LEN);
        assert_int_equal(f.data[0], (uint8_t)i);
        assert_int_equal(f.data[WS_FLOOD_LEN - 1], (uint8_t)i);
        free(f.data);
    }
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(sf_wsc_close_code(&f), 1008);
    free(f.data);
    uint8_t code[2] = {1008 >> 8, 1008 & 0xff};
    assert_true(sf_wsc_send(fd, true, 8, code, 2));
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1); /* then EOF */
    close(fd);
    assert_true(ws_wait_closed(c0 + 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_control_frames),
        cmocka_unit_test(test_bad_frame_with_request),
        cmocka_unit_test(test_too_big),
        cmocka_unit_test(test_outbox_limit),
    };
    return cmocka_run_group_tests_name("websocket_limits", tests, ws_env_setup, ws_env_teardown);
}
