/* SPDX-License-Identifier: MIT */
/* test_stream_crud.c: stream create / fetch / update / remove and the fields of their records. */
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
/* create: record fields                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_create_without_params_gives_anonymous_stream_that_never_expires(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, NULL, &r, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(err.http_status, 200);
    assert_int_equal(err.code, 0);
    sf_test_assert_sid_shape(r.sid, "TO");
    assert_string_equal(r.account_sid, sf_fake_account_sid(fx->fake));
    assert_string_equal(r.service_sid, fx->service_sid);
    assert_false(r.has_unique_name);
    assert_false(r.has_date_expires);
    assert_int_equal(r.date_created_ms, NOW0);
    assert_int_equal(r.date_updated_ms, NOW0);
    assert_string_equal(r.created_by, "system");
}

static void test_create_records_fields_at_fake_now(void **state)
{
    sf_fixture *fx = fx_of(state);
    assert_status(sf_clock_advance(fx->fake, 1234, NULL), SF_OK);
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, "chat", true, 3600, &r, &err), SF_OK);
    sf_test_assert_sid_shape(r.sid, "TO");
    assert_string_equal(r.account_sid, sf_fake_account_sid(fx->fake));
    assert_string_equal(r.service_sid, fx->service_sid);
    assert_true(r.has_unique_name);
    assert_string_equal(r.unique_name, "chat");
    assert_true(r.has_date_expires);
    assert_int_equal(r.date_expires_ms, NOW0 + 1234 + INT64_C(3600000));
    assert_int_equal(r.date_created_ms, NOW0 + 1234);
    assert_int_equal(r.date_updated_ms, NOW0 + 1234);
    assert_string_equal(r.created_by, "system");
}

static void test_create_with_ttl_zero_never_expires(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, NULL, true, 0, &r, &err), SF_OK);
    assert_false(r.has_date_expires);
    assert_false(r.has_unique_name);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    assert_false(sf_next_event_time(fx->fake, NULL));
}

static void test_create_without_ttl_never_expires(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, "no-ttl", false, 77, &r, &err), SF_OK);
    assert_false(r.has_date_expires);
    assert_int_equal(sf_pending_events(fx->fake), 0);
}

static void test_create_with_null_out_and_null_err_still_creates(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_params p = {.unique_name = "quiet"};
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, NULL, NULL), SF_OK);
    sf_stream_record r;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "quiet", &r, NULL), SF_OK);
    assert_string_equal(r.unique_name, "quiet");
    /* errors too are reported without an err to fill */
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, NULL, NULL),
                  SF_ERR_UNIQUE_NAME_EXISTS);
}

static void test_create_with_explicit_default_account_matches(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    assert_status(
        sf_stream_create(fx->fake, sf_fake_account_sid(fx->fake), fx->service_sid, NULL, &r, &err),
        SF_OK);
    assert_string_equal(r.account_sid, sf_fake_account_sid(fx->fake));
    sf_stream_record f;
    assert_status(
        sf_stream_fetch(fx->fake, sf_fake_account_sid(fx->fake), fx->service_sid, r.sid, &f, &err),
        SF_OK);
    assert_string_equal(f.sid, r.sid);
}

static void test_create_gives_distinct_sids(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, c;
    sf_error err;
    assert_status(create_stream(fx, NULL, false, 0, &a, &err), SF_OK);
    assert_status(create_stream(fx, NULL, false, 0, &b, &err), SF_OK);
    assert_status(create_stream(fx, NULL, false, 0, &c, &err), SF_OK);
    assert_string_not_equal(a.sid, b.sid);
    assert_string_not_equal(b.sid, c.sid);
    assert_string_not_equal(a.sid, c.sid);
}

static void test_same_seed_gives_same_stream_sids(void **state)
{
    sf_fixture *fx = fx_of(state);
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup(&st2), 0);
    sf_fixture *fx2 = st2;
    assert_string_equal(fx->service_sid, fx2->service_sid);
    for (int i = 0; i < 5; i++) {
        sf_stream_record a, b;
        sf_error err;
        assert_status(create_stream(fx, NULL, false, 0, &a, &err), SF_OK);
        assert_status(create_stream(fx2, NULL, false, 0, &b, &err), SF_OK);
        assert_string_equal(a.sid, b.sid);
    }
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

static void test_create_in_unknown_service_is_404_naming_streams_path(void **state)
{
    sf_fixture *fx = fx_of(state);
    char missing[SF_SID_SIZE];
    snprintf(missing, sizeof missing, "IS%s", hex32);
    sf_stream_params p = {.unique_name = "x"};
    sf_stream_record r;
    sf_error err;
    sf_status st = sf_stream_create(fx->fake, NULL, missing, &p, &r, &err);
    /* the requested path is POST /v1/Services/{IS}/Streams */
    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "The requested resource /Services/%s/Streams was not found", missing);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, msg);
}

static void test_create_in_service_of_another_account_is_404(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_account_record acct;
    sf_error err;
    assert_status(sf_account_create(fx->fake, NULL, &acct, &err), SF_OK);
    sf_service_record other;
    assert_status(sf_service_create(fx->fake, acct.sid, NULL, &other, &err), SF_OK);

    /* with the default account, the other account's service does not exist */
    sf_stream_record r;
    sf_status st = sf_stream_create(fx->fake, NULL, other.sid, NULL, &r, &err);
    assert_status(st, SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);

    /* with its own account it works, and the default account cannot see the stream */
    assert_status(sf_stream_create(fx->fake, acct.sid, other.sid, NULL, &r, &err), SF_OK);
    assert_string_equal(r.account_sid, acct.sid);
    assert_string_equal(r.service_sid, other.sid);
    sf_stream_record f;
    st = sf_stream_fetch(fx->fake, NULL, other.sid, r.sid, &f, &err);
    expect_not_found(st, &err, other.sid, r.sid, "");
    /* and the other account cannot reach the default account's service */
    sf_stream_record mine;
    assert_status(create_stream(fx, "mine", false, 0, &mine, &err), SF_OK);
    st = sf_stream_fetch(fx->fake, acct.sid, fx->service_sid, "mine", &f, &err);
    expect_not_found(st, &err, fx->service_sid, "mine", "");
}

static void test_unknown_account_sees_nothing(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, "named", false, 0, &r, &err), SF_OK);
    char ghost[SF_SID_SIZE];
    snprintf(ghost, sizeof ghost, "AC%s", hex32);
    sf_status st = sf_stream_fetch(fx->fake, ghost, fx->service_sid, r.sid, &r, &err);
    expect_not_found(st, &err, fx->service_sid, r.sid, "");
}

/* ------------------------------------------------------------------------------------- */
/* fetch                                                                                  */
/* ------------------------------------------------------------------------------------- */

static void test_fetch_by_sid_and_by_name_give_same_record(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, by_sid, by_name;
    sf_error err;
    assert_status(create_stream(fx, "orders", true, 60, &c, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 500, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, c.sid, &by_sid, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "orders", &by_name, &err),
                  SF_OK);
    assert_memory_equal(&c, &by_sid, sizeof c);
    assert_memory_equal(&c, &by_name, sizeof c);
}

static void test_fetch_by_names_with_slash_space_and_unicode(void **state)
{
    sf_fixture *fx = fx_of(state);
    const char *names[] = {
        "a/b/c",
        "/leading/slash/",
        "with space",
        "  padded  ",
        "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* café 日本語 */
        "emoji \xf0\x9f\x98\x80",                           /* U+1F600 */
        "percent%2Fencoded",
        "?query=1&x#frag",
        "TO",
        "T0"
        "0123456789abcdef0123456789abcdef", /* second char is a digit: a name */
    };
    sf_stream_record created[sizeof names / sizeof *names];
    sf_error err;
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        assert_status(create_stream(fx, names[i], false, 0, &created[i], &err), SF_OK);
        assert_true(created[i].has_unique_name);
        assert_string_equal(created[i].unique_name, names[i]);
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        sf_stream_record f;
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, names[i], &f, &err), SF_OK);
        assert_string_equal(f.sid, created[i].sid);
        assert_string_equal(f.unique_name, names[i]);
    }
}

static void test_unique_names_are_case_sensitive(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record lower, upper, f;
    sf_error err;
    assert_status(create_stream(fx, "room", false, 0, &lower, &err), SF_OK);
    assert_status(create_stream(fx, "ROOM", false, 0, &upper, &err), SF_OK);
    assert_string_not_equal(lower.sid, upper.sid);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "ROOM", &f, &err), SF_OK);
    assert_string_equal(f.sid, upper.sid);
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "Room", &f, &err);
    expect_not_found(st, &err, fx->service_sid, "Room", "");
}

static void test_fetch_unknown_sid_and_name_give_exact_404_message(void **state)
{
    sf_fixture *fx = fx_of(state);
    char sid[SF_SID_SIZE];
    snprintf(sid, sizeof sid, "TO%s", hex32);
    sf_stream_record r;
    sf_error err;
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, sid, &r, &err);
    expect_not_found(st, &err, fx->service_sid, sid, "");

    st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "no such/name", &r, &err);
    expect_not_found(st, &err, fx->service_sid, "no such/name", "");

    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "The requested resource /Services/%s/Streams/ghost was not found",
             fx->service_sid);
    st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "ghost", &r, &err);
    assert_string_equal(err.message, msg);
    assert_string_equal(err.more_info, "https://www.twilio.com/docs/errors/20404");
}

static void test_fetch_sid_of_stream_in_other_service_is_404(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_service_record svc2;
    sf_error err;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, &err), SF_OK);
    sf_stream_record s;
    assert_status(create_stream(fx, "shared-name", false, 0, &s, &err), SF_OK);

    sf_stream_record r;
    sf_status st = sf_stream_fetch(fx->fake, NULL, svc2.sid, s.sid, &r, &err);
    expect_not_found(st, &err, svc2.sid, s.sid, "");
    st = sf_stream_fetch(fx->fake, NULL, svc2.sid, "shared-name", &r, &err);
    expect_not_found(st, &err, svc2.sid, "shared-name", "");
    sf_stream_params p = {.has_ttl = true, .ttl = 5};
    st = sf_stream_update(fx->fake, NULL, svc2.sid, s.sid, &p, &r, &err);
    expect_not_found(st, &err, svc2.sid, s.sid, "");
    st = sf_stream_remove(fx->fake, NULL, svc2.sid, s.sid, &err);
    expect_not_found(st, &err, svc2.sid, s.sid, "");

    char sids[4][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, svc2.sid, sids, 4), 0);
    /* the stream itself is untouched */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, s.sid, &r, &err), SF_OK);
    assert_false(r.has_date_expires);
}

static void test_fetch_in_unknown_service_is_404_naming_stream_path(void **state)
{
    sf_fixture *fx = fx_of(state);
    char missing[SF_SID_SIZE];
    snprintf(missing, sizeof missing, "IS%s", hex32);
    sf_stream_record r;
    sf_error err;
    sf_status st = sf_stream_fetch(fx->fake, NULL, missing, "anything", &r, &err);
    expect_not_found(st, &err, missing, "anything", "");
}

/* ------------------------------------------------------------------------------------- */
/* update                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_update_ttl_counts_from_update_time_and_moves_date_updated(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, u, f;
    sf_error err;
    assert_status(create_stream(fx, "ticker", true, 100, &c, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 7500, NULL), SF_OK);
    assert_status(sf_test_update_ttl(fx, "ticker", 30, &u, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_string_equal(u.sid, c.sid);
    assert_true(u.has_date_expires);
    assert_int_equal(u.date_expires_ms, NOW0 + 7500 + 30000);
    assert_int_equal(u.date_created_ms, NOW0);
    assert_int_equal(u.date_updated_ms, NOW0 + 7500);
    assert_string_equal(u.unique_name, "ticker");
    assert_string_equal(u.created_by, "system");
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, c.sid, &f, &err), SF_OK);
    assert_memory_equal(&u, &f, sizeof u);
}

static void test_update_can_give_a_ttl_to_a_stream_without_one(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, u;
    sf_error err;
    assert_status(create_stream(fx, NULL, false, 0, &c, &err), SF_OK);
    assert_false(c.has_date_expires);
    assert_status(sf_clock_advance(fx->fake, 10, NULL), SF_OK);
    assert_status(sf_test_update_ttl(fx, c.sid, 1, &u, &err), SF_OK);
    assert_true(u.has_date_expires);
    assert_int_equal(u.date_expires_ms, NOW0 + 10 + 1000);
    assert_int_equal(sf_pending_events(fx->fake), 1);
}

static void test_update_ttl_zero_clears_date_expires_and_never_expires(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, u, f;
    sf_error err;
    assert_status(create_stream(fx, "keep", true, 10, &c, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 2000, NULL), SF_OK);
    assert_status(sf_test_update_ttl(fx, "keep", 0, &u, &err), SF_OK);
    assert_false(u.has_date_expires);
    assert_int_equal(u.date_updated_ms, NOW0 + 2000);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    /* far past the old deadline, and past any TTL at all */
    assert_status(sf_clock_advance(fx->fake, (TTL_MAX + 10) * 1000, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "keep", &f, &err), SF_OK);
    assert_false(f.has_date_expires);
    assert_string_equal(f.sid, c.sid);
}

static void test_update_without_ttl_is_400_54010_and_changes_nothing(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, u, f;
    sf_error err;
    assert_status(create_stream(fx, "same", true, 60, &c, &err), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);

    sf_status st = sf_stream_update(fx->fake, NULL, fx->service_sid, "same", NULL, &u, &err);
    sf_test_expect_error(st, &err, SF_ERR_NO_PARAMETERS, 400, 54010, "No parameters specified");

    sf_stream_params only_name = {.unique_name = "renamed"};
    st = sf_stream_update(fx->fake, NULL, fx->service_sid, c.sid, &only_name, &u, &err);
    sf_test_expect_error(st, &err, SF_ERR_NO_PARAMETERS, 400, 54010, "No parameters specified");

    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, c.sid, &f, &err), SF_OK);
    assert_memory_equal(&c, &f, sizeof c);
}

static void test_update_ignores_unique_name(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, u, f;
    sf_error err;
    assert_status(create_stream(fx, "original", false, 0, &c, &err), SF_OK);
    sf_stream_params p = {.unique_name = "other", .has_ttl = true, .ttl = 5};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "original", &p, &u, &err),
                  SF_OK);
    assert_string_equal(u.unique_name, "original");
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "other", &f, &err);
    expect_not_found(st, &err, fx->service_sid, "other", "");
}

static void test_update_unknown_stream_is_404(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record u;
    sf_error err;
    sf_status st = sf_test_update_ttl(fx, "nope", 5, &u, &err);
    expect_not_found(st, &err, fx->service_sid, "nope", "");
    /* 404 wins over missing parameters */
    st = sf_stream_update(fx->fake, NULL, fx->service_sid, "nope", NULL, &u, &err);
    expect_not_found(st, &err, fx->service_sid, "nope", "");
}

/* ------------------------------------------------------------------------------------- */
/* remove                                                                                 */
/* ------------------------------------------------------------------------------------- */

static void test_removed_stream_is_404_everywhere(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record c, other, r;
    sf_error err;
    assert_status(create_stream(fx, "doomed", true, 600, &c, &err), SF_OK);
    assert_status(create_stream(fx, "survivor", false, 0, &other, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);

    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, "doomed", &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);

    const char *ids[] = {c.sid, "doomed"};
    for (size_t i = 0; i < 2; i++) {
        sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, ids[i], &r, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        st = sf_test_update_ttl(fx, ids[i], 5, &r, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        st = sf_stream_remove(fx->fake, NULL, fx->service_sid, ids[i], &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
        sf_publish_params pp = {.data = "{}", .data_len = 2};
        sf_message_record m;
        st = sf_stream_publish(fx->fake, NULL, fx->service_sid, ids[i], &pp, &m, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "/Messages");
        sf_rate_state rs;
        st = sf_stream_rate_state(fx->fake, NULL, fx->service_sid, ids[i], &rs, &err);
        expect_not_found(st, &err, fx->service_sid, ids[i], "");
    }
    char sids[4][SF_SID_SIZE];
    assert_int_equal(list_sids(fx, fx->service_sid, sids, 4), 1);
    assert_string_equal(sids[0], other.sid);
}

static void test_remove_by_sid_frees_the_unique_name_for_reuse(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b, f;
    sf_error err;
    assert_status(create_stream(fx, "reuse", false, 0, &a, &err), SF_OK);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, a.sid, NULL), SF_OK);
    assert_status(create_stream(fx, "reuse", false, 0, &b, &err), SF_OK);
    assert_string_not_equal(a.sid, b.sid);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "reuse", &f, &err), SF_OK);
    assert_string_equal(f.sid, b.sid);
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, a.sid, &f, &err);
    expect_not_found(st, &err, fx->service_sid, a.sid, "");
}

static void test_list_gives_streams_in_creation_order(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s[5];
    sf_error err;
    const char *names[] = {"e", "d", NULL, "b", "a"};
    for (int i = 0; i < 5; i++)
        assert_status(create_stream(fx, names[i], i % 2 == 0, 100 + i, &s[i], &err), SF_OK);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, "d", &err), SF_OK);

    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, &page, &err), SF_OK);
    assert_int_equal(page->info.count, 4);
    assert_memory_equal(&page->records[0], &s[0], sizeof s[0]);
    assert_memory_equal(&page->records[1], &s[2], sizeof s[0]);
    assert_memory_equal(&page->records[2], &s[3], sizeof s[0]);
    assert_memory_equal(&page->records[3], &s[4], sizeof s[0]);
    sf_stream_page_free(fx->fake, page);
}

static void test_list_of_unknown_service_is_404_naming_streams_path(void **state)
{
    sf_fixture *fx = fx_of(state);
    char missing[SF_SID_SIZE];
    snprintf(missing, sizeof missing, "IS%s", hex32);
    sf_stream_page *page = NULL;
    sf_error err;
    sf_status st = sf_stream_list(fx->fake, NULL, missing, NULL, &page, &err);
    /* the requested path is GET /v1/Services/{IS}/Streams */
    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "The requested resource /Services/%s/Streams was not found", missing);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, msg);
}

static void test_list_with_bad_page_size_is_400_54454(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record r;
    sf_error err;
    assert_status(create_stream(fx, "one", false, 0, &r, &err), SF_OK);
    sf_page_params pp = {.has_page_size = true, .page_size = 0};
    sf_stream_page *page = NULL;
    sf_status st = sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err);
    sf_test_expect_error(st, &err, SF_ERR_INVALID_PAGE_SIZE, 400, 54454, NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_without_params_gives_anonymous_stream_that_never_expires),
        T(test_create_records_fields_at_fake_now),
        T(test_create_with_ttl_zero_never_expires),
        T(test_create_without_ttl_never_expires),
        T(test_create_with_null_out_and_null_err_still_creates),
        T(test_create_with_explicit_default_account_matches),
        T(test_create_gives_distinct_sids),
        T(test_same_seed_gives_same_stream_sids),
        T(test_create_in_unknown_service_is_404_naming_streams_path),
        T(test_create_in_service_of_another_account_is_404),
        T(test_unknown_account_sees_nothing),
        T(test_fetch_by_sid_and_by_name_give_same_record),
        T(test_fetch_by_names_with_slash_space_and_unicode),
        T(test_unique_names_are_case_sensitive),
        T(test_fetch_unknown_sid_and_name_give_exact_404_message),
        T(test_fetch_sid_of_stream_in_other_service_is_404),
        T(test_fetch_in_unknown_service_is_404_naming_stream_path),
        T(test_update_ttl_counts_from_update_time_and_moves_date_updated),
        T(test_update_can_give_a_ttl_to_a_stream_without_one),
        T(test_update_ttl_zero_clears_date_expires_and_never_expires),
        T(test_update_without_ttl_is_400_54010_and_changes_nothing),
        T(test_update_ignores_unique_name),
        T(test_update_unknown_stream_is_404),
        T(test_removed_stream_is_404_everywhere),
        T(test_remove_by_sid_frees_the_unique_name_for_reuse),
        T(test_list_gives_streams_in_creation_order),
        T(test_list_of_unknown_service_is_404_naming_streams_path),
        T(test_list_with_bad_page_size_is_400_54454),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
