/* SPDX-License-Identifier: MIT */
/*
 * bench_core.c: throughput, memory and scaling figures of the core model.
 *
 *   bench_core [out.json]      (default build/bench.json; the directory is created)
 *
 * Prints a table (figure, value, unit, target, PASS/MISS) and writes a JSON array of
 * {"name", "value", "unit"} objects. Timing uses CLOCK_MONOTONIC here in the benchmark; the
 * library itself never reads a clock (every fake runs on its manual clock).
 *
 * Figures:
 *   publish_*          one stream, rate limit lifted, a 100-byte JSON object, 3 rounds of 500k
 *                      publishes alternating with 3 rounds of the "floor": a strict jsmn parse
 *                      of the same payload plus one uthash lookup of a 34-character SID in a
 *                      table as big as the fake's stream table. Per-op times are the best round.
 *   create_1m_*        1,000,000 streams (no name, no TTL) in one service; RSS growth per stream
 *                      from /proc/self/statm. Then 100 more streams, so that page 10,000 of
 *                      size 100 is a full page (with exactly 1,000,000 it would be one past the
 *                      end, an empty page, and no token would lead to it).
 *   page_*             page 0 vs page 10,000 (Page=10000 without a token, and the next-page
 *                      token of page 9,999), each the median of 9 batches of 300 calls.
 *   fetch_by_sid_ns    fetches of 16,384 sampled SIDs of the 1M streams, in scattered order.
 *   create_named_*     1,000,000 streams with unique names, then fetch_by_name_ns likewise.
 *   expire_1m_s        1,000,000 streams with TTLs spread over 1..1000 s, then one
 *                      sf_clock_advance past every deadline.
 * Exit status: 0 when every measurement ran (a missed target is reported, not fatal); 1 when
 * an API call failed or the output could not be written.
 */
#include "bench_table.h"
#include "syncfake.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>
#include <uthash.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MILLION 1000000u
#define PUBLISH_ROUNDS 3
#define PUBLISH_PER_ROUND 500000u
#define PAGE_SIZE 100
#define DEEP_PAGE 10000
#define PAGE_BATCHES 9
#define PAGE_PER_BATCH 300
#define SAMPLE 16384u
#define FETCHES 400000u

/* ------------------------------------------------------------------------------------------ */
/* Helpers                                                                                    */
/* ------------------------------------------------------------------------------------------ */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Resident set size in bytes (second field of /proc/self/statm, in pages). */
static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static void die(const char *what, const sf_error *err)
{
    fprintf(stderr, "bench_core: %s failed", what);
    if (err)
        fprintf(stderr, ": HTTP %d, code %d, %s", err->http_status, err->code, err->message);
    fputc('\n', stderr);
    exit(1);
}

static void ok(sf_status st, const sf_error *err, const char *what)
{
    if (st != SF_OK)
        die(what, err);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static sf_fake *new_fake(uint32_t rate, char service_sid[SF_SID_SIZE])
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 7;
    opts.limits.publish_rate_per_s = rate;
    sf_fake *fake;
    sf_error err;
    ok(sf_fake_new(&opts, &fake, &err), &err, "sf_fake_new");
    sf_service_record svc;
    ok(sf_service_create(fake, NULL, NULL, &svc, &err), &err, "sf_service_create");
    memcpy(service_sid, svc.sid, SF_SID_SIZE);
    return fake;
}

/* "stream-0000042" style names, cheap enough not to weigh on the timed loop. */
static void name_of(unsigned i, char out[16])
{
    memcpy(out, "stream-", 7);
    for (int d = 13; d >= 7; d--) {
        out[d] = (char)('0' + i % 10);
        i /= 10;
    }
    out[14] = '\0';
}

/* ------------------------------------------------------------------------------------------ */
/* Publish vs floor                                                                           */
/* ------------------------------------------------------------------------------------------ */

typedef struct floor_item {
    char sid[SF_SID_SIZE];
    UT_hash_handle hh;
} floor_item;

static const char PAYLOAD[] =
    "{\"user\":\"bob\",\"room\":\"chat-room\",\"seq\":1234567,\"ok\":true,"
    "\"text\":\"hello there, this is a benchmark!\"}";

/* What the publish benchmark and its floor work with. */
typedef struct publish_ctx {
    sf_fake *fake;
    char IS[SF_SID_SIZE];
    sf_stream_record stream;
    size_t len;
    floor_item *table; /* the floor's table holds as many SIDs as the fake's stream table: one */
    floor_item item;
    jsmntok_t *tokens;
    size_t token_cap;
    const char *volatile payload_v; /* re-read every iteration: nothing is hoisted */
    const char *volatile key_v;
    volatile long sink;
    sf_publish_params pub;
    sf_message_record msg;
    sf_error err;
} publish_ctx;

/* Creates the fake, its one stream and the floor's table and token array. */
static void publish_setup(publish_ctx *x)
{
    x->len = strlen(PAYLOAD);
    if (x->len != 100) {
        fprintf(stderr, "bench_core: payload is %zu bytes, not 100\n", x->len);
        exit(1);
    }
    x->fake = new_fake(0, x->IS);
    ok(sf_stream_create(x->fake, NULL, x->IS, NULL, &x->stream, &x->err), &x->err,
       "sf_stream_create");

    x->table = NULL;
    memset(&x->item, 0, sizeof x->item);
    memcpy(x->item.sid, x->stream.sid, SF_SID_SIZE);
    HASH_ADD(hh, x->table, sid, SF_SID_LEN, &x->item);
    x->token_cap = sf_fake_options(x->fake)->limits.max_data_bytes / 2 + 2; /* as the fake */
    x->tokens = malloc(x->token_cap * sizeof *x->tokens);
    if (!x->tokens)
        die("malloc", NULL);

    x->payload_v = PAYLOAD;
    x->key_v = x->stream.sid;
    x->sink = 0;
    x->pub = (sf_publish_params){.data = PAYLOAD, .data_len = x->len};
}

/* Warms the publish path up and checks that the message echoes the payload. */
static void publish_warm_up(publish_ctx *x)
{
    for (unsigned i = 0; i < 50000; i++)
        ok(sf_stream_publish(x->fake, NULL, x->IS, x->stream.sid, &x->pub, &x->msg, &x->err),
           &x->err, "publish");
    if (x->msg.data_len != x->len || memcmp(x->msg.data, PAYLOAD, x->len) != 0)
        die("publish echo check", NULL);
}

/* One round of the floor (jsmn strict parse + uthash lookup of the SID); its seconds. */
static double floor_round(publish_ctx *x)
{
    double t0 = now_s();
    for (unsigned i = 0; i < PUBLISH_PER_ROUND; i++) {
        jsmn_parser parser;
        jsmn_init(&parser);
        const char *p = x->payload_v;
        int n = jsmn_parse(&parser, p, x->len, x->tokens, (unsigned)x->token_cap);
        floor_item *found = NULL;
        const char *k = x->key_v;
        HASH_FIND(hh, x->table, k, SF_SID_LEN, found);
        x->sink += n + (found != NULL);
    }
    return now_s() - t0;
}

/* One round of sf_stream_publish; its seconds. */
static double publish_round(publish_ctx *x)
{
    double t1 = now_s();
    for (unsigned i = 0; i < PUBLISH_PER_ROUND; i++) {
        x->pub.data = x->payload_v;
        if (sf_stream_publish(x->fake, NULL, x->IS, x->stream.sid, &x->pub, &x->msg, &x->err) !=
            SF_OK)
            die("publish", &x->err);
    }
    return now_s() - t1;
}

/* The floor's jsmn counted the tokens the payload has, every time. */
static void floor_check(publish_ctx *x)
{
    jsmn_parser check;
    jsmn_init(&check);
    int expect_tokens = jsmn_parse(&check, PAYLOAD, x->len, x->tokens, (unsigned)x->token_cap);
    if (expect_tokens != 11 || x->sink != (long)(PUBLISH_ROUNDS * PUBLISH_PER_ROUND) * 12)
        die("floor sanity check (jsmn token count)", NULL);
}

static void bench_publish(void)
{
    publish_ctx x;
    publish_setup(&x);
    publish_warm_up(&x);

    double best_pub = INFINITY, best_floor = INFINITY, total_pub = 0;
    unsigned long published = 0;
    for (int round = 0; round < PUBLISH_ROUNDS; round++) {
        double f = floor_round(&x) / PUBLISH_PER_ROUND;
        double round_s = publish_round(&x), pb = round_s / PUBLISH_PER_ROUND;
        best_floor = f < best_floor ? f : best_floor;
        best_pub = pb < best_pub ? pb : best_pub;
        total_pub += round_s;
        published += PUBLISH_PER_ROUND;
    }
    floor_check(&x);

    printf("publish (100-byte object, 1 stream, rate limit lifted, %lu publishes)\n", published);
    bt_report("publish_ops_per_s", 1.0 / best_pub, "ops/s", BT_NONE, 0);
    bt_report("publish_ns", best_pub * 1e9, "ns", BT_NONE, 0);
    bt_report("publish_floor_ns", best_floor * 1e9, "ns", BT_NONE, 0);
    bt_report("publish_floor_ratio", best_pub / best_floor, "ratio", BT_LE, 3);
    bt_note("all rounds: %.0f ops/s; floor = jsmn strict parse + uthash lookup of a SID",
            (double)published / total_pub);

    HASH_CLEAR(hh, x.table);
    free(x.tokens);
    sf_fake_free(x.fake);
}

/* ------------------------------------------------------------------------------------------ */
/* 1M streams: create, memory, paging, fetch by SID                                           */
/* ------------------------------------------------------------------------------------------ */

/* Median per-call seconds of sf_stream_list + free with `pp`. */
static double time_list(sf_fake *fake, const char *IS, const sf_page_params *pp,
                        size_t expect_count)
{
    double batch[PAGE_BATCHES];
    sf_error err;
    for (int b = 0; b < PAGE_BATCHES; b++) {
        double t0 = now_s();
        for (int i = 0; i < PAGE_PER_BATCH; i++) {
            sf_stream_page *page;
            if (sf_stream_list(fake, NULL, IS, pp, &page, &err) != SF_OK)
                die("sf_stream_list", &err);
            if (page->info.count != expect_count)
                die("page size check", NULL);
            sf_stream_page_free(fake, page);
        }
        batch[b] = (now_s() - t0) / PAGE_PER_BATCH;
    }
    qsort(batch, PAGE_BATCHES, sizeof batch[0], cmp_double);
    return batch[PAGE_BATCHES / 2];
}

/* Creates MILLION streams, keeping every stride-th SID in sids; reports time and memory. */
static void create_million(sf_fake *fake, const char *IS, char (*sids)[SF_SID_SIZE])
{
    sf_error err;
    sf_stream_record rec;
    const unsigned stride = MILLION / SAMPLE;
    long rss0 = rss_bytes();
    double t0 = now_s();
    for (unsigned i = 0; i < MILLION; i++) {
        if (sf_stream_create(fake, NULL, IS, NULL, &rec, &err) != SF_OK)
            die("sf_stream_create", &err);
        if (i % stride == 0 && i / stride < SAMPLE)
            memcpy(sids[i / stride], rec.sid, SF_SID_SIZE);
    }
    double t1 = now_s();
    long rss1 = rss_bytes();

    printf("1,000,000 streams (no name, no TTL) in one service\n");
    bt_report("create_1m_streams_s", t1 - t0, "s", BT_LT, 2);
    bt_report("bytes_per_stream", (double)(rss1 - rss0) / MILLION, "bytes", BT_LE, 400);
    bt_note("RSS %.1f MiB -> %.1f MiB", rss0 / 1048576.0, rss1 / 1048576.0);
}

/* The three ways to list that are timed: the first page, page DEEP_PAGE by number and by
 * the token page DEEP_PAGE - 1 gives (by_token.page_token points to token: not to be copied). */
typedef struct page_ways {
    sf_page_params first, deep, by_token;
    char token[SF_PAGE_TOKEN_SIZE];
} page_ways;

/* Fills the three ways, fetching page DEEP_PAGE - 1 for its next token. */
static void page_ways_init(sf_fake *fake, const char *IS, page_ways *w)
{
    sf_error err;
    w->first = (sf_page_params){.has_page_size = true, .page_size = PAGE_SIZE, .has_page = true};
    w->deep = w->first;
    w->deep.page = DEEP_PAGE;
    sf_page_params before = w->first;
    before.page = DEEP_PAGE - 1;
    sf_stream_page *page;
    ok(sf_stream_list(fake, NULL, IS, &before, &page, &err), &err, "list page 9999");
    if (!page->info.has_next)
        die("page 9999 has no next token", NULL);
    memcpy(w->token, page->info.next_token, sizeof w->token);
    sf_stream_page_free(fake, page);
    w->by_token = w->deep;
    w->by_token.page_token = w->token;
}

/* Both ways to page DEEP_PAGE must land on the same records. */
static void check_deep_pages(sf_fake *fake, const char *IS, const page_ways *w)
{
    sf_error err;
    sf_stream_page *a, *b;
    ok(sf_stream_list(fake, NULL, IS, &w->deep, &a, &err), &err, "list page 10000");
    ok(sf_stream_list(fake, NULL, IS, &w->by_token, &b, &err), &err, "list page 10000 by token");
    if (a->info.count != PAGE_SIZE || b->info.count != PAGE_SIZE ||
        strcmp(a->records[0].sid, b->records[0].sid) != 0)
        die("page 10000 consistency check", NULL);
    sf_stream_page_free(fake, a);
    sf_stream_page_free(fake, b);
}

/* Adds PAGE_SIZE streams (page 10,000 becomes full), then times and reports paging. */
static void bench_paging(sf_fake *fake, const char *IS)
{
    sf_error err;
    sf_stream_record rec;
    /* 100 more so that page 10,000 (records 1,000,000..1,000,099) is a full page */
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        ok(sf_stream_create(fake, NULL, IS, NULL, &rec, &err), &err, "sf_stream_create");

    page_ways w;
    page_ways_init(fake, IS, &w);
    check_deep_pages(fake, IS, &w);

    double t_first = time_list(fake, IS, &w.first, PAGE_SIZE);
    double t_deep = time_list(fake, IS, &w.deep, PAGE_SIZE);
    double t_token = time_list(fake, IS, &w.by_token, PAGE_SIZE);
    printf("paging, 1,000,100 streams, PageSize=100\n");
    bt_report("page_first_us", t_first * 1e6, "us", BT_NONE, 0);
    bt_report("page_deep_us", t_deep * 1e6, "us", BT_NONE, 0);
    bt_report("page_deep_token_us", t_token * 1e6, "us", BT_NONE, 0);
    bt_report("page_deep_vs_first_ratio", t_deep / t_first, "ratio", BT_LE, 2);
    bt_report("page_deep_token_vs_first_ratio", t_token / t_first, "ratio", BT_LE, 2);
}

/* Times fetch by SID, the sampled SIDs in a scattered order over the whole table. */
static void bench_fetch(sf_fake *fake, const char *IS, char (*sids)[SF_SID_SIZE])
{
    sf_error err;
    sf_stream_record rec;
    double t2 = now_s();
    for (unsigned i = 0; i < FETCHES; i++) {
        const char *sid = sids[(i * 7919u) % SAMPLE];
        if (sf_stream_fetch(fake, NULL, IS, sid, &rec, &err) != SF_OK)
            die("sf_stream_fetch", &err);
    }
    double t3 = now_s();
    printf("lookups among 1,000,100 streams\n");
    bt_report("fetch_by_sid_ns", (t3 - t2) / FETCHES * 1e9, "ns", BT_NONE, 0);
}

static void bench_million(void)
{
    char IS[SF_SID_SIZE];
    sf_fake *fake = new_fake(30, IS);
    char(*sids)[SF_SID_SIZE] = malloc(SAMPLE * sizeof *sids);
    if (!sids)
        die("malloc", NULL);
    memset(sids, 0, SAMPLE * sizeof *sids); /* touched now, not during the measurement */

    create_million(fake, IS, sids);
    bench_paging(fake, IS);
    bench_fetch(fake, IS, sids);

    free(sids);
    double t4 = now_s();
    sf_fake_free(fake);
    bt_note("sf_fake_free of 1,000,100 streams: %.3f s", now_s() - t4);
}

/* ------------------------------------------------------------------------------------------ */
/* 1M named streams                                                                           */
/* ------------------------------------------------------------------------------------------ */

static void bench_named(void)
{
    char IS[SF_SID_SIZE];
    sf_fake *fake = new_fake(30, IS);
    sf_error err;
    sf_stream_record rec;
    char name[16];
    sf_stream_params sp = {.unique_name = name};

    double t0 = now_s();
    for (unsigned i = 0; i < MILLION; i++) {
        name_of(i, name);
        if (sf_stream_create(fake, NULL, IS, &sp, &rec, &err) != SF_OK)
            die("sf_stream_create (named)", &err);
    }
    double t1 = now_s();
    printf("1,000,000 streams with unique names\n");
    bt_report("create_named_1m_streams_s", t1 - t0, "s", BT_NONE, 0);

    double t2 = now_s();
    for (unsigned i = 0; i < FETCHES; i++) {
        name_of((unsigned)(((unsigned long)i * 7919u * 61u) % MILLION), name);
        if (sf_stream_fetch(fake, NULL, IS, name, &rec, &err) != SF_OK)
            die("sf_stream_fetch (name)", &err);
    }
    double t3 = now_s();
    bt_report("fetch_by_name_ns", (t3 - t2) / FETCHES * 1e9, "ns", BT_NONE, 0);
    sf_fake_free(fake);
}

/* ------------------------------------------------------------------------------------------ */
/* 1M expiries                                                                                */
/* ------------------------------------------------------------------------------------------ */

static void bench_expire(void)
{
    char IS[SF_SID_SIZE];
    sf_fake *fake = new_fake(30, IS);
    sf_error err;
    sf_stream_params sp = {.has_ttl = true};

    double t0 = now_s();
    for (unsigned i = 0; i < MILLION; i++) {
        sp.ttl = 1 + (int64_t)(((unsigned long)i * 7919u) % 1000u); /* 1..1000 s, scattered */
        if (sf_stream_create(fake, NULL, IS, &sp, NULL, &err) != SF_OK)
            die("sf_stream_create (ttl)", &err);
    }
    double t1 = now_s();
    if (sf_pending_events(fake) != MILLION)
        die("expected 1,000,000 pending expiries", NULL);

    double t2 = now_s();
    ok(sf_clock_advance(fake, 1001 * 1000, &err), &err, "sf_clock_advance");
    double t3 = now_s();
    if (sf_pending_events(fake) != 0)
        die("expiries left after the advance", NULL);
    sf_stream_page *page;
    ok(sf_stream_list(fake, NULL, IS, NULL, &page, &err), &err, "list after expiry");
    if (page->info.count != 0)
        die("streams left after the advance", NULL);
    sf_stream_page_free(fake, page);

    printf("1,000,000 streams with TTL 1..1000 s, one clock advance past every deadline\n");
    bt_report("create_ttl_1m_streams_s", t1 - t0, "s", BT_NONE, 0);
    bt_report("expire_1m_s", t3 - t2, "s", BT_LT, 1);
    sf_fake_free(fake);
}

int main(int argc, char **argv)
{
    const char *out = argc > 1 ? argv[1] : "build/bench.json";
    double start = now_s();
    printf("  %-32s %14s  %-9s %-10s %s\n", "figure", "value", "unit", "target", "verdict");
    bench_publish();
    bench_million(); /* first of the big ones: RSS growth is measured on a fresh heap */
    bench_named();
    bench_expire();
    printf("total %.1f s\n", now_s() - start);
    if (bt_write_fresh(out) != 0) {
        fprintf(stderr, "bench_core: cannot write %s: %s\n", out, strerror(errno));
        return 1;
    }
    printf("wrote %s\n", out);
    return 0;
}
