/* SPDX-License-Identifier: MIT */
/* service_suite.c: see service_suite.h. */
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
#include "syncfake.h"
#include "service_suite.h"

void must_create(sf_fixture *fx, const sf_service_params *p, sf_service_record *out)
{
    sf_error err;
    if (sf_service_create(fx->fake, NULL, p, out, &err) != SF_OK)
        fail_msg("service create failed: %d %s", err.code, err.message);
}

void must_fetch(sf_fixture *fx, const char *sid, sf_service_record *out)
{
    sf_error err;
    if (sf_service_fetch(fx->fake, NULL, sid, out, &err) != SF_OK)
        fail_msg("service fetch failed: %d %s", err.code, err.message);
}

void expect_create_error(sf_fixture *fx, const sf_service_params *p, int http, int code)
{
    sf_error err;
    sf_service_record rec;
    sf_status st = sf_service_create(fx->fake, NULL, p, &rec, &err);
    assert_status_not(st, SF_OK);
    assert_status(err.status, st);
    sf_assert_twilio_error(&err, http, code);
}

void expect_update_error(sf_fixture *fx, const char *sid, const sf_service_params *p, int http,
                         int code)
{
    sf_error err;
    sf_service_record rec;
    sf_status st = sf_service_update(fx->fake, NULL, sid, p, &rec, &err);
    assert_status_not(st, SF_OK);
    sf_assert_twilio_error(&err, http, code);
}

/* "https://example.com/" followed by 'a's up to `len` characters. */
char *url_of_length(size_t len)
{
    const char *base = "https://example.com/";
    size_t bl = strlen(base);
    assert_true(len >= bl);
    char *s = malloc(len + 1);
    assert_non_null(s);
    memcpy(s, base, bl);
    memset(s + bl, 'a', len - bl);
    s[len] = '\0';
    return s;
}

size_t count_services(sf_fixture *fx)
{
    sf_service_page *page = NULL;
    sf_page_params p = {.has_page_size = true, .page_size = 100};
    assert_status(sf_service_list(fx->fake, NULL, &p, &page, NULL), SF_OK);
    size_t n = page->info.count;
    assert_false(page->info.has_next);
    sf_service_page_free(fx->fake, page);
    return n;
}

void assert_lower_hex_sid(const char *sid, const char *prefix)
{
    assert_int_equal(strlen(sid), SF_SID_LEN);
    assert_memory_equal(sid, prefix, 2);
    assert_int_equal(strspn(sid + 2, "0123456789abcdef"), 32);
    assert_true(sf_sid_is(sid, prefix));
}
