/* SPDX-License-Identifier: MIT */
/* test_control_scenario.c: POST /_syncfake/scenario over the in-process dispatcher: a text
 * as a form parameter or a text/plain body, its report, parse errors (400, nothing changes),
 * a failed step, and the account model (another account's scenario builds that account's
 * things and may not move the clock). */
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
#include "syncfake_http.h"
#include "two_accounts.h"

static int setup(void **state)
{
    *state = sf_test_accounts_fake(0, true);
    return 0;
}

static int post(sf_fake *fake, const char *auth, const char *type, const char *body,
                sf_http_response *resp)
{
    sf_http_header h[2] = {{"Authorization", auth}, {"Content-Type", type}};
    sf_http_request req = {.method = "POST",
                           .target = "/_syncfake/scenario",
                           .headers = h,
                           .header_count = 2,
                           .body = body,
                           .body_len = strlen(body)};
    return sf_http_dispatch(fake, &req, resp);
}

#define FORM "application/x-www-form-urlencoded"
#define TEXT "text/plain; charset=utf-8"
#define PLAIN                                                                                      \
    "service s\nstream room\nsubscribe alice room\nfault f subscriber=alice drop_next=1\n"         \
    "publish m1 room {\"i\":1}\npublish m2 room {\"i\":2}\nexpect received alice m2\n"             \
    "expect received alice m1\n"

static void test_text_body_and_report(void **state)
{
    sf_http_response r;
    assert_int_equal(post(*state, AUTH_A, TEXT, PLAIN, &r), 200);
    assert_string_equal(r.content_type, "application/json");
    assert_string_equal(r.body,
                        "{\"completed\": true, \"passed\": false, \"steps\": 8, \"steps_run\": 8, "
                        "\"expects_passed\": 1, \"expects_failed\": 1, \"error\": null, "
                        "\"failures\": [{\"line\": 8, \"message\": \"line 8: alice received m2, "
                        "expected m1\"}], \"subscribers\": [{\"name\": \"alice\", \"id\": 1}]}");
    sf_http_response_free(&r);
}

static void test_form_parameter(void **state)
{
    sf_http_response r;
    /* service s / stream x / expect stream x exists, form-encoded */
    assert_int_equal(
        post(*state, AUTH_A, FORM, "Scenario=service+s%0Astream+x%0Aexpect+stream+x+exists%0A", &r),
        200);
    assert_non_null(strstr(r.body, "\"passed\": true"));
    sf_http_response_free(&r);
    assert_int_equal(post(*state, AUTH_A, FORM, "Other=1", &r), 400);
    assert_non_null(strstr(r.body, "Scenario is required"));
    sf_http_response_free(&r);
}

static void test_parse_error_changes_nothing(void **state)
{
    sf_http_response r;
    size_t before = sf_journal_count(*state);
    assert_int_equal(post(*state, AUTH_A, TEXT, "service s\nstream x ttl=soon\n", &r), 400);
    assert_string_equal(r.body,
                        "{\"code\": 20001, \"message\": \"Invalid parameter: line 2: expected "
                        "service=NAME or ttl=SECONDS, got 'ttl=soon'\", \"more_info\": "
                        "\"https://www.twilio.com/docs/errors/20001\", \"status\": 400}");
    sf_http_response_free(&r);
    assert_int_equal(sf_journal_count(*state), before);
}

static void test_failed_step_reports_its_error(void **state)
{
    sf_http_response r;
    assert_int_equal(post(*state, AUTH_A, TEXT, "service s\nstream x ttl=999999999\n", &r), 200);
    assert_non_null(strstr(r.body, "\"completed\": false"));
    assert_non_null(strstr(r.body, "\"error\": {\"line\": 2, \"status\": 400, \"code\": 54011"));
    sf_http_response_free(&r);
}

static void test_other_account_is_scoped(void **state)
{
    sf_http_response r;
    assert_int_equal(post(*state, AUTH_B, TEXT, "service mine\nstream x\nfault f drop=1\n", &r),
                     200);
    assert_non_null(strstr(r.body, "\"passed\": true"));
    sf_http_response_free(&r);
    sf_service_page *page;
    assert_status(sf_service_list(*state, B_SID, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    sf_service_page_free(*state, page);
    assert_status(sf_service_list(*state, A_SID, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_service_page_free(*state, page);
    sf_fault_info f;
    assert_int_equal(sf_fault_list(*state, &f, 1), 1);
    assert_string_equal(f.account_sid, B_SID);

    /* no clock moves: refused before anything runs */
    size_t before = sf_journal_count(*state);
    assert_int_equal(post(*state, AUTH_B, TEXT, "service other\nadvance 1s\n", &r), 403);
    assert_non_null(strstr(r.body, "{\"code\": 20403, \"message\": \"Forbidden\""));
    sf_http_response_free(&r);
    assert_int_equal(sf_journal_count(*state), before);
    assert_int_equal(post(*state, AUTH_A, TEXT, "advance 1s\n", &r), 200);
    sf_http_response_free(&r);
}

static void test_method_and_auth(void **state)
{
    sf_http_header h[1] = {{"Authorization", AUTH_A}};
    sf_http_request req = {
        .method = "GET", .target = "/_syncfake/scenario", .headers = h, .header_count = 1};
    sf_http_response r;
    assert_int_equal(sf_http_dispatch(*state, &req, &r), 405);
    assert_string_equal(r.allow, "POST");
    sf_http_response_free(&r);
    assert_int_equal(post(*state, "Basic eDp5", TEXT, "idle\n", &r), 401);
    sf_http_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_body_and_report, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_form_parameter, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_parse_error_changes_nothing, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_failed_step_reports_its_error, setup,
                                        sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_other_account_is_scoped, setup, sf_test_free_fake),
        cmocka_unit_test_setup_teardown(test_method_and_auth, setup, sf_test_free_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
