/* SPDX-License-Identifier: MIT */
/*
 * bench_snapshot.c: fixture speed. A test suite that sets up the same world before every
 * test can build it once, save it, and restore it for each test instead.
 *
 *   - restore of a fake with 10,000 streams (10 services) and 1,000 subscribers, the
 *     subscribers re-attached, against building the same fake by calls: target >= 10x faster
 *   - save + restore of a fake with 1,000,000 streams: target < 1 s, measured cold (the first
 *     restore of the process, on fresh pages) and warm (again, on the pages the first one
 *     freed: the C library is told to keep them), with the cost of first touching as many
 *     fresh bytes as the restored fake allocated, which is the floor of the cold figure
 *
 * Each restored fake is checked to save back to the same bytes, so the speed is not bought
 * with a lossy restore. Prints a table and appends the figures to build/bench.json (or the
 * path given). Timings on a shared machine are noisy: compare the ratio within one run.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, mallinfo2 */
#include "bench_json.h"
#include "syncfake.h"
#include "syncfake_snapshot.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const sf_error *err)
{
    fprintf(stderr, "bench_snapshot: %s: %s\n", what, err ? err->message : "failed");
    exit(1);
}

static sf_bench_figure figures[16];
static size_t nfigures;

static void report(const char *name, double value, const char *unit, const char *target, int pass)
{
    printf("  %-32s %14.4f  %-9s %-10s %s\n", name, value, unit, target,
           pass < 0 ? ""
           : pass   ? "PASS"
                    : "MISS");
    figures[nfigures++] = (sf_bench_figure){name, unit, value};
}

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    (*(size_t *)user)++;
}

static size_t events;

/* The fixture by calls: services, streams (every 10th with a TTL and every 5th named), and
 * subscribers on the first streams. */
static sf_fake *build(size_t services, size_t streams, size_t subscribers, size_t journal)
{
    sf_fake *fake;
    sf_error err;
    sf_options o;
    sf_options_init(&o);
    o.journal_capacity = journal;
    if (sf_fake_new(&o, &fake, &err) != SF_OK)
        die("new", &err);
    char(*svc)[SF_SID_SIZE] = malloc(services * SF_SID_SIZE);
    for (size_t i = 0; i < services; i++) {
        sf_service_record r;
        if (sf_service_create(fake, NULL, NULL, &r, &err) != SF_OK)
            die("service", &err);
        memcpy(svc[i], r.sid, SF_SID_SIZE);
    }
    for (size_t i = 0; i < streams; i++) {
        char name[32];
        snprintf(name, sizeof name, "fixture-%zu", i);
        /* a ttl only with has_ttl: a ttl without it costs a warning in the journal */
        sf_stream_params p = {.unique_name = i % 5 == 0 ? name : NULL,
                              .has_ttl = i % 10 == 0,
                              .ttl = i % 10 == 0 ? 3600 : 0};
        sf_stream_record r;
        if (sf_stream_create(fake, NULL, svc[i % services], &p, &r, &err) != SF_OK)
            die("stream", &err);
        if (i < subscribers) {
            sf_subscribe_params sp = {.on_event = on_event, .user = &events};
            if (sf_subscribe(fake, NULL, svc[i % services], r.sid, &sp, NULL, &err) != SF_OK)
                die("subscribe", &err);
        }
    }
    free(svc);
    return fake;
}

static sf_fake *restore(const char *buf, size_t len)
{
    sf_fake *fake;
    sf_error err;
    if (sf_fake_from_snapshot_buffer(NULL, buf, len, &fake, &err) != SF_OK)
        die("restore", &err);
    size_t n = sf_subscriber_placeholders(fake, NULL, 0);
    sf_subscriber_id *ids = malloc((n + 1) * sizeof *ids);
    sf_subscriber_placeholders(fake, ids, n);
    for (size_t i = 0; i < n; i++)
        if (sf_subscriber_reattach(fake, ids[i], on_event, &events, &err) != SF_OK)
            die("reattach", &err);
    free(ids);
    return fake;
}

static void same_bytes(sf_fake *fake, const char *buf, size_t len)
{
    char *again;
    size_t again_len;
    sf_error err;
    if (sf_snapshot_save_buffer(fake, &again, &again_len, &err) != SF_OK)
        die("save again", &err);
    if (again_len != len || memcmp(again, buf, len) != 0)
        die("a restored fake saves differently", NULL);
    sf_snapshot_buffer_free(fake, again);
}

static void bench_fixture(void)
{
    enum { ROUNDS = 5 };
    double built = 0, restored = 0;
    char *buf = NULL;
    size_t len = 0;
    sf_error err;
    /* round 0 is a warm-up, not timed: the first build would otherwise pay alone for the
     * process's first touches of its heap, and the restores after it would reuse that memory */
    for (int round = 0; round <= ROUNDS; round++) {
        double t0 = now_s();
        sf_fake *fake = build(10, 10000, 1000, 65536); /* the default options */
        if (round > 0)
            built += now_s() - t0;
        if (round == 0 && sf_snapshot_save_buffer(fake, &buf, &len, &err) != SF_OK)
            die("save", &err);
        if (round == 0) {
            char *copy = malloc(len);
            memcpy(copy, buf, len);
            sf_snapshot_buffer_free(fake, buf);
            buf = copy;
        }
        sf_fake_free(fake);
        t0 = now_s();
        fake = restore(buf, len);
        if (round > 0)
            restored += now_s() - t0;
        if (round == 0)
            same_bytes(fake, buf, len);
        sf_fake_free(fake);
    }
    printf("10,000 streams, 1,000 subscribers (%zu-byte snapshot), mean of %d rounds\n", len,
           ROUNDS);
    report("fixture_build_by_calls_ms", built / ROUNDS * 1e3, "ms", "", -1);
    report("fixture_restore_ms", restored / ROUNDS * 1e3, "ms", "", -1);
    double ratio = built / restored;
    report("fixture_restore_speedup", ratio, "x", ">= 10", ratio >= 10);
    free(buf);
}

/* Bytes the C library has handed out: the restored fake's footprint is the difference. */
static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Seconds to map `bytes` of fresh pages and write each once: what the kernel charges for the
 * memory of a restore before any of the fake's own work. */
static double first_touch_s(size_t bytes)
{
    double t0 = now_s();
    unsigned char *p =
        mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "bench_snapshot: mmap %zu bytes: %s\n", bytes, strerror(errno));
        exit(1);
    }
    memset(p, 1, bytes);
    __asm__ volatile("" : : "r"(p) : "memory"); /* the writes are the point */
    double t = now_s() - t0;
    munmap(p, bytes);
    return t;
}

/* One save + restore of fake, timed; the restored fake is checked and freed. */
static void save_restore(sf_fake *fake, double *save_s, double *restore_s, size_t *len_out,
                         size_t *restored_bytes)
{
    char *buf;
    size_t len;
    sf_error err;
    double t0 = now_s();
    if (sf_snapshot_save_buffer(fake, &buf, &len, &err) != SF_OK)
        die("save 1M", &err);
    double t1 = now_s();
    size_t before = heap_in_use();
    sf_fake *back = restore(buf, len);
    *restore_s = now_s() - t1;
    *save_s = t1 - t0;
    *restored_bytes = heap_in_use() - before;
    *len_out = len;
    same_bytes(back, buf, len);
    sf_snapshot_buffer_free(fake, buf);
    sf_fake_free(back);
}

static void bench_million(void)
{
    sf_fake *fake = build(100, 1000000, 0, 0); /* no journal: only the streams */
    double save_cold, restore_cold, save_warm, restore_warm;
    size_t len, bytes, bytes_again;
    save_restore(fake, &save_cold, &restore_cold, &len, &bytes);
    save_restore(fake, &save_warm, &restore_warm, &len, &bytes_again);
    double touch = first_touch_s(bytes);
    printf("1,000,000 streams (%zu-byte snapshot; the restored fake holds %zu MB)\n", len,
           bytes >> 20);
    report("save_1m_cold_s", save_cold, "s", "", -1);
    report("restore_1m_cold_s", restore_cold, "s", "", -1);
    report("first_touch_restored_bytes_s", touch, "s", "", -1);
    report("save_restore_1m_cold_s", save_cold + restore_cold, "s", "< 1",
           save_cold + restore_cold < 1);
    report("save_1m_warm_s", save_warm, "s", "", -1);
    report("restore_1m_warm_s", restore_warm, "s", "", -1);
    report("save_restore_1m_warm_s", save_warm + restore_warm, "s", "< 1",
           save_warm + restore_warm < 1);
    sf_fake_free(fake);
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "build/bench.json";
    /* freed memory stays with the process (no unmapping of large blocks, no trimming), as in a
     * test runner that restores fixture after fixture: the warm figures reuse those pages */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    printf("  %-32s %14s  %-9s %-10s %s\n", "figure", "value", "unit", "target", "verdict");
    bench_fixture();
    bench_million();
    if (sf_bench_json_append(out, figures, nfigures) != 0) {
        fprintf(stderr, "bench_snapshot: cannot write %s: %s\n", out, strerror(errno));
        return 1;
    }
    printf("wrote %s\n", out);
    return 0;
}
