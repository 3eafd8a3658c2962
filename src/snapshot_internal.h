/* SPDX-License-Identifier: MIT */
/* snapshot_internal.h: the snapshot format's primitives (little-endian integers, strings,
 * packed SIDs, a running FNV-1a checksum) shared by snapshot_*.c. docs/snapshot-format.md
 * describes the layout they make. */
#ifndef SF_SNAPSHOT_INTERNAL_H
#define SF_SNAPSHOT_INTERNAL_H

#include "internal.h"
#include "syncfake_snapshot.h"

#define SF__SNAP_MAGIC "SFSNAPSH"
#define SF__SNAP_BUF 16384
#define SF__SNAP_NULL_STR UINT32_MAX /* string length that stands for "absent" */

/* The checksum: 64-bit little-endian words of the bytes, word i folded into lane i mod 4
 * (see docs/snapshot-format.md), fed in pieces of any size. */
#define SF__SUM_LANES 4
typedef struct sf__snap_sum {
    uint64_t lane[SF__SUM_LANES];
    uint64_t acc, total, words; /* words: whole words folded so far */
    unsigned nacc;              /* bytes in acc, 0..7 */
    unsigned lanes;             /* 4; 1 for a version 1 snapshot (one chain) */
} sf__snap_sum;

void sf__sum_init(sf__snap_sum *s);
void sf__sum_bytes(sf__snap_sum *s, const unsigned char *p, size_t n);
uint64_t sf__sum_final(const sf__snap_sum *s);

typedef struct sf__snap_writer {
    sf_snapshot_write_fn fn;
    void *user;
    sf__snap_sum sum;
    bool failed;
    size_t len, hashed; /* buf[0..hashed) is in sum */
    unsigned char buf[SF__SNAP_BUF];
} sf__snap_writer;

void sf__sw_init(sf__snap_writer *w, sf_snapshot_write_fn fn, void *user);
void sf__sw_bytes(sf__snap_writer *w, const void *p, size_t n);
/* A string: u32 length then its bytes; NULL writes the absent marker. */
void sf__sw_str(sf__snap_writer *w, const char *s);
/* A SID as its 16 bytes (the prefix is implied by where it stands). */
void sf__sw_sid(sf__snap_writer *w, const char *sid);

/* Little-endian integers of 1, 2, 4 or 8 bytes whatever the machine (on a little-endian one
 * a plain copy, which compilers turn into one load or store). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline void sf__le_put(unsigned char *p, uint64_t v, int bytes) { memcpy(p, &v, bytes); }

static inline uint64_t sf__le_get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    memcpy(&v, p, bytes);
    return v;
}
#else
static inline void sf__le_put(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t sf__le_get(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
#endif

/* The integer writers and readers run once per field of millions of records: inline, with
 * the buffer's bounds checked once per field and the rest (a flush, a refill) out of line. */
static inline void sf__sw_uint(sf__snap_writer *w, uint64_t v, int bytes)
{
    if (sizeof w->buf - w->len > (size_t)bytes) { /* a full buffer is flushed by put */
        sf__le_put(w->buf + w->len, v, bytes);
        w->len += (size_t)bytes;
        return;
    }
    unsigned char b[8];
    sf__le_put(b, v, bytes);
    sf__sw_bytes(w, b, (size_t)bytes);
}

static inline void sf__sw_u8(sf__snap_writer *w, uint8_t v) { sf__sw_uint(w, v, 1); }
static inline void sf__sw_u16(sf__snap_writer *w, uint16_t v) { sf__sw_uint(w, v, 2); }
static inline void sf__sw_u32(sf__snap_writer *w, uint32_t v) { sf__sw_uint(w, v, 4); }
static inline void sf__sw_u64(sf__snap_writer *w, uint64_t v) { sf__sw_uint(w, v, 8); }
static inline void sf__sw_i64(sf__snap_writer *w, int64_t v) { sf__sw_uint(w, (uint64_t)v, 8); }

static inline void sf__sw_f64(sf__snap_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    sf__sw_u64(w, bits);
}
/* Writes the checksum and flushes; false when any write failed. */
bool sf__sw_finish(sf__snap_writer *w);

typedef struct sf__snap_reader {
    sf_snapshot_read_fn fn; /* NULL: the whole snapshot is in memory at `data` */
    void *user;
    sf__snap_sum sum;
    const unsigned char *data; /* buf, or the caller's memory (read in place) */
    size_t hashed;             /* data[hashed..pos) is consumed but not yet in sum */
    uint64_t base;             /* bytes consumed before data[0], for error messages */
    bool failed;
    bool sealed; /* at the trailer: nothing more goes into the checksum */
    char why[160];
    size_t pos, len;
    unsigned char buf[SF__SNAP_BUF];
} sf__snap_reader;

void sf__sr_init(sf__snap_reader *r, sf_snapshot_read_fn fn, void *user);
/* A reader of a snapshot held in memory: read in place, never copied. */
void sf__sr_init_memory(sf__snap_reader *r, const void *data, size_t len);
/* Marks the read as failed (the first reason is kept); returns false. */
bool sf__sr_fail(sf__snap_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The slow paths of the readers below: across a refill, or after a failure. */
bool sf__sr_take(sf__snap_reader *r, void *p, size_t n);
bool sf__sr_uint(sf__snap_reader *r, uint64_t *v, int bytes);

/* n bytes at the read position, consumed; NULL when they are not all in the buffer. */
static inline const unsigned char *sf__sr_here(sf__snap_reader *r, size_t n)
{
    if (r->len - r->pos < n || r->failed)
        return NULL;
    const unsigned char *p = r->data + r->pos;
    r->pos += n;
    return p;
}

static inline bool sf__sr_bytes(sf__snap_reader *r, void *p, size_t n)
{
    const unsigned char *in = sf__sr_here(r, n);
    if (!in)
        return sf__sr_take(r, p, n);
    memcpy(p, in, n);
    return true;
}

/* The readers of a fixed-width integer: `bytes` little-endian bytes as `type` (0 when the
 * read fails). */
#define SF__SR_INT(name, type, bytes)                                                              \
    static inline bool name(sf__snap_reader *r, type *v)                                           \
    {                                                                                              \
        uint64_t x = 0;                                                                            \
        const unsigned char *p = sf__sr_here(r, bytes);                                            \
        bool ok = p ? (x = sf__le_get(p, bytes), true) : sf__sr_uint(r, &x, bytes);                \
        *v = (type)x;                                                                              \
        return ok;                                                                                 \
    }
SF__SR_INT(sf__sr_u8, uint8_t, 1)
SF__SR_INT(sf__sr_u16, uint16_t, 2)
SF__SR_INT(sf__sr_u32, uint32_t, 4)
SF__SR_INT(sf__sr_u64, uint64_t, 8)
SF__SR_INT(sf__sr_i64, int64_t, 8)
#undef SF__SR_INT

static inline bool sf__sr_f64(sf__snap_reader *r, double *v)
{
    uint64_t bits = 0;
    bool ok = sf__sr_u64(r, &bits);
    memcpy(v, &bits, sizeof *v);
    return ok;
}

bool sf__sr_bool(sf__snap_reader *r, bool *v);
/* A string of at most cap-1 bytes with no NUL into out; *absent (may be NULL: then absent is
 * an error) tells the absent marker. */
bool sf__sr_str(sf__snap_reader *r, char *out, size_t cap, bool *absent);
/* A SID of 16 bytes rendered with `prefix` into out. */
bool sf__sr_sid(sf__snap_reader *r, const char *prefix, char out[SF_SID_SIZE]);
/* A time within the fake's range. */
bool sf__sr_time(sf__snap_reader *r, sf_ms *v);
/* The format version: one this library reads (its checksum then follows that version). */
bool sf__sr_version(sf__snap_reader *r, uint32_t *version);
/* Reads and checks the checksum, then that nothing follows. */
bool sf__sr_finish(sf__snap_reader *r);

/* The restore itself (snapshot_load.c): a new fake, or an error with nothing allocated. */
sf_status sf__snapshot_load(const sf_options *opts, sf__snap_reader *r, sf_fake **out,
                            sf_error *err);
/* The parts of a restore after the streams (snapshot_load_queue.c). */
typedef struct sf__load_ctx {
    sf_fake *fake;
    sf__snap_reader *r;
    sf__account **accounts; /* by index, as saved */
    size_t account_count;
    sf__service **services;
    size_t service_count;
    sf__message **messages; /* in ordinal order; each holds one reference of the loader */
    size_t message_count;
} sf__load_ctx;
bool sf__load_account_ref(sf__load_ctx *c, sf__account **out);
/* A saved timer into t (due, seq); *armed false when it was idle. */
bool sf__load_timer(sf__load_ctx *c, sf__timer *t, bool *armed);
bool sf__load_queue(sf__load_ctx *c);
/* Fault rules and error injections (snapshot_load_faults.c). */
bool sf__load_rules(sf__load_ctx *c);
bool sf__load_journal(sf__load_ctx *c);
void sf__load_ctx_release(sf__load_ctx *c);

/* The callback of a restored subscriber not re-attached yet: does nothing. */
void sf__snapshot_placeholder(sf_fake *fake, const sf_event *event, void *user);

#endif
