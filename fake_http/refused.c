/* SPDX-License-Identifier: MIT */
/* refused.c: journals requests refused before they reached an operation (journal kind
 * `refused`), scoped to the account the request is made as when that is known. */
#include "http_ctx.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *authorization(const sf_http_request *req)
{
    for (size_t i = 0; req->headers && i < req->header_count; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, "Authorization") == 0)
            return req->headers[i].value;
    return NULL;
}

/* Whose request it is: the account its Basic credentials authenticate as (the admin
 * credential: the default account), else the account SID it names with a wrong token (so the
 * owner sees the failed attempt), else none (""). */
static void account_of(sf_fake *fake, const sf_http_request *req, char out[SF_SID_SIZE])
{
    char user[512], password[512];
    out[0] = '\0';
    if (!sf_http_basic_credentials(authorization(req), user, password, sizeof user))
        return;
    if (req->admin_sid && req->admin_token && strcmp(user, req->admin_sid) == 0 &&
        strcmp(password, req->admin_token) == 0) {
        snprintf(out, SF_SID_SIZE, "%s", sf_fake_account_sid(fake));
        return;
    }
    if (sf_authenticate(fake, user, password, out, NULL) == SF_OK)
        return;
    if (sf_sid_is(user, "AC")) /* 34 characters; unknown to the fake: no account's entry */
        memcpy(out, user, SF_SID_SIZE);
}

void sf_http_journal_refused(sf_fake *fake, const sf_http_request *req, sf_status status,
                             sf_refusal reason)
{
    if (!fake || !req)
        return;
    char account[SF_SID_SIZE];
    account_of(fake, req, account);
    sf_journal_request_refused(fake, account[0] ? account : NULL, req->method, status, reason);
}

int sf_http_refuse(sf_http_ctx *c, sf_status status, sf_refusal reason)
{
    if (c->account_sid[0]) /* authenticated already */
        sf_journal_request_refused(c->fake, c->account_sid, c->method, status, reason);
    else
        sf_http_journal_refused(c->fake, c->req, status, reason);
    return sf_http_fail_status(c, status);
}

int sf_http_method_not_allowed(sf_http_ctx *c, const char *allow)
{
    snprintf(c->resp->allow, sizeof c->resp->allow, "%s", allow);
    return sf_http_refuse(c, SF_ERR_METHOD_NOT_ALLOWED, SF_REFUSAL_METHOD_NOT_ALLOWED);
}
