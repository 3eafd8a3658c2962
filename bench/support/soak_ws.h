/* SPDX-License-Identifier: MIT */
/* soak_ws.h: the soak's blocking WebSocket + Twilsock clients of lb_srv: each mints a token,
 * upgrades /v3/wsconnect, sends `init` and subscribes to one stream; frames are read waiting
 * or not, pings answered on the way. Counted in soak_count; any surprise is fatal (lb_die). */
#ifndef SF_BENCH_SOAK_WS_H
#define SF_BENCH_SOAK_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOAK_WS_IN_CAP (256 * 1024) /* the size of a client's `in` */

typedef struct soak_ws {
    int fd;           /* -1: not open */
    uint8_t *in;      /* SOAK_WS_IN_CAP bytes, allocated by the caller */
    size_t len, used; /* used: the bytes of the frame handed out last, dropped next time */
} soak_ws;

/* The WebSocket handshake, Twilsock init and a subscription to `stream`, established. */
void soak_ws_open(soak_ws *c, const char *stream);

/* The next data frame (pings answered on the way): 1, 0 when none came (without waiting when
 * !wait) or -1 when the server closed (a close frame or end of stream). */
int soak_ws_next(soak_ws *c, bool wait, const uint8_t **data, size_t *len);

/* Waits for a Twilsock frame whose header or payload holds `needle`. */
void soak_ws_expect(soak_ws *c, const char *needle, const char *what);

/* Ends the connection: a close frame and its answer, or just the socket. */
void soak_ws_end(soak_ws *c, bool graceful);

#endif
