/* SPDX-License-Identifier: MIT */
/* test_ws_frame_guard.c: the frame-header guard in front of wslay
 * (fake_http/server/ws_frame_guard.h): good streams pass whole however they are split; a bad
 * header stops the stream at its first byte, or, when it arrives over several pieces, before
 * the byte that shows it bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "ws_frame_guard.h"

/* A client frame header (masked) with this length form, then len payload bytes. */
static size_t put_frame(uint8_t *out, bool fin, int opcode, size_t len, int form)
{
    size_t h = 0;
    out[h++] = (uint8_t)((fin ? 0x80 : 0) | opcode);
    if (form < 126) {
        out[h++] = (uint8_t)(0x80 | len);
    } else if (form == 126) {
        out[h++] = 0x80 | 126;
        out[h++] = (uint8_t)(len >> 8);
        out[h++] = (uint8_t)len;
    } else {
        out[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            out[h++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    memset(out + h, 0x5a, 4 + len); /* mask and payload */
    return h + 4 + len;
}

/* Feeds `data` in pieces of `piece` bytes; returns the bytes let through in all. */
static size_t feed_in_pieces(const uint8_t *data, size_t len, size_t piece, sf_ws_guard *g)
{
    size_t through = 0;
    for (size_t o = 0; o < len; o += piece) {
        size_t n = len - o < piece ? len - o : piece;
        size_t ok = sf_ws_guard_feed(g, data + o, n);
        through += ok;
        if (ok < n)
            break;
    }
    return through;
}

static void test_good_streams(void **state)
{
    (void)state;
    static uint8_t s[200000];
    size_t n = 0;
    n += put_frame(s + n, true, 2, 0, 0);
    n += put_frame(s + n, false, 1, 125, 0);
    n += put_frame(s + n, true, 9, 125, 0); /* a ping between fragments */
    n += put_frame(s + n, true, 0, 126, 126);
    n += put_frame(s + n, true, 10, 0, 0);
    n += put_frame(s + n, true, 2, 65535, 126);
    n += put_frame(s + n, true, 2, 65536, 127);
    n += put_frame(s + n, true, 8, 2, 0);
    size_t pieces[] = {1, 2, 3, 7, 13, 4096, sizeof s};
    for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
        sf_ws_guard g = {0};
        assert_int_equal(feed_in_pieces(s, n, pieces[i], &g), n);
        assert_false(g.bad);
        assert_int_equal(g.head_len, 0);
        assert_int_equal(g.payload_left, 0);
    }
}

static void test_bad_headers(void **state)
{
    (void)state;
    struct {
        bool fin;
        int opcode;
        size_t len;
        int form;
    } bad[] = {
        {true, 9, 126, 126},                      /* ping over 125 bytes */
        {false, 9, 5, 0},                         /* fragmented ping */
        {true, 10, 200, 126},                     /* pong over 125 bytes */
        {false, 8, 2, 0},                         /* fragmented close */
        {true, 8, 126, 126},                      /* close over 125 bytes */
        {true, 2, 5, 126},                        /* 16-bit length under 126 */
        {true, 2, 125, 126},   {true, 2, 5, 127}, /* 64-bit length under 65536 */
        {true, 2, 65535, 127},
    };
    static uint8_t s[70000 * 2];
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
        size_t good = put_frame(s, true, 2, 10, 0);
        size_t n = good + put_frame(s + good, bad[b].fin, bad[b].opcode, bad[b].len, bad[b].form);
        size_t pieces[] = {1, 2, 5, 11, 13, sizeof s};
        for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
            sf_ws_guard g = {0};
            /* what shows the header bad: its second byte, or the last of its length */
            size_t decisive = good + (bad[b].form < 126 || (bad[b].opcode & 8) ? 2
                                      : bad[b].form == 126                     ? 4
                                                                               : 10);
            size_t through = feed_in_pieces(s, n, pieces[i], &g);
            if (through < good || through >= decisive || (pieces[i] >= n && through != good))
                fail_msg("case %zu in pieces of %zu: %zu through", b, pieces[i], through);
            assert_true(g.bad);
            assert_int_equal(sf_ws_guard_feed(&g, s, 1), 0); /* stays bad */
        }
    }
    /* 64-bit length with its top bit set */
    uint8_t top[14] = {0x82, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 0};
    sf_ws_guard g = {0};
    assert_int_equal(sf_ws_guard_feed(&g, top, sizeof top), 0);
    assert_true(g.bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_streams),
        cmocka_unit_test(test_bad_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
