/* SPDX-License-Identifier: MIT */
/* test_twilsock_descriptor.c: the stream descriptor of the client API (v3, compact JSON) as a
 * Twilsock reply carries it, compared whole, byte for byte, with the text written out here:
 * every member in Twilio's order, a unique name with JSON escapes, a date_expires and its
 * null. REST v1's descriptor (", " and ": ", /v1 URLs) is pinned by tests/http_cases; the one
 * renderer serves both (render.h sf_http_render_stream_for). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jwt.h"
#include "server.h"
#include "syncfake.h"
#include "twilsock_session.h"
#include "ts_client.h"
#include "ts_server.h"
#include "ws_client.h"

#define BASE "https://cds.us1.twilio.com"
#define CREATED "2015-07-30T20:00:00Z" /* SF_DEFAULT_EPOCH_MS on the manual clock */

typedef struct env {
    sf_fake *fake;
    ts_server ts;
    char account[SF_SID_SIZE];
    char service[SF_SID_SIZE];
    char token[4096];
} env;

static bool make_fake(env *e)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 1;
    opts.clock = SF_CLOCK_MANUAL;
    opts.base_url = BASE;
    sf_api_key_record key;
    sf_service_record svc;
    if (sf_fake_new(&opts, &e->fake, NULL) != SF_OK)
        return false;
    snprintf(e->account, sizeof e->account, "%s", sf_fake_account_sid(e->fake));
    if (sf_api_key_create(e->fake, e->account, NULL, &key, NULL) != SF_OK ||
        sf_service_create(e->fake, NULL, NULL, &svc, NULL) != SF_OK)
        return false;
    snprintf(e->service, sizeof e->service, "%s", svc.sid);
    int64_t now_s = SF_DEFAULT_EPOCH_MS / 1000;
    return sf_jwt_mint(key.sid, key.secret, e->account, "alice", e->service, now_s, now_s + 600,
                       e->token, sizeof e->token) > 0;
}

static int setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e || !make_fake(e))
        return -1;
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

/* The payload of the next reply (notifications skipped), copied into out. */
static void next_reply_payload(int fd, char *out, size_t cap)
{
    char *m = tsc_next(fd, "reply");
    snprintf(out, cap, "%s", tsc_payload(m));
    free(m);
}

static int connect_client(env *e)
{
    int fd = sf_wsc_open(e->ts.port, "/v3/wsconnect");
    assert_true(fd >= 0);
    char header[4608];
    snprintf(header, sizeof header, "{\"method\":\"init\",\"id\":\"RQ1\",\"token\":\"%s\"}",
             e->token);
    tsc_send(fd, header, "");
    char payload[64];
    next_reply_payload(fd, payload, sizeof payload);
    assert_string_equal(payload, ""); /* init's answer is all header */
    return fd;
}

static void request(int fd, const char *method, const char *path, const char *payload)
{
    char header[1024];
    snprintf(header, sizeof header,
             "{\"method\":\"message\",\"id\":\"RQ2\",\"payload_size\":%zu,"
             "\"payload_type\":\"application/json\",\"http_request\":{\"path\":\"%s\","
             "\"method\":\"%s\"}}",
             strlen(payload), path, method);
    tsc_send(fd, header, payload);
}

/* The sid member of a descriptor (the first one). */
static void sid_of(const char *descriptor, char sid[SF_SID_SIZE])
{
    assert_true(strncmp(descriptor, "{\"sid\":\"", 8) == 0);
    snprintf(sid, SF_SID_SIZE, "%.34s", descriptor + 8);
}

static void created_with_name_and_ttl(void **state)
{
    env *e = *state;
    int fd = connect_client(e);
    request(fd, "POST", "/v3/Streams", "{\"unique_name\":\"say \\\"hi\\\" \\u00e9\",\"ttl\":90}");
    char got[4096], sid[SF_SID_SIZE], want[4096];
    next_reply_payload(fd, got, sizeof got);
    sid_of(got, sid);
    snprintf(want, sizeof want,
             "{\"sid\":\"%s\",\"unique_name\":\"say \\\"hi\\\" \xc3\xa9\","
             "\"account_sid\":\"%s\",\"service_sid\":\"%s\","
             "\"url\":\"" BASE "/v3/Services/%s/Streams/%s\","
             "\"links\":{\"messages\":\"" BASE "/v3/Services/%s/Streams/%s/Messages\"},"
             "\"date_expires\":\"2015-07-30T20:01:30Z\",\"date_created\":\"" CREATED "\","
             "\"date_updated\":\"" CREATED "\",\"created_by\":\"system\"}",
             sid, e->account, e->service, e->service, sid, e->service, sid);
    assert_string_equal(got, want);
    close(fd);
}

static void fetched_without_name_or_expiry(void **state)
{
    env *e = *state;
    sf_stream_record made;
    sf_stream_params none = {0};
    sf_server_lock(e->ts.srv);
    assert_int_equal(sf_stream_create(e->fake, NULL, e->service, &none, &made, NULL), SF_OK);
    sf_server_unlock(e->ts.srv);
    int fd = connect_client(e);
    char path[256], got[4096], want[4096];
    snprintf(path, sizeof path, "/v3/Services/%s/Streams/%s", e->service, made.sid);
    request(fd, "GET", path, "");
    next_reply_payload(fd, got, sizeof got);
    snprintf(want, sizeof want,
             "{\"sid\":\"%s\",\"unique_name\":null,\"account_sid\":\"%s\",\"service_sid\":\"%s\","
             "\"url\":\"" BASE "/v3/Services/%s/Streams/%s\","
             "\"links\":{\"messages\":\"" BASE "/v3/Services/%s/Streams/%s/Messages\"},"
             "\"date_expires\":null,\"date_created\":\"" CREATED "\","
             "\"date_updated\":\"" CREATED "\",\"created_by\":\"system\"}",
             made.sid, e->account, e->service, e->service, made.sid, e->service, made.sid);
    assert_string_equal(got, want);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(created_with_name_and_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(fetched_without_name_or_expiry, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
