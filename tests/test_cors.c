/* SPDX-License-Identifier: MIT */
/* test_cors.c: CORS for the control API (fake_http/server/cors.c behind server.c) over real
 * TCP sockets, so that a page on another origin can call the control API.
 *
 * Covered: the origin patterns (exact, ":*" for any port, what --cors-origin refuses, at most
 * SF_CORS_MAX_ORIGINS); a preflight from an allowed origin gets 204 without credentials and
 * Access-Control-Allow-Origin/-Methods/-Headers/-Max-Age and Vary; one from another origin
 * gets 403 without them; the control API's answers (also errors and an encoded path) carry
 * the origin for allowed pages only; REST v1 and requests without an Origin are answered as
 * before (no CORS header, the preflight not answered); a server without CORS answers a
 * preflight as it always did (the dispatcher's 401). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <nettle/base64.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "assert_status.h"
#include "cors.h"
#include "server.h"
#include "syncfake_http.h"

#define IO_TIMEOUT_MS 5000
#define PAGE "http://127.0.0.1:5173" /* a page on another port than the fake's */

/* ---- origins ---- */

static void test_default_allows_loopback_pages(void **state)
{
    (void)state;
    sf_cors c;
    sf_cors_default(&c);
    assert_true(sf_cors_allows(&c, "http://127.0.0.1:5173"));
    assert_true(sf_cors_allows(&c, "http://127.0.0.1:1"));
    assert_true(sf_cors_allows(&c, "http://127.0.0.1"));
    assert_true(sf_cors_allows(&c, "http://localhost:8080"));
    assert_true(sf_cors_allows(&c, "http://LOCALHOST:8080")); /* hosts without regard to case */
    const char *no[] = {"https://127.0.0.1:5173",
                        "http://127.0.0.10:80",
                        "http://127.0.0.1.x",
                        "http://localhost.example:80",
                        "http://localhost:",
                        "http://localhost:x",
                        "http://localhost:123456",
                        "http://localhost:80/",
                        "null",
                        "",
                        "http://example.com"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        if (sf_cors_allows(&c, no[i]))
            fail_msg("allowed: \"%s\"", no[i]);
    assert_false(sf_cors_allows(&c, NULL));
    assert_false(sf_cors_allows(NULL, "http://localhost"));
}

static void test_added_origins(void **state)
{
    (void)state;
    sf_cors c = {.count = 0};
    assert_true(sf_cors_add(&c, "https://app.example.com"));
    assert_true(sf_cors_add(&c, "http://10.0.0.2:8080"));
    assert_true(sf_cors_add(&c, "http://[::1]:*"));
    assert_true(sf_cors_allows(&c, "https://app.example.com"));
    assert_false(sf_cors_allows(&c, "https://app.example.com:443")); /* exact means exact */
    assert_false(sf_cors_allows(&c, "http://app.example.com"));
    assert_true(sf_cors_allows(&c, "http://10.0.0.2:8080"));
    assert_false(sf_cors_allows(&c, "http://10.0.0.2:8081"));
    assert_true(sf_cors_allows(&c, "http://[::1]:3000"));
    assert_false(sf_cors_allows(&c, "http://127.0.0.1:3000"));
}

static void test_malformed_origins_refused(void **state)
{
    (void)state;
    sf_cors c = {.count = 0};
    char long_origin[SF_CORS_ORIGIN_MAX + 2];
    memset(long_origin, 'a', sizeof long_origin - 1);
    memcpy(long_origin, "http://", 7);
    long_origin[sizeof long_origin - 1] = '\0';
    const char *bad[] = {"*",
                         "",
                         "localhost:3000",
                         "ftp://x",
                         "http://",
                         "http://a b",
                         "http://x/",
                         "http://x:",
                         "http://x:abc",
                         "http://x:1234567",
                         "http://x:*1",
                         "http://[zz]:1",
                         "http://[]",
                         "http://x\r\nSet: y",
                         "http://x?y",
                         long_origin};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (sf_cors_add(&c, bad[i]))
            fail_msg("accepted: \"%s\"", bad[i]);
    assert_false(sf_cors_add(&c, NULL));
    assert_int_equal(c.count, 0);
    for (int i = 0; i < SF_CORS_MAX_ORIGINS; i++)
        assert_true(sf_cors_add(&c, "http://x.test:*"));
    assert_false(sf_cors_add(&c, "http://y.test")); /* full */
    assert_int_equal(c.count, SF_CORS_MAX_ORIGINS);
}

/* ---- over TCP ---- */

typedef struct env {
    sf_fake *fake;
    sf_server *srv;
    sf_cors cors;
    uint16_t port;
    char auth[256];
} env;

static int start(void **state, bool with_cors)
{
    env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 11;
    opts.clock = SF_CLOCK_MANUAL;
    sf_error err;
    assert_status(sf_fake_new(&opts, &e->fake, &err), SF_OK);
    sf_cors_default(&e->cors);
    sf_server_config cfg = {
        .host = "127.0.0.1", .port = 0, .fake = e->fake, .cors = with_cors ? &e->cors : NULL};
    e->srv = sf_server_start(&cfg);
    assert_non_null(e->srv);
    e->port = sf_server_port(e->srv);
    char creds[160];
    int n = snprintf(creds, sizeof creds, "%s:%s", sf_fake_account_sid(e->fake),
                     sf_fake_auth_token(e->fake));
    char b64[BASE64_ENCODE_RAW_LENGTH(160) + 1];
    base64_encode_raw(b64, (size_t)n, (const uint8_t *)creds);
    b64[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
    snprintf(e->auth, sizeof e->auth, "Authorization: Basic %s\r\n", b64);
    *state = e;
    return 0;
}

static int setup_cors(void **state) { return start(state, true); }
static int setup_plain(void **state) { return start(state, false); }

static int teardown(void **state)
{
    env *e = *state;
    sf_server_stop(e->srv);
    sf_fake_free(e->fake);
    free(e);
    return 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct answer {
    int status;
    char text[16384]; /* head and body as received */
} answer;

/* Sends `request` (with Connection: close) and reads the whole answer. */
static void exchange(const env *e, const char *request, answer *a)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(e->port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    size_t len = strlen(request);
    assert_int_equal(write(fd, request, len), (ssize_t)len);
    size_t got = 0;
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&p, 1, left) != 1)
            fail_msg("no complete answer within %d ms: %.*s", IO_TIMEOUT_MS, (int)got, a->text);
        ssize_t n = read(fd, a->text + got, sizeof a->text - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0)
            break;
        got += (size_t)n;
        assert_true(got < sizeof a->text - 1);
    }
    close(fd);
    a->text[got] = '\0';
    assert_int_equal(sscanf(a->text, "HTTP/1.1 %d", &a->status), 1);
}

/* A request from a page: method, path, Origin ("" for none), extra header lines, a form body
 * ("" for none). */
static void send_form(const env *e, const char *method, const char *path, const char *origin,
                      const char *extra, const char *form, answer *a)
{
    char req[2048];
    char origin_line[512] = "";
    if (*origin)
        snprintf(origin_line, sizeof origin_line, "Origin: %s\r\n", origin);
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s%s"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             method, path, (unsigned)e->port, origin_line, extra, strlen(form), form);
    exchange(e, req, a);
}

static void from_page(const env *e, const char *method, const char *path, const char *origin,
                      const char *extra, answer *a)
{
    send_form(e, method, path, origin, extra, "", a);
}

static void preflight(const env *e, const char *path, const char *origin, answer *a)
{
    from_page(e, "OPTIONS", path, origin,
              "Access-Control-Request-Method: POST\r\n"
              "Access-Control-Request-Headers: authorization,content-type\r\n",
              a);
}

/* The value of header `name` in the answer's head, or NULL. */
static const char *header(const answer *a, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *end = strstr(a->text, "\r\n\r\n");
    for (const char *p = strstr(a->text, "\r\n"); p && p < end; p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r");
            snprintf(out, cap, "%.*s", (int)len, v);
            return out;
        }
    }
    return NULL;
}

static void assert_header(const answer *a, const char *name, const char *want)
{
    char v[512];
    if (!header(a, name, v, sizeof v))
        fail_msg("no %s header in:\n%s", name, a->text);
    assert_string_equal(v, want);
}

static void assert_no_cors(const answer *a)
{
    char v[512];
    if (header(a, "Access-Control-Allow-Origin", v, sizeof v) ||
        header(a, "Access-Control-Allow-Methods", v, sizeof v))
        fail_msg("CORS headers where none belong:\n%s", a->text);
}

static void test_preflight_allowed_204(void **state)
{
    env *e = *state;
    answer a;
    preflight(e, "/_syncfake/clock", PAGE, &a); /* no Authorization: a browser never sends it */
    assert_int_equal(a.status, 204);
    assert_header(&a, "Access-Control-Allow-Origin", PAGE);
    assert_header(&a, "Access-Control-Allow-Methods", "GET, POST, DELETE");
    assert_header(&a, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    assert_header(&a, "Access-Control-Max-Age", "600");
    assert_header(&a, "Vary", "Origin");
    assert_header(&a, "Date", "Thu, 30 Jul 2015 20:00:00 GMT"); /* the fake's clock */
    char v[64];
    assert_null(header(&a, "Access-Control-Allow-Credentials", v, sizeof v));
    /* every control route, also one that does not exist (the 404 then needs credentials) */
    const char *paths[] = {"/_syncfake/reset",   "/_syncfake/faults/3", "/_syncfake/tokens",
                           "/%5Fsyncfake/clock", "/_syncfake",          "/_syncfake/nope"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        preflight(e, paths[i], "http://localhost:3000", &a);
        if (a.status != 204)
            fail_msg("%s: %d", paths[i], a.status);
        assert_header(&a, "Access-Control-Allow-Origin", "http://localhost:3000");
    }
}

static void test_preflight_other_origin_403(void **state)
{
    env *e = *state;
    answer a;
    preflight(e, "/_syncfake/clock", "http://evil.example", &a);
    assert_int_equal(a.status, 403);
    assert_no_cors(&a);
    assert_non_null(strstr(a.text, "\"code\": 20403"));
    preflight(e, "/_syncfake/clock", "null", &a); /* a file:// page or a sandboxed frame */
    assert_int_equal(a.status, 403);
    assert_no_cors(&a);
}

static void test_control_answers_carry_origin(void **state)
{
    env *e = *state;
    answer a;
    send_form(e, "POST", "/_syncfake/clock", PAGE, e->auth, "AdvanceMs=1500", &a);
    assert_int_equal(a.status, 200);
    assert_header(&a, "Access-Control-Allow-Origin", PAGE);
    assert_header(&a, "Vary", "Origin");
    assert_non_null(strstr(a.text, "\"now_ms\": 1438286401500"));
    char v[64];
    assert_null(header(&a, "Access-Control-Allow-Methods", v, sizeof v)); /* preflight only */
    /* errors too, so the page can read them: no credentials, a bad parameter */
    from_page(e, "GET", "/_syncfake/clock", PAGE, "", &a);
    assert_int_equal(a.status, 401);
    assert_header(&a, "Access-Control-Allow-Origin", PAGE);
    send_form(e, "POST", "/_syncfake/clock", PAGE, e->auth, "AdvanceMs=x", &a);
    assert_int_equal(a.status, 400);
    assert_header(&a, "Access-Control-Allow-Origin", PAGE);
}

static void test_control_other_origin_no_headers(void **state)
{
    env *e = *state;
    answer a;
    from_page(e, "GET", "/_syncfake/clock", "http://evil.example", e->auth, &a);
    assert_int_equal(a.status, 200); /* answered (curl could too); the browser hides it */
    assert_no_cors(&a);
    from_page(e, "GET", "/_syncfake/clock", "", e->auth, &a); /* no Origin: not a page */
    assert_int_equal(a.status, 200);
    assert_no_cors(&a);
}

/* REST v1 stays as it was: no CORS headers, and a preflight reaches the dispatcher. */
static void test_rest_untouched(void **state)
{
    env *e = *state;
    answer a;
    from_page(e, "GET", "/v1/Services", PAGE, e->auth, &a);
    assert_int_equal(a.status, 200);
    assert_no_cors(&a);
    preflight(e, "/v1/Services", PAGE, &a);
    assert_int_equal(a.status, 401);
    assert_no_cors(&a);
    preflight(e, "/_syncfakeX/clock", PAGE, &a); /* not the control API */
    assert_int_equal(a.status, 401);
    assert_no_cors(&a);
}

/* OPTIONS with an Origin but no Access-Control-Request-Method is no preflight. */
static void test_options_without_request_method(void **state)
{
    env *e = *state;
    answer a;
    from_page(e, "OPTIONS", "/_syncfake/clock", PAGE, e->auth, &a);
    assert_int_equal(a.status, 405);
    assert_header(&a, "Access-Control-Allow-Origin", PAGE);
}

static void test_server_without_cors(void **state)
{
    env *e = *state;
    answer a;
    preflight(e, "/_syncfake/clock", PAGE, &a);
    assert_int_equal(a.status, 401);
    assert_no_cors(&a);
    from_page(e, "GET", "/_syncfake/clock", PAGE, e->auth, &a);
    assert_int_equal(a.status, 200);
    assert_no_cors(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_allows_loopback_pages),
        cmocka_unit_test(test_added_origins),
        cmocka_unit_test(test_malformed_origins_refused),
        cmocka_unit_test_setup_teardown(test_preflight_allowed_204, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_preflight_other_origin_403, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_control_answers_carry_origin, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_control_other_origin_no_headers, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_rest_untouched, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_options_without_request_method, setup_cors, teardown),
        cmocka_unit_test_setup_teardown(test_server_without_cors, setup_plain, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
