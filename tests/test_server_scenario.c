/* SPDX-License-Identifier: MIT */
/* test_server_scenario.c: syncfake-server --scenario FILE (sf_server_play_scenario): a file
 * that plays to its end builds the fake the server then serves, failed expects are listed but
 * do not stop the server, and a file that cannot be read, does not parse, needs a manual
 * clock it does not have, or is over the size cap is refused with a message naming why. */
#define _GNU_SOURCE /* open_memstream, mkstemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_status.h"
#include "scenario_load.h"
#include "syncfake_scenario.h"

typedef struct fixture {
    char path[64];
    sf_fake *fake;
    char *log;
    size_t log_len;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->path, sizeof fx->path, "/tmp/sf_scenario_XXXXXX");
    int fd = mkstemp(fx->path);
    assert_true(fd >= 0);
    close(fd);
    assert_status(sf_fake_new(NULL, &fx->fake, NULL), SF_OK);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unlink(fx->path);
    sf_fake_free(fx->fake);
    free(fx->log);
    free(fx);
    return 0;
}

static void write_file(const fixture *fx, const char *text, size_t len)
{
    FILE *f = fopen(fx->path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    fclose(f);
}

/* Plays fx->path (or `path`) against fx->fake; the log lands in fx->log. */
static bool play(fixture *fx, const char *path)
{
    free(fx->log);
    FILE *log = open_memstream(&fx->log, &fx->log_len);
    assert_non_null(log);
    bool ok = sf_server_play_scenario(fx->fake, path ? path : fx->path, log);
    fclose(log);
    return ok;
}

static void assert_log_has(const fixture *fx, const char *text)
{
    if (!strstr(fx->log, text))
        fail_msg("log '%s' lacks '%s'", fx->log, text);
}

static void test_plays_and_builds_the_fake(void **state)
{
    fixture *fx = *state;
    const char *text = "service s\nstream room\nsubscribe a room\npublish m room {}\n"
                       "expect received a m\n";
    write_file(fx, text, strlen(text));
    assert_true(play(fx, NULL));
    assert_log_has(fx, ": 5 steps, 1 expects passed, 0 failed\n");
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, 1, &st, NULL), SF_OK);
    assert_true(st.attached);
    assert_int_equal(st.delivered, 1);
}

static void test_failed_expects_are_listed_and_served(void **state)
{
    fixture *fx = *state;
    const char *text = "service s\nstream room\nexpect stream room gone\n";
    write_file(fx, text, strlen(text));
    assert_true(play(fx, NULL));
    assert_log_has(fx, "0 expects passed, 1 failed\n");
    assert_log_has(fx, "expect failed: line 3: stream room exists, expected it gone\n");
}

static void test_refusals(void **state)
{
    fixture *fx = *state;
    assert_false(play(fx, "/nonexistent/dir/x.scn"));
    assert_log_has(fx, "--scenario /nonexistent/dir/x.scn: No such file or directory\n");

    write_file(fx, "service s\nstream\n", 17);
    assert_false(play(fx, NULL));
    assert_log_has(fx, ": Invalid parameter: line 2: expected stream, got the end of the line\n");

    write_file(fx, "service s\nsubscribe a nowhere\n", 30);
    assert_false(play(fx, NULL));
    assert_log_has(fx, "line 2: expected a stream declared on an earlier line");

    char *big = malloc(SF_SCENARIO_TEXT_MAX + 1);
    assert_non_null(big);
    memset(big, '\n', SF_SCENARIO_TEXT_MAX + 1);
    write_file(fx, big, SF_SCENARIO_TEXT_MAX + 1);
    free(big);
    assert_false(play(fx, NULL));
    assert_log_has(fx, ": over 65536 bytes\n");
}

static void test_a_failed_step_is_refused(void **state)
{
    fixture *fx = *state;
    const char *text = "service s\nstream room\ndelete room\nsubscribe a room\n";
    write_file(fx, text, strlen(text));
    assert_false(play(fx, NULL));
    assert_log_has(fx, "line 4: The requested resource");
}

static void test_clock_steps_need_a_manual_clock(void **state)
{
    fixture *fx = *state;
    sf_fake_free(fx->fake);
    sf_options o;
    sf_options_init(&o);
    o.clock = SF_CLOCK_SYSTEM;
    assert_status(sf_fake_new(&o, &fx->fake, NULL), SF_OK);
    write_file(fx, "advance 1s\n", 11);
    assert_false(play(fx, NULL));
    assert_log_has(fx, "(clock steps need --clock manual)\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_plays_and_builds_the_fake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_expects_are_listed_and_served, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_failed_step_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_steps_need_a_manual_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
