/* SPDX-License-Identifier: MIT */
/*
 * ws_fanout.c: Twilsock fan-out of build/syncfake-server, end to end over loopback.
 *
 *   ws_fanout [SERVER] [--conns N] [--messages N] [--rate PER_S] [--ack] [--timeout S]
 *             [--out FILE] [--name PREFIX]
 *
 * SERVER defaults to $SYNCFAKE_SERVER, then build/syncfake-server. The program starts it
 * (fork + exec, `--port 0 --clock wall --limit publish_rate_per_s=0`), reads its banner,
 * creates a service and a stream and mints one access token over REST, then opens N
 * WebSocket connections (default 1,000) to /v3/wsconnect. Each sends Twilsock `init` and,
 * once that is answered 200, a tunnelled POST /v4/Subscriptions establishing a subscription
 * to the stream; the run waits until every connection got `subscription_established`.
 *
 * Then it publishes M messages (default 200) over REST on one keep-alive connection, one
 * after another (the next request goes out when the previous answer is in; --rate paces them
 * instead), each with its sequence number and send time in the data. One thread and one
 * epoll set read every connection; each delivery is timed as its receive time minus the start
 * of its publish request (CLOCK_MONOTONIC). Reported:
 *
 *   ws_fanout_deliveries_per_s   all deliveries / (last delivery - first publish start)
 *   ws_fanout_p50_ms             publish-to-receive latency, median over every delivery
 *   ws_fanout_p99_ms             the same, 99th percentile
 *
 * (--name PREFIX replaces "ws_fanout" in those names.)
 *
 * Targets: >= 100,000 deliveries/s and p99 < 20 ms, both in one run: bench/http.sh paces 105
 * publishes/s (105,000 deliveries/s) for them. Back to back, the publisher outruns the
 * fan-out, messages queue, and p99 measures that queue (bench/http.sh reports that run's rate
 * as the ceiling). Every connection must receive every
 * message exactly once: missing and duplicate counts are printed and make the exit status 1.
 * The figures are appended to the JSON array in FILE (default build/bench-http.json, which
 * bench/http.sh writes first), or a new array is written when the file is missing.
 *
 * Client frames are masked (RFC 6455 section 5.3); server pings are answered with pongs.
 * --ack makes every connection answer each notification with a Twilsock `reply`, as the JS
 * SDK does (the server ignores them; they add load). Everything is bounded: the whole run is
 * aborted with a message after --timeout seconds (default 60), and the server is killed.
 */
#define _GNU_SOURCE
#include "bench_json.h"
#include "loopback.h"
#include "rest_pub.h"
#include "ws_subscribers.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#define TARGET_DELIVERIES_PER_S 100000.0
#define TARGET_P99_MS 20.0
#define SETUP_WINDOW 200          /* connections being set up at once */
#define DRAIN_AFTER_LAST_MS 10000 /* after the last publish answer: wait this long at most */
#define SETUP_STALL_MS 10000      /* no connection subscribed for this long: give up */

/* ---------------------------------------------------------------------------------------- */
/* Options, time, failure                                                                    */
/* ---------------------------------------------------------------------------------------- */

static struct {
    const char *server, *out;
    unsigned conns, messages;
    double rate; /* publishes/s; 0: back to back */
    bool ack;
    unsigned timeout_s;
    const char *name; /* prefix of the figures' names */
} opt = {NULL, "build/bench-http.json", 1000, 200, 0, false, 60, "ws_fanout"};

static double self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

/* ---------------------------------------------------------------------------------------- */
/* The subscribers (ws_subscribers.h) and the publisher (rest_pub.h), in one epoll set       */
/* ---------------------------------------------------------------------------------------- */

static int ep;
static char service_sid[64], stream_sid[64], token[WSS_TOKEN_MAX];
static wss_set subs;
static rest_pub pub;

/* ---------------------------------------------------------------------------------------- */
/* Report                                                                                    */
/* ---------------------------------------------------------------------------------------- */

static sf_bench_figure figures[3];
static char names[3][64];
static size_t nfigures;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static double pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

static void row(const char *name, double value, const char *unit, const char *target, int pass)
{
    printf("  %-28s %12.3f  %-12s %-10s %s\n", name, value, unit, target ? target : "-",
           pass < 0 ? "info"
           : pass   ? "PASS"
                    : "MISS");
}

/* ---------------------------------------------------------------------------------------- */
/* Main                                                                                      */
/* ---------------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: ws_fanout [SERVER] [--conns N] [--messages N] [--rate PER_S] "
                    "[--ack] [--timeout S] [--out FILE] [--name PREFIX]\n");
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

/* Reads the command line into opt; anything unknown or out of range: usage (exit 2). */
static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--conns") == 0 && ++i)
            opt.conns = parse_uint(v, 1, 100000);
        else if (strcmp(a, "--messages") == 0 && ++i)
            opt.messages = parse_uint(v, 1, 1000000);
        else if (strcmp(a, "--rate") == 0 && ++i)
            opt.rate = parse_uint(v, 0, 1000000);
        else if (strcmp(a, "--timeout") == 0 && ++i)
            opt.timeout_s = parse_uint(v, 1, 3600);
        else if (strcmp(a, "--out") == 0 && v && ++i)
            opt.out = v;
        else if (strcmp(a, "--name") == 0 && v && strlen(v) < 40 && ++i)
            opt.name = v;
        else if (strcmp(a, "--ack") == 0)
            opt.ack = true;
        else if (a[0] != '-' && !opt.server)
            opt.server = a;
        else
            usage();
    }
}

/* Picks the server: the argument, then $SYNCFAKE_SERVER, then build/syncfake-server. */
static void find_server(void)
{
    if (!opt.server)
        opt.server = getenv("SYNCFAKE_SERVER");
    if (!opt.server || !*opt.server)
        opt.server = "build/syncfake-server";
    if (access(opt.server, X_OK) != 0)
        lb_die("%s is not an executable (build it: make)", opt.server);
}

/* Raises the open files limit: every connection is one descriptor here and one in the server
 * (its socket), with room to spare; the server inherits the raised limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)opt.conns * 2 + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < need)
            lb_die("open files limit %llu, need %llu (ulimit -n)", (unsigned long long)rl.rlim_cur,
                   (unsigned long long)need);
    }
}

/* Allocates the subscribers and the publisher, with room for their results. */
static void alloc_results(void)
{
    subs.stream_sid = stream_sid;
    subs.token = token;
    subs.count = opt.conns;
    subs.messages = opt.messages;
    subs.ack = opt.ack;
    wss_alloc(&subs);
    rest_pub_init(&pub, service_sid, stream_sid, opt.messages);
    subs.pub_start = pub.start;
}

/* Over REST: creates the service and the stream and mints the access token. */
static void create_stream(void)
{
    char *body;
    int st = lb_rest("POST", "/v1/Services", "FriendlyName=ws-fanout", &body);
    if (st != 201 || !lb_json_str(body, "sid", service_sid, sizeof service_sid))
        lb_die("creating a service: %d %s", st, body);
    free(body);
    char path[256];
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", service_sid);
    st = lb_rest("POST", path, "UniqueName=ws-fanout", &body);
    if (st != 201 || !lb_json_str(body, "sid", stream_sid, sizeof stream_sid))
        lb_die("creating a stream: %d %s", st, body);
    free(body);
    char form[256];
    snprintf(form, sizeof form, "Identity=ws-fanout&ServiceSid=%s&Ttl=3600", service_sid);
    st = lb_rest("POST", "/_syncfake/tokens", form, &body);
    if (st != 201 || !lb_json_str(body, "token", token, sizeof token))
        lb_die("minting a token: %d %s", st, body);
    free(body);
}

/* One epoll_wait of at most timeout_ms, its events handed to the publisher or a connection. */
static void poll_once(int timeout_ms)
{
    enum { MAXEV = 512 };
    struct epoll_event evs[MAXEV];
    int n = epoll_wait(ep, evs, MAXEV, timeout_ms);
    if (n < 0 && errno != EINTR)
        lb_die("epoll_wait: %s", strerror(errno));
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u32 == REST_PUB_TAG)
            rest_pub_event(&pub, evs[i].events);
        else
            wss_event(&subs.conns[evs[i].data.u32], evs[i].events);
    }
}

/* Setup gave up: says how far each opened connection got, then dies. */
static void setup_failed(unsigned opened, bool stalled)
{
    unsigned by_state[5] = {0};
    for (unsigned i = 0; i < opened; i++)
        by_state[subs.conns[i].state]++;
    fflush(stdout);
    fprintf(stderr,
            "ws_fanout: %s: %u of %u connections subscribed (opened %u; connecting %u, "
            "waiting for the upgrade answer %u, init %u, subscribing %u)\n",
            stalled ? "setup stalled (no progress for 10 s)" : "setup timed out", subs.ready_count,
            opt.conns, opened, by_state[WSS_CONNECTING], by_state[WSS_HANDSHAKE],
            by_state[WSS_INIT], by_state[WSS_SUBSCRIBING]);
    if (by_state[WSS_HANDSHAKE] && subs.ready_count + by_state[WSS_HANDSHAKE] == opt.conns)
        fprintf(stderr,
                "ws_fanout: the server stopped accepting connections at %u (%u "
                "WebSockets + this program's REST connection); its libmicrohttpd "
                "connection limit (MHD_OPTION_CONNECTION_LIMIT in "
                "fake_http/server/server.c) counts upgraded WebSockets too. Try "
                "--conns %u\n",
                subs.ready_count + 1, subs.ready_count, subs.ready_count);
    lb_die("giving up");
}

/* Opens every connection (SETUP_WINDOW at a time) until all are subscribed; returns seconds. */
static double setup_connections(void)
{
    int64_t t_setup = lb_now_ns();
    unsigned next = 0, ready_before = 0;
    int64_t progress_ns = t_setup;
    while (subs.ready_count < opt.conns) {
        while (next < opt.conns && subs.setting_up < SETUP_WINDOW) {
            wss_open(&subs, next++);
            subs.setting_up++;
        }
        poll_once(100);
        int64_t t = lb_now_ns();
        if (subs.ready_count != ready_before) {
            ready_before = subs.ready_count;
            progress_ns = t;
        }
        bool stalled = t - progress_ns > SETUP_STALL_MS * 1000000LL;
        if (t > lb_deadline_ns() || stalled)
            setup_failed(next, stalled);
    }
    return (double)(lb_now_ns() - t_setup) / 1e9;
}

/* Sends the next publish when it is due; returns how long epoll may wait (ms). */
static int publish_if_due(int64_t first_pub, int64_t t)
{
    int timeout = 100;
    if (!pub.busy && pub.seq < opt.messages) {
        int64_t due = opt.rate > 0 ? first_pub + (int64_t)(pub.seq * 1e9 / opt.rate) : t;
        if (due <= t)
            rest_pub_send(&pub);
        else if ((due - t) / 1000000 < timeout)
            timeout = (int)((due - t) / 1000000);
    }
    return timeout;
}

/* What the publish-and-receive phase measured. */
typedef struct run_result {
    int64_t first_pub, end;     /* first publish start; last delivery (or the end) */
    double srv_cpu0, self_cpu0; /* CPU seconds used before it (server, this program) */
    double srv_cpu, self_cpu;   /* CPU seconds used during it */
} run_result;

/* Publishes every message and receives until all `total` deliveries are in (or it is time);
 * r->srv_cpu0 and r->self_cpu0 are already set. */
static void publish_and_receive(size_t total, run_result *r)
{
    r->first_pub = lb_now_ns();
    int64_t drain_until = INT64_MAX;
    while (subs.deliveries < total) {
        poll_once(publish_if_due(r->first_pub, lb_now_ns()));
        int64_t t = lb_now_ns();
        if (pub.answered == opt.messages && drain_until == INT64_MAX)
            drain_until = t + DRAIN_AFTER_LAST_MS * 1000000LL;
        if (t > drain_until || t > lb_deadline_ns()) {
            fflush(stdout);
            fprintf(stderr, "ws_fanout: %s: %" PRIu64 " of %zu deliveries\n",
                    t > lb_deadline_ns() ? "overall timeout" : "10 s after the last publish",
                    subs.deliveries, total);
            if (pub.answered < opt.messages)
                lb_die("timed out after %u s: %u of %u publishes answered", opt.timeout_s,
                       pub.answered, opt.messages);
            break;
        }
    }
    r->end = subs.deliveries ? subs.last_delivery_ns : lb_now_ns();
    int threads = 0;
    r->srv_cpu = lb_proc_cpu_s(lb_srv.pid, &threads) - r->srv_cpu0;
    r->self_cpu = self_cpu_s() - r->self_cpu0;
}

/* The headline figures, also written to the figures file. */
typedef struct headline {
    double rate, p50, p99;
    uint64_t missing;
} headline;

/* Lists up to 20 connections that missed deliveries. */
static void print_missing(uint64_t missing)
{
    unsigned short_conns = 0;
    for (unsigned i = 0; i < opt.conns; i++)
        short_conns += subs.conns[i].received < opt.messages;
    printf("\n  MISSING: %" PRIu64 " deliveries; %u of %u connections short:", missing, short_conns,
           opt.conns);
    for (unsigned i = 0, shown = 0; i < opt.conns && shown < 20; i++)
        if (subs.conns[i].received < opt.messages) {
            printf(" #%u:%u", i, opt.messages - subs.conns[i].received);
            shown++;
        }
    printf("%s\n", short_conns > 20 ? " ..." : "");
}

/* Prints the table of figures; returns the headline ones. */
static headline print_report(const run_result *r, size_t total)
{
    headline h;
    double span_s = (double)(r->end - r->first_pub) / 1e9;
    h.rate = span_s > 0 ? (double)subs.deliveries / span_s : 0;
    qsort(subs.lat_ms, subs.nlat, sizeof *subs.lat_ms, cmp_double);
    h.p50 = pct(subs.lat_ms, subs.nlat, 50);
    h.p99 = pct(subs.lat_ms, subs.nlat, 99);
    qsort(pub.ms, pub.answered, sizeof *pub.ms, cmp_double);
    h.missing = total - subs.deliveries;

    printf("\n  %-28s %12s  %-12s %-10s\n", "figure", "value", "unit", "target");
    row("deliveries_per_s", h.rate, "deliveries/s", ">= 100000", h.rate >= TARGET_DELIVERIES_PER_S);
    row("p50_ms", h.p50, "ms", "-", -1);
    row("p90_ms", pct(subs.lat_ms, subs.nlat, 90), "ms", "-", -1);
    row("p99_ms", h.p99, "ms", "< 20", h.p99 < TARGET_P99_MS);
    row("p99.9_ms", pct(subs.lat_ms, subs.nlat, 99.9), "ms", "-", -1);
    row("max_ms", subs.nlat ? subs.lat_ms[subs.nlat - 1] : 0, "ms", "-", -1);
    row("deliveries", (double)subs.deliveries, "deliveries", "-", -1);
    row("missing", (double)h.missing, "deliveries", "0", h.missing == 0);
    row("duplicates", (double)subs.duplicates, "deliveries", "0", subs.duplicates == 0);
    row("first_publish_to_last_s", span_s, "s", "-", -1);
    row("publish_http_p50_ms", pct(pub.ms, pub.answered, 50), "ms", "-", -1);
    row("publish_http_p99_ms", pct(pub.ms, pub.answered, 99), "ms", "-", -1);
    row("server_cpu_s", r->srv_cpu, "s", "-", -1);
    row("server_cpu_per_delivery_us",
        subs.deliveries ? r->srv_cpu / (double)subs.deliveries * 1e6 : 0, "us", "-", -1);
    row("client_cpu_s", r->self_cpu, "s", "-", -1);
    if (subs.foreign || subs.pings)
        printf("  (%" PRIu64 " other frames, %" PRIu64 " pings answered)\n", subs.foreign,
               subs.pings);
    if (h.missing)
        print_missing(h.missing);
    return h;
}

/* Appends <name>_deliveries_per_s, _p99_ms and _p50_ms to opt.out; false if it cannot. */
static bool write_figures(const headline *h)
{
    snprintf(names[0], sizeof names[0], "%s_deliveries_per_s", opt.name);
    snprintf(names[1], sizeof names[1], "%s_p99_ms", opt.name);
    snprintf(names[2], sizeof names[2], "%s_p50_ms", opt.name);
    figures[nfigures++] = (sf_bench_figure){names[0], "deliveries/s", h->rate};
    figures[nfigures++] = (sf_bench_figure){names[1], "ms", h->p99};
    figures[nfigures++] = (sf_bench_figure){names[2], "ms", h->p50};
    if (sf_bench_json_append(opt.out, figures, nfigures) != 0) {
        fprintf(stderr, "ws_fanout: cannot write %s\n", opt.out);
        return false;
    }
    printf("appended to %s\n", opt.out);
    return true;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    lb_init("ws_fanout", opt.timeout_s);
    find_server();
    lb_seed((uint64_t)lb_now_ns());
    raise_fd_limit();
    size_t total = (size_t)opt.conns * opt.messages;
    alloc_results();

    static const char *const server_args[] = {"--clock", "wall", "--limit", "publish_rate_per_s=0",
                                              NULL};
    lb_start_server(NULL, opt.server, server_args);
    create_stream();
    printf("ws_fanout: %s on port %u, %u WebSocket connections, %u messages%s%s\n", opt.server,
           (unsigned)lb_srv.port, opt.conns, opt.messages,
           opt.rate > 0 ? ", paced" : ", back to back", opt.ack ? ", acks on" : "");
    fflush(stdout);

    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        lb_die("epoll_create1: %s", strerror(errno));
    subs.ep = ep;
    /* the publisher connects first: it must not find the server full of WebSockets */
    rest_pub_start(&pub, ep);

    double setup_s = setup_connections();
    int threads = 0;
    run_result r;
    r.srv_cpu0 = lb_proc_cpu_s(lb_srv.pid, &threads);
    r.self_cpu0 = self_cpu_s();
    printf("ws_fanout: %u connections subscribed in %.2f s (server: %d threads)\n", opt.conns,
           setup_s, threads);
    fflush(stdout);

    publish_and_receive(total, &r);
    for (unsigned i = 0; i < opt.conns; i++)
        close(subs.conns[i].fd);
    close(pub.fd);
    bool clean_stop = lb_stop_server();

    headline h = print_report(&r, total);
    if (!write_figures(&h))
        return 1;
    return h.missing || subs.duplicates || !clean_stop ? 1 : 0;
}
