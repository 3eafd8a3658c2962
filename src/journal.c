/* SPDX-License-Identifier: MIT */
/* journal.c: a bounded ring of what happened (API calls and delivery fates), readable from C
 * and as JSON Lines with a fixed key order. The ring grows by doubling up to its capacity;
 * when growing fails it overwrites the oldest entry, so journaling never fails a call. */
#include "internal.h"
#include "journal_params.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const kind_names[SF_JOURNAL_KIND_COUNT] = {
#define SF__JOURNAL_NAME(name, wire) wire,
    SF_JOURNAL_KIND_MAP(SF__JOURNAL_NAME)
#undef SF__JOURNAL_NAME
};

const char *sf_journal_kind_name(sf_journal_kind kind)
{
    return (unsigned)kind < SF_JOURNAL_KIND_COUNT ? kind_names[kind] : NULL;
}

void sf__journal_init(sf__journal *j, size_t max)
{
    memset(j, 0, sizeof *j);
    j->max = max;
    j->next_seq = 1;
}

void sf__journal_release(sf_fake *fake, sf__journal *j)
{
    sf__free(fake, j->ring);
    j->ring = NULL;
    j->cap = j->head = j->count = 0;
}

/* A lowercase hex digit's value with bit 0x10 set; 0 for anything else (minted SIDs are
 * lowercase): one load both checks and converts a digit, so a SID packs in a tight loop
 * (every lookup of a stream by SID packs it). */
static const uint8_t hex_bits[256] = {
    ['0'] = 0x10, ['1'] = 0x11, ['2'] = 0x12, ['3'] = 0x13, ['4'] = 0x14, ['5'] = 0x15,
    ['6'] = 0x16, ['7'] = 0x17, ['8'] = 0x18, ['9'] = 0x19, ['a'] = 0x1a, ['b'] = 0x1b,
    ['c'] = 0x1c, ['d'] = 0x1d, ['e'] = 0x1e, ['f'] = 0x1f,
};

bool sf__sid_pack(const char *sid, uint8_t out[16])
{
    const unsigned char *p = (const unsigned char *)sid + 2;
    for (int i = 0; i < 16; i++) {
        unsigned hi = hex_bits[p[2 * i]];
        unsigned lo = hi ? hex_bits[p[2 * i + 1]] : 0; /* the string may end at a bad digit */
        if (!lo) {
            memset(out, 0, 16);
            return false;
        }
        out[i] = (uint8_t)((hi & 15) << 4 | (lo & 15));
    }
    return true;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* 8 lowercase hex digits (checked) as 4 bytes, in one 64-bit word: '0'..'9' are 0x30..0x39
 * and 'a'..'f' 0x61..0x66, so a digit's value is its low nibble, plus 9 when bit 6 is set. */
static void unhex8(const unsigned char *in, uint8_t *out)
{
    const uint64_t bytes = UINT64_C(0x00ff00ff00ff00ff);
    uint64_t w;
    memcpy(&w, in, 8);
    w = (w & UINT64_C(0x0f0f0f0f0f0f0f0f)) + 9 * (w >> 6 & UINT64_C(0x0101010101010101));
    w = ((w & bytes) << 4 | (w >> 8 & bytes)) & bytes; /* digit pairs as bytes, in 16 bits */
    w = (w | w >> 8) & UINT64_C(0x0000ffff0000ffff);   /* ... in 32 bits */
    w = (w | w >> 16) & UINT64_C(0x00000000ffffffff);  /* ... in the low 4 bytes */
    uint32_t four = (uint32_t)w;
    memcpy(out, &four, 4);
}
#else
static void unhex8(const unsigned char *in, uint8_t *out)
{
    for (int i = 0; i < 4; i++)
        out[i] = (uint8_t)((hex_bits[in[2 * i]] & 15) << 4 | (hex_bits[in[2 * i + 1]] & 15));
}
#endif

void sf__sid_pack_shaped(const char *sid, uint8_t out[16])
{
    const unsigned char *p = (const unsigned char *)sid + 2;
    for (int i = 0; i < 4; i++)
        unhex8(p + 8 * i, out + 4 * i);
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* 4 bytes as 8 lowercase hex digits, all at once in one 64-bit word: a restore renders every
 * stream's SID, and a digit at a time was a tenth of it. */
static void hex4(const uint8_t *in, char *out)
{
    const uint64_t low = UINT64_C(0x000f000f000f000f);
    uint32_t b;
    memcpy(&b, in, 4);
    uint64_t x = b;
    x = (x | x << 16) & UINT64_C(0x0000ffff0000ffff);
    x = (x | x << 8) & UINT64_C(0x00ff00ff00ff00ff); /* byte i in 16-bit lane i */
    x = (x >> 4 & low) | (x & low) << 8;             /* its high nibble first, then its low */
    uint64_t letters = (x + UINT64_C(0x0606060606060606)) >> 4 & UINT64_C(0x0101010101010101);
    x += UINT64_C(0x3030303030303030) + letters * 39; /* '0'..'9', or 'a'..'f' past 9 */
    memcpy(out, &x, 8);
}
#else
static void hex4(const uint8_t *in, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 4; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
}
#endif

void sf__sid_unpack(const uint8_t in[16], const char *prefix, char out[SF_SID_SIZE])
{
    out[0] = prefix[0];
    out[1] = prefix[1];
    for (int i = 0; i < 16; i += 4)
        hex4(in + i, out + 2 + 2 * i);
    out[SF_SID_LEN] = '\0';
}

static bool grow(sf_fake *fake, sf__journal *j)
{
    size_t cap = j->cap ? j->cap * 2 : 256;
    if (cap > j->max)
        cap = j->max;
    /* unroll the ring so the oldest entry is first */
    sf__jentry *ring = sf__ring_regrow(fake, j->ring, sizeof *ring, j->count, j->head, j->cap, cap);
    if (!ring)
        return false;
    sf__free(fake, j->ring);
    j->ring = ring;
    j->cap = cap;
    j->head = 0;
    return true;
}

sf__jentry *sf__journal_append(sf_fake *fake, sf_journal_kind kind)
{
    sf__journal *j = &fake->journal;
    if (j->max == 0)
        return NULL;
    if (j->count == j->cap && (j->cap == j->max || !grow(fake, j)) && j->cap == 0)
        return NULL; /* nothing held yet and no room could be made */
    sf__jentry *e;
    if (j->count < j->cap) {
        e = &j->ring[(j->head + j->count) % j->cap];
        j->count++;
    } else {
        e = &j->ring[j->head];
        j->head = (j->head + 1) % j->cap;
        j->overwritten++;
    }
    memset(e, 0, sizeof *e);
    e->seq = j->next_seq++;
    e->t = fake->now;
    e->kind = (uint8_t)kind;
    return e;
}

void sf__journal_packed(sf__jentry *e, const uint8_t sids[3][16], uint8_t known)
{
    memcpy(e->sids, sids, sizeof e->sids);
    e->flags |= known & (SF__J_HAS_SERVICE | SF__J_HAS_STREAM | SF__J_HAS_MESSAGE);
}

void sf__journal_sids(sf__jentry *e, const char *service, const char *stream, const char *message)
{
    const char *sids[3] = {service, stream, message};
    static const uint8_t flags[3] = {SF__J_HAS_SERVICE, SF__J_HAS_STREAM, SF__J_HAS_MESSAGE};
    for (int i = 0; i < 3; i++)
        if (sids[i] && sids[i][0] && sf__sid_pack(sids[i], e->sids[i]))
            e->flags |= flags[i];
}

void sf__journal_fate(sf_fake *fake, sf_journal_kind kind, const sf__message *msg,
                      sf_subscriber_id sub, const sf__rule *rule, sf_ms until, bool duplicate)
{
    sf__jentry *e = sf__journal_append(fake, kind);
    if (!e)
        return;
    memcpy(e->sids, msg->packed, sizeof e->sids);
    e->flags = SF__J_HAS_SERVICE | SF__J_HAS_STREAM | SF__J_HAS_MESSAGE;
    if (duplicate)
        e->flags |= SF__J_DUPLICATE;
    e->subscriber = sub;
    const sf__subscriber *who = sf__subscriber_get(fake, sub);
    e->account = who ? who->account : NULL;
    e->rule = rule ? rule->id : 0;
    e->until = until;
}

size_t sf_journal_count(const sf_fake *fake) { return fake ? fake->journal.count : 0; }

uint64_t sf_journal_overwritten(const sf_fake *fake)
{
    return fake ? fake->journal.overwritten : 0;
}

void sf_journal_clear(sf_fake *fake)
{
    if (!fake)
        return;
    fake->journal.head = fake->journal.count = 0;
}

static void expand_warning(const sf_fake *fake, const sf__jentry *in, sf_journal_entry *out)
{
    const char *text = sf__note_text(fake, in->note);
    snprintf(out->warning, sizeof out->warning, "%s", text ? text : "(text no longer kept)");
}

static void expand(const sf_fake *fake, const sf__jentry *in, sf_journal_entry *out)
{
    memset(out, 0, sizeof *out);
    out->seq = in->seq;
    out->t_ms = in->t;
    out->kind = (sf_journal_kind)in->kind;
    out->op = (sf_op)in->op;
    out->status = in->status;
    out->code = in->code;
    out->injected = (in->flags & SF__J_INJECTED) != 0;
    out->duplicate = (in->flags & SF__J_DUPLICATE) != 0;
    if (in->flags & SF__J_HAS_SERVICE)
        sf__sid_unpack(in->sids[0], "IS", out->service_sid);
    if (in->flags & SF__J_HAS_STREAM)
        sf__sid_unpack(in->sids[1], "TO", out->stream_sid);
    if (in->flags & SF__J_HAS_MESSAGE)
        sf__sid_unpack(in->sids[2], "TZ", out->message_sid);
    out->subscriber = in->subscriber;
    out->rule = in->rule;
    out->until_ms = in->until;
    if (in->account)
        memcpy(out->account_sid, in->account->sid, SF_SID_SIZE);
    if (out->kind == SF_JOURNAL_REFUSED) { /* its op and reason bytes hold its own fields */
        out->op = 0;
        out->refusal = (sf_refusal)in->reason;
        snprintf(out->method, sizeof out->method, "%s", sf__journal_method_name(in->op));
    } else {
        out->reason = (sf_unsubscribe_reason)in->reason;
    }
    if (in->kind == SF_JOURNAL_WARNING)
        expand_warning(fake, in, out);
    out->call = in->kind == SF_JOURNAL_CALL ? sf__call_name(in->op) : NULL;
}

static bool matches(const sf_journal_filter *f, const sf_journal_entry *e)
{
    if (!f)
        return true;
    if (f->kinds && !(f->kinds & (1u << e->kind)))
        return false;
    if (f->subscriber && f->subscriber != e->subscriber)
        return false;
    if (f->stream_sid && strcmp(f->stream_sid, e->stream_sid) != 0)
        return false;
    if (f->account_sid && strcmp(f->account_sid, e->account_sid) != 0)
        return false;
    return true;
}

bool sf_journal_next(const sf_fake *fake, const sf_journal_filter *filter, uint64_t *cursor,
                     sf_journal_entry *out)
{
    if (!fake || !cursor || !out)
        return false;
    const sf__journal *j = &fake->journal;
    while (*cursor < j->count) {
        expand(fake, &j->ring[(j->head + *cursor) % j->cap], out);
        (*cursor)++;
        if (matches(filter, out))
            return true;
    }
    return false;
}

uint64_t sf_journal_cursor_after(const sf_fake *fake, uint64_t seq)
{
    if (!fake)
        return 0;
    const sf__journal *j = &fake->journal;
    /* seqs only grow along the ring, so binary search the first one above `seq` */
    size_t lo = 0, hi = j->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->ring[(j->head + mid) % j->cap].seq <= seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void sf__journal_forget_account(sf_fake *fake, const sf__account *a)
{
    sf__journal *j = &fake->journal;
    size_t kept = 0;
    for (size_t i = 0; i < j->count; i++) {
        const sf__jentry *e = &j->ring[(j->head + i) % j->cap];
        if (e->account != a)
            j->ring[(j->head + kept++) % j->cap] = *e; /* kept <= i: never overwrites unread */
    }
    j->count = kept;
}

/* Appends to a bounded buffer, counting what would have been written. */
typedef struct out_buf {
    char *buf;
    size_t cap, len;
} out_buf;

static void put(out_buf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(out_buf *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *dst = o->len < o->cap ? o->buf + o->len : NULL;
    int n = vsnprintf(dst, dst ? o->cap - o->len : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->len += (size_t)n;
}

/* The warning text as a JSON string: printable ASCII (warn.c), so only '"' and '\\' need
 * escaping. At most SF_WARNING_SIZE * 2 bytes: a journal line stays under 1 KB. */
static void put_warning(out_buf *o, const char *text)
{
    char escaped[SF_WARNING_SIZE * 2];
    size_t n = 0;
    for (size_t i = 0; text[i] && i < SF_WARNING_SIZE - 1; i++) {
        unsigned char ch = (unsigned char)text[i];
        if (ch == '"' || ch == '\\')
            escaped[n++] = '\\';
        escaped[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    escaped[n] = '\0';
    put(o, ",\"warning\":\"%s\"", escaped);
}

static bool has_until(sf_journal_kind k)
{
    return k == SF_JOURNAL_DELIVERED || k == SF_JOURNAL_DELAYED || k == SF_JOURNAL_DUPLICATED;
}

/* A refused entry's method as written: only capitals (it is printed unescaped). */
static const char *method_text(const sf_journal_entry *e)
{
    size_t n = strnlen(e->method, sizeof e->method);
    if (n == 0 || n == sizeof e->method)
        return "OTHER";
    for (size_t i = 0; i < n; i++)
        if (e->method[i] < 'A' || e->method[i] > 'Z')
            return "OTHER";
    return e->method;
}

static void entry_json(const sf_journal_entry *e, out_buf *o)
{
    const char *kind = sf_journal_kind_name(e->kind);
    char time[25];
    sf__format_iso8601_ms(e->t_ms, time);
    put(o, "{\"seq\":%" PRIu64 ",\"t_ms\":%" PRId64 ",\"time\":\"%s\",\"kind\":\"%s\"", e->seq,
        e->t_ms, time, kind ? kind : "unknown");
    if (e->kind == SF_JOURNAL_REFUSED) {
        const char *reason = sf_refusal_name(e->refusal);
        put(o, ",\"method\":\"%s\",\"status\":%d,\"code\":%d,\"reason\":\"%s\"", method_text(e),
            e->status, e->code, reason ? reason : "unknown");
    }
    if (e->kind == SF_JOURNAL_WARNING) {
        const char *op = sf_op_name(e->op);
        put(o, ",\"op\":\"%s\"", op ? op : "unknown");
    }
    if (e->kind == SF_JOURNAL_CALL && e->call)
        put(o, ",\"call\":\"%s\"", e->call);
    if (e->kind == SF_JOURNAL_API) {
        const char *op = sf_op_name(e->op);
        put(o, ",\"op\":\"%s\",\"status\":%d,\"code\":%d,\"injected\":%s", op ? op : "unknown",
            e->status, e->code, e->injected ? "true" : "false");
    }
    if (e->service_sid[0])
        put(o, ",\"service_sid\":\"%s\"", e->service_sid);
    if (e->stream_sid[0])
        put(o, ",\"stream_sid\":\"%s\"", e->stream_sid);
    if (e->message_sid[0])
        put(o, ",\"message_sid\":\"%s\"", e->message_sid);
    if (e->subscriber)
        put(o, ",\"subscriber_id\":%" PRIu64, e->subscriber);
    if (e->rule)
        put(o, ",\"rule\":%u", e->rule);
    if (has_until(e->kind))
        put(o, ",\"until_ms\":%" PRId64, e->until_ms);
    if (e->kind != SF_JOURNAL_API && e->message_sid[0])
        put(o, ",\"duplicate\":%s", e->duplicate ? "true" : "false");
    const char *reason = sf_unsubscribe_reason_name(e->reason);
    if (e->kind == SF_JOURNAL_UNSUBSCRIBED && reason)
        put(o, ",\"reason\":\"%s\"", reason);
    if (e->kind == SF_JOURNAL_WARNING)
        put_warning(o, e->warning);
    put(o, "}");
}

size_t sf_journal_entry_json(const sf_journal_entry *entry, char *buf, size_t cap)
{
    out_buf o = {buf, buf ? cap : 0, 0};
    if (!entry)
        return 0;
    entry_json(entry, &o);
    return o.len;
}

size_t sf_journal_render(const sf_fake *fake, const sf_journal_filter *filter, char *buf,
                         size_t cap)
{
    out_buf o = {buf, buf ? cap : 0, 0};
    uint64_t cursor = 0;
    sf_journal_entry e;
    if (buf && cap)
        buf[0] = '\0';
    while (sf_journal_next(fake, filter, &cursor, &e)) {
        entry_json(&e, &o);
        put(&o, "\n");
    }
    return o.len;
}

sf_status sf_journal_write(const sf_fake *fake, const sf_journal_filter *filter, FILE *out,
                           sf_error *err)
{
    if (!fake || !out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL", fake ? "out" : "fake");
    uint64_t cursor = 0;
    sf_journal_entry e;
    char line[1024];
    while (sf_journal_next(fake, filter, &cursor, &e)) {
        size_t n = sf_journal_entry_json(&e, line, sizeof line);
        if (n >= sizeof line || fwrite(line, 1, n, out) != n || fputc('\n', out) == EOF)
            return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "journal write failed");
    }
    sf__ok(err);
    return SF_OK;
}
