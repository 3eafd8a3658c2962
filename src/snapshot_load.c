/* SPDX-License-Identifier: MIT */
/* snapshot_load.c: a fake from a snapshot: the header, options, counters, accounts, keys,
 * services and streams (the queue, rules and journal are in snapshot_load_queue.c). A new
 * fake is made with the saved options (so they are checked as sf_fake_new checks them), its
 * default account is dropped, and the saved state is built into it record by record, each
 * checked as it is read. Every step leaves a fake that sf_fake_free can release, so any
 * failure frees what was built and hands back nothing. */
#include "snapshot_internal.h"

/* Appends item to an array of pointers, grown by doubling; false when out of memory. */
static bool push(sf_fake *fake, void ***arr, size_t *count, size_t *cap, void *item)
{
    void **n = sf__array_grow(fake, *arr, cap, *count + 1, sizeof *n, 16);
    if (!n)
        return false;
    *arr = n;
    (*arr)[(*count)++] = item;
    return true;
}

bool sf__load_account_ref(sf__load_ctx *c, sf__account **out)
{
    uint32_t ref;
    if (!sf__sr_u32(c->r, &ref))
        return false;
    if (ref > c->account_count)
        return sf__sr_fail(c->r, "corrupt: account reference %u of %zu", ref, c->account_count);
    *out = ref ? c->accounts[ref - 1] : NULL;
    return true;
}

static bool load_limits(sf__snap_reader *r, sf_limits *l)
{
    uint64_t data = 0, name = 0, friendly = 0, webhook = 0; /* a short read stops midway */
    bool ok = sf__sr_u64(r, &data) && sf__sr_u32(r, &l->publish_rate_per_s) &&
              sf__sr_u32(r, &l->publish_burst) && sf__sr_u64(r, &name) &&
              sf__sr_i64(r, &l->ttl_max_s) && sf__sr_u32(r, &l->page_size_default) &&
              sf__sr_u32(r, &l->page_size_max) && sf__sr_u64(r, &friendly) &&
              sf__sr_u64(r, &webhook) && sf__sr_i64(r, &l->debouncing_window_min_ms) &&
              sf__sr_i64(r, &l->debouncing_window_max_ms);
    /* sf_fake_new checks the ranges; these only must fit a size_t */
    l->max_data_bytes = data > SF_DATA_CAP ? 0 : (size_t)data;
    l->unique_name_max = name > SF_UNIQUE_NAME_CAP ? 0 : (size_t)name;
    l->friendly_name_max = friendly > SF_FRIENDLY_NAME_CAP ? 0 : (size_t)friendly;
    l->webhook_url_max = webhook > SF_WEBHOOK_URL_CAP ? 0 : (size_t)webhook;
    return ok;
}

typedef struct saved_options {
    sf_options opts;
    char base_url[SF_BASE_URL_CAP], account_sid[SF_SID_SIZE], auth_token[SF_SECRET_CAP];
} saved_options;

/* The header and options; opts' allocator and clock source are kept. */
static bool load_options(sf__snap_reader *r, const sf_options *given, saved_options *s)
{
    char magic[8];
    uint32_t version;
    uint8_t clock;
    uint64_t journal;
    if (!sf__sr_bytes(r, magic, 8))
        return false;
    if (memcmp(magic, SF__SNAP_MAGIC, 8) != 0)
        return sf__sr_fail(r, "not a syncfake snapshot");
    if (!sf__sr_version(r, &version))
        return false;
    sf_options *o = &s->opts;
    sf_options_init(o);
    if (given) {
        o->allocator = given->allocator;
        o->clock = given->clock;
        o->clock_fn = given->clock_fn;
        o->clock_user = given->clock_user;
    }
    if (!sf__sr_u64(r, &o->seed) || !sf__sr_u8(r, &clock) || !sf__sr_time(r, &o->manual_start_ms) ||
        !sf__sr_str(r, s->base_url, sizeof s->base_url, NULL) || !sf__sr_u64(r, &journal) ||
        !sf__sr_str(r, s->account_sid, sizeof s->account_sid, NULL) ||
        !sf__sr_str(r, s->auth_token, sizeof s->auth_token, NULL) || !load_limits(r, &o->limits))
        return false;
    if (clock > SF_CLOCK_CALLBACK || journal > ((size_t)1 << 26))
        return sf__sr_fail(r, "corrupt: options out of range");
    o->journal_capacity = (size_t)journal;
    o->base_url = s->base_url;
    o->account_sid = s->account_sid[0] ? s->account_sid : NULL;
    o->auth_token = s->auth_token[0] ? s->auth_token : NULL;
    return true;
}

static bool load_counters(sf__snap_reader *r, sf_fake *fake)
{
    bool ok = sf__sr_time(r, &fake->now) && sf__sr_u64(r, &fake->next_seq);
    for (int k = 0; ok && k < SF__SID_KIND_COUNT; k++)
        ok = sf__sr_u64(r, &fake->sid_counter[k]);
    ok = ok && sf__sr_u64(r, &fake->generation) && sf__sr_u64(r, &fake->fresh_next_seq);
    for (int k = 0; ok && k < SF__SID_KIND_COUNT; k++)
        ok = sf__sr_u64(r, &fake->fresh_sid_counter[k]);
    uint64_t last_sub = 0;
    ok = ok && sf__sr_u64(r, &last_sub) && sf__sr_u32(r, &fake->next_rule_id) &&
         sf__sr_u64(r, &fake->timers.next_seq);
    fake->last_sub_id = last_sub;
    if (ok && fake->next_rule_id == 0)
        return sf__sr_fail(r, "corrupt: rule id counter is 0");
    return ok;
}

static bool load_accounts(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    sf__snap_reader *r = c->r;
    uint32_t n, default_index;
    size_t cap = 0;
    if (!sf__sr_u32(r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        char sid[SF_SID_SIZE], token[SF_SECRET_CAP];
        uint64_t seq;
        if (!sf__sr_sid(r, "AC", sid) || !sf__sr_str(r, token, sizeof token, NULL) ||
            !sf__sr_u64(r, &seq))
            return false;
        if (!sf__valid_secret(token) || sf__find_account(fake, sid))
            return sf__sr_fail(r, "corrupt: account %s", sid);
        sf__account *a = sf__malloc(fake, sizeof *a);
        if (!a)
            return false;
        memset(a, 0, sizeof *a);
        memcpy(a->sid, sid, SF_SID_SIZE);
        strcpy(a->auth_token, token);
        a->seq = seq;
        sf__order_init(&a->services);
        if (!sf__table_add_account(fake, a)) {
            sf__free(fake, a);
            return false;
        }
        if (!push(fake, (void ***)&c->accounts, &c->account_count, &cap, a))
            return false;
    }
    if (!sf__sr_u32(r, &default_index))
        return false;
    if (default_index >= c->account_count)
        return sf__sr_fail(r, "corrupt: no default account");
    fake->default_account = c->accounts[default_index];
    return true;
}

static bool load_api_keys(sf__load_ctx *c)
{
    uint32_t n;
    if (!sf__sr_u32(c->r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        char sid[SF_SID_SIZE], secret[SF_SECRET_CAP];
        sf__account *a;
        if (!sf__sr_sid(c->r, "SK", sid) || !sf__sr_str(c->r, secret, sizeof secret, NULL) ||
            !sf__load_account_ref(c, &a))
            return false;
        if (!a || !sf__valid_secret(secret) || sf__find_api_key(c->fake, sid))
            return sf__sr_fail(c->r, "corrupt: API key %s", sid);
        sf__api_key *k = sf__malloc(c->fake, sizeof *k);
        if (!k)
            return false;
        memset(k, 0, sizeof *k);
        memcpy(k->sid, sid, SF_SID_SIZE);
        strcpy(k->secret, secret);
        k->account = a;
        if (!sf__table_add_api_key(c->fake, k)) {
            sf__free(c->fake, k);
            return false;
        }
    }
    return true;
}

/* A saved optional string as an allocated copy (*out NULL when absent). */
static bool load_text(sf__load_ctx *c, size_t cap, char **out)
{
    char *buf = sf__malloc(c->fake, cap);
    bool absent = true;
    *out = NULL;
    if (!buf)
        return false;
    bool ok = sf__sr_str(c->r, buf, cap, &absent);
    if (ok && !absent)
        *out = sf__strndup(c->fake, buf, strlen(buf));
    sf__free(c->fake, buf);
    return ok && (absent || *out);
}

static bool read_service(sf__load_ctx *c, sf__service *s, char **friendly, char **webhook)
{
    sf__snap_reader *r = c->r;
    uint8_t packed[16], flags;
    *friendly = *webhook = NULL;
    if (!sf__sr_bytes(r, packed, 16) || !sf__load_account_ref(c, &s->account) ||
        !load_text(c, SF_FRIENDLY_NAME_CAP * SF_UTF8_MAX + 1, friendly) ||
        !load_text(c, SF_WEBHOOK_URL_CAP + 1, webhook) || !sf__sr_u8(r, &flags) ||
        !sf__sr_i64(r, &s->reachability_debouncing_window) || !sf__sr_time(r, &s->date_created) ||
        !sf__sr_time(r, &s->date_updated) || !sf__sr_u64(r, &s->order.key))
        return false;
    memcpy(s->packed, packed, 16);
    sf__sid_unpack(packed, "IS", s->sid);
    s->webhooks_from_rest_enabled = flags & 1;
    s->reachability_webhooks_enabled = flags >> 1 & 1;
    s->acl_enabled = flags >> 2 & 1;
    s->reachability_debouncing_enabled = flags >> 3 & 1;
    const sf__order_node *last = s->account ? s->account->services.tail : NULL;
    if (!s->account || flags > 15 || sf__find_service_any(c->fake, s->sid) ||
        (last && last->key >= s->order.key))
        return sf__sr_fail(r, "corrupt: service %s", s->sid);
    return true;
}

static bool load_services(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    uint32_t n;
    size_t cap = 0;
    if (!sf__sr_u32(c->r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        sf__service *s = sf__malloc(fake, sizeof *s);
        if (!s)
            return false;
        memset(s, 0, sizeof *s);
        sf__order_init(&s->streams);
        char *friendly, *webhook;
        bool ok = read_service(c, s, &friendly, &webhook);
        s->friendly_name = friendly;
        s->webhook_url = webhook;
        if (ok &&
            (!sf__order_reserve(fake, &s->account->services) || !sf__table_add_service(fake, s)))
            ok = false;
        if (!ok) {
            sf__free(fake, friendly);
            sf__free(fake, webhook);
            sf__free(fake, s);
            return false;
        }
        sf__order_append(&s->account->services, &s->order);
        if (!push(fake, (void ***)&c->services, &c->service_count, &cap, s))
            return false;
    }
    return true;
}

bool sf__load_timer(sf__load_ctx *c, sf__timer *t, bool *armed)
{
    if (!sf__sr_bool(c->r, armed))
        return false;
    if (!*armed)
        return true;
    if (!sf__sr_time(c->r, &t->due) || !sf__sr_u64(c->r, &t->seq))
        return false;
    if (t->seq >= c->fake->timers.next_seq)
        return sf__sr_fail(c->r, "corrupt: event sequence %llu", (unsigned long long)t->seq);
    return true;
}

#define NAME_CAP (SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1)

static bool in_time(int64_t t) { return t >= SF_TIME_MIN_MS && t <= SF_TIME_MAX_MS; }

/* A stream record in one piece when all of it is in the buffer: fields at known offsets, one
 * bounds check. false, with nothing consumed, when it is not or when a check of its own fails
 * (read_stream_fields then reads it again and names the problem). */
static bool decode_stream(sf__load_ctx *c, sf__stream *s, uint32_t *svc, char *name, bool *absent,
                          bool *armed)
{
    sf__snap_reader *r = c->r;
    size_t avail = r->failed ? 0 : r->len - r->pos;
    const unsigned char *p = r->data + r->pos;
    if (avail < 24)
        return false;
    uint32_t n = (uint32_t)sf__le_get(p + 20, 4);
    *absent = n == SF__SNAP_NULL_STR;
    size_t len = *absent ? 0 : n;
    if (len >= NAME_CAP || avail - 24 < len + 42)
        return false;
    const unsigned char *q = p + 24 + len; /* the dates, the bucket, the two flags */
    size_t need = 24 + len + 42 + (q[41] == 1 ? 16 : 0) + 16;
    if (q[40] > 1 || q[41] > 1 || avail < need || memchr(p + 24, 0, len))
        return false;
    memcpy(name, p + 24, len);
    name[len] = '\0';
    memcpy(s->packed, p, 16);
    *svc = (uint32_t)sf__le_get(p + 16, 4);
    s->date_created = (sf_ms)sf__le_get(q, 8);
    s->date_updated = (sf_ms)sf__le_get(q + 8, 8);
    s->date_expires = (sf_ms)sf__le_get(q + 16, 8);
    s->bucket.milli_tokens = sf__le_get(q + 24, 8);
    s->bucket.refilled_at = (sf_ms)sf__le_get(q + 32, 8);
    s->lagging = q[40];
    *armed = q[41];
    const unsigned char *t = q + 42;
    if (*armed) {
        s->expiry.due = (sf_ms)sf__le_get(t, 8);
        s->expiry.seq = sf__le_get(t + 8, 8);
        t += 16;
    }
    s->order.key = sf__le_get(t, 8);
    s->messages_published = sf__le_get(t + 8, 8);
    if (!in_time(s->date_created) || !in_time(s->date_updated) || !in_time(s->bucket.refilled_at) ||
        (*armed && (!in_time(s->expiry.due) || s->expiry.seq >= c->fake->timers.next_seq)))
        return false;
    r->pos += need;
    return true;
}

static bool read_stream_fields(sf__load_ctx *c, sf__stream *s, uint32_t *svc, char *name,
                               bool *absent, bool *armed)
{
    sf__snap_reader *r = c->r;
    return sf__sr_bytes(r, s->packed, 16) && sf__sr_u32(r, svc) &&
           sf__sr_str(r, name, NAME_CAP, absent) && sf__sr_time(r, &s->date_created) &&
           sf__sr_time(r, &s->date_updated) && sf__sr_i64(r, &s->date_expires) &&
           sf__sr_u64(r, &s->bucket.milli_tokens) && sf__sr_time(r, &s->bucket.refilled_at) &&
           sf__sr_bool(r, &s->lagging) && sf__load_timer(c, &s->expiry, armed) &&
           sf__sr_u64(r, &s->order.key) && sf__sr_u64(r, &s->messages_published);
}

/* "corrupt: stream TO...", then `what`. */
static bool stream_fail(sf__snap_reader *r, const sf__stream *s, const char *what)
{
    char sid[SF_SID_SIZE];
    sf__stream_sid(s, sid);
    return sf__sr_fail(r, "corrupt: stream %s%s", sid, what);
}

static bool read_stream(sf__load_ctx *c, sf__stream *s, char *name, bool *named, bool *armed)
{
    sf__snap_reader *r = c->r;
    uint32_t svc;
    bool absent;
    if (!decode_stream(c, s, &svc, name, &absent, armed) &&
        !read_stream_fields(c, s, &svc, name, &absent, armed))
        return false;
    *named = !absent;
    s->service = svc < c->service_count ? c->services[svc] : NULL;
    const sf__order_node *last = s->service ? s->service->streams.tail : NULL;
    bool expires_ok = s->date_expires == SF__NEVER || in_time(s->date_expires);
    if (!s->service || !expires_ok || (*named && !name[0]) || (last && last->key >= s->order.key) ||
        (*named && sf__find_stream_name(c->fake, s->service, name, strlen(name))))
        return stream_fail(r, s, "");
    return true;
}

/* Links a read stream into its service, the tables and the queue; false: out of memory or
 * a SID taken (nothing linked, the stream and its name are the caller's to free). */
static bool link_stream(sf__load_ctx *c, sf__stream *s, sf__stream_name *n, bool armed)
{
    sf_fake *fake = c->fake;
    if (!sf__order_reserve(fake, &s->service->streams) ||
        (armed && !sf__timerq_reserve(fake, &fake->timers)) ||
        (n && !sf__table_reserve_name(fake, s->service)))
        return false;
    sf__table_result added = sf__table_add_stream_new(fake, s);
    if (added == SF__TABLE_TAKEN)
        return stream_fail(c->r, s, " twice");
    if (added == SF__TABLE_NOMEM)
        return false;
    if (n && !sf__table_add_name(fake, s->service, n)) {
        sf__table_del_stream(fake, s);
        return false;
    }
    s->name = n;
    sf__order_append(&s->service->streams, &s->order);
    if (armed)
        sf__timerq_restore(&fake->timers, &s->expiry, s->expiry.due, s->expiry.seq);
    return true;
}

#define STREAM_MIN_BYTES 82 /* a stream record without a name or an armed timer */

/* Buckets for the streams before they are added (`done` are): the saved count n, but when
 * the snapshot is in memory no more than the bytes left can hold (a corrupt count must not
 * allocate), else a slice at a time. *until: where to call again. */
static bool reserve_streams(sf__load_ctx *c, uint64_t n, uint64_t done, uint64_t *until)
{
    uint64_t want = done * 2 > 65536 ? done * 2 : 65536;
    if (!c->r->fn)
        want = done + 1 + (c->r->len - c->r->pos) / STREAM_MIN_BYTES;
    *until = want < n ? want : n;
    return sf__table_reserve_streams(c->fake, (size_t)*until);
}

/* The record of stream i of n, from the current slab or a new one sized as the buckets are
 * (the count itself when the bytes left can hold it, else a slice at a time). */
static sf__stream *next_record(sf__load_ctx *c, sf__slab **slab, uint64_t n, uint64_t i)
{
    sf__stream *s = sf__slab_take(*slab);
    if (!s) {
        uint64_t want = i > 4096 ? i : 4096;
        if (!c->r->fn)
            want = 1 + (c->r->len - c->r->pos) / STREAM_MIN_BYTES;
        *slab = sf__slab_new(c->fake, sizeof *s, (size_t)(want < n - i ? want : n - i));
        s = sf__slab_take(*slab);
    }
    if (s) {
        sf__stream_init(s);
        s->slab = *slab;
    }
    return s;
}

static bool load_streams(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    uint64_t n, until = 1;
    char name[NAME_CAP];
    sf__slab *slab = NULL;
    if (!sf__sr_u64(c->r, &n))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        sf__stream *s = next_record(c, &slab, n, i);
        if (!s)
            return false;
        bool named, armed;
        sf__stream_name *nm = NULL;
        bool ok = read_stream(c, s, name, &named, &armed);
        if (ok && named) {
            size_t len = strlen(name);
            nm = sf__malloc(fake, sizeof *nm + len + 1);
            ok = nm != NULL;
            if (ok) {
                nm->stream = s;
                nm->len = len;
                memcpy(nm->text, name, len + 1);
            }
        }
        if (!ok || !link_stream(c, s, nm, armed)) {
            sf__free(fake, nm);
            sf__stream_free(fake, s); /* may free the slab: the load stops here */
            return false;
        }
        if (i + 1 == until && !reserve_streams(c, n, i + 1, &until))
            return false;
    }
    return true;
}

static sf_status fail_from(sf__snap_reader *r, sf_error *err)
{
    if (r->failed)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s", r->why);
    return sf__fail(err, SF_ERR_NOMEM);
}

sf_status sf__snapshot_load(const sf_options *opts, sf__snap_reader *r, sf_fake **out,
                            sf_error *err)
{
    saved_options saved;
    sf_fake *fake = NULL;
    bool ok = load_options(r, opts, &saved);
    sf_status st = ok ? sf_fake_new(&saved.opts, &fake, err) : SF_OK;
    if (st != SF_OK)
        return st; /* options that sf_fake_new refuses: its message names which */
    if (!ok)
        return fail_from(r, err);
    /* the state comes from the snapshot: the fresh default account goes */
    sf__account_destroy(fake, fake->default_account);
    fake->default_account = NULL;
    sf__load_ctx c = {.fake = fake, .r = r};
    ok = load_counters(r, fake) && load_accounts(&c) && load_api_keys(&c) && load_services(&c) &&
         load_streams(&c) && sf__load_queue(&c) && sf__load_journal(&c) && sf__sr_finish(r);
    sf__load_ctx_release(&c);
    if (!ok) {
        sf_fake_free(fake);
        return fail_from(r, err);
    }
    fake->opts.account_sid = fake->default_account->sid;
    fake->opts.auth_token = fake->default_account->auth_token;
    *out = fake;
    sf__ok(err);
    return SF_OK;
}
