/* SPDX-License-Identifier: MIT */
/* soak_rss.h: the soak's samples of lb_srv's memory (VmRSS, RssAnon, VmHWM from
 * /proc/PID/status and, with --heap-count, bench/preload/heap_count.c's live heap), printed
 * as a table as they come, and the verdict on them: plateau or not. */
#ifndef SF_BENCH_SOAK_RSS_H
#define SF_BENCH_SOAK_RSS_H

#include <stdbool.h>
#include <stddef.h>

#define SOAK_SAMPLES 20 /* one every 1/20 of the run, and one at the end */

/* Before lb_start_server: the server is to preload `lib` (heap_count.c's library) and count
 * its live heap into a file of ours, which is mapped (lb_die when `valgrind`, or on failure). */
void soak_heap_count_map(const char *lib, bool valgrind);

/* Removes that file, if any. */
void soak_heap_count_unlink(void);

/* Prints the samples table's head. */
void soak_samples_head(void);

/* Takes, prints and keeps a sample at t_s seconds (with soak_count's cycles and requests);
 * the number of samples kept. */
size_t soak_sample(double t_s);

/* Prints the run's report: its counts, RSS (and live heap) at start, half time and end, and
 * whether RSS grew by at most threshold_kb in the second half (returned). */
bool soak_verdict(unsigned threshold_kb);

#endif
