/* SPDX-License-Identifier: MIT */
/* room_test.c: the consumers' test of the room app against syncfake. With ROOM_TEST_HTTP it
 * also reads the room back through syncfake::http (Twilio's REST routes, in process). */
#include "room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ROOM_TEST_HTTP
#include <syncfake_http.h>
#endif

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#ifdef ROOM_TEST_HTTP
/* Standard base64 (RFC 4648) for the Basic credentials. */
static void base64(const char *in, char *out)
{
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t len = strlen(in), o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < len)
            v |= (unsigned char)in[i + 2];
        out[o++] = digits[(v >> 18) & 63];
        out[o++] = digits[(v >> 12) & 63];
        out[o++] = i + 1 < len ? digits[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? digits[v & 63] : '=';
    }
    out[o] = '\0';
}

/* GET /v1/Services/{service}/Streams/{room} as the fake's own account: the status. */
static int http_get_room(sf_fake *sync, const char *service_sid, const char *room)
{
    char credentials[256], encoded[400], authorization[420], target[256];
    snprintf(credentials, sizeof credentials, "%s:%s", sf_fake_account_sid(sync),
             sf_fake_auth_token(sync));
    base64(credentials, encoded);
    snprintf(authorization, sizeof authorization, "Basic %s", encoded);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s", service_sid, room);
    sf_http_header headers[] = {{"Authorization", authorization}};
    sf_http_request req = {
        .method = "GET", .target = target, .headers = headers, .header_count = 1};
    sf_http_response resp;
    int status = sf_http_dispatch(sync, &req, &resp);
    if (status == 200)
        CHECK(strstr(resp.body, "\"unique_name\": \"lobby\"") != NULL ||
              strstr(resp.body, "\"unique_name\":\"lobby\"") != NULL);
    sf_http_response_free(&resp);
    return status;
}
#endif

int main(void)
{
    CHECK(strcmp(sf_version(), SF_VERSION_STRING) == 0);

    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 7;
    sf_fake *sync = NULL;
    sf_error err;
    if (sf_fake_new(&opts, &sync, &err) != SF_OK) {
        fprintf(stderr, "sf_fake_new: %s\n", err.message);
        return 1;
    }
    sf_service_record service;
    CHECK(sf_service_create(sync, NULL, NULL, &service, &err) == SF_OK);

    CHECK(room_open(sync, service.sid, "lobby", 60, &err) == SF_OK);
    CHECK(room_say(sync, service.sid, "lobby", "hello", &err) == SF_OK);
#ifdef ROOM_TEST_HTTP
    CHECK(http_get_room(sync, service.sid, "lobby") == 200);
#endif

    /* Idle for the TTL: the room is gone, and saying something is Twilio's 404/20404. */
    CHECK(sf_clock_advance(sync, 60 * 1000, &err) == SF_OK);
    CHECK(room_say(sync, service.sid, "lobby", "anyone?", &err) == SF_ERR_NOT_FOUND);
    CHECK(err.http_status == 404 && err.code == 20404);
#ifdef ROOM_TEST_HTTP
    CHECK(http_get_room(sync, service.sid, "lobby") == 404);
#endif

    sf_fake_free(sync);
    if (failures) {
        fprintf(stderr, "room_test: %d check(s) failed\n", failures);
        return 1;
    }
    printf("room_test: ok (syncfake %s%s)\n", sf_version(),
#ifdef ROOM_TEST_HTTP
           ", with syncfake::http"
#else
           ""
#endif
    );
    return 0;
}
