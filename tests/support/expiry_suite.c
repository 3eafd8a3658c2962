/* SPDX-License-Identifier: MIT */
/* expiry_suite.c: see expiry_suite.h. */
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
#include "expiry_suite.h"

sf_status create_in(sf_fixture *fx, const char *service_sid, const char *name, int64_t ttl,
                    sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = ttl >= 0, .ttl = ttl};
    sf_error err;
    return sf_stream_create(fx->fake, NULL, service_sid, &p, out, &err);
}

/* Listed SIDs joined by ',' in listed order (single page of up to 100). */
void listing(sf_fixture *fx, const char *service_sid, char *buf, size_t cap)
{
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_stream_page *page = NULL;
    sf_error err;
    if (sf_stream_list(fx->fake, NULL, service_sid, &pp, &page, &err) != SF_OK)
        fail_msg("list failed: %d %s", err.code, err.message);
    assert_false(page->info.has_next);
    buf[0] = '\0';
    for (size_t i = 0; i < page->info.count; i++) {
        if (i)
            strncat(buf, ",", cap - strlen(buf) - 1);
        strncat(buf, page->records[i].unique_name, cap - strlen(buf) - 1);
    }
    sf_stream_page_free(fx->fake, page);
}

bool listed(sf_fixture *fx, const char *sid)
{
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_stream_page *page = NULL;
    sf_error err;
    if (sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err) != SF_OK)
        fail_msg("list failed: %d %s", err.code, err.message);
    bool found = false;
    for (size_t i = 0; i < page->info.count; i++)
        if (strcmp(page->records[i].sid, sid) == 0)
            found = true;
    sf_stream_page_free(fx->fake, page);
    return found;
}

void assert_alive(sf_fixture *fx, const char *id)
{
    sf_stream_record r;
    sf_error err;
    if (sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &r, &err) != SF_OK)
        fail_msg("%s should be alive at %lld: %s", id, (long long)sf_clock_now(fx->fake),
                 err.message);
}

void assert_gone(sf_fixture *fx, const char *id)
{
    sf_stream_record r;
    sf_error err;
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &r, &err);
    expect_not_found(st, &err, fx->service_sid, id, "");
}
