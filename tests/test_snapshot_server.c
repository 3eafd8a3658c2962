/* SPDX-License-Identifier: MIT */
/* test_snapshot_server.c: persistence across server restarts. A server started with
 * --save-on-exit FILE writes its state when it stops; one started with --load FILE carries
 * on from it: the same account, services, streams and clock, and the SIDs it mints next are
 * the ones the first server would have minted. GET /_syncfake/snapshot downloads the state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "loopback.h"

static char path[64];

/* The calls both histories share: a service, a stream, the clock moved by 5 s. */
static void first_half(const lb_server *s, char *service, char *stream)
{
    lb_make_stream(s, service, stream);
    assert_int_equal(lb_request(s, "POST", "/_syncfake/clock", "AdvanceMs=5000", NULL, 0), 200);
}

/* The second stream's SID. */
static void second_half(const lb_server *s, const char *service, char *stream)
{
    char resp[8192], target[128];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", service);
    assert_int_equal(lb_request(s, "POST", target, "UniqueName=later", resp, sizeof resp), 201);
    assert_true(lb_json_str(lb_body(resp), "sid", stream, 64));
}

static void test_save_on_exit_then_load(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/sf_server_snapshot_%d", (int)getpid());
    unlink(path);
    char service[64], stream[64], again[64], later[64], straight_later[64], resp[8192];
    lb_server a, b, c;
    const char *save_args[] = {"--save-on-exit", path, NULL};
    lb_start(&a, save_args);
    first_half(&a, service, stream);
    lb_stop(&a);
    assert_int_equal(access(path, R_OK), 0);

    const char *load_args[] = {"--load", path, NULL};
    lb_start(&b, load_args);
    assert_string_equal(b.account_sid, a.account_sid);
    assert_string_equal(b.auth_token, a.auth_token);
    char target[160];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s", service, stream);
    assert_int_equal(lb_request(&b, "GET", target, NULL, resp, sizeof resp), 200);
    assert_true(lb_json_str(lb_body(resp), "sid", again, sizeof again));
    assert_string_equal(again, stream);
    assert_int_equal(lb_request(&b, "GET", "/_syncfake/clock", NULL, resp, sizeof resp), 200);
    assert_non_null(strstr(lb_body(resp), "\"now_ms\": 1438286405000"));
    second_half(&b, service, later);
    assert_int_equal(lb_request(&b, "GET", "/_syncfake/snapshot", NULL, resp, sizeof resp), 200);
    char type[64];
    assert_true(lb_header(resp, "Content-Type", type, sizeof type));
    assert_string_equal(type, "application/octet-stream");
    assert_memory_equal(lb_body(resp), "SFSNAPSH", 8);
    lb_stop(&b);

    /* the same calls on one server without a restart mint the same SID */
    lb_start(&c, NULL);
    first_half(&c, service, stream);
    second_half(&c, service, straight_later);
    assert_string_equal(later, straight_later);
    lb_stop(&c);
    unlink(path);
}

static void test_load_of_a_bad_file_fails_at_start(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "/tmp/sf_server_bad_%d", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("not a snapshot at all", f);
    fclose(f);
    char cmd[512];
    const char *bin = getenv("SF_SERVER_BIN");
    snprintf(cmd, sizeof cmd, "%s --port 0 --load %s 2>&1", bin ? bin : "./syncfake-server", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[512] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    unlink(path);
    if (strstr(out, "not found"))
        skip();
    assert_int_not_equal(status, 0);
    assert_non_null(strstr(out, "not a syncfake snapshot"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_save_on_exit_then_load),
        cmocka_unit_test(test_load_of_a_bad_file_fails_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
