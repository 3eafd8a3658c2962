/* SPDX-License-Identifier: MIT */
/* expiry_suite.h: what the test_expiry_*.c suites share: streams made with a TTL, what a
 * service lists, and whether a stream is alive or gone (its 404). Include it after
 * <cmocka.h>. */
#ifndef SF_TEST_EXPIRY_SUITE_H
#define SF_TEST_EXPIRY_SUITE_H

#include "fixture.h"
#include "stream_suite.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Creates `name` in service_sid, with a TTL when ttl >= 0. */
sf_status create_in(sf_fixture *fx, const char *service_sid, const char *name, int64_t ttl,
                    sf_stream_record *out);

/* Listed SIDs joined by ',' in listed order (single page of up to 100). */
void listing(sf_fixture *fx, const char *service_sid, char *buf, size_t cap);

/* Whether the fixture's service lists sid. */
bool listed(sf_fixture *fx, const char *sid);

/* Fetching the stream succeeds / is its 404. */
void assert_alive(sf_fixture *fx, const char *id);

/* Fetching the stream is its 404. */
void assert_gone(sf_fixture *fx, const char *id);

#endif
