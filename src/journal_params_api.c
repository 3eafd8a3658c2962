/* SPDX-License-Identifier: MIT */
/* journal_params_api.c: the recorded parameters of the REST operations (on their `api`
 * entries) and of record.start, which holds the options a replay builds its fake with. */
#include "journal_params.h"

#include <string.h>

static void opt_bool(sf__pbuf *pb, const char *key, sf_opt_bool v)
{
    if (v == SF_BOOL_FALSE || v == SF_BOOL_TRUE)
        sf__pb_bool(pb, key, v == SF_BOOL_TRUE);
    else if (v != SF_BOOL_UNSET)
        sf__pb_i64(pb, key, (int64_t)v); /* out of range: kept as given */
}

static void service_params(sf__pbuf *pb, const sf_service_params *p)
{
    sf__pb_str(pb, "friendly_name", p->friendly_name);
    sf__pb_str(pb, "webhook_url", p->webhook_url);
    opt_bool(pb, "reachability_webhooks_enabled", p->reachability_webhooks_enabled);
    opt_bool(pb, "acl_enabled", p->acl_enabled);
    opt_bool(pb, "reachability_debouncing_enabled", p->reachability_debouncing_enabled);
    opt_bool(pb, "webhooks_from_rest_enabled", p->webhooks_from_rest_enabled);
    if (p->has_reachability_debouncing_window)
        sf__pb_i64(pb, "reachability_debouncing_window", p->reachability_debouncing_window);
}

static void stream_params(sf__pbuf *pb, const sf_stream_params *p)
{
    sf__pb_str(pb, "unique_name", p->unique_name);
    if (p->has_ttl)
        sf__pb_i64(pb, "ttl", p->ttl);
}

static void page_params(sf__pbuf *pb, const sf_page_params *p)
{
    if (p->has_page_size)
        sf__pb_i64(pb, "page_size", p->page_size);
    if (p->has_page)
        sf__pb_i64(pb, "page", p->page);
    sf__pb_str(pb, "page_token", p->page_token);
}

/* Data longer than the limit is refused whatever it holds (413): its length is enough. */
static void publish_params(sf_fake *fake, sf__pbuf *pb, const sf_publish_params *p)
{
    sf__pb_bytes(pb, "data", p->data, p->data_len, fake->opts.limits.max_data_bytes);
    if (p->client_id)
        sf__pb_u64(pb, "client_id", p->client_id);
}

static void op_params(sf_fake *fake, sf__pbuf *pb, sf_op op, const void *params)
{
    if (!params) {
        if (op != SF_OP_SERVICE_FETCH && op != SF_OP_SERVICE_REMOVE && op != SF_OP_STREAM_FETCH &&
            op != SF_OP_STREAM_REMOVE)
            sf__pb_bool(pb, "no_params", true);
        return;
    }
    switch (op) {
    case SF_OP_SERVICE_CREATE:
    case SF_OP_SERVICE_UPDATE:
        service_params(pb, params);
        break;
    case SF_OP_STREAM_CREATE:
    case SF_OP_STREAM_UPDATE:
        stream_params(pb, params);
        break;
    case SF_OP_SERVICE_LIST:
    case SF_OP_STREAM_LIST:
        page_params(pb, params);
        break;
    case SF_OP_MESSAGE_CREATE:
        publish_params(fake, pb, params);
        break;
    default:
        break;
    }
}

static void open_api(sf_fake *fake, sf__pbuf *pb, const char *account, const char *service,
                     const char *stream)
{
    sf__pb_init(pb, fake);
    sf__pb_raw(pb, "{", 1);
    if (fake->dispatch_depth > 0)
        sf__pb_bool(pb, "nested", true);
    sf__pb_str(pb, "account", account);
    sf__pb_str(pb, "service", service);
    sf__pb_str(pb, "stream", stream);
}

void sf__rec_api(sf_fake *fake, sf__jentry *e, const sf__call *call)
{
    if (!e || !sf__recording(fake))
        return;
    sf__pbuf pb;
    open_api(fake, &pb, call->given_account, call->given_service, call->given_stream);
    op_params(fake, &pb, call->op, call->rec_params);
    sf__pb_raw(&pb, "}", 1);
    sf__params_attach(fake, e, &pb);
}

void sf__rec_refused(sf_fake *fake, sf__jentry *e, const char *account_sid, const char *service_sid,
                     const char *stream_id, sf_status status)
{
    if (!e || !sf__recording(fake))
        return;
    sf__pbuf pb;
    open_api(fake, &pb, account_sid, service_sid, stream_id);
    sf__pb_key(&pb, "refused");
    const char *name = sf_status_name(status);
    sf__pb_raw(&pb, "\"", 1);
    sf__pb_raw(&pb, name, strlen(name)); /* "SF_ERR_...": nothing to escape */
    sf__pb_raw(&pb, "\"}", 2);
    sf__params_attach(fake, e, &pb);
}

static void limits_object(sf__pbuf *pb, const sf_limits *l)
{
    sf__pb_key(pb, "limits");
    sf__pb_raw(pb, "{", 1);
    pb->first = true;
    sf__pb_u64(pb, "max_data_bytes", l->max_data_bytes);
    sf__pb_u64(pb, "publish_rate_per_s", l->publish_rate_per_s);
    sf__pb_u64(pb, "publish_burst", l->publish_burst);
    sf__pb_u64(pb, "unique_name_max", l->unique_name_max);
    sf__pb_i64(pb, "ttl_max_s", l->ttl_max_s);
    sf__pb_u64(pb, "page_size_default", l->page_size_default);
    sf__pb_u64(pb, "page_size_max", l->page_size_max);
    sf__pb_u64(pb, "friendly_name_max", l->friendly_name_max);
    sf__pb_u64(pb, "webhook_url_max", l->webhook_url_max);
    sf__pb_i64(pb, "debouncing_window_min_ms", l->debouncing_window_min_ms);
    sf__pb_i64(pb, "debouncing_window_max_ms", l->debouncing_window_max_ms);
    sf__pb_raw(pb, "}", 1);
}

/* Whether the fake is as sf_fake_new made it (or sf_fake_reset left it): only then can a
 * replay start from a new fake. */
static bool is_fresh(const sf_fake *fake)
{
    for (unsigned op = 0; op < SF_OP_COUNT; op++)
        if (fake->injections[op])
            return false;
    return fake->next_seq == fake->fresh_next_seq &&
           memcmp(fake->sid_counter, fake->fresh_sid_counter, sizeof fake->sid_counter) == 0 &&
           fake->next_rule_id == 1 && fake->last_sub_id == 0 && !fake->api_keys &&
           HASH_COUNT(fake->accounts) == 1 && fake->journal.next_seq == 1 &&
           sf__timerq_count(&fake->timers) == 0;
}

/* Credentials only when they were given: minted ones come from the seed again, and giving
 * them would change the SID counters. */
void sf__rec_start(sf_fake *fake)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_RECORD_START, &rec))
        return;
    sf__pbuf *pb = &rec.pb;
    const sf_options *o = &fake->opts;
    sf__pb_u64(pb, "seed", o->seed);
    /* a system or callback clock replays the same way, from the recorded times */
    sf__pb_key(pb, "clock");
    if (o->clock == SF_CLOCK_MANUAL)
        sf__pb_raw(pb, "\"manual\"", 8);
    else
        sf__pb_raw(pb, "\"external\"", 10);
    sf__pb_i64(pb, "manual_start_ms", o->manual_start_ms);
    sf__pb_i64(pb, "now_ms", fake->now);
    sf__pb_bool(pb, "fresh", is_fresh(fake));
    if (fake->account_sid_copy[0])
        sf__pb_str(pb, "account_sid", fake->account_sid_copy);
    if (fake->auth_token_copy[0])
        sf__pb_str(pb, "auth_token", fake->auth_token_copy);
    sf__pb_str(pb, "base_url", fake->base_url_copy);
    sf__pb_u64(pb, "journal_capacity", o->journal_capacity);
    sf__pb_u64(pb, "journal_params_bytes", o->journal_params_bytes);
    limits_object(pb, &o->limits);
    sf__rec_end(&rec);
}
