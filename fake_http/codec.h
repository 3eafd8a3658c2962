/* SPDX-License-Identifier: MIT */
/* codec.h: the wire encodings the HTTP face reads: percent-encoding, form bodies and query
 * strings, HTTP Basic credentials, decimal integers. Strict: malformed input is refused. */
#ifndef SF_HTTP_CODEC_H
#define SF_HTTP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes %XX escapes of s[0..len) into out (capacity >= len + 1), NUL-terminated. With
 * plus_is_space, '+' becomes ' ' (forms and queries; not paths). false on a bad escape or an
 * escaped NUL (which could never be a C string). */
bool sf_http_percent_decode(const char *s, size_t len, bool plus_is_space, char *out,
                            size_t *out_len);

/* Encodes for a query value or a path segment: unreserved characters stay, the rest %XX.
 * snprintf semantics: returns the full length; out gets the longest whole prefix that fits. */
size_t sf_http_percent_encode(const char *s, char *out, size_t cap);

#define SF_HTTP_FORM_MAX_FIELDS 64

typedef struct sf_http_field {
    char *name;
    char *value;
} sf_http_field;

/* A decoded form: names and values point into one owned buffer. */
typedef struct sf_http_form {
    sf_http_field fields[SF_HTTP_FORM_MAX_FIELDS];
    size_t count;
    char *storage;
} sf_http_form;

/* Parses application/x-www-form-urlencoded text. Empty text is an empty form. false when an
 * escape is malformed, a field has an empty name or there are too many fields. */
bool sf_http_form_parse(const char *text, size_t len, sf_http_form *form);
void sf_http_form_free(sf_http_form *form);
/* The value of the last field named `name`, or NULL. */
const char *sf_http_form_get(const sf_http_form *form, const char *name);

/* A decimal integer with an optional leading '-', no spaces, no '+', fits int64. */
bool sf_http_parse_int(const char *s, int64_t *out);

/* "true" or "false" in any letter case. */
bool sf_http_parse_bool(const char *s, bool *out);

/* Splits an "Authorization: Basic <base64>" value into user and password (NUL-terminated,
 * each < cap bytes). false when it is not well-formed Basic credentials. */
bool sf_http_basic_credentials(const char *header, char *user, char *password, size_t cap);

/* The value (0..63) of one base64 digit, or -1: the standard alphabet ('+', '/'), or with
 * `url` the base64url one ('-', '_') that JWTs use. */
int sf_http_base64_digit(char c, bool url);

#endif
