/* SPDX-License-Identifier: MIT */
/* stream_suite.c: see stream_suite.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "fixture.h"
#include "stream_suite.h"

sf_status create_stream(sf_fixture *fx, const char *name, bool has_ttl, int64_t ttl,
                        sf_stream_record *out, sf_error *err)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = has_ttl, .ttl = ttl};
    return sf_stream_create(fx->fake, NULL, fx->service_sid, &p, out, err);
}

void expect_not_found(sf_status st, const sf_error *err, const char *service_sid, const char *id,
                      const char *suffix)
{
    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "The requested resource /Services/%s/Streams/%s%s was not found",
             service_sid, id, suffix);
    sf_test_expect_error(st, err, SF_ERR_NOT_FOUND, 404, 20404, msg);
}

/* The live streams of a service (single page of up to 100), SIDs in listed order. */
size_t list_sids(sf_fixture *fx, const char *service_sid, char sids[][SF_SID_SIZE], size_t cap)
{
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_stream_page *page = NULL;
    sf_error err;
    sf_status st = sf_stream_list(fx->fake, NULL, service_sid, &pp, &page, &err);
    if (st != SF_OK)
        fail_msg("list failed: %d %s", err.code, err.message);
    assert_non_null(page);
    assert_false(page->info.has_next);
    size_t n = page->info.count;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++)
        memcpy(sids[i], page->records[i].sid, SF_SID_SIZE);
    sf_stream_page_free(fx->fake, page);
    return n;
}

const char hex32[] = "0123456789abcdef0123456789abcdef";
const char hex32_upper[] = "0123456789ABCDEF0123456789ABCDEF";
