/* SPDX-License-Identifier: MIT */
/* stream.c: streams: create, fetch, update (TTL), remove, list, expiry. */
#include "internal.h"
#include "text.h"
#include "timebound.h"

#include <stddef.h>
#include <string.h>

static sf_status check_name(const sf_fake *fake, const char *name, size_t *len, sf_error *err)
{
    size_t chars;
    if (!sf__text_chars(name, fake->opts.limits.unique_name_max, &chars) || chars == 0)
        return sf__fail(err, SF_ERR_INVALID_UNIQUE_NAME);
    *len = strlen(name);
    if (sf__sid_shaped(name, *len)) /* it would be read as a SID in a path */
        return sf__fail(err, SF_ERR_INVALID_UNIQUE_NAME);
    return SF_OK;
}

static sf_status check_ttl(const sf_fake *fake, int64_t ttl, sf_error *err)
{
    if (ttl < 0 || ttl > fake->opts.limits.ttl_max_s)
        return sf__fail(err, SF_ERR_INVALID_TTL);
    return SF_OK;
}

/* now + ttl seconds, saturating at SF_TIME_MAX_MS (ttl <= 100 years: ttl * 1000 fits), so a
 * deadline is always a date the clock can reach, and never SF__NEVER. */
static sf_ms deadline(sf_ms now, int64_t ttl) { return sf__time_add(now, ttl * 1000); }

static void to_record(const sf__stream *s, sf_stream_record *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    sf__stream_sid(s, out->sid);
    memcpy(out->account_sid, s->service->account->sid, SF_SID_SIZE);
    memcpy(out->service_sid, s->service->sid, SF_SID_SIZE);
    out->has_unique_name = s->name != NULL;
    if (s->name)
        memcpy(out->unique_name, s->name->text, s->name->len + 1);
    out->has_date_expires = s->date_expires != SF__NEVER;
    out->date_expires_ms = out->has_date_expires ? s->date_expires : 0;
    out->date_created_ms = s->date_created;
    out->date_updated_ms = s->date_updated;
    memcpy(out->created_by, "system", sizeof "system");
}

void sf__stream_sid(const sf__stream *s, char out[SF_SID_SIZE])
{
    sf__sid_unpack(s->packed, "TO", out);
}

bool sf__stream_has_sid(const sf__stream *s, const char *sid)
{
    uint8_t packed[16];
    return sid[0] == 'T' && sid[1] == 'O' && strnlen(sid, SF_SID_SIZE) == SF_SID_LEN &&
           sf__sid_pack(sid, packed) && memcmp(packed, s->packed, 16) == 0;
}

void sf__stream_init(sf__stream *s)
{
    memset(s, 0, sizeof *s);
    s->expiry.slot = SF__TIMER_IDLE;
    s->expiry.kind = SF__TIMER_STREAM_EXPIRY;
}

/* What a create checks before it allocates, in Twilio's order: the parameters, the
 * service, the name and TTL, then that the name is free. */
static sf_status create_checks(sf_fake *fake, const sf__call *call, const char *account_sid,
                               const char *service_sid, const sf_stream_params *params,
                               sf__service **svc, size_t *name_len, sf_error *err)
{
    static const sf_stream_params none;
    const sf_stream_params *p = params ? params : &none;
    sf_status st =
        sf__warn_stream_params(fake, call->op, account_sid, service_sid, NULL, params, err);
    if (st == SF_OK)
        st = sf__resolve_service(fake, account_sid, service_sid, "/Streams", svc, err);
    if (st == SF_OK && p->unique_name)
        st = check_name(fake, p->unique_name, name_len, err);
    if (st == SF_OK && p->has_ttl)
        st = check_ttl(fake, p->ttl, err);
    if (st != SF_OK)
        return st;
    if (p->unique_name && sf__find_stream_name(fake, *svc, p->unique_name, *name_len))
        return sf__fail(err, SF_ERR_UNIQUE_NAME_EXISTS);
    return SF_OK;
}

/* A new stream of svc made at now, its SID the next one (not taken until committed). */
static void fill_new(sf_fake *fake, sf__stream *s, sf__service *svc, sf_ms now, sf_ms expires)
{
    sf__stream_init(s);
    sf__sid_peek_packed(fake, SF__SID_STREAM, NULL, s->packed);
    s->service = svc;
    s->date_created = s->date_updated = now;
    s->date_expires = expires;
    s->order.key = fake->next_seq;
    sf__bucket_init(fake, &s->bucket, now);
}

static sf_status stream_create(sf_fake *fake, sf__call *call, const char *account_sid,
                               const char *service_sid, const sf_stream_params *params,
                               sf_stream_record *out, sf_error *err)
{
    static const sf_stream_params none;
    sf_ms now = call->now;
    const sf_stream_params *p = params ? params : &none;
    sf__service *svc;
    size_t name_len = 0;
    sf_status st =
        create_checks(fake, call, account_sid, service_sid, params, &svc, &name_len, err);
    if (st != SF_OK)
        return st;

    bool expires = p->has_ttl && p->ttl > 0;
    sf__stream *s = sf__malloc(fake, sizeof *s);
    sf__stream_name *name = NULL;
    if (p->unique_name)
        name = sf__malloc(fake, sizeof *name + name_len + 1);
    if (!s || (p->unique_name && !name))
        goto out_of_memory;
    fill_new(fake, s, svc, now, expires ? deadline(now, p->ttl) : SF__NEVER);
    if (!sf__table_add_stream(fake, s))
        goto out_of_memory;
    if (name) {
        name->stream = s;
        name->len = name_len;
        memcpy(name->text, p->unique_name, name_len + 1);
        if (!sf__table_add_name(fake, svc, name)) {
            sf__table_del_stream(fake, s);
            goto out_of_memory;
        }
        s->name = name;
    }
    /* room to list it and (with a TTL) to expire it; arrays allocated here for the first
     * time are given back if the call fails after all */
    uint32_t order_cap = svc->streams.cap;
    if (!sf__order_reserve(fake, &svc->streams) ||
        (expires && !sf__timerq_reserve(fake, &fake->timers))) {
        sf__order_trim(fake, &svc->streams, order_cap);
        if (name)
            sf__table_del_name(fake, svc, name);
        sf__table_del_stream(fake, s);
        goto out_of_memory;
    }
    sf__sid_commit(fake, SF__SID_STREAM);
    fake->next_seq++;
    sf__order_append(&svc->streams, &s->order);
    if (expires)
        sf__timerq_arm(&fake->timers, &s->expiry, s->date_expires);
    sf__call_stream(call, s);
    to_record(s, out);
    return SF_OK;

out_of_memory:
    sf__free(fake, name);
    sf__free(fake, s);
    return sf__fail(err, SF_ERR_NOMEM);
}

static sf_status stream_fetch(sf_fake *fake, sf__call *call, const char *account_sid,
                              const char *service_sid, const char *stream_id, sf_stream_record *out,
                              sf_error *err)
{
    sf__stream *s;
    sf_status st = sf__resolve_stream(fake, account_sid, service_sid, stream_id, "", &s, err);
    if (st != SF_OK)
        return st;
    sf__call_stream(call, s);
    to_record(s, out);
    return SF_OK;
}

static sf_status stream_update(sf_fake *fake, sf__call *call, const char *account_sid,
                               const char *service_sid, const char *stream_id,
                               const sf_stream_params *params, sf_stream_record *out, sf_error *err)
{
    sf_ms now = call->now;
    sf__stream *s;
    sf_status st =
        sf__warn_stream_params(fake, call->op, account_sid, service_sid, stream_id, params, err);
    if (st != SF_OK)
        return st;
    st = sf__resolve_stream(fake, account_sid, service_sid, stream_id, "", &s, err);
    if (st != SF_OK)
        return st;
    sf__call_stream(call, s);
    if (!params || !params->has_ttl)
        return sf__fail(err, SF_ERR_NO_PARAMETERS);
    st = check_ttl(fake, params->ttl, err);
    if (st != SF_OK)
        return st;
    if (params->ttl > 0) {
        if (!sf__timer_armed(&s->expiry) && !sf__timerq_reserve(fake, &fake->timers))
            return sf__fail(err, SF_ERR_NOMEM);
        s->date_expires = deadline(now, params->ttl);
        sf__timerq_arm(&fake->timers, &s->expiry, s->date_expires);
    } else {
        s->date_expires = SF__NEVER;
        sf__timerq_cancel(&fake->timers, &s->expiry);
    }
    s->lagging = false;
    s->date_updated = now;
    to_record(s, out);
    return SF_OK;
}

void sf__stream_destroy(sf_fake *fake, sf__stream *s, bool notify, sf_removed_reason reason)
{
    /* invisible first, so callbacks of the removed subscribers cannot reach it */
    sf__timerq_cancel(&fake->timers, &s->expiry);
    sf__order_remove(&s->service->streams, &s->order);
    if (s->name) {
        sf__table_del_name(fake, s->service, s->name);
        sf__free(fake, s->name);
        s->name = NULL;
    }
    sf__table_del_stream(fake, s);
    sf__subscribers_remove_all(fake, s, notify, reason);
    sf__stream_free(fake, s);
}

void sf__stream_free(sf_fake *fake, sf__stream *s)
{
    if (s->slab)
        sf__slab_put(fake, s->slab);
    else
        sf__free(fake, s);
}

void sf__stream_expire(sf_fake *fake, sf__stream *s)
{
    if (!s->lagging) {
        sf_ms lag = sf__expiry_lag(fake, s);
        if (lag > 0 && sf__timerq_reserve(fake, &fake->timers)) {
            s->lagging = true;
            sf__timerq_arm(&fake->timers, &s->expiry, sf__time_add(s->date_expires, lag));
            return;
        }
    }
    sf__jentry *e = sf__journal_append(fake, SF_JOURNAL_EXPIRED);
    if (e) {
        memcpy(e->sids[0], s->service->packed, 16);
        memcpy(e->sids[1], s->packed, 16);
        e->flags |= SF__J_HAS_SERVICE | SF__J_HAS_STREAM;
        e->account = s->service->account;
    }
    sf__stream_destroy(fake, s, true, SF_REMOVED_EXPIRED);
}

static sf_status stream_remove(sf_fake *fake, sf__call *call, const char *account_sid,
                               const char *service_sid, const char *stream_id, sf_error *err)
{
    sf__stream *s;
    sf_status st = sf__resolve_stream(fake, account_sid, service_sid, stream_id, "", &s, err);
    if (st != SF_OK)
        return st;
    sf__call_stream(call, s);
    /* room for the subscribers' `removed` events, so the remove cannot half fail */
    if (!sf__timerq_reserve_n(fake, &fake->timers, s->sub_count))
        return sf__fail(err, SF_ERR_NOMEM);
    sf__stream_destroy(fake, s, true, SF_REMOVED_DELETED);
    return SF_OK;
}

static void fill_stream_record(const sf__order_node *n, void *record)
{
    to_record(SF__CONTAINER_OF(n, sf__stream, order), record);
}

static const sf__page_shape stream_page_shape = {
    sizeof(sf_stream_page), offsetof(sf_stream_page, info), offsetof(sf_stream_page, records),
    sizeof(sf_stream_record), fill_stream_record};

static sf_status stream_list(sf_fake *fake, const char *account_sid, const char *service_sid,
                             const sf_page_params *params, sf_stream_page **out, sf_error *err)
{
    sf__service *svc;
    sf_status st =
        sf__warn_page_params(fake, SF_OP_STREAM_LIST, account_sid, service_sid, params, err);
    if (st != SF_OK)
        return st;
    st = sf__resolve_service(fake, account_sid, service_sid, "/Streams", &svc, err);
    if (st != SF_OK)
        return st;
    void *page;
    st =
        sf__page_build(fake, &svc->streams, svc->order.key, params, &stream_page_shape, &page, err);
    if (st == SF_OK)
        *out = page;
    return st;
}

void sf_stream_page_free(sf_fake *fake, sf_stream_page *page)
{
    if (!fake || !page)
        return;
    sf__free(fake, page->records);
    sf__free(fake, page);
}

sf_status sf_stream_stats_get(sf_fake *fake, const char *account_sid, const char *service_sid,
                              const char *stream_id, sf_stream_stats *out, sf_error *err)
{
    if (!fake || !out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL", fake ? "out" : "fake");
    SF__OUTERMOST(fake);
    sf_ms now = sf__begin(fake);
    sf__stream *s;
    sf_status st = sf__resolve_stream(fake, account_sid, service_sid, stream_id, "", &s, err);
    if (st != SF_OK)
        return st;
    memset(out, 0, sizeof *out);
    out->messages_published = s->messages_published;
    out->subscribers = s->sub_count;
    sf__bucket_state(fake, &s->bucket, now, &out->rate);
    sf__ok(err);
    return SF_OK;
}

sf_status sf_stream_rate_state(sf_fake *fake, const char *account_sid, const char *service_sid,
                               const char *stream_id, sf_rate_state *out, sf_error *err)
{
    if (!out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "out is NULL");
    sf_stream_stats stats;
    sf_status st = sf_stream_stats_get(fake, account_sid, service_sid, stream_id, &stats, err);
    if (st == SF_OK)
        *out = stats.rate;
    return st;
}

/* ---- the public calls: sf__call around each ---- */

sf_status sf_stream_create(sf_fake *fake, const char *account_sid, const char *service_sid,
                           const sf_stream_params *params, sf_stream_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_STREAM_CREATE, account_sid, service_sid, NULL, params,
             stream_create(fake, &call, account_sid, service_sid, params, out, err));
}

sf_status sf_stream_fetch(sf_fake *fake, const char *account_sid, const char *service_sid,
                          const char *stream_id, sf_stream_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_STREAM_FETCH, account_sid, service_sid, stream_id, NULL,
             stream_fetch(fake, &call, account_sid, service_sid, stream_id, out, err));
}

sf_status sf_stream_update(sf_fake *fake, const char *account_sid, const char *service_sid,
                           const char *stream_id, const sf_stream_params *params,
                           sf_stream_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_STREAM_UPDATE, account_sid, service_sid, stream_id, params,
             stream_update(fake, &call, account_sid, service_sid, stream_id, params, out, err));
}

sf_status sf_stream_remove(sf_fake *fake, const char *account_sid, const char *service_sid,
                           const char *stream_id, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_STREAM_REMOVE, account_sid, service_sid, stream_id, NULL,
             stream_remove(fake, &call, account_sid, service_sid, stream_id, err));
}

sf_status sf_stream_list(sf_fake *fake, const char *account_sid, const char *service_sid,
                         const sf_page_params *params, sf_stream_page **out, sf_error *err)
{
    if (!out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    SF__CALL(fake, err, SF_OP_STREAM_LIST, account_sid, service_sid, NULL, params,
             stream_list(fake, account_sid, service_sid, params, out, err));
}

void sf__stream_record_of(const sf__stream *s, sf_stream_record *out) { to_record(s, out); }
