/* SPDX-License-Identifier: MIT */
/* json_field.c: see json_field.h. */
#include "json_field.h"

#include "json_depth.h"

#include "syncfake.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include <stdlib.h>
#include <string.h>

bool sf_jf_parse_object(sf_jf_doc *doc, const char *text, size_t len, size_t max_tokens)
{
    return sf_jf_parse_object_within(doc, text, len, max_tokens, SF_JSON_FIELD_MAX_DEPTH);
}

bool sf_jf_parse_object_within(sf_jf_doc *doc, const char *text, size_t len, size_t max_tokens,
                               unsigned max_depth)
{
    doc->text = text;
    doc->tokens = NULL;
    doc->ntok = 0;
    if (!text || len < 2 || len > SF_DATA_CAP || max_tokens < 1)
        return false;
    if (!sf_json_depth_within(text, len, max_depth))
        return false; /* before jsmn, which is quadratic in the depth */
    /* strict grammar, UTF-8 and control characters: the core's checker */
    char *compact = malloc(len + 1);
    if (!compact)
        return false;
    size_t compact_len;
    sf_status st = sf_json_compact_object(text, len, compact, len + 1, &compact_len);
    free(compact);
    if (st != SF_OK)
        return false;
    size_t cap = len / 2 + 2; /* every token takes two bytes of text, the last maybe one */
    if (cap > max_tokens)
        cap = max_tokens;
    jsmntok_t *tok = malloc(cap * sizeof *tok);
    if (!tok)
        return false;
    jsmn_parser parser;
    jsmn_init(&parser);
    int n = jsmn_parse(&parser, text, len, tok, (unsigned)cap);
    if (n < 1 || tok[0].type != JSMN_OBJECT) {
        free(tok);
        return false;
    }
    doc->tokens = tok;
    doc->ntok = n;
    return true;
}

void sf_jf_free(sf_jf_doc *doc)
{
    free(doc->tokens);
    doc->tokens = NULL;
    doc->ntok = 0;
}

/* Whether tok names one of the doc's tokens (see json_field.h). */
static bool is_token(const sf_jf_doc *doc, int tok) { return tok >= 0 && tok < doc->ntok; }

/* The index just past token i's subtree. */
static int skip(const jsmntok_t *tok, int ntok, int i)
{
    int end = tok[i].end;
    int j = i + 1;
    while (j < ntok && tok[j].start < end)
        j++;
    return j;
}

int sf_jf_member(const sf_jf_doc *doc, int obj, const char *key)
{
    const jsmntok_t *tok = doc->tokens;
    if (!is_token(doc, obj) || tok[obj].type != JSMN_OBJECT)
        return SF_JF_ABSENT;
    int found = SF_JF_ABSENT;
    int i = obj + 1;
    for (int m = 0; m < tok[obj].size && i + 1 < doc->ntok; m++) {
        char name[64];
        if (sf_jf_string(doc, i, name, sizeof name) && strcmp(name, key) == 0) {
            if (found != SF_JF_ABSENT)
                return SF_JF_DUPLICATE;
            found = i + 1;
        }
        i = skip(tok, doc->ntok, i + 1);
    }
    return found;
}

sf_jf_kind sf_jf_kind_of(const sf_jf_doc *doc, int tok_index)
{
    const jsmntok_t *tok = doc->tokens;
    if (!is_token(doc, tok_index))
        return SF_JF_NONE;
    switch (tok[tok_index].type) {
    case JSMN_OBJECT:
        return SF_JF_OBJECT;
    case JSMN_ARRAY:
        return SF_JF_ARRAY;
    case JSMN_STRING:
        return SF_JF_STRING;
    default:
        return SF_JF_PRIMITIVE;
    }
}

void sf_jf_span(const sf_jf_doc *doc, int tok_index, const char **start, size_t *len)
{
    if (!is_token(doc, tok_index)) {
        *start = "";
        *len = 0;
        return;
    }
    const jsmntok_t *t = &((const jsmntok_t *)doc->tokens)[tok_index];
    int quote = t->type == JSMN_STRING; /* jsmn's string token excludes its quotes */
    *start = doc->text + t->start - quote;
    *len = (size_t)(t->end - t->start + 2 * quote);
}

int sf_jf_count(const sf_jf_doc *doc, int tok_index)
{
    if (!is_token(doc, tok_index))
        return 0;
    const jsmntok_t *t = &((const jsmntok_t *)doc->tokens)[tok_index];
    return t->type == JSMN_ARRAY || t->type == JSMN_OBJECT ? t->size : 0;
}

int sf_jf_next(const sf_jf_doc *doc, int tok_index)
{
    if (!is_token(doc, tok_index))
        return SF_JF_ABSENT;
    return skip(doc->tokens, doc->ntok, tok_index);
}

static int hex4(const char *s)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

/* The UTF-8 encoding of code point cp (at most U+10FFFF) into enc; its length. */
static size_t utf8_encode(long cp, unsigned char enc[4])
{
    if (cp < 0x80) {
        enc[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        enc[0] = (unsigned char)(0xC0 | (cp >> 6));
        enc[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        enc[0] = (unsigned char)(0xE0 | (cp >> 12));
        enc[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        enc[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    enc[0] = (unsigned char)(0xF0 | (cp >> 18));
    enc[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    enc[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    enc[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

/* The code point of the \u escape whose hex digits start at s[*i], a surrogate pair joined;
 * *i moves past it. -1 on bad hex, an escaped NUL or a lone surrogate. */
static long unicode_escape(const char *s, size_t len, size_t *i)
{
    if (*i + 4 > len)
        return -1;
    long cp = hex4(s + *i);
    *i += 4;
    if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
        return -1; /* bad hex, escaped NUL, lone low surrogate */
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (*i + 6 > len || s[*i] != '\\' || s[*i + 1] != 'u')
            return -1; /* lone high surrogate */
        long lo = hex4(s + *i + 2);
        if (lo < 0xDC00 || lo > 0xDFFF)
            return -1;
        *i += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return cp;
}

/* The escape at s[*i] (a backslash) as UTF-8 into enc; its length, 0 when it is not a JSON
 * escape. *i moves past it. */
static size_t unescape(const char *s, size_t len, size_t *i, unsigned char enc[4])
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (*i + 1 >= len)
        return 0;
    char e = s[*i + 1];
    *i += 2;
    if (e == 'u') {
        long cp = unicode_escape(s, len, i);
        return cp < 0 ? 0 : utf8_encode(cp, enc);
    }
    const char *at = e ? strchr(from, e) : NULL;
    if (!at)
        return 0;
    enc[0] = (unsigned char)to[at - from];
    return 1;
}

bool sf_jf_string(const sf_jf_doc *doc, int tok_index, char *out, size_t cap)
{
    if (!is_token(doc, tok_index) || cap == 0)
        return false;
    const jsmntok_t *t = &((const jsmntok_t *)doc->tokens)[tok_index];
    if (t->type != JSMN_STRING)
        return false;
    const char *s = doc->text + t->start;
    size_t len = (size_t)(t->end - t->start), o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char enc[4];
        size_t n = 1;
        if (s[i] != '\\')
            enc[0] = (unsigned char)s[i++];
        else if ((n = unescape(s, len, &i, enc)) == 0)
            return false;
        if (o + n >= cap)
            return false;
        memcpy(out + o, enc, n);
        o += n;
    }
    out[o] = '\0';
    return true;
}

bool sf_jf_int(const sf_jf_doc *doc, int tok_index, int64_t *v)
{
    if (!is_token(doc, tok_index))
        return false;
    const jsmntok_t *t = &((const jsmntok_t *)doc->tokens)[tok_index];
    if (t->type != JSMN_PRIMITIVE)
        return false;
    const char *s = doc->text + t->start;
    size_t len = (size_t)(t->end - t->start), i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len || (s[i] == '0' && i + 1 < len))
        return false;
    uint64_t acc = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false; /* fraction, exponent, true/false/null */
        unsigned d = (unsigned)(s[i] - '0');
        if (acc > (limit - d) / 10)
            return false;
        acc = acc * 10 + d;
    }
    *v = neg ? (acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc) : (int64_t)acc;
    return true;
}
