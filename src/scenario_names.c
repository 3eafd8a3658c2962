/* SPDX-License-Identifier: MIT */
/* scenario_names.c: declaring and using the names of a scenario (services, streams,
 * subscribers, faults) and its message labels, bursts included ("m" x 3 is m1, m2, m3). */
#include "scenario_names.h"
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const char *const ns_what[NS_COUNT] = {"service", "stream", "subscriber", "fault"};

bool sf__scn_declare(sf__scn_parser *ps, int ns, const sf__scn_word *w, uint32_t *out)
{
    char shown[48];
    if (!sf__scn_is_name(w))
        return sf__scn_fail(ps, "expected a %s name (1-%d of A-Z a-z 0-9 _ . : -), got '%s'",
                            ns_what[ns], SF_SCENARIO_NAME_MAX, sf__scn_show(w, shown));
    if (sf__scn_find(&ps->s->names[ns], w) >= 0)
        return sf__scn_fail(ps, "%s '%s' is already declared", ns_what[ns], sf__scn_show(w, shown));
    return sf__scn_add_name(ps, &ps->s->names[ns], SF_SCENARIO_NAMES_MAX, w, out);
}

bool sf__scn_use(sf__scn_parser *ps, int ns, const sf__scn_word *w, uint32_t *out)
{
    char shown[48];
    int64_t i = sf__scn_find(&ps->s->names[ns], w);
    if (i < 0)
        return sf__scn_fail(ps, "expected a %s declared on an earlier line, got '%s'", ns_what[ns],
                            sf__scn_show(w, shown));
    *out = (uint32_t)i;
    return true;
}

/* The number in 1..count after `prefix` in w ("m12" after "m"), else 0. */
static uint64_t burst_number(const char *prefix, uint32_t count, const sf__scn_word *w)
{
    size_t plen = strlen(prefix);
    if (w->len <= plen || memcmp(w->s, prefix, plen) != 0 || w->s[plen] == '0')
        return 0;
    sf__scn_word digits = {w->s + plen, w->len - plen};
    uint64_t n;
    return sf__scn_uint(&digits, count, &n) ? n : 0;
}

int64_t sf__scn_label_find(const sf__scenario *s, const sf__scn_word *w)
{
    const sf__scn_names *t = &s->label_names;
    for (uint32_t i = 0; i < t->count; i++) {
        if (s->label_burst[i] == 0) {
            if (strlen(t->name[i]) == w->len && memcmp(t->name[i], w->s, w->len) == 0)
                return s->label_first[i];
        } else {
            uint64_t n = burst_number(t->name[i], s->label_burst[i], w);
            if (n)
                return s->label_first[i] + (int64_t)n - 1;
        }
    }
    return -1;
}

/* A burst prefix ends in a non-digit, so two bursts never share a label; a publish's label
 * must not be one of a burst's, nor the other way round. */
static bool label_clash(sf__scn_parser *ps, const sf__scn_word *w, uint32_t burst)
{
    const sf__scenario *s = ps->s;
    char shown[48];
    if (burst == 0)
        return sf__scn_label_find(s, w) >= 0;
    if (w->s[w->len - 1] >= '0' && w->s[w->len - 1] <= '9') {
        sf__scn_fail(ps, "expected a burst label that does not end in a digit, got '%s'",
                     sf__scn_show(w, shown));
        return true;
    }
    char prefix[SF_SCENARIO_NAME_MAX + 1];
    memcpy(prefix, w->s, w->len);
    prefix[w->len] = '\0';
    for (uint32_t i = 0; i < s->label_names.count; i++) {
        const char *other = s->label_names.name[i];
        sf__scn_word o = {other, strlen(other)};
        if (strcmp(other, prefix) == 0 ||
            (s->label_burst[i] == 0 && burst_number(prefix, burst, &o)))
            return true;
    }
    return false;
}

static bool grow_label_tables(sf__scn_parser *ps)
{
    sf__scenario *s = ps->s;
    size_t cap = s->label_names.cap; /* sf__scn_add_name grows the names to this */
    uint32_t *first = sf__realloc(ps->fake, s->label_first, cap * sizeof *first);
    if (!first)
        return sf__scn_nomem(ps);
    s->label_first = first;
    uint32_t *burst = sf__realloc(ps->fake, s->label_burst, cap * sizeof *burst);
    if (!burst)
        return sf__scn_nomem(ps);
    s->label_burst = burst;
    return true;
}

bool sf__scn_label_declare(sf__scn_parser *ps, const sf__scn_word *w, uint32_t burst,
                           uint32_t *first)
{
    sf__scenario *s = ps->s;
    char shown[48];
    uint32_t count = burst ? burst : 1, index;
    if (!sf__scn_is_name(w))
        return sf__scn_fail(ps, "expected a message label (1-%d of A-Z a-z 0-9 _ . : -), got '%s'",
                            SF_SCENARIO_NAME_MAX, sf__scn_show(w, shown));
    if (label_clash(ps, w, burst))
        return sf__scn_fail(ps, "label '%s' clashes with one declared earlier",
                            sf__scn_show(w, shown));
    if (s->label_count + count > SF_SCENARIO_LABELS_MAX)
        return sf__scn_fail(ps, "at most %d message labels in a scenario", SF_SCENARIO_LABELS_MAX);
    uint32_t old_cap = s->label_names.cap;
    if (!sf__scn_add_name(ps, &s->label_names, SF_SCENARIO_LABELS_MAX, w, &index))
        return false;
    if (s->label_names.cap != old_cap && !grow_label_tables(ps)) {
        s->label_names.count--; /* the tables did not grow: forget the name again */
        return false;
    }
    s->label_first[index] = s->label_count;
    s->label_burst[index] = burst;
    *first = s->label_count;
    s->label_count += count;
    return true;
}

void sf__scenario_label_text(const sf__scenario *s, uint32_t label, char *buf, size_t cap)
{
    for (uint32_t i = 0; i < s->label_names.count; i++) {
        uint32_t first = s->label_first[i], n = s->label_burst[i] ? s->label_burst[i] : 1;
        if (label >= first && label < first + n) {
            if (s->label_burst[i])
                snprintf(buf, cap, "%s%u", s->label_names.name[i], (unsigned)(label - first + 1));
            else
                snprintf(buf, cap, "%s", s->label_names.name[i]);
            return;
        }
    }
    snprintf(buf, cap, "?");
}
