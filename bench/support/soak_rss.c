/* SPDX-License-Identifier: MIT */
/* soak_rss.c: the soak's memory samples and verdict (soak_rss.h). */
#define _GNU_SOURCE
#include "soak_rss.h"

#include "heap_count.h"
#include "loopback.h"
#include "soak_conn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef struct sample {
    double t_s;
    uint64_t cycles, requests;
    long rss_kb, anon_kb, hwm_kb;
    long heap_kb, blocks; /* the live heap (--heap-count); -1 unknown */
} sample;

static sample samples[SOAK_SAMPLES + 1];
static const sf_heap_counts *heap; /* the server's, with --heap-count */
static const char *unlink_at_exit; /* its file */
static size_t nsamples;

void soak_heap_count_map(const char *lib, bool valgrind)
{
    static char path[64];
    if (valgrind)
        lb_die("--heap-count and --valgrind do not mix (both replace malloc)");
    if (access(lib, R_OK) != 0)
        lb_die("%s: not readable (build it: make)", lib);
    snprintf(path, sizeof path, "/tmp/sf-soak-heap.%d", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    void *page = MAP_FAILED;
    if (fd >= 0 && ftruncate(fd, 4096) == 0)
        page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    if (page == MAP_FAILED)
        lb_die("cannot map %s: %s", path, strerror(errno));
    unlink_at_exit = path;
    heap = page;
    setenv(SF_HEAP_COUNT_ENV, path, 1);
    setenv("LD_PRELOAD", lib, 1);
}

void soak_heap_count_unlink(void)
{
    if (unlink_at_exit)
        unlink(unlink_at_exit);
}

void soak_samples_head(void)
{
    printf("\n  %7s %9s %10s %10s %10s %10s %10s %10s\n", "t_s", "cycles", "requests", "VmRSS_kB",
           "RssAnon_kB", "VmHWM_kB", "heap_kB", "blocks");
}

/* A "Name:   N kB" line of /proc/PID/status; -1 if missing. */
static long status_kb(const char *text, const char *name)
{
    const char *p = strstr(text, name);
    return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

size_t soak_sample(double t_s)
{
    char path[64], text[8192];
    snprintf(path, sizeof path, "/proc/%d/status", (int)lb_srv.pid);
    FILE *f = fopen(path, "r");
    if (!f)
        lb_die("cannot read %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    sample *s = &samples[nsamples++];
    *s = (sample){.t_s = t_s,
                  .cycles = soak_count.cycles,
                  .requests = soak_count.requests,
                  .rss_kb = status_kb(text, "\nVmRSS:"),
                  .anon_kb = status_kb(text, "\nRssAnon:"),
                  .hwm_kb = status_kb(text, "\nVmHWM:"),
                  .heap_kb = -1,
                  .blocks = -1};
    if (heap && heap->magic == SF_HEAP_COUNT_MAGIC) {
        s->heap_kb = (long)(__atomic_load_n(&heap->live_bytes, __ATOMIC_RELAXED) / 1024);
        s->blocks = (long)__atomic_load_n(&heap->live_blocks, __ATOMIC_RELAXED);
    }
    printf("  %7.1f %9" PRIu64 " %10" PRIu64 " %10ld %10ld %10ld %10ld %10ld\n", s->t_s, s->cycles,
           s->requests, s->rss_kb, s->anon_kb, s->hwm_kb, s->heap_kb, s->blocks);
    fflush(stdout);
    return nsamples;
}

/* From the half-time sample to the largest later value of a field (kB). */
static long second_half_growth(size_t field_offset)
{
    const char *mid = (const char *)&samples[nsamples / 2];
    long base = *(const long *)(mid + field_offset), peak = base;
    for (size_t i = nsamples / 2; i < nsamples; i++) {
        long v = *(const long *)((const char *)&samples[i] + field_offset);
        peak = v > peak ? v : peak;
    }
    return peak - base;
}

/* Whether RSS grew by at most the threshold in the second half; says why when not. */
bool soak_verdict(unsigned threshold_kb)
{
    const sample *mid = &samples[nsamples / 2], *last = &samples[nsamples - 1];
    long growth = second_half_growth(offsetof(sample, rss_kb));
    printf("\nsoak: %" PRIu64 " cycles, %" PRIu64 " requests, %" PRIu64
           " event streams and %" PRIu64 " WebSockets opened (%" PRIu64
           " pool connections ended by the server), %" PRIu64 " events and %" PRIu64
           " notifications checked\n",
           soak_count.cycles, soak_count.requests, soak_count.sse_opened, soak_count.ws_opened,
           soak_count.pool_reopened, soak_count.events, soak_count.notifications);
    printf("soak: RSS %ld kB at start, %ld kB at half time (%.0f s), %ld kB at the end; "
           "second half growth %ld kB (threshold %u kB)\n",
           samples[0].rss_kb, mid->rss_kb, mid->t_s, last->rss_kb, growth, threshold_kb);
    if (mid->heap_kb >= 0)
        printf("soak: live heap %ld kB at half time, %ld kB at the end; second half growth "
               "%ld kB\n",
               mid->heap_kb, last->heap_kb, second_half_growth(offsetof(sample, heap_kb)));
    if (mid->requests < 65536)
        printf("soak: only %" PRIu64 " requests by half time: the journal (65,536 entries) may "
               "still have been filling; run longer\n",
               mid->requests);
    bool ok = growth <= (long)threshold_kb;
    if (ok)
        printf("soak: PLATEAU\n");
    else if (mid->heap_kb < 0)
        printf("soak: NO PLATEAU (RSS still growing in the second half)\n");
    else
        printf("soak: NO PLATEAU: %s\n",
               second_half_growth(offsetof(sample, heap_kb)) > (long)threshold_kb
                   ? "the live heap grows too (a leak or an unbounded structure)"
                   : "the live heap is flat (the allocator keeps what was freed)");
    return ok;
}
