/* SPDX-License-Identifier: MIT */
/* test_bad_args_null.c: hostile and careless callers, part one: NULL handles, NULL outputs and NULL
 * ids. Every rejected call answers with its documented status and Twilio body and leaves the
 * fake as it was (a fingerprint of its state; a twin fake where SIDs could be spent). */
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
#include "calls.h"
#include "fixture.h"

/* ---------------------------------------------------------------------------------------- */
/* NULL fake                                                                                 */
/* ---------------------------------------------------------------------------------------- */

#define REJECTS_NULL_FAKE(call)                                                                    \
    do {                                                                                           \
        sf_error err_;                                                                             \
        memset(&err_, 0, sizeof err_);                                                             \
        sf_error *err = &err_;                                                                     \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                              \
        assert_invalid_argument(err, "fake is NULL");                                              \
    } while (0)

static void test_null_fake_is_rejected_by_fake_account_and_service_calls(void **state)
{
    sf_fixture *fx = *state;
    const char *svc = fx->service_sid;
    sf_service_record srec;
    sf_service_page *spage = NULL;
    sf_account_record acct;
    sf_api_key_record key;
    char who[SF_SID_SIZE];
    REJECTS_NULL_FAKE(sf_fake_reset(NULL, err));
    REJECTS_NULL_FAKE(sf_clock_advance(NULL, 1, err));
    REJECTS_NULL_FAKE(sf_clock_set(NULL, SF_DEFAULT_EPOCH_MS, err));
    REJECTS_NULL_FAKE(sf_account_create(NULL, NULL, &acct, err));
    REJECTS_NULL_FAKE(sf_api_key_create(NULL, NULL, NULL, &key, err));
    REJECTS_NULL_FAKE(sf_authenticate(NULL, sf_fake_account_sid(fx->fake),
                                      sf_fake_auth_token(fx->fake), who, err));
    REJECTS_NULL_FAKE(sf_service_create(NULL, NULL, NULL, &srec, err));
    REJECTS_NULL_FAKE(sf_service_fetch(NULL, NULL, svc, &srec, err));
    REJECTS_NULL_FAKE(sf_service_update(NULL, NULL, svc, NULL, &srec, err));
    REJECTS_NULL_FAKE(sf_service_remove(NULL, NULL, svc, err));
    REJECTS_NULL_FAKE(sf_service_list(NULL, NULL, NULL, &spage, err));
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE};
    sf_fault_id fid = 5;
    REJECTS_NULL_FAKE(sf_fault_add(NULL, &fp, &fid, err));
    assert_int_equal(fid, 5);
    REJECTS_NULL_FAKE(sf_fault_remove(NULL, 1, err));
    sf_error_injection inj = {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 500};
    REJECTS_NULL_FAKE(sf_inject_error(NULL, &inj, err));
    REJECTS_NULL_FAKE(sf_journal_write(NULL, NULL, stdout, err));
}

static void test_null_fake_is_rejected_by_stream_and_subscriber_calls(void **state)
{
    sf_fixture *fx = *state;
    const char *svc = fx->service_sid;
    sf_stream_record rec;
    sf_stream_page *page = NULL;
    sf_message_record msg;
    sf_rate_state rs;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 5};
    REJECTS_NULL_FAKE(sf_stream_create(NULL, NULL, svc, NULL, &rec, err));
    REJECTS_NULL_FAKE(sf_stream_fetch(NULL, NULL, svc, "x", &rec, err));
    REJECTS_NULL_FAKE(sf_stream_update(NULL, NULL, svc, "x", &ttl, &rec, err));
    REJECTS_NULL_FAKE(sf_stream_remove(NULL, NULL, svc, "x", err));
    REJECTS_NULL_FAKE(sf_stream_list(NULL, NULL, svc, NULL, &page, err));
    REJECTS_NULL_FAKE(sf_stream_publish(NULL, NULL, svc, "x", &ok_data, &msg, err));
    REJECTS_NULL_FAKE(sf_stream_rate_state(NULL, NULL, svc, "x", &rs, err));
    sf_subscribe_params sub = {.on_event = sf_test_ignore_event};
    sf_subscriber_id id = 77;
    REJECTS_NULL_FAKE(sf_subscribe(NULL, NULL, svc, "x", &sub, &id, err));
    assert_int_equal(id, 77);
    REJECTS_NULL_FAKE(sf_unsubscribe(NULL, 1, err));
    REJECTS_NULL_FAKE(sf_subscriber_hold(NULL, 1, err));
    REJECTS_NULL_FAKE(sf_subscriber_heal(NULL, 1, true, err));
    REJECTS_NULL_FAKE(sf_subscriber_disconnect(NULL, 1, err));
    REJECTS_NULL_FAKE(sf_subscriber_reconnect(NULL, 1, err));
    sf_subscriber_stats sstats;
    REJECTS_NULL_FAKE(sf_subscriber_stats_get(NULL, 1, &sstats, err));
    sf_stream_stats stats;
    REJECTS_NULL_FAKE(sf_stream_stats_get(NULL, NULL, svc, "x", &stats, err));
}
#undef REJECTS_NULL_FAKE

/* The same with no error body asked for. */
static void test_null_fake_is_rejected_without_an_error_body(void **state)
{
    (void)state;
    assert_status(sf_fake_reset(NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(NULL, 1, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_account_create(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_api_key_create(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_authenticate(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_create(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_fetch(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_update(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_remove(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_list(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_create(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_fetch(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_update(NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_remove(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_list(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_publish(NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_rate_state(NULL, NULL, NULL, NULL, NULL, NULL),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscribe(NULL, NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_unsubscribe(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_hold(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_heal(NULL, 0, false, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_disconnect(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_reconnect(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_stats_get(NULL, 0, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_stats_get(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_fault_add(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_fault_remove(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_inject_error(NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_journal_write(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
}

static void test_null_fake_queries_answer_nothing(void **state)
{
    (void)state;
    assert_null(sf_fake_options(NULL));
    assert_null(sf_fake_account_sid(NULL));
    assert_null(sf_fake_auth_token(NULL));
    assert_int_equal(sf_clock_now(NULL), 0);
    assert_int_equal(sf_run_due(NULL), 0);
    sf_ms t = 77;
    assert_false(sf_next_event_time(NULL, &t));
    assert_int_equal(t, 77);
    assert_false(sf_next_event_time(NULL, NULL));
    assert_int_equal(sf_pending_events(NULL), 0);
    assert_int_equal(sf_pending_deliveries(NULL), 0);
    assert_int_equal(sf_run_until_idle(NULL), 0);
    sf_fault_info info;
    assert_int_equal(sf_fault_list(NULL, &info, 1), 0);
    sf_inject_clear(NULL);
    assert_int_equal(sf_journal_count(NULL), 0);
    assert_int_equal(sf_journal_overwritten(NULL), 0);
    sf_journal_clear(NULL);
    uint64_t cursor = 0;
    sf_journal_entry entry;
    assert_false(sf_journal_next(NULL, NULL, &cursor, &entry));
    char buf[8] = "x";
    assert_int_equal(sf_journal_render(NULL, NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(sf_journal_entry_json(NULL, buf, sizeof buf), 0);
    sf_fake_free(NULL);
    sf_service_page_free(NULL, NULL);
    sf_stream_page_free(NULL, NULL);
    sf_options_init(NULL);
    sf_limits_init(NULL);
}

/* Freeing a NULL page is a no-op, and so is freeing without the fake (the page is then still
 * the caller's, to free with its fake). */
static void test_page_free_with_null_page_or_fake_is_a_no_op(void **state)
{
    sf_fixture *fx = *state;
    long live = fx->alloc.live;
    sf_service_page_free(fx->fake, NULL);
    sf_stream_page_free(fx->fake, NULL);
    assert_int_equal(fx->alloc.live, live);

    sf_service_page *spage = NULL;
    sf_stream_page *page = NULL;
    assert_status(sf_service_list(fx->fake, NULL, NULL, &spage, NULL), SF_OK);
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, &page, NULL), SF_OK);
    assert_int_equal(fx->alloc.live, live + 4);
    sf_service_page_free(NULL, spage);
    sf_stream_page_free(NULL, page);
    assert_int_equal(fx->alloc.live, live + 4);
    assert_int_equal(spage->info.count, 1);
    assert_string_equal(spage->records[0].sid, fx->service_sid);
    sf_service_page_free(fx->fake, spage);
    sf_stream_page_free(fx->fake, page);
    assert_int_equal(fx->alloc.live, live);
}

/* ---------------------------------------------------------------------------------------- */
/* NULL error bodies and NULL outputs                                                        */
/* ---------------------------------------------------------------------------------------- */

/* Stream calls with a NULL err, on success and on failure; leaves no stream. */
static void stream_calls_take_null_err(sf_fake *f, const char *svc)
{
    sf_stream_record rec;
    sf_stream_params named = {.unique_name = "quiet", .has_ttl = true, .ttl = 9};
    assert_status(sf_stream_create(f, NULL, svc, &named, &rec, NULL), SF_OK);
    assert_status(sf_stream_create(f, NULL, svc, &named, &rec, NULL), SF_ERR_UNIQUE_NAME_EXISTS);
    assert_status(sf_stream_fetch(f, NULL, svc, "quiet", &rec, NULL), SF_OK);
    assert_status(sf_stream_fetch(f, NULL, svc, "loud", &rec, NULL), SF_ERR_NOT_FOUND);
    sf_stream_params ttl = {.has_ttl = true, .ttl = 20};
    assert_status(sf_stream_update(f, NULL, svc, "quiet", &ttl, &rec, NULL), SF_OK);
    assert_status(sf_stream_update(f, NULL, svc, "quiet", NULL, &rec, NULL), SF_ERR_NO_PARAMETERS);
    sf_message_record msg;
    assert_status(sf_stream_publish(f, NULL, svc, "quiet", &ok_data, &msg, NULL), SF_OK);
    assert_status(sf_stream_publish(f, NULL, svc, "quiet", NULL, &msg, NULL), SF_ERR_DATA_MISSING);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(f, NULL, svc, "quiet", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 299);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(f, NULL, svc, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    sf_stream_page_free(f, page);
    sf_page_params bad = {.has_page_size = true, .page_size = 0};
    assert_status(sf_stream_list(f, NULL, svc, &bad, &page, NULL), SF_ERR_INVALID_PAGE_SIZE);
    assert_null(page);
    assert_status(sf_stream_remove(f, NULL, svc, "quiet", NULL), SF_OK);
    assert_status(sf_stream_remove(f, NULL, svc, "quiet", NULL), SF_ERR_NOT_FOUND);
}

/* Service calls with a NULL err, on success and on failure (a second service, then removed). */
static void service_calls_take_null_err(sf_fake *f)
{
    sf_page_params bad = {.has_page_size = true, .page_size = 0};
    sf_service_record srec;
    sf_service_params sp = {.friendly_name = "n"};
    assert_status(sf_service_create(f, NULL, &sp, &srec, NULL), SF_OK);
    sf_service_params empty = {.friendly_name = ""};
    assert_status(sf_service_create(f, NULL, &empty, &srec, NULL), SF_ERR_INVALID_FRIENDLY_NAME);
    assert_status(sf_service_fetch(f, NULL, srec.sid, &srec, NULL), SF_OK);
    assert_status(sf_service_update(f, NULL, srec.sid, &sp, &srec, NULL), SF_OK);
    assert_status(sf_service_update(f, NULL, srec.sid, &empty, &srec, NULL),
                  SF_ERR_INVALID_FRIENDLY_NAME);
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(f, NULL, NULL, &spage, NULL), SF_OK);
    assert_int_equal(spage->info.count, 2);
    sf_service_page_free(f, spage);
    assert_status(sf_service_list(f, NULL, &bad, &spage, NULL), SF_ERR_INVALID_PAGE_SIZE);
    assert_status(sf_service_remove(f, NULL, srec.sid, NULL), SF_OK);
    assert_status(sf_service_fetch(f, NULL, srec.sid, &srec, NULL), SF_ERR_NOT_FOUND);
}

/* Account, API key and authentication calls with a NULL err, on success and on failure. */
static void account_calls_take_null_err(sf_fake *f)
{
    sf_account_record acct;
    assert_status(sf_account_create(f, NULL, &acct, NULL), SF_OK);
    sf_account_params dup = {.sid = acct.sid};
    assert_status(sf_account_create(f, &dup, &acct, NULL), SF_ERR_CONFLICT);
    sf_api_key_record key;
    assert_status(sf_api_key_create(f, acct.sid, NULL, &key, NULL), SF_OK);
    sf_api_key_params kdup = {.sid = key.sid};
    assert_status(sf_api_key_create(f, acct.sid, &kdup, &key, NULL), SF_ERR_CONFLICT);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(f, key.sid, key.secret, who, NULL), SF_OK);
    assert_string_equal(who, acct.sid);
    assert_status(sf_authenticate(f, key.sid, "nope", who, NULL), SF_ERR_AUTHENTICATE);
}

static void test_null_err_is_accepted_on_success_and_failure(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *f = fx->fake;
    stream_calls_take_null_err(f, fx->service_sid);
    service_calls_take_null_err(f);
    account_calls_take_null_err(f);
    assert_status(sf_clock_advance(f, 10, NULL), SF_OK);
    assert_status(sf_clock_advance(f, -10, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(f, SF_DEFAULT_EPOCH_MS + 20, NULL), SF_OK);
    assert_status(sf_clock_set(f, SF_DEFAULT_EPOCH_MS, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(f), SF_DEFAULT_EPOCH_MS + 20);
    assert_status(sf_fake_reset(f, NULL), SF_OK);
    assert_status(sf_service_fetch(f, NULL, fx->service_sid, NULL, NULL), SF_ERR_NOT_FOUND);
}

/* Stream create, fetch and update without a record still do their work (as on twin). */
static void stream_calls_work_without_record(sf_fixture *fx, sf_fake *twin)
{
    sf_error err;
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid,
                                   &(sf_stream_params){.unique_name = "no-out"}, NULL, &err),
                  SF_OK);
    assert_status(err.status, SF_OK);
    sf_stream_record rec;
    assert_status(sf_stream_create(twin, NULL, fx->service_sid,
                                   &(sf_stream_params){.unique_name = "no-out"}, &rec, NULL),
                  SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, rec.sid, NULL, &err), SF_OK);
    sf_stream_params ttl = {.has_ttl = true, .ttl = 30};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "no-out", &ttl, NULL, &err),
                  SF_OK);
    assert_status(sf_stream_update(twin, NULL, fx->service_sid, "no-out", &ttl, NULL, NULL), SF_OK);
    sf_stream_record got;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "no-out", &got, NULL), SF_OK);
    assert_true(got.has_date_expires);
    assert_int_equal(got.date_expires_ms, SF_DEFAULT_EPOCH_MS + 30000);
}

/* Service create, fetch and update without a record still do their work (as on twin). */
static void service_calls_work_without_record(sf_fixture *fx, sf_fake *twin)
{
    sf_error err;
    sf_service_params sp = {.friendly_name = "quiet service"};
    assert_status(sf_service_create(fx->fake, NULL, &sp, NULL, &err), SF_OK);
    sf_service_record svc2;
    assert_status(sf_service_create(twin, NULL, &sp, &svc2, NULL), SF_OK);
    assert_status(sf_service_fetch(fx->fake, NULL, svc2.sid, NULL, &err), SF_OK);
    sf_service_params up = {.webhook_url = "https://example.com"};
    assert_status(sf_service_update(fx->fake, NULL, svc2.sid, &up, NULL, &err), SF_OK);
    assert_status(sf_service_update(twin, NULL, svc2.sid, &up, NULL, NULL), SF_OK);
    sf_service_record sgot;
    assert_status(sf_service_fetch(fx->fake, NULL, svc2.sid, &sgot, NULL), SF_OK);
    assert_string_equal(sgot.friendly_name, "quiet service");
    assert_string_equal(sgot.webhook_url, "https://example.com");
}

/* Account and API key creation without a record, and authentication without the account's
 * SID out, still do their work (as on twin). */
static void account_calls_work_without_record(sf_fixture *fx, sf_fake *twin)
{
    sf_error err;
    assert_status(sf_account_create(fx->fake, NULL, NULL, &err), SF_OK);
    sf_account_record acct;
    assert_status(sf_account_create(twin, NULL, &acct, NULL), SF_OK);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, acct.sid, acct.auth_token, who, NULL), SF_OK);
    assert_string_equal(who, acct.sid);
    assert_status(sf_authenticate(fx->fake, acct.sid, acct.auth_token, NULL, &err), SF_OK);

    assert_status(sf_api_key_create(fx->fake, acct.sid, NULL, NULL, &err), SF_OK);
    sf_api_key_record key;
    assert_status(sf_api_key_create(twin, acct.sid, NULL, &key, NULL), SF_OK);
    assert_status(sf_authenticate(fx->fake, key.sid, key.secret, who, NULL), SF_OK);
    assert_string_equal(who, acct.sid);
}

/* Records are optional outputs of create, fetch and update: the call still does its work. */
static void test_null_record_out_is_allowed_for_create_fetch_update(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_error err;
    stream_calls_work_without_record(fx, twin);
    service_calls_work_without_record(fx, twin);
    account_calls_work_without_record(fx, twin);

    /* a publish without a record still spends its message SID, as on the twin */
    assert_status(
        sf_stream_publish(fx->fake, NULL, fx->service_sid, "no-out", &ok_data, NULL, &err), SF_OK);
    sf_message_record msg;
    assert_status(sf_stream_publish(twin, NULL, fx->service_sid, "no-out", &ok_data, &msg, NULL),
                  SF_OK);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "no-out", &rs, NULL),
                  SF_OK);
    assert_int_equal(rs.tokens, 299);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_list_and_rate_state_outputs_are_required(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    long live = fx->alloc.live;
    sf_error err;
    assert_status(sf_service_list(fx->fake, NULL, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "s", NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_int_equal(fx->alloc.live, live);
    /* sf_next_event_time's output is optional */
    assert_false(sf_next_event_time(fx->fake, NULL));
    sf_stream_record rec;
    sf_fixture_stream(fx, "t", 3, &rec);
    assert_true(sf_next_event_time(fx->fake, NULL));
}

/* ---------------------------------------------------------------------------------------- */
/* NULL ids                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void test_null_service_sid_is_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    sf_error err;
    sf_service_record srec;
    sf_stream_record rec;
    sf_stream_page not_a_page;
    sf_stream_page *page = &not_a_page; /* a failed list must set it to NULL */
    sf_message_record msg;
    sf_rate_state rs;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 3};
    sf_service_params sp = {.friendly_name = "x"};

#define REJECTS_NULL_SERVICE(call)                                                                 \
    do {                                                                                           \
        memset(&err, 0, sizeof err);                                                               \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                              \
        assert_invalid_argument(&err, "service_sid is NULL");                                      \
    } while (0)
    REJECTS_NULL_SERVICE(sf_service_fetch(fx->fake, NULL, NULL, &srec, &err));
    REJECTS_NULL_SERVICE(sf_service_update(fx->fake, NULL, NULL, &sp, &srec, &err));
    REJECTS_NULL_SERVICE(sf_service_remove(fx->fake, NULL, NULL, &err));
    REJECTS_NULL_SERVICE(sf_stream_create(fx->fake, NULL, NULL, NULL, &rec, &err));
    REJECTS_NULL_SERVICE(sf_stream_list(fx->fake, NULL, NULL, NULL, &page, &err));
    assert_null(page);
    REJECTS_NULL_SERVICE(sf_stream_fetch(fx->fake, NULL, NULL, "s", &rec, &err));
    REJECTS_NULL_SERVICE(sf_stream_update(fx->fake, NULL, NULL, "s", &ttl, &rec, &err));
    REJECTS_NULL_SERVICE(sf_stream_remove(fx->fake, NULL, NULL, "s", &err));
    REJECTS_NULL_SERVICE(sf_stream_publish(fx->fake, NULL, NULL, "s", &ok_data, &msg, &err));
    REJECTS_NULL_SERVICE(sf_stream_rate_state(fx->fake, NULL, NULL, "s", &rs, &err));
    /* both missing: the service is named first */
    REJECTS_NULL_SERVICE(sf_stream_fetch(fx->fake, NULL, NULL, NULL, &rec, &err));
#undef REJECTS_NULL_SERVICE
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
}

static void test_null_stream_id_is_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    sf_error err;
    sf_stream_record rec;
    sf_message_record msg;
    sf_rate_state rs;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 3};
#define REJECTS_NULL_STREAM(call)                                                                  \
    do {                                                                                           \
        memset(&err, 0, sizeof err);                                                               \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                              \
        assert_invalid_argument(&err, "stream_id is NULL");                                        \
    } while (0)
    REJECTS_NULL_STREAM(sf_stream_fetch(fx->fake, NULL, fx->service_sid, NULL, &rec, &err));
    REJECTS_NULL_STREAM(sf_stream_update(fx->fake, NULL, fx->service_sid, NULL, &ttl, &rec, &err));
    REJECTS_NULL_STREAM(sf_stream_remove(fx->fake, NULL, fx->service_sid, NULL, &err));
    REJECTS_NULL_STREAM(
        sf_stream_publish(fx->fake, NULL, fx->service_sid, NULL, &ok_data, &msg, &err));
    REJECTS_NULL_STREAM(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, NULL, &rs, &err));
#undef REJECTS_NULL_STREAM
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, bad_args_teardown)
#define S(name) cmocka_unit_test_teardown(name, bad_args_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_null_fake_is_rejected_by_fake_account_and_service_calls),
        T(test_null_fake_is_rejected_by_stream_and_subscriber_calls),
        T(test_null_fake_is_rejected_without_an_error_body),
        S(test_null_fake_queries_answer_nothing),
        T(test_page_free_with_null_page_or_fake_is_a_no_op),
        T(test_null_err_is_accepted_on_success_and_failure),
        T(test_null_record_out_is_allowed_for_create_fetch_update),
        T(test_list_and_rate_state_outputs_are_required),
        T(test_null_service_sid_is_invalid_argument),
        T(test_null_stream_id_is_invalid_argument),
    };
    return cmocka_run_group_tests_name("bad_args_null", tests, NULL, NULL);
}
