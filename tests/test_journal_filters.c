/* SPDX-License-Identifier: MIT */
/* test_journal_filters.c: the journal: filters checked against hand-written expectations, the
 * ring and clearing, and renderings bounded by the caller's buffer. */
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
#include "journal_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* Filters                                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* Names the filter test gives its streams and subscribers, to describe entries by. */
typedef struct filter_names {
    const char *stream_sid[2]; /* "f1", "f2" */
    sf_subscriber_id sub[3];   /* 'a', 'b', 'c' */
} filter_names;

/* One entry as "kind:detail@stream": detail is the op of an api entry, else the subscriber's
 * letter; "@-" when the entry names no stream. */
static void describe_entry(const sf_journal_entry *e, const filter_names *nm, char *out, size_t cap)
{
    char detail[32] = "-";
    if (e->kind == SF_JOURNAL_API)
        snprintf(detail, sizeof detail, "%s", sf_op_name(e->op));
    for (int i = 0; i < 3; i++) {
        if (e->kind != SF_JOURNAL_API && e->subscriber == nm->sub[i])
            snprintf(detail, sizeof detail, "%c", 'a' + i);
    }
    const char *stream = "-";
    for (int i = 0; i < 2; i++) {
        if (strcmp(e->stream_sid, nm->stream_sid[i]) == 0)
            stream = i == 0 ? "f1" : "f2";
    }
    snprintf(out, cap, "%s:%s@%s", sf_journal_kind_name(e->kind), detail, stream);
}

/* sf_journal_next with `f` returns exactly the entries `expected` describes (space-separated
 * describe_entry texts, written by hand from the calls the test made), each equal to the
 * unfiltered entry of its seq; sf_journal_render with `f` renders exactly those. */
static void check_filter(const sf_fake *fake, const sf_journal_filter *f, const filter_names *nm,
                         const char *expected)
{
    size_t total = sf_journal_count(fake);
    sf_journal_entry *all = calloc(total + 1, sizeof *all);
    assert_non_null(all);
    uint64_t cur = 0;
    size_t n = 0;
    while (sf_journal_next(fake, NULL, &cur, &all[n]))
        n++;
    assert_int_equal(n, total);
    size_t cap = 1 << 20;
    char *got = calloc(1, cap), *json = malloc(cap);
    assert_non_null(got);
    assert_non_null(json);
    size_t glen = 0, jlen = 0, k = 0;
    sf_journal_entry e;
    cur = 0;
    while (sf_journal_next(fake, f, &cur, &e)) {
        while (k < n && all[k].seq != e.seq)
            k++;
        assert_true(k < n); /* in journal order, each one once */
        assert_memory_equal(&e, &all[k++], sizeof e);
        char text[96];
        describe_entry(&e, nm, text, sizeof text);
        glen += (size_t)snprintf(got + glen, cap - glen, "%s%s", glen ? " " : "", text);
        jlen += sf_journal_entry_json(&e, json + jlen, cap - jlen);
        json[jlen++] = '\n';
    }
    assert_string_equal(got, expected);
    size_t rlen;
    char *r = render_all(fake, f, &rlen);
    assert_int_equal(rlen, jlen);
    assert_memory_equal(r, json, jlen);
    free(r);
    free(json);
    free(got);
    free(all);
}

/* Streams f1 (subscribers a, b) and f2 (c); a rule drops b's next two messages; five
 * publishes to each stream, then a unsubscribes. Fills nm (which points into s1, s2). */
static void make_filter_scene(jfake *j, sf_stream_record *s1, sf_stream_record *s2,
                              filter_names *nm)
{
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    jmake_stream(j->fake, svc.sid, "f1", -1, s1);
    jmake_stream(j->fake, svc.sid, "f2", -1, s2);
    sf_subscriber_id a = jsubscribe(j->fake, svc.sid, "f1", 0, NULL);
    sf_subscriber_id b = jsubscribe(j->fake, svc.sid, "f1", 0, NULL);
    sf_subscriber_id c = jsubscribe(j->fake, svc.sid, "f2", 0, NULL);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = b, .drop_next = 2};
    sf_fault_id rule;
    jok(sf_fault_add(j->fake, &fp, &rule, &err), &err);
    sf_message_record m;
    for (int i = 0; i < 5; i++) {
        jok(jpublish(j->fake, svc.sid, "f1", "{}", 0, &m, &err), &err);
        jok(jpublish(j->fake, svc.sid, "f2", "{}", 0, &m, &err), &err);
    }
    sf_run_until_idle(j->fake);
    jok(sf_unsubscribe(j->fake, a, &err), &err);
    *nm = (filter_names){{s1->sid, s2->sid}, {a, b, c}};
}

/* Filtering by stream (f2) and by subscriber (b, c) selects only their entries. */
static void check_stream_and_subscriber_filters(const sf_fake *fake, const filter_names *nm)
{
    /* by stream: its create, subscription, publishes and their fates; nothing of f1 */
    sf_journal_filter by_stream = {.stream_sid = nm->stream_sid[1]};
    check_filter(fake, &by_stream, nm,
                 "api:stream.create@f2 subscribed:c@f2"
                 " api:message.create@f2 delivered:c@f2 api:message.create@f2 delivered:c@f2"
                 " api:message.create@f2 delivered:c@f2 api:message.create@f2 delivered:c@f2"
                 " api:message.create@f2 delivered:c@f2");

    /* by subscriber: b's first two messages are dropped by its rule */
    sf_journal_filter by_sub = {.subscriber = nm->sub[1]};
    check_filter(fake, &by_sub, nm,
                 "subscribed:b@f1 dropped:b@f1 dropped:b@f1"
                 " delivered:b@f1 delivered:b@f1 delivered:b@f1");
    sf_journal_filter by_c = {.subscriber = nm->sub[2]};
    check_filter(fake, &by_c, nm,
                 "subscribed:c@f2 delivered:c@f2 delivered:c@f2 delivered:c@f2 delivered:c@f2"
                 " delivered:c@f2");
}

/* Filtering by kinds: dropped; subscribed and unsubscribed; api. */
static void check_kind_filters(const sf_fake *fake, const filter_names *nm)
{
    sf_journal_filter dropped = {.kinds = 1u << SF_JOURNAL_DROPPED};
    check_filter(fake, &dropped, nm, "dropped:b@f1 dropped:b@f1");
    sf_journal_filter subs = {.kinds = 1u << SF_JOURNAL_SUBSCRIBED | 1u << SF_JOURNAL_UNSUBSCRIBED};
    check_filter(fake, &subs, nm,
                 "subscribed:a@f1 subscribed:b@f1 subscribed:c@f2 unsubscribed:a@f1");
    sf_journal_filter api = {.kinds = 1u << SF_JOURNAL_API};
    check_filter(fake, &api, nm,
                 "api:service.create@- api:stream.create@f1 api:stream.create@f2"
                 " api:message.create@f1 api:message.create@f2 api:message.create@f1"
                 " api:message.create@f2 api:message.create@f1 api:message.create@f2"
                 " api:message.create@f1 api:message.create@f2 api:message.create@f1"
                 " api:message.create@f2");
}

/* A combined filter needs all its parts to hold; an unknown stream selects nothing, an empty
 * filter everything in order. */
static void check_combined_and_empty_filters(const sf_fake *fake, const filter_names *nm)
{
    /* combined: all three must hold */
    sf_journal_filter comb = {.stream_sid = nm->stream_sid[0],
                              .subscriber = nm->sub[1],
                              .kinds = 1u << SF_JOURNAL_DELIVERED};
    check_filter(fake, &comb, nm, "delivered:b@f1 delivered:b@f1 delivered:b@f1");
    sf_journal_filter none = {.stream_sid = nm->stream_sid[1], .subscriber = nm->sub[1]};
    check_filter(fake, &none, nm, "");
    sf_journal_filter unknown = {.stream_sid = "TO00000000000000000000000000000000"};
    check_filter(fake, &unknown, nm, "");
    /* an empty filter selects everything. A drop is journaled when the message is published,
     * a delivery when it arrives: b's drops come before a's deliveries of the same message */
    sf_journal_filter empty = {0};
    check_filter(fake, &empty, nm,
                 "api:service.create@- api:stream.create@f1 api:stream.create@f2"
                 " subscribed:a@f1 subscribed:b@f1 subscribed:c@f2"
                 " api:message.create@f1 dropped:b@f1 delivered:a@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 dropped:b@f1 delivered:a@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 delivered:a@f1 delivered:b@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 delivered:a@f1 delivered:b@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " api:message.create@f1 delivered:a@f1 delivered:b@f1"
                 " api:message.create@f2 delivered:c@f2"
                 " unsubscribed:a@f1");
    assert_int_equal(sf_journal_render(fake, &none, NULL, 0), 0);
}

static void test_filters_select_by_stream_subscriber_and_kinds(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_stream_record s1, s2;
    filter_names nm;
    make_filter_scene(j, &s1, &s2, &nm);
    check_stream_and_subscriber_filters(j->fake, &nm);
    check_kind_filters(j->fake, &nm);
    check_combined_and_empty_filters(j->fake, &nm);
    jfake_free(j);
}

/* ---------------------------------------------------------------------------------------- */
/* The ring, clearing                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_ring_of_ten_keeps_the_last_ten_and_counts_the_rest(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 10, NULL);
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    jmake_stream(j->fake, svc.sid, "ring", -1, &s);
    sf_subscriber_id sub = jsubscribe(j->fake, svc.sid, "ring", 0, NULL);
    /* 3 entries so far; 11 publishes with one subscriber add 22: 25 in all */
    sf_message_record m;
    for (int i = 0; i < 11; i++) {
        jok(sf_clock_advance(j->fake, 1, &err), &err);
        jok(jpublish(j->fake, svc.sid, "ring", "{}", 0, &m, &err), &err);
    }
    assert_int_equal(sf_journal_count(j->fake), 10);
    assert_int_equal(sf_journal_overwritten(j->fake), 15);
    uint64_t cur = 0;
    sf_journal_entry e;
    uint64_t want = 16;
    while (sf_journal_next(j->fake, NULL, &cur, &e)) {
        assert_int_equal(e.seq, want);
        want++;
    }
    assert_int_equal(want, 26);
    /* the newest entry is the last delivery */
    assert_int_equal(e.kind, SF_JOURNAL_DELIVERED);
    assert_string_equal(e.message_sid, m.sid);
    assert_int_equal(e.subscriber, sub);
    size_t len;
    char *r = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(r, len, 16, NULL), 10);
    free(r);
    /* keeps rolling */
    jok(jpublish(j->fake, svc.sid, "ring", "{}", 0, &m, &err), &err);
    assert_int_equal(sf_journal_count(j->fake), 10);
    assert_int_equal(sf_journal_overwritten(j->fake), 17);
    cur = 0;
    assert_true(sf_journal_next(j->fake, NULL, &cur, &e));
    assert_int_equal(e.seq, 18);
    jfake_free(j);
}

static void test_ring_larger_than_first_allocation_stays_continuous(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 300, NULL);
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    jmake_stream(j->fake, svc.sid, "big", -1, &s);
    jsubscribe(j->fake, svc.sid, "big", 0, NULL);
    sf_message_record m;
    for (int i = 0; i < 400; i++) { /* 3 + 800 entries, through a 256 -> 300 growth */
        jok(sf_clock_advance(j->fake, 1000, &err), &err);
        jok(jpublish(j->fake, svc.sid, "big", "{}", 0, &m, &err), &err);
    }
    assert_int_equal(sf_journal_count(j->fake), 300);
    assert_int_equal(sf_journal_overwritten(j->fake), 803 - 300);
    size_t len;
    char *r = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(r, len, 504, NULL), 300);
    free(r);
    jfake_free(j);
}

static void test_capacity_zero_keeps_nothing(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 0, NULL);
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    jmake_stream(j->fake, svc.sid, "zero", -1, &s);
    size_t got = 0;
    jsubscribe(j->fake, svc.sid, "zero", 0, &got);
    sf_message_record m;
    jok(jpublish(j->fake, svc.sid, "zero", "{}", 0, &m, &err), &err);
    assert_int_equal(got, 1); /* the fake works without a journal */
    assert_int_equal(sf_journal_count(j->fake), 0);
    uint64_t cur = 0;
    sf_journal_entry e;
    assert_false(sf_journal_next(j->fake, NULL, &cur, &e));
    char buf[8];
    memset(buf, 'X', sizeof buf);
    assert_int_equal(sf_journal_render(j->fake, NULL, buf, sizeof buf), 0);
    assert_int_equal(buf[0], '\0');
    size_t wlen;
    char *w = write_all(j->fake, NULL, &wlen);
    assert_int_equal(wlen, 0);
    free(w);
    jfake_free(j);
}

static void test_clear_empties_the_journal_and_sequence_keeps_counting(void **state)
{
    (void)state;
    jfake *j = jfake_new_with(SF_TEST_SEED, 10, NULL);
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    sf_stream_record s;
    for (int i = 0; i < 12; i++)
        jmake_stream(j->fake, svc.sid, NULL, -1, &s); /* 13 entries: 3 overwritten */
    assert_int_equal(sf_journal_overwritten(j->fake), 3);
    sf_journal_clear(j->fake);
    assert_int_equal(sf_journal_count(j->fake), 0);
    assert_int_equal(sf_journal_overwritten(j->fake), 3);
    assert_int_equal(sf_journal_render(j->fake, NULL, NULL, 0), 0);
    uint64_t cur = 0;
    sf_journal_entry e;
    assert_false(sf_journal_next(j->fake, NULL, &cur, &e));
    sf_stream_record rec;
    jok(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &rec, &err), &err);
    assert_int_equal(sf_journal_count(j->fake), 1);
    cur = 0;
    assert_true(sf_journal_next(j->fake, NULL, &cur, &e));
    assert_int_equal(e.seq, 14);
    assert_int_equal(e.op, SF_OP_STREAM_FETCH);
    assert_int_equal(e.status, 200);
    /* fill past capacity again after a clear */
    for (int i = 0; i < 15; i++)
        jok(sf_stream_fetch(j->fake, NULL, svc.sid, s.sid, &rec, &err), &err);
    assert_int_equal(sf_journal_count(j->fake), 10);
    assert_int_equal(sf_journal_overwritten(j->fake), 3 + 6);
    size_t len;
    char *r = render_all(j->fake, NULL, &len);
    assert_int_equal(check_lines(r, len, 20, NULL), 10);
    free(r);
    jfake_free(j);
}

/* ---------------------------------------------------------------------------------------- */
/* Bounded output                                                                           */
/* ---------------------------------------------------------------------------------------- */

#define GUARD 0x5a

static void
test_entry_json_with_small_buffers_returns_needed_length_and_never_overflows(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    jscenario(j->fake);
    uint64_t cur = 0;
    sf_journal_entry e;
    size_t checked = 0;
    while (sf_journal_next(j->fake, NULL, &cur, &e)) {
        char full[1024];
        size_t need = sf_journal_entry_json(&e, full, sizeof full);
        assert_true(need > 0 && need < sizeof full);
        assert_int_equal(strlen(full), need);
        assert_int_equal(sf_journal_entry_json(&e, NULL, 0), need);
        for (size_t cap = 0; cap <= need + 2; cap++) {
            char buf[1024 + 1];
            memset(buf, GUARD, sizeof buf);
            size_t got = sf_journal_entry_json(&e, buf, cap);
            assert_int_equal(got, need);
            if (cap > 0) {
                size_t kept = cap - 1 < need ? cap - 1 : need;
                assert_memory_equal(buf, full, kept);
                assert_int_equal(buf[kept], '\0');
            }
            for (size_t k = cap; k < sizeof buf; k++)
                if ((unsigned char)buf[k] != GUARD)
                    fail_msg("entry_json wrote byte %zu with cap %zu", k, cap);
        }
        checked++;
    }
    assert_true(checked > 50);
    jfake_free(j);
}

static void test_render_with_small_buffers_returns_needed_length_and_never_overflows(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    jscenario(j->fake);
    size_t need;
    char *full = render_all(j->fake, NULL, &need);
    char *buf = malloc(need + 64);
    assert_non_null(buf);
    /* every cap around the line boundaries, and a spread elsewhere */
    for (size_t cap = 0; cap <= need + 2; cap += (cap < 600 || cap + 600 > need) ? 1 : 97) {
        memset(buf, GUARD, need + 64);
        size_t got = sf_journal_render(j->fake, NULL, buf, cap);
        assert_int_equal(got, need);
        if (cap > 0) {
            size_t kept = cap - 1 < need ? cap - 1 : need;
            assert_memory_equal(buf, full, kept);
            assert_int_equal(buf[kept], '\0');
        }
        for (size_t k = cap; k < need + 64; k++)
            if ((unsigned char)buf[k] != GUARD)
                fail_msg("render wrote byte %zu with cap %zu", k, cap);
    }
    /* a filtered rendering too */
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_DELIVERED};
    size_t fneed = sf_journal_render(j->fake, &f, NULL, 0);
    assert_true(fneed > 0 && fneed < need);
    memset(buf, GUARD, need + 64);
    assert_int_equal(sf_journal_render(j->fake, &f, buf, fneed), fneed);
    assert_int_equal(buf[fneed - 1], '\0'); /* one short: the last newline gave way to NUL */
    assert_int_equal((unsigned char)buf[fneed], GUARD);
    free(buf);
    free(full);
    jfake_free(j);
}

static void test_write_reports_a_failed_stream_and_bad_arguments(void **state)
{
    (void)state;
    jfake *j = jfake_new(SF_TEST_SEED);
    sf_error err;
    sf_service_record svc;
    jok(sf_service_create(j->fake, NULL, NULL, &svc, &err), &err);
    FILE *ro = fopen("/dev/null", "r"); /* writes to a read-only stream fail */
    assert_non_null(ro);
    memset(&err, 0, sizeof err);
    assert_status(sf_journal_write(j->fake, NULL, ro, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    fclose(ro);
    assert_status(sf_journal_write(j->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_journal_write(NULL, NULL, stdout, &err), SF_ERR_INVALID_ARGUMENT);
    /* the journal itself is untouched */
    assert_int_equal(sf_journal_count(j->fake), 1);
    jfake_free(j);
}

int main(void)
{
#define T(fn) cmocka_unit_test_teardown(fn, journal_teardown)
    const struct CMUnitTest tests[] = {
        T(test_filters_select_by_stream_subscriber_and_kinds),
        T(test_ring_of_ten_keeps_the_last_ten_and_counts_the_rest),
        T(test_ring_larger_than_first_allocation_stays_continuous),
        T(test_capacity_zero_keeps_nothing),
        T(test_clear_empties_the_journal_and_sequence_keeps_counting),
        T(test_entry_json_with_small_buffers_returns_needed_length_and_never_overflows),
        T(test_render_with_small_buffers_returns_needed_length_and_never_overflows),
        T(test_write_reports_a_failed_stream_and_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
