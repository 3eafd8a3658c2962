/* SPDX-License-Identifier: MIT */
/* calls.h: small helpers several suites share around the C API: a subscriber that ignores
 * its events, publishing to and updating streams of a fixture's service, the shape of SIDs and
 * errors, and setups that make two fixtures or free a bare fake. Include it after <cmocka.h>;
 * helpers that check something fail the test through cmocka. */
#ifndef SF_TEST_CALLS_H
#define SF_TEST_CALLS_H

#include "fixture.h"

#include <stddef.h>
#include <stdint.h>

/* An sf_subscribe_params.on_event that ignores every event. */
void sf_test_ignore_event(sf_fake *fake, const sf_event *ev, void *user);

/* Subscribes to `stream` of fx's service with sf_test_ignore_event (asserting success);
 * returns the subscriber's id. */
sf_subscriber_id sf_test_subscribe(sf_fixture *fx, const char *stream);

/* Publishes `data` (a JSON text) to `stream` of fx's service; out and err may be NULL. */
sf_status sf_test_publish(sf_fixture *fx, const char *stream, const char *data,
                          sf_message_record *out, sf_error *err);

/* Sets the TTL of `stream` of fx's service to ttl seconds; out and err may be NULL. */
sf_status sf_test_update_ttl(sf_fixture *fx, const char *stream, int64_t ttl, sf_stream_record *out,
                             sf_error *err);

/* Sets one of the four sf_opt_bool flags of service params: field 0 reachability webhooks,
 * 1 ACL, 2 reachability debouncing, 3 webhooks from REST. */
void sf_test_set_service_flag(sf_service_params *p, int field, sf_opt_bool value);

/* Asserts that sid is a Twilio SID: two-letter `prefix` and 32 lowercase hex digits. */
void sf_test_assert_sid_shape(const char *sid, const char *prefix);

/* Asserts that a call answered st with err filled for the status `want` (HTTP status, Twilio
 * code and, when message is not NULL, exactly that message). */
void sf_test_expect_error(sf_status st, const sf_error *err, sf_status want, int http, int code,
                          const char *message);

/* How many journal entries match the filter (kinds: a bit set of 1u << kind, 0 for all; sub
 * 0 and stream NULL for any). */
size_t sf_test_journal_count(sf_fake *fake, uint32_t kinds, sf_subscriber_id sub,
                             const char *stream);

/* unit repeated `times` times, NUL-terminated, from malloc (asserting it did not fail). */
char *sf_test_repeat(const char *unit, size_t times);

/* The whole file, NUL-terminated (the NUL is not counted in *len), from malloc; NULL when
 * it cannot be read. */
char *sf_test_read_file(const char *path, size_t *len);

/* cmocka setup/teardown: *state receives two fixtures (void *[2]) of the same seed. */
int sf_test_setup_twins(void **state);
int sf_test_teardown_twins(void **state);

/* cmocka teardown of suites whose *state is a bare sf_fake. */
int sf_test_free_fake(void **state);

#endif
