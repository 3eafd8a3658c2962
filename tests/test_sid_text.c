/* SPDX-License-Identifier: MIT */
/* test_sid_text.c: a SID's text and its 16 packed bytes (src/sid.c, src/journal.c). The
 * shape test and the packing work on 8 digits at a time; every byte value at every position
 * is checked against the rule ("[A-Z]{2}[a-f0-9]{32}"), and packing against its inverse.
 * White-box: these are internal (internal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

static const char VALID[] = "TO0123456789abcdef0123456789abcdef";

static bool lower_hex(int c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

static void every_byte_at_every_digit_follows_the_pattern(void **state)
{
    (void)state;
    char sid[SF_SID_SIZE];
    uint8_t packed[16];
    for (int at = 2; at < SF_SID_LEN; at++)
        for (int c = 1; c < 256; c++) {
            memcpy(sid, VALID, SF_SID_SIZE);
            sid[at] = (char)c;
            bool want = lower_hex(c);
            assert_int_equal(sf__sid_shaped(sid, SF_SID_LEN), want);
            assert_int_equal(sf_sid_pattern(sid), want);
            assert_int_equal(sf__sid_pack(sid, packed), want);
        }
}

static void the_prefix_is_two_capital_letters(void **state)
{
    (void)state;
    char sid[SF_SID_SIZE];
    for (int at = 0; at < 2; at++)
        for (int c = 1; c < 256; c++) {
            memcpy(sid, VALID, SF_SID_SIZE);
            sid[at] = (char)c;
            assert_int_equal(sf__sid_shaped(sid, SF_SID_LEN), c >= 'A' && c <= 'Z');
        }
    assert_false(sf__sid_shaped(VALID, SF_SID_LEN - 1));
    assert_false(sf__sid_shaped(VALID, SF_SID_LEN + 1));
}

static uint64_t next_draw(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random bits: rendered, then packed both ways, give the bits back. */
static void packing_inverts_rendering(void **state)
{
    (void)state;
    uint64_t draw = 0x2545f4914f6cdd1du;
    for (int round = 0; round < 2000; round++) {
        uint8_t bits[16], checked[16], fast[16];
        for (int i = 0; i < 16; i += 8) {
            uint64_t v = next_draw(&draw);
            memcpy(bits + i, &v, 8);
        }
        if (round < 16) /* the extremes of every nibble */
            memset(bits, round % 2 ? 0xff : round * 0x11, 16);
        char sid[SF_SID_SIZE];
        sf__sid_unpack(bits, "TO", sid);
        assert_true(sf__sid_shaped(sid, strlen(sid)));
        assert_true(sf__sid_pack(sid, checked));
        sf__sid_pack_shaped(sid, fast);
        assert_memory_equal(checked, bits, 16);
        assert_memory_equal(fast, bits, 16);
    }
}

/* The checked packing reads no further than a bad digit: a short string ends there. */
static void a_short_string_packs_to_nothing(void **state)
{
    (void)state;
    uint8_t packed[16];
    memset(packed, 0x5a, sizeof packed);
    assert_false(sf__sid_pack("TO0123", packed));
    for (int i = 0; i < 16; i++)
        assert_int_equal(packed[i], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_byte_at_every_digit_follows_the_pattern),
        cmocka_unit_test(the_prefix_is_two_capital_letters),
        cmocka_unit_test(packing_inverts_rendering),
        cmocka_unit_test(a_short_string_packs_to_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
