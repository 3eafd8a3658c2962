/* SPDX-License-Identifier: MIT */
/* alloc_suite.c: see alloc_suite.h. */
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

static void *held_blocks[HELD_MAX]; /* snapshot arrays */
static sf_fake *held_fakes[HELD_MAX];

int held_slot(void *const *list, const void *p)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (list[i] == p)
            return i;
    fail_msg("too many held objects");
    return -1;
}

void swap_held(void **list, void *from, void *to) { list[held_slot(list, from)] = to; }

static sf_test_alloc *twin_alloc_of[HELD_MAX]; /* the counting allocator of held_fakes[i] */

void hold_fake(sf_fake *fake)
{
    int slot = held_slot((void *const *)held_fakes, NULL);
    held_fakes[slot] = fake;
    twin_alloc_of[slot] = NULL;
}

void unhold_fake(sf_fake *fake) { swap_held((void **)held_fakes, fake, NULL); }

void *held_grow(void *p, size_t n, size_t size)
{
    int slot = held_slot(held_blocks, p);
    void *q = realloc(p, (n ? n : 1) * size);
    assert_non_null(q);
    held_blocks[slot] = q;
    return q;
}

void block_free(void *p)
{
    if (p) {
        swap_held(held_blocks, p, NULL);
        free(p);
    }
}

void snap_free(snapshot *s)
{
    block_free(s->services);
    block_free(s->service_tokens);
    block_free(s->streams);
    block_free(s->rates);
    block_free(s->stats);
    block_free(s->stream_tokens);
    memset(s, 0, sizeof *s);
}

void push_token(char (**tokens)[SF_PAGE_TOKEN_SIZE], size_t *n, const char *token)
{
    *tokens = held_grow(*tokens, *n + 1, sizeof **tokens);
    memset((*tokens)[*n], 0, SF_PAGE_TOKEN_SIZE);
    snprintf((*tokens)[*n], SF_PAGE_TOKEN_SIZE, "%s", token);
    (*n)++;
}

/* The clock, pending work, fault rules, subscriber stats and account of the snapshot. */
static void snap_take_clock_and_subscribers(sf_fake *fake, snapshot *s)
{
    s->now = sf_clock_now(fake);
    s->pending = sf_pending_events(fake);
    s->deliveries = sf_pending_deliveries(fake);
    s->nfaults = sf_fault_list(fake, s->faults, SNAP_FAULTS);
    for (sf_subscriber_id id = 1; id <= SNAP_SUBS; id++)
        s->sub_status[id - 1] = sf_subscriber_stats_get(fake, id, &s->subs[id - 1], NULL);
    s->has_next_event = sf_next_event_time(fake, &s->next_event);
    const char *acct = sf_fake_account_sid(fake);
    s->has_account = acct != NULL;
    if (acct) {
        snprintf(s->account_sid, sizeof s->account_sid, "%s", acct);
        snprintf(s->auth_token, sizeof s->auth_token, "%s", sf_fake_auth_token(fake));
    }
}

/* Every page of the default account's services, keeping the records and next-page tokens. */
static void snap_take_services(sf_fake *fake, snapshot *s)
{
    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (;;) {
        sf_page_params pp = {
            .has_page_size = true, .page_size = 100, .page_token = token[0] ? token : NULL};
        sf_service_page *page = NULL;
        s->services_status = sf_service_list(fake, NULL, &pp, &page, NULL);
        if (s->services_status != SF_OK)
            break;
        s->services = held_grow(s->services, s->nservices + page->info.count, sizeof *s->services);
        memcpy(s->services + s->nservices, page->records, page->info.count * sizeof *s->services);
        s->nservices += page->info.count;
        bool more = page->info.has_next;
        if (more) {
            snprintf(token, sizeof token, "%s", page->info.next_token);
            push_token(&s->service_tokens, &s->nservice_tokens, token);
        }
        sf_service_page_free(fake, page);
        if (!more)
            break;
    }
}

/* Appends one page of streams of service svc_sid with each stream's rate state and stats. */
static void snap_add_stream_page(sf_fake *fake, const char *svc_sid, const sf_stream_page *page,
                                 snapshot *s)
{
    size_t n = s->nstreams + page->info.count;
    s->streams = held_grow(s->streams, n, sizeof *s->streams);
    s->rates = held_grow(s->rates, n, sizeof *s->rates);
    s->stats = held_grow(s->stats, n, sizeof *s->stats);
    memcpy(s->streams + s->nstreams, page->records, page->info.count * sizeof *s->streams);
    for (size_t k = s->nstreams; k < n; k++) {
        memset(&s->rates[k], 0, sizeof s->rates[k]);
        assert_status(
            sf_stream_rate_state(fake, NULL, svc_sid, s->streams[k].sid, &s->rates[k], NULL),
            SF_OK);
        memset(&s->stats[k], 0, sizeof s->stats[k]);
        assert_status(
            sf_stream_stats_get(fake, NULL, svc_sid, s->streams[k].sid, &s->stats[k], NULL), SF_OK);
    }
    s->nstreams = n;
}

/* Every page of each service's streams, keeping the next-page tokens; a failed list sets
 * streams_status. */
static void snap_take_streams(sf_fake *fake, snapshot *s)
{
    char token[SF_PAGE_TOKEN_SIZE];
    s->streams_status = SF_OK;
    for (size_t i = 0; i < s->nservices; i++) {
        token[0] = '\0';
        for (;;) {
            sf_page_params pp = {
                .has_page_size = true, .page_size = 100, .page_token = token[0] ? token : NULL};
            sf_stream_page *page = NULL;
            sf_status st = sf_stream_list(fake, NULL, s->services[i].sid, &pp, &page, NULL);
            if (st != SF_OK) {
                s->streams_status = st;
                break;
            }
            snap_add_stream_page(fake, s->services[i].sid, page, s);
            bool more = page->info.has_next;
            if (more) {
                snprintf(token, sizeof token, "%s", page->info.next_token);
                push_token(&s->stream_tokens, &s->nstream_tokens, token);
            }
            sf_stream_page_free(fake, page);
            if (!more)
                break;
        }
    }
}

/* Walks every page of the default account's services and of each service's streams. The
 * page tokens are kept too: they encode the creation numbers of the records. */
void snap_take(sf_fake *fake, sf_test_alloc *alloc, snapshot *s)
{
    long fail_at = alloc ? alloc->fail_at : 0;
    if (alloc)
        alloc->fail_at = 0;
    memset(s, 0, sizeof *s);
    snap_take_clock_and_subscribers(fake, s);
    snap_take_services(fake, s);
    snap_take_streams(fake, s);
    if (alloc)
        alloc->fail_at = fail_at;
}

void fault_assert_equal(const sf_fault_info *want, const sf_fault_info *got)
{
    assert_int_equal(got->id, want->id);
    assert_int_equal(got->params.scope, want->params.scope);
    assert_string_equal(got->stream_sid, want->stream_sid);
    assert_int_equal(got->params.subscriber, want->params.subscriber);
    assert_true(got->params.drop_rate == want->params.drop_rate);
    assert_true(got->params.duplicate_rate == want->params.duplicate_rate);
    assert_int_equal(got->params.delay_ms, want->params.delay_ms);
    assert_int_equal(got->params.jitter_ms, want->params.jitter_ms);
    assert_int_equal(got->params.drop_next, want->params.drop_next);
    assert_int_equal(got->params.expiry_lag_ms, want->params.expiry_lag_ms);
    assert_int_equal(got->drop_next_left, want->drop_next_left);
    assert_int_equal(got->hits, want->hits);
}

void sub_assert_equal(const sf_subscriber_stats *want, const sf_subscriber_stats *got)
{
    assert_string_equal(got->stream_sid, want->stream_sid);
    assert_int_equal(got->attached, want->attached);
    assert_int_equal(got->held, want->held);
    assert_int_equal(got->connected, want->connected);
    assert_int_equal(got->delivered, want->delivered);
    assert_int_equal(got->duplicated, want->duplicated);
    assert_int_equal(got->dropped, want->dropped);
    assert_int_equal(got->lost, want->lost);
    assert_int_equal(got->in_flight, want->in_flight);
    assert_int_equal(got->parked, want->parked);
}

void snap_assert_equal(const snapshot *want, const snapshot *got)
{
    assert_int_equal(got->now, want->now);
    assert_int_equal(got->pending, want->pending);
    assert_int_equal(got->deliveries, want->deliveries);
    assert_int_equal(got->nfaults, want->nfaults);
    for (size_t i = 0; i < want->nfaults && i < SNAP_FAULTS; i++)
        fault_assert_equal(&want->faults[i], &got->faults[i]);
    for (int i = 0; i < SNAP_SUBS; i++) {
        assert_int_equal(got->sub_status[i], want->sub_status[i]);
        if (want->sub_status[i] == SF_OK)
            sub_assert_equal(&want->subs[i], &got->subs[i]);
    }
    assert_int_equal(got->has_next_event, want->has_next_event);
    if (want->has_next_event)
        assert_int_equal(got->next_event, want->next_event);
    assert_int_equal(got->has_account, want->has_account);
    assert_string_equal(got->account_sid, want->account_sid);
    assert_string_equal(got->auth_token, want->auth_token);
    assert_int_equal(got->services_status, want->services_status);
    assert_int_equal(got->nservices, want->nservices);
    for (size_t i = 0; i < want->nservices; i++)
        assert_memory_equal(&got->services[i], &want->services[i], sizeof want->services[i]);
    assert_int_equal(got->nservice_tokens, want->nservice_tokens);
    for (size_t i = 0; i < want->nservice_tokens; i++)
        assert_string_equal(got->service_tokens[i], want->service_tokens[i]);
    assert_int_equal(got->streams_status, want->streams_status);
    assert_int_equal(got->nstreams, want->nstreams);
    for (size_t i = 0; i < want->nstreams; i++) {
        assert_memory_equal(&got->streams[i], &want->streams[i], sizeof want->streams[i]);
        assert_int_equal(got->rates[i].tokens, want->rates[i].tokens);
        assert_int_equal(got->rates[i].capacity, want->rates[i].capacity);
        assert_int_equal(got->rates[i].limited, want->rates[i].limited);
        assert_int_equal(got->rates[i].next_allowed_ms, want->rates[i].next_allowed_ms);
        assert_int_equal(got->stats[i].messages_published, want->stats[i].messages_published);
        assert_int_equal(got->stats[i].subscribers, want->stats[i].subscribers);
    }
    assert_int_equal(got->nstream_tokens, want->nstream_tokens);
    for (size_t i = 0; i < want->nstream_tokens; i++)
        assert_string_equal(got->stream_tokens[i], want->stream_tokens[i]);
}

void probe_run(sf_fake *fake, probe *p)
{
    sf_error err;
    memset(p, 0, sizeof *p);
    assert_status(sf_account_create(fake, NULL, &p->account, &err), SF_OK);
    assert_status(sf_api_key_create(fake, NULL, NULL, &p->key, &err), SF_OK);
    assert_status(sf_service_create(fake, NULL, NULL, &p->service, &err), SF_OK);

    /* the last service of the list: its previous-page token carries its creation number */
    sf_service_page *spage = NULL;
    sf_page_params first = {.has_page_size = true, .page_size = 1};
    size_t nservices = 0;
    {
        sf_page_params all = {.has_page_size = true, .page_size = 100};
        char token[SF_PAGE_TOKEN_SIZE] = "";
        for (;;) {
            all.page_token = token[0] ? token : NULL;
            assert_status(sf_service_list(fake, NULL, &all, &spage, &err), SF_OK);
            nservices += spage->info.count;
            bool more = spage->info.has_next;
            snprintf(token, sizeof token, "%s", spage->info.next_token);
            sf_service_page_free(fake, spage);
            if (!more)
                break;
        }
    }
    sf_page_params last = {
        .has_page_size = true, .page_size = 1, .has_page = true, .page = (int64_t)nservices - 1};
    assert_status(sf_service_list(fake, NULL, &last, &spage, &err), SF_OK);
    assert_int_equal(spage->info.count, 1);
    assert_string_equal(spage->records[0].sid, p->service.sid);
    snprintf(p->service_prev_token, sizeof p->service_prev_token, "%s", spage->info.previous_token);
    sf_service_page_free(fake, spage);

    sf_stream_params ttl = {.has_ttl = true, .ttl = 7};
    assert_status(sf_stream_create(fake, NULL, p->service.sid, &ttl, &p->stream1, &err), SF_OK);
    sf_stream_params named = {.unique_name = "probe-stream"};
    assert_status(sf_stream_create(fake, NULL, p->service.sid, &named, &p->stream2, &err), SF_OK);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, p->service.sid, &first, &page, &err), SF_OK);
    assert_true(page->info.has_next);
    snprintf(p->stream_next_token, sizeof p->stream_next_token, "%s", page->info.next_token);
    sf_stream_page_free(fake, page);

    sf_publish_params pub = {.data = "{\"probe\": true}", .data_len = 15};
    sf_message_record msg;
    assert_status(sf_stream_publish(fake, NULL, p->service.sid, "probe-stream", &pub, &msg, &err),
                  SF_OK);
    assert_string_equal(msg.data, "{\"probe\":true}");
    memcpy(p->message_sid, msg.sid, SF_SID_SIZE);

    /* the new account's service list is identified by the account's creation number */
    assert_status(sf_service_create(fake, p->account.sid, NULL, &p->account_service1, &err), SF_OK);
    assert_status(sf_service_create(fake, p->account.sid, NULL, &p->account_service2, &err), SF_OK);
    assert_status(sf_service_list(fake, p->account.sid, &first, &spage, &err), SF_OK);
    assert_true(spage->info.has_next);
    snprintf(p->account_next_token, sizeof p->account_next_token, "%s", spage->info.next_token);
    sf_service_page_free(fake, spage);
}

void probe_assert_equal(const probe *want, const probe *got)
{
    assert_string_equal(got->account.sid, want->account.sid);
    assert_string_equal(got->account.auth_token, want->account.auth_token);
    assert_string_equal(got->key.sid, want->key.sid);
    assert_string_equal(got->key.secret, want->key.secret);
    assert_memory_equal(&got->service, &want->service, sizeof want->service);
    assert_string_equal(got->service_prev_token, want->service_prev_token);
    assert_memory_equal(&got->stream1, &want->stream1, sizeof want->stream1);
    assert_memory_equal(&got->stream2, &want->stream2, sizeof want->stream2);
    assert_string_equal(got->stream_next_token, want->stream_next_token);
    assert_string_equal(got->message_sid, want->message_sid);
    assert_memory_equal(&got->account_service1, &want->account_service1,
                        sizeof want->account_service1);
    assert_memory_equal(&got->account_service2, &want->account_service2,
                        sizeof want->account_service2);
    assert_string_equal(got->account_next_token, want->account_next_token);
}

/* A fake built like the fixture's (seed, manual clock, one service), but keeping no journal:
 * the journal is not part of what the snapshots compare, and without it every allocation a
 * twin makes is one of the call's own. It is held until alloc_twin_free, so `alloc` must outlive
 * the test function: callers pass static storage. */
sf_fake *alloc_twin_new(sf_test_alloc *alloc, const char *want_service_sid)
{
    memset(alloc, 0, sizeof *alloc);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.allocator = sf_test_allocator(alloc);
    opts.journal_capacity = 0;
    sf_fake *fake = NULL;
    sf_error err;
    assert_status(sf_fake_new(&opts, &fake, &err), SF_OK);
    hold_fake(fake);
    twin_alloc_of[held_slot((void *const *)held_fakes, fake)] = alloc;
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, &err), SF_OK);
    if (want_service_sid)
        assert_string_equal(svc.sid, want_service_sid);
    return fake;
}

void alloc_twin_free(sf_fake *fake, sf_test_alloc *alloc)
{
    unhold_fake(fake);
    sf_fake_free(fake);
    assert_int_equal(alloc->live, 0);
}

void result_release(sf_fake *fake, op_result *res)
{
    sf_service_page_free(fake, res->service_page);
    sf_stream_page_free(fake, res->stream_page);
    res->service_page = NULL;
    res->stream_page = NULL;
}

void page_info_assert_equal(const sf_page_info *want, const sf_page_info *got)
{
    assert_int_equal(got->page, want->page);
    assert_int_equal(got->page_size, want->page_size);
    assert_int_equal(got->count, want->count);
    assert_int_equal(got->has_next, want->has_next);
    assert_string_equal(got->next_token, want->next_token);
    assert_int_equal(got->has_previous, want->has_previous);
    assert_string_equal(got->previous_token, want->previous_token);
}

void result_assert_equal(const op_result *want, const op_result *got)
{
    assert_memory_equal(&got->service, &want->service, sizeof want->service);
    assert_memory_equal(&got->stream, &want->stream, sizeof want->stream);
    assert_memory_equal(&got->account, &want->account, sizeof want->account);
    assert_memory_equal(&got->key, &want->key, sizeof want->key);
    assert_string_equal(got->message_sid, want->message_sid);
    assert_string_equal(got->message_data, want->message_data);
    assert_int_equal(got->subscriber, want->subscriber);
    assert_int_equal(got->fault, want->fault);
    assert_int_equal(got->service_page != NULL, want->service_page != NULL);
    if (want->service_page) {
        page_info_assert_equal(&want->service_page->info, &got->service_page->info);
        for (size_t i = 0; i < want->service_page->info.count; i++)
            assert_memory_equal(&got->service_page->records[i], &want->service_page->records[i],
                                sizeof want->service_page->records[i]);
    }
    assert_int_equal(got->stream_page != NULL, want->stream_page != NULL);
    if (want->stream_page) {
        page_info_assert_equal(&want->stream_page->info, &got->stream_page->info);
        for (size_t i = 0; i < want->stream_page->info.count; i++)
            assert_memory_equal(&got->stream_page->records[i], &want->stream_page->records[i],
                                sizeof want->stream_page->records[i]);
    }
}

/* Failed calls that kept blocks: how many, and the first one's N and block count. */
typedef struct kept_blocks {
    long count, n, blocks;
} kept_blocks;

/* One turn of the loop: the op with its N-th allocation failed. Returns true when the call
 * went through (err then says OK); else checks it failed with NOMEM and changed nothing, and
 * notes in kept whether it kept blocks. */
static bool fail_nth_alloc(sf_fixture *fx, op_fn op, const op_ctx *ctx, op_result *res, long n,
                           kept_blocks *kept)
{
    sf_fake *fake = fx->fake;
    sf_test_alloc *alloc = &fx->alloc;
    snapshot before, after;
    snap_take(fake, alloc, &before);
    long live = alloc->live, calls = alloc->calls, failures = alloc->failures;
    memset(res, 0, sizeof *res);
    sf_error err;
    memset(&err, 0x5a, sizeof err);
    alloc->fail_at = calls + n;
    sf_status st = op(fake, ctx, res, &err);
    alloc->fail_at = 0;
    bool hit = alloc->failures > failures;
    if (st == SF_OK) {
        /* through: either the failure was not met, or it was absorbed (the comparison
         * with the twin below proves the call then fully succeeded) */
        assert_status(err.status, SF_OK);
        assert_int_equal(err.http_status, 200);
        assert_int_equal(err.code, 0);
        snap_free(&before);
        return true;
    }
    sf_assert_nomem_failure(st, &err, hit, n);
    assert_null(res->service_page);
    assert_null(res->stream_page);
    snap_take(fake, alloc, &after);
    snap_assert_equal(&before, &after);
    snap_free(&before);
    snap_free(&after);
    if (alloc->live != live) {
        /* reported after the loop, so that every N still gets its state checked */
        if (!kept->count++) {
            kept->n = n;
            kept->blocks = alloc->live - live;
        }
    }
    return false;
}

/* The op on the twin succeeds with the result the fake's call gave (res); then both fakes
 * have the same state and answer the probe alike. Returns the twin's clean allocations (-1
 * when it has no allocator). Releases both results. */
static long compare_with_twin(sf_fixture *fx, sf_fake *twin, op_fn op, const op_ctx *ctx,
                              op_result *res, op_result *twin_res)
{
    sf_fake *fake = fx->fake;
    sf_error err;
    sf_test_alloc *talloc = twin_alloc_of[held_slot((void *const *)held_fakes, twin)];
    long twin_calls = talloc ? talloc->calls : 0;
    assert_status(op(twin, ctx, twin_res, &err), SF_OK);
    long clean = talloc ? talloc->calls - twin_calls : -1;
    result_assert_equal(twin_res, res);
    result_release(fake, res);
    result_release(twin, twin_res);

    snapshot a, b;
    snap_take(twin, NULL, &a);
    snap_take(fake, &fx->alloc, &b);
    snap_assert_equal(&a, &b);
    snap_free(&a);
    snap_free(&b);
    probe pa, pb;
    probe_run(twin, &pa);
    probe_run(fake, &pb);
    probe_assert_equal(&pa, &pb);
    return clean;
}

/* The loop of the file comment, on the fixture's fake, then the comparison with `twin`, which
 * must have the same history. */
oom_report oom_loop(sf_fixture *fx, sf_fake *twin, op_fn op, const op_ctx *ctx)
{
    static op_result res_buf, twin_res_buf;
    oom_report rep = {0, 0};
    kept_blocks kept = {0, 0, 0}; /* failed calls that kept blocks */
    op_result *res = &res_buf, *twin_res = &twin_res_buf;
    memset(twin_res, 0, sizeof *twin_res);

    for (long n = 1;; n++) {
        assert_true(n < 10000);
        if (fail_nth_alloc(fx, op, ctx, res, n, &kept))
            break;
        rep.failed++;
    }
    rep.clean = compare_with_twin(fx, twin, op, ctx, res, twin_res);
    if (kept.count)
        fail_msg("%ld failed call(s) left blocks allocated: first at N=%ld (%+ld blocks); a "
                 "failed call must give back what it took",
                 kept.count, kept.n, kept.blocks);
    /* each allocation a clean call makes was failed in turn, and each failure failed it */
    if (rep.clean != -1)
        assert_int_equal(rep.failed, rep.clean);
    return rep;
}

sf_status op_account_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_account_create(fake, ctx->params, &res->account, err);
}

sf_status op_api_key_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_api_key_create(fake, ctx->account_sid[0] ? ctx->account_sid : NULL, ctx->params,
                             &res->key, err);
}

sf_status op_service_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_service_create(fake, ctx->account_sid[0] ? ctx->account_sid : NULL, ctx->params,
                             &res->service, err);
}

sf_status op_service_update(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_service_update(fake, NULL, ctx->service_sid, ctx->params, &res->service, err);
}

sf_status op_service_list(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_service_list(fake, ctx->account_sid[0] ? ctx->account_sid : NULL, ctx->params,
                           &res->service_page, err);
}

sf_status op_stream_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_stream_create(fake, NULL, ctx->service_sid, ctx->params, &res->stream, err);
}

/* A stream named after ctx->index (stream_name_for). */
void stream_name_for(long i, char out[32]) { snprintf(out, 32, "name-%05ld", i); }

sf_status op_stream_create_indexed(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    char name[32];
    stream_name_for(ctx->index, name);
    sf_stream_params p = {.unique_name = name};
    return sf_stream_create(fake, NULL, ctx->service_sid, &p, &res->stream, err);
}

sf_status op_stream_update(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_stream_update(fake, NULL, ctx->service_sid, ctx->stream_id, ctx->params, &res->stream,
                            err);
}

sf_status op_stream_list(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_stream_list(fake, NULL, ctx->service_sid, ctx->params, &res->stream_page, err);
}

sf_status op_stream_publish(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    sf_message_record msg;
    sf_status st =
        sf_stream_publish(fake, NULL, ctx->service_sid, ctx->stream_id, ctx->params, &msg, err);
    if (st == SF_OK) {
        memcpy(res->message_sid, msg.sid, SF_SID_SIZE);
        snprintf(res->message_data, sizeof res->message_data, "%.*s", (int)msg.data_len, msg.data);
    }
    return st;
}

sf_status op_subscribe(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_subscribe(fake, NULL, ctx->service_sid, ctx->stream_id, ctx->params, &res->subscriber,
                        err);
}

sf_status op_fault_add(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_fault_add(fake, ctx->params, &res->fault, err);
}

sf_status op_stream_remove(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    (void)res;
    return sf_stream_remove(fake, NULL, ctx->service_sid, ctx->stream_id, err);
}

sf_status op_service_remove(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    (void)res;
    return sf_service_remove(fake, NULL, ctx->service_sid, err);
}

sf_status op_inject_error(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    (void)res;
    return sf_inject_error(fake, ctx->params, err);
}

void alloc_make_stream(sf_fake *fake, const char *service_sid, const char *name, long long ttl,
                       sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = ttl >= 0, .ttl = ttl};
    sf_error err;
    sf_stream_record rec;
    sf_status st = sf_stream_create(fake, NULL, service_sid, &p, out ? out : &rec, &err);
    if (st != SF_OK)
        fail_msg("stream create: %d %s", err.code, err.message);
}

void alloc_make_streams(sf_fake *fake, const char *service_sid, long count, long long ttl)
{
    for (long i = 0; i < count; i++)
        alloc_make_stream(fake, service_sid, NULL, ttl, NULL);
}

/* Runs `op` with ctx->index = 0, 1, 2, ... on a scratch twin and returns the allocations each
 * call made (allocs[i], i < max). Tables held_grow on the same calls as on the fixture's fake, the
 * keys being the same. */
void allocs_per_call(op_fn op, op_ctx ctx, long max, long *allocs)
{
    static sf_test_alloc alloc;
    sf_fake *fake = alloc_twin_new(&alloc, ctx.service_sid[0] ? ctx.service_sid : NULL);
    static op_result res_buf;
    op_result *res = &res_buf;
    for (long i = 0; i < max; i++) {
        ctx.index = i;
        long calls = alloc.calls;
        sf_error err;
        assert_status(op(fake, &ctx, res, &err), SF_OK);
        allocs[i] = alloc.calls - calls;
        result_release(fake, res);
    }
    alloc_twin_free(fake, &alloc);
}

/* The first call that makes exactly one allocation more than `base`: a hash table's bucket
 * array doubling. (A list index growing reallocates its three arrays at once: +3, skipped.) */
long first_growth(op_fn op, const op_ctx *ctx, long base, long max)
{
    long *allocs = calloc((size_t)max, sizeof *allocs);
    assert_non_null(allocs);
    allocs_per_call(op, *ctx, max, allocs);
    long at = -1;
    for (long i = 1; i < max && at < 0; i++)
        if (allocs[i] == base + 1)
            at = i;
    free(allocs);
    if (at < 0)
        fail_msg("no table growth within %ld calls", max);
    return at;
}

/* Subscriber callbacks: count what arrives. */
long events_seen;
void alloc_count_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    (void)user;
    events_seen++;
}

static void release_held(void)
{
    for (int i = 0; i < HELD_MAX; i++) {
        free(held_blocks[i]);
        held_blocks[i] = NULL;
        if (held_fakes[i]) {
            sf_fake_free(held_fakes[i]);
            held_fakes[i] = NULL;
        }
    }
}

int alloc_teardown_held(void **state)
{
    (void)state;
    release_held();
    return 0;
}

int alloc_teardown(void **state)
{
    release_held();
    return sf_fixture_teardown(state);
}
