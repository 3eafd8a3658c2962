/* SPDX-License-Identifier: MIT */
/* control_tokens.c: POST /_syncfake/tokens, access tokens for the client SDKs. */
#include "control_access.h"
#include "control_params.h"
#include "control_routes.h"
#include "render.h"

#include <inttypes.h>
#include "jwt.h"

#include <string.h>

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
int sf_http_control_tokens(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    const char *identity = sf_http_param(c, "Identity");
    const char *service = sf_http_param(c, "ServiceSid");
    int64_t ttl = 3600;
    if (!identity || !*identity || strlen(identity) > 256)
        return sf_http_control_bad_param(c, "Identity is required (at most 256 characters)");
    if (!service || !sf_sid_is(service, "IS"))
        return sf_http_control_bad_param(c, "ServiceSid must be a service SID");
    if (!sf_http_int_or_absent(c, "Ttl", &ttl) || ttl < 1 || ttl > 86400)
        return sf_http_control_bad_param(c, "Ttl is 1..86400 seconds");
    int64_t iat = sf_clock_now(c->fake) / 1000;
    /* The clock ends at SF_TIME_MAX_MS: a token that would outlive it expires at its last
     * second (iat and ttl are bounded, so the sum cannot overflow). */
    int64_t exp = iat + ttl > SF_TIME_MAX_MS / 1000 ? SF_TIME_MAX_MS / 1000 : iat + ttl;
    if (exp <= iat)
        return sf_http_control_bad_param(c, "no token can be minted in the clock's last second "
                                            "(it ends at 9999-12-31T23:59:59.999Z)");
    sf_error err;
    sf_api_key_record key;
    if (token_key(c->fake, c->account_sid, &key, &err) != SF_OK)
        return sf_http_fail(c, &err);
    char token[4096];
    if (!sf_jwt_mint(key.sid, key.secret, c->account_sid, identity, service, iat, exp, token,
                     sizeof token))
        return sf_http_control_bad_param(c, "Identity too long for a token");
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
