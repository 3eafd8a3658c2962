/* SPDX-License-Identifier: MIT */
/* test_paging_pages.c: stream list paging: page sizes and numbers, the order of records and
 * the page links, and the page info. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "syncfake.h"
#include "paging_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* Page size and page number                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void default_page_size_is_50(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 120, NULL);
    sf_stream_page *page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.page_size, 50);
    assert_int_equal(page->info.count, 50);
    assert_int_equal(page->info.page, 0);
    assert_true(page->info.has_next);
    assert_false(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);

    sf_page_params none = {0};
    page = must_list(fx, fx->service_sid, &none);
    assert_int_equal(page->info.page_size, 50);
    assert_int_equal(page->info.count, 50);
    sf_stream_page_free(fx->fake, page);
}

static void page_size_1_and_100_are_accepted(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 120, NULL);
    sf_page_params one = sized(1), hundred = sized(100);
    sf_stream_page *page = must_list(fx, fx->service_sid, &one);
    assert_int_equal(page->info.page_size, 1);
    assert_int_equal(page->info.count, 1);
    assert_true(page->info.has_next);
    sf_stream_page_free(fx->fake, page);
    page = must_list(fx, fx->service_sid, &hundred);
    assert_int_equal(page->info.page_size, 100);
    assert_int_equal(page->info.count, 100);
    assert_true(page->info.has_next);
    sf_stream_page_free(fx->fake, page);
}

static void page_size_outside_1_to_100_is_rejected_with_54454(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 3, NULL);
    const int64_t bad[] = {0, 101, -1, 1000, INT64_MIN, INT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_page_params p = sized(bad[i]);
        expect_list_error(fx, fx->service_sid, &p, 400, 54454);
    }
    sf_error err;
    sf_stream_page *page;
    sf_page_params p = sized(101);
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &p, &page, &err),
                  SF_ERR_INVALID_PAGE_SIZE);
    assert_string_equal(err.message, "Invalid 'PageSize' query parameter");
}

static void negative_page_is_rejected_with_20001(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 3, NULL);
    sf_page_params p = {.has_page = true, .page = -1};
    expect_list_error(fx, fx->service_sid, &p, 400, 20001);
    p.page = INT64_MIN;
    expect_list_error(fx, fx->service_sid, &p, 400, 20001);

    /* also with a (valid) token */
    sf_page_params first = sized(1);
    sf_stream_page *page = must_list(fx, fx->service_sid, &first);
    char token[SF_PAGE_TOKEN_SIZE];
    memcpy(token, page->info.next_token, sizeof token);
    sf_stream_page_free(fx->fake, page);
    sf_page_params with_token = {
        .has_page_size = true, .page_size = 1, .has_page = true, .page = -3, .page_token = token};
    expect_list_error(fx, fx->service_sid, &with_token, 400, 20001);
}

static void a_page_size_error_wins_over_a_bad_token(void **state)
{
    sf_fixture *fx = *state;
    sf_page_params p = {.has_page_size = true, .page_size = 0, .page_token = "garbage"};
    expect_list_error(fx, fx->service_sid, &p, 400, 54454);
}

static int setup_page_limits(void **state)
{
    sf_fixture tmp = {0};
    sf_options opts;
    sf_fixture_options(&tmp, &opts);
    opts.limits.page_size_default = 3;
    opts.limits.page_size_max = 1000;
    return sf_fixture_setup_with(state, &opts);
}

static void page_size_limits_follow_the_options(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 1200, NULL);
    sf_stream_page *page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.page_size, 3);
    assert_int_equal(page->info.count, 3);
    sf_stream_page_free(fx->fake, page);
    sf_page_params p = sized(1000);
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 1000);
    assert_true(page->info.has_next);
    sf_stream_page_free(fx->fake, page);
    p = sized(1001);
    expect_list_error(fx, fx->service_sid, &p, 400, 54454);
}

/* ---------------------------------------------------------------------------------------- */
/* Order and links                                                                           */
/* ---------------------------------------------------------------------------------------- */

static void streams_are_listed_in_creation_order(void **state)
{
    sf_fixture *fx = *state;
    char names[40][16];
    sf_stream_record created[40];
    for (int i = 0; i < 40; i++) {
        /* names deliberately not in sorted order */
        snprintf(names[i], sizeof names[i], "n%02d", (i * 17) % 40);
        sf_fixture_stream(fx, i % 3 ? names[i] : NULL, i % 4 ? -1 : 600, &created[i]);
        assert_status(sf_clock_advance(fx->fake, 10, NULL), SF_OK);
    }
    sf_page_params p = sized(100);
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 40);
    for (int i = 0; i < 40; i++) {
        assert_memory_equal(&page->records[i], &created[i], sizeof created[i]);
        sf_stream_record fetched;
        assert_status(
            sf_stream_fetch(fx->fake, NULL, fx->service_sid, created[i].sid, &fetched, NULL),
            SF_OK);
        assert_memory_equal(&page->records[i], &fetched, sizeof fetched);
    }
    sf_stream_page_free(fx->fake, page);
}

static void first_page_has_no_previous_and_last_page_has_no_next(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 25, NULL);
    walk w;
    walk_forward(fx, fx->service_sid, 10, 100, &w);
    assert_int_equal(w.pages, 3);
    assert_int_equal(w.total, 25);
    assert_false(w.infos[0].has_previous);
    assert_string_equal(w.infos[0].previous_token, "");
    assert_true(w.infos[0].has_next);
    assert_true(w.infos[1].has_previous);
    assert_true(w.infos[1].has_next);
    assert_true(w.infos[2].has_previous);
    assert_false(w.infos[2].has_next);
    assert_string_equal(w.infos[2].next_token, "");
    assert_int_equal(w.infos[2].count, 5);
    walk_free(&w);
}

static void a_single_full_page_has_neither_link(void **state)
{
    sf_fixture *fx = *state;
    make_streams(fx, fx->service_sid, 10, NULL);
    sf_page_params p = sized(10);
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 10);
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);
}

static void empty_service_gives_an_empty_page_with_neither_link(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_page *page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.count, 0);
    assert_int_equal(page->info.page, 0);
    assert_int_equal(page->info.page_size, 50);
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    assert_string_equal(page->info.next_token, "");
    assert_string_equal(page->info.previous_token, "");
    sf_stream_page_free(fx->fake, page);

    sf_page_params p = {.has_page = true, .page = 3};
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 0);
    assert_int_equal(page->info.page, 3);
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);
}

static void a_service_whose_streams_were_all_removed_lists_empty(void **state)
{
    sf_fixture *fx = *state;
    char sids[5 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 5, sids);
    for (size_t i = 0; i < 5; i++)
        assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, i), NULL),
                      SF_OK);
    sf_stream_page *page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.count, 0);
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);
}

static void expired_streams_are_left_out(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record a, b, c;
    sf_fixture_stream(fx, "a", 10, &a);
    sf_fixture_stream(fx, "b", 0, &b);
    sf_fixture_stream(fx, "c", 20, &c);
    assert_status(sf_clock_advance(fx->fake, 9999, NULL), SF_OK);
    sf_stream_page *page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.count, 3);
    sf_stream_page_free(fx->fake, page);
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.count, 2);
    assert_string_equal(page->records[0].sid, b.sid);
    assert_string_equal(page->records[1].sid, c.sid);
    sf_stream_page_free(fx->fake, page);
    assert_status(sf_clock_advance(fx->fake, 10000, NULL), SF_OK);
    page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.count, 1);
    assert_string_equal(page->records[0].sid, b.sid);
    sf_stream_page_free(fx->fake, page);
}

static void streams_of_another_service_are_not_listed(void **state)
{
    sf_fixture *fx = *state;
    char other[SF_SID_SIZE];
    second_fixture_service(fx, other);
    char mine[3 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 3, mine);
    make_streams(fx, other, 4, NULL);
    sf_stream_page *page = must_list(fx, fx->service_sid, NULL);
    assert_int_equal(page->info.count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(page->records[i].sid, sid_at(mine, i));
        assert_string_equal(page->records[i].service_sid, fx->service_sid);
    }
    sf_stream_page_free(fx->fake, page);
    page = must_list(fx, other, NULL);
    assert_int_equal(page->info.count, 4);
    sf_stream_page_free(fx->fake, page);
}

static void listing_an_unknown_service_is_404_naming_the_streams_path(void **state)
{
    sf_fixture *fx = *state;
    const char *missing = "IS0123456789abcdef0123456789abcdef";
    sf_stream_page *page = NULL;
    sf_error err;
    assert_status(sf_stream_list(fx->fake, NULL, missing, NULL, &page, &err), SF_ERR_NOT_FOUND);
    assert_null(page);
    sf_assert_twilio_error(&err, 404, 20404);
    char expected[SF_ERROR_MESSAGE_SIZE];
    /* the requested path is GET /v1/Services/{IS}/Streams */
    snprintf(expected, sizeof expected, "The requested resource /Services/%s/Streams was not found",
             missing);
    assert_string_equal(err.message, expected);
}

static void listing_needs_an_out_pointer(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(NULL, NULL, fx->service_sid, NULL, &page, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_null(page);
    assert_status(sf_stream_list(fx->fake, NULL, NULL, NULL, &page, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(page);
    /* freeing NULL pages is harmless */
    sf_stream_page_free(fx->fake, NULL);
    sf_stream_page_free(NULL, NULL);
}

/* ---------------------------------------------------------------------------------------- */
/* Page info                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static void page_info_reports_page_size_and_count(void **state)
{
    sf_fixture *fx = *state;
    char sids[30 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 30, sids);
    sf_page_params p = {.has_page_size = true, .page_size = 7, .has_page = true, .page = 3};
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.page, 3);
    assert_int_equal(page->info.page_size, 7);
    assert_int_equal(page->info.count, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(page->records[i].sid, sid_at(sids, 21 + i));
    assert_true(page->info.has_next);
    assert_true(page->info.has_previous);
    char next[SF_PAGE_TOKEN_SIZE];
    memcpy(next, page->info.next_token, sizeof next);
    sf_stream_page_free(fx->fake, page);

    p.page = 4;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.page, 4);
    assert_int_equal(page->info.count, 2);
    assert_string_equal(page->records[0].sid, sid_at(sids, 28));
    assert_string_equal(page->records[1].sid, sid_at(sids, 29));
    assert_false(page->info.has_next);
    sf_stream_page_free(fx->fake, page);

    /* with a token, Page is informational: the token decides, the number is echoed */
    sf_page_params t = {
        .has_page_size = true, .page_size = 7, .has_page = true, .page = 9, .page_token = next};
    page = must_list(fx, fx->service_sid, &t);
    assert_int_equal(page->info.page, 9);
    assert_int_equal(page->info.count, 2);
    assert_string_equal(page->records[0].sid, sid_at(sids, 28));
    sf_stream_page_free(fx->fake, page);

    /* without Page, the page answers as page 0 */
    sf_page_params no_page = {.has_page_size = true, .page_size = 7, .page_token = next};
    page = must_list(fx, fx->service_sid, &no_page);
    assert_int_equal(page->info.page, 0);
    assert_int_equal(page->info.count, 2);
    sf_stream_page_free(fx->fake, page);
}

static void a_page_past_the_end_is_empty_without_next(void **state)
{
    sf_fixture *fx = *state;
    char sids[12 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 12, sids);
    sf_page_params p = {.has_page_size = true, .page_size = 5, .has_page = true, .page = 3};
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 0);
    assert_int_equal(page->info.page, 3);
    assert_false(page->info.has_next);
    /* when it offers a way back, that way leads to the end of the list */
    if (page->info.has_previous) {
        sf_page_params back = sized(5);
        back.page_token = page->info.previous_token;
        sf_stream_page *prev = must_list(fx, fx->service_sid, &back);
        assert_true(prev->info.count > 0);
        assert_string_equal(prev->records[prev->info.count - 1].sid, sid_at(sids, 11));
        assert_false(prev->info.has_next);
        sf_stream_page_free(fx->fake, prev);
    }
    sf_stream_page_free(fx->fake, page);

    const int64_t huge[] = {INT64_MAX, INT64_MAX / 2, (int64_t)1 << 62, 1000000};
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
        sf_page_params q = {
            .has_page_size = true, .page_size = 100, .has_page = true, .page = huge[i]};
        page = must_list(fx, fx->service_sid, &q);
        assert_int_equal(page->info.count, 0);
        assert_int_equal(page->info.page, huge[i]);
        assert_false(page->info.has_next);
        sf_stream_page_free(fx->fake, page);
    }
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(default_page_size_is_50),
        T(page_size_1_and_100_are_accepted),
        T(page_size_outside_1_to_100_is_rejected_with_54454),
        T(negative_page_is_rejected_with_20001),
        T(a_page_size_error_wins_over_a_bad_token),
        cmocka_unit_test_setup_teardown(page_size_limits_follow_the_options, setup_page_limits,
                                        sf_fixture_teardown),
        T(streams_are_listed_in_creation_order),
        T(first_page_has_no_previous_and_last_page_has_no_next),
        T(a_single_full_page_has_neither_link),
        T(empty_service_gives_an_empty_page_with_neither_link),
        T(a_service_whose_streams_were_all_removed_lists_empty),
        T(expired_streams_are_left_out),
        T(streams_of_another_service_are_not_listed),
        T(listing_an_unknown_service_is_404_naming_the_streams_path),
        T(listing_needs_an_out_pointer),
        T(page_info_reports_page_size_and_count),
        T(a_page_past_the_end_is_empty_without_next),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
