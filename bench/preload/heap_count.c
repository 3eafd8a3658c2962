/* SPDX-License-Identifier: MIT */
/* heap_count.c: an LD_PRELOAD library that counts the live heap of the process it is loaded
 * into (see heap_count.h), so that a soak can tell a leak (live heap growing) from the
 * allocator (RSS growing over a flat live heap: fragmentation, arenas, memory not returned).
 *
 * It wraps malloc, calloc, realloc, free, posix_memalign, aligned_alloc and memalign around
 * the C library's (dlsym RTLD_NEXT) and counts each block by malloc_usable_size. dlsym may
 * itself allocate before the real functions are known: those few bytes come from a static
 * buffer and are never freed. Counting is relaxed atomics on a shared page: cheap, and exact
 * once every thread's update has landed. Not for production: benchmarks only. */
#define _GNU_SOURCE
#include "heap_count.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* The wrappers must be seen by the dynamic linker (the build hides symbols by default). */
#define EXPORTED __attribute__((visibility("default")))

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);

static sf_heap_counts local = {SF_HEAP_COUNT_MAGIC, 0, 0, 0};
static sf_heap_counts *counts = &local;
static int resolving;

/* Allocations made while dlsym runs (it may call calloc): never freed. */
static _Alignas(16) char boot[8192];
static size_t boot_used;

static void *boot_alloc(size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size > sizeof boot - boot_used)
        return NULL;
    void *p = boot + boot_used;
    boot_used += size;
    return p;
}

static int is_boot(const void *p)
{
    return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}

/* The shared page, when SF_HEAP_COUNT_FILE names a file we can map; the counts so far move
 * there. Called once, while the process is still single-threaded (its first allocation). */
static void map_counts(void)
{
    const char *path = getenv(SF_HEAP_COUNT_ENV);
    int fd = path ? open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600) : -1;
    if (fd < 0)
        return;
    void *page = MAP_FAILED;
    if (ftruncate(fd, 4096) == 0)
        page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (page == MAP_FAILED)
        return;
    memcpy(page, &local, sizeof local);
    counts = page;
}

static void resolve(void)
{
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    real_posix_memalign = (int (*)(void **, size_t, size_t))dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "memalign");
    resolving = 0;
    if (!real_malloc || !real_calloc || !real_realloc || !real_free || !real_posix_memalign ||
        !real_aligned_alloc || !real_memalign)
        abort();
    map_counts();
}

static void counted(void *p)
{
    if (!p)
        return;
    __atomic_fetch_add(&counts->live_bytes, (int64_t)malloc_usable_size(p), __ATOMIC_RELAXED);
    __atomic_fetch_add(&counts->live_blocks, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&counts->allocs, 1, __ATOMIC_RELAXED);
}

static void uncounted(void *p)
{
    __atomic_fetch_sub(&counts->live_bytes, (int64_t)malloc_usable_size(p), __ATOMIC_RELAXED);
    __atomic_fetch_sub(&counts->live_blocks, 1, __ATOMIC_RELAXED);
}

EXPORTED void *malloc(size_t size)
{
    if (!real_malloc) {
        if (resolving)
            return boot_alloc(size);
        resolve();
    }
    void *p = real_malloc(size);
    counted(p);
    return p;
}

EXPORTED void *calloc(size_t n, size_t size)
{
    if (!real_calloc) {
        if (resolving)
            return n && size > SIZE_MAX / n ? NULL : boot_alloc(n * size); /* zeroed: static */
        resolve();
    }
    void *p = real_calloc(n, size);
    counted(p);
    return p;
}

EXPORTED void free(void *p)
{
    if (!p || is_boot(p))
        return;
    if (!real_free)
        resolve();
    uncounted(p);
    real_free(p);
}

EXPORTED void *realloc(void *p, size_t size)
{
    if (!real_realloc) {
        if (resolving)
            return NULL; /* dlsym does not realloc */
        resolve();
    }
    if (p && is_boot(p)) { /* move it to the real heap */
        size_t held = (size_t)(boot + boot_used - (char *)p);
        void *q = malloc(size);
        if (q)
            memcpy(q, p, size < held ? size : held);
        return q;
    }
    int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
    void *q = real_realloc(p, size);
    if (q || (p && size == 0)) { /* realloc(p, 0) frees p */
        __atomic_fetch_sub(&counts->live_bytes, old, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&counts->live_blocks, p ? 1 : 0, __ATOMIC_RELAXED);
        counted(q);
    }
    return q;
}

EXPORTED int posix_memalign(void **out, size_t align, size_t size)
{
    if (!real_posix_memalign)
        resolve();
    int r = real_posix_memalign(out, align, size);
    if (r == 0)
        counted(*out);
    return r;
}

EXPORTED void *aligned_alloc(size_t align, size_t size)
{
    if (!real_aligned_alloc)
        resolve();
    void *p = real_aligned_alloc(align, size);
    counted(p);
    return p;
}

EXPORTED void *memalign(size_t align, size_t size)
{
    if (!real_memalign)
        resolve();
    void *p = real_memalign(align, size);
    counted(p);
    return p;
}
