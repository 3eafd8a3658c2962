/* SPDX-License-Identifier: MIT */
/* snapshot_save.c: writes a fake's whole state (docs/snapshot-format.md). Everything is
 * written in an order that depends only on the state, never on addresses: tables in their
 * insertion order, messages by ordinal, queued events by (due, seq). */
#include "snapshot_internal.h"

#include <stdlib.h>

/* Address -> position in the file, for references between records. */
typedef struct ref_entry {
    const void *ptr;
    uint32_t index;
} ref_entry;

typedef struct save_ctx {
    sf_fake *fake;
    sf__snap_writer *w;
    ref_entry *accounts, *services;
    size_t account_count, service_count;
    sf__message **messages; /* in ordinal order, each once */
    size_t message_count;
    sf__delivery **queued; /* in (due, seq) order */
    size_t queued_count;
} save_ctx;

static int by_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)((const ref_entry *)a)->ptr;
    uintptr_t y = (uintptr_t)((const ref_entry *)b)->ptr;
    return (x > y) - (x < y);
}

static uint32_t ref_of(const ref_entry *table, size_t n, const void *ptr)
{
    ref_entry key = {ptr, 0};
    const ref_entry *e = bsearch(&key, table, n, sizeof *table, by_ptr);
    return e ? e->index : UINT32_MAX;
}

/* An account reference: 0 for none, else its position + 1. */
static void put_account_ref(save_ctx *c, const sf__account *a)
{
    sf__sw_u32(c->w, a ? ref_of(c->accounts, c->account_count, a) + 1 : 0);
}

static void put_timer(sf__snap_writer *w, const sf__timer *t)
{
    bool armed = sf__timer_armed(t);
    sf__sw_u8(w, armed);
    if (armed) {
        sf__sw_i64(w, t->due);
        sf__sw_u64(w, t->seq);
    }
}

static void save_options(sf__snap_writer *w, const sf_fake *fake)
{
    const sf_options *o = &fake->opts;
    const sf_limits *l = &o->limits;
    sf__sw_u64(w, o->seed);
    sf__sw_u8(w, (uint8_t)o->clock);
    sf__sw_i64(w, o->manual_start_ms);
    sf__sw_str(w, fake->base_url_copy);
    sf__sw_u64(w, o->journal_capacity);
    sf__sw_str(w, fake->account_sid_copy);
    sf__sw_str(w, fake->auth_token_copy);
    sf__sw_u64(w, l->max_data_bytes);
    sf__sw_u32(w, l->publish_rate_per_s);
    sf__sw_u32(w, l->publish_burst);
    sf__sw_u64(w, l->unique_name_max);
    sf__sw_i64(w, l->ttl_max_s);
    sf__sw_u32(w, l->page_size_default);
    sf__sw_u32(w, l->page_size_max);
    sf__sw_u64(w, l->friendly_name_max);
    sf__sw_u64(w, l->webhook_url_max);
    sf__sw_i64(w, l->debouncing_window_min_ms);
    sf__sw_i64(w, l->debouncing_window_max_ms);
}

static void save_counters(sf__snap_writer *w, const sf_fake *fake)
{
    sf__sw_i64(w, fake->now);
    sf__sw_u64(w, fake->next_seq);
    for (int k = 0; k < SF__SID_KIND_COUNT; k++)
        sf__sw_u64(w, fake->sid_counter[k]);
    sf__sw_u64(w, fake->generation);
    sf__sw_u64(w, fake->fresh_next_seq);
    for (int k = 0; k < SF__SID_KIND_COUNT; k++)
        sf__sw_u64(w, fake->fresh_sid_counter[k]);
    sf__sw_u64(w, fake->last_sub_id);
    sf__sw_u32(w, fake->next_rule_id);
    sf__sw_u64(w, fake->timers.next_seq);
}

static bool save_accounts(save_ctx *c)
{
    sf_fake *fake = c->fake;
    size_t n = HASH_COUNT(fake->accounts), i = 0, default_index = 0;
    c->accounts = sf__malloc(fake, n * sizeof *c->accounts);
    if (!c->accounts)
        return false;
    sf__sw_u32(c->w, (uint32_t)n);
    for (sf__account *a = fake->accounts; a; a = a->hh.next, i++) {
        c->accounts[i] = (ref_entry){a, (uint32_t)i};
        if (a == fake->default_account)
            default_index = i;
        sf__sw_sid(c->w, a->sid);
        sf__sw_str(c->w, a->auth_token);
        sf__sw_u64(c->w, a->seq);
    }
    sf__sw_u32(c->w, (uint32_t)default_index);
    c->account_count = n;
    qsort(c->accounts, n, sizeof *c->accounts, by_ptr);
    sf__sw_u32(c->w, (uint32_t)HASH_COUNT(fake->api_keys));
    for (sf__api_key *k = fake->api_keys; k; k = k->hh.next) {
        sf__sw_sid(c->w, k->sid);
        sf__sw_str(c->w, k->secret);
        put_account_ref(c, k->account);
    }
    return true;
}

static bool save_services(save_ctx *c)
{
    sf_fake *fake = c->fake;
    size_t n = HASH_COUNT(fake->services), i = 0;
    c->services = sf__malloc(fake, n * sizeof *c->services);
    if (!c->services)
        return false;
    sf__sw_u32(c->w, (uint32_t)n);
    for (sf__service *s = fake->services; s; s = s->hh.next, i++) {
        c->services[i] = (ref_entry){s, (uint32_t)i};
        sf__sw_bytes(c->w, s->packed, 16);
        put_account_ref(c, s->account);
        sf__sw_str(c->w, s->friendly_name);
        sf__sw_str(c->w, s->webhook_url);
        sf__sw_u8(c->w,
                  (uint8_t)(s->webhooks_from_rest_enabled | s->reachability_webhooks_enabled << 1 |
                            s->acl_enabled << 2 | s->reachability_debouncing_enabled << 3));
        sf__sw_i64(c->w, s->reachability_debouncing_window);
        sf__sw_i64(c->w, s->date_created);
        sf__sw_i64(c->w, s->date_updated);
        sf__sw_u64(c->w, s->order.key);
    }
    c->service_count = n;
    qsort(c->services, n, sizeof *c->services, by_ptr);
    return true;
}

/* Service by service as saved, each one's streams in creation order: the order a restore
 * checks and rebuilds, so a restored fake saves the same bytes. */
static void save_streams(save_ctx *c)
{
    sf__snap_writer *w = c->w;
    uint64_t count = 0; /* what is written below, whatever the SID table holds */
    for (sf__service *svc = c->fake->services; svc; svc = svc->hh.next)
        count += sf__order_count(&svc->streams);
    sf__sw_u64(w, count);
    uint32_t ref = 0;
    for (sf__service *svc = c->fake->services; svc; svc = svc->hh.next, ref++)
        for (sf__order_node *n = svc->streams.head; n; n = n->next) {
            const sf__stream *s = SF__CONTAINER_OF(n, sf__stream, order);
            sf__sw_bytes(w, s->packed, 16);
            sf__sw_u32(w, ref);
            sf__sw_str(w, s->name ? s->name->text : NULL);
            sf__sw_i64(w, s->date_created);
            sf__sw_i64(w, s->date_updated);
            sf__sw_i64(w, s->date_expires);
            sf__sw_u64(w, s->bucket.milli_tokens);
            sf__sw_i64(w, s->bucket.refilled_at);
            sf__sw_u8(w, s->lagging);
            put_timer(w, &s->expiry);
            sf__sw_u64(w, s->order.key);
            sf__sw_u64(w, s->messages_published);
        }
}

static int by_ordinal(const void *a, const void *b)
{
    uint64_t x = (*(sf__message *const *)a)->ordinal, y = (*(sf__message *const *)b)->ordinal;
    return (x > y) - (x < y);
}

static int by_due(const void *a, const void *b)
{
    const sf__timer *x = &(*(sf__delivery *const *)a)->timer;
    const sf__timer *y = &(*(sf__delivery *const *)b)->timer;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Every queued delivery in (due, seq) order, and every message a delivery holds, once. */
static bool collect_deliveries(save_ctx *c)
{
    sf_fake *fake = c->fake;
    size_t parked = 0;
    for (size_t i = 0; i < fake->sub_count; i++)
        for (sf__delivery *d = fake->subs[i]->parked_head; d; d = d->next)
            parked++;
    size_t cap = fake->pending_deliveries + parked;
    c->queued = sf__malloc(fake, fake->pending_deliveries * sizeof *c->queued);
    c->messages = sf__malloc(fake, cap * sizeof *c->messages);
    if (!c->queued || !c->messages)
        return false;
    size_t nq = 0, nm = 0;
    for (size_t i = 0; i < sf__timerq_count(&fake->timers); i++) {
        sf__timer *t = sf__timerq_at(&fake->timers, i);
        if (t->kind != SF__TIMER_DELIVERY || nq == fake->pending_deliveries)
            continue;
        c->queued[nq] = SF__CONTAINER_OF(t, sf__delivery, timer);
        c->messages[nm++] = c->queued[nq++]->msg;
    }
    for (size_t i = 0; i < fake->sub_count; i++)
        for (sf__delivery *d = fake->subs[i]->parked_head; d && nm < cap; d = d->next)
            c->messages[nm++] = d->msg;
    qsort(c->queued, nq, sizeof *c->queued, by_due);
    qsort(c->messages, nm, sizeof *c->messages, by_ordinal);
    size_t unique = 0;
    for (size_t i = 0; i < nm; i++)
        if (unique == 0 || c->messages[unique - 1] != c->messages[i])
            c->messages[unique++] = c->messages[i];
    c->queued_count = nq;
    c->message_count = unique;
    return true;
}

static void save_messages(save_ctx *c)
{
    sf__sw_u64(c->w, c->message_count);
    for (size_t i = 0; i < c->message_count; i++) {
        const sf__message *m = c->messages[i];
        sf__sw_u64(c->w, m->ordinal);
        sf__sw_u64(c->w, m->stream_key);
        sf__sw_u64(c->w, m->draw_key);
        sf__sw_u64(c->w, m->publisher);
        sf__sw_i64(c->w, m->published);
        sf__sw_bytes(c->w, m->packed, sizeof m->packed);
        sf__sw_u32(c->w, (uint32_t)m->len);
        sf__sw_bytes(c->w, m->data, m->len);
    }
}

static void save_subscriber(save_ctx *c, const sf__subscriber *sub)
{
    sf__snap_writer *w = c->w;
    sf__sw_u64(w, sub->id);
    sf__sw_u8(w, (uint8_t)((sub->stream != NULL) | sub->skip_local << 1 | sub->held << 2 |
                           sub->disconnected << 3 | sub->released << 4 |
                           (sub->notice_service[0] != 0) << 5));
    sf__sw_sid(w, sub->stream_sid);
    sf__sw_u64(w, sub->client_id);
    sf__sw_u8(w, (uint8_t)sub->notice_reason);
    if (sub->notice_service[0])
        sf__sw_sid(w, sub->notice_service);
    put_timer(w, &sub->notice);
    sf__sw_u64(w, sub->stats.delivered);
    sf__sw_u64(w, sub->stats.duplicated);
    sf__sw_u64(w, sub->stats.dropped);
    sf__sw_u64(w, sub->stats.lost);
    put_account_ref(c, sub->account);
    uint64_t parked = 0;
    for (const sf__delivery *d = sub->parked_head; d; d = d->next)
        parked++;
    sf__sw_u64(w, parked);
    for (const sf__delivery *d = sub->parked_head; d; d = d->next) {
        sf__sw_u64(w, d->msg->ordinal);
        sf__sw_u8(w, d->duplicate);
    }
}

static void save_subscribers(save_ctx *c)
{
    sf_fake *fake = c->fake;
    sf__sw_u64(c->w, fake->sub_count);
    for (size_t i = 0; i < fake->sub_count; i++)
        save_subscriber(c, fake->subs[i]);
    sf__sw_u64(c->w, fake->retired_count);
    for (const sf__subscriber *s = fake->retired_head; s; s = s->retired_next)
        sf__sw_u64(c->w, s->id);
    sf__sw_u64(c->w, c->queued_count);
    for (size_t i = 0; i < c->queued_count; i++) {
        const sf__delivery *d = c->queued[i];
        sf__sw_u64(c->w, d->msg->ordinal);
        sf__sw_u64(c->w, d->sub->id);
        sf__sw_u8(c->w, d->duplicate);
        sf__sw_i64(c->w, d->timer.due);
        sf__sw_u64(c->w, d->timer.seq);
    }
}

static void save_faults(save_ctx *c)
{
    sf_fake *fake = c->fake;
    sf__snap_writer *w = c->w;
    sf__sw_u32(w, (uint32_t)fake->rule_count);
    for (size_t i = 0; i < fake->rule_count; i++) {
        const sf__rule *r = fake->rules[i];
        const sf_fault_params *p = &r->params;
        sf__sw_u32(w, r->id);
        sf__sw_u8(w, (uint8_t)p->scope);
        sf__sw_str(w, p->scope == SF_SCOPE_STREAM ? r->stream_sid : NULL);
        sf__sw_u64(w, p->subscriber);
        sf__sw_f64(w, p->drop_rate);
        sf__sw_f64(w, p->duplicate_rate);
        sf__sw_i64(w, p->delay_ms);
        sf__sw_i64(w, p->jitter_ms);
        sf__sw_u32(w, p->drop_next);
        sf__sw_i64(w, p->expiry_lag_ms);
        put_account_ref(c, r->account);
        sf__sw_u32(w, r->drop_next_left);
        sf__sw_u64(w, r->hits);
    }
    sf__sw_u32(w, SF_OP_COUNT);
    for (unsigned op = 0; op < SF_OP_COUNT; op++) {
        uint32_t n = 0;
        for (const sf__injection *in = fake->injections[op]; in; in = in->next)
            n++;
        sf__sw_u32(w, n);
        for (const sf__injection *in = fake->injections[op]; in; in = in->next) {
            sf__sw_u32(w, in->inj.count);
            sf__sw_u32(w, (uint32_t)in->inj.http_status);
            sf__sw_u32(w, (uint32_t)in->inj.code);
            sf__sw_str(w, in->message);
            sf__sw_u8(w, in->inj.after_apply);
            put_account_ref(c, in->account);
        }
    }
}

/* Only the SIDs the flags mark as present: the bytes of the others are whatever the call
 * left there, and would make two equal states save differently. */
static void put_entry_sids(sf__snap_writer *w, const sf__jentry *e)
{
    static const uint8_t zero[16];
    static const uint8_t flags[3] = {SF__J_HAS_SERVICE, SF__J_HAS_STREAM, SF__J_HAS_MESSAGE};
    for (int i = 0; i < 3; i++)
        sf__sw_bytes(w, (e->flags & flags[i]) ? e->sids[i] : zero, 16);
}

/* The kept texts of warnings (warn.c), in slot order: a warning entry names its text by id. */
static void save_notes(save_ctx *c)
{
    const sf_fake *fake = c->fake;
    uint32_t n = 0;
    for (size_t i = 0; fake->notes && i < SF__NOTE_SLOTS; i++)
        n += fake->notes[i].id != 0;
    sf__sw_u64(c->w, fake->notes_written);
    sf__sw_u32(c->w, n);
    for (size_t i = 0; fake->notes && i < SF__NOTE_SLOTS; i++) {
        if (fake->notes[i].id == 0)
            continue;
        sf__sw_u64(c->w, fake->notes[i].id);
        sf__sw_str(c->w, fake->notes[i].text);
    }
}

static void save_journal(save_ctx *c)
{
    const sf__journal *j = &c->fake->journal;
    sf__snap_writer *w = c->w;
    sf__sw_u64(w, j->next_seq);
    sf__sw_u64(w, j->overwritten);
    save_notes(c);
    sf__sw_u64(w, j->count);
    for (size_t i = 0; i < j->count; i++) {
        const sf__jentry *e = &j->ring[(j->head + i) % j->cap];
        sf__sw_u64(w, e->seq);
        sf__sw_i64(w, e->t);
        sf__sw_i64(w, e->until);
        sf__sw_u64(w, e->subscriber);
        sf__sw_u32(w, e->rule);
        sf__sw_u32(w, (uint32_t)e->code);
        sf__sw_u16(w, e->status);
        sf__sw_u8(w, e->kind);
        sf__sw_u8(w, e->op);
        sf__sw_u8(w, e->flags);
        sf__sw_u8(w, e->reason);
        put_entry_sids(w, e);
        put_account_ref(c, e->account);
        sf__sw_u64(w, e->kind == SF_JOURNAL_WARNING ? e->note : 0);
    }
}

static bool save_all(save_ctx *c)
{
    sf__sw_bytes(c->w, SF__SNAP_MAGIC, 8);
    sf__sw_u32(c->w, SF_SNAPSHOT_VERSION);
    save_options(c->w, c->fake);
    save_counters(c->w, c->fake);
    if (!save_accounts(c) || !save_services(c) || !collect_deliveries(c))
        return false;
    save_streams(c);
    save_messages(c);
    save_subscribers(c);
    save_faults(c);
    save_journal(c);
    return true;
}

sf_status sf_snapshot_save(sf_fake *fake, sf_snapshot_write_fn write_fn, void *user, sf_error *err)
{
    if (!fake || !write_fn)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL",
                               fake ? "write_fn" : "fake");
    if (fake->dispatch_depth > 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "a snapshot cannot be taken inside a subscriber callback");
    sf__snap_writer *w = sf__malloc(fake, sizeof *w);
    if (!w)
        return sf__fail(err, SF_ERR_NOMEM);
    sf__sw_init(w, write_fn, user);
    save_ctx c = {.fake = fake, .w = w};
    bool built = save_all(&c);
    bool written = built && sf__sw_finish(w);
    sf__free(fake, c.accounts);
    sf__free(fake, c.services);
    sf__free(fake, c.messages);
    sf__free(fake, c.queued);
    sf__free(fake, w);
    if (!built)
        return sf__fail(err, SF_ERR_NOMEM);
    if (!written)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "snapshot write failed");
    sf__ok(err);
    return SF_OK;
}
