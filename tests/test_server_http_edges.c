/* SPDX-License-Identifier: MIT */
/* test_server_http_edges.c: request shapes the server transport refuses itself, as Twilio-shaped
 * JSON 400 with the connection closed: two different Content-Length headers (a request-smuggling
 * shape) and HTTP/1.1 without Host, each body the status table's row; and a 401 carries
 * WWW-Authenticate: Basic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"
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

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_edges),
                                       cmocka_unit_test(test_refusals_are_table_rows)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
