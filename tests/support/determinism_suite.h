/* SPDX-License-Identifier: MIT */
/* determinism_suite.h: what the test_determinism_*.c suites share: a transcript of every byte
 * a scenario gets back from the fake (statuses, errors, records, pages), the scenario itself,
 * and a comparison that names the first difference. Include it after <cmocka.h>. */
#ifndef SF_TEST_DETERMINISM_SUITE_H
#define SF_TEST_DETERMINISM_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct transcript {
    unsigned char *buf;
    size_t len, cap;
    size_t entries;
} transcript;

/* Appends bytes, strings, numbers, statuses, errors and page infos to the transcript. */
void tx_put(transcript *t, const void *p, size_t n);

void tx_str(transcript *t, const char *s);

void tx_i64(transcript *t, int64_t v);

void tx_status(transcript *t, sf_status st);

void tx_error(transcript *t, sf_status st, const sf_error *err);

void tx_info(transcript *t, const sf_page_info *info);

void tx_free(transcript *t);

/* A fake of `seed` on the default allocator. */
sf_fake *tx_new_fake(uint64_t seed);

/* Walks every page of a service's streams (page size `size`) into the transcript. */
void tx_stream_walk(transcript *t, sf_fake *fake, const char *svc, int64_t size);

/* Exercises every kind of call and records every answer. */
void tx_scenario(sf_fake *fake, transcript *t);

/* Fails naming the first byte where the transcripts differ. */
void assert_same_transcript(const transcript *a, const transcript *b);

#endif
