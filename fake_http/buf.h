/* SPDX-License-Identifier: MIT */
/* buf.h: a growable byte buffer for response bodies, with JSON helpers. A failed allocation
 * sets `failed` and later appends do nothing, so writers check once at the end. */
#ifndef SF_HTTP_BUF_H
#define SF_HTTP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf_http_buf {
    char *data;
    size_t len, cap;
    bool failed;
} sf_http_buf;

void sf_http_buf_init(sf_http_buf *b);
void sf_http_buf_free(sf_http_buf *b);
void sf_http_buf_add(sf_http_buf *b, const char *s, size_t n);
void sf_http_buf_str(sf_http_buf *b, const char *s);
void sf_http_buf_printf(sf_http_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The characters of a JSON string, escaped per RFC 8259, without the quotes. */
void sf_http_buf_json_chars(sf_http_buf *b, const char *s);
/* A JSON string literal, escaped per RFC 8259 (the input is UTF-8; bytes are kept). */
void sf_http_buf_json_string(sf_http_buf *b, const char *s);
/* A JSON string or null. */
void sf_http_buf_json_string_or_null(sf_http_buf *b, const char *s);

#endif
