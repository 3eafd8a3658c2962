/* SPDX-License-Identifier: MIT */
/* bad_args.h: what the test_bad_args_*.c suites share: fakes and buffers a test holds outside
 * its fixture (released by the teardowns whatever an assertion left behind), a twin fake with
 * the fixture's history, the shape of refusals, and a fingerprint of what a caller can observe,
 * to show that a refused call changed nothing. Include it after <cmocka.h>. */
#ifndef SF_TEST_BAD_ARGS_H
#define SF_TEST_BAD_ARGS_H

#include "fixture.h"

#include <stddef.h>

#define KB 1024
#define HELD_MAX 16 /* fakes, and buffers, one test may hold at once */

/* Holds fake until fake_release or the teardown; returns it. */
sf_fake *held_fake(sf_fake *fake);
void fake_release(sf_fake *fake);
/* A held buffer of `len` copies of `c`, NUL-terminated; block_release frees it early. */
char *filled(size_t len, char c);
void block_release(void *p);
/* Frees every held fake and buffer. */
void release_held(void);

/* A held fake like the fixture's (same seed, same first service), on the C library's
 * allocator. */
sf_fake *twin_new(const char *service_sid);

/* err holds `status` with its Twilio (http, code) body and a terminated message. */
void assert_error(const sf_error *err, sf_status status, int http, int code);
/* err is SF_ERR_INVALID_ARGUMENT with the message "Invalid parameter: <detail>". */
void assert_invalid_argument(const sf_error *err, const char *detail);

/* What a caller can observe of the fake and of the fixture's service. */
typedef struct fingerprint {
    sf_ms now;
    size_t pending;
    size_t nservices;
    sf_service_record service;
    size_t nstreams;
    sf_stream_record streams[8];
    sf_rate_state rates[8];
} fingerprint;

/* Takes / compares what a caller can observe of the fake and of the fixture's service. */
void fingerprint_take(sf_fake *fake, const char *service_sid, fingerprint *fp);
/* Asserts that the fake still shows what `want` took. */
void fingerprint_assert_same(sf_fake *fake, const char *service_sid, const fingerprint *want);

/* Mints one SID of every kind (and a secret) on both fakes: they must agree. */
void assert_same_next_sids(sf_fake *fake, sf_fake *twin, const char *service_sid);

/* Valid publish data: {"k":1}. */
extern const sf_publish_params ok_data;

/* cmocka teardowns: release what is held (and the fixture). */
int bad_args_teardown(void **state);
int bad_args_teardown_held(void **state);

#endif
