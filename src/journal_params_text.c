/* SPDX-License-Identifier: MIT */
/* journal_params_text.c: the bounded JSON writer the recorded parameters are formatted with.
 * Strings are kept byte-exact: valid UTF-8 as a JSON string, anything else as hex, so that a
 * replay passes the very bytes the original call got. */
#include "journal_params.h"
#include "text.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sf__pb_init(sf__pbuf *pb, sf_fake *fake)
{
    memset(pb, 0, sizeof *pb);
    pb->fake = fake;
    pb->max = fake->params ? SIZE_MAX / 4 : 0;
    pb->first = true;
}

void sf__pb_free(sf__pbuf *pb)
{
    if (pb->data)
        sf__free(pb->fake, pb->data);
    pb->data = NULL;
    pb->len = pb->cap = 0;
}

static bool reserve(sf__pbuf *pb, size_t n)
{
    if (pb->failed)
        return false;
    if (n > pb->max - pb->len) {
        pb->failed = true;
        return false;
    }
    if (pb->len + n + 1 <= pb->cap)
        return true;
    size_t cap = pb->cap ? pb->cap : 128;
    while (cap < pb->len + n + 1)
        cap *= 2;
    char *data = sf__realloc(pb->fake, pb->data, cap);
    if (!data) {
        pb->failed = true;
        return false;
    }
    pb->data = data;
    pb->cap = cap;
    return true;
}

void sf__pb_raw(sf__pbuf *pb, const char *s, size_t n)
{
    if (!reserve(pb, n))
        return;
    memcpy(pb->data + pb->len, s, n);
    pb->len += n;
    pb->data[pb->len] = '\0';
}

void sf__pb_printf(sf__pbuf *pb, const char *fmt, ...)
{
    char tmp[64]; /* numbers and keys only */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        pb->failed = true;
        return;
    }
    sf__pb_raw(pb, tmp, (size_t)n);
}

void sf__pb_key(sf__pbuf *pb, const char *key)
{
    if (!pb->first)
        sf__pb_raw(pb, ",", 1);
    pb->first = false;
    sf__pb_raw(pb, "\"", 1);
    sf__pb_raw(pb, key, strlen(key));
    sf__pb_raw(pb, "\":", 2);
}

void sf__pb_i64(sf__pbuf *pb, const char *key, int64_t v)
{
    sf__pb_key(pb, key);
    sf__pb_printf(pb, "%" PRId64, v);
}

void sf__pb_u64(sf__pbuf *pb, const char *key, uint64_t v)
{
    sf__pb_key(pb, key);
    sf__pb_printf(pb, "%" PRIu64, v);
}

void sf__pb_bool(sf__pbuf *pb, const char *key, bool v)
{
    sf__pb_key(pb, key);
    sf__pb_raw(pb, v ? "true" : "false", v ? 4 : 5);
}

/* %.17g reads back as the same double; NaN and the infinities have no JSON form: null. */
void sf__pb_double(sf__pbuf *pb, const char *key, double v)
{
    sf__pb_key(pb, key);
    if (isfinite(v))
        sf__pb_printf(pb, "%.17g", v);
    else
        sf__pb_raw(pb, "null", 4);
}

static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t k = sf__utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static void json_string(sf__pbuf *pb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    sf__pb_raw(pb, "\"", 1);
    size_t run = 0; /* bytes copied as they are, in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sf__pb_raw(pb, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        if (c == '"' || c == '\\')
            sf__pb_raw(pb, (char[]){'\\', (char)c}, 2);
        else
            sf__pb_raw(pb, esc, 6);
    }
    sf__pb_raw(pb, s + run, n - run);
    sf__pb_raw(pb, "\"", 1);
}

void sf__pb_bytes(sf__pbuf *pb, const char *key, const char *s, size_t n, size_t max)
{
    char name[48];
    if (!s)
        return;
    if (n > max) {
        snprintf(name, sizeof name, "%s_len", key);
        sf__pb_u64(pb, name, n);
        return;
    }
    if (valid_utf8(s, n)) {
        sf__pb_key(pb, key);
        json_string(pb, s, n);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    snprintf(name, sizeof name, "%s_hex", key);
    sf__pb_key(pb, name);
    sf__pb_raw(pb, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        sf__pb_raw(pb, (char[]){hex[c >> 4], hex[c & 15]}, 2);
    }
    sf__pb_raw(pb, "\"", 1);
}

void sf__pb_str(sf__pbuf *pb, const char *key, const char *s)
{
    if (s)
        sf__pb_bytes(pb, key, s, strnlen(s, SF_JOURNAL_PARAM_STRING_MAX + 1),
                     SF_JOURNAL_PARAM_STRING_MAX);
}
