/* SPDX-License-Identifier: MIT */
/* test_stream_limits.c: stream names and TTLs at and past their limits, failed calls that change
 * nothing, and argument checks. */
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
#include "stream_suite.h"

/* ------------------------------------------------------------------------------------- */
/* unique name limits                                                                     */
/* ------------------------------------------------------------------------------------- */

static void test_unique_name_of_320_chars_is_accepted(void **state)
{
    sf_fixture *fx = fx_of(state);
    char *name = sf_test_repeat("n", 320);
    sf_stream_record r, f;
    sf_error err;
    assert_status(create_stream(fx, name, false, 0, &r, &err), SF_OK);
    assert_string_equal(r.unique_name, name);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, name, &f, &err), SF_OK);
    assert_string_equal(f.sid, r.sid);
    free(name);
}

static void test_unique_name_of_321_chars_is_400_54302(void **state)
{
    sf_fixture *fx = fx_of(state);
    char *name = sf_test_repeat("n", 321);
    sf_stream_record r;
    sf_error err;
    sf_status st = create_stream(fx, name, false, 0, &r, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302,
                         "Invalid unique name. Expected a string with length 1-320 not matching "
                         "the SID pattern [A-Z]{2}[a-f0-9]{32}");
    free(name);
    char sids[2][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 2), 0);
}

static void test_unique_name_limit_counts_characters_not_bytes(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r, f;
    sf_error err;
    /* 320 two-byte characters (640 bytes): accepted */
    char *two = sf_test_repeat("\xc3\xa9", 320);
    assert_status(create_stream(fx, two, false, 0, &r, &err), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, two, &f, &err), SF_OK);
    assert_string_equal(f.unique_name, two);
    free(two);
    /* 320 three-byte characters (960 bytes): accepted */
    char *three = sf_test_repeat("\xe6\x97\xa5", 320);
    assert_status(create_stream(fx, three, false, 0, &r, &err), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, three, &f, &err), SF_OK);
    assert_string_equal(f.unique_name, three);
    free(three);
    /* 321 two-byte characters: refused */
    char *over = sf_test_repeat("\xc3\xa9", 321);
    sf_status st = create_stream(fx, over, false, 0, &r, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302, NULL);
    free(over);
}

/* 320 four-byte characters are 1280 bytes: the contract accepts the name, so the record must
 * carry it whole, and the name must address it (docs/behaviour.md "Rules": each accepted name is
 * reachable). */
static void test_unique_name_of_320_four_byte_chars_is_kept_whole_and_reachable(void **state)
{
    sf_fixture *fx = fx_of(state);
    char *name = sf_test_repeat("\xf0\x9f\x98\x80", 320);
    sf_stream_record *r = calloc(1, sizeof *r);
    sf_stream_record *f = calloc(1, sizeof *f);
    assert_non_null(r);
    assert_non_null(f);
    sf_error err;
    sf_stream_params p = {.unique_name = name};
    /* no record on create: the record buffer is the thing under suspicion */
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, NULL, &err), SF_OK);
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, name, f, &err);
    if (st != SF_OK) {
        free(name);
        free(r);
        free(f);
        fail_msg("accepted 1280-byte unique name is not reachable by name: %d %.60s...", err.code,
                 err.message);
    }
    assert_int_equal(strnlen(f->unique_name, sizeof f->unique_name), strlen(name));
    assert_string_equal(f->unique_name, name);
    free(name);
    free(r);
    free(f);
}

/* Same name, read back through fetch by SID and list: the record must hold all 1280 bytes. */
static void test_unique_name_of_320_four_byte_chars_round_trips_in_records(void **state)
{
    sf_fixture *fx = fx_of(state);
    char *name = sf_test_repeat("\xf0\x9f\x98\x80", 320);
    sf_stream_record *f = calloc(1, sizeof *f);
    assert_non_null(f);
    sf_error err;
    sf_stream_params p = {.unique_name = name};
    char sid[SF_SID_SIZE];
    {
        sf_stream_record *c = calloc(1, sizeof *c);
        assert_non_null(c);
        assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, c, &err), SF_OK);
        memcpy(sid, c->sid, SF_SID_SIZE);
        free(c);
    }
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, sid, f, &err), SF_OK);
    size_t got = strnlen(f->unique_name, sizeof f->unique_name);
    bool whole = got == strlen(name) && memcmp(f->unique_name, name, got) == 0;
    bool fields_ok = !f->has_date_expires && f->date_created_ms == SF_DEFAULT_EPOCH_MS &&
                     strcmp(f->created_by, "system") == 0;
    free(name);
    free(f);
    if (!whole)
        fail_msg("record holds %zu of the name's 1280 bytes", got);
    assert_true(fields_ok);
}

static void test_empty_unique_name_is_400_54302(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    sf_status st = create_stream(fx, "", false, 0, &r, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302,
                         "Invalid unique name. Expected a string with length 1-320 not matching "
                         "the SID pattern [A-Z]{2}[a-f0-9]{32}");
}

static void test_very_long_unique_name_is_400_54302(void **state)
{
    sf_fixture *fx = fx_of(state);
    char *name = sf_test_repeat("z", 5000);
    sf_stream_record r;
    sf_error err;
    sf_status st = create_stream(fx, name, false, 0, &r, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302, NULL);
    /* and a name that long is not found (not a crash) when used as an id */
    st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, name, &r, &err);
    assert_status(st, SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    free(name);
}

static void test_unique_name_with_control_or_invalid_utf8_is_400_54302(void **state)
{
    sf_fixture *fx = fx_of(state);
    const char *bad[] = {
        "tab\there",
        "new\nline",
        "bell\x01",
        "del\x7f",
        "overlong \xc0\x80",
        "overlong3 \xe0\x80\xaf",
        "lone \x80 continuation",
        "surrogate \xed\xa0\x80",
        "too big \xf4\x90\x80\x80",
        "f5 \xf5\x80\x80\x80",
        "truncated \xe2\x82",
        "bad continuation \xc3\x28",
        "ff \xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_stream_record r;
        sf_error err;
        sf_status st = create_stream(fx, bad[i], false, 0, &r, &err);
        if (st != SF_ERR_INVALID_UNIQUE_NAME)
            fail_msg("name #%zu accepted or wrong error: %d", i, (int)st);
        sf_assert_twilio_error(&err, 400, 54302);
    }
    char sids[2][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 2), 0);
}

static void test_sid_shaped_unique_names_are_400_54302(void **state)
{
    sf_fixture *fx = fx_of(state);
    char names[4][64]; /* Twilio's pattern [A-Z]{2}[a-f0-9]{32}, any prefix */
    snprintf(names[0], 64, "TO%s", hex32);
    snprintf(names[1], 64, "AB%s", hex32);
    snprintf(names[2], 64, "IS%s", hex32);
    snprintf(names[3], 64, "ZZ%s", hex32);
    for (int i = 0; i < 4; i++) {
        sf_stream_record r;
        sf_error err;
        sf_status st = create_stream(fx, names[i], false, 0, &r, &err);
        if (st != SF_ERR_INVALID_UNIQUE_NAME)
            fail_msg("SID-shaped name %s: got status %d", names[i], (int)st);
        sf_assert_twilio_error(&err, 400, 54302);
        assert_string_equal(err.message, "Invalid unique name. Expected a string with length 1-320 "
                                         "not matching the SID pattern [A-Z]{2}[a-f0-9]{32}");
    }
    char sids[2][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 2), 0);
}

static void test_almost_sid_shaped_unique_names_are_accepted(void **state)
{
    sf_fixture *fx = fx_of(state);
    char names[12][64];
    snprintf(names[0], 64, "TO%.31s", hex32);  /* 31 hex digits: 33 chars */
    snprintf(names[1], 64, "TO%s0", hex32);    /* 33 hex digits: 35 chars */
    snprintf(names[2], 64, "IS%.31sg", hex32); /* 32 chars after the prefix, one not hex */
    snprintf(names[3], 64, "1O%s", hex32);     /* prefix not two letters */
    snprintf(names[4], 64, "T-%s", hex32);
    snprintf(names[5], 64, "ab%.33s", "0123456789abcdef0123456789abcdef0"); /* 35 chars */
    snprintf(names[6], 64, "AB%.31s", hex32_upper);
    /* outside Twilio's pattern, so names (and reached by name in a path) */
    snprintf(names[7], 64, "ab%s", hex32);
    snprintf(names[8], 64, "IS%s", hex32_upper);
    snprintf(names[9], 64, "to%s", hex32);
    snprintf(names[10], 64, "TZ%s", hex32_upper);
    snprintf(names[11], 64, "Zz%s", hex32);
    for (int i = 0; i < 12; i++) {
        sf_stream_record r, f;
        sf_error err;
        sf_status st = create_stream(fx, names[i], false, 0, &r, &err);
        if (st != SF_OK)
            fail_msg("name %s refused: %d %s", names[i], err.code, err.message);
        assert_string_equal(r.unique_name, names[i]);
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, names[i], &f, &err), SF_OK);
        assert_string_equal(f.sid, r.sid);
    }
}

static void test_duplicate_unique_name_in_same_service_is_409_54301(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, f;
    sf_error err;
    assert_status(create_stream(fx, "dup", true, 60, &a, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 5, NULL), SF_OK);
    sf_status st = create_stream(fx, "dup", false, 0, &b, &err);
    sf_test_expect_error(st, &err, SF_ERR_UNIQUE_NAME_EXISTS, 409, 54301,
                         "Unique name already exists");
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "dup", &f, &err), SF_OK);
    assert_memory_equal(&a, &f, sizeof a);
    assert_int_equal(sf_pending_events(fx->fake), 1);
}

static void test_same_unique_name_in_another_service_is_accepted(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_service_record svc2;
    sf_error err;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, &err), SF_OK);
    sf_stream_record a, b, f;
    assert_status(create_stream(fx, "common", false, 0, &a, &err), SF_OK);
    sf_stream_params p = {.unique_name = "common"};
    assert_status(sf_stream_create(fx->fake, NULL, svc2.sid, &p, &b, &err), SF_OK);
    assert_string_not_equal(a.sid, b.sid);
    assert_string_equal(b.service_sid, svc2.sid);
    assert_status(sf_stream_fetch(fx->fake, NULL, svc2.sid, "common", &f, &err), SF_OK);
    assert_string_equal(f.sid, b.sid);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "common", &f, &err), SF_OK);
    assert_string_equal(f.sid, a.sid);
}

static void test_custom_unique_name_limit_is_enforced(void **state)
{
    (void)state;
    sf_fixture tmp = {0};
    sf_options o;
    sf_fixture_options(&tmp, &o);
    o.limits.unique_name_max = 4;
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup_with(&st2, &o), 0);
    sf_fixture *fx = st2;
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, "abcd", false, 0, &r, &err), SF_OK);
    sf_status st = create_stream(fx, "abcde", false, 0, &r, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302, NULL);
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

/* ------------------------------------------------------------------------------------- */
/* TTL limits                                                                             */
/* ------------------------------------------------------------------------------------- */

static void test_ttl_of_one_year_is_accepted(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r, u;
    sf_error err;
    assert_status(create_stream(fx, "year", true, TTL_MAX, &r, &err), SF_OK);
    assert_true(r.has_date_expires);
    assert_int_equal(r.date_expires_ms, NOW0 + TTL_MAX * 1000);
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    assert_status(sf_test_update_ttl(fx, r.sid, TTL_MAX, &u, &err), SF_OK);
    assert_int_equal(u.date_expires_ms, NOW0 + 1 + TTL_MAX * 1000);
}

static void test_ttl_out_of_range_on_create_is_400_54011(void **state)
{
    sf_fixture *fx = fx_of(state);
    const int64_t bad[] = {TTL_MAX + 1, -1, INT64_MIN, INT64_MAX, INT64_MAX / 1000 + 1};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_stream_record r;
        sf_error err;
        sf_status st = create_stream(fx, "ttl", true, bad[i], &r, &err);
        sf_test_expect_error(st, &err, SF_ERR_INVALID_TTL, 400, 54011, "Invalid TTL");
    }
    char sids[2][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 2), 0);
    assert_int_equal(sf_pending_events(fx->fake), 0);
}

static void test_ttl_out_of_range_on_update_is_400_54011_and_changes_nothing(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, u, f;
    sf_error err;
    assert_status(create_stream(fx, "ttl", true, 50, &c, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    const int64_t bad[] = {TTL_MAX + 1, -1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_status st = sf_test_update_ttl(fx, "ttl", bad[i], &u, &err);
        sf_test_expect_error(st, &err, SF_ERR_INVALID_TTL, 400, 54011, "Invalid TTL");
    }
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, c.sid, &f, &err), SF_OK);
    assert_memory_equal(&c, &f, sizeof c);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, NOW0 + 50000);
}

static void test_custom_ttl_limit_is_enforced(void **state)
{
    (void)state;
    sf_fixture tmp = {0};
    sf_options o;
    sf_fixture_options(&tmp, &o);
    o.limits.ttl_max_s = 10;
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup_with(&st2, &o), 0);
    sf_fixture *fx = st2;
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, NULL, true, 10, &r, &err), SF_OK);
    assert_int_equal(r.date_expires_ms, NOW0 + 10000);
    sf_status st = create_stream(fx, NULL, true, 11, &r, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_TTL, 400, 54011, NULL);
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

/* ------------------------------------------------------------------------------------- */
/* failures change nothing                                                                */
/* ------------------------------------------------------------------------------------- */

static void test_failed_creates_spend_no_sid(void **state)
{
    sf_fixture *fx = fx_of(state);
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup(&st2), 0);
    sf_fixture *fresh = st2;

    sf_stream_record first, r;
    sf_error err;
    assert_status(create_stream(fx, "taken", false, 0, &first, &err), SF_OK);
    char missing[SF_SID_SIZE];
    snprintf(missing, sizeof missing, "IS%s", hex32);
    char sid_name[SF_SID_SIZE];
    snprintf(sid_name, sizeof sid_name, "TO%s", hex32);

    assert_status(create_stream(fx, "taken", false, 0, &r, &err), SF_ERR_UNIQUE_NAME_EXISTS);
    assert_status(create_stream(fx, "", false, 0, &r, &err), SF_ERR_INVALID_UNIQUE_NAME);
    assert_status(create_stream(fx, sid_name, false, 0, &r, &err), SF_ERR_INVALID_UNIQUE_NAME);
    assert_status(create_stream(fx, "ok", true, -1, &r, &err), SF_ERR_INVALID_TTL);
    assert_status(create_stream(fx, "ok", true, TTL_MAX + 1, &r, &err), SF_ERR_INVALID_TTL);
    sf_stream_params p = {.unique_name = "ok"};
    assert_status(sf_stream_create(fx->fake, NULL, missing, &p, &r, &err), SF_ERR_NOT_FOUND);

    sf_stream_record a, b, c, d;
    assert_status(create_stream(fx, "next", true, 5, &a, &err), SF_OK);
    assert_status(create_stream(fresh, "taken", false, 0, &c, &err), SF_OK);
    assert_status(create_stream(fresh, "next", true, 5, &b, &err), SF_OK);
    assert_string_equal(c.sid, first.sid);
    assert_memory_equal(&a, &b, sizeof a);
    /* and the ones after that too */
    assert_status(create_stream(fx, NULL, false, 0, &c, &err), SF_OK);
    assert_status(create_stream(fresh, NULL, false, 0, &d, &err), SF_OK);
    assert_string_equal(c.sid, d.sid);

    char sids[8][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 8), 3);
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

static void test_publishing_does_not_change_later_stream_sids(void **state)
{
    sf_fixture *fx = fx_of(state);
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup(&st2), 0);
    sf_fixture *fresh = st2;
    sf_stream_record a, b, c, d;
    sf_error err;
    assert_status(create_stream(fx, NULL, false, 0, &a, &err), SF_OK);
    assert_status(create_stream(fresh, NULL, false, 0, &b, &err), SF_OK);
    sf_publish_params pp = {.data = "{\"k\":1}", .data_len = 7};
    sf_message_record m;
    for (int i = 0; i < 3; i++)
        assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, a.sid, &pp, &m, &err),
                      SF_OK);
    assert_status(create_stream(fx, NULL, false, 0, &c, &err), SF_OK);
    assert_status(create_stream(fresh, NULL, false, 0, &d, &err), SF_OK);
    assert_string_equal(c.sid, d.sid);
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

/* ------------------------------------------------------------------------------------- */
/* argument checks                                                                        */
/* ------------------------------------------------------------------------------------- */

static void test_null_arguments_are_invalid_argument(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    sf_stream_params p = {.has_ttl = true, .ttl = 1};
    sf_stream_page *page = NULL;
    sf_rate_state rs;

    assert_status(sf_stream_create(NULL, NULL, fx->service_sid, NULL, &r, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_stream_fetch(NULL, NULL, fx->service_sid, "x", &r, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_update(NULL, NULL, fx->service_sid, "x", &p, &r, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_remove(NULL, NULL, fx->service_sid, "x", &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_list(NULL, NULL, fx->service_sid, NULL, &page, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_rate_state(NULL, NULL, fx->service_sid, "x", &rs, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "x", NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);

    /* NULL service or stream id */
    assert_status(sf_stream_create(fx->fake, NULL, NULL, NULL, &r, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, NULL, &r, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_fetch(fx->fake, NULL, NULL, "x", &r, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_list(fx->fake, NULL, NULL, NULL, &page, &err), SF_ERR_INVALID_ARGUMENT);
    sf_stream_page_free(fx->fake, NULL); /* no-op */
    sf_stream_page_free(NULL, NULL);

    char sids[2][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 2), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_unique_name_of_320_chars_is_accepted),
        T(test_unique_name_of_321_chars_is_400_54302),
        T(test_unique_name_limit_counts_characters_not_bytes),
        T(test_unique_name_of_320_four_byte_chars_is_kept_whole_and_reachable),
        T(test_unique_name_of_320_four_byte_chars_round_trips_in_records),
        T(test_empty_unique_name_is_400_54302),
        T(test_very_long_unique_name_is_400_54302),
        T(test_unique_name_with_control_or_invalid_utf8_is_400_54302),
        T(test_sid_shaped_unique_names_are_400_54302),
        T(test_almost_sid_shaped_unique_names_are_accepted),
        T(test_duplicate_unique_name_in_same_service_is_409_54301),
        T(test_same_unique_name_in_another_service_is_accepted),
        T(test_custom_unique_name_limit_is_enforced),
        T(test_ttl_of_one_year_is_accepted),
        T(test_ttl_out_of_range_on_create_is_400_54011),
        T(test_ttl_out_of_range_on_update_is_400_54011_and_changes_nothing),
        T(test_custom_ttl_limit_is_enforced),
        T(test_failed_creates_spend_no_sid),
        T(test_publishing_does_not_change_later_stream_sids),
        T(test_null_arguments_are_invalid_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
