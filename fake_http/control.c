/* SPDX-License-Identifier: MIT */
/* control.c: syncfake's own routes under /_syncfake/ (not Twilio's): the clock, reset, the
 * journal, fault rules, injected errors, subscriber scripting and server-sent events. Same
 * credentials as the API; form-encoded requests, JSON responses, Twilio-style errors.
 * Account model: the fake's default account (or the request's admin credential) has
 * fake-wide powers; any other account sees and affects only its own rules, injections,
 * subscribers and journal entries, and may not move the clock or reset the whole fake. */
#include "control_state.h"
#include "control_params.h"
#include "control_scenario.h"
#include "dispatch.h"
#include "control_record.h"
#include "jwt.h"
#include "render.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *param(const sf_http_ctx *c, const char *name)
{
    return sf_http_form_get(&c->params, name);
}

/* A control-API parameter problem: 400/20001 with a message that says which. */
static int bad_param(sf_http_ctx *c, const char *what)
{
    sf_error err;
    sf_http_status_error(SF_ERR_INVALID_PARAMETER, what, &err);
    return sf_http_fail(c, &err);
}

static bool int_or_absent(const sf_http_ctx *c, const char *name, int64_t *out)
{
    const char *v = param(c, name);
    return !v || sf_http_parse_int(v, out);
}

static bool double_or_absent(const sf_http_ctx *c, const char *name, double *out)
{
    const char *v = param(c, name);
    if (!v)
        return true;
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* ---- who may do what ---- */

/* The fake's own default account, or the admin credential: fake-wide powers. */
static bool fake_wide(const sf_http_ctx *c)
{
    return c->admin || strcmp(c->account_sid, sf_fake_account_sid(c->fake)) == 0;
}

/* What a caller's rules, injections and journal reads are limited to: NULL, nothing. */
static const char *own_account(const sf_http_ctx *c)
{
    return fake_wide(c) ? NULL : c->account_sid;
}

/* Shortest text that reads back as the same double, so 0.3 prints as 0.3. */
static void put_double(sf_http_buf *b, double d)
{
    char text[32];
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, d);
        if (strtod(text, NULL) == d)
            break;
    }
    sf_http_buf_str(b, text);
}

/* ---- clock ---- */

static int clock_route(sf_http_ctx *c)
{
    const sf_options *o = sf_fake_options(c->fake);
    sf_error err;
    if (sf_http_is(c, "POST")) {
        if (!fake_wide(c)) /* the clock is everyone's: only the primary account moves it */
            return sf_http_fail_status(c, SF_ERR_FORBIDDEN);
        int64_t advance = 0, now = 0;
        bool has_advance = param(c, "AdvanceMs") != NULL, has_now = param(c, "NowMs") != NULL;
        if (!int_or_absent(c, "AdvanceMs", &advance) || !int_or_absent(c, "NowMs", &now))
            return bad_param(c, "AdvanceMs and NowMs are integers (ms)");
        if (has_advance == has_now)
            return bad_param(c, "give exactly one of AdvanceMs or NowMs");
        sf_status st = has_advance ? sf_clock_advance(c->fake, advance, &err)
                                   : sf_clock_set(c->fake, now, &err);
        if (st != SF_OK)
            return sf_http_fail(c, &err);
    } else if (!sf_http_is(c, "GET")) {
        return sf_http_method_not_allowed(c, "GET, POST");
    }
    sf_ms t = sf_clock_now(c->fake);
    char iso[21];
    sf_format_iso8601(t, iso);
    sf_http_buf_printf(&c->body, "{\"now\": \"%s\", \"now_ms\": %" PRId64 ", \"mode\": \"%s\"",
                       iso, t, o->clock == SF_CLOCK_MANUAL ? "manual" : "wall");
    if (c->req->instance_id) { /* which server run this is: never part of the fake's state */
        sf_http_buf_str(&c->body, ", \"instance_id\": \"");
        sf_http_buf_json_chars(&c->body, c->req->instance_id);
        sf_http_buf_str(&c->body, "\"");
    }
    sf_http_buf_str(&c->body, "}");
    return sf_http_json(c, 200);
}

/* ---- faults ---- */

static const char *scope_name(sf_fault_scope s)
{
    return s == SF_SCOPE_STREAM ? "stream" : s == SF_SCOPE_SUBSCRIBER ? "subscriber" : "fake";
}

static void render_fault(sf_http_buf *b, const sf_fault_info *f)
{
    const sf_fault_params *p = &f->params;
    sf_http_buf_printf(b, "{\"id\": %u, \"scope\": \"%s\", \"target\": ", f->id,
                       scope_name(p->scope));
    if (p->scope == SF_SCOPE_STREAM)
        sf_http_buf_printf(b, "\"%s\"", f->stream_sid);
    else if (p->scope == SF_SCOPE_SUBSCRIBER)
        sf_http_buf_printf(b, "\"%" PRIu64 "\"", p->subscriber);
    else
        sf_http_buf_str(b, "null");
    sf_http_buf_str(b, ", \"drop_rate\": ");
    put_double(b, p->drop_rate);
    sf_http_buf_str(b, ", \"duplicate_rate\": ");
    put_double(b, p->duplicate_rate);
    sf_http_buf_printf(b,
                       ", \"delay_ms\": %" PRId64 ", \"jitter_ms\": %" PRId64
                       ", \"drop_next\": %u, \"expiry_lag_ms\": %" PRId64
                       ", \"drop_next_left\": %u, \"hits\": %" PRIu64 "}",
                       p->delay_ms, p->jitter_ms, p->drop_next, p->expiry_lag_ms,
                       f->drop_next_left, f->hits);
}

/* Whether the caller may see a rule: its own, or any for a fake-wide caller. */
static bool fault_visible(const sf_http_ctx *c, const sf_fault_info *f)
{
    const char *own = own_account(c);
    return !own || strcmp(f->account_sid, own) == 0;
}

static bool find_fault(const sf_http_ctx *c, sf_fault_id id, sf_fault_info *out)
{
    size_t n = sf_fault_list(c->fake, NULL, 0);
    sf_fault_info *all = calloc(n ? n : 1, sizeof *all);
    bool found = false;
    if (all) {
        sf_fault_list(c->fake, all, n);
        for (size_t i = 0; i < n && !found; i++)
            if (all[i].id == id && fault_visible(c, &all[i])) {
                *out = all[i];
                out->params.stream_sid = out->stream_sid;
                out->params.account_sid = out->account_sid[0] ? out->account_sid : NULL;
                found = true;
            }
    }
    free(all);
    return found;
}

/* The numbers of a rule, each refused by name with its allowed range. */
static int fault_numbers(sf_http_ctx *c, sf_fault_params *p)
{
    if (!double_or_absent(c, "DropRate", &p->drop_rate) || p->drop_rate < 0 || p->drop_rate > 1)
        return bad_param(c, "DropRate must be a number within 0..1");
    if (!double_or_absent(c, "DuplicateRate", &p->duplicate_rate) || p->duplicate_rate < 0 ||
        p->duplicate_rate > 1)
        return bad_param(c, "DuplicateRate must be a number within 0..1");
    static const char *const times[] = {"DelayMs", "JitterMs", "ExpiryLagMs"};
    sf_ms *fields[] = {&p->delay_ms, &p->jitter_ms, &p->expiry_lag_ms};
    char what[96];
    for (size_t i = 0; i < 3; i++) {
        if (!int_or_absent(c, times[i], fields[i]) || *fields[i] < 0 ||
            *fields[i] > INT64_C(1) << 40) {
            snprintf(what, sizeof what, "%s must be an integer within 0..2^40 (ms)", times[i]);
            return bad_param(c, what);
        }
    }
    int64_t drop_next = 0;
    if (!int_or_absent(c, "DropNext", &drop_next) || drop_next < 0 || drop_next > UINT32_MAX)
        return bad_param(c, "DropNext must be an integer within 0..4294967295");
    p->drop_next = (uint32_t)drop_next;
    return 0;
}

static int fault_create(sf_http_ctx *c)
{
    sf_fault_params p = {0};
    const char *scope = param(c, "Scope");
    const char *target = param(c, "Target");
    char stream[SF_SID_SIZE];
    if (!scope || strcmp(scope, "fake") == 0) {
        p.scope = SF_SCOPE_FAKE;
    } else if (strcmp(scope, "stream") == 0) {
        p.scope = SF_SCOPE_STREAM; /* Target: a SID or unique name, as on every route */
        int refused = sf_http_control_stream_target(c, target, param(c, "ServiceSid"),
                                                    fake_wide(c), stream);
        if (refused)
            return refused;
        p.stream_sid = stream;
    } else if (strcmp(scope, "subscriber") == 0) {
        int64_t id;
        p.scope = SF_SCOPE_SUBSCRIBER;
        if (!target || !sf_http_parse_int(target, &id) || id <= 0)
            return bad_param(c, "Target must be a subscriber id (an integer >= 1) with "
                                "Scope=subscriber");
        p.subscriber = (sf_subscriber_id)id;
    } else {
        return bad_param(c, "Scope must be fake, stream or subscriber");
    }
    int refused = fault_numbers(c, &p);
    if (refused)
        return refused;
    p.account_sid = own_account(c); /* another account's subscriber is then "unknown" */
    sf_error err;
    sf_fault_id id;
    if (sf_fault_add(c->fake, &p, &id, &err) != SF_OK)
        return sf_http_fail(c, &err); /* 400/20001 "Invalid parameter: <why>" */
    sf_fault_info info;
    if (!find_fault(c, id, &info))
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    render_fault(&c->body, &info);
    return sf_http_json(c, 201);
}

static int faults_route(sf_http_ctx *c)
{
    if (c->segment_count == 3) {
        int64_t id;
        if (!sf_http_parse_int(c->segments[2], &id) || id <= 0 || id > UINT32_MAX)
            return sf_http_not_found(c);
        sf_fault_info info;
        if (!find_fault(c, (sf_fault_id)id, &info))
            return sf_http_not_found(c); /* another account's rule too */
        if (sf_http_is(c, "GET")) {
            render_fault(&c->body, &info);
            return sf_http_json(c, 200);
        }
        if (!sf_http_is(c, "DELETE"))
            return sf_http_method_not_allowed(c, "GET, DELETE");
        sf_fault_remove(c->fake, (sf_fault_id)id, NULL);
        return sf_http_no_content(c);
    }
    if (sf_http_is(c, "POST"))
        return fault_create(c);
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET, POST");
    size_t n = sf_fault_list(c->fake, NULL, 0);
    sf_fault_info *all = calloc(n ? n : 1, sizeof *all);
    if (!all)
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    sf_fault_list(c->fake, all, n);
    sf_http_buf_str(&c->body, "{\"faults\": [");
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        if (!fault_visible(c, &all[i]))
            continue;
        if (!first)
            sf_http_buf_str(&c->body, ", ");
        first = false;
        render_fault(&c->body, &all[i]);
    }
    sf_http_buf_str(&c->body, "]}");
    free(all);
    return sf_http_json(c, 200);
}

/* ---- injected errors ---- */

static int errors_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    sf_error_injection inj = {0};
    const char *op = param(c, "Operation");
    int64_t count = 1, status = 500, code = 20500;
    bool after = false;
    const char *after_text = param(c, "AfterApply");
    if (!op || !sf_op_parse(op, &inj.op)) {
        char what[400];
        int n = snprintf(what, sizeof what, "Operation must be one of ");
        sf_http_operation_names(what + n, sizeof what - (size_t)n);
        return bad_param(c, what);
    }
    if (!int_or_absent(c, "Count", &count) || !int_or_absent(c, "Status", &status) ||
        !int_or_absent(c, "Code", &code) || count < 1 || count > UINT32_MAX || code < 0 ||
        code > INT32_MAX || status < 400 || status > 599)
        return bad_param(c, "Count >= 1, Status 400..599 and Code >= 0 are integers");
    if (after_text && !sf_http_parse_bool(after_text, &after))
        return bad_param(c, "AfterApply is true or false");
    inj.count = (uint32_t)count;
    inj.http_status = (int)status;
    inj.code = (int)code;
    inj.message = param(c, "Message");
    inj.after_apply = after;
    inj.account_sid = own_account(c); /* only the caller's own calls fail */
    sf_error err;
    if (sf_inject_error(c->fake, &inj, &err) != SF_OK)
        return sf_http_fail(c, &err); /* 400/20001 "Invalid parameter: <why>" */
    sf_http_buf_printf(&c->body,
                       "{\"operation\": \"%s\", \"count\": %u, \"status\": %d, \"code\": %d, "
                       "\"message\": ",
                       sf_op_name(inj.op), inj.count, inj.http_status, inj.code);
    sf_http_buf_json_string(&c->body,
                            inj.message ? inj.message : sf_status_message(SF_ERR_INJECTED));
    sf_http_buf_printf(&c->body, ", \"after_apply\": %s}", after ? "true" : "false");
    return sf_http_json(c, 201);
}

/* ---- subscribers: scripted states ---- */

static int subscriber_route(sf_http_ctx *c)
{
    int64_t id;
    if (c->segment_count != 3 || !sf_http_parse_int(c->segments[2], &id) || id <= 0)
        return sf_http_not_found(c);
    sf_subscriber_stats st;
    sf_error err;
    const char *own = own_account(c);
    if (sf_subscriber_stats_get(c->fake, (sf_subscriber_id)id, &st, &err) != SF_OK ||
        (own && strcmp(st.account_sid, own) != 0))
        return sf_http_not_found(c); /* another account's subscriber: as if there were none */
    if (sf_http_is(c, "POST")) {
        const char *action = param(c, "Action");
        sf_status r;
        if (!action)
            return bad_param(c, "Action is hold, heal, discard, disconnect or reconnect");
        if (strcmp(action, "hold") == 0)
            r = sf_subscriber_hold(c->fake, (sf_subscriber_id)id, &err);
        else if (strcmp(action, "heal") == 0)
            r = sf_subscriber_heal(c->fake, (sf_subscriber_id)id, true, &err);
        else if (strcmp(action, "discard") == 0)
            r = sf_subscriber_heal(c->fake, (sf_subscriber_id)id, false, &err);
        else if (strcmp(action, "disconnect") == 0)
            r = sf_subscriber_disconnect(c->fake, (sf_subscriber_id)id, &err);
        else if (strcmp(action, "reconnect") == 0)
            r = sf_subscriber_reconnect(c->fake, (sf_subscriber_id)id, &err);
        else
            return bad_param(c, "Action is hold, heal, discard, disconnect or reconnect");
        if (r != SF_OK)
            return sf_http_fail(c, &err);
        sf_subscriber_stats_get(c->fake, (sf_subscriber_id)id, &st, NULL);
    } else if (!sf_http_is(c, "GET")) {
        return sf_http_method_not_allowed(c, "GET, POST");
    }
    sf_http_buf_printf(&c->body,
                       "{\"id\": %" PRId64 ", \"stream_sid\": \"%s\", \"attached\": %s, "
                       "\"held\": %s, \"connected\": %s, \"delivered\": %" PRIu64
                       ", \"duplicated\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"lost\": %" PRIu64
                       ", \"in_flight\": %" PRIu64 ", \"parked\": %" PRIu64 "}",
                       id, st.stream_sid, st.attached ? "true" : "false",
                       st.held ? "true" : "false", st.connected ? "true" : "false", st.delivered,
                       st.duplicated, st.dropped, st.lost, st.in_flight, st.parked);
    return sf_http_json(c, 200);
}

/* ---- access tokens for client SDKs ---- */

/* The API key that signs an account's tokens: one per account (a new key per token would
 * keep every key for the fake's life: memory growing with each mint). Its SID is the
 * account's digits, each complemented (AC..01 -> SK..fe), so it is found again without
 * state and never equals the account's own digits; the first mint creates it. A SID taken
 * by another account's key (or digits that are not lowercase hex) falls back to a new key. */
static sf_status token_key(sf_fake *fake, const char *account_sid, sf_api_key_record *key,
                           sf_error *err)
{
    static const char hex[] = "0123456789abcdef";
    char sid[SF_SID_SIZE] = "SK";
    for (size_t i = 2; i < SF_SID_LEN; i++) {
        const char *d = account_sid[i] ? strchr(hex, account_sid[i]) : NULL;
        if (!d)
            return sf_api_key_create(fake, account_sid, NULL, key, err);
        sid[i] = hex[15 - (d - hex)];
    }
    sid[SF_SID_LEN] = '\0';
    if (sf_api_key_fetch(fake, sid, key, err) == SF_OK)
        return strcmp(key->account_sid, account_sid) == 0
                   ? SF_OK
                   : sf_api_key_create(fake, account_sid, NULL, key, err);
    return sf_api_key_create(fake, account_sid, &(sf_api_key_params){sid, NULL}, key, err);
}

/* POST /_syncfake/tokens Identity, ServiceSid, Ttl: a token as the helper libraries mint
 * them, signed with the calling account's token key (token_key), on the fake's clock. */
static int tokens_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    const char *identity = param(c, "Identity");
    const char *service = param(c, "ServiceSid");
    int64_t ttl = 3600;
    if (!identity || !*identity || strlen(identity) > 256)
        return bad_param(c, "Identity is required (at most 256 characters)");
    if (!service || !sf_sid_is(service, "IS"))
        return bad_param(c, "ServiceSid must be a service SID");
    if (!int_or_absent(c, "Ttl", &ttl) || ttl < 1 || ttl > 86400)
        return bad_param(c, "Ttl is 1..86400 seconds");
    int64_t iat = sf_clock_now(c->fake) / 1000;
    /* The clock ends at SF_TIME_MAX_MS: a token that would outlive it expires at its last
     * second (iat and ttl are bounded, so the sum cannot overflow). */
    int64_t exp = iat + ttl > SF_TIME_MAX_MS / 1000 ? SF_TIME_MAX_MS / 1000 : iat + ttl;
    if (exp <= iat)
        return bad_param(c, "no token can be minted in the clock's last second "
                            "(it ends at 9999-12-31T23:59:59.999Z)");
    sf_error err;
    sf_api_key_record key;
    if (token_key(c->fake, c->account_sid, &key, &err) != SF_OK)
        return sf_http_fail(c, &err);
    char token[4096];
    if (!sf_jwt_mint(key.sid, key.secret, c->account_sid, identity, service, iat, exp, token,
                     sizeof token))
        return bad_param(c, "Identity too long for a token");
    char expires[21];
    sf_format_iso8601(exp * 1000, expires);
    sf_http_buf_printf(&c->body, "{\"token\": \"%s\", \"identity\": ", token);
    sf_http_buf_json_string(&c->body, identity);
    sf_http_buf_printf(&c->body,
                       ", \"service_sid\": \"%s\", \"api_key_sid\": \"%s\", "
                       "\"date_expires\": \"%s\"}",
                       service, key.sid, expires);
    return sf_http_json(c, 201);
}

/* ---- server-sent events: this connection becomes a subscriber ---- */

static int events_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    if (!c->req->events)
        return sf_http_not_found(c);
    sf_subscribe_params sp = {.on_event = c->req->events->on_event,
                              .user = c->req->events->user,
                              .connection = SF_CONNECTION_SSE};
    sf_subscriber_id id;
    sf_error err;
    if (sf_subscribe(c->fake, c->account_sid, c->segments[2], c->segments[4], &sp, &id, &err) !=
        SF_OK)
        return sf_http_fail(c, &err);
    sf_http_buf_printf(&c->body, "event: subscribed\ndata: {\"subscriber_id\": %" PRIu64 "}\n\n",
                       id);
    c->resp->status = 200;
    c->resp->content_type = "text/event-stream";
    c->resp->event_stream = true;
    c->resp->subscriber = id;
    return 200;
}

char *sf_http_sse_format(const sf_event *ev, size_t *len)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED) {
        sf_http_buf_printf(&b,
                           "event: message_published\ndata: {\"stream_sid\": \"%s\", "
                           "\"message_sid\": \"%s\", \"data\": ",
                           ev->stream_sid, ev->message_sid);
        sf_http_buf_add(&b, ev->data, ev->data_len);
        sf_http_buf_printf(&b,
                           ", \"is_duplicate\": %s, \"published_ms\": %" PRId64
                           ", \"delivered_ms\": %" PRId64 "}\n\n",
                           ev->is_duplicate ? "true" : "false", ev->published_ms,
                           ev->delivered_ms);
    } else {
        sf_http_buf_printf(&b,
                           "event: removed\ndata: {\"stream_sid\": \"%s\", \"reason\": \"%s\"}\n\n",
                           ev->stream_sid, ev->reason == SF_REMOVED_EXPIRED ? "expired" : "deleted");
    }
    if (b.failed) {
        sf_http_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}

/* ---- reset and the journal ---- */

/* The fake-wide caller resets the whole fake; any other account only its own things. */
static int reset_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    sf_error err;
    bool whole = fake_wide(c);
    sf_status st =
        whole ? sf_fake_reset(c->fake, &err) : sf_account_reset(c->fake, c->account_sid, &err);
    if (st != SF_OK)
        return sf_http_fail(c, &err);
    c->resp->fake_was_reset = whole;
    return sf_http_no_content(c);
}

/* One page of the journal: at most `limit` lines (JOURNAL_PAGE_MAX at most, each under 1 KB),
 * so an answer's size is bounded whatever the journal holds. The next page starts after the
 * seq of the last line; a page shorter than `limit` is the last one. */
#define JOURNAL_PAGE_DEFAULT 1000
#define JOURNAL_PAGE_MAX 10000
#define JOURNAL_LINE_MAX 1024

static int journal_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    int64_t since = 0, limit = JOURNAL_PAGE_DEFAULT;
    if (!int_or_absent(c, "since", &since) || since < 0)
        return bad_param(c, "since is a journal seq (an integer >= 0)");
    if (!int_or_absent(c, "limit", &limit) || limit < 1 || limit > JOURNAL_PAGE_MAX)
        return bad_param(c, "limit is an integer within 1..10000");
    int64_t data = 0;
    if (!int_or_absent(c, "data", &data) || data < 0 || data > 1)
        return bad_param(c, "data is 0 or 1");
    sf_journal_filter filter = {.account_sid = own_account(c)};
    int refused = sf_http_journal_filters(c, &filter); /* ?kind=&stream=&subscriber= */
    if (refused)
        return refused;
    uint64_t cursor = sf_journal_cursor_after(c->fake, (uint64_t)since);
    if (data) /* with the recorded parameters (control_record.c) */
        return sf_http_journal_data_page(c, &filter, cursor, limit);
    sf_journal_entry e;
    char line[JOURNAL_LINE_MAX];
    for (int64_t n = 0; n < limit && sf_journal_next(c->fake, &filter, &cursor, &e); n++) {
        size_t len = sf_journal_entry_json(&e, line, sizeof line);
        if (len >= sizeof line) /* cannot happen: every field has a bounded width */
            return sf_http_fail_status(c, SF_ERR_NOMEM);
        sf_http_buf_add(&c->body, line, len);
        sf_http_buf_add(&c->body, "\n", 1);
    }
    c->resp->status = 200;
    c->resp->content_type = "application/x-ndjson";
    return 200;
}

/* ---- routing ---- */

#include "control_ui.h" /* the page at /_syncfake/ui */

int sf_http_control(sf_http_ctx *c)
{
    char **s = c->segments;
    size_t n = c->segment_count;
    if (n < 2)
        return sf_http_not_found(c);
    int refused = sf_http_control_check_params(c); /* unknown parameters: 400 */
    if (refused)
        return refused;
    if (n == 2 && strcmp(s[1], "clock") == 0)
        return clock_route(c);
    if (n == 2 && sf_http_control_state_owns(s[1])) /* state, subscribers, timeline.svg */
        return sf_http_control_state(c);
    if (n == 2 && strcmp(s[1], "reset") == 0)
        return reset_route(c);
    if (n == 2 && strcmp(s[1], "journal") == 0)
        return journal_route(c);
    if (n == 2 && strcmp(s[1], "request-log") == 0)
        return sf_http_control_request_log(c);
    if (n == 3 && strcmp(s[1], "journal") == 0 && strcmp(s[2], "record") == 0)
        return sf_http_journal_record_route(c, fake_wide(c));
    if ((n == 2 || n == 3) && strcmp(s[1], "faults") == 0)
        return faults_route(c);
    if (n == 2 && strcmp(s[1], "errors") == 0)
        return errors_route(c);
    if (n == 2 && strcmp(s[1], "tokens") == 0)
        return tokens_route(c);
    if (n == 2 && strcmp(s[1], "snapshot") == 0)
        return sf_http_control_snapshot(c);
    if (n == 2 && strcmp(s[1], "scenario") == 0)
        return sf_http_control_scenario(c);
    if (strcmp(s[1], "subscribers") == 0)
        return subscriber_route(c);
    if (strcmp(s[1], "ui") == 0)
        return sf_http_control_ui(c);
    if (n == 6 && strcmp(s[1], "Services") == 0 && strcmp(s[3], "Streams") == 0 &&
        strcmp(s[5], "Events") == 0) {
        /* segments shift by one: reuse the v1 layout (s[2] = service, s[4] = stream) */
        return events_route(c);
    }
    return sf_http_not_found(c);
}

/* For the read-only routes of control_state.c: the rule as GET /_syncfake/faults shows it. */
void sf_http_control_render_fault(sf_http_buf *b, const sf_fault_info *f) { render_fault(b, f); }
