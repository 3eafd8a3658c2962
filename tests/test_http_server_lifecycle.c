/* SPDX-License-Identifier: MIT */
/* test_http_server_lifecycle.c: the loopback server's life around open event streams: POST
 * /_syncfake/reset (also spelled with an escaped letter) ends every open event stream after
 * what was published before it, and a new subscriber of the new fake is not detached by the
 * old connections closing; sf_server_stop returns promptly with an event stream and an idle
 * keep-alive connection open, and the stream ends; a socket bound first (sf_server_listen) is
 * served, refused a second bind and released by the stop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "http_env.h"
#include "loopback.h"

#define SHORT_TIMEOUT_MS 1500 /* "nothing more comes" checks */

/* Each of the two event streams gives the message published before the reset, then should
 * end; the first that does not is described in not_ended (left "" when both ended). */
static void read_last_message_then_end(sse_reader *all[2], const char *reset_target,
                                       char *not_ended, size_t not_ended_size)
{
    for (int i = 0; i < 2; i++) {
        sse_event ev;
        assert_int_equal(sse_next(all[i], &ev, HC_IO_TIMEOUT_MS), 1);
        assert_string_equal(ev.name, "message_published");
        int st = sse_next(all[i], &ev, SHORT_TIMEOUT_MS);
        if (st != 0 && !not_ended[0])
            snprintf(not_ended, not_ended_size, "event stream %d not ended after POST %s (%s)",
                     i + 1, reset_target,
                     st == -1   ? "still open"
                     : st == -2 ? "cut"
                                : ev.name);
    }
}

static void reset_closes_streams(http_env *e, const char *reset_target)
{
    hconn c, sc1, sc2;
    http_env_connect(e, &c);
    http_env_service(e, &c);
    char stream[SF_SID_SIZE], msg[SF_SID_SIZE];
    http_create_stream(e, &c, "before-reset", stream);
    sse_reader s1, s2;
    http_subscribe(e, &sc1, &s1, stream);
    http_subscribe(e, &sc2, &s2, "before-reset");
    http_publish(e, &c, stream, 1, msg);

    hresp r;
    hc_expect(&c, "POST", reset_target, e->auth, "", 204, &r);
    hresp_free(&r);

    /* each stream: the message published before the reset, then a clean end (checked at the
     * end of the test, so that what follows runs either way) */
    sse_reader *all[2] = {&s1, &s2};
    char not_ended[256] = "";
    read_last_message_then_end(all, reset_target, not_ended, sizeof not_ended);

    /* the fake is new: the service is gone; a new subscriber of a new stream works, and the
     * old connections closing does not detach it */
    char target[200];
    snprintf(target, sizeof target, "/v1/Services/%s", e->service);
    hc_expect(&c, "GET", target, e->auth, NULL, 404, &r);
    hresp_free(&r);
    http_env_service(e, &c); /* same SIDs as before: the counters started over */
    http_create_stream(e, &c, "after-reset", stream);
    hconn sc3;
    sse_reader s3;
    long long sub = http_subscribe(e, &sc3, &s3, stream);
    assert_int_equal(sub, 1); /* subscriber ids start over too */
    sse_close(&s1);
    hc_close(&sc1);
    sse_close(&s2);
    hc_close(&sc2);
    lb_sleep_ms(300);
    http_publish(e, &c, stream, 2, msg);
    sse_event ev;
    int got = sse_next(&s3, &ev, SHORT_TIMEOUT_MS);
    sse_close(&s3);
    hc_close(&sc3);
    hc_close(&c);
    if (got != 1)
        fail_msg("%s%sthe new subscriber %lld got no event (%d): an old connection detached it",
                 not_ended, not_ended[0] ? "; " : "", sub, got);
    assert_string_equal(ev.name, "message_published");
    char v[64];
    assert_true(hc_json_get(ev.data, "message_sid", v, sizeof v));
    assert_string_equal(v, msg);
    if (not_ended[0])
        fail_msg("%s", not_ended);
}

static void test_reset_closes_event_streams(void **state)
{
    reset_closes_streams(*state, "/_syncfake/reset");
}

/* The dispatcher decodes each path segment, so this is a reset as well (docs/http.md "REST v1"). */
static void test_reset_encoded_path_closes_event_streams(void **state)
{
    reset_closes_streams(*state, "/_syncfake/re%73et");
}

typedef struct stopper {
    sf_server *srv;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
} stopper;

static void *stop_main(void *arg)
{
    stopper *s = arg;
    sf_server_stop(s->srv);
    pthread_mutex_lock(&s->lock);
    s->done = true;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* A socket bound first (sf_server_listen, port 0): the server serves that very port, which is
 * never released in between, refuses a second bind of it, and closes it when it stops. */
static void test_prebound_listener(void **state)
{
    (void)state;
    uint16_t port = 0;
    int fd = sf_server_listen("127.0.0.1", 0, &port);
    assert_true(fd > 2);
    assert_int_not_equal(port, 0);
    uint16_t again;
    assert_int_equal(sf_server_listen("127.0.0.1", port, &again), -1); /* in use */
    assert_int_equal(sf_server_listen("localhost", 0, &again), -1);    /* not an address */

    sf_fake *fake = http_env_new_fake();
    sf_server_config cfg = {.host = "127.0.0.1", .listen_fd = fd, .fake = fake};
    sf_server *srv = sf_server_start(&cfg);
    assert_non_null(srv);
    assert_int_equal(sf_server_port(srv), port);
    hconn c;
    assert_true(hc_open(&c, port));
    hresp r;
    hc_expect(&c, "GET", "/v1/Services", NULL, NULL, 401, &r); /* it is syncfake answering */
    hresp_free(&r);
    hc_close(&c);
    sf_server_stop(srv);
    sf_fake_free(fake);
    /* the port is free again: nothing kept it open */
    int fd2 = sf_server_listen("127.0.0.1", port, &again);
    assert_true(fd2 > 2);
    assert_int_equal(again, port);
    close(fd2);
}

static void test_stop_with_open_event_stream(void **state)
{
    http_env *e = *state;
    hconn c, sc, idle;
    http_env_connect(e, &c);
    http_env_service(e, &c);
    char stream[SF_SID_SIZE], msg[SF_SID_SIZE];
    http_create_stream(e, &c, NULL, stream);
    sse_reader s;
    http_subscribe(e, &sc, &s, stream);
    http_publish(e, &c, stream, 7, msg);
    http_env_connect(e, &idle); /* a keep-alive connection that never sends anything */

    stopper st = {e->srv, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    pthread_t tid;
    int64_t t0 = lb_now_ms();
    assert_int_equal(pthread_create(&tid, NULL, stop_main, &st), 0);
    e->srv = NULL; /* the teardown must not stop it again */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += HC_IO_TIMEOUT_MS / 1000;
    pthread_mutex_lock(&st.lock);
    while (!st.done)
        if (pthread_cond_timedwait(&st.cond, &st.lock, &until) != 0)
            break;
    bool done = st.done;
    pthread_mutex_unlock(&st.lock);
    if (!done)
        fail_msg("sf_server_stop did not return within %d ms with an event stream open",
                 HC_IO_TIMEOUT_MS); /* the stopper thread is left behind */
    pthread_join(tid, NULL);
    print_message("    sf_server_stop: %" PRId64 " ms\n", lb_now_ms() - t0);

    /* the client sees the message, then the end of the stream (last chunk or EOF) */
    sse_event ev;
    int r = sse_next(&s, &ev, HC_IO_TIMEOUT_MS);
    if (r == 1) {
        assert_string_equal(ev.name, "message_published");
        r = sse_next(&s, &ev, HC_IO_TIMEOUT_MS);
    }
    if (r == -1)
        fail_msg("the event stream neither ended nor closed within %d ms of the stop",
                 HC_IO_TIMEOUT_MS);
    assert_true(r == 0 || r == -2); /* last chunk, or cut by the stop: both prompt */
    sse_close(&s);
    hc_close(&sc);
    hc_close(&idle);
    hc_close(&c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_closes_event_streams, http_env_setup,
                                        http_env_teardown),
        cmocka_unit_test_setup_teardown(test_reset_encoded_path_closes_event_streams,
                                        http_env_setup, http_env_teardown),
        cmocka_unit_test_setup_teardown(test_stop_with_open_event_stream, http_env_setup,
                                        http_env_teardown),
        cmocka_unit_test(test_prebound_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
