/* SPDX-License-Identifier: MIT */
/* snapshot_io.c: the snapshot format's primitives. Integers are little-endian whatever the
 * machine, doubles are their IEEE 754 bits, and every byte before the trailing checksum is
 * folded into it, so a snapshot reads the same everywhere and a flipped byte is caught before
 * the restored fake is handed out. The checksum runs over whole buffers (8 bytes a step), not
 * field by field, in four lanes (format version 2): one chain of multiplies was a fifth of a
 * restore's time, four independent ones overlap. */
#include "snapshot_internal.h"
#include "timebound.h"

#include <stdarg.h>
#include <stdio.h>

#define SUM_START UINT64_C(0xcbf29ce484222325)
#define SUM_PRIME UINT64_C(0x100000001b3)

static uint64_t step(uint64_t h, uint64_t word)
{
    h = (h ^ word) * SUM_PRIME;
    return h ^ (h >> 32);
}

void sf__sum_init(sf__snap_sum *s)
{
    for (int i = 0; i < SF__SUM_LANES; i++)
        s->lane[i] = SUM_START;
    s->acc = s->total = s->words = 0;
    s->nacc = 0;
    s->lanes = SF__SUM_LANES;
}

static uint64_t word_at(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w); /* the words are little-endian whatever the machine */
#endif
    return w;
}

static void fold_word(sf__snap_sum *s, uint64_t w)
{
    uint64_t *lane = &s->lane[s->lanes == 1 ? 0 : s->words % SF__SUM_LANES];
    s->words++;
    *lane = step(*lane, w);
}

/* Whole words from p, four at a time once lane 0 is next: the lanes' chains are independent,
 * so the multiplies overlap. Returns the bytes left (< 8). */
static size_t fold_words(sf__snap_sum *s, const unsigned char *p, size_t n,
                         const unsigned char **end)
{
    for (; n >= 8 && (s->lanes == 1 || s->words % SF__SUM_LANES != 0); p += 8, n -= 8)
        fold_word(s, word_at(p));
    uint64_t a = s->lane[0], b = s->lane[1], c = s->lane[2], d = s->lane[3];
    for (; n >= 32; p += 32, n -= 32) {
        a = step(a, word_at(p));
        b = step(b, word_at(p + 8));
        c = step(c, word_at(p + 16));
        d = step(d, word_at(p + 24));
        s->words += 4;
    }
    s->lane[0] = a, s->lane[1] = b, s->lane[2] = c, s->lane[3] = d;
    for (; n >= 8; p += 8, n -= 8)
        fold_word(s, word_at(p));
    *end = p;
    return n;
}

void sf__sum_bytes(sf__snap_sum *s, const unsigned char *p, size_t n)
{
    s->total += n;
    while (n > 0 && s->nacc != 0) { /* finish a word begun by an earlier piece */
        s->acc |= (uint64_t)*p++ << (8 * s->nacc);
        n--;
        if (++s->nacc == 8) {
            fold_word(s, s->acc);
            s->acc = 0;
            s->nacc = 0;
        }
    }
    n = fold_words(s, p, n, &p);
    for (; n > 0; n--)
        s->acc |= (uint64_t)*p++ << (8 * s->nacc++);
}

uint64_t sf__sum_final(const sf__snap_sum *s)
{
    sf__snap_sum last = *s;
    if (last.nacc) /* a last partial word, zero-padded */
        fold_word(&last, last.acc);
    if (last.lanes == 1) /* version 1 */
        return step(last.lane[0], last.total);
    uint64_t h = SUM_START;
    for (int i = 0; i < SF__SUM_LANES; i++)
        h = step(h, last.lane[i]);
    return step(h, last.total);
}

/* ---- writing ---- */

void sf__sw_init(sf__snap_writer *w, sf_snapshot_write_fn fn, void *user)
{
    w->fn = fn;
    w->user = user;
    sf__sum_init(&w->sum);
    w->failed = false;
    w->len = w->hashed = 0;
}

static void flush(sf__snap_writer *w)
{
    sf__sum_bytes(&w->sum, w->buf + w->hashed, w->len - w->hashed);
    if (w->len && !w->failed && !w->fn(w->buf, w->len, w->user))
        w->failed = true;
    w->len = w->hashed = 0;
}

static void put(sf__snap_writer *w, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0 && !w->failed) {
        size_t room = sizeof w->buf - w->len, take = n < room ? n : room;
        memcpy(w->buf + w->len, b, take);
        w->len += take;
        b += take;
        n -= take;
        if (w->len == sizeof w->buf)
            flush(w);
    }
}

void sf__sw_bytes(sf__snap_writer *w, const void *p, size_t n) { put(w, p, n); }

void sf__sw_str(sf__snap_writer *w, const char *s)
{
    if (!s) {
        sf__sw_u32(w, SF__SNAP_NULL_STR);
        return;
    }
    size_t n = strlen(s);
    sf__sw_u32(w, (uint32_t)n);
    sf__sw_bytes(w, s, n);
}

void sf__sw_sid(sf__snap_writer *w, const char *sid)
{
    uint8_t packed[16];
    sf__sid_pack(sid, packed); /* every SID the fake keeps is lowercase hex */
    sf__sw_bytes(w, packed, 16);
}

bool sf__sw_finish(sf__snap_writer *w)
{
    sf__sum_bytes(&w->sum, w->buf + w->hashed, w->len - w->hashed);
    w->hashed = w->len;
    uint64_t sum = sf__sum_final(&w->sum);
    for (int i = 0; i < 8; i++) { /* the checksum itself is not summed */
        if (w->len == sizeof w->buf)
            flush(w);
        w->buf[w->len++] = (unsigned char)(sum >> (8 * i));
        w->hashed = w->len;
    }
    flush(w);
    return !w->failed;
}

/* ---- reading ---- */

void sf__sr_init(sf__snap_reader *r, sf_snapshot_read_fn fn, void *user)
{
    memset(r, 0, offsetof(sf__snap_reader, buf));
    r->fn = fn;
    r->user = user;
    r->data = r->buf;
    sf__sum_init(&r->sum);
}

void sf__sr_init_memory(sf__snap_reader *r, const void *data, size_t len)
{
    sf__sr_init(r, NULL, NULL);
    if (data) /* else the empty buffer stands in: no arithmetic on NULL */
        r->data = data;
    r->len = data ? len : 0;
}

/* Folds the bytes consumed since the last call into the checksum. */
static void sync_sum(sf__snap_reader *r)
{
    if (!r->sealed)
        sf__sum_bytes(&r->sum, r->data + r->hashed, r->pos - r->hashed);
    r->hashed = r->pos;
}

bool sf__sr_fail(sf__snap_reader *r, const char *fmt, ...)
{
    if (r->failed)
        return false;
    r->failed = true;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(r->why, sizeof r->why, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof r->why)
        snprintf(r->why + n, sizeof r->why - (size_t)n, " (byte %llu)",
                 (unsigned long long)(r->base + r->pos));
    return false;
}

/* The next piece of the snapshot into the buffer; false (failed) at its end. */
static bool refill(sf__snap_reader *r)
{
    sync_sum(r);
    r->base += r->len;
    r->pos = r->hashed = r->len = 0;
    if (r->fn) {
        r->len = r->fn(r->buf, sizeof r->buf, r->user);
        if (r->len > sizeof r->buf)
            r->len = 0; /* a read_fn that claims more than it was given */
    }
    return r->len > 0 || sf__sr_fail(r, "snapshot truncated");
}

bool sf__sr_take(sf__snap_reader *r, void *p, size_t n)
{
    unsigned char *out = p;
    if (r->failed)
        return false;
    while (n > 0) {
        if (r->pos == r->len && !refill(r))
            return false;
        size_t avail = r->len - r->pos, part = n < avail ? n : avail;
        memcpy(out, r->data + r->pos, part);
        r->pos += part;
        out += part;
        n -= part;
    }
    return true;
}

bool sf__sr_uint(sf__snap_reader *r, uint64_t *v, int bytes)
{
    unsigned char b[8];
    if (!sf__sr_take(r, b, (size_t)bytes))
        return false;
    *v = sf__le_get(b, bytes);
    return true;
}

bool sf__sr_bool(sf__snap_reader *r, bool *v)
{
    uint8_t b = 0;
    if (!sf__sr_u8(r, &b))
        return false;
    if (b > 1)
        return sf__sr_fail(r, "corrupt: a flag is %u", b);
    *v = b == 1;
    return true;
}

bool sf__sr_str(sf__snap_reader *r, char *out, size_t cap, bool *absent)
{
    uint32_t n;
    if (!sf__sr_u32(r, &n))
        return false;
    if (absent)
        *absent = n == SF__SNAP_NULL_STR;
    if (n == SF__SNAP_NULL_STR) {
        out[0] = '\0';
        return absent ? true : sf__sr_fail(r, "corrupt: a required string is absent");
    }
    if (n >= cap)
        return sf__sr_fail(r, "corrupt: a string of %u bytes (at most %zu)", n, cap - 1);
    if (!sf__sr_bytes(r, out, n))
        return false;
    out[n] = '\0';
    if (strlen(out) != n)
        return sf__sr_fail(r, "corrupt: a string holds a NUL byte");
    return true;
}

bool sf__sr_sid(sf__snap_reader *r, const char *prefix, char out[SF_SID_SIZE])
{
    uint8_t packed[16];
    if (!sf__sr_bytes(r, packed, 16))
        return false;
    sf__sid_unpack(packed, prefix, out);
    return true;
}

bool sf__sr_time(sf__snap_reader *r, sf_ms *v)
{
    if (!sf__sr_i64(r, v))
        return false;
    if (*v < SF_TIME_MIN_MS || *v > SF_TIME_MAX_MS)
        return sf__sr_fail(r, "corrupt: a time out of range");
    return true;
}

bool sf__sr_version(sf__snap_reader *r, uint32_t *version)
{
    if (!sf__sr_u32(r, version))
        return false;
    if (*version == 0 || *version > SF_SNAPSHOT_VERSION)
        return sf__sr_fail(r, "snapshot format version %u; this library reads versions 1 to %u",
                           *version, SF_SNAPSHOT_VERSION);
    /* nothing past the version is in the checksum yet: its words can still go to one lane */
    r->sum.lanes = *version == 1 ? 1 : SF__SUM_LANES;
    return true;
}

bool sf__sr_finish(sf__snap_reader *r)
{
    sync_sum(r);
    r->sealed = true;
    uint64_t expected = sf__sum_final(&r->sum), stored;
    if (!sf__sr_u64(r, &stored))
        return false;
    if (stored != expected)
        return sf__sr_fail(r, "checksum mismatch: the snapshot is corrupt");
    unsigned char extra;
    if (r->pos < r->len || (r->fn && r->fn(&extra, 1, r->user) > 0))
        return sf__sr_fail(r, "corrupt: bytes after the checksum");
    return true;
}
