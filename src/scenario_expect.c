/* SPDX-License-Identifier: MIT */
/* scenario_expect.c: the checks of `expect` lines. What subscribers saw is read from the
 * journal (the same facts the timeline and the control API show), never from private
 * bookkeeping, so a passing scenario is one whose journal tells its story. */
#include "internal.h"
#include "scenario.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool why_not(char *why, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool why_not(char *why, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return false;
}

/* Whether the journal still holds every entry made since the scenario began. */
static bool journal_whole(const sf__scn_run *run)
{
    sf_journal_entry first;
    uint64_t cursor = 0;
    if (!sf_journal_next(run->fake, NULL, &cursor, &first))
        return sf_fake_options(run->fake)->journal_capacity > 0;
    return first.seq <= run->journal_start + 1;
}

static const char *sub_name(const sf__scn_run *run, uint32_t i)
{
    return run->scn->names[NS_SUBSCRIBER].name[i];
}

/* The label a message SID was published as, for messages. */
static void label_of_sid(const sf__scn_run *run, const char *sid, char *buf, size_t cap)
{
    for (uint32_t i = 0; i < run->scn->label_count; i++) {
        if (strcmp(run->labels[i].sid, sid) == 0) {
            sf__scenario_label_text(run->scn, i, buf, cap);
            return;
        }
    }
    snprintf(buf, cap, "%s", sid); /* not one of the scenario's messages */
}

/* Appends " name" to text (bounded). */
static void append_word(char *text, size_t cap, const char *word)
{
    size_t len = strlen(text);
    if (len + 1 < cap)
        snprintf(text + len, cap - len, " %s", word);
}

static bool expect_received(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    sf_journal_filter f = {.subscriber = run->sub[st->a], .kinds = 1u << SF_JOURNAL_DELIVERED};
    uint64_t cursor = 0;
    sf_journal_entry e;
    char got[300] = "", label[SF_SCENARIO_NAME_MAX + 12];
    size_t n = 0;
    bool same = true;
    while (sf_journal_next(run->fake, &f, &cursor, &e)) {
        if (n >= st->count || strcmp(run->labels[st->labels[n]].sid, e.message_sid) != 0)
            same = false;
        label_of_sid(run, e.message_sid, label, sizeof label);
        append_word(got, sizeof got, label);
        n++;
    }
    if (same && n == st->count)
        return true;
    char wanted[300] = "";
    for (uint32_t i = 0; i < st->count; i++) {
        sf__scenario_label_text(run->scn, st->labels[i], label, sizeof label);
        append_word(wanted, sizeof wanted, label);
    }
    return why_not(why, cap, "%s received%s, expected%s", sub_name(run, st->a),
                   n ? got : " nothing", st->count ? wanted : " nothing");
}

static bool expect_fate(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    sf_journal_kind kind = (sf_journal_kind)st->n;
    sf_journal_filter f = {.subscriber = run->sub[st->a], .kinds = 1u << kind};
    const sf__scn_label_state *msg = &run->labels[st->b];
    char label[SF_SCENARIO_NAME_MAX + 12];
    sf__scenario_label_text(run->scn, st->b, label, sizeof label);
    if (!msg->sid[0])
        return why_not(why, cap, "%s was never published (status %d)", label, msg->status);
    uint64_t cursor = 0;
    sf_journal_entry e;
    while (sf_journal_next(run->fake, &f, &cursor, &e))
        if (strcmp(e.message_sid, msg->sid) == 0)
            return true;
    return why_not(why, cap, "the journal has no `%s` entry of %s for %s",
                   sf_journal_kind_name(kind), label, sub_name(run, st->a));
}

static bool expect_removed(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    sf_journal_filter f = {.subscriber = run->sub[st->a], .kinds = 1u << SF_JOURNAL_REMOVED};
    uint64_t cursor = 0;
    sf_journal_entry e;
    if (sf_journal_next(run->fake, &f, &cursor, &e))
        return true;
    return why_not(why, cap, "%s got no `removed` event", sub_name(run, st->a));
}

static bool expect_stream(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    const char *name = run->scn->names[NS_STREAM].name[st->a];
    const char *service = run->service_sid[run->scn->stream_service[st->a]];
    sf_stream_record rec;
    sf_status s = sf_stream_fetch(run->fake, run->account, service, name, &rec, NULL);
    bool gone = s == SF_ERR_NOT_FOUND;
    if (s != SF_OK && !gone)
        return why_not(why, cap, "stream %s: %s", name, sf_status_message(s));
    if (gone == st->flag)
        return true;
    return why_not(why, cap, "stream %s %s, expected it %s", name, gone ? "is gone" : "exists",
                   st->flag ? "gone" : "to exist");
}

static bool expect_status(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    const sf__scn_label_state *msg = &run->labels[st->a];
    char label[SF_SCENARIO_NAME_MAX + 12];
    if (msg->status == st->n && (!st->flag || msg->code == st->m))
        return true;
    sf__scenario_label_text(run->scn, st->a, label, sizeof label);
    return why_not(why, cap, "publish %s answered %d (code %d), expected %" PRId64 "%s", label,
                   msg->status, msg->code, st->n, st->flag ? " with that code" : "");
}

static bool expect_stats(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    static const char *const names[STAT_COUNT] = {"delivered", "duplicated", "dropped",
                                                  "lost",      "in_flight",  "parked"};
    sf_subscriber_stats s;
    if (sf_subscriber_stats_get(run->fake, run->sub[st->a], &s, NULL) != SF_OK)
        return why_not(why, cap, "%s has no stats any more", sub_name(run, st->a));
    const uint64_t have[STAT_COUNT] = {s.delivered, s.duplicated, s.dropped,
                                       s.lost,      s.in_flight,  s.parked};
    for (int i = 0; i < STAT_COUNT; i++)
        if (st->stats[i] >= 0 && have[i] != (uint64_t)st->stats[i])
            return why_not(why, cap, "%s %s=%" PRIu64 ", expected %" PRId64, sub_name(run, st->a),
                           names[i], have[i], st->stats[i]);
    return true;
}

bool sf__scenario_expect(const sf__scn_run *run, const sf__scn_step *st, char *why, size_t cap)
{
    bool journal = st->kind == SCN_EXPECT_RECEIVED || st->kind == SCN_EXPECT_FATE ||
                   st->kind == SCN_EXPECT_REMOVED;
    if (journal && !journal_whole(run))
        return why_not(why, cap,
                       "the journal no longer holds every entry of this scenario "
                       "(options.journal_capacity is too small)");
    switch (st->kind) {
    case SCN_EXPECT_RECEIVED:
        return expect_received(run, st, why, cap);
    case SCN_EXPECT_FATE:
        return expect_fate(run, st, why, cap);
    case SCN_EXPECT_REMOVED:
        return expect_removed(run, st, why, cap);
    case SCN_EXPECT_STREAM:
        return expect_stream(run, st, why, cap);
    case SCN_EXPECT_STATUS:
        return expect_status(run, st, why, cap);
    case SCN_EXPECT_STATS:
        return expect_stats(run, st, why, cap);
    default: {
        size_t pending = sf_pending_deliveries(run->fake);
        if ((int64_t)pending == st->n)
            return true;
        return why_not(why, cap, "%zu deliveries pending, expected %" PRId64, pending, st->n);
    }
    }
}
