/* SPDX-License-Identifier: MIT */
/* test_twilsock_token_exp.c: a Twilsock session's token expiry stays within the fake's time
 * range. A token is signed by a real API key of the fake with an `exp` (seconds) whose value
 * in milliseconds does not fit in int64 (the session computed exp * 1000: a signed overflow
 * that UBSan aborts on, and a wrapped, past deadline otherwise). Over a loopback server and a
 * minimal WebSocket client: `init` is accepted (200); nothing is announced while the clock is
 * far from the end; the `token_about_to_expire` warning comes once the clock is within
 * SF_TS_TOKEN_WARNING_MS of SF_TIME_MAX_MS, and the session is closed (410, TOKEN_EXPIRED)
 * when the clock reaches SF_TIME_MAX_MS: the token expires with the clock. */
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
#include "jwt.h"
#include "server.h"
#include "twilsock_frame.h"
#include "twilsock_session.h"
#include "ts_server.h"
#include "ws_client.h"

#define KEY_SID "SK00000000000000000000000000000001"
#define KEY_SECRET "key-secret"
#define TIMEOUT_MS 5000
#define QUIET_MS 300

typedef struct env {
    sf_fake *fake;
    ts_server ts;
    char service_sid[SF_SID_SIZE];
    int fd;
} env;

static int env_setup(void **state)
{
    env *e = calloc(1, sizeof *e);
    sf_error err;
    sf_service_record svc;
    sf_api_key_params kp = {.sid = KEY_SID, .secret = KEY_SECRET};
    if (!e || sf_fake_new(NULL, &e->fake, &err) != SF_OK ||
        sf_api_key_create(e->fake, NULL, &kp, NULL, &err) != SF_OK ||
        sf_service_create(e->fake, NULL, NULL, &svc, &err) != SF_OK)
        return -1;
    memcpy(e->service_sid, svc.sid, SF_SID_SIZE);
    e->fd = -1;
    if (!ts_server_start(&e->ts, e->fake, sf_fake_options(e->fake)->base_url, 1))
        return -1;
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    env *e = *state;
    if (e->fd >= 0)
        close(e->fd);
    ts_server_stop(&e->ts);
    sf_fake_free(e->fake);
    free(e);
    return 0;
}

/* The next frame's opcode, its payload (NUL-terminated, at most cap - 1 bytes) into out; -1
 * when nothing came within timeout_ms. */
static int ws_read(int fd, char *out, size_t cap, int timeout_ms)
{
    sf_wsc_frame f = sf_wsc_read(fd, timeout_ms);
    if (f.opcode < 0) {
        free(f.data);
        return -1;
    }
    assert_true(f.len < cap);
    memcpy(out, f.data, f.len);
    out[f.len] = '\0';
    free(f.data);
    return f.opcode;
}

static void set_clock(env *e, sf_ms t)
{
    sf_error err;
    sf_server_lock(e->ts.srv);
    sf_status st = sf_clock_set(e->fake, t, &err);
    sf_server_unlock(e->ts.srv);
    assert_status(st, SF_OK);
}

static void test_exp_past_the_range_expires_with_the_clock(void **state)
{
    env *e = *state;
    /* exp * 1000 exceeds INT64_MAX */
    const int64_t exp = INT64_MAX / 1000 + 1;
    char token[2048], header[2300];
    sf_server_lock(e->ts.srv);
    int64_t iat = sf_clock_now(e->fake) / 1000;
    const char *account = sf_fake_account_sid(e->fake);
    size_t tlen = sf_jwt_mint(KEY_SID, KEY_SECRET, account, "alice", e->service_sid, iat, exp,
                              token, sizeof token);
    sf_server_unlock(e->ts.srv);
    assert_true(tlen > 0);
    snprintf(header, sizeof header, "{\"method\":\"init\",\"id\":\"RQ1\",\"token\":\"%s\"}", token);
    size_t flen;
    uint8_t *frame = sf_ts_build(header, "", 0, &flen);
    assert_non_null(frame);

    e->fd = sf_wsc_open(sf_server_port(e->ts.srv), "/v3/wsconnect");
    assert_true(e->fd >= 0);
    assert_true(sf_wsc_send(e->fd, true, 1, frame, flen));
    free(frame);
    char in[4096];
    assert_true(ws_read(e->fd, in, sizeof in, TIMEOUT_MS) >= 0);
    assert_non_null(strstr(in, "\"id\":\"RQ1\""));
    assert_non_null(strstr(in, "\"status\":{\"code\":200"));
    /* far from the end: no warning, no close */
    assert_int_equal(ws_read(e->fd, in, sizeof in, QUIET_MS), -1);
    set_clock(e, SF_TIME_MAX_MS - SF_TS_TOKEN_WARNING_MS - 1000);
    assert_int_equal(ws_read(e->fd, in, sizeof in, QUIET_MS), -1);
    set_clock(e, SF_TIME_MAX_MS - SF_TS_TOKEN_WARNING_MS);
    assert_true(ws_read(e->fd, in, sizeof in, TIMEOUT_MS) >= 0);
    assert_non_null(strstr(in, "token_about_to_expire"));
    set_clock(e, SF_TIME_MAX_MS - 1);
    assert_int_equal(ws_read(e->fd, in, sizeof in, QUIET_MS), -1);
    set_clock(e, SF_TIME_MAX_MS);
    assert_true(ws_read(e->fd, in, sizeof in, TIMEOUT_MS) >= 0);
    assert_non_null(strstr(in, "TOKEN_EXPIRED"));
    assert_int_equal(ws_read(e->fd, in, sizeof in, TIMEOUT_MS), 8); /* WebSocket close */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exp_past_the_range_expires_with_the_clock, env_setup,
                                        env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
