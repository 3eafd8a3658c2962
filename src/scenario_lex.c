/* SPDX-License-Identifier: MIT */
/* scenario_lex.c: the words of a scenario line (names, numbers, durations, probabilities)
 * and the name tables. Each check reports what it expected, naming the line. */
#include "scenario_lex.h"
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sf__scn_fail(sf__scn_parser *ps, const char *fmt, ...)
{
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    if (ps->status == SF_OK) { /* the first problem is the one reported */
        ps->status = SF_ERR_INVALID_ARGUMENT;
        *ps->error_line = ps->line;
        sf__fail_detail(ps->err, SF_ERR_INVALID_ARGUMENT, "line %zu: %s", ps->line, detail);
    }
    return false;
}

bool sf__scn_nomem(sf__scn_parser *ps)
{
    if (ps->status == SF_OK) {
        ps->status = SF_ERR_NOMEM;
        *ps->error_line = ps->line;
        sf__fail(ps->err, SF_ERR_NOMEM);
    }
    return false;
}

/* A word as it can be shown in a message: at most 40 bytes, unprintable bytes as '?'. */
const char *sf__scn_show(const sf__scn_word *w, char buf[48])
{
    size_t n = w->len < 40 ? w->len : 40;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)w->s[i];
        buf[i] = ch >= 0x20 && ch < 0x7f && ch != '\'' ? (char)ch : '?';
    }
    snprintf(buf + n, 48 - n, "%s", w->len > n ? "..." : "");
    return buf;
}

static bool blank(char c) { return c == ' ' || c == '\t'; }

bool sf__scn_at_end(sf__scn_parser *ps)
{
    while (ps->p < ps->end && blank(*ps->p))
        ps->p++;
    return ps->p == ps->end;
}

bool sf__scn_next(sf__scn_parser *ps, sf__scn_word *w)
{
    if (sf__scn_at_end(ps))
        return false;
    if (*ps->p == '#') { /* a comment runs to the end of the line */
        ps->p = ps->end;
        return false;
    }
    w->s = ps->p;
    while (ps->p < ps->end && !blank(*ps->p))
        ps->p++;
    w->len = (size_t)(ps->p - w->s);
    return true;
}

bool sf__scn_need_word(sf__scn_parser *ps, sf__scn_word *w, const char *what)
{
    return sf__scn_next(ps, w) || sf__scn_fail(ps, "expected %s, got the end of the line", what);
}

bool sf__scn_need_end(sf__scn_parser *ps)
{
    sf__scn_word w;
    char shown[48];
    if (!sf__scn_next(ps, &w))
        return true;
    return sf__scn_fail(ps, "expected the end of the line, got '%s'", sf__scn_show(&w, shown));
}

bool sf__scn_is(const sf__scn_word *w, const char *text)
{
    return w->len == strlen(text) && memcmp(w->s, text, w->len) == 0;
}

bool sf__scn_split(const sf__scn_word *w, sf__scn_word *key, sf__scn_word *value)
{
    const char *eq = memchr(w->s, '=', w->len);
    if (!eq)
        return false;
    *key = (sf__scn_word){w->s, (size_t)(eq - w->s)};
    *value = (sf__scn_word){eq + 1, w->len - (size_t)(eq - w->s) - 1};
    return true;
}

bool sf__scn_uint(const sf__scn_word *w, uint64_t max, uint64_t *out)
{
    if (w->len == 0 || w->len > 19)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < w->len; i++) {
        if (w->s[i] < '0' || w->s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(w->s[i] - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

bool sf__scn_duration(const sf__scn_word *w, sf_ms *out)
{
    size_t digits = 0;
    while (digits < w->len && w->s[digits] >= '0' && w->s[digits] <= '9')
        digits++;
    sf__scn_word number = {w->s, digits}, unit = {w->s + digits, w->len - digits};
    uint64_t scale = sf__scn_is(&unit, "ms")  ? 1
                     : sf__scn_is(&unit, "s") ? 1000
                     : sf__scn_is(&unit, "m") ? 60000
                                              : 0;
    uint64_t v;
    if (!scale || !sf__scn_uint(&number, (uint64_t)SF_TIME_MAX_MS / scale, &v))
        return false;
    *out = (sf_ms)(v * scale);
    return true;
}

bool sf__scn_probability(const sf__scn_word *w, double *out)
{
    char text[32];
    if (w->len == 0 || w->len >= sizeof text)
        return false;
    for (size_t i = 0; i < w->len; i++)
        if ((w->s[i] < '0' || w->s[i] > '9') && w->s[i] != '.')
            return false;
    memcpy(text, w->s, w->len);
    text[w->len] = '\0';
    char *end;
    double d = strtod(text, &end);
    if (*end || !(d >= 0.0 && d <= 1.0))
        return false;
    *out = d;
    return true;
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
}

bool sf__scn_is_name(const sf__scn_word *w)
{
    if (w->len == 0 || w->len > SF_SCENARIO_NAME_MAX)
        return false;
    for (size_t i = 0; i < w->len; i++)
        if (!name_char(w->s[i]))
            return false;
    return true;
}

int64_t sf__scn_find(const sf__scn_names *t, const sf__scn_word *w)
{
    for (uint32_t i = 0; i < t->count; i++)
        if (strlen(t->name[i]) == w->len && memcmp(t->name[i], w->s, w->len) == 0)
            return i;
    return -1;
}

bool sf__scn_add_name(sf__scn_parser *ps, sf__scn_names *t, uint32_t max, const sf__scn_word *w,
                      uint32_t *out)
{
    if (t->count == max)
        return sf__scn_fail(ps, "at most %u names of this kind", (unsigned)max);
    if (t->count == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 8;
        void *grown = sf__realloc(ps->fake, t->name, cap * sizeof *t->name);
        if (!grown)
            return sf__scn_nomem(ps);
        t->name = grown;
        t->cap = cap;
    }
    memcpy(t->name[t->count], w->s, w->len);
    t->name[t->count][w->len] = '\0';
    *out = t->count++;
    return true;
}
