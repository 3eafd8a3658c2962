/* SPDX-License-Identifier: MIT */
/* heap_count.h: the counters that bench/preload/heap_count.c (an LD_PRELOAD library) keeps
 * for the process it is loaded into, in the first bytes of the file named by the environment
 * variable SF_HEAP_COUNT_FILE, which it maps shared: another process (the soak driver) maps
 * the same file and reads them while the process runs. */
#ifndef SF_HEAP_COUNT_H
#define SF_HEAP_COUNT_H

#include <stdint.h>

#define SF_HEAP_COUNT_MAGIC 0x68656170636e7431ull /* "heapcnt1" */
#define SF_HEAP_COUNT_ENV "SF_HEAP_COUNT_FILE"

typedef struct sf_heap_counts {
    uint64_t magic;      /* SF_HEAP_COUNT_MAGIC once the library has mapped the file */
    int64_t live_bytes;  /* malloc_usable_size of every block allocated and not yet freed */
    int64_t live_blocks; /* those blocks */
    uint64_t allocs;     /* allocations so far (malloc, calloc, realloc, aligned) */
} sf_heap_counts;

#endif
