/* SPDX-License-Identifier: MIT */
/* test_service_lifecycle.c: Sync services: create, fetch, update, remove, and their streams
 * addressed through them. */
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
#include "syncfake.h"
#include "service_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* Create and fetch                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void create_without_params_gives_twilios_defaults(void **state)
{
    sf_fixture *fx = *state;
    assert_status(sf_clock_advance(fx->fake, 12345, NULL), SF_OK);
    sf_ms now = sf_clock_now(fx->fake);
    assert_int_equal(now, SF_DEFAULT_EPOCH_MS + 12345);
    sf_service_record rec;
    memset(&rec, 0x77, sizeof rec);
    sf_error err;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &rec, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_lower_hex_sid(rec.sid, "IS");
    assert_string_not_equal(rec.sid, fx->service_sid);
    assert_string_equal(rec.account_sid, sf_fake_account_sid(fx->fake));
    assert_false(rec.has_friendly_name);
    assert_string_equal(rec.friendly_name, "");
    assert_false(rec.has_webhook_url);
    assert_string_equal(rec.webhook_url, "");
    assert_false(rec.webhooks_from_rest_enabled);
    assert_false(rec.reachability_webhooks_enabled);
    assert_false(rec.acl_enabled);
    assert_false(rec.reachability_debouncing_enabled);
    assert_int_equal(rec.reachability_debouncing_window, 5000);
    assert_int_equal(rec.date_created_ms, now);
    assert_int_equal(rec.date_updated_ms, now);
}

static void empty_params_are_the_same_as_no_params(void **state)
{
    sf_fixture *fx = *state;
    sf_service_params none = {0};
    sf_service_record a, b;
    must_create(fx, NULL, &a);
    must_create(fx, &none, &b);
    assert_string_not_equal(a.sid, b.sid);
    memcpy(b.sid, a.sid, SF_SID_SIZE);
    assert_memory_equal(&a, &b, sizeof a);
}

static void create_with_every_param_keeps_them_all(void **state)
{
    sf_fixture *fx = *state;
    sf_service_params p = {
        .friendly_name = "My Service",
        .webhook_url = "https://example.com/hook?x=1",
        .reachability_webhooks_enabled = SF_BOOL_TRUE,
        .acl_enabled = SF_BOOL_TRUE,
        .reachability_debouncing_enabled = SF_BOOL_TRUE,
        .webhooks_from_rest_enabled = SF_BOOL_TRUE,
        .has_reachability_debouncing_window = true,
        .reachability_debouncing_window = 12000,
    };
    sf_service_record rec;
    must_create(fx, &p, &rec);
    assert_true(rec.has_friendly_name);
    assert_string_equal(rec.friendly_name, "My Service");
    assert_true(rec.has_webhook_url);
    assert_string_equal(rec.webhook_url, "https://example.com/hook?x=1");
    assert_true(rec.webhooks_from_rest_enabled);
    assert_true(rec.reachability_webhooks_enabled);
    assert_true(rec.acl_enabled);
    assert_true(rec.reachability_debouncing_enabled);
    assert_int_equal(rec.reachability_debouncing_window, 12000);

    sf_service_record fetched;
    must_fetch(fx, rec.sid, &fetched);
    assert_memory_equal(&rec, &fetched, sizeof rec);
}

static void explicit_false_flags_are_false(void **state)
{
    sf_fixture *fx = *state;
    sf_service_params p = {
        .reachability_webhooks_enabled = SF_BOOL_FALSE,
        .acl_enabled = SF_BOOL_TRUE,
        .reachability_debouncing_enabled = SF_BOOL_FALSE,
        .webhooks_from_rest_enabled = SF_BOOL_TRUE,
    };
    sf_service_record rec;
    must_create(fx, &p, &rec);
    assert_false(rec.reachability_webhooks_enabled);
    assert_true(rec.acl_enabled);
    assert_false(rec.reachability_debouncing_enabled);
    assert_true(rec.webhooks_from_rest_enabled);
}

static void fetch_returns_what_create_returned(void **state)
{
    sf_fixture *fx = *state;
    sf_service_record created, fetched;
    sf_service_params p = {.friendly_name = "fetch me"};
    must_create(fx, &p, &created);
    assert_status(sf_clock_advance(fx->fake, 60000, NULL), SF_OK);
    must_fetch(fx, created.sid, &fetched);
    assert_memory_equal(&created, &fetched, sizeof created);
    /* explicit default account SID works like NULL */
    memset(&fetched, 0, sizeof fetched);
    assert_status(
        sf_service_fetch(fx->fake, sf_fake_account_sid(fx->fake), created.sid, &fetched, NULL),
        SF_OK);
    assert_memory_equal(&created, &fetched, sizeof created);
    /* out may be NULL */
    assert_status(sf_service_fetch(fx->fake, NULL, created.sid, NULL, NULL), SF_OK);
}

static void each_service_gets_its_own_sid(void **state)
{
    sf_fixture *fx = *state;
    char sids[50][SF_SID_SIZE];
    for (int i = 0; i < 50; i++) {
        sf_service_record rec;
        must_create(fx, NULL, &rec);
        assert_lower_hex_sid(rec.sid, "IS");
        memcpy(sids[i], rec.sid, SF_SID_SIZE);
        assert_string_not_equal(rec.sid, fx->service_sid);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(sids[i], sids[j]);
    }
}

static void unknown_service_is_404_naming_the_service_path(void **state)
{
    sf_fixture *fx = *state;
    const char *ids[] = {"IS0123456789abcdef0123456789abcdef", "ISnot-a-sid", "nonsense"};
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char expected[SF_ERROR_MESSAGE_SIZE];
        snprintf(expected, sizeof expected, "The requested resource /Services/%s was not found",
                 ids[i]);
        sf_error err;
        sf_service_record rec;
        assert_status(sf_service_fetch(fx->fake, NULL, ids[i], &rec, &err), SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
        assert_string_equal(err.message, expected);
        sf_service_params p = {.friendly_name = "x"};
        assert_status(sf_service_update(fx->fake, NULL, ids[i], &p, &rec, &err), SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
        assert_string_equal(err.message, expected);
        assert_status(sf_service_remove(fx->fake, NULL, ids[i], &err), SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
        assert_string_equal(err.message, expected);
    }
}

static void a_service_sid_in_another_case_is_not_found(void **state)
{
    sf_fixture *fx = *state;
    char upper[SF_SID_SIZE];
    memcpy(upper, fx->service_sid, SF_SID_SIZE);
    bool changed = false;
    for (int i = 2; i < SF_SID_LEN; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f') {
            upper[i] = (char)(upper[i] - 32);
            changed = true;
        }
    assert_true(changed);
    sf_error err;
    assert_status(sf_service_fetch(fx->fake, NULL, upper, NULL, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
}

static void null_arguments_are_invalid_arguments(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_service_record rec;
    assert_status(sf_service_create(NULL, NULL, NULL, &rec, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_status(sf_service_fetch(NULL, NULL, fx->service_sid, &rec, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_update(NULL, NULL, fx->service_sid, NULL, &rec, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_remove(NULL, NULL, fx->service_sid, &err), SF_ERR_INVALID_ARGUMENT);
    sf_service_page *page = NULL;
    assert_status(sf_service_list(NULL, NULL, NULL, &page, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(page);
    assert_status(sf_service_list(fx->fake, NULL, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_fetch(fx->fake, NULL, NULL, &rec, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.code, 20001);
    assert_status(sf_service_update(fx->fake, NULL, NULL, NULL, &rec, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_remove(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    sf_service_page_free(fx->fake, NULL);
    sf_service_page_free(NULL, NULL);
    /* nothing was harmed */
    assert_int_equal(count_services(fx), 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Update                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* Step i (0..6) of the update test: sets the one parameter it gives in step, and that
 * parameter's new value in expected. */
static void set_update_step(size_t i, sf_service_params *step, sf_service_record *expected)
{
    memset(step, 0, sizeof *step);
    switch (i) {
    case 0:
        step->friendly_name = "after";
        strcpy(expected->friendly_name, "after");
        break;
    case 1:
        step->webhook_url = "https://example.org/b";
        strcpy(expected->webhook_url, "https://example.org/b");
        break;
    case 2:
        step->reachability_webhooks_enabled = SF_BOOL_FALSE;
        expected->reachability_webhooks_enabled = false;
        break;
    case 3:
        step->acl_enabled = SF_BOOL_TRUE;
        expected->acl_enabled = true;
        break;
    case 4:
        step->reachability_debouncing_enabled = SF_BOOL_FALSE;
        expected->reachability_debouncing_enabled = false;
        break;
    case 5:
        step->webhooks_from_rest_enabled = SF_BOOL_TRUE;
        expected->webhooks_from_rest_enabled = true;
        break;
    case 6:
        step->has_reachability_debouncing_window = true;
        step->reachability_debouncing_window = 29000;
        expected->reachability_debouncing_window = 29000;
        break;
    }
}

static void update_changes_only_the_given_params_and_moves_date_updated(void **state)
{
    sf_fixture *fx = *state;
    sf_service_params full = {
        .friendly_name = "before",
        .webhook_url = "http://example.com/a",
        .reachability_webhooks_enabled = SF_BOOL_TRUE,
        .acl_enabled = SF_BOOL_FALSE,
        .reachability_debouncing_enabled = SF_BOOL_TRUE,
        .webhooks_from_rest_enabled = SF_BOOL_FALSE,
        .has_reachability_debouncing_window = true,
        .reachability_debouncing_window = 2000,
    };
    sf_service_record base;
    must_create(fx, &full, &base);
    const sf_ms created = base.date_created_ms;

    sf_service_record expected = base;
    for (size_t i = 0; i < 7; i++) {
        assert_status(sf_clock_advance(fx->fake, 1000 + (sf_ms)i, NULL), SF_OK);
        sf_ms now = sf_clock_now(fx->fake);
        sf_service_params step;
        set_update_step(i, &step, &expected);
        expected.date_updated_ms = now;
        sf_service_record got;
        sf_error err;
        assert_status(sf_service_update(fx->fake, NULL, base.sid, &step, &got, &err), SF_OK);
        assert_status(err.status, SF_OK);
        assert_memory_equal(&got, &expected, sizeof got);
        sf_service_record fetched;
        must_fetch(fx, base.sid, &fetched);
        assert_memory_equal(&fetched, &expected, sizeof fetched);
        assert_int_equal(fetched.date_created_ms, created);
        assert_true(fetched.date_updated_ms > created);
    }
}

static void update_without_params_only_moves_date_updated(void **state)
{
    sf_fixture *fx = *state;
    sf_service_record before, after;
    must_fetch(fx, fx->service_sid, &before);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, NULL, &after, NULL), SF_OK);
    assert_int_equal(after.date_updated_ms, before.date_updated_ms + 5000);
    before.date_updated_ms = after.date_updated_ms;
    assert_memory_equal(&before, &after, sizeof before);
    /* out may be NULL */
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, NULL, NULL, NULL), SF_OK);
}

static void update_can_replace_strings_repeatedly(void **state)
{
    sf_fixture *fx = *state;
    char name[32], url[64];
    for (int i = 0; i < 20; i++) {
        snprintf(name, sizeof name, "name %d", i);
        snprintf(url, sizeof url, "https://hooks.example.com/%d", i);
        sf_service_params p = {.friendly_name = name, .webhook_url = url};
        sf_service_record rec;
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, NULL), SF_OK);
        assert_string_equal(rec.friendly_name, name);
        assert_string_equal(rec.webhook_url, url);
        assert_true(rec.has_friendly_name);
        assert_true(rec.has_webhook_url);
    }
}

static void a_failed_update_changes_nothing(void **state)
{
    sf_fixture *fx = *state;
    sf_service_params full = {.friendly_name = "keep",
                              .webhook_url = "https://keep.example",
                              .acl_enabled = SF_BOOL_TRUE};
    sf_service_record before;
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &full, &before, NULL), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);

    char *long_name = sf_test_repeat("x", 256);
    sf_service_params bad[5];
    memset(bad, 0, sizeof bad);
    /* each bad request also carries valid changes, which must not be applied either */
    for (int i = 0; i < 5; i++) {
        bad[i].acl_enabled = SF_BOOL_FALSE;
        bad[i].reachability_webhooks_enabled = SF_BOOL_TRUE;
    }
    bad[0].friendly_name = long_name;
    bad[0].webhook_url = "https://changed.example";
    bad[1].webhook_url = "ftp://x";
    bad[1].friendly_name = "changed";
    bad[2].has_reachability_debouncing_window = true;
    bad[2].reachability_debouncing_window = 999;
    bad[2].friendly_name = "changed";
    bad[3].friendly_name = "";
    bad[4].acl_enabled = (sf_opt_bool)9;
    bad[4].friendly_name = "changed";
    const int codes[] = {54053, 54051, 20001, 54053, 20001};
    for (int i = 0; i < 5; i++) {
        expect_update_error(fx, fx->service_sid, &bad[i], 400, codes[i]);
        sf_service_record now;
        must_fetch(fx, fx->service_sid, &now);
        assert_memory_equal(&now, &before, sizeof now);
    }
    free(long_name);
}

/* ---------------------------------------------------------------------------------------- */
/* Remove                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void remove_takes_the_service_and_all_its_streams(void **state)
{
    sf_fixture *fx = *state;
    sf_service_record other;
    must_create(fx, NULL, &other);
    sf_stream_record doomed[5], kept;
    for (int i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", i);
        sf_fixture_stream(fx, name, i % 2 ? 3600 : -1, &doomed[i]);
    }
    sf_stream_params kp = {.unique_name = "s0", .has_ttl = true, .ttl = 60};
    assert_status(sf_stream_create(fx->fake, NULL, other.sid, &kp, &kept, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 3);

    sf_error err;
    assert_status(sf_service_remove(fx->fake, NULL, fx->service_sid, &err), SF_OK);
    assert_status(err.status, SF_OK);

    sf_service_record rec;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &rec, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    for (int i = 0; i < 5; i++) {
        sf_stream_record s;
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, doomed[i].sid, &s, &err),
                      SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
        /* not reachable through another service either */
        assert_status(sf_stream_fetch(fx->fake, NULL, other.sid, doomed[i].sid, &s, &err),
                      SF_ERR_NOT_FOUND);
    }
    /* their expiry timers went with them; the other service's stream is untouched */
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_stream_record s;
    assert_status(sf_stream_fetch(fx->fake, NULL, other.sid, "s0", &s, NULL), SF_OK);
    assert_string_equal(s.sid, kept.sid);
    assert_int_equal(count_services(fx), 1);

    /* removing again is a 404 */
    assert_status(sf_service_remove(fx->fake, NULL, fx->service_sid, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    /* and streams cannot be created in it any more */
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, NULL, &s, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
}

static void removing_a_service_with_many_streams_releases_everything(void **state)
{
    sf_fixture *fx = *state;
    long live_before = fx->alloc.live;
    sf_service_record svc;
    must_create(fx, &(sf_service_params){.friendly_name = "big", .webhook_url = "http://h"}, &svc);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        sf_stream_params p = {
            .unique_name = i % 2 ? name : NULL, .has_ttl = i % 3 == 0, .ttl = 100 + i};
        assert_status(sf_stream_create(fx->fake, NULL, svc.sid, &p, NULL, NULL), SF_OK);
    }
    assert_status(sf_service_remove(fx->fake, NULL, svc.sid, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0);
    /* hash tables and timer heap may keep their capacity; no per-record memory survives */
    assert_true(fx->alloc.live <= live_before + 8);
    /* and no expiry fires for a stream that is gone */
    assert_status(sf_clock_advance(fx->fake, 1000000, NULL), SF_OK);
    assert_int_equal(count_services(fx), 1);
}

static void a_removed_services_sid_is_never_reused(void **state)
{
    sf_fixture *fx = *state;
    char seen[40][SF_SID_SIZE];
    memcpy(seen[0], fx->service_sid, SF_SID_SIZE);
    assert_status(sf_service_remove(fx->fake, NULL, fx->service_sid, NULL), SF_OK);
    for (int i = 1; i < 40; i++) {
        sf_service_record rec;
        must_create(fx, NULL, &rec);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(rec.sid, seen[j]);
        memcpy(seen[i], rec.sid, SF_SID_SIZE);
        if (i % 2)
            assert_status(sf_service_remove(fx->fake, NULL, rec.sid, NULL), SF_OK);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Addressing streams through a service                                                      */
/* ---------------------------------------------------------------------------------------- */

static void a_stream_is_only_reachable_through_its_own_service(void **state)
{
    sf_fixture *fx = *state;
    sf_service_record other;
    must_create(fx, NULL, &other);
    sf_stream_record s;
    sf_fixture_stream(fx, "mine", -1, &s);
    sf_error err;
    sf_stream_record got;
    assert_status(sf_stream_fetch(fx->fake, NULL, other.sid, s.sid, &got, &err), SF_ERR_NOT_FOUND);
    char expected[SF_ERROR_MESSAGE_SIZE];
    snprintf(expected, sizeof expected,
             "The requested resource /Services/%s/Streams/%s was not found", other.sid, s.sid);
    assert_string_equal(err.message, expected);
    assert_status(sf_stream_fetch(fx->fake, NULL, other.sid, "mine", &got, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_remove(fx->fake, NULL, other.sid, s.sid, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, s.sid, &got, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "mine", &got, NULL), SF_OK);
    assert_string_equal(got.sid, s.sid);
}

static void stream_lookups_reject_null_ids_and_miss_overlong_names(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_stream_record got;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, NULL, &got, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_status(sf_stream_fetch(fx->fake, NULL, NULL, "x", &got, &err), SF_ERR_INVALID_ARGUMENT);
    char *overlong = sf_test_repeat("n", SF_UNIQUE_NAME_CAP + 10);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, overlong, &got, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    free(overlong);
    /* a SID-shaped id of the wrong kind is a (never created) name */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, fx->service_sid, &got, &err),
                  SF_ERR_NOT_FOUND);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(create_without_params_gives_twilios_defaults),
        T(empty_params_are_the_same_as_no_params),
        T(create_with_every_param_keeps_them_all),
        T(explicit_false_flags_are_false),
        T(fetch_returns_what_create_returned),
        T(each_service_gets_its_own_sid),
        T(unknown_service_is_404_naming_the_service_path),
        T(a_service_sid_in_another_case_is_not_found),
        T(null_arguments_are_invalid_arguments),
        T(update_changes_only_the_given_params_and_moves_date_updated),
        T(update_without_params_only_moves_date_updated),
        T(update_can_replace_strings_repeatedly),
        T(a_failed_update_changes_nothing),
        T(remove_takes_the_service_and_all_its_streams),
        T(removing_a_service_with_many_streams_releases_everything),
        T(a_removed_services_sid_is_never_reused),
        T(a_stream_is_only_reachable_through_its_own_service),
        T(stream_lookups_reject_null_ids_and_miss_overlong_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
