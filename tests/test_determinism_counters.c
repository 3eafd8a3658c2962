/* SPDX-License-Identifier: MIT */
/* test_determinism_counters.c: SIDs of one kind do not depend on other kinds; the fake's lifecycle
 * and options, which repeatability rests on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "syncfake.h"
#include "determinism_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* Per-kind counters                                                                         */
/* ---------------------------------------------------------------------------------------- */

static void stream_sids_do_not_depend_on_messages_published_in_between(void **state)
{
    (void)state;
    sf_fake *busy = tx_new_fake(SF_TEST_SEED), *quiet = tx_new_fake(SF_TEST_SEED);
    sf_service_record sb, sq;
    assert_status(sf_service_create(busy, NULL, NULL, &sb, NULL), SF_OK);
    assert_status(sf_service_create(quiet, NULL, NULL, &sq, NULL), SF_OK);
    assert_string_equal(sb.sid, sq.sid);
    for (int round = 0; round < 5; round++) {
        sf_stream_record b, q;
        assert_status(sf_stream_create(busy, NULL, sb.sid, NULL, &b, NULL), SF_OK);
        assert_status(sf_stream_create(quiet, NULL, sq.sid, NULL, &q, NULL), SF_OK);
        assert_string_equal(b.sid, q.sid);
        /* only the busy fake publishes (some of it rejected) */
        for (int i = 0; i < 10 + round * 7; i++) {
            sf_publish_params pp = {.data = i % 4 ? "{\"n\":1}" : "nope",
                                    .data_len = i % 4 ? 7 : 4};
            sf_message_record m;
            sf_status st = sf_stream_publish(busy, NULL, sb.sid, b.sid, &pp, &m, NULL);
            assert_int_equal(st, i % 4 ? SF_OK : SF_ERR_DATA_INVALID);
        }
    }
    /* services and accounts too */
    sf_service_record s2b, s2q;
    assert_status(sf_service_create(busy, NULL, NULL, &s2b, NULL), SF_OK);
    assert_status(sf_service_create(quiet, NULL, NULL, &s2q, NULL), SF_OK);
    assert_string_equal(s2b.sid, s2q.sid);
    sf_account_record ab, aq;
    assert_status(sf_account_create(busy, NULL, &ab, NULL), SF_OK);
    assert_status(sf_account_create(quiet, NULL, &aq, NULL), SF_OK);
    assert_string_equal(ab.sid, aq.sid);
    sf_fake_free(busy);
    sf_fake_free(quiet);
}

static void message_sids_do_not_depend_on_streams_or_services_created_in_between(void **state)
{
    (void)state;
    sf_fake *busy = tx_new_fake(SF_TEST_SEED), *quiet = tx_new_fake(SF_TEST_SEED);
    sf_service_record sb, sq;
    assert_status(sf_service_create(busy, NULL, NULL, &sb, NULL), SF_OK);
    assert_status(sf_service_create(quiet, NULL, NULL, &sq, NULL), SF_OK);
    sf_stream_record b, q;
    assert_status(sf_stream_create(busy, NULL, sb.sid, NULL, &b, NULL), SF_OK);
    assert_status(sf_stream_create(quiet, NULL, sq.sid, NULL, &q, NULL), SF_OK);
    for (int i = 0; i < 20; i++) {
        sf_publish_params pp = {.data = "{}", .data_len = 2};
        sf_message_record mb, mq;
        assert_status(sf_stream_publish(busy, NULL, sb.sid, b.sid, &pp, &mb, NULL), SF_OK);
        assert_status(sf_stream_publish(quiet, NULL, sq.sid, q.sid, &pp, &mq, NULL), SF_OK);
        assert_string_equal(mb.sid, mq.sid);
        /* the busy fake also creates streams, services, accounts and keys */
        assert_status(sf_stream_create(busy, NULL, sb.sid, NULL, NULL, NULL), SF_OK);
        if (i % 3 == 0)
            assert_status(sf_service_create(busy, NULL, NULL, NULL, NULL), SF_OK);
        if (i % 5 == 0) {
            assert_status(sf_account_create(busy, NULL, NULL, NULL), SF_OK);
            assert_status(sf_api_key_create(busy, NULL, NULL, NULL, NULL), SF_OK);
        }
    }
    sf_fake_free(busy);
    sf_fake_free(quiet);
}

static void a_publish_without_out_still_spends_one_message_sid(void **state)
{
    (void)state;
    sf_fake *a = tx_new_fake(SF_TEST_SEED), *b = tx_new_fake(SF_TEST_SEED);
    sf_service_record sa, sb;
    assert_status(sf_service_create(a, NULL, NULL, &sa, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &sb, NULL), SF_OK);
    sf_stream_record ra, rb;
    assert_status(sf_stream_create(a, NULL, sa.sid, NULL, &ra, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, NULL, &rb, NULL), SF_OK);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record ma, mb;
    assert_status(sf_stream_publish(a, NULL, sa.sid, ra.sid, &pp, NULL, NULL), SF_OK);
    assert_status(sf_stream_publish(b, NULL, sb.sid, rb.sid, &pp, &mb, NULL), SF_OK);
    assert_status(sf_stream_publish(a, NULL, sa.sid, ra.sid, &pp, &ma, NULL), SF_OK);
    assert_string_not_equal(ma.sid, mb.sid);
    assert_status(sf_stream_publish(b, NULL, sb.sid, rb.sid, &pp, &mb, NULL), SF_OK);
    assert_string_equal(ma.sid, mb.sid);
    sf_fake_free(a);
    sf_fake_free(b);
}

static void rejected_calls_spend_no_sid(void **state)
{
    (void)state;
    sf_fake *a = tx_new_fake(SF_TEST_SEED), *b = tx_new_fake(SF_TEST_SEED);
    sf_service_record sa, sb;
    assert_status(sf_service_create(a, NULL, NULL, &sa, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &sb, NULL), SF_OK);
    sf_stream_record ra, rb;
    sf_stream_params named = {.unique_name = "x"};
    assert_status(sf_stream_create(a, NULL, sa.sid, &named, &ra, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, &named, &rb, NULL), SF_OK);
    /* only a sees rejected calls */
    sf_stream_params bad_ttl = {.has_ttl = true, .ttl = -5};
    assert_status_not(sf_stream_create(a, NULL, sa.sid, &bad_ttl, NULL, NULL), SF_OK);
    assert_status_not(sf_stream_create(a, NULL, sa.sid, &named, NULL, NULL), SF_OK);
    sf_service_params bad_svc = {.friendly_name = ""};
    assert_status_not(sf_service_create(a, NULL, &bad_svc, NULL, NULL), SF_OK);
    sf_publish_params bad_data = {.data = "{", .data_len = 1};
    assert_status_not(sf_stream_publish(a, NULL, sa.sid, "x", &bad_data, NULL, NULL), SF_OK);
    sf_publish_params missing = {0};
    assert_status_not(sf_stream_publish(a, NULL, sa.sid, "x", &missing, NULL, NULL), SF_OK);

    sf_stream_record s1, s2;
    assert_status(sf_stream_create(a, NULL, sa.sid, NULL, &s1, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, NULL, &s2, NULL), SF_OK);
    assert_string_equal(s1.sid, s2.sid);
    sf_service_record v1, v2;
    assert_status(sf_service_create(a, NULL, NULL, &v1, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &v2, NULL), SF_OK);
    assert_string_equal(v1.sid, v2.sid);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record m1, m2;
    assert_status(sf_stream_publish(a, NULL, sa.sid, "x", &pp, &m1, NULL), SF_OK);
    assert_status(sf_stream_publish(b, NULL, sb.sid, "x", &pp, &m2, NULL), SF_OK);
    assert_string_equal(m1.sid, m2.sid);
    sf_fake_free(a);
    sf_fake_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle and options                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void a_fake_without_options_uses_the_documented_defaults(void **state)
{
    (void)state;
    sf_fake *fake = NULL;
    sf_error err;
    assert_status(sf_fake_new(NULL, &fake, &err), SF_OK);
    assert_status(err.status, SF_OK);
    const sf_options *o = sf_fake_options(fake);
    assert_int_equal(o->seed, 1);
    assert_int_equal(o->clock, SF_CLOCK_MANUAL);
    assert_int_equal(o->manual_start_ms, SF_DEFAULT_EPOCH_MS);
    assert_string_equal(o->base_url, SF_DEFAULT_BASE_URL);
    assert_int_equal(o->limits.max_data_bytes, 4096);
    assert_int_equal(o->limits.publish_rate_per_s, 30);
    assert_int_equal(o->limits.publish_burst, 300);
    assert_int_equal(o->limits.unique_name_max, 320);
    assert_int_equal(o->limits.ttl_max_s, 31536000);
    assert_int_equal(o->limits.page_size_default, 50);
    assert_int_equal(o->limits.page_size_max, 100);
    assert_int_equal(o->limits.friendly_name_max, 255);
    assert_int_equal(o->limits.webhook_url_max, 512);
    assert_int_equal(o->limits.debouncing_window_min_ms, 1000);
    assert_int_equal(o->limits.debouncing_window_max_ms, 30000);
    assert_non_null(o->allocator.malloc_fn);
    assert_non_null(o->allocator.realloc_fn);
    assert_non_null(o->allocator.free_fn);
    assert_int_equal(sf_clock_now(fake), SF_DEFAULT_EPOCH_MS);

    /* the same as seed 1 given explicitly */
    sf_fake *one = tx_new_fake(1);
    assert_string_equal(sf_fake_account_sid(fake), sf_fake_account_sid(one));
    assert_string_equal(sf_fake_auth_token(fake), sf_fake_auth_token(one));
    sf_fake_free(one);
    sf_fake_free(fake);
    sf_fake_free(NULL);
}

static void options_init_fills_the_defaults(void **state)
{
    (void)state;
    sf_options opts;
    memset(&opts, 0x5c, sizeof opts);
    sf_options_init(&opts);
    assert_int_equal(opts.seed, 1);
    assert_int_equal(opts.clock, SF_CLOCK_MANUAL);
    assert_int_equal(opts.manual_start_ms, SF_DEFAULT_EPOCH_MS);
    assert_null(opts.clock_fn);
    assert_null(opts.clock_user);
    assert_null(opts.allocator.malloc_fn);
    assert_null(opts.account_sid);
    assert_null(opts.auth_token);
    assert_null(opts.base_url);
    assert_int_equal(opts.journal_capacity, 65536);
    sf_limits l;
    sf_limits_init(&l);
    assert_memory_equal(&l, &opts.limits, sizeof l);
    sf_options_init(NULL);
    sf_limits_init(NULL);
}

static void expect_bad_options(const sf_options *opts)
{
    sf_fake *fake = (sf_fake *)(uintptr_t)1;
    sf_error err;
    assert_status(sf_fake_new(opts, &fake, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(fake);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_int_equal(err.code, 20001);
    assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
}

static void *plain_malloc(size_t n, void *u)
{
    (void)u;
    return malloc(n);
}

static sf_ms fixed_clock(void *user)
{
    (void)user;
    return 5;
}

/* Options o with stmt applied to its defaults are refused. */
#define BAD(stmt)                                                                                  \
    do {                                                                                           \
        sf_options_init(&o);                                                                       \
        stmt;                                                                                      \
        expect_bad_options(&o);                                                                    \
    } while (0)

static void invalid_options_are_refused(void **state)
{
    (void)state;
    sf_options o;
    char long_url[SF_BASE_URL_CAP + 10];
    memcpy(long_url, "http://", 7);
    memset(long_url + 7, 'h', sizeof long_url - 8);
    long_url[sizeof long_url - 1] = '\0';

    BAD(o.allocator.malloc_fn = plain_malloc);
    BAD(o.clock = SF_CLOCK_CALLBACK);
    BAD(o.clock = (sf_clock_kind)7);
    BAD(o.base_url = "ftp://example.com");
    BAD(o.base_url = "example.com");
    BAD(o.base_url = long_url);
    BAD(o.base_url = "http://example.com/"); /* no trailing slash */
    BAD(o.base_url = "http://exa mple.com");
    BAD(o.base_url = "http://example.com/\"q");
    BAD(o.base_url = "http://example.com/\\q");
    BAD(o.journal_capacity = ((size_t)1 << 26) + 1);

    sf_error err;
    assert_status(sf_fake_new(NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
}

static void limits_out_of_range_are_refused(void **state)
{
    (void)state;
    sf_options o;
    BAD(o.limits.max_data_bytes = 1);
    BAD(o.limits.max_data_bytes = SF_DATA_CAP + 1);
    BAD(o.limits.publish_burst = 0);
    BAD(o.limits.publish_burst = 1000001);
    BAD(o.limits.publish_rate_per_s = 1000001);
    BAD(o.limits.unique_name_max = 0);
    BAD(o.limits.unique_name_max = SF_UNIQUE_NAME_CAP + 1);
    BAD(o.limits.ttl_max_s = -1);
    BAD(o.limits.ttl_max_s = INT64_C(100) * 365 * 86400 + 1);
    BAD(o.limits.page_size_max = 0);
    BAD(o.limits.page_size_max = SF_PAGE_SIZE_CAP + 1);
    BAD(o.limits.page_size_default = 0);
    BAD(o.limits.page_size_default = 101);
    BAD(o.limits.friendly_name_max = 0);
    BAD(o.limits.friendly_name_max = SF_FRIENDLY_NAME_CAP + 1);
    BAD(o.limits.webhook_url_max = 0);
    BAD(o.limits.webhook_url_max = SF_WEBHOOK_URL_CAP + 1);
    BAD(o.limits.debouncing_window_min_ms = -1);
    BAD(o.limits.debouncing_window_min_ms = 40000);
}
#undef BAD

/* The ceilings themselves are allowed, as is a callback clock with its function. */
static void limit_ceilings_and_a_callback_clock_are_allowed(void **state)
{
    (void)state;
    sf_options o;
    sf_error err;
    sf_options_init(&o);
    o.limits.max_data_bytes = SF_DATA_CAP;
    o.limits.unique_name_max = SF_UNIQUE_NAME_CAP;
    o.limits.page_size_max = SF_PAGE_SIZE_CAP;
    o.limits.page_size_default = SF_PAGE_SIZE_CAP;
    o.limits.friendly_name_max = SF_FRIENDLY_NAME_CAP;
    o.limits.webhook_url_max = SF_WEBHOOK_URL_CAP;
    o.limits.publish_rate_per_s = 0;
    o.clock = SF_CLOCK_CALLBACK;
    o.clock_fn = fixed_clock;
    o.base_url = "https://example.com";
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&o, &fake, &err), SF_OK);
    assert_string_equal(sf_fake_options(fake)->base_url, "https://example.com");
    assert_int_equal(sf_fake_options(fake)->limits.page_size_max, SF_PAGE_SIZE_CAP);
    sf_fake_free(fake);
}

static void the_fake_allocates_only_through_the_given_allocator(void **state)
{
    (void)state;
    sf_test_alloc counts = {0};
    sf_options opts;
    sf_options_init(&opts);
    opts.allocator = sf_test_allocator(&counts);
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    assert_true(counts.live > 0);
    transcript t = {0};
    tx_scenario(fake, &t);
    tx_free(&t);
    sf_fake_free(fake);
    assert_int_equal(counts.live, 0);
    assert_int_equal(counts.failures, 0);
}

/* Each reset starts a new generation, so ids of an older one can be told apart. */
static void test_reset_counts_generations(void **state)
{
    (void)state;
    sf_fake *fake;
    assert_status(sf_fake_new(NULL, &fake, NULL), SF_OK);
    assert_int_equal(sf_fake_generation(fake), 0);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    assert_int_equal(sf_fake_generation(fake), 2);
    assert_int_equal(sf_fake_generation(NULL), 0);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_counts_generations),
        cmocka_unit_test(stream_sids_do_not_depend_on_messages_published_in_between),
        cmocka_unit_test(message_sids_do_not_depend_on_streams_or_services_created_in_between),
        cmocka_unit_test(a_publish_without_out_still_spends_one_message_sid),
        cmocka_unit_test(rejected_calls_spend_no_sid),
        cmocka_unit_test(a_fake_without_options_uses_the_documented_defaults),
        cmocka_unit_test(options_init_fills_the_defaults),
        cmocka_unit_test(invalid_options_are_refused),
        cmocka_unit_test(limits_out_of_range_are_refused),
        cmocka_unit_test(limit_ceilings_and_a_callback_clock_are_allowed),
        cmocka_unit_test(the_fake_allocates_only_through_the_given_allocator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
