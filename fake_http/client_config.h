/* SPDX-License-Identifier: MIT */
/* client_config.h: what the client API (the SDKs' /v3/...) shares between its two faces, the
 * Twilsock session and plain HTTP: access-token checks and GET /v3/Configuration. */
#ifndef SF_HTTP_CLIENT_CONFIG_H
#define SF_HTTP_CLIENT_CONFIG_H

#include "buf.h"
#include "http_ctx.h"
#include "jwt.h"
#include "syncfake.h"

/* Checks an access token on the fake's clock: SF_OK (claims filled), SF_ERR_TOKEN_EXPIRED
 * (401/20104), or SF_ERR_TOKEN_INVALID (401/20101: malformed, unknown key, bad signature, not
 * yet valid, or no Sync grant with a service SID). */
sf_status sf_http_check_token(sf_fake *fake, const char *token, sf_jwt_claims *claims);

/* The body of GET /v3/Configuration for a token of service `service_sid`: {"links": {...}},
 * every link the Kotlin and iOS SDKs read, absolute under `base`, with Twilio's {mapId},
 * {listId}, {streamId}, {itemId} and {indexName} placeholders. */
void sf_http_render_configuration(sf_http_buf *b, const char *base, const char *service_sid);

/* GET /v3/Configuration over plain HTTP, authenticated by the access token in the
 * X-Twilio-Token header (`token`, NULL when absent), as Twilio's client API is. */
int sf_http_client_configuration(sf_http_ctx *c, const char *token);

#endif
