/* SPDX-License-Identifier: MIT */
/* fake.c: options, lifecycle and reset of a fake. */
#include "internal.h"
#include "journal_params.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(size_t size, void *user)
{
    (void)user;
    return malloc(size);
}
static void *libc_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    return realloc(ptr, size);
}
static void libc_free(void *ptr, void *user)
{
    (void)user;
    free(ptr);
}

void sf_limits_init(sf_limits *limits)
{
    if (!limits)
        return;
    limits->max_data_bytes = 4096;
    limits->publish_rate_per_s = 30;
    limits->publish_burst = 300;
    limits->unique_name_max = 320;
    limits->ttl_max_s = 31536000;
    limits->page_size_default = 50;
    limits->page_size_max = 100;
    limits->friendly_name_max = 255;
    limits->webhook_url_max = 512;
    limits->debouncing_window_min_ms = 1000;
    limits->debouncing_window_max_ms = 30000;
}

void sf_options_init(sf_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->seed = 1;
    opts->clock = SF_CLOCK_MANUAL;
    opts->manual_start_ms = SF_DEFAULT_EPOCH_MS;
    opts->journal_capacity = 65536;
    sf_limits_init(&opts->limits);
}

static sf_status check_limits(const sf_limits *l, sf_error *err)
{
    const char *bad = NULL;
    if (l->max_data_bytes < 2 || l->max_data_bytes > SF_DATA_CAP)
        bad = "max_data_bytes must be 2..SF_DATA_CAP";
    else if (l->publish_burst < 1 || l->publish_burst > 1000000)
        bad = "publish_burst must be 1..1000000";
    else if (l->publish_rate_per_s > 1000000)
        bad = "publish_rate_per_s must be 0..1000000";
    else if (l->unique_name_max < 1 || l->unique_name_max > SF_UNIQUE_NAME_CAP)
        bad = "unique_name_max must be 1..SF_UNIQUE_NAME_CAP";
    else if (l->ttl_max_s < 0 || l->ttl_max_s > INT64_C(100) * 365 * 86400)
        bad = "ttl_max_s must be 0..100 years";
    else if (l->page_size_max < 1 || l->page_size_max > SF_PAGE_SIZE_CAP)
        bad = "page_size_max must be 1..SF_PAGE_SIZE_CAP";
    else if (l->page_size_default < 1 || l->page_size_default > l->page_size_max)
        bad = "page_size_default must be 1..page_size_max";
    else if (l->friendly_name_max < 1 || l->friendly_name_max > SF_FRIENDLY_NAME_CAP)
        bad = "friendly_name_max must be 1..SF_FRIENDLY_NAME_CAP";
    else if (l->webhook_url_max < 1 || l->webhook_url_max > SF_WEBHOOK_URL_CAP)
        bad = "webhook_url_max must be 1..SF_WEBHOOK_URL_CAP";
    else if (l->debouncing_window_min_ms < 0 ||
             l->debouncing_window_min_ms > l->debouncing_window_max_ms)
        bad = "debouncing window bounds must satisfy 0 <= min <= max";
    if (bad)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s", bad);
    return SF_OK;
}

/* http(s)://..., printable, nothing that would need escaping inside a JSON string. */
static bool valid_base_url(const char *url)
{
    size_t n = strnlen(url, SF_BASE_URL_CAP);
    if (n >= SF_BASE_URL_CAP || (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)url[i]) || url[i] == '"' || url[i] == '\\')
            return false;
    return url[n - 1] != '/';
}

static sf_status check_options(const sf_options *o, sf_error *err)
{
    const sf_allocator *a = &o->allocator;
    bool some = a->malloc_fn || a->realloc_fn || a->free_fn;
    bool all = a->malloc_fn && a->realloc_fn && a->free_fn;
    if (some && !all)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "allocator needs all three");
    if (o->clock > SF_CLOCK_CALLBACK || (o->clock == SF_CLOCK_CALLBACK && !o->clock_fn))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "clock callback missing");
    if (o->account_sid &&
        !(sf_sid_is(o->account_sid, "AC") && strspn(o->account_sid + 2, "0123456789abcdef") == 32))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "account_sid must be AC + 32 lowercase hex digits");
    if (o->auth_token && !sf__valid_secret(o->auth_token))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "auth_token must be 1..127 printable characters");
    if (o->base_url && !valid_base_url(o->base_url))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "base_url must be an http(s) URL shorter than SF_BASE_URL_CAP");
    if (o->clock == SF_CLOCK_MANUAL &&
        (o->manual_start_ms < SF_TIME_MIN_MS || o->manual_start_ms > SF_TIME_MAX_MS))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "manual_start_ms must be within %lld..%lld "
                               "(1970-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z)",
                               (long long)SF_TIME_MIN_MS, (long long)SF_TIME_MAX_MS);
    if (o->journal_capacity > ((size_t)1 << 26))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "journal_capacity above 2^26");
    return check_limits(&o->limits, err);
}

/* The clock, counters and queues of a fresh fake (everything but the default account). */
static void reset_counters(sf_fake *fake)
{
    fake->now = fake->opts.clock == SF_CLOCK_MANUAL ? fake->opts.manual_start_ms : 0;
    fake->next_seq = 1;
    memset(fake->sid_counter, 0, sizeof fake->sid_counter);
    sf__timerq_init(&fake->timers);
    sf__journal_init(&fake->journal, fake->opts.journal_capacity);
    fake->next_rule_id = 1;
}

/* Builds the default account, the one thing a fresh fake holds. */
static sf_status start_fresh(sf_fake *fake, sf_error *err)
{
    reset_counters(fake);
    fake->accounts = NULL;
    fake->api_keys = NULL;
    fake->services = NULL;
    fake->streams = (sf__stream_index){0};

    char token[33];
    const char *auth = fake->auth_token_copy[0] ? fake->auth_token_copy : NULL;
    if (!auth) {
        sf__secret_mint(fake, token);
        auth = token;
    }
    const char *sid = fake->account_sid_copy[0] ? fake->account_sid_copy : NULL;
    sf_status st = sf__account_add(fake, sid, auth, &fake->default_account, err);
    /* what a reset restores: the counters as they stand right after the default account */
    fake->fresh_next_seq = fake->next_seq;
    memcpy(fake->fresh_sid_counter, fake->sid_counter, sizeof fake->sid_counter);
    return st;
}

/* Frees everything but the fake itself, its scratch buffers and (keep_default) the default
 * account. Streams go first (no callbacks), which detaches every subscriber; what is then
 * left in the queue is deliveries. */
static void tear_down(sf_fake *fake, bool keep_default)
{
    while (fake->api_keys) {
        sf__api_key *k = fake->api_keys;
        sf__table_del_api_key(fake, k);
        sf__free(fake, k);
    }
    sf__account *a = fake->accounts, *next;
    for (; a; a = next) {
        next = a->hh.next;
        if (a != fake->default_account || !keep_default)
            sf__account_destroy(fake, a);
    }
    if (keep_default)
        while (fake->default_account->services.head)
            sf__service_destroy(
                fake, SF__CONTAINER_OF(fake->default_account->services.head, sf__service, order),
                false);
    else
        fake->default_account = NULL;
    sf__deliveries_release(fake);
    sf__timerq_release(fake, &fake->timers);
    sf__subscribers_release(fake);
    sf__faults_release(fake);
    sf__journal_release(fake, &fake->journal);
}

sf_status sf_fake_new(const sf_options *opts, sf_fake **out, sf_error *err)
{
    sf_options defaults;
    if (!out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    if (!opts) {
        sf_options_init(&defaults);
        opts = &defaults;
    }
    sf_status st = check_options(opts, err);
    if (st != SF_OK)
        return st;

    sf_allocator alloc = opts->allocator;
    if (!alloc.malloc_fn)
        alloc = (sf_allocator){libc_malloc, libc_realloc, libc_free, NULL};
    sf_fake *fake = alloc.malloc_fn(sizeof *fake, alloc.user);
    if (!fake)
        return sf__fail(err, SF_ERR_NOMEM);
    memset(fake, 0, sizeof *fake);
    fake->alloc = alloc;
    fake->opts = *opts;
    if (opts->account_sid)
        memcpy(fake->account_sid_copy, opts->account_sid, SF_SID_SIZE);
    if (opts->auth_token)
        strcpy(fake->auth_token_copy, opts->auth_token);
    strcpy(fake->base_url_copy, opts->base_url ? opts->base_url : SF_DEFAULT_BASE_URL);
    fake->opts.base_url = fake->base_url_copy;
    fake->opts.allocator = alloc;

    st = sf__json_scratch_init(fake);
    if (st == SF_OK)
        st = start_fresh(fake, err);
    else
        sf__fail(err, st);
    if (st == SF_OK && (st = sf__params_start(fake)) != SF_OK)
        sf__fail(err, st);
    if (st != SF_OK) {
        sf_fake_free(fake);
        return st;
    }
    /* the options report what is in force, including minted credentials */
    fake->opts.account_sid = fake->default_account->sid;
    fake->opts.auth_token = fake->default_account->auth_token;
    *out = fake;
    sf__ok(err);
    return SF_OK;
}

void sf_fake_free(sf_fake *fake)
{
    if (!fake)
        return;
    if (fake->dispatch_depth > 0) {
        /* the calls that ran this callback still hold pointers into the fake */
        fake->free_requested = true;
        return;
    }
    tear_down(fake, false);
    sf__sindex_release(fake, &fake->streams);
    sf__slabs_release(fake);
    sf__notes_release(fake);
    sf__params_release(fake);
    sf__free(fake, fake->json_tokens);
    sf__free(fake, fake->json_frames);
    sf__free(fake, fake->data_out[0]);
    sf__free(fake, fake->data_out[1]);
    sf_allocator alloc = fake->alloc;
    alloc.free_fn(fake, alloc.user);
}

void sf__leave(sf_fake **fake)
{
    if (*fake && (*fake)->free_requested && (*fake)->dispatch_depth == 0)
        sf_fake_free(*fake);
}

sf_status sf_fake_reset(sf_fake *fake, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    if (fake->dispatch_depth > 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "a fake cannot be reset inside a subscriber callback");
    /* The default account is kept, not rebuilt, so a reset allocates nothing and cannot
     * fail; the counters go back to where a new fake has them. */
    tear_down(fake, true);
    reset_counters(fake);
    fake->generation++;
    fake->next_seq = fake->fresh_next_seq;
    memcpy(fake->sid_counter, fake->fresh_sid_counter, sizeof fake->sid_counter);
    sf__params_start(fake); /* the store exists already: this allocates no more than an entry */
    sf__ok(err);
    return SF_OK;
}

const sf_options *sf_fake_options(const sf_fake *fake) { return fake ? &fake->opts : NULL; }

uint64_t sf_fake_generation(const sf_fake *fake) { return fake ? fake->generation : 0; }

const char *sf_fake_account_sid(const sf_fake *fake)
{
    return fake && fake->default_account ? fake->default_account->sid : NULL;
}

const char *sf_fake_auth_token(const sf_fake *fake)
{
    return fake && fake->default_account ? fake->default_account->auth_token : NULL;
}
