/* SPDX-License-Identifier: MIT */
/* test_service.c: Sync services: create, fetch, update, remove, list, parameter validation. */
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

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void must_create(sf_fixture *fx, const sf_service_params *p, sf_service_record *out)
{
    sf_error err;
    if (sf_service_create(fx->fake, NULL, p, out, &err) != SF_OK)
        fail_msg("service create failed: %d %s", err.code, err.message);
}

static void must_fetch(sf_fixture *fx, const char *sid, sf_service_record *out)
{
    sf_error err;
    if (sf_service_fetch(fx->fake, NULL, sid, out, &err) != SF_OK)
        fail_msg("service fetch failed: %d %s", err.code, err.message);
}

static void expect_create_error(sf_fixture *fx, const sf_service_params *p, int http, int code)
{
    sf_error err;
    sf_service_record rec;
    sf_status st = sf_service_create(fx->fake, NULL, p, &rec, &err);
    assert_int_not_equal(st, SF_OK);
    assert_int_equal(err.status, st);
    sf_assert_twilio_error(&err, http, code);
}

static void expect_update_error(sf_fixture *fx, const char *sid, const sf_service_params *p,
                                int http, int code)
{
    sf_error err;
    sf_service_record rec;
    sf_status st = sf_service_update(fx->fake, NULL, sid, p, &rec, &err);
    assert_int_not_equal(st, SF_OK);
    sf_assert_twilio_error(&err, http, code);
}

/* "https://example.com/" followed by 'a's up to `len` characters. */
static char *url_of_length(size_t len)
{
    const char *base = "https://example.com/";
    size_t bl = strlen(base);
    assert_true(len >= bl);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, base, bl);
    memset(s + bl, 'a', len - bl);
    s[len] = '\0';
    return s;
}

static size_t count_services(sf_fixture *fx)
{
    sf_service_page *page = NULL;
    sf_page_params p = {.has_page_size = true, .page_size = 100};
    assert_status(sf_service_list(fx->fake, NULL, &p, &page, NULL), SF_OK);
    size_t n = page->info.count;
    assert_false(page->info.has_next);
    sf_service_page_free(fx->fake, page);
    return n;
}

static void assert_lower_hex_sid(const char *sid, const char *prefix)
{
    assert_int_equal(strlen(sid), SF_SID_LEN);
    assert_memory_equal(sid, prefix, 2);
    assert_int_equal(strspn(sid + 2, "0123456789abcdef"), 32);
    assert_true(sf_sid_is(sid, prefix));
}

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
    assert_status(sf_service_fetch(fx->fake, sf_fake_account_sid(fx->fake), created.sid,
                                      &fetched, NULL), SF_OK);
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
    assert_status(sf_service_fetch(NULL, NULL, fx->service_sid, &rec, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_update(NULL, NULL, fx->service_sid, NULL, &rec, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_remove(NULL, NULL, fx->service_sid, &err), SF_ERR_INVALID_ARGUMENT);
    sf_service_page *page = NULL;
    assert_status(sf_service_list(NULL, NULL, NULL, &page, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(page);
    assert_status(sf_service_list(fx->fake, NULL, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_fetch(fx->fake, NULL, NULL, &rec, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.code, 20001);
    assert_status(sf_service_update(fx->fake, NULL, NULL, NULL, &rec, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_remove(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    sf_service_page_free(fx->fake, NULL);
    sf_service_page_free(NULL, NULL);
    /* nothing was harmed */
    assert_int_equal(count_services(fx), 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Update                                                                                    */
/* ---------------------------------------------------------------------------------------- */

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

    sf_service_params steps[7];
    memset(steps, 0, sizeof steps);
    steps[0].friendly_name = "after";
    steps[1].webhook_url = "https://example.org/b";
    steps[2].reachability_webhooks_enabled = SF_BOOL_FALSE;
    steps[3].acl_enabled = SF_BOOL_TRUE;
    steps[4].reachability_debouncing_enabled = SF_BOOL_FALSE;
    steps[5].webhooks_from_rest_enabled = SF_BOOL_TRUE;
    steps[6].has_reachability_debouncing_window = true;
    steps[6].reachability_debouncing_window = 29000;

    sf_service_record expected = base;
    for (size_t i = 0; i < 7; i++) {
        assert_status(sf_clock_advance(fx->fake, 1000 + (sf_ms)i, NULL), SF_OK);
        sf_ms now = sf_clock_now(fx->fake);
        switch (i) {
        case 0:
            strcpy(expected.friendly_name, "after");
            break;
        case 1:
            strcpy(expected.webhook_url, "https://example.org/b");
            break;
        case 2:
            expected.reachability_webhooks_enabled = false;
            break;
        case 3:
            expected.acl_enabled = true;
            break;
        case 4:
            expected.reachability_debouncing_enabled = false;
            break;
        case 5:
            expected.webhooks_from_rest_enabled = true;
            break;
        case 6:
            expected.reachability_debouncing_window = 29000;
            break;
        }
        expected.date_updated_ms = now;
        sf_service_record got;
        sf_error err;
        assert_status(sf_service_update(fx->fake, NULL, base.sid, &steps[i], &got, &err), SF_OK);
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
    sf_service_params full = {.friendly_name = "keep", .webhook_url = "https://keep.example",
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
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, doomed[i].sid, &s, &err), SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
        /* not reachable through another service either */
        assert_status(sf_stream_fetch(fx->fake, NULL, other.sid, doomed[i].sid, &s, &err), SF_ERR_NOT_FOUND);
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
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, NULL, &s, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
}

static void removing_a_service_with_many_streams_releases_everything(void **state)
{
    sf_fixture *fx = *state;
    long live_before = fx->alloc.live;
    sf_service_record svc;
    must_create(fx, &(sf_service_params){.friendly_name = "big", .webhook_url = "http://h"},
                &svc);
    for (int i = 0; i < 300; i++) {
        char name[16];
        snprintf(name, sizeof name, "n%d", i);
        sf_stream_params p = {.unique_name = i % 2 ? name : NULL, .has_ttl = i % 3 == 0,
                              .ttl = 100 + i};
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
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, NULL, &got, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_status(sf_stream_fetch(fx->fake, NULL, NULL, "x", &got, &err), SF_ERR_INVALID_ARGUMENT);
    char *overlong = sf_test_repeat("n", SF_UNIQUE_NAME_CAP + 10);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, overlong, &got, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    free(overlong);
    /* a SID-shaped id of the wrong kind is a (never created) name */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, fx->service_sid, &got,
                                     &err), SF_ERR_NOT_FOUND);
}

/* ---------------------------------------------------------------------------------------- */
/* Validation                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void friendly_name_of_255_characters_is_accepted(void **state)
{
    sf_fixture *fx = *state;
    char *ascii = sf_test_repeat("a", 255);
    sf_service_record rec;
    must_create(fx, &(sf_service_params){.friendly_name = ascii}, &rec);
    assert_string_equal(rec.friendly_name, ascii);
    /* characters, not bytes: 255 two-byte and four-byte characters */
    char *accents = sf_test_repeat("\xc3\xa9", 255);
    must_create(fx, &(sf_service_params){.friendly_name = accents}, &rec);
    assert_string_equal(rec.friendly_name, accents);
    char *emoji = sf_test_repeat("\xf0\x9f\x98\x80", 255);
    must_create(fx, &(sf_service_params){.friendly_name = emoji}, &rec);
    assert_string_equal(rec.friendly_name, emoji);
    sf_service_record fetched;
    must_fetch(fx, rec.sid, &fetched);
    assert_string_equal(fetched.friendly_name, emoji);
    must_create(fx, &(sf_service_params){.friendly_name = "x"}, &rec);
    assert_string_equal(rec.friendly_name, "x");
    free(ascii);
    free(accents);
    free(emoji);
}

static void friendly_name_of_256_characters_or_empty_is_rejected_with_54053(void **state)
{
    sf_fixture *fx = *state;
    char *ascii = sf_test_repeat("a", 256);
    char *accents = sf_test_repeat("\xc3\xa9", 256);
    char *huge = sf_test_repeat("a", 5000);
    const char *bad[] = {ascii, accents, huge, "", "bad\xff utf8", "tab\there", "nl\n",
                         "\xc0\xaf", "\xed\xa0\x80", "del\x7f"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_service_params p = {.friendly_name = bad[i]};
        expect_create_error(fx, &p, 400, 54053);
        expect_update_error(fx, fx->service_sid, &p, 400, 54053);
    }
    sf_error err;
    sf_service_params p = {.friendly_name = ascii};
    assert_status(sf_service_create(fx->fake, NULL, &p, NULL, &err), SF_ERR_INVALID_FRIENDLY_NAME);
    assert_string_equal(err.message, "Invalid friendly name");
    free(ascii);
    free(accents);
    free(huge);
}

static void webhook_url_must_be_an_absolute_http_url_of_at_most_512(void **state)
{
    sf_fixture *fx = *state;
    char *max = url_of_length(512);
    const char *good[] = {"http://example.com", "https://example.com/hook",
                          "https://user:pw@example.com:8443/p?q=1#f", "http://127.0.0.1:8080/",
                          max};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sf_service_record rec;
        must_create(fx, &(sf_service_params){.webhook_url = good[i]}, &rec);
        assert_true(rec.has_webhook_url);
        assert_string_equal(rec.webhook_url, good[i]);
    }
    char *over = url_of_length(513);
    char *way_over = url_of_length(4000);
    const char *bad[] = {over,         way_over,          "ftp://x",       "http://",
                         "https://",   "not a url",       "http://exa mple.com",
                         "",           "example.com/hook", "http:/example.com",
                         "http:///p",  "https://?q",      "https://#f",    "mailto:a@b.c",
                         "http://ex\tample.com", "http://ex\xc3\xa9.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_service_params p = {.webhook_url = bad[i]};
        expect_create_error(fx, &p, 400, 54051);
        expect_update_error(fx, fx->service_sid, &p, 400, 54051);
    }
    sf_error err;
    assert_status(sf_service_create(fx->fake, NULL, &(sf_service_params){.webhook_url = "x"},
                                       NULL, &err), SF_ERR_INVALID_WEBHOOK_URL);
    assert_string_equal(err.message, "Invalid webhook URL");
    free(max);
    free(over);
    free(way_over);
}

static void debouncing_window_must_be_1000_to_30000(void **state)
{
    sf_fixture *fx = *state;
    const int64_t good[] = {1000, 1001, 5000, 29999, 30000};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        sf_service_params p = {.has_reachability_debouncing_window = true,
                               .reachability_debouncing_window = good[i]};
        sf_service_record rec;
        must_create(fx, &p, &rec);
        assert_int_equal(rec.reachability_debouncing_window, good[i]);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, NULL), SF_OK);
        assert_int_equal(rec.reachability_debouncing_window, good[i]);
    }
    const int64_t bad[] = {999, 30001, 0, -1, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_service_params p = {.has_reachability_debouncing_window = true,
                               .reachability_debouncing_window = bad[i]};
        expect_create_error(fx, &p, 400, 20001);
        expect_update_error(fx, fx->service_sid, &p, 400, 20001);
    }
    /* the value is ignored when not flagged as given */
    sf_service_params unflagged = {.reachability_debouncing_window = 1};
    sf_service_record rec;
    must_create(fx, &unflagged, &rec);
    assert_int_equal(rec.reachability_debouncing_window, 5000);
}

static void an_out_of_range_boolean_is_an_invalid_parameter(void **state)
{
    sf_fixture *fx = *state;
    for (int field = 0; field < 4; field++) {
        sf_service_params p = {0};
        sf_opt_bool bad = (sf_opt_bool)3;
        if (field == 0)
            p.reachability_webhooks_enabled = bad;
        else if (field == 1)
            p.acl_enabled = bad;
        else if (field == 2)
            p.reachability_debouncing_enabled = bad;
        else
            p.webhooks_from_rest_enabled = bad;
        expect_create_error(fx, &p, 400, 20001);
        expect_update_error(fx, fx->service_sid, &p, 400, 20001);
    }
}

static void a_failed_create_changes_nothing_and_spends_no_sid(void **state)
{
    void **pair = *state;
    sf_fixture *fx = pair[0];
    sf_fixture *twin = pair[1]; /* same seed, never sees the failed calls */

    char *long_name = sf_test_repeat("y", 256);
    sf_service_params bad[] = {
        {.friendly_name = long_name},
        {.friendly_name = "ok", .webhook_url = "ftp://nope"},
        {.friendly_name = "ok", .has_reachability_debouncing_window = true,
         .reachability_debouncing_window = 30001},
        {.acl_enabled = (sf_opt_bool)7},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long live = fx->alloc.live;
        sf_service_record rec;
        memset(&rec, 0, sizeof rec);
        assert_int_not_equal(sf_service_create(fx->fake, NULL, &bad[i], &rec, NULL), SF_OK);
        assert_int_equal(fx->alloc.live, live);
        assert_int_equal(count_services(fx), 1);
    }
    sf_service_record a, b;
    must_create(fx, NULL, &a);
    must_create(twin, NULL, &b);
    assert_string_equal(a.sid, b.sid);
    assert_memory_equal(&a, &b, sizeof a);
    free(long_name);
}

static int setup_small_limits(void **state)
{
    sf_fixture tmp = {0};
    sf_options opts;
    sf_fixture_options(&tmp, &opts);
    opts.limits.friendly_name_max = 10;
    opts.limits.webhook_url_max = 30;
    opts.limits.debouncing_window_min_ms = 0;
    opts.limits.debouncing_window_max_ms = 100;
    return sf_fixture_setup_with(state, &opts);
}

static void validation_limits_follow_the_options(void **state)
{
    sf_fixture *fx = *state;
    sf_service_record rec;
    must_create(fx, &(sf_service_params){.friendly_name = "0123456789"}, &rec);
    expect_create_error(fx, &(sf_service_params){.friendly_name = "0123456789a"}, 400, 54053);
    char *url30 = url_of_length(30), *url31 = url_of_length(31);
    must_create(fx, &(sf_service_params){.webhook_url = url30}, &rec);
    expect_create_error(fx, &(sf_service_params){.webhook_url = url31}, 400, 54051);
    must_create(fx,
                &(sf_service_params){.has_reachability_debouncing_window = true,
                                     .reachability_debouncing_window = 0},
                &rec);
    assert_int_equal(rec.reachability_debouncing_window, 0);
    expect_create_error(fx,
                        &(sf_service_params){.has_reachability_debouncing_window = true,
                                             .reachability_debouncing_window = 101},
                        400, 20001);
    free(url30);
    free(url31);
}

static int setup_friendly_name_at_the_cap(void **state)
{
    sf_fixture tmp = {0};
    sf_options opts;
    sf_fixture_options(&tmp, &opts);
    opts.limits.friendly_name_max = SF_FRIENDLY_NAME_CAP; /* allowed: the hard ceiling */
    return sf_fixture_setup_with(state, &opts);
}

/* The record holds SF_FRIENDLY_NAME_CAP + 1 bytes; a name the fake accepts must come back
 * whole, NUL-terminated inside that field, and nothing past the record may be written. */
static void an_accepted_friendly_name_always_fits_the_record(void **state)
{
    sf_fixture *fx = *state;
    static struct guarded {
        sf_service_record rec;
        unsigned char guard[8192];
    } g;
    static char name[4 * SF_FRIENDLY_NAME_CAP + 1];
    const size_t lengths[] = {255, 256, SF_FRIENDLY_NAME_CAP, 300};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        /* 4-byte characters: lengths[i] characters, 4 * lengths[i] bytes */
        for (size_t c = 0; c < lengths[i]; c++)
            memcpy(name + 4 * c, "\xf0\x9f\x98\x80", 4);
        name[4 * lengths[i]] = '\0';
        memset(&g, 0xa5, sizeof g);
        sf_error err;
        sf_status status =
            sf_service_create(fx->fake, NULL, &(sf_service_params){.friendly_name = name},
                              &g.rec, &err);
        for (size_t b = 0; b < sizeof g.guard; b++)
            if (g.guard[b] != 0xa5)
                fail_msg("%zu-character name accepted: byte %zu past the end of the "
                         "sf_service_record was overwritten",
                         lengths[i], b);
        if (status == SF_OK) {
            if (!memchr(g.rec.friendly_name, '\0', sizeof g.rec.friendly_name))
                fail_msg("%zu-character name (%zu bytes) accepted but does not fit the "
                         "%zu-byte friendly_name field",
                         lengths[i], strlen(name), sizeof g.rec.friendly_name);
            assert_string_equal(g.rec.friendly_name, name);
        } else {
            sf_assert_twilio_error(&err, 400, 54053);
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Listing services                                                                           */
/* ---------------------------------------------------------------------------------------- */

static sf_service_page *must_list_services(sf_fixture *fx, const sf_page_params *p)
{
    sf_service_page *page = NULL;
    sf_error err;
    if (sf_service_list(fx->fake, NULL, p, &page, &err) != SF_OK)
        fail_msg("service list failed: %d %s", err.code, err.message);
    assert_non_null(page);
    return page;
}

static void services_are_listed_in_creation_order_in_pages(void **state)
{
    sf_fixture *fx = *state;
    char sids[25][SF_SID_SIZE];
    memcpy(sids[0], fx->service_sid, SF_SID_SIZE);
    sf_service_record recs[25];
    must_fetch(fx, fx->service_sid, &recs[0]);
    for (int i = 1; i < 25; i++) {
        char name[16];
        snprintf(name, sizeof name, "svc %d", 25 - i);
        must_create(fx, &(sf_service_params){.friendly_name = name}, &recs[i]);
        memcpy(sids[i], recs[i].sid, SF_SID_SIZE);
    }
    /* default page size holds them all */
    sf_service_page *page = must_list_services(fx, NULL);
    assert_int_equal(page->info.page_size, 50);
    assert_int_equal(page->info.count, 25);
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    for (int i = 0; i < 25; i++)
        assert_memory_equal(&page->records[i], &recs[i], sizeof recs[i]);
    sf_service_page_free(fx->fake, page);

    /* forward in pages of 7 */
    char tokens_prev[4][SF_PAGE_TOKEN_SIZE];
    char token[SF_PAGE_TOKEN_SIZE] = "";
    size_t seen = 0;
    for (int k = 0; k < 4; k++) {
        sf_page_params p = {.has_page_size = true, .page_size = 7,
                            .page_token = token[0] ? token : NULL};
        page = must_list_services(fx, &p);
        assert_int_equal(page->info.count, k < 3 ? 7 : 4);
        assert_int_equal(page->info.has_previous, k > 0);
        assert_int_equal(page->info.has_next, k < 3);
        for (size_t i = 0; i < page->info.count; i++)
            assert_string_equal(page->records[i].sid, sids[seen++]);
        memcpy(token, page->info.next_token, sizeof token);
        memcpy(tokens_prev[k], page->info.previous_token, SF_PAGE_TOKEN_SIZE);
        sf_service_page_free(fx->fake, page);
    }
    assert_int_equal(seen, 25);

    /* backward from the last page */
    memcpy(token, tokens_prev[3], sizeof token);
    for (int k = 2; k >= 0; k--) {
        sf_page_params p = {.has_page_size = true, .page_size = 7, .page_token = token};
        page = must_list_services(fx, &p);
        assert_int_equal(page->info.count, 7);
        for (size_t i = 0; i < 7; i++)
            assert_string_equal(page->records[i].sid, sids[(size_t)k * 7 + i]);
        assert_int_equal(page->info.has_previous, k > 0);
        memcpy(token, page->info.previous_token, sizeof token);
        sf_service_page_free(fx->fake, page);
    }

    /* by page number */
    for (int k = 0; k < 5; k++) {
        sf_page_params p = {.has_page_size = true, .page_size = 7, .has_page = true, .page = k};
        page = must_list_services(fx, &p);
        assert_int_equal(page->info.page, k);
        size_t expect = k < 3 ? 7 : k == 3 ? 4 : 0;
        assert_int_equal(page->info.count, expect);
        for (size_t i = 0; i < expect; i++)
            assert_string_equal(page->records[i].sid, sids[(size_t)k * 7 + i]);
        sf_service_page_free(fx->fake, page);
    }
}

static void service_list_rejects_bad_paging_params(void **state)
{
    sf_fixture *fx = *state;
    for (int i = 0; i < 9; i++)
        must_create(fx, NULL, NULL);
    const int64_t bad_sizes[] = {0, 101, -1};
    for (size_t i = 0; i < 3; i++) {
        sf_page_params p = {.has_page_size = true, .page_size = bad_sizes[i]};
        sf_service_page *page = NULL;
        sf_error err;
        assert_status(sf_service_list(fx->fake, NULL, &p, &page, &err), SF_ERR_INVALID_PAGE_SIZE);
        assert_null(page);
        sf_assert_twilio_error(&err, 400, 54454);
    }
    sf_page_params neg = {.has_page = true, .page = -1};
    sf_service_page *page = NULL;
    sf_error err;
    assert_status(sf_service_list(fx->fake, NULL, &neg, &page, &err), SF_ERR_INVALID_PARAMETER);
    sf_assert_twilio_error(&err, 400, 20001);

    sf_page_params p = {.has_page_size = true, .page_size = 3};
    page = must_list_services(fx, &p);
    char token[SF_PAGE_TOKEN_SIZE];
    memcpy(token, page->info.next_token, sizeof token);
    sf_service_page_free(fx->fake, page);
    char tampered[SF_PAGE_TOKEN_SIZE];
    memcpy(tampered, token, sizeof token);
    tampered[strlen(tampered) - 1] = tampered[strlen(tampered) - 1] == '0' ? '1' : '0';
    const char *bad_tokens[] = {tampered, "garbage", ""};
    for (size_t i = 0; i < 3; i++) {
        sf_page_params q = {.page_token = bad_tokens[i]};
        page = NULL;
        assert_status(sf_service_list(fx->fake, NULL, &q, &page, &err), SF_ERR_INVALID_PAGE_TOKEN);
        assert_null(page);
        sf_assert_twilio_error(&err, 400, 54453);
    }

    /* a stream-list token is not a service-list token */
    for (int i = 0; i < 5; i++)
        sf_fixture_stream(fx, NULL, -1, &(sf_stream_record){0});
    sf_stream_page *sp = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid,
                                    &(sf_page_params){.has_page_size = true, .page_size = 2},
                                    &sp, NULL), SF_OK);
    char stream_token[SF_PAGE_TOKEN_SIZE];
    memcpy(stream_token, sp->info.next_token, sizeof stream_token);
    sf_stream_page_free(fx->fake, sp);
    sf_page_params q = {.page_token = stream_token};
    assert_status(sf_service_list(fx->fake, NULL, &q, &page, &err), SF_ERR_INVALID_PAGE_TOKEN);
    sf_assert_twilio_error(&err, 400, 54453);
}

static void a_service_removed_mid_walk_does_not_disturb_the_walk(void **state)
{
    sf_fixture *fx = *state;
    char sids[12][SF_SID_SIZE];
    memcpy(sids[0], fx->service_sid, SF_SID_SIZE);
    for (int i = 1; i < 12; i++) {
        sf_service_record rec;
        must_create(fx, NULL, &rec);
        memcpy(sids[i], rec.sid, SF_SID_SIZE);
    }
    sf_page_params p = {.has_page_size = true, .page_size = 4};
    sf_service_page *page = must_list_services(fx, &p);
    char token[SF_PAGE_TOKEN_SIZE];
    memcpy(token, page->info.next_token, sizeof token);
    sf_service_page_free(fx->fake, page);
    /* remove the cursor record and one ahead; create one at the end */
    assert_status(sf_service_remove(fx->fake, NULL, sids[3], NULL), SF_OK);
    assert_status(sf_service_remove(fx->fake, NULL, sids[6], NULL), SF_OK);
    sf_service_record late;
    must_create(fx, NULL, &late);
    p.page_token = token;
    page = must_list_services(fx, &p);
    assert_int_equal(page->info.count, 4);
    assert_string_equal(page->records[0].sid, sids[4]);
    assert_string_equal(page->records[1].sid, sids[5]);
    assert_string_equal(page->records[2].sid, sids[7]);
    assert_string_equal(page->records[3].sid, sids[8]);
    memcpy(token, page->info.next_token, sizeof token);
    sf_service_page_free(fx->fake, page);
    page = must_list_services(fx, &p);
    assert_int_equal(page->info.count, 4);
    assert_string_equal(page->records[3].sid, late.sid);
    assert_false(page->info.has_next);
    sf_service_page_free(fx->fake, page);
}

static void service_list_of_an_unknown_account_is_404(void **state)
{
    sf_fixture *fx = *state;
    sf_service_page *page = NULL;
    sf_error err;
    assert_status(sf_service_list(fx->fake, "AC0123456789abcdef0123456789abcdef", NULL, &page,
                                     &err), SF_ERR_NOT_FOUND);
    assert_null(page);
    sf_assert_twilio_error(&err, 404, 20404);
    sf_service_record rec;
    assert_status(sf_service_create(fx->fake, "AC0123456789abcdef0123456789abcdef", NULL, &rec,
                                       &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_int_equal(count_services(fx), 1);
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
        T(friendly_name_of_255_characters_is_accepted),
        T(friendly_name_of_256_characters_or_empty_is_rejected_with_54053),
        T(webhook_url_must_be_an_absolute_http_url_of_at_most_512),
        T(debouncing_window_must_be_1000_to_30000),
        T(an_out_of_range_boolean_is_an_invalid_parameter),
        cmocka_unit_test_setup_teardown(a_failed_create_changes_nothing_and_spends_no_sid,
                                        sf_test_setup_twins, sf_test_teardown_twins),
        cmocka_unit_test_setup_teardown(validation_limits_follow_the_options, setup_small_limits,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(an_accepted_friendly_name_always_fits_the_record,
                                        setup_friendly_name_at_the_cap, sf_fixture_teardown),
        T(services_are_listed_in_creation_order_in_pages),
        T(service_list_rejects_bad_paging_params),
        T(a_service_removed_mid_walk_does_not_disturb_the_walk),
        T(service_list_of_an_unknown_account_is_404),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
