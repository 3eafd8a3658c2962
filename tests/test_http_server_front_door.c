/* SPDX-License-Identifier: MIT */
/* test_http_server_front_door.c: requests libmicrohttpd used to answer itself with an HTML
 * page (docs/http.md "Limits of the server") get the server's Twilio-shaped JSON error
 * instead: each sent raw on a new connection, as the second request of a kept-alive
 * connection, and pipelined behind a good request (whose answer comes first; refusals in a
 * head only); the status, Content-Type, Connection: close and the body's code, message,
 * more_info and status are checked, and the server serves on. The head cap at its boundary:
 * a head of exactly 16 KiB is served (with 160 header lines too: libmicrohttpd's connection
 * memory holds it), one byte more is 431 JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http_env.h"
#include "loopback.h"

/* The front door's caps (SF_FC_HEAD_MAX, SF_FC_MAX_FIELDS in front_check.h), written out so
 * that this suite also builds, and fails, against a server without a front door. */
#define HEAD_CAP (16u * 1024u)
#define FIELDS_CAP 160u

typedef struct bad_case {
    const char *name;
    const char *request; /* sent after the good request, if any */
    int status;
    int code;
    const char *message;
    bool in_body; /* refused in its body: not pipelined (an earlier answer may be cut) */
} bad_case;

static const bad_case cases[] = {
    {"header line without a colon", "GET /v1/Services HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n", 400,
     20001, "Malformed header line", false},
    {"HTTP/2.0", "GET /v1/Services HTTP/2.0\r\nHost: x\r\n\r\n", 505, 20001,
     "HTTP version not supported", false},
    {"garbage request line", "HELLO\r\n\r\n", 400, 20001, "Malformed request line", false},
    {"negative Content-Length",
     "POST /v1/Services HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400, 20001,
     "Invalid Content-Length header", false},
    {"malformed Content-Length",
     "POST /v1/Services HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", 400, 20001,
     "Invalid Content-Length header", false},
    {"Content-Length 2^64",
     "POST /v1/Services HTTP/1.1\r\nHost: x\r\nContent-Length: 18446744073709551616\r\n\r\n", 413,
     54006, "Request entity too large", false},
    {"malformed chunk size",
     "POST /v1/Services HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
     20001, "Malformed chunked body", true},
    {"chunk size past 2^64",
     "POST /v1/Services HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     "10000000000000000\r\n",
     400, 20001, "Malformed chunked body", true},
    {"Transfer-Encoding gzip",
     "POST /v1/Services HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 400, 20001,
     "Unsupported Transfer-Encoding", false},
};

/* The error answer's shape: JSON, Connection: close, the status table's body. */
static void assert_error(const hresp *r, int status, int code, const char *message,
                         const char *what)
{
    if (r->status != status)
        fail_msg("%s: status %d, wanted %d (%s)", what, r->status, status, r->body);
    assert_string_equal(r->content_type, "application/json");
    assert_string_equal(r->connection, "close");
    assert_int_equal(hc_json_int(r->body, "code"), code);
    assert_int_equal(hc_json_int(r->body, "status"), status);
    char text[256], more[256], want[256];
    assert_true(hc_json_get(r->body, "message", text, sizeof text));
    assert_string_equal(text, message);
    assert_true(hc_json_get(r->body, "more_info", more, sizeof more));
    snprintf(want, sizeof want, "https://www.twilio.com/docs/errors/%d", code);
    assert_string_equal(more, want);
}

static void read_answer(hconn *c, hresp *r, const char *what)
{
    int64_t deadline = lb_now_ms() + HC_IO_TIMEOUT_MS;
    if (!hc_read_head(c, r, deadline) || !hc_read_body(c, r, deadline))
        fail_msg("%s: no answer within %d ms", what, HC_IO_TIMEOUT_MS);
}

/* After an error answer the server closes the connection. */
static void assert_closed(hconn *c)
{
    char byte;
    assert_true(lb_wait_fd(c->fd, POLLIN, lb_now_ms() + HC_IO_TIMEOUT_MS) > 0);
    assert_true(recv(c->fd, &byte, 1, 0) <= 0);
}

static void send_bad(http_env *e, const bad_case *k, int mode)
{
    static const char *const modes[] = {"first request", "after a kept-alive answer", "pipelined"};
    char what[256], good[1024];
    snprintf(what, sizeof what, "%s, %s", k->name, modes[mode]);
    snprintf(good, sizeof good, "GET /v1/Services HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n",
             e->auth);
    hconn c;
    hresp r;
    http_env_connect(e, &c);
    if (mode == 1) {
        assert_true(hc_send(&c, good, strlen(good)));
        read_answer(&c, &r, what);
        assert_int_equal(r.status, 200);
        hresp_free(&r);
    }
    if (mode == 2)
        assert_true(hc_send(&c, good, strlen(good)));
    assert_true(hc_send(&c, k->request, strlen(k->request)));
    if (mode == 2) {
        read_answer(&c, &r, what);
        assert_int_equal(r.status, 200); /* the good request's answer first */
        hresp_free(&r);
    }
    read_answer(&c, &r, what);
    assert_error(&r, k->status, k->code, k->message, what);
    hresp_free(&r);
    assert_closed(&c);
    hc_close(&c);
}

static void test_formerly_html_answers_are_json(void **state)
{
    http_env *e = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int mode = 0; mode < (cases[i].in_body ? 2 : 3); mode++)
            send_bad(e, &cases[i], mode);
    hconn c;
    hresp r;
    http_env_connect(e, &c);
    hc_expect(&c, "GET", "/v1/Services", e->auth, NULL, 200, &r); /* serving on */
    hresp_free(&r);
    hc_close(&c);
}

/* GET /v1/Services with credentials and `fields` header lines in all, padded to `size` bytes
 * of head. */
static char *head_of(const http_env *e, size_t size, unsigned fields)
{
    char *s = malloc(size + 1);
    assert_non_null(s);
    size_t n = (size_t)snprintf(
        s, size, "GET /v1/Services HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n", e->auth);
    for (unsigned i = 2; i + 1 < fields; i++)
        n += (size_t)snprintf(s + n, size - n, "X%u: y\r\n", i);
    const char *pad = "X-Pad: ";
    memcpy(s + n, pad, strlen(pad));
    n += strlen(pad);
    assert_true(n + 4 <= size);
    memset(s + n, 'p', size - n - 4);
    memcpy(s + size - 4, "\r\n\r\n", 4);
    s[size] = '\0';
    return s;
}

static void send_head(http_env *e, size_t size, unsigned fields, hresp *r)
{
    char *head = head_of(e, size, fields);
    hconn c;
    http_env_connect(e, &c);
    assert_true(hc_send(&c, head, size));
    read_answer(&c, r, "a head at the cap");
    free(head);
    hc_close(&c);
}

static void test_head_cap(void **state)
{
    http_env *e = *state;
    hresp r;
    send_head(e, HEAD_CAP, 3, &r);
    assert_int_equal(r.status, 200);
    hresp_free(&r);
    send_head(e, HEAD_CAP + 1, 3, &r);
    assert_error(&r, 431, 20001, "Request header fields too large", "a head one byte over");
    hresp_free(&r);
    /* as many lines as the front door takes: libmicrohttpd holds them; the dispatcher's 431 */
    send_head(e, HEAD_CAP, FIELDS_CAP, &r);
    assert_int_equal(r.status, 431);
    assert_string_equal(r.content_type, "application/json");
    hresp_free(&r);
    send_head(e, HEAD_CAP, 128, &r); /* the dispatcher's own cap */
    assert_int_equal(r.status, 200);
    hresp_free(&r);
    /* a request line over the cap: 414 JSON */
    char *line = malloc(HEAD_CAP + 64);
    assert_non_null(line);
    memset(line, 'a', HEAD_CAP + 32);
    memcpy(line, "GET /", 5);
    memcpy(line + HEAD_CAP + 32, " HTTP/1.1\r\n\r\n", 14);
    hconn c;
    http_env_connect(e, &c);
    assert_true(hc_send(&c, line, HEAD_CAP + 46));
    read_answer(&c, &r, "a request line over the cap");
    assert_error(&r, 414, 20001, "Request-URI too long", "a request line over the cap");
    hresp_free(&r);
    hc_close(&c);
    free(line);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_formerly_html_answers_are_json, http_env_setup,
                                        http_env_teardown),
        cmocka_unit_test_setup_teardown(test_head_cap, http_env_setup, http_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
