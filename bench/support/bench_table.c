/* SPDX-License-Identifier: MIT */
/* bench_table.c: bench_core's table of figures (bench_table.h). */
#include "bench_table.h"

#include "bench_json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* A figure as reported, kept for the file. */
typedef struct result {
    const char *name;
    double value;
    const char *unit;
    bt_target_kind kind;
    double target;
} result;

static result results[32];
static size_t nresults;

void bt_report(const char *name, double value, const char *unit, bt_target_kind kind, double target)
{
    if (nresults < sizeof results / sizeof results[0])
        results[nresults++] = (result){name, value, unit, kind, target};
    char tgt[32] = "-";
    const char *verdict = "info";
    if (kind != BT_NONE) {
        snprintf(tgt, sizeof tgt, "%s %g", kind == BT_LE ? "<=" : "<", target);
        bool pass = kind == BT_LE ? value <= target : value < target;
        verdict = pass ? "PASS" : "MISS";
    }
    printf("  %-32s %14.4f  %-9s %-10s %s\n", name, value, unit, tgt, verdict);
    fflush(stdout);
}

void bt_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("    # ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

/* mkdir -p of the directory part of `path`. */
static int make_parent_dirs(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    char *slash = strrchr(buf, '/');
    if (!slash || slash == buf)
        return 0;
    *slash = '\0';
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Starts the figures file afresh (build/bench.json, which bench_delivery adds to). */
int bt_write_fresh(const char *path)
{
    if (make_parent_dirs(path) != 0 || (remove(path) != 0 && errno != ENOENT))
        return -1;
    sf_bench_figure figures[sizeof results / sizeof results[0]];
    for (size_t i = 0; i < nresults; i++)
        figures[i] = (sf_bench_figure){results[i].name, results[i].unit, results[i].value};
    return sf_bench_json_append(path, figures, nresults);
}
