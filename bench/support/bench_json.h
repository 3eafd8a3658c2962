/* SPDX-License-Identifier: MIT */
/* bench_json.h: the benchmarks' figures file, a JSON array of {"name","value","unit"}
 * objects (build/bench.json, build/bench-http.json), which several programs add to. */
#ifndef SF_BENCH_JSON_H
#define SF_BENCH_JSON_H

#include <stddef.h>

typedef struct sf_bench_figure {
    const char *name, *unit;
    double value; /* not finite: written as null */
} sf_bench_figure;

/* Appends the figures to the array in `path`, or starts a new array when the file is missing
 * or empty. 0 on success, -1 when the file cannot be written. */
int sf_bench_json_append(const char *path, const sf_bench_figure *figures, size_t count);

#endif
