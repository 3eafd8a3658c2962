/* SPDX-License-Identifier: MIT */
/* test_bad_args_options.c: sf_fake_new refuses every invalid option with its documented error and
 * accepts each option at its limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "bad_args.h"
#include "fixture.h"

/* ---------------------------------------------------------------------------------------- */
/* sf_fake_new options                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_fake_new_without_out_is_invalid_argument(void **state)
{
    (void)state;
    sf_error err;
    assert_status(sf_fake_new(NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_status(sf_fake_new(NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
}

static sf_ms fixed_clock(void *user) { return *(const sf_ms *)user; }
static void *only_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}
static void *only_realloc(void *p, size_t size, void *user)
{
    (void)user;
    return realloc(p, size);
}
static void only_free(void *p, void *user)
{
    (void)user;
    free(p);
}

typedef struct bad_option {
    const char *what;
    void (*spoil)(sf_options *o);
} bad_option;

static char long_url[SF_BASE_URL_CAP + 8];

#define SPOIL(name, ...)                                                                           \
    static void spoil_##name(sf_options *o) { __VA_ARGS__; }
SPOIL(data_above_cap, o->limits.max_data_bytes = SF_DATA_CAP + 1)
SPOIL(data_below_two, o->limits.max_data_bytes = 1)
SPOIL(burst_zero, o->limits.publish_burst = 0)
SPOIL(burst_above_cap, o->limits.publish_burst = 1000001)
SPOIL(rate_above_cap, o->limits.publish_rate_per_s = 1000001)
SPOIL(name_above_cap, o->limits.unique_name_max = SF_UNIQUE_NAME_CAP + 1)
SPOIL(name_zero, o->limits.unique_name_max = 0)
SPOIL(ttl_negative, o->limits.ttl_max_s = -1)
SPOIL(ttl_above_cap, o->limits.ttl_max_s = INT64_C(100) * 365 * 86400 + 1)
SPOIL(page_max_above_cap, o->limits.page_size_max = SF_PAGE_SIZE_CAP + 1)
SPOIL(page_max_zero, o->limits.page_size_max = 0)
SPOIL(page_default_zero, o->limits.page_size_default = 0)
SPOIL(page_default_above_max, o->limits.page_size_default = o->limits.page_size_max + 1)
SPOIL(friendly_above_cap, o->limits.friendly_name_max = SF_FRIENDLY_NAME_CAP + 1)
SPOIL(friendly_zero, o->limits.friendly_name_max = 0)
SPOIL(webhook_above_cap, o->limits.webhook_url_max = SF_WEBHOOK_URL_CAP + 1)
SPOIL(webhook_zero, o->limits.webhook_url_max = 0)
SPOIL(debounce_min_negative, o->limits.debouncing_window_min_ms = -1)
SPOIL(debounce_min_above_max,
      o->limits.debouncing_window_min_ms = o->limits.debouncing_window_max_ms + 1)
SPOIL(allocator_malloc_only, o->allocator = (sf_allocator){.malloc_fn = only_malloc})
SPOIL(allocator_without_free,
      o->allocator = (sf_allocator){.malloc_fn = only_malloc, .realloc_fn = only_realloc})
SPOIL(allocator_free_only, o->allocator = (sf_allocator){.free_fn = only_free})
SPOIL(callback_clock_without_fn, o->clock = SF_CLOCK_CALLBACK)
SPOIL(clock_kind_unknown, o->clock = (sf_clock_kind)7)
SPOIL(account_sid_uppercase_hex, o->account_sid = "AC0123456789ABCDEF0123456789abcdef")
SPOIL(account_sid_wrong_prefix, o->account_sid = "AX0123456789abcdef0123456789abcdef")
SPOIL(account_sid_service_prefix, o->account_sid = "IS0123456789abcdef0123456789abcdef")
SPOIL(account_sid_short, o->account_sid = "AC0123456789abcdef0123456789abcde")
SPOIL(account_sid_long, o->account_sid = "AC0123456789abcdef0123456789abcdef0")
SPOIL(account_sid_empty, o->account_sid = "")
SPOIL(auth_token_empty, o->auth_token = "")
SPOIL(auth_token_with_space, o->auth_token = "two words")
SPOIL(auth_token_with_newline, o->auth_token = "token\n")
SPOIL(auth_token_too_long, {
    static char token[SF_SECRET_CAP + 1];
    memset(token, 't', SF_SECRET_CAP);
    o->auth_token = token;
})
SPOIL(base_url_ftp, o->base_url = "ftp://sync.twilio.com")
SPOIL(base_url_without_scheme, o->base_url = "sync.twilio.com")
SPOIL(base_url_empty, o->base_url = "")
SPOIL(base_url_trailing_slash, o->base_url = "https://sync.twilio.com/")
SPOIL(base_url_with_space, o->base_url = "https://sync twilio.com")
SPOIL(base_url_with_quote, o->base_url = "https://sync.twilio.com\"")
SPOIL(base_url_with_backslash, o->base_url = "https://sync.twilio.com\\x")
SPOIL(journal_above_cap, o->journal_capacity = ((size_t)1 << 26) + 1)
SPOIL(base_url_too_long, {
    memcpy(long_url, "https://", 8);
    memset(long_url + 8, 'a', sizeof long_url - 9);
    long_url[sizeof long_url - 1] = '\0';
    o->base_url = long_url;
})
#undef SPOIL

#define BAD(name)                                                                                  \
    {                                                                                              \
#name, spoil_##name                                                                        \
    }
static const bad_option bad_options[] = {
    BAD(data_above_cap),
    BAD(data_below_two),
    BAD(burst_zero),
    BAD(burst_above_cap),
    BAD(rate_above_cap),
    BAD(name_above_cap),
    BAD(name_zero),
    BAD(ttl_negative),
    BAD(ttl_above_cap),
    BAD(page_max_above_cap),
    BAD(page_max_zero),
    BAD(page_default_zero),
    BAD(page_default_above_max),
    BAD(friendly_above_cap),
    BAD(friendly_zero),
    BAD(webhook_above_cap),
    BAD(webhook_zero),
    BAD(debounce_min_negative),
    BAD(debounce_min_above_max),
    BAD(allocator_malloc_only),
    BAD(allocator_without_free),
    BAD(allocator_free_only),
    BAD(callback_clock_without_fn),
    BAD(clock_kind_unknown),
    BAD(account_sid_uppercase_hex),
    BAD(account_sid_wrong_prefix),
    BAD(account_sid_service_prefix),
    BAD(account_sid_short),
    BAD(account_sid_long),
    BAD(account_sid_empty),
    BAD(auth_token_empty),
    BAD(auth_token_with_space),
    BAD(auth_token_with_newline),
    BAD(auth_token_too_long),
    BAD(base_url_ftp),
    BAD(base_url_without_scheme),
    BAD(base_url_empty),
    BAD(base_url_too_long),
    BAD(base_url_trailing_slash),
    BAD(base_url_with_space),
    BAD(base_url_with_quote),
    BAD(base_url_with_backslash),
    BAD(journal_above_cap),
};
#undef BAD

static void test_fake_new_rejects_every_invalid_option(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        sf_test_alloc alloc;
        memset(&alloc, 0, sizeof alloc);
        sf_options opts;
        sf_options_init(&opts);
        opts.allocator = sf_test_allocator(&alloc);
        bad_options[i].spoil(&opts);
        sf_fake *fake = (sf_fake *)(uintptr_t)1;
        sf_error err;
        memset(&err, 0, sizeof err);
        sf_status st = sf_fake_new(&opts, &fake, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("%s: status %s, want SF_ERR_INVALID_ARGUMENT", bad_options[i].what,
                     sf_status_name(st));
        assert_null(fake);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
        /* the message says what is wrong */
        assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
        assert_true(strlen(err.message) > 19);
        assert_int_equal(alloc.calls, 0);
        /* and with no error body */
        fake = (sf_fake *)(uintptr_t)1;
        assert_status(sf_fake_new(&opts, &fake, NULL), SF_ERR_INVALID_ARGUMENT);
        assert_null(fake);
    }
}

static void test_fake_new_accepts_options_at_their_limits(void **state)
{
    (void)state;
    static char token[SF_SECRET_CAP];
    memset(token, '~', SF_SECRET_CAP - 1);
    static char url[SF_BASE_URL_CAP];
    memcpy(url, "http://", 7);
    memset(url + 7, 'h', SF_BASE_URL_CAP - 8);
    sf_ms at = SF_DEFAULT_EPOCH_MS + 5;
    sf_options opts;
    sf_options_init(&opts);
    opts.clock = SF_CLOCK_CALLBACK;
    opts.clock_fn = fixed_clock;
    opts.clock_user = &at;
    opts.account_sid = "AC0123456789abcdef0123456789abcdef";
    opts.auth_token = token;
    opts.base_url = url;
    opts.journal_capacity = (size_t)1 << 26;
    opts.limits = (sf_limits){.max_data_bytes = SF_DATA_CAP,
                              .publish_rate_per_s = 1000000,
                              .publish_burst = 1000000,
                              .unique_name_max = SF_UNIQUE_NAME_CAP,
                              .ttl_max_s = INT64_C(100) * 365 * 86400,
                              .page_size_default = SF_PAGE_SIZE_CAP,
                              .page_size_max = SF_PAGE_SIZE_CAP,
                              .friendly_name_max = SF_FRIENDLY_NAME_CAP,
                              .webhook_url_max = SF_WEBHOOK_URL_CAP,
                              .debouncing_window_min_ms = 0,
                              .debouncing_window_max_ms = 0};
    sf_fake *fake = NULL;
    sf_error err;
    assert_status(sf_fake_new(&opts, &fake, &err), SF_OK);
    held_fake(fake);
    assert_string_equal(sf_fake_account_sid(fake), opts.account_sid);
    assert_string_equal(sf_fake_auth_token(fake), token);
    assert_string_equal(sf_fake_options(fake)->base_url, url);
    assert_int_equal(sf_clock_now(fake), at);
    /* the widened limits are in force */
    char *name = filled(SF_UNIQUE_NAME_CAP, 'n');
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, &err), SF_OK);
    sf_stream_params p = {.unique_name = name, .has_ttl = true, .ttl = opts.limits.ttl_max_s};
    sf_stream_record rec;
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, &rec, &err), SF_OK);
    assert_int_equal(rec.date_expires_ms, at + opts.limits.ttl_max_s * 1000);
    block_release(name);
    fake_release(fake);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, bad_args_teardown)
#define S(name) cmocka_unit_test_teardown(name, bad_args_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S(test_fake_new_without_out_is_invalid_argument),
        S(test_fake_new_rejects_every_invalid_option),
        S(test_fake_new_accepts_options_at_their_limits),
    };
    return cmocka_run_group_tests_name("bad_args_options", tests, NULL, NULL);
}
