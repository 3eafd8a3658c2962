/* SPDX-License-Identifier: MIT */
/* test_websocket_handshake.c: the WebSocket upgrade of the loopback server
 * (fake_http/server/websocket.c behind server.c), over real TCP sockets with
 * tests/support/ws_client.h: the 101 answer and its Sec-WebSocket-Accept (RFC 6455's example
 * key), Upgrade and Connection headers; frames sent right behind the request are not lost; bad
 * handshakes (no key, version 8, POST, no Upgrade, Connection without upgrade, a key that is
 * not 16 bytes of base64) get 400 JSON in Twilio's shape; a plain GET elsewhere still reaches
 * the dispatcher. The handler is websocket_suite.h's echo. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <strings.h>
#include <unistd.h>

#include "loopback.h"
#include "websocket_suite.h"
#include "ws_client.h"

static void test_handshake(void **state)
{
    ws_env *e = *state;
    int base_o, base_c;
    ws_settled_counts(&base_o, &base_c);
    int fd = lb_connect(e->port);
    assert_true(fd >= 0);
    const char *req = "GET " WS_PATH "?x=1 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n\r\n";
    assert_true(sf_wsc_send_raw(fd, req, strlen(req)));
    char head[2048], v[128];
    assert_true(sf_wsc_read_head(fd, head, sizeof head, WS_IO_TIMEOUT_MS));
    assert_memory_equal(head, "HTTP/1.1 101", 12);
    assert_true(lb_header(head, "Sec-WebSocket-Accept", v, sizeof v));
    assert_string_equal(v, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="); /* RFC 6455, section 1.3 */
    assert_true(lb_header(head, "Upgrade", v, sizeof v));
    assert_true(strcasecmp(v, "websocket") == 0);
    assert_true(lb_header(head, "Connection", v, sizeof v));
    for (char *p = v; *p; p++)
        *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    assert_non_null(strstr(v, "upgrade"));
    ws_echo_check(fd, 2, 5);
    ws_close_handshake(fd, 1000);
    assert_true(ws_wait_closed(base_c + 1));
}

/* Frames the client sent right behind the request (before the 101) are not lost. */
static void test_frame_with_request(void **state)
{
    ws_env *e = *state;
    size_t flen;
    uint8_t *f = sf_wsc_frame_bytes(true, 2, "early", 5, &flen);
    assert_non_null(f);
    int fd = ws_upgrade_with(e->port, f, flen);
    free(f);
    sf_wsc_frame r = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
    assert_int_equal(r.opcode, 2);
    assert_int_equal(r.len, 5);
    assert_memory_equal(r.data, "early", 5);
    free(r.data);
    ws_close_handshake(fd, 1000);
}

static void test_bad_handshakes(void **state)
{
    ws_env *e = *state;
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
        int status = ws_http_raw(e->port, bad[i], buf, sizeof buf);
        if (status != 400)
            fail_msg("case %zu: status %d", i, status);
        assert_true(lb_header(buf, "Content-Type", ct, sizeof ct));
        assert_string_equal(ct, "application/json");
        assert_non_null(strstr(buf, "\"status\": 400"));
        assert_non_null(strstr(buf, "\"code\": "));
        assert_non_null(strstr(buf, "\"more_info\": \"https://www.twilio.com/docs/errors/"));
    }
}

/* A plain GET elsewhere still reaches the dispatcher. */
static void test_other_paths_untouched(void **state)
{
    ws_env *e = *state;
    char buf[4096];
    int status =
        ws_http_raw(e->port, "GET /v1/Services HTTP/1.1\r\nHost: x\r\n\r\n", buf, sizeof buf);
    assert_int_equal(status, 401); /* no credentials */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake),
        cmocka_unit_test(test_frame_with_request),
        cmocka_unit_test(test_bad_handshakes),
        cmocka_unit_test(test_other_paths_untouched),
    };
    return cmocka_run_group_tests_name("websocket_handshake", tests, ws_env_setup, ws_env_teardown);
}
