/* SPDX-License-Identifier: MIT */
/* ws_subscribers.h: ws_fanout's Twilsock subscribers: WebSocket client connections to
 * lb_srv's /v3/wsconnect, read from the caller's epoll set, that send `init`, subscribe to
 * one stream and then count and time every delivery of its messages. Client frames are
 * masked, server pings answered; any protocol surprise is fatal (lb_die). */
#ifndef SF_BENCH_WS_SUBSCRIBERS_H
#define SF_BENCH_WS_SUBSCRIBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WSS_TOKEN_MAX 4096 /* an access token's size, its terminator included */

/* A connection's progress: connected, upgraded, init answered, subscribed. */
enum { WSS_CONNECTING, WSS_HANDSHAKE, WSS_INIT, WSS_SUBSCRIBING, WSS_READY };

typedef struct wss_set wss_set;

typedef struct wss_conn {
    wss_set *set;
    int fd;
    unsigned idx;
    int state;
    bool want_out;    /* EPOLLOUT registered */
    bool sub_replied; /* the Subscriptions request was answered 200 */
    char accept[29];  /* expected Sec-WebSocket-Accept */
    uint8_t *in;
    size_t in_len, in_cap;
    uint8_t *frag; /* a fragmented message being put together */
    size_t frag_len;
    int frag_opcode;
    uint8_t *out; /* bytes not yet accepted by the socket */
    size_t out_len, out_cap;
    unsigned received, duplicates;
} wss_conn;

/* The connections and what they count, together. */
struct wss_set {
    /* set by the caller (the strings and pub_start are read as the run goes) */
    int ep;
    const char *stream_sid, *token;
    unsigned count, messages; /* connections; messages each must receive */
    bool ack;                 /* answer each notification with a `reply`, as the JS SDK does */
    const int64_t *pub_start; /* per seq: its publish request's start (lb_now_ns); 0: not yet */
    /* kept by the connections */
    wss_conn *conns;
    unsigned ready_count, setting_up; /* subscribed; opened and not yet subscribed */
    uint8_t *seen;                    /* [conn * messages + seq] */
    double *lat_ms;                   /* one per delivery: receive time - publish start */
    size_t nlat;
    int64_t last_delivery_ns;
    uint64_t deliveries, duplicates, foreign, pings;
};

/* Allocates s->count connections and the results for s->messages each (lb_die when out of
 * memory). */
void wss_alloc(wss_set *s);

/* Opens connection i (non-blocking connect) and adds it to the epoll set (data.u32 = i). */
void wss_open(wss_set *s, unsigned i);

/* Handles the epoll events of one connection: connect, handshake, setup frames, deliveries. */
void wss_event(wss_conn *c, uint32_t events);

#endif
