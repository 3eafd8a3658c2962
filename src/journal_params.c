/* SPDX-License-Identifier: MIT */
/* journal_params.c: the recorded parameters of journal entries, kept beside the journal in a
 * ring of records ordered by seq and bounded in bytes (the oldest go first, and their entries
 * then say so), and the journal's `?data=1` form that shows them. */
#include "journal_params.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sf__prec {
    uint64_t seq;
    size_t len;
    char text[];
} sf__prec;

struct sf__params {
    size_t max_bytes, bytes;
    sf__prec **ring;
    size_t cap, head, count;
    uint64_t dropped;
};

static size_t rec_bytes(const sf__prec *r) { return sizeof *r + r->len + 1; }

static void drop_oldest(sf_fake *fake, struct sf__params *p)
{
    sf__prec *r = p->ring[p->head];
    p->bytes -= rec_bytes(r);
    sf__free(fake, r);
    p->head = (p->head + 1) % p->cap;
    p->count--;
}

static void clear_records(sf_fake *fake, struct sf__params *p)
{
    while (p->count)
        drop_oldest(fake, p);
}

void sf__params_release(sf_fake *fake)
{
    struct sf__params *p = fake->params;
    if (!p)
        return;
    clear_records(fake, p);
    sf__free(fake, p->ring);
    sf__free(fake, p);
    fake->params = NULL;
}

bool sf__recording(const sf_fake *fake) { return fake->params != NULL; }

static bool ring_room(sf_fake *fake, struct sf__params *p)
{
    if (p->count < p->cap)
        return true;
    size_t cap = p->cap ? p->cap * 2 : 64;
    sf__prec **ring = sf__ring_regrow(fake, p->ring, sizeof *ring, p->count, p->head, p->cap, cap);
    if (!ring)
        return false;
    sf__free(fake, p->ring);
    p->ring = ring;
    p->cap = cap;
    p->head = 0;
    return true;
}

/* The oldest seq the journal still holds: records before it can never be shown. */
static uint64_t oldest_held(const sf_fake *fake)
{
    const sf__journal *j = &fake->journal;
    return j->count ? j->ring[j->head].seq : j->next_seq;
}

void sf__params_attach(sf_fake *fake, sf__jentry *e, sf__pbuf *pb)
{
    struct sf__params *p = fake->params;
    if (!p || !e) {
        sf__pb_free(pb);
        return;
    }
    e->flags |= SF__J_HAS_PARAMS;
    size_t need = sizeof(sf__prec) + pb->len + 1;
    while (p->count && p->ring[p->head]->seq < oldest_held(fake))
        drop_oldest(fake, p);
    if (pb->failed || need > p->max_bytes) {
        p->dropped++;
        sf__pb_free(pb);
        return;
    }
    while (p->count && p->bytes + need > p->max_bytes) {
        drop_oldest(fake, p);
        p->dropped++;
    }
    sf__prec *r = ring_room(fake, p) ? sf__malloc(fake, need) : NULL;
    if (!r) {
        p->dropped++;
        sf__pb_free(pb);
        return;
    }
    r->seq = e->seq;
    r->len = pb->len;
    memcpy(r->text, pb->data, pb->len);
    r->text[pb->len] = '\0';
    p->ring[(p->head + p->count++) % p->cap] = r;
    p->bytes += need;
    sf__pb_free(pb);
}

static const sf__prec *find_rec(const sf_fake *fake, uint64_t seq)
{
    const struct sf__params *p = fake->params;
    if (!p)
        return NULL;
    size_t lo = 0, hi = p->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->ring[(p->head + mid) % p->cap]->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    const sf__prec *r = lo < p->count ? p->ring[(p->head + lo) % p->cap] : NULL;
    return r && r->seq == seq ? r : NULL;
}

static const sf__jentry *find_entry(const sf_fake *fake, uint64_t seq)
{
    const sf__journal *j = &fake->journal;
    uint64_t at = sf_journal_cursor_after(fake, seq ? seq - 1 : 0);
    if (at >= j->count)
        return NULL;
    const sf__jentry *e = &j->ring[(j->head + at) % j->cap];
    return e->seq == seq ? e : NULL;
}

/* An empty record store (nothing recorded yet); false when out of memory. */
static bool params_new(sf_fake *fake)
{
    fake->params = sf__malloc(fake, sizeof *fake->params);
    if (!fake->params)
        return false;
    memset(fake->params, 0, sizeof *fake->params);
    return true;
}

/* The store's byte budget: the option's, or the default. */
static void params_limit(sf_fake *fake)
{
    size_t max = fake->opts.journal_params_bytes;
    fake->params->max_bytes = max ? max : SF_JOURNAL_PARAMS_BYTES_DEFAULT;
}

sf_status sf__params_start(sf_fake *fake)
{
    if (!fake->opts.journal_params) {
        sf__params_release(fake);
        return SF_OK;
    }
    if (fake->params)
        clear_records(fake, fake->params); /* a reset: the journal starts over */
    else if (!params_new(fake))
        return SF_ERR_NOMEM;
    params_limit(fake);
    sf__rec_start(fake);
    return SF_OK;
}

sf_status sf__params_continue(sf_fake *fake)
{
    if (fake->params)
        return SF_OK;
    if (!params_new(fake))
        return SF_ERR_NOMEM;
    params_limit(fake);
    fake->opts.journal_params = true;
    return SF_OK;
}

sf_status sf_journal_record_calls(sf_fake *fake, bool on, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    if (fake->dispatch_depth > 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "recording cannot change inside a subscriber callback");
    if (on == (fake->params != NULL)) {
        sf__ok(err);
        return SF_OK;
    }
    fake->opts.journal_params = on;
    sf_status st = sf__params_start(fake);
    if (st != SF_OK) {
        fake->opts.journal_params = false;
        return sf__fail(err, st);
    }
    sf__ok(err);
    return SF_OK;
}

bool sf_journal_recording(const sf_fake *fake) { return fake && fake->params; }

uint64_t sf_journal_params_dropped(const sf_fake *fake)
{
    return fake && fake->params ? fake->params->dropped : 0;
}

/* Copies into a bounded buffer, counting what would have been written. */
typedef struct sink {
    char *buf;
    size_t cap, len;
} sink;

/* A sink over buf (cap bytes; NULL: only count), which starts as "". */
static sink sink_open(char *buf, size_t cap)
{
    sink s = {buf, buf ? cap : 0, 0};
    if (s.cap)
        buf[0] = '\0';
    return s;
}

static void sink_put(sink *s, const char *text, size_t n)
{
    if (s->len < s->cap) {
        size_t room = s->cap - s->len - 1; /* the NUL always fits */
        size_t k = n < room ? n : room;
        memcpy(s->buf + s->len, text, k);
        s->buf[s->len + k] = '\0';
    }
    s->len += n;
}

size_t sf_journal_entry_params(const sf_fake *fake, uint64_t seq, char *buf, size_t cap)
{
    sink s = sink_open(buf, cap);
    const sf__prec *r = fake ? find_rec(fake, seq) : NULL;
    if (r)
        sink_put(&s, r->text, r->len);
    return s.len;
}

size_t sf_journal_entry_json_data(const sf_fake *fake, const sf_journal_entry *entry, char *buf,
                                  size_t cap)
{
    sink s = sink_open(buf, cap);
    if (!entry)
        return 0;
    char line[1024]; /* every field of an entry has a bounded width */
    size_t n = sf_journal_entry_json(entry, line, sizeof line);
    if (n >= sizeof line || n < 2)
        return 0;
    const sf__jentry *e = fake ? find_entry(fake, entry->seq) : NULL;
    const sf__prec *r = e && (e->flags & SF__J_HAS_PARAMS) ? find_rec(fake, entry->seq) : NULL;
    if (!e || !(e->flags & SF__J_HAS_PARAMS)) {
        sink_put(&s, line, n);
        return s.len;
    }
    sink_put(&s, line, n - 1); /* without its closing brace */
    if (r) {
        sink_put(&s, ",\"params\":", 10);
        sink_put(&s, r->text, r->len);
    } else {
        sink_put(&s, ",\"params_dropped\":true", 22);
    }
    sink_put(&s, "}", 1);
    return s.len;
}

size_t sf_journal_render_data(const sf_fake *fake, const sf_journal_filter *filter, char *buf,
                              size_t cap)
{
    sink s = sink_open(buf, cap);
    uint64_t cursor = 0;
    sf_journal_entry e;
    while (sf_journal_next(fake, filter, &cursor, &e)) {
        size_t n = sf_journal_entry_json_data(fake, &e, NULL, 0);
        if (s.len + n < s.cap)
            sf_journal_entry_json_data(fake, &e, buf + s.len, s.cap - s.len);
        else if (s.len < s.cap)
            buf[s.len] = '\0'; /* nothing of an entry that does not fit whole */
        s.len += n;
        sink_put(&s, "\n", 1);
    }
    return s.len;
}

sf_status sf_journal_write_data(const sf_fake *fake, const sf_journal_filter *filter, FILE *out,
                                sf_error *err)
{
    if (!fake || !out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL", fake ? "out" : "fake");
    uint64_t cursor = 0;
    sf_journal_entry e;
    while (sf_journal_next(fake, filter, &cursor, &e)) {
        size_t n = sf_journal_entry_json_data(fake, &e, NULL, 0);
        char *line = malloc(n + 1);
        if (!line)
            return sf__fail(err, SF_ERR_NOMEM);
        sf_journal_entry_json_data(fake, &e, line, n + 1);
        bool ok = fwrite(line, 1, n, out) == n && fputc('\n', out) != EOF;
        free(line);
        if (!ok)
            return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "journal write failed");
    }
    sf__ok(err);
    return SF_OK;
}
