/* SPDX-License-Identifier: MIT */
/* service_suite.h: what the test_service_*.c suites share: services made and fetched
 * asserting success, the shape of refused creates and updates, long webhook URLs, counting
 * services, the shape of SIDs. Include it after <cmocka.h>. */
#ifndef SF_TEST_SERVICE_SUITE_H
#define SF_TEST_SERVICE_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Create and fetch, failing the test on an error. */
void must_create(sf_fixture *fx, const sf_service_params *p, sf_service_record *out);

/* Fetch, failing the test on an error. */
void must_fetch(sf_fixture *fx, const char *sid, sf_service_record *out);

/* The call is refused with the Twilio (http, code) error. */
void expect_create_error(sf_fixture *fx, const sf_service_params *p, int http, int code);

/* The update is refused with the Twilio (http, code) error. */
void expect_update_error(sf_fixture *fx, const char *sid, const sf_service_params *p, int http,
                         int code);

/* "https://example.com/" followed by 'a's up to `len` characters. */
char *url_of_length(size_t len);

/* The services of the fixture's account (at most 100). */
size_t count_services(sf_fixture *fx);

/* A SID of `prefix` and 32 lowercase hex digits that sf_sid_is accepts. */
void assert_lower_hex_sid(const char *sid, const char *prefix);

#endif
