/* SPDX-License-Identifier: MIT */
/* bench_table.h: bench_core's table of figures: each printed as it comes, with its target and
 * verdict, and kept (up to 32) for a fresh figures file (bench_json.h) at the end. */
#ifndef SF_BENCH_TABLE_H
#define SF_BENCH_TABLE_H

/* A figure's target: none (info), value <= target, value < target. */
typedef enum { BT_NONE, BT_LE, BT_LT } bt_target_kind;

/* Prints "  name value unit target verdict" and keeps the figure. */
void bt_report(const char *name, double value, const char *unit, bt_target_kind kind,
               double target);

/* Prints "    # " and the formatted text, a remark under the figures. */
void bt_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes the kept figures to `path` afresh (its directories created): 0, or -1 with errno. */
int bt_write_fresh(const char *path);

#endif
