/* SPDX-License-Identifier: MIT */
/* test_alloc_failure.c: every endpoint that allocates, with its Nth allocation failed for
 * N = 1, 2, 3, ... (counted from the start of the call) until the call gets through without
 * meeting the failure.
 *
 * For each N that makes the call fail we check the contract of syncfake.h ("a failed call
 * changes nothing"): the status is SF_ERR_NOMEM with Twilio's 500/20500 body; the observable
 * state (services, every stream record with its rate and stats, subscribers, fault rules, the
 * event queue, the clock, the page tokens) is what it was before; the fake holds as many
 * blocks as before. Once the call gets through, its result must be byte for byte what a twin
 * fake (same seed, same successful history, no failures) returns for the same call; both fakes
 * must then look the same, and a probe that mints one SID of every kind must give the same
 * answers on both: no SID, secret or creation number was spent by the failed attempts. And
 * the number of failed attempts must equal the allocations the call makes on the twin: every
 * allocation, once refused, fails the call. The fixture's teardown checks that nothing leaked.
 * (The journal is the one exception by design: its growth may fail without failing a call.) */
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

/* ---------------------------------------------------------------------------------------- */
/* Snapshots of the observable state                                                         */
/* ---------------------------------------------------------------------------------------- */

#define SNAP_SUBS 40
#define SNAP_FAULTS 16

typedef struct snapshot {
    sf_ms now;
    size_t pending;
    size_t deliveries;
    size_t nfaults;
    sf_fault_info faults[SNAP_FAULTS];
    sf_status sub_status[SNAP_SUBS]; /* subscriber ids 1..SNAP_SUBS */
    sf_subscriber_stats subs[SNAP_SUBS];
    bool has_next_event;
    sf_ms next_event;
    bool has_account;
    char account_sid[SF_SID_SIZE];
    char auth_token[SF_SECRET_CAP];
    sf_status services_status;
    size_t nservices;
    sf_service_record *services;
    size_t nservice_tokens;
    char (*service_tokens)[SF_PAGE_TOKEN_SIZE];
    sf_status streams_status;
    size_t nstreams;
    sf_stream_record *streams; /* every service's, service by service */
    sf_rate_state *rates;      /* one per stream */
    sf_stream_stats *stats;    /* one per stream */
    size_t nstream_tokens;
    char (*stream_tokens)[SF_PAGE_TOKEN_SIZE];
} snapshot;

/* What a test holds outside the fixture, so that a failed assertion (which leaves the test
 * through longjmp) does not also leak it: the teardown releases whatever is still listed. */
#define HELD_MAX 64
static void *held_blocks[HELD_MAX]; /* snapshot arrays */
static sf_fake *held_fakes[HELD_MAX];

static int held_slot(void *const *list, const void *p)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (list[i] == p)
            return i;
    fail_msg("too many held objects");
    return -1;
}

static void swap_held(void **list, void *from, void *to) { list[held_slot(list, from)] = to; }

static sf_test_alloc *twin_alloc_of[HELD_MAX]; /* the counting allocator of held_fakes[i] */

static void hold_fake(sf_fake *fake)
{
    int slot = held_slot((void *const *)held_fakes, NULL);
    held_fakes[slot] = fake;
    twin_alloc_of[slot] = NULL;
}
static void unhold_fake(sf_fake *fake) { swap_held((void **)held_fakes, fake, NULL); }

static void *grow(void *p, size_t n, size_t size)
{
    int slot = held_slot(held_blocks, p);
    void *q = realloc(p, (n ? n : 1) * size);
    assert_non_null(q);
    held_blocks[slot] = q;
    return q;
}

static void block_free(void *p)
{
    if (p) {
        swap_held(held_blocks, p, NULL);
        free(p);
    }
}

static void snap_free(snapshot *s)
{
    block_free(s->services);
    block_free(s->service_tokens);
    block_free(s->streams);
    block_free(s->rates);
    block_free(s->stats);
    block_free(s->stream_tokens);
    memset(s, 0, sizeof *s);
}

static void push_token(char (**tokens)[SF_PAGE_TOKEN_SIZE], size_t *n, const char *token)
{
    *tokens = grow(*tokens, *n + 1, sizeof **tokens);
    memset((*tokens)[*n], 0, SF_PAGE_TOKEN_SIZE);
    snprintf((*tokens)[*n], SF_PAGE_TOKEN_SIZE, "%s", token);
    (*n)++;
}

/* Walks every page of the default account's services and of each service's streams. The
 * page tokens are kept too: they encode the creation numbers of the records. */
static void snap_take(sf_fake *fake, sf_test_alloc *alloc, snapshot *s)
{
    long fail_at = alloc ? alloc->fail_at : 0;
    if (alloc)
        alloc->fail_at = 0;
    memset(s, 0, sizeof *s);
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

    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (;;) {
        sf_page_params pp = {.has_page_size = true, .page_size = 100,
                             .page_token = token[0] ? token : NULL};
        sf_service_page *page = NULL;
        s->services_status = sf_service_list(fake, NULL, &pp, &page, NULL);
        if (s->services_status != SF_OK)
            break;
        s->services = grow(s->services, s->nservices + page->info.count, sizeof *s->services);
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

    s->streams_status = SF_OK;
    for (size_t i = 0; i < s->nservices; i++) {
        token[0] = '\0';
        for (;;) {
            sf_page_params pp = {.has_page_size = true, .page_size = 100,
                                 .page_token = token[0] ? token : NULL};
            sf_stream_page *page = NULL;
            sf_status st = sf_stream_list(fake, NULL, s->services[i].sid, &pp, &page, NULL);
            if (st != SF_OK) {
                s->streams_status = st;
                break;
            }
            size_t n = s->nstreams + page->info.count;
            s->streams = grow(s->streams, n, sizeof *s->streams);
            s->rates = grow(s->rates, n, sizeof *s->rates);
            s->stats = grow(s->stats, n, sizeof *s->stats);
            memcpy(s->streams + s->nstreams, page->records,
                   page->info.count * sizeof *s->streams);
            for (size_t k = s->nstreams; k < n; k++) {
                memset(&s->rates[k], 0, sizeof s->rates[k]);
                assert_status(sf_stream_rate_state(fake, NULL, s->services[i].sid,
                                                      s->streams[k].sid, &s->rates[k], NULL), SF_OK);
                memset(&s->stats[k], 0, sizeof s->stats[k]);
                assert_status(sf_stream_stats_get(fake, NULL, s->services[i].sid,
                                                     s->streams[k].sid, &s->stats[k], NULL), SF_OK);
            }
            s->nstreams = n;
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
    if (alloc)
        alloc->fail_at = fail_at;
}

static void fault_assert_equal(const sf_fault_info *want, const sf_fault_info *got)
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

static void sub_assert_equal(const sf_subscriber_stats *want, const sf_subscriber_stats *got)
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

static void snap_assert_equal(const snapshot *want, const snapshot *got)
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

/* ---------------------------------------------------------------------------------------- */
/* The probe: one new SID of every kind, and creation numbers made visible through tokens     */
/* ---------------------------------------------------------------------------------------- */

typedef struct probe {
    sf_account_record account;
    sf_api_key_record key;
    sf_service_record service;
    char service_prev_token[SF_PAGE_TOKEN_SIZE];
    sf_stream_record stream1, stream2;
    char stream_next_token[SF_PAGE_TOKEN_SIZE];
    char message_sid[SF_SID_SIZE];
    sf_service_record account_service1, account_service2;
    char account_next_token[SF_PAGE_TOKEN_SIZE];
} probe;

static void probe_run(sf_fake *fake, probe *p)
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
    sf_page_params last = {.has_page_size = true, .page_size = 1, .has_page = true,
                           .page = (int64_t)nservices - 1};
    assert_status(sf_service_list(fake, NULL, &last, &spage, &err), SF_OK);
    assert_int_equal(spage->info.count, 1);
    assert_string_equal(spage->records[0].sid, p->service.sid);
    snprintf(p->service_prev_token, sizeof p->service_prev_token, "%s",
             spage->info.previous_token);
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
    assert_status(sf_stream_publish(fake, NULL, p->service.sid, "probe-stream", &pub, &msg,
                                       &err), SF_OK);
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

static void probe_assert_equal(const probe *want, const probe *got)
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

/* ---------------------------------------------------------------------------------------- */
/* Twin fakes and the failure loop                                                           */
/* ---------------------------------------------------------------------------------------- */

/* A fake built like the fixture's (seed, manual clock, one service), but keeping no journal:
 * the journal is not part of what the snapshots compare, and without it every allocation a
 * twin makes is one of the call's own. It is held until twin_free, so `alloc` must outlive
 * the test function: callers pass static storage. */
static sf_fake *twin_new(sf_test_alloc *alloc, const char *want_service_sid)
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

static void twin_free(sf_fake *fake, sf_test_alloc *alloc)
{
    unhold_fake(fake);
    sf_fake_free(fake);
    assert_int_equal(alloc->live, 0);
}

/* What an operation returns; only the parts it fills are compared. */
typedef struct op_result {
    sf_service_record service;
    sf_stream_record stream;
    sf_account_record account;
    sf_api_key_record key;
    char message_sid[SF_SID_SIZE];
    char message_data[64];
    sf_service_page *service_page;
    sf_stream_page *stream_page;
    sf_subscriber_id subscriber;
    sf_fault_id fault;
} op_result;

typedef struct op_ctx {
    char service_sid[SF_SID_SIZE];
    char stream_id[64];
    char account_sid[SF_SID_SIZE];
    long index; /* for operations that make a name or a SID from a counter */
    const void *params;
} op_ctx;

typedef sf_status (*op_fn)(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

static void count_event(sf_fake *fake, const sf_event *ev, void *user);

static void result_release(sf_fake *fake, op_result *res)
{
    sf_service_page_free(fake, res->service_page);
    sf_stream_page_free(fake, res->stream_page);
    res->service_page = NULL;
    res->stream_page = NULL;
}

static void page_info_assert_equal(const sf_page_info *want, const sf_page_info *got)
{
    assert_int_equal(got->page, want->page);
    assert_int_equal(got->page_size, want->page_size);
    assert_int_equal(got->count, want->count);
    assert_int_equal(got->has_next, want->has_next);
    assert_string_equal(got->next_token, want->next_token);
    assert_int_equal(got->has_previous, want->has_previous);
    assert_string_equal(got->previous_token, want->previous_token);
}

static void result_assert_equal(const op_result *want, const op_result *got)
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
            assert_memory_equal(&got->service_page->records[i],
                                &want->service_page->records[i],
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

typedef struct oom_report {
    long failed;  /* values of N for which the call failed with SF_ERR_NOMEM */
    long clean;   /* allocations the same call made on the twin */
} oom_report;

/* The loop of the file comment, on the fixture's fake, then the comparison with `twin`, which
 * must have the same history. */
static oom_report oom_loop(sf_fixture *fx, sf_fake *twin, op_fn op, const op_ctx *ctx)
{
    static op_result res_buf, twin_res_buf;
    sf_fake *fake = fx->fake;
    sf_test_alloc *alloc = &fx->alloc;
    oom_report rep = {0, 0};
    long kept_n = 0, kept_blocks = 0, kept_count = 0; /* failed calls that kept blocks */
    op_result *res = &res_buf, *twin_res = &twin_res_buf;
    memset(twin_res, 0, sizeof *twin_res);

    for (long n = 1;; n++) {
        assert_true(n < 10000);
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
            break;
        }
        if (!hit)
            fail_msg("N=%ld: the call failed (%s) without meeting the allocation failure", n,
                     sf_status_name(st));
        if (st != SF_ERR_NOMEM)
            fail_msg("N=%ld: status %s, want SF_ERR_NOMEM", n, sf_status_name(st));
        assert_status(err.status, SF_ERR_NOMEM);
        sf_assert_twilio_error(&err, 500, 20500);
        assert_string_equal(err.message, "Internal Server Error");
        assert_null(res->service_page);
        assert_null(res->stream_page);
        snap_take(fake, alloc, &after);
        snap_assert_equal(&before, &after);
        snap_free(&before);
        snap_free(&after);
        if (alloc->live != live) {
            /* reported after the loop, so that every N still gets its state checked */
            if (!kept_count++) {
                kept_n = n;
                kept_blocks = alloc->live - live;
            }
        }
        rep.failed++;
    }

    sf_error err;
    sf_test_alloc *talloc = twin_alloc_of[held_slot((void *const *)held_fakes, twin)];
    long twin_calls = talloc ? talloc->calls : 0;
    assert_status(op(twin, ctx, twin_res, &err), SF_OK);
    rep.clean = talloc ? talloc->calls - twin_calls : -1;
    result_assert_equal(twin_res, res);
    result_release(fake, res);
    result_release(twin, twin_res);

    snapshot a, b;
    snap_take(twin, NULL, &a);
    snap_take(fake, alloc, &b);
    snap_assert_equal(&a, &b);
    snap_free(&a);
    snap_free(&b);
    probe pa, pb;
    probe_run(twin, &pa);
    probe_run(fake, &pb);
    probe_assert_equal(&pa, &pb);
    if (kept_count)
        fail_msg("%ld failed call(s) left blocks allocated: first at N=%ld (%+ld blocks); a "
                 "failed call must give back what it took",
                 kept_count, kept_n, kept_blocks);
    /* each allocation a clean call makes was failed in turn, and each failure failed it */
    if (talloc)
        assert_int_equal(rep.failed, rep.clean);
    return rep;
}

/* ---------------------------------------------------------------------------------------- */
/* Operations                                                                                */
/* ---------------------------------------------------------------------------------------- */

static sf_status op_account_create(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                   sf_error *err)
{
    return sf_account_create(fake, ctx->params, &res->account, err);
}

static sf_status op_api_key_create(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                   sf_error *err)
{
    return sf_api_key_create(fake, ctx->account_sid[0] ? ctx->account_sid : NULL, ctx->params,
                             &res->key, err);
}

static sf_status op_service_create(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                   sf_error *err)
{
    return sf_service_create(fake, ctx->account_sid[0] ? ctx->account_sid : NULL, ctx->params,
                             &res->service, err);
}

static sf_status op_service_update(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                   sf_error *err)
{
    return sf_service_update(fake, NULL, ctx->service_sid, ctx->params, &res->service, err);
}

static sf_status op_service_list(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                 sf_error *err)
{
    return sf_service_list(fake, ctx->account_sid[0] ? ctx->account_sid : NULL, ctx->params,
                           &res->service_page, err);
}

static sf_status op_stream_create(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                  sf_error *err)
{
    return sf_stream_create(fake, NULL, ctx->service_sid, ctx->params, &res->stream, err);
}

/* A stream named after ctx->index (stream_name_for). */
static void stream_name_for(long i, char out[32]) { snprintf(out, 32, "name-%05ld", i); }

static sf_status op_stream_create_indexed(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                          sf_error *err)
{
    char name[32];
    stream_name_for(ctx->index, name);
    sf_stream_params p = {.unique_name = name};
    return sf_stream_create(fake, NULL, ctx->service_sid, &p, &res->stream, err);
}

static sf_status op_stream_update(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                  sf_error *err)
{
    return sf_stream_update(fake, NULL, ctx->service_sid, ctx->stream_id, ctx->params,
                            &res->stream, err);
}

static sf_status op_stream_list(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                sf_error *err)
{
    return sf_stream_list(fake, NULL, ctx->service_sid, ctx->params, &res->stream_page, err);
}

static sf_status op_stream_publish(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                   sf_error *err)
{
    sf_message_record msg;
    sf_status st = sf_stream_publish(fake, NULL, ctx->service_sid, ctx->stream_id, ctx->params,
                                     &msg, err);
    if (st == SF_OK) {
        memcpy(res->message_sid, msg.sid, SF_SID_SIZE);
        snprintf(res->message_data, sizeof res->message_data, "%.*s", (int)msg.data_len,
                 msg.data);
    }
    return st;
}

static sf_status op_subscribe(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_subscribe(fake, NULL, ctx->service_sid, ctx->stream_id, ctx->params,
                        &res->subscriber, err);
}

static sf_status op_fault_add(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err)
{
    return sf_fault_add(fake, ctx->params, &res->fault, err);
}

static sf_status op_stream_remove(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                  sf_error *err)
{
    (void)res;
    return sf_stream_remove(fake, NULL, ctx->service_sid, ctx->stream_id, err);
}

static sf_status op_service_remove(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                   sf_error *err)
{
    (void)res;
    return sf_service_remove(fake, NULL, ctx->service_sid, err);
}

static sf_status op_inject_error(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                 sf_error *err)
{
    (void)res;
    return sf_inject_error(fake, ctx->params, err);
}

/* ---------------------------------------------------------------------------------------- */
/* History helpers: the same calls on the fixture's fake and on its twin                      */
/* ---------------------------------------------------------------------------------------- */

static void make_stream(sf_fake *fake, const char *service_sid, const char *name, long long ttl,
                        sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name, .has_ttl = ttl >= 0, .ttl = ttl};
    sf_error err;
    sf_stream_record rec;
    sf_status st = sf_stream_create(fake, NULL, service_sid, &p, out ? out : &rec, &err);
    if (st != SF_OK)
        fail_msg("stream create: %d %s", err.code, err.message);
}

static void make_streams(sf_fake *fake, const char *service_sid, long count, long long ttl)
{
    for (long i = 0; i < count; i++)
        make_stream(fake, service_sid, NULL, ttl, NULL);
}

/* Runs `op` with ctx->index = 0, 1, 2, ... on a scratch twin and returns the allocations each
 * call made (allocs[i], i < max). Tables grow on the same calls as on the fixture's fake, the
 * keys being the same. */
static void allocs_per_call(op_fn op, op_ctx ctx, long max, long *allocs)
{
    static sf_test_alloc alloc;
    sf_fake *fake = twin_new(&alloc, ctx.service_sid[0] ? ctx.service_sid : NULL);
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
    twin_free(fake, &alloc);
}

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
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "after-failures", &pub, &msg, &err), SF_OK);
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

/* Subscriber callbacks: count what arrives. */
static long events_seen;
static void count_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    (void)user;
    events_seen++;
}

/* A history with something of everything: services, named and expiring streams, an account,
 * a key, a subscriber with a delivery in flight, a fault rule, an injected error. */
static void rich_history(sf_fake *fake, const char *service_sid)
{
    sf_error err;
    sf_stream_record alpha;
    make_stream(fake, service_sid, "alpha", -1, &alpha);
    make_stream(fake, service_sid, NULL, 30, NULL);
    sf_service_params sp = {.friendly_name = "second", .webhook_url = "https://example.com/h"};
    sf_service_record svc2;
    assert_status(sf_service_create(fake, NULL, &sp, &svc2, &err), SF_OK);
    make_stream(fake, svc2.sid, "beta", 5, NULL);
    sf_account_record acct;
    assert_status(sf_account_create(fake, NULL, &acct, &err), SF_OK);
    assert_status(sf_api_key_create(fake, acct.sid, NULL, NULL, &err), SF_OK);
    sf_subscribe_params sub = {.on_event = count_event};
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
            break;
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
    }

    /* a reset fake repeats a new one */
    static sf_test_alloc talloc;
    sf_fake *fresh = fresh_new(&talloc);
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
    /* the injected error and the subscriber went with the reset */
    sf_stream_record rec;
    make_stream(fx->fake, fx->service_sid, "after-reset", -1, &rec);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, rec.sid, NULL), SF_OK);
    sf_subscriber_stats stats;
    assert_status(sf_subscriber_stats_get(fx->fake, 1, &stats, NULL), SF_ERR_INVALID_ARGUMENT);
    long seen = events_seen;
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    assert_int_equal(events_seen, seen);
    twin_free(fresh, &talloc);
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
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
}

static sf_status op_account_create_minted(sf_fake *fake, const op_ctx *ctx, op_result *res,
                                          sf_error *err)
{
    (void)ctx;
    return sf_account_create(fake, NULL, &res->account, err);
}

/* Finds the first call of `op` (ctx->index = i) after the first that allocates more than
 * `base` blocks: a bucket expansion of a uthash table. */
/* The first call that makes exactly one allocation more than `base`: a hash table's bucket
 * array doubling. (A list index growing reallocates its three arrays at once: +3, skipped.) */
static long first_growth(op_fn op, const op_ctx *ctx, long base, long max)
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

static void test_account_create_fails_cleanly_when_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    long at = first_growth(op_account_create_minted, &ctx, 1, 3000);
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    for (long i = 0; i < at; i++) {
        assert_status(sf_account_create(fx->fake, NULL, NULL, NULL), SF_OK);
        assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    }
    oom_report rep = oom_loop(fx, twin, op_account_create_minted, &ctx);
    assert_int_equal(rep.failed, 2); /* the account and the new buckets */
    twin_free(twin, &talloc);
}

static void test_api_key_create_first_key_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
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
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    for (long i = 0; i < at; i++) {
        assert_status(sf_api_key_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
        assert_status(sf_api_key_create(twin, NULL, NULL, NULL, NULL), SF_OK);
    }
    oom_report rep = oom_loop(fx, twin, op_api_key_create_minted, &ctx);
    assert_int_equal(rep.failed, 2); /* the record and the new buckets */
    twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* Services                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void test_service_create_with_strings_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
}

/* With no service left the services table is gone: the next create builds it again. */
static void test_service_create_first_service_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    assert_status(sf_service_remove(fx->fake, NULL, fx->service_sid, NULL), SF_OK);
    assert_status(sf_service_remove(twin, NULL, fx->service_sid, NULL), SF_OK);
    sf_service_params p = {.friendly_name = "first"};
    op_ctx ctx = {.params = &p};
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 4); /* service, name, table, buckets */
    twin_free(twin, &talloc);
}

static void test_service_create_fails_cleanly_when_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    long at = first_growth(op_service_create, &ctx, 1, 3000);
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    for (long i = 0; i < at; i++) {
        assert_status(sf_service_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
        assert_status(sf_service_create(twin, NULL, NULL, NULL, NULL), SF_OK);
    }
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 2); /* the record and the new buckets */
    twin_free(twin, &talloc);
}

/* A service in another account: creating it resolves that account. */
static void test_service_create_in_other_account_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_account_record acct;
    assert_status(sf_account_create(fx->fake, NULL, &acct, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    sf_service_params p = {.friendly_name = "elsewhere"};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.account_sid, acct.sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_service_create, &ctx);
    assert_int_equal(rep.failed, 5); /* service, name, the account's list index (3 arrays) */
    twin_free(twin, &talloc);
}

static void test_service_update_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
}

static void test_service_update_of_flags_only_needs_no_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
}

static void test_service_list_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* Streams                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_create_plain_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    /* the fake's first stream also builds the SID table and the service's list index */
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 6); /* stream, SID table (2 blocks), list index (3 arrays) */
    rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 1);
    twin_free(twin, &talloc);
}

/* First named stream of the fake: stream, name, SID table (2 blocks), name table (2 blocks),
 * the service's list index (3 arrays). Failing the name table makes the create take the
 * stream out of the SID table again. */
static void test_stream_create_with_unique_name_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_stream_params p = {.unique_name = "first-name"};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 9);
    /* a later named stream: stream and name only */
    sf_stream_params q = {.unique_name = "second name, with \xc3\xa9 UTF-8"};
    ctx.params = &q;
    rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 2);
    twin_free(twin, &talloc);
}

/* The first named stream of a service whose SID table already exists: the name table's
 * blocks are the last allocations, so failing them undoes a successful SID table insert. */
static void test_stream_create_first_named_stream_fails_cleanly_when_sid_table_exists(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_streams(fx->fake, fx->service_sid, 3, -1);
    make_streams(twin, fx->service_sid, 3, -1);
    sf_stream_params p = {.unique_name = "only-name", .has_ttl = true, .ttl = 0};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 4); /* stream, name, name table, its buckets */
    twin_free(twin, &talloc);
}

static void test_stream_create_with_ttl_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    /* one expiring stream already: the timer heap exists and has room */
    make_stream(fx->fake, fx->service_sid, NULL, 100, NULL);
    make_stream(twin, fx->service_sid, NULL, 100, NULL);
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
    twin_free(twin, &talloc);
}

/* 64 armed timers fill the heap's first block: the next expiring stream must grow it. */
static void test_stream_create_with_ttl_fails_cleanly_when_timer_heap_must_grow(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_stream(fx->fake, fx->service_sid, "named-first", -1, NULL); /* builds the name table */
    make_stream(twin, fx->service_sid, "named-first", -1, NULL);
    make_streams(fx->fake, fx->service_sid, 64, 10);
    make_streams(twin, fx->service_sid, 64, 10);
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
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "sixty-fifth", NULL, NULL), SF_ERR_NOT_FOUND);
    assert_status(sf_clock_advance(fx->fake, 5000, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 0 + 0); /* the probe's 7 s stream is gone */
    twin_free(twin, &talloc);
}

/* The fake's first expiring stream: the timer heap is created inside the call. When a later
 * allocation of the same call fails, the fake must hold exactly the blocks it held before. */
static void test_stream_create_first_expiring_stream_failure_keeps_block_count(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_stream_params p = {.has_ttl = true, .ttl = 60};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 7); /* stream, SID table, its buckets, list index, timer heap */
    twin_free(twin, &talloc);
}

static void test_stream_create_fails_cleanly_when_sid_table_must_grow(void **state)
{
    sf_fixture *fx = *state;
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    long at = first_growth(op_stream_create, &ctx, 1, 3000);
    assert_true(at >= 100); /* a few hundred streams before the first expansion */
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_streams(fx->fake, fx->service_sid, at, -1);
    make_streams(twin, fx->service_sid, at, -1);
    oom_report rep = oom_loop(fx, twin, op_stream_create, &ctx);
    assert_int_equal(rep.failed, 2); /* the stream and the doubled buckets */
    twin_free(twin, &talloc);
}

/* Named streams: find the first create whose name table (not the SID table) must grow. The
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
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
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
    twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* sf_stream_update                                                                          */
/* ---------------------------------------------------------------------------------------- */

/* No timer armed anywhere: a TTL update must create the heap. */
static void test_stream_update_ttl_fails_cleanly_when_timer_heap_is_empty(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_stream(fx->fake, fx->service_sid, "updated", -1, NULL);
    make_stream(twin, fx->service_sid, "updated", -1, NULL);
    assert_status(sf_clock_advance(fx->fake, 500, NULL), SF_OK);
    assert_status(sf_clock_advance(twin, 500, NULL), SF_OK);
    sf_stream_params p = {.has_ttl = true, .ttl = 3};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "updated");
    oom_report rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 1);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "updated", &rec, NULL), SF_OK);
    assert_true(rec.has_date_expires);
    assert_int_equal(rec.date_expires_ms, SF_DEFAULT_EPOCH_MS + 500 + 3000);
    assert_int_equal(rec.date_updated_ms, SF_DEFAULT_EPOCH_MS + 500);
    twin_free(twin, &talloc);
}

static void test_stream_update_ttl_fails_cleanly_when_timer_heap_must_grow(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_stream_record target;
    make_stream(fx->fake, fx->service_sid, NULL, -1, &target);
    make_stream(twin, fx->service_sid, NULL, -1, NULL);
    make_streams(fx->fake, fx->service_sid, 64, 20);
    make_streams(twin, fx->service_sid, 64, 20);
    sf_stream_params p = {.has_ttl = true, .ttl = 1, .unique_name = "ignored"};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "%s", target.sid);
    oom_report rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, SF_DEFAULT_EPOCH_MS + 1000);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, target.sid, &rec, NULL), SF_OK);
    assert_false(rec.has_unique_name);
    twin_free(twin, &talloc);
}

/* Re-arming an armed timer, or clearing it, takes no memory: nothing can fail. */
static void test_stream_update_of_armed_or_cleared_ttl_needs_no_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_stream(fx->fake, fx->service_sid, "armed", 10, NULL);
    make_stream(twin, fx->service_sid, "armed", 10, NULL);
    sf_stream_params p = {.has_ttl = true, .ttl = 99};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "armed");
    oom_report rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_stream_params clear = {.has_ttl = true, .ttl = 0};
    ctx.params = &clear;
    rep = oom_loop(fx, twin, op_stream_update, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "armed", &rec, NULL), SF_OK);
    assert_false(rec.has_date_expires);
    twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* sf_stream_list and sf_stream_publish                                                      */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_list_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    /* an empty list */
    oom_report rep = oom_loop(fx, twin, op_stream_list, &ctx);
    assert_int_equal(rep.failed, 2);
    make_streams(fx->fake, fx->service_sid, 5, 40);
    make_streams(twin, fx->service_sid, 5, 40);
    /* a middle page: both tokens */
    sf_page_params pp = {.has_page_size = true, .page_size = 2, .has_page = true, .page = 1};
    ctx.params = &pp;
    rep = oom_loop(fx, twin, op_stream_list, &ctx);
    assert_int_equal(rep.failed, 2);
    twin_free(twin, &talloc);
}

/* Publishing uses scratch space allocated with the fake: it never allocates, so an
 * allocation failure cannot make it fail. */
static void test_stream_publish_needs_no_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_stream(fx->fake, fx->service_sid, "pub", -1, NULL);
    make_stream(twin, fx->service_sid, "pub", -1, NULL);
    /* subscribers with no fault in the way are served on the spot, without queueing */
    sf_subscribe_params sub = {.on_event = count_event};
    for (int i = 0; i < 2; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "pub", &sub, NULL, NULL), SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "pub", &sub, NULL, NULL), SF_OK);
    }
    long seen = events_seen;
    static const char data[] = "{ \"a\" : [1, 2.5e3, true, null, \"x\"], \"b\" : {} }";
    sf_publish_params p = {.data = data, .data_len = sizeof data - 1};
    op_ctx ctx = {.params = &p};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "pub");
    oom_report rep = oom_loop(fx, twin, op_stream_publish, &ctx);
    assert_int_equal(rep.failed, 0);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "pub", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 299);
    assert_int_equal(events_seen, seen + 2 + 2); /* both subscribers, on both fakes */
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    twin_free(twin, &talloc);
}

/* ---------------------------------------------------------------------------------------- */
/* Subscribers, fault rules, injected errors                                                 */
/* ---------------------------------------------------------------------------------------- */

static void test_subscribe_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_stream(fx->fake, fx->service_sid, "watched", -1, NULL);
    make_stream(twin, fx->service_sid, "watched", -1, NULL);
    sf_subscribe_params sub = {.on_event = count_event, .client_id = 9};
    op_ctx ctx = {.params = &sub};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "watched");
    oom_report rep = oom_loop(fx, twin, op_subscribe, &ctx);
    assert_int_equal(rep.failed, 2); /* the fake's subscriber array, the subscriber */
    rep = oom_loop(fx, twin, op_subscribe, &ctx);
    assert_int_equal(rep.failed, 1);
    /* fill the array's first block (16), then one more must grow it */
    for (int i = 2; i < 16; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "watched", &sub, NULL,
                                      NULL), SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "watched", &sub, NULL, NULL), SF_OK);
    }
    rep = oom_loop(fx, twin, op_subscribe, &ctx);
    assert_int_equal(rep.failed, 2);
    /* every subscriber is attached exactly once */
    sf_stream_stats stats;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "watched", &stats,
                                         NULL), SF_OK);
    assert_int_equal(stats.subscribers, 17);
    long seen = events_seen;
    sf_publish_params pub = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "watched", &pub, NULL,
                                       NULL), SF_OK);
    assert_int_equal(events_seen, seen + 17);
    twin_free(twin, &talloc);
}

/* Fault rules send a publish down the queued path: the message, the delivery plans, the
 * deliveries and heap room are all allocated before anything is committed. A drop_next rule
 * must not lose its pending drop to a failed attempt. */
static void test_stream_publish_through_fault_rules_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_stream_record fan;
    make_stream(fx->fake, fx->service_sid, "fan", -1, &fan);
    make_stream(twin, fx->service_sid, "fan", -1, NULL);
    sf_subscribe_params sub = {.on_event = count_event};
    sf_subscriber_id first = 0;
    for (int i = 0; i < 3; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "fan", &sub,
                                      i ? NULL : &first, NULL), SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "fan", &sub, NULL, NULL), SF_OK);
    }
    sf_fault_params delay_dup = {.scope = SF_SCOPE_STREAM, .stream_sid = fan.sid,
                                 .delay_ms = 100, .jitter_ms = 50, .duplicate_rate = 1.0};
    sf_fault_params drop_one = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = first,
                                .drop_next = 1};
    const sf_fault_params *rules[] = {&delay_dup, &drop_one};
    for (int i = 0; i < 2; i++) {
        assert_status(sf_fault_add(fx->fake, rules[i], NULL, NULL), SF_OK);
        assert_status(sf_fault_add(twin, rules[i], NULL, NULL), SF_OK);
    }
    static const char data[] = "{\"n\": 1}";
    sf_publish_params pub = {.data = data, .data_len = sizeof data - 1, .client_id = 4};
    op_ctx ctx = {.params = &pub};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "fan");
    oom_report rep = oom_loop(fx, twin, op_stream_publish, &ctx);
    /* message, plans, 4 deliveries (the first subscriber's is dropped), the timer heap */
    assert_int_equal(rep.failed, 7);
    assert_int_equal(sf_pending_deliveries(fx->fake), 4);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, first, &st, NULL), SF_OK);
    assert_int_equal(st.dropped, 1);
    sf_fault_info info[2];
    assert_int_equal(sf_fault_list(fx->fake, info, 2), 2);
    assert_int_equal(info[1].drop_next_left, 0);
    assert_int_equal(info[1].hits, 1);

    /* delivered, the deliveries go back to a free list: the next publish takes them again */
    long seen = events_seen;
    assert_int_equal(sf_run_until_idle(fx->fake), 4);
    assert_int_equal(sf_run_until_idle(twin), 4);
    assert_int_equal(events_seen, seen + 8);
    rep = oom_loop(fx, twin, op_stream_publish, &ctx);
    assert_int_equal(rep.failed, 4); /* message, plans, the 2 deliveries beyond the 4 kept */
    assert_int_equal(sf_pending_deliveries(fx->fake), 6);
    twin_free(twin, &talloc);
}

static void test_fault_add_fails_cleanly_at_every_allocation(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_fault_params everywhere = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.25, .delay_ms = 10};
    op_ctx ctx = {.params = &everywhere};
    oom_report rep = oom_loop(fx, twin, op_fault_add, &ctx);
    assert_int_equal(rep.failed, 3); /* the rule, the list of rules, the shared list */

    /* a subscriber's own rule: the rule and that subscriber's list */
    sf_stream_record rec;
    make_stream(fx->fake, fx->service_sid, "ruled", -1, &rec);
    make_stream(twin, fx->service_sid, "ruled", -1, NULL);
    sf_subscribe_params sub = {.on_event = count_event};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "ruled", &sub, &id, NULL), SF_OK);
    assert_status(sf_subscribe(twin, NULL, fx->service_sid, "ruled", &sub, NULL, NULL), SF_OK);
    sf_fault_params mine = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = id, .drop_next = 2};
    ctx.params = &mine;
    rep = oom_loop(fx, twin, op_fault_add, &ctx);
    assert_int_equal(rep.failed, 2);

    /* 8 rules fill the first block of the list of rules: the 9th must grow it */
    sf_fault_params stream_rule = {.scope = SF_SCOPE_STREAM, .stream_sid = rec.sid,
                                   .expiry_lag_ms = 5};
    for (int i = 2; i < 8; i++) {
        assert_status(sf_fault_add(fx->fake, &stream_rule, NULL, NULL), SF_OK);
        assert_status(sf_fault_add(twin, &stream_rule, NULL, NULL), SF_OK);
    }
    ctx.params = &stream_rule;
    rep = oom_loop(fx, twin, op_fault_add, &ctx);
    assert_int_equal(rep.failed, 2); /* the rule, the list of rules (the shared list has room) */
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 9);
    twin_free(twin, &talloc);
}

static void test_inject_error_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_error_injection inj = {.op = SF_OP_STREAM_REMOVE, .count = 2, .http_status = 503,
                              .code = 20503, .message = "try later"};
    op_ctx ctx = {.params = &inj};
    oom_report rep = oom_loop(fx, twin, op_inject_error, &ctx);
    assert_int_equal(rep.failed, 1);
    /* exactly one injection of two calls is queued, on both fakes */
    sf_fake *fakes[] = {fx->fake, twin};
    for (int f = 0; f < 2; f++) {
        sf_stream_record rec;
        make_stream(fakes[f], fx->service_sid, "doomed", -1, &rec);
        for (int i = 0; i < 2; i++) {
            sf_error err;
            assert_status(sf_stream_remove(fakes[f], NULL, fx->service_sid, "doomed", &err), SF_ERR_INJECTED);
            assert_int_equal(err.http_status, 503);
            assert_int_equal(err.code, 20503);
            assert_string_equal(err.message, "try later");
        }
        assert_status(sf_stream_remove(fakes[f], NULL, fx->service_sid, "doomed", NULL), SF_OK);
    }
    twin_free(twin, &talloc);
}

/* Removing a watched stream queues a `removed` event per subscriber: the room for them is
 * taken first, so a failed remove leaves the stream and its subscribers as they were. */
static void test_stream_remove_with_subscribers_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    make_stream(fx->fake, fx->service_sid, "watched", -1, NULL);
    make_stream(twin, fx->service_sid, "watched", -1, NULL);
    sf_subscribe_params sub = {.on_event = count_event};
    for (int i = 0; i < 3; i++) {
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "watched", &sub, NULL,
                                      NULL), SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, "watched", &sub, NULL, NULL), SF_OK);
    }
    long seen = events_seen;
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    snprintf(ctx.stream_id, sizeof ctx.stream_id, "watched");
    oom_report rep = oom_loop(fx, twin, op_stream_remove, &ctx);
    assert_int_equal(rep.failed, 1); /* the timer heap, for three `removed` events */
    assert_int_equal(events_seen, seen + 3 + 3); /* once per subscriber, on each fake */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "watched", NULL, NULL), SF_ERR_NOT_FOUND);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, 1, &st, NULL), SF_OK);
    assert_false(st.attached);
    twin_free(twin, &talloc);
}

static void test_service_remove_with_subscribers_fails_cleanly(void **state)
{
    sf_fixture *fx = *state;
    static sf_test_alloc talloc;
    sf_fake *twin = twin_new(&talloc, fx->service_sid);
    sf_subscribe_params sub = {.on_event = count_event};
    const char *names[] = {"one", "two"};
    for (int i = 0; i < 2; i++) {
        make_stream(fx->fake, fx->service_sid, names[i], -1, NULL);
        make_stream(twin, fx->service_sid, names[i], -1, NULL);
        assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, names[i], &sub, NULL,
                                      NULL), SF_OK);
        assert_status(sf_subscribe(twin, NULL, fx->service_sid, names[i], &sub, NULL, NULL), SF_OK);
    }
    long seen = events_seen;
    op_ctx ctx = {.params = NULL};
    memcpy(ctx.service_sid, fx->service_sid, SF_SID_SIZE);
    oom_report rep = oom_loop(fx, twin, op_service_remove, &ctx);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(events_seen, seen + 2 + 2);
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, NULL, NULL), SF_ERR_NOT_FOUND);
    twin_free(twin, &talloc);
}

/* The journal grows its ring by doubling; when that allocation fails the call still goes
 * through and the oldest entry makes room. */
static void test_journal_growth_failure_never_fails_a_call(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record rec;
    make_stream(fx->fake, fx->service_sid, "logged", -1, &rec);
    while (sf_journal_count(fx->fake) < 256)
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "logged", NULL, NULL), SF_OK);
    assert_int_equal(sf_journal_count(fx->fake), 256);
    assert_int_equal(sf_journal_overwritten(fx->fake), 0);
    long live = fx->alloc.live, failures = fx->alloc.failures;
    fx->alloc.fail_at = fx->alloc.calls + 1;
    sf_error err;
    sf_stream_record got;
    sf_status st = sf_stream_fetch(fx->fake, NULL, fx->service_sid, "logged", &got, &err);
    fx->alloc.fail_at = 0;
    assert_int_equal(fx->alloc.failures, failures + 1); /* the ring's growth was refused */
    assert_status(st, SF_OK);
    assert_status(err.status, SF_OK);
    assert_memory_equal(&got, &rec, sizeof rec);
    assert_int_equal(fx->alloc.live, live);
    assert_int_equal(sf_journal_count(fx->fake), 256);
    assert_int_equal(sf_journal_overwritten(fx->fake), 1);
    /* the newest entry is that fetch; the oldest (the fixture's service.create) is gone */
    uint64_t cursor = 0;
    sf_journal_entry e, last;
    assert_true(sf_journal_next(fx->fake, NULL, &cursor, &e));
    assert_int_equal(e.seq, 2);
    while (sf_journal_next(fx->fake, NULL, &cursor, &e))
        last = e;
    assert_int_equal(last.seq, 257);
    assert_int_equal(last.kind, SF_JOURNAL_API);
    assert_int_equal(last.op, SF_OP_STREAM_FETCH);
    assert_int_equal(last.status, 200);
    assert_string_equal(last.stream_sid, rec.sid);
    /* with memory back, the next call grows the ring */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "logged", NULL, NULL), SF_OK);
    assert_int_equal(sf_journal_count(fx->fake), 257);
}

/* ---------------------------------------------------------------------------------------- */

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

static int teardown_held(void **state)
{
    (void)state;
    release_held();
    return 0;
}

static int teardown(void **state)
{
    release_held();
    return sf_fixture_teardown(state);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, teardown)
#define S(name) cmocka_unit_test_teardown(name, teardown_held)

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
        T(test_stream_update_ttl_fails_cleanly_when_timer_heap_is_empty),
        T(test_stream_update_ttl_fails_cleanly_when_timer_heap_must_grow),
        T(test_stream_update_of_armed_or_cleared_ttl_needs_no_allocation),
        T(test_stream_list_fails_cleanly_at_every_allocation),
        T(test_stream_publish_needs_no_allocation),
        T(test_subscribe_fails_cleanly_at_every_allocation),
        T(test_stream_publish_through_fault_rules_fails_cleanly),
        T(test_fault_add_fails_cleanly_at_every_allocation),
        T(test_inject_error_fails_cleanly),
        T(test_stream_remove_with_subscribers_fails_cleanly),
        T(test_service_remove_with_subscribers_fails_cleanly),
        T(test_journal_growth_failure_never_fails_a_call),
    };
    return cmocka_run_group_tests_name("alloc_failure", tests, NULL, NULL);
}
