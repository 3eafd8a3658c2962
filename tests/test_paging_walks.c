/* SPDX-License-Identifier: MIT */
/* test_paging_walks.c: walks over stream pages: forward, backward and by number over a
 * static list, and while the list changes under the walk. */
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
        sf_page_params p = {
            .has_page_size = true, .page_size = size, .has_page = true, .page = (int64_t)k};
        sf_stream_page *page = must_list(fx, fx->service_sid, &p);
        assert_int_equal(page->info.page, (int64_t)k);
        assert_int_equal(page->info.page_size, size);
        if (k < w.pages) {
            assert_page_is(page, &w, k);
            assert_int_equal(page->info.has_next, w.infos[k].has_next);
            assert_string_equal(page->info.next_token, w.infos[k].next_token);
            assert_int_equal(page->info.has_previous, k > 0);
            if (k > 0)
                assert_string_equal(sid_at(sids, k * (size_t)size), page->records[0].sid);
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

/* Where a walk stands: the model, the fake's time, and the last record listed. */
typedef struct walk_state {
    model m;
    sf_ms now;
    size_t last_seen;
    size_t created, deleted;
    uint32_t ttl_span;
} walk_state;

/* Each listed record: created, not removed, not expired, listed once, in creation order.
 * first and last: the model indexes of the page's first and last records (NONE if empty). */
static void check_page_records(walk_state *ws, const sf_stream_page *page, size_t *first,
                               size_t *last)
{
    *first = *last = NONE;
    for (size_t r = 0; r < page->info.count; r++) {
        const sf_stream_record *rec = &page->records[r];
        size_t i = model_find(&ws->m, rec->sid);
        if (i == NONE)
            fail_msg("listed stream %s was never created", rec->sid);
        if (ws->m.v[i].deleted)
            fail_msg("stream %s listed after its removal", rec->sid);
        if (ws->now >= ws->m.v[i].expires)
            fail_msg("stream %s listed after it expired", rec->sid);
        if (ws->m.v[i].seen)
            fail_msg("stream %s listed twice", rec->sid);
        ws->m.v[i].seen++;
        if (ws->last_seen != NONE && i <= ws->last_seen)
            fail_msg("stream %s out of creation order", rec->sid);
        assert_int_equal(rec->has_date_expires, ws->m.v[i].expires != INT64_MAX);
        ws->last_seen = i;
        if (*first == NONE)
            *first = i;
        *last = i;
    }
}

/* The page's links agree with what is alive around it. */
static void check_page_links(const walk_state *ws, const sf_stream_page *page, int64_t size,
                             size_t first, size_t last)
{
    const model *m = &ws->m;
    if (page->info.count > 0) {
        assert_int_equal(page->info.has_previous, model_any_alive(m, 0, first, ws->now));
        assert_int_equal(page->info.has_next, model_any_alive(m, last + 1, m->n, ws->now));
        if (page->info.has_next)
            assert_int_equal(page->info.count, size);
    } else {
        assert_false(page->info.has_next);
        size_t from = ws->last_seen == NONE ? 0 : ws->last_seen + 1;
        assert_false(model_any_alive(m, from, m->n, ws->now));
    }
}

/* Changes the list between pages: time passes (expiry), removals (sometimes of the record the
 * token points at, `last`), creations. */
static void change_between_pages(sf_fixture *fx, walk_state *ws, size_t last)
{
    sf_ms step = rnd(2000);
    assert_status(sf_clock_advance(fx->fake, step, NULL), SF_OK);
    ws->now += step;
    assert_int_equal(sf_clock_now(fx->fake), ws->now);
    if (rnd(4) == 0 && model_alive(&ws->m, last, ws->now)) {
        model_delete(fx, &ws->m, last);
        ws->deleted++;
    }
    for (uint32_t k = rnd(3); k > 0; k--) {
        size_t i = rnd((uint32_t)ws->m.n);
        while (i < ws->m.n && !model_alive(&ws->m, i, ws->now))
            i++;
        if (i < ws->m.n) {
            model_delete(fx, &ws->m, i);
            ws->deleted++;
        }
    }
    if (ws->created < 300 && rnd(3) == 0) {
        for (uint32_t k = 1 + rnd(2); k > 0; k--, ws->created++)
            model_create(fx, &ws->m, rnd(4) == 0 ? 1 + (int64_t)rnd(ws->ttl_span) : 0, ws->now);
    }
}

/* After the walk: every stream alive throughout was seen exactly once; returns how many are
 * alive, and in *expired how many of the first ones expired during the walk. */
static size_t count_survivors(const walk_state *ws, sf_ms start, size_t *expired)
{
    size_t survivors = 0;
    *expired = 0;
    for (size_t i = 0; i < ws->m.n; i++) {
        const mstream *v = &ws->m.v[i];
        if (model_alive(&ws->m, i, ws->now)) {
            survivors++;
            if (v->seen != 1)
                fail_msg("stream %zu (%s) alive through the walk seen %d times", i, v->sid,
                         v->seen);
        }
        assert_true(v->seen <= 1);
        if (v->from_start && !v->deleted && v->expires > start && v->expires <= ws->now)
            (*expired)++;
    }
    return survivors;
}

static void check_walk_while_changing(sf_fixture *fx, int64_t size)
{
    rng_seed(0x5eed0000u + (uint64_t)size);
    const size_t expected_pages = BIG / (size_t)size + 1;
    walk_state ws = {.now = sf_clock_now(fx->fake),
                     .last_seen = NONE,
                     .ttl_span = (uint32_t)(expected_pages < 4 ? 4 : expected_pages)};
    const sf_ms start = ws.now;
    for (size_t i = 0; i < BIG; i++) {
        int64_t ttl = rnd(100) < 15 ? 1 + (int64_t)rnd(ws.ttl_span) : 0;
        model_create(fx, &ws.m, ttl, ws.now);
        ws.m.v[i].from_start = true;
    }

    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (size_t pages = 1;; pages++) {
        sf_page_params p = sized(size);
        p.page_token = token[0] ? token : NULL;
        sf_stream_page *page = must_list(fx, fx->service_sid, &p);
        assert_true(pages < 4 * BIG);
        assert_int_equal(page->info.page_size, size);
        assert_true(page->info.count <= (size_t)size);
        size_t first, last;
        check_page_records(&ws, page, &first, &last);
        check_page_links(&ws, page, size, first, last);
        bool more = page->info.has_next;
        if (more)
            memcpy(token, page->info.next_token, sizeof token);
        sf_stream_page_free(fx->fake, page);
        if (!more)
            break;
        change_between_pages(fx, &ws, last);
    }

    size_t expired;
    size_t survivors = count_survivors(&ws, start, &expired);
    /* the walk really did run while things changed */
    assert_true(ws.deleted > 0);
    assert_true(expired > 0);
    assert_true(survivors > 0);
    assert_true(ws.created > 0 || size == 100);

    /* the fake agrees: what is alive now is exactly the survivors */
    walk w;
    walk_forward(fx, fx->service_sid, 100, ws.m.n + 1, &w);
    assert_int_equal(w.total, survivors);
    walk_free(&w);
    free(ws.m.v);
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

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
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
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
