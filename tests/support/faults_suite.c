/* SPDX-License-Identifier: MIT */
/* faults_suite.c: see faults_suite.h. */
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
#include "faults_suite.h"

recorder recs[NREC];

static void *extras[NEXTRA]; /* extra fixtures (sf_fixture *) */

static void *scratch[NSCRATCH];

void *scratch_alloc(size_t size)
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

void recs_release(void)
{
    for (int i = 0; i < NREC; i++) {
        free(recs[i].ev);
        memset(&recs[i], 0, sizeof recs[i]);
    }
}

int faults_setup(void **state)
{
    recs_release();
    return sf_fixture_setup(state);
}

/* Like faults_setup, with the publish rate limit lifted. */
int faults_setup_unlimited(void **state)
{
    recs_release();
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.limits.publish_rate_per_s = 0;
    return sf_fixture_setup_with(state, &opts);
}

int faults_teardown(void **state)
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
sf_fixture *extra_fixture(uint64_t seed, bool unlimited)
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

void faults_on_event(sf_fake *fake, const sf_event *e, void *user)
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

sf_subscriber_id faults_subscribe(sf_fixture *fx, const char *stream, int rec)
{
    sf_subscribe_params p = {.on_event = faults_on_event, .user = &recs[rec]};
    sf_subscriber_id id = 0;
    sf_error err;
    sf_status st = sf_subscribe(fx->fake, NULL, fx->service_sid, stream, &p, &id, &err);
    if (st != SF_OK)
        fail_msg("subscribe failed: %s %s", sf_status_name(st), err.message);
    assert_true(id > 0);
    return id;
}

void faults_publish(sf_fixture *fx, const char *stream, int i, char sid_out[SF_SID_SIZE])
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

sf_fault_id add_fault(sf_fixture *fx, const sf_fault_params *p)
{
    sf_fault_id id = 0;
    sf_error err;
    sf_status st = sf_fault_add(fx->fake, p, &id, &err);
    if (st != SF_OK)
        fail_msg("fault add failed: %s %s", sf_status_name(st), err.message);
    assert_true(id > 0);
    return id;
}

sf_subscriber_stats fault_sub_stats(sf_fixture *fx, sf_subscriber_id id)
{
    sf_subscriber_stats s;
    assert_status(sf_subscriber_stats_get(fx->fake, id, &s, NULL), SF_OK);
    return s;
}

void advance_ms(sf_fixture *fx, sf_ms ms)
{
    assert_status(sf_clock_advance(fx->fake, ms, NULL), SF_OK);
}

sf_fault_info fault_info(sf_fixture *fx, sf_fault_id id)
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

int msgkey_cmp(const void *a, const void *b)
{
    return strcmp(((const msgkey *)a)->sid, ((const msgkey *)b)->sid);
}

void msgmap_add(msgmap *m, const char *sid, int idx)
{
    assert_true(m->n < MAXMSG);
    memcpy(m->keys[m->n].sid, sid, SF_SID_SIZE);
    m->keys[m->n].idx = idx;
    m->n++;
    m->sorted = false;
}

int msgmap_find(msgmap *m, const char *sid)
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

msgmap *msgmap_new(void) { return scratch_alloc(sizeof(msgmap)); }
