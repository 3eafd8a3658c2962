/* SPDX-License-Identifier: MIT */
/* journal_params_calls.c: what each recorded call writes as its parameters. Keys come in a
 * fixed order and a parameter that was not given is left out, so that a replay can tell "not
 * given" from any value (syncfake_replay.h reads them back). */
#include "journal_params.h"

#include <string.h>

static const char *const call_names[SF__CALL_COUNT] = {
#define SF__CALL_NAME(name, wire) wire,
    SF__CALL_MAP(SF__CALL_NAME)
#undef SF__CALL_NAME
};

const char *sf__call_name(unsigned kind) { return kind < SF__CALL_COUNT ? call_names[kind] : NULL; }

bool sf__call_parse(const char *name, size_t len, sf__call_kind *out)
{
    for (unsigned i = 0; i < SF__CALL_COUNT; i++) {
        if (strlen(call_names[i]) == len && memcmp(call_names[i], name, len) == 0) {
            *out = (sf__call_kind)i;
            return true;
        }
    }
    return false;
}

/* Opens the parameters' object; a call made from a subscriber callback says so (replay
 * cannot re-run callbacks, so it refuses such a journal). */
static void open_object(sf_fake *fake, sf__pbuf *pb)
{
    sf__pb_init(pb, fake);
    sf__pb_raw(pb, "{", 1);
    if (fake->dispatch_depth > 0)
        sf__pb_bool(pb, "nested", true);
}

bool sf__rec_open(sf_fake *fake, sf__call_kind kind, sf__rec *rec)
{
    rec->fake = fake;
    rec->kind = kind;
    memset(&rec->pb, 0, sizeof rec->pb);
    if (!fake || !sf__recording(fake))
        return false;
    open_object(fake, &rec->pb);
    return true;
}

void sf__rec_end(sf__rec *rec)
{
    if (!rec->pb.data && !rec->pb.failed)
        return; /* not recording */
    sf__pb_raw(&rec->pb, "}", 1);
    sf__jentry *e = sf__journal_append(rec->fake, SF_JOURNAL_CALL);
    if (e)
        e->op = (uint8_t)rec->kind;
    sf__params_attach(rec->fake, e, &rec->pb);
}

sf__rec sf__rec_plain(sf_fake *fake, sf__call_kind kind)
{
    sf__rec rec;
    sf__rec_open(fake, kind, &rec);
    return rec;
}

sf__rec sf__rec_clock_set(sf_fake *fake, sf_ms now_ms)
{
    sf__rec rec;
    if (sf__rec_open(fake, SF__CALL_CLOCK_SET, &rec))
        sf__pb_i64(&rec.pb, "now_ms", now_ms);
    return rec;
}

sf__rec sf__rec_id(sf_fake *fake, sf__call_kind kind, uint64_t id)
{
    sf__rec rec;
    if (sf__rec_open(fake, kind, &rec))
        sf__pb_u64(&rec.pb, "id", id);
    return rec;
}

sf__rec sf__rec_fault_add(sf_fake *fake, const sf_fault_params *p)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_FAULT_ADD, &rec))
        return rec;
    if (!p) {
        sf__pb_bool(&rec.pb, "no_params", true);
        return rec;
    }
    sf__pbuf *pb = &rec.pb;
    sf__pb_i64(pb, "scope", (int64_t)p->scope);
    sf__pb_str(pb, "stream_sid", p->stream_sid);
    sf__pb_u64(pb, "subscriber", p->subscriber);
    sf__pb_double(pb, "drop_rate", p->drop_rate);
    sf__pb_double(pb, "duplicate_rate", p->duplicate_rate);
    sf__pb_i64(pb, "delay_ms", p->delay_ms);
    sf__pb_i64(pb, "jitter_ms", p->jitter_ms);
    sf__pb_u64(pb, "drop_next", p->drop_next);
    sf__pb_i64(pb, "expiry_lag_ms", p->expiry_lag_ms);
    sf__pb_str(pb, "account_sid", p->account_sid);
    return rec;
}

sf__rec sf__rec_inject(sf_fake *fake, const sf_error_injection *inj)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_INJECT_ERROR, &rec))
        return rec;
    if (!inj) {
        sf__pb_bool(&rec.pb, "no_params", true);
        return rec;
    }
    sf__pbuf *pb = &rec.pb;
    sf__pb_i64(pb, "op", (int64_t)inj->op);
    sf__pb_u64(pb, "count", inj->count);
    sf__pb_i64(pb, "http_status", inj->http_status);
    sf__pb_i64(pb, "code", inj->code);
    sf__pb_str(pb, "message", inj->message);
    sf__pb_bool(pb, "after_apply", inj->after_apply);
    sf__pb_str(pb, "account_sid", inj->account_sid);
    return rec;
}

sf__rec sf__rec_subscribe(sf_fake *fake, const char *account_sid, const char *service_sid,
                          const char *stream_id, const sf_subscribe_params *p)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_SUBSCRIBE, &rec))
        return rec;
    sf__pbuf *pb = &rec.pb;
    sf__pb_str(pb, "account", account_sid);
    sf__pb_str(pb, "service", service_sid);
    sf__pb_str(pb, "stream", stream_id);
    /* sf_subscribe refuses a missing callback before it records anything */
    sf__pb_u64(pb, "client_id", p->client_id);
    sf__pb_bool(pb, "skip_local", p->skip_local);
    return rec;
}

sf__rec sf__rec_unsubscribe(sf_fake *fake, sf_subscriber_id id, sf_unsubscribe_reason reason)
{
    sf__rec rec = sf__rec_id(fake, SF__CALL_UNSUBSCRIBE, id);
    if (rec.pb.data)
        sf__pb_i64(&rec.pb, "reason", (int64_t)reason);
    return rec;
}

sf__rec sf__rec_heal(sf_fake *fake, sf_subscriber_id id, bool flush)
{
    sf__rec rec = sf__rec_id(fake, SF__CALL_HEAL, id);
    if (rec.pb.data)
        sf__pb_bool(&rec.pb, "flush", flush);
    return rec;
}

sf__rec sf__rec_account_create(sf_fake *fake, const sf_account_params *p)
{
    sf__rec rec;
    if (sf__rec_open(fake, SF__CALL_ACCOUNT_CREATE, &rec) && p) {
        sf__pb_str(&rec.pb, "sid", p->sid);
        sf__pb_str(&rec.pb, "auth_token", p->auth_token);
    }
    return rec;
}

sf__rec sf__rec_api_key_create(sf_fake *fake, const char *account_sid, const sf_api_key_params *p)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_API_KEY_CREATE, &rec))
        return rec;
    sf__pb_str(&rec.pb, "account", account_sid);
    if (p) {
        sf__pb_str(&rec.pb, "sid", p->sid);
        sf__pb_str(&rec.pb, "secret", p->secret);
    }
    return rec;
}

sf__rec sf__rec_account_reset(sf_fake *fake, const char *account_sid)
{
    sf__rec rec;
    if (sf__rec_open(fake, SF__CALL_ACCOUNT_RESET, &rec))
        sf__pb_str(&rec.pb, "account", account_sid);
    return rec;
}

sf__rec sf__rec_warn(sf_fake *fake, const char *account_sid, sf_op op, const char *service_sid,
                     const char *stream_id, const char *param, const char *suggestion,
                     const char *message)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_WARN, &rec))
        return rec;
    sf__pb_str(&rec.pb, "account", account_sid);
    sf__pb_i64(&rec.pb, "op", (int64_t)op);
    sf__pb_str(&rec.pb, "service", service_sid);
    sf__pb_str(&rec.pb, "stream", stream_id);
    sf__pb_str(&rec.pb, "param", param);
    sf__pb_str(&rec.pb, "suggestion", suggestion);
    sf__pb_str(&rec.pb, "message", message);
    return rec;
}

sf__rec sf__rec_request_refused(sf_fake *fake, const char *account_sid, const char *method,
                                sf_status status, sf_refusal reason)
{
    sf__rec rec;
    if (!sf__rec_open(fake, SF__CALL_REQUEST_REFUSED, &rec))
        return rec;
    sf__pb_str(&rec.pb, "account", account_sid);
    sf__pb_str(&rec.pb, "method", method);
    sf__pb_i64(&rec.pb, "status", (int64_t)status);
    sf__pb_i64(&rec.pb, "reason", (int64_t)reason);
    return rec;
}

void sf__rec_clock_sample(sf_fake *fake, sf_ms now)
{
    sf__rec rec;
    if (sf__rec_open(fake, SF__CALL_CLOCK_SAMPLE, &rec)) {
        sf__pb_i64(&rec.pb, "now_ms", now);
        sf__rec_end(&rec);
    }
}
