/* SPDX-License-Identifier: MIT */
/* snapshot_load_queue.c: the second half of a restore: messages held by deliveries,
 * subscribers (as placeholders) with their parked deliveries, the retired queue, queued
 * deliveries, fault rules, error injections and the journal. Counters that other code
 * trusts (in-flight and parked counts, pending deliveries, a stream's subscriber and
 * impaired counts) are recomputed from what is linked, never taken from the file. */
#include "snapshot_internal.h"

#include <math.h>

static uint64_t ordinal_at(const void *messages, size_t i)
{
    return ((sf__message *const *)messages)[i]->ordinal;
}

static sf__message *find_message(sf__load_ctx *c, uint64_t ordinal)
{
    size_t lo = sf__lower_bound(c->messages, c->message_count, ordinal, ordinal_at);
    if (lo < c->message_count && c->messages[lo]->ordinal == ordinal)
        return c->messages[lo];
    sf__sr_fail(c->r, "corrupt: unknown message %llu", (unsigned long long)ordinal);
    return NULL;
}

static bool load_message(sf__load_ctx *c, size_t *cap)
{
    sf__snap_reader *r = c->r;
    sf__message head;
    uint32_t len;
    memset(&head, 0, sizeof head);
    if (!sf__sr_u64(r, &head.ordinal) || !sf__sr_u64(r, &head.stream_key) ||
        !sf__sr_u64(r, &head.draw_key) || !sf__sr_u64(r, &head.publisher) ||
        !sf__sr_time(r, &head.published) || !sf__sr_bytes(r, head.packed, sizeof head.packed) ||
        !sf__sr_u32(r, &len))
        return false;
    if (len > c->fake->opts.limits.max_data_bytes ||
        (c->message_count && c->messages[c->message_count - 1]->ordinal >= head.ordinal))
        return sf__sr_fail(r, "corrupt: message %llu", (unsigned long long)head.ordinal);
    sf__message **messages =
        sf__array_grow(c->fake, c->messages, cap, c->message_count + 1, sizeof *messages, 16);
    if (!messages)
        return false;
    c->messages = messages;
    sf__message *m = sf__malloc(c->fake, sizeof *m + len + 1);
    if (!m)
        return false;
    *m = head;
    m->refs = 1; /* the loader's, dropped by sf__load_ctx_release */
    m->len = len;
    m->data = (char *)(m + 1);
    m->data[len] = '\0';
    sf__sid_unpack(m->packed[0], "IS", m->service_sid);
    sf__sid_unpack(m->packed[1], "TO", m->stream_sid);
    sf__sid_unpack(m->packed[2], "TZ", m->sid);
    c->messages[c->message_count++] = m;
    return sf__sr_bytes(r, m->data, len);
}

static sf__delivery *new_delivery(sf__load_ctx *c, sf__message *m, sf__subscriber *sub,
                                  bool duplicate)
{
    sf__delivery *d = sf__malloc(c->fake, sizeof *d);
    if (!d)
        return NULL;
    memset(d, 0, sizeof *d);
    d->msg = m;
    m->refs++;
    d->sub = sub;
    d->duplicate = duplicate;
    d->timer.slot = SF__TIMER_IDLE;
    d->timer.kind = SF__TIMER_DELIVERY;
    return d;
}

static bool load_parked(sf__load_ctx *c, sf__subscriber *sub)
{
    uint64_t n;
    if (!sf__sr_u64(c->r, &n))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t ordinal;
        bool dup;
        if (!sf__sr_u64(c->r, &ordinal) || !sf__sr_bool(c->r, &dup))
            return false;
        sf__message *m = find_message(c, ordinal);
        sf__delivery *d = m ? new_delivery(c, m, sub, dup) : NULL;
        if (!d)
            return false;
        if (sub->parked_tail)
            sub->parked_tail->next = d;
        else
            sub->parked_head = d;
        sub->parked_tail = d;
        sub->stats.parked++;
    }
    return true;
}

/* Attaches a restored subscriber at the tail of its stream (ids come in order). */
static bool attach(sf__load_ctx *c, sf__subscriber *sub)
{
    sf__stream *s = sf__find_stream_sid(c->fake, sub->stream_sid);
    if (!s)
        return sf__sr_fail(c->r, "corrupt: subscriber %llu on unknown stream",
                           (unsigned long long)sub->id);
    sub->stream = s;
    sf__subscriber_link(s, sub);
    return true;
}

static bool read_subscriber(sf__load_ctx *c, sf__subscriber *sub, uint8_t *flags, bool *armed)
{
    sf__snap_reader *r = c->r;
    uint8_t reason;
    if (!sf__sr_u64(r, &sub->id) || !sf__sr_u8(r, flags) || !sf__sr_sid(r, "TO", sub->stream_sid) ||
        !sf__sr_u64(r, &sub->client_id) || !sf__sr_u8(r, &reason))
        return false;
    if ((*flags & 32) && !sf__sr_sid(r, "IS", sub->notice_service))
        return false;
    if (!sf__load_timer(c, &sub->notice, armed) || !sf__sr_u64(r, &sub->stats.delivered) ||
        !sf__sr_u64(r, &sub->stats.duplicated) || !sf__sr_u64(r, &sub->stats.dropped) ||
        !sf__sr_u64(r, &sub->stats.lost) || !sf__load_account_ref(c, &sub->account))
        return false;
    sf_subscriber_id prev = c->fake->sub_count ? c->fake->subs[c->fake->sub_count - 1]->id : 0;
    if (*flags > 63 || reason > SF_REMOVED_EXPIRED || sub->id <= prev ||
        sub->id > c->fake->last_sub_id || (*armed && !(*flags & 32)))
        return sf__sr_fail(r, "corrupt: subscriber %llu", (unsigned long long)sub->id);
    sub->notice_reason = (sf_removed_reason)reason;
    sub->skip_local = *flags >> 1 & 1;
    sub->held = *flags >> 2 & 1;
    sub->disconnected = *flags >> 3 & 1;
    sub->released = *flags >> 4 & 1;
    return true;
}

static bool load_subscriber(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    if (!sf__subscribers_reserve(fake))
        return false;
    sf__subscriber *sub = sf__malloc(fake, sizeof *sub);
    if (!sub)
        return false;
    sf__subscriber_init(sub);
    sub->fn = sf__snapshot_placeholder;
    uint8_t flags;
    bool armed;
    if (!read_subscriber(c, sub, &flags, &armed) ||
        (armed && !sf__timerq_reserve(fake, &fake->timers))) {
        sf__free(fake, sub);
        return false;
    }
    fake->subs[fake->sub_count++] = sub; /* from here on teardown frees it */
    memcpy(sub->stats.stream_sid, sub->stream_sid, SF_SID_SIZE);
    sub->stats.held = sub->held;
    sub->stats.connected = !sub->disconnected;
    if (armed)
        sf__timerq_restore(&fake->timers, &sub->notice, sub->notice.due, sub->notice.seq);
    if ((flags & 1) && !attach(c, sub))
        return false;
    return load_parked(c, sub);
}

static bool load_retired(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    uint64_t n;
    if (!sf__sr_u64(c->r, &n))
        return false;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t id;
        if (!sf__sr_u64(c->r, &id))
            return false;
        sf__subscriber *sub = sf__subscriber_get(fake, id);
        bool queued = sub && (sub->retired_next || fake->retired_tail == sub);
        if (!sub || !sub->released || queued)
            return sf__sr_fail(c->r, "corrupt: retired subscriber %llu", (unsigned long long)id);
        sf__subscriber_queue_retired(fake, sub);
    }
    return true;
}

static bool load_delivery(sf__load_ctx *c)
{
    sf_fake *fake = c->fake;
    uint64_t ordinal, id;
    bool dup;
    sf__timer t;
    if (!sf__sr_u64(c->r, &ordinal) || !sf__sr_u64(c->r, &id) || !sf__sr_bool(c->r, &dup) ||
        !sf__sr_time(c->r, &t.due) || !sf__sr_u64(c->r, &t.seq))
        return false;
    sf__subscriber *sub = sf__subscriber_get(fake, id);
    sf__message *m = find_message(c, ordinal);
    if (!sub || t.seq >= fake->timers.next_seq)
        return sf__sr_fail(c->r, "corrupt: delivery of message %llu", (unsigned long long)ordinal);
    if (!m || !sf__timerq_reserve(fake, &fake->timers))
        return false;
    sf__delivery *d = new_delivery(c, m, sub, dup);
    if (!d)
        return false;
    sub->stats.in_flight++;
    fake->pending_deliveries++;
    sf__timerq_restore(&fake->timers, &d->timer, t.due, t.seq);
    return true;
}

bool sf__load_queue(sf__load_ctx *c)
{
    uint64_t n;
    size_t cap = 0;
    if (!sf__sr_u64(c->r, &n))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (!load_message(c, &cap))
            return false;
    if (!sf__sr_u64(c->r, &n))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (!load_subscriber(c))
            return false;
    if (!load_retired(c) || !sf__sr_u64(c->r, &n))
        return false;
    for (uint64_t i = 0; i < n; i++)
        if (!load_delivery(c))
            return false;
    return sf__load_rules(c);
}

void sf__load_ctx_release(sf__load_ctx *c)
{
    for (size_t i = 0; i < c->message_count; i++)
        sf__message_unref(c->fake, c->messages[i]);
    sf__free(c->fake, c->messages);
    sf__free(c->fake, c->accounts);
    sf__free(c->fake, c->services);
    c->messages = NULL;
    c->accounts = NULL;
    c->services = NULL;
}
