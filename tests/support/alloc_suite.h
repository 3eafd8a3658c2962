/* SPDX-License-Identifier: MIT */
/* alloc_suite.h: what the test_alloc_failure_*.c suites share. They test every endpoint that
 * allocates, with its Nth allocation failed for N = 1, 2, 3, ... (counted from the start of
 * the call) until the call gets through without meeting the failure.
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
 * (The journal is the one exception by design: its growth may fail without failing a call.)
 *
 * Here: snapshots of the observable state, the probe, twin fakes, the failure loop
 * (oom_loop) over an operation (op_*), history helpers, and the teardowns that release what
 * a failed assertion left held. Include it after <cmocka.h>. */
#ifndef SF_TEST_ALLOC_SUITE_H
#define SF_TEST_ALLOC_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/* Arrays and fakes held outside the fixture, freed by the teardowns: held_slot finds p (or a
 * free slot, NULL), swap_held replaces it, held_grow reallocates a held array. */
int held_slot(void *const *list, const void *p);

void swap_held(void **list, void *from, void *to);

void hold_fake(sf_fake *fake);

void unhold_fake(sf_fake *fake);

void *held_grow(void *p, size_t n, size_t size);

void block_free(void *p);

/* Snapshots: everything a caller can observe (snap_take), compared field by field. */
void snap_free(snapshot *s);

void push_token(char (**tokens)[SF_PAGE_TOKEN_SIZE], size_t *n, const char *token);

/* Walks every page of the default account's services and of each service's streams. The
 * page tokens are kept too: they encode the creation numbers of the records. */
void snap_take(sf_fake *fake, sf_test_alloc *alloc, snapshot *s);

void fault_assert_equal(const sf_fault_info *want, const sf_fault_info *got);

void sub_assert_equal(const sf_subscriber_stats *want, const sf_subscriber_stats *got);

void snap_assert_equal(const snapshot *want, const snapshot *got);

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

/* The probe: mints one SID of every kind; equal probes mean no SID was spent. */
void probe_run(sf_fake *fake, probe *p);

void probe_assert_equal(const probe *want, const probe *got);

/* A fake built like the fixture's (seed, manual clock, one service), but keeping no journal:
 * the journal is not part of what the snapshots compare, and without it every allocation a
 * twin makes is one of the call's own. It is held until alloc_twin_free, so `alloc` must outlive
 * the test function: callers pass static storage. */
sf_fake *alloc_twin_new(sf_test_alloc *alloc, const char *want_service_sid);

/* Frees a twin and checks that it gave back every block. */
void alloc_twin_free(sf_fake *fake, sf_test_alloc *alloc);

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

/* What an operation returned (records, pages), released and compared. */
void result_release(sf_fake *fake, op_result *res);

void page_info_assert_equal(const sf_page_info *want, const sf_page_info *got);

void result_assert_equal(const op_result *want, const op_result *got);

typedef struct oom_report {
    long failed; /* values of N for which the call failed with SF_ERR_NOMEM */
    long clean;  /* allocations the same call made on the twin */
} oom_report;

/* The loop of the file comment, on the fixture's fake, then the comparison with `twin`, which
 * must have the same history. */
oom_report oom_loop(sf_fixture *fx, sf_fake *twin, op_fn op, const op_ctx *ctx);

/* The operations oom_loop drives: each makes one call with ctx (the fixture's service and
 * stream, an index for names) and keeps its result in res. */
sf_status op_account_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_api_key_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_service_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_service_update(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_service_list(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_stream_create(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

/* A stream named after ctx->index (stream_name_for). */
void stream_name_for(long i, char out[32]);

sf_status op_stream_create_indexed(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_stream_update(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_stream_list(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_stream_publish(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_subscribe(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_fault_add(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_stream_remove(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_service_remove(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

sf_status op_inject_error(sf_fake *fake, const op_ctx *ctx, op_result *res, sf_error *err);

/* History helpers: the same calls on the fixture's fake and on its twin. */
void alloc_make_stream(sf_fake *fake, const char *service_sid, const char *name, long long ttl,
                       sf_stream_record *out);

void alloc_make_streams(sf_fake *fake, const char *service_sid, long count, long long ttl);

/* Runs `op` with ctx->index = 0, 1, 2, ... on a scratch twin and returns the allocations each
 * call made (allocs[i], i < max). Tables held_grow on the same calls as on the fixture's fake, the
 * keys being the same. */
void allocs_per_call(op_fn op, op_ctx ctx, long max, long *allocs);

/* The first call that makes exactly one allocation more than `base`: a hash table's bucket
 * array doubling. (A list index growing reallocates its three arrays at once: +3, skipped.) */
long first_growth(op_fn op, const op_ctx *ctx, long base, long max);

/* A subscriber callback counting what arrives into events_seen. */
extern long events_seen;
void alloc_count_event(sf_fake *fake, const sf_event *ev, void *user);

/* cmocka teardowns: free every held fake and array (and the fixture). */
int alloc_teardown_held(void **state);
int alloc_teardown(void **state);

#endif
