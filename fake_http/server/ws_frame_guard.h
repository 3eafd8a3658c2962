/* SPDX-License-Identifier: MIT */
/* ws_frame_guard.h: the frame headers a WebSocket client sends, checked before wslay reads
 * them. wslay's frame reader fails on a control frame (close, ping, pong) with more than 125
 * bytes of payload or without FIN, and on a length not in its shortest form, with an error
 * that its event layer handles like a dead socket: the connection would end without a close
 * frame. RFC 6455 (5.5, 7.4.1) wants close 1002 there. The guard follows the byte stream
 * frame by frame so that websocket.c can stop in front of such a header and send that close
 * itself. Pure: no I/O, no allocation. */
#ifndef SF_WS_FRAME_GUARD_H
#define SF_WS_FRAME_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf_ws_guard {
    uint8_t head[14]; /* the current frame header as far as it arrived */
    size_t head_len;
    uint64_t payload_left; /* bytes of the current frame's payload still to come */
    bool bad;              /* a header broke the rules: nothing after it is looked at */
} sf_ws_guard;

/* Feeds the next len bytes of the client's stream. Returns how many of them may go on to
 * wslay: len when every header in them is fine, else the bytes before the bad header's first
 * byte in this piece (0 when it began in an earlier one), and the guard is then bad. The
 * byte that shows a header is bad (its second, or the last of its length) never goes on, so
 * wslay never fails on it. Once bad, returns 0. A zeroed sf_ws_guard is a stream's start. */
size_t sf_ws_guard_feed(sf_ws_guard *g, const uint8_t *data, size_t len);

#endif
