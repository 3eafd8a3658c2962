/* SPDX-License-Identifier: MIT */
/* test_delivery_alloc_failure.c: the delivery and fault surfaces with their Nth allocation
 * failed, for N = 1, 2, 3, ... until the call gets through without meeting the failure:
 * sf_subscribe, sf_fault_add (each scope), sf_inject_error, and sf_stream_publish on the
 * queued path (subscribers plus a jitter rule, so deliveries are allocated).
 *
 * Each N runs on a fresh fake (a "trial world") built exactly like a twin that never fails.
 * For every N that makes the call fail we check the contract of syncfake.h ("on failure
 * nothing in the fake has changed"):
 *   - the status is SF_ERR_NOMEM with Twilio's 500/20500 body;
 *   - the observable state is what it was: queued deliveries and events, every subscriber's
 *     stats, the stream's counters and rate-limit tokens, the rule table (ids, drop_next_left,
 *     hits), nothing delivered and no delivery fate journaled;
 *   - the fake holds as many blocks as before (allocator `live`);
 *   - the call then succeeds when retried and gives what the twin's call gave (same subscriber
 *     id, rule id, message SID), and a probe (one more publish, run to idle, a fetch) gives
 *     byte for byte the twin's deliveries: no SID, id or drop_next was spent by the failure;
 *   - freeing the trial world leaves no block behind. */
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

#define KIND(k) (1u << (k))
#define ALL_FATES (~KIND(SF_JOURNAL_API))

/* ---------------------------------------------------------------------------------------- */
/* Worlds                                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef struct delivery_rec {
    sf_subscriber_id sub;
    char sid[SF_SID_SIZE];
    sf_ms at;
    bool dup;
} delivery_rec;

typedef struct recorder {
    size_t n;
    delivery_rec d[256];
} recorder;

typedef struct scenario {
    int nsubs;        /* subscribers attached before the op */
    bool jitter_rule; /* fake scope {jitter 20} */
    bool rich_rules;  /* + fake scope {duplicate 0.5, delay 3}, subscriber 2 {drop_next 1} */
    bool warm;        /* one publish run to idle before the op */
} scenario;

typedef struct world {
    void *state; /* sf_fixture *, from sf_fixture_setup */
    sf_fixture *fx;
    recorder *rec;
    sf_stream_record s;
    int nsubs;
    sf_subscriber_id subs[8];
} world;

enum { TRIAL = 0, TWIN = 1 };
static world worlds[2];
static recorder recs[2];

static void on_event(sf_fake *fake, const sf_event *e, void *user)
{
    (void)fake;
    recorder *r = user;
    if (e->kind != SF_EVENT_MESSAGE_PUBLISHED)
        return;
    if (r->n == sizeof r->d / sizeof r->d[0])
        abort();
    delivery_rec *d = &r->d[r->n++];
    memset(d, 0, sizeof *d);
    d->sub = e->subscriber;
    snprintf(d->sid, sizeof d->sid, "%s", e->message_sid);
    d->at = e->delivered_ms;
    d->dup = e->is_duplicate;
}

static void world_release(world *w)
{
    if (!w->state)
        return;
    int rc = sf_fixture_teardown(&w->state);
    memset(w, 0, sizeof *w);
    if (rc != 0)
        fail_msg("the fake left blocks behind when freed");
}

static int setup(void **state)
{
    memset(worlds, 0, sizeof worlds);
    memset(recs, 0, sizeof recs);
    return sf_fixture_setup(state);
}

static int teardown(void **state)
{
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        if (worlds[i].state && sf_fixture_teardown(&worlds[i].state) != 0)
            rc = -1;
        memset(&worlds[i], 0, sizeof worlds[i]);
    }
    if (sf_fixture_teardown(state) != 0)
        rc = -1;
    return rc;
}

static const char DATA[] = "{\"oom\": true}";

static sf_status publish(world *w, char sid_out[SF_SID_SIZE], sf_error *err)
{
    sf_publish_params p = {.data = DATA, .data_len = sizeof DATA - 1};
    sf_message_record m;
    sf_status st = sf_stream_publish(w->fx->fake, NULL, w->fx->service_sid, w->s.sid, &p, &m, err);
    if (st == SF_OK && sid_out)
        memcpy(sid_out, m.sid, SF_SID_SIZE);
    return st;
}

static void world_build(int slot, const scenario *sc)
{
    world *w = &worlds[slot];
    world_release(w);
    memset(&recs[slot], 0, sizeof recs[slot]);
    assert_int_equal(sf_fixture_setup(&w->state), 0);
    w->fx = w->state;
    w->rec = &recs[slot];
    sf_fixture_stream(w->fx, "s", -1, &w->s);
    for (int k = 0; k < sc->nsubs; k++) {
        sf_subscribe_params p = {.on_event = on_event, .user = w->rec};
        assert_status(
            sf_subscribe(w->fx->fake, NULL, w->fx->service_sid, "s", &p, &w->subs[k], NULL), SF_OK);
        w->nsubs++;
    }
    if (sc->jitter_rule) {
        sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .jitter_ms = 20};
        assert_status(sf_fault_add(w->fx->fake, &fp, NULL, NULL), SF_OK);
    }
    if (sc->rich_rules) {
        sf_fault_params dup = {.scope = SF_SCOPE_FAKE, .duplicate_rate = 0.5, .delay_ms = 3};
        assert_status(sf_fault_add(w->fx->fake, &dup, NULL, NULL), SF_OK);
        assert_true(sc->nsubs >= 2);
        sf_fault_params next = {
            .scope = SF_SCOPE_SUBSCRIBER, .subscriber = w->subs[1], .drop_next = 1};
        assert_status(sf_fault_add(w->fx->fake, &next, NULL, NULL), SF_OK);
    }
    if (sc->warm) {
        assert_status(publish(w, NULL, NULL), SF_OK);
        sf_run_until_idle(w->fx->fake);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Observable state                                                                          */
/* ---------------------------------------------------------------------------------------- */

#define MAX_RULES 8

typedef struct wsnap {
    sf_ms now;
    size_t pending_deliveries, pending_events;
    bool has_next;
    sf_ms next;
    uint64_t messages_published, stream_subscribers;
    uint32_t tokens;
    sf_ms next_allowed;
    int nsubs;
    sf_subscriber_stats st[8];
    size_t nrules;
    sf_fault_info rules[MAX_RULES];
    size_t delivered;
    size_t fates;
} wsnap;

/* Taken with the allocator's failure switched off (none of these calls should allocate). */
static void wsnap_take(world *w, wsnap *s)
{
    sf_test_alloc *a = &w->fx->alloc;
    long fail_at = a->fail_at;
    a->fail_at = 0;
    sf_fake *f = w->fx->fake;
    memset(s, 0, sizeof *s);
    s->now = sf_clock_now(f);
    s->pending_deliveries = sf_pending_deliveries(f);
    s->pending_events = sf_pending_events(f);
    s->has_next = sf_next_event_time(f, &s->next);
    sf_stream_stats ss;
    assert_status(sf_stream_stats_get(f, NULL, w->fx->service_sid, w->s.sid, &ss, NULL), SF_OK);
    s->messages_published = ss.messages_published;
    s->stream_subscribers = ss.subscribers;
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(f, NULL, w->fx->service_sid, w->s.sid, &rs, NULL), SF_OK);
    s->tokens = rs.tokens;
    s->next_allowed = rs.next_allowed_ms;
    s->nsubs = w->nsubs;
    for (int k = 0; k < w->nsubs; k++)
        assert_status(sf_subscriber_stats_get(f, w->subs[k], &s->st[k], NULL), SF_OK);
    s->nrules = sf_fault_list(f, s->rules, MAX_RULES);
    assert_true(s->nrules <= MAX_RULES);
    s->delivered = w->rec->n;
    s->fates = sf_test_journal_count(f, ALL_FATES, 0, NULL);
    a->fail_at = fail_at;
}

static void assert_stats_equal(const sf_subscriber_stats *a, const sf_subscriber_stats *b)
{
    assert_string_equal(a->stream_sid, b->stream_sid);
    assert_int_equal(a->attached, b->attached);
    assert_int_equal(a->held, b->held);
    assert_int_equal(a->connected, b->connected);
    assert_int_equal(a->delivered, b->delivered);
    assert_int_equal(a->duplicated, b->duplicated);
    assert_int_equal(a->dropped, b->dropped);
    assert_int_equal(a->lost, b->lost);
    assert_int_equal(a->in_flight, b->in_flight);
    assert_int_equal(a->parked, b->parked);
}

static void assert_rules_equal(size_t n, const sf_fault_info *a, const sf_fault_info *b)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].id, b[i].id);
        assert_int_equal(a[i].params.scope, b[i].params.scope);
        assert_int_equal(a[i].params.subscriber, b[i].params.subscriber);
        assert_string_equal(a[i].stream_sid, b[i].stream_sid);
        assert_true(a[i].params.drop_rate == b[i].params.drop_rate);
        assert_true(a[i].params.duplicate_rate == b[i].params.duplicate_rate);
        assert_int_equal(a[i].params.delay_ms, b[i].params.delay_ms);
        assert_int_equal(a[i].params.jitter_ms, b[i].params.jitter_ms);
        assert_int_equal(a[i].params.drop_next, b[i].params.drop_next);
        assert_int_equal(a[i].params.expiry_lag_ms, b[i].params.expiry_lag_ms);
        assert_int_equal(a[i].drop_next_left, b[i].drop_next_left);
        assert_int_equal(a[i].hits, b[i].hits);
    }
}

static void assert_wsnap_equal(const wsnap *a, const wsnap *b)
{
    assert_int_equal(a->now, b->now);
    assert_int_equal(a->pending_deliveries, b->pending_deliveries);
    assert_int_equal(a->pending_events, b->pending_events);
    assert_int_equal(a->has_next, b->has_next);
    if (a->has_next)
        assert_int_equal(a->next, b->next);
    assert_int_equal(a->messages_published, b->messages_published);
    assert_int_equal(a->stream_subscribers, b->stream_subscribers);
    assert_int_equal(a->tokens, b->tokens);
    assert_int_equal(a->next_allowed, b->next_allowed);
    assert_int_equal(a->nsubs, b->nsubs);
    for (int k = 0; k < a->nsubs; k++)
        assert_stats_equal(&a->st[k], &b->st[k]);
    assert_int_equal(a->nrules, b->nrules);
    assert_rules_equal(a->nrules, a->rules, b->rules);
    assert_int_equal(a->delivered, b->delivered);
    assert_int_equal(a->fates, b->fates);
}

/* ---------------------------------------------------------------------------------------- */
/* Operations under test                                                                     */
/* ---------------------------------------------------------------------------------------- */

typedef struct op_result {
    sf_subscriber_id sub;
    sf_fault_id rule;
    char sid[SF_SID_SIZE];
} op_result;

typedef sf_status (*op_fn)(world *w, const void *arg, op_result *res, sf_error *err);

static sf_status op_subscribe(world *w, const void *arg, op_result *res, sf_error *err)
{
    (void)arg;
    sf_subscribe_params p = {.on_event = on_event, .user = w->rec};
    sf_subscriber_id id = 0;
    sf_status st = sf_subscribe(w->fx->fake, NULL, w->fx->service_sid, "s", &p, &id, err);
    if (st == SF_OK) {
        res->sub = id;
        w->subs[w->nsubs++] = id;
    }
    return st;
}

static sf_status op_fault_add(world *w, const void *arg, op_result *res, sf_error *err)
{
    sf_fault_params p = *(const sf_fault_params *)arg;
    if (p.scope == SF_SCOPE_STREAM)
        p.stream_sid = w->s.sid;
    if (p.scope == SF_SCOPE_SUBSCRIBER)
        p.subscriber = w->subs[0];
    sf_fault_id id = 0;
    sf_status st = sf_fault_add(w->fx->fake, &p, &id, err);
    if (st == SF_OK)
        res->rule = id;
    return st;
}

static sf_status op_inject(world *w, const void *arg, op_result *res, sf_error *err)
{
    (void)res;
    return sf_inject_error(w->fx->fake, arg, err);
}

static sf_status op_publish(world *w, const void *arg, op_result *res, sf_error *err)
{
    (void)arg;
    return publish(w, res->sid, err);
}

/* What a world shows after the op succeeded: one more publish run to idle, and a fetch. */
typedef struct probe_out {
    op_result res;
    char pub_sid[SF_SID_SIZE];
    sf_status fetch_status;
    int fetch_http;
    recorder rec;
    wsnap snap;
} probe_out;

static void probe(world *w, const op_result *res, probe_out *out)
{
    memset(out, 0, sizeof *out);
    out->res = *res;
    sf_run_until_idle(w->fx->fake);
    sf_error err;
    sf_status st = publish(w, out->pub_sid, &err);
    if (st != SF_OK)
        fail_msg("probe publish: %s %s", sf_status_name(st), err.message);
    sf_run_until_idle(w->fx->fake);
    sf_stream_record r;
    out->fetch_status = sf_stream_fetch(w->fx->fake, NULL, w->fx->service_sid, "s", &r, &err);
    out->fetch_http = err.http_status;
    out->rec = *w->rec;
    wsnap_take(w, &out->snap);
}

static void assert_probe_equal(const probe_out *a, const probe_out *b)
{
    assert_int_equal(a->res.sub, b->res.sub);
    assert_int_equal(a->res.rule, b->res.rule);
    assert_string_equal(a->res.sid, b->res.sid);
    assert_string_equal(a->pub_sid, b->pub_sid);
    assert_int_equal(a->fetch_status, b->fetch_status);
    assert_int_equal(a->fetch_http, b->fetch_http);
    assert_int_equal(a->rec.n, b->rec.n);
    for (size_t i = 0; i < a->rec.n; i++) {
        assert_int_equal(a->rec.d[i].sub, b->rec.d[i].sub);
        assert_string_equal(a->rec.d[i].sid, b->rec.d[i].sid);
        assert_int_equal(a->rec.d[i].at, b->rec.d[i].at);
        assert_int_equal(a->rec.d[i].dup, b->rec.d[i].dup);
    }
    /* the journal of the trial world also holds the failed calls, so fates are not compared */
    wsnap sa = a->snap, sb = b->snap;
    sa.fates = sb.fates = 0;
    assert_wsnap_equal(&sa, &sb);
}

/* ---------------------------------------------------------------------------------------- */
/* The loop                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct oom_report {
    long failed;      /* values of N for which the call failed */
    long allocs;      /* allocations made by the call that got through */
    char blocks[512]; /* N values where the fake held a different number of blocks */
} oom_report;

/* The op under test with its argument, what the twin's probe showed and room for a trial's. */
typedef struct trial_ctx {
    op_fn op;
    const void *arg;
    const probe_out *want;
    probe_out *got;
} trial_ctx;

/* After a failed call (N=n): the world is as before it and nothing became due; noting in rep
 * when it holds a different number of blocks than live. Then the retry gets exactly what the
 * twin got. Releases w. */
static void check_unchanged_then_retry(world *w, const trial_ctx *tc, long n, const wsnap *before,
                                       long live, oom_report *rep)
{
    sf_test_alloc *a = &w->fx->alloc;
    wsnap after;
    wsnap_take(w, &after);
    assert_wsnap_equal(before, &after);
    if (a->live != live) {
        size_t len = strlen(rep->blocks);
        snprintf(rep->blocks + len, sizeof rep->blocks - len, " N=%ld:%+ld", n, a->live - live);
    }
    /* nothing became due either */
    sf_run_until_idle(w->fx->fake);
    assert_int_equal(w->rec->n, before->delivered);

    /* the retry gets exactly what the twin got */
    op_result res;
    memset(&res, 0, sizeof res);
    sf_error err;
    sf_status st = tc->op(w, tc->arg, &res, &err);
    if (st != SF_OK)
        fail_msg("N=%ld: retry failed: %s", n, sf_status_name(st));
    probe(w, &res, tc->got);
    assert_probe_equal(tc->got, tc->want);
    world_release(w);
}

/* One turn of the loop: a fresh trial world, the op with its N-th allocation failed. A call
 * that goes through must match the twin; one that fails must fail with NOMEM. Returns true
 * when the call got through without meeting the failure (the loop is done). */
static bool fail_nth_alloc(const scenario *sc, const trial_ctx *tc, long n, oom_report *rep)
{
    world_build(TRIAL, sc);
    world *w = &worlds[TRIAL];
    sf_test_alloc *a = &w->fx->alloc;
    wsnap before;
    wsnap_take(w, &before);
    long live = a->live, calls = a->calls, failures = a->failures;
    op_result res;
    memset(&res, 0, sizeof res);
    sf_error err;
    memset(&err, 0x5a, sizeof err);
    a->fail_at = calls + n;
    sf_status st = tc->op(w, tc->arg, &res, &err);
    a->fail_at = 0;
    bool hit = a->failures > failures;

    if (st == SF_OK) {
        assert_status(err.status, SF_OK);
        if (!hit)
            rep->allocs = a->calls - calls;
        probe(w, &res, tc->got);
        assert_probe_equal(tc->got, tc->want);
        world_release(w);
        /* without meeting the failure the loop is done; absorbed, the comparison above
         * proves it did everything */
        return !hit;
    }
    sf_assert_nomem_failure(st, &err, hit, n);
    rep->failed++;
    check_unchanged_then_retry(w, tc, n, &before, live, rep);
    return false;
}

static oom_report oom_loop(const scenario *sc, op_fn op, const void *arg)
{
    static probe_out want, got;
    oom_report rep;
    memset(&rep, 0, sizeof rep);

    /* the twin: same history, the op made once without any failure */
    world_build(TWIN, sc);
    op_result twin_res;
    memset(&twin_res, 0, sizeof twin_res);
    sf_error err;
    sf_status st = op(&worlds[TWIN], arg, &twin_res, &err);
    if (st != SF_OK)
        fail_msg("the twin's call failed: %s %s", sf_status_name(st), err.message);
    probe(&worlds[TWIN], &twin_res, &want);

    trial_ctx tc = {.op = op, .arg = arg, .want = &want, .got = &got};
    for (long n = 1;; n++) {
        assert_true(n < 1000);
        if (fail_nth_alloc(sc, &tc, n, &rep))
            break;
    }
    world_release(&worlds[TWIN]);
    return rep;
}

/* ---------------------------------------------------------------------------------------- */
/* Tests                                                                                     */
/* ---------------------------------------------------------------------------------------- */

/* Scenarios. The semantic tests below check everything but the block count; the block count
 * has its own tests at the end, so that a finding there cannot hide a regression here. */
static const scenario SUB_COLD = {.nsubs = 0};
static const scenario SUB_WARM = {.nsubs = 2, .jitter_rule = true};
static const scenario RULES_COLD = {.nsubs = 2};
static const scenario RULES_WARM = {.nsubs = 2, .jitter_rule = true, .rich_rules = true};
static const scenario PUB_COLD = {.nsubs = 3, .jitter_rule = true};
static const scenario PUB_WARM = {.nsubs = 3, .jitter_rule = true, .warm = true};
static const scenario PUB_RICH = {.nsubs = 3, .jitter_rule = true, .rich_rules = true};

static const sf_error_injection INJ = {
    .op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 503, .code = 20503, .message = "later"};

static oom_report fault_add_loop(sf_fault_scope scope, const scenario *sc)
{
    sf_fault_params p = {.scope = scope, .drop_next = 1, .jitter_ms = 10, .duplicate_rate = 0.5};
    return oom_loop(sc, op_fault_add, &p);
}

static void test_subscribe_first_subscriber_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&SUB_COLD, op_subscribe, NULL);
    assert_true(rep.failed >= 1);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_subscribe_with_room_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&SUB_WARM, op_subscribe, NULL);
    assert_true(rep.failed >= 1);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_fault_add_fake_scope_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = fault_add_loop(SF_SCOPE_FAKE, &RULES_COLD);
    assert_true(rep.failed >= 1);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_fault_add_stream_scope_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = fault_add_loop(SF_SCOPE_STREAM, &RULES_COLD);
    assert_true(rep.failed >= 1);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_fault_add_subscriber_scope_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = fault_add_loop(SF_SCOPE_SUBSCRIBER, &RULES_COLD);
    assert_true(rep.failed >= 1);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_fault_add_with_existing_rules_oom_changes_nothing(void **state)
{
    (void)state;
    for (int scope = SF_SCOPE_FAKE; scope <= SF_SCOPE_SUBSCRIBER; scope++) {
        oom_report rep = fault_add_loop((sf_fault_scope)scope, &RULES_WARM);
        assert_true(rep.failed >= 1);
        assert_int_equal(rep.allocs, rep.failed);
    }
}

static void test_inject_error_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&SUB_WARM, op_inject, &INJ);
    assert_int_equal(rep.failed, 1);
    assert_int_equal(rep.allocs, 1);
}

static void test_publish_queued_path_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&PUB_COLD, op_publish, NULL);
    /* message, plans, three deliveries, room in the event queue */
    assert_true(rep.failed >= 5);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_publish_queued_path_with_warm_pools_oom_changes_nothing(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&PUB_WARM, op_publish, NULL);
    assert_true(rep.failed >= 1);
    assert_int_equal(rep.allocs, rep.failed);
}

static void test_publish_with_duplicates_and_drop_next_oom_keeps_drop_next(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&PUB_RICH, op_publish, NULL);
    assert_true(rep.failed >= 3);
    assert_int_equal(rep.allocs, rep.failed);
}

/* The block count: a failed call must leave the fake holding what it held before. */

static void test_failed_subscribe_holds_no_extra_block(void **state)
{
    (void)state;
    oom_report cold = oom_loop(&SUB_COLD, op_subscribe, NULL);
    oom_report warm = oom_loop(&SUB_WARM, op_subscribe, NULL);
    if (cold.blocks[0] || warm.blocks[0])
        fail_msg("failed sf_subscribe changed the blocks held (N:delta): first subscriber:%s;"
                 " with room:%s",
                 cold.blocks, warm.blocks);
}

static void test_failed_fault_add_holds_no_extra_block(void **state)
{
    (void)state;
    static const char *const names[] = {"fake", "stream", "subscriber"};
    char msg[1024] = "";
    for (int scope = SF_SCOPE_FAKE; scope <= SF_SCOPE_SUBSCRIBER; scope++) {
        oom_report cold = fault_add_loop((sf_fault_scope)scope, &RULES_COLD);
        oom_report warm = fault_add_loop((sf_fault_scope)scope, &RULES_WARM);
        size_t len = strlen(msg);
        if (cold.blocks[0] || warm.blocks[0]) {
            /* report only the start of each list: the message is a hint, not a dump */
            int n = snprintf(msg + len, sizeof msg - len,
                             " [%s scope: first rule:%.200s; with rules:%.200s]", names[scope],
                             cold.blocks, warm.blocks);
            (void)n;
        }
    }
    if (msg[0])
        fail_msg("failed sf_fault_add changed the blocks held (N:delta):%s", msg);
}

static void test_failed_inject_error_holds_no_extra_block(void **state)
{
    (void)state;
    oom_report rep = oom_loop(&SUB_WARM, op_inject, &INJ);
    if (rep.blocks[0])
        fail_msg("failed sf_inject_error changed the blocks held (N:delta):%s", rep.blocks);
}

static void test_failed_queued_publish_holds_no_extra_block(void **state)
{
    (void)state;
    oom_report cold = oom_loop(&PUB_COLD, op_publish, NULL);
    oom_report warm = oom_loop(&PUB_WARM, op_publish, NULL);
    oom_report rich = oom_loop(&PUB_RICH, op_publish, NULL);
    if (cold.blocks[0] || warm.blocks[0] || rich.blocks[0])
        fail_msg("failed sf_stream_publish changed the blocks held (N:delta): cold:%s;"
                 " warm pools:%s; duplicates+drop_next:%s",
                 cold.blocks, warm.blocks, rich.blocks);
}

static void test_failed_publish_journals_its_api_call_without_a_message(void **state)
{
    (void)state;
    scenario sc = {.nsubs = 3, .jitter_rule = true};
    world_build(TRIAL, &sc);
    world *w = &worlds[TRIAL];
    size_t api_before = sf_test_journal_count(w->fx->fake, KIND(SF_JOURNAL_API), 0, NULL);
    w->fx->alloc.fail_at = w->fx->alloc.calls + 1;
    sf_error err;
    assert_status(publish(w, NULL, &err), SF_ERR_NOMEM);
    w->fx->alloc.fail_at = 0;
    assert_int_equal(sf_test_journal_count(w->fx->fake, KIND(SF_JOURNAL_API), 0, NULL),
                     api_before + 1);
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_API)};
    uint64_t cursor = 0;
    sf_journal_entry e, last;
    while (sf_journal_next(w->fx->fake, &f, &cursor, &e))
        last = e;
    assert_int_equal(last.op, SF_OP_MESSAGE_CREATE);
    assert_int_equal(last.status, 500);
    assert_int_equal(last.code, 20500);
    assert_false(last.injected);
    assert_string_equal(last.stream_sid, w->s.sid);
    assert_string_equal(last.message_sid, "");
    world_release(w);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_subscribe_first_subscriber_oom_changes_nothing),
        T(test_subscribe_with_room_oom_changes_nothing),
        T(test_fault_add_fake_scope_oom_changes_nothing),
        T(test_fault_add_stream_scope_oom_changes_nothing),
        T(test_fault_add_subscriber_scope_oom_changes_nothing),
        T(test_fault_add_with_existing_rules_oom_changes_nothing),
        T(test_inject_error_oom_changes_nothing),
        T(test_publish_queued_path_oom_changes_nothing),
        T(test_publish_queued_path_with_warm_pools_oom_changes_nothing),
        T(test_publish_with_duplicates_and_drop_next_oom_keeps_drop_next),
        T(test_failed_publish_journals_its_api_call_without_a_message),
        T(test_failed_subscribe_holds_no_extra_block),
        T(test_failed_fault_add_holds_no_extra_block),
        T(test_failed_inject_error_holds_no_extra_block),
        T(test_failed_queued_publish_holds_no_extra_block),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
