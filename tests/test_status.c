/* SPDX-License-Identifier: MIT */
/* test_status.c: the status table, Twilio error bodies, time formatting and SID shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "syncfake.h"

/* ---------------------------------------------------------------------------------------- */
/* The status table                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void every_status_has_a_name_message_http_status_and_code(void **state)
{
    (void)state;
    for (int i = 0; i < SF_STATUS_COUNT; i++) {
        sf_status st = (sf_status)i;
        const char *name = sf_status_name(st);
        const char *msg = sf_status_message(st);
        assert_non_null(name);
        assert_non_null(msg);
        assert_true(strncmp(name, "SF_", 3) == 0);
        assert_true(strlen(name) > 3);
        assert_true(strlen(msg) > 0);
        int http = sf_status_http(st);
        assert_true(http >= 200 && http <= 599);
        int code = sf_status_code(st);
        if (st == SF_OK) {
            assert_int_equal(code, 0);
            assert_int_equal(http, 200);
        } else {
            assert_true(code >= 20000 && code <= 99999);
            assert_true(http >= 400);
        }
    }
}

static void status_names_are_the_enum_names(void **state)
{
    (void)state;
#define CHECK_NAME(name, http, code, msg)                                                          \
    assert_string_equal(sf_status_name(SF_##name), "SF_" #name);
    SF_STATUS_MAP(CHECK_NAME)
#undef CHECK_NAME
    assert_string_equal(sf_status_name(SF_OK), "SF_OK");
    assert_string_equal(sf_status_name(SF_ERR_NOT_FOUND), "SF_ERR_NOT_FOUND");
    assert_string_equal(sf_status_name(SF_ERR_RATE_LIMITED), "SF_ERR_RATE_LIMITED");
}

static void status_functions_agree_with_the_status_map(void **state)
{
    (void)state;
#define CHECK_ROW(name, http, code, msg)                                                           \
    assert_int_equal(sf_status_http(SF_##name), http);                                             \
    assert_int_equal(sf_status_code(SF_##name), code);                                             \
    assert_string_equal(sf_status_message(SF_##name), msg);
    SF_STATUS_MAP(CHECK_ROW)
#undef CHECK_ROW
}

static void an_out_of_range_status_still_answers_with_a_valid_row(void **state)
{
    (void)state;
    sf_status bogus[] = {SF_STATUS_COUNT, (sf_status)(SF_STATUS_COUNT + 7), (sf_status)-1};
    for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
        assert_non_null(sf_status_name(bogus[i]));
        assert_true(strncmp(sf_status_name(bogus[i]), "SF_", 3) == 0);
        assert_non_null(sf_status_message(bogus[i]));
        assert_true(sf_status_http(bogus[i]) >= 400);
        assert_true(sf_status_code(bogus[i]) > 0);
    }
}

static void spec_rows_have_twilios_codes_and_messages(void **state)
{
    (void)state;
    static const struct {
        sf_status st;
        int http;
        int code;
        const char *message;
    } rows[] = {
        {SF_ERR_DATA_TOO_LARGE, 413, 54006, "Request entity too large"},
        {SF_ERR_RATE_LIMITED, 429, 54009, "Rate limit exceeded"},
        {SF_ERR_NO_PARAMETERS, 400, 54010, "No parameters specified"},
        {SF_ERR_INVALID_TTL, 400, 54011, "Invalid TTL"},
        {SF_ERR_AUTHENTICATE, 401, 20003, "Authenticate"},
        {SF_ERR_METHOD_NOT_ALLOWED, 405, 20004, "Method not allowed"},
        {SF_ERR_DATA_MISSING, 400, 54251, NULL},
        {SF_ERR_DATA_INVALID, 400, 54008, NULL},
        {SF_ERR_UNIQUE_NAME_EXISTS, 409, 54301, NULL},
        {SF_ERR_INVALID_UNIQUE_NAME, 400, 54302, NULL},
        {SF_ERR_INVALID_PAGE_TOKEN, 400, 54453, NULL},
        {SF_ERR_INVALID_PAGE_SIZE, 400, 54454, NULL},
        {SF_ERR_INVALID_FRIENDLY_NAME, 400, 54053, NULL},
        {SF_ERR_INVALID_WEBHOOK_URL, 400, 54051, NULL},
        {SF_ERR_INVALID_PARAMETER, 400, 20001, "Invalid parameter"},
        {SF_ERR_INVALID_ARGUMENT, 400, 20001, "Invalid parameter"},
        {SF_ERR_NOMEM, 500, 20500, NULL},
        /* the client API's (Twilio's Kotlin and iOS SDK tests) and the server's own */
        {SF_ERR_INVALID_UNIQUE_NAME, 400, 54302,
         "Invalid unique name. Expected a string with length 1-320 not matching the SID "
         "pattern [A-Z]{2}[a-f0-9]{32}"},
        {SF_ERR_STREAM_NOT_FOUND, 404, 54250, "Stream not found"},
        {SF_ERR_UNIQUE_NAME_NOT_FOUND, 404, 54300, "Unique name not found"},
        {SF_ERR_TOKEN_INVALID, 401, 20101, "Invalid Access Token"},
        {SF_ERR_TOKEN_EXPIRED, 401, 20104, "Access Token expired or expiration date invalid"},
        {SF_ERR_SESSION_TOKEN_EXPIRED, 410, 51207, "Token expired"},
        {SF_ERR_REQUEST_TOO_LARGE, 413, 54006, "Request entity too large"},
        {SF_ERR_URI_TOO_LONG, 414, 20001, NULL},
        {SF_ERR_HEADERS_TOO_LARGE, 431, 20001, NULL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(sf_status_http(rows[i].st), rows[i].http);
        assert_int_equal(sf_status_code(rows[i].st), rows[i].code);
        if (rows[i].message)
            assert_string_equal(sf_status_message(rows[i].st), rows[i].message);
    }
}

static void not_found_is_404_20404_with_a_path_format(void **state)
{
    (void)state;
    assert_int_equal(sf_status_http(SF_ERR_NOT_FOUND), 404);
    assert_int_equal(sf_status_code(SF_ERR_NOT_FOUND), 20404);
    assert_string_equal(sf_status_message(SF_ERR_NOT_FOUND),
                        "The requested resource %s was not found");
}

/* ---------------------------------------------------------------------------------------- */
/* Error bodies filled by the API                                                            */
/* ---------------------------------------------------------------------------------------- */

static void a_failure_fills_more_info_with_the_twilio_docs_url(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    memset(&err, 0x5a, sizeof err);
    sf_stream_record rec;
    sf_stream_params bad_ttl = {.has_ttl = true, .ttl = -1};
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &bad_ttl, &rec, &err),
                  SF_ERR_INVALID_TTL);
    assert_status(err.status, SF_ERR_INVALID_TTL);
    assert_string_equal(err.more_info, "https://www.twilio.com/docs/errors/54011");
    assert_string_equal(err.message, "Invalid TTL");
    sf_assert_twilio_error(&err, 400, 54011);

    sf_fixture_stream(fx, "s", -1, &rec);
    sf_stream_params no_ttl = {0};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "s", &no_ttl, &rec, &err),
                  SF_ERR_NO_PARAMETERS);
    sf_assert_twilio_error(&err, 400, 54010);
    assert_string_equal(err.message, "No parameters specified");

    char big[5000];
    memset(big, ' ', sizeof big);
    big[0] = '{';
    big[sizeof big - 1] = '}';
    sf_publish_params pp = {.data = big, .data_len = sizeof big};
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "s", &pp, &msg, &err),
                  SF_ERR_DATA_TOO_LARGE);
    sf_assert_twilio_error(&err, 413, 54006);
    assert_string_equal(err.message, "Request entity too large");
    assert_string_equal(err.more_info, "https://www.twilio.com/docs/errors/54006");
}

static void a_success_resets_the_error_to_ok(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    memset(&err, 0x5a, sizeof err);
    sf_service_record svc;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &svc, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(err.http_status, 200);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.message, "OK");
    assert_string_equal(err.more_info, "");
}

static void the_404_message_names_the_requested_path(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_stream_record rec;
    const char *missing = "TO0123456789abcdef0123456789abcdef";
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, missing, &rec, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    char expected[SF_ERROR_MESSAGE_SIZE];
    snprintf(expected, sizeof expected,
             "The requested resource /Services/%s/Streams/%s was not found", fx->service_sid,
             missing);
    assert_string_equal(err.message, expected);
    assert_string_equal(err.more_info, "https://www.twilio.com/docs/errors/20404");

    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "nobody", &pp, &msg, &err),
                  SF_ERR_NOT_FOUND);
    snprintf(expected, sizeof expected,
             "The requested resource /Services/%s/Streams/nobody/Messages was not found",
             fx->service_sid);
    assert_string_equal(err.message, expected);
}

static void c_only_errors_add_detail_after_the_twilio_message(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, -1, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_int_equal(err.code, 20001);
    assert_string_equal(err.more_info, "https://www.twilio.com/docs/errors/20001");
    assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
    assert_true(strlen(err.message) > 19);

    sf_account_params dup = {.sid = sf_fake_account_sid(fx->fake)};
    sf_account_record acc;
    assert_status(sf_account_create(fx->fake, &dup, &acc, &err), SF_ERR_CONFLICT);
    sf_assert_twilio_error(&err, 409, 20409);
    assert_true(strncmp(err.message, "Conflict: ", 10) == 0);
}

static void errors_are_optional(void **state)
{
    sf_fixture *fx = *state;
    sf_service_record svc;
    assert_status(
        sf_service_fetch(fx->fake, NULL, "IS00000000000000000000000000000000", &svc, NULL),
        SF_ERR_NOT_FOUND);
    assert_status(sf_clock_advance(fx->fake, -5, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &svc, NULL), SF_OK);
    assert_string_equal(svc.sid, fx->service_sid);
}

/* ---------------------------------------------------------------------------------------- */
/* Time formatting                                                                           */
/* ---------------------------------------------------------------------------------------- */

typedef struct instant {
    sf_ms t;
    const char *iso;
    const char *http;
} instant;

static const instant instants[] = {
    {0, "1970-01-01T00:00:00Z", "Thu, 01 Jan 1970 00:00:00 GMT"},
    {SF_DEFAULT_EPOCH_MS, "2015-07-30T20:00:00Z", "Thu, 30 Jul 2015 20:00:00 GMT"},
    {INT64_C(1709164800000), "2024-02-29T00:00:00Z", "Thu, 29 Feb 2024 00:00:00 GMT"},
    {INT64_C(1709210096000), "2024-02-29T12:34:56Z", "Thu, 29 Feb 2024 12:34:56 GMT"},
    {INT64_C(951782400000), "2000-02-29T00:00:00Z", "Tue, 29 Feb 2000 00:00:00 GMT"},
    {INT64_C(4107542400000), "2100-03-01T00:00:00Z", "Mon, 01 Mar 2100 00:00:00 GMT"},
    {INT64_C(946684799999), "1999-12-31T23:59:59Z", "Fri, 31 Dec 1999 23:59:59 GMT"},
    {INT64_C(253402300799000), "9999-12-31T23:59:59Z", "Fri, 31 Dec 9999 23:59:59 GMT"},
    {-1, "1969-12-31T23:59:59Z", "Wed, 31 Dec 1969 23:59:59 GMT"},
    {-1000, "1969-12-31T23:59:59Z", "Wed, 31 Dec 1969 23:59:59 GMT"},
    {-1001, "1969-12-31T23:59:58Z", "Wed, 31 Dec 1969 23:59:58 GMT"},
    {INT64_C(-86400000), "1969-12-31T00:00:00Z", "Wed, 31 Dec 1969 00:00:00 GMT"},
    {INT64_C(-345600000), "1969-12-28T00:00:00Z", "Sun, 28 Dec 1969 00:00:00 GMT"},
    {INT64_C(-2208988800000), "1900-01-01T00:00:00Z", "Mon, 01 Jan 1900 00:00:00 GMT"},
};

static void iso8601_formats_known_instants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        char buf[21];
        memset(buf, 'x', sizeof buf);
        sf_format_iso8601(instants[i].t, buf);
        assert_string_equal(buf, instants[i].iso);
        assert_int_equal(strlen(buf), 20);
    }
}

static void http_date_formats_known_instants(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        char buf[30];
        memset(buf, 'x', sizeof buf);
        sf_format_http_date(instants[i].t, buf);
        assert_string_equal(buf, instants[i].http);
        assert_int_equal(strlen(buf), 29);
    }
}

static void formatting_rounds_down_to_the_second(void **state)
{
    (void)state;
    char a[21], b[21];
    for (sf_ms ms = 0; ms < 1000; ms += 37) {
        sf_format_iso8601(SF_DEFAULT_EPOCH_MS + ms, a);
        assert_string_equal(a, "2015-07-30T20:00:00Z");
        sf_format_iso8601(-1 - ms, b);
        assert_string_equal(b, "1969-12-31T23:59:59Z");
    }
    char h[30];
    sf_format_http_date(SF_DEFAULT_EPOCH_MS + 999, h);
    assert_string_equal(h, "Thu, 30 Jul 2015 20:00:00 GMT");
}

static void check_day(sf_ms t, const char *weekday)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char h[30], iso[21];
    sf_format_http_date(t, h);
    sf_format_iso8601(t, iso);
    if (memcmp(h, weekday, 3) != 0)
        fail_msg("%s: expected %s", h, weekday);
    int month = (iso[5] - '0') * 10 + (iso[6] - '0');
    assert_true(month >= 1 && month <= 12);
    assert_memory_equal(h + 8, months[month - 1], 3);
    /* the two formats agree on day of month, year and time */
    assert_memory_equal(h + 5, iso + 8, 2);
    assert_memory_equal(h + 12, iso, 4);
    assert_memory_equal(h + 17, iso + 11, 8);
}

static void every_weekday_and_month_is_named(void **state)
{
    (void)state;
    /* Day by day for more than a year from two Thursdays: 2015-07-30 and 1970-01-01, forwards
     * and (for the epoch) backwards into negative times. */
    static const char *const from_thursday[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    for (int d = 0; d < 400; d++) {
        check_day(SF_DEFAULT_EPOCH_MS + (sf_ms)d * 86400000 + 3723000, from_thursday[d % 7]);
        check_day((sf_ms)d * 86400000, from_thursday[d % 7]);
        check_day(-(sf_ms)d * 86400000, from_thursday[(7 - d % 7) % 7]);
        check_day(-(sf_ms)d * 86400000 - 1, from_thursday[(7 - (d + 1) % 7) % 7]);
    }
}

static void years_outside_four_digits_are_clamped(void **state)
{
    (void)state;
    char iso[21], h[30];
    /* year 10000 and later */
    sf_format_iso8601(INT64_C(253402300800000) + 86400000, iso);
    assert_int_equal(strlen(iso), 20);
    assert_memory_equal(iso, "9999-", 5);
    sf_format_http_date(INT64_C(253402300800000) + 86400000, h);
    assert_int_equal(strlen(h), 29);
    /* before year 0 */
    sf_format_iso8601(INT64_C(-62167219200000) - 86400000, iso);
    assert_int_equal(strlen(iso), 20);
    assert_memory_equal(iso, "0000-", 5);
    sf_format_http_date(INT64_C(-62167219200000) - 86400000, h);
    assert_int_equal(strlen(h), 29);
    assert_memory_equal(h + 12, "0000", 4);
}

/* sf_ms is any int64_t: the extremes format (clamped to four-digit years) without overflow. */
static void extreme_instants_format_without_overflow(void **state)
{
    (void)state;
    const sf_ms extremes[] = {INT64_MAX, INT64_MAX - 999, INT64_MIN + 1000, INT64_MIN + 1,
                              INT64_MIN};
    for (size_t i = 0; i < sizeof extremes / sizeof extremes[0]; i++) {
        char iso[21], h[30];
        sf_format_iso8601(extremes[i], iso);
        sf_format_http_date(extremes[i], h);
        assert_int_equal(strlen(iso), 20);
        assert_int_equal(strlen(h), 29);
        assert_memory_equal(iso, extremes[i] > 0 ? "9999-" : "0000-", 5);
        assert_memory_equal(h + 12, extremes[i] > 0 ? "9999" : "0000", 4);
        assert_memory_equal(h + 25, " GMT", 4);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* SID shapes                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void sid_is_accepts_prefix_and_32_hex_digits(void **state)
{
    (void)state;
    assert_true(sf_sid_is("TO0123456789abcdef0123456789abcdef", "TO"));
    assert_true(sf_sid_is("TO0123456789ABCDEF0123456789ABCDEF", "TO"));
    assert_true(sf_sid_is("IS00000000000000000000000000000000", "IS"));
    assert_true(sf_sid_is("ACffffffffffffffffffffffffffffffff", "AC"));
    assert_true(sf_sid_is("SKaBcDeF0123456789aBcDeF0123456789", "SK"));
}

static void sid_is_rejects_other_shapes(void **state)
{
    (void)state;
    const char *good = "TO0123456789abcdef0123456789abcdef";
    assert_false(sf_sid_is(good, "IS"));
    assert_false(sf_sid_is(good, "to"));
    assert_false(sf_sid_is("to0123456789abcdef0123456789abcdef", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789abcde", "TO"));   /* 33 chars */
    assert_false(sf_sid_is("TO0123456789abcdef0123456789abcdef0", "TO")); /* 35 chars */
    assert_false(sf_sid_is("TO0123456789abcdef0123456789abcdeg", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef 123456789abcdef", "TO"));
    assert_false(sf_sid_is("", "TO"));
    assert_false(sf_sid_is("T", "TO"));
    assert_false(sf_sid_is(NULL, "TO"));
    assert_false(sf_sid_is(good, NULL));
    assert_false(sf_sid_is(good, "T"));
    assert_false(sf_sid_is(good, "TOO"));
    assert_false(sf_sid_is(good, ""));
}

static void minted_sids_have_their_kind_prefix_and_lowercase_hex(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, NULL, -1, &s);
    sf_message_record m;
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, s.sid, &pp, &m, NULL), SF_OK);
    sf_api_key_record k;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &k, NULL), SF_OK);
    const struct {
        const char *sid;
        const char *prefix;
    } sids[] = {{sf_fake_account_sid(fx->fake), "AC"},
                {fx->service_sid, "IS"},
                {s.sid, "TO"},
                {m.sid, "TZ"},
                {k.sid, "SK"}};
    for (size_t i = 0; i < sizeof sids / sizeof sids[0]; i++) {
        assert_true(sf_sid_is(sids[i].sid, sids[i].prefix));
        assert_int_equal(strlen(sids[i].sid), SF_SID_LEN);
        assert_int_equal(strspn(sids[i].sid + 2, "0123456789abcdef"), 32);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_status_has_a_name_message_http_status_and_code),
        cmocka_unit_test(status_names_are_the_enum_names),
        cmocka_unit_test(status_functions_agree_with_the_status_map),
        cmocka_unit_test(an_out_of_range_status_still_answers_with_a_valid_row),
        cmocka_unit_test(spec_rows_have_twilios_codes_and_messages),
        cmocka_unit_test(not_found_is_404_20404_with_a_path_format),
        cmocka_unit_test_setup_teardown(a_failure_fills_more_info_with_the_twilio_docs_url,
                                        sf_fixture_setup, sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_success_resets_the_error_to_ok, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(the_404_message_names_the_requested_path, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(c_only_errors_add_detail_after_the_twilio_message,
                                        sf_fixture_setup, sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(errors_are_optional, sf_fixture_setup, sf_fixture_teardown),
        cmocka_unit_test(iso8601_formats_known_instants),
        cmocka_unit_test(http_date_formats_known_instants),
        cmocka_unit_test(formatting_rounds_down_to_the_second),
        cmocka_unit_test(every_weekday_and_month_is_named),
        cmocka_unit_test(years_outside_four_digits_are_clamped),
        cmocka_unit_test(sid_is_accepts_prefix_and_32_hex_digits),
        cmocka_unit_test(sid_is_rejects_other_shapes),
        cmocka_unit_test_setup_teardown(minted_sids_have_their_kind_prefix_and_lowercase_hex,
                                        sf_fixture_setup, sf_fixture_teardown),
        /* last: under UBSan an overflow here ends the process */
        cmocka_unit_test(extreme_instants_format_without_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
