/* SPDX-License-Identifier: MIT */
/* test_http_server_concurrency.c: 8 threads, each on its own keep-alive connection to the
 * loopback server, create a stream and then publish to it and fetch it: every answer right, no
 * message SID twice across threads, the journal (read over HTTP) sees each request exactly
 * once, and the stream stats agree once the server is stopped. Run it under ThreadSanitizer too
 * (make tsan).
 *
 * SF_TEST_SCALE (10..1000, default 1000) sets the requests per thread. */
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

#include "assert_status.h"
#include "http_env.h"
#include "loopback.h"

#define THREADS 8

typedef struct worker {
    http_env *e;
    int index;
    int requests; /* this thread's total, create included */
    char stream[SF_SID_SIZE];
    char (*sids)[SF_SID_SIZE];
    int publishes, fetches;
    char failure[512]; /* first failure; "" when all went well */
} worker;

static void worker_fail(worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void worker_fail(worker *w, const char *fmt, ...)
{
    if (w->failure[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->failure, sizeof w->failure, fmt, ap);
    va_end(ap);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    http_env *e = w->e;
    hconn c;
    if (!hc_open(&c, e->port)) {
        worker_fail(w, "thread %d: connect failed", w->index);
        return NULL;
    }
    char target[200], form[256];
    hresp r;
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", e->service);
    snprintf(form, sizeof form, "UniqueName=worker-%d", w->index);
    if (!hc_request(&c, "POST", target, e->auth, form, &r) || r.status != 201 ||
        !hc_json_get(r.body, "sid", w->stream, sizeof w->stream)) {
        worker_fail(w, "thread %d: create: %d %.200s", w->index, r.status, r.body);
        hresp_free(&r);
        hc_close(&c);
        return NULL;
    }
    hresp_free(&r);
    for (int i = 1; i < w->requests && !w->failure[0]; i++) {
        if (i % 5 == 0) { /* fetch, by unique name */
            snprintf(target, sizeof target, "/v1/Services/%s/Streams/worker-%d", e->service,
                     w->index);
            char sid[64];
            if (!hc_request(&c, "GET", target, e->auth, NULL, &r) || r.status != 200 ||
                !hc_json_get(r.body, "sid", sid, sizeof sid) || strcmp(sid, w->stream) != 0)
                worker_fail(w, "thread %d: fetch %d: %d %.200s", w->index, i, r.status, r.body);
            w->fetches++;
        } else {
            snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s/Messages", e->service,
                     w->stream);
            snprintf(form, sizeof form, "Data=%%7B%%22t%%22%%3A%d%%2C%%22i%%22%%3A%d%%7D", w->index,
                     i);
            char data[128], want[128];
            snprintf(want, sizeof want, "{\"t\":%d,\"i\":%d}", w->index, i);
            if (!hc_request(&c, "POST", target, e->auth, form, &r) || r.status != 201 ||
                !hc_json_get(r.body, "sid", w->sids[w->publishes], SF_SID_SIZE) ||
                strncmp(w->sids[w->publishes], "TZ", 2) != 0 ||
                !hc_json_get(r.body, "data", data, sizeof data) || strcmp(data, want) != 0)
                worker_fail(w, "thread %d: publish %d: %d %.200s", w->index, i, r.status, r.body);
            else
                w->publishes++;
        }
        hresp_free(&r);
    }
    hc_close(&c);
    return NULL;
}

static int cmp_sid(const void *a, const void *b) { return strcmp(a, b); }

static int scale(void)
{
    const char *s = getenv("SF_TEST_SCALE");
    long v = s ? strtol(s, NULL, 10) : 1000;
    return v < 10 ? 10 : v > 1000 ? 1000 : (int)v;
}

/* Starts THREADS workers of per_thread requests each on e and waits for them all; prints how
 * long they took. */
static void run_workers(http_env *e, worker *w, int per_thread)
{
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) {
        memset(&w[t], 0, sizeof w[t]);
        w[t].e = e;
        w[t].index = t;
        w[t].requests = per_thread;
        w[t].sids = calloc((size_t)per_thread, SF_SID_SIZE);
        assert_non_null(w[t].sids);
    }
    int64_t t0 = lb_now_ms();
    for (int t = 0; t < THREADS; t++)
        assert_int_equal(pthread_create(&tid[t], NULL, worker_main, &w[t]), 0);
    for (int t = 0; t < THREADS; t++)
        pthread_join(tid[t], NULL);
    int64_t elapsed = lb_now_ms() - t0;
    print_message("    %d threads x %d requests: %" PRId64 " ms\n", THREADS, per_thread, elapsed);
}

/* No message SID was returned twice, across all threads' publishes in total. */
static void check_no_sid_twice(const worker *w, int publishes)
{
    char(*all)[SF_SID_SIZE] = calloc((size_t)publishes, SF_SID_SIZE);
    assert_non_null(all);
    int n = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < w[t].publishes; i++)
            memcpy(all[n++], w[t].sids[i], SF_SID_SIZE);
    qsort(all, (size_t)n, SF_SID_SIZE, cmp_sid);
    for (int i = 1; i < n; i++)
        if (strcmp(all[i - 1], all[i]) == 0)
            fail_msg("message SID %s returned twice", all[i]);
    free(all);
}

/* The journal (over HTTP) saw every request exactly once: api_before api entries before, each
 * worker's create, publishes and fetches after, all with code 0. */
static void check_journal_saw_each_request(http_env *e, hconn *c, const worker *w,
                                           size_t api_before, int per_thread)
{
    char *text = http_journal(e, c);
    size_t api_after = http_journal_count(text, "\"kind\":\"api\"", NULL, NULL);
    assert_int_equal(api_after - api_before, (size_t)(THREADS * per_thread));
    for (int t = 0; t < THREADS; t++) {
        char sid_frag[64];
        snprintf(sid_frag, sizeof sid_frag, "\"stream_sid\":\"%s\"", w[t].stream);
        assert_int_equal(
            http_journal_count(text, "\"op\":\"message.create\",\"status\":201", sid_frag, NULL),
            (size_t)w[t].publishes);
        assert_int_equal(
            http_journal_count(text, "\"op\":\"stream.fetch\",\"status\":200", sid_frag, NULL),
            (size_t)w[t].fetches);
        assert_int_equal(
            http_journal_count(text, "\"op\":\"stream.create\",\"status\":201", sid_frag, NULL), 1);
    }
    assert_int_equal(http_journal_count(text, "\"kind\":\"api\"", "\"code\":0", NULL), api_after);
    free(text);
}

/* Once the server is stopped, each worker's stream stats (read in-process) agree with its
 * publishes; frees the workers' SIDs. */
static void check_stream_stats_after_stop(http_env *e, worker *w)
{
    sf_server_stop(e->srv);
    e->srv = NULL;
    for (int t = 0; t < THREADS; t++) {
        sf_stream_stats st;
        sf_error err;
        assert_status(sf_stream_stats_get(e->fake, NULL, e->service, w[t].stream, &st, &err),
                      SF_OK);
        assert_int_equal(st.messages_published, (uint64_t)w[t].publishes);
        assert_int_equal(st.subscribers, 0);
        free(w[t].sids);
    }
}

static void test_concurrent_clients(void **state)
{
    http_env *e = *state;
    hconn c;
    http_env_connect(e, &c);
    http_env_service(e, &c);
    const int per_thread = scale();

    char *before = http_journal(e, &c);
    size_t api_before = http_journal_count(before, "\"kind\":\"api\"", NULL, NULL);
    free(before);

    worker w[THREADS];
    run_workers(e, w, per_thread);
    int publishes = 0;
    for (int t = 0; t < THREADS; t++) {
        if (w[t].failure[0])
            fail_msg("%s", w[t].failure);
        assert_int_equal(1 + w[t].publishes + w[t].fetches, per_thread);
        publishes += w[t].publishes;
    }
    check_no_sid_twice(w, publishes);
    check_journal_saw_each_request(e, &c, w, api_before, per_thread);
    hc_close(&c);
    check_stream_stats_after_stop(e, w);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_concurrent_clients, http_env_setup, http_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
