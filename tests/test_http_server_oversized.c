/* SPDX-License-Identifier: MIT */
/* test_http_server_oversized.c: requests too large for the loopback server: a body of exactly
 * SF_HTTP_MAX_BODY bytes is fine, one byte more (or 1 MiB, or an 80 KiB chunked upload) gets
 * 413 JSON (code 54006) whose Date is the fake clock's as the dispatcher's is; a path over the
 * 8 KiB target limit is the dispatcher's 400; a 100 KB path (414), a 40 KB header (431) and
 * garbage instead of a request line (400) are the front door's Twilio JSON; the server serves
 * on afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>

#include "http_env.h"
#include "loopback.h"
#include "syncfake_http.h"

static void post_sized(http_env *e, size_t size, hresp *r)
{
    const char *prefix = "FriendlyName=big&Pad=";
    char *body = malloc(size + 1);
    assert_non_null(body);
    memset(body, 'a', size);
    memcpy(body, prefix, strlen(prefix));
    body[size] = '\0';
    hconn c;
    http_env_connect(e, &c);
    assert_true(hc_send_request(&c, "POST", "/v1/Services", e->auth,
                                "application/x-www-form-urlencoded", body, size, NULL));
    int64_t deadline = lb_now_ms() + HC_IO_TIMEOUT_MS;
    if (!hc_read_head(&c, r, deadline) || !hc_read_body(&c, r, deadline))
        fail_msg("POST of %zu bytes: no answer within %d ms", size, HC_IO_TIMEOUT_MS);
    free(body);
    hc_close(&c);
}

static void test_oversized_body_413(void **state)
{
    http_env *e = *state;
    hresp r;
    post_sized(e, SF_HTTP_MAX_BODY, &r); /* the limit itself is fine */
    assert_int_equal(r.status, 201);
    hresp_free(&r);

    post_sized(e, SF_HTTP_MAX_BODY + 1, &r);
    assert_int_equal(r.status, 413);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(hc_json_int(r.body, "code"), 54006);
    assert_int_equal(hc_json_int(r.body, "status"), 413);
    hresp_free(&r);

    post_sized(e, 1024 * 1024, &r);
    assert_int_equal(r.status, 413);
    assert_int_equal(hc_json_int(r.body, "code"), 54006);
    hresp_free(&r);

    /* a chunked upload over the limit too (built by hand: no Content-Length) */
    hconn c;
    http_env_connect(e, &c);
    char head[512];
    int n = snprintf(head, sizeof head,
                     "POST /v1/Services HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     e->auth);
    assert_true(hc_send(&c, head, (size_t)n));
    char chunk[8192 + 16];
    memset(chunk, 'a', sizeof chunk);
    n = snprintf(chunk, 16, "2000\r\n");
    chunk[n] = 'a'; /* snprintf's NUL */
    memcpy(chunk + n + 8192, "\r\n", 2);
    for (int i = 0; i < 10; i++) /* 80 KiB */
        assert_true(hc_send(&c, chunk, (size_t)n + 8192 + 2));
    assert_true(hc_send(&c, "0\r\n\r\n", 5));
    int64_t deadline = lb_now_ms() + HC_IO_TIMEOUT_MS;
    assert_true(hc_read_head(&c, &r, deadline) && hc_read_body(&c, &r, deadline));
    assert_int_equal(r.status, 413);
    assert_int_equal(hc_json_int(r.body, "code"), 54006);
    hresp_free(&r);
    hc_close(&c);

    /* the server is unharmed */
    http_env_connect(e, &c);
    hc_expect(&c, "GET", "/v1/Services", e->auth, NULL, 200, &r);
    hresp_free(&r);
    hc_close(&c);
}

/* docs/http.md "REST v1 on the wire": Date from the fake clock; the 413 made by the server too. */
static void test_oversized_body_date_is_fake_clock(void **state)
{
    http_env *e = *state;
    char want[30];
    sf_format_http_date(SF_DEFAULT_EPOCH_MS, want); /* the manual clock never moved */
    hresp r;
    char date[64];
    post_sized(e, SF_HTTP_MAX_BODY, &r);
    snprintf(date, sizeof date, "%s", r.date);
    hresp_free(&r);
    assert_string_equal(date, want); /* the dispatcher's answer */
    post_sized(e, SF_HTTP_MAX_BODY + 1, &r);
    int status = r.status;
    snprintf(date, sizeof date, "%s", r.date);
    hresp_free(&r);
    assert_int_equal(status, 413);
    assert_string_equal(date, want); /* the server's own 413 */
}

/* A request of its own on a new connection; fails the test when no answer comes. The answer
 * must be Twilio's JSON error body with `status`. */
static void expect_json_refusal(http_env *e, const char *what, const char *path,
                                const char *extra_headers, const char *raw, int status)
{
    hconn c;
    hresp r;
    http_env_connect(e, &c);
    if (raw)
        assert_true(hc_send(&c, raw, strlen(raw)));
    else
        assert_true(hc_send_request(&c, "GET", path, e->auth, NULL, NULL, 0, extra_headers));
    int64_t deadline = lb_now_ms() + HC_IO_TIMEOUT_MS;
    if (!hc_read_head(&c, &r, deadline) || !hc_read_body(&c, &r, deadline))
        fail_msg("%s: no answer within %d ms", what, HC_IO_TIMEOUT_MS);
    print_message("    %s: %d %s\n", what, r.status, r.content_type);
    assert_int_equal(r.status, status);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(hc_json_int(r.body, "status"), status);
    hresp_free(&r);
    hc_close(&c);
}

/* A target over the dispatcher's 8 KiB limit is its 400 JSON; one just under it is looked up
 * (an unknown service: 404 naming the resource). */
static void test_long_path_is_the_dispatchers_400(void **state)
{
    http_env *e = *state;
    hconn c;
    hresp r;
    size_t len = 10 * 1024;
    char *path = malloc(len + 1);
    assert_non_null(path);
    memset(path, 'x', len);
    memcpy(path, "/v1/Services/", 13);
    path[len] = '\0';
    http_env_connect(e, &c);
    hc_expect(&c, "GET", path, e->auth, NULL, 400, &r);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(hc_json_int(r.body, "status"), 400);
    hresp_free(&r);

    path[SF_HTTP_MAX_TARGET] = '\0';
    hc_expect(&c, "GET", path, e->auth, NULL, 404, &r);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(hc_json_int(r.body, "code"), 20404);
    hresp_free(&r);
    hc_close(&c);
    free(path);
}

/* Heads past the front door's 16 KiB cap, and garbage for a request line: Twilio JSON too (once
 * libmicrohttpd's own HTML), and the server goes on serving. */
static void test_oversized_heads_are_json(void **state)
{
    http_env *e = *state;
    size_t len = 100 * 1024;
    char *path = malloc(len + 1);
    assert_non_null(path);
    memset(path, 'y', len);
    path[0] = '/';
    path[len] = '\0';
    expect_json_refusal(e, "100 KB path", path, NULL, NULL, 414);
    free(path);

    char *big = malloc(40 * 1024 + 32);
    assert_non_null(big);
    int n = snprintf(big, 32, "X-Big: ");
    memset(big + n, 'z', 40 * 1024);
    memcpy(big + n + 40 * 1024, "\r\n", 3);
    expect_json_refusal(e, "40 KB header", "/v1/Services", big, NULL, 431);
    free(big);

    expect_json_refusal(e, "garbage request line", NULL, NULL, "HELLO\r\n\r\n", 400);

    hconn c;
    hresp r;
    http_env_connect(e, &c);
    hc_expect(&c, "GET", "/v1/Services", e->auth, NULL, 200, &r);
    hresp_free(&r);
    hc_close(&c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_oversized_body_413, http_env_setup, http_env_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_body_date_is_fake_clock, http_env_setup,
                                        http_env_teardown),
        cmocka_unit_test_setup_teardown(test_long_path_is_the_dispatchers_400, http_env_setup,
                                        http_env_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_heads_are_json, http_env_setup,
                                        http_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
