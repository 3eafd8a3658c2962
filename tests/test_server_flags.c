/* SPDX-License-Identifier: MIT */
/* test_server_flags.c: syncfake-server's command line. A refused option says which value is
 * wrong and what is allowed, in a line or two (not the whole usage), and exits 2; --help shows
 * every default, including that the server's clock defaults to wall and the library's to
 * manual. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"

#define OUT_CAP 16384

/* Runs the server with one bad option; asserts exit 2, the expected text and no usage. */
static void refused(const char *const *args, const char *expect1, const char *expect2)
{
    char out[OUT_CAP];
    int status = lb_run_server(args, out, sizeof out);
    print_message("    %s", out);
    assert_int_equal(status, 2);
    assert_non_null(strstr(out, expect1));
    if (expect2)
        assert_non_null(strstr(out, expect2));
    assert_null(strstr(out, "usage:"));
    assert_null(strstr(out, "bad or incomplete option"));
}

static void test_port_not_a_number(void **state)
{
    (void)state;
    refused((const char *const[]){"--port", "abc", NULL}, "--port \"abc\" is not allowed",
            "allowed: an integer 0..65535");
    refused((const char *const[]){"--port", "65536", NULL}, "--port \"65536\"", "0..65535");
    refused((const char *const[]){"--port", NULL}, "--port needs a value", "0..65535");
}

static void test_clock_typo(void **state)
{
    (void)state;
    refused((const char *const[]){"--clock", "manaul", NULL}, "unknown clock \"manaul\"",
            "(did you mean manual?); allowed: wall (the server's default) or manual");
}

static void test_limit_unknown_and_bad_value(void **state)
{
    (void)state;
    refused((const char *const[]){"--limit", "bogus=1", NULL}, "unknown limit \"bogus\"",
            "allowed: max_data_bytes, publish_rate_per_s, publish_burst, unique_name_max, "
            "ttl_max_s, page_size_default, page_size_max, friendly_name_max, webhook_url_max");
    refused((const char *const[]){"--limit", "page_size_mx=5", NULL},
            "(did you mean page_size_max?)", NULL);
    refused((const char *const[]){"--limit", "page_size_max=x", NULL},
            "--limit page_size_max=x: \"x\" is not allowed", "allowed: an integer 0..4294967295");
    refused((const char *const[]){"--limit", "page_size_max", NULL}, "allowed: NAME=VALUE", NULL);
}

static void test_unknown_option_and_other_values(void **state)
{
    (void)state;
    refused((const char *const[]){"--prot", "1", NULL}, "unknown option \"--prot\"",
            "(did you mean --port?)");
    refused((const char *const[]){"--max-connections", "0", NULL},
            "--max-connections \"0\" is not allowed", "1..1000000");
    refused((const char *const[]){"--instance-id", "a b", NULL}, "--instance-id \"a b\"",
            "A-Z a-z 0-9 . _ -");
    refused((const char *const[]){"--cors-origin", "ftp://x", NULL}, "--cors-origin \"ftp://x\"",
            "http[s]://HOST");
}

static void test_missing_values_and_log_file(void **state)
{
    (void)state;
    refused((const char *const[]){"--clock", NULL}, "--clock needs a value: wall or manual", NULL);
    refused((const char *const[]){"--limit",
                                  "a_limit_name_far_longer_than_any_limit_there_is_"
                                  "or_will_be_here=1",
                                  NULL},
            "unknown limit \"a_limit_name_far_longer", "allowed: max_data_bytes");
    refused((const char *const[]){"--log-requests=", NULL}, "unknown option \"--log-requests=\"",
            "(did you mean --log-requests?)");
    refused((const char *const[]){"--log-requests=/nonexistent-dir/requests.log", NULL},
            "--log-requests=/nonexistent-dir/requests.log: No such file or directory", NULL);
}

/* A good value still works: the explanation is only for refusals. */
static void test_limit_still_applies(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, (const char *const[]){"--limit", "page_size_max=7", NULL});
    char resp[8192];
    assert_int_equal(lb_request(&s, "GET", "/v1/Services?PageSize=8", NULL, resp, sizeof resp),
                     400);
    assert_int_equal(lb_request(&s, "GET", "/v1/Services?PageSize=7", NULL, resp, sizeof resp),
                     200);
    lb_stop(&s);
}

static void test_help_shows_every_default(void **state)
{
    (void)state;
    char out[OUT_CAP];
    assert_int_equal(lb_run_server((const char *const[]){"--help", NULL}, out, sizeof out), 0);
    static const char *const expected[] = {
        "(default 127.0.0.1)",
        "(default 8787",
        "(default 1)",
        "(default wall; the C library's sf_options default is\n                           manual)",
        "minted from the seed",
        "at most 32; default none",
        "(default none: the default",
        "(default http://HOST:PORT)",
        "max_data_bytes=4096",
        "publish_rate_per_s=30",
        "publish_burst=300",
        "unique_name_max=320",
        "ttl_max_s=31536000",
        "page_size_default=50",
        "page_size_max=100",
        "friendly_name_max=255",
        "webhook_url_max=512",
        "(default 16777216)",
        "(default 1024)",
        "(default 10000)",
        "(default: random at start)",
        "Default: http://127.0.0.1:*",
        "--log-requests",
        "(default: off)"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (!strstr(out, expected[i]))
            fail_msg("--help lacks \"%s\"", expected[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_not_a_number),
        cmocka_unit_test(test_clock_typo),
        cmocka_unit_test(test_limit_unknown_and_bad_value),
        cmocka_unit_test(test_unknown_option_and_other_values),
        cmocka_unit_test(test_missing_values_and_log_file),
        cmocka_unit_test(test_limit_still_applies),
        cmocka_unit_test(test_help_shows_every_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
