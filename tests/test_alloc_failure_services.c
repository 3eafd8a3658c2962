/* SPDX-License-Identifier: MIT */
/* test_alloc_failure_services.c: allocation failures in service and stream creation, update and
 * listing: each failed call changes nothing; the call that gets through matches a twin
 * without failures (tests/support/alloc_suite.h has the machinery). */
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
/* Services                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void test_service_create_with_strings_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_service_params p = {.friendly_name = "Friendly",
                           .webhook_url = "https://hooks.example.com/sync",
                           .acl_enabled = SF_BOOL_TRUE,
                           .has_reachability_debouncing_window = true,
                           .reachability_debouncing_window = 2000};
    op_ctx ctx = {.params = &p};
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 3); /* service, friendly name, webhook */
    /* only a webhook */
    sf_service_params w = {.webhook_url = "http://h.example/x"};
    ctx.params = &w;
    rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 2);
    /* no parameters */
    ctx.params = NULL;
    rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 1);
    alloc_twin_free(twin, &talloc);
}

/* With no service left the services table is gone: the next create builds it again. */
static void test_service_create_first_service_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    assert_status(sf_service_remove(fx->fake, NULL, fx->service_sid, NULL), SF_OK);
    assert_status(sf_service_remove(twin, NULL, fx->service_sid, NULL), SF_OK);
    sf_service_params p = {.friendly_name = "first"};
    op_ctx ctx = {.params = &p};
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 4); /* service, name, table, buckets */
    alloc_twin_free(twin, &talloc);
}

static void test_service_create_fails_cleanly_when_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    long at = first_growth(op_service_create, &ctx, 1, 3000);
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    for (long i = 0; i < at; i++) {
        assert_status(sf_service_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
        assert_status(sf_service_create(twin, NULL, NULL, NULL, NULL), SF_OK);
    }
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 2); /* the record and the new buckets */
    alloc_twin_free(twin, &talloc);
}

/* A service in another account: creating it resolves that account. */
static void test_service_create_in_other_account_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_account_record acct;
    assert_status(sf_account_create(fx->fake, NULL, &acct, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    sf_service_params p = {.friendly_name = "elsewhere"};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.account_sid, acct.sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 5); /* service, name, the account's list index (3 arrays) */
    alloc_twin_free(twin, &talloc);
}

static void test_service_update_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    /* the service already has strings: a failed update must keep the old ones */
    sf_service_params first = {.friendly_name = "old name", .webhook_url = "https://old.example"};
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &first, NULL, NULL), SF_OK);
    assert_status(sf_service_update(twin, NULL, fx->service_sid, &first, NULL, NULL), SF_OK);
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_status(sf_clock_advance(twin, 1000, NULL), SF_OK);

    sf_service_params p = {.friendly_name = "new name",
                           .webhook_url = "https://new.example/hook",
                           .reachability_webhooks_enabled = SF_BOOL_TRUE,
                           .webhooks_from_rest_enabled = SF_BOOL_FALSE};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_service_update, &ctx);
    assert_int_equal(rep.failed, 2);
    sf_service_params w = {.webhook_url = "https://newer.example/hook"};
    ctx.params = &w;
    rep = oom_loop(fx, twin, op_service_update, &ctx);
    assert_int_equal(rep.failed, 1);
    alloc_twin_free(twin, &talloc);
}

static void test_service_update_of_flags_only_needs_no_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_service_params p = {.acl_enabled = SF_BOOL_TRUE,
                           .reachability_debouncing_enabled = SF_BOOL_TRUE,
                           .has_reachability_debouncing_window = true,
                           .reachability_debouncing_window = 30000};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_service_update, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_service_record rec;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &rec, NULL), SF_OK);
    assert_true(rec.acl_enabled);
    assert_int_equal(rec.reachability_debouncing_window, 30000);
    alloc_twin_free(twin, &talloc);
}

static void test_service_list_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    for (int i = 0; i < 4; i++) {
        assert_status(sf_service_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
        assert_status(sf_service_create(twin, NULL, NULL, NULL, NULL), SF_OK);
    }
    sf_page_params pp = {.has_page_size = true, .page_size = 2, .has_page = true, .page = 1};
    op_ctx ctx = {.params = &pp};
    oom_report rep = oom_loop(fx, twin, op_service_list, &ctx);
    assert_int_equal(rep.failed, 2); /* the page and its records */
    ctx.params = NULL;
    rep = oom_loop(fx, twin, op_service_list, &ctx);
    assert_int_equal(rep.failed, 2);
    /* an empty page (an account without services) */
    sf_account_record acct;
    assert_status(sf_account_create(fx->fake, NULL, &acct, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    memcpy(ctx.account_sid, acct.sid, SF_SID_SIZE);
    rep = oom_loop(fx, twin, op_service_list, &ctx);
    assert_int_equal(rep.failed, 2);
    alloc_twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* Streams                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_create_plain_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    /* the fake's first stream also builds the SID table and the service's list index */
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 5); /* stream, SID table, list index (3 arrays) */
    rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 1);
    alloc_twin_free(twin, &talloc);
}

/* First named stream of the fake: stream, name, SID table, name table (2 blocks),
 * the service's list index (3 arrays). Failing the name table makes the create take the
 * stream out of the SID table again. */
static void test_stream_create_with_unique_name_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_stream_params p = {.unique_name = "first-name"};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 8);
    /* a later named stream: stream and name only */
    sf_stream_params q = {.unique_name = "second name, with \xc3\xa9 UTF-8"};
    ctx.params = &q;
    rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 2);
    alloc_twin_free(twin, &talloc);
}

/* The first named stream of a service whose SID table already exists: the name table's
 * blocks are the last allocations, so failing them undoes a successful SID table insert. */
static void test_stream_create_first_named_stream_fails_cleanly_when_sid_table_exists(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_streams(fx->fake, fx->service_sid, 3, -1);
    alloc_make_streams(twin, fx->service_sid, 3, -1);
    sf_stream_params p = {.unique_name = "only-name", .has_ttl = true, .ttl = 0};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 4); /* stream, name, name table, its buckets */
    alloc_twin_free(twin, &talloc);
}

static void test_stream_create_with_ttl_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    /* one expiring stream already: the timer heap exists and has room */
    alloc_make_stream(fx->fake, fx->service_sid, NULL, 100, NULL);
    alloc_make_stream(twin, fx->service_sid, NULL, 100, NULL);
    sf_stream_params p = {.has_ttl = true, .ttl = 50};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(sf_pending_events(fx->fake), 2 + 1); /* + the probe's stream */
    /* name and TTL */
    sf_stream_params q = {.unique_name = "expiring", .has_ttl = true, .ttl = 31536000};
    ctx.params = &q;
    rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 4); /* stream, name, the service's name table (2 blocks) */
    alloc_twin_free(twin, &talloc);
}

/* 64 armed timers fill the heap's first block: the next expiring stream must held_grow it. */
static void test_stream_create_with_ttl_fails_cleanly_when_timer_heap_must_grow(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_stream(fx->fake, fx->service_sid, "named-first", -1,
                      NULL); /* builds the name table */
    alloc_make_stream(twin, fx->service_sid, "named-first", -1, NULL);
    alloc_make_streams(fx->fake, fx->service_sid, 64, 10);
    alloc_make_streams(twin, fx->service_sid, 64, 10);
    sf_stream_params p = {.unique_name = "sixty-fifth", .has_ttl = true, .ttl = 5};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 3); /* stream, name, heap */
    assert_int_equal(sf_pending_events(fx->fake), 65 + 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, SF_DEFAULT_EPOCH_MS + 5000);
    /* the streams still expire when their time comes */
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "sixty-fifth", NULL, NULL),
                  SF_ERR_NOT_FOUND);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0 + 0); /* the probe's 7 s stream is gone */
    alloc_twin_free(twin, &talloc);
}

/* The fake's first expiring stream: the timer heap is created inside the call. When a later
 * allocation of the same call fails, the fake must hold exactly the blocks it held before. */
static void test_stream_create_first_expiring_stream_failure_keeps_block_count(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    sf_stream_params p = {.has_ttl = true, .ttl = 60};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 6); /* stream, SID table, list index (3 arrays), timer heap */
    alloc_twin_free(twin, &talloc);
}

static void test_stream_create_fails_cleanly_when_sid_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    long at = first_growth(op_stream_create, &ctx, 1, 3000);
    /* the SID table doubles when a create would fill more than half of its 16 slots */
    assert_int_equal(at, 8);
    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    alloc_make_streams(fx->fake, fx->service_sid, at, -1);
    alloc_make_streams(twin, fx->service_sid, at, -1);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 2); /* the stream and the doubled table */
    alloc_twin_free(twin, &talloc);
}

/* Named streams: find the first create whose name table (not the SID table) must held_grow. The
 * SIDs are the same whether streams are named or not, so the SID table grows at the same
 * creates in both runs; a named create allocating more than that is a name table growth. */
static void test_stream_create_fails_cleanly_when_name_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    enum { MAX = 3000 };
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    long *named = calloc(MAX, sizeof *named), *plain = calloc(MAX, sizeof *plain);
    assert_non_null(named);
    assert_non_null(plain);
    allocs_per_call(op_stream_create_indexed, ctx, MAX, named);
    allocs_per_call(op_stream_create, ctx, MAX, plain);
    long at = -1;
    for (long i = 1; i < MAX && at < 0; i++)
        if (named[i] - 1 > plain[i])
            at = i;
    free(named);
    free(plain);
    if (at < 0)
        fail_msg("the name table never grew in %d creates", MAX);

    static sf_test_alloc talloc;
    sf_fake *twin = alloc_twin_new(&talloc, fx->service_sid);
    static op_result res_buf;
    op_result *res = &res_buf;
    for (long i = 0; i < at; i++) {
        ctx.index = i;
        assert_status(op_stream_create_indexed(fx->fake, &ctx, res, NULL), SF_OK);
        assert_status(op_stream_create_indexed(twin, &ctx, res, NULL), SF_OK);
    }
    ctx.index = at;
    oom_report rep = oom_loop(fx, twin, op_stream_create_indexed, &ctx);
    assert_true(rep.failed >= 3); /* stream, name, the name table's new buckets */
    alloc_twin_free(twin, &talloc);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, alloc_teardown)
#define S(name) cmocka_unit_test_teardown(name, alloc_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_service_create_with_strings_fails_cleanly),
        T(test_service_create_first_service_fails_cleanly),
        T(test_service_create_fails_cleanly_when_table_must_grow),
        T(test_service_create_in_other_account_fails_cleanly),
        T(test_service_update_fails_cleanly_at_every_allocation),
        T(test_service_update_of_flags_only_needs_no_allocation),
        T(test_service_list_fails_cleanly_at_every_allocation),
        T(test_stream_create_plain_fails_cleanly),
        T(test_stream_create_with_unique_name_fails_cleanly),
        T(test_stream_create_first_named_stream_fails_cleanly_when_sid_table_exists),
        T(test_stream_create_with_ttl_fails_cleanly),
        T(test_stream_create_with_ttl_fails_cleanly_when_timer_heap_must_grow),
        T(test_stream_create_first_expiring_stream_failure_keeps_block_count),
        T(test_stream_create_fails_cleanly_when_sid_table_must_grow),
        T(test_stream_create_fails_cleanly_when_name_table_must_grow),
    };
    return cmocka_run_group_tests_name("alloc_failure_services", tests, NULL, NULL);
}
