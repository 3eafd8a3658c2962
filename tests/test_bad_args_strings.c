/* SPDX-License-Identifier: MIT */
/* test_bad_args_strings.c: oversized and malformed strings (unique names, ids, friendly names,
 * webhook URLs, message data) are refused with Twilio's errors, read no further than given
 * and change nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "bad_args.h"
#include "fixture.h"

/* ---------------------------------------------------------------------------------------- */
/* Oversized and malformed strings                                                           */
/* ---------------------------------------------------------------------------------------- */

static void test_unique_name_of_100_kb_is_invalid_unique_name(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    char *name = filled(100 * KB, 'u');
    sf_stream_params p = {.unique_name = name, .has_ttl = true, .ttl = 10};
    sf_error err;
    sf_stream_record rec;
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                  SF_ERR_INVALID_UNIQUE_NAME);
    assert_error(&err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302);
    assert_string_equal(err.message, "Invalid unique name. Expected a string with length 1-320 not "
                                     "matching the SID pattern [A-Z]{2}[a-f0-9]{32}");
    /* looking it up is a plain 404 */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, name, &rec, &err),
                  SF_ERR_NOT_FOUND);
    block_release(name);
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

/* Empty, SID-patterned, bad-UTF-8 and control-character unique names are refused. */
static void check_malformed_unique_names_refused(sf_fixture *fx)
{
    sf_error err;
    sf_stream_record rec;
    static const char *const refused[] = {
        "",
        "TO0123456789abcdef0123456789abcdef", /* a stream SID */
        "XY0123456789abcdef0123456789abcdef", /* anything of Twilio's SID pattern */
        "bad\xff"
        "utf8",
        "over\xc0\xaflong",
        "control\x01"
        "char",
        "delete\x7f",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_stream_params p = {.unique_name = refused[i]};
        memset(&err, 0, sizeof err);
        sf_status st = sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err);
        if (st != SF_ERR_INVALID_UNIQUE_NAME)
            fail_msg("name #%zu: %s, want 54302", i, sf_status_name(st));
        assert_error(&err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302);
    }
}

/* Each accepted name makes a stream of that name (on the fake and on twin) which the name
 * addresses: it is never read as a SID. */
static void check_unique_names_accepted(sf_fixture *fx, sf_fake *twin, const char *const *accepted,
                                        size_t n)
{
    sf_error err;
    sf_stream_record rec;
    for (size_t i = 0; i < n; i++) {
        sf_stream_params p = {.unique_name = accepted[i]};
        assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_OK);
        assert_string_equal(rec.unique_name, accepted[i]);
        /* and the name addresses it (it is never read as a SID) */
        sf_stream_record got;
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, accepted[i], &got, &err),
                      SF_OK);
        assert_string_equal(got.sid, rec.sid);
        assert_status(sf_stream_create(twin, NULL, fx->service_sid, &p, &rec, NULL), SF_OK);
    }
}

static void test_unique_name_bounds_and_shape(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_error err;
    sf_stream_record rec;
    check_malformed_unique_names_refused(fx);
    char *longest = filled(320, 'a');
    char *too_long = filled(321, 'a');
    char *wide = filled(2 * 320, 'w'); /* 320 characters of two bytes each */
    for (int i = 0; i < 320; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[640] = '\0';
    sf_stream_params p = {.unique_name = too_long};
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                  SF_ERR_INVALID_UNIQUE_NAME);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);

    /* SID-like but not of Twilio's pattern [A-Z]{2}[a-f0-9]{32}: too long, too short, no
     * letter prefix, a lower-case prefix, upper-case hex */
    const char *accepted[] = {longest,
                              wide,
                              "TO0123456789abcdef0123456789abcdef0",
                              "TO0123456789abcdef0123456789abcde",
                              "120123456789abcdef0123456789abcdef",
                              "to0123456789abcdef0123456789abcdef",
                              "TO0123456789ABCDEF0123456789ABCDEF"};
    check_unique_names_accepted(fx, twin, accepted, sizeof accepted / sizeof accepted[0]);
    /* the same name again */
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    p.unique_name = wide;
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                  SF_ERR_UNIQUE_NAME_EXISTS);
    assert_error(&err, SF_ERR_UNIQUE_NAME_EXISTS, 409, 54301);
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    block_release(wide);
    block_release(longest);
    block_release(too_long);
    fake_release(twin);
}

/* The 404 message names the path; a huge id must not overflow it. */
static void test_fetch_with_100_kb_stream_id_is_not_found_with_bounded_message(void **state)
{
    sf_fixture *fx = *state;
    char *id = filled(100 * KB, 'i');
    sf_error err;
    memset(&err, 0x7f, sizeof err);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &rec, &err),
                  SF_ERR_NOT_FOUND);
    assert_error(&err, SF_ERR_NOT_FOUND, 404, 20404);
    size_t len = strnlen(err.message, sizeof err.message);
    assert_true(len < sizeof err.message);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "The requested resource /Services/%s/Streams/iiii",
             fx->service_sid);
    assert_true(strncmp(err.message, prefix, strlen(prefix)) == 0);
    assert_true(len > strlen(" was not found"));
    assert_string_equal(err.message + len - strlen(" was not found"), " was not found");

    /* the other stream endpoints too; publish names the Messages path */
    memset(&err, 0x7f, sizeof err);
    sf_stream_params ttl = {.has_ttl = true, .ttl = 1};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, id, &ttl, &rec, &err),
                  SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    memset(&err, 0x7f, sizeof err);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, id, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    memset(&err, 0x7f, sizeof err);
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, id, &ok_data, &msg, &err),
                  SF_ERR_NOT_FOUND);
    len = strnlen(err.message, sizeof err.message);
    assert_true(len < sizeof err.message);
    assert_string_equal(err.message + len - strlen("/Messages was not found"),
                        "/Messages was not found");
    /* and a huge service SID */
    memset(&err, 0x7f, sizeof err);
    sf_service_record srec;
    assert_status(sf_service_fetch(fx->fake, NULL, id, &srec, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    assert_true(strncmp(err.message, "The requested resource /Services/iiii", 37) == 0);
    memset(&err, 0x7f, sizeof err);
    assert_status(sf_stream_fetch(fx->fake, NULL, id, id, &rec, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    block_release(id);
}

static void test_friendly_name_of_10_kb_is_invalid_friendly_name(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_service_params named = {.friendly_name = "keep me"};
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    assert_status(sf_service_update(twin, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);

    char *huge = filled(10 * KB, 'f');
    char *too_long = filled(256, 'f');
    const char *refused[] = {huge, too_long, "", "tab\tinside", "bad\xe2\x82", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_service_params p = {.friendly_name = refused[i], .acl_enabled = SF_BOOL_TRUE};
        sf_error err;
        sf_service_record rec;
        memset(&err, 0, sizeof err);
        assert_status(sf_service_create(fx->fake, NULL, &p, &rec, &err),
                      SF_ERR_INVALID_FRIENDLY_NAME);
        assert_error(&err, SF_ERR_INVALID_FRIENDLY_NAME, 400, 54053);
        assert_string_equal(err.message, "Invalid friendly name");
        memset(&err, 0, sizeof err);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                      SF_ERR_INVALID_FRIENDLY_NAME);
        assert_error(&err, SF_ERR_INVALID_FRIENDLY_NAME, 400, 54053);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    char *longest = filled(255, 'f');
    sf_service_params ok = {.friendly_name = longest};
    sf_service_record rec;
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &ok, &rec, NULL), SF_OK);
    assert_string_equal(rec.friendly_name, longest);
    block_release(huge);
    block_release(too_long);
    block_release(longest);
    fake_release(twin);
}

static void test_webhook_url_of_10_kb_is_invalid_webhook_url(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    char *huge = filled(10 * KB, 'w');
    memcpy(huge, "https://", 8);
    char *too_long = filled(513, 'w');
    memcpy(too_long, "http://", 7);
    const char *refused[] = {huge,
                             too_long,
                             "",
                             "ftp://example.com",
                             "example.com",
                             "http://",
                             "https:///path",
                             "http://?q",
                             "http://#f",
                             "http://exa mple.com",
                             "http://\x01.com",
                             "mailto:a@b.c"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_service_params p = {.webhook_url = refused[i], .friendly_name = "ok"};
        sf_error err;
        sf_service_record rec;
        memset(&err, 0, sizeof err);
        sf_status st = sf_service_create(fx->fake, NULL, &p, &rec, &err);
        if (st != SF_ERR_INVALID_WEBHOOK_URL)
            fail_msg("url #%zu: %s, want 54051", i, sf_status_name(st));
        assert_error(&err, SF_ERR_INVALID_WEBHOOK_URL, 400, 54051);
        assert_string_equal(err.message, "Invalid webhook URL");
        memset(&err, 0, sizeof err);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                      SF_ERR_INVALID_WEBHOOK_URL);
        assert_error(&err, SF_ERR_INVALID_WEBHOOK_URL, 400, 54051);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    char *longest = filled(512, 'w');
    memcpy(longest, "HTTPS://", 8);
    sf_service_params ok = {.webhook_url = longest};
    sf_service_record rec;
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &ok, &rec, NULL), SF_OK);
    assert_string_equal(rec.webhook_url, longest);
    block_release(huge);
    block_release(too_long);
    block_release(longest);
    fake_release(twin);
}

static void test_publish_of_1_mb_is_request_entity_too_large(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "big", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);

    /* a 1 MB object, and one byte past the 4096 limit */
    char *mb = filled(1024 * KB, ' ');
    mb[0] = '{';
    mb[1024 * KB - 1] = '}';
    char *over = filled(4097, ' ');
    over[0] = '{';
    over[4096] = '}';
    const sf_publish_params big[] = {{.data = mb, .data_len = 1024 * KB},
                                     {.data = over, .data_len = 4097}};
    for (size_t i = 0; i < 2; i++) {
        sf_error err;
        sf_message_record msg;
        memset(&err, 0, sizeof err);
        assert_status(
            sf_stream_publish(fx->fake, NULL, fx->service_sid, "big", &big[i], &msg, &err),
            SF_ERR_DATA_TOO_LARGE);
        assert_error(&err, SF_ERR_DATA_TOO_LARGE, 413, 54006);
        assert_string_equal(err.message, "Request entity too large");
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    /* exactly at the limit is fine */
    sf_publish_params limit = {.data = over, .data_len = 4096};
    over[4095] = '}';
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "big", &limit, &msg, NULL),
                  SF_OK);
    assert_string_equal(msg.data, "{}");
    block_release(mb);
    block_release(over);
}

static void test_publish_data_with_embedded_nul_is_invalid_json(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "nul", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    static const char after_object[] = "{\"a\":1}\0";
    static const char in_string[] = "{\"a\":\"x\0y\"}";
    static const char in_key[] = "{\"a\0b\":1}";
    static const char leading[] = "\0{}";
    static const char between[] = "{\"a\":1,\0\"b\":2}";
    const sf_publish_params bad[] = {
        {.data = after_object, .data_len = sizeof after_object - 1},
        {.data = in_string, .data_len = sizeof in_string - 1},
        {.data = in_key, .data_len = sizeof in_key - 1},
        {.data = leading, .data_len = sizeof leading - 1},
        {.data = between, .data_len = sizeof between - 1},
        {.data = "", .data_len = 0},
        {.data = "[]", .data_len = 2},
        {.data = "{} {}", .data_len = 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_message_record msg;
        memset(&err, 0, sizeof err);
        sf_status st =
            sf_stream_publish(fx->fake, NULL, fx->service_sid, "nul", &bad[i], &msg, &err);
        if (st != SF_ERR_DATA_INVALID)
            fail_msg("data #%zu: %s, want 54008", i, sf_status_name(st));
        assert_error(&err, SF_ERR_DATA_INVALID, 400, 54008);
        assert_string_equal(err.message, "Invalid JSON");
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    /* the same object without the trailing NUL is fine */
    sf_publish_params good = {.data = after_object, .data_len = sizeof after_object - 2};
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "nul", &good, &msg, NULL),
                  SF_OK);
    assert_string_equal(msg.data, "{\"a\":1}");
    assert_int_equal(msg.data_len, 7);
}

static void test_publish_without_data_is_data_missing(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "empty", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    sf_publish_params no_data = {.data = NULL, .data_len = 10};
    const sf_publish_params *cases[] = {NULL, &no_data};
    for (size_t i = 0; i < 2; i++) {
        sf_error err;
        sf_message_record msg;
        memset(&err, 0, sizeof err);
        assert_status(
            sf_stream_publish(fx->fake, NULL, fx->service_sid, "empty", cases[i], &msg, &err),
            SF_ERR_DATA_MISSING);
        assert_error(&err, SF_ERR_DATA_MISSING, 400, 54251);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
}

static void test_publish_beyond_burst_is_rate_limited_without_taking_a_token(void **state)
{
    (void)state;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.limits.publish_burst = 1;
    opts.limits.publish_rate_per_s = 1;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    held_fake(fake);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    sf_stream_params p = {.unique_name = "limited"};
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, NULL, NULL), SF_OK);
    sf_message_record msg;
    sf_error err;
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err), SF_OK);
    char first[SF_SID_SIZE];
    memcpy(first, msg.sid, SF_SID_SIZE);
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err),
                  SF_ERR_RATE_LIMITED);
    assert_error(&err, SF_ERR_RATE_LIMITED, 429, 54009);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fake, NULL, svc.sid, "limited", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 0);
    assert_int_equal(rs.next_allowed_ms, SF_DEFAULT_EPOCH_MS + 1000);
    assert_status(sf_clock_advance(fake, 999, NULL), SF_OK);
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err),
                  SF_ERR_RATE_LIMITED);
    assert_status(sf_clock_advance(fake, 1, NULL), SF_OK);
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err), SF_OK);
    assert_string_not_equal(msg.sid, first);
    fake_release(fake);

    /* rate 0 lifts the limit: a burst of 1 never runs dry */
    opts.limits.publish_rate_per_s = 0;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    held_fake(fake);
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, NULL, NULL), SF_OK);
    for (int i = 0; i < 5; i++)
        assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, NULL, &err),
                      SF_OK);
    assert_status(sf_stream_rate_state(fake, NULL, svc.sid, "limited", &rs, NULL), SF_OK);
    assert_false(rs.limited);
    assert_int_equal(rs.tokens, 1);
    assert_int_equal(rs.next_allowed_ms, SF_DEFAULT_EPOCH_MS);
    fake_release(fake);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, bad_args_teardown)
#define S(name) cmocka_unit_test_teardown(name, bad_args_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_unique_name_of_100_kb_is_invalid_unique_name),
        T(test_unique_name_bounds_and_shape),
        T(test_fetch_with_100_kb_stream_id_is_not_found_with_bounded_message),
        T(test_friendly_name_of_10_kb_is_invalid_friendly_name),
        T(test_webhook_url_of_10_kb_is_invalid_webhook_url),
        T(test_publish_of_1_mb_is_request_entity_too_large),
        T(test_publish_data_with_embedded_nul_is_invalid_json),
        T(test_publish_without_data_is_data_missing),
        S(test_publish_beyond_burst_is_rate_limited_without_taking_a_token),
    };
    return cmocka_run_group_tests_name("bad_args_strings", tests, NULL, NULL);
}
