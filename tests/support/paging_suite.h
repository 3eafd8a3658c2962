/* SPDX-License-Identifier: MIT */
/* paging_suite.h: what the test_paging_*.c suites share: a seeded xorshift for the property
 * test, listing and walking pages of streams, and checks of a page against a walk. Include it
 * after <cmocka.h>. */
#ifndef SF_TEST_PAGING_SUITE_H
#define SF_TEST_PAGING_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* xorshift64: rng_seed, then rng_next; rnd(n) is in [0, n). */
void rng_seed(uint64_t seed);

uint64_t rng_next(void);

uint32_t rnd(uint32_t n);

/* Page params of one size; a list asserting success; a list that must fail with (http, code). */
sf_page_params sized(int64_t size);

sf_stream_page *must_list(sf_fixture *fx, const char *service_sid, const sf_page_params *p);

void expect_list_error(sf_fixture *fx, const char *service_sid, const sf_page_params *p, int http,
                       int code);

/* Creates n streams without name or TTL; SIDs go to sids (n * SF_SID_SIZE) when given. */
/* Streams made for the walks, and the SIDs they got. */
void make_streams(sf_fixture *fx, const char *service_sid, size_t n, char *sids);

const char *sid_at(const char *sids, size_t i);

/* Creates a second service in fx; its SID into out. Returns fx. */
sf_fixture *second_fixture_service(sf_fixture *fx, char out[SF_SID_SIZE]);

/* A forward walk of a static list: pages concatenated, with page boundaries and tokens. */
typedef struct walk {
    size_t pages;
    size_t total;
    char *sids;          /* total * SF_SID_SIZE */
    size_t *start;       /* pages + 1 offsets into sids */
    sf_page_info *infos; /* per page */
} walk;

/* A walk over every page forward (at most max pages), kept for assert_page_is. */
void walk_forward(sf_fixture *fx, const char *service_sid, int64_t size, size_t max, walk *w);

void walk_free(walk *w);

void assert_page_is(const sf_stream_page *page, const walk *w, size_t k);

#endif
