/* SPDX-License-Identifier: MIT */
/* test_twilsock_client.c: the client API over Twilsock, spoken as Twilio's SDKs speak it, on
 * a real server socket: the Kotlin (Android) SDK's start-up replayed byte for byte as its
 * source writes it (init, GET /v3/Configuration, the first stream open and subscription),
 * and the client API's own vocabulary: 404/54250 and 404/54300 (also in subscription_failed),
 * Twilio's 54302 message, upper-case Twilsock statuses, close 410/51207 on token expiry, and
 * unique names with JSON escapes.
 *
 * Where the Kotlin bytes come from (twilio/twilio-sync-sdk):
 *   sdk/twilsock/.../client/TwilsockMessage.kt encode(): "TWILSOCK V3.0 <n>\r\n<header>\r\n"
 *     then the payload and "\r\n" only when there is a payload; header keys method, id, then
 *     payload_size/payload_type only with a payload, then the message's own headers.
 *   .../client/Twilsock.kt createInitRequest(): capabilities ["client_update",
 *     "account_descriptor"], token, metadata (registrations empty for Sync: omitted).
 *   .../client/TwilsockProtocol.kt: upstream "message" headers active_grant "data_sync" and
 *     http_request {host, path, method, params, headers} with multi-valued headers.
 *   .../commands/BaseCommand.kt generateHeaders(): Twilio-Request-Id, Content-Type.
 *   sdk/sync/.../subscriptions/SubscriptionManager.kt: POST {event_protocol_version,
 *     action, correlation_id, requests:[{object_sid, object_type}]}, no HTTP headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <unistd.h>

#include "assert_status.h"
#include "http_client.h"
#include "jwt.h"
#include "loopback.h"
#include "server.h"
#include "syncfake.h"
#include "ts_client.h"
#include "ts_server.h"
#include "twilsock_session.h"
#include "ws_client.h"

#define BASE "https://cds.us1.twilio.com"
#define WAIT_MS 5000

typedef struct env {
    sf_fake *fake;
    ts_server ts;
    char service[SF_SID_SIZE];
    char account[SF_SID_SIZE];
    char token[4096];
    sf_api_key_record key;
} env;

static void mint(env *e, int64_t iat, int64_t ttl, char *out, size_t cap)
{
    assert_true(sf_jwt_mint(e->key.sid, e->key.secret, e->account, "alice", e->service, iat,
                            iat + ttl, out, cap) > 0);
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 1;
    opts.clock = SF_CLOCK_MANUAL;
    opts.base_url = BASE;
    sf_error err;
    if (!e || sf_fake_new(&opts, &e->fake, &err) != SF_OK)
        return -1;
    snprintf(e->account, sizeof e->account, "%s", sf_fake_account_sid(e->fake));
    sf_service_record svc;
    if (sf_api_key_create(e->fake, e->account, NULL, &e->key, &err) != SF_OK ||
        sf_service_create(e->fake, NULL, NULL, &svc, &err) != SF_OK)
        return -1;
    snprintf(e->service, sizeof e->service, "%s", svc.sid);
    mint(e, SF_DEFAULT_EPOCH_MS / 1000, 600, e->token, sizeof e->token);
    if (!ts_server_start(&e->ts, e->fake, BASE, 0))
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    env *e = *state;
    ts_server_stop(&e->ts);
    sf_fake_free(e->fake);
    free(e);
    return 0;
}

/* Sends a Twilsock message as the Kotlin SDK encodes it (TwilsockMessage.kt encode()): a
 * payload, when there is one, ends with CRLF. */
static void ts_send(int fd, const char *header, const char *payload)
{
    size_t cap = strlen(payload) + 3;
    char *body = malloc(cap);
    assert_non_null(body);
    snprintf(body, cap, "%s%s", payload, *payload ? "\r\n" : "");
    tsc_send(fd, header, body);
    free(body);
}

static void expect_contains(const char *text, const char *part)
{
    if (!strstr(text, part))
        fail_msg("expected %s\nin %s", part, text);
}

static void expect_lacks(const char *text, const char *part)
{
    if (strstr(text, part))
        fail_msg("did not expect %s\nin %s", part, text);
}

static void kotlin_init(int fd, const char *token)
{
    char header[4608];
    snprintf(header, sizeof header,
             "{\"method\":\"init\",\"id\":\"RQ5d1a0e5cc0d04b0c8e2a56b1f3a5f5c1\","
             "\"capabilities\":[\"client_update\",\"account_descriptor\"],\"token\":\"%s\","
             "\"metadata\":{\"os\":\"Android\",\"osv\":\"14\",\"osa\":\"aarch64\","
             "\"dev\":\"sdk_gphone64_arm64\",\"devv\":\"Google\",\"devt\":\"mobile\","
             "\"app\":\"com.example.syncapp\",\"appv\":\"1.0\",\"type\":\"sync\","
             "\"sdk\":\"Android\",\"sdkv\":\"4.0.0\"}}",
             token);
    ts_send(fd, header, "");
}

/* An upstream request as the Kotlin SDK sends it through Twilsock. */
static void kotlin_request(int fd, const char *id, const char *method, const char *path,
                           const char *payload)
{
    char header[2048];
    if (*payload) /* SubscriptionManager.kt: no HTTP headers, so payload_type application/json */
        snprintf(header, sizeof header,
                 "{\"method\":\"message\",\"id\":\"%s\",\"payload_size\":%zu,"
                 "\"payload_type\":\"application/json\",\"active_grant\":\"data_sync\","
                 "\"http_request\":{\"host\":\"cds.us1.twilio.com\",\"path\":\"%s\","
                 "\"method\":\"%s\",\"params\":{},\"headers\":{}}}",
                 id, strlen(payload), path, method);
    else
        snprintf(header, sizeof header,
                 "{\"method\":\"message\",\"id\":\"%s\",\"active_grant\":\"data_sync\","
                 "\"http_request\":{\"host\":\"cds.us1.twilio.com\",\"path\":\"%s\","
                 "\"method\":\"%s\",\"params\":{},\"headers\":{\"Twilio-Request-Id\":"
                 "[\"RQ0f3c2b1a09e84d7c6b5a493827161504\"],\"Content-Type\":"
                 "[\"application/json; charset=utf-8\"]}}}",
                 id, path, method);
    ts_send(fd, header, payload);
}

static int connected(env *e)
{
    int fd = sf_wsc_open(e->ts.port, "/v3/wsconnect");
    assert_true(fd >= 0);
    kotlin_init(fd, e->token);
    char *r = tsc_next(fd, "reply");
    expect_contains(r, "\"status\":{\"code\":200,\"status\":\"OK\"}");
    free(r);
    return fd;
}

static void make_stream(env *e, const char *name, sf_stream_record *out)
{
    sf_stream_params p = {.unique_name = name};
    sf_server_lock(e->ts.srv);
    sf_status st = sf_stream_create(e->fake, NULL, e->service, &p, out, NULL);
    sf_server_unlock(e->ts.srv);
    assert_status(st, SF_OK);
}

/* ---- the Kotlin SDK's start-up ---- */

/* init: the account descriptor the SDK waits for (SyncClientFactory.kt
 * requestAccountDescriptor). */
static void kotlin_init_gets_account_descriptor(env *e, int fd)
{
    kotlin_init(fd, e->token);
    char *r = tsc_next(fd, "reply");
    char want[512];
    expect_contains(r, "\"id\":\"RQ5d1a0e5cc0d04b0c8e2a56b1f3a5f5c1\"");
    expect_contains(r, "\"status\":{\"code\":200,\"status\":\"OK\"}");
    snprintf(want, sizeof want,
             "\"account_descriptor\":{\"account_sid\":\"%s\",\"instance_sids\":{\"data_sync\":"
             "\"%s\"},\"identity\":\"alice\"}",
             e->account, e->service);
    expect_contains(r, want);
    free(r);
}

/* GET /v3/Configuration: the whole reply, byte for byte. */
static void kotlin_configuration_reply(env *e, int fd)
{
    kotlin_request(fd, "RQ00000000000000000000000000000001", "GET", "/v3/Configuration", "");
    char *r = tsc_next(fd, "reply");
    char links[4096];
    const char *s = e->service;
    int n = snprintf(
        links, sizeof links,
        "{\"links\":{\"subscriptions\":\"" BASE "/v4/Subscriptions\","
        "\"documents\":\"" BASE "/v3/Documents\","
        "\"document\":\"" BASE "/v3/Services/%s/Documents/{documentId}\","
        "\"maps\":\"" BASE "/v3/Maps\",\"map\":\"" BASE "/v3/Services/%s/Maps/{mapId}\","
        "\"map_items\":\"" BASE "/v3/Services/%s/Maps/{mapId}/Items\","
        "\"map_item\":\"" BASE "/v3/Services/%s/Maps/{mapId}/Items/{itemId}\","
        "\"lists\":\"" BASE "/v3/Lists\",\"list\":\"" BASE "/v3/Services/%s/Lists/{listId}\","
        "\"list_items\":\"" BASE "/v3/Services/%s/Lists/{listId}/Items\","
        "\"list_item\":\"" BASE "/v3/Services/%s/Lists/{listId}/Items/{itemId}\","
        "\"streams\":\"" BASE "/v3/Streams\","
        "\"stream\":\"" BASE "/v3/Services/%s/Streams/{streamId}\","
        "\"stream_messages\":\"" BASE "/v3/Services/%s/Streams/{streamId}/Messages\","
        "\"insights_items\":\"" BASE "/v3/Insights/{indexName}/Items\"}}",
        s, s, s, s, s, s, s, s, s);
    char whole[6144];
    char header[400];
    int hn = snprintf(header, sizeof header,
                      "{\"method\":\"reply\",\"id\":\"RQ00000000000000000000000000000001\","
                      "\"payload_type\":\"application/json\",\"status\":{\"code\":200,"
                      "\"status\":\"OK\"},\"http_status\":{\"code\":200,\"status\":\"OK\"},"
                      "\"payload_size\":%d}",
                      n);
    snprintf(whole, sizeof whole, "TWILSOCK V3.0 %d\r\n%s\r\n%s", hn, header, links);
    assert_string_equal(r, whole);
    free(r);
}

/* The first stream open (GET of the stream link, derived from list_items) and its
 * subscription, whose reply carries max_batch_size (SubscriptionResponse). */
static void kotlin_open_and_subscribe(env *e, int fd, const sf_stream_record *made)
{
    char path[256], want[512];
    snprintf(path, sizeof path, "/v3/Services/%s/Streams/%s", e->service, made->sid);
    kotlin_request(fd, "RQ00000000000000000000000000000002", "GET", path, "");
    char *r = tsc_next(fd, "reply");
    expect_contains(r, "\"http_status\":{\"code\":200,\"status\":\"OK\"}");
    snprintf(want, sizeof want, "{\"sid\":\"%s\",\"unique_name\":\"kotlin-first\"", made->sid);
    expect_contains(tsc_payload(r), want);
    free(r);

    char body[256];
    snprintf(body, sizeof body,
             "{\"event_protocol_version\":4,\"action\":\"establish\",\"correlation_id\":1,"
             "\"requests\":[{\"object_sid\":\"%s\",\"object_type\":\"stream\"}]}",
             made->sid);
    kotlin_request(fd, "RQ00000000000000000000000000000003", "POST", "/v4/Subscriptions", body);
    r = tsc_next(fd, "reply");
    assert_string_equal(tsc_payload(r),
                        "{\"estimated_delivery_in_ms\":100,\"max_batch_size\":100}");
    free(r);
    r = tsc_next(fd, "notification");
    snprintf(want, sizeof want,
             "{\"event_type\":\"subscription_established\",\"correlation_id\":1,\"events\":"
             "[{\"object_sid\":\"%s\",\"object_type\":\"stream\"",
             made->sid);
    expect_contains(tsc_payload(r), want);
    free(r);
}

static void kotlin_startup_sequence(void **state)
{
    env *e = *state;
    sf_stream_record made;
    make_stream(e, "kotlin-first", &made);
    int fd = sf_wsc_open(e->ts.port, "/v3/wsconnect");
    assert_true(fd >= 0);
    kotlin_init_gets_account_descriptor(e, fd);
    kotlin_configuration_reply(e, fd);
    kotlin_open_and_subscribe(e, fd, &made);
    /* the SDK's subscription is a subscriber of kind twilsock (GET /_syncfake/subscribers) */
    sf_subscriber_info sub;
    sf_server_lock(e->ts.srv);
    size_t subs = sf_subscriber_list(e->fake, NULL, &sub, 1);
    sf_server_unlock(e->ts.srv);
    assert_int_equal(subs, 1);
    assert_int_equal(sub.connection, SF_CONNECTION_TWILSOCK);
    assert_string_equal(sub.stats.stream_sid, made.sid);
    close(fd);
}

/* ---- not found, the client API's way ---- */

static void not_found_is_54250_by_sid_and_54300_by_name(void **state)
{
    env *e = *state;
    int fd = connected(e);
    static const struct {
        const char *path, *body;
    } cases[] = {
        {"/v3/Streams/TO00000000000000000000000000000000",
         "{\"status\":404,\"code\":54250,\"message\":\"Stream not found\"}"},
        {"/v3/Streams/TO111",
         "{\"status\":404,\"code\":54300,\"message\":\"Unique name not found\"}"},
        {"/v3/Streams/to00000000000000000000000000000000",
         "{\"status\":404,\"code\":54300,\"message\":\"Unique name not found\"}"},
        /* no such route (documents are not served): REST's 20404 naming what was asked */
        {"/v3/Documents/ET00000000000000000000000000000000",
         "{\"status\":404,\"code\":20404,\"message\":\"The requested resource "
         "/v3/Documents/ET00000000000000000000000000000000 was not found\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kotlin_request(fd, "RQ00000000000000000000000000000010", "GET", cases[i].path, "");
        char *r = tsc_next(fd, "reply");
        expect_contains(r, "\"http_status\":{\"code\":404,\"status\":\"Not Found\"}");
        assert_string_equal(tsc_payload(r), cases[i].body);
        free(r);
    }
    /* publishing to a removed stream, and removing it again: by SID */
    sf_stream_record gone;
    make_stream(e, "short-lived", &gone);
    sf_server_lock(e->ts.srv);
    assert_status(sf_stream_remove(e->fake, NULL, e->service, gone.sid, NULL), SF_OK);
    sf_server_unlock(e->ts.srv);
    char path[256];
    snprintf(path, sizeof path, "/v3/Services/%s/Streams/%s/Messages", e->service, gone.sid);
    kotlin_request(fd, "RQ00000000000000000000000000000011", "POST", path, "{\"data\":{}}");
    char *r = tsc_next(fd, "reply");
    assert_string_equal(tsc_payload(r),
                        "{\"status\":404,\"code\":54250,\"message\":\"Stream not found\"}");
    free(r);

    /* subscription_failed: the same body, never a /Services/... path */
    char body[256];
    snprintf(body, sizeof body,
             "{\"event_protocol_version\":4,\"action\":\"establish\",\"correlation_id\":7,"
             "\"requests\":[{\"object_sid\":\"%s\",\"object_type\":\"stream\"}]}",
             gone.sid);
    kotlin_request(fd, "RQ00000000000000000000000000000012", "POST", "/v4/Subscriptions", body);
    free(tsc_next(fd, "reply"));
    r = tsc_next(fd, "notification");
    char want[256];
    snprintf(want, sizeof want,
             "{\"event_type\":\"subscription_failed\",\"correlation_id\":7,\"events\":[{"
             "\"object_sid\":\"%s\",\"object_type\":\"stream\",\"error\":{\"status\":404,"
             "\"code\":54250,\"message\":\"Stream not found\"}}]}",
             gone.sid);
    assert_string_equal(tsc_payload(r), want);
    expect_lacks(r, "/Services/");
    free(r);
    close(fd);
}

/* ---- unique names: Twilio's 54302, its SID pattern, JSON escapes ---- */

static void unique_names_over_twilsock(void **state)
{
    env *e = *state;
    int fd = connected(e);
    kotlin_request(fd, "RQ00000000000000000000000000000020", "POST", "/v3/Streams",
                   "{\"unique_name\":\"XY0123456789abcdef0123456789abcdef\"}");
    char *r = tsc_next(fd, "reply");
    assert_string_equal(
        tsc_payload(r),
        "{\"status\":400,\"code\":54302,\"message\":\"Invalid unique name. Expected "
        "a string with length 1-320 not matching the SID pattern "
        "[A-Z]{2}[a-f0-9]{32}\"}");
    free(r);
    static const char *const names[][2] = {
        /* as sent in JSON, as stored */
        {"TO0123456789ABCDEF0123456789ABCDEF", "TO0123456789ABCDEF0123456789ABCDEF"},
        {"to0123456789abcdef0123456789abcdef", "to0123456789abcdef0123456789abcdef"},
        {"say \\\"hi\\\" \\\\ \\u00e9", "say \"hi\" \\ \xc3\xa9"},
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"unique_name\":\"%s\"}", names[i][0]);
        kotlin_request(fd, "RQ00000000000000000000000000000021", "POST", "/v3/Streams", body);
        r = tsc_next(fd, "reply");
        expect_contains(r, "\"http_status\":{\"code\":201,\"status\":\"Created\"}");
        free(r);
        sf_stream_record got;
        sf_server_lock(e->ts.srv);
        sf_status st = sf_stream_fetch(e->fake, NULL, e->service, names[i][1], &got, NULL);
        sf_server_unlock(e->ts.srv);
        if (st != SF_OK)
            fail_msg("name #%zu is not the stream's name", i);
    }
    close(fd);
}

/* ---- payloads: read by json_field.c, as frame headers and tokens are ---- */

static size_t stream_count(env *e)
{
    sf_stream_page *page = NULL;
    sf_page_params pp = {.has_page_size = true, .page_size = 100};
    sf_server_lock(e->ts.srv);
    assert_status(sf_stream_list(e->fake, NULL, e->service, &pp, &page, NULL), SF_OK);
    size_t n = page->info.count;
    sf_stream_page_free(e->fake, page);
    sf_server_unlock(e->ts.srv);
    return n;
}

static bool has_stream_named(env *e, const char *name)
{
    sf_stream_record r;
    sf_server_lock(e->ts.srv);
    sf_status st = sf_stream_fetch(e->fake, NULL, e->service, name, &r, NULL);
    sf_server_unlock(e->ts.srv);
    return st == SF_OK;
}

/* Sends one create and returns its reply's payload status line part (malloc'd reply). */
static char *create_over_twilsock(int fd, const char *payload)
{
    kotlin_request(fd, "RQ00000000000000000000000000000030", "POST", "/v3/Streams", payload);
    return tsc_next(fd, "reply");
}

/* A key written with an escape is the same key; a key sent twice is refused (400/20001 naming
 * it); a payload that is not one strict JSON object (cut short, not UTF-8, trailing text) is
 * 400/54008 and creates nothing, instead of being read as no payload (an unnamed stream). */
static void payload_keys_and_grammar(void **state)
{
    env *e = *state;
    int fd = connected(e);
    char *r = create_over_twilsock(fd, "{\"unique\\u005fname\":\"esc-key\"}");
    expect_contains(r, "\"http_status\":{\"code\":201,\"status\":\"Created\"}");
    expect_contains(tsc_payload(r), "\"unique_name\":\"esc-key\"");
    free(r);
    assert_true(has_stream_named(e, "esc-key"));

    size_t before = stream_count(e);
    r = create_over_twilsock(fd, "{\"unique_name\":\"twice-a\",\"unique_name\":\"twice-b\"}");
    assert_string_equal(tsc_payload(r), "{\"status\":400,\"code\":20001,\"message\":\"Invalid "
                                        "parameter: unique_name\"}");
    free(r);
    static const char *const unreadable[] = {
        "{\"unique_name\":\"cut\"",
        "{\"unique_name\":\"bad-\xff\"}",
        "{\"unique_name\":\"trailing\"} x",
        "[\"not an object\"]",
    };
    for (size_t i = 0; i < sizeof unreadable / sizeof *unreadable; i++) {
        r = create_over_twilsock(fd, unreadable[i]);
        if (strcmp(tsc_payload(r), "{\"status\":400,\"code\":54008,\"message\":\"Invalid "
                                   "JSON\"}") != 0)
            fail_msg("payload #%zu: %s", i, r);
        free(r);
    }
    assert_int_equal(stream_count(e), before);
    close(fd);
}

/* Sends a raw HTTP request on a new connection; the response as read until the server closes
 * (malloc'd, NUL-terminated). */
static char *http_raw(uint16_t port, const char *request)
{
    int fd = lb_connect(port);
    assert_true(fd >= 0);
    assert_true(lb_send_str(fd, request, WAIT_MS));
    size_t cap = 65536;
    char *out = malloc(cap);
    assert_non_null(out);
    ssize_t n = lb_read_until_close(fd, out, cap, WAIT_MS);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
    return out;
}

/* A REST request with the account's Basic credentials; returns the whole response. */
static char *rest(env *e, const char *method, const char *target, const char *form)
{
    char auth[192], req[2048];
    hc_basic_auth(e->account, sf_fake_auth_token(e->fake), auth, sizeof auth);
    snprintf(req, sizeof req,
             "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nConnection: close\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n%s",
             method, target, auth, strlen(form), form);
    return http_raw(e->ts.port, req);
}

/* A unique name with " and \ (and a non-ASCII letter) is the same name on both faces: made
 * over REST it is found over Twilsock, made over Twilsock it is found over REST, and both
 * render it alike. */
static void escaped_unique_name_on_both_faces(void **state)
{
    env *e = *state;
    int fd = connected(e);
    /* say "hi" \ é, form-encoded and as a path segment */
    const char *encoded = "say%20%22hi%22%20%5C%20%C3%A9";
    char target[256], form[128];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", e->service);
    snprintf(form, sizeof form, "UniqueName=%s", encoded);
    char *r = rest(e, "POST", target, form);
    expect_contains(r, "HTTP/1.1 201");
    expect_contains(r, "\"unique_name\": \"say \\\"hi\\\" \\\\ \xc3\xa9\"");
    free(r);
    char path[128];
    snprintf(path, sizeof path, "/v3/Streams/%s", encoded);
    kotlin_request(fd, "RQ00000000000000000000000000000031", "GET", path, "");
    r = tsc_next(fd, "reply");
    expect_contains(r, "\"http_status\":{\"code\":200,\"status\":\"OK\"}");
    expect_contains(tsc_payload(r), "\"unique_name\":\"say \\\"hi\\\" \\\\ \xc3\xa9\"");
    free(r);

    r = create_over_twilsock(fd, "{\"unique_name\":\"back\\\\slash \\\"q\\\"\"}");
    expect_contains(r, "\"http_status\":{\"code\":201,\"status\":\"Created\"}");
    free(r);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/back%%5Cslash%%20%%22q%%22",
             e->service);
    r = rest(e, "GET", target, "");
    expect_contains(r, "HTTP/1.1 200");
    expect_contains(r, "\"unique_name\": \"back\\\\slash \\\"q\\\"\"");
    free(r);
    close(fd);
}

/* ---- Twilsock statuses ---- */

static void refused_tokens_are_upper_case_unauthorized(void **state)
{
    env *e = *state;
    char expired[4096];
    mint(e, SF_DEFAULT_EPOCH_MS / 1000 - 7200, 3600, expired, sizeof expired);
    static const char *const wants[] = {
        "\"status\":{\"code\":401,\"status\":\"UNAUTHORIZED\",\"description\":\"Invalid Access "
        "Token\",\"errorCode\":20101}",
        "\"status\":{\"code\":401,\"status\":\"UNAUTHORIZED\",\"description\":\"Access Token "
        "expired or expiration date invalid\",\"errorCode\":20104}",
    };
    const char *tokens[] = {"invalid_test_token", expired};
    for (int i = 0; i < 2; i++) {
        int fd = sf_wsc_open(e->ts.port, "/v3/wsconnect");
        assert_true(fd >= 0);
        kotlin_init(fd, tokens[i]);
        char *r = tsc_next(fd, "reply");
        expect_contains(r, wants[i]);
        free(r);
        close(fd);
    }
}

static void token_expiry_closes_with_410_51207(void **state)
{
    env *e = *state;
    int fd = connected(e);
    sf_server_lock(e->ts.srv);
    assert_status(sf_clock_advance(e->fake, 600 * 1000, NULL), SF_OK);
    sf_server_unlock(e->ts.srv);
    char *r = tsc_next(fd, "close");
    expect_contains(r, "\"status\":{\"code\":410,\"status\":\"TOKEN_EXPIRED\",\"description\":"
                       "\"Token expired\",\"errorCode\":51207}");
    free(r);
    close(fd);
}

/* ---- the server's own refusals: Twilio's error body, from the status table ---- */

static void server_refusals_are_twilio_errors(void **state)
{
    env *e = *state;
    char *r =
        http_raw(e->ts.port, "GET /v3/wsconnect HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_true(strncmp(r, "HTTP/1.1 400", 12) == 0);
    expect_contains(r, "{\"code\": 20001, \"message\": \"Invalid WebSocket handshake\", "
                       "\"more_info\": \"https://www.twilio.com/docs/errors/20001\", "
                       "\"status\": 400}");
    free(r);
    char *req = malloc(16384);
    size_t n = (size_t)sprintf(req, "GET /v1/Services HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 130; i++)
        n += (size_t)sprintf(req + n, "X-Extra-%d: %d\r\n", i, i);
    sprintf(req + n, "Connection: close\r\n\r\n");
    r = http_raw(e->ts.port, req);
    free(req);
    assert_true(strncmp(r, "HTTP/1.1 431", 12) == 0);
    expect_contains(r, "{\"code\": 20001, \"message\": \"Request header fields too large\", "
                       "\"more_info\": \"https://www.twilio.com/docs/errors/20001\", "
                       "\"status\": 431}");
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(kotlin_startup_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(not_found_is_54250_by_sid_and_54300_by_name, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unique_names_over_twilsock, setup, teardown),
        cmocka_unit_test_setup_teardown(payload_keys_and_grammar, setup, teardown),
        cmocka_unit_test_setup_teardown(escaped_unique_name_on_both_faces, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_tokens_are_upper_case_unauthorized, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(token_expiry_closes_with_410_51207, setup, teardown),
        cmocka_unit_test_setup_teardown(server_refusals_are_twilio_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
