/* SPDX-License-Identifier: MIT */
/*
 * soak.c: N minutes of mixed churn against build/syncfake-server, with its RSS over time.
 *
 *   soak [SERVER] [--minutes N | --seconds N] [--rate CYCLES_PER_S] [--pool N]
 *        [--threshold-kb N] [--valgrind] [--seed N] [--server-log FILE] [--heap-count LIB]
 *
 * The program starts the server (`--port 0 --clock manual --limit publish_rate_per_s=0`) and
 * runs cycles until the time is up. One cycle, on one keep-alive REST connection:
 *
 *   create a stream (every other one with a Ttl of 1-8 s, left to expire), list the streams,
 *   fetch it, update its Ttl, publish to it; open a server-sent-event subscription to it
 *   (/_syncfake/Services/{IS}/Streams/{TO}/Events), publish, read the event, disconnect; mint
 *   an access token, open a WebSocket, Twilsock init, subscribe to the stream, publish, read
 *   the notification, disconnect (a close frame or a dropped socket, in turn); publish to a
 *   shared stream; move the fake's clock 250 ms (POST /_syncfake/clock AdvanceMs); delete the
 *   stream unless it was left to expire.
 *
 * A pool of --pool (default 8) WebSocket and as many event-stream connections stays
 * subscribed to the shared stream; each cycle drains them without blocking and replaces one
 * of each, so long-lived and short-lived subscribers mix. Every answer's status is checked;
 * a 5xx, an unexpected status or a lost connection ends the run with status 1.
 *
 * The server's VmRSS (/proc/PID/status) is sampled every 1/20 of the run and printed as a
 * table. The run plateaus when RSS grows by at most --threshold-kb (default 1024) from the
 * sample at half time to the largest later sample; otherwise the exit status is 1. The first
 * half absorbs the expected growth: the journal (a ring of 65,536 entries of 88 bytes, grown
 * by doubling) fills within the first 65,536 journaled calls, the 1,024 retained
 * unsubscribed subscriber records fill, and the allocator settles. --heap-count LIB preloads
 * bench/preload/heap_count.c's library into the server and adds its live heap to the table:
 * growing with RSS, a leak or an unbounded structure; flat, the allocator.
 * --valgrind runs the server under valgrind's leak checker instead (RSS is then valgrind's):
 * a definite or indirect leak at exit makes the server's status, and so the run, fail.
 */
#define _GNU_SOURCE
#include "loopback.h"
#include "soak_conn.h"
#include "soak_rss.h"
#include "soak_sse.h"
#include "soak_ws.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CLOCK_STEP_MS 250
#define POOL_MAX 64

static struct {
    const char *server, *server_log, *heap_lib;
    unsigned seconds, rate, pool, threshold_kb;
    bool valgrind;
    uint64_t seed;
} opt = {NULL, NULL, NULL, 600, 200, 8, 1024, false, 1};

static char hub_sid[64];

/* ---------------------------------------------------------------------------------------- */
/* One cycle, the pool                                                                       */
/* ---------------------------------------------------------------------------------------- */

static soak_ws pool_ws[POOL_MAX];
static int pool_sse[POOL_MAX];

/* Creates, lists, fetches, updates a stream; returns whether it was left to expire. */
static bool stream_rest(char *sid, size_t cap)
{
    char path[256], form[64], body[8192];
    bool expiring = soak_count.cycles % 2;
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", soak_service_sid);
    snprintf(form, sizeof form, "Ttl=%u", 1 + lb_rnd32() % 8);
    soak_api("POST", path, expiring ? form : NULL, 201, body, sizeof body);
    if (!lb_json_str(body, "sid", sid, cap))
        lb_die("no stream sid in %s", body);
    soak_api("GET", path, NULL, 200, NULL, 0);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", soak_service_sid, sid);
    soak_api("GET", path, NULL, 200, NULL, 0);
    if (!expiring)
        soak_api("POST", path, "Ttl=3600", 200, NULL, 0);
    return expiring;
}

static void cycle(void)
{
    char sid[64], path[256];
    bool expiring = stream_rest(sid, sizeof sid);
    soak_publish(sid, soak_count.cycles);

    int sse = soak_sse_open(sid);
    soak_publish(sid, soak_count.cycles);
    soak_sse_expect_event(sse);
    close(sse);

    static soak_ws ws;
    if (!ws.in && !(ws.in = malloc(SOAK_WS_IN_CAP)))
        lb_die("out of memory");
    soak_ws_open(&ws, sid);
    soak_publish(sid, soak_count.cycles);
    soak_ws_expect(&ws, "stream_message_published", "the notification");
    soak_count.notifications++;
    soak_ws_end(&ws, soak_count.cycles % 2 == 0);

    soak_publish(hub_sid, soak_count.cycles);
    char form[32];
    snprintf(form, sizeof form, "AdvanceMs=%d", CLOCK_STEP_MS);
    soak_api("POST", "/_syncfake/clock", form, 200, NULL, 0);
    if (!expiring) {
        snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", soak_service_sid, sid);
        soak_api("DELETE", path, NULL, 204, NULL, 0);
    }
    soak_count.cycles++;
}

/* Drains every pool connection, reopens the closed ones and replaces one of each kind. */
static void pool_tend(void)
{
    unsigned swap_ws = opt.pool ? lb_rnd32() % opt.pool : 0;
    unsigned swap_sse = opt.pool ? lb_rnd32() % opt.pool : 0;
    for (unsigned i = 0; i < opt.pool; i++) {
        soak_ws *c = &pool_ws[i];
        const uint8_t *data;
        size_t len;
        int r = 0;
        while (c->fd >= 0 && (r = soak_ws_next(c, false, &data, &len)) > 0) {
        }
        if (c->fd >= 0 && (r < 0 || i == swap_ws)) {
            soak_count.pool_reopened += r < 0;
            soak_ws_end(c, false);
        }
        if (c->fd < 0)
            soak_ws_open(c, hub_sid);
        bool open = pool_sse[i] >= 0 && soak_drain(pool_sse[i]);
        if (pool_sse[i] >= 0 && (!open || i == swap_sse)) {
            soak_count.pool_reopened += !open;
            close(pool_sse[i]);
            pool_sse[i] = -1;
        }
        if (pool_sse[i] < 0)
            pool_sse[i] = soak_sse_open(hub_sid);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Main                                                                                      */
/* ---------------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: soak [SERVER] [--minutes N | --seconds N] [--rate CYCLES_PER_S] "
                    "[--pool N] [--threshold-kb N] [--valgrind] [--seed N] [--server-log FILE] "
                    "[--heap-count LIB]\n");
    exit(2);
}

static unsigned parse_uint(const char *s, unsigned min, unsigned max)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v < min || v > max)
        usage();
    return (unsigned)v;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--minutes") == 0 && ++i)
            opt.seconds = 60 * parse_uint(v, 1, 24 * 60);
        else if (strcmp(a, "--seconds") == 0 && ++i)
            opt.seconds = parse_uint(v, 10, 24 * 3600);
        else if (strcmp(a, "--rate") == 0 && ++i)
            opt.rate = parse_uint(v, 0, 100000);
        else if (strcmp(a, "--pool") == 0 && ++i)
            opt.pool = parse_uint(v, 0, POOL_MAX);
        else if (strcmp(a, "--threshold-kb") == 0 && ++i)
            opt.threshold_kb = parse_uint(v, 0, 1u << 30);
        else if (strcmp(a, "--seed") == 0 && ++i)
            opt.seed = parse_uint(v, 1, UINT32_MAX);
        else if (strcmp(a, "--server-log") == 0 && v && ++i)
            opt.server_log = v;
        else if (strcmp(a, "--heap-count") == 0 && v && ++i)
            opt.heap_lib = v;
        else if (strcmp(a, "--valgrind") == 0)
            opt.valgrind = true;
        else if (a[0] != '-' && !opt.server)
            opt.server = a;
        else
            usage();
    }
    if (!opt.server)
        opt.server = getenv("SYNCFAKE_SERVER");
    if (!opt.server || !*opt.server)
        opt.server = "build/syncfake-server";
}

static void start(void)
{
    static const char *const args[] = {"--clock", "manual", "--limit", "publish_rate_per_s=0",
                                       NULL};
    static const char *const valgrind[] = {"valgrind",
                                           "--quiet",
                                           "--leak-check=full",
                                           "--show-leak-kinds=definite,indirect",
                                           "--errors-for-leak-kinds=definite,indirect",
                                           "--error-exitcode=99",
                                           NULL};
    if (opt.valgrind)
        lb_set_stop_wait_ms(120000); /* the leak check runs at exit */
    lb_server_stderr = opt.server_log;
    if (opt.heap_lib)
        soak_heap_count_map(opt.heap_lib, opt.valgrind);
    lb_start_server(opt.valgrind ? valgrind : NULL, opt.server, args);
    unsetenv("LD_PRELOAD"); /* only the server is counted */
    lb_seed(opt.seed);
    char body[8192], path[128];
    soak_api("POST", "/v1/Services", "FriendlyName=soak", 201, body, sizeof body);
    if (!lb_json_str(body, "sid", soak_service_sid, sizeof soak_service_sid))
        lb_die("no service sid in %s", body);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", soak_service_sid);
    soak_api("POST", path, "UniqueName=hub", 201, body, sizeof body);
    if (!lb_json_str(body, "sid", hub_sid, sizeof hub_sid))
        lb_die("no stream sid in %s", body);
    for (unsigned i = 0; i < opt.pool; i++) {
        pool_ws[i].fd = -1;
        pool_sse[i] = -1;
        if (!(pool_ws[i].in = malloc(SOAK_WS_IN_CAP)))
            lb_die("out of memory");
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    lb_init("soak", opt.seconds + 300);
    if (access(opt.server, X_OK) != 0)
        lb_die("%s is not an executable (build it: make)", opt.server);
    start();
    printf("soak: %s (pid %d) on port %u for %u s, %u cycles/s%s, pool %u+%u%s\n", opt.server,
           (int)lb_srv.pid, (unsigned)lb_srv.port, opt.seconds, opt.rate,
           opt.rate ? "" : " (unpaced)", opt.pool, opt.pool,
           opt.valgrind ? ", under valgrind" : "");
    soak_samples_head();
    int64_t t0 = lb_now_ns(), end = t0 + (int64_t)opt.seconds * 1000000000LL;
    int64_t every = (end - t0) / SOAK_SAMPLES, next_sample = t0;
    for (;;) {
        int64_t t = lb_now_ns();
        if (t >= next_sample) {
            size_t taken = soak_sample((double)(t - t0) / 1e9);
            next_sample += every;
            if (taken == SOAK_SAMPLES + 1)
                break;
        }
        int64_t due = opt.rate ? t0 + (int64_t)(soak_count.cycles * 1e9 / opt.rate) : t;
        if (due > t) {
            int64_t wait = due - t < next_sample - t ? due - t : next_sample - t;
            nanosleep(&(struct timespec){0, wait > 0 ? (long)(wait % 1000000000) : 0}, NULL);
            continue;
        }
        pool_tend();
        cycle();
    }
    bool ok = soak_verdict(opt.threshold_kb);
    for (unsigned i = 0; i < opt.pool; i++) {
        if (pool_ws[i].fd >= 0)
            soak_ws_end(&pool_ws[i], false);
        if (pool_sse[i] >= 0)
            close(pool_sse[i]);
    }
    soak_rest_close();
    bool clean = lb_stop_server();
    soak_heap_count_unlink();
    if (!clean)
        printf("soak: the server did not stop cleanly%s%s%s\n",
               opt.valgrind ? " (under valgrind: a leak or an error)" : "",
               opt.server_log ? "; its stderr is in " : "", opt.server_log ? opt.server_log : "");
    return ok && clean ? 0 : 1;
}
