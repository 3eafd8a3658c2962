/* SPDX-License-Identifier: MIT */
/* twilsock_reply.c: the frames a Twilsock session sends (twilsock_internal.h): replies to
 * requests, notifications, the token's warning and its close. */
#include "twilsock_internal.h"

#include "render.h"

#include <nettle/sha1.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sf_ts_send_frame(ts_session *s, const char *header, const char *payload, size_t len)
{
    char head[1024]; /* every header but a reply to a very long request id fits */
    size_t head_len = sf_ts_build_head(header, len, head, sizeof head);
    if (head_len) {
        sf_ws_chunk frame[2] = {{head, head_len}, {payload, len}};
        sf_ws_sendv(s->conn, frame, 2);
        return;
    }
    size_t n;
    uint8_t *frame = sf_ts_build(header, payload, len, &n);
    if (frame) {
        sf_ws_send(s->conn, frame, n);
        free(frame);
    }
}

static const char *reason_of(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 429:
        return "Too Many Requests";
    default:
        return status < 400 ? "OK" : "Error";
    }
}

/* Starts a reply's header: {"method":"reply","id":<the request's id> */
static void reply_start(sf_http_buf *h, const char *id)
{
    sf_http_buf_init(h);
    sf_http_buf_str(h, "{\"method\":\"reply\",\"id\":");
    sf_http_buf_json_string(h, id);
}

/* Sends a header built in h (with no payload) and frees it. */
static void send_header(ts_session *s, sf_http_buf *h)
{
    if (!h->failed)
        sf_ts_send_frame(s, h->data, "", 0);
    sf_http_buf_free(h);
}

/* The reply carrying a tunnelled request's answer: its status and payload (JSON). */
static void reply_payload(ts_session *s, const char *id, int status, const char *payload,
                          size_t len)
{
    sf_http_buf h;
    reply_start(&h, id);
    sf_http_buf_printf(&h,
                       ",\"payload_type\":\"application/json\",\"status\":{\"code\":200,"
                       "\"status\":\"OK\"},\"http_status\":{\"code\":%d,\"status\":\"%s\"}}",
                       status, reason_of(status));
    if (!h.failed)
        sf_ts_send_frame(s, h.data, payload, len);
    sf_http_buf_free(&h);
}

void sf_ts_reply_http(ts_session *s, const char *id, int status, const sf_http_buf *body)
{
    if (!body->failed)
        reply_payload(s, id, status, body->data ? body->data : "", body->len);
}

void sf_ts_reply_json(ts_session *s, const char *id, int status, const char *json)
{
    reply_payload(s, id, status, json, strlen(json));
}

void sf_ts_reply_error(ts_session *s, const char *id, const sf_error *err)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_render_client_error(&b, err);
    sf_ts_reply_http(s, id, err->http_status, &b);
    sf_http_buf_free(&b);
}

void sf_ts_bad_request(ts_session *s, const char *id, const char *why)
{
    sf_error err;
    sf_http_status_error(SF_ERR_INVALID_PARAMETER, why, &err);
    sf_ts_reply_error(s, id, &err);
}

/* Twilsock's own status strings (upper case, unlike the tunnelled HTTP answer's reasons), for
 * the codes this session sends. Twilio's Kotlin SDK tests show them: TwilsockTransportTest.kt
 * (401 UNAUTHORIZED), ConnectedTwilsockTest.kt (410 TOKEN_EXPIRED); also 429
 * TOO_MANY_REQUESTS and 406 NOT_ACCEPTABLE_MESSAGE (fakeMessages.kt, TwilsockTransportTest.kt),
 * which the fake never sends. */
static const char *twilsock_status_of(int code)
{
    if (code == 401)
        return "UNAUTHORIZED";
    if (code == 410)
        return "TOKEN_EXPIRED";
    return "OK"; /* 200 */
}

/* A Twilsock status object for a row of the status table (SF_OK: a bare 200 "OK"), fields in
 * Twilio's order: code, status, description, errorCode. */
static void status_object(sf_http_buf *h, sf_status st)
{
    int code = sf_status_http(st);
    sf_http_buf_printf(h, "\"status\":{\"code\":%d,\"status\":\"%s\"", code,
                       twilsock_status_of(code));
    if (st != SF_OK) {
        sf_http_buf_str(h, ",\"description\":");
        sf_http_buf_json_string(h, sf_status_message(st));
        sf_http_buf_printf(h, ",\"errorCode\":%d", sf_status_code(st));
    }
    sf_http_buf_str(h, "}");
}

/* The client API's own not-found, not REST v1's 20404 naming a /Services/... path: 404/54250
 * "Stream not found" for a SID, 404/54300 "Unique name not found" for a name (Twilio's
 * Kotlin SDK StreamTest.kt openNonExistingStream, iOS TwilioSyncStreamTests.swift testRemove). */
void sf_ts_client_api_error(const char *stream_id, sf_error *err)
{
    if (err->status == SF_ERR_NOT_FOUND)
        sf_http_status_error(sf_sid_pattern(stream_id) ? SF_ERR_STREAM_NOT_FOUND
                                                       : SF_ERR_UNIQUE_NAME_NOT_FOUND,
                             NULL, err);
}

void sf_ts_reply_stream_error(ts_session *s, const char *id, const char *stream_id, sf_error *err)
{
    sf_ts_client_api_error(stream_id, err);
    sf_ts_reply_error(s, id, err);
}

void sf_ts_reply_status(ts_session *s, const char *id, sf_status st)
{
    sf_http_buf h;
    reply_start(&h, id);
    sf_http_buf_str(&h, ",");
    status_object(&h, st);
    sf_http_buf_str(&h, "}");
    send_header(s, &h);
}

/* syncfake's offline storage id (40 hex digits, out): SHA-1 of the token's account, service
 * and identity, of the server's instance id and of the fake's reset generation: stable for one
 * user, different between users, and new after a reset or a restart of the server so that no
 * descriptor cached before it is reused. */
static void storage_id_of(const ts_session *s, char out[2 * SHA1_DIGEST_SIZE + 1])
{
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&sha);
    sha1_update(&sha, strlen(s->account_sid) + 1, (const uint8_t *)s->account_sid);
    sha1_update(&sha, strlen(s->service_sid) + 1, (const uint8_t *)s->service_sid);
    sha1_update(&sha, strlen(s->identity) + 1, (const uint8_t *)s->identity);
    const char *instance = s->mgr->host.instance_id ? s->mgr->host.instance_id : "";
    sha1_update(&sha, strlen(instance) + 1, (const uint8_t *)instance);
    char generation[24];
    int glen =
        snprintf(generation, sizeof generation, "%" PRIu64, sf_fake_generation(s->mgr->host.fake));
    sha1_update(&sha, (size_t)glen, (const uint8_t *)generation);
    sha1_digest(&sha, SHA1_DIGEST_SIZE, digest);
    for (size_t i = 0; i < SHA1_DIGEST_SIZE; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* The answer to a good `init`, as Twilio gives it: the capabilities it confirms (never
 * telemetry.v1) and, for the data_sync product, an offline storage id, which the SDK uses to
 * name its session-storage cache. */
void sf_ts_reply_init(ts_session *s, const char *id)
{
    char storage_id[2 * SHA1_DIGEST_SIZE + 1];
    storage_id_of(s, storage_id);
    sf_http_buf h;
    reply_start(&h, id);
    sf_http_buf_printf(&h,
                       ",\"status\":{\"code\":200,\"status\":\"OK\"},"
                       "\"capabilities\":[\"client_update\",\"offline_storage\","
                       "\"account_descriptor\"],"
                       "\"offline_storage\":{\"data_sync\":{\"storage_id\":\"%s\"}},"
                       "\"account_descriptor\":{\"account_sid\":\"%s\","
                       "\"instance_sids\":{\"data_sync\":\"%s\"},\"identity\":",
                       storage_id, s->account_sid, s->service_sid);
    sf_http_buf_json_string(&h, s->identity);
    sf_http_buf_str(&h, "}}");
    send_header(s, &h);
}

void sf_ts_notify(ts_session *s, const sf_http_buf *payload)
{
    char header[256];
    snprintf(header, sizeof header,
             "{\"method\":\"notification\",\"id\":\"TM%020" PRIu64 "\","
             "\"message_type\":\"twilio.sync.event\",\"payload_type\":\"application/json\"}",
             ++s->mgr->next_notification);
    if (!payload->failed)
        sf_ts_send_frame(s, header, payload->data, payload->len);
}

void sf_ts_warn_token_expiring(ts_session *s)
{
    char header[160];
    snprintf(header, sizeof header,
             "{\"method\":\"client_update\",\"id\":\"TM%020" PRIu64 "\","
             "\"client_update_type\":\"token_about_to_expire\"}",
             ++s->mgr->next_notification);
    sf_ts_send_frame(s, header, "", 0);
}

void sf_ts_close_token_expired(ts_session *s)
{
    sf_http_buf h; /* close 410 TOKEN_EXPIRED 51207 "Token expired" */
    sf_http_buf_init(&h);
    sf_http_buf_printf(&h, "{\"method\":\"close\",\"id\":\"TM%020" PRIu64 "\",",
                       ++s->mgr->next_notification);
    status_object(&h, SF_ERR_SESSION_TOKEN_EXPIRED);
    sf_http_buf_str(&h, "}");
    send_header(s, &h);
}
