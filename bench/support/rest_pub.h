/* SPDX-License-Identifier: MIT */
/* rest_pub.h: a stream publisher over one keep-alive REST connection to lb_srv, driven by the
 * caller's epoll set: one POST .../Messages at a time, each timed from its start to its
 * answer (ws_fanout's publisher). */
#ifndef SF_BENCH_REST_PUB_H
#define SF_BENCH_REST_PUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The publisher's connection is registered in the epoll set with this data.u32. */
#define REST_PUB_TAG UINT32_MAX

typedef struct rest_pub {
    int ep; /* the caller's epoll set (rest_pub_start) */
    const char *service_sid, *stream_sid;
    int fd;
    bool busy;    /* a request is out */
    unsigned seq; /* next to publish */
    unsigned answered;
    char in[65536];
    size_t in_len;
    char out[4096];
    size_t out_len, out_off;
    double max_ms, total_ms;
    int64_t *start, *end; /* per seq: request start, answer (lb_now_ns) */
    double *ms;           /* per seq: end - start */
} rest_pub;

/* Allocates the per-message arrays for `messages` publishes (lb_die when out of memory); the
 * SIDs are read when publishing, so they may be filled in later. */
void rest_pub_init(rest_pub *p, const char *service_sid, const char *stream_sid, unsigned messages);

/* Connects to lb_srv and adds the connection to the epoll set `ep`. */
void rest_pub_start(rest_pub *p, int ep);

/* Sends publish p->seq ({"seq":N,"sent_us":T,...}) and counts it out; p->busy until answered. */
void rest_pub_send(rest_pub *p);

/* Reads the connection (on REST_PUB_TAG events); an answer 201 frees it for the next send. */
void rest_pub_readable(rest_pub *p);
/* An epoll event for the publisher's socket: sends the rest of a request when it is writable
 * again (a send that would have blocked asked for EPOLLOUT), then reads. */
void rest_pub_event(rest_pub *p, uint32_t events);

#endif
