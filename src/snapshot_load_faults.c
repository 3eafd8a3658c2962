/* SPDX-License-Identifier: MIT */
/* snapshot_load_faults.c: a restore's fault rules, error injections and journal, each
 * checked as sf_fault_add and sf_inject_error check them. */
#include "journal_params.h"
#include "snapshot_internal.h"

#include <math.h>

static bool time_ok(sf_ms t) { return t >= 0 && t <= INT64_C(1) << 40; }
static bool rate_ok(double r) { return r >= 0.0 && r <= 1.0; } /* false for NaN too */

static bool read_rule(sf__load_ctx *c, sf__rule *r)
{
    sf__snap_reader *in = c->r;
    sf_fault_params *p = &r->params;
    uint8_t scope;
    bool absent;
    if (!sf__sr_u32(in, &r->id) || !sf__sr_u8(in, &scope) ||
        !sf__sr_str(in, r->stream_sid, SF_SID_SIZE, &absent) || !sf__sr_u64(in, &p->subscriber) ||
        !sf__sr_f64(in, &p->drop_rate) || !sf__sr_f64(in, &p->duplicate_rate) ||
        !sf__sr_i64(in, &p->delay_ms) || !sf__sr_i64(in, &p->jitter_ms) ||
        !sf__sr_u32(in, &p->drop_next) || !sf__sr_i64(in, &p->expiry_lag_ms) ||
        !sf__load_account_ref(c, &r->account) || !sf__sr_u32(in, &r->drop_next_left) ||
        !sf__sr_u64(in, &r->hits))
        return false;
    p->scope = (sf_fault_scope)scope;
    p->stream_sid = scope == SF_SCOPE_STREAM ? r->stream_sid : NULL;
    p->account_sid = r->account ? r->account->sid : NULL;
    sf_fault_id last = c->fake->rule_count ? c->fake->rules[c->fake->rule_count - 1]->id : 0;
    bool stream_ok = scope == SF_SCOPE_STREAM ? !absent && sf_sid_is(r->stream_sid, "TO") : absent;
    if (scope > SF_SCOPE_SUBSCRIBER || !stream_ok || r->id <= last ||
        r->id >= c->fake->next_rule_id || !rate_ok(p->drop_rate) || !rate_ok(p->duplicate_rate) ||
        !time_ok(p->delay_ms) || !time_ok(p->jitter_ms) || !time_ok(p->expiry_lag_ms))
        return sf__sr_fail(in, "corrupt: fault rule %u", r->id);
    return true;
}

static bool load_rule(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    sf__rule tmp;
    memset(&tmp, 0, sizeof tmp);
    if (!read_rule(c, &tmp))
        return false;
    sf__subscriber *sub = NULL;
    if (tmp.params.scope == SF_SCOPE_SUBSCRIBER) {
        sub = sf__subscriber_get(fake, tmp.params.subscriber);
        if (!sub)
            return sf__sr_fail(c->r, "corrupt: rule %u names an unknown subscriber", tmp.id);
    }
    if (!sf__rule_reserve(fake, sub))
        return false;
    sf__rule *r = sf__malloc(fake, sizeof *r);
    if (!r)
        return false;
    *r = tmp;
    r->params.stream_sid = tmp.params.stream_sid ? r->stream_sid : NULL;
    sf__rule_link(fake, r, sub);
    return true;
}

static bool load_injection(sf__load_ctx *c, unsigned op, sf__injection ***tail)
{
    sf__injection tmp;
    uint32_t http, code;
    memset(&tmp, 0, sizeof tmp);
    if (!sf__sr_u32(c->r, &tmp.inj.count) || !sf__sr_u32(c->r, &http) || !sf__sr_u32(c->r, &code) ||
        !sf__sr_str(c->r, tmp.message, sizeof tmp.message, NULL) ||
        !sf__sr_bool(c->r, &tmp.inj.after_apply) || !sf__load_account_ref(c, &tmp.account))
        return false;
    if (tmp.inj.count < 1 || http < 400 || http > 599 || code > INT32_MAX)
        return sf__sr_fail(c->r, "corrupt: injected error of %s", sf_op_name((sf_op)op));
    sf__injection *n = sf__malloc(c->fake, sizeof *n);
    if (!n)
        return false;
    *n = tmp;
    n->inj.op = (sf_op)op;
    n->inj.http_status = (int)http;
    n->inj.code = (int)code;
    n->inj.message = n->message;
    n->inj.account_sid = n->account ? n->account->sid : NULL;
    n->next = NULL;
    **tail = n;
    *tail = &n->next;
    return true;
}

static bool load_injections(sf__load_ctx *c)
{
    uint32_t ops;
    if (!sf__sr_u32(c->r, &ops))
        return false;
    if (ops > SF_OP_COUNT)
        return sf__sr_fail(c->r, "corrupt: %u operations", ops);
    for (unsigned op = 0; op < ops; op++) {
        uint32_t n;
        sf__injection **tail = &c->fake->injections[op];
        if (!sf__sr_u32(c->r, &n))
            return false;
        for (uint32_t i = 0; i < n; i++)
            if (!load_injection(c, op, &tail))
                return false;
    }
    return true;
}

bool sf__load_rules(sf__load_ctx *c)
{
    uint32_t n;
    if (!sf__sr_u32(c->r, &n))
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (!load_rule(c))
            return false;
    return load_injections(c);
}

/* ---- the journal ---- */

/* An entry field by field: across a refill of the buffer, or to name what is wrong. */
static bool read_entry_fields(sf__load_ctx *c, sf__jentry *e, uint64_t prev_seq)
{
    sf__snap_reader *r = c->r;
    uint32_t code;
    const sf__account *a;
    memset(e, 0, sizeof *e);
    if (!sf__sr_u64(r, &e->seq) || !sf__sr_time(r, &e->t) || !sf__sr_i64(r, &e->until) ||
        !sf__sr_u64(r, &e->subscriber) || !sf__sr_u32(r, &e->rule) || !sf__sr_u32(r, &code) ||
        !sf__sr_u16(r, &e->status) || !sf__sr_u8(r, &e->kind) || !sf__sr_u8(r, &e->op) ||
        !sf__sr_u8(r, &e->flags) || !sf__sr_u8(r, &e->reason) ||
        !sf__sr_bytes(r, e->sids, sizeof e->sids) || !sf__load_account_ref(c, (sf__account **)&a) ||
        !sf__sr_u64(r, &e->note))
        return false;
    e->code = (int32_t)code;
    e->account = a;
    bool refused = e->kind == SF_JOURNAL_REFUSED; /* op: its method; reason: an sf_refusal */
    if (e->seq <= prev_seq || e->seq >= c->fake->journal.next_seq ||
        e->kind >= SF_JOURNAL_KIND_COUNT || /* a `call` entry's op is its call kind */
        e->op >= (e->kind == SF_JOURNAL_CALL ? SF__CALL_COUNT : SF_OP_COUNT) || e->flags > 63 ||
        e->reason > (refused ? SF_REFUSAL_COUNT - 1 : SF_UNSUBSCRIBE_QUEUE_FULL) ||
        (e->note && (e->kind != SF_JOURNAL_WARNING || e->note > c->fake->notes_written)))
        return sf__sr_fail(r, "corrupt: journal entry %llu", (unsigned long long)e->seq);
    return true;
}

#define ENTRY_BYTES 106 /* a saved journal entry */

/* An entry from its saved bytes at p in one piece: fields at fixed offsets, no bounds check
 * a field. false when any check fails (read_entry then reads it again, to say why). */
static bool decode_entry(const sf__load_ctx *c, const unsigned char *p, sf__jentry *e,
                         uint64_t prev_seq)
{
    uint32_t acct = (uint32_t)sf__le_get(p + 94, 4);
    e->seq = sf__le_get(p, 8);
    e->t = (sf_ms)sf__le_get(p + 8, 8);
    e->until = (sf_ms)sf__le_get(p + 16, 8);
    e->subscriber = sf__le_get(p + 24, 8);
    e->rule = (uint32_t)sf__le_get(p + 32, 4);
    e->code = (int32_t)(uint32_t)sf__le_get(p + 36, 4);
    e->status = (uint16_t)sf__le_get(p + 40, 2);
    e->kind = p[42];
    e->op = p[43];
    e->flags = p[44];
    e->reason = p[45];
    memcpy(e->sids, p + 46, sizeof e->sids);
    e->note = sf__le_get(p + 98, 8);
    e->account = acct && acct <= c->account_count ? c->accounts[acct - 1] : NULL;
    bool refused = e->kind == SF_JOURNAL_REFUSED;
    return e->t >= SF_TIME_MIN_MS && e->t <= SF_TIME_MAX_MS && acct <= c->account_count &&
           e->seq > prev_seq && e->seq < c->fake->journal.next_seq &&
           e->kind < SF_JOURNAL_KIND_COUNT &&
           e->op < (e->kind == SF_JOURNAL_CALL ? SF__CALL_COUNT : SF_OP_COUNT) && e->flags <= 63 &&
           e->reason <= (refused ? SF_REFUSAL_COUNT - 1 : SF_UNSUBSCRIBE_QUEUE_FULL) &&
           (!e->note || (e->kind == SF_JOURNAL_WARNING && e->note <= c->fake->notes_written));
}

static bool read_entry(sf__load_ctx *c, sf__jentry *e, uint64_t prev_seq)
{
    const unsigned char *p = sf__sr_here(c->r, ENTRY_BYTES);
    if (p && decode_entry(c, p, e, prev_seq))
        return true;
    if (p) /* not hashed yet (the checksum takes up to pos later): read it again */
        c->r->pos -= ENTRY_BYTES;
    return read_entry_fields(c, e, prev_seq);
}

/* The kept warning texts: ids within notes_written, each in its own slot, printable ASCII. */
static bool load_notes(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    uint32_t n;
    if (!sf__sr_u64(c->r, &fake->notes_written) || !sf__sr_u32(c->r, &n))
        return false;
    if (n > SF__NOTE_SLOTS)
        return sf__sr_fail(c->r, "corrupt: %u warning texts", n);
    if (n && !fake->notes) {
        fake->notes = sf__malloc(fake, SF__NOTE_SLOTS * sizeof *fake->notes);
        if (!fake->notes)
            return false;
        memset(fake->notes, 0, SF__NOTE_SLOTS * sizeof *fake->notes);
    }
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id;
        char text[SF_WARNING_SIZE];
        if (!sf__sr_u64(c->r, &id) || !sf__sr_str(c->r, text, sizeof text, NULL))
            return false;
        sf__note *slot = &fake->notes[id % SF__NOTE_SLOTS];
        bool printable = true;
        for (const char *p = text; *p; p++)
            printable = printable && *p >= 0x20 && *p < 0x7f;
        if (id == 0 || id > fake->notes_written || slot->id != 0 || !printable)
            return sf__sr_fail(c->r, "corrupt: warning text %llu", (unsigned long long)id);
        slot->id = id;
        memcpy(slot->text, text, sizeof text);
    }
    return true;
}

/* The ring at the size the entries will grow it to (256 doubled, up to the capacity) in one
 * allocation; when the snapshot is in memory, for no more entries than the bytes left hold. */
static bool reserve_ring(sf__load_ctx *c, uint64_t count)
{
    sf__journal *j = &c->fake->journal;
    uint64_t left = c->r->fn ? UINT64_MAX : (c->r->len - c->r->pos) / ENTRY_BYTES;
    uint64_t want = count < left ? count : left;
    size_t cap = 256;
    while (cap < want)
        cap *= 2;
    cap = cap > j->max ? j->max : cap;
    if (want == 0 || cap <= j->cap)
        return true;
    sf__jentry *ring = sf__realloc(c->fake, j->ring, cap * sizeof *ring);
    if (!ring)
        return false;
    j->ring = ring;
    j->cap = cap;
    return true;
}

bool sf__load_journal(sf__load_ctx *c)
{
    sf__journal *j = &c->fake->journal;
    uint64_t count, prev = 0;
    if (!sf__sr_u64(c->r, &j->next_seq) || !sf__sr_u64(c->r, &j->overwritten) || !load_notes(c) ||
        !sf__sr_u64(c->r, &count))
        return false;
    if (count > j->max)
        return sf__sr_fail(c->r, "corrupt: %llu journal entries (capacity %zu)",
                           (unsigned long long)count, j->max);
    if (!reserve_ring(c, count))
        return false;
    for (uint64_t i = 0; i < count; i++) {
        if (j->count == j->cap) {
            size_t cap = j->cap ? j->cap * 2 : 256;
            cap = cap > j->max ? j->max : cap;
            sf__jentry *ring = sf__realloc(c->fake, j->ring, cap * sizeof *ring);
            if (!ring)
                return false;
            j->ring = ring;
            j->cap = cap;
        }
        if (!read_entry(c, &j->ring[j->count], prev))
            return false;
        prev = j->ring[j->count++].seq;
    }
    return true;
}
