/* SPDX-License-Identifier: MIT */
/* test_websocket_messages.c: messages both ways over a WebSocket of the loopback server, with
 * websocket_suite.h's echo handler (which answers in three sf_ws_sendv pieces): echo of empty,
 * small, 125/126-byte, 1,000-byte (16-bit length), 65,535 and 70,000-byte (64-bit length) and
 * exactly 1 MiB messages; text in, binary out; fragmented messages with a ping between the
 * fragments (the pong comes first); ping -> pong with the ping's payload. */
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

static void test_echo_sizes(void **state)
{
    ws_env *e = *state;
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    ws_echo_check(fd, 2, 0);
    ws_echo_check(fd, 2, 125);
    ws_echo_check(fd, 2, 126);
    ws_echo_check(fd, 2, 1000); /* 16-bit length */
    ws_echo_check(fd, 2, 65535);
    ws_echo_check(fd, 2, 70000);    /* 64-bit length */
    ws_echo_check(fd, 1, 11);       /* text in, binary out */
    ws_echo_check(fd, 2, 1u << 20); /* the limit itself is fine */
    ws_close_handshake(fd, 1000);
}

static void test_fragmented_with_ping(void **state)
{
    ws_env *e = *state;
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    uint8_t big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i % 251);
    assert_true(sf_wsc_send(fd, false, 2, big, 1000));
    assert_true(sf_wsc_send(fd, true, 9, "ping!", 5)); /* control frame between fragments */
    assert_true(sf_wsc_send(fd, false, 0, big + 1000, 60000));
    assert_true(sf_wsc_send(fd, true, 0, big + 61000, sizeof big - 61000));
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 10); /* pong first, with the ping's payload */
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "ping!", 5);
    free(f.data);
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2);
    assert_int_equal(f.len, sizeof big);
    assert_memory_equal(f.data, big, sizeof big);
    free(f.data);
    /* fragmented text */
    assert_true(sf_wsc_send(fd, false, 1, "hel", 3));
    assert_true(sf_wsc_send(fd, true, 0, "lo", 2));
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2);
    assert_int_equal(f.len, 5);
    assert_memory_equal(f.data, "hello", 5);
    free(f.data);
    ws_close_handshake(fd, 1000);
}

static void test_ping_pong(void **state)
{
    ws_env *e = *state;
    int fd = sf_wsc_open_key(e->port, WS_PATH, NULL);
    assert_true(fd >= 0);
    assert_true(sf_wsc_send(fd, true, 9, NULL, 0));
    sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 10);
    assert_int_equal(f.len, 0);
    free(f.data);
    assert_true(sf_wsc_send(fd, true, 9, "abc", 3));
    f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 10);
    assert_int_equal(f.len, 3);
    assert_memory_equal(f.data, "abc", 3);
    free(f.data);
    ws_close_handshake(fd, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_sizes),
        cmocka_unit_test(test_fragmented_with_ping),
        cmocka_unit_test(test_ping_pong),
    };
    return cmocka_run_group_tests_name("websocket_messages", tests, ws_env_setup, ws_env_teardown);
}
