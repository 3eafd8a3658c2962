/* SPDX-License-Identifier: MIT */
/* ws_frame_guard.c: see ws_frame_guard.h. */
#include "ws_frame_guard.h"

/* Bytes of the extended length that follow the first two header bytes. */
static size_t ext_size(const uint8_t head[2])
{
    size_t len7 = head[1] & 0x7f;
    return len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
}

/* The rules wslay's frame reader enforces by failing: a control frame fits in one frame of
 * at most 125 bytes; an extended length is used only when the short forms cannot hold it. */
static bool first_bytes_ok(const uint8_t head[2])
{
    bool control = (head[0] & 0x08) != 0;
    bool fin = (head[0] & 0x80) != 0;
    return !control || (fin && (head[1] & 0x7f) <= 125);
}

/* The payload length once the length bytes are in, or false when its form is not the
 * shortest (or the 64-bit form has its top bit set). */
static bool payload_length(const uint8_t *head, uint64_t *len)
{
    size_t ext = ext_size(head);
    if (ext == 0) {
        *len = head[1] & 0x7f;
        return true;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < ext; i++)
        v = v << 8 | head[2 + i];
    *len = v;
    if (ext == 2)
        return v >= 126;
    return v >= 65536 && (v >> 63) == 0;
}

/* The header byte just added decided the header is bad: checked the moment wslay could
 * (the first two bytes, then the length), never later, so wslay never reads it whole. */
static bool header_bad(sf_ws_guard *g)
{
    if (g->head_len == 2 && !first_bytes_ok(g->head))
        return true;
    if (g->head_len < 2 || g->head_len != 2 + ext_size(g->head))
        return false;
    uint64_t len;
    return !payload_length(g->head, &len);
}

size_t sf_ws_guard_feed(sf_ws_guard *g, const uint8_t *data, size_t len)
{
    if (g->bad)
        return 0;
    size_t i = 0;
    size_t header_start = 0; /* in this piece; 0 also when the header began before it */
    while (i < len) {
        if (g->payload_left > 0) {
            uint64_t left = len - i;
            uint64_t skip = g->payload_left < left ? g->payload_left : left;
            g->payload_left -= skip;
            i += (size_t)skip;
            continue;
        }
        if (g->head_len == 0)
            header_start = i;
        g->head[g->head_len++] = data[i++];
        if (header_bad(g)) {
            g->bad = true;
            return header_start;
        }
        size_t mask = (g->head_len >= 2 && (g->head[1] & 0x80)) ? 4 : 0;
        if (g->head_len >= 2 && g->head_len == 2 + ext_size(g->head) + mask) {
            payload_length(g->head, &g->payload_left);
            g->head_len = 0;
        }
    }
    return len;
}
