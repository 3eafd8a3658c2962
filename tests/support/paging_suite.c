/* SPDX-License-Identifier: MIT */
/* paging_suite.c: see paging_suite.h. */
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

static uint64_t rng_state;

void rng_seed(uint64_t seed) { rng_state = seed ? seed : 0x9e3779b97f4a7c15u; }

uint64_t rng_next(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

uint32_t rnd(uint32_t n) { return (uint32_t)(rng_next() % n); }

sf_page_params sized(int64_t size)
{
    sf_page_params p = {.has_page_size = true, .page_size = size};
    return p;
}

sf_stream_page *must_list(sf_fixture *fx, const char *service_sid, const sf_page_params *p)
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

void expect_list_error(sf_fixture *fx, const char *service_sid, const sf_page_params *p, int http,
                       int code)
{
    sf_stream_page *page = (sf_stream_page *)(uintptr_t)1;
    sf_error err;
    sf_status st = sf_stream_list(fx->fake, NULL, service_sid, p, &page, &err);
    assert_status_not(st, SF_OK);
    assert_null(page);
    assert_status(err.status, st);
    sf_assert_twilio_error(&err, http, code);
}

/* Creates n streams without name or TTL; SIDs go to sids (n * SF_SID_SIZE) when given. */
void make_streams(sf_fixture *fx, const char *service_sid, size_t n, char *sids)
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

const char *sid_at(const char *sids, size_t i) { return sids + i * SF_SID_SIZE; }

sf_fixture *second_fixture_service(sf_fixture *fx, char out[SF_SID_SIZE])
{
    sf_service_record svc;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc, NULL), SF_OK);
    memcpy(out, svc.sid, SF_SID_SIZE);
    return fx;
}

void walk_forward(sf_fixture *fx, const char *service_sid, int64_t size, size_t max, walk *w)
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

void walk_free(walk *w)
{
    free(w->sids);
    free(w->start);
    free(w->infos);
}

void assert_page_is(const sf_stream_page *page, const walk *w, size_t k)
{
    size_t n = w->start[k + 1] - w->start[k];
    assert_int_equal(page->info.count, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(page->records[i].sid, sid_at(w->sids, w->start[k] + i));
}
