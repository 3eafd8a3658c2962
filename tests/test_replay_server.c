/* SPDX-License-Identifier: MIT */
/* test_replay_server.c: docs/tools.md "Replaying a failing run" against the server: a
 * syncfake-server started with --record-calls is driven over HTTP (streams, publishes, a
 * fault rule, an injected error, refused requests, clock moves), its journal is downloaded
 * with ?data=1, and syncfake-replay replays it with zero divergence; without --record-calls
 * the journal has no parameters and the command says it cannot replay it (exit 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "loopback.h"

static lb_server server;
static char resp[1 << 20];

static int teardown(void **state)
{
    (void)state;
    if (server.pid > 0)
        lb_stop(&server);
    server.pid = 0;
    remove("replay-server.jsonl");
    remove("replay-server.out");
    return 0;
}

static void drive(void)
{
    char service[64], stream[64], target[256];
    lb_make_stream(&server, service, stream);
    assert_int_equal(lb_request(&server, "POST", "/_syncfake/faults", "DropRate=0.5&DelayMs=20",
                                resp, sizeof resp),
                     201);
    assert_int_equal(lb_request(&server, "POST", "/_syncfake/errors",
                                "Operation=message.create&Status=503&Code=20503", resp,
                                sizeof resp),
                     201);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s/Messages", service, stream);
    for (int i = 0; i < 5; i++)
        lb_request(&server, "POST", target, "Data=%7B%22i%22%3A1%7D", resp, sizeof resp);
    assert_int_equal(lb_request(&server, "POST", target, "Data=%7Bbad", resp, sizeof resp), 400);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", service);
    assert_int_equal(lb_request(&server, "POST", target, "Ttl=abc", resp, sizeof resp), 400);
    assert_int_equal(lb_request(&server, "POST", target, "Ttl=2", resp, sizeof resp), 201);
    assert_int_equal(
        lb_request(&server, "POST", "/_syncfake/clock", "AdvanceMs=5000", resp, sizeof resp), 200);
}

/* Downloads the journal's data form into replay-server.jsonl; returns the replay's exit. */
static int download_and_replay(void)
{
    assert_int_equal(
        lb_request(&server, "GET", "/_syncfake/journal?data=1", NULL, resp, sizeof resp), 200);
    FILE *f = fopen("replay-server.jsonl", "w");
    assert_non_null(f);
    fputs(lb_body(resp), f);
    fclose(f);
    int rc = system("./syncfake-replay replay-server.jsonl > replay-server.out 2>&1");
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static void recorded_server_run_replays(void **state)
{
    (void)state;
    const char *const args[] = {"--record-calls", NULL};
    lb_start(&server, args);
    drive();
    assert_int_equal(download_and_replay(), 0);
    const char *body = lb_body(resp);
    size_t lines = 0;
    for (const char *p = body; *p; p++)
        lines += *p == '\n';
    assert_true(lines >= 15); /* 15 calls, and the expiry */
    char out[128] = "", want[64];
    FILE *f = fopen("replay-server.out", "r");
    assert_non_null(f);
    assert_non_null(fgets(out, sizeof out, f));
    fclose(f);
    snprintf(want, sizeof want, "identical: %zu entries,", lines); /* every line compared */
    assert_memory_equal(out, want, strlen(want));
    assert_non_null(strstr(body, "\"call\":\"record.start\""));
    assert_non_null(strstr(body, "\"refused\":\"SF_ERR_INVALID_TTL\"")); /* Ttl=abc */
    assert_non_null(strstr(body, "\"kind\":\"expired\""));
}

static void unrecorded_server_run_is_refused(void **state)
{
    (void)state;
    lb_start(&server, NULL);
    drive();
    assert_int_equal(download_and_replay(), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(recorded_server_run_replays, teardown),
        cmocka_unit_test_teardown(unrecorded_server_run_is_refused, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
