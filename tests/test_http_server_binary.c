/* SPDX-License-Identifier: MIT */
/* test_http_server_binary.c: the syncfake-server binary as a child process (started with
 * tests/support/loopback.h, spoken to with http_client.h): its start-up lines ("listening on"
 * with the real port, the credentials, a base_url that follows --port 0, the clock, the seed);
 * one request whose URLs use that base URL; a clean exit (status 0) on SIGTERM and SIGINT, also
 * with an event stream open (which then ends or is cut, never hangs); control-API paths that
 * match no route answer 404 JSON without taking it down; --help exits 0 with the usage, a bad or
 * incomplete option exits 2; extra accounts and API keys authenticate, --limit, --base-url and
 * the wall clock apply. Skipped when syncfake-server is not built next to the test (or named by
 * SF_SERVER_BIN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_client.h"
#include "loopback.h"
#include "syncfake.h"

/* A started server and what its start-up lines say. */
typedef struct child {
    lb_server s;
    char auth[512]; /* "Basic ..." of its account */
    char base_url[128];
} child;

/* Starts syncfake-server --port 0 --clock manual --seed 5 and checks its start-up lines:
 * "syncfake-server listening on http://HOST:PORT", then the credentials, base_url, clock, seed. */
static void child_start(child *ch)
{
    memset(ch, 0, sizeof *ch);
    lb_start(&ch->s, NULL);

    /* "syncfake-server listening on http://HOST:PORT", then the credentials */
    const char *line = ch->s.lines[0];
    char host[64], sid[64] = "", token[128] = "";
    unsigned port = 0;
    char tail = 0;
    if (sscanf(line, "syncfake-server listening on http://%63[^:]:%u%c", host, &port, &tail) != 2)
        fail_msg("unexpected first line: \"%s\"", line);
    assert_string_equal(host, "127.0.0.1");
    assert_true(port > 0 && port < 65536);
    assert_int_equal(ch->s.port, port);
    for (int i = 1; i < LB_START_LINES; i++) {
        line = ch->s.lines[i];
        if (strncmp(line, "account_sid ", 12) == 0)
            snprintf(sid, sizeof sid, "%.40s", line + 12);
        else if (strncmp(line, "auth_token ", 11) == 0)
            snprintf(token, sizeof token, "%.100s", line + 11);
        else if (strncmp(line, "base_url ", 9) == 0)
            snprintf(ch->base_url, sizeof ch->base_url, "%.100s", line + 9);
        else if (strncmp(line, "clock ", 6) == 0)
            assert_string_equal(line + 6, "manual");
        else if (strncmp(line, "seed ", 5) == 0)
            assert_string_equal(line + 5, "5");
        else
            fail_msg("unexpected line: \"%s\"", line);
    }
    assert_int_equal(strlen(sid), SF_SID_LEN);
    assert_true(token[0] != '\0');
    char want_base[128];
    snprintf(want_base, sizeof want_base, "http://127.0.0.1:%u", port);
    assert_string_equal(ch->base_url, want_base); /* followable URLs even with --port 0 */
    hc_basic_auth(sid, token, ch->auth, sizeof ch->auth);
}

/* One request against the child: a service is created and its URL uses the base URL. */
static void child_request(child *ch)
{
    hconn c;
    if (!hc_open(&c, ch->s.port))
        fail_msg("cannot connect to the child on port %u", (unsigned)ch->s.port);
    hresp r;
    hc_expect(&c, "POST", "/v1/Services", ch->auth, "FriendlyName=child", 201, &r);
    char url[256];
    assert_true(hc_json_get(r.body, "url", url, sizeof url));
    assert_true(strncmp(url, ch->base_url, strlen(ch->base_url)) == 0);
    hresp_free(&r);
    hc_close(&c);
}

static void test_binary_sigterm(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    child_request(&ch);
    lb_stop(&ch.s);
}

static void test_binary_sigint(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    child_request(&ch);
    lb_stop_signal(&ch.s, SIGINT);
}

/* A signal while an event stream is open still ends the process promptly and cleanly. */
static void test_binary_sigterm_with_event_stream(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    hconn c, sc;
    assert_true(hc_open(&c, ch.s.port));
    hresp r;
    char svc[64], to[64], target[256];
    hc_expect(&c, "POST", "/v1/Services", ch.auth, "", 201, &r);
    assert_true(hc_json_get(r.body, "sid", svc, sizeof svc));
    hresp_free(&r);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", svc);
    hc_expect(&c, "POST", target, ch.auth, "", 201, &r);
    assert_true(hc_json_get(r.body, "sid", to, sizeof to));
    hresp_free(&r);
    snprintf(target, sizeof target, "/_syncfake/Services/%s/Streams/%s/Events", svc, to);
    assert_true(hc_open(&sc, ch.s.port));
    sse_reader s;
    assert_true(sse_open(&s, &sc, target, ch.auth));
    assert_int_equal(s.head.status, 200);
    sse_event ev;
    assert_int_equal(sse_next(&s, &ev, HC_IO_TIMEOUT_MS), 1);
    assert_string_equal(ev.name, "subscribed");
    lb_stop(&ch.s);
    int st = sse_next(&s, &ev, HC_IO_TIMEOUT_MS);
    assert_true(st == 0 || st == -2); /* ended or cut by the exit; -1 would be a hang */
    sse_close(&s);
    hc_close(&sc);
    hc_close(&c);
}

/* Control-API paths that match no route answer 404 JSON and never take the server down. */
static void test_binary_unknown_control_paths(void **state)
{
    (void)state;
    child ch;
    child_start(&ch);
    const char *paths[] = {"/_syncfake/nothing", "/_syncfake/", "/_syncfake/subscribers/x",
                           "/_syncfake/faults/0", "/_syncfake"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        hconn c;
        if (!hc_open(&c, ch.s.port))
            fail_msg("before GET %s: the server is gone", paths[i]);
        hresp r;
        bool answered = hc_request(&c, "GET", paths[i], ch.auth, NULL, &r);
        hc_close(&c);
        if (!answered) {
            hresp_free(&r);
            lb_sleep_ms(200);
            int status = 0;
            if (waitpid(ch.s.pid, &status, WNOHANG) != 0) { /* it is gone */
                close(ch.s.out);
                fail_msg("GET %s: syncfake-server died without answering (%s %d)", paths[i],
                         WIFSIGNALED(status) ? "signal" : "exit status",
                         WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            }
            lb_signal_wait(&ch.s, SIGKILL, HC_IO_TIMEOUT_MS, NULL);
            fail_msg("GET %s: no answer", paths[i]);
        }
        if (r.status != 404)
            fail_msg("GET %s: status %d, expected 404", paths[i], r.status);
        assert_string_equal(r.content_type, "application/json");
        assert_int_equal(hc_json_int(r.body, "code"), 20404);
        hresp_free(&r);
    }
    lb_stop(&ch.s);
}

/* --help prints the usage and exits 0; a bad or incomplete option exits 2 with the usage. */
static void test_binary_help_and_bad_options(void **state)
{
    (void)state;
    static char out[16384]; /* stdout and stderr */
    static const char *const help[] = {"--help", NULL};
    int status = lb_run_server(help, out, sizeof out);
    assert_true(strncmp(out, "usage: syncfake-server", 22) == 0);
    assert_int_equal(status, 0);

    static const char *const bad[][4] = {
        {"--port", "abc", NULL},
        {"--port", "70000", NULL},
        {"--clock", "sundial", NULL},
        {"--limit", "no_such_limit=3", NULL},
        {"--account", "not-an-account", NULL},
        {"--api-key",
         "SK00000000000000000000000000000001:secret:AC0000000000000000000000000000dead", NULL},
        {"--account-sid", "ACnothex", NULL},
        {"--seed", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        status = lb_run_server(bad[i], out, sizeof out);
        if (status != 2)
            fail_msg("syncfake-server %s %s: expected exit 2, got %d", bad[i][0],
                     bad[i][1] ? bad[i][1] : "", status);
    }
}

/* Extra accounts and keys authenticate, limits and the base URL apply, the wall clock shows. */
/* The options of the accounts, keys, limits and base-URL test: a main account, an extra one
 * with an API key, page_size_max=5, a base URL and the wall clock. */
static const char *const accounts_keys_args[] = {
    "--port",
    "0",
    "--host",
    "127.0.0.1",
    "--clock",
    "wall",
    "--seed",
    "9",
    "--account-sid",
    "AC00000000000000000000000000000001",
    "--auth-token",
    "main-token",
    "--account",
    "AC00000000000000000000000000000002:other-token",
    "--api-key",
    "SK00000000000000000000000000000003:key-secret:AC00000000000000000000000000000002",
    "--limit",
    "page_size_max=5",
    "--base-url",
    "http://fake.example",
    NULL};

/* The API key acts for the extra account, with URLs under the base URL; its service is seen by
 * the extra account and invisible to the main one. Leaves auth the main account's. */
static void check_api_key_acts_for_extra_account(hconn *c, char *auth, size_t auth_size)
{
    hresp r;
    hc_basic_auth("SK00000000000000000000000000000003", "key-secret", auth, auth_size);
    hc_expect(c, "POST", "/v1/Services", auth, "FriendlyName=keyed", 201, &r);
    char sid[64], url[256], account[64];
    assert_true(hc_json_get(r.body, "sid", sid, sizeof sid));
    assert_true(hc_json_get(r.body, "url", url, sizeof url));
    assert_true(hc_json_get(r.body, "account_sid", account, sizeof account));
    assert_string_equal(account, "AC00000000000000000000000000000002");
    assert_true(strncmp(url, "http://fake.example/v1/Services/", 32) == 0);
    hresp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/v1/Services/%.34s", sid);
    hc_basic_auth("AC00000000000000000000000000000002", "other-token", auth, auth_size);
    hc_expect(c, "GET", path, auth, NULL, 200, &r);
    hresp_free(&r);
    hc_basic_auth("AC00000000000000000000000000000001", "main-token", auth, auth_size);
    hc_expect(c, "GET", path, auth, NULL, 404, &r);
    hresp_free(&r);
}

static void test_binary_accounts_keys_limits_base_url(void **state)
{
    (void)state;
    child ch;
    lb_start_args(&ch.s, accounts_keys_args, -1); /* "listening on http://127.0.0.1:PORT" first */
    for (int i = 1; i < LB_START_LINES; i++) {
        const char *line = ch.s.lines[i];
        if (strncmp(line, "clock ", 6) == 0)
            assert_string_equal(line + 6, "wall");
        if (strncmp(line, "base_url ", 9) == 0)
            assert_string_equal(line + 9, "http://fake.example");
        if (strncmp(line, "account_sid ", 12) == 0)
            assert_string_equal(line + 12, "AC00000000000000000000000000000001");
    }
    hconn c;
    assert_true(hc_open(&c, ch.s.port));
    hresp r;
    char auth[512];
    /* the API key acts for the extra account; its service is invisible to the main account */
    check_api_key_acts_for_extra_account(&c, auth, sizeof auth);
    /* --limit page_size_max=5 */
    hc_expect(&c, "GET", "/v1/Services?PageSize=6", auth, NULL, 400, &r);
    assert_non_null(strstr(r.body, "54454"));
    hresp_free(&r);
    hc_expect(&c, "GET", "/v1/Services?PageSize=5", auth, NULL, 200, &r);
    hresp_free(&r);
    hc_expect(&c, "GET", "/_syncfake/clock", auth, NULL, 200, &r);
    assert_non_null(strstr(r.body, "\"mode\": \"wall\""));
    hresp_free(&r);
    hc_close(&c);
    lb_stop(&ch.s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_sigterm),
        cmocka_unit_test(test_binary_sigint),
        cmocka_unit_test(test_binary_sigterm_with_event_stream),
        cmocka_unit_test(test_binary_unknown_control_paths),
        cmocka_unit_test(test_binary_help_and_bad_options),
        cmocka_unit_test(test_binary_accounts_keys_limits_base_url),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
