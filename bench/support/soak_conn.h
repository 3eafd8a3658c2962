/* SPDX-License-Identifier: MIT */
/* soak_conn.h: the soak's blocking client side of lb_srv: the run's counts, reads that give
 * up after IO_WAIT_MS, and one keep-alive REST connection whose every answer is checked. */
#ifndef SF_BENCH_SOAK_CONN_H
#define SF_BENCH_SOAK_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the run did, for its samples and report. */
typedef struct soak_counts {
    uint64_t cycles, requests, sse_opened, ws_opened, pool_reopened, events, notifications;
} soak_counts;

extern soak_counts soak_count;
extern char soak_service_sid[64]; /* the run's service, once created */

/* recv() once, waiting up to IO_WAIT_MS (5 s; longer: lb_die); the bytes read, 0 at end of
 * stream. */
size_t soak_recv_wait(int fd, void *buf, size_t cap, const char *what);

/* A blocking connection to lb_srv (lb_die when refused). */
int soak_connect(void);

/* One request on the keep-alive connection (opened as needed, closed when the server says
 * so); the status must be `want` (else lb_die). The body is copied to out (may be NULL). */
void soak_api(const char *method, const char *path, const char *form, int want, char *out,
              size_t cap);

/* Publishes {"n":N} to a stream of soak_service_sid. */
void soak_publish(const char *stream, uint64_t n);

/* Closes the keep-alive connection if open. */
void soak_rest_close(void);

#endif
