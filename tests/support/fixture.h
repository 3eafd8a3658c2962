/* SPDX-License-Identifier: MIT */
/* fixture.h: shared helpers for the cmocka suites: a fake with a fixed seed, a manual clock
 * and one service; and an allocator that can be told to fail its Nth allocation. */
#ifndef SF_TEST_FIXTURE_H
#define SF_TEST_FIXTURE_H

#include "syncfake.h"

#include <stdbool.h>
#include <stddef.h>

#define SF_TEST_SEED 42

typedef struct sf_test_alloc {
    long fail_at;  /* 1-based index of the allocation to fail; 0: never fail */
    long calls;    /* allocations (malloc + realloc) made so far */
    long live;     /* blocks currently allocated */
    long failures; /* allocations refused */
} sf_test_alloc;

/* An sf_allocator backed by `state` (the C library underneath, with counting). */
sf_allocator sf_test_allocator(sf_test_alloc *state);
/* A fresh fake with default options on a counting allocator (*alloc zeroed first). */
sf_fake *sf_test_counting_fake(sf_test_alloc *alloc);

typedef struct sf_fixture {
    sf_fake *fake;
    char service_sid[SF_SID_SIZE];
    sf_test_alloc alloc;
} sf_fixture;

/* The fixture of a test run with sf_fixture_setup. */
static inline sf_fixture *fx_of(void **state) { return *state; }

/* Options: seed SF_TEST_SEED, manual clock at SF_DEFAULT_EPOCH_MS, counting allocator. */
void sf_fixture_options(sf_fixture *fx, sf_options *opts);

/* cmocka group/test setup: a fake and one service. *state receives an sf_fixture. */
int sf_fixture_setup(void **state);
int sf_fixture_teardown(void **state);

/* Same, with the given options (their allocator is replaced by the counting one). */
int sf_fixture_setup_with(void **state, const sf_options *opts);

/* Creates a stream in fx's service (asserting success) and fills *out with its record; a
 * negative ttl creates it without one. */
void sf_fixture_stream(sf_fixture *fx, const char *unique_name, long long ttl,
                       sf_stream_record *out);

/* Asserts that `err` holds exactly the Twilio error (http status, code) with more_info. */
void sf_assert_twilio_error(const sf_error *err, int http_status, int code);

/* Asserts that a call whose N-th allocation was made to fail (`met`: it reached that
 * allocation) failed with SF_ERR_NOMEM and Twilio's 500/20500 "Internal Server Error". */
void sf_assert_nomem_failure(sf_status st, const sf_error *err, bool met, long n);

#endif
