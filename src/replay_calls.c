/* SPDX-License-Identifier: MIT */
/* replay_calls.c: re-executing the recorded calls that are not REST operations (clock,
 * faults, injections, subscribers, accounts). */
#include "replay.h"

#include <string.h>

/* Subscribers of a replay receive nothing: the journal already says what they got. */
static void ignore_event(sf_fake *fake, const sf_event *event, void *user)
{
    (void)fake, (void)event, (void)user;
}

static bool fault_add(sf_fake *fake, const sf__rline *l, sf__rargs *a)
{
    if (sf__rarg_flag(l, "no_params"))
        return sf_fault_add(fake, NULL, NULL, NULL), true;
    sf_fault_params p = {0};
    int scope;
    uint64_t drop_next;
    int P = l->params;
    bool ok = sf__rarg_int(l, "scope", &scope) &&
              sf__rline_u64(l, P, "subscriber", &p.subscriber) &&
              sf__rline_double(l, P, "drop_rate", &p.drop_rate) &&
              sf__rline_double(l, P, "duplicate_rate", &p.duplicate_rate) &&
              sf__rline_i64(l, P, "delay_ms", &p.delay_ms) &&
              sf__rline_i64(l, P, "jitter_ms", &p.jitter_ms) &&
              sf__rline_u64(l, P, "drop_next", &drop_next) && drop_next <= UINT32_MAX &&
              sf__rline_i64(l, P, "expiry_lag_ms", &p.expiry_lag_ms);
    if (!ok)
        return false;
    p.scope = (sf_fault_scope)scope;
    p.drop_next = (uint32_t)drop_next;
    p.stream_sid = sf__rarg_name(a, l, "stream_sid");
    p.account_sid = sf__rarg_name(a, l, "account_sid");
    if (a->ok)
        sf_fault_add(fake, &p, NULL, NULL);
    return a->ok;
}

static bool inject_error(sf_fake *fake, const sf__rline *l, sf__rargs *a)
{
    if (sf__rarg_flag(l, "no_params"))
        return sf_inject_error(fake, NULL, NULL), true;
    sf_error_injection inj = {0};
    int op;
    uint64_t count;
    bool ok = sf__rarg_int(l, "op", &op) && sf__rline_u64(l, l->params, "count", &count) &&
              count <= UINT32_MAX && sf__rarg_int(l, "http_status", &inj.http_status) &&
              sf__rarg_int(l, "code", &inj.code) &&
              sf__rline_bool(l, l->params, "after_apply", &inj.after_apply);
    if (!ok)
        return false;
    inj.op = (sf_op)op;
    inj.count = (uint32_t)count;
    inj.message = sf__rarg_name(a, l, "message");
    inj.account_sid = sf__rarg_name(a, l, "account_sid");
    if (a->ok)
        sf_inject_error(fake, &inj, NULL);
    return a->ok;
}

static bool subscribe(sf_fake *fake, const sf__rline *l, sf__rargs *a)
{
    sf_subscribe_params p = {.on_event = ignore_event};
    sf_subscriber_id id;
    const char *account = sf__rarg_name(a, l, "account");
    const char *service = sf__rarg_name(a, l, "service");
    const char *stream = sf__rarg_name(a, l, "stream");
    if (!sf__rline_u64(l, l->params, "client_id", &p.client_id) ||
        !sf__rline_bool(l, l->params, "skip_local", &p.skip_local))
        return false;
    if (a->ok)
        sf_subscribe(fake, account, service, stream, &p, &id, NULL);
    return a->ok;
}

/* The calls that name a subscriber (or rule) by id. */
static bool by_id(sf_fake *fake, const sf__rline *l)
{
    uint64_t id;
    int reason;
    bool flush;
    if (!sf__rline_u64(l, l->params, "id", &id))
        return false;
    switch (l->call) {
    case SF__CALL_FAULT_REMOVE:
        if (id > UINT32_MAX)
            return false;
        return sf_fault_remove(fake, (sf_fault_id)id, NULL), true;
    case SF__CALL_UNSUBSCRIBE:
        if (!sf__rarg_int(l, "reason", &reason))
            return false;
        return sf_unsubscribe_because(fake, id, (sf_unsubscribe_reason)reason, NULL), true;
    case SF__CALL_HOLD:
        return sf_subscriber_hold(fake, id, NULL), true;
    case SF__CALL_HEAL:
        if (!sf__rline_bool(l, l->params, "flush", &flush))
            return false;
        return sf_subscriber_heal(fake, id, flush, NULL), true;
    case SF__CALL_DISCONNECT:
        return sf_subscriber_disconnect(fake, id, NULL), true;
    default: /* SF__CALL_RECONNECT */
        return sf_subscriber_reconnect(fake, id, NULL), true;
    }
}

static bool accounts(sf_fake *fake, const sf__rline *l, sf__rargs *a)
{
    sf_account_record acc;
    sf_api_key_record key;
    if (l->call == SF__CALL_ACCOUNT_CREATE) {
        sf_account_params p = {sf__rarg_name(a, l, "sid"), sf__rarg_name(a, l, "auth_token")};
        if (a->ok)
            sf_account_create(fake, &p, &acc, NULL);
    } else if (l->call == SF__CALL_API_KEY_CREATE) {
        const char *account = sf__rarg_name(a, l, "account");
        sf_api_key_params p = {sf__rarg_name(a, l, "sid"), sf__rarg_name(a, l, "secret")};
        if (a->ok)
            sf_api_key_create(fake, account, &p, &key, NULL);
    } else { /* SF__CALL_ACCOUNT_RESET */
        const char *account = sf__rarg_name(a, l, "account");
        if (a->ok)
            sf_account_reset(fake, account, NULL);
    }
    return a->ok;
}

/* What an adapter reported (sf_warn, sf_journal_request_refused): reported again. */
static bool adapter_report(sf_fake *fake, const sf__rline *l, sf__rargs *a)
{
    int op, status, reason;
    const char *account = sf__rarg_name(a, l, "account");
    if (l->call == SF__CALL_WARN) {
        const char *service = sf__rarg_name(a, l, "service");
        const char *stream = sf__rarg_name(a, l, "stream");
        const char *param = sf__rarg_name(a, l, "param");
        const char *suggestion = sf__rarg_name(a, l, "suggestion");
        const char *message = sf__rarg_name(a, l, "message");
        if (!sf__rarg_int(l, "op", &op) || op < 0 || op >= SF_OP_COUNT || !message)
            return false;
        if (a->ok)
            sf_warn(fake, account, (sf_op)op, service, stream, param, suggestion, message, NULL);
        return a->ok;
    }
    const char *method = sf__rarg_name(a, l, "method");
    if (!sf__rarg_int(l, "status", &status) || status <= SF_OK || status >= SF_STATUS_COUNT ||
        !sf__rarg_int(l, "reason", &reason) || reason < 0 || reason >= SF_REFUSAL_COUNT)
        return false;
    if (a->ok)
        sf_journal_request_refused(fake, account, method, (sf_status)status, (sf_refusal)reason);
    return a->ok;
}

static bool dispatch(sf_fake *fake, const sf__rline *l, sf__rargs *a)
{
    int64_t now;
    switch (l->call) {
    case SF__CALL_CLOCK_SET:
        if (!sf__rline_i64(l, l->params, "now_ms", &now))
            return false;
        return sf_clock_set(fake, now, NULL), true;
    case SF__CALL_CLOCK_SAMPLE: /* replay.c has set the clock to the reading */
        return sf_run_due(fake), true;
    case SF__CALL_RUN_UNTIL_IDLE:
        return sf_run_until_idle(fake), true;
    case SF__CALL_FAULT_ADD:
        return fault_add(fake, l, a);
    case SF__CALL_INJECT_ERROR:
        return inject_error(fake, l, a);
    case SF__CALL_INJECT_CLEAR:
        return sf_inject_clear(fake), true;
    case SF__CALL_SUBSCRIBE:
        return subscribe(fake, l, a);
    case SF__CALL_ACCOUNT_CREATE:
    case SF__CALL_API_KEY_CREATE:
    case SF__CALL_ACCOUNT_RESET:
        return accounts(fake, l, a);
    case SF__CALL_WARN:
    case SF__CALL_REQUEST_REFUSED:
        return adapter_report(fake, l, a);
    case SF__CALL_RECORD_START:
        return false; /* replay.c builds the fake from it; elsewhere it cannot be replayed */
    default:
        return by_id(fake, l);
    }
}

bool sf__replay_calls(sf_fake *fake, const sf__rline *l)
{
    sf__rargs a = {.ok = true};
    bool ok = dispatch(fake, l, &a);
    sf__rargs_free(&a);
    return ok && a.ok;
}
