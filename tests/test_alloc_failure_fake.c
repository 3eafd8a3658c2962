/* SPDX-License-Identifier: MIT */
/* test_alloc_failure_fake.c: allocation failures in sf_fake_new, sf_fake_reset, accounts and API
 * keys: with its Nth allocation failed (N = 1, 2, ...) each call fails with SF_ERR_NOMEM
 * and changes nothing (state, SIDs, blocks), or succeeds as on a twin without failures
 * (tests/support/alloc_suite.h has the machinery). */
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
#include "alloc_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* sf_fake_new and sf_fake_reset                                                             */
/* ---------------------------------------------------------------------------------------- */

static void fake_new_loop(sf_options *opts)
{
    static sf_test_alloc alloc;
    long failed = 0;
    sf_fake *fake = NULL;
    for (long n = 1;; n++) {
        assert_true(n < 1000);
        memset(&alloc, 0, sizeof alloc);
        alloc.fail_at = n;
        opts->allocator = sf_test_allocator(&alloc);
        fake = (sf_fake *)(uintptr_t)1; /* must be overwritten */
        sf_error err;
        memset(&err, 0x5a, sizeof err);
        sf_status st = sf_fake_new(opts, &fake, &err);
        alloc.fail_at = 0;
        if (alloc.failures == 0) {
            assert_status(st, SF_OK);
            assert_non_null(fake);
            hold_fake(fake);
            assert_status(err.status, SF_OK);
            break;
        }
        if (st != SF_ERR_NOMEM)
            fail_msg("N=%ld: status %s, want SF_ERR_NOMEM", n, sf_status_name(st));
        sf_assert_twilio_error(&err, 500, 20500);
        assert_string_equal(err.message, "Internal Server Error");
        assert_null(fake);
        if (alloc.live != 0)
            fail_msg("N=%ld: %ld blocks left behind by a failed sf_fake_new", n, alloc.live);
        failed++;
    }
    /* fake, scratch buffers and the default account with its table: at least five */
    assert_true(failed >= 5);

    /* the survivor behaves exactly like a fake made with the C library's allocator */
    sf_options plain = *opts;
    memset(&plain.allocator, 0, sizeof plain.allocator);
    sf_fake *twin = NULL;
    assert_status(sf_fake_new(&plain, &twin, NULL), SF_OK);
    hold_fake(twin);
    assert_string_equal(sf_fake_account_sid(fake), sf_fake_account_sid(twin));
    assert_string_equal(sf_fake_auth_token(fake), sf_fake_auth_token(twin));
    assert_string_equal(sf_fake_options(fake)->base_url, sf_fake_options(twin)->base_url);
    assert_int_equal(sf_clock_now(fake), sf_clock_now(twin));
    probe a, b;
    probe_run(twin, &a);
    probe_run(fake, &b);
    probe_assert_equal(&a, &b);
    unhold_fake(twin);
    unhold_fake(fake);
    sf_fake_free(twin);
    sf_fake_free(fake);
    assert_int_equal(alloc.live, 0);
}

static void test_fake_new_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    fake_new_loop(&opts);
}

static void test_fake_new_with_given_credentials_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    char sid[SF_SID_SIZE];
    snprintf(sid, sizeof sid, "AC%032d", 7);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 9;
    opts.account_sid = sid;
    opts.auth_token = "token-of-the-default-account";
    opts.base_url = "http://127.0.0.1:8080";
    opts.limits.max_data_bytes = 64;
    fake_new_loop(&opts);
}

/* After a run of failed sf_fake_new calls nothing is left in a bad way: a fake with default
 * options (the C library's allocator) works end to end. */
static void test_default_fake_works_after_failed_creations(void **state)
{
    (void)state;
    static sf_test_alloc alloc;
    sf_options opts;
    sf_options_init(&opts);
    for (long n = 1; n <= 4; n++) {
        memset(&alloc, 0, sizeof alloc);
        alloc.fail_at = n;
        opts.allocator = sf_test_allocator(&alloc);
        sf_fake *fake = NULL;
        assert_status(sf_fake_new(&opts, &fake, NULL), SF_ERR_NOMEM);
        assert_null(fake);
        assert_int_equal(alloc.live, 0);
    }
    sf_fake *fake = NULL;
    sf_error err;
    assert_status(sf_fake_new(NULL, &fake, &err), SF_OK);
    assert_non_null(fake);
    hold_fake(fake);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, &err), SF_OK);
    sf_stream_params p = {.unique_name = "after-failures", .has_ttl = true, .ttl = 60};
    sf_stream_record stream;
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, &stream, &err), SF_OK);
    sf_publish_params pub = {.data = "{\"ok\":1}", .data_len = 8};
    sf_message_record msg;
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "after-failures", &pub, &msg, &err),
                  SF_OK);
    assert_true(sf_sid_is(msg.sid, "TZ"));
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, svc.sid, NULL, &page, &err), SF_OK);
    assert_int_equal(page->info.count, 1);
    assert_string_equal(page->records[0].sid, stream.sid);
    sf_stream_page_free(fake, page);
    assert_status(sf_clock_advance(fake, 60000, &err), SF_OK);
    assert_status(sf_stream_fetch(fake, NULL, svc.sid, stream.sid, NULL, &err), SF_ERR_NOT_FOUND);
    unhold_fake(fake);
    sf_fake_free(fake);
}

/* A history with something of everything: services, named and expiring streams, an account,
 * a key, a subscriber with a delivery in flight, a fault rule, an injected error. */
static void rich_history(sf_fake *fake, const char *service_sid)
{
    sf_error err;
    sf_stream_record alpha;
    alloc_make_stream(fake, service_sid, "alpha", -1, &alpha);
    alloc_make_stream(fake, service_sid, NULL, 30, NULL);
    sf_service_params sp = {.friendly_name = "second", .webhook_url = "https://example.com/h"};
    sf_service_record svc2;
    assert_status(sf_service_create(fake, NULL, &sp, &svc2, &err), SF_OK);
    alloc_make_stream(fake, svc2.sid, "beta", 5, NULL);
    sf_account_record acct;
    assert_status(sf_account_create(fake, NULL, &acct, &err), SF_OK);
    assert_status(sf_api_key_create(fake, acct.sid, NULL, NULL, &err), SF_OK);
    sf_subscribe_params sub = {.on_event = alloc_count_event};
    assert_status(sf_subscribe(fake, NULL, service_sid, "alpha", &sub, NULL, &err), SF_OK);
    sf_fault_params delay = {.scope = SF_SCOPE_STREAM, .stream_sid = alpha.sid, .delay_ms = 500};
    assert_status(sf_fault_add(fake, &delay, NULL, &err), SF_OK);
    sf_publish_params pub = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(fake, NULL, service_sid, "alpha", &pub, NULL, &err), SF_OK);
    sf_error_injection inj = {.op = SF_OP_STREAM_REMOVE, .count = 1, .http_status = 503};
    assert_status(sf_inject_error(fake, &inj, &err), SF_OK);
    assert_status(sf_clock_advance(fake, 123, &err), SF_OK);
    assert_int_equal(sf_pending_deliveries(fake), 1);
}

/* A new fake like the fixture's, before its service (what a reset must repeat). */
static sf_fake *fresh_new(sf_test_alloc *alloc)
{
    memset(alloc, 0, sizeof *alloc);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.allocator = sf_test_allocator(alloc);
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    hold_fake(fake);
    return fake;
}

/* One reset with the fake's N-th allocation failed: the options' strings stay the live
 * default account (account_sid). Returns true when it got through without meeting the
 * failure; else it failed with NOMEM and changed nothing, blocks included. */
static bool reset_with_nth_alloc_failed(sf_fixture *fx, long n, const char *account_sid)
{
    snapshot before, after;
    snap_take(fx->fake, &fx->alloc, &before);
    long live = fx->alloc.live, failures = fx->alloc.failures;
    sf_error err;
    memset(&err, 0x5a, sizeof err);
    fx->alloc.fail_at = fx->alloc.calls + n;
    sf_status st = sf_fake_reset(fx->fake, &err);
    fx->alloc.fail_at = 0;
    bool hit = fx->alloc.failures > failures;
    const sf_options *opts = sf_fake_options(fx->fake);
    /* compared as pointers: no dereference of what may have been freed */
    assert_ptr_equal(opts->account_sid, sf_fake_account_sid(fx->fake));
    assert_ptr_equal(opts->auth_token, sf_fake_auth_token(fx->fake));
    assert_non_null(sf_fake_account_sid(fx->fake));
    assert_string_equal(sf_fake_account_sid(fx->fake), account_sid);
    if (st == SF_OK && !hit) {
        assert_status(err.status, SF_OK);
        snap_free(&before);
        return true;
    }
    if (st != SF_ERR_NOMEM)
        fail_msg("N=%ld: reset answered %s (failure %s)", n, sf_status_name(st),
                 hit ? "met" : "not met");
    sf_assert_twilio_error(&err, 500, 20500);
    snap_take(fx->fake, &fx->alloc, &after);
    snap_assert_equal(&before, &after);
    snap_free(&before);
    snap_free(&after);
    assert_int_equal(fx->alloc.live, live);
    return false;
}

/* The reset fixture fake repeats a new one (fresh): same state, same next service, same
 * probe answers. */
static void check_reset_repeats_fresh(sf_fixture *fx, sf_fake *fresh)
{
    snapshot a, b;
    snap_take(fresh, NULL, &a);
    snap_take(fx->fake, NULL, &b);
    snap_assert_equal(&a, &b);
    snap_free(&a);
    snap_free(&b);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    sf_service_record s1, s2;
    assert_status(sf_service_create(fresh, NULL, NULL, &s1, NULL), SF_OK);
    assert_status(sf_service_create(fx->fake, NULL, NULL, &s2, NULL), SF_OK);
    assert_string_equal(s1.sid, fx->service_sid);
    assert_memory_equal(&s1, &s2, sizeof s1);
    probe pa, pb;
    probe_run(fresh, &pa);
    probe_run(fx->fake, &pb);
    probe_assert_equal(&pa, &pb);
}

/* Contract: a failed call changes nothing. A reset may fail only with SF_ERR_NOMEM, leaving
 * everything (services, streams, subscribers, rules, the default account, the options'
 * strings) where it was; or it gets through and the fake repeats a new one. */
static void test_fake_reset_fails_cleanly_or_repeats_a_new_fake(void **state)
{
    sf_fixture *fx = *state;
    rich_history(fx->fake, fx->service_sid);
    const char *sid = sf_fake_account_sid(fx->fake);
    char account_sid[SF_SID_SIZE];
    snprintf(account_sid, sizeof account_sid, "%s", sid);
    for (long n = 1;; n++) {
        assert_true(n < 1000);
        if (reset_with_nth_alloc_failed(fx, n, account_sid))
            break;
    }

    /* a reset fake repeats a new one */
    static sf_test_alloc talloc;
    sf_fake *fresh = fresh_new(&talloc);
    check_reset_repeats_fresh(fx, fresh);
    /* the injected error and the subscriber went with the reset */
    sf_stream_record rec;
    alloc_make_stream(fx->fake, fx->service_sid, "after-reset", -1, &rec);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, rec.sid, NULL), SF_OK);
    sf_subscriber_stats stats;
    assert_status(sf_subscriber_stats_get(fx->fake, 1, &stats, NULL), SF_ERR_INVALID_ARGUMENT);
    long seen = events_seen;
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_int_equal(events_seen, seen);
    alloc_twin_free(fresh, &talloc);
}

/* sf_fake_options() keeps pointing at the live default account after resets, failed or not. */
static void test_fake_reset_keeps_options_strings_valid(void **state)
{
    sf_fixture *fx = *state;
    char sid[SF_SID_SIZE], token[SF_SECRET_CAP];
    snprintf(sid, sizeof sid, "%s", sf_fake_account_sid(fx->fake));
    snprintf(token, sizeof token, "%s", sf_fake_auth_token(fx->fake));
    for (long n = 0; n <= 3; n++) {
        fx->alloc.fail_at = n ? fx->alloc.calls + n : 0;
        sf_status st = sf_fake_reset(fx->fake, NULL);
        fx->alloc.fail_at = 0;
        assert_true(st == SF_OK || st == SF_ERR_NOMEM);
        const sf_options *opts = sf_fake_options(fx->fake);
        assert_ptr_equal(opts->account_sid, sf_fake_account_sid(fx->fake));
        assert_ptr_equal(opts->auth_token, sf_fake_auth_token(fx->fake));
        assert_non_null(opts->account_sid);
        assert_string_equal(opts->account_sid, sid);
        assert_string_equal(opts->auth_token, token);
        char who[SF_SID_SIZE];
        assert_status(sf_authenticate(fx->fake, sid, token, who, NULL), SF_OK);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Accounts and API keys                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_account_create_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    op_ctx ctx = {.params = NULL};
    oom_report rep = oom_loop(fx, twin, op_account_create, &ctx);
    assert_int_equal(rep.failed, 1);
    /* with a given SID and token */
    char sid[SF_SID_SIZE];
    snprintf(sid, sizeof sid, "AC%032x", 0xabcdef);
    sf_account_params p = {.sid = sid, .auth_token = "given-token"};
    ctx.params = &p;
    rep = oom_loop(fx, twin, op_account_create, &ctx);
    assert_int_equal(rep.failed, 1);
    alloc_twin_free(twin, &talloc);
}

static sf_status op_account_create_minted(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                          sf_error *err)
{
    (void)ctx;
    return sf_account_create(fake, NULL, &res->account, err);
}

static void test_account_create_fails_cleanly_when_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    long at = first_growth(op_account_create_minted, &ctx, 1, 3000);
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    for (long i = 0; i < at; i++) {
        assert_status(sf_account_create(fx->fake, NULL, NULL, NULL), SF_OK);
        assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    }
    oom_report rep = oom_loop(fx, twin, op_account_create_minted, &ctx);
    assert_int_equal(rep.failed, 2); /* the account and the new buckets */
    alloc_twin_free(twin, &talloc);
}

static void test_api_key_create_first_key_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    op_ctx ctx = {.params = NULL};
    oom_report rep = oom_loop(fx, twin, op_api_key_create, &ctx);
    /* the key, then the table and its buckets (the probe has made keys since) */
    assert_int_equal(rep.failed, 3);
    /* a key with a given SID and secret for another account */
    sf_account_record acct;
    assert_status(sf_account_create(fx->fake, NULL, &acct, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    char sid[SF_SID_SIZE];
    snprintf(sid, sizeof sid, "SK%032x", 0x5eed);
    sf_api_key_params p = {.sid = sid, .secret = "given-secret"};
    ctx.params = &p;
    memcpy(ctx.account_sid, acct.sid, SF_SID_SIZE);
    rep = oom_loop(fx, twin, op_api_key_create, &ctx);
    assert_int_equal(rep.failed, 1);
    alloc_twin_free(twin, &talloc);
}

static sf_status op_api_key_create_minted(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                          sf_error *err)
{
    (void)ctx;
    return sf_api_key_create(fake, NULL, NULL, &res->key, err);
}

static void test_api_key_create_fails_cleanly_when_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    long at = first_growth(op_api_key_create_minted, &ctx, 1, 3000);
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    for (long i = 0; i < at; i++) {
        assert_status(sf_api_key_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
        assert_status(sf_api_key_create(twin, NULL, NULL, NULL, NULL), SF_OK);
    }
    oom_report rep = oom_loop(fx, twin, op_api_key_create_minted, &ctx);
    assert_int_equal(rep.failed, 2); /* the record and the new buckets */
    alloc_twin_free(twin, &talloc);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, alloc_teardown)
#define S(name) cmocka_unit_test_teardown(name, alloc_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        S(test_fake_new_fails_cleanly_at_every_allocation),
        S(test_fake_new_with_given_credentials_fails_cleanly_at_every_allocation),
        S(test_default_fake_works_after_failed_creations),
        T(test_fake_reset_fails_cleanly_or_repeats_a_new_fake),
        T(test_fake_reset_keeps_options_strings_valid),
        T(test_account_create_fails_cleanly_at_every_allocation),
        T(test_account_create_fails_cleanly_when_table_must_grow),
        T(test_api_key_create_first_key_fails_cleanly),
        T(test_api_key_create_fails_cleanly_when_table_must_grow),
    };
    return cmocka_run_group_tests_name("alloc_failure_fake", tests, NULL, NULL);
}
