/* SPDX-License-Identifier: MIT */
/* test_service_validation.c: Sync services: parameter validation and listing. */
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
    const char *bad[] = {ascii,  accents,    huge,           "",       "bad\xff utf8", "tab\there",
                         "nl\n", "\xc0\xaf", "\xed\xa0\x80", "del\x7f"};
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
    const char *bad[] = {over,
                         way_over,
                         "ftp://x",
                         "http://",
                         "https://",
                         "not a url",
                         "http://exa mple.com",
                         "",
                         "example.com/hook",
                         "http:/example.com",
                         "http:///p",
                         "https://?q",
                         "https://#f",
                         "mailto:a@b.c",
                         "http://ex\tample.com",
                         "http://ex\xc3\xa9.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_service_params p = {.webhook_url = bad[i]};
        expect_create_error(fx, &p, 400, 54051);
        expect_update_error(fx, fx->service_sid, &p, 400, 54051);
    }
    sf_error err;
    assert_status(
        sf_service_create(fx->fake, NULL, &(sf_service_params){.webhook_url = "x"}, NULL, &err),
        SF_ERR_INVALID_WEBHOOK_URL);
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
        sf_test_set_service_flag(&p, field, bad);
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
        {.friendly_name = "ok",
         .has_reachability_debouncing_window = true,
         .reachability_debouncing_window = 30001},
        {.acl_enabled = (sf_opt_bool)7},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long live = fx->alloc.live;
        sf_service_record rec;
        memset(&rec, 0, sizeof rec);
        assert_status_not(sf_service_create(fx->fake, NULL, &bad[i], &rec, NULL), SF_OK);
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
        sf_status status = sf_service_create(
            fx->fake, NULL, &(sf_service_params){.friendly_name = name}, &g.rec, &err);
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

/* Forward in pages of 7: the 25 services in creation order (sids), over 4 pages with the
 * right links; keeps each page's previous-page token in tokens_prev. */
static void walk_services_forward_in_sevens(sf_fixture *fx, char sids[][SF_SID_SIZE],
                                            char tokens_prev[4][SF_PAGE_TOKEN_SIZE])
{
    char token[SF_PAGE_TOKEN_SIZE] = "";
    size_t seen = 0;
    for (int k = 0; k < 4; k++) {
        sf_page_params p = {
            .has_page_size = true, .page_size = 7, .page_token = token[0] ? token : NULL};
        sf_service_page *page = must_list_services(fx, &p);
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
}

/* Backward from the last page's previous-page token (last_prev): the three full pages of 7. */
static void walk_services_backward_in_sevens(sf_fixture *fx, char sids[][SF_SID_SIZE],
                                             const char *last_prev)
{
    char token[SF_PAGE_TOKEN_SIZE];
    memcpy(token, last_prev, sizeof token);
    for (int k = 2; k >= 0; k--) {
        sf_page_params p = {.has_page_size = true, .page_size = 7, .page_token = token};
        sf_service_page *page = must_list_services(fx, &p);
        assert_int_equal(page->info.count, 7);
        for (size_t i = 0; i < 7; i++)
            assert_string_equal(page->records[i].sid, sids[(size_t)k * 7 + i]);
        assert_int_equal(page->info.has_previous, k > 0);
        memcpy(token, page->info.previous_token, sizeof token);
        sf_service_page_free(fx->fake, page);
    }
}

/* By page number, 7 a page: pages 0-2 full, page 3 the last 4, page 4 empty. */
static void list_services_by_page_number(sf_fixture *fx, char sids[][SF_SID_SIZE])
{
    for (int k = 0; k < 5; k++) {
        sf_page_params p = {.has_page_size = true, .page_size = 7, .has_page = true, .page = k};
        sf_service_page *page = must_list_services(fx, &p);
        assert_int_equal(page->info.page, k);
        size_t expect = k < 3 ? 7 : k == 3 ? 4 : 0;
        assert_int_equal(page->info.count, expect);
        for (size_t i = 0; i < expect; i++)
            assert_string_equal(page->records[i].sid, sids[(size_t)k * 7 + i]);
        sf_service_page_free(fx->fake, page);
    }
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

    char tokens_prev[4][SF_PAGE_TOKEN_SIZE];
    walk_services_forward_in_sevens(fx, sids, tokens_prev);
    walk_services_backward_in_sevens(fx, sids, tokens_prev[3]);
    list_services_by_page_number(fx, sids);
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
                                 &(sf_page_params){.has_page_size = true, .page_size = 2}, &sp,
                                 NULL),
                  SF_OK);
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
    assert_status(
        sf_service_list(fx->fake, "AC0123456789abcdef0123456789abcdef", NULL, &page, &err),
        SF_ERR_NOT_FOUND);
    assert_null(page);
    sf_assert_twilio_error(&err, 404, 20404);
    sf_service_record rec;
    assert_status(
        sf_service_create(fx->fake, "AC0123456789abcdef0123456789abcdef", NULL, &rec, &err),
        SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_int_equal(count_services(fx), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
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
    return cmocka_run_group_tests(tests, NULL, NULL);
}
