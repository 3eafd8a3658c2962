/* SPDX-License-Identifier: MIT */
/* determinism_suite.c: see determinism_suite.h. */
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
#include "determinism_suite.h"

void tx_put(transcript *t, const void *p, size_t n)
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

void tx_str(transcript *t, const char *s) { tx_put(t, s, strlen(s) + 1); }

void tx_i64(transcript *t, int64_t v) { tx_put(t, &v, sizeof v); }

void tx_status(transcript *t, sf_status st) { tx_i64(t, (int64_t)st); }

void tx_error(transcript *t, sf_status st, const sf_error *err)
{
    tx_status(t, st);
    tx_i64(t, err->http_status);
    tx_i64(t, err->code);
    tx_str(t, err->message);
    tx_str(t, err->more_info);
}

void tx_info(transcript *t, const sf_page_info *info)
{
    tx_i64(t, info->page);
    tx_i64(t, info->page_size);
    tx_i64(t, (int64_t)info->count);
    tx_i64(t, info->has_next);
    tx_str(t, info->next_token);
    tx_i64(t, info->has_previous);
    tx_str(t, info->previous_token);
}

void tx_free(transcript *t)
{
    free(t->buf);
    memset(t, 0, sizeof *t);
}

sf_fake *tx_new_fake(uint64_t seed)
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

void tx_stream_walk(transcript *t, sf_fake *fake, const char *svc, int64_t size)
{
    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (int guard = 0; guard < 1000; guard++) {
        sf_page_params p = {
            .has_page_size = true, .page_size = size, .page_token = token[0] ? token : NULL};
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

/* What the phases of tx_scenario share. */
typedef struct tx_world {
    sf_service_record svc[3];
    sf_stream_record streams[40];
} tx_world;

static void tx_make_services_and_streams(sf_fake *fake, transcript *t, tx_world *w)
{
    sf_service_params sp[3] = {
        {0},
        {.friendly_name = "second",
         .webhook_url = "https://example.com/h",
         .acl_enabled = SF_BOOL_TRUE},
        {.friendly_name = "third",
         .has_reachability_debouncing_window = true,
         .reachability_debouncing_window = 7000},
    };
    for (int i = 0; i < 3; i++) {
        assert_status(sf_service_create(fake, NULL, &sp[i], &w->svc[i], NULL), SF_OK);
        tx_put(t, &w->svc[i], sizeof w->svc[i]);
        assert_status(sf_clock_advance(fake, 250, NULL), SF_OK);
    }
    for (int i = 0; i < 40; i++) {
        char name[32];
        snprintf(name, sizeof name, "room-%d", i);
        sf_stream_params p = {
            .unique_name = i % 2 ? name : NULL, .has_ttl = i % 3 == 0, .ttl = 2 + i};
        assert_status(sf_stream_create(fake, NULL, w->svc[i % 2].sid, &p, &w->streams[i], NULL),
                      SF_OK);
        tx_put(t, &w->streams[i], sizeof w->streams[i]);
        if (i % 7 == 0)
            assert_status(sf_clock_advance(fake, 333, NULL), SF_OK);
    }
}

static void tx_publish_and_fail(sf_fake *fake, transcript *t, const tx_world *w)
{
    for (int i = 0; i < 12; i++) {
        for (int k = 0; k < 3; k++) {
            char data[64];
            int n = snprintf(data, sizeof data, "{ \"i\" : %d ,\n \"k\": [ %d, true ] }", i, k);
            sf_publish_params pp = {.data = data, .data_len = (size_t)n};
            sf_message_record m;
            assert_status(
                sf_stream_publish(fake, NULL, w->svc[i % 2].sid, w->streams[i].sid, &pp, &m, NULL),
                SF_OK);
            tx_str(t, m.sid);
            tx_put(t, m.data, m.data_len + 1);
        }
    }
    /* failures are part of the transcript too */
    sf_error err;
    memset(&err, 0, sizeof err);
    sf_stream_params dup = {.unique_name = "room-1"};
    sf_stream_record scratch;
    sf_status st = sf_stream_create(fake, NULL, w->svc[1].sid, &dup, &scratch, &err);
    tx_error(t, st, &err);
    sf_publish_params bad = {.data = "[1]", .data_len = 3};
    sf_message_record m;
    st = sf_stream_publish(fake, NULL, w->svc[0].sid, w->streams[0].sid, &bad, &m, &err);
    tx_error(t, st, &err);
    st = sf_service_fetch(fake, NULL, "IS00000000000000000000000000000000", NULL, &err);
    tx_error(t, st, &err);
}

/* Time passes (some streams expire), then an update and removals. */
static void tx_expire_and_remove(sf_fake *fake, transcript *t, const tx_world *w)
{
    sf_ms next = 0;
    tx_i64(t, sf_next_event_time(fake, &next));
    tx_i64(t, next);
    tx_i64(t, (int64_t)sf_pending_events(fake));
    assert_status(sf_clock_advance(fake, 20000, NULL), SF_OK);
    tx_i64(t, (int64_t)sf_pending_events(fake));
    tx_i64(t, sf_clock_now(fake));

    sf_error err;
    memset(&err, 0, sizeof err);
    sf_stream_record scratch;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 100};
    sf_status st = sf_stream_update(fake, NULL, w->svc[1].sid, "room-39", &ttl, &scratch, &err);
    tx_error(t, st, &err);
    if (st == SF_OK)
        tx_put(t, &scratch, sizeof scratch);
    for (int i = 1; i < 40; i += 5) {
        st = sf_stream_remove(fake, NULL, w->svc[i % 2].sid, w->streams[i].sid, &err);
        tx_error(t, st, &err);
    }
}

static void tx_pages(sf_fake *fake, transcript *t, const tx_world *w)
{
    sf_page_params p1 = {.has_page_size = true, .page_size = 4, .has_page = true, .page = 1};
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, w->svc[0].sid, &p1, &page, NULL), SF_OK);
    tx_info(t, &page->info);
    tx_put(t, page->records, page->info.count * sizeof *page->records);
    sf_stream_page_free(fake, page);

    sf_service_page *spage = NULL;
    sf_page_params p2 = {.has_page_size = true, .page_size = 2};
    assert_status(sf_service_list(fake, NULL, &p2, &spage, NULL), SF_OK);
    tx_info(t, &spage->info);
    tx_put(t, spage->records, spage->info.count * sizeof *spage->records);
    sf_service_page_free(fake, spage);
}

/* A rename, a second account with a key and a service, and a stream's rate state. */
static void tx_accounts_and_rate(sf_fake *fake, transcript *t, const tx_world *w)
{
    sf_service_params up = {.friendly_name = "renamed"};
    sf_service_record svc_after;
    assert_status(sf_clock_advance(fake, 1, NULL), SF_OK);
    assert_status(sf_service_update(fake, NULL, w->svc[2].sid, &up, &svc_after, NULL), SF_OK);
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
    assert_status(sf_stream_rate_state(fake, NULL, w->svc[0].sid, w->streams[2].sid, &rs, NULL),
                  SF_OK);
    tx_i64(t, rs.tokens);
    tx_i64(t, rs.next_allowed_ms);
    tx_i64(t, sf_clock_now(fake));
}

/* Exercises every kind of call and records every answer. */
void tx_scenario(sf_fake *fake, transcript *t)
{
    tx_str(t, sf_fake_account_sid(fake));
    tx_str(t, sf_fake_auth_token(fake));
    tx_i64(t, sf_clock_now(fake));
    tx_world w;
    tx_make_services_and_streams(fake, t, &w);
    tx_publish_and_fail(fake, t, &w);
    tx_stream_walk(t, fake, w.svc[0].sid, 7);
    tx_stream_walk(t, fake, w.svc[1].sid, 3);
    tx_expire_and_remove(fake, t, &w);
    tx_pages(fake, t, &w);
    tx_accounts_and_rate(fake, t, &w);
}

void assert_same_transcript(const transcript *a, const transcript *b)
{
    assert_int_equal(a->entries, b->entries);
    assert_int_equal(a->len, b->len);
    for (size_t i = 0; i < a->len; i++)
        if (a->buf[i] != b->buf[i])
            fail_msg("transcripts differ at byte %zu of %zu", i, a->len);
}
