/* SPDX-License-Identifier: MIT */
/* test_twilsock_limits.c: the Twilsock session's limits over real WebSockets (the loopback
 * server with twilsock_session.c's handler and one I/O thread, so that every connection
 * shares it: the case where one connection's work could hold up the others).
 *
 * Covered: headers nested 32,000 deep, sent before `init` by eight connections at once, are
 * each refused with close 1002 and a ninth connection's ping is answered meanwhile (within a
 * generous liveness bound: the old quadratic parse took over a second per header); an
 * `init` whose token is longer than SF_TS_MAX_TOKEN gets its 401 reply, and the connection
 * stays usable; request ids of 128 and SF_TS_MAX_ID bytes are echoed in the `init` reply
 * (200 with a good token, 401 with a bad one), one byte more is a protocol error; after
 * `init`, a request body nested deeper than SF_TS_MAX_PAYLOAD_DEPTH is malformed JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jwt.h"
#include "server.h"
#include "twilsock_frame.h"
#include "twilsock_session.h"
#include "ts_server.h"
#include "ws_client.h"

#define WS_PATH "/v3/wsconnect"
#define IO_TIMEOUT_MS 5000
#define LIVENESS_MS 2000 /* a bound for a liveness check, not a benchmark */
#define ATTACKERS 8

typedef struct env {
    sf_fake *fake;
    ts_server ts;
    char token[2048]; /* a good token for "alice" */
    char service_sid[SF_SID_SIZE];
} env;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool make_fake(env *e)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = 7;
    o.base_url = "http://127.0.0.1";
    sf_error err;
    sf_service_record svc;
    sf_api_key_record key;
    if (sf_fake_new(&o, &e->fake, &err) != SF_OK)
        return false;
    const char *account = sf_fake_account_sid(e->fake);
    int64_t now_s = sf_clock_now(e->fake) / 1000;
    sf_stream_record stream;
    sf_stream_params sp = {.unique_name = "deep"};
    bool ok = sf_service_create(e->fake, NULL, NULL, &svc, &err) == SF_OK;
    memcpy(e->service_sid, svc.sid, SF_SID_SIZE);
    return ok && sf_stream_create(e->fake, NULL, svc.sid, &sp, &stream, &err) == SF_OK &&
           sf_api_key_create(e->fake, account, NULL, &key, &err) == SF_OK &&
           sf_jwt_mint(key.sid, key.secret, account, "alice", svc.sid, now_s, now_s + 3600,
                       e->token, sizeof e->token) > 0;
}

static int env_setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    if (!e || !make_fake(e) || !ts_server_start(&e->ts, e->fake, "http://127.0.0.1", 1))
        goto fail;
    *state = e;
    return 0;
fail:
    if (e)
        sf_fake_free(e->fake);
    free(e);
    return -1;
}

static int env_teardown(void **state)
{
    env *e = *state;
    ts_server_stop(&e->ts);
    sf_fake_free(e->fake);
    free(e);
    return 0;
}

/* Sends a Twilsock frame with this header and no payload as one binary message. */
static void send_ts(int fd, const char *header)
{
    size_t n;
    uint8_t *f = sf_ts_build(header, "", 0, &n);
    assert_non_null(f);
    assert_true(sf_wsc_send(fd, true, 2, f, n));
    free(f);
}

static void send_init(int fd, const char *id, const char *token)
{
    size_t cap = strlen(id) + strlen(token) + 64;
    char *h = malloc(cap);
    assert_non_null(h);
    snprintf(h, cap, "{\"method\":\"init\",\"id\":\"%s\",\"token\":\"%s\"}", id, token);
    send_ts(fd, h);
    free(h);
}

/* A tunnelled request with a JSON body. */
static void send_message(int fd, const char *id, const char *method, const char *path,
                         const char *body)
{
    char h[512];
    snprintf(h, sizeof h,
             "{\"method\":\"message\",\"id\":\"%s\",\"payload_type\":\"application/json\","
             "\"http_request\":{\"method\":\"%s\",\"path\":\"%s\"}}",
             id, method, path);
    size_t n;
    uint8_t *f = sf_ts_build(h, body, strlen(body), &n);
    assert_non_null(f);
    assert_true(sf_wsc_send(fd, true, 2, f, n));
    free(f);
}

static sf_ts_frame reply; /* 10 KB: not on the stack */

/* Reads the reply to request `id` and checks its status code. */
static void expect_reply(int fd, const char *id, int status)
{
    sf_wsc_frame f = sf_wsc_read(fd, IO_TIMEOUT_MS);
    if (f.opcode != 2)
        fail_msg("expected a reply, got opcode %d (close code %u)", f.opcode,
                 f.opcode == 8 ? sf_wsc_close_code(&f) : 0);
    assert_true(sf_ts_parse(f.data, f.len, &reply));
    assert_string_equal(reply.method, "reply");
    assert_string_equal(reply.id, id);
    char want[48];
    snprintf(want, sizeof want, "\"status\":{\"code\":%d,", status);
    if (!strstr((const char *)f.data, want))
        fail_msg("no %s in %s", want, (const char *)f.data);
    free(f.data);
}

/* Reads the reply to tunnelled request `id` and checks the Sync answer's status. */
static void expect_http_status(int fd, const char *id, int status)
{
    sf_wsc_frame f = sf_wsc_read(fd, IO_TIMEOUT_MS);
    assert_int_equal(f.opcode, 2);
    assert_true(sf_ts_parse(f.data, f.len, &reply));
    assert_string_equal(reply.id, id);
    char want[48];
    snprintf(want, sizeof want, "\"http_status\":{\"code\":%d,", status);
    if (!strstr((const char *)f.data, want))
        fail_msg("no %s in %s", want, (const char *)f.data);
    free(f.data);
}

static void expect_close(int fd, uint16_t code, int timeout_ms)
{
    sf_wsc_frame f = sf_wsc_read(fd, timeout_ms < 1 ? 1 : timeout_ms);
    if (f.opcode != 8)
        fail_msg("expected close %u, got opcode %d", code, f.opcode);
    assert_int_equal(sf_wsc_close_code(&f), code);
    free(f.data);
}

static void test_nested_header_before_init(void **state)
{
    env *e = *state;
    /* {"a":[[[...]]]} as large as a header may be, payload_size included */
    size_t nest = (SF_TS_MAX_HEADER - 64) / 2;
    char *h = malloc(2 * nest + 16);
    assert_non_null(h);
    memcpy(h, "{\"a\":", 5);
    memset(h + 5, '[', nest);
    memset(h + 5 + nest, ']', nest);
    strcpy(h + 5 + 2 * nest, "}");
    size_t n;
    uint8_t *ts = sf_ts_build(h, "", 0, &n);
    free(h);
    assert_non_null(ts);
    uint8_t *wire = sf_wsc_frame_bytes(true, 2, ts, n, &n);
    free(ts);
    assert_non_null(wire);

    int pinger = sf_wsc_open(e->ts.port, WS_PATH);
    assert_true(pinger >= 0);
    int fds[ATTACKERS];
    for (int i = 0; i < ATTACKERS; i++) {
        fds[i] = sf_wsc_open(e->ts.port, WS_PATH);
        assert_true(fds[i] >= 0);
    }
    int64_t start = now_ms();
    for (int i = 0; i < ATTACKERS; i++)
        assert_true(sf_wsc_send_raw(fds[i], wire, n));
    free(wire);
    assert_true(sf_wsc_send(pinger, true, 9, "alive", 5));
    sf_wsc_frame pong = sf_wsc_read(pinger, LIVENESS_MS);
    assert_int_equal(pong.opcode, 10);
    assert_memory_equal(pong.data, "alive", 5);
    free(pong.data);
    /* every header refused before anything else is said, all within the same bound */
    for (int i = 0; i < ATTACKERS; i++) {
        expect_close(fds[i], 1002, (int)(start + LIVENESS_MS - now_ms()));
        close(fds[i]);
    }
    /* the session that waited is still served normally */
    send_init(pinger, "TM-after", e->token);
    expect_reply(pinger, "TM-after", 200);
    close(pinger);
}

static void test_long_token_init(void **state)
{
    env *e = *state;
    size_t len = 9 * 1024;
    char *big = malloc(len + 1);
    assert_non_null(big);
    memset(big, 'e', len);
    big[len] = '\0';
    int fd = sf_wsc_open(e->ts.port, WS_PATH);
    assert_true(fd >= 0);
    send_init(fd, "TM-big-token", big);
    expect_reply(fd, "TM-big-token", 401);
    /* the connection stays: a good init now succeeds, and an update with the same
     * oversize token is refused the same way */
    send_init(fd, "TM-good", e->token);
    expect_reply(fd, "TM-good", 200);
    size_t cap = len + 64;
    char *h = malloc(cap);
    assert_non_null(h);
    snprintf(h, cap, "{\"method\":\"update\",\"id\":\"TM-upd\",\"token\":\"%s\"}", big);
    send_ts(fd, h);
    expect_reply(fd, "TM-upd", 401);
    free(h);
    free(big);
    close(fd);
}

static void test_long_ids(void **state)
{
    env *e = *state;
    char *id = malloc(SF_TS_MAX_ID + 2);
    assert_non_null(id);
    int fd = sf_wsc_open(e->ts.port, WS_PATH);
    assert_true(fd >= 0);
    size_t lens[] = {128, SF_TS_MAX_ID};
    for (size_t i = 0; i < 2; i++) {
        memset(id, 'i', lens[i]);
        id[lens[i]] = '\0';
        send_init(fd, id, e->token);
        expect_reply(fd, id, 200);
        send_init(fd, id, "not.a.token");
        expect_reply(fd, id, 401);
    }
    /* one byte more cannot be echoed: a protocol error */
    memset(id, 'i', SF_TS_MAX_ID + 1);
    id[SF_TS_MAX_ID + 1] = '\0';
    send_init(fd, id, e->token);
    expect_close(fd, 1002, IO_TIMEOUT_MS);
    close(fd);
    free(id);
}

/* {"data": {"a": {"a": ... {}}}}: data is an object (as Sync wants) d deep, the payload
 * d + 1 */
static char *nested_data(size_t d)
{
    char *b = malloc(6 * d + 16);
    assert_non_null(b);
    size_t o = (size_t)sprintf(b, "{\"data\":");
    for (size_t i = 1; i < d; i++)
        o += (size_t)sprintf(b + o, "{\"a\":");
    strcpy(b + o, "{}");
    o += 2;
    memset(b + o, '}', d);
    strcpy(b + o + d, "");
    return b;
}

/* After init, a payload nested beyond SF_TS_MAX_PAYLOAD_DEPTH is read as malformed JSON
 * (the publish has no data: 400) instead of going through jsmn, whose cost is quadratic in
 * the depth (600 deep fits in 4 KiB of data); one level less is published. */
static void test_deep_payload_after_init(void **state)
{
    env *e = *state;
    int fd = sf_wsc_open(e->ts.port, WS_PATH);
    assert_true(fd >= 0);
    send_init(fd, "TM-init", e->token);
    expect_reply(fd, "TM-init", 200);
    char path[128];
    snprintf(path, sizeof path, "/v3/Services/%s/Streams/deep/Messages", e->service_sid);
    char *ok = nested_data(SF_TS_MAX_PAYLOAD_DEPTH - 1);
    send_message(fd, "TM-ok", "POST", path, ok);
    expect_http_status(fd, "TM-ok", 201);
    free(ok);
    size_t depths[] = {SF_TS_MAX_PAYLOAD_DEPTH, 600};
    for (size_t i = 0; i < 2; i++) {
        char *deep = nested_data(depths[i]);
        send_message(fd, "TM-deep", "POST", path, deep);
        expect_http_status(fd, "TM-deep", 400);
        free(deep);
    }
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nested_header_before_init, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_token_init, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_long_ids, env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_deep_payload_after_init, env_setup, env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
