/* SPDX-License-Identifier: MIT */
/* test_paging.c: listing streams page by page: sizes, order, links, opaque cursor tokens that
 * survive concurrent creation, removal and expiry, and the order index underneath. */
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

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static uint64_t rng_state;

static void rng_seed(uint64_t seed) { rng_state = seed ? seed : 0x9e3779b97f4a7c15u; }

static uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static uint32_t rnd(uint32_t n) { return (uint32_t)(rng_next() % n); }

static sf_page_params sized(int64_t size)
{
    sf_page_params p = {.has_page_size = true, .page_size = size};
    return p;
}

static sf_stream_page *must_list(sf_fixture *fx, const char *service_sid,
                                 const sf_page_params *p)
{
    sf_stream_page *page = NULL;
    sf_error err;
    sf_status st = sf_stream_list(fx->fake, NULL, service_sid, p, &page, &err);
    if (st != SF_OK)
        fail_msg("list failed: %d %s", err.code, err.message);
    assert_non_null(page);
    assert_true(page->info.count == 0 || page->records != NULL);
    return page;
}

static void expect_list_error(sf_fixture *fx, const char *service_sid, const sf_page_params *p,
                              int http, int code)
{
    sf_stream_page *page = (sf_stream_page *)(uintptr_t)1;
    sf_error err;
    sf_status st = sf_stream_list(fx->fake, NULL, service_sid, p, &page, &err);
    assert_int_not_equal(st, SF_OK);
    assert_null(page);
    assert_int_equal(err.status, st);
    sf_assert_twilio_error(&err, http, code);
}

/* Creates n streams without name or TTL; SIDs go to sids (n * SF_SID_SIZE) when given. */
static void make_streams(sf_fixture *fx, const char *service_sid, size_t n, char *sids)
{
    for (size_t i = 0; i < n; i++) {
        sf_stream_record rec;
        sf_error err;
        if (sf_stream_create(fx->fake, NULL, service_sid, NULL, &rec, &err) != SF_OK)
            fail_msg("create failed: %s", err.message);
        if (sids)
            memcpy(sids + i * SF_SID_SIZE, rec.sid, SF_SID_SIZE);
    }
}

static const char *sid_at(const char *sids, size_t i) { return sids + i * SF_SID_SIZE; }

static sf_fixture *second_fixture_service(sf_fixture *fx, char out[SF_SID_SIZE])
{
    sf_service_record svc;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc, NULL), SF_OK);
    memcpy(out, svc.sid, SF_SID_SIZE);
    return fx;
}

/* A forward walk of a static list: pages concatenated, with page boundaries and tokens. */
typedef struct walk {
    size_t pages;
    size_t total;
    char *sids;          /* total * SF_SID_SIZE */
    size_t *start;       /* pages + 1 offsets into sids */
    sf_page_info *infos; /* per page */
} walk;

static void walk_forward(sf_fixture *fx, const char *service_sid, int64_t size, size_t max,
                         walk *w)
{
    memset(w, 0, sizeof *w);
    w->sids = calloc(max + 1, SF_SID_SIZE);
    w->start = calloc(max + 2, sizeof *w->start);
    w->infos = calloc(max + 1, sizeof *w->infos);
    assert_non_null(w->sids);
    assert_non_null(w->start);
    assert_non_null(w->infos);
    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (;;) {
        sf_page_params p = sized(size);
        p.page_token = token[0] ? token : NULL;
        sf_stream_page *page = must_list(fx, service_sid, &p);
        assert_true(w->pages <= max);
        w->infos[w->pages] = page->info;
        w->start[w->pages] = w->total;
        for (size_t i = 0; i < page->info.count; i++) {
            assert_true(w->total < max);
            memcpy(w->sids + w->total * SF_SID_SIZE, page->records[i].sid, SF_SID_SIZE);
            w->total++;
        }
        w->pages++;
        bool more = page->info.has_next;
        memcpy(token, page->info.next_token, sizeof token);
        sf_stream_page_free(fx->fake, page);
        if (!more)
            break;
    }
    w->start[w->pages] = w->total;
}

static void walk_free(walk *w)
{
    free(w->sids);
    free(w->start);
    free(w->infos);
}

static void assert_page_is(const sf_stream_page *page, const walk *w, size_t k)
{
    size_t n = w->start[k + 1] - w->start[k];
    assert_int_equal(page->info.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(page->records[i].sid, sid_at(w->sids, w->start[k] + i));
}

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
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &p, &page, &err), SF_ERR_INVALID_PAGE_SIZE);
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
    sf_page_params with_token = {.has_page_size = true, .page_size = 1, .has_page = true,
                                 .page = -3, .page_token = token};
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
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, created[i].sid, &fetched, NULL), SF_OK);
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
        assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, i), NULL), SF_OK);
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
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(NULL, NULL, fx->service_sid, NULL, &page, &err), SF_ERR_INVALID_ARGUMENT);
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
    sf_page_params t = {.has_page_size = true, .page_size = 7, .has_page = true, .page = 9,
                        .page_token = next};
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
        sf_page_params q = {.has_page_size = true, .page_size = 100, .has_page = true,
                            .page = huge[i]};
        page = must_list(fx, fx->service_sid, &q);
        assert_int_equal(page->info.count, 0);
        assert_int_equal(page->info.page, huge[i]);
        assert_false(page->info.has_next);
        sf_stream_page_free(fx->fake, page);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Walks over a static list: forward, backward, by page number                              */
/* ---------------------------------------------------------------------------------------- */

#define BIG 1000

static void check_backward_walk(sf_fixture *fx, int64_t size)
{
    make_streams(fx, fx->service_sid, BIG, NULL);
    walk w;
    walk_forward(fx, fx->service_sid, size, BIG + 1, &w);
    assert_int_equal(w.total, BIG);
    assert_int_equal(w.pages, (BIG + (size_t)size - 1) / (size_t)size);

    size_t k = w.pages - 1;
    assert_true(w.pages == 1 || w.infos[k].has_previous);
    char token[SF_PAGE_TOKEN_SIZE];
    memcpy(token, w.infos[k].previous_token, sizeof token);
    while (k > 0) {
        k--;
        sf_page_params p = sized(size);
        p.page_token = token;
        sf_stream_page *page = must_list(fx, fx->service_sid, &p);
        assert_page_is(page, &w, k);
        assert_true(page->info.has_next);
        assert_string_equal(page->info.next_token, w.infos[k].next_token);
        assert_int_equal(page->info.has_previous, k > 0);
        assert_string_equal(page->info.previous_token, w.infos[k].previous_token);
        memcpy(token, page->info.previous_token, sizeof token);
        sf_stream_page_free(fx->fake, page);
    }
    walk_free(&w);
}

static void walking_backwards_size_1_returns_the_same_pages_in_reverse(void **state)
{
    check_backward_walk(*state, 1);
}
static void walking_backwards_size_7_returns_the_same_pages_in_reverse(void **state)
{
    check_backward_walk(*state, 7);
}
static void walking_backwards_size_50_returns_the_same_pages_in_reverse(void **state)
{
    check_backward_walk(*state, 50);
}
static void walking_backwards_size_100_returns_the_same_pages_in_reverse(void **state)
{
    check_backward_walk(*state, 100);
}

static void check_page_numbers(sf_fixture *fx, int64_t size)
{
    char sids[BIG * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, BIG, sids);
    walk w;
    walk_forward(fx, fx->service_sid, size, BIG + 1, &w);
    assert_int_equal(w.total, BIG);
    for (size_t i = 0; i < BIG; i++)
        assert_string_equal(sid_at(w.sids, i), sid_at(sids, i));
    for (size_t k = 0; k < w.pages + 2; k++) {
        sf_page_params p = {.has_page_size = true, .page_size = size, .has_page = true,
                            .page = (int64_t)k};
        sf_stream_page *page = must_list(fx, fx->service_sid, &p);
        assert_int_equal(page->info.page, (int64_t)k);
        assert_int_equal(page->info.page_size, size);
        if (k < w.pages) {
            assert_page_is(page, &w, k);
            assert_int_equal(page->info.has_next, w.infos[k].has_next);
            assert_string_equal(page->info.next_token, w.infos[k].next_token);
            assert_int_equal(page->info.has_previous, k > 0);
            if (k > 0)
                assert_string_equal(sid_at(sids, k * (size_t)size),
                                    page->records[0].sid);
        } else {
            assert_int_equal(page->info.count, 0);
            assert_false(page->info.has_next);
        }
        sf_stream_page_free(fx->fake, page);
    }
    walk_free(&w);
}

static void page_k_without_token_selects_records_k_times_size_7(void **state)
{
    check_page_numbers(*state, 7);
}
static void page_k_without_token_selects_records_k_times_size_50(void **state)
{
    check_page_numbers(*state, 50);
}
static void page_k_without_token_selects_records_k_times_size_1(void **state)
{
    check_page_numbers(*state, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* A walk while the list changes under it                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct mstream {
    char sid[SF_SID_SIZE];
    bool from_start;
    bool deleted;
    sf_ms expires; /* INT64_MAX: never */
    int seen;
} mstream;

typedef struct model {
    mstream *v;
    size_t n, cap;
    size_t hint;
} model;

#define NONE ((size_t)-1)

static size_t model_find(model *m, const char *sid)
{
    for (size_t k = 0; k < m->n; k++) {
        size_t i = (m->hint + k) % m->n;
        if (strcmp(m->v[i].sid, sid) == 0) {
            m->hint = i;
            return i;
        }
    }
    return NONE;
}

static bool model_alive(const model *m, size_t i, sf_ms now)
{
    return !m->v[i].deleted && now < m->v[i].expires;
}

static void model_create(sf_fixture *fx, model *m, int64_t ttl_s, sf_ms now)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->v = realloc(m->v, m->cap * sizeof *m->v);
        assert_non_null(m->v);
    }
    sf_stream_params p = {.has_ttl = ttl_s > 0, .ttl = ttl_s};
    sf_stream_record rec;
    sf_error err;
    if (sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err) != SF_OK)
        fail_msg("create failed: %s", err.message);
    mstream *s = &m->v[m->n++];
    memset(s, 0, sizeof *s);
    memcpy(s->sid, rec.sid, SF_SID_SIZE);
    s->expires = ttl_s > 0 ? now + ttl_s * 1000 : INT64_MAX;
    assert_int_equal(rec.has_date_expires, ttl_s > 0);
    if (ttl_s > 0)
        assert_int_equal(rec.date_expires_ms, s->expires);
}

static void model_delete(sf_fixture *fx, model *m, size_t i)
{
    sf_error err;
    if (sf_stream_remove(fx->fake, NULL, fx->service_sid, m->v[i].sid, &err) != SF_OK)
        fail_msg("remove failed: %s", err.message);
    m->v[i].deleted = true;
}

static bool model_any_alive(const model *m, size_t from, size_t to, sf_ms now)
{
    for (size_t i = from; i < to && i < m->n; i++)
        if (model_alive(m, i, now))
            return true;
    return false;
}

static void check_walk_while_changing(sf_fixture *fx, int64_t size)
{
    rng_seed(0x5eed0000u + (uint64_t)size);
    model m = {0};
    sf_ms now = sf_clock_now(fx->fake);
    const sf_ms start = now;
    const size_t expected_pages = BIG / (size_t)size + 1;
    const uint32_t ttl_span = (uint32_t)(expected_pages < 4 ? 4 : expected_pages);

    for (size_t i = 0; i < BIG; i++) {
        int64_t ttl = rnd(100) < 15 ? 1 + (int64_t)rnd(ttl_span) : 0;
        model_create(fx, &m, ttl, now);
        m.v[i].from_start = true;
    }

    char token[SF_PAGE_TOKEN_SIZE] = "";
    size_t last_seen = NONE;
    size_t pages = 0, created = 0, deleted = 0;
    for (;;) {
        sf_page_params p = sized(size);
        p.page_token = token[0] ? token : NULL;
        sf_stream_page *page = must_list(fx, fx->service_sid, &p);
        pages++;
        assert_true(pages < 4 * BIG);
        assert_int_equal(page->info.page_size, size);
        assert_true(page->info.count <= (size_t)size);
        size_t first = NONE, last = NONE;
        for (size_t r = 0; r < page->info.count; r++) {
            const sf_stream_record *rec = &page->records[r];
            size_t i = model_find(&m, rec->sid);
            if (i == NONE)
                fail_msg("listed stream %s was never created", rec->sid);
            if (m.v[i].deleted)
                fail_msg("stream %s listed after its removal", rec->sid);
            if (now >= m.v[i].expires)
                fail_msg("stream %s listed after it expired", rec->sid);
            if (m.v[i].seen)
                fail_msg("stream %s listed twice", rec->sid);
            m.v[i].seen++;
            if (last_seen != NONE && i <= last_seen)
                fail_msg("stream %s out of creation order", rec->sid);
            assert_int_equal(rec->has_date_expires, m.v[i].expires != INT64_MAX);
            last_seen = i;
            if (first == NONE)
                first = i;
            last = i;
        }
        /* links agree with what is alive around the page */
        if (page->info.count > 0) {
            assert_int_equal(page->info.has_previous, model_any_alive(&m, 0, first, now));
            assert_int_equal(page->info.has_next, model_any_alive(&m, last + 1, m.n, now));
            if (page->info.has_next)
                assert_int_equal(page->info.count, size);
        } else {
            assert_false(page->info.has_next);
            assert_false(model_any_alive(&m, last_seen == NONE ? 0 : last_seen + 1, m.n, now));
        }
        if (!page->info.has_next) {
            sf_stream_page_free(fx->fake, page);
            break;
        }
        memcpy(token, page->info.next_token, sizeof token);
        sf_stream_page_free(fx->fake, page);

        /* change the list between pages: time passes (expiry), removals, creations */
        sf_ms step = rnd(2000);
        assert_status(sf_clock_advance(fx->fake, step, NULL), SF_OK);
        now += step;
        assert_int_equal(sf_clock_now(fx->fake), now);
        if (rnd(4) == 0 && model_alive(&m, last, now)) {
            model_delete(fx, &m, last); /* the record the token points at */
            deleted++;
        }
        for (uint32_t k = rnd(3); k > 0; k--) {
            size_t i = rnd((uint32_t)m.n);
            while (i < m.n && !model_alive(&m, i, now))
                i++;
            if (i < m.n) {
                model_delete(fx, &m, i);
                deleted++;
            }
        }
        if (created < 300 && rnd(3) == 0) {
            for (uint32_t k = 1 + rnd(2); k > 0; k--, created++)
                model_create(fx, &m, rnd(4) == 0 ? 1 + (int64_t)rnd(ttl_span) : 0, now);
        }
    }

    size_t survivors = 0, expired = 0;
    for (size_t i = 0; i < m.n; i++) {
        if (model_alive(&m, i, now)) {
            survivors++;
            if (m.v[i].seen != 1)
                fail_msg("stream %zu (%s) alive through the walk seen %d times", i, m.v[i].sid,
                         m.v[i].seen);
        }
        assert_true(m.v[i].seen <= 1);
        if (m.v[i].from_start && !m.v[i].deleted && m.v[i].expires > start &&
            m.v[i].expires <= now)
            expired++;
    }
    /* the walk really did run while things changed */
    assert_true(deleted > 0);
    assert_true(expired > 0);
    assert_true(survivors > 0);
    assert_true(created > 0 || size == 100);

    /* the fake agrees: what is alive now is exactly the survivors */
    walk w;
    walk_forward(fx, fx->service_sid, 100, m.n + 1, &w);
    assert_int_equal(w.total, survivors);
    walk_free(&w);
    free(m.v);
}

static void walk_size_1_sees_every_lasting_stream_once_while_the_list_changes(void **state)
{
    check_walk_while_changing(*state, 1);
}
static void walk_size_7_sees_every_lasting_stream_once_while_the_list_changes(void **state)
{
    check_walk_while_changing(*state, 7);
}
static void walk_size_50_sees_every_lasting_stream_once_while_the_list_changes(void **state)
{
    check_walk_while_changing(*state, 50);
}
static void walk_size_100_sees_every_lasting_stream_once_while_the_list_changes(void **state)
{
    check_walk_while_changing(*state, 100);
}

/* ---------------------------------------------------------------------------------------- */
/* Tokens                                                                                    */
/* ---------------------------------------------------------------------------------------- */

/* A middle page of 20 streams in pages of 5: both tokens present. */
static void middle_page_tokens(sf_fixture *fx, char next[SF_PAGE_TOKEN_SIZE],
                               char prev[SF_PAGE_TOKEN_SIZE])
{
    make_streams(fx, fx->service_sid, 20, NULL);
    sf_page_params p = {.has_page_size = true, .page_size = 5, .has_page = true, .page = 1};
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_true(page->info.has_next);
    assert_true(page->info.has_previous);
    memcpy(next, page->info.next_token, SF_PAGE_TOKEN_SIZE);
    memcpy(prev, page->info.previous_token, SF_PAGE_TOKEN_SIZE);
    sf_stream_page_free(fx->fake, page);
}

static void expect_token_rejected(sf_fixture *fx, const char *service_sid, const char *token)
{
    sf_page_params p = sized(5);
    p.page_token = token;
    sf_stream_page *page = (sf_stream_page *)(uintptr_t)1;
    sf_error err;
    sf_status st = sf_stream_list(fx->fake, NULL, service_sid, &p, &page, &err);
    if (st != SF_ERR_INVALID_PAGE_TOKEN) {
        if (st == SF_OK)
            sf_stream_page_free(fx->fake, page);
        fail_msg("token \"%s\" gave status %d, expected 54453", token, (int)st);
    }
    assert_null(page);
    sf_assert_twilio_error(&err, 400, 54453);
    assert_string_equal(err.message, "Invalid 'PageToken' query parameter");
}

static void expect_token_accepted(sf_fixture *fx, const char *token)
{
    sf_page_params p = sized(5);
    p.page_token = token;
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 5);
    sf_stream_page_free(fx->fake, page);
}

static void tokens_are_printable_and_fit_the_token_size(void **state)
{
    sf_fixture *fx = *state;
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    middle_page_tokens(fx, next, prev);
    const char *tokens[] = {next, prev};
    for (size_t t = 0; t < 2; t++) {
        size_t n = strnlen(tokens[t], SF_PAGE_TOKEN_SIZE);
        assert_true(n > 0 && n < SF_PAGE_TOKEN_SIZE);
        for (size_t i = 0; i < n; i++)
            assert_true(tokens[t][i] > 0x20 && tokens[t][i] < 0x7f);
    }
    assert_string_not_equal(next, prev);
    expect_token_accepted(fx, next);
    expect_token_accepted(fx, prev);
}

static void a_token_with_one_character_changed_is_rejected(void **state)
{
    sf_fixture *fx = *state;
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    middle_page_tokens(fx, next, prev);
    const char *tokens[] = {next, prev};
    const char replacements[] = {'0', '1', 'f', 'a', 'A', 'F', 'g', 'z', 'N', 'B', 'P', 'T', '-'};
    for (size_t t = 0; t < 2; t++) {
        size_t n = strlen(tokens[t]);
        for (size_t i = 0; i < n; i++) {
            for (size_t r = 0; r < sizeof replacements; r++) {
                if (tokens[t][i] == replacements[r])
                    continue;
                char bad[SF_PAGE_TOKEN_SIZE];
                memcpy(bad, tokens[t], SF_PAGE_TOKEN_SIZE);
                bad[i] = replacements[r];
                expect_token_rejected(fx, fx->service_sid, bad);
            }
        }
        /* the originals still work */
        expect_token_accepted(fx, tokens[t]);
    }
}

static void a_truncated_or_extended_token_is_rejected(void **state)
{
    sf_fixture *fx = *state;
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    middle_page_tokens(fx, next, prev);
    size_t n = strlen(next);
    for (size_t len = 0; len < n; len++) {
        char bad[SF_PAGE_TOKEN_SIZE];
        memcpy(bad, next, len);
        bad[len] = '\0';
        expect_token_rejected(fx, fx->service_sid, bad);
    }
    char longer[SF_PAGE_TOKEN_SIZE + 8];
    snprintf(longer, sizeof longer, "%s0", next);
    expect_token_rejected(fx, fx->service_sid, longer);
    snprintf(longer, sizeof longer, " %s", prev);
    expect_token_rejected(fx, fx->service_sid, longer);
    snprintf(longer, sizeof longer, "%s ", prev);
    expect_token_rejected(fx, fx->service_sid, longer);
}

static void garbage_tokens_are_rejected(void **state)
{
    sf_fixture *fx = *state;
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    middle_page_tokens(fx, next, prev);
    char upper[SF_PAGE_TOKEN_SIZE];
    for (size_t i = 0; i < SF_PAGE_TOKEN_SIZE; i++)
        upper[i] = (char)((next[i] >= 'a' && next[i] <= 'f') ? next[i] - 32 : next[i]);
    assert_string_not_equal(upper, next);
    const char *garbage[] = {
        "",
        "garbage",
        "0",
        "PT",
        "PTN",
        "PTN00000000000000000000000000000000",
        "PTB00000000000000000000000000000000",
        "PTNffffffffffffffffffffffffffffffff",
        "PTX0000000000000000000000000000000a",
        "XXN0000000000000000000000000000000a",
        "PTN 000000000000000000000000000000a",
        "%50%54%4E",
        "\x01\x02\x03",
        "PTN000000000000000\xc3\xa9" "000000000000000",
        upper,
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        expect_token_rejected(fx, fx->service_sid, garbage[i]);
}

static void a_token_from_another_services_list_is_rejected_with_54453(void **state)
{
    sf_fixture *fx = *state;
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    middle_page_tokens(fx, next, prev);
    char other[SF_SID_SIZE];
    second_fixture_service(fx, other);
    make_streams(fx, other, 20, NULL);
    expect_token_rejected(fx, other, next);
    expect_token_rejected(fx, other, prev);

    /* and the other way round */
    sf_page_params p = {.has_page_size = true, .page_size = 5, .has_page = true, .page = 1};
    sf_stream_page *page = must_list(fx, other, &p);
    char other_next[SF_PAGE_TOKEN_SIZE];
    memcpy(other_next, page->info.next_token, sizeof other_next);
    sf_stream_page_free(fx->fake, page);
    expect_token_rejected(fx, fx->service_sid, other_next);

    /* a token of the service list is no stream-list token either */
    for (int i = 0; i < 6; i++)
        assert_status(sf_service_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
    sf_service_page *sp = NULL;
    sf_page_params sp_params = sized(2);
    assert_status(sf_service_list(fx->fake, NULL, &sp_params, &sp, NULL), SF_OK);
    assert_true(sp->info.has_next);
    char service_token[SF_PAGE_TOKEN_SIZE];
    memcpy(service_token, sp->info.next_token, sizeof service_token);
    sf_service_page_free(fx->fake, sp);
    expect_token_rejected(fx, fx->service_sid, service_token);
}

/* Two fixtures, the second with another seed: state points at an array of two. */
static int setup_two_seeds(void **state)
{
    void **pair = calloc(2, sizeof *pair);
    if (!pair || sf_fixture_setup(&pair[0]) != 0)
        return -1;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED + 1;
    if (sf_fixture_setup_with(&pair[1], &opts) != 0)
        return -1;
    *state = pair;
    return 0;
}

static int teardown_pair(void **state)
{
    void **pair = *state;
    int a = sf_fixture_teardown(&pair[0]);
    int b = sf_fixture_teardown(&pair[1]);
    free(pair);
    return a || b ? -1 : 0;
}

static void a_token_from_a_fake_with_another_seed_is_rejected(void **state)
{
    void **pair = *state;
    sf_fixture *fx = pair[0], *other = pair[1];
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    middle_page_tokens(fx, next, prev);
    make_streams(other, other->service_sid, 20, NULL);
    /* same shape of data, same positions: only the seed differs */
    sf_page_params p = {.has_page_size = true, .page_size = 5, .has_page = true, .page = 1};
    sf_stream_page *page = must_list(other, other->service_sid, &p);
    assert_string_not_equal(page->info.next_token, next);
    sf_stream_page_free(other->fake, page);
    expect_token_rejected(other, other->service_sid, next);
    expect_token_rejected(other, other->service_sid, prev);
}

static void a_token_stays_valid_after_the_record_it_points_at_was_removed(void **state)
{
    sf_fixture *fx = *state;
    char sids[20 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 20, sids);
    sf_page_params p = sized(5);
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    char next[SF_PAGE_TOKEN_SIZE];
    memcpy(next, page->info.next_token, sizeof next);
    sf_stream_page_free(fx->fake, page);

    /* remove the last record of page 0 (the cursor) and the one before it */
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, 4), NULL), SF_OK);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, 3), NULL), SF_OK);
    p.page_token = next;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(page->records[i].sid, sid_at(sids, 5 + i));
    char prev[SF_PAGE_TOKEN_SIZE];
    assert_true(page->info.has_previous);
    memcpy(prev, page->info.previous_token, sizeof prev);
    sf_stream_page_free(fx->fake, page);

    /* the first record of the next page goes too: the token continues after it */
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, 5), NULL), SF_OK);
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(page->records[i].sid, sid_at(sids, 6 + i));
    sf_stream_page_free(fx->fake, page);

    /* the previous token pointed at record 5, now removed: it gives what came before 5 */
    p.page_token = prev;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(page->records[i].sid, sid_at(sids, i));
    assert_false(page->info.has_previous);
    assert_true(page->info.has_next);
    sf_stream_page_free(fx->fake, page);
}

static void a_token_stays_valid_after_the_record_it_points_at_expired(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record recs[12];
    for (int i = 0; i < 12; i++)
        sf_fixture_stream(fx, NULL, i == 3 ? 5 : -1, &recs[i]);
    sf_page_params p = sized(4);
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_string_equal(page->records[3].sid, recs[3].sid);
    char next[SF_PAGE_TOKEN_SIZE];
    memcpy(next, page->info.next_token, sizeof next);
    sf_stream_page_free(fx->fake, page);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    p.page_token = next;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 4);
    assert_string_equal(page->records[0].sid, recs[4].sid);
    assert_true(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);
}

static void a_next_token_whose_followers_were_all_removed_gives_an_empty_last_page(void **state)
{
    sf_fixture *fx = *state;
    char sids[8 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 8, sids);
    sf_page_params p = sized(5);
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    char next[SF_PAGE_TOKEN_SIZE];
    memcpy(next, page->info.next_token, sizeof next);
    sf_stream_page_free(fx->fake, page);
    for (size_t i = 5; i < 8; i++)
        assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, i), NULL), SF_OK);
    p.page_token = next;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 0);
    assert_false(page->info.has_next);
    assert_true(page->info.has_previous);
    char back[SF_PAGE_TOKEN_SIZE];
    memcpy(back, page->info.previous_token, sizeof back);
    sf_stream_page_free(fx->fake, page);

    /* its previous link leads back to the records before the cursor */
    p.page_token = back;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(page->records[i].sid, sid_at(sids, i));
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);

    /* once everything is gone, the same token gives an empty page with no links at all */
    for (size_t i = 0; i < 5; i++)
        assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, i), NULL), SF_OK);
    p.page_token = next;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 0);
    assert_false(page->info.has_next);
    assert_false(page->info.has_previous);
    sf_stream_page_free(fx->fake, page);
}

static void new_streams_appear_after_the_cursor(void **state)
{
    sf_fixture *fx = *state;
    char sids[10 * SF_SID_SIZE];
    make_streams(fx, fx->service_sid, 10, sids);
    sf_page_params p = sized(10);
    sf_stream_page *page = must_list(fx, fx->service_sid, &p);
    assert_false(page->info.has_next);
    assert_int_equal(page->info.count, 10);
    sf_stream_page_free(fx->fake, page);
    /* a smaller page has a cursor; a stream created later shows up at the end of the walk */
    p = sized(6);
    page = must_list(fx, fx->service_sid, &p);
    char next[SF_PAGE_TOKEN_SIZE];
    memcpy(next, page->info.next_token, sizeof next);
    sf_stream_page_free(fx->fake, page);
    sf_stream_record late;
    sf_fixture_stream(fx, "late", -1, &late);
    p.page_token = next;
    page = must_list(fx, fx->service_sid, &p);
    assert_int_equal(page->info.count, 5);
    assert_string_equal(page->records[3].sid, sid_at(sids, 9));
    assert_string_equal(page->records[4].sid, late.sid);
    assert_false(page->info.has_next);
    sf_stream_page_free(fx->fake, page);
}

/* ---------------------------------------------------------------------------------------- */
/* Order index property test: random appends and removals against a plain array model       */
/* ---------------------------------------------------------------------------------------- */

#define PROP_OPS 4000
#define PROP_TOKENS 16

typedef struct prop_entry {
    char sid[SF_SID_SIZE];
    bool alive;
} prop_entry;

typedef struct prop_token {
    bool used;
    bool after;   /* next token: continues after `at`; else previous: before `at` */
    size_t at;    /* creation index of the record the token names */
    char text[SF_PAGE_TOKEN_SIZE];
} prop_token;

typedef struct prop {
    sf_fixture *fx;
    prop_entry *all; /* every stream ever created, in creation order */
    size_t n_all;
    size_t *live;    /* creation indices of live streams, ascending */
    size_t n_live;
    prop_token tokens[PROP_TOKENS];
} prop;

static void prop_append(prop *pr)
{
    sf_stream_record rec;
    assert_status(sf_stream_create(pr->fx->fake, NULL, pr->fx->service_sid, NULL, &rec, NULL), SF_OK);
    memcpy(pr->all[pr->n_all].sid, rec.sid, SF_SID_SIZE);
    pr->all[pr->n_all].alive = true;
    pr->live[pr->n_live++] = pr->n_all++;
}

static void prop_remove(prop *pr, size_t rank)
{
    size_t idx = pr->live[rank];
    assert_status(sf_stream_remove(pr->fx->fake, NULL, pr->fx->service_sid, pr->all[idx].sid,
                                      NULL), SF_OK);
    pr->all[idx].alive = false;
    memmove(&pr->live[rank], &pr->live[rank + 1], (pr->n_live - rank - 1) * sizeof *pr->live);
    pr->n_live--;
}

/* Rank of the first live entry with creation index > idx (n_live when none). */
static size_t prop_rank_after(const prop *pr, size_t idx)
{
    size_t lo = 0, hi = pr->n_live;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pr->live[mid] <= idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Rank of the first live entry with creation index >= idx. */
static size_t prop_rank_from(const prop *pr, size_t idx)
{
    size_t lo = 0, hi = pr->n_live;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (pr->live[mid] < idx)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void prop_expect_ranks(const prop *pr, const sf_stream_page *page, size_t from,
                              size_t count)
{
    assert_int_equal(page->info.count, count);
    for (size_t i = 0; i < count; i++)
        if (strcmp(page->records[i].sid, pr->all[pr->live[from + i]].sid) != 0)
            fail_msg("rank %zu: got %s, model has %s", from + i, page->records[i].sid,
                     pr->all[pr->live[from + i]].sid);
    if (count > 0) {
        assert_int_equal(page->info.has_previous, from > 0);
        assert_int_equal(page->info.has_next, from + count < pr->n_live);
    }
}

static void prop_remember(prop *pr, bool after, size_t at, const char *text)
{
    prop_token *t = &pr->tokens[rnd(PROP_TOKENS)];
    t->used = true;
    t->after = after;
    t->at = at;
    memcpy(t->text, text, SF_PAGE_TOKEN_SIZE);
}

/* Page=r with size 1 selects rank r; its tokens lead to ranks r+1 and r-1. */
static void prop_check_rank(prop *pr, size_t r)
{
    sf_page_params p = {.has_page_size = true, .page_size = 1, .has_page = true,
                        .page = (int64_t)r};
    sf_stream_page *page = must_list(pr->fx, pr->fx->service_sid, &p);
    if (r >= pr->n_live) {
        assert_int_equal(page->info.count, 0);
        assert_false(page->info.has_next);
        if (pr->n_live == 0)
            assert_false(page->info.has_previous);
        sf_stream_page_free(pr->fx->fake, page);
        return;
    }
    prop_expect_ranks(pr, page, r, 1);
    size_t idx = pr->live[r];
    char next[SF_PAGE_TOKEN_SIZE], prev[SF_PAGE_TOKEN_SIZE];
    memcpy(next, page->info.next_token, sizeof next);
    memcpy(prev, page->info.previous_token, sizeof prev);
    bool has_next = page->info.has_next, has_prev = page->info.has_previous;
    sf_stream_page_free(pr->fx->fake, page);
    if (has_next) {
        sf_page_params q = sized(1);
        q.page_token = next;
        page = must_list(pr->fx, pr->fx->service_sid, &q);
        prop_expect_ranks(pr, page, r + 1, 1);
        sf_stream_page_free(pr->fx->fake, page);
        prop_remember(pr, true, idx, next);
    }
    if (has_prev) {
        sf_page_params q = sized(1);
        q.page_token = prev;
        page = must_list(pr->fx, pr->fx->service_sid, &q);
        prop_expect_ranks(pr, page, r - 1, 1);
        sf_stream_page_free(pr->fx->fake, page);
        prop_remember(pr, false, idx, prev);
    }
}

/* A remembered token, whose record may be gone by now, still finds its place. */
static void prop_check_token(prop *pr, const prop_token *t)
{
    size_t size = 1 + rnd(4);
    sf_page_params p = sized((int64_t)size);
    p.page_token = t->text;
    sf_stream_page *page = must_list(pr->fx, pr->fx->service_sid, &p);
    size_t from, count;
    if (t->after) {
        from = prop_rank_after(pr, t->at);
        count = pr->n_live - from < size ? pr->n_live - from : size;
    } else {
        size_t end = prop_rank_from(pr, t->at); /* ranks before end come before the record */
        count = end < size ? end : size;
        from = end - count;
    }
    prop_expect_ranks(pr, page, from, count);
    if (count > 0) {
        /* the page's own tokens lead on from its first and last records */
        if (page->info.has_next)
            prop_remember(pr, true, pr->live[from + count - 1], page->info.next_token);
        if (page->info.has_previous)
            prop_remember(pr, false, pr->live[from], page->info.previous_token);
    }
    sf_stream_page_free(pr->fx->fake, page);
}

static void prop_full_walk(prop *pr)
{
    walk w;
    walk_forward(pr->fx, pr->fx->service_sid, 100, pr->n_live + 1, &w);
    assert_int_equal(w.total, pr->n_live);
    for (size_t i = 0; i < pr->n_live; i++)
        assert_string_equal(sid_at(w.sids, i), pr->all[pr->live[i]].sid);
    walk_free(&w);
}

static void order_index_matches_an_array_model_under_random_appends_and_removals(void **state)
{
    prop pr = {.fx = *state};
    pr.all = calloc(PROP_OPS + 1, sizeof *pr.all);
    pr.live = calloc(PROP_OPS + 1, sizeof *pr.live);
    assert_non_null(pr.all);
    assert_non_null(pr.live);
    rng_seed(0x0dde12a11ceu);
    size_t max_live = 0, removes = 0;
    for (size_t op = 0; op < PROP_OPS; op++) {
        /* phases that grow then shrink the index, so it sees many shapes and sizes */
        uint32_t grow = (op / 500) % 2 == 0 ? 75 : 30;
        if (pr.n_live == 0 || rnd(100) < grow) {
            prop_append(&pr);
        } else {
            uint32_t how = rnd(4);
            size_t rank = how == 0 ? 0 : how == 1 ? pr.n_live - 1 : rnd((uint32_t)pr.n_live);
            prop_remove(&pr, rank);
            removes++;
        }
        if (pr.n_live > max_live)
            max_live = pr.n_live;
        prop_check_rank(&pr, rnd((uint32_t)pr.n_live + 2));
        for (int k = 0; k < 2; k++) {
            const prop_token *t = &pr.tokens[rnd(PROP_TOKENS)];
            if (t->used) {
                prop_token copy = *t;
                prop_check_token(&pr, &copy);
            }
        }
        if (op % 250 == 249)
            prop_full_walk(&pr);
    }
    prop_full_walk(&pr);
    assert_true(max_live > 300);
    assert_true(removes > 1000);
    free(pr.all);
    free(pr.live);
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
        T(walking_backwards_size_1_returns_the_same_pages_in_reverse),
        T(walking_backwards_size_7_returns_the_same_pages_in_reverse),
        T(walking_backwards_size_50_returns_the_same_pages_in_reverse),
        T(walking_backwards_size_100_returns_the_same_pages_in_reverse),
        T(page_k_without_token_selects_records_k_times_size_1),
        T(page_k_without_token_selects_records_k_times_size_7),
        T(page_k_without_token_selects_records_k_times_size_50),
        T(walk_size_1_sees_every_lasting_stream_once_while_the_list_changes),
        T(walk_size_7_sees_every_lasting_stream_once_while_the_list_changes),
        T(walk_size_50_sees_every_lasting_stream_once_while_the_list_changes),
        T(walk_size_100_sees_every_lasting_stream_once_while_the_list_changes),
        T(tokens_are_printable_and_fit_the_token_size),
        T(a_token_with_one_character_changed_is_rejected),
        T(a_truncated_or_extended_token_is_rejected),
        T(garbage_tokens_are_rejected),
        T(a_token_from_another_services_list_is_rejected_with_54453),
        cmocka_unit_test_setup_teardown(a_token_from_a_fake_with_another_seed_is_rejected,
                                        setup_two_seeds, teardown_pair),
        T(a_token_stays_valid_after_the_record_it_points_at_was_removed),
        T(a_token_stays_valid_after_the_record_it_points_at_expired),
        T(a_next_token_whose_followers_were_all_removed_gives_an_empty_last_page),
        T(new_streams_appear_after_the_cursor),
        T(order_index_matches_an_array_model_under_random_appends_and_removals),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
