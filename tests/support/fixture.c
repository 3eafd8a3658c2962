/* SPDX-License-Identifier: MIT */
/* fixture.c: see fixture.h. */
#include "fixture.h"
#include "assert_status.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static bool refuse(sf_test_alloc *a)
{
    a->calls++;
    if (a->fail_at > 0 && a->calls == a->fail_at) {
        a->failures++;
        return true;
    }
    return false;
}

static void *test_malloc_fn(size_t size, void *user)
{
    sf_test_alloc *a = user;
    if (refuse(a))
        return NULL;
    void *p = malloc(size);
    if (p)
        a->live++;
    return p;
}

static void *test_realloc_fn(void *ptr, size_t size, void *user)
{
    sf_test_alloc *a = user;
    if (refuse(a))
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        a->live++;
    return p;
}

static void test_free_fn(void *ptr, void *user)
{
    sf_test_alloc *a = user;
    if (ptr)
        a->live--;
    free(ptr);
}

sf_allocator sf_test_allocator(sf_test_alloc *state)
{
    return (sf_allocator){test_malloc_fn, test_realloc_fn, test_free_fn, state};
}

sf_fake *sf_test_counting_fake(sf_test_alloc *alloc)
{
    memset(alloc, 0, sizeof *alloc);
    sf_options opts;
    sf_options_init(&opts);
    opts.allocator = sf_test_allocator(alloc);
    sf_fake *fake = NULL;
    assert_int_equal(sf_fake_new(&opts, &fake, NULL), SF_OK);
    return fake;
}

void sf_fixture_options(sf_fixture *fx, sf_options *opts)
{
    sf_options_init(opts);
    opts->seed = SF_TEST_SEED;
    opts->allocator = sf_test_allocator(&fx->alloc);
}

int sf_fixture_setup_with(void **state, const sf_options *base)
{
    sf_fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    sf_options opts;
    if (base)
        opts = *base;
    else
        sf_fixture_options(fx, &opts);
    opts.allocator = sf_test_allocator(&fx->alloc);
    sf_error err;
    if (sf_fake_new(&opts, &fx->fake, &err) != SF_OK) {
        free(fx);
        return -1;
    }
    sf_service_record svc;
    if (sf_service_create(fx->fake, NULL, NULL, &svc, &err) != SF_OK) {
        sf_fake_free(fx->fake);
        free(fx);
        return -1;
    }
    memcpy(fx->service_sid, svc.sid, SF_SID_SIZE);
    *state = fx;
    return 0;
}

int sf_fixture_setup(void **state) { return sf_fixture_setup_with(state, NULL); }

int sf_fixture_teardown(void **state)
{
    sf_fixture *fx = *state;
    if (!fx)
        return 0;
    sf_fake_free(fx->fake);
    long live = fx->alloc.live;
    free(fx);
    *state = NULL;
    if (live != 0) {
        fprintf(stderr, "fixture: %ld blocks leaked by the fake\n", live);
        return -1;
    }
    return 0;
}

void sf_fixture_stream(sf_fixture *fx, const char *unique_name, long long ttl,
                       sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = unique_name, .has_ttl = ttl >= 0, .ttl = ttl};
    sf_error err;
    sf_status st = sf_stream_create(fx->fake, NULL, fx->service_sid, &p, out, &err);
    if (st != SF_OK)
        fail_msg("stream create failed: %d %s", err.code, err.message);
}

void sf_assert_twilio_error(const sf_error *err, int http_status, int code)
{
    char more_info[SF_MORE_INFO_SIZE];
    snprintf(more_info, sizeof more_info, "https://www.twilio.com/docs/errors/%d", code);
    assert_int_equal(err->http_status, http_status);
    assert_int_equal(err->code, code);
    assert_string_equal(err->more_info, more_info);
    assert_int_equal(sf_status_http(err->status), http_status);
    assert_int_equal(sf_status_code(err->status), code);
}

void sf_assert_nomem_failure(sf_status st, const sf_error *err, bool met, long n)
{
    if (!met)
        fail_msg("N=%ld: the call failed (%s) without meeting the allocation failure", n,
                 sf_status_name(st));
    if (st != SF_ERR_NOMEM)
        fail_msg("N=%ld: status %s, want SF_ERR_NOMEM", n, sf_status_name(st));
    assert_status(err->status, SF_ERR_NOMEM);
    sf_assert_twilio_error(err, 500, 20500);
    assert_string_equal(err->message, "Internal Server Error");
}
