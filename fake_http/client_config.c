/* SPDX-License-Identifier: MIT */
/* client_config.c: see client_config.h. */
#include "client_config.h"

#include "render.h"

#include <stdio.h>
#include <string.h>

static bool lookup_key(void *user, const char *key_sid, char *secret, size_t secret_cap,
                       char *account_sid, size_t account_cap)
{
    sf_api_key_record k;
    if (sf_api_key_fetch(user, key_sid, &k, NULL) != SF_OK)
        return false;
    snprintf(secret, secret_cap, "%s", k.secret);
    snprintf(account_sid, account_cap, "%s", k.account_sid);
    return true;
}

sf_status sf_http_check_token(sf_fake *fake, const char *token, sf_jwt_claims *claims)
{
    sf_jwt_result r =
        sf_jwt_verify(token ? token : "", lookup_key, fake, sf_clock_now(fake) / 1000, claims);
    if (r == SF_JWT_EXPIRED)
        return SF_ERR_TOKEN_EXPIRED;
    if (r != SF_JWT_OK || !sf_sid_is(claims->service_sid, "IS"))
        return SF_ERR_TOKEN_INVALID; /* a Sync client needs a service grant */
    return SF_OK;
}

void sf_http_render_configuration(sf_http_buf *b, const char *base, const char *service_sid)
{
    /* the Kotlin SDK derives the stream, document, map and list URLs from list_items (its
     * first three path segments: v3/Services/IS...), so every templated link is per service */
    const char *svc = service_sid;
    sf_http_buf_printf(b,
                       "{\"links\":{\"subscriptions\":\"%s/v4/Subscriptions\","
                       "\"documents\":\"%s/v3/Documents\","
                       "\"document\":\"%s/v3/Services/%s/Documents/{documentId}\","
                       "\"maps\":\"%s/v3/Maps\","
                       "\"map\":\"%s/v3/Services/%s/Maps/{mapId}\","
                       "\"map_items\":\"%s/v3/Services/%s/Maps/{mapId}/Items\",",
                       base, base, base, svc, base, base, svc, base, svc);
    sf_http_buf_printf(b,
                       "\"map_item\":\"%s/v3/Services/%s/Maps/{mapId}/Items/{itemId}\","
                       "\"lists\":\"%s/v3/Lists\","
                       "\"list\":\"%s/v3/Services/%s/Lists/{listId}\","
                       "\"list_items\":\"%s/v3/Services/%s/Lists/{listId}/Items\","
                       "\"list_item\":\"%s/v3/Services/%s/Lists/{listId}/Items/{itemId}\",",
                       base, svc, base, base, svc, base, svc, base, svc);
    sf_http_buf_printf(b,
                       "\"streams\":\"%s/v3/Streams\","
                       "\"stream\":\"%s/v3/Services/%s/Streams/{streamId}\","
                       "\"stream_messages\":\"%s/v3/Services/%s/Streams/{streamId}/Messages\","
                       "\"insights_items\":\"%s/v3/Insights/{indexName}/Items\"}}",
                       base, base, svc, base, svc, base);
}

int sf_http_client_configuration(sf_http_ctx *c, const char *token)
{
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    sf_jwt_claims claims;
    sf_status st = sf_http_check_token(c->fake, token, &claims);
    if (st != SF_OK)
        return sf_http_fail_status(c, st);
    sf_http_render_configuration(&c->body, sf_fake_options(c->fake)->base_url, claims.service_sid);
    return sf_http_json(c, 200);
}
