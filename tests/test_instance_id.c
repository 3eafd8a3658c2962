/* SPDX-License-Identifier: MIT */
/* test_instance_id.c: the id of one server run (fake_http/server/instance_id.c) and where the
 * HTTP face shows it. The id comes from the kernel's randomness, not from the fake: two ids
 * differ, each is 32 hex digits; --instance-id values are checked (1..64 of A-Z a-z 0-9 . _ -).
 * GET /_syncfake/clock shows a request's instance_id (JSON-escaped) and shows none in process,
 * so the in-process answers, REST bodies and journal stay what the seed makes them.
 * (The server binary, its banner and the Twilsock storage id: tests/sdk/instance.test.js.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <nettle/base64.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assert_status.h"
#include "instance_id.h"
#include "syncfake.h"
#include "syncfake_http.h"

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return s[n] == '\0';
}

static void test_new_ids_are_hex_and_differ(void **state)
{
    (void)state;
    char a[SF_INSTANCE_ID_MAX + 1], b[SF_INSTANCE_ID_MAX + 1];
    assert_true(sf_instance_id_new(a));
    assert_true(sf_instance_id_new(b));
    assert_int_equal(strlen(a), SF_INSTANCE_ID_NEW_LEN);
    assert_true(all_hex(a, SF_INSTANCE_ID_NEW_LEN));
    assert_true(all_hex(b, SF_INSTANCE_ID_NEW_LEN));
    assert_string_not_equal(a, b); /* 128 random bits: equal only if the source is broken */
    assert_true(sf_instance_id_valid(a));
}

static void test_valid_ids(void **state)
{
    (void)state;
    char longest[SF_INSTANCE_ID_MAX + 2];
    memset(longest, 'x', SF_INSTANCE_ID_MAX);
    longest[SF_INSTANCE_ID_MAX] = '\0';
    assert_true(sf_instance_id_valid("a"));
    assert_true(sf_instance_id_valid("run-1.test_A"));
    assert_true(sf_instance_id_valid(longest));
    longest[SF_INSTANCE_ID_MAX] = 'x';
    longest[SF_INSTANCE_ID_MAX + 1] = '\0';
    assert_false(sf_instance_id_valid(longest)); /* 65 characters */
    assert_false(sf_instance_id_valid(NULL));
    assert_false(sf_instance_id_valid(""));
    const char *bad[] = {"a b", "a\"b", "a\\b", "a/b", "a:b", "\xc3\xa9", "a\nb", "a%20"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(sf_instance_id_valid(bad[i]));
}

/* ---- the clock route ---- */

typedef struct clock_env {
    sf_fake *fake;
    char auth[256];
} clock_env;

static int env_setup(void **state)
{
    clock_env *env = calloc(1, sizeof *env);
    assert_non_null(env);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 3;
    opts.clock = SF_CLOCK_MANUAL;
    sf_error err;
    assert_status(sf_fake_new(&opts, &env->fake, &err), SF_OK);
    char creds[160];
    int n = snprintf(creds, sizeof creds, "%s:%s", sf_fake_account_sid(env->fake),
                     sf_fake_auth_token(env->fake));
    char b64[BASE64_ENCODE_RAW_LENGTH(160) + 1];
    base64_encode_raw(b64, (size_t)n, (const uint8_t *)creds);
    b64[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
    snprintf(env->auth, sizeof env->auth, "Basic %s", b64);
    *state = env;
    return 0;
}

static int env_teardown(void **state)
{
    clock_env *env = *state;
    sf_fake_free(env->fake);
    free(env);
    return 0;
}

/* GET target with the fake's credentials and the given instance id; the body, malloc'd. */
static char *get(clock_env *env, const char *target, const char *instance_id, int *status)
{
    sf_http_header h = {"Authorization", env->auth};
    sf_http_request req = {.method = "GET",
                           .target = target,
                           .headers = &h,
                           .header_count = 1,
                           .instance_id = instance_id};
    sf_http_response resp;
    *status = sf_http_dispatch(env->fake, &req, &resp);
    char *body = strdup(resp.body ? resp.body : "");
    sf_http_response_free(&resp);
    assert_non_null(body);
    return body;
}

static void test_clock_shows_the_instance(void **state)
{
    clock_env *env = *state;
    int status;
    char *body = get(env, "/_syncfake/clock", "run-7", &status);
    assert_int_equal(status, 200);
    assert_string_equal(body, "{\"now\": \"2015-07-30T20:00:00Z\", \"now_ms\": 1438286400000, "
                              "\"mode\": \"manual\", \"instance_id\": \"run-7\"}");
    free(body);
}

static void test_clock_in_process_shows_none(void **state)
{
    clock_env *env = *state;
    int status;
    char *body = get(env, "/_syncfake/clock", NULL, &status);
    assert_int_equal(status, 200);
    assert_string_equal(body, "{\"now\": \"2015-07-30T20:00:00Z\", \"now_ms\": 1438286400000, "
                              "\"mode\": \"manual\"}");
    free(body);
}

static void test_clock_escapes_the_instance(void **state)
{
    clock_env *env = *state;
    int status;
    char *body = get(env, "/_syncfake/clock", "a\"b\\c", &status);
    assert_int_equal(status, 200);
    assert_non_null(strstr(body, "\"instance_id\": \"a\\\"b\\\\c\"}"));
    free(body);
}

/* Only the clock route names it: a REST answer is the same with or without it. */
static void test_rest_bodies_do_not_name_it(void **state)
{
    clock_env *env = *state;
    int s1, s2;
    char *with = get(env, "/v1/Services", "run-7", &s1);
    char *without = get(env, "/v1/Services", NULL, &s2);
    assert_int_equal(s1, 200);
    assert_int_equal(s2, s1);
    assert_string_equal(with, without);
    assert_null(strstr(with, "run-7"));
    free(with);
    free(without);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_ids_are_hex_and_differ),
        cmocka_unit_test(test_valid_ids),
        cmocka_unit_test_setup_teardown(test_clock_shows_the_instance, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_clock_in_process_shows_none, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_clock_escapes_the_instance, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_rest_bodies_do_not_name_it, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
