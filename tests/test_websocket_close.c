/* SPDX-License-Identifier: MIT */
/* test_websocket_close.c: the ends of a WebSocket of the loopback server: a client close gets
 * the close reply and closed() exactly once; a client that vanishes without a close frame is
 * closed too; a server close ("!close" to websocket_suite.h's handler) comes after the messages
 * queued before it, and a send after sf_ws_close fails; sf_server_stop with 5 open WebSockets
 * sends each close 1001 and runs every closed(), promptly. */
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

static void test_client_close(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    ws_echo_check(fd, 2, 3);
    ws_close_handshake(fd, 1000);
    assert_true(ws_wait_closed(c0 + 1));
    lb_sleep_ms(WS_SHORT_TIMEOUT_MS);
    int o, c;
    ws_counts(&o, &c);
    assert_int_equal(o, o0 + 1);
    assert_int_equal(c, c0 + 1); /* exactly once */
    assert_false(atomic_load(&ws_echo.double_close));
}

static void test_client_vanishes(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    ws_echo_check(fd, 2, 3);
    close(fd); /* no close frame */
    assert_true(ws_wait_closed(c0 + 1));
}

static void test_server_close(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    assert_true(sf_wsc_send(fd, true, 2, "!close", 6));
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2); /* what was queued before the close goes first */
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, "bye", 3);
    free(f.data);
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 8);
    assert_int_equal(sf_wsc_close_code(&f), 1000);
    free(f.data);
    uint8_t p[2] = {0x03, 0xe8};
    assert_true(sf_wsc_send(fd, true, 8, p, 2));
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, -1);
    close(fd);
    assert_true(ws_wait_closed(c0 + 1));
    assert_false(atomic_load(&ws_echo.double_close)); /* the send after sf_ws_close failed */
}

/* sf_server_stop with open WebSockets: every one gets close 1001, every closed() runs. */
static void test_stop_with_open(void **state)
{
    (void)state;
    ws_env *e = NULL;
    assert_int_equal(ws_env_setup((void **)&e), 0);
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    int fds[5];
    for (int i = 0; i < 5; i++) {
        fds[i] = sf_wsc_open_key(e->port, WS_PATH, NULL);
        assert_true(fds[i] >= 0);
        ws_echo_check(fds[i], 2, 10);
    }
    int64_t t0 = lb_now_ms();
    sf_server_stop(e->srv);
    int64_t took = lb_now_ms() - t0;
    e->srv = NULL;
    int o, c;
    ws_counts(&o, &c);
    assert_int_equal(o, o0 + 5);
    assert_int_equal(c, c0 + 5);
    assert_true(took < 2000);
    for (int i = 0; i < 5; i++) {
        sf_wsc_frame f = sf_wsc_read(fds[i], WS_IO_TIMEOUT_MS);
        assert_int_equal(f.opcode, 8);
        assert_int_equal(sf_wsc_close_code(&f), 1001);
        free(f.data);
        close(fds[i]);
    }
    sf_fake_free(e->fake);
    free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_close),
        cmocka_unit_test(test_client_vanishes),
        cmocka_unit_test(test_server_close),
    };
    const struct CMUnitTest alone[] = {
        cmocka_unit_test(test_stop_with_open),
    };
    int failed =
        cmocka_run_group_tests_name("websocket_close", tests, ws_env_setup, ws_env_teardown);
    failed += cmocka_run_group_tests_name("websocket_stop", alone, NULL, NULL);
    return failed;
}
