/* SPDX-License-Identifier: MIT */
/* test_request_log.c: syncfake-server's request log. With --log-requests=FILE each answered
 * request is one line "METHOD PATH STATUS CODE NNNus[ warning: TEXT]"; POST
 * /_syncfake/request-log turns it off and on (fake-wide callers only, Enabled checked); without
 * the flag nothing is written. Also: requests the server itself refuses (413, a malformed
 * request, a bad WebSocket handshake) are in the journal as `refused`, as their account's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"
#include "request_log.h"

#include <signal.h>
#include <unistd.h>

/* base64("AC00000000000000000000000000000002:other") */
#define OTHER_ACCOUNT "AC00000000000000000000000000000002:other"
#define OTHER_AUTH "Authorization: Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMjpvdGhlcg=="

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char text[65536];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

/* Whether `log` has a line that starts with `head` and then is "<digits>us" and the end of
 * the line or `tail`. */
static bool has_line(const char *log, const char *head, const char *tail)
{
    for (const char *p = log; (p = strstr(p, head)) != NULL; p++) {
        if (p != log && p[-1] != '\n')
            continue;
        const char *d = p + strlen(head);
        const char *digits = d;
        while (*d >= '0' && *d <= '9')
            d++;
        if (d == digits || strncmp(d, "us", 2) != 0)
            continue;
        d += 2;
        if (tail ? strncmp(d, tail, strlen(tail)) == 0 : *d == '\n')
            return true;
    }
    return false;
}

static int raw(const lb_server *s, const char *request, char *resp, size_t cap)
{
    int fd = lb_connect(s->port);
    assert_true(fd >= 0);
    assert_true(lb_send_str(fd, request, LB_IO_TIMEOUT_MS));
    ssize_t n = lb_read_response(fd, resp, cap, LB_IO_TIMEOUT_MS);
    close(fd);
    return n > 0 ? lb_status(resp) : -1;
}

static void test_log_lines_and_the_switch(void **state)
{
    (void)state;
    char path[] = "/tmp/sf_request_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char flag[64];
    snprintf(flag, sizeof flag, "--log-requests=%s", path);
    lb_server s;
    lb_start(&s, (const char *const[]){flag, "--account", OTHER_ACCOUNT, NULL});
    char resp[8192];
    assert_int_equal(lb_request(&s, "POST", "/v1/Services", "", resp, sizeof resp), 201);
    assert_int_equal(
        lb_request(&s, "GET", "/v1/Services/ISnope?PageSize=1", NULL, resp, sizeof resp), 404);
    lb_server other = s;
    snprintf(other.auth, sizeof other.auth, "%s", OTHER_AUTH);
    /* the switch is the whole server's: not for another account; Enabled is checked */
    assert_int_equal(
        lb_request(&other, "POST", "/_syncfake/request-log", "Enabled=false", resp, sizeof resp),
        403);
    assert_int_equal(
        lb_request(&s, "POST", "/_syncfake/request-log", "Enabled=maybe", resp, sizeof resp), 400);
    assert_non_null(strstr(lb_body(resp), "Enabled must be true or false"));
    assert_int_equal(
        lb_request(&s, "POST", "/_syncfake/request-log", "Enabled=true&Level=2", resp, sizeof resp),
        400);
    assert_non_null(strstr(lb_body(resp), "request-log takes only Enabled"));
    assert_int_equal(lb_request(&s, "DELETE", "/_syncfake/request-log", NULL, resp, sizeof resp),
                     405);
    assert_int_equal(
        lb_request(&s, "POST", "/_syncfake/request-log", "Enabled=false", resp, sizeof resp), 200);
    assert_string_equal(lb_body(resp), "{\"enabled\": false}");
    assert_int_equal(lb_request(&s, "GET", "/v1/Services/ISwhileoff", NULL, resp, sizeof resp),
                     404);
    assert_int_equal(lb_request(&s, "GET", "/_syncfake/request-log", NULL, resp, sizeof resp), 200);
    assert_string_equal(lb_body(resp), "{\"enabled\": false}");
    assert_int_equal(
        lb_request(&s, "POST", "/_syncfake/request-log", "Enabled=true", resp, sizeof resp), 200);
    assert_int_equal(raw(&s, "GET /v1/Services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         resp, sizeof resp),
                     401);
    lb_stop(&s);

    const char *log = read_file(path);
    print_message("%s", log);
    assert_true(has_line(log, "POST /v1/Services 201 - ", NULL));
    /* no query; the Syncfake-Warning the answer carried (PageSize means nothing to a fetch) */
    assert_true(has_line(log, "GET /v1/Services/ISnope 404 20404 ",
                         " warning: Unknown parameter PageSize (service.fetch takes no "
                         "parameters); Twilio ignores it\n"));
    assert_true(has_line(log, "POST /_syncfake/request-log 403 20403 ", NULL));
    assert_true(has_line(log, "POST /_syncfake/request-log 400 20001 ", NULL));
    assert_null(strstr(log, "ISwhileoff"));
    assert_null(strstr(log, "GET /_syncfake/request-log"));
    assert_true(has_line(log, "POST /_syncfake/request-log 200 - ", NULL));
    assert_true(has_line(log, "GET /v1/Services 401 20003 ", NULL));
    unlink(path);
}

static void test_quiet_by_default(void **state)
{
    (void)state;
    FILE *err = tmpfile();
    assert_non_null(err);
    lb_server s;
    lb_start_err(&s, NULL, fileno(err));
    char resp[8192];
    assert_int_equal(lb_request(&s, "POST", "/v1/Services", "", resp, sizeof resp), 201);
    assert_int_equal(lb_request(&s, "GET", "/v1/Services/ISnope", NULL, resp, sizeof resp), 404);
    assert_int_equal(lb_request(&s, "GET", "/_syncfake/request-log", NULL, resp, sizeof resp), 200);
    assert_string_equal(lb_body(resp), "{\"enabled\": false}");
    lb_stop(&s);
    char text[4096];
    rewind(err);
    size_t n = fread(text, 1, sizeof text - 1, err);
    text[n] = '\0';
    fclose(err);
    assert_string_equal(text, "");
}

/* The Syncfake-Warning header of an answer and the code of its body make the line. */
static void test_line_carries_code_and_warning(void **state)
{
    (void)state;
    char path[] = "/tmp/sf_request_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sf_request_log log;
    assert_true(sf_request_log_open(&log, path, true));
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    assert_non_null(resp);
    assert_int_equal(MHD_add_response_header(resp, "Syncfake-Warning",
                                             "Tll: did you mean Ttl? Twilio ignores it"),
                     MHD_YES);
    sf_request_note note = {.queued = false};
    sf_request_note_response(&note, 400, resp);
    const char body[] = "{\"code\": 54011, \"message\": \"Invalid Ttl\"}";
    sf_request_note_body(&note, body, sizeof body - 1);
    sf_request_log_line(&log, "POST", "/v1/Services/IS1/Streams\x01", &note, 42);
    sf_request_note quiet = {.queued = false};
    sf_request_log_line(&log, "GET", "/never", &quiet, 1); /* nothing answered: no line */
    sf_request_log_set(&log, false);
    sf_request_log_line(&log, "GET", "/off", &note, 1);
    MHD_destroy_response(resp);
    sf_request_log_close(&log);
    const char *text = read_file(path);
    assert_string_equal(text, "POST /v1/Services/IS1/Streams? 400 54011 42us warning: Tll: did "
                              "you mean Ttl? Twilio ignores it\n");
    unlink(path);
}

/* Requests refused by the server before the dispatcher are journaled with their reason, as
 * the entry of the account their credentials name. */
static void test_server_refusals_are_journaled(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, (const char *const[]){"--account", OTHER_ACCOUNT, NULL});
    char resp[16384];
    size_t big = 64 * 1024 + 1; /* SF_HTTP_MAX_BODY + 1 */
    char *body = malloc(big + 1);
    assert_non_null(body);
    memset(body, 'a', big);
    body[big] = '\0';
    lb_server other = s;
    snprintf(other.auth, sizeof other.auth, "%s", OTHER_AUTH);
    assert_int_equal(lb_request(&other, "POST", "/v1/Services", body, resp, sizeof resp), 413);
    free(body);
    char request[1024];
    snprintf(request, sizeof request,
             "POST /v1/Services HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Length: 1\r\n"
             "Content-Length: 2\r\nConnection: close\r\n\r\nx",
             s.auth);
    assert_int_equal(raw(&s, request, resp, sizeof resp), 400);
    assert_int_equal(raw(&s, "GET /v3/wsconnect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                         resp, sizeof resp),
                     400);
    assert_int_equal(lb_request(&s, "GET", "/_syncfake/journal", NULL, resp, sizeof resp), 200);
    const char *all = lb_body(resp);
    print_message("%s", all);
    assert_non_null(strstr(all, "\"kind\":\"refused\",\"method\":\"POST\",\"status\":413,"
                                "\"code\":54006,\"reason\":\"body_too_large\"}"));
    assert_non_null(strstr(all, "\"kind\":\"refused\",\"method\":\"POST\",\"status\":400,"
                                "\"code\":20001,\"reason\":\"malformed_request\"}"));
    assert_non_null(strstr(all, "\"kind\":\"refused\",\"method\":\"GET\",\"status\":400,"
                                "\"code\":20001,\"reason\":\"bad_websocket_handshake\"}"));
    /* the other account sees its own refusal, and only that */
    assert_int_equal(lb_request(&other, "GET", "/_syncfake/journal", NULL, resp, sizeof resp), 200);
    const char *own = lb_body(resp);
    assert_non_null(strstr(own, "\"reason\":\"body_too_large\"}\n"));
    assert_null(strstr(own, "malformed_request"));
    assert_null(strstr(own, "bad_websocket_handshake"));
    lb_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_lines_and_the_switch),
        cmocka_unit_test(test_quiet_by_default),
        cmocka_unit_test(test_line_carries_code_and_warning),
        cmocka_unit_test(test_server_refusals_are_journaled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
