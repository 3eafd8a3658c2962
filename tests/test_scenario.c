/* SPDX-License-Identifier: MIT */
/* test_scenario.c: scenarios (syncfake_scenario.h): each step against the fake, each expect
 * passing when it holds and failing (with its line and why) when it does not, parse errors
 * that name the line and change nothing, the bounds, and every shipped teaching scenario
 * under examples/scenarios/ passing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "fixture.h"
#include "syncfake_scenario.h"

static sf_fake *new_fake(size_t journal_capacity)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = 42;
    o.journal_capacity = journal_capacity;
    sf_fake *f;
    assert_status(sf_fake_new(&o, &f, NULL), SF_OK);
    return f;
}

static int setup(void **state)
{
    *state = new_fake(65536);
    return 0;
}

static sf_status run(sf_fake *f, const char *text, sf_scenario_report *r, sf_error *err)
{
    return sf_scenario_run(f, text, strlen(text), NULL, r, err);
}

#define CHAT "service s\nstream room\nsubscribe a room\n"

/* Every expect of the text passes. */
static void assert_passes(sf_fake *f, const char *text)
{
    sf_scenario_report r;
    sf_error err;
    sf_status s = run(f, text, &r, &err);
    if (s != SF_OK || !r.passed)
        fail_msg("%s (%s)", r.failure_count ? r.failures[0].message : "?", err.message);
    assert_true(r.completed);
    assert_int_equal(r.expects_failed, 0);
}

/* The text runs to its end with exactly one failed expect, on `line`, saying `why`. */
static void assert_fails(sf_fake *f, const char *text, size_t line, const char *why)
{
    sf_scenario_report r;
    assert_status(run(f, text, &r, NULL), SF_OK);
    assert_true(r.completed);
    assert_false(r.passed);
    assert_int_equal(r.expects_failed, 1);
    assert_int_equal(r.failure_count, 1);
    assert_int_equal(r.failures[0].line, line);
    if (!strstr(r.failures[0].message, why))
        fail_msg("'%s' does not say '%s'", r.failures[0].message, why);
}

/* ---- steps and the expects that check them ---- */

static void test_received_in_order(void **state)
{
    assert_passes(*state, CHAT "subscribe b room\npublish m1 room {\"i\": 1}\n"
                               "publish m2 room {\"i\":2}\nexpect received a m1 m2\n"
                               "expect stats b delivered=2\n");
}

static void test_received_fails_on_order_and_count(void **state)
{
    assert_fails(*state, CHAT "publish m1 room {}\npublish m2 room {}\nexpect received a m2 m1\n",
                 6, "a received m1 m2, expected m2 m1");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "publish m1 room {}\nexpect received a none\n", 5,
                 "a received m1, expected nothing");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "publish m1 room {}\nexpect received a m1 m1\n", 5, "expected m1 m1");
}

static void test_drop_next_and_fate(void **state)
{
    assert_passes(*state, CHAT "fault f subscriber=a drop_next=1\npublish m1 room {}\n"
                               "publish m2 room {}\nexpect received a m2\n"
                               "expect fate a m1 dropped\nexpect stats a dropped=1\n");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "publish m1 room {}\nexpect fate a m1 dropped\n", 5,
                 "no `dropped` entry of m1 for a");
}

static void test_delay_then_advance(void **state)
{
    assert_passes(*state,
                  CHAT "fault slow stream=room delay=200ms\npublish m1 room {}\n"
                       "expect received a none\nexpect pending 1\nexpect fate a m1 delayed\n"
                       "advance 199ms\nexpect received a none\nadvance 1ms\n"
                       "expect received a m1\nexpect pending 0\n");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "fault slow delay=1s\npublish m1 room {}\nexpect pending 0\n", 6,
                 "1 deliveries pending, expected 0");
}

static void test_idle_and_set(void **state)
{
    assert_passes(*state, CHAT "fault slow delay=2m\npublish m1 room {}\nidle\n"
                               "expect received a m1\n");
    sf_fake_reset(*state, NULL);
    sf_ms before = sf_clock_now(*state);
    assert_passes(*state, CHAT "set start+90s\n");
    assert_int_equal(sf_clock_now(*state), before + 90000);
    assert_passes(*state, "set 1438286500000\n");
    assert_int_equal(sf_clock_now(*state), INT64_C(1438286500000));
}

static void test_duplicate(void **state)
{
    assert_passes(*state, CHAT "fault twice subscriber=a duplicate=1\npublish m1 room {}\n"
                               "advance 1s\nexpect received a m1 m1\nexpect fate a m1 duplicated\n"
                               "expect stats a duplicated=1 delivered=2\n");
}

static void test_unfault(void **state)
{
    assert_passes(*state, CHAT "fault gone drop=1\npublish m1 room {}\nunfault gone\n"
                               "publish m2 room {}\nexpect received a m2\n");
    assert_int_equal(sf_fault_list(*state, NULL, 0), 0);
}

static void test_hold_heal_flush_and_discard(void **state)
{
    assert_passes(*state, CHAT "hold a\npublish m1 room {}\nexpect received a none\n"
                               "expect stats a parked=1\nexpect fate a m1 held\nheal a\n"
                               "expect received a m1\nhold a\npublish m2 room {}\n"
                               "heal a discard\nexpect fate a m2 discarded\n"
                               "expect received a m1\n");
}

static void test_disconnect_reconnect_unsubscribe(void **state)
{
    assert_passes(*state, CHAT "disconnect a\npublish m1 room {}\nreconnect a\n"
                               "publish m2 room {}\nexpect fate a m1 lost\nexpect received a m2\n"
                               "unsubscribe a\npublish m3 room {}\nexpect received a m2\n");
}

static void test_stream_ttl_and_removed(void **state)
{
    assert_passes(*state, "service s\nstream p ttl=10\nsubscribe w p\nadvance 9s\nttl p 10\n"
                          "advance 9s\nexpect stream p exists\nadvance 1s\nexpect stream p gone\n"
                          "expect removed w\n");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "expect stream room gone\n", 4, "stream room exists");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "delete room\nexpect stream room exists\n", 5, "is gone");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "expect removed a\n", 4, "a got no `removed` event");
}

static void test_status_and_rate_limit(void **state)
{
    assert_passes(*state, CHAT "burst t 301 room {}\nexpect status t300 201\n"
                               "expect status t301 429 54009\nexpect stats a delivered=300\n"
                               "publish bad room {nope}\nexpect status bad 400 54008\n");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "publish m1 room {}\nexpect status m1 429\n", 5,
                 "publish m1 answered 201 (code 0), expected 429");
    sf_fake_reset(*state, NULL);
    assert_fails(*state, CHAT "burst t 301 room {}\nexpect status t301 429 1\n", 5,
                 "with that code");
}

static void test_stats_fails(void **state)
{
    assert_fails(*state, CHAT "publish m1 room {}\nexpect stats a delivered=2\n", 5,
                 "a delivered=1, expected 2");
}

static void test_clients_and_skip_local(void **state)
{
    assert_passes(*state, CHAT "subscribe me room client=7 skip_local\n"
                               "publish mine room client=7 {\"x\":1}\npublish other room {}\n"
                               "expect received me other\nexpect received a mine other\n");
}

static void test_comments_crlf_and_blank_lines(void **state)
{
    assert_passes(*state, "# a comment\r\n\r\n  service s   # trailing\r\nstream room\r\n"
                          "subscribe a room\t# tab\r\npublish m1 room {\"t\":\"# kept\"}  \r\n"
                          "publish m2 room {\"s\":\"}{\\\"\",\"l\":[{}]} # a comment\n"
                          "expect received a m1 m2\nexpect status m2 201\n");
}

static void test_failures_are_all_counted(void **state)
{
    sf_scenario_report r;
    assert_status(
        run(*state, CHAT "expect pending 1\nexpect pending 0\nexpect pending 2\n", &r, NULL),
        SF_OK);
    assert_int_equal(r.expects_passed, 1);
    assert_int_equal(r.expects_failed, 2);
    assert_int_equal(r.failures[0].line, 4);
    assert_int_equal(r.failures[1].line, 6);
    assert_int_equal(r.steps, 6);
    assert_int_equal(r.steps_run, 6);
}

/* ---- what stays after a run ---- */

static void test_subscribers_stay_and_are_named(void **state)
{
    sf_scenario_report r;
    assert_status(run(*state, CHAT "subscribe b room\n", &r, NULL), SF_OK);
    assert_int_equal(r.subscriber_count, 2);
    sf_subscriber_id b = sf_scenario_subscriber_id(&r, "b");
    assert_int_equal(b, 2);
    assert_int_equal(sf_scenario_subscriber_id(&r, "a"), 1);
    assert_int_equal(sf_scenario_subscriber_id(&r, "zz"), 0);
    assert_int_equal(sf_scenario_subscriber_id(NULL, "a"), 0);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(*state, b, &st, NULL), SF_OK);
    assert_true(st.attached);
}

/* ---- steps that fail stop the run ---- */

static void test_failed_step_stops_the_run(void **state)
{
    sf_scenario_report r;
    sf_error err;
    const char *text = CHAT "delete room\nsubscribe b room\nexpect pending 0\n";
    assert_status(run(*state, text, &r, &err), SF_ERR_NOT_FOUND);
    assert_int_equal(err.code, 20404);
    assert_false(r.completed);
    assert_false(r.passed);
    assert_int_equal(r.error_line, 5);
    assert_int_equal(r.steps_run, 5);
    assert_int_equal(r.expects_passed + r.expects_failed, 0);
    assert_non_null(strstr(r.failures[0].message, "line 5: "));
    assert_int_equal(sf_scenario_subscriber_id(&r, "b"), 0);
}

static void test_step_error_is_the_fakes_error(void **state)
{
    sf_error err;
    assert_status(run(*state,
                      "service s\nstream x\nservice t\nstream y service=s\n"
                      "stream z service=t ttl=0\n",
                      NULL, &err),
                  SF_OK);
    assert_status(run(*state, "service s\nstream x\n", NULL, &err), SF_OK); /* new service */
    sf_fake_reset(*state, NULL);
    assert_status(run(*state, "service s\nstream x ttl=99999999\n", NULL, &err),
                  SF_ERR_INVALID_TTL);
}

static void test_no_clock_forbids_clock_steps(void **state)
{
    const char *steps[] = {"advance 1s\n", "set start+1s\n", "idle\n"};
    for (size_t i = 0; i < 3; i++) {
        sf_scenario_options o = {.no_clock = true};
        sf_scenario_report r;
        sf_error err;
        assert_status(sf_scenario_run(*state, steps[i], strlen(steps[i]), &o, &r, &err),
                      SF_ERR_FORBIDDEN);
        assert_int_equal(err.http_status, 403);
        assert_int_equal(r.error_line, 1);
        assert_string_equal(err.message, "Forbidden");
        assert_string_equal(r.failures[0].message,
                            "line 1: only the fake-wide account may move the clock");
    }
    /* refused before anything runs */
    sf_scenario_options o2 = {.no_clock = true};
    size_t journal = sf_journal_count(*state);
    assert_status(sf_scenario_run(*state, "service s\nidle", 14, &o2, NULL, NULL),
                  SF_ERR_FORBIDDEN);
    assert_int_equal(sf_journal_count(*state), journal);
    sf_scenario_options o = {.no_clock = false};
    assert_status(sf_scenario_run(*state, "advance 1s", 10, &o, NULL, NULL), SF_OK);
}

static void test_clock_steps_need_a_manual_clock(void **state)
{
    (void)state;
    sf_options o;
    sf_options_init(&o);
    o.clock = SF_CLOCK_SYSTEM;
    sf_fake *f;
    assert_status(sf_fake_new(&o, &f, NULL), SF_OK);
    assert_status(sf_scenario_run(f, "idle", 4, NULL, NULL, NULL), SF_ERR_CLOCK_NOT_MANUAL);
    assert_status(sf_scenario_run(f, "advance 1s", 10, NULL, NULL, NULL), SF_ERR_CLOCK_NOT_MANUAL);
    sf_fake_free(f);
}

static void test_other_account(void **state)
{
    sf_account_record acct;
    assert_status(sf_account_create(*state, NULL, &acct, NULL), SF_OK);
    sf_scenario_options o = {.account_sid = acct.sid, .no_clock = true};
    const char *text = CHAT "fault f subscriber=a drop=1\npublish m1 room {}\n"
                            "expect fate a m1 dropped\n";
    sf_scenario_report r;
    assert_status(sf_scenario_run(*state, text, strlen(text), &o, &r, NULL), SF_OK);
    assert_true(r.passed);
    sf_fault_info info;
    assert_int_equal(sf_fault_list(*state, &info, 1), 1);
    assert_string_equal(info.account_sid, acct.sid);
    sf_service_page *page;
    assert_status(sf_service_list(*state, acct.sid, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    sf_service_page_free(*state, page);
    assert_status(sf_service_list(*state, NULL, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_service_page_free(*state, page);
}

static void test_small_journal_fails_journal_expects(void **state)
{
    (void)state;
    sf_fake *f = new_fake(4);
    assert_fails(f,
                 CHAT "publish m1 room {}\npublish m2 room {}\nexpect pending 0\n"
                      "expect received a m1 m2\n",
                 7, "journal_capacity is too small");
    sf_fake_free(f);
    f = new_fake(0);
    assert_fails(f, CHAT "expect received a none\n", 4, "journal_capacity is too small");
    sf_fake_free(f);
}

/* ---- parse errors: the line, what was expected, nothing changed ---- */

typedef struct bad_case {
    const char *text;
    size_t line;
    const char *says;
} bad_case;

static const bad_case bad[] = {
    {"frobnicate x", 1, "expected a step (service, stream"},
    {"service", 1, "expected service, got the end of the line"},
    {"service a b", 1, "expected the end of the line, got 'b'"},
    {"service a\nservice a", 2, "service 'a' is already declared"},
    {"service a/b", 1, "expected a service name"},
    {"stream x", 1, "expected a `service` line before the first stream"},
    {"service s\nstream x service=t", 2, "expected a service declared on an earlier line"},
    {"service s\nstream x ttl=-1", 2, "expected service=NAME or ttl=SECONDS, got 'ttl=-1'"},
    {"service s\nstream x\nsubscribe a y", 3, "expected a stream declared on an earlier line"},
    {"service s\nstream x\nsubscribe a x client=0", 3, "expected client=N (N >= 1)"},
    {"service s\nstream x\npublish m x", 3, "expected message data: a JSON object"},
    {"service s\nstream x\npublish m x client=z {}", 3, "expected client=N with N >= 1"},
    {"service s\nstream x\npublish m x {\"a\":\"}\"", 3, "a JSON object {...} closed on its line"},
    {"service s\nstream x\npublish m x {} junk", 3, "expected the end of the line, got 'junk'"},
    {"service s\nstream x\npublish m x {}\npublish m x {}", 4, "label 'm' clashes"},
    {"service s\nstream x\nburst m 3 x {}\npublish m2 x {}", 4, "label 'm2' clashes"},
    {"service s\nstream x\npublish m2 x {}\nburst m 3 x {}", 4, "label 'm' clashes"},
    {"service s\nstream x\nburst m1 3 x {}", 3, "does not end in a digit"},
    {"service s\nstream x\nburst m 1001 x {}", 3, "expected a count of 1-1000"},
    {"service s\nstream x\nburst m 0 x {}", 3, "expected a count of 1-1000"},
    {"fault f", 1, "expected at least one effect"},
    {"fault f drop=1.5", 1, "expected one target"},
    {"fault f delay=10", 1, "expected one target"},
    {"fault f delay=10h", 1, "expected one target"},
    {"fault f subscriber=nobody drop=1", 1, "expected a subscriber declared"},
    {"unfault f", 1, "expected a fault declared on an earlier line, got 'f'"},
    {"advance", 1, "expected a duration, got the end of the line"},
    {"advance 1", 1, "expected a duration such as 250ms"},
    {"advance 99999999999999999m", 1, "expected a duration such as 250ms"},
    {"set yesterday", 1, "expected ms since the epoch or start+DURATION"},
    {"set start+x", 1, "expected start+DURATION"},
    {"idle now", 1, "expected the end of the line, got 'now'"},
    {"hold a", 1, "expected a subscriber declared on an earlier line, got 'a'"},
    {CHAT "heal a later", 4, "expected `discard` or the end of the line"},
    {CHAT "ttl room", 4, "expected a TTL, got the end of the line"},
    {CHAT "ttl room x", 4, "expected a TTL in seconds"},
    {"expect", 1, "expected what to expect"},
    {"expect weather", 1, "expected received, fate, removed"},
    {CHAT "expect received a", 4, "expected message labels or `none`"},
    {CHAT "expect received a m1", 4, "expected a message label declared on an earlier line"},
    {CHAT "expect received a none extra", 4, "expected the end of the line"},
    {CHAT "publish m room {}\nexpect fate a m eaten", 5, "expected a fate: delivered"},
    {CHAT "expect fate a", 4, "expected a message label, got the end"},
    {CHAT "expect stream room maybe", 4, "expected `gone` or `exists`"},
    {CHAT "publish m room {}\nexpect status m 42", 5, "expected an HTTP status 100-599"},
    {CHAT "publish m room {}\nexpect status m 429 x", 5, "expected a Twilio error code"},
    {CHAT "expect stats a", 4, "expected at least one KEY=N"},
    {CHAT "expect stats a happy=1", 4, "expected KEY=N with KEY one of delivered"},
    {"expect pending -1", 1, "expected a count"},
};

static void test_parse_errors_name_the_line(void **state)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_fake *f = *state;
        size_t len = strlen(bad[i].text);
        size_t journal = sf_journal_count(f);
        sf_scenario_report r;
        sf_error err;
        assert_status(sf_scenario_run(f, bad[i].text, len, NULL, &r, &err),
                      SF_ERR_INVALID_ARGUMENT);
        char want[64];
        snprintf(want, sizeof want, "Invalid parameter: line %zu: ", bad[i].line);
        if (strncmp(err.message, want, strlen(want)) != 0 || !strstr(err.message, bad[i].says))
            fail_msg("case %zu: '%s'", i, err.message);
        assert_int_equal(err.code, 20001);
        assert_int_equal(r.error_line, bad[i].line);
        assert_false(r.completed);
        assert_int_equal(r.steps_run, 0);
        assert_int_equal(r.failure_count, 1);
        assert_int_equal(sf_journal_count(f), journal); /* nothing ran */
        assert_int_equal(sf_clock_now(f), SF_DEFAULT_EPOCH_MS);
    }
}

static void test_nul_byte(void **state)
{
    static const char text[] = "service s\n\0oops";
    sf_error err;
    assert_status(sf_scenario_run(*state, text, sizeof text - 1, NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_string_equal(err.message, "Invalid parameter: line 2: expected text, got a NUL byte");
}

static char *filled(size_t len, char c)
{
    char *t = malloc(len + 1);
    assert_non_null(t);
    memset(t, c, len);
    t[len] = '\0';
    return t;
}

static void test_bounds(void **state)
{
    sf_error err;
    char *big = filled(SF_SCENARIO_TEXT_MAX + 1, '\n');
    assert_status(sf_scenario_run(*state, big, strlen(big), NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "at most 65536 bytes"));
    big[SF_SCENARIO_TEXT_MAX] = '\0'; /* exactly the bound: fine */
    assert_status(sf_scenario_run(*state, big, strlen(big), NULL, NULL, &err), SF_OK);
    free(big);

    char *line = filled(SF_SCENARIO_LINE_MAX + 1, ' ');
    assert_status(sf_scenario_run(*state, line, strlen(line), NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "line 1: expected a line of at most 8192 bytes"));
    free(line);

    /* 2049 steps */
    size_t cap = (SF_SCENARIO_STEPS_MAX + 1) * 5 + 1, n = 0;
    char *steps = malloc(cap);
    assert_non_null(steps);
    for (int i = 0; i <= SF_SCENARIO_STEPS_MAX; i++)
        n += (size_t)snprintf(steps + n, cap - n, "idle\n");
    assert_status(sf_scenario_run(*state, steps, n, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "line 2049: at most 2048 steps"));
    assert_status(sf_scenario_run(*state, steps, n - 5, NULL, NULL, &err), SF_OK);
    free(steps);

    /* 65 services; a 65-character name */
    char names[65 * 12 + 1];
    n = 0;
    for (int i = 0; i <= SF_SCENARIO_NAMES_MAX; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "service s%d\n", i);
    assert_status(sf_scenario_run(*state, names, n, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "line 65: at most 64 names of this kind"));
    char *long_name = filled(8 + 65, 'n');
    memcpy(long_name, "service ", 8);
    assert_status(sf_scenario_run(*state, long_name, strlen(long_name), NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    long_name[8 + 64] = '\0';
    assert_status(sf_scenario_run(*state, long_name, strlen(long_name), NULL, NULL, &err), SF_OK);
    free(long_name);
}

static void test_label_bounds(void **state)
{
    sf_error err;
    const char *text = "service s\nstream x\nburst a 1000 x {}\nburst b 1000 x {}\n"
                       "burst c 49 x {}\n";
    assert_status(run(*state, text, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "line 5: at most 2048 message labels"));
    /* 257 labels in one expect */
    char expect[40 + 257 * 3] = CHAT "expect received a";
    for (int i = 0; i < 257; i++)
        strcat(expect, " m");
    assert_status(run(*state, CHAT "publish m room {}\n", NULL, &err), SF_OK);
    char text2[sizeof expect + 40];
    snprintf(text2, sizeof text2, "service s\nstream room\nsubscribe a room\npublish m room {}\n%s",
             expect + strlen(CHAT));
    assert_status(run(*state, text2, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "line 5: at most 256 labels in one expect"));
}

static void test_null_arguments(void **state)
{
    sf_error err;
    sf_scenario_report r;
    assert_status(sf_scenario_run(NULL, "idle", 4, NULL, &r, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_scenario_run(*state, NULL, 0, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_scenario_run(*state, "", 0, NULL, &r, NULL), SF_OK);
    assert_true(r.passed);
    assert_int_equal(r.steps, 0);
}

/* Same seed, same scenario: the same journal, byte for byte. */
static void test_deterministic(void **state)
{
    (void)state;
    const char *text = CHAT "subscribe b room\nfault j stream=room jitter=500ms drop=0.3 "
                            "duplicate=0.3\nburst m 40 room {}\nadvance 1s\n";
    char *journals[2];
    for (int i = 0; i < 2; i++) {
        sf_fake *f = new_fake(65536);
        assert_status(run(f, text, NULL, NULL), SF_OK);
        size_t n = sf_journal_render(f, NULL, NULL, 0);
        journals[i] = malloc(n + 1);
        assert_non_null(journals[i]);
        sf_journal_render(f, NULL, journals[i], n + 1);
        sf_fake_free(f);
    }
    assert_string_equal(journals[0], journals[1]);
    free(journals[0]);
    free(journals[1]);
}

/* Every allocation a scenario makes can fail: the run stops with SF_ERR_NOMEM, nothing leaks
 * (ASan and valgrind check), and with enough memory the same text passes. */
static void test_allocation_failures(void **state)
{
    (void)state;
    sf_test_alloc alloc = {0};
    sf_options o;
    sf_options_init(&o);
    o.allocator = sf_test_allocator(&alloc);
    sf_fake *f;
    assert_status(sf_fake_new(&o, &f, NULL), SF_OK);
    const char *text = "service s\nstream room\nsubscribe a room\nsubscribe b room\n"
                       "fault f subscriber=b drop_next=1\nburst m 12 room {}\n"
                       "publish x1 room {}\npublish x2 room {}\npublish x3 room {}\n"
                       "publish x4 room {}\npublish x5 room {}\npublish x6 room {}\n"
                       "publish x7 room {}\npublish x8 room {}\npublish x9 room {}\n"
                       "expect received b m2 m3 m4 m5 m6 m7 m8 m9 m10 m11 m12 x1 x2 x3 x4 x5 "
                       "x6 x7 x8 x9\nexpect fate b m1 dropped\n";
    bool passed = false;
    int nomem = 0;
    for (long k = 1; k < 500 && !passed; k++) {
        assert_status(sf_fake_reset(f, NULL), SF_OK);
        alloc.fail_at = alloc.calls + k;
        sf_scenario_report r;
        sf_status s = sf_scenario_run(f, text, strlen(text), NULL, &r, NULL);
        alloc.fail_at = 0;
        if (s == SF_ERR_NOMEM) {
            nomem++;
            assert_false(r.completed);
            continue;
        }
        assert_status(s, SF_OK);
        passed = r.passed;
    }
    assert_true(passed);
    assert_true(nomem > 5);
    sf_fake_free(f);
    assert_int_equal(alloc.live, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_received_in_order, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_received_fails_on_order_and_count, setup,
                                        sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_drop_next_and_fate, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_delay_then_advance, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_idle_and_set, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_duplicate, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_unfault, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_hold_heal_flush_and_discard, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_disconnect_reconnect_unsubscribe, setup,
                                        sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_stream_ttl_and_removed, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_status_and_rate_limit, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_stats_fails, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_clients_and_skip_local, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_comments_crlf_and_blank_lines, setup,
                                        sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_failures_are_all_counted, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_subscribers_stay_and_are_named, setup,
                                        sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_failed_step_stops_the_run, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_step_error_is_the_fakes_error, setup,
                                        sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_no_clock_forbids_clock_steps, setup,
                                        sf_test_free_fake),
        cmocka_unit_test(test_clock_steps_need_a_manual_clock),
        cmocka_unit_test_setup_teardown(test_other_account, setup, sf_test_free_fake),
        cmocka_unit_test(test_small_journal_fails_journal_expects),
        cmocka_unit_test_setup_teardown(test_parse_errors_name_the_line, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_nul_byte, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_bounds, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_label_bounds, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_null_arguments, setup, sf_test_free_fake),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
