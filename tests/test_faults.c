/* SPDX-License-Identifier: MIT */
/* test_faults.c: delivery fault rules (drop, drop-next, delay/jitter, duplicate, expiry lag),
 * the scripted subscriber states (hold/heal, disconnect/reconnect), the rule table
 * (add/remove/list, parameter checks) and the determinism of every random fate.
 *
 * Every test drives a fake from tests/support/fixture.h (seed 42, manual clock, one service)
 * and checks three views of the same facts against each other: what the subscriber callbacks
 * saw, what the journal says happened (and why: which rule), and the counters
 * (sf_subscriber_stats, sf_fault_list hits). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"

#define KIND(k) (1u << (k))

/* ---------------------------------------------------------------------------------------- */
/* Resources that outlive a failed assertion: released by the teardown                      */
/* ---------------------------------------------------------------------------------------- */

typedef struct rec_event {
    sf_event_kind kind;
    sf_subscriber_id sub;
    char message_sid[SF_SID_SIZE];
    char stream_sid[SF_SID_SIZE];
    sf_ms published_ms, delivered_ms;
    bool is_duplicate;
    sf_removed_reason reason;
    int payload; /* the "i" of {"i":N}, -1 when absent */
} rec_event;

typedef struct recorder {
    rec_event *ev;
    size_t n, cap;
} recorder;

#define NREC 32
static recorder recs[NREC];

#define NEXTRA 4
static void *extras[NEXTRA]; /* extra fixtures (sf_fixture *) */

#define NSCRATCH 8
static void *scratch[NSCRATCH];

static void *scratch_alloc(size_t size)
{
    for (int i = 0; i < NSCRATCH; i++) {
        if (!scratch[i]) {
            scratch[i] = calloc(1, size ? size : 1);
            assert_non_null(scratch[i]);
            return scratch[i];
        }
    }
    fail_msg("out of scratch slots");
    return NULL;
}

static void recs_release(void)
{
    for (int i = 0; i < NREC; i++) {
        free(recs[i].ev);
        memset(&recs[i], 0, sizeof recs[i]);
    }
}

static int setup(void **state)
{
    recs_release();
    return sf_fixture_setup(state);
}

/* Like setup, with the publish rate limit lifted. */
static int setup_unlimited(void **state)
{
    recs_release();
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.limits.publish_rate_per_s = 0;
    return sf_fixture_setup_with(state, &opts);
}

static int teardown(void **state)
{
    int rc = 0;
    for (int i = 0; i < NEXTRA; i++) {
        if (extras[i] && sf_fixture_teardown(&extras[i]) != 0)
            rc = -1;
        extras[i] = NULL;
    }
    for (int i = 0; i < NSCRATCH; i++) {
        free(scratch[i]);
        scratch[i] = NULL;
    }
    recs_release();
    if (sf_fixture_teardown(state) != 0)
        rc = -1;
    return rc;
}

/* A second fake, freed (and leak-checked) by the teardown. */
static sf_fixture *extra_fixture(uint64_t seed, bool unlimited)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = seed;
    if (unlimited)
        opts.limits.publish_rate_per_s = 0;
    for (int i = 0; i < NEXTRA; i++) {
        if (!extras[i]) {
            assert_int_equal(sf_fixture_setup_with(&extras[i], &opts), 0);
            return extras[i];
        }
    }
    fail_msg("out of extra fixture slots");
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void on_event(sf_fake *fake, const sf_event *e, void *user)
{
    (void)fake;
    recorder *r = user;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        rec_event *ev = realloc(r->ev, cap * sizeof *ev);
        if (!ev)
            abort();
        r->ev = ev;
        r->cap = cap;
    }
    rec_event *x = &r->ev[r->n++];
    memset(x, 0, sizeof *x);
    x->kind = e->kind;
    x->sub = e->subscriber;
    if (e->message_sid)
        snprintf(x->message_sid, sizeof x->message_sid, "%s", e->message_sid);
    if (e->stream_sid)
        snprintf(x->stream_sid, sizeof x->stream_sid, "%s", e->stream_sid);
    x->published_ms = e->published_ms;
    x->delivered_ms = e->delivered_ms;
    x->is_duplicate = e->is_duplicate;
    x->reason = e->reason;
    x->payload = -1;
    if (e->kind == SF_EVENT_MESSAGE_PUBLISHED && e->data)
        if (sscanf(e->data, "{\"i\":%d}", &x->payload) != 1)
            x->payload = -1;
}

static sf_subscriber_id subscribe(sf_fixture *fx, const char *stream, int rec)
{
    sf_subscribe_params p = {.on_event = on_event, .user = &recs[rec]};
    sf_subscriber_id id = 0;
    sf_error err;
    sf_status st = sf_subscribe(fx->fake, NULL, fx->service_sid, stream, &p, &id, &err);
    if (st != SF_OK)
        fail_msg("subscribe failed: %s %s", sf_status_name(st), err.message);
    assert_true(id > 0);
    return id;
}

static void publish(sf_fixture *fx, const char *stream, int i, char sid_out[SF_SID_SIZE])
{
    char data[32];
    int len = snprintf(data, sizeof data, "{\"i\":%d}", i);
    sf_publish_params p = {.data = data, .data_len = (size_t)len};
    sf_message_record rec;
    sf_error err;
    sf_status st = sf_stream_publish(fx->fake, NULL, fx->service_sid, stream, &p, &rec, &err);
    if (st != SF_OK)
        fail_msg("publish %d failed: %s %s", i, sf_status_name(st), err.message);
    if (sid_out)
        memcpy(sid_out, rec.sid, SF_SID_SIZE);
}

static sf_fault_id add_fault(sf_fixture *fx, const sf_fault_params *p)
{
    sf_fault_id id = 0;
    sf_error err;
    sf_status st = sf_fault_add(fx->fake, p, &id, &err);
    if (st != SF_OK)
        fail_msg("fault add failed: %s %s", sf_status_name(st), err.message);
    assert_true(id > 0);
    return id;
}

static sf_subscriber_stats stats(sf_fixture *fx, sf_subscriber_id id)
{
    sf_subscriber_stats s;
    assert_status(sf_subscriber_stats_get(fx->fake, id, &s, NULL), SF_OK);
    return s;
}

static void advance(sf_fixture *fx, sf_ms ms)
{
    assert_status(sf_clock_advance(fx->fake, ms, NULL), SF_OK);
}

static sf_fault_info fault_info(sf_fixture *fx, sf_fault_id id)
{
    sf_fault_info all[16];
    size_t n = sf_fault_list(fx->fake, all, 16);
    assert_true(n <= 16);
    for (size_t i = 0; i < n; i++)
        if (all[i].id == id)
            return all[i];
    fail_msg("rule %u not listed", id);
    return all[0];
}

static size_t journal_count_of(sf_fake *fake, uint32_t kinds, sf_subscriber_id sub,
                               const char *stream)
{
    sf_journal_filter f = {.stream_sid = stream, .subscriber = sub, .kinds = kinds};
    uint64_t cursor = 0;
    sf_journal_entry e;
    size_t n = 0;
    while (sf_journal_next(fake, &f, &cursor, &e))
        n++;
    return n;
}

/* Message SID -> publish index, for reading the journal. */
#define MAXMSG 1000
typedef struct msgkey {
    char sid[SF_SID_SIZE];
    int idx;
} msgkey;
typedef struct msgmap {
    msgkey keys[MAXMSG];
    size_t n;
    bool sorted;
} msgmap;

static int msgkey_cmp(const void *a, const void *b)
{
    return strcmp(((const msgkey *)a)->sid, ((const msgkey *)b)->sid);
}

static void msgmap_add(msgmap *m, const char *sid, int idx)
{
    assert_true(m->n < MAXMSG);
    memcpy(m->keys[m->n].sid, sid, SF_SID_SIZE);
    m->keys[m->n].idx = idx;
    m->n++;
    m->sorted = false;
}

static int msgmap_find(msgmap *m, const char *sid)
{
    if (!m->sorted) {
        qsort(m->keys, m->n, sizeof m->keys[0], msgkey_cmp);
        for (size_t i = 1; i < m->n; i++)
            assert_true(strcmp(m->keys[i - 1].sid, m->keys[i].sid) != 0); /* SIDs unique */
        m->sorted = true;
    }
    msgkey key;
    memset(&key, 0, sizeof key);
    snprintf(key.sid, sizeof key.sid, "%s", sid);
    const msgkey *k = bsearch(&key, m->keys, m->n, sizeof m->keys[0], msgkey_cmp);
    return k ? k->idx : -1;
}

static msgmap *msgmap_new(void) { return scratch_alloc(sizeof(msgmap)); }

/* ---------------------------------------------------------------------------------------- */
/* Drop rate                                                                                 */
/* ---------------------------------------------------------------------------------------- */

#define DROP_SUBS 10
#define DROP_MSGS 1000

static void test_drop_rate_drops_that_fraction_and_journals_each_drop_with_its_rule(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "drops", -1, &s);
    sf_subscriber_id subs[DROP_SUBS];
    for (int k = 0; k < DROP_SUBS; k++) {
        subs[k] = subscribe(fx, s.sid, k);
        assert_int_equal(subs[k], (sf_subscriber_id)(k + 1));
    }
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.3};
    sf_fault_id rule = add_fault(fx, &fp);

    msgmap *map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < DROP_MSGS; i++) {
        publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
    }
    assert_int_equal(sf_pending_deliveries(fx->fake), 0); /* no delay: all settled at once */

    static unsigned char delivered[DROP_SUBS][DROP_MSGS], dropped[DROP_SUBS][DROP_MSGS];
    memset(delivered, 0, sizeof delivered);
    memset(dropped, 0, sizeof dropped);
    for (int k = 0; k < DROP_SUBS; k++) {
        for (size_t j = 0; j < recs[k].n; j++) {
            const rec_event *e = &recs[k].ev[j];
            assert_int_equal(e->kind, SF_EVENT_MESSAGE_PUBLISHED);
            assert_int_equal(e->sub, subs[k]);
            assert_false(e->is_duplicate);
            assert_true(e->payload >= 0 && e->payload < DROP_MSGS);
            assert_int_equal(msgmap_find(map, e->message_sid), e->payload);
            assert_int_equal(e->delivered_ms, e->published_ms);
            delivered[k][e->payload]++;
        }
    }

    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    size_t total_dropped = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_int_equal(je.kind, SF_JOURNAL_DROPPED);
        assert_int_equal(je.rule, rule);
        assert_string_equal(je.stream_sid, s.sid);
        assert_string_equal(je.service_sid, fx->service_sid);
        assert_false(je.duplicate);
        assert_true(je.subscriber >= 1 && je.subscriber <= DROP_SUBS);
        int idx = msgmap_find(map, je.message_sid);
        assert_true(idx >= 0);
        dropped[je.subscriber - 1][idx]++;
        total_dropped++;
    }

    /* every delivery has exactly one fate: delivered once, or dropped once by the rule */
    size_t total_delivered = 0;
    for (int k = 0; k < DROP_SUBS; k++) {
        size_t sub_dropped = 0;
        for (int i = 0; i < DROP_MSGS; i++) {
            if (delivered[k][i] + dropped[k][i] != 1)
                fail_msg("subscriber %d message %d: delivered %d times, dropped %d times",
                         k + 1, i, delivered[k][i], dropped[k][i]);
            sub_dropped += dropped[k][i];
            total_delivered += delivered[k][i];
        }
        sf_subscriber_stats st = stats(fx, subs[k]);
        assert_int_equal(st.dropped, sub_dropped);
        assert_int_equal(st.delivered, DROP_MSGS - sub_dropped);
        assert_int_equal(st.lost, 0);
        assert_int_equal(st.in_flight, 0);
    }
    double p = (double)total_dropped / (DROP_SUBS * DROP_MSGS);
    if (fabs(p - 0.3) >= 0.02)
        fail_msg("observed drop fraction %.4f, want 0.3 +- 0.02", p);

    /* the journal's delivered entries are the callbacks, and no other fate was recorded */
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_DELIVERED), 0, NULL),
                     total_delivered);
    assert_int_equal(journal_count_of(fx->fake,
                                      KIND(SF_JOURNAL_DELAYED) | KIND(SF_JOURNAL_DUPLICATED) |
                                          KIND(SF_JOURNAL_HELD) | KIND(SF_JOURNAL_LOST) |
                                          KIND(SF_JOURNAL_DISCARDED),
                                      0, NULL),
                     0);
    assert_int_equal(fault_info(fx, rule).hits, total_dropped);
}

/* ---------------------------------------------------------------------------------------- */
/* Scopes                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static void test_stream_scope_rule_touches_only_its_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record a, b;
    sf_fixture_stream(fx, "a", -1, &a);
    sf_fixture_stream(fx, "b", -1, &b);
    sf_subscriber_id a1 = subscribe(fx, a.sid, 0), a2 = subscribe(fx, a.sid, 1);
    sf_subscriber_id b1 = subscribe(fx, b.sid, 2);
    sf_fault_params fp = {.scope = SF_SCOPE_STREAM, .stream_sid = a.sid, .drop_rate = 0.5,
                          .delay_ms = 20};
    sf_fault_id rule = add_fault(fx, &fp);

    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        publish(fx, a.sid, i, NULL);
        publish(fx, b.sid, i, NULL);
        /* stream b is untouched: delivered before its publish returns */
        assert_int_equal(recs[2].n, (size_t)i + 1);
        advance(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    for (size_t j = 0; j < recs[2].n; j++) {
        assert_int_equal(recs[2].ev[j].payload, (int)j);
        assert_int_equal(recs[2].ev[j].delivered_ms, recs[2].ev[j].published_ms);
    }
    assert_int_equal(stats(fx, b1).dropped, 0);
    assert_int_equal(stats(fx, b1).delivered, N);

    /* stream a: every delivery either dropped or delayed by exactly 20 ms */
    size_t a_dropped = 0;
    for (int k = 0; k < 2; k++) {
        sf_subscriber_id id = k == 0 ? a1 : a2;
        sf_subscriber_stats st = stats(fx, id);
        assert_int_equal(st.delivered + st.dropped, N);
        assert_int_equal(recs[k].n, st.delivered);
        for (size_t j = 0; j < recs[k].n; j++)
            assert_int_equal(recs[k].ev[j].delivered_ms, recs[k].ev[j].published_ms + 20);
        a_dropped += st.dropped;
    }
    assert_true(a_dropped > 0 && a_dropped < 2 * N);

    /* every fate the rule caused names stream a; nothing about stream b carries a rule */
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED) | KIND(SF_JOURNAL_DELAYED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    size_t fates = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_string_equal(je.stream_sid, a.sid);
        assert_int_equal(je.rule, rule);
        assert_true(je.subscriber == a1 || je.subscriber == a2);
        fates++;
    }
    assert_int_equal(fates, 2 * N);
    assert_int_equal(fault_info(fx, rule).hits, 2 * N);
    assert_int_equal(journal_count_of(fx->fake, ~KIND(SF_JOURNAL_API) &
                                                    ~KIND(SF_JOURNAL_SUBSCRIBED) &
                                                    ~KIND(SF_JOURNAL_DELIVERED),
                                      b1, NULL),
                     0);
}

static void test_subscriber_scope_rule_touches_only_its_subscriber(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s, other;
    sf_fixture_stream(fx, "s", -1, &s);
    sf_fixture_stream(fx, "other", -1, &other);
    sf_subscriber_id s1 = subscribe(fx, s.sid, 0), s2 = subscribe(fx, s.sid, 1);
    sf_subscriber_id s3 = subscribe(fx, s.sid, 2), o1 = subscribe(fx, other.sid, 3);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s2, .drop_rate = 0.5,
                          .delay_ms = 15, .duplicate_rate = 0.5};
    sf_fault_id rule = add_fault(fx, &fp);

    enum { N = 40 };
    for (int i = 0; i < N; i++) {
        publish(fx, s.sid, i, NULL);
        publish(fx, other.sid, i, NULL);
        advance(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    int untouched[] = {0, 2, 3};
    sf_subscriber_id untouched_ids[] = {s1, s3, o1};
    for (int u = 0; u < 3; u++) {
        const recorder *r = &recs[untouched[u]];
        assert_int_equal(r->n, N);
        for (size_t j = 0; j < r->n; j++) {
            assert_int_equal(r->ev[j].payload, (int)j);
            assert_false(r->ev[j].is_duplicate);
            assert_int_equal(r->ev[j].delivered_ms, r->ev[j].published_ms);
        }
        sf_subscriber_stats st = stats(fx, untouched_ids[u]);
        assert_int_equal(st.dropped, 0);
        assert_int_equal(st.duplicated, 0);
        assert_int_equal(st.delivered, N);
    }

    sf_subscriber_stats st2 = stats(fx, s2);
    assert_true(st2.dropped > 0 && st2.dropped < N);
    assert_true(st2.duplicated > 0);
    assert_int_equal(st2.delivered, (N - st2.dropped) + st2.duplicated);
    for (size_t j = 0; j < recs[1].n; j++)
        assert_int_equal(recs[1].ev[j].delivered_ms, recs[1].ev[j].published_ms + 15);

    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED) | KIND(SF_JOURNAL_DELAYED) |
                                    KIND(SF_JOURNAL_DUPLICATED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_int_equal(je.subscriber, s2);
        assert_int_equal(je.rule, rule);
        assert_string_equal(je.stream_sid, s.sid);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Delay and jitter                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void test_delay_and_jitter_reorder_within_bounds_matching_delayed_journal(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "jitter", -1, &s);
    enum { SUBS = 3, N = 100 };
    sf_subscriber_id subs[SUBS];
    for (int k = 0; k < SUBS; k++)
        subs[k] = subscribe(fx, s.sid, k);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 10, .jitter_ms = 50};
    sf_fault_id rule = add_fault(fx, &fp);

    msgmap *map = msgmap_new();
    static sf_ms published[N];
    char sid[SF_SID_SIZE];
    for (int i = 0; i < N; i++) {
        published[i] = sf_clock_now(fx->fake);
        publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
        advance(fx, 2);
    }

    /* the tail is still in flight: run_until_idle delivers all of it */
    size_t pending = sf_pending_deliveries(fx->fake);
    assert_true(pending > 0);
    uint64_t in_flight = 0;
    for (int k = 0; k < SUBS; k++)
        in_flight += stats(fx, subs[k]).in_flight;
    assert_int_equal(in_flight, pending);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_true(next > sf_clock_now(fx->fake));
    size_t ran = sf_run_until_idle(fx->fake);
    assert_int_equal(ran, pending);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0);
    assert_false(sf_next_event_time(fx->fake, &next));

    /* each (subscriber, message) has one delayed entry naming the rule: its until_ms */
    static sf_ms until[SUBS][N];
    static int ndelayed[SUBS][N];
    memset(ndelayed, 0, sizeof ndelayed);
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DELAYED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        assert_int_equal(je.rule, rule);
        assert_true(je.subscriber >= 1 && je.subscriber <= SUBS);
        int idx = msgmap_find(map, je.message_sid);
        assert_true(idx >= 0);
        assert_int_equal(je.t_ms, published[idx]);
        until[je.subscriber - 1][idx] = je.until_ms;
        ndelayed[je.subscriber - 1][idx]++;
    }

    size_t inversions = 0;
    sf_ms max_extra = 0;
    for (int k = 0; k < SUBS; k++) {
        const recorder *r = &recs[k];
        assert_int_equal(r->n, N);
        static int seen[N];
        memset(seen, 0, sizeof seen);
        for (size_t j = 0; j < r->n; j++) {
            const rec_event *e = &r->ev[j];
            int i = e->payload;
            assert_true(i >= 0 && i < N);
            seen[i]++;
            assert_int_equal(msgmap_find(map, e->message_sid), i);
            assert_int_equal(e->published_ms, published[i]);
            if (e->delivered_ms < published[i] + 10 || e->delivered_ms > published[i] + 60)
                fail_msg("message %d published at %lld arrived at %lld", i,
                         (long long)published[i], (long long)e->delivered_ms);
            assert_int_equal(ndelayed[k][i], 1);
            assert_int_equal(e->delivered_ms, until[k][i]);
            if (j > 0) {
                /* the queue runs in time order */
                assert_true(e->delivered_ms >= r->ev[j - 1].delivered_ms);
                if (e->payload < r->ev[j - 1].payload)
                    inversions++;
            }
            if (e->delivered_ms - published[i] > max_extra)
                max_extra = e->delivered_ms - published[i];
        }
        for (int i = 0; i < N; i++)
            assert_int_equal(seen[i], 1);
        sf_subscriber_stats st = stats(fx, subs[k]);
        assert_int_equal(st.delivered, N);
        assert_int_equal(st.in_flight, 0);
    }
    assert_true(inversions > 0);   /* jitter reorders */
    assert_true(max_extra > 10);   /* and actually adds time */

    /* the delivered entries agree with the callbacks */
    f.kinds = KIND(SF_JOURNAL_DELIVERED);
    cursor = 0;
    size_t ndelivered = 0;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        int idx = msgmap_find(map, je.message_sid);
        assert_true(idx >= 0);
        assert_int_equal(je.until_ms, published[idx]);
        assert_int_equal(je.t_ms, until[je.subscriber - 1][idx]);
        ndelivered++;
    }
    assert_int_equal(ndelivered, SUBS * N);
    assert_int_equal(fault_info(fx, rule).hits, SUBS * N);
}

/* ---------------------------------------------------------------------------------------- */
/* Independence of draws                                                                     */
/* ---------------------------------------------------------------------------------------- */

typedef struct seq_row {
    char message_sid[SF_SID_SIZE];
    sf_ms delivered_ms;
} seq_row;

/* One run: stream, subscriber 1 (recorder rec), optionally a fake-scope rule, optionally a
 * second subscriber (recorder rec+1) with its own rule; 150 publishes 3 ms apart. */
static void independence_run(sf_fixture *fx, int rec, bool first_rule, bool second)
{
    sf_stream_record s;
    sf_fixture_stream(fx, "independent", -1, &s);
    sf_subscriber_id s1 = subscribe(fx, s.sid, rec);
    assert_int_equal(s1, 1);
    if (first_rule) {
        sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.2, .delay_ms = 5,
                              .jitter_ms = 30};
        add_fault(fx, &fp);
    }
    if (second) {
        sf_subscriber_id s2 = subscribe(fx, s.sid, rec + 1);
        sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s2, .drop_rate = 0.5,
                              .jitter_ms = 100, .duplicate_rate = 0.3};
        add_fault(fx, &fp);
    }
    for (int i = 0; i < 150; i++) {
        publish(fx, s.sid, i, NULL);
        advance(fx, 3);
    }
    sf_run_until_idle(fx->fake);
}

static seq_row *seq_of(const recorder *r)
{
    seq_row *rows = scratch_alloc((r->n ? r->n : 1) * sizeof *rows);
    for (size_t j = 0; j < r->n; j++) {
        memcpy(rows[j].message_sid, r->ev[j].message_sid, SF_SID_SIZE);
        rows[j].delivered_ms = r->ev[j].delivered_ms;
    }
    return rows;
}

/* Journal entries of subscriber 1, without their sequence numbers (others' entries shift
 * those); compared field by field. */
static void assert_same_subscriber_journal(sf_fake *a, sf_fake *b, sf_subscriber_id sub)
{
    sf_journal_filter f = {.subscriber = sub};
    uint64_t ca = 0, cb = 0;
    sf_journal_entry ea, eb;
    size_t n = 0;
    for (;;) {
        bool ha = sf_journal_next(a, &f, &ca, &ea), hb = sf_journal_next(b, &f, &cb, &eb);
        assert_int_equal(ha, hb);
        if (!ha)
            break;
        assert_int_equal(ea.kind, eb.kind);
        assert_int_equal(ea.t_ms, eb.t_ms);
        assert_string_equal(ea.stream_sid, eb.stream_sid);
        assert_string_equal(ea.message_sid, eb.message_sid);
        assert_int_equal(ea.rule, eb.rule);
        assert_int_equal(ea.until_ms, eb.until_ms);
        assert_int_equal(ea.duplicate, eb.duplicate);
        n++;
    }
    assert_true(n > 0);
}

static void test_second_subscriber_with_own_rule_leaves_first_sequence_identical(void **state)
{
    sf_fixture *alone = *state;
    sf_fixture *with = extra_fixture(SF_TEST_SEED, false);
    independence_run(alone, 0, true, false);
    independence_run(with, 2, true, true);

    const recorder *r_alone = &recs[0], *r_with = &recs[2];
    assert_true(r_alone->n > 0 && r_alone->n < 150); /* some dropped */
    assert_true(recs[3].n > 0);                      /* the second subscriber got some too */
    assert_int_equal(r_with->n, r_alone->n);
    assert_memory_equal(seq_of(r_with), seq_of(r_alone), r_alone->n * sizeof(seq_row));
    size_t inversions = 0;
    for (size_t j = 1; j < r_alone->n; j++)
        inversions += r_alone->ev[j].payload < r_alone->ev[j - 1].payload;
    assert_true(inversions > 0); /* the sequence compared is a reordered one */
    assert_same_subscriber_journal(alone->fake, with->fake, 1);
}

static void test_second_subscriber_with_own_rule_leaves_unfaulted_first_identical(void **state)
{
    sf_fixture *alone = *state;
    sf_fixture *with = extra_fixture(SF_TEST_SEED, false);
    independence_run(alone, 0, false, false);
    independence_run(with, 2, false, true);
    assert_int_equal(recs[0].n, 150);
    assert_int_equal(recs[2].n, 150);
    assert_memory_equal(seq_of(&recs[2]), seq_of(&recs[0]), 150 * sizeof(seq_row));
    assert_true(recs[3].n > 0 && recs[3].n != 150);
    assert_same_subscriber_journal(alone->fake, with->fake, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Drop next, duplicate                                                                      */
/* ---------------------------------------------------------------------------------------- */

static void test_drop_next_drops_exactly_the_next_deliveries_then_none(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dropnext", -1, &s);
    sf_subscriber_id s1 = subscribe(fx, s.sid, 0), s2 = subscribe(fx, s.sid, 1);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_next = 3};
    sf_fault_id rule = add_fault(fx, &fp);
    assert_int_equal(fault_info(fx, rule).drop_next_left, 3);

    char sids[6][SF_SID_SIZE];
    for (int i = 0; i < 6; i++)
        publish(fx, s.sid, i, sids[i]);

    /* deliveries in order: m0->s1, m0->s2, m1->s1 are the next three */
    assert_int_equal(recs[0].n, 4);
    for (int j = 0; j < 4; j++)
        assert_int_equal(recs[0].ev[j].payload, j + 2);
    assert_int_equal(recs[1].n, 5);
    for (int j = 0; j < 5; j++)
        assert_int_equal(recs[1].ev[j].payload, j + 1);

    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    const struct { sf_subscriber_id sub; int msg; } want[] = {{s1, 0}, {s2, 0}, {s1, 1}};
    for (int k = 0; k < 3; k++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_int_equal(je.subscriber, want[k].sub);
        assert_string_equal(je.message_sid, sids[want[k].msg]);
        assert_int_equal(je.rule, rule);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));

    sf_fault_info info = fault_info(fx, rule);
    assert_int_equal(info.drop_next_left, 0);
    assert_int_equal(info.hits, 3);
    assert_int_equal(info.params.drop_next, 3);
    assert_int_equal(stats(fx, s1).dropped, 2);
    assert_int_equal(stats(fx, s2).dropped, 1);
}

static void test_drop_next_on_subscriber_scope_counts_only_its_deliveries(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dropnext", -1, &s);
    sf_subscriber_id s1 = subscribe(fx, s.sid, 0), s2 = subscribe(fx, s.sid, 1);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s2, .drop_next = 3};
    sf_fault_id rule = add_fault(fx, &fp);
    for (int i = 0; i < 5; i++)
        publish(fx, s.sid, i, NULL);
    assert_int_equal(recs[0].n, 5);
    assert_int_equal(recs[1].n, 2);
    assert_int_equal(recs[1].ev[0].payload, 3);
    assert_int_equal(recs[1].ev[1].payload, 4);
    assert_int_equal(stats(fx, s1).dropped, 0);
    assert_int_equal(stats(fx, s2).dropped, 3);
    assert_int_equal(fault_info(fx, rule).drop_next_left, 0);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_DROPPED), s2, NULL), 3);
}

static void test_duplicate_rate_one_delivers_every_message_twice(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dup", -1, &s);
    sf_subscriber_id subs[2] = {subscribe(fx, s.sid, 0), subscribe(fx, s.sid, 1)};
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0};
    sf_fault_id rule = add_fault(fx, &fp);

    enum { N = 5 };
    char sids[N][SF_SID_SIZE];
    for (int i = 0; i < N; i++)
        publish(fx, s.sid, i, sids[i]);
    sf_run_until_idle(fx->fake);

    for (int k = 0; k < 2; k++) {
        assert_int_equal(recs[k].n, 2 * N);
        for (int i = 0; i < N; i++) {
            const rec_event *orig = &recs[k].ev[2 * i], *copy = &recs[k].ev[2 * i + 1];
            assert_string_equal(orig->message_sid, sids[i]);
            assert_string_equal(copy->message_sid, sids[i]);
            assert_false(orig->is_duplicate);
            assert_true(copy->is_duplicate);
            assert_int_equal(copy->payload, i);
        }
        sf_subscriber_stats st = stats(fx, subs[k]);
        assert_int_equal(st.delivered, 2 * N);
        assert_int_equal(st.duplicated, N);

        sf_journal_filter f = {.subscriber = subs[k], .kinds = KIND(SF_JOURNAL_DUPLICATED)};
        uint64_t cursor = 0;
        sf_journal_entry je;
        for (int i = 0; i < N; i++) {
            assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
            assert_string_equal(je.message_sid, sids[i]);
            assert_int_equal(je.rule, rule);
            assert_true(je.duplicate);
        }
        assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
        /* delivered entries: one original and one copy per message */
        f.kinds = KIND(SF_JOURNAL_DELIVERED);
        cursor = 0;
        size_t copies = 0, total = 0;
        while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
            copies += je.duplicate;
            total++;
        }
        assert_int_equal(total, 2 * N);
        assert_int_equal(copies, N);
    }
    assert_int_equal(fault_info(fx, rule).hits, 2 * N);
}

static sf_status fetch(sf_fixture *fx, const char *id, sf_error *err)
{
    sf_stream_record r;
    return sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &r, err);
}

static void test_duplicate_copy_with_jitter_arrives_at_its_duplicated_until(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "dupjitter", -1, &s);
    sf_subscriber_id sub = subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0, .delay_ms = 10,
                          .jitter_ms = 50};
    sf_fault_id rule = add_fault(fx, &fp);
    enum { N = 30 };
    msgmap *map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < N; i++) {
        publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
        advance(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    static sf_ms orig_until[N], copy_until[N];
    static int norig[N], ncopy[N];
    memset(norig, 0, sizeof norig);
    memset(ncopy, 0, sizeof ncopy);
    sf_journal_filter f = {.subscriber = sub,
                           .kinds = KIND(SF_JOURNAL_DELAYED) | KIND(SF_JOURNAL_DUPLICATED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        int i = msgmap_find(map, je.message_sid);
        assert_true(i >= 0);
        assert_int_equal(je.rule, rule);
        if (je.kind == SF_JOURNAL_DELAYED) {
            assert_false(je.duplicate);
            orig_until[i] = je.until_ms;
            norig[i]++;
        } else {
            assert_true(je.duplicate);
            copy_until[i] = je.until_ms;
            ncopy[i]++;
        }
    }
    assert_int_equal(recs[0].n, 2 * N);
    static int got_orig[N], got_copy[N];
    memset(got_orig, 0, sizeof got_orig);
    memset(got_copy, 0, sizeof got_copy);
    size_t copy_differs = 0;
    for (size_t j = 0; j < recs[0].n; j++) {
        const rec_event *e = &recs[0].ev[j];
        int i = e->payload;
        assert_true(i >= 0 && i < N);
        assert_int_equal(norig[i], 1);
        assert_int_equal(ncopy[i], 1);
        assert_true(e->delivered_ms >= e->published_ms + 10);
        assert_true(e->delivered_ms <= e->published_ms + 60);
        if (e->is_duplicate) {
            assert_int_equal(e->delivered_ms, copy_until[i]);
            got_copy[i]++;
        } else {
            assert_int_equal(e->delivered_ms, orig_until[i]);
            got_orig[i]++;
        }
        copy_differs += orig_until[i] != copy_until[i];
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(got_orig[i], 1);
        assert_int_equal(got_copy[i], 1);
    }
    assert_true(copy_differs > 0); /* the copy draws its own jitter */
}

/* ---------------------------------------------------------------------------------------- */
/* Deliveries and the life of streams and subscribers                                        */
/* ---------------------------------------------------------------------------------------- */

static void test_run_until_idle_runs_expiries_on_the_way_and_leaves_later_ones(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record live, early, late;
    sf_fixture_stream(fx, "live", -1, &live);
    sf_fixture_stream(fx, "early", 1, &early);  /* expires at +1 s */
    sf_fixture_stream(fx, "late", 10, &late);   /* expires at +10 s */
    subscribe(fx, live.sid, 0);
    sf_ms t0 = sf_clock_now(fx->fake);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 5000};
    add_fault(fx, &fp);
    publish(fx, live.sid, 0, NULL);
    assert_int_equal(sf_pending_deliveries(fx->fake), 1);
    assert_int_equal(sf_pending_events(fx->fake), 3);

    size_t ran = sf_run_until_idle(fx->fake);
    assert_int_equal(ran, 2); /* the early expiry, then the delivery */
    assert_int_equal(sf_clock_now(fx->fake), t0 + 5000);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].delivered_ms, t0 + 5000);
    assert_status(fetch(fx, early.sid, NULL), SF_ERR_NOT_FOUND);
    assert_status(fetch(fx, late.sid, NULL), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    sf_ms next;
    assert_true(sf_next_event_time(fx->fake, &next));
    assert_int_equal(next, late.date_expires_ms);
    assert_int_equal(sf_run_until_idle(fx->fake), 0); /* no delivery pending: nothing runs */
    assert_int_equal(sf_clock_now(fx->fake), t0 + 5000);
}

static void test_delayed_delivery_to_an_expired_stream_is_lost_after_removed(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "short", 1, &s);
    sf_subscriber_id sub = subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 2000};
    add_fault(fx, &fp);
    sf_ms t0 = sf_clock_now(fx->fake);
    char sid[SF_SID_SIZE];
    publish(fx, s.sid, 0, sid);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(recs[0].ev[0].delivered_ms, t0 + 1000);
    sf_subscriber_stats st = stats(fx, sub);
    assert_false(st.attached);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.lost, 1);
    assert_int_equal(st.in_flight, 0);
    sf_journal_filter f = {.subscriber = sub, .kinds = KIND(SF_JOURNAL_LOST)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_string_equal(je.message_sid, sid);
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

static void test_unsubscribe_loses_deliveries_in_flight(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "leave", -1, &s);
    sf_subscriber_id gone = subscribe(fx, s.sid, 0), stays = subscribe(fx, s.sid, 1);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 100};
    add_fault(fx, &fp);
    publish(fx, s.sid, 0, NULL);
    publish(fx, s.sid, 1, NULL);
    assert_status(sf_unsubscribe(fx->fake, gone, NULL), SF_OK);
    assert_status(sf_unsubscribe(fx->fake, gone, NULL), SF_OK); /* twice: not an error */
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(recs[1].n, 2);
    sf_subscriber_stats st = stats(fx, gone);
    assert_false(st.attached);
    assert_int_equal(st.lost, 2);
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_LOST), gone, NULL), 2);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_UNSUBSCRIBED), gone, NULL), 1);
    assert_int_equal(stats(fx, stays).lost, 0);
    sf_error err;
    assert_status(sf_unsubscribe(fx->fake, 99, &err), SF_ERR_INVALID_ARGUMENT);
}

static void test_stream_removal_loses_parked_deliveries(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "parked", -1, &s);
    sf_subscriber_id held = subscribe(fx, s.sid, 0);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    publish(fx, s.sid, 0, NULL);
    publish(fx, s.sid, 1, NULL);
    assert_int_equal(stats(fx, held).parked, 2);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, s.sid, NULL), SF_OK);
    sf_subscriber_stats st = stats(fx, held);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.lost, 2);
    assert_false(st.attached);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(recs[0].ev[0].reason, SF_REMOVED_DELETED);
    /* healing afterwards has nothing to deliver */
    assert_status(sf_subscriber_heal(fx->fake, held, true, NULL), SF_OK);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_LOST), held, NULL), 2);
}

/* ---------------------------------------------------------------------------------------- */
/* Hold and heal                                                                             */
/* ---------------------------------------------------------------------------------------- */

static void test_hold_parks_deliveries_and_heal_with_flush_delivers_them_in_order(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "hold", -1, &s);
    sf_subscriber_id held = subscribe(fx, s.sid, 0), free_sub = subscribe(fx, s.sid, 1);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    assert_true(stats(fx, held).held);

    char sids[5][SF_SID_SIZE];
    sf_ms published[5];
    for (int i = 0; i < 5; i++) {
        published[i] = sf_clock_now(fx->fake);
        publish(fx, s.sid, i, sids[i]);
        advance(fx, 10);
    }
    advance(fx, 1000);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(recs[1].n, 5); /* the other subscriber is not partitioned */
    sf_subscriber_stats st = stats(fx, held);
    assert_int_equal(st.parked, 5);
    assert_int_equal(st.delivered, 0);
    assert_int_equal(st.lost, 0);
    assert_int_equal(sf_pending_deliveries(fx->fake), 0); /* parked ones are not queued */
    assert_int_equal(sf_run_until_idle(fx->fake), 0);
    assert_int_equal(recs[0].n, 0);

    sf_journal_filter f = {.subscriber = held, .kinds = KIND(SF_JOURNAL_HELD)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    for (int i = 0; i < 5; i++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[i]);
        assert_int_equal(je.t_ms, published[i]);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));

    sf_ms heal_at = sf_clock_now(fx->fake);
    assert_status(sf_subscriber_heal(fx->fake, held, true, NULL), SF_OK);
    assert_int_equal(recs[0].n, 5);
    for (int i = 0; i < 5; i++) {
        assert_string_equal(recs[0].ev[i].message_sid, sids[i]);
        assert_int_equal(recs[0].ev[i].published_ms, published[i]);
        assert_int_equal(recs[0].ev[i].delivered_ms, heal_at);
    }
    st = stats(fx, held);
    assert_false(st.held);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.delivered, 5);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_DELIVERED), held, NULL), 5);
    assert_int_equal(stats(fx, free_sub).delivered, 5);

    /* healed: the next message arrives at once */
    publish(fx, s.sid, 5, NULL);
    assert_int_equal(recs[0].n, 6);
}

static void test_heal_without_flush_discards_parked_deliveries(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "hold", -1, &s);
    sf_subscriber_id held = subscribe(fx, s.sid, 0);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    char sids[5][SF_SID_SIZE];
    for (int i = 0; i < 5; i++)
        publish(fx, s.sid, i, sids[i]);
    assert_int_equal(stats(fx, held).parked, 5);

    assert_status(sf_subscriber_heal(fx->fake, held, false, NULL), SF_OK);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    sf_subscriber_stats st = stats(fx, held);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.lost, 5);
    assert_int_equal(st.delivered, 0);
    assert_false(st.held);

    sf_journal_filter f = {.subscriber = held, .kinds = KIND(SF_JOURNAL_DISCARDED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    for (int i = 0; i < 5; i++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[i]);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_DELIVERED), held, NULL), 0);

    publish(fx, s.sid, 5, NULL);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].payload, 5);
}

static void test_hold_parks_delayed_deliveries_when_they_fall_due(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "hold", -1, &s);
    sf_subscriber_id held = subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 50};
    add_fault(fx, &fp);
    publish(fx, s.sid, 0, NULL);
    assert_status(sf_subscriber_hold(fx->fake, held, NULL), SF_OK);
    assert_int_equal(stats(fx, held).in_flight, 1);
    advance(fx, 100);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(stats(fx, held).in_flight, 0);
    assert_int_equal(stats(fx, held).parked, 1);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_HELD), held, NULL), 1);
    sf_ms heal_at = sf_clock_now(fx->fake);
    assert_status(sf_subscriber_heal(fx->fake, held, true, NULL), SF_OK);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].delivered_ms, heal_at);
}

/* ---------------------------------------------------------------------------------------- */
/* Disconnect                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void test_disconnect_loses_messages_of_the_gap_and_replays_nothing(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "gap", -1, &s);
    sf_subscriber_id d = subscribe(fx, s.sid, 0), other = subscribe(fx, s.sid, 1);
    char sids[5][SF_SID_SIZE];
    publish(fx, s.sid, 0, sids[0]);
    assert_status(sf_subscriber_disconnect(fx->fake, d, NULL), SF_OK);
    assert_false(stats(fx, d).connected);
    publish(fx, s.sid, 1, sids[1]);
    advance(fx, 5);
    publish(fx, s.sid, 2, sids[2]);
    advance(fx, 5);
    assert_int_equal(recs[0].n, 1);

    assert_status(sf_subscriber_reconnect(fx->fake, d, NULL), SF_OK);
    assert_true(stats(fx, d).connected);
    advance(fx, 1000);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 1); /* nothing replayed */
    publish(fx, s.sid, 3, sids[3]);
    publish(fx, s.sid, 4, sids[4]);

    int want[] = {0, 3, 4};
    assert_int_equal(recs[0].n, 3);
    for (int j = 0; j < 3; j++)
        assert_string_equal(recs[0].ev[j].message_sid, sids[want[j]]);
    assert_int_equal(recs[1].n, 5);

    sf_subscriber_stats st = stats(fx, d);
    assert_int_equal(st.lost, 2);
    assert_int_equal(st.delivered, 3);
    assert_int_equal(stats(fx, other).lost, 0);

    sf_journal_filter f = {.subscriber = d, .kinds = KIND(SF_JOURNAL_LOST)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    for (int i = 1; i <= 2; i++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[i]);
        assert_int_equal(je.rule, 0);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
    f.kinds = KIND(SF_JOURNAL_DELIVERED);
    cursor = 0;
    for (int j = 0; j < 3; j++) {
        assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
        assert_string_equal(je.message_sid, sids[want[j]]);
    }
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

static void test_disconnect_loses_delayed_delivery_falling_due_in_the_gap(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "gap", -1, &s);
    sf_subscriber_id d = subscribe(fx, s.sid, 0);
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .delay_ms = 100};
    add_fault(fx, &fp);
    sf_ms t0 = sf_clock_now(fx->fake);
    char sid[SF_SID_SIZE];
    publish(fx, s.sid, 0, sid);
    advance(fx, 10);
    assert_status(sf_subscriber_disconnect(fx->fake, d, NULL), SF_OK);
    advance(fx, 190);
    assert_status(sf_subscriber_reconnect(fx->fake, d, NULL), SF_OK);
    advance(fx, 1000);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(stats(fx, d).lost, 1);
    sf_journal_filter f = {.subscriber = d, .kinds = KIND(SF_JOURNAL_LOST)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_string_equal(je.message_sid, sid);
    assert_int_equal(je.t_ms, t0 + 100);
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

/* ---------------------------------------------------------------------------------------- */
/* Expiry lag                                                                                */
/* ---------------------------------------------------------------------------------------- */

static void assert_expired_entries(sf_fixture *fx, const char *stream, sf_ms at)
{
    sf_journal_filter f = {.stream_sid = stream, .kinds = KIND(SF_JOURNAL_EXPIRED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &je));
    assert_int_equal(je.t_ms, at);
    assert_false(sf_journal_next(fx->fake, &f, &cursor, &je));
}

static void test_expiry_lag_fake_scope_keeps_stream_until_the_lag_has_passed(void **state)
{
    sf_fixture *fx = *state;
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = 5000};
    sf_fault_id rule = add_fault(fx, &fp);
    sf_stream_record s;
    sf_fixture_stream(fx, "lagging", 10, &s);
    assert_true(s.has_date_expires);
    sf_ms deadline = s.date_expires_ms;
    subscribe(fx, s.sid, 0);

    assert_status(sf_clock_set(fx->fake, deadline, NULL), SF_OK);
    assert_status(fetch(fx, s.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline + 4999, NULL), SF_OK);
    assert_status(fetch(fx, s.sid, NULL), SF_OK);
    assert_status(fetch(fx, "lagging", NULL), SF_OK);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_EXPIRED), 0, NULL), 0);
    assert_int_equal(recs[0].n, 0);

    assert_status(sf_clock_set(fx->fake, deadline + 5000, NULL), SF_OK);
    sf_error err;
    assert_status(fetch(fx, s.sid, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_expired_entries(fx, s.sid, deadline + 5000);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].kind, SF_EVENT_REMOVED);
    assert_int_equal(recs[0].ev[0].reason, SF_REMOVED_EXPIRED);
    assert_int_equal(recs[0].ev[0].delivered_ms, deadline + 5000);
    assert_int_equal(fault_info(fx, rule).hits, 1);
}

static void test_expiry_lag_stream_scope_delays_only_its_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record a, b;
    sf_fixture_stream(fx, "a", 10, &a);
    sf_fixture_stream(fx, "b", 10, &b);
    assert_int_equal(a.date_expires_ms, b.date_expires_ms);
    sf_ms deadline = a.date_expires_ms;
    sf_fault_params fp = {.scope = SF_SCOPE_STREAM, .stream_sid = a.sid,
                          .expiry_lag_ms = 5000};
    sf_fault_id rule = add_fault(fx, &fp);

    assert_status(sf_clock_set(fx->fake, deadline - 1, NULL), SF_OK);
    assert_status(fetch(fx, b.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline, NULL), SF_OK);
    assert_status(fetch(fx, b.sid, NULL), SF_ERR_NOT_FOUND); /* no lag for b */
    assert_status(fetch(fx, a.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline + 4999, NULL), SF_OK);
    assert_status(fetch(fx, a.sid, NULL), SF_OK);
    assert_status(sf_clock_set(fx->fake, deadline + 5000, NULL), SF_OK);
    assert_status(fetch(fx, a.sid, NULL), SF_ERR_NOT_FOUND);

    assert_expired_entries(fx, b.sid, deadline);
    assert_expired_entries(fx, a.sid, deadline + 5000);
    assert_int_equal(journal_count_of(fx->fake, KIND(SF_JOURNAL_EXPIRED), 0, NULL), 2);
    assert_int_equal(fault_info(fx, rule).hits, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* The rule table                                                                            */
/* ---------------------------------------------------------------------------------------- */

static void test_fault_remove_stops_the_rule_and_ids_are_not_reused(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "rm", -1, &s);
    sf_subscriber_id s1 = subscribe(fx, s.sid, 0);
    sf_fault_params all = {.scope = SF_SCOPE_FAKE, .drop_rate = 1.0};
    sf_fault_params mine = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1, .delay_ms = 40};
    sf_fault_id r1 = add_fault(fx, &all), r2 = add_fault(fx, &mine);
    assert_int_equal(r1, 1);
    assert_int_equal(r2, 2);

    publish(fx, s.sid, 0, NULL);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 0);
    assert_int_equal(stats(fx, s1).dropped, 1);

    sf_error err;
    assert_status(sf_fault_remove(fx->fake, r1, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 1);
    sf_ms t = sf_clock_now(fx->fake);
    publish(fx, s.sid, 1, NULL);
    sf_run_until_idle(fx->fake);
    assert_int_equal(recs[0].n, 1);
    assert_int_equal(recs[0].ev[0].payload, 1);
    assert_int_equal(recs[0].ev[0].delivered_ms, t + 40); /* the other rule still applies */

    assert_status(sf_fault_remove(fx->fake, r2, NULL), SF_OK);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    t = sf_clock_now(fx->fake);
    publish(fx, s.sid, 2, NULL);
    assert_int_equal(recs[0].n, 2); /* no rule: delivered before publish returns */
    assert_int_equal(recs[0].ev[1].delivered_ms, t);

    assert_status(sf_fault_remove(fx->fake, r1, &err), SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_fault_remove(fx->fake, 999, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(add_fault(fx, &all), 3); /* never reused */
}

static void test_fault_list_shows_ids_params_and_hits(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "list", -1, &s);
    sf_subscriber_id s1 = subscribe(fx, s.sid, 0);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);

    sf_fault_params p1 = {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0, .delay_ms = 7,
                          .jitter_ms = 3};
    char sid_copy[SF_SID_SIZE];
    memcpy(sid_copy, s.sid, SF_SID_SIZE);
    sf_fault_params p2 = {.scope = SF_SCOPE_STREAM, .stream_sid = sid_copy, .drop_next = 2,
                          .expiry_lag_ms = 100};
    sf_fault_params p3 = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1, .drop_rate = 0.25};
    add_fault(fx, &p1);
    add_fault(fx, &p2);
    add_fault(fx, &p3);
    memset(sid_copy, 'x', SF_SID_LEN); /* the rule keeps its own copy */

    sf_fault_info out[4];
    memset(out, 0xa5, sizeof out);
    assert_int_equal(sf_fault_list(fx->fake, out, 4), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[i].id, (sf_fault_id)(i + 1));
    assert_int_equal(out[0].params.scope, SF_SCOPE_FAKE);
    assert_true(out[0].params.duplicate_rate == 1.0);
    assert_int_equal(out[0].params.delay_ms, 7);
    assert_int_equal(out[0].params.jitter_ms, 3);
    assert_null(out[0].params.stream_sid);
    assert_int_equal(out[1].params.scope, SF_SCOPE_STREAM);
    assert_string_equal(out[1].stream_sid, s.sid);
    assert_ptr_equal(out[1].params.stream_sid, out[1].stream_sid);
    assert_int_equal(out[1].params.drop_next, 2);
    assert_int_equal(out[1].drop_next_left, 2);
    assert_int_equal(out[1].params.expiry_lag_ms, 100);
    assert_int_equal(out[2].params.scope, SF_SCOPE_SUBSCRIBER);
    assert_int_equal(out[2].params.subscriber, s1);
    assert_true(out[2].params.drop_rate == 0.25);
    for (int i = 0; i < 3; i++)
        assert_int_equal(out[i].hits, 0);
    unsigned char sentinel[sizeof out[3]];
    memset(sentinel, 0xa5, sizeof sentinel);
    assert_memory_equal(&out[3], sentinel, sizeof sentinel); /* only 3 written */

    /* cap smaller than the table: count still reported, only cap written */
    sf_fault_info one[2];
    memset(one, 0xa5, sizeof one);
    assert_int_equal(sf_fault_list(fx->fake, one, 1), 3);
    assert_int_equal(one[0].id, 1);
    assert_memory_equal(&one[1], sentinel, sizeof sentinel);

    /* three publishes: the stream rule's drop_next takes the first two; the third is either
     * dropped by the subscriber rule's draw or delayed and duplicated by rule 1 (two hits) */
    publish(fx, s.sid, 0, NULL);
    publish(fx, s.sid, 1, NULL);
    publish(fx, s.sid, 2, NULL);
    sf_run_until_idle(fx->fake);
    assert_int_equal(sf_fault_list(fx->fake, out, 4), 3);
    assert_int_equal(out[1].drop_next_left, 0);
    assert_int_equal(out[1].hits, 2);
    assert_true(out[2].hits <= 1);
    sf_subscriber_stats st = stats(fx, s1);
    assert_int_equal(st.dropped, 2 + out[2].hits);
    assert_int_equal(out[0].hits, out[2].hits ? 0 : 2);
    assert_int_equal(st.delivered, out[2].hits ? 0 : 2);
    assert_int_equal(recs[0].n, st.delivered);
}

static void test_fault_add_rejects_invalid_params(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "bad", -1, &s);
    sf_subscriber_id s1 = subscribe(fx, s.sid, 0);
    const struct {
        const char *what;
        sf_fault_params p;
    } cases[] = {
        {"drop_rate 1.5", {.scope = SF_SCOPE_FAKE, .drop_rate = 1.5}},
        {"drop_rate -0.1", {.scope = SF_SCOPE_FAKE, .drop_rate = -0.1}},
        {"drop_rate NaN", {.scope = SF_SCOPE_FAKE, .drop_rate = NAN}},
        {"duplicate_rate 1.5", {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.5}},
        {"duplicate_rate NaN", {.scope = SF_SCOPE_FAKE, .duplicate_rate = NAN}},
        {"duplicate_rate inf", {.scope = SF_SCOPE_FAKE, .duplicate_rate = INFINITY}},
        {"negative delay", {.scope = SF_SCOPE_FAKE, .delay_ms = -1}},
        {"negative jitter", {.scope = SF_SCOPE_FAKE, .jitter_ms = -5}},
        {"negative expiry lag", {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = -1}},
        {"stream scope without SID", {.scope = SF_SCOPE_STREAM, .drop_rate = 0.5}},
        {"stream scope with a name", {.scope = SF_SCOPE_STREAM, .stream_sid = "bad"}},
        {"unknown subscriber", {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 99}},
        {"subscriber 0", {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 0}},
        {"subscriber scope with expiry lag",
         {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1, .expiry_lag_ms = 1000}},
        {"unknown scope", {.scope = (sf_fault_scope)7}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        sf_fault_id id = 12345;
        sf_status st = sf_fault_add(fx->fake, &cases[i].p, &id, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("%s: got %s, want SF_ERR_INVALID_ARGUMENT", cases[i].what,
                     sf_status_name(st));
        assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
        sf_assert_twilio_error(&err, 400, 20001);
        assert_int_equal(id, 12345);
        assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    }
    sf_error err;
    assert_status(sf_fault_add(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    /* nothing was spent: the first valid rule is still rule 1, and publishing is unaffected */
    sf_fault_params ok = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = s1};
    assert_int_equal(add_fault(fx, &ok), 1);
    publish(fx, s.sid, 0, NULL);
    assert_int_equal(recs[0].n, 1);
}

/* ---------------------------------------------------------------------------------------- */
/* Determinism                                                                               */
/* ---------------------------------------------------------------------------------------- */

enum { SEED_SUBS = 4, SEED_MSGS = 200 };

typedef struct seed_run {
    unsigned char dropped[SEED_MSGS][SEED_SUBS];
    char *journal;
    size_t journal_len;
    size_t ndropped;
} seed_run;

static void seed_run_do(sf_fixture *fx, int rec, seed_run *out)
{
    sf_stream_record s;
    sf_fixture_stream(fx, "seeded", -1, &s);
    for (int k = 0; k < SEED_SUBS; k++)
        assert_int_equal(subscribe(fx, s.sid, rec + k), (sf_subscriber_id)(k + 1));
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.5, .duplicate_rate = 0.2,
                          .jitter_ms = 20};
    add_fault(fx, &fp);
    msgmap *map = msgmap_new();
    char sid[SF_SID_SIZE];
    for (int i = 0; i < SEED_MSGS; i++) {
        publish(fx, s.sid, i, sid);
        msgmap_add(map, sid, i);
        advance(fx, 1);
    }
    sf_run_until_idle(fx->fake);

    memset(out->dropped, 0, sizeof out->dropped);
    out->ndropped = 0;
    sf_journal_filter f = {.kinds = KIND(SF_JOURNAL_DROPPED)};
    uint64_t cursor = 0;
    sf_journal_entry je;
    while (sf_journal_next(fx->fake, &f, &cursor, &je)) {
        int idx = msgmap_find(map, je.message_sid);
        assert_true(idx >= 0);
        assert_true(je.subscriber >= 1 && je.subscriber <= SEED_SUBS);
        out->dropped[idx][je.subscriber - 1] = 1;
        out->ndropped++;
    }
    out->journal_len = sf_journal_render(fx->fake, NULL, NULL, 0);
    out->journal = scratch_alloc(out->journal_len + 1);
    assert_int_equal(sf_journal_render(fx->fake, NULL, out->journal, out->journal_len + 1),
                     out->journal_len);
}

static void assert_same_events(const recorder *a, const recorder *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t j = 0; j < a->n; j++) {
        assert_string_equal(a->ev[j].message_sid, b->ev[j].message_sid);
        assert_int_equal(a->ev[j].delivered_ms, b->ev[j].delivered_ms);
        assert_int_equal(a->ev[j].is_duplicate, b->ev[j].is_duplicate);
        assert_int_equal(a->ev[j].payload, b->ev[j].payload);
    }
}

static void test_same_seed_twice_gives_identical_fates(void **state)
{
    sf_fixture *one = *state;
    sf_fixture *two = extra_fixture(SF_TEST_SEED, false);
    seed_run *a = scratch_alloc(sizeof *a), *b = scratch_alloc(sizeof *b);
    seed_run_do(one, 0, a);
    seed_run_do(two, SEED_SUBS, b);
    assert_true(a->ndropped > 0);
    assert_memory_equal(a->dropped, b->dropped, sizeof a->dropped);
    assert_int_equal(a->journal_len, b->journal_len);
    assert_memory_equal(a->journal, b->journal, a->journal_len);
    for (int k = 0; k < SEED_SUBS; k++)
        assert_same_events(&recs[k], &recs[SEED_SUBS + k]);
}

static void test_different_seed_gives_different_drop_pattern(void **state)
{
    sf_fixture *one = *state;
    sf_fixture *other = extra_fixture(SF_TEST_SEED + 1, false);
    seed_run *a = scratch_alloc(sizeof *a), *b = scratch_alloc(sizeof *b);
    seed_run_do(one, 0, a);
    seed_run_do(other, SEED_SUBS, b);
    /* both are plausible draws at 0.5, and not the same draws */
    size_t cells = SEED_MSGS * SEED_SUBS;
    assert_true(a->ndropped > cells / 4 && a->ndropped < 3 * cells / 4);
    assert_true(b->ndropped > cells / 4 && b->ndropped < 3 * cells / 4);
    assert_true(memcmp(a->dropped, b->dropped, sizeof a->dropped) != 0);
    size_t differ = 0;
    for (int i = 0; i < SEED_MSGS; i++)
        for (int k = 0; k < SEED_SUBS; k++)
            differ += a->dropped[i][k] != b->dropped[i][k];
    assert_true(differ > cells / 4); /* independent draws disagree about half the time */
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TU(fn) cmocka_unit_test_setup_teardown(fn, setup_unlimited, teardown)
    const struct CMUnitTest tests[] = {
        TU(test_drop_rate_drops_that_fraction_and_journals_each_drop_with_its_rule),
        T(test_stream_scope_rule_touches_only_its_stream),
        T(test_subscriber_scope_rule_touches_only_its_subscriber),
        T(test_delay_and_jitter_reorder_within_bounds_matching_delayed_journal),
        T(test_second_subscriber_with_own_rule_leaves_first_sequence_identical),
        T(test_second_subscriber_with_own_rule_leaves_unfaulted_first_identical),
        T(test_drop_next_drops_exactly_the_next_deliveries_then_none),
        T(test_drop_next_on_subscriber_scope_counts_only_its_deliveries),
        T(test_duplicate_rate_one_delivers_every_message_twice),
        T(test_duplicate_copy_with_jitter_arrives_at_its_duplicated_until),
        T(test_run_until_idle_runs_expiries_on_the_way_and_leaves_later_ones),
        T(test_delayed_delivery_to_an_expired_stream_is_lost_after_removed),
        T(test_unsubscribe_loses_deliveries_in_flight),
        T(test_stream_removal_loses_parked_deliveries),
        T(test_hold_parks_deliveries_and_heal_with_flush_delivers_them_in_order),
        T(test_heal_without_flush_discards_parked_deliveries),
        T(test_hold_parks_delayed_deliveries_when_they_fall_due),
        T(test_disconnect_loses_messages_of_the_gap_and_replays_nothing),
        T(test_disconnect_loses_delayed_delivery_falling_due_in_the_gap),
        T(test_expiry_lag_fake_scope_keeps_stream_until_the_lag_has_passed),
        T(test_expiry_lag_stream_scope_delays_only_its_stream),
        T(test_fault_remove_stops_the_rule_and_ids_are_not_reused),
        T(test_fault_list_shows_ids_params_and_hits),
        T(test_fault_add_rejects_invalid_params),
        T(test_same_seed_twice_gives_identical_fates),
        T(test_different_seed_gives_different_drop_pattern),
    };
#undef T
#undef TU
    return cmocka_run_group_tests(tests, NULL, NULL);
}
