/* SPDX-License-Identifier: MIT */
/* call.c: what every API call does around its own work: one clock sample, injected errors,
 * one journal entry, and running what the call made due before it returns. */
#include "internal.h"
#include "journal_params.h"

#include <stdio.h>
#include <string.h>

typedef struct op_row {
    const char *name;
    int http;
} op_row;

static const op_row ops[SF_OP_COUNT] = {
#define SF__OP_ROW(name, wire, http) {wire, http},
    SF_OP_MAP(SF__OP_ROW)
#undef SF__OP_ROW
};

const char *sf_op_name(sf_op op) { return (unsigned)op < SF_OP_COUNT ? ops[op].name : NULL; }

bool sf_op_parse(const char *name, sf_op *out)
{
    for (unsigned i = 0; name && i < SF_OP_COUNT; i++) {
        if (strcmp(name, ops[i].name) == 0) {
            if (out)
                *out = (sf_op)i;
            return true;
        }
    }
    return false;
}

/* For a call that did not resolve it: the id as given, when it is a SID as minted. */
static void given_sid(sf__call *call, int which, const char *id, const char *prefix)
{
    uint8_t flag = which == 0 ? SF__J_HAS_SERVICE : SF__J_HAS_STREAM;
    if (!(call->known & flag) && id && sf_sid_is(id, prefix) && sf__sid_pack(id, call->sids[which]))
        call->known |= flag;
}

/* The account a call is made as (NULL account_sid: the default one); NULL when unknown. */
static sf__account *caller(sf_fake *fake, const char *account_sid)
{
    return account_sid ? sf__find_account(fake, account_sid) : fake->default_account;
}

bool sf__call_begin(sf_fake *fake, sf_op op, const char *account_sid, const char *service_sid,
                    const char *stream_id, sf__call *call)
{
    call->op = op;
    call->account = caller(fake, account_sid);
    call->inject_before = call->inject_after = false;
    call->given_service = service_sid;
    call->given_stream = stream_id;
    call->given_account = account_sid;
    call->known = 0;
    call->fanout_stream = NULL;
    call->queued_msg = NULL;
    call->plans = NULL;
    call->plan_count = 0;
    call->now = sf__begin(fake);
    if (sf__injection_take(fake, op, call) && call->inject_before)
        return false;
    return true;
}

static void fill_injected(const sf__call *call, sf_error *err)
{
    if (!err)
        return;
    err->status = SF_ERR_INJECTED;
    err->http_status = call->inject_http;
    err->code = call->inject_code;
    snprintf(err->message, sizeof err->message, "%s", call->inject_message);
    if (call->inject_code)
        snprintf(err->more_info, sizeof err->more_info, "https://www.twilio.com/docs/errors/%d",
                 call->inject_code);
    else
        err->more_info[0] = '\0';
}

void sf_journal_refused(sf_fake *fake, sf_op op, const char *service_sid, const char *stream_id,
                        sf_status status)
{
    sf_journal_refused_as(fake, NULL, op, service_sid, stream_id, status);
}

void sf_journal_refused_as(sf_fake *fake, const char *account_sid, sf_op op,
                           const char *service_sid, const char *stream_id, sf_status status)
{
    if (!fake || (unsigned)op >= SF_OP_COUNT || status == SF_OK)
        return;
    SF__OUTERMOST(fake);
    sf__begin(fake); /* the entry's time, as for any call */
    sf__jentry *e = sf__journal_append(fake, SF_JOURNAL_API);
    if (!e)
        return;
    sf__call call = {.op = op};
    given_sid(&call, 0, service_sid, "IS");
    given_sid(&call, 1, stream_id, "TO");
    e->op = (uint8_t)op;
    e->account = caller(fake, account_sid);
    e->status = (uint16_t)sf_status_http(status);
    e->code = sf_status_code(status);
    sf__journal_packed(e, (const uint8_t(*)[16])call.sids, call.known);
    sf__rec_refused(fake, e, account_sid, service_sid, stream_id, status);
}

sf_status sf__call_end(sf_fake *fake, sf__call *call, sf_status st, sf_error *err)
{
    SF__OUTERMOST(fake); /* its callers return its result at once */
    bool injected = call->inject_before || (call->inject_after && st == SF_OK);
    if (injected) {
        st = SF_ERR_INJECTED;
        fill_injected(call, err);
    } else if (st == SF_OK) {
        sf__ok(err);
    }
    sf__jentry *e = sf__journal_append(fake, SF_JOURNAL_API);
    if (e) {
        e->op = (uint8_t)call->op;
        e->account = call->account;
        e->status = (uint16_t)(injected      ? call->inject_http
                               : st == SF_OK ? ops[call->op].http
                                             : sf_status_http(st));
        e->code = injected ? call->inject_code : sf_status_code(st);
        if (injected)
            e->flags |= SF__J_INJECTED;
        given_sid(call, 0, call->given_service, "IS");
        given_sid(call, 1, call->given_stream, "TO");
        sf__journal_packed(e, (const uint8_t(*)[16])call->sids, call->known);
        sf__rec_api(fake, e, call);
    }
    if (call->queued_msg) {
        sf__fanout_journal(fake, call->queued_msg, call->plans, call->plan_count);
        sf__message_unref(fake, call->queued_msg); /* the deliveries hold their own */
    }
    if (call->fanout_stream)
        sf__fanout_now(fake, call->fanout_stream, &call->fanout_msg);
    if (fake->dispatch_depth == 0)
        sf__run_until(fake, call->now);
    return st;
}
