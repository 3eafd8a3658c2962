/* SPDX-License-Identifier: MIT */
/* render.h: Twilio's JSON for resources, pages and errors (field order of the OpenAPI
 * description; Twilio's ", " and ": " separators). */
#ifndef SF_HTTP_RENDER_H
#define SF_HTTP_RENDER_H

#include "buf.h"
#include "syncfake.h"

void sf_http_render_error(sf_http_buf *b, const sf_error *err);
/* A time as Twilio writes dates: a JSON string, ISO 8601 in UTC to the second. */
void sf_http_render_date(sf_http_buf *b, sf_ms t);
/* The error of a row of SF_STATUS_MAP: its HTTP status, code, more_info and message, the
 * message followed by ": detail" when detail is not NULL. */
void sf_http_status_error(sf_status status, const char *detail, sf_error *err);
/* SF_ERR_NOT_FOUND's error with the path in its message (cut to fit the message buffer). */
void sf_http_not_found_error(const char *path, sf_error *err);
/* Twilio's error body for a row of SF_STATUS_MAP, with the row's own message. */
void sf_http_render_status(sf_http_buf *b, sf_status status);
/* SF_ERR_NOT_FOUND's body with the whole path in its message (not cut, unlike
 * sf_http_not_found_error, whose message buffer is bounded). */
void sf_http_render_not_found(sf_http_buf *b, const char *path);
/* The client API's (Twilsock) error object: {"status":...,"code":...,"message":...}, compact,
 * in replies and in subscription_failed events. */
void sf_http_render_client_error(sf_http_buf *b, const sf_error *err);
/* Which API a resource is rendered for: REST v1 (Twilio's ", " and ": " separators, URLs
 * under /v1) or the client API the SDKs reach over Twilsock (compact JSON, URLs under /v3).
 * Same fields, same order. */
typedef enum sf_http_api { SF_HTTP_API_REST_V1, SF_HTTP_API_CLIENT_V3 } sf_http_api;
/* A stream's descriptor for `api`, its URLs absolute under `base`. */
void sf_http_render_stream_for(sf_http_buf *b, sf_http_api api, const char *base,
                               const sf_stream_record *r);
/* The REST v1 descriptor: sf_http_render_stream_for(b, SF_HTTP_API_REST_V1, base, r). */
void sf_http_render_stream(sf_http_buf *b, const char *base, const sf_stream_record *r);
void sf_http_render_service(sf_http_buf *b, const char *base, const sf_service_record *r);
void sf_http_render_message(sf_http_buf *b, const sf_message_record *m);

/* The "meta" object of a page. list_url is absolute, without a query. `token` is the token
 * this page was fetched with (NULL for a page fetched without one). */
void sf_http_render_meta(sf_http_buf *b, const char *list_url, const char *key,
                         const sf_page_info *info, const char *token);

#endif
