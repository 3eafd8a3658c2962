/* SPDX-License-Identifier: MIT */
/* twilsock_session.c: see twilsock_session.h.
 *
 * Locking: every access to the fake and to session state happens under the host's lock (the
 * server's one mutex). Frames are handled on the connection's I/O thread, with the lock held
 * for those that touch the fake; core events arrive in callbacks that already run under it. A
 * session is unsubscribed and taken out of the token watcher's heap under the lock in
 * `closed`, then freed, so no callback and no token check can meet a freed session. */
#include "twilsock_session.h"

#include "buf.h"
#include "client_config.h"
#include "codec.h"
#include "deadline_heap.h"
#include "json_field.h"
#include "jwt.h"
#include "render.h"
#include "twilsock_frame.h"

#include <nettle/sha1.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_SUBSCRIPTIONS 1024
#define MAX_PAYLOAD_TOKENS 4096

typedef struct ts_subscription {
    char stream_sid[SF_SID_SIZE];
    sf_subscriber_id id;
} ts_subscription;

typedef struct ts_session {
    sf_ts_manager *mgr;
    sf_ws_conn *conn;
    uint64_t client_id;       /* marks this connection's own publishes (not echoed back) */
    bool authed, warned;       /* a live token; its expiry was announced */
    char account_sid[SF_SID_SIZE];
    char service_sid[SF_SID_SIZE];
    char identity[257];
    int64_t exp_ms;
    uint64_t generation;      /* the fake's reset generation of its subscriptions */
    ts_subscription *subs;
    size_t sub_count, sub_cap;
    size_t deadline_slot;     /* in mgr->deadlines while its token is live */
} ts_session;

struct sf_ts_manager {
    sf_ts_host host;
    char base_url[SF_BASE_URL_CAP];
    sf_ws_handler handler;
    /* sessions with a live token, by when the token watcher next has work for them: the
     * `client_update` warning, then the expiry */
    sf_deadline_heap deadlines;
    size_t session_count;     /* the heap has room for every session */
    uint64_t next_client_id;
    uint64_t next_notification;
    /* the notification payload of the message being fanned out, built once for every
     * session (under the host lock); `published_data_at` is where its data starts */
    sf_http_buf published;
    char published_stream[SF_SID_SIZE], published_message[SF_SID_SIZE];
    size_t published_data_at, published_data_len;
    pthread_t ticker;
    bool ticker_started;
    atomic_bool stopping;    /* read without the host lock: the host may be going away */
    atomic_bool started; /* host set: connections before that are refused */
};

/* ---- sending ---- */

static void send_frame(ts_session *s, const char *header, const char *payload, size_t len)
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
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    default: return status < 400 ? "OK" : "Error";
    }
}

/* Starts a reply's header: {"method":"reply","id":<the request's id> */
static void reply_start(sf_http_buf *h, const char *id)
{
    sf_http_buf_init(h);
    sf_http_buf_str(h, "{\"method\":\"reply\",\"id\":");
    sf_http_buf_json_string(h, id);
}

/* The answer to a tunnelled request: transport 200, the Sync answer in http_status. */
static void reply_http(ts_session *s, const char *id, int status, const sf_http_buf *body)
{
    sf_http_buf h;
    reply_start(&h, id);
    sf_http_buf_printf(&h,
                       ",\"payload_type\":\"application/json\",\"status\":{\"code\":200,"
                       "\"status\":\"OK\"},\"http_status\":{\"code\":%d,\"status\":\"%s\"}}",
                       status, reason_of(status));
    if (!h.failed && !body->failed)
        send_frame(s, h.data, body->data ? body->data : "", body->len);
    sf_http_buf_free(&h);
}

static void reply_error(ts_session *s, const char *id, const sf_error *err)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_render_client_error(&b, err);
    reply_http(s, id, err->http_status, &b);
    sf_http_buf_free(&b);
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
static void client_api_error(const char *stream_id, sf_error *err)
{
    if (err->status == SF_ERR_NOT_FOUND)
        sf_http_status_error(sf_sid_pattern(stream_id) ? SF_ERR_STREAM_NOT_FOUND
                                                       : SF_ERR_UNIQUE_NAME_NOT_FOUND,
                             NULL, err);
}

static void reply_stream_error(ts_session *s, const char *id, const char *stream_id,
                               sf_error *err)
{
    client_api_error(stream_id, err);
    reply_error(s, id, err);
}

static void reply_status(ts_session *s, const char *id, sf_status st)
{
    sf_http_buf h;
    reply_start(&h, id);
    sf_http_buf_str(&h, ",");
    status_object(&h, st);
    sf_http_buf_str(&h, "}");
    if (!h.failed)
        send_frame(s, h.data, "", 0);
    sf_http_buf_free(&h);
}

/* The answer to a good `init`, as Twilio gives it: the capabilities it confirms (never
 * telemetry.v1) and, for the data_sync product, an offline storage id (40 hex digits), which
 * the SDK uses to name its session-storage cache. syncfake's is SHA-1 of the token's account,
 * service and identity, of the server's instance id and of the fake's reset generation: stable
 * for one user, different between users, and new after a reset or a restart of the server so
 * that no descriptor cached before it is reused. */
static void reply_init(ts_session *s, const char *id)
{
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];
    char storage_id[2 * SHA1_DIGEST_SIZE + 1];
    sha1_init(&sha);
    sha1_update(&sha, strlen(s->account_sid) + 1, (const uint8_t *)s->account_sid);
    sha1_update(&sha, strlen(s->service_sid) + 1, (const uint8_t *)s->service_sid);
    sha1_update(&sha, strlen(s->identity) + 1, (const uint8_t *)s->identity);
    const char *instance = s->mgr->host.instance_id ? s->mgr->host.instance_id : "";
    sha1_update(&sha, strlen(instance) + 1, (const uint8_t *)instance);
    char generation[24];
    int glen = snprintf(generation, sizeof generation, "%" PRIu64,
                        sf_fake_generation(s->mgr->host.fake));
    sha1_update(&sha, (size_t)glen, (const uint8_t *)generation);
    sha1_digest(&sha, SHA1_DIGEST_SIZE, digest);
    for (size_t i = 0; i < SHA1_DIGEST_SIZE; i++)
        snprintf(storage_id + 2 * i, 3, "%02x", digest[i]);

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
    if (!h.failed)
        send_frame(s, h.data, "", 0);
    sf_http_buf_free(&h);
}

static void notify(ts_session *s, const sf_http_buf *payload)
{
    char header[256];
    snprintf(header, sizeof header,
             "{\"method\":\"notification\",\"id\":\"TM%020" PRIu64 "\","
             "\"message_type\":\"twilio.sync.event\",\"payload_type\":\"application/json\"}",
             ++s->mgr->next_notification);
    if (!payload->failed)
        send_frame(s, header, payload->data, payload->len);
}

/* ---- tokens ---- */

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

/* Checks a token on the fake's clock and, when good, makes it the session's. */
static sf_jwt_result take_token(ts_session *s, const char *token)
{
    sf_fake *fake = s->mgr->host.fake;
    sf_jwt_claims c;
    sf_jwt_result r = sf_jwt_verify(token, lookup_key, fake, sf_clock_now(fake) / 1000, &c);
    if (r != SF_JWT_OK)
        return r;
    if (!sf_sid_is(c.service_sid, "IS"))
        return SF_JWT_MALFORMED; /* a Sync client needs a service grant */
    snprintf(s->account_sid, sizeof s->account_sid, "%.34s", c.sub);
    snprintf(s->service_sid, sizeof s->service_sid, "%.34s", c.service_sid);
    snprintf(s->identity, sizeof s->identity, "%.256s", c.identity);
    /* exp is the signer's choice (any int64 above now): one past the clock's end would
     * overflow here, so such a token expires when the clock does */
    s->exp_ms = c.exp > SF_TIME_MAX_MS / 1000 ? SF_TIME_MAX_MS : c.exp * 1000;
    s->warned = false;
    s->authed = true;
    sf_deadline_set(&s->mgr->deadlines, s, &s->deadline_slot,
                    s->exp_ms - SF_TS_TOKEN_WARNING_MS, s->client_id);
    return SF_JWT_OK;
}

static void refuse_token(ts_session *s, const char *id, sf_jwt_result r)
{
    reply_status(s, id, r == SF_JWT_EXPIRED ? SF_ERR_TOKEN_EXPIRED : SF_ERR_TOKEN_INVALID);
}

/* ---- JSON payloads ---- */

/* A request's payload, read by the one JSON reader (json_field.c) that also reads frame
 * headers and tokens: strict RFC 8259, keys and strings unescaped, so that a unique name
 * reads the same here as over REST. */
typedef struct payload {
    sf_jf_doc doc;
    bool present;  /* a non-empty payload was sent */
    bool readable; /* it is one JSON object within the caps */
} payload;

static void payload_parse(payload *p, const char *text, size_t len)
{
    p->doc = (sf_jf_doc){0};
    p->present = len > 0;
    p->readable = p->present && sf_jf_parse_object_within(&p->doc, text, len, MAX_PAYLOAD_TOKENS,
                                                          SF_TS_MAX_PAYLOAD_DEPTH);
}

/* The value of `key` in the object at token `obj`: SF_JF_ABSENT, SF_JF_DUPLICATE or the
 * value's token. An unreadable payload has no members. */
static int member(const payload *p, int obj, const char *key)
{
    return p->readable ? sf_jf_member(&p->doc, obj, key) : SF_JF_ABSENT;
}

static bool is_kind(const payload *p, int v, sf_jf_kind kind)
{
    return v >= 0 && sf_jf_kind_of(&p->doc, v) == kind;
}

static bool string_value(const payload *p, int v, char *out, size_t cap)
{
    return is_kind(p, v, SF_JF_STRING) && sf_jf_string(&p->doc, v, out, cap);
}

static bool int_value(const payload *p, int v, int64_t *out)
{
    return v >= 0 && sf_jf_int(&p->doc, v, out);
}

/* ---- the Sync client API for streams ---- */

static void descriptor(const ts_session *s, const sf_stream_record *r, sf_http_buf *b)
{
    const char *base = s->mgr->base_url;
    char created[21], updated[21], expires[21];
    sf_format_iso8601(r->date_created_ms, created);
    sf_format_iso8601(r->date_updated_ms, updated);
    sf_format_iso8601(r->date_expires_ms, expires);
    sf_http_buf_printf(b, "{\"sid\":\"%s\",\"unique_name\":", r->sid);
    sf_http_buf_json_string_or_null(b, r->has_unique_name ? r->unique_name : NULL);
    sf_http_buf_printf(b,
                       ",\"account_sid\":\"%s\",\"service_sid\":\"%s\","
                       "\"url\":\"%s/v3/Services/%s/Streams/%s\","
                       "\"links\":{\"messages\":\"%s/v3/Services/%s/Streams/%s/Messages\"},"
                       "\"date_expires\":",
                       r->account_sid, r->service_sid, base, r->service_sid, r->sid, base,
                       r->service_sid, r->sid);
    if (r->has_date_expires)
        sf_http_buf_printf(b, "\"%s\"", expires);
    else
        sf_http_buf_str(b, "null");
    sf_http_buf_printf(b, ",\"date_created\":\"%s\",\"date_updated\":\"%s\",\"created_by\":",
                       created, updated);
    sf_http_buf_json_string(b, r->created_by);
    sf_http_buf_str(b, "}");
}

static void answer_stream(ts_session *s, const char *id, int status, const sf_stream_record *r)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    descriptor(s, r, &b);
    reply_http(s, id, status, &b);
    sf_http_buf_free(&b);
}

static void bad_request(ts_session *s, const char *id, const char *why)
{
    sf_error err;
    sf_http_status_error(SF_ERR_INVALID_PARAMETER, why, &err);
    reply_error(s, id, &err);
}

/* A payload that was sent but is not one JSON object (malformed, not UTF-8, too deep, over
 * the token budget) is Invalid JSON, as REST's Data is: never read as no payload, which
 * would create or change a stream the caller did not describe. */
static bool refused_unreadable(ts_session *s, const char *id, const payload *p)
{
    if (!p->present || p->readable)
        return false;
    sf_error err;
    sf_http_status_error(SF_ERR_DATA_INVALID, NULL, &err);
    reply_error(s, id, &err);
    return true;
}

/* The member `key` as a Ttl (a non-integer is -1: the core answers 54011); false when the
 * key is there twice (answered 400). */
static bool read_ttl(ts_session *s, const char *id, const payload *p, sf_stream_params *sp)
{
    int v = member(p, 0, "ttl");
    if (v == SF_JF_DUPLICATE) {
        bad_request(s, id, "ttl");
        return false;
    }
    sp->has_ttl = v >= 0;
    if (v >= 0 && !int_value(p, v, &sp->ttl))
        sp->ttl = -1;
    return true;
}

static void stream_create(ts_session *s, const char *id, const payload *p)
{
    char name[SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1];
    sf_stream_params sp = {0};
    if (refused_unreadable(s, id, p))
        return;
    int v = member(p, 0, "unique_name");
    if (v == SF_JF_DUPLICATE)
        return bad_request(s, id, "unique_name");
    if (is_kind(p, v, SF_JF_STRING)) {
        if (!string_value(p, v, name, sizeof name))
            return bad_request(s, id, "unique_name");
        sp.unique_name = name;
    }
    if (!read_ttl(s, id, p, &sp))
        return;
    sf_stream_record r;
    sf_error err;
    if (sf_stream_create(s->mgr->host.fake, s->account_sid, s->service_sid, &sp, &r, &err) !=
        SF_OK)
        return reply_error(s, id, &err);
    answer_stream(s, id, 201, &r);
}

static void stream_update(ts_session *s, const char *id, const char *stream, const payload *p)
{
    sf_stream_params sp = {0};
    if (refused_unreadable(s, id, p) || !read_ttl(s, id, p, &sp))
        return;
    sf_stream_record r;
    sf_error err;
    if (sf_stream_update(s->mgr->host.fake, s->account_sid, s->service_sid, stream, &sp, &r,
                         &err) != SF_OK)
        return reply_stream_error(s, id, stream, &err);
    answer_stream(s, id, 200, &r);
}

static void publish(ts_session *s, const char *id, const char *stream, const payload *p)
{
    if (refused_unreadable(s, id, p))
        return;
    int v = member(p, 0, "data");
    if (v == SF_JF_DUPLICATE)
        return bad_request(s, id, "data");
    sf_publish_params mp = {.client_id = s->client_id};
    if (v >= 0) /* as sent: a string keeps its quotes (not an object: 54008) */
        sf_jf_span(&p->doc, v, &mp.data, &mp.data_len);
    sf_message_record m;
    sf_error err;
    if (sf_stream_publish(s->mgr->host.fake, s->account_sid, s->service_sid, stream, &mp, &m,
                          &err) != SF_OK)
        return reply_stream_error(s, id, stream, &err);
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_buf_printf(&b, "{\"sid\":\"%s\",\"created_by\":", m.sid);
    sf_http_buf_json_string(&b, s->identity);
    sf_http_buf_str(&b, "}");
    reply_http(s, id, 201, &b);
    sf_http_buf_free(&b);
}

static void on_event(sf_fake *fake, const sf_event *ev, void *user);

static ts_subscription *find_subscription(ts_session *s, const char *stream_sid)
{
    for (size_t i = 0; i < s->sub_count; i++)
        if (strcmp(s->subs[i].stream_sid, stream_sid) == 0)
            return &s->subs[i];
    return NULL;
}

static void drop_subscription(ts_session *s, ts_subscription *sub)
{
    *sub = s->subs[--s->sub_count];
}

/* Subscribes one stream; false with err set when it cannot be. */
static bool establish(ts_session *s, const char *stream_sid, sf_error *err)
{
    if (find_subscription(s, stream_sid))
        return true;
    if (s->sub_count == MAX_SUBSCRIPTIONS) {
        sf_http_status_error(SF_ERR_TOO_MANY_SUBSCRIPTIONS, NULL, err);
        return false;
    }
    if (s->sub_count == s->sub_cap) {
        size_t cap = s->sub_cap ? s->sub_cap * 2 : 8;
        ts_subscription *subs = realloc(s->subs, cap * sizeof *subs);
        if (!subs) {
            sf_http_status_error(SF_ERR_NOMEM, NULL, err);
            return false;
        }
        s->subs = subs;
        s->sub_cap = cap;
    }
    sf_subscribe_params sp = {
        .on_event = on_event, .user = s, .client_id = s->client_id, .skip_local = true,
        .connection = SF_CONNECTION_TWILSOCK};
    sf_subscriber_id sid;
    if (sf_subscribe(s->mgr->host.fake, s->account_sid, s->service_sid, stream_sid, &sp, &sid,
                     err) != SF_OK) {
        client_api_error(stream_sid, err);
        return false;
    }
    ts_subscription *sub = &s->subs[s->sub_count++];
    snprintf(sub->stream_sid, sizeof sub->stream_sid, "%s", stream_sid);
    sub->id = sid;
    s->generation = sf_fake_generation(s->mgr->host.fake);
    return true;
}

static void subscriptions(ts_session *s, const char *id, const payload *p)
{
    int action = member(p, 0, "action");
    int requests = member(p, 0, "requests");
    int correlation = member(p, 0, "correlation_id");
    char what[16];
    if (!string_value(p, action, what, sizeof what) || !is_kind(p, requests, SF_JF_ARRAY) ||
        sf_jf_count(&p->doc, requests) > 100 ||
        (strcmp(what, "establish") != 0 && strcmp(what, "cancel") != 0))
        return bad_request(s, id, "action and requests");
    bool cancel = strcmp(what, "cancel") == 0;

    sf_http_buf ok, failed, answer;
    sf_http_buf_init(&ok);
    sf_http_buf_init(&failed);
    sf_http_buf_init(&answer);
    size_t n_ok = 0, n_failed = 0;
    int count = sf_jf_count(&p->doc, requests);
    for (int i = requests + 1, k = 0; k < count; k++, i = sf_jf_next(&p->doc, i)) {
        char stream_sid[SF_SID_SIZE + 1] = "";
        string_value(p, member(p, i, "object_sid"), stream_sid, sizeof stream_sid);
        sf_error err;
        if (cancel) {
            ts_subscription *sub = find_subscription(s, stream_sid);
            if (sub) {
                if (s->generation == sf_fake_generation(s->mgr->host.fake))
                    sf_unsubscribe(s->mgr->host.fake, sub->id, NULL);
                drop_subscription(s, sub);
            }
        } else if (!establish(s, stream_sid, &err)) {
            sf_http_buf_printf(&failed,
                               "%s{\"object_sid\":\"%s\",\"object_type\":\"stream\","
                               "\"error\":",
                               n_failed++ ? "," : "", stream_sid);
            sf_http_render_client_error(&failed, &err);
            sf_http_buf_str(&failed, "}");
            continue;
        }
        sf_http_buf_printf(&ok, "%s{\"object_sid\":\"%s\",\"object_type\":\"stream\"%s}",
                           n_ok++ ? "," : "", stream_sid,
                           cancel ? "" : ",\"replay_status\":\"completed\",\"last_event_id\":0");
    }
    /* max_batch_size: the Kotlin SDK requires it (SubscriptionManager.kt SubscriptionResponse)
     * and sends batches of at most that many; 100 is what one request here may carry */
    sf_http_buf_str(&answer, "{\"estimated_delivery_in_ms\":100,\"max_batch_size\":100}");
    reply_http(s, id, 200, &answer);

    /* the correlation id is echoed as sent (a number or a string) */
    char corr[64] = "null";
    if (correlation >= 0) {
        const char *text;
        size_t len;
        sf_jf_span(&p->doc, correlation, &text, &len);
        size_t quotes = is_kind(p, correlation, SF_JF_STRING) ? 2 : 0;
        if (len - quotes < 60)
            snprintf(corr, sizeof corr, "%.*s", (int)len, text);
    }
    sf_http_buf note;
    if (n_ok) {
        sf_http_buf_init(&note);
        sf_http_buf_printf(&note, "{\"event_type\":\"%s\",\"correlation_id\":%s,\"events\":[",
                           cancel ? "subscription_canceled" : "subscription_established", corr);
        sf_http_buf_add(&note, ok.data, ok.len);
        sf_http_buf_str(&note, "]}");
        notify(s, &note);
        sf_http_buf_free(&note);
    }
    if (n_failed) {
        sf_http_buf_init(&note);
        sf_http_buf_printf(&note,
                           "{\"event_type\":\"subscription_failed\",\"correlation_id\":%s,"
                           "\"events\":[",
                           corr);
        sf_http_buf_add(&note, failed.data, failed.len);
        sf_http_buf_str(&note, "]}");
        notify(s, &note);
        sf_http_buf_free(&note);
    }
    sf_http_buf_free(&ok);
    sf_http_buf_free(&failed);
    sf_http_buf_free(&answer);
}

/* Path segments after the scheme and host (which the SDK may send), each decoded. */
static size_t split_path(const char *path, char segs[6][SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1])
{
    const char *p = path;
    const char *scheme = strstr(p, "://");
    if (scheme) {
        p = strchr(scheme + 3, '/');
        if (!p)
            return 0;
    }
    const char *query = strchr(p, '?');
    size_t end = query ? (size_t)(query - p) : strlen(p);
    size_t n = 0;
    for (size_t i = 1; i <= end && n < 6;) {
        size_t j = i;
        while (j < end && p[j] != '/')
            j++;
        size_t len;
        if (j - i > SF_UNIQUE_NAME_CAP * SF_UTF8_MAX * 3 ||
            !sf_http_percent_decode(p + i, j - i, false, segs[n], &len))
            return 0;
        n++;
        i = j + 1;
    }
    return n;
}

static void message_frame(ts_session *s, const sf_ts_frame *f)
{
    static char segs[6][SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1]; /* under the host lock */
    if (!s->authed)
        return reply_status(s, f->id, SF_ERR_TOKEN_INVALID);
    payload pl, *p = &pl;
    payload_parse(p, f->payload, f->payload_len);
    size_t n = f->has_http_request ? split_path(f->http_path, segs) : 0;
    const char *m = f->http_method;
    sf_fake *fake = s->mgr->host.fake;
    sf_stream_record r;
    sf_error err;
    bool v3 = n >= 2 && strcmp(segs[0], "v3") == 0;
    bool service_path = v3 && n >= 5 && strcmp(segs[1], "Services") == 0 &&
                        strcmp(segs[3], "Streams") == 0;
    const char *stream = NULL;
    if (v3 && n == 3 && strcmp(segs[1], "Streams") == 0)
        stream = segs[2];
    else if (service_path && strcmp(segs[2], s->service_sid) == 0)
        stream = segs[4];

    if (n == 2 && strcmp(segs[0], "v4") == 0 && strcmp(segs[1], "Subscriptions") == 0 &&
        strcmp(m, "POST") == 0) {
        subscriptions(s, f->id, p);
    } else if (v3 && n == 2 && strcmp(segs[1], "Configuration") == 0 && strcmp(m, "GET") == 0) {
        sf_http_buf b; /* what the Kotlin and iOS SDKs fetch first, for their links */
        sf_http_buf_init(&b);
        sf_http_render_configuration(&b, s->mgr->base_url, s->service_sid);
        reply_http(s, f->id, 200, &b);
        sf_http_buf_free(&b);
    } else if (v3 && n == 2 && strcmp(segs[1], "Streams") == 0 && strcmp(m, "POST") == 0) {
        stream_create(s, f->id, p);
    } else if (stream && service_path && n == 6 && strcmp(segs[5], "Messages") == 0 &&
               strcmp(m, "POST") == 0) {
        publish(s, f->id, stream, p);
    } else if (stream && (n == 3 || (service_path && n == 5)) && strcmp(m, "GET") == 0) {
        if (sf_stream_fetch(fake, s->account_sid, s->service_sid, stream, &r, &err) != SF_OK)
            reply_stream_error(s, f->id, stream, &err);
        else
            answer_stream(s, f->id, 200, &r);
    } else if (stream && (n == 3 || (service_path && n == 5)) && strcmp(m, "POST") == 0) {
        stream_update(s, f->id, stream, p);
    } else if (stream && (n == 3 || (service_path && n == 5)) && strcmp(m, "DELETE") == 0) {
        /* the SDK sends a stray body with DELETE: ignored */
        if (sf_stream_remove(fake, s->account_sid, s->service_sid, stream, &err) != SF_OK) {
            reply_stream_error(s, f->id, stream, &err);
        } else {
            sf_http_buf empty;
            sf_http_buf_init(&empty);
            sf_http_buf_str(&empty, "{}");
            reply_http(s, f->id, 200, &empty);
            sf_http_buf_free(&empty);
        }
    } else {
        sf_http_not_found_error(f->http_path, &err); /* no such route: the path asked for */
        reply_error(s, f->id, &err);
    }
    sf_jf_free(&p->doc);
}

/* ---- core events to notifications ---- */

/* The payload of a published message's notification, the same for every session: built
 * once per message and reused while the fan-out goes on (a duplicate or a later delivery of
 * the same message matches too; anything else rebuilds it). */
static const sf_http_buf *published_payload(sf_ts_manager *mgr, const sf_event *ev)
{
    sf_http_buf *b = &mgr->published;
    if (!b->failed && b->len && mgr->published_data_len == ev->data_len &&
        strcmp(mgr->published_message, ev->message_sid) == 0 &&
        strcmp(mgr->published_stream, ev->stream_sid) == 0 &&
        memcmp(b->data + mgr->published_data_at, ev->data, ev->data_len) == 0)
        return b;
    sf_http_buf_free(b);
    sf_http_buf_init(b);
    sf_http_buf_printf(b,
                       "{\"event_type\":\"stream_message_published\","
                       "\"event_protocol_version\":4,\"event\":{\"stream_sid\":\"%s\","
                       "\"message_sid\":\"%s\",\"message_data\":",
                       ev->stream_sid, ev->message_sid);
    mgr->published_data_at = b->len;
    mgr->published_data_len = ev->data_len;
    sf_http_buf_add(b, ev->data, ev->data_len);
    sf_http_buf_str(b, "}}");
    snprintf(mgr->published_stream, sizeof mgr->published_stream, "%s", ev->stream_sid);
    snprintf(mgr->published_message, sizeof mgr->published_message, "%s", ev->message_sid);
    return b;
}

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    ts_session *s = user;
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED) {
        notify(s, published_payload(s->mgr, ev));
        return;
    }
    ts_subscription *sub = find_subscription(s, ev->stream_sid);
    if (sub)
        drop_subscription(s, sub); /* the core detached it */
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_buf_printf(&b,
                       "{\"event_type\":\"stream_removed\",\"event_protocol_version\":4,"
                       "\"event\":{\"stream_sid\":\"%s\"}}",
                       ev->stream_sid);
    notify(s, &b);
    sf_http_buf_free(&b);
}

/* ---- the WebSocket handler ---- */

static void *ts_open(void *ctx, sf_ws_conn *conn)
{
    sf_ts_manager *mgr = ctx;
    if (!atomic_load_explicit(&mgr->started, memory_order_acquire))
        return NULL; /* the server runs but its sessions are not wired yet */
    ts_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->mgr = mgr;
    s->conn = conn;
    mgr->host.lock(mgr->host.ctx);
    bool room = sf_deadline_reserve(&mgr->deadlines, mgr->session_count + 1);
    if (room) {
        mgr->session_count++;
        s->client_id = UINT64_C(0x7700000000000000) + ++mgr->next_client_id;
    }
    mgr->host.unlock(mgr->host.ctx);
    if (!room) {
        free(s);
        return NULL;
    }
    return s;
}

static void ts_message(void *session, const uint8_t *data, size_t len)
{
    ts_session *s = session;
    sf_ts_frame *f = malloc(sizeof *f);
    if (!f)
        return;
    if (!sf_ts_parse(data, len, f)) {
        free(f);
        sf_ws_close(s->conn, 1002); /* protocol error */
        return;
    }
    bool token = strcmp(f->method, "init") == 0 || strcmp(f->method, "update") == 0;
    if (strcmp(f->method, "close") == 0) {
        sf_ws_close(s->conn, 1000);
    } else if (token || strcmp(f->method, "message") == 0) {
        s->mgr->host.lock(s->mgr->host.ctx);
        if (!token) {
            message_frame(s, f);
        } else {
            sf_jwt_result r = take_token(s, f->token);
            if (r == SF_JWT_OK && strcmp(f->method, "init") == 0)
                reply_init(s, f->id); /* init: with the offline storage id */
            else if (r == SF_JWT_OK)
                reply_status(s, f->id, SF_OK); /* update */
            else
                refuse_token(s, f->id, r);
        }
        s->mgr->host.unlock(s->mgr->host.ctx);
    } /* replies (the client's acks of notifications) and anything else: nothing to do, and
       * no lock taken, since every notification is acked */
    free(f);
}

static void ts_closed(void *session)
{
    ts_session *s = session;
    sf_ts_manager *mgr = s->mgr;
    mgr->host.lock(mgr->host.ctx);
    if (s->generation == sf_fake_generation(mgr->host.fake))
        for (size_t i = 0; i < s->sub_count; i++)
            sf_unsubscribe(mgr->host.fake, s->subs[i].id, NULL);
    sf_deadline_remove(&mgr->deadlines, &s->deadline_slot);
    mgr->session_count--;
    mgr->host.unlock(mgr->host.ctx);
    free(s->subs);
    free(s);
}

/* Announces expiring tokens and ends expired sessions, on the fake's clock. Only sessions
 * with something due are visited (the earliest first), never every session. */
static void *token_watch(void *arg)
{
    sf_ts_manager *mgr = arg;
    struct timespec pause = {0, 20 * 1000000L};
    while (!atomic_load(&mgr->stopping)) {
        mgr->host.lock(mgr->host.ctx);
        sf_ms now = sf_clock_now(mgr->host.fake);
        for (const sf_deadline *d; (d = sf_deadline_first(&mgr->deadlines)) && d->due <= now;) {
            ts_session *s = d->item;
            if (!s->warned) {
                s->warned = true;
                char header[160];
                snprintf(header, sizeof header,
                         "{\"method\":\"client_update\",\"id\":\"TM%020" PRIu64 "\","
                         "\"client_update_type\":\"token_about_to_expire\"}",
                         ++mgr->next_notification);
                send_frame(s, header, "", 0);
            }
            if (now >= s->exp_ms) {
                s->authed = false;
                sf_http_buf h; /* close 410 TOKEN_EXPIRED 51207 "Token expired" */
                sf_http_buf_init(&h);
                sf_http_buf_printf(&h, "{\"method\":\"close\",\"id\":\"TM%020" PRIu64 "\",",
                                   ++mgr->next_notification);
                status_object(&h, SF_ERR_SESSION_TOKEN_EXPIRED);
                sf_http_buf_str(&h, "}");
                if (!h.failed)
                    send_frame(s, h.data, "", 0);
                sf_http_buf_free(&h);
                sf_ws_close(s->conn, 1000);
                sf_deadline_remove(&mgr->deadlines, &s->deadline_slot);
            } else {
                sf_deadline_set(&mgr->deadlines, s, &s->deadline_slot, s->exp_ms, s->client_id);
            }
        }
        mgr->host.unlock(mgr->host.ctx);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

sf_ts_manager *sf_ts_manager_new(void)
{
    sf_ts_manager *mgr = calloc(1, sizeof *mgr);
    if (!mgr)
        return NULL;
    mgr->handler = (sf_ws_handler){ts_open, ts_message, ts_closed, mgr};
    return mgr;
}

bool sf_ts_manager_start(sf_ts_manager *mgr, const sf_ts_host *host)
{
    mgr->host = *host;
    snprintf(mgr->base_url, sizeof mgr->base_url, "%s", host->base_url);
    mgr->ticker_started = pthread_create(&mgr->ticker, NULL, token_watch, mgr) == 0;
    atomic_store_explicit(&mgr->started, mgr->ticker_started, memory_order_release);
    return mgr->ticker_started;
}

const sf_ws_handler *sf_ts_handler(sf_ts_manager *mgr) { return &mgr->handler; }

void sf_ts_manager_stop(sf_ts_manager *mgr)
{
    if (!mgr || !mgr->ticker_started)
        return;
    atomic_store(&mgr->stopping, true);
    pthread_join(mgr->ticker, NULL);
    mgr->ticker_started = false;
}

void sf_ts_manager_free(sf_ts_manager *mgr)
{
    if (!mgr)
        return;
    sf_ts_manager_stop(mgr);
    sf_http_buf_free(&mgr->published);
    sf_deadline_free(&mgr->deadlines);
    free(mgr);
}
