/* SPDX-License-Identifier: MIT */
/* control_access.c: what every control route (/_syncfake/) reads the same way: its form
 * parameters and who the caller is. Account model: the fake's default account (or the
 * request's admin credential) has fake-wide powers; any other account sees and affects only
 * its own rules, injections, subscribers and journal entries. */
#include "control_access.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *sf_http_param(const sf_http_ctx *c, const char *name)
{
    return sf_http_form_get(&c->params, name);
}

bool sf_http_int_or_absent(const sf_http_ctx *c, const char *name, int64_t *out)
{
    const char *v = sf_http_param(c, name);
    return !v || sf_http_parse_int(v, out);
}

bool sf_http_double_or_absent(const sf_http_ctx *c, const char *name, double *out)
{
    const char *v = sf_http_param(c, name);
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
bool sf_http_fake_wide(const sf_http_ctx *c)
{
    return c->admin || strcmp(c->account_sid, sf_fake_account_sid(c->fake)) == 0;
}

/* What a caller's rules, injections and journal reads are limited to: NULL, nothing. */
const char *sf_http_own_account(const sf_http_ctx *c)
{
    return sf_http_fake_wide(c) ? NULL : c->account_sid;
}
