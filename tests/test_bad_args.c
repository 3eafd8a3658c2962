/* SPDX-License-Identifier: MIT */
/* test_bad_args.c: hostile and careless callers. NULL handles, NULL outputs, NULL ids,
 * oversized strings, out-of-range enums and options, malformed SIDs, tokens and credentials.
 * Every rejected call must answer with its documented status and Twilio body, must not crash
 * or read past what it was given, and must leave the fake as it was (checked on a fingerprint
 * of the state and, where SIDs could be spent, against a twin fake with the same history). */
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

#define KB 1024

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Fakes and buffers a test holds outside the fixture; the teardown releases what a failed
 * assertion left behind. */
#define HELD_MAX 16
static sf_fake *held_fakes[HELD_MAX];
static void *held_blocks[HELD_MAX];

static void hold_in(void **list, void *from, void *to)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (list[i] == from) {
            list[i] = to;
            return;
        }
    fail_msg("too many held objects");
}

static sf_fake *held_fake(sf_fake *fake)
{
    hold_in((void **)held_fakes, NULL, fake);
    return fake;
}

static void fake_release(sf_fake *fake)
{
    hold_in((void **)held_fakes, fake, NULL);
    sf_fake_free(fake);
}

/* A buffer of `len` copies of `c`, NUL-terminated. */
static char *filled(size_t len, char c)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, c, len);
    s[len] = '\0';
    hold_in(held_blocks, NULL, s);
    return s;
}

static void block_release(void *p)
{
    hold_in(held_blocks, p, NULL);
    free(p);
}

static void release_held(void)
{
    for (int i = 0; i < HELD_MAX; i++) {
        if (held_fakes[i])
            sf_fake_free(held_fakes[i]);
        free(held_blocks[i]);
        held_fakes[i] = NULL;
        held_blocks[i] = NULL;
    }
}

/* A fake like the fixture's (same seed, same first service), on the C library's allocator. */
static sf_fake *twin_new(const char *service_sid)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    held_fake(fake);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_string_equal(svc.sid, service_sid);
    return fake;
}

/* err holds `status` with its Twilio (http, code) body. */
static void assert_error(const sf_error *err, sf_status status, int http, int code)
{
    assert_int_equal(err->status, status);
    sf_assert_twilio_error(err, http, code);
    assert_non_null(memchr(err->message, '\0', sizeof err->message));
}

static void assert_invalid_argument(const sf_error *err, const char *detail)
{
    assert_error(err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    char want[256];
    snprintf(want, sizeof want, "Invalid parameter: %s", detail);
    assert_string_equal(err->message, want);
}

/* What a caller can observe of the fake and of the fixture's service. */
typedef struct fingerprint {
    sf_ms now;
    size_t pending;
    size_t nservices;
    sf_service_record service;
    size_t nstreams;
    sf_stream_record streams[8];
    sf_rate_state rates[8];
} fingerprint;

static void fingerprint_take(sf_fake *fake, const char *service_sid, fingerprint *fp)
{
    memset(fp, 0, sizeof *fp);
    fp->now = sf_clock_now(fake);
    fp->pending = sf_pending_events(fake);
    sf_page_params all = {.has_page_size = true, .page_size = 100};
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fake, NULL, &all, &spage, NULL), SF_OK);
    fp->nservices = spage->info.count;
    sf_service_page_free(fake, spage);
    assert_status(sf_service_fetch(fake, NULL, service_sid, &fp->service, NULL), SF_OK);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, service_sid, &all, &page, NULL), SF_OK);
    assert_true(page->info.count <= 8);
    fp->nstreams = page->info.count;
    memcpy(fp->streams, page->records, page->info.count * sizeof *page->records);
    sf_stream_page_free(fake, page);
    for (size_t i = 0; i < fp->nstreams; i++)
        assert_status(sf_stream_rate_state(fake, NULL, service_sid, fp->streams[i].sid,
                                              &fp->rates[i], NULL), SF_OK);
}

static void fingerprint_assert_same(sf_fake *fake, const char *service_sid,
                                    const fingerprint *want)
{
    static fingerprint got;
    fingerprint_take(fake, service_sid, &got);
    assert_int_equal(got.now, want->now);
    assert_int_equal(got.pending, want->pending);
    assert_int_equal(got.nservices, want->nservices);
    assert_memory_equal(&got.service, &want->service, sizeof want->service);
    assert_int_equal(got.nstreams, want->nstreams);
    for (size_t i = 0; i < want->nstreams; i++) {
        assert_memory_equal(&got.streams[i], &want->streams[i], sizeof want->streams[i]);
        assert_int_equal(got.rates[i].tokens, want->rates[i].tokens);
        assert_int_equal(got.rates[i].next_allowed_ms, want->rates[i].next_allowed_ms);
    }
}

/* Mints one SID of every kind (and a secret) on both fakes: they must agree. */
static void assert_same_next_sids(sf_fake *fake, sf_fake *twin, const char *service_sid)
{
    sf_stream_record s1, s2;
    assert_status(sf_stream_create(fake, NULL, service_sid, NULL, &s1, NULL), SF_OK);
    assert_status(sf_stream_create(twin, NULL, service_sid, NULL, &s2, NULL), SF_OK);
    assert_memory_equal(&s1, &s2, sizeof s1);
    sf_service_record v1, v2;
    assert_status(sf_service_create(fake, NULL, NULL, &v1, NULL), SF_OK);
    assert_status(sf_service_create(twin, NULL, NULL, &v2, NULL), SF_OK);
    assert_memory_equal(&v1, &v2, sizeof v1);
    sf_account_record a1, a2;
    assert_status(sf_account_create(fake, NULL, &a1, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, &a2, NULL), SF_OK);
    assert_memory_equal(&a1, &a2, sizeof a1);
    sf_api_key_record k1, k2;
    assert_status(sf_api_key_create(fake, NULL, NULL, &k1, NULL), SF_OK);
    assert_status(sf_api_key_create(twin, NULL, NULL, &k2, NULL), SF_OK);
    assert_memory_equal(&k1, &k2, sizeof k1);
    sf_publish_params pub = {.data = "{}", .data_len = 2};
    sf_message_record m1, m2;
    assert_status(sf_stream_publish(fake, NULL, service_sid, s1.sid, &pub, &m1, NULL), SF_OK);
    assert_status(sf_stream_publish(twin, NULL, service_sid, s2.sid, &pub, &m2, NULL), SF_OK);
    assert_string_equal(m1.sid, m2.sid);
}

static const sf_publish_params ok_data = {.data = "{\"k\":1}", .data_len = 7};

static void ignore_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    (void)user;
}

/* ---------------------------------------------------------------------------------------- */
/* NULL fake                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static void test_null_fake_is_rejected_by_every_endpoint(void **state)
{
    sf_fixture *fx = *state;
    const char *svc = fx->service_sid;
    sf_error err;
    sf_service_record srec;
    sf_stream_record rec;
    sf_service_page *spage = NULL;
    sf_stream_page *page = NULL;
    sf_account_record acct;
    sf_api_key_record key;
    sf_message_record msg;
    sf_rate_state rs;
    char who[SF_SID_SIZE];
    sf_stream_params ttl = {.has_ttl = true, .ttl = 5};

#define REJECTS_NULL_FAKE(call)                                                                \
    do {                                                                                       \
        memset(&err, 0, sizeof err);                                                           \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                       \
        assert_invalid_argument(&err, "fake is NULL");                                         \
    } while (0)

    REJECTS_NULL_FAKE(sf_fake_reset(NULL, &err));
    REJECTS_NULL_FAKE(sf_clock_advance(NULL, 1, &err));
    REJECTS_NULL_FAKE(sf_clock_set(NULL, SF_DEFAULT_EPOCH_MS, &err));
    REJECTS_NULL_FAKE(sf_account_create(NULL, NULL, &acct, &err));
    REJECTS_NULL_FAKE(sf_api_key_create(NULL, NULL, NULL, &key, &err));
    REJECTS_NULL_FAKE(sf_authenticate(NULL, sf_fake_account_sid(fx->fake),
                                      sf_fake_auth_token(fx->fake), who, &err));
    REJECTS_NULL_FAKE(sf_service_create(NULL, NULL, NULL, &srec, &err));
    REJECTS_NULL_FAKE(sf_service_fetch(NULL, NULL, svc, &srec, &err));
    REJECTS_NULL_FAKE(sf_service_update(NULL, NULL, svc, NULL, &srec, &err));
    REJECTS_NULL_FAKE(sf_service_remove(NULL, NULL, svc, &err));
    REJECTS_NULL_FAKE(sf_service_list(NULL, NULL, NULL, &spage, &err));
    REJECTS_NULL_FAKE(sf_stream_create(NULL, NULL, svc, NULL, &rec, &err));
    REJECTS_NULL_FAKE(sf_stream_fetch(NULL, NULL, svc, "x", &rec, &err));
    REJECTS_NULL_FAKE(sf_stream_update(NULL, NULL, svc, "x", &ttl, &rec, &err));
    REJECTS_NULL_FAKE(sf_stream_remove(NULL, NULL, svc, "x", &err));
    REJECTS_NULL_FAKE(sf_stream_list(NULL, NULL, svc, NULL, &page, &err));
    REJECTS_NULL_FAKE(sf_stream_publish(NULL, NULL, svc, "x", &ok_data, &msg, &err));
    REJECTS_NULL_FAKE(sf_stream_rate_state(NULL, NULL, svc, "x", &rs, &err));
    sf_subscribe_params sub = {.on_event = ignore_event};
    sf_subscriber_id id = 77;
    REJECTS_NULL_FAKE(sf_subscribe(NULL, NULL, svc, "x", &sub, &id, &err));
    assert_int_equal(id, 77);
    REJECTS_NULL_FAKE(sf_unsubscribe(NULL, 1, &err));
    REJECTS_NULL_FAKE(sf_subscriber_hold(NULL, 1, &err));
    REJECTS_NULL_FAKE(sf_subscriber_heal(NULL, 1, true, &err));
    REJECTS_NULL_FAKE(sf_subscriber_disconnect(NULL, 1, &err));
    REJECTS_NULL_FAKE(sf_subscriber_reconnect(NULL, 1, &err));
    sf_subscriber_stats sstats;
    REJECTS_NULL_FAKE(sf_subscriber_stats_get(NULL, 1, &sstats, &err));
    sf_stream_stats stats;
    REJECTS_NULL_FAKE(sf_stream_stats_get(NULL, NULL, svc, "x", &stats, &err));
    sf_fault_params fp = {.scope = SF_SCOPE_FAKE};
    sf_fault_id fid = 5;
    REJECTS_NULL_FAKE(sf_fault_add(NULL, &fp, &fid, &err));
    assert_int_equal(fid, 5);
    REJECTS_NULL_FAKE(sf_fault_remove(NULL, 1, &err));
    sf_error_injection inj = {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 500};
    REJECTS_NULL_FAKE(sf_inject_error(NULL, &inj, &err));
    REJECTS_NULL_FAKE(sf_journal_write(NULL, NULL, stdout, &err));
#undef REJECTS_NULL_FAKE

    /* the same with no error body asked for */
    assert_status(sf_fake_reset(NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(NULL, 1, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_account_create(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_api_key_create(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_authenticate(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_create(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_fetch(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_update(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_remove(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_service_list(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_create(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_fetch(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_update(NULL, NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_remove(NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_list(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_publish(NULL, NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_rate_state(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscribe(NULL, NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_unsubscribe(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_hold(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_heal(NULL, 0, false, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_disconnect(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_reconnect(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_stats_get(NULL, 0, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_stats_get(NULL, NULL, NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_fault_add(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_fault_remove(NULL, 0, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_inject_error(NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_journal_write(NULL, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
}

static void test_null_fake_queries_answer_nothing(void **state)
{
    (void)state;
    assert_null(sf_fake_options(NULL));
    assert_null(sf_fake_account_sid(NULL));
    assert_null(sf_fake_auth_token(NULL));
    assert_int_equal(sf_clock_now(NULL), 0);
    assert_int_equal(sf_run_due(NULL), 0);
    sf_ms t = 77;
    assert_false(sf_next_event_time(NULL, &t));
    assert_int_equal(t, 77);
    assert_false(sf_next_event_time(NULL, NULL));
    assert_int_equal(sf_pending_events(NULL), 0);
    assert_int_equal(sf_pending_deliveries(NULL), 0);
    assert_int_equal(sf_run_until_idle(NULL), 0);
    sf_fault_info info;
    assert_int_equal(sf_fault_list(NULL, &info, 1), 0);
    sf_inject_clear(NULL);
    assert_int_equal(sf_journal_count(NULL), 0);
    assert_int_equal(sf_journal_overwritten(NULL), 0);
    sf_journal_clear(NULL);
    uint64_t cursor = 0;
    sf_journal_entry entry;
    assert_false(sf_journal_next(NULL, NULL, &cursor, &entry));
    char buf[8] = "x";
    assert_int_equal(sf_journal_render(NULL, NULL, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    assert_int_equal(sf_journal_entry_json(NULL, buf, sizeof buf), 0);
    sf_fake_free(NULL);
    sf_service_page_free(NULL, NULL);
    sf_stream_page_free(NULL, NULL);
    sf_options_init(NULL);
    sf_limits_init(NULL);
}

/* Freeing a NULL page is a no-op, and so is freeing without the fake (the page is then still
 * the caller's, to free with its fake). */
static void test_page_free_with_null_page_or_fake_is_a_no_op(void **state)
{
    sf_fixture *fx = *state;
    long live = fx->alloc.live;
    sf_service_page_free(fx->fake, NULL);
    sf_stream_page_free(fx->fake, NULL);
    assert_int_equal(fx->alloc.live, live);

    sf_service_page *spage = NULL;
    sf_stream_page *page = NULL;
    assert_status(sf_service_list(fx->fake, NULL, NULL, &spage, NULL), SF_OK);
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, &page, NULL), SF_OK);
    assert_int_equal(fx->alloc.live, live + 4);
    sf_service_page_free(NULL, spage);
    sf_stream_page_free(NULL, page);
    assert_int_equal(fx->alloc.live, live + 4);
    assert_int_equal(spage->info.count, 1);
    assert_string_equal(spage->records[0].sid, fx->service_sid);
    sf_service_page_free(fx->fake, spage);
    sf_stream_page_free(fx->fake, page);
    assert_int_equal(fx->alloc.live, live);
}

/* ---------------------------------------------------------------------------------------- */
/* sf_fake_new options                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_fake_new_without_out_is_invalid_argument(void **state)
{
    (void)state;
    sf_error err;
    assert_status(sf_fake_new(NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_status(sf_fake_new(NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
}

static sf_ms fixed_clock(void *user) { return *(const sf_ms *)user; }
static void *only_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}
static void *only_realloc(void *p, size_t size, void *user)
{
    (void)user;
    return realloc(p, size);
}
static void only_free(void *p, void *user)
{
    (void)user;
    free(p);
}

typedef struct bad_option {
    const char *what;
    void (*spoil)(sf_options *o);
} bad_option;

static char long_url[SF_BASE_URL_CAP + 8];

#define SPOIL(name, ...)                                                                       \
    static void spoil_##name(sf_options *o) { __VA_ARGS__; }
SPOIL(data_above_cap, o->limits.max_data_bytes = SF_DATA_CAP + 1)
SPOIL(data_below_two, o->limits.max_data_bytes = 1)
SPOIL(burst_zero, o->limits.publish_burst = 0)
SPOIL(burst_above_cap, o->limits.publish_burst = 1000001)
SPOIL(rate_above_cap, o->limits.publish_rate_per_s = 1000001)
SPOIL(name_above_cap, o->limits.unique_name_max = SF_UNIQUE_NAME_CAP + 1)
SPOIL(name_zero, o->limits.unique_name_max = 0)
SPOIL(ttl_negative, o->limits.ttl_max_s = -1)
SPOIL(ttl_above_cap, o->limits.ttl_max_s = INT64_C(100) * 365 * 86400 + 1)
SPOIL(page_max_above_cap, o->limits.page_size_max = SF_PAGE_SIZE_CAP + 1)
SPOIL(page_max_zero, o->limits.page_size_max = 0)
SPOIL(page_default_zero, o->limits.page_size_default = 0)
SPOIL(page_default_above_max, o->limits.page_size_default = o->limits.page_size_max + 1)
SPOIL(friendly_above_cap, o->limits.friendly_name_max = SF_FRIENDLY_NAME_CAP + 1)
SPOIL(friendly_zero, o->limits.friendly_name_max = 0)
SPOIL(webhook_above_cap, o->limits.webhook_url_max = SF_WEBHOOK_URL_CAP + 1)
SPOIL(webhook_zero, o->limits.webhook_url_max = 0)
SPOIL(debounce_min_negative, o->limits.debouncing_window_min_ms = -1)
SPOIL(debounce_min_above_max, o->limits.debouncing_window_min_ms =
                                  o->limits.debouncing_window_max_ms + 1)
SPOIL(allocator_malloc_only, o->allocator = (sf_allocator){.malloc_fn = only_malloc})
SPOIL(allocator_without_free,
      o->allocator = (sf_allocator){.malloc_fn = only_malloc, .realloc_fn = only_realloc})
SPOIL(allocator_free_only, o->allocator = (sf_allocator){.free_fn = only_free})
SPOIL(callback_clock_without_fn, o->clock = SF_CLOCK_CALLBACK)
SPOIL(clock_kind_unknown, o->clock = (sf_clock_kind)7)
SPOIL(account_sid_uppercase_hex, o->account_sid = "AC0123456789ABCDEF0123456789abcdef")
SPOIL(account_sid_wrong_prefix, o->account_sid = "AX0123456789abcdef0123456789abcdef")
SPOIL(account_sid_service_prefix, o->account_sid = "IS0123456789abcdef0123456789abcdef")
SPOIL(account_sid_short, o->account_sid = "AC0123456789abcdef0123456789abcde")
SPOIL(account_sid_long, o->account_sid = "AC0123456789abcdef0123456789abcdef0")
SPOIL(account_sid_empty, o->account_sid = "")
SPOIL(auth_token_empty, o->auth_token = "")
SPOIL(auth_token_with_space, o->auth_token = "two words")
SPOIL(auth_token_with_newline, o->auth_token = "token\n")
SPOIL(auth_token_too_long, {
    static char token[SF_SECRET_CAP + 1];
    memset(token, 't', SF_SECRET_CAP);
    o->auth_token = token;
})
SPOIL(base_url_ftp, o->base_url = "ftp://sync.twilio.com")
SPOIL(base_url_without_scheme, o->base_url = "sync.twilio.com")
SPOIL(base_url_empty, o->base_url = "")
SPOIL(base_url_trailing_slash, o->base_url = "https://sync.twilio.com/")
SPOIL(base_url_with_space, o->base_url = "https://sync twilio.com")
SPOIL(base_url_with_quote, o->base_url = "https://sync.twilio.com\"")
SPOIL(base_url_with_backslash, o->base_url = "https://sync.twilio.com\\x")
SPOIL(journal_above_cap, o->journal_capacity = ((size_t)1 << 26) + 1)
SPOIL(base_url_too_long, {
    memcpy(long_url, "https://", 8);
    memset(long_url + 8, 'a', sizeof long_url - 9);
    long_url[sizeof long_url - 1] = '\0';
    o->base_url = long_url;
})
#undef SPOIL

#define BAD(name) {#name, spoil_##name}
static const bad_option bad_options[] = {
    BAD(data_above_cap), BAD(data_below_two), BAD(burst_zero), BAD(burst_above_cap),
    BAD(rate_above_cap), BAD(name_above_cap), BAD(name_zero), BAD(ttl_negative),
    BAD(ttl_above_cap), BAD(page_max_above_cap), BAD(page_max_zero), BAD(page_default_zero),
    BAD(page_default_above_max), BAD(friendly_above_cap), BAD(friendly_zero),
    BAD(webhook_above_cap), BAD(webhook_zero), BAD(debounce_min_negative),
    BAD(debounce_min_above_max), BAD(allocator_malloc_only), BAD(allocator_without_free),
    BAD(allocator_free_only), BAD(callback_clock_without_fn), BAD(clock_kind_unknown),
    BAD(account_sid_uppercase_hex), BAD(account_sid_wrong_prefix),
    BAD(account_sid_service_prefix), BAD(account_sid_short), BAD(account_sid_long),
    BAD(account_sid_empty), BAD(auth_token_empty), BAD(auth_token_with_space),
    BAD(auth_token_with_newline), BAD(auth_token_too_long), BAD(base_url_ftp),
    BAD(base_url_without_scheme), BAD(base_url_empty), BAD(base_url_too_long),
    BAD(base_url_trailing_slash), BAD(base_url_with_space), BAD(base_url_with_quote),
    BAD(base_url_with_backslash), BAD(journal_above_cap),
};
#undef BAD

static void test_fake_new_rejects_every_invalid_option(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_options / sizeof bad_options[0]; i++) {
        sf_test_alloc alloc;
        memset(&alloc, 0, sizeof alloc);
        sf_options opts;
        sf_options_init(&opts);
        opts.allocator = sf_test_allocator(&alloc);
        bad_options[i].spoil(&opts);
        sf_fake *fake = (sf_fake *)(uintptr_t)1;
        sf_error err;
        memset(&err, 0, sizeof err);
        sf_status st = sf_fake_new(&opts, &fake, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("%s: status %s, want SF_ERR_INVALID_ARGUMENT", bad_options[i].what,
                     sf_status_name(st));
        assert_null(fake);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
        /* the message says what is wrong */
        assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
        assert_true(strlen(err.message) > 19);
        assert_int_equal(alloc.calls, 0);
        /* and with no error body */
        fake = (sf_fake *)(uintptr_t)1;
        assert_status(sf_fake_new(&opts, &fake, NULL), SF_ERR_INVALID_ARGUMENT);
        assert_null(fake);
    }
}

static void test_fake_new_accepts_options_at_their_limits(void **state)
{
    (void)state;
    static char token[SF_SECRET_CAP];
    memset(token, '~', SF_SECRET_CAP - 1);
    static char url[SF_BASE_URL_CAP];
    memcpy(url, "http://", 7);
    memset(url + 7, 'h', SF_BASE_URL_CAP - 8);
    sf_ms at = SF_DEFAULT_EPOCH_MS + 5;
    sf_options opts;
    sf_options_init(&opts);
    opts.clock = SF_CLOCK_CALLBACK;
    opts.clock_fn = fixed_clock;
    opts.clock_user = &at;
    opts.account_sid = "AC0123456789abcdef0123456789abcdef";
    opts.auth_token = token;
    opts.base_url = url;
    opts.journal_capacity = (size_t)1 << 26;
    opts.limits = (sf_limits){.max_data_bytes = SF_DATA_CAP,
                              .publish_rate_per_s = 1000000,
                              .publish_burst = 1000000,
                              .unique_name_max = SF_UNIQUE_NAME_CAP,
                              .ttl_max_s = INT64_C(100) * 365 * 86400,
                              .page_size_default = SF_PAGE_SIZE_CAP,
                              .page_size_max = SF_PAGE_SIZE_CAP,
                              .friendly_name_max = SF_FRIENDLY_NAME_CAP,
                              .webhook_url_max = SF_WEBHOOK_URL_CAP,
                              .debouncing_window_min_ms = 0,
                              .debouncing_window_max_ms = 0};
    sf_fake *fake = NULL;
    sf_error err;
    assert_status(sf_fake_new(&opts, &fake, &err), SF_OK);
    held_fake(fake);
    assert_string_equal(sf_fake_account_sid(fake), opts.account_sid);
    assert_string_equal(sf_fake_auth_token(fake), token);
    assert_string_equal(sf_fake_options(fake)->base_url, url);
    assert_int_equal(sf_clock_now(fake), at);
    /* the widened limits are in force */
    char *name = filled(SF_UNIQUE_NAME_CAP, 'n');
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, &err), SF_OK);
    sf_stream_params p = {.unique_name = name, .has_ttl = true, .ttl = opts.limits.ttl_max_s};
    sf_stream_record rec;
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, &rec, &err), SF_OK);
    assert_int_equal(rec.date_expires_ms, at + opts.limits.ttl_max_s * 1000);
    block_release(name);
    fake_release(fake);
}

/* ---------------------------------------------------------------------------------------- */
/* NULL error bodies and NULL outputs                                                        */
/* ---------------------------------------------------------------------------------------- */

static void test_null_err_is_accepted_on_success_and_failure(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *f = fx->fake;
    const char *svc = fx->service_sid;
    sf_stream_record rec;
    sf_stream_params named = {.unique_name = "quiet", .has_ttl = true, .ttl = 9};
    assert_status(sf_stream_create(f, NULL, svc, &named, &rec, NULL), SF_OK);
    assert_status(sf_stream_create(f, NULL, svc, &named, &rec, NULL), SF_ERR_UNIQUE_NAME_EXISTS);
    assert_status(sf_stream_fetch(f, NULL, svc, "quiet", &rec, NULL), SF_OK);
    assert_status(sf_stream_fetch(f, NULL, svc, "loud", &rec, NULL), SF_ERR_NOT_FOUND);
    sf_stream_params ttl = {.has_ttl = true, .ttl = 20};
    assert_status(sf_stream_update(f, NULL, svc, "quiet", &ttl, &rec, NULL), SF_OK);
    assert_status(sf_stream_update(f, NULL, svc, "quiet", NULL, &rec, NULL), SF_ERR_NO_PARAMETERS);
    sf_message_record msg;
    assert_status(sf_stream_publish(f, NULL, svc, "quiet", &ok_data, &msg, NULL), SF_OK);
    assert_status(sf_stream_publish(f, NULL, svc, "quiet", NULL, &msg, NULL), SF_ERR_DATA_MISSING);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(f, NULL, svc, "quiet", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 299);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(f, NULL, svc, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    sf_stream_page_free(f, page);
    sf_page_params bad = {.has_page_size = true, .page_size = 0};
    assert_status(sf_stream_list(f, NULL, svc, &bad, &page, NULL), SF_ERR_INVALID_PAGE_SIZE);
    assert_null(page);
    assert_status(sf_stream_remove(f, NULL, svc, "quiet", NULL), SF_OK);
    assert_status(sf_stream_remove(f, NULL, svc, "quiet", NULL), SF_ERR_NOT_FOUND);

    sf_service_record srec;
    sf_service_params sp = {.friendly_name = "n"};
    assert_status(sf_service_create(f, NULL, &sp, &srec, NULL), SF_OK);
    sf_service_params empty = {.friendly_name = ""};
    assert_status(sf_service_create(f, NULL, &empty, &srec, NULL), SF_ERR_INVALID_FRIENDLY_NAME);
    assert_status(sf_service_fetch(f, NULL, srec.sid, &srec, NULL), SF_OK);
    assert_status(sf_service_update(f, NULL, srec.sid, &sp, &srec, NULL), SF_OK);
    assert_status(sf_service_update(f, NULL, srec.sid, &empty, &srec, NULL), SF_ERR_INVALID_FRIENDLY_NAME);
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(f, NULL, NULL, &spage, NULL), SF_OK);
    assert_int_equal(spage->info.count, 2);
    sf_service_page_free(f, spage);
    assert_status(sf_service_list(f, NULL, &bad, &spage, NULL), SF_ERR_INVALID_PAGE_SIZE);
    assert_status(sf_service_remove(f, NULL, srec.sid, NULL), SF_OK);
    assert_status(sf_service_fetch(f, NULL, srec.sid, &srec, NULL), SF_ERR_NOT_FOUND);

    sf_account_record acct;
    assert_status(sf_account_create(f, NULL, &acct, NULL), SF_OK);
    sf_account_params dup = {.sid = acct.sid};
    assert_status(sf_account_create(f, &dup, &acct, NULL), SF_ERR_CONFLICT);
    sf_api_key_record key;
    assert_status(sf_api_key_create(f, acct.sid, NULL, &key, NULL), SF_OK);
    sf_api_key_params kdup = {.sid = key.sid};
    assert_status(sf_api_key_create(f, acct.sid, &kdup, &key, NULL), SF_ERR_CONFLICT);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(f, key.sid, key.secret, who, NULL), SF_OK);
    assert_string_equal(who, acct.sid);
    assert_status(sf_authenticate(f, key.sid, "nope", who, NULL), SF_ERR_AUTHENTICATE);

    assert_status(sf_clock_advance(f, 10, NULL), SF_OK);
    assert_status(sf_clock_advance(f, -10, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_set(f, SF_DEFAULT_EPOCH_MS + 20, NULL), SF_OK);
    assert_status(sf_clock_set(f, SF_DEFAULT_EPOCH_MS, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(f), SF_DEFAULT_EPOCH_MS + 20);
    assert_status(sf_fake_reset(f, NULL), SF_OK);
    assert_status(sf_service_fetch(f, NULL, fx->service_sid, NULL, NULL), SF_ERR_NOT_FOUND);
}

/* Records are optional outputs of create, fetch and update: the call still does its work. */
static void test_null_record_out_is_allowed_for_create_fetch_update(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_error err;

    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid,
                                      &(sf_stream_params){.unique_name = "no-out"}, NULL, &err), SF_OK);
    assert_status(err.status, SF_OK);
    sf_stream_record rec;
    assert_status(sf_stream_create(twin, NULL, fx->service_sid,
                                      &(sf_stream_params){.unique_name = "no-out"}, &rec, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, rec.sid, NULL, &err), SF_OK);
    sf_stream_params ttl = {.has_ttl = true, .ttl = 30};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "no-out", &ttl, NULL,
                                      &err), SF_OK);
    assert_status(sf_stream_update(twin, NULL, fx->service_sid, "no-out", &ttl, NULL, NULL), SF_OK);
    sf_stream_record got;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "no-out", &got, NULL), SF_OK);
    assert_true(got.has_date_expires);
    assert_int_equal(got.date_expires_ms, SF_DEFAULT_EPOCH_MS + 30000);

    sf_service_params sp = {.friendly_name = "quiet service"};
    assert_status(sf_service_create(fx->fake, NULL, &sp, NULL, &err), SF_OK);
    sf_service_record svc2;
    assert_status(sf_service_create(twin, NULL, &sp, &svc2, NULL), SF_OK);
    assert_status(sf_service_fetch(fx->fake, NULL, svc2.sid, NULL, &err), SF_OK);
    sf_service_params up = {.webhook_url = "https://example.com"};
    assert_status(sf_service_update(fx->fake, NULL, svc2.sid, &up, NULL, &err), SF_OK);
    assert_status(sf_service_update(twin, NULL, svc2.sid, &up, NULL, NULL), SF_OK);
    sf_service_record sgot;
    assert_status(sf_service_fetch(fx->fake, NULL, svc2.sid, &sgot, NULL), SF_OK);
    assert_string_equal(sgot.friendly_name, "quiet service");
    assert_string_equal(sgot.webhook_url, "https://example.com");

    assert_status(sf_account_create(fx->fake, NULL, NULL, &err), SF_OK);
    sf_account_record acct;
    assert_status(sf_account_create(twin, NULL, &acct, NULL), SF_OK);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, acct.sid, acct.auth_token, who, NULL), SF_OK);
    assert_string_equal(who, acct.sid);
    assert_status(sf_authenticate(fx->fake, acct.sid, acct.auth_token, NULL, &err), SF_OK);

    assert_status(sf_api_key_create(fx->fake, acct.sid, NULL, NULL, &err), SF_OK);
    sf_api_key_record key;
    assert_status(sf_api_key_create(twin, acct.sid, NULL, &key, NULL), SF_OK);
    assert_status(sf_authenticate(fx->fake, key.sid, key.secret, who, NULL), SF_OK);
    assert_string_equal(who, acct.sid);

    /* a publish without a record still spends its message SID, as on the twin */
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "no-out", &ok_data, NULL,
                                       &err), SF_OK);
    sf_message_record msg;
    assert_status(sf_stream_publish(twin, NULL, fx->service_sid, "no-out", &ok_data, &msg,
                                       NULL), SF_OK);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "no-out", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 299);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_list_and_rate_state_outputs_are_required(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    long live = fx->alloc.live;
    sf_error err;
    assert_status(sf_service_list(fx->fake, NULL, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "s", NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    assert_int_equal(fx->alloc.live, live);
    /* sf_next_event_time's output is optional */
    assert_false(sf_next_event_time(fx->fake, NULL));
    sf_stream_record rec;
    sf_fixture_stream(fx, "t", 3, &rec);
    assert_true(sf_next_event_time(fx->fake, NULL));
}

/* ---------------------------------------------------------------------------------------- */
/* NULL ids                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void test_null_service_sid_is_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    sf_error err;
    sf_service_record srec;
    sf_stream_record rec;
    sf_stream_page not_a_page;
    sf_stream_page *page = &not_a_page; /* a failed list must set it to NULL */
    sf_message_record msg;
    sf_rate_state rs;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 3};
    sf_service_params sp = {.friendly_name = "x"};

#define REJECTS_NULL_SERVICE(call)                                                             \
    do {                                                                                       \
        memset(&err, 0, sizeof err);                                                           \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                       \
        assert_invalid_argument(&err, "service_sid is NULL");                                  \
    } while (0)
    REJECTS_NULL_SERVICE(sf_service_fetch(fx->fake, NULL, NULL, &srec, &err));
    REJECTS_NULL_SERVICE(sf_service_update(fx->fake, NULL, NULL, &sp, &srec, &err));
    REJECTS_NULL_SERVICE(sf_service_remove(fx->fake, NULL, NULL, &err));
    REJECTS_NULL_SERVICE(sf_stream_create(fx->fake, NULL, NULL, NULL, &rec, &err));
    REJECTS_NULL_SERVICE(sf_stream_list(fx->fake, NULL, NULL, NULL, &page, &err));
    assert_null(page);
    REJECTS_NULL_SERVICE(sf_stream_fetch(fx->fake, NULL, NULL, "s", &rec, &err));
    REJECTS_NULL_SERVICE(sf_stream_update(fx->fake, NULL, NULL, "s", &ttl, &rec, &err));
    REJECTS_NULL_SERVICE(sf_stream_remove(fx->fake, NULL, NULL, "s", &err));
    REJECTS_NULL_SERVICE(sf_stream_publish(fx->fake, NULL, NULL, "s", &ok_data, &msg, &err));
    REJECTS_NULL_SERVICE(sf_stream_rate_state(fx->fake, NULL, NULL, "s", &rs, &err));
    /* both missing: the service is named first */
    REJECTS_NULL_SERVICE(sf_stream_fetch(fx->fake, NULL, NULL, NULL, &rec, &err));
#undef REJECTS_NULL_SERVICE
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
}

static void test_null_stream_id_is_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    sf_error err;
    sf_stream_record rec;
    sf_message_record msg;
    sf_rate_state rs;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 3};
#define REJECTS_NULL_STREAM(call)                                                              \
    do {                                                                                       \
        memset(&err, 0, sizeof err);                                                           \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                       \
        assert_invalid_argument(&err, "stream_id is NULL");                                    \
    } while (0)
    REJECTS_NULL_STREAM(sf_stream_fetch(fx->fake, NULL, fx->service_sid, NULL, &rec, &err));
    REJECTS_NULL_STREAM(
        sf_stream_update(fx->fake, NULL, fx->service_sid, NULL, &ttl, &rec, &err));
    REJECTS_NULL_STREAM(sf_stream_remove(fx->fake, NULL, fx->service_sid, NULL, &err));
    REJECTS_NULL_STREAM(
        sf_stream_publish(fx->fake, NULL, fx->service_sid, NULL, &ok_data, &msg, &err));
    REJECTS_NULL_STREAM(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, NULL, &rs, &err));
#undef REJECTS_NULL_STREAM
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
}

/* ---------------------------------------------------------------------------------------- */
/* Oversized and malformed strings                                                           */
/* ---------------------------------------------------------------------------------------- */

static void test_unique_name_of_100_kb_is_invalid_unique_name(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    char *name = filled(100 * KB, 'u');
    sf_stream_params p = {.unique_name = name, .has_ttl = true, .ttl = 10};
    sf_error err;
    sf_stream_record rec;
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_INVALID_UNIQUE_NAME);
    assert_error(&err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302);
    assert_string_equal(err.message, "Invalid unique name. Expected a string with length 1-320 not matching the SID pattern [A-Z]{2}[a-f0-9]{32}");
    /* looking it up is a plain 404 */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, name, &rec, &err), SF_ERR_NOT_FOUND);
    block_release(name);
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_unique_name_bounds_and_shape(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_error err;
    sf_stream_record rec;
    static const char *const refused[] = {
        "",
        "TO0123456789abcdef0123456789abcdef", /* a stream SID */
        "XY0123456789abcdef0123456789abcdef", /* anything of Twilio's SID pattern */
        "bad\xff" "utf8",
        "over\xc0\xaflong",
        "control\x01" "char",
        "delete\x7f",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_stream_params p = {.unique_name = refused[i]};
        memset(&err, 0, sizeof err);
        sf_status st = sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err);
        if (st != SF_ERR_INVALID_UNIQUE_NAME)
            fail_msg("name #%zu: %s, want 54302", i, sf_status_name(st));
        assert_error(&err, SF_ERR_INVALID_UNIQUE_NAME, 400, 54302);
    }
    char *longest = filled(320, 'a');
    char *too_long = filled(321, 'a');
    char *wide = filled(2 * 320, 'w'); /* 320 characters of two bytes each */
    for (int i = 0; i < 320; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    wide[640] = '\0';
    sf_stream_params p = {.unique_name = too_long};
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_INVALID_UNIQUE_NAME);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);

    /* SID-like but not of Twilio's pattern [A-Z]{2}[a-f0-9]{32}: too long, too short, no
     * letter prefix, a lower-case prefix, upper-case hex */
    const char *accepted[] = {longest,
                              wide,
                              "TO0123456789abcdef0123456789abcdef0",
                              "TO0123456789abcdef0123456789abcde",
                              "120123456789abcdef0123456789abcdef",
                              "to0123456789abcdef0123456789abcdef",
                              "TO0123456789ABCDEF0123456789ABCDEF"};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        p.unique_name = accepted[i];
        assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_OK);
        assert_string_equal(rec.unique_name, accepted[i]);
        /* and the name addresses it (it is never read as a SID) */
        sf_stream_record got;
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, accepted[i], &got, &err), SF_OK);
        assert_string_equal(got.sid, rec.sid);
        assert_status(sf_stream_create(twin, NULL, fx->service_sid, &p, &rec, NULL), SF_OK);
    }
    /* the same name again */
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    p.unique_name = wide;
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_UNIQUE_NAME_EXISTS);
    assert_error(&err, SF_ERR_UNIQUE_NAME_EXISTS, 409, 54301);
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    block_release(wide);
    block_release(longest);
    block_release(too_long);
    fake_release(twin);
}

/* The 404 message names the path; a huge id must not overflow it. */
static void test_fetch_with_100_kb_stream_id_is_not_found_with_bounded_message(void **state)
{
    sf_fixture *fx = *state;
    char *id = filled(100 * KB, 'i');
    sf_error err;
    memset(&err, 0x7f, sizeof err);
    sf_stream_record rec;
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, id, &rec, &err), SF_ERR_NOT_FOUND);
    assert_error(&err, SF_ERR_NOT_FOUND, 404, 20404);
    size_t len = strnlen(err.message, sizeof err.message);
    assert_true(len < sizeof err.message);
    char prefix[128];
    snprintf(prefix, sizeof prefix, "The requested resource /Services/%s/Streams/iiii",
             fx->service_sid);
    assert_true(strncmp(err.message, prefix, strlen(prefix)) == 0);
    assert_true(len > strlen(" was not found"));
    assert_string_equal(err.message + len - strlen(" was not found"), " was not found");

    /* the other stream endpoints too; publish names the Messages path */
    memset(&err, 0x7f, sizeof err);
    sf_stream_params ttl = {.has_ttl = true, .ttl = 1};
    assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, id, &ttl, &rec, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    memset(&err, 0x7f, sizeof err);
    assert_status(sf_stream_remove(fx->fake, NULL, fx->service_sid, id, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    memset(&err, 0x7f, sizeof err);
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, id, &ok_data, &msg,
                                       &err), SF_ERR_NOT_FOUND);
    len = strnlen(err.message, sizeof err.message);
    assert_true(len < sizeof err.message);
    assert_string_equal(err.message + len - strlen("/Messages was not found"),
                        "/Messages was not found");
    /* and a huge service SID */
    memset(&err, 0x7f, sizeof err);
    sf_service_record srec;
    assert_status(sf_service_fetch(fx->fake, NULL, id, &srec, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    assert_true(strncmp(err.message, "The requested resource /Services/iiii", 37) == 0);
    memset(&err, 0x7f, sizeof err);
    assert_status(sf_stream_fetch(fx->fake, NULL, id, id, &rec, &err), SF_ERR_NOT_FOUND);
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    block_release(id);
}

static void test_friendly_name_of_10_kb_is_invalid_friendly_name(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_service_params named = {.friendly_name = "keep me"};
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    assert_status(sf_service_update(twin, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);

    char *huge = filled(10 * KB, 'f');
    char *too_long = filled(256, 'f');
    const char *refused[] = {huge, too_long, "", "tab\tinside", "bad\xe2\x82", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_service_params p = {.friendly_name = refused[i], .acl_enabled = SF_BOOL_TRUE};
        sf_error err;
        sf_service_record rec;
        memset(&err, 0, sizeof err);
        assert_status(sf_service_create(fx->fake, NULL, &p, &rec, &err), SF_ERR_INVALID_FRIENDLY_NAME);
        assert_error(&err, SF_ERR_INVALID_FRIENDLY_NAME, 400, 54053);
        assert_string_equal(err.message, "Invalid friendly name");
        memset(&err, 0, sizeof err);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_INVALID_FRIENDLY_NAME);
        assert_error(&err, SF_ERR_INVALID_FRIENDLY_NAME, 400, 54053);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    char *longest = filled(255, 'f');
    sf_service_params ok = {.friendly_name = longest};
    sf_service_record rec;
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &ok, &rec, NULL), SF_OK);
    assert_string_equal(rec.friendly_name, longest);
    block_release(huge);
    block_release(too_long);
    block_release(longest);
    fake_release(twin);
}

static void test_webhook_url_of_10_kb_is_invalid_webhook_url(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    char *huge = filled(10 * KB, 'w');
    memcpy(huge, "https://", 8);
    char *too_long = filled(513, 'w');
    memcpy(too_long, "http://", 7);
    const char *refused[] = {huge,       too_long,           "",
                             "ftp://example.com", "example.com", "http://",
                             "https:///path", "http://?q", "http://#f",
                             "http://exa mple.com", "http://\x01.com", "mailto:a@b.c"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_service_params p = {.webhook_url = refused[i], .friendly_name = "ok"};
        sf_error err;
        sf_service_record rec;
        memset(&err, 0, sizeof err);
        sf_status st = sf_service_create(fx->fake, NULL, &p, &rec, &err);
        if (st != SF_ERR_INVALID_WEBHOOK_URL)
            fail_msg("url #%zu: %s, want 54051", i, sf_status_name(st));
        assert_error(&err, SF_ERR_INVALID_WEBHOOK_URL, 400, 54051);
        assert_string_equal(err.message, "Invalid webhook URL");
        memset(&err, 0, sizeof err);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_INVALID_WEBHOOK_URL);
        assert_error(&err, SF_ERR_INVALID_WEBHOOK_URL, 400, 54051);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    char *longest = filled(512, 'w');
    memcpy(longest, "HTTPS://", 8);
    sf_service_params ok = {.webhook_url = longest};
    sf_service_record rec;
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &ok, &rec, NULL), SF_OK);
    assert_string_equal(rec.webhook_url, longest);
    block_release(huge);
    block_release(too_long);
    block_release(longest);
    fake_release(twin);
}

static void test_publish_of_1_mb_is_request_entity_too_large(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "big", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);

    /* a 1 MB object, and one byte past the 4096 limit */
    char *mb = filled(1024 * KB, ' ');
    mb[0] = '{';
    mb[1024 * KB - 1] = '}';
    char *over = filled(4097, ' ');
    over[0] = '{';
    over[4096] = '}';
    const sf_publish_params big[] = {{.data = mb, .data_len = 1024 * KB},
                                     {.data = over, .data_len = 4097}};
    for (size_t i = 0; i < 2; i++) {
        sf_error err;
        sf_message_record msg;
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "big", &big[i], &msg,
                                           &err), SF_ERR_DATA_TOO_LARGE);
        assert_error(&err, SF_ERR_DATA_TOO_LARGE, 413, 54006);
        assert_string_equal(err.message, "Request entity too large");
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    /* exactly at the limit is fine */
    sf_publish_params limit = {.data = over, .data_len = 4096};
    over[4095] = '}';
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "big", &limit, &msg,
                                       NULL), SF_OK);
    assert_string_equal(msg.data, "{}");
    block_release(mb);
    block_release(over);
}

static void test_publish_data_with_embedded_nul_is_invalid_json(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "nul", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    static const char after_object[] = "{\"a\":1}\0";
    static const char in_string[] = "{\"a\":\"x\0y\"}";
    static const char in_key[] = "{\"a\0b\":1}";
    static const char leading[] = "\0{}";
    static const char between[] = "{\"a\":1,\0\"b\":2}";
    const sf_publish_params bad[] = {
        {.data = after_object, .data_len = sizeof after_object - 1},
        {.data = in_string, .data_len = sizeof in_string - 1},
        {.data = in_key, .data_len = sizeof in_key - 1},
        {.data = leading, .data_len = sizeof leading - 1},
        {.data = between, .data_len = sizeof between - 1},
        {.data = "", .data_len = 0},
        {.data = "[]", .data_len = 2},
        {.data = "{} {}", .data_len = 5},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_message_record msg;
        memset(&err, 0, sizeof err);
        sf_status st =
            sf_stream_publish(fx->fake, NULL, fx->service_sid, "nul", &bad[i], &msg, &err);
        if (st != SF_ERR_DATA_INVALID)
            fail_msg("data #%zu: %s, want 54008", i, sf_status_name(st));
        assert_error(&err, SF_ERR_DATA_INVALID, 400, 54008);
        assert_string_equal(err.message, "Invalid JSON");
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    /* the same object without the trailing NUL is fine */
    sf_publish_params good = {.data = after_object, .data_len = sizeof after_object - 2};
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "nul", &good, &msg, NULL), SF_OK);
    assert_string_equal(msg.data, "{\"a\":1}");
    assert_int_equal(msg.data_len, 7);
}

static void test_publish_without_data_is_data_missing(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "empty", -1, NULL);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    sf_publish_params no_data = {.data = NULL, .data_len = 10};
    const sf_publish_params *cases[] = {NULL, &no_data};
    for (size_t i = 0; i < 2; i++) {
        sf_error err;
        sf_message_record msg;
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "empty", cases[i],
                                           &msg, &err), SF_ERR_DATA_MISSING);
        assert_error(&err, SF_ERR_DATA_MISSING, 400, 54251);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
}

static void test_publish_beyond_burst_is_rate_limited_without_taking_a_token(void **state)
{
    (void)state;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.limits.publish_burst = 1;
    opts.limits.publish_rate_per_s = 1;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    held_fake(fake);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    sf_stream_params p = {.unique_name = "limited"};
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, NULL, NULL), SF_OK);
    sf_message_record msg;
    sf_error err;
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err), SF_OK);
    char first[SF_SID_SIZE];
    memcpy(first, msg.sid, SF_SID_SIZE);
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err), SF_ERR_RATE_LIMITED);
    assert_error(&err, SF_ERR_RATE_LIMITED, 429, 54009);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fake, NULL, svc.sid, "limited", &rs, NULL), SF_OK);
    assert_int_equal(rs.tokens, 0);
    assert_int_equal(rs.next_allowed_ms, SF_DEFAULT_EPOCH_MS + 1000);
    assert_status(sf_clock_advance(fake, 999, NULL), SF_OK);
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err), SF_ERR_RATE_LIMITED);
    assert_status(sf_clock_advance(fake, 1, NULL), SF_OK);
    assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, &msg, &err), SF_OK);
    assert_string_not_equal(msg.sid, first);
    fake_release(fake);

    /* rate 0 lifts the limit: a burst of 1 never runs dry */
    opts.limits.publish_rate_per_s = 0;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    held_fake(fake);
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, NULL, NULL), SF_OK);
    for (int i = 0; i < 5; i++)
        assert_status(sf_stream_publish(fake, NULL, svc.sid, "limited", &ok_data, NULL, &err), SF_OK);
    assert_status(sf_stream_rate_state(fake, NULL, svc.sid, "limited", &rs, NULL), SF_OK);
    assert_false(rs.limited);
    assert_int_equal(rs.tokens, 1);
    assert_int_equal(rs.next_allowed_ms, SF_DEFAULT_EPOCH_MS);
    fake_release(fake);
}

/* ---------------------------------------------------------------------------------------- */
/* Out-of-range values                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_invalid_opt_bool_is_invalid_parameter(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    for (int field = 0; field < 4; field++) {
        for (int v = 3; v <= 7; v += 4) {
            sf_service_params p = {.friendly_name = "flags"};
            sf_opt_bool bad = (sf_opt_bool)v;
            if (field == 0)
                p.reachability_webhooks_enabled = bad;
            else if (field == 1)
                p.acl_enabled = bad;
            else if (field == 2)
                p.reachability_debouncing_enabled = bad;
            else
                p.webhooks_from_rest_enabled = bad;
            sf_error err;
            sf_service_record rec;
            memset(&err, 0, sizeof err);
            assert_status(sf_service_create(fx->fake, NULL, &p, &rec, &err), SF_ERR_INVALID_PARAMETER);
            assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
            static const char *const named[] = {
                "Invalid parameter: ReachabilityWebhooksEnabled", "Invalid parameter: AclEnabled",
                "Invalid parameter: ReachabilityDebouncingEnabled",
                "Invalid parameter: WebhooksFromRestEnabled"};
            assert_string_equal(err.message, named[field]); /* 20001 names the parameter */
            memset(&err, 0, sizeof err);
            assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_INVALID_PARAMETER);
            assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
        }
    }
    /* a negative value, as a signed enum would hold it */
    sf_service_params neg = {.acl_enabled = (sf_opt_bool)-1};
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &neg, NULL, NULL), SF_ERR_INVALID_PARAMETER);
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_debouncing_window_out_of_range_is_invalid_parameter(void **state)
{
    sf_fixture *fx = *state;
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    const int64_t refused[] = {999, 30001, -1, 0, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_service_params p = {.has_reachability_debouncing_window = true,
                               .reachability_debouncing_window = refused[i]};
        sf_error err;
        assert_status(sf_service_create(fx->fake, NULL, &p, NULL, &err), SF_ERR_INVALID_PARAMETER);
        assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, NULL, &err), SF_ERR_INVALID_PARAMETER);
        assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    const int64_t accepted[] = {1000, 30000};
    for (size_t i = 0; i < 2; i++) {
        sf_service_params p = {.has_reachability_debouncing_window = true,
                               .reachability_debouncing_window = accepted[i]};
        sf_service_record rec;
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, NULL), SF_OK);
        assert_int_equal(rec.reachability_debouncing_window, accepted[i]);
    }
}

static void test_ttl_out_of_range_is_invalid_ttl(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_stream_params named = {.unique_name = "ttl"};
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    assert_status(sf_stream_create(twin, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    const int64_t refused[] = {-1, 31536001, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_stream_params p = {.has_ttl = true, .ttl = refused[i]};
        sf_error err;
        sf_stream_record rec;
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err), SF_ERR_INVALID_TTL);
        assert_error(&err, SF_ERR_INVALID_TTL, 400, 54011);
        assert_string_equal(err.message, "Invalid TTL");
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "ttl", &p, &rec, &err), SF_ERR_INVALID_TTL);
        assert_error(&err, SF_ERR_INVALID_TTL, 400, 54011);
    }
    /* update with no TTL at all */
    sf_stream_params none = {.unique_name = "renamed?"};
    const sf_stream_params *no_ttl[] = {NULL, &none};
    for (size_t i = 0; i < 2; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "ttl", no_ttl[i],
                                          NULL, &err), SF_ERR_NO_PARAMETERS);
        assert_error(&err, SF_ERR_NO_PARAMETERS, 400, 54010);
        assert_string_equal(err.message, "No parameters specified");
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_page_params_out_of_range_are_rejected(void **state)
{
    sf_fixture *fx = *state;
    for (int i = 0; i < 3; i++) {
        sf_fixture_stream(fx, NULL, -1, NULL);
        assert_status(sf_service_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
    }
    long live = fx->alloc.live;
    /* real tokens to spoil */
    sf_page_params first = {.has_page_size = true, .page_size = 1};
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &first, &page, NULL), SF_OK);
    char stream_token[SF_PAGE_TOKEN_SIZE];
    memcpy(stream_token, page->info.next_token, SF_PAGE_TOKEN_SIZE);
    sf_stream_page_free(fx->fake, page);
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fx->fake, NULL, &first, &spage, NULL), SF_OK);
    char service_token[SF_PAGE_TOKEN_SIZE];
    memcpy(service_token, spage->info.next_token, SF_PAGE_TOKEN_SIZE);
    sf_service_page_free(fx->fake, spage);
    assert_int_equal(strlen(stream_token), 35);

    char tampered[SF_PAGE_TOKEN_SIZE], upper[SF_PAGE_TOKEN_SIZE], direction[SF_PAGE_TOKEN_SIZE],
        non_hex[SF_PAGE_TOKEN_SIZE], longer[SF_PAGE_TOKEN_SIZE + 8], prefix[SF_PAGE_TOKEN_SIZE];
    memcpy(tampered, stream_token, SF_PAGE_TOKEN_SIZE);
    tampered[34] = tampered[34] == '0' ? '1' : '0';
    memcpy(upper, stream_token, SF_PAGE_TOKEN_SIZE);
    for (char *c = upper + 3; *c; c++)
        *c = (*c >= 'a' && *c <= 'f') ? (char)(*c - 'a' + 'A') : *c;
    upper[3] = 'A'; /* at least one digit changes case */
    memcpy(direction, stream_token, SF_PAGE_TOKEN_SIZE);
    direction[2] = 'X';
    memcpy(non_hex, stream_token, SF_PAGE_TOKEN_SIZE);
    non_hex[10] = 'g';
    snprintf(longer, sizeof longer, "%s0", stream_token);
    memcpy(prefix, stream_token, SF_PAGE_TOKEN_SIZE);
    prefix[0] = 'Q';
    const char *bad_tokens[] = {"garbage", "", tampered, upper, direction, non_hex, longer,
                                prefix,    service_token /* another list's */};

    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        sf_page_params pp = {.page_token = bad_tokens[i]};
        sf_error err;
        sf_stream_page not_a_page;
        page = &not_a_page; /* a failed list must set it to NULL */
        memset(&err, 0, sizeof err);
        sf_status st = sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err);
        if (st != SF_ERR_INVALID_PAGE_TOKEN)
            fail_msg("stream token #%zu '%s': %s, want 54453", i, bad_tokens[i],
                     sf_status_name(st));
        assert_null(page);
        assert_error(&err, SF_ERR_INVALID_PAGE_TOKEN, 400, 54453);
    }
    sf_page_params cross = {.page_token = stream_token};
    sf_error err;
    assert_status(sf_service_list(fx->fake, NULL, &cross, &spage, &err), SF_ERR_INVALID_PAGE_TOKEN);
    assert_null(spage);
    assert_error(&err, SF_ERR_INVALID_PAGE_TOKEN, 400, 54453);

    const int64_t bad_sizes[] = {0, -1, 101, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        sf_page_params pp = {.has_page_size = true, .page_size = bad_sizes[i]};
        assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err), SF_ERR_INVALID_PAGE_SIZE);
        assert_error(&err, SF_ERR_INVALID_PAGE_SIZE, 400, 54454);
        assert_status(sf_service_list(fx->fake, NULL, &pp, &spage, &err), SF_ERR_INVALID_PAGE_SIZE);
        assert_error(&err, SF_ERR_INVALID_PAGE_SIZE, 400, 54454);
    }
    const int64_t bad_pages[] = {-1, INT64_MIN};
    for (size_t i = 0; i < 2; i++) {
        sf_page_params pp = {.has_page = true, .page = bad_pages[i]};
        assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err), SF_ERR_INVALID_PARAMETER);
        assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
        assert_status(sf_service_list(fx->fake, NULL, &pp, &spage, &err), SF_ERR_INVALID_PARAMETER);
    }
    /* a page far past the end is empty, not an error */
    sf_page_params far = {.has_page_size = true, .page_size = 100, .has_page = true,
                          .page = INT64_MAX};
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &far, &page, &err), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_stream_page_free(fx->fake, page);
    assert_int_equal(fx->alloc.live, live);
}

/* ---------------------------------------------------------------------------------------- */
/* Unknown ids, accounts, keys, credentials                                                  */
/* ---------------------------------------------------------------------------------------- */

static void test_unknown_ids_are_not_found_naming_the_path(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record mine;
    sf_fixture_stream(fx, "mine", -1, &mine);
    const char *ghost_svc = "IS00000000000000000000000000000000";
    const char *ghost_acct = "AC00000000000000000000000000000000";
    sf_error err;
    char want[256];

    assert_status(sf_service_fetch(fx->fake, NULL, ghost_svc, NULL, &err), SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "The requested resource /Services/%s was not found", ghost_svc);
    assert_string_equal(err.message, want);
    assert_error(&err, SF_ERR_NOT_FOUND, 404, 20404);
    assert_status(sf_service_remove(fx->fake, NULL, ghost_svc, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_service_update(fx->fake, NULL, ghost_svc, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_create(fx->fake, NULL, ghost_svc, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, ghost_svc, NULL, &page, &err), SF_ERR_NOT_FOUND);
    assert_null(page);

    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "ghost", NULL, &err), SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "The requested resource /Services/%s/Streams/ghost was not found",
             fx->service_sid);
    assert_string_equal(err.message, want);
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "ghost", &ok_data, &msg,
                                       &err), SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want,
             "The requested resource /Services/%s/Streams/ghost/Messages was not found",
             fx->service_sid);
    assert_string_equal(err.message, want);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "ghost", &rs, &err), SF_ERR_NOT_FOUND);
    sf_stream_stats stats;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "ghost", &stats, &err), SF_ERR_NOT_FOUND);
    sf_subscribe_params sp = {.on_event = ignore_event};
    assert_status(sf_subscribe(fx->fake, NULL, ghost_svc, "mine", &sp, NULL, &err), SF_ERR_NOT_FOUND);

    /* an unknown account, for every kind of call that takes one */
    assert_status(sf_service_create(fx->fake, ghost_acct, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "The requested resource /Accounts/%s was not found", ghost_acct);
    assert_string_equal(err.message, want);
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fx->fake, ghost_acct, NULL, &spage, &err), SF_ERR_NOT_FOUND);
    assert_null(spage);
    assert_status(sf_api_key_create(fx->fake, ghost_acct, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    assert_string_equal(err.message, want);
    assert_status(sf_service_fetch(fx->fake, ghost_acct, fx->service_sid, NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, ghost_acct, fx->service_sid, "mine", NULL, &err), SF_ERR_NOT_FOUND);

    /* another account's service and a stream SID of another service look absent */
    sf_account_record other;
    assert_status(sf_account_create(fx->fake, NULL, &other, NULL), SF_OK);
    assert_status(sf_service_fetch(fx->fake, other.sid, fx->service_sid, NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, other.sid, fx->service_sid, mine.sid, NULL, &err), SF_ERR_NOT_FOUND);
    sf_service_record svc2;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, svc2.sid, mine.sid, NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, NULL, svc2.sid, "mine", NULL, &err), SF_ERR_NOT_FOUND);
    /* and an uppercase spelling of a real SID is not that SID */
    char upper[SF_SID_SIZE];
    memcpy(upper, mine.sid, SF_SID_SIZE);
    for (char *c = upper + 2; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    if (strcmp(upper, mine.sid) != 0)
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, upper, NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, mine.sid, NULL, &err), SF_OK);
}

static void test_account_create_rejects_malformed_sid_and_token(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static char long_token[SF_SECRET_CAP + 1];
    memset(long_token, 'x', SF_SECRET_CAP);
    const sf_account_params bad[] = {
        {.sid = "AC0123456789ABCDEF0123456789abcdef"},
        {.sid = "SK0123456789abcdef0123456789abcdef"},
        {.sid = "AC0123456789abcdef"},
        {.sid = ""},
        {.auth_token = ""},
        {.auth_token = "with space"},
        {.auth_token = long_token},
        {.sid = "AC0123456789abcdef0123456789abcdef", .auth_token = "\t"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_account_record rec;
        memset(&err, 0, sizeof err);
        assert_status(sf_account_create(fx->fake, &bad[i], &rec, &err), SF_ERR_INVALID_ARGUMENT);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
        assert_true(strlen(err.message) > strlen("Invalid parameter: "));
    }
    /* an existing SID, the default account's included */
    sf_account_params taken = {.sid = sf_fake_account_sid(fx->fake)};
    sf_error err;
    assert_status(sf_account_create(fx->fake, &taken, NULL, &err), SF_ERR_CONFLICT);
    assert_error(&err, SF_ERR_CONFLICT, 409, 20409);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

/* An account created with the SID the fake would mint next: minting skips past it, and giving
 * that SID again is a conflict that changes nothing. */
static void test_account_create_skips_minted_sid_taken_explicitly(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *peek = twin_new(fx->service_sid);
    sf_account_record next[2];
    assert_status(sf_account_create(peek, NULL, &next[0], NULL), SF_OK);
    assert_status(sf_account_create(peek, NULL, &next[1], NULL), SF_OK);
    fake_release(peek);

    sf_fake *twin = twin_new(fx->service_sid);
    sf_account_params explicit_sid = {.sid = next[0].sid, .auth_token = "chosen"};
    assert_status(sf_account_create(fx->fake, &explicit_sid, NULL, NULL), SF_OK);
    assert_status(sf_account_create(twin, &explicit_sid, NULL, NULL), SF_OK);
    sf_error err;
    sf_account_params again = {.sid = next[0].sid};
    assert_status(sf_account_create(fx->fake, &again, NULL, &err), SF_ERR_CONFLICT);
    assert_error(&err, SF_ERR_CONFLICT, 409, 20409);
    sf_account_record rec;
    assert_status(sf_account_create(fx->fake, NULL, &rec, &err), SF_OK);
    assert_string_equal(rec.sid, next[1].sid);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, next[0].sid, "chosen", who, NULL), SF_OK);
    assert_status(sf_authenticate(fx->fake, next[0].sid, next[0].auth_token, who, NULL), SF_ERR_AUTHENTICATE);
    /* the twin, without the conflict, agrees on everything minted since */
    sf_account_record trec;
    assert_status(sf_account_create(twin, NULL, &trec, NULL), SF_OK);
    assert_memory_equal(&rec, &trec, sizeof rec);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_api_key_create_rejects_malformed_and_taken_sids(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_fake *peek = twin_new(fx->service_sid);
    sf_api_key_record next, after;
    assert_status(sf_api_key_create(peek, NULL, NULL, &next, NULL), SF_OK);
    assert_status(sf_api_key_create(peek, NULL, NULL, &after, NULL), SF_OK);
    fake_release(peek);

    static char long_secret[SF_SECRET_CAP + 1];
    memset(long_secret, 's', SF_SECRET_CAP);
    const sf_api_key_params bad[] = {
        {.sid = "SK0123456789ABCDEF0123456789abcdef"},
        {.sid = "AC0123456789abcdef0123456789abcdef"},
        {.sid = "SK"},
        {.secret = ""},
        {.secret = "new\nline"},
        {.secret = long_secret},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        assert_status(sf_api_key_create(fx->fake, NULL, &bad[i], NULL, &err), SF_ERR_INVALID_ARGUMENT);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    }
    /* the SID the fake would mint next, taken explicitly: minting skips past it, and giving
     * it again is a conflict */
    sf_api_key_params explicit_sid = {.sid = next.sid, .secret = "chosen-secret"};
    assert_status(sf_api_key_create(fx->fake, NULL, &explicit_sid, NULL, NULL), SF_OK);
    assert_status(sf_api_key_create(twin, NULL, &explicit_sid, NULL, NULL), SF_OK);
    sf_error err;
    assert_status(sf_api_key_create(fx->fake, NULL, &explicit_sid, NULL, &err), SF_ERR_CONFLICT);
    assert_error(&err, SF_ERR_CONFLICT, 409, 20409);
    sf_api_key_params other_account = {.sid = next.sid};
    sf_account_record acct;
    assert_status(sf_account_create(fx->fake, NULL, &acct, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    assert_status(sf_api_key_create(fx->fake, acct.sid, &other_account, NULL, &err), SF_ERR_CONFLICT); /* key SIDs are unique across accounts */
    sf_api_key_record k1, k2;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &k1, NULL), SF_OK);
    assert_status(sf_api_key_create(twin, NULL, NULL, &k2, NULL), SF_OK);
    assert_string_equal(k1.sid, after.sid);
    assert_memory_equal(&k1, &k2, sizeof k1);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, next.sid, "chosen-secret", who, NULL), SF_OK);
    assert_string_equal(who, sf_fake_account_sid(fx->fake));
    /* nothing was spent: an account minted now has the same SID and token as on the twin */
    sf_account_record a1, a2;
    assert_status(sf_account_create(fx->fake, NULL, &a1, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, &a2, NULL), SF_OK);
    assert_memory_equal(&a1, &a2, sizeof a1);
    fake_release(twin);
}

static void test_authenticate_rejects_null_and_wrong_credentials(void **state)
{
    sf_fixture *fx = *state;
    const char *sid = sf_fake_account_sid(fx->fake);
    const char *token = sf_fake_auth_token(fx->fake);
    sf_api_key_record key;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &key, NULL), SF_OK);
    char wrong_len[SF_SECRET_CAP + 8];
    snprintf(wrong_len, sizeof wrong_len, "%sx", token);
    struct {
        const char *user, *password;
    } bad[] = {
        {NULL, token},  {sid, NULL},      {NULL, NULL},        {sid, ""},
        {sid, "nope"},  {sid, wrong_len}, {key.sid, token},    {key.sid, ""},
        {"", token},    {"user", token},  {"AC0000000000000000000000000000000", token},
        {"AC00000000000000000000000000000000", token},
        {"SK00000000000000000000000000000000", key.secret},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        char who[SF_SID_SIZE] = "untouched";
        memset(&err, 0, sizeof err);
        assert_status(sf_authenticate(fx->fake, bad[i].user, bad[i].password, who, &err), SF_ERR_AUTHENTICATE);
        assert_error(&err, SF_ERR_AUTHENTICATE, 401, 20003);
        assert_string_equal(err.message, "Authenticate");
        assert_string_equal(who, "untouched");
    }
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, sid, token, who, NULL), SF_OK);
    assert_string_equal(who, sid);
    assert_status(sf_authenticate(fx->fake, key.sid, key.secret, NULL, NULL), SF_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* Clock                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_clock_refuses_backward_negative_and_overflowing_moves(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record rec;
    sf_fixture_stream(fx, "expiring", 2, &rec);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 1000, &err), SF_OK);
    assert_status(sf_clock_set(fx->fake, SF_DEFAULT_EPOCH_MS + 999, &err), SF_ERR_INVALID_ARGUMENT);
    assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    assert_status(sf_clock_set(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(fx->fake, -1, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "delta_ms must be >= 0 and fit");
    assert_status(sf_clock_advance(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(fx->fake, INT64_MAX, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(fx->fake), SF_DEFAULT_EPOCH_MS + 1000);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_int_equal(sf_run_due(fx->fake), 0);
    /* setting to now is allowed and changes nothing */
    assert_status(sf_clock_set(fx->fake, SF_DEFAULT_EPOCH_MS + 1000, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
}

static sf_ms callback_time = SF_DEFAULT_EPOCH_MS;
static sf_ms read_callback_time(void *user)
{
    (void)user;
    return callback_time;
}

static void test_clock_moves_are_refused_for_non_manual_clocks(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        sf_options opts;
        sf_options_init(&opts);
        if (kind == 0) {
            opts.clock = SF_CLOCK_SYSTEM;
        } else {
            opts.clock = SF_CLOCK_CALLBACK;
            opts.clock_fn = read_callback_time;
        }
        sf_fake *fake = NULL;
        assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
        held_fake(fake);
        sf_ms before = sf_clock_now(fake);
        sf_error err;
        assert_status(sf_clock_advance(fake, 1000, &err), SF_ERR_CLOCK_NOT_MANUAL);
        assert_error(&err, SF_ERR_CLOCK_NOT_MANUAL, 400, 20001);
        assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
        assert_status(sf_clock_set(fake, before + 1000, &err), SF_ERR_CLOCK_NOT_MANUAL);
        assert_error(&err, SF_ERR_CLOCK_NOT_MANUAL, 400, 20001);
        assert_true(sf_clock_now(fake) < before + 1000 || kind == 0);
        fake_release(fake);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Subscribers, fault rules, injections, journal                                             */
/* ---------------------------------------------------------------------------------------- */

static void test_subscribe_rejects_missing_callback_and_unknown_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    sf_error err;
    sf_subscriber_id id = 42;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", NULL, &id, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "on_event callback is required");
    sf_subscribe_params none = {.user = &err};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &none, &id, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "on_event callback is required");
    sf_subscribe_params ok = {.on_event = ignore_event};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "ghost", &ok, &id, &err), SF_ERR_NOT_FOUND);
    assert_error(&err, SF_ERR_NOT_FOUND, 404, 20404);
    assert_status(sf_subscribe(fx->fake, NULL, NULL, "s", &ok, &id, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, NULL, &ok, &id, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(id, 42);
    sf_stream_stats stats;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "s", &stats, NULL), SF_OK);
    assert_int_equal(stats.subscribers, 0);
    /* nothing spent: the first subscriber still gets id 1 */
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &ok, &id, NULL), SF_OK);
    assert_int_equal(id, 1);
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "s", NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
}

static void test_unknown_subscriber_ids_are_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    sf_subscribe_params ok = {.on_event = ignore_event};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &ok, &id, NULL), SF_OK);
    const sf_subscriber_id unknown[] = {0, id + 1, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        sf_error err;
        sf_subscriber_stats st;
        char detail[64];
        snprintf(detail, sizeof detail, "unknown subscriber %llu",
                 (unsigned long long)unknown[i]);
#define REJECTS_ID(call)                                                                       \
    do {                                                                                       \
        memset(&err, 0, sizeof err);                                                           \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                       \
        assert_invalid_argument(&err, detail);                                                 \
    } while (0)
        REJECTS_ID(sf_unsubscribe(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_hold(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_heal(fx->fake, unknown[i], true, &err));
        REJECTS_ID(sf_subscriber_disconnect(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_reconnect(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_stats_get(fx->fake, unknown[i], &st, &err));
#undef REJECTS_ID
    }
    sf_error err;
    assert_status(sf_subscriber_stats_get(fx->fake, id, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    /* detaching twice is not an error, and the record stays readable */
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, id, &st, &err), SF_OK);
    assert_false(st.attached);
}

static void test_fault_add_rejects_invalid_rules(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record rec;
    sf_fixture_stream(fx, "s", -1, &rec);
    sf_subscribe_params ok = {.on_event = ignore_event};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &ok, &id, NULL), SF_OK);
    const sf_fault_params bad[] = {
        {.scope = SF_SCOPE_FAKE, .drop_rate = -0.1},
        {.scope = SF_SCOPE_FAKE, .drop_rate = 1.5},
        {.scope = SF_SCOPE_FAKE, .drop_rate = 0.0 / 0.0},
        {.scope = SF_SCOPE_FAKE, .duplicate_rate = 2.0},
        {.scope = SF_SCOPE_FAKE, .delay_ms = -1},
        {.scope = SF_SCOPE_FAKE, .jitter_ms = -1},
        {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = -1},
        {.scope = SF_SCOPE_FAKE, .delay_ms = (INT64_C(1) << 40) + 1},
        {.scope = SF_SCOPE_FAKE, .jitter_ms = INT64_MAX},
        {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = INT64_MAX},
        {.scope = SF_SCOPE_STREAM},
        {.scope = SF_SCOPE_STREAM, .stream_sid = "s"},
        {.scope = SF_SCOPE_STREAM, .stream_sid = "IS0123456789abcdef0123456789abcdef"},
        {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 0},
        {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 99},
        {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 1, .expiry_lag_ms = 10},
        {.scope = (sf_fault_scope)9},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_fault_id fid = 1234;
        memset(&err, 0, sizeof err);
        sf_status st = sf_fault_add(fx->fake, &bad[i], &fid, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("rule #%zu: %s, want SF_ERR_INVALID_ARGUMENT", i, sf_status_name(st));
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
        assert_true(strlen(err.message) > strlen("Invalid parameter: "));
        assert_int_equal(fid, 1234);
    }
    sf_error err;
    assert_status(sf_fault_add(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "params is NULL");
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    /* nothing spent: the first rule still gets id 1; unknown ids cannot be removed */
    sf_fault_params good = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = id, .drop_rate = 1.0};
    sf_fault_id fid;
    assert_status(sf_fault_add(fx->fake, &good, &fid, &err), SF_OK);
    assert_int_equal(fid, 1);
    assert_status(sf_fault_remove(fx->fake, 2, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "unknown rule 2");
    assert_status(sf_fault_remove(fx->fake, 0, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_fault_remove(fx->fake, fid, &err), SF_OK);
    assert_status(sf_fault_remove(fx->fake, fid, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
}

static void test_inject_error_rejects_invalid_injections(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    const sf_error_injection bad[] = {
        {.op = SF_OP_COUNT, .count = 1, .http_status = 500},
        {.op = (sf_op)-1, .count = 1, .http_status = 500},
        {.op = SF_OP_STREAM_FETCH, .count = 0, .http_status = 500},
        {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 399},
        {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 600},
        {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 500, .code = -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        assert_status(sf_inject_error(fx->fake, &bad[i], &err), SF_ERR_INVALID_ARGUMENT);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    }
    sf_error err;
    assert_status(sf_inject_error(fx->fake, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "inj is NULL");
    /* none of them was queued */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "s", NULL, &err), SF_OK);
    /* a message longer than the error body holds is cut, not overrun */
    char *huge = filled(10 * KB, 'm');
    sf_error_injection loud = {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 502,
                               .message = huge};
    assert_status(sf_inject_error(fx->fake, &loud, &err), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "s", NULL, &err), SF_ERR_INJECTED);
    assert_int_equal(err.http_status, 502);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.more_info, "");
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    assert_true(strncmp(err.message, "mmmm", 4) == 0);
    block_release(huge);
}

static void test_journal_queries_reject_missing_outputs(void **state)
{
    sf_fixture *fx = *state;
    assert_true(sf_journal_count(fx->fake) > 0); /* the fixture's service.create */
    uint64_t cursor = 0;
    sf_journal_entry e;
    assert_false(sf_journal_next(fx->fake, NULL, NULL, &e));
    assert_false(sf_journal_next(fx->fake, NULL, &cursor, NULL));
    assert_int_equal(cursor, 0);
    sf_error err;
    assert_status(sf_journal_write(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    /* a stream that cannot be written to */
    FILE *read_only = fopen("/dev/null", "r");
    assert_non_null(read_only);
    assert_status(sf_journal_write(fx->fake, NULL, read_only, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "journal write failed");
    fclose(read_only);
    /* rendering into no buffer only measures */
    size_t need = sf_journal_render(fx->fake, NULL, NULL, 0);
    assert_true(need > 0);
    char small[4] = "abc";
    assert_int_equal(sf_journal_render(fx->fake, NULL, small, sizeof small), need);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_true(sf_journal_next(fx->fake, NULL, &cursor, &e));
    assert_int_equal(sf_journal_entry_json(&e, NULL, 0), sf_journal_entry_json(&e, small, 1));
    assert_string_equal(small, "");
    /* names of out-of-range values */
    assert_null(sf_op_name(SF_OP_COUNT));
    assert_null(sf_op_name((sf_op)-1));
    assert_null(sf_journal_kind_name(SF_JOURNAL_KIND_COUNT));
    sf_op op = SF_OP_STREAM_LIST;
    assert_false(sf_op_parse(NULL, &op));
    assert_false(sf_op_parse("stream.explode", &op));
    assert_false(sf_op_parse("", &op));
    assert_int_equal(op, SF_OP_STREAM_LIST);
    assert_true(sf_op_parse("stream.create", NULL));
}

/* What a callback may not do: move the clock, reset the fake, run the queue. */
typedef struct misuse {
    sf_status reset, advance, set;
    size_t run_due, run_idle;
    int calls;
} misuse;

static void misbehave(sf_fake *fake, const sf_event *ev, void *user)
{
    misuse *m = user;
    (void)ev;
    m->calls++;
    m->reset = sf_fake_reset(fake, NULL);
    m->advance = sf_clock_advance(fake, 1000, NULL);
    m->set = sf_clock_set(fake, sf_clock_now(fake) + 1000, NULL);
    m->run_due = sf_run_due(fake);
    m->run_idle = sf_run_until_idle(fake);
}

static void test_callbacks_cannot_reset_or_move_the_clock(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    sf_fixture_stream(fx, "later", 60, &(sf_stream_record){0});
    misuse m = {SF_OK, SF_OK, SF_OK, 99, 99, 0};
    sf_subscribe_params p = {.on_event = misbehave, .user = &m};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &p, NULL, NULL), SF_OK);
    sf_ms before = sf_clock_now(fx->fake);
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "s", &ok_data, NULL,
                                       NULL), SF_OK);
    assert_int_equal(m.calls, 1);
    assert_status(m.reset, SF_ERR_INVALID_ARGUMENT);
    assert_status(m.advance, SF_ERR_INVALID_ARGUMENT);
    assert_status(m.set, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(m.run_due, 0);
    assert_int_equal(m.run_idle, 0);
    assert_int_equal(sf_clock_now(fx->fake), before);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "later", NULL, NULL), SF_OK);
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, NULL, NULL), SF_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers of the public header                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_status_queries_clamp_unknown_status(void **state)
{
    (void)state;
    const sf_status unknown[] = {SF_STATUS_COUNT, (sf_status)999, (sf_status)-1};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(sf_status_name(unknown[i]), "SF_ERR_INVALID_ARGUMENT");
        assert_string_equal(sf_status_message(unknown[i]), "Invalid parameter");
        assert_int_equal(sf_status_http(unknown[i]), 400);
        assert_int_equal(sf_status_code(unknown[i]), 20001);
    }
    assert_string_equal(sf_status_name(SF_OK), "SF_OK");
    assert_int_equal(sf_status_http(SF_ERR_NOMEM), 500);
    assert_int_equal(sf_status_code(SF_ERR_NOMEM), 20500);
}

static void test_sid_is_rejects_null_and_malformed_input(void **state)
{
    (void)state;
    const char *sid = "TO0123456789abcdef0123456789ABCDEF";
    assert_true(sf_sid_is(sid, "TO"));
    assert_false(sf_sid_is(NULL, "TO"));
    assert_false(sf_sid_is(sid, NULL));
    assert_false(sf_sid_is(sid, "T"));
    assert_false(sf_sid_is(sid, "TOO"));
    assert_false(sf_sid_is(sid, ""));
    assert_false(sf_sid_is(sid, "IS"));
    assert_false(sf_sid_is("", "TO"));
    assert_false(sf_sid_is("T", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789ABCDE", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789ABCDEF0", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789ABCDEg", "TO"));
    assert_false(sf_sid_is("to0123456789abcdef0123456789ABCDEF", "TO"));
}

static void test_json_compact_object_rejects_bad_arguments(void **state)
{
    (void)state;
    const char text[] = "{ \"a\" : 1 }";
    size_t len = sizeof text - 1, out_len = 99;
    char out[64];
    assert_status(sf_json_compact_object(NULL, len, out, sizeof out, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(text, len, NULL, sizeof out, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(text, len, out, sizeof out, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(text, len, out, len, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(out_len, 99);
    /* longer than SF_DATA_CAP, with room to spare */
    size_t big = SF_DATA_CAP + 1;
    char *in = filled(big, ' ');
    char *dst = filled(big + 1, '\0');
    in[0] = '{';
    in[big - 1] = '}';
    assert_status(sf_json_compact_object(in, big, dst, big + 1, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(in, big - 1, dst, big + 1, &out_len), SF_ERR_DATA_INVALID); /* its closing brace cut off */
    in[big - 2] = '}';
    assert_status(sf_json_compact_object(in, big - 1, dst, big + 1, &out_len), SF_OK);
    assert_string_equal(dst, "{}");
    block_release(in);
    block_release(dst);
    assert_status(sf_json_compact_object(text, len, out, len + 1, &out_len), SF_OK);
    assert_string_equal(out, "{\"a\":1}");
    assert_int_equal(out_len, 7);
}

/* ---------------------------------------------------------------------------------------- */

static int teardown(void **state)
{
    release_held();
    return sf_fixture_teardown(state);
}

static int teardown_held(void **state)
{
    (void)state;
    release_held();
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, teardown)
#define S(name) cmocka_unit_test_teardown(name, teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_null_fake_is_rejected_by_every_endpoint),
        S(test_null_fake_queries_answer_nothing),
        T(test_page_free_with_null_page_or_fake_is_a_no_op),
        S(test_fake_new_without_out_is_invalid_argument),
        S(test_fake_new_rejects_every_invalid_option),
        S(test_fake_new_accepts_options_at_their_limits),
        T(test_null_err_is_accepted_on_success_and_failure),
        T(test_null_record_out_is_allowed_for_create_fetch_update),
        T(test_list_and_rate_state_outputs_are_required),
        T(test_null_service_sid_is_invalid_argument),
        T(test_null_stream_id_is_invalid_argument),
        T(test_unique_name_of_100_kb_is_invalid_unique_name),
        T(test_unique_name_bounds_and_shape),
        T(test_fetch_with_100_kb_stream_id_is_not_found_with_bounded_message),
        T(test_friendly_name_of_10_kb_is_invalid_friendly_name),
        T(test_webhook_url_of_10_kb_is_invalid_webhook_url),
        T(test_publish_of_1_mb_is_request_entity_too_large),
        T(test_publish_data_with_embedded_nul_is_invalid_json),
        T(test_publish_without_data_is_data_missing),
        S(test_publish_beyond_burst_is_rate_limited_without_taking_a_token),
        T(test_invalid_opt_bool_is_invalid_parameter),
        T(test_debouncing_window_out_of_range_is_invalid_parameter),
        T(test_ttl_out_of_range_is_invalid_ttl),
        T(test_page_params_out_of_range_are_rejected),
        T(test_unknown_ids_are_not_found_naming_the_path),
        T(test_account_create_rejects_malformed_sid_and_token),
        T(test_account_create_skips_minted_sid_taken_explicitly),
        T(test_api_key_create_rejects_malformed_and_taken_sids),
        T(test_authenticate_rejects_null_and_wrong_credentials),
        T(test_clock_refuses_backward_negative_and_overflowing_moves),
        S(test_clock_moves_are_refused_for_non_manual_clocks),
        T(test_subscribe_rejects_missing_callback_and_unknown_stream),
        T(test_unknown_subscriber_ids_are_invalid_argument),
        T(test_fault_add_rejects_invalid_rules),
        T(test_inject_error_rejects_invalid_injections),
        T(test_journal_queries_reject_missing_outputs),
        T(test_callbacks_cannot_reset_or_move_the_clock),
        S(test_status_queries_clamp_unknown_status),
        S(test_sid_is_rejects_null_and_malformed_input),
        S(test_json_compact_object_rejects_bad_arguments),
    };
    return cmocka_run_group_tests_name("bad_args", tests, NULL, NULL);
}
