/* SPDX-License-Identifier: MIT */
/* assert_status.h: assert_status(actual, expected) compares two sf_status values and, when
 * they differ, fails the cmocka test naming both: "got SF_ERR_NOT_FOUND (404/20404), expected
 * SF_OK (200/0)" instead of assert_int_equal's hex. Include it after <cmocka.h>. */
#ifndef SF_TEST_ASSERT_STATUS_H
#define SF_TEST_ASSERT_STATUS_H

#include "syncfake.h"

#include <stddef.h>

/* "SF_ERR_NOT_FOUND (404/20404)" into out; a value outside the enum reads "status 77 (not an
 * sf_status)". Returns out. */
const char *sf_test_status_text(long status, char *out, size_t size);

/* The whole failure line for actual != expected, naming the asserted expression. */
void sf_test_status_mismatch(char *out, size_t size, const char *expr, long actual, long expected);

/* Evaluates each argument once; fail_msg reports this file and line. */
#define assert_status(actual, expected)                                                            \
    do {                                                                                           \
        long sf_test_actual_ = (long)(actual);                                                     \
        long sf_test_expected_ = (long)(expected);                                                 \
        if (sf_test_actual_ != sf_test_expected_) {                                                \
            char sf_test_msg_[384];                                                                \
            sf_test_status_mismatch(sf_test_msg_, sizeof sf_test_msg_, #actual, sf_test_actual_,   \
                                    sf_test_expected_);                                            \
            fail_msg("%s", sf_test_msg_);                                                          \
        }                                                                                          \
    } while (0)

/* actual must be any status but `unexpected` (which the failure names). */
#define assert_status_not(actual, unexpected)                                                      \
    do {                                                                                           \
        long sf_test_actual_ = (long)(actual);                                                     \
        if (sf_test_actual_ == (long)(unexpected)) {                                               \
            char sf_test_got_[96];                                                                 \
            fail_msg("%s: got %s, expected any other status", #actual,                             \
                     sf_test_status_text(sf_test_actual_, sf_test_got_, sizeof sf_test_got_));     \
        }                                                                                          \
    } while (0)

#endif
