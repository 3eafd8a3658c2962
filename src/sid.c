/* SPDX-License-Identifier: MIT */
/* sid.c: deterministic SIDs: prefix + 32 lowercase hex digits from (seed, kind, counter). */
#include "internal.h"

#include <ctype.h>
#include <string.h>

static const char *const prefixes[SF__SID_KIND_COUNT] = {"AC", "IS", "TO", "TZ", "SK", ""};

static void hex64(uint64_t v, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[i] = digits[v & 0xf];
        v >>= 4;
    }
}

static void render(const sf_fake *fake, sf__sid_kind kind, uint64_t n, char *out, size_t plen,
                   uint8_t *packed)
{
    uint64_t hi = sf__hash3(fake->opts.seed, (uint64_t)kind + 1, 2 * n);
    uint64_t lo = sf__hash3(fake->opts.seed, (uint64_t)kind + 1, 2 * n + 1);
    if (out) { /* NULL: the bits only (a stream keeps no text) */
        memcpy(out, prefixes[kind], plen);
        hex64(hi, out + plen);
        hex64(lo, out + plen + 16);
        out[plen + 32] = '\0';
    }
    if (packed) /* the same 128 bits as bytes, for the journal */
        for (int i = 0; i < 8; i++) {
            packed[i] = (uint8_t)(hi >> (56 - 8 * i));
            packed[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
        }
}

void sf__sid_peek(const sf_fake *fake, sf__sid_kind kind, char out[SF_SID_SIZE])
{
    render(fake, kind, fake->sid_counter[kind], out, 2, NULL);
}

void sf__sid_peek_packed(const sf_fake *fake, sf__sid_kind kind, char out[SF_SID_SIZE],
                         uint8_t packed[16])
{
    render(fake, kind, fake->sid_counter[kind], out, 2, packed);
}

void sf__sid_commit(sf_fake *fake, sf__sid_kind kind) { fake->sid_counter[kind]++; }

void sf__secret_mint(sf_fake *fake, char out[33])
{
    render(fake, SF__SID_SECRET, fake->sid_counter[SF__SID_SECRET]++, out, 0, NULL);
}

bool sf_sid_is(const char *s, const char *prefix)
{
    if (!s || !prefix || strlen(prefix) != 2)
        return false;
    if (s[0] != prefix[0] || s[1] != prefix[1])
        return false;
    for (int i = 2; i < SF_SID_LEN; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return s[SF_SID_LEN] == '\0';
}

/* Whether 8 bytes are all lowercase hex digits, tested in one 64-bit word (every lookup by
 * SID tests its 32 digits). For a byte b < 0x80, b + (0x80 - lo) has its top bit set exactly
 * when b >= lo, and no sum carries into the next byte. */
static bool lower_hex8(const char *p)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), high = UINT64_C(0x8080808080808080);
    uint64_t w;
    memcpy(&w, p, 8);
    if (w & high)
        return false;
    uint64_t digit = (w + ones * (0x80 - '0')) & ~(w + ones * (0x80 - '9' - 1));
    uint64_t letter = (w + ones * (0x80 - 'a')) & ~(w + ones * (0x80 - 'f' - 1));
    return ((digit | letter) & high) == high;
}

bool sf__sid_shaped(const char *s, size_t len)
{
    if (len != SF_SID_LEN || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
        return false;
    return lower_hex8(s + 2) && lower_hex8(s + 10) && lower_hex8(s + 18) && lower_hex8(s + 26);
}

bool sf_sid_pattern(const char *s) { return s && sf__sid_shaped(s, strnlen(s, SF_SID_LEN + 1)); }

bool sf__valid_secret(const char *s)
{
    size_t n = strnlen(s, SF_SECRET_CAP);
    if (n == 0 || n >= SF_SECRET_CAP)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)s[i]))
            return false;
    return true;
}
