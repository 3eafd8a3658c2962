/* SPDX-License-Identifier: MIT */
/* control_faults.c: /_syncfake/faults (delivery fault rules: create, list, fetch, delete)
 * and /_syncfake/errors (errors injected into the next calls of an operation). A caller
 * that is not fake-wide sees and adds only its own account's rules and injections. */
#include "control_access.h"
#include "control_params.h"
#include "control_routes.h"
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- faults ---- */

static const char *scope_name(sf_fault_scope s)
{
    return s == SF_SCOPE_STREAM ? "stream" : s == SF_SCOPE_SUBSCRIBER ? "subscriber" : "fake";
}

void sf_http_control_render_fault(sf_http_buf *b, const sf_fault_info *f)
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
                       p->delay_ms, p->jitter_ms, p->drop_next, p->expiry_lag_ms, f->drop_next_left,
                       f->hits);
}

/* Whether the caller may see a rule: its own, or any for a fake-wide caller. */
static bool fault_visible(const sf_http_ctx *c, const sf_fault_info *f)
{
    const char *own = sf_http_own_account(c);
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
    if (!sf_http_double_or_absent(c, "DropRate", &p->drop_rate) || p->drop_rate < 0 ||
        p->drop_rate > 1)
        return sf_http_control_bad_param(c, "DropRate must be a number within 0..1");
    if (!sf_http_double_or_absent(c, "DuplicateRate", &p->duplicate_rate) ||
        p->duplicate_rate < 0 || p->duplicate_rate > 1)
        return sf_http_control_bad_param(c, "DuplicateRate must be a number within 0..1");
    static const char *const times[] = {"DelayMs", "JitterMs", "ExpiryLagMs"};
    sf_ms *fields[] = {&p->delay_ms, &p->jitter_ms, &p->expiry_lag_ms};
    char what[96];
    for (size_t i = 0; i < 3; i++) {
        if (!sf_http_int_or_absent(c, times[i], fields[i]) || *fields[i] < 0 ||
            *fields[i] > INT64_C(1) << 40) {
            snprintf(what, sizeof what, "%s must be an integer within 0..2^40 (ms)", times[i]);
            return sf_http_control_bad_param(c, what);
        }
    }
    int64_t drop_next = 0;
    if (!sf_http_int_or_absent(c, "DropNext", &drop_next) || drop_next < 0 ||
        drop_next > UINT32_MAX)
        return sf_http_control_bad_param(c, "DropNext must be an integer within 0..4294967295");
    p->drop_next = (uint32_t)drop_next;
    return 0;
}

static int fault_create(sf_http_ctx *c)
{
    sf_fault_params p = {0};
    const char *scope = sf_http_param(c, "Scope");
    const char *target = sf_http_param(c, "Target");
    char stream[SF_SID_SIZE];
    if (!scope || strcmp(scope, "fake") == 0) {
        p.scope = SF_SCOPE_FAKE;
    } else if (strcmp(scope, "stream") == 0) {
        p.scope = SF_SCOPE_STREAM; /* Target: a SID or unique name, as on every route */
        int refused = sf_http_control_stream_target(c, target, sf_http_param(c, "ServiceSid"),
                                                    sf_http_fake_wide(c), stream);
        if (refused)
            return refused;
        p.stream_sid = stream;
    } else if (strcmp(scope, "subscriber") == 0) {
        int64_t id;
        p.scope = SF_SCOPE_SUBSCRIBER;
        if (!target || !sf_http_parse_int(target, &id) || id <= 0)
            return sf_http_control_bad_param(
                c, "Target must be a subscriber id (an integer >= 1) with "
                   "Scope=subscriber");
        p.subscriber = (sf_subscriber_id)id;
    } else {
        return sf_http_control_bad_param(c, "Scope must be fake, stream or subscriber");
    }
    int refused = fault_numbers(c, &p);
    if (refused)
        return refused;
    p.account_sid = sf_http_own_account(c); /* another account's subscriber is then "unknown" */
    sf_error err;
    sf_fault_id id;
    if (sf_fault_add(c->fake, &p, &id, &err) != SF_OK)
        return sf_http_fail(c, &err); /* 400/20001 "Invalid parameter: <why>" */
    sf_fault_info info;
    if (!find_fault(c, id, &info))
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    sf_http_control_render_fault(&c->body, &info);
    return sf_http_json(c, 201);
}

int sf_http_control_faults(sf_http_ctx *c)
{
    if (c->segment_count == 3) {
        int64_t id;
        if (!sf_http_parse_int(c->segments[2], &id) || id <= 0 || id > UINT32_MAX)
            return sf_http_not_found(c);
        sf_fault_info info;
        if (!find_fault(c, (sf_fault_id)id, &info))
            return sf_http_not_found(c); /* another account's rule too */
        if (sf_http_is(c, "GET")) {
            sf_http_control_render_fault(&c->body, &info);
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
        sf_http_control_render_fault(&c->body, &all[i]);
    }
    sf_http_buf_str(&c->body, "]}");
    free(all);
    return sf_http_json(c, 200);
}

/* ---- injected errors ---- */

int sf_http_control_errors(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    sf_error_injection inj = {0};
    const char *op = sf_http_param(c, "Operation");
    int64_t count = 1, status = 500, code = 20500;
    bool after = false;
    const char *after_text = sf_http_param(c, "AfterApply");
    if (!op || !sf_op_parse(op, &inj.op)) {
        char what[400];
        int n = snprintf(what, sizeof what, "Operation must be one of ");
        sf_http_operation_names(what + n, sizeof what - (size_t)n);
        return sf_http_control_bad_param(c, what);
    }
    if (!sf_http_int_or_absent(c, "Count", &count) ||
        !sf_http_int_or_absent(c, "Status", &status) || !sf_http_int_or_absent(c, "Code", &code) ||
        count < 1 || count > UINT32_MAX || code < 0 || code > INT32_MAX || status < 400 ||
        status > 599)
        return sf_http_control_bad_param(c,
                                         "Count >= 1, Status 400..599 and Code >= 0 are integers");
    if (after_text && !sf_http_parse_bool(after_text, &after))
        return sf_http_control_bad_param(c, "AfterApply is true or false");
    inj.count = (uint32_t)count;
    inj.http_status = (int)status;
    inj.code = (int)code;
    inj.message = sf_http_param(c, "Message");
    inj.after_apply = after;
    inj.account_sid = sf_http_own_account(c); /* only the caller's own calls fail */
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
