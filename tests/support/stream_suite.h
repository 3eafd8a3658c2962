/* SPDX-License-Identifier: MIT */
/* stream_suite.h: what the test_stream_*.c suites share: a stream created with a name and
 * TTL, the 404 of a stream, the SIDs a service lists, SID-like hex strings. Include it after
 * <cmocka.h>. */
#ifndef SF_TEST_STREAM_SUITE_H
#define SF_TEST_STREAM_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOW0 SF_DEFAULT_EPOCH_MS
#define TTL_MAX INT64_C(31536000)

/* Creates a stream in fx's service; name may be NULL, the TTL is given when has_ttl. */
sf_status create_stream(sf_fixture *fx, const char *name, bool has_ttl, int64_t ttl,
                        sf_stream_record *out, sf_error *err);

/* Asserts st/err are the 404 of stream `id` of service_sid (suffix: the rest of the path). */
void expect_not_found(sf_status st, const sf_error *err, const char *service_sid, const char *id,
                      const char *suffix);

/* The live streams of a service (single page of up to 100), SIDs in listed order. */
size_t list_sids(sf_fixture *fx, const char *service_sid, char sids[][SF_SID_SIZE], size_t cap);

/* 32 lowercase and 32 uppercase hex digits (SID bodies) */
extern const char hex32[];
extern const char hex32_upper[];

#endif
