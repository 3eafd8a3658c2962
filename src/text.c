/* SPDX-License-Identifier: MIT */
/* text.c: checks on caller-supplied text (UTF-8, URLs). */
#include "internal.h"
#include "text.h"

#include <ctype.h>
#include <string.h>

/* Length in bytes of the UTF-8 sequence at s (of n bytes available), 0 when invalid
 * (overlong forms, surrogates and values above U+10FFFF are invalid, as RFC 3629 says). */
size_t sf__utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned min;
    unsigned cp;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

bool sf__text_chars(const char *s, size_t max_chars, size_t *chars)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    size_t n = strnlen(s, max_chars * 4 + 1);
    if (n > max_chars * 4)
        return false;
    for (size_t i = 0; i < n;) {
        size_t len = sf__utf8_seq(p + i, n - i);
        if (len == 0 || p[i] < 0x20 || p[i] == 0x7f)
            return false;
        i += len;
        if (++count > max_chars)
            return false;
    }
    *chars = count;
    return true;
}

bool sf__valid_http_url(const char *s, size_t max_len)
{
    size_t n = strnlen(s, max_len + 1);
    if (n > max_len)
        return false;
    size_t scheme;
    if (sf__strncasecmp_ascii(s, "http://", 7) == 0)
        scheme = 7;
    else if (sf__strncasecmp_ascii(s, "https://", 8) == 0)
        scheme = 8;
    else
        return false;
    if (n == scheme || s[scheme] == '/' || s[scheme] == '?' || s[scheme] == '#')
        return false; /* no host */
    for (size_t i = 0; i < n; i++)
        if (!isgraph((unsigned char)s[i]))
            return false;
    return true;
}

int sf__strncasecmp_ascii(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int ca = tolower((unsigned char)a[i]), cb = tolower((unsigned char)b[i]);
        if (ca != cb || ca == 0)
            return ca - cb;
    }
    return 0;
}
