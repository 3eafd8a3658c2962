/* SPDX-License-Identifier: MIT */
/* control_params.c: the control API (/_syncfake/) is syncfake's own, so unlike Twilio's it is
 * strict: a parameter its route does not take is 400/20001 naming it, the nearest known name
 * and every name the route takes. Also the helpers its routes share to say what is allowed. */
#include "control_params.h"
#include "param_warn.h"
#include "render.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

typedef struct control_route {
    const char *name; /* segments[1] */
    size_t segments;  /* how many the path has */
    const char *method;
    const char *params[12]; /* NULL-terminated */
} control_route;

/* Only the routes listed are checked; any other (a route another file adds) is left alone.
 * The journal's filters and data switch are listed so that they stay accepted. */
static const control_route routes[] = {
    {"clock", 2, "GET", {NULL}},
    {"clock", 2, "POST", {"AdvanceMs", "NowMs", NULL}},
    {"reset", 2, "POST", {NULL}},
    {"journal", 2, "GET", {"since", "limit", "kind", "stream", "subscriber", "data", NULL}},
    {"faults", 2, "GET", {NULL}},
    {"faults",
     2,
     "POST",
     {"Scope", "Target", "ServiceSid", "DropRate", "DuplicateRate", "DelayMs", "JitterMs",
      "DropNext", "ExpiryLagMs", NULL}},
    {"faults", 3, "GET", {NULL}},
    {"faults", 3, "DELETE", {NULL}},
    {"errors", 2, "POST", {"Operation", "Count", "Status", "Code", "Message", "AfterApply", NULL}},
    {"tokens", 2, "POST", {"Identity", "ServiceSid", "Ttl", NULL}},
    {"subscribers", 3, "GET", {NULL}},
    {"subscribers", 3, "POST", {"Action", NULL}},
};

static const control_route *find_route(const sf_http_ctx *c)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (c->segment_count == routes[i].segments && strcmp(c->segments[1], routes[i].name) == 0 &&
            sf_http_is(c, routes[i].method))
            return &routes[i];
    return NULL;
}

int sf_http_control_bad_param(sf_http_ctx *c, const char *what)
{
    sf_error err;
    sf_http_status_error(SF_ERR_INVALID_PARAMETER, what, &err);
    return sf_http_fail(c, &err);
}

static int unknown_param(sf_http_ctx *c, const control_route *r, const char *name)
{
    char shown[SF_HTTP_NAME_SHOWN_SIZE], names[300], what[800];
    sf_http_shown_name(name, shown);
    const char *near = sf_http_nearest_name(name, r->params);
    sf_http_list_names(r->params, names, sizeof names);
    int n = snprintf(what, sizeof what, "%s is not a parameter of %s /_syncfake/%s%s", shown,
                     r->method, r->name, r->segments == 3 ? "/{id}" : "");
    if (near)
        n += snprintf(what + n, sizeof what - (size_t)n, " (did you mean %s?)", near);
    snprintf(what + n, sizeof what - (size_t)n, "; it takes %s",
             r->params[0] ? names : "no parameters");
    return sf_http_control_bad_param(c, what);
}

int sf_http_control_check_params(sf_http_ctx *c)
{
    const control_route *r = c->segment_count >= 2 ? find_route(c) : NULL;
    if (!r)
        return 0;
    for (size_t i = 0; i < c->params.count; i++) {
        const char *name = c->params.fields[i].name;
        bool known = false;
        for (size_t k = 0; r->params[k] && !known; k++)
            known = strcmp(name, r->params[k]) == 0;
        if (!known)
            return unknown_param(c, r, name);
    }
    return 0;
}

void sf_http_operation_names(char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (int op = 0; op < SF_OP_COUNT && used < cap; op++)
        used +=
            (size_t)snprintf(out + used, cap - used, "%s%s", op ? ", " : "", sf_op_name((sf_op)op));
}

int sf_http_control_stream_target(sf_http_ctx *c, const char *target, const char *service_sid,
                                  bool every_account, char sid_out[SF_SID_SIZE])
{
    char what[900];
    sf_error err;
    if (!target || !*target)
        return sf_http_control_bad_param(
            c, "Target is required with Scope=stream: a stream SID or unique name "
               "(with ServiceSid when the name is in several services)");
    sf_status st = sf_stream_lookup(c->fake, c->account_sid, every_account, service_sid, target,
                                    sid_out, &err);
    if (st == SF_OK)
        return 0;
    char shown[SF_HTTP_NAME_SHOWN_SIZE];
    sf_http_shown_name(target, shown);
    if (st == SF_ERR_CONFLICT)
        snprintf(what, sizeof what,
                 "Target %s names a stream in more than one service: give ServiceSid", shown);
    else if (service_sid)
        snprintf(what, sizeof what, "Target %s is not a stream of service %.64s", shown,
                 service_sid);
    else
        snprintf(what, sizeof what, "Target %s is not the SID or unique name of a stream%s", shown,
                 every_account ? "" : " of this account");
    return sf_http_control_bad_param(c, what);
}
