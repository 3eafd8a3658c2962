/* SPDX-License-Identifier: MIT */
/* test_journal_refused.c: `refused` journal entries from C (sf_journal_request_refused) and
 * from the in-process HTTP face: their JSON form (method, status, code, reason, ISO time next
 * to t_ms), whose entry they are (the account named, none for an unknown one), and the
 * calls that must record nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "syncfake_http.h"
#include "two_accounts.h"

/* The JSON of the journal's entries of `account` (NULL: all), one per line. */
static void render(sf_fake *fake, const char *account, char *out, size_t cap)
{
    sf_journal_filter f = {.account_sid = account};
    assert_true(sf_journal_render(fake, &f, out, cap) < cap);
}

static void test_kind_is_appended_last(void **state)
{
    (void)state;
    /* appended after the kinds that existed before it: their numbers are unchanged */
    assert_true(SF_JOURNAL_REFUSED > SF_JOURNAL_REMOVED);
    assert_true(SF_JOURNAL_REFUSED < SF_JOURNAL_KIND_COUNT);
    assert_string_equal(sf_journal_kind_name(SF_JOURNAL_REFUSED), "refused");
    assert_string_equal(sf_refusal_name(SF_REFUSAL_BAD_FORM), "bad_form");
    assert_null(sf_refusal_name(SF_REFUSAL_COUNT));
}

static void test_entry_json_and_account(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(0, true);
    assert_status(sf_clock_advance(fake, 1234, NULL), SF_OK);
    sf_journal_request_refused(fake, B_SID, "POST", SF_ERR_INVALID_PARAMETER, SF_REFUSAL_BAD_FORM);
    sf_journal_request_refused(fake, "AC99999999999999999999999999999999", "BREW",
                               SF_ERR_AUTHENTICATE, SF_REFUSAL_UNAUTHENTICATED);
    sf_journal_request_refused(fake, NULL, "DELETE", SF_ERR_METHOD_NOT_ALLOWED,
                               SF_REFUSAL_METHOD_NOT_ALLOWED);
    /* nothing for these */
    sf_journal_request_refused(fake, B_SID, "GET", SF_OK, SF_REFUSAL_BAD_FORM);
    sf_journal_request_refused(fake, B_SID, "GET", SF_ERR_AUTHENTICATE, SF_REFUSAL_COUNT);
    sf_journal_request_refused(NULL, B_SID, "GET", SF_ERR_AUTHENTICATE, SF_REFUSAL_BAD_FORM);
    char all[4096], own[4096];
    render(fake, NULL, all, sizeof all);
    render(fake, B_SID, own, sizeof own);
    assert_string_equal(
        all, "{\"seq\":1,\"t_ms\":1438286401234,\"time\":\"2015-07-30T20:00:01.234Z\",\"kind\":"
             "\"refused\",\"method\":\"POST\",\"status\":400,\"code\":20001,\"reason\":"
             "\"bad_form\"}\n"
             "{\"seq\":2,\"t_ms\":1438286401234,\"time\":\"2015-07-30T20:00:01.234Z\",\"kind\":"
             "\"refused\",\"method\":\"OTHER\",\"status\":401,\"code\":20003,\"reason\":"
             "\"unauthenticated\"}\n"
             "{\"seq\":3,\"t_ms\":1438286401234,\"time\":\"2015-07-30T20:00:01.234Z\",\"kind\":"
             "\"refused\",\"method\":\"DELETE\",\"status\":405,\"code\":20004,\"reason\":"
             "\"method_not_allowed\"}\n");
    assert_non_null(strstr(own, "\"seq\":1,"));
    assert_null(strstr(own, "\"seq\":2,"));
    assert_null(strstr(own, "\"seq\":3,"));
    uint64_t cursor = 0;
    sf_journal_entry e;
    assert_true(sf_journal_next(fake, NULL, &cursor, &e));
    assert_int_equal(e.kind, SF_JOURNAL_REFUSED);
    assert_int_equal(e.refusal, SF_REFUSAL_BAD_FORM);
    assert_string_equal(e.method, "POST");
    assert_string_equal(e.account_sid, B_SID);
    sf_fake_free(fake);
}

/* A hand-made entry cannot break the JSON: an odd method is written as OTHER. */
static void test_method_is_written_safely(void **state)
{
    (void)state;
    sf_journal_entry e;
    memset(&e, 0, sizeof e);
    e.seq = 7;
    e.t_ms = 1;
    e.kind = SF_JOURNAL_REFUSED;
    memcpy(e.method, "GE\"T", 5);
    e.status = 400;
    e.code = 20001;
    e.refusal = SF_REFUSAL_BAD_PATH;
    char line[512];
    sf_journal_entry_json(&e, line, sizeof line);
    assert_string_equal(line, "{\"seq\":7,\"t_ms\":1,\"time\":\"1970-01-01T00:00:00.001Z\","
                              "\"kind\":\"refused\",\"method\":\"OTHER\",\"status\":400,"
                              "\"code\":20001,\"reason\":\"bad_path\"}");
    memcpy(e.method, "ABCDEFGH", 8); /* no terminator */
    sf_journal_entry_json(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"method\":\"OTHER\""));
}

static int send(sf_fake *fake, const char *method, const char *target, const char *auth,
                size_t body_len)
{
    sf_http_header h[1] = {{"Authorization", auth}};
    char *body = calloc(1, body_len + 1);
    assert_non_null(body);
    sf_http_request req = {.method = method,
                           .target = target,
                           .headers = h,
                           .header_count = auth ? 1 : 0,
                           .body = body,
                           .body_len = body_len};
    sf_http_response resp;
    int status = sf_http_dispatch(fake, &req, &resp);
    sf_http_response_free(&resp);
    free(body);
    return status;
}

/* The HTTP face's refusals before routing, and the account each is scoped to. */
static void test_http_refusals(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(0, true);
    assert_int_equal(send(fake, "POST", "/v1/Services", AUTH_B, SF_HTTP_MAX_BODY + 1), 413);
    assert_int_equal(send(fake, "GET", "v1/Services", AUTH_B, 0), 400);
    assert_int_equal(send(fake, "GET", "/v1/Services", "Bearer x", 0), 401);
    char all[4096], own[4096];
    render(fake, NULL, all, sizeof all);
    render(fake, B_SID, own, sizeof own);
    print_message("%s", all);
    assert_non_null(strstr(all, "\"seq\":1,\"t_ms\":1438286400000,\"time\":\"2015-07-30T20:00:"
                                "00.000Z\",\"kind\":\"refused\",\"method\":\"POST\",\"status\":"
                                "413,\"code\":54006,\"reason\":\"body_too_large\"}"));
    assert_non_null(strstr(all, "\"seq\":2,"));
    assert_non_null(strstr(all, "\"reason\":\"bad_target\"}"));
    assert_non_null(strstr(all, "\"seq\":3,"));
    assert_non_null(strstr(all, "\"status\":401,\"code\":20003,\"reason\":\"unauthenticated\"}"));
    /* B's credentials were good on the first two: those are B's; the third named nobody */
    assert_non_null(strstr(own, "body_too_large"));
    assert_non_null(strstr(own, "bad_target"));
    assert_null(strstr(own, "unauthenticated"));
    sf_fake_free(fake);
}

/* The --admin credential is for the control API: on /v1 it is refused, as the default
 * account's entry; a wrong admin password is an unauthenticated request of no account. In
 * process, the request-log switch does not exist. */
static void test_admin_refusals_and_no_request_log(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(0, true);
    sf_http_header h[1] = {{"Authorization", "Basic YWRtaW46cm9vdC10b2tlbg=="}}; /* admin */
    sf_http_request req = {.method = "GET",
                           .target = "/v1/Services",
                           .headers = h,
                           .header_count = 1,
                           .admin_sid = "admin",
                           .admin_token = "root-token"};
    sf_http_response resp;
    assert_int_equal(sf_http_dispatch(fake, &req, &resp), 401);
    sf_http_response_free(&resp);
    req.admin_token = "other-root-token";
    assert_int_equal(sf_http_dispatch(fake, &req, &resp), 401);
    sf_http_response_free(&resp);
    req.admin_token = "root-token";
    req.target = "/_syncfake/request-log";
    assert_int_equal(sf_http_dispatch(fake, &req, &resp), 404);
    assert_non_null(strstr(resp.body, "only syncfake-server has a request log"));
    sf_http_response_free(&resp);
    char own[4096];
    render(fake, A_SID, own, sizeof own);
    assert_non_null(strstr(own, "\"seq\":1,"));
    assert_non_null(strstr(own, "\"reason\":\"admin_outside_control\"}"));
    assert_null(strstr(own, "\"seq\":2,")); /* no account's: only fake-wide readers see it */
    char all[4096];
    render(fake, NULL, all, sizeof all);
    assert_non_null(strstr(all, "\"seq\":2,"));
    sf_http_journal_refused(NULL, &req, SF_ERR_AUTHENTICATE, SF_REFUSAL_UNAUTHENTICATED);
    sf_http_journal_refused(fake, NULL, SF_ERR_AUTHENTICATE, SF_REFUSAL_UNAUTHENTICATED);
    assert_int_equal(sf_journal_count(fake), 2); /* the 404 is no refusal; NULLs add nothing */
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kind_is_appended_last),
        cmocka_unit_test(test_entry_json_and_account),
        cmocka_unit_test(test_method_is_written_safely),
        cmocka_unit_test(test_http_refusals),
        cmocka_unit_test(test_admin_refusals_and_no_request_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
