/* SPDX-License-Identifier: MIT */
/* json_field.h: reading a few fields out of a small JSON object (private to fake_http; used by
 * twilsock_frame.c and jwt.c). The text is first checked against strict RFC 8259 with
 * sf_json_compact_object, then tokenized with jsmn under a token budget; members are looked
 * up by their unescaped key, strings are unescaped to UTF-8. Malloc'd with the C library. */
#ifndef SF_HTTP_JSON_FIELD_H
#define SF_HTTP_JSON_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum sf_jf_kind {
    SF_JF_NONE = 0, /* no such token: an absent or duplicate member's SF_JF_ABSENT/DUPLICATE */
    SF_JF_OBJECT,
    SF_JF_ARRAY,
    SF_JF_STRING,
    SF_JF_PRIMITIVE /* number, true, false, null */
} sf_jf_kind;

typedef struct sf_jf_doc {
    const char *text;
    void *tokens; /* jsmntok_t[ntok], owned */
    int ntok;
} sf_jf_doc;

#define SF_JF_ABSENT (-1)
#define SF_JF_DUPLICATE (-2)

/* Parses text[0..len): one strict JSON object with at most max_tokens tokens. Token 0 is
 * the object. false when malformed, nested deeper than SF_JSON_FIELD_MAX_DEPTH
 * (json_depth.h), over budget or out of memory (doc then needs no free). */
bool sf_jf_parse_object(sf_jf_doc *doc, const char *text, size_t len, size_t max_tokens);
/* Same, nested at most max_depth deep (a Twilsock payload's cap is not a header's). */
bool sf_jf_parse_object_within(sf_jf_doc *doc, const char *text, size_t len, size_t max_tokens,
                               unsigned max_depth);
void sf_jf_free(sf_jf_doc *doc);

/* Every reader below takes any token index: one that names no token (SF_JF_ABSENT,
 * SF_JF_DUPLICATE, or any index of a doc that did not parse, which has no tokens) reads as
 * nothing: no member, kind SF_JF_NONE, false, 0, an empty span. So a lookup chain needs no
 * checks in between, and an unreadable doc has no members. */

/* The value token of member `key` of object token `obj`: SF_JF_ABSENT, or SF_JF_DUPLICATE
 * when the key appears more than once. */
int sf_jf_member(const sf_jf_doc *doc, int obj, const char *key);

sf_jf_kind sf_jf_kind_of(const sf_jf_doc *doc, int tok);

/* A value's text as sent (a string with its quotes): *start and *len. */
void sf_jf_span(const sf_jf_doc *doc, int tok, const char **start, size_t *len);

/* How many elements an array token holds (members for an object, 0 otherwise). */
int sf_jf_count(const sf_jf_doc *doc, int tok);

/* The token after tok's whole value: from an array's first element (tok + 1), the next. */
int sf_jf_next(const sf_jf_doc *doc, int tok);

/* A string token unescaped (\" \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs) to UTF-8,
 * NUL-terminated. false when tok is not a string, on a lone surrogate or an escaped NUL, or
 * when the result needs more than cap - 1 bytes. */
bool sf_jf_string(const sf_jf_doc *doc, int tok, char *out, size_t cap);

/* A number token that is an integer (no fraction, no exponent) within int64_t. */
bool sf_jf_int(const sf_jf_doc *doc, int tok, int64_t *v);

#endif
