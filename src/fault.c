/* SPDX-License-Identifier: MIT */
/* fault.c: fault rules (drop, delay/jitter, duplicate, drop-next, expiry lag) and injected
 * API errors. Rules are only stored and looked up here; delivery.c applies them. */
#include "internal.h"
#include "journal_params.h"

#include <stdio.h>
#include <string.h>

/* Room for one more rule in an array; nothing changes when it fails. */
static bool room(sf_fake *fake, sf__rule ***arr, size_t count, size_t *cap)
{
    sf__rule **n = sf__array_grow(fake, *arr, cap, count + 1, sizeof *n, 8);
    if (n)
        *arr = n;
    return n != NULL;
}

bool sf__rule_reserve(sf_fake *fake, sf__subscriber *sub)
{
    sf__rule ***scoped = sub ? &sub->rules : &fake->shared_rules;
    size_t count = sub ? sub->rule_count : fake->shared_count;
    size_t *cap = sub ? &sub->rule_cap : &fake->shared_cap;
    if (room(fake, &fake->rules, fake->rule_count, &fake->rule_cap) &&
        room(fake, scoped, count, cap))
        return true;
    if (fake->rule_count == 0 && fake->rules) { /* gives back what `room` took */
        sf__free(fake, fake->rules);
        fake->rules = NULL;
        fake->rule_cap = 0;
    }
    return false;
}

void sf__rule_link(sf_fake *fake, sf__rule *r, sf__subscriber *sub)
{
    fake->rules[fake->rule_count++] = r;
    if (sub)
        sub->rules[sub->rule_count++] = r;
    else
        fake->shared_rules[fake->shared_count++] = r;
}

static void drop_from(sf__rule **arr, size_t *count, const sf__rule *r)
{
    for (size_t i = 0; i < *count; i++) {
        if (arr[i] == r) {
            memmove(&arr[i], &arr[i + 1], (*count - i - 1) * sizeof *arr);
            (*count)--;
            return;
        }
    }
}

static bool rate_ok(double r) { return r >= 0.0 && r <= 1.0; } /* false for NaN too */

/* The account a rule or injection is limited to: *out NULL for every account. */
static sf_status limit_account(sf_fake *fake, const char *account_sid, sf__account **out,
                               sf_error *err)
{
    *out = account_sid ? sf__find_account(fake, account_sid) : NULL;
    if (account_sid && !*out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown account %.64s", account_sid);
    return SF_OK;
}

static sf_status check(sf_fake *fake, const sf_fault_params *p, sf__subscriber **sub,
                       sf__account **account, sf_error *err)
{
    *sub = NULL;
    sf_status st = limit_account(fake, p->account_sid, account, err);
    if (st != SF_OK)
        return st;
    if (!rate_ok(p->drop_rate) || !rate_ok(p->duplicate_rate))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "rates must be within 0..1");
    if (p->delay_ms < 0 || p->jitter_ms < 0 || p->expiry_lag_ms < 0 ||
        p->delay_ms > INT64_C(1) << 40 || p->jitter_ms > INT64_C(1) << 40 ||
        p->expiry_lag_ms > INT64_C(1) << 40)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "times must be within 0..2^40 ms");
    switch (p->scope) {
    case SF_SCOPE_FAKE:
        return SF_OK;
    case SF_SCOPE_STREAM:
        if (!p->stream_sid || !sf_sid_is(p->stream_sid, "TO"))
            return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                                   "a stream rule needs a stream SID");
        return SF_OK;
    case SF_SCOPE_SUBSCRIBER:
        *sub = sf__subscriber_get(fake, p->subscriber);
        if (*sub && *account && (*sub)->account != *account)
            *sub = NULL; /* another account's subscriber: as if there were none */
        if (!*sub)
            return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown subscriber %llu",
                                   (unsigned long long)p->subscriber);
        if (p->expiry_lag_ms)
            return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                                   "expiry lag applies to the fake or a stream");
        return SF_OK;
    }
    return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown scope");
}

sf_status sf_fault_add(sf_fake *fake, const sf_fault_params *params, sf_fault_id *out,
                       sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    SF__RECORDED(sf__rec_fault_add(fake, params));
    if (!params)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "params is NULL");
    sf__subscriber *sub;
    sf__account *account;
    sf_status st = check(fake, params, &sub, &account, err);
    if (st != SF_OK)
        return st;
    sf__rule *r = sf__malloc(fake, sizeof *r);
    if (!r)
        return sf__fail(err, SF_ERR_NOMEM);
    memset(r, 0, sizeof *r);
    r->id = fake->next_rule_id;
    r->params = *params;
    if (params->scope == SF_SCOPE_STREAM)
        memcpy(r->stream_sid, params->stream_sid, SF_SID_SIZE);
    r->params.stream_sid = params->scope == SF_SCOPE_STREAM ? r->stream_sid : NULL;
    r->drop_next_left = params->drop_next;
    r->account = account;
    r->params.account_sid = account ? account->sid : NULL;

    if (!sf__rule_reserve(fake, sub)) {
        sf__free(fake, r);
        return sf__fail(err, SF_ERR_NOMEM);
    }
    sf__rule_link(fake, r, sub);
    fake->next_rule_id++;
    if (out)
        *out = r->id;
    sf__ok(err);
    return SF_OK;
}

/* Drops rule r from every array that holds it and frees it. */
static void rule_free(sf_fake *fake, sf__rule *r)
{
    drop_from(fake->rules, &fake->rule_count, r);
    if (r->params.scope == SF_SCOPE_SUBSCRIBER) {
        sf__subscriber *sub = sf__subscriber_get(fake, r->params.subscriber);
        drop_from(sub->rules, &sub->rule_count, r);
    } else {
        drop_from(fake->shared_rules, &fake->shared_count, r);
    }
    sf__free(fake, r);
}

static uint64_t rule_id_at(const void *rules, size_t i)
{
    return ((sf__rule *const *)rules)[i]->id;
}

static sf__rule *find_rule(sf_fake *fake, sf_fault_id id)
{
    /* ids only grow, so the array is sorted: binary search */
    size_t lo = sf__lower_bound(fake->rules, fake->rule_count, id, rule_id_at);
    return lo < fake->rule_count && fake->rules[lo]->id == id ? fake->rules[lo] : NULL;
}

sf_status sf_fault_remove(sf_fake *fake, sf_fault_id id, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    SF__RECORDED(sf__rec_id(fake, SF__CALL_FAULT_REMOVE, id));
    sf__rule *r = find_rule(fake, id);
    if (!r)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown rule %u", id);
    rule_free(fake, r);
    sf__ok(err);
    return SF_OK;
}

size_t sf_fault_list(sf_fake *fake, sf_fault_info *out, size_t cap)
{
    if (!fake)
        return 0;
    for (size_t i = 0; out && i < cap && i < fake->rule_count; i++) {
        const sf__rule *r = fake->rules[i];
        memset(&out[i], 0, sizeof out[i]);
        out[i].id = r->id;
        out[i].params = r->params;
        memcpy(out[i].stream_sid, r->stream_sid, SF_SID_SIZE);
        out[i].params.stream_sid = r->params.scope == SF_SCOPE_STREAM ? out[i].stream_sid : NULL;
        out[i].drop_next_left = r->drop_next_left;
        out[i].hits = r->hits;
        if (r->account)
            memcpy(out[i].account_sid, r->account->sid, SF_SID_SIZE);
        out[i].params.account_sid = r->account ? out[i].account_sid : NULL;
    }
    return fake->rule_count;
}

sf_ms sf__expiry_lag(sf_fake *fake, const sf__stream *s)
{
    sf__rule *longest = NULL;
    for (size_t i = 0; i < fake->shared_count; i++) {
        sf__rule *r = fake->shared_rules[i];
        if (r->params.expiry_lag_ms <= (longest ? longest->params.expiry_lag_ms : 0) ||
            !sf__rule_account_ok(r, s->service->account))
            continue;
        if (r->params.scope == SF_SCOPE_FAKE || sf__stream_has_sid(s, r->stream_sid))
            longest = r;
    }
    if (!longest)
        return 0;
    longest->hits++;
    return longest->params.expiry_lag_ms;
}

static void clear_injections(sf_fake *fake);

void sf__faults_release(sf_fake *fake)
{
    for (size_t i = 0; i < fake->rule_count; i++)
        sf__free(fake, fake->rules[i]);
    sf__free(fake, fake->rules);
    sf__free(fake, fake->shared_rules);
    fake->rules = fake->shared_rules = NULL;
    fake->rule_count = fake->rule_cap = fake->shared_count = fake->shared_cap = 0;
    fake->next_rule_id = 1;
    clear_injections(fake);
}

/* ---- injected API errors ---- */

sf_status sf_inject_error(sf_fake *fake, const sf_error_injection *inj, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    SF__RECORDED(sf__rec_inject(fake, inj));
    if (!inj)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "inj is NULL");
    if ((unsigned)inj->op >= SF_OP_COUNT || inj->count < 1 || inj->http_status < 400 ||
        inj->http_status > 599 || inj->code < 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "needs a known op, count >= 1, status 400..599, code >= 0");
    sf__account *account;
    sf_status st = limit_account(fake, inj->account_sid, &account, err);
    if (st != SF_OK)
        return st;
    sf__injection *n = sf__malloc(fake, sizeof *n);
    if (!n)
        return sf__fail(err, SF_ERR_NOMEM);
    n->inj = *inj;
    n->account = account;
    n->inj.account_sid = account ? account->sid : NULL;
    snprintf(n->message, sizeof n->message, "%s", inj->message ? inj->message : "Injected failure");
    n->inj.message = n->message;
    n->next = NULL;
    sf__injection **tail = &fake->injections[inj->op];
    while (*tail)
        tail = &(*tail)->next;
    *tail = n;
    sf__ok(err);
    return SF_OK;
}

void sf_inject_clear(sf_fake *fake)
{
    if (!fake)
        return;
    SF__RECORDED(sf__rec_plain(fake, SF__CALL_INJECT_CLEAR));
    clear_injections(fake);
}

/* Also part of every teardown, which is not a call to record. */
static void clear_injections(sf_fake *fake)
{
    for (unsigned op = 0; op < SF_OP_COUNT; op++) {
        while (fake->injections[op]) {
            sf__injection *n = fake->injections[op];
            fake->injections[op] = n->next;
            sf__free(fake, n);
        }
    }
}

bool sf__injection_take(sf_fake *fake, sf_op op, sf__call *call)
{
    /* the oldest injection of op that this call's account may take */
    sf__injection **link = &fake->injections[op];
    while (*link && (*link)->account && (*link)->account != call->account)
        link = &(*link)->next;
    sf__injection *n = *link;
    if (!n)
        return false;
    call->inject_before = !n->inj.after_apply;
    call->inject_after = n->inj.after_apply;
    call->inject_http = n->inj.http_status;
    call->inject_code = n->inj.code;
    memcpy(call->inject_message, n->message, sizeof call->inject_message);
    if (--n->inj.count == 0) {
        *link = n->next;
        sf__free(fake, n);
    }
    return true;
}

void sf__faults_forget_account(sf_fake *fake, const sf__account *a)
{
    for (size_t i = fake->rule_count; i-- > 0;)
        if (fake->rules[i]->account == a)
            rule_free(fake, fake->rules[i]);
    for (unsigned op = 0; op < SF_OP_COUNT; op++) {
        sf__injection **link = &fake->injections[op];
        while (*link) {
            sf__injection *n = *link;
            if (n->account == a) {
                *link = n->next;
                sf__free(fake, n);
            } else {
                link = &n->next;
            }
        }
    }
}
