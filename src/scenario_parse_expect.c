/* SPDX-License-Identifier: MIT */
/* scenario_parse_expect.c: the `fault` and `expect ...` lines of a scenario. */
#include "internal.h"
#include "scenario_names.h"
#include "scenario_parse.h"

#include <string.h>

/* One effect or target of a fault line; false (error recorded) when w is none of them. */
static bool fault_word(sf__scn_parser *ps, sf__scn_step *st, const sf__scn_word *w, int *effects)
{
    sf__scn_word k, v;
    sf_fault_params *f = &st->fault;
    uint64_t n;
    char shown[48];
    bool ok = sf__scn_split(w, &k, &v);
    if (ok && sf__scn_is(&k, "stream") && f->scope == SF_SCOPE_FAKE) {
        f->scope = SF_SCOPE_STREAM;
        return sf__scn_use(ps, NS_STREAM, &v, &st->b);
    }
    if (ok && sf__scn_is(&k, "subscriber") && f->scope == SF_SCOPE_FAKE) {
        f->scope = SF_SCOPE_SUBSCRIBER;
        return sf__scn_use(ps, NS_SUBSCRIBER, &v, &st->b);
    }
    (*effects)++;
    if (ok && sf__scn_is(&k, "drop") && sf__scn_probability(&v, &f->drop_rate))
        return true;
    if (ok && sf__scn_is(&k, "duplicate") && sf__scn_probability(&v, &f->duplicate_rate))
        return true;
    if (ok && sf__scn_is(&k, "delay") && sf__scn_duration(&v, &f->delay_ms))
        return true;
    if (ok && sf__scn_is(&k, "jitter") && sf__scn_duration(&v, &f->jitter_ms))
        return true;
    if (ok && sf__scn_is(&k, "expiry_lag") && sf__scn_duration(&v, &f->expiry_lag_ms))
        return true;
    if (ok && sf__scn_is(&k, "drop_next") && sf__scn_uint(&v, UINT32_MAX, &n)) {
        f->drop_next = (uint32_t)n;
        return true;
    }
    return sf__scn_fail(ps,
                        "expected one target (stream=NAME or subscriber=NAME) and effects "
                        "drop=P, duplicate=P, delay=DUR, jitter=DUR, drop_next=N, "
                        "expiry_lag=DUR (P in 0..1, DUR like 250ms), got '%s'",
                        sf__scn_show(w, shown));
}

bool sf__scn_parse_fault(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    int effects = 0;
    if (!sf__scn_name_step(ps, st, NS_FAULT, true))
        return false;
    while (sf__scn_next(ps, &w))
        if (!fault_word(ps, st, &w, &effects))
            return false;
    if (effects == 0)
        return sf__scn_fail(ps, "expected at least one effect (drop=, duplicate=, delay=, "
                                "jitter=, drop_next=, expiry_lag=)");
    return true;
}

/* LABEL... or `none`, up to SF_SCENARIO_EXPECT_LABELS_MAX of them. */
static bool parse_received(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    char shown[48];
    if (!sf__scn_name_step(ps, st, NS_SUBSCRIBER, false) ||
        !sf__scn_need_word(ps, &w, "message labels or `none`"))
        return false;
    if (sf__scn_is(&w, "none"))
        return sf__scn_need_end(ps);
    st->labels = sf__malloc(ps->fake, SF_SCENARIO_EXPECT_LABELS_MAX * sizeof *st->labels);
    if (!st->labels)
        return sf__scn_nomem(ps);
    do {
        int64_t label = sf__scn_label_find(ps->s, &w);
        if (label < 0)
            return sf__scn_fail(ps,
                                "expected a message label declared on an earlier line, got '%s'",
                                sf__scn_show(&w, shown));
        if (st->count == SF_SCENARIO_EXPECT_LABELS_MAX)
            return sf__scn_fail(ps, "at most %d labels in one expect",
                                SF_SCENARIO_EXPECT_LABELS_MAX);
        st->labels[st->count++] = (uint32_t)label;
    } while (sf__scn_next(ps, &w));
    return true;
}

static const char *const fate_names[] = {"delivered", "dropped", "delayed",  "duplicated",
                                         "held",      "lost",    "discarded"};
static const sf_journal_kind fate_kinds[] = {
    SF_JOURNAL_DELIVERED, SF_JOURNAL_DROPPED, SF_JOURNAL_DELAYED,  SF_JOURNAL_DUPLICATED,
    SF_JOURNAL_HELD,      SF_JOURNAL_LOST,    SF_JOURNAL_DISCARDED};

static bool need_label(sf__scn_parser *ps, uint32_t *out)
{
    sf__scn_word w;
    char shown[48];
    if (!sf__scn_need_word(ps, &w, "a message label"))
        return false;
    int64_t label = sf__scn_label_find(ps->s, &w);
    if (label < 0)
        return sf__scn_fail(ps, "expected a message label declared on an earlier line, got '%s'",
                            sf__scn_show(&w, shown));
    *out = (uint32_t)label;
    return true;
}

static bool parse_fate(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    if (!sf__scn_name_step(ps, st, NS_SUBSCRIBER, false) || !need_label(ps, &st->b) ||
        !sf__scn_need_word(ps, &w, "a fate"))
        return false;
    for (size_t i = 0; i < sizeof fate_names / sizeof fate_names[0]; i++) {
        if (sf__scn_is(&w, fate_names[i])) {
            st->n = fate_kinds[i];
            return sf__scn_need_end(ps);
        }
    }
    return sf__scn_fail(ps, "expected a fate: delivered, dropped, delayed, duplicated, held, "
                            "lost or discarded");
}

static bool parse_stream_state(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    if (!sf__scn_name_step(ps, st, NS_STREAM, false) ||
        !sf__scn_need_word(ps, &w, "`gone` or `exists`"))
        return false;
    if (!sf__scn_is(&w, "gone") && !sf__scn_is(&w, "exists"))
        return sf__scn_fail(ps, "expected `gone` or `exists`");
    st->flag = sf__scn_is(&w, "gone");
    return sf__scn_need_end(ps);
}

static bool parse_status(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    uint64_t http, code;
    if (!need_label(ps, &st->a) || !sf__scn_need_word(ps, &w, "an HTTP status"))
        return false;
    if (!sf__scn_uint(&w, 599, &http) || http < 100)
        return sf__scn_fail(ps, "expected an HTTP status 100-599");
    st->n = (int64_t)http;
    if (sf__scn_next(ps, &w)) {
        if (!sf__scn_uint(&w, 99999999, &code))
            return sf__scn_fail(ps, "expected a Twilio error code (an integer) or the end");
        st->flag = true;
        st->m = (int64_t)code;
    }
    return sf__scn_need_end(ps);
}

static const char *const stat_names[STAT_COUNT] = {"delivered", "duplicated", "dropped",
                                                   "lost",      "in_flight",  "parked"};

static bool parse_stats(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w, k, v;
    char shown[48];
    bool any = false;
    for (int i = 0; i < STAT_COUNT; i++)
        st->stats[i] = -1;
    if (!sf__scn_name_step(ps, st, NS_SUBSCRIBER, false))
        return false;
    while (sf__scn_next(ps, &w)) {
        int found = -1;
        uint64_t n;
        if (sf__scn_split(&w, &k, &v))
            for (int i = 0; i < STAT_COUNT; i++)
                if (sf__scn_is(&k, stat_names[i]))
                    found = i;
        if (found < 0 || !sf__scn_uint(&v, INT64_MAX, &n))
            return sf__scn_fail(ps,
                                "expected KEY=N with KEY one of delivered, duplicated, "
                                "dropped, lost, in_flight, parked; got '%s'",
                                sf__scn_show(&w, shown));
        st->stats[found] = (int64_t)n;
        any = true;
    }
    return any || sf__scn_fail(ps, "expected at least one KEY=N");
}

static bool parse_pending(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    uint64_t n;
    if (!sf__scn_need_word(ps, &w, "a count"))
        return false;
    if (!sf__scn_uint(&w, INT64_MAX, &n))
        return sf__scn_fail(ps, "expected a count (an integer >= 0)");
    st->n = (int64_t)n;
    return sf__scn_need_end(ps);
}

bool sf__scn_parse_expect(sf__scn_parser *ps, sf__scn_step *st)
{
    sf__scn_word w;
    if (!sf__scn_need_word(ps, &w, "what to expect"))
        return false;
    if (sf__scn_is(&w, "received"))
        return st->kind = SCN_EXPECT_RECEIVED, parse_received(ps, st);
    if (sf__scn_is(&w, "fate"))
        return st->kind = SCN_EXPECT_FATE, parse_fate(ps, st);
    if (sf__scn_is(&w, "removed"))
        return st->kind = SCN_EXPECT_REMOVED,
               sf__scn_name_step(ps, st, NS_SUBSCRIBER, false) && sf__scn_need_end(ps);
    if (sf__scn_is(&w, "stream"))
        return st->kind = SCN_EXPECT_STREAM, parse_stream_state(ps, st);
    if (sf__scn_is(&w, "status"))
        return st->kind = SCN_EXPECT_STATUS, parse_status(ps, st);
    if (sf__scn_is(&w, "stats"))
        return st->kind = SCN_EXPECT_STATS, parse_stats(ps, st);
    if (sf__scn_is(&w, "pending"))
        return st->kind = SCN_EXPECT_PENDING, parse_pending(ps, st);
    return sf__scn_fail(ps, "expected received, fate, removed, stream, status, stats or pending "
                            "after `expect`");
}
