/* SPDX-License-Identifier: MIT */
/* json_check.c: strict RFC 8259 validation of a JSON object and its compact re-emit.
 *
 * jsmn tokenizes (strict mode, parent links) into a token array sized once per fake. jsmn
 * alone accepts some invalid text (it does not check separators between tokens, number
 * grammar, control characters or UTF-8), so a second pass walks the tokens in document order
 * against the text: every byte must be whitespace, the one punctuation mark the grammar
 * expects there, or the token the structure expects next. That pass also writes the compact
 * form, so validation and re-emit cost one scan. */
#include "internal.h"
#include "text.h"

#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include <stdlib.h>
#include <string.h>

typedef struct frame {
    int token;     /* the container's token */
    int remaining; /* members or elements still to read */
    bool is_object;
    bool first;
} frame;

typedef struct walker {
    const char *text;
    size_t len, pos;
    const jsmntok_t *tok;
    int ntok, next;
    char *out;
    size_t out_len;
    frame *stack; /* depth <= ntok */
    int depth;
} walker;

size_t sf__json_token_budget(size_t max_len)
{
    /* every token takes at least two bytes of text, but the last may take one */
    return max_len / 2 + 2;
}

sf_status sf__json_scratch_init(sf_fake *fake)
{
    size_t max = fake->opts.limits.max_data_bytes;
    fake->json_token_cap = sf__json_token_budget(max);
    fake->json_tokens = sf__malloc(fake, fake->json_token_cap * sizeof(jsmntok_t));
    fake->json_frames = sf__malloc(fake, fake->json_token_cap * sizeof(frame));
    fake->data_out_cap = max + 1;
    fake->data_out[0] = sf__malloc(fake, fake->data_out_cap);
    fake->data_out[1] = sf__malloc(fake, fake->data_out_cap);
    if (!fake->json_tokens || !fake->json_frames || !fake->data_out[0] || !fake->data_out[1])
        return SF_ERR_NOMEM;
    return SF_OK;
}

static inline bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool valid_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n)
        return false;
    if (s[i] == '0') {
        i++;
    } else if (s[i] >= '1' && s[i] <= '9') {
        while (i < n && is_digit(s[i]))
            i++;
    } else {
        return false;
    }
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t start = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == start)
            return false;
    }
    return i == n;
}

static bool valid_primitive(const char *s, size_t n)
{
    if (n == 4 && (memcmp(s, "true", 4) == 0 || memcmp(s, "null", 4) == 0))
        return true;
    if (n == 5 && memcmp(s, "false", 5) == 0)
        return true;
    return valid_number(s, n);
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* String content between the quotes: escapes, no control characters, valid UTF-8. */
static bool valid_string(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (i + 1 >= n)
                return false;
            char e = s[i + 1];
            if (e == 'u') {
                if (i + 6 > n || !is_hex(s[i + 2]) || !is_hex(s[i + 3]) || !is_hex(s[i + 4]) ||
                    !is_hex(s[i + 5]))
                    return false;
                i += 6;
            } else if (strchr("\"\\/bfnrt", e) && e != '\0') {
                i += 2;
            } else {
                return false;
            }
        } else if (c < 0x80) {
            i++;
        } else {
            size_t len = sf__utf8_seq(p + i, n - i);
            if (len == 0)
                return false;
            i += len;
        }
    }
    return true;
}

static inline void skip_ws(walker *w)
{
    while (w->pos < w->len && is_ws(w->text[w->pos]))
        w->pos++;
}

static bool expect(walker *w, char c)
{
    skip_ws(w);
    if (w->pos >= w->len || w->text[w->pos] != c)
        return false;
    w->out[w->out_len++] = c;
    w->pos++;
    return true;
}

static void emit(walker *w, size_t from, size_t to)
{
    memcpy(w->out + w->out_len, w->text + from, to - from);
    w->out_len += to - from;
}

/* Reads the value whose token is next; containers are pushed, not descended into. */
static bool value(walker *w, bool key)
{
    skip_ws(w);
    if (w->next >= w->ntok)
        return false;
    const jsmntok_t *t = &w->tok[w->next];
    size_t start = (size_t)t->start, end = (size_t)t->end;
    switch (t->type) {
    case JSMN_STRING:
        if (start == 0 || start - 1 != w->pos || !valid_string(w->text + start, end - start))
            return false;
        emit(w, start - 1, end + 1);
        w->pos = end + 1;
        break;
    case JSMN_PRIMITIVE:
        if (key || start != w->pos || !valid_primitive(w->text + start, end - start))
            return false;
        emit(w, start, end);
        w->pos = end;
        break;
    case JSMN_OBJECT:
    case JSMN_ARRAY:
        if (key || start != w->pos)
            return false;
        w->out[w->out_len++] = w->text[start];
        w->pos = start + 1;
        w->stack[w->depth++] = (frame){w->next, t->size, t->type == JSMN_OBJECT, true};
        break;
    default:
        return false;
    }
    w->next++;
    return true;
}

static bool walk(walker *w)
{
    skip_ws(w);
    if (w->ntok < 1 || w->tok[0].type != JSMN_OBJECT || !value(w, false))
        return false;
    while (w->depth > 0) {
        frame *f = &w->stack[w->depth - 1];
        if (f->remaining == 0) {
            if (!expect(w, f->is_object ? '}' : ']') || (size_t)w->tok[f->token].end != w->pos)
                return false;
            w->depth--;
            continue;
        }
        if (!f->first && !expect(w, ','))
            return false;
        f->first = false;
        f->remaining--;
        if (f->is_object && (!value(w, true) || !expect(w, ':')))
            return false;
        if (!value(w, false))
            return false;
    }
    skip_ws(w);
    return w->pos == w->len && w->next == w->ntok;
}

sf_status sf__json_compact_with(void *tokens, void *frames, size_t cap, const char *text,
                                size_t len, char *out, size_t *out_len)
{
    jsmn_parser parser;
    jsmn_init(&parser);
    int n = jsmn_parse(&parser, text, len, tokens, (unsigned)cap);
    if (n < 1)
        return SF_ERR_DATA_INVALID;
    /* nesting depth never exceeds the token count, so `cap` frames always suffice */
    walker w = {text, len, 0, tokens, n, 0, out, 0, frames, 0};
    if (!walk(&w))
        return SF_ERR_DATA_INVALID;
    out[w.out_len] = '\0';
    *out_len = w.out_len;
    return SF_OK;
}

sf_status sf_json_compact_object(const char *text, size_t len, char *out, size_t out_cap,
                                 size_t *out_len)
{
    if (!text || !out || !out_len || out_cap < len + 1 || len > SF_DATA_CAP)
        return SF_ERR_INVALID_ARGUMENT;
    size_t cap = sf__json_token_budget(len);
    jsmntok_t *tokens = malloc(cap * sizeof *tokens);
    frame *frames = malloc(cap * sizeof *frames);
    sf_status st = SF_ERR_NOMEM;
    if (tokens && frames)
        st = sf__json_compact_with(tokens, frames, cap, text, len, out, out_len);
    free(tokens);
    free(frames);
    return st;
}
