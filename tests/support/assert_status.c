/* SPDX-License-Identifier: MIT */
/* assert_status.c: see assert_status.h. */
#include "assert_status.h"

#include <stdio.h>

const char *sf_test_status_text(long status, char *out, size_t size)
{
    if (status < 0 || status >= SF_STATUS_COUNT) {
        snprintf(out, size, "status %ld (not an sf_status)", status);
        return out;
    }
    sf_status st = (sf_status)status;
    /* SF_OK has no Twilio code; 200 is the HTTP status a success maps to */
    snprintf(out, size, "%s (%d/%d)", sf_status_name(st), sf_status_http(st), sf_status_code(st));
    return out;
}

void sf_test_status_mismatch(char *out, size_t size, const char *expr, long actual, long expected)
{
    char got[96], want[96];
    snprintf(out, size, "%s: got %s, expected %s", expr,
             sf_test_status_text(actual, got, sizeof got),
             sf_test_status_text(expected, want, sizeof want));
}
