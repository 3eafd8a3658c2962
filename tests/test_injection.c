/* SPDX-License-Identifier: MIT */
/* test_injection.c: scripted REST failures (sf_inject_error).
 *
 * Before apply, an injected call must fail with exactly the Twilio body that was asked for and
 * change nothing at all (no stream, no message, no SID spent, no rate token). After apply, the
 * change is made and the failure is still reported: the ambiguous outcome that retry logic
 * must survive. Injections are queued per operation, counted, journaled and clearable. The
 * checks compare against a twin fake (same seed, same calls, no injection) where "nothing
 * changed" includes the SIDs that later calls mint. */
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

/* ---------------------------------------------------------------------------------------- */
/* Fixtures                                                                                  */
/* ---------------------------------------------------------------------------------------- */

#define NEXTRA 4
static void *extras[NEXTRA];

typedef struct recorder {
    size_t n;
    char sids[64][SF_SID_SIZE];
} recorder;
static recorder recs[4];

static int setup(void **state)
{
    memset(recs, 0, sizeof recs);
    return sf_fixture_setup(state);
}

static int teardown(void **state)
{
    int rc = 0;
    for (int i = 0; i < NEXTRA; i++) {
        if (extras[i] && sf_fixture_teardown(&extras[i]) != 0)
            rc = -1;
        extras[i] = NULL;
    }
    if (sf_fixture_teardown(state) != 0)
        rc = -1;
    return rc;
}

/* A twin: same seed, same options; freed by the teardown. */
static sf_fixture *twin_fixture(void)
{
    for (int i = 0; i < NEXTRA; i++) {
        if (!extras[i]) {
            assert_int_equal(sf_fixture_setup(&extras[i]), 0);
            return extras[i];
        }
    }
    fail_msg("out of extra fixture slots");
    return NULL;
}

static void on_event(sf_fake *fake, const sf_event *e, void *user)
{
    (void)fake;
    recorder *r = user;
    if (e->kind == SF_EVENT_MESSAGE_PUBLISHED && r->n < 64)
        snprintf(r->sids[r->n++], SF_SID_SIZE, "%s", e->message_sid);
}

static sf_subscriber_id subscribe(sf_fixture *fx, const char *stream, int rec)
{
    sf_subscribe_params p = {.on_event = on_event, .user = &recs[rec]};
    sf_subscriber_id id = 0;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, stream, &p, &id, NULL), SF_OK);
    return id;
}

static const char DATA[] = "{\"n\": 1}";

static void inject(sf_fixture *fx, sf_op op, uint32_t count, int http, int code,
                   const char *message, bool after_apply)
{
    sf_error_injection inj = {.op = op,
                              .count = count,
                              .http_status = http,
                              .code = code,
                              .message = message,
                              .after_apply = after_apply};
    sf_error err;
    sf_status st = sf_inject_error(fx->fake, &inj, &err);
    if (st != SF_OK)
        fail_msg("inject failed: %s %s", sf_status_name(st), err.message);
    assert_status(err.status, SF_OK);
}

/* The error body of an injected failure, field by field. */
static void assert_injected(sf_status st, const sf_error *err, int http, int code,
                            const char *message)
{
    assert_status(st, SF_ERR_INJECTED);
    assert_status(err->status, SF_ERR_INJECTED);
    assert_int_equal(err->http_status, http);
    assert_int_equal(err->code, code);
    assert_string_equal(err->message, message);
    char more_info[SF_MORE_INFO_SIZE];
    snprintf(more_info, sizeof more_info, "https://www.twilio.com/docs/errors/%d", code);
    assert_string_equal(err->more_info, more_info);
}

/* The last journal entry of kind api. */
static sf_journal_entry last_api(sf_fake *fake)
{
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_API)};
    uint64_t cursor = 0;
    sf_journal_entry e, last;
    bool any = false;
    while (sf_journal_next(fake, &f, &cursor, &e)) {
        last = e;
        any = true;
    }
    assert_true(any);
    return last;
}

static sf_rate_state rate(sf_fixture *fx, const char *stream)
{
    sf_rate_state r;
    memset(&r, 0, sizeof r); /* padding too: states are compared with memcmp */
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, stream, &r, NULL), SF_OK);
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Observable state, to prove "changed nothing"                                             */
/* ---------------------------------------------------------------------------------------- */

#define SNAP_MAX 8
typedef struct snapshot {
    sf_ms now;
    size_t nservices;
    sf_service_record services[SNAP_MAX];
    size_t nstreams;
    sf_stream_record streams[SNAP_MAX];
    sf_rate_state rates[SNAP_MAX];
    sf_stream_stats stream_stats[SNAP_MAX];
    size_t pending;
    size_t delivered;
} snapshot;

static void snap(sf_fixture *fx, snapshot *s)
{
    memset(s, 0, sizeof *s);
    s->now = sf_clock_now(fx->fake);
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_service_page *sp = NULL;
    assert_status(sf_service_list(fx->fake, NULL, &pp, &sp, NULL), SF_OK);
    assert_true(sp->info.count <= SNAP_MAX);
    s->nservices = sp->info.count;
    memcpy(s->services, sp->records, sp->info.count * sizeof *sp->records);
    sf_service_page_free(fx->fake, sp);
    sf_stream_page *tp = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &tp, NULL), SF_OK);
    assert_true(tp->info.count <= SNAP_MAX);
    s->nstreams = tp->info.count;
    memcpy(s->streams, tp->records, tp->info.count * sizeof *tp->records);
    sf_stream_page_free(fx->fake, tp);
    for (size_t i = 0; i < s->nstreams; i++) {
        assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, s->streams[i].sid,
                                           &s->rates[i], NULL),
                      SF_OK);
        assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, s->streams[i].sid,
                                          &s->stream_stats[i], NULL),
                      SF_OK);
    }
    s->pending = sf_pending_events(fx->fake);
    for (int i = 0; i < 4; i++)
        s->delivered += recs[i].n;
}

static void assert_snap_equal(const snapshot *a, const snapshot *b)
{
    assert_int_equal(a->now, b->now);
    assert_int_equal(a->nservices, b->nservices);
    assert_memory_equal(a->services, b->services, a->nservices * sizeof a->services[0]);
    assert_int_equal(a->nstreams, b->nstreams);
    assert_memory_equal(a->streams, b->streams, a->nstreams * sizeof a->streams[0]);
    assert_memory_equal(a->rates, b->rates, a->nstreams * sizeof a->rates[0]);
    assert_memory_equal(a->stream_stats, b->stream_stats, a->nstreams * sizeof a->stream_stats[0]);
    assert_int_equal(a->pending, b->pending);
    assert_int_equal(a->delivered, b->delivered);
}

/* ---------------------------------------------------------------------------------------- */
/* One representative call per operation                                                     */
/* ---------------------------------------------------------------------------------------- */

typedef struct world {
    sf_fixture *fx;
    char victim_service[SF_SID_SIZE]; /* removed by service.remove */
    sf_stream_record s;               /* "s": fetched, updated, published to */
    sf_stream_record victim;          /* removed by stream.remove */
} world;

static void world_init(world *w, sf_fixture *fx)
{
    memset(w, 0, sizeof *w);
    w->fx = fx;
    sf_service_record svc;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc, NULL), SF_OK);
    memcpy(w->victim_service, svc.sid, SF_SID_SIZE);
    sf_fixture_stream(fx, "s", -1, &w->s);
    sf_fixture_stream(fx, "victim", -1, &w->victim);
    subscribe(fx, "s", 0);
}

/* Performs `op`; *page_left is set when a list call left a page behind (it is freed here). */
static sf_status call_op(world *w, sf_op op, sf_error *err, bool *page_left)
{
    sf_fixture *fx = w->fx;
    sf_fake *f = fx->fake;
    *page_left = false;
    switch (op) {
    case SF_OP_SERVICE_CREATE: {
        sf_service_record r;
        return sf_service_create(f, NULL, NULL, &r, err);
    }
    case SF_OP_SERVICE_FETCH: {
        sf_service_record r;
        return sf_service_fetch(f, NULL, fx->service_sid, &r, err);
    }
    case SF_OP_SERVICE_UPDATE: {
        sf_service_record r;
        sf_service_params p = {.friendly_name = "renamed"};
        return sf_service_update(f, NULL, fx->service_sid, &p, &r, err);
    }
    case SF_OP_SERVICE_REMOVE:
        return sf_service_remove(f, NULL, w->victim_service, err);
    case SF_OP_SERVICE_LIST: {
        sf_service_page *page = (sf_service_page *)(uintptr_t)1;
        sf_status st = sf_service_list(f, NULL, NULL, &page, err);
        *page_left = page != NULL;
        sf_service_page_free(f, page);
        return st;
    }
    case SF_OP_STREAM_CREATE: {
        sf_stream_record r;
        return sf_stream_create(f, NULL, fx->service_sid, NULL, &r, err);
    }
    case SF_OP_STREAM_FETCH: {
        sf_stream_record r;
        return sf_stream_fetch(f, NULL, fx->service_sid, "s", &r, err);
    }
    case SF_OP_STREAM_UPDATE: {
        sf_stream_record r;
        sf_stream_params p = {.has_ttl = true, .ttl = 100};
        return sf_stream_update(f, NULL, fx->service_sid, "s", &p, &r, err);
    }
    case SF_OP_STREAM_REMOVE:
        return sf_stream_remove(f, NULL, fx->service_sid, w->victim.sid, err);
    case SF_OP_STREAM_LIST: {
        sf_stream_page *page = (sf_stream_page *)(uintptr_t)1;
        sf_status st = sf_stream_list(f, NULL, fx->service_sid, NULL, &page, err);
        *page_left = page != NULL;
        sf_stream_page_free(f, page);
        return st;
    }
    case SF_OP_MESSAGE_CREATE: {
        sf_message_record r;
        return sf_test_publish(fx, "s", DATA, &r, err);
    }
    case SF_OP_COUNT:
        break;
    }
    fail_msg("unknown op %d", (int)op);
    return SF_ERR_INVALID_ARGUMENT;
}

/* ---------------------------------------------------------------------------------------- */
/* Before apply                                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_injection_before_apply_fails_every_op_exactly_and_changes_nothing(void **state)
{
    sf_fixture *fx = *state;
    world w;
    world_init(&w, fx);
    for (int op = 0; op < SF_OP_COUNT; op++) {
        char message[64];
        snprintf(message, sizeof message, "boom %s", sf_op_name((sf_op)op));
        int http = 500 + op, code = 60000 + op;
        snapshot before, after;
        snap(fx, &before); /* first: the snapshot itself lists and fetches */
        inject(fx, (sf_op)op, 1, http, code, message, false);
        sf_error err;
        memset(&err, 0x5a, sizeof err);
        bool page_left;
        sf_status st = call_op(&w, (sf_op)op, &err, &page_left);
        assert_injected(st, &err, http, code, message);
        assert_false(page_left);
        sf_journal_entry e = last_api(fx->fake);
        assert_int_equal(e.op, op);
        assert_true(e.injected);
        assert_int_equal(e.status, http);
        assert_int_equal(e.code, code);
        snap(fx, &after);
        assert_snap_equal(&before, &after);

        /* used up: the same call now goes through */
        st = call_op(&w, (sf_op)op, &err, &page_left);
        if (st != SF_OK)
            fail_msg("%s after its injection: %s", sf_op_name((sf_op)op), sf_status_name(st));
        e = last_api(fx->fake);
        assert_int_equal(e.op, op);
        assert_false(e.injected);
    }
}

static void test_injected_stream_create_creates_nothing_and_spends_no_sid(void **state)
{
    sf_fixture *fx = *state, *twin = twin_fixture();
    inject(fx, SF_OP_STREAM_CREATE, 1, 503, 20429, "Too many requests", false);
    sf_stream_params p = {.unique_name = "orders", .has_ttl = true, .ttl = 60};
    sf_stream_record r, tr;
    sf_error err;
    assert_injected(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &r, &err), &err, 503,
                    20429, "Too many requests");
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "orders", &r, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_int_equal(sf_pending_events(fx->fake), 0); /* no expiry armed */

    /* the retry succeeds and gets the SID the twin's first stream gets */
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &r, &err), SF_OK);
    assert_status(sf_stream_create(twin->fake, NULL, twin->service_sid, &p, &tr, NULL), SF_OK);
    assert_memory_equal(&r, &tr, sizeof r);
}

static void test_injected_publish_publishes_nothing_spends_no_sid_and_no_token(void **state)
{
    sf_fixture *fx = *state, *twin = twin_fixture();
    sf_stream_record s, ts;
    sf_fixture_stream(fx, "s", -1, &s);
    sf_fixture_stream(twin, "s", -1, &ts);
    assert_string_equal(s.sid, ts.sid);
    subscribe(fx, "s", 0);
    sf_rate_state before = rate(fx, "s");
    assert_true(before.limited);

    inject(fx, SF_OP_MESSAGE_CREATE, 1, 502, 54999, "Bad gateway", false);
    sf_message_record m, tm;
    sf_error err;
    assert_injected(sf_test_publish(fx, "s", DATA, &m, &err), &err, 502, 54999, "Bad gateway");
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    sf_rate_state after = rate(fx, "s");
    assert_int_equal(after.tokens, before.tokens);
    assert_int_equal(after.next_allowed_ms, before.next_allowed_ms);
    assert_int_equal(after.limited, before.limited);
    sf_stream_stats st;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "s", &st, NULL), SF_OK);
    assert_int_equal(st.messages_published, 0);
    sf_journal_entry e = last_api(fx->fake);
    assert_int_equal(e.op, SF_OP_MESSAGE_CREATE);
    assert_true(e.injected);
    assert_string_equal(e.message_sid, "");
    assert_int_equal(sf_test_journal_count(fx->fake, KIND(SF_JOURNAL_DELIVERED), 0, NULL), 0);

    assert_status(sf_test_publish(fx, "s", DATA, &m, &err), SF_OK);
    assert_status(sf_test_publish(twin, "s", DATA, &tm, NULL), SF_OK);
    assert_string_equal(m.sid, tm.sid);
    assert_int_equal(recs[0].n, 1);
    assert_string_equal(recs[0].sids[0], m.sid);
    assert_int_equal(rate(fx, "s").tokens, before.tokens - 1);
}

static void test_injection_with_count_two_fails_exactly_two_calls(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "s", -1, &s);
    inject(fx, SF_OP_STREAM_FETCH, 2, 500, 20500, "twice", false);
    sf_stream_record r;
    sf_error err;
    for (int i = 0; i < 2; i++)
        assert_injected(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "s", &r, &err), &err, 500,
                        20500, "twice");
    for (int i = 0; i < 3; i++) {
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "s", &r, &err), SF_OK);
        assert_string_equal(r.sid, s.sid);
    }
}

static void test_injections_of_one_op_are_used_in_the_order_added(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "s", -1, &s);
    inject(fx, SF_OP_STREAM_UPDATE, 2, 400, 1001, "first", false);
    inject(fx, SF_OP_STREAM_UPDATE, 1, 429, 1002, "second", false);
    inject(fx, SF_OP_STREAM_UPDATE, 1, 503, 1003, NULL, false);
    sf_stream_params p = {.has_ttl = true, .ttl = 30};
    sf_stream_record r;
    sf_error err;
#define UPDATE() sf_stream_update(fx->fake, NULL, fx->service_sid, "s", &p, &r, &err)
    assert_injected(UPDATE(), &err, 400, 1001, "first");
    assert_injected(UPDATE(), &err, 400, 1001, "first");
    assert_injected(UPDATE(), &err, 429, 1002, "second");
    assert_injected(UPDATE(), &err, 503, 1003, "Injected failure");
    assert_int_equal(sf_pending_events(fx->fake), 0); /* no TTL took effect so far */
    assert_status(UPDATE(), SF_OK);
    assert_true(r.has_date_expires);
#undef UPDATE
}

static void test_injection_leaves_other_ops_unaffected(void **state)
{
    sf_fixture *fx = *state;
    world w;
    world_init(&w, fx);
    inject(fx, SF_OP_STREAM_UPDATE, 1, 500, 20500, "only updates", false);
    for (int op = 0; op < SF_OP_COUNT; op++) {
        if (op == SF_OP_STREAM_UPDATE || op == SF_OP_SERVICE_REMOVE || op == SF_OP_STREAM_REMOVE)
            continue; /* removals are done last, they destroy what others use */
        sf_error err;
        bool page_left;
        sf_status st = call_op(&w, (sf_op)op, &err, &page_left);
        if (st != SF_OK)
            fail_msg("%s: %s (%s)", sf_op_name((sf_op)op), sf_status_name(st), err.message);
    }
    sf_error err;
    bool page_left;
    assert_status(call_op(&w, SF_OP_STREAM_REMOVE, &err, &page_left), SF_OK);
    assert_status(call_op(&w, SF_OP_SERVICE_REMOVE, &err, &page_left), SF_OK);
    assert_injected(call_op(&w, SF_OP_STREAM_UPDATE, &err, &page_left), &err, 500, 20500,
                    "only updates");
}

/* ---------------------------------------------------------------------------------------- */
/* After apply                                                                               */
/* ---------------------------------------------------------------------------------------- */

static void test_after_apply_stream_create_reports_failure_but_stream_exists(void **state)
{
    sf_fixture *fx = *state;
    inject(fx, SF_OP_STREAM_CREATE, 1, 504, 20504, "Gateway timeout", true);
    sf_stream_params p = {.unique_name = "orders"};
    sf_stream_record r;
    sf_error err;
    assert_injected(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &r, &err), &err, 504,
                    20504, "Gateway timeout");
    sf_stream_record fetched;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "orders", &fetched, &err),
                  SF_OK);
    assert_true(fetched.has_unique_name);
    assert_string_equal(fetched.unique_name, "orders");

    /* the client retries: the name is taken by its own first attempt */
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &r, &err),
                  SF_ERR_UNIQUE_NAME_EXISTS);
    sf_assert_twilio_error(&err, 409, 54301);
    sf_journal_entry e = last_api(fx->fake);
    assert_false(e.injected);
    assert_int_equal(e.status, 409);
    assert_int_equal(e.code, 54301);

    sf_page_params pp = {.has_page_size = true, .page_size = 10};
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    assert_string_equal(page->records[0].sid, fetched.sid);
    sf_stream_page_free(fx->fake, page);
}

static void test_after_apply_publish_reports_failure_but_subscribers_received_it(void **state)
{
    sf_fixture *fx = *state, *twin = twin_fixture();
    sf_stream_record s, ts;
    sf_fixture_stream(fx, "s", -1, &s);
    sf_fixture_stream(twin, "s", -1, &ts);
    subscribe(fx, "s", 0);
    subscribe(fx, "s", 1);
    sf_rate_state before = rate(fx, "s");

    inject(fx, SF_OP_MESSAGE_CREATE, 1, 500, 20500, "Internal Server Error", true);
    sf_message_record m, tm;
    sf_error err;
    assert_injected(sf_test_publish(fx, "s", DATA, &m, &err), &err, 500, 20500,
                    "Internal Server Error");
    assert_status(sf_test_publish(twin, "s", DATA, &tm, NULL), SF_OK);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(recs[k].n, 1);
        assert_string_equal(recs[k].sids[0], tm.sid); /* the message the twin published */
    }
    /* the change is real: a token and a SID were spent */
    assert_int_equal(rate(fx, "s").tokens, before.tokens - 1);
    sf_journal_entry e = last_api(fx->fake);
    assert_true(e.injected);
    assert_int_equal(e.status, 500);
    assert_string_equal(e.message_sid, tm.sid);

    assert_status(sf_test_publish(fx, "s", DATA, &m, &err), SF_OK);
    assert_status(sf_test_publish(twin, "s", DATA, &tm, NULL), SF_OK);
    assert_string_equal(m.sid, tm.sid);
    assert_int_equal(recs[0].n, 2);
}

static void test_after_apply_publish_with_delay_rule_still_delivers(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "s", -1, &s);
    subscribe(fx, "s", 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 25};
    assert_status(sf_fault_add(fx->fake, &fp, NULL, NULL), SF_OK);
    inject(fx, SF_OP_MESSAGE_CREATE, 1, 503, 20503, "unavailable", true);
    sf_message_record m;
    sf_error err;
    assert_injected(sf_test_publish(fx, "s", DATA, &m, &err), &err, 503, 20503, "unavailable");
    assert_int_equal(sf_pending_deliveries(fx->fake), 1);
    assert_status(sf_clock_advance(fx->fake, 25, NULL), SF_OK);
    assert_int_equal(recs[0].n, 1);
}

static void test_after_apply_stream_remove_reports_failure_but_stream_is_gone(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "gone", -1, &s);
    inject(fx, SF_OP_STREAM_REMOVE, 1, 500, 20500, "oops", true);
    sf_error err;
    assert_injected(sf_stream_remove(fx->fake, NULL, fx->service_sid, "gone", &err), &err, 500,
                    20500, "oops");
    sf_stream_record r;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "gone", &r, &err),
                  SF_ERR_NOT_FOUND);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, "gone", &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
}

/* ---------------------------------------------------------------------------------------- */
/* Journal, clear, validation, op names                                                      */
/* ---------------------------------------------------------------------------------------- */

static void test_journal_marks_injected_api_calls_with_the_injected_status(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "s", -1, &s);
    sf_journal_clear(fx->fake);
    inject(fx, SF_OP_STREAM_FETCH, 1, 418, 54321, "teapot", false);
    inject(fx, SF_OP_MESSAGE_CREATE, 1, 500, 20500, "late", true);
    sf_stream_record r;
    sf_message_record m;
    sf_error err;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, s.sid, &r, &err),
                  SF_ERR_INJECTED);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, s.sid, &r, &err), SF_OK);
    assert_status(sf_test_publish(fx, s.sid, DATA, &m, &err), SF_ERR_INJECTED);

    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_API)};
    uint64_t cursor = 0;
    sf_journal_entry e;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &e));
    assert_int_equal(e.op, SF_OP_STREAM_FETCH);
    assert_true(e.injected);
    assert_int_equal(e.status, 418);
    assert_int_equal(e.code, 54321);
    assert_string_equal(e.service_sid, fx->service_sid);
    assert_string_equal(e.stream_sid, s.sid);
    char line[1024];
    size_t n = sf_journal_entry_json(&e, line, sizeof line);
    assert_true(n < sizeof line);
    assert_non_null(strstr(line, "\"kind\":\"api\",\"op\":\"stream.fetch\",\"status\":418,"
                                 "\"code\":54321,\"injected\":true"));

    assert_true(sf_journal_next(fx->fake, &f, &cursor, &e));
    assert_int_equal(e.op, SF_OP_STREAM_FETCH);
    assert_false(e.injected);
    assert_int_equal(e.status, 200);
    assert_int_equal(e.code, 0);
    n = sf_journal_entry_json(&e, line, sizeof line);
    assert_non_null(strstr(line, "\"injected\":false"));

    assert_true(sf_journal_next(fx->fake, &f, &cursor, &e));
    assert_int_equal(e.op, SF_OP_MESSAGE_CREATE);
    assert_true(e.injected);
    assert_int_equal(e.status, 500);
    assert_int_equal(e.code, 20500);
    assert_string_equal(e.message_sid, m.sid); /* after apply: the message exists */
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &e));
}

static void test_inject_clear_forgets_every_pending_injection(void **state)
{
    sf_fixture *fx = *state;
    world w;
    world_init(&w, fx);
    for (int op = 0; op < SF_OP_COUNT; op++)
        inject(fx, (sf_op)op, 3, 500, 20500, "cleared", op % 2 == 0);
    sf_inject_clear(fx->fake);
    sf_inject_clear(fx->fake); /* twice is harmless */
    for (int op = 0; op < SF_OP_COUNT; op++) {
        sf_error err;
        bool page_left;
        sf_status st = call_op(&w, (sf_op)op, &err, &page_left);
        if (st != SF_OK)
            fail_msg("%s after clear: %s", sf_op_name((sf_op)op), sf_status_name(st));
        assert_false(last_api(fx->fake).injected);
    }
    /* and new injections work after a clear */
    inject(fx, SF_OP_SERVICE_FETCH, 1, 404, 20404, "again", false);
    sf_service_record r;
    sf_error err;
    assert_injected(sf_service_fetch(fx->fake, NULL, fx->service_sid, &r, &err), &err, 404, 20404,
                    "again");
}

static void test_inject_error_rejects_invalid_injections(void **state)
{
    sf_fixture *fx = *state;
    const struct {
        const char *what;
        sf_error_injection inj;
    } cases[] = {
        {"count 0", {.op = SF_OP_SERVICE_FETCH, .count = 0, .http_status = 500, .code = 1}},
        {"status 399", {.op = SF_OP_SERVICE_FETCH, .count = 1, .http_status = 399, .code = 1}},
        {"status 600", {.op = SF_OP_SERVICE_FETCH, .count = 1, .http_status = 600, .code = 1}},
        {"status 200", {.op = SF_OP_SERVICE_FETCH, .count = 1, .http_status = 200, .code = 0}},
        {"negative code", {.op = SF_OP_SERVICE_FETCH, .count = 1, .http_status = 500, .code = -1}},
        {"op SF_OP_COUNT", {.op = SF_OP_COUNT, .count = 1, .http_status = 500, .code = 1}},
        {"op -1", {.op = (sf_op)-1, .count = 1, .http_status = 500, .code = 1}},
        {"op 99", {.op = (sf_op)99, .count = 1, .http_status = 500, .code = 1}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        sf_status st = sf_inject_error(fx->fake, &cases[i].inj, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("%s: got %s", cases[i].what, sf_status_name(st));
        sf_assert_twilio_error(&err, 400, 20001);
    }
    sf_error err;
    assert_status(sf_inject_error(fx->fake, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    sf_error_injection ok = {.op = SF_OP_SERVICE_FETCH, .count = 1, .http_status = 500};
    assert_status(sf_inject_error(NULL, &ok, &err), SF_ERR_INVALID_ARGUMENT);
    /* the boundaries are accepted */
    sf_error_injection lo = {.op = SF_OP_SERVICE_LIST, .count = 1, .http_status = 400};
    sf_error_injection hi = {.op = SF_OP_SERVICE_LIST, .count = 1, .http_status = 599};
    assert_status(sf_inject_error(fx->fake, &lo, &err), SF_OK);
    assert_status(sf_inject_error(fx->fake, &hi, &err), SF_OK);
    sf_inject_clear(fx->fake);
    /* nothing rejected was stored */
    sf_service_record r;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &r, &err), SF_OK);
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &r, &err), SF_OK);
}

static void test_injected_message_is_truncated_to_the_error_buffer(void **state)
{
    sf_fixture *fx = *state;
    static char longmsg[3 * SF_ERROR_MESSAGE_SIZE];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    inject(fx, SF_OP_SERVICE_FETCH, 1, 500, 20500, longmsg, false);
    memset(longmsg, 'x', sizeof longmsg - 1); /* the fake copied it */
    sf_service_record r;
    sf_error err;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &r, &err), SF_ERR_INJECTED);
    size_t n = strnlen(err.message, sizeof err.message);
    assert_true(n < sizeof err.message);
    assert_true(n > 0);
    assert_int_equal(strspn(err.message, "m"), n);
}

static void test_op_name_and_parse_round_trip_for_every_op(void **state)
{
    (void)state;
    static const struct {
        sf_op op;
        const char *wire;
    } ops[] = {
#define ROW(name, wire, http) {SF_OP_##name, wire},
        SF_OP_MAP(ROW)
#undef ROW
    };
    assert_int_equal(sizeof ops / sizeof ops[0], SF_OP_COUNT);
    for (size_t i = 0; i < SF_OP_COUNT; i++) {
        const char *name = sf_op_name(ops[i].op);
        assert_non_null(name);
        assert_string_equal(name, ops[i].wire);
        sf_op parsed = SF_OP_COUNT;
        assert_true(sf_op_parse(name, &parsed));
        assert_int_equal(parsed, ops[i].op);
        assert_true(sf_op_parse(ops[i].wire, NULL));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(name, sf_op_name(ops[j].op));
    }
    assert_string_equal(sf_op_name(SF_OP_MESSAGE_CREATE), "message.create");
    assert_null(sf_op_name(SF_OP_COUNT));
    assert_null(sf_op_name((sf_op)-1));
    sf_op untouched = SF_OP_STREAM_LIST;
    assert_false(sf_op_parse("stream.delete", &untouched));
    assert_false(sf_op_parse("STREAM.CREATE", &untouched));
    assert_false(sf_op_parse("stream.create ", &untouched));
    assert_false(sf_op_parse("", &untouched));
    assert_false(sf_op_parse(NULL, &untouched));
    assert_int_equal(untouched, SF_OP_STREAM_LIST);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_injection_before_apply_fails_every_op_exactly_and_changes_nothing),
        T(test_injected_stream_create_creates_nothing_and_spends_no_sid),
        T(test_injected_publish_publishes_nothing_spends_no_sid_and_no_token),
        T(test_injection_with_count_two_fails_exactly_two_calls),
        T(test_injections_of_one_op_are_used_in_the_order_added),
        T(test_injection_leaves_other_ops_unaffected),
        T(test_after_apply_stream_create_reports_failure_but_stream_exists),
        T(test_after_apply_publish_reports_failure_but_subscribers_received_it),
        T(test_after_apply_publish_with_delay_rule_still_delivers),
        T(test_after_apply_stream_remove_reports_failure_but_stream_is_gone),
        T(test_journal_marks_injected_api_calls_with_the_injected_status),
        T(test_inject_clear_forgets_every_pending_injection),
        T(test_inject_error_rejects_invalid_injections),
        T(test_injected_message_is_truncated_to_the_error_buffer),
        T(test_op_name_and_parse_round_trip_for_every_op),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
