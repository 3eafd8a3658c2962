/* SPDX-License-Identifier: MIT */
/* test_determinism.c: the same seed and the same calls give the same bytes; another seed gives
 * other SIDs; reset repeats a new fake; SIDs of one kind do not depend on other kinds. Also the
 * fake's lifecycle and options, which the repeatability rests on. */
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
#include "syncfake.h"

/* ---------------------------------------------------------------------------------------- */
/* A transcript: every byte a scenario gets back from the fake                               */
/* ---------------------------------------------------------------------------------------- */

typedef struct transcript {
    unsigned char *buf;
    size_t len, cap;
    size_t entries;
} transcript;

static void tx_put(transcript *t, const void *p, size_t n)
{
    if (t->len + n > t->cap) {
        size_t cap = t->cap ? t->cap : 4096;
        while (cap < t->len + n)
            cap *= 2;
        t->buf = realloc(t->buf, cap);
        assert_non_null(t->buf);
        t->cap = cap;
    }
    memcpy(t->buf + t->len, p, n);
    t->len += n;
    t->entries++;
}

static void tx_str(transcript *t, const char *s) { tx_put(t, s, strlen(s) + 1); }

static void tx_i64(transcript *t, int64_t v) { tx_put(t, &v, sizeof v); }

static void tx_status(transcript *t, sf_status st) { tx_i64(t, (int64_t)st); }

static void tx_error(transcript *t, sf_status st, const sf_error *err)
{
    tx_status(t, st);
    tx_i64(t, err->http_status);
    tx_i64(t, err->code);
    tx_str(t, err->message);
    tx_str(t, err->more_info);
}

static void tx_info(transcript *t, const sf_page_info *info)
{
    tx_i64(t, info->page);
    tx_i64(t, info->page_size);
    tx_i64(t, (int64_t)info->count);
    tx_i64(t, info->has_next);
    tx_str(t, info->next_token);
    tx_i64(t, info->has_previous);
    tx_str(t, info->previous_token);
}

static void tx_free(transcript *t)
{
    free(t->buf);
    memset(t, 0, sizeof *t);
}

static sf_fake *new_fake(uint64_t seed)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = seed;
    sf_fake *fake = NULL;
    sf_error err;
    if (sf_fake_new(&opts, &fake, &err) != SF_OK)
        fail_msg("sf_fake_new: %s", err.message);
    return fake;
}

static void tx_stream_walk(transcript *t, sf_fake *fake, const char *svc, int64_t size)
{
    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (int guard = 0; guard < 1000; guard++) {
        sf_page_params p = {.has_page_size = true, .page_size = size,
                            .page_token = token[0] ? token : NULL};
        sf_stream_page *page = NULL;
        assert_status(sf_stream_list(fake, NULL, svc, &p, &page, NULL), SF_OK);
        tx_info(t, &page->info);
        tx_put(t, page->records, page->info.count * sizeof *page->records);
        bool more = page->info.has_next;
        memcpy(token, page->info.next_token, sizeof token);
        sf_stream_page_free(fake, page);
        if (!more)
            return;
    }
    fail_msg("walk did not end");
}

/* Exercises every kind of call and records every answer. */
static void scenario(sf_fake *fake, transcript *t)
{
    sf_error err;
    memset(&err, 0, sizeof err);
    tx_str(t, sf_fake_account_sid(fake));
    tx_str(t, sf_fake_auth_token(fake));
    tx_i64(t, sf_clock_now(fake));

    sf_service_record svc[3];
    sf_service_params sp[3] = {
        {0},
        {.friendly_name = "second", .webhook_url = "https://example.com/h",
         .acl_enabled = SF_BOOL_TRUE},
        {.friendly_name = "third", .has_reachability_debouncing_window = true,
         .reachability_debouncing_window = 7000},
    };
    for (int i = 0; i < 3; i++) {
        assert_status(sf_service_create(fake, NULL, &sp[i], &svc[i], NULL), SF_OK);
        tx_put(t, &svc[i], sizeof svc[i]);
        assert_status(sf_clock_advance(fake, 250, NULL), SF_OK);
    }

    sf_stream_record streams[40];
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "room-%d", i);
        sf_stream_params p = {.unique_name = i % 2 ? name : NULL, .has_ttl = i % 3 == 0,
                              .ttl = 2 + i};
        assert_status(sf_stream_create(fake, NULL, svc[i % 2].sid, &p, &streams[i], NULL), SF_OK);
        tx_put(t, &streams[i], sizeof streams[i]);
        if (i % 7 == 0)
            assert_status(sf_clock_advance(fake, 333, NULL), SF_OK);
    }

    for (int i = 0; i < 12; i++) {
        for (int k = 0; k < 3; k++) {
            char data[64];
            int n = snprintf(data, sizeof data, "{ \"i\" : %d ,\n \"k\": [ %d, true ] }", i, k);
            sf_publish_params pp = {.data = data, .data_len = (size_t)n};
            sf_message_record m;
            assert_status(sf_stream_publish(fake, NULL, svc[i % 2].sid, streams[i].sid, &pp, &m, NULL), SF_OK);
            tx_str(t, m.sid);
            tx_put(t, m.data, m.data_len + 1);
        }
    }

    /* failures are part of the transcript too */
    sf_stream_params dup = {.unique_name = "room-1"};
    sf_stream_record scratch;
    sf_status st = sf_stream_create(fake, NULL, svc[1].sid, &dup, &scratch, &err);
    tx_error(t, st, &err);
    sf_publish_params bad = {.data = "[1]", .data_len = 3};
    sf_message_record m;
    st = sf_stream_publish(fake, NULL, svc[0].sid, streams[0].sid, &bad, &m, &err);
    tx_error(t, st, &err);
    st = sf_service_fetch(fake, NULL, "IS00000000000000000000000000000000", NULL, &err);
    tx_error(t, st, &err);

    tx_stream_walk(t, fake, svc[0].sid, 7);
    tx_stream_walk(t, fake, svc[1].sid, 3);

    /* time passes: some streams expire */
    sf_ms next = 0;
    tx_i64(t, sf_next_event_time(fake, &next));
    tx_i64(t, next);
    tx_i64(t, (int64_t)sf_pending_events(fake));
    assert_status(sf_clock_advance(fake, 20000, NULL), SF_OK);
    tx_i64(t, (int64_t)sf_pending_events(fake));
    tx_i64(t, sf_clock_now(fake));

    sf_stream_params ttl = {.has_ttl = true, .ttl = 100};
    st = sf_stream_update(fake, NULL, svc[1].sid, "room-39", &ttl, &scratch, &err);
    tx_error(t, st, &err);
    if (st == SF_OK)
        tx_put(t, &scratch, sizeof scratch);
    for (int i = 1; i < 40; i += 5) {
        st = sf_stream_remove(fake, NULL, svc[i % 2].sid, streams[i].sid, &err);
        tx_error(t, st, &err);
    }
    sf_page_params p1 = {.has_page_size = true, .page_size = 4, .has_page = true, .page = 1};
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, svc[0].sid, &p1, &page, NULL), SF_OK);
    tx_info(t, &page->info);
    tx_put(t, page->records, page->info.count * sizeof *page->records);
    sf_stream_page_free(fake, page);

    sf_service_page *spage = NULL;
    sf_page_params p2 = {.has_page_size = true, .page_size = 2};
    assert_status(sf_service_list(fake, NULL, &p2, &spage, NULL), SF_OK);
    tx_info(t, &spage->info);
    tx_put(t, spage->records, spage->info.count * sizeof *spage->records);
    sf_service_page_free(fake, spage);

    sf_service_params up = {.friendly_name = "renamed"};
    sf_service_record svc_after;
    assert_status(sf_clock_advance(fake, 1, NULL), SF_OK);
    assert_status(sf_service_update(fake, NULL, svc[2].sid, &up, &svc_after, NULL), SF_OK);
    tx_put(t, &svc_after, sizeof svc_after);

    sf_account_record acc;
    assert_status(sf_account_create(fake, NULL, &acc, NULL), SF_OK);
    tx_put(t, &acc, sizeof acc);
    sf_api_key_record key;
    assert_status(sf_api_key_create(fake, acc.sid, NULL, &key, NULL), SF_OK);
    tx_put(t, &key, sizeof key);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fake, key.sid, key.secret, who, NULL), SF_OK);
    tx_str(t, who);
    sf_service_record b_svc;
    assert_status(sf_service_create(fake, acc.sid, NULL, &b_svc, NULL), SF_OK);
    tx_put(t, &b_svc, sizeof b_svc);

    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fake, NULL, svc[0].sid, streams[2].sid, &rs, NULL), SF_OK);
    tx_i64(t, rs.tokens);
    tx_i64(t, rs.next_allowed_ms);
    tx_i64(t, sf_clock_now(fake));
}

static void assert_same_transcript(const transcript *a, const transcript *b)
{
    assert_int_equal(a->entries, b->entries);
    assert_int_equal(a->len, b->len);
    for (size_t i = 0; i < a->len; i++)
        if (a->buf[i] != b->buf[i])
            fail_msg("transcripts differ at byte %zu of %zu", i, a->len);
}

/* ---------------------------------------------------------------------------------------- */
/* Same seed, same calls                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void same_seed_and_calls_give_byte_identical_answers(void **state)
{
    (void)state;
    sf_fake *a = new_fake(SF_TEST_SEED), *b = new_fake(SF_TEST_SEED);
    transcript ta = {0}, tb = {0};
    scenario(a, &ta);
    scenario(b, &tb);
    assert_true(ta.entries > 200);
    assert_true(ta.len > 40 * sizeof(sf_stream_record));
    assert_same_transcript(&ta, &tb);
    tx_free(&ta);
    tx_free(&tb);
    sf_fake_free(a);
    sf_fake_free(b);
}

static void records_are_fully_initialised_so_memcmp_is_meaningful(void **state)
{
    (void)state;
    /* Different garbage in the caller's buffers must not show through. */
    sf_fake *a = new_fake(7), *b = new_fake(7);
    sf_service_record sa, sb;
    memset(&sa, 0x11, sizeof sa);
    memset(&sb, 0xee, sizeof sb);
    assert_status(sf_service_create(a, NULL, NULL, &sa, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &sb, NULL), SF_OK);
    assert_memory_equal(&sa, &sb, sizeof sa);
    sf_stream_record ra, rb;
    memset(&ra, 0x11, sizeof ra);
    memset(&rb, 0xee, sizeof rb);
    sf_stream_params p = {.unique_name = "n", .has_ttl = true, .ttl = 5};
    assert_status(sf_stream_create(a, NULL, sa.sid, &p, &ra, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, &p, &rb, NULL), SF_OK);
    assert_memory_equal(&ra, &rb, sizeof ra);
    memset(&ra, 0x22, sizeof ra);
    memset(&rb, 0xdd, sizeof rb);
    assert_status(sf_stream_fetch(a, NULL, sa.sid, "n", &ra, NULL), SF_OK);
    assert_status(sf_stream_fetch(b, NULL, sb.sid, "n", &rb, NULL), SF_OK);
    assert_memory_equal(&ra, &rb, sizeof ra);
    sf_fake_free(a);
    sf_fake_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Another seed                                                                              */
/* ---------------------------------------------------------------------------------------- */

typedef struct firsts {
    char account[SF_SID_SIZE];
    char token[SF_SECRET_CAP];
    char service[SF_SID_SIZE];
    char stream[SF_SID_SIZE];
    char message[SF_SID_SIZE];
    char minted_account[SF_SID_SIZE];
    char key[SF_SID_SIZE];
    char key_secret[SF_SECRET_CAP];
    char page_token[SF_PAGE_TOKEN_SIZE];
} firsts;

static void first_of_each(uint64_t seed, firsts *f)
{
    memset(f, 0, sizeof *f);
    sf_fake *fake = new_fake(seed);
    strcpy(f->account, sf_fake_account_sid(fake));
    strcpy(f->token, sf_fake_auth_token(fake));
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    strcpy(f->service, svc.sid);
    sf_stream_record s;
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &s, NULL), SF_OK);
    strcpy(f->stream, s.sid);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, NULL, NULL), SF_OK);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record m;
    assert_status(sf_stream_publish(fake, NULL, svc.sid, s.sid, &pp, &m, NULL), SF_OK);
    strcpy(f->message, m.sid);
    sf_account_record acc;
    assert_status(sf_account_create(fake, NULL, &acc, NULL), SF_OK);
    strcpy(f->minted_account, acc.sid);
    sf_api_key_record k;
    assert_status(sf_api_key_create(fake, NULL, NULL, &k, NULL), SF_OK);
    strcpy(f->key, k.sid);
    strcpy(f->key_secret, k.secret);
    sf_stream_page *page = NULL;
    sf_page_params one = {.has_page_size = true, .page_size = 1};
    assert_status(sf_stream_list(fake, NULL, svc.sid, &one, &page, NULL), SF_OK);
    assert_true(page->info.has_next);
    strcpy(f->page_token, page->info.next_token);
    sf_stream_page_free(fake, page);
    sf_fake_free(fake);
}

static void another_seed_gives_other_sids_of_every_kind(void **state)
{
    (void)state;
    firsts a, b, a2;
    first_of_each(SF_TEST_SEED, &a);
    first_of_each(SF_TEST_SEED + 1, &b);
    first_of_each(SF_TEST_SEED, &a2);
    assert_memory_equal(&a, &a2, sizeof a);
    assert_string_not_equal(a.account, b.account);
    assert_string_not_equal(a.token, b.token);
    assert_string_not_equal(a.service, b.service);
    assert_string_not_equal(a.stream, b.stream);
    assert_string_not_equal(a.message, b.message);
    assert_string_not_equal(a.minted_account, b.minted_account);
    assert_string_not_equal(a.key, b.key);
    assert_string_not_equal(a.key_secret, b.key_secret);
    assert_string_not_equal(a.page_token, b.page_token);
    /* shapes hold for both */
    const firsts *fs[] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        assert_true(sf_sid_is(fs[i]->account, "AC"));
        assert_true(sf_sid_is(fs[i]->service, "IS"));
        assert_true(sf_sid_is(fs[i]->stream, "TO"));
        assert_true(sf_sid_is(fs[i]->message, "TZ"));
        assert_true(sf_sid_is(fs[i]->key, "SK"));
    }
}

static void many_seeds_give_pairwise_different_sids(void **state)
{
    (void)state;
    enum { N = 24 };
    static const uint64_t seeds[N] = {0,  1,  2,  3,  4,  5,  6,  7,
                                      8,  9,  10, 41, 42, 43, 255, 256,
                                      1u << 31, UINT64_C(1) << 32, UINT64_C(1) << 63,
                                      UINT64_MAX, UINT64_MAX - 1, 0x9e3779b97f4a7c15u,
                                      12345678901234567u, 1000000007u};
    static char services[N][SF_SID_SIZE], streams[N][SF_SID_SIZE], accounts[N][SF_SID_SIZE];
    for (int i = 0; i < N; i++) {
        sf_fake *fake = new_fake(seeds[i]);
        strcpy(accounts[i], sf_fake_account_sid(fake));
        sf_service_record svc;
        assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
        strcpy(services[i], svc.sid);
        sf_stream_record s;
        assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &s, NULL), SF_OK);
        strcpy(streams[i], s.sid);
        sf_fake_free(fake);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(accounts[i], accounts[j]);
            assert_string_not_equal(services[i], services[j]);
            assert_string_not_equal(streams[i], streams[j]);
            /* the 32 hex digits differ too, not just the prefix */
            assert_string_not_equal(services[i] + 2, streams[j] + 2);
        }
}

/* ---------------------------------------------------------------------------------------- */
/* Reset                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void reset_repeats_a_new_fake_byte_for_byte(void **state)
{
    (void)state;
    sf_fake *used = new_fake(SF_TEST_SEED), *fresh = new_fake(SF_TEST_SEED);
    transcript first = {0}, again = {0}, ref = {0};
    scenario(used, &first);
    /* extra state that reset must forget */
    sf_account_params ap = {.sid = "AC0123456789abcdef0123456789abcdef", .auth_token = "x"};
    assert_status(sf_account_create(used, &ap, NULL, NULL), SF_OK);
    sf_api_key_params kp = {.sid = "SK0123456789abcdef0123456789abcdef", .secret = "y"};
    assert_status(sf_api_key_create(used, NULL, &kp, NULL, NULL), SF_OK);
    assert_status(sf_clock_advance(used, 123456789, NULL), SF_OK);

    sf_error err;
    memset(&err, 0x33, sizeof err);
    assert_status(sf_fake_reset(used, &err), SF_OK);
    assert_status(err.status, SF_OK);

    /* fresh state: clock, services, accounts, keys, events */
    assert_int_equal(sf_clock_now(used), SF_DEFAULT_EPOCH_MS);
    assert_int_equal(sf_pending_events(used), 0);
    assert_false(sf_next_event_time(used, NULL));
    assert_string_equal(sf_fake_account_sid(used), sf_fake_account_sid(fresh));
    assert_string_equal(sf_fake_auth_token(used), sf_fake_auth_token(fresh));
    assert_string_equal(sf_fake_options(used)->account_sid, sf_fake_account_sid(used));
    assert_status(sf_authenticate(used, ap.sid, "x", NULL, NULL), SF_ERR_AUTHENTICATE);
    assert_status(sf_authenticate(used, kp.sid, "y", NULL, NULL), SF_ERR_AUTHENTICATE);
    sf_service_page *page = NULL;
    assert_status(sf_service_list(used, NULL, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_service_page_free(used, page);

    scenario(used, &again);
    scenario(fresh, &ref);
    assert_same_transcript(&again, &ref);
    assert_same_transcript(&first, &ref);

    /* and a second reset does it again */
    assert_status(sf_fake_reset(used, NULL), SF_OK);
    tx_free(&again);
    scenario(used, &again);
    assert_same_transcript(&again, &ref);

    tx_free(&first);
    tx_free(&again);
    tx_free(&ref);
    sf_fake_free(used);
    sf_fake_free(fresh);
}

static void reset_keeps_the_options(void **state)
{
    (void)state;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 99;
    opts.manual_start_ms = 1000;
    opts.account_sid = "ACabcdefabcdefabcdefabcdefabcdefab";
    opts.auth_token = "tok";
    opts.base_url = "http://127.0.0.1:1234";
    opts.limits.page_size_default = 2;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    assert_status(sf_clock_advance(fake, 5000, NULL), SF_OK);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    const sf_options *o = sf_fake_options(fake);
    assert_int_equal(o->seed, 99);
    assert_int_equal(o->manual_start_ms, 1000);
    assert_string_equal(o->account_sid, "ACabcdefabcdefabcdefabcdefabcdefab");
    assert_string_equal(o->auth_token, "tok");
    assert_string_equal(o->base_url, "http://127.0.0.1:1234");
    assert_int_equal(o->limits.page_size_default, 2);
    assert_int_equal(sf_clock_now(fake), 1000);
    assert_string_equal(sf_fake_account_sid(fake), "ACabcdefabcdefabcdefabcdefabcdefab");
    assert_status(sf_authenticate(fake, "ACabcdefabcdefabcdefabcdefabcdefab", "tok", NULL, NULL), SF_OK);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_int_equal(svc.date_created_ms, 1000);
    assert_string_equal(svc.account_sid, "ACabcdefabcdefabcdefabcdefabcdefab");
    sf_fake_free(fake);

    sf_error err;
    assert_status(sf_fake_reset(NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
}

static void reset_releases_everything_the_fake_held(void **state)
{
    (void)state;
    sf_test_alloc counts = {0};
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.allocator = sf_test_allocator(&counts);
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    long baseline = counts.live;
    transcript t = {0};
    scenario(fake, &t);
    tx_free(&t);
    assert_true(counts.live > baseline);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    /* what a fresh fake holds, plus at most scratch kept for reuse */
    assert_true(counts.live <= baseline + 4);
    sf_fake_free(fake);
    assert_int_equal(counts.live, 0);
    assert_true(counts.calls > 0);
}

/* ---------------------------------------------------------------------------------------- */
/* Per-kind counters                                                                         */
/* ---------------------------------------------------------------------------------------- */

static void stream_sids_do_not_depend_on_messages_published_in_between(void **state)
{
    (void)state;
    sf_fake *busy = new_fake(SF_TEST_SEED), *quiet = new_fake(SF_TEST_SEED);
    sf_service_record sb, sq;
    assert_status(sf_service_create(busy, NULL, NULL, &sb, NULL), SF_OK);
    assert_status(sf_service_create(quiet, NULL, NULL, &sq, NULL), SF_OK);
    assert_string_equal(sb.sid, sq.sid);
    for (int round = 0; round < 5; round++) {
        sf_stream_record b, q;
        assert_status(sf_stream_create(busy, NULL, sb.sid, NULL, &b, NULL), SF_OK);
        assert_status(sf_stream_create(quiet, NULL, sq.sid, NULL, &q, NULL), SF_OK);
        assert_string_equal(b.sid, q.sid);
        /* only the busy fake publishes (some of it rejected) */
        for (int i = 0; i < 10 + round * 7; i++) {
            sf_publish_params pp = {.data = i % 4 ? "{\"n\":1}" : "nope",
                                    .data_len = i % 4 ? 7 : 4};
            sf_message_record m;
            sf_status st = sf_stream_publish(busy, NULL, sb.sid, b.sid, &pp, &m, NULL);
            assert_int_equal(st, i % 4 ? SF_OK : SF_ERR_DATA_INVALID);
        }
    }
    /* services and accounts too */
    sf_service_record s2b, s2q;
    assert_status(sf_service_create(busy, NULL, NULL, &s2b, NULL), SF_OK);
    assert_status(sf_service_create(quiet, NULL, NULL, &s2q, NULL), SF_OK);
    assert_string_equal(s2b.sid, s2q.sid);
    sf_account_record ab, aq;
    assert_status(sf_account_create(busy, NULL, &ab, NULL), SF_OK);
    assert_status(sf_account_create(quiet, NULL, &aq, NULL), SF_OK);
    assert_string_equal(ab.sid, aq.sid);
    sf_fake_free(busy);
    sf_fake_free(quiet);
}

static void message_sids_do_not_depend_on_streams_or_services_created_in_between(void **state)
{
    (void)state;
    sf_fake *busy = new_fake(SF_TEST_SEED), *quiet = new_fake(SF_TEST_SEED);
    sf_service_record sb, sq;
    assert_status(sf_service_create(busy, NULL, NULL, &sb, NULL), SF_OK);
    assert_status(sf_service_create(quiet, NULL, NULL, &sq, NULL), SF_OK);
    sf_stream_record b, q;
    assert_status(sf_stream_create(busy, NULL, sb.sid, NULL, &b, NULL), SF_OK);
    assert_status(sf_stream_create(quiet, NULL, sq.sid, NULL, &q, NULL), SF_OK);
    for (int i = 0; i < 20; i++) {
        sf_publish_params pp = {.data = "{}", .data_len = 2};
        sf_message_record mb, mq;
        assert_status(sf_stream_publish(busy, NULL, sb.sid, b.sid, &pp, &mb, NULL), SF_OK);
        assert_status(sf_stream_publish(quiet, NULL, sq.sid, q.sid, &pp, &mq, NULL), SF_OK);
        assert_string_equal(mb.sid, mq.sid);
        /* the busy fake also creates streams, services, accounts and keys */
        assert_status(sf_stream_create(busy, NULL, sb.sid, NULL, NULL, NULL), SF_OK);
        if (i % 3 == 0)
            assert_status(sf_service_create(busy, NULL, NULL, NULL, NULL), SF_OK);
        if (i % 5 == 0) {
            assert_status(sf_account_create(busy, NULL, NULL, NULL), SF_OK);
            assert_status(sf_api_key_create(busy, NULL, NULL, NULL, NULL), SF_OK);
        }
    }
    sf_fake_free(busy);
    sf_fake_free(quiet);
}

static void a_publish_without_out_still_spends_one_message_sid(void **state)
{
    (void)state;
    sf_fake *a = new_fake(SF_TEST_SEED), *b = new_fake(SF_TEST_SEED);
    sf_service_record sa, sb;
    assert_status(sf_service_create(a, NULL, NULL, &sa, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &sb, NULL), SF_OK);
    sf_stream_record ra, rb;
    assert_status(sf_stream_create(a, NULL, sa.sid, NULL, &ra, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, NULL, &rb, NULL), SF_OK);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record ma, mb;
    assert_status(sf_stream_publish(a, NULL, sa.sid, ra.sid, &pp, NULL, NULL), SF_OK);
    assert_status(sf_stream_publish(b, NULL, sb.sid, rb.sid, &pp, &mb, NULL), SF_OK);
    assert_status(sf_stream_publish(a, NULL, sa.sid, ra.sid, &pp, &ma, NULL), SF_OK);
    assert_string_not_equal(ma.sid, mb.sid);
    assert_status(sf_stream_publish(b, NULL, sb.sid, rb.sid, &pp, &mb, NULL), SF_OK);
    assert_string_equal(ma.sid, mb.sid);
    sf_fake_free(a);
    sf_fake_free(b);
}

static void rejected_calls_spend_no_sid(void **state)
{
    (void)state;
    sf_fake *a = new_fake(SF_TEST_SEED), *b = new_fake(SF_TEST_SEED);
    sf_service_record sa, sb;
    assert_status(sf_service_create(a, NULL, NULL, &sa, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &sb, NULL), SF_OK);
    sf_stream_record ra, rb;
    sf_stream_params named = {.unique_name = "x"};
    assert_status(sf_stream_create(a, NULL, sa.sid, &named, &ra, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, &named, &rb, NULL), SF_OK);
    /* only a sees rejected calls */
    sf_stream_params bad_ttl = {.has_ttl = true, .ttl = -5};
    assert_int_not_equal(sf_stream_create(a, NULL, sa.sid, &bad_ttl, NULL, NULL), SF_OK);
    assert_int_not_equal(sf_stream_create(a, NULL, sa.sid, &named, NULL, NULL), SF_OK);
    sf_service_params bad_svc = {.friendly_name = ""};
    assert_int_not_equal(sf_service_create(a, NULL, &bad_svc, NULL, NULL), SF_OK);
    sf_publish_params bad_data = {.data = "{", .data_len = 1};
    assert_int_not_equal(sf_stream_publish(a, NULL, sa.sid, "x", &bad_data, NULL, NULL), SF_OK);
    sf_publish_params missing = {0};
    assert_int_not_equal(sf_stream_publish(a, NULL, sa.sid, "x", &missing, NULL, NULL), SF_OK);

    sf_stream_record s1, s2;
    assert_status(sf_stream_create(a, NULL, sa.sid, NULL, &s1, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, NULL, &s2, NULL), SF_OK);
    assert_string_equal(s1.sid, s2.sid);
    sf_service_record v1, v2;
    assert_status(sf_service_create(a, NULL, NULL, &v1, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &v2, NULL), SF_OK);
    assert_string_equal(v1.sid, v2.sid);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record m1, m2;
    assert_status(sf_stream_publish(a, NULL, sa.sid, "x", &pp, &m1, NULL), SF_OK);
    assert_status(sf_stream_publish(b, NULL, sb.sid, "x", &pp, &m2, NULL), SF_OK);
    assert_string_equal(m1.sid, m2.sid);
    sf_fake_free(a);
    sf_fake_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle and options                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void a_fake_without_options_uses_the_documented_defaults(void **state)
{
    (void)state;
    sf_fake *fake = NULL;
    sf_error err;
    assert_status(sf_fake_new(NULL, &fake, &err), SF_OK);
    assert_status(err.status, SF_OK);
    const sf_options *o = sf_fake_options(fake);
    assert_int_equal(o->seed, 1);
    assert_int_equal(o->clock, SF_CLOCK_MANUAL);
    assert_int_equal(o->manual_start_ms, SF_DEFAULT_EPOCH_MS);
    assert_string_equal(o->base_url, SF_DEFAULT_BASE_URL);
    assert_int_equal(o->limits.max_data_bytes, 4096);
    assert_int_equal(o->limits.publish_rate_per_s, 30);
    assert_int_equal(o->limits.publish_burst, 300);
    assert_int_equal(o->limits.unique_name_max, 320);
    assert_int_equal(o->limits.ttl_max_s, 31536000);
    assert_int_equal(o->limits.page_size_default, 50);
    assert_int_equal(o->limits.page_size_max, 100);
    assert_int_equal(o->limits.friendly_name_max, 255);
    assert_int_equal(o->limits.webhook_url_max, 512);
    assert_int_equal(o->limits.debouncing_window_min_ms, 1000);
    assert_int_equal(o->limits.debouncing_window_max_ms, 30000);
    assert_non_null(o->allocator.malloc_fn);
    assert_non_null(o->allocator.realloc_fn);
    assert_non_null(o->allocator.free_fn);
    assert_int_equal(sf_clock_now(fake), SF_DEFAULT_EPOCH_MS);

    /* the same as seed 1 given explicitly */
    sf_fake *one = new_fake(1);
    assert_string_equal(sf_fake_account_sid(fake), sf_fake_account_sid(one));
    assert_string_equal(sf_fake_auth_token(fake), sf_fake_auth_token(one));
    sf_fake_free(one);
    sf_fake_free(fake);
    sf_fake_free(NULL);
}

static void options_init_fills_the_defaults(void **state)
{
    (void)state;
    sf_options opts;
    memset(&opts, 0x5c, sizeof opts);
    sf_options_init(&opts);
    assert_int_equal(opts.seed, 1);
    assert_int_equal(opts.clock, SF_CLOCK_MANUAL);
    assert_int_equal(opts.manual_start_ms, SF_DEFAULT_EPOCH_MS);
    assert_null(opts.clock_fn);
    assert_null(opts.clock_user);
    assert_null(opts.allocator.malloc_fn);
    assert_null(opts.account_sid);
    assert_null(opts.auth_token);
    assert_null(opts.base_url);
    assert_int_equal(opts.journal_capacity, 65536);
    sf_limits l;
    sf_limits_init(&l);
    assert_memory_equal(&l, &opts.limits, sizeof l);
    sf_options_init(NULL);
    sf_limits_init(NULL);
}

static void expect_bad_options(const sf_options *opts)
{
    sf_fake *fake = (sf_fake *)(uintptr_t)1;
    sf_error err;
    assert_status(sf_fake_new(opts, &fake, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(fake);
    assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
    assert_int_equal(err.code, 20001);
    assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
}

static void *plain_malloc(size_t n, void *u)
{
    (void)u;
    return malloc(n);
}

static sf_ms fixed_clock(void *user)
{
    (void)user;
    return 5;
}

static void invalid_options_are_refused(void **state)
{
    (void)state;
    sf_options o;
    char long_url[SF_BASE_URL_CAP + 10];
    memcpy(long_url, "http://", 7);
    memset(long_url + 7, 'h', sizeof long_url - 8);
    long_url[sizeof long_url - 1] = '\0';

#define BAD(stmt)                                                                              \
    do {                                                                                       \
        sf_options_init(&o);                                                                   \
        stmt;                                                                                  \
        expect_bad_options(&o);                                                                \
    } while (0)
    BAD(o.allocator.malloc_fn = plain_malloc);
    BAD(o.clock = SF_CLOCK_CALLBACK);
    BAD(o.clock = (sf_clock_kind)7);
    BAD(o.base_url = "ftp://example.com");
    BAD(o.base_url = "example.com");
    BAD(o.base_url = long_url);
    BAD(o.base_url = "http://example.com/"); /* no trailing slash */
    BAD(o.base_url = "http://exa mple.com");
    BAD(o.base_url = "http://example.com/\"q");
    BAD(o.base_url = "http://example.com/\\q");
    BAD(o.journal_capacity = ((size_t)1 << 26) + 1);
    BAD(o.limits.max_data_bytes = 1);
    BAD(o.limits.max_data_bytes = SF_DATA_CAP + 1);
    BAD(o.limits.publish_burst = 0);
    BAD(o.limits.publish_burst = 1000001);
    BAD(o.limits.publish_rate_per_s = 1000001);
    BAD(o.limits.unique_name_max = 0);
    BAD(o.limits.unique_name_max = SF_UNIQUE_NAME_CAP + 1);
    BAD(o.limits.ttl_max_s = -1);
    BAD(o.limits.ttl_max_s = INT64_C(100) * 365 * 86400 + 1);
    BAD(o.limits.page_size_max = 0);
    BAD(o.limits.page_size_max = SF_PAGE_SIZE_CAP + 1);
    BAD(o.limits.page_size_default = 0);
    BAD(o.limits.page_size_default = 101);
    BAD(o.limits.friendly_name_max = 0);
    BAD(o.limits.friendly_name_max = SF_FRIENDLY_NAME_CAP + 1);
    BAD(o.limits.webhook_url_max = 0);
    BAD(o.limits.webhook_url_max = SF_WEBHOOK_URL_CAP + 1);
    BAD(o.limits.debouncing_window_min_ms = -1);
    BAD(o.limits.debouncing_window_min_ms = 40000);
#undef BAD

    sf_error err;
    assert_status(sf_fake_new(NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);

    /* the ceilings themselves are allowed, as is a callback clock with its function */
    sf_options_init(&o);
    o.limits.max_data_bytes = SF_DATA_CAP;
    o.limits.unique_name_max = SF_UNIQUE_NAME_CAP;
    o.limits.page_size_max = SF_PAGE_SIZE_CAP;
    o.limits.page_size_default = SF_PAGE_SIZE_CAP;
    o.limits.friendly_name_max = SF_FRIENDLY_NAME_CAP;
    o.limits.webhook_url_max = SF_WEBHOOK_URL_CAP;
    o.limits.publish_rate_per_s = 0;
    o.clock = SF_CLOCK_CALLBACK;
    o.clock_fn = fixed_clock;
    o.base_url = "https://example.com";
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&o, &fake, &err), SF_OK);
    assert_string_equal(sf_fake_options(fake)->base_url, "https://example.com");
    assert_int_equal(sf_fake_options(fake)->limits.page_size_max, SF_PAGE_SIZE_CAP);
    sf_fake_free(fake);
}

static void the_fake_allocates_only_through_the_given_allocator(void **state)
{
    (void)state;
    sf_test_alloc counts = {0};
    sf_options opts;
    sf_options_init(&opts);
    opts.allocator = sf_test_allocator(&counts);
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    assert_true(counts.live > 0);
    transcript t = {0};
    scenario(fake, &t);
    tx_free(&t);
    sf_fake_free(fake);
    assert_int_equal(counts.live, 0);
    assert_int_equal(counts.failures, 0);
}

/* Each reset starts a new generation, so ids of an older one can be told apart. */
static void test_reset_counts_generations(void **state)
{
    (void)state;
    sf_fake *fake;
    assert_status(sf_fake_new(NULL, &fake, NULL), SF_OK);
    assert_int_equal(sf_fake_generation(fake), 0);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    assert_int_equal(sf_fake_generation(fake), 2);
    assert_int_equal(sf_fake_generation(NULL), 0);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_counts_generations),
        cmocka_unit_test(same_seed_and_calls_give_byte_identical_answers),
        cmocka_unit_test(records_are_fully_initialised_so_memcmp_is_meaningful),
        cmocka_unit_test(another_seed_gives_other_sids_of_every_kind),
        cmocka_unit_test(many_seeds_give_pairwise_different_sids),
        cmocka_unit_test(reset_repeats_a_new_fake_byte_for_byte),
        cmocka_unit_test(reset_keeps_the_options),
        cmocka_unit_test(reset_releases_everything_the_fake_held),
        cmocka_unit_test(stream_sids_do_not_depend_on_messages_published_in_between),
        cmocka_unit_test(message_sids_do_not_depend_on_streams_or_services_created_in_between),
        cmocka_unit_test(a_publish_without_out_still_spends_one_message_sid),
        cmocka_unit_test(rejected_calls_spend_no_sid),
        cmocka_unit_test(a_fake_without_options_uses_the_documented_defaults),
        cmocka_unit_test(options_init_fills_the_defaults),
        cmocka_unit_test(invalid_options_are_refused),
        cmocka_unit_test(the_fake_allocates_only_through_the_given_allocator),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
