/* SPDX-License-Identifier: MIT */
/* test_paging_tokens.c: page tokens (what they carry, which are refused), and a property test
 * of the order index under random appends and removals. */
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
        "PTN000000000000000\xc3\xa9"
        "000000000000000",
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
        assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, i), NULL),
                      SF_OK);
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
        assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, sid_at(sids, i), NULL),
                      SF_OK);
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
    bool after; /* next token: continues after `at`; else previous: before `at` */
    size_t at;  /* creation index of the record the token names */
    char text[SF_PAGE_TOKEN_SIZE];
} prop_token;

typedef struct prop {
    sf_fixture *fx;
    prop_entry *all; /* every stream ever created, in creation order */
    size_t n_all;
    size_t *live; /* creation indices of live streams, ascending */
    size_t n_live;
    prop_token tokens[PROP_TOKENS];
} prop;

static void prop_append(prop *pr)
{
    sf_stream_record rec;
    assert_status(sf_stream_create(pr->fx->fake, NULL, pr->fx->service_sid, NULL, &rec, NULL),
                  SF_OK);
    memcpy(pr->all[pr->n_all].sid, rec.sid, SF_SID_SIZE);
    pr->all[pr->n_all].alive = true;
    pr->live[pr->n_live++] = pr->n_all++;
}

static void prop_remove(prop *pr, size_t rank)
{
    size_t idx = pr->live[rank];
    assert_status(sf_stream_remove(pr->fx->fake, NULL, pr->fx->service_sid, pr->all[idx].sid, NULL),
                  SF_OK);
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

static void prop_expect_ranks(const prop *pr, const sf_stream_page *page, size_t from, size_t count)
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
    sf_page_params p = {
        .has_page_size = true, .page_size = 1, .has_page = true, .page = (int64_t)r};
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
