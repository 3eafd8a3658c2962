/* SPDX-License-Identifier: MIT */
/* test_server_http_edges.c: request shapes the server transport refuses itself, as Twilio-shaped
 * JSON 400 with the connection closed: two different Content-Length headers (a request-smuggling
 * shape) and HTTP/1.1 without Host; and a 401 carries WWW-Authenticate: Basic. Heads over the
 * server's caps (server.h) are 414 and 431 with the status table's body, also where
 * libmicrohttpd's default connection memory answered with its own HTML page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"
#include "server.h"
#include "syncfake.h"

#include <signal.h>
#include <unistd.h>

static int raw(const lb_server *s, const char *request, char *resp, size_t cap)
{
    int fd = lb_connect(s->port);
    assert_true(fd >= 0);
    assert_true(lb_send_str(fd, request, LB_IO_TIMEOUT_MS));
    assert_true(lb_read_response(fd, resp, cap, LB_IO_TIMEOUT_MS) > 0);
    close(fd);
    return lb_status(resp);
}

static void test_edges(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, NULL);
    char req[1024], resp[8192], v[128];
    snprintf(req, sizeof req,
             "POST /v1/Services HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 5\r\n"
             "Content-Length: 40\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n"
             "a=b&c",
             s.auth);
    assert_int_equal(raw(&s, req, resp, sizeof resp), 400);
    assert_non_null(strstr(lb_body(resp), "\"code\": 20001"));
    assert_true(lb_header(resp, "Connection", v, sizeof v));
    assert_string_equal(v, "close");

    snprintf(req, sizeof req, "GET /v1/Services HTTP/1.1\r\n%s\r\n\r\n", s.auth);
    assert_int_equal(raw(&s, req, resp, sizeof resp), 400);
    assert_non_null(strstr(lb_body(resp), "Missing Host"));

    assert_int_equal(raw(&s, "GET /v1/Services HTTP/1.1\r\nHost: x\r\n\r\n", resp, sizeof resp),
                     401);
    assert_true(lb_header(resp, "WWW-Authenticate", v, sizeof v));
    assert_string_equal(v, "Basic realm=\"Twilio API\"");

    /* HTTP/1.0 without Host is fine */
    snprintf(req, sizeof req, "GET /v1/Services HTTP/1.0\r\n%s\r\n\r\n", s.auth);
    assert_int_equal(raw(&s, req, resp, sizeof resp), 200);
    lb_stop(&s);
}

/* The response is the row's: its HTTP status, JSON, Twilio's body byte for byte, closed. */
static void expect_row(const char *resp, sf_status st)
{
    char want[512], v[128];
    snprintf(want, sizeof want,
             "{\"code\": %d, \"message\": \"%s\", \"more_info\": "
             "\"https://www.twilio.com/docs/errors/%d\", \"status\": %d}",
             sf_status_code(st), sf_status_message(st), sf_status_code(st), sf_status_http(st));
    assert_int_equal(lb_status(resp), sf_status_http(st));
    assert_string_equal(lb_body(resp), want);
    assert_true(lb_header(resp, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/json");
    assert_true(lb_header(resp, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
}

static void test_refusals_are_table_rows(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, NULL);
    char req[1024], resp[8192];
    snprintf(req, sizeof req,
             "POST /v1/Services HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 5\r\n"
             "Content-Length: 40\r\n\r\na=b&c",
             s.auth);
    raw(&s, req, resp, sizeof resp);
    expect_row(resp, SF_ERR_CONFLICTING_CONTENT_LENGTH);
    assert_int_equal(sf_status_http(SF_ERR_CONFLICTING_CONTENT_LENGTH), 400);
    assert_int_equal(sf_status_code(SF_ERR_CONFLICTING_CONTENT_LENGTH), 20001);
    snprintf(req, sizeof req, "GET /v1/Services HTTP/1.1\r\n%s\r\n\r\n", s.auth);
    raw(&s, req, resp, sizeof resp);
    expect_row(resp, SF_ERR_MISSING_HOST);
    assert_int_equal(sf_status_http(SF_ERR_MISSING_HOST), 400);
    lb_stop(&s);
}

/* A GET of `target` with one extra header of pad_len bytes ("X-Pad: aaa..."). */
static char *big_request(const lb_server *s, const char *target_prefix, size_t target_len,
                         size_t pad_len)
{
    char *req = malloc(target_len + pad_len + 1024);
    assert_non_null(req);
    size_t n = (size_t)sprintf(req, "GET %s", target_prefix);
    while (n - 4 < target_len)
        req[n++] = 'a';
    n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: x\r\n%s\r\n", s->auth);
    if (pad_len) {
        n += (size_t)sprintf(req + n, "X-Pad: ");
        memset(req + n, 'b', pad_len);
        n += pad_len;
        n += (size_t)sprintf(req + n, "\r\n");
    }
    sprintf(req + n, "\r\n");
    return req;
}

/* Over SF_SERVER_MAX_URI the target is 414 with the table's body, where libmicrohttpd's
 * default 32 KiB of connection memory answered with its own HTML 414; at the cap it is still
 * the dispatcher's (400: over its 8 KiB target limit). */
static void test_long_target_is_414(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, NULL);
    static char resp[8192];
    const char *prefix = "/v1/Services?Pad=";
    char *req = big_request(&s, prefix, SF_SERVER_MAX_URI, 0);
    assert_int_equal(raw(&s, req, resp, sizeof resp), 400);
    assert_non_null(strstr(lb_body(resp), "\"Invalid parameter"));
    free(req);
    size_t over[] = {SF_SERVER_MAX_URI + 1, 40 * 1024, 56 * 1024};
    for (size_t i = 0; i < sizeof over / sizeof *over; i++) {
        req = big_request(&s, prefix, over[i], 0);
        raw(&s, req, resp, sizeof resp);
        expect_row(resp, SF_ERR_URI_TOO_LONG);
        free(req);
    }
    lb_stop(&s);
}

/* A head over SF_SERVER_MAX_HEAD is 431, likewise; one within it is served. */
static void test_large_head_is_431(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, NULL);
    static char resp[8192];
    char *req = big_request(&s, "/v1/Services", 12, SF_SERVER_MAX_HEAD / 2);
    assert_int_equal(raw(&s, req, resp, sizeof resp), 200);
    free(req);
    size_t over[] = {SF_SERVER_MAX_HEAD, 48 * 1024, 56 * 1024};
    for (size_t i = 0; i < sizeof over / sizeof *over; i++) {
        req = big_request(&s, "/v1/Services", 12, over[i]);
        raw(&s, req, resp, sizeof resp);
        expect_row(resp, SF_ERR_HEADERS_TOO_LARGE);
        free(req);
    }
    lb_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_edges),
                                       cmocka_unit_test(test_refusals_are_table_rows),
                                       cmocka_unit_test(test_long_target_is_414),
                                       cmocka_unit_test(test_large_head_is_431)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
