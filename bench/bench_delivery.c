/* SPDX-License-Identifier: MIT */
/*
 * bench_delivery.c: fan-out, fault planning, the event queue and the journal.
 *
 *   bench_delivery [out.json]   (default build/bench.json)
 *
 * Appends its figures to the JSON array that bench_core wrote (make bench runs bench_core
 * first), or writes a new array when the file is missing. Timing uses CLOCK_MONOTONIC here in
 * the benchmark; the library runs on its manual clock.
 *
 *   fanout_deliveries_per_s         one publish to 10,000 subscribers, no fault (the payload is
 *                                   shared: callbacks get a pointer, nothing is copied per
 *                                   subscriber); best of 50 publishes
 *   fanout_faulty_deliveries_per_s  the same with a fake-wide rule dropping 30% and jittering
 *                                   0..50 ms; deliveries made (not dropped) per second, publish
 *                                   plus sf_run_until_idle
 *   advance_1m_pending_s            1,000,000 deliveries pending (100 subscribers x 10,000
 *                                   messages, delay 1 s + jitter 0..999 ms), one sf_clock_advance
 *                                   over all of them
 *   journal_append_ns               per delivery: fan-out time with the journal minus without
 *                                   (journal_capacity 0), over the same 10,000-subscriber publish
 */
#include "bench_json.h"
#include "syncfake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBSCRIBERS 10000u
#define ROUNDS 50
#define PENDING_SUBS 100u
#define PENDING_MSGS 10000u

typedef struct figure {
    const char *name, *unit, *target;
    double value;
    int pass; /* 1 pass, 0 miss, -1 no target */
} figure;

static figure figures[8];
static size_t nfigures;
static unsigned long long received; /* what the callbacks saw */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void check(sf_status st, const sf_error *err, const char *what)
{
    if (st == SF_OK)
        return;
    fprintf(stderr, "bench_delivery: %s failed: %d %d %s\n", what, err->http_status, err->code,
            err->message);
    exit(1);
}

static void add(const char *name, double value, const char *unit, const char *target, int pass)
{
    figures[nfigures++] = (figure){name, unit, target, value, pass};
    printf("  %-34s %14.4f  %-12s %-10s %s\n", name, value, unit, target ? target : "-",
           pass < 0 ? "info"
           : pass   ? "PASS"
                    : "MISS");
}

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)user;
    received += ev->data_len != 0; /* touch the event so the call is not a no-op */
}

static const char PAYLOAD[] = "{\"user\":\"alice\",\"text\":\"a message for every subscriber\","
                              "\"seq\":1,\"tags\":[\"x\",\"y\"]}";

/* A fake with one stream and `n` subscribers; rate limit lifted. */
static sf_fake *setup(unsigned n, size_t journal, char service[SF_SID_SIZE],
                      char stream[SF_SID_SIZE])
{
    sf_options o;
    sf_options_init(&o);
    o.seed = 11;
    o.limits.publish_rate_per_s = 0;
    o.journal_capacity = journal;
    sf_fake *fake;
    sf_error err;
    check(sf_fake_new(&o, &fake, &err), &err, "sf_fake_new");
    sf_service_record svc;
    check(sf_service_create(fake, NULL, NULL, &svc, &err), &err, "service");
    sf_stream_record st;
    check(sf_stream_create(fake, NULL, svc.sid, NULL, &st, &err), &err, "stream");
    memcpy(service, svc.sid, SF_SID_SIZE);
    memcpy(stream, st.sid, SF_SID_SIZE);
    sf_subscribe_params sp = {.on_event = on_event};
    for (unsigned i = 0; i < n; i++)
        check(sf_subscribe(fake, NULL, service, stream, &sp, NULL, &err), &err, "subscribe");
    return fake;
}

/* Best time of ROUNDS publishes to every subscriber (each delivered before publish returns). */
static double best_fanout(size_t journal)
{
    char service[SF_SID_SIZE], stream[SF_SID_SIZE];
    sf_fake *fake = setup(SUBSCRIBERS, journal, service, stream);
    sf_publish_params p = {.data = PAYLOAD, .data_len = sizeof PAYLOAD - 1};
    sf_error err;
    double best = 1e9;
    for (int r = 0; r < ROUNDS; r++) {
        unsigned long long before = received;
        double t = now_s();
        check(sf_stream_publish(fake, NULL, service, stream, &p, NULL, &err), &err, "publish");
        t = now_s() - t;
        if (received - before != SUBSCRIBERS) {
            fprintf(stderr, "bench_delivery: %llu of %u delivered\n", received - before,
                    SUBSCRIBERS);
            exit(1);
        }
        if (t < best)
            best = t;
    }
    sf_fake_free(fake);
    return best;
}

static void bench_fanout(void)
{
    puts("one publish to 10,000 subscribers");
    double with_journal = best_fanout(65536);
    double without = best_fanout(0);
    add("fanout_deliveries_per_s", SUBSCRIBERS / with_journal, "deliveries/s", ">= 2e7",
        SUBSCRIBERS / with_journal >= 2e7);
    add("fanout_no_journal_deliveries_per_s", SUBSCRIBERS / without, "deliveries/s", NULL, -1);
    double per = (with_journal - without) / SUBSCRIBERS * 1e9;
    add("journal_append_ns", per > 0 ? per : 0, "ns", NULL, -1);
}

static void bench_faulty(void)
{
    puts("the same with a rule dropping 30% and jittering 0..50 ms");
    char service[SF_SID_SIZE], stream[SF_SID_SIZE];
    sf_fake *fake = setup(SUBSCRIBERS, 65536, service, stream);
    sf_error err;
    sf_fault_params rule = {.scope = SF_SCOPE_FAKE, .drop_rate = 0.3, .jitter_ms = 50};
    check(sf_fault_add(fake, &rule, NULL, &err), &err, "fault");
    sf_publish_params p = {.data = PAYLOAD, .data_len = sizeof PAYLOAD - 1};
    double best = 1e9;
    unsigned long long got = 0;
    for (int r = 0; r < ROUNDS; r++) {
        unsigned long long before = received;
        double t = now_s();
        check(sf_stream_publish(fake, NULL, service, stream, &p, NULL, &err), &err, "publish");
        sf_run_until_idle(fake);
        t = now_s() - t;
        got = received - before;
        if (t / (double)got < best)
            best = t / (double)got;
    }
    add("fanout_faulty_deliveries_per_s", 1.0 / best, "deliveries/s", ">= 5e6", 1.0 / best >= 5e6);
    printf("    # %llu of %u delivered in the last round\n", got, SUBSCRIBERS);
    sf_fake_free(fake);
}

static void bench_pending(void)
{
    puts("1,000,000 pending deliveries, one clock advance");
    char service[SF_SID_SIZE], stream[SF_SID_SIZE];
    sf_fake *fake = setup(PENDING_SUBS, 65536, service, stream);
    sf_error err;
    sf_fault_params rule = {.scope = SF_SCOPE_FAKE, .delay_ms = 1000, .jitter_ms = 999};
    check(sf_fault_add(fake, &rule, NULL, &err), &err, "fault");
    sf_publish_params p = {.data = PAYLOAD, .data_len = sizeof PAYLOAD - 1};
    for (unsigned i = 0; i < PENDING_MSGS; i++)
        check(sf_stream_publish(fake, NULL, service, stream, &p, NULL, &err), &err, "publish");
    size_t pending = sf_pending_deliveries(fake);
    unsigned long long before = received;
    double t = now_s();
    check(sf_clock_advance(fake, 2000, &err), &err, "advance");
    t = now_s() - t;
    if (received - before != pending || pending != (size_t)PENDING_SUBS * PENDING_MSGS) {
        fprintf(stderr, "bench_delivery: %zu pending, %llu delivered\n", pending,
                received - before);
        exit(1);
    }
    add("advance_1m_pending_s", t, "s", "< 1", t < 1);
    sf_fake_free(fake);
}

/* Appends to the array bench_core wrote, or starts one. */
static int write_json(const char *path)
{
    sf_bench_figure out[sizeof figures / sizeof figures[0]];
    for (size_t i = 0; i < nfigures; i++)
        out[i] = (sf_bench_figure){figures[i].name, figures[i].unit, figures[i].value};
    return sf_bench_json_append(path, out, nfigures);
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "build/bench.json";
    printf("  %-34s %14s  %-12s %-10s\n", "figure", "value", "unit", "target");
    bench_fanout();
    bench_faulty();
    bench_pending();
    if (write_json(out) != 0) {
        fprintf(stderr, "bench_delivery: cannot write %s\n", out);
        return 1;
    }
    printf("appended to %s\n", out);
    return 0;
}
