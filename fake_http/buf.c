/* SPDX-License-Identifier: MIT */
/* buf.c: see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sf_http_buf_init(sf_http_buf *b) { memset(b, 0, sizeof *b); }

void sf_http_buf_init_max(sf_http_buf *b, size_t max)
{
    sf_http_buf_init(b);
    b->max = max;
}

void sf_http_buf_free(sf_http_buf *b)
{
    size_t max = b->max;
    free(b->data);
    sf_http_buf_init_max(b, max);
}

bool sf_http_buf_fits(const sf_http_buf *b, size_t n)
{
    return b->max == 0 || (n <= b->max && sf_http_buf_pending(b) <= b->max - n);
}

bool sf_http_buf_reserve(sf_http_buf *b, size_t n)
{
    if (!sf_http_buf_fits(b, n) || n > SIZE_MAX / 2 - b->len)
        return false;
    if (b->off > 0 && (b->off == b->len || b->len + n + 1 > b->cap)) {
        memmove(b->data, b->data + b->off, sf_http_buf_pending(b));
        b->len -= b->off;
        b->off = 0;
    }
    if (b->len + n + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
        cap *= 2;
    char *data = realloc(b->data, cap);
    if (!data)
        return false;
    b->data = data;
    b->cap = cap;
    return true;
}

void sf_http_buf_put(sf_http_buf *b, const void *data, size_t n)
{
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sf_http_buf_consume(sf_http_buf *b, size_t n)
{
    b->off += n;
    if (b->off == b->len)
        b->off = b->len = 0;
}

void sf_http_buf_clear(sf_http_buf *b, size_t keep)
{
    b->off = b->len = 0;
    if (b->cap > keep) {
        free(b->data);
        b->data = NULL;
        b->cap = 0;
    } else if (b->data) {
        b->data[0] = '\0';
    }
}

/* The sticky appenders' reserve: a failure is kept in `failed`. */
static bool reserve(sf_http_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (sf_http_buf_reserve(b, extra))
        return true;
    b->failed = true;
    return false;
}

void sf_http_buf_add(sf_http_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sf_http_buf_str(sf_http_buf *b, const char *s) { sf_http_buf_add(b, s, strlen(s)); }

void sf_http_buf_printf(sf_http_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void sf_http_buf_json_chars(sf_http_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        char u[7];
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20) {
            memcpy(u, "\\u00", 4);
            u[4] = hex[c >> 4];
            u[5] = hex[c & 15];
            u[6] = '\0';
            esc = u;
        }
        if (esc) {
            sf_http_buf_add(b, run, (size_t)(s - run));
            sf_http_buf_str(b, esc);
            run = s + 1;
        }
    }
    sf_http_buf_add(b, run, (size_t)(s - run));
}

void sf_http_buf_json_string(sf_http_buf *b, const char *s)
{
    sf_http_buf_add(b, "\"", 1);
    sf_http_buf_json_chars(b, s);
    sf_http_buf_add(b, "\"", 1);
}

void sf_http_buf_json_string_or_null(sf_http_buf *b, const char *s)
{
    if (s)
        sf_http_buf_json_string(b, s);
    else
        sf_http_buf_str(b, "null");
}
