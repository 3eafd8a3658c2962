/* SPDX-License-Identifier: MIT */
/* replay_parse.c: a journal line read back for replay. Only what replay needs is read (seq,
 * t_ms, kind, op or call, params); every value is checked, since the line comes from a file
 * anyone may have edited. */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "hex_digit.h"
#include "replay.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool tok_is(const sf__rline *l, int i, const char *s)
{
    const jsmntok_t *t = &l->tok[i];
    size_t n = strlen(s);
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
           memcmp(l->text + t->start, s, n) == 0;
}

int sf__rline_find(const sf__rline *l, int obj, const char *key)
{
    if (obj < 0 || obj >= l->ntok || l->tok[obj].type != JSMN_OBJECT)
        return -1;
    for (int i = obj + 1; i + 1 < l->ntok; i++)
        if (l->tok[i].parent == obj && tok_is(l, i, key) && l->tok[i + 1].parent == i)
            return i + 1;
    return -1;
}

/* A primitive's text copied out (numbers are short); false when it is not a primitive. */
static bool primitive(const sf__rline *l, int i, char *buf, size_t cap)
{
    const jsmntok_t *t = &l->tok[i];
    size_t n = (size_t)(t->end - t->start);
    if (t->type != JSMN_PRIMITIVE || n == 0 || n >= cap)
        return false;
    memcpy(buf, l->text + t->start, n);
    buf[n] = '\0';
    return true;
}

bool sf__rline_i64(const sf__rline *l, int obj, const char *key, int64_t *out)
{
    char buf[32], *end;
    int i = sf__rline_find(l, obj, key);
    if (i < 0 || !primitive(l, i, buf, sizeof buf) ||
        !(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return false;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = (int64_t)v;
    return true;
}

bool sf__rline_u64(const sf__rline *l, int obj, const char *key, uint64_t *out)
{
    char buf[32], *end;
    int i = sf__rline_find(l, obj, key);
    if (i < 0 || !primitive(l, i, buf, sizeof buf) || buf[0] < '0' || buf[0] > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool sf__rline_bool(const sf__rline *l, int obj, const char *key, bool *out)
{
    char buf[8];
    int i = sf__rline_find(l, obj, key);
    if (i < 0 || !primitive(l, i, buf, sizeof buf))
        return false;
    if (strcmp(buf, "true") && strcmp(buf, "false"))
        return false;
    *out = buf[0] == 't';
    return true;
}

bool sf__rline_double(const sf__rline *l, int obj, const char *key, double *out)
{
    char buf[64], *end;
    int i = sf__rline_find(l, obj, key);
    if (i < 0 || !primitive(l, i, buf, sizeof buf))
        return false;
    if (strcmp(buf, "null") == 0) {
        *out = NAN; /* recorded for a value JSON cannot hold */
        return true;
    }
    if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9')))
        return false;
    *out = strtod(buf, &end);
    return *end == '\0';
}

void sf__rstr_free(sf__rstr *s)
{
    free(s->s);
    s->s = NULL;
    s->len = 0;
}

static bool hex4(const char *p, const char *end, unsigned *out)
{
    if (end - p < 4)
        return false;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = sf_hex_digit(p[i]);
        if (h < 0)
            return false;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return true;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80)
        return (size_t)(o[0] = (char)cp, 1);
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* One escape at *pp (after the backslash) into o; returns bytes written, 0 when invalid. */
static size_t unescape_one(const char **pp, const char *end, char *o)
{
    const char *p = *pp;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = p < end ? strchr(from, *p) : NULL;
    if (k && *p) {
        *pp = p + 1;
        *o = to[k - from];
        return 1;
    }
    unsigned cp, lo;
    if (p >= end || *p != 'u' || !hex4(p + 1, end, &cp))
        return 0;
    p += 5;
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return 0;
    if (cp >= 0xd800 && cp <= 0xdbff) { /* a surrogate pair */
        if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !hex4(p + 2, end, &lo) || lo < 0xdc00 ||
            lo > 0xdfff)
            return 0;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        p += 6;
    }
    *pp = p;
    return put_utf8(o, cp);
}

static bool unescape(const char *p, const char *end, sf__rstr *out)
{
    out->s = malloc((size_t)(end - p) + 1); /* never longer than the escaped form */
    if (!out->s)
        return false;
    size_t n = 0;
    while (p < end) {
        if (*p != '\\') {
            out->s[n++] = *p++;
            continue;
        }
        p++;
        size_t k = unescape_one(&p, end, out->s + n);
        if (!k) {
            sf__rstr_free(out);
            return false;
        }
        n += k;
    }
    out->s[n] = '\0';
    out->len = n;
    return true;
}

static bool from_hex(const char *p, const char *end, sf__rstr *out)
{
    size_t n = (size_t)(end - p);
    if (n % 2)
        return false;
    out->s = malloc(n / 2 + 1);
    if (!out->s)
        return false;
    for (size_t i = 0; i < n / 2; i++) {
        int hi = sf_hex_digit(p[2 * i]), lo = sf_hex_digit(p[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            sf__rstr_free(out);
            return false;
        }
        out->s[i] = (char)(hi << 4 | lo);
    }
    out->s[n / 2] = '\0';
    out->len = n / 2;
    return true;
}

/* A value recorded as its length only: any bytes of that length get the same answer, and
 * len_fill (just past the limit) is as good as any longer one. */
static bool filler(uint64_t n, size_t len_fill, sf__rstr *out)
{
    size_t k = n < len_fill ? (size_t)n : len_fill;
    out->s = malloc(k + 1);
    if (!out->s)
        return false;
    memset(out->s, 'x', k);
    out->s[k] = '\0';
    out->len = k;
    return true;
}

bool sf__rline_str(const sf__rline *l, int obj, const char *key, size_t len_fill, sf__rstr *out)
{
    char name[48];
    out->s = NULL;
    out->len = 0;
    int i = sf__rline_find(l, obj, key);
    if (i >= 0) {
        const jsmntok_t *t = &l->tok[i];
        return t->type == JSMN_STRING && unescape(l->text + t->start, l->text + t->end, out);
    }
    snprintf(name, sizeof name, "%s_hex", key);
    if ((i = sf__rline_find(l, obj, name)) >= 0) {
        const jsmntok_t *t = &l->tok[i];
        return t->type == JSMN_STRING && from_hex(l->text + t->start, l->text + t->end, out);
    }
    snprintf(name, sizeof name, "%s_len", key);
    uint64_t n;
    if (sf__rline_find(l, obj, name) >= 0)
        return sf__rline_u64(l, obj, name, &n) && filler(n, len_fill, out);
    return true;
}

static bool kind_of(const sf__rline *l, int i, sf_journal_kind *out)
{
    for (unsigned k = 0; k < SF_JOURNAL_KIND_COUNT; k++) {
        if (tok_is(l, i, sf_journal_kind_name((sf_journal_kind)k))) {
            *out = (sf_journal_kind)k;
            return true;
        }
    }
    return false;
}

static bool op_of(const sf__rline *l, int i, sf_op *out)
{
    for (unsigned k = 0; k < SF_OP_COUNT; k++) {
        if (tok_is(l, i, sf_op_name((sf_op)k))) {
            *out = (sf_op)k;
            return true;
        }
    }
    return false;
}

static bool fail(char why[160], const char *what)
{
    snprintf(why, 160, "%s", what);
    return false;
}

bool sf__rline_parse(const char *text, size_t len, sf__rline *out, char why[160])
{
    jsmn_parser parser;
    jsmn_init(&parser);
    out->text = text;
    out->len = len;
    out->params = -1;
    out->params_dropped = false;
    out->ntok = 0;
    int n = jsmn_parse(&parser, text, len, out->tok, SF__RLINE_TOKENS);
    if (n < 1 || out->tok[0].type != JSMN_OBJECT || out->tok[0].end != (int)len)
        return fail(why, n == JSMN_ERROR_NOMEM ? "too many fields" : "not one JSON object");
    out->ntok = n;
    int64_t t;
    int k = sf__rline_find(out, 0, "kind");
    if (!sf__rline_u64(out, 0, "seq", &out->seq) || !sf__rline_i64(out, 0, "t_ms", &t) || k < 0 ||
        !kind_of(out, k, &out->kind))
        return fail(why, "seq, t_ms or kind missing or malformed");
    out->t_ms = t;
    if (out->kind == SF_JOURNAL_API) {
        int o = sf__rline_find(out, 0, "op");
        if (o < 0 || !op_of(out, o, &out->op))
            return fail(why, "api entry without a known op");
    } else if (out->kind == SF_JOURNAL_CALL) {
        int c = sf__rline_find(out, 0, "call");
        const jsmntok_t *ct = c >= 0 ? &out->tok[c] : NULL;
        if (!ct || ct->type != JSMN_STRING ||
            !sf__call_parse(text + ct->start, (size_t)(ct->end - ct->start), &out->call))
            return fail(why, "call entry without a known call");
    }
    out->params = sf__rline_find(out, 0, "params");
    if (out->params >= 0 && out->tok[out->params].type != JSMN_OBJECT)
        return fail(why, "params is not an object");
    bool dropped;
    out->params_dropped = sf__rline_bool(out, 0, "params_dropped", &dropped) && dropped;
    return true;
}
