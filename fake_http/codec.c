/* SPDX-License-Identifier: MIT */
/* codec.c: see codec.h. */
#include "codec.h"
#include "hex_digit.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool sf_http_percent_decode(const char *s, size_t len, bool plus_is_space, char *out,
                            size_t *out_len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)
                return false;
            int h = sf_hex_digit(s[i + 1]), l = sf_hex_digit(s[i + 2]);
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                return false;
            out[n++] = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out[n++] = ' ';
        } else if (c == '\0') {
            return false;
        } else {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    if (out_len)
        *out_len = n;
    return true;
}

size_t sf_http_percent_encode(const char *s, char *out, size_t cap)
{
    static const char digits[] = "0123456789ABCDEF";
    size_t n = 0, written = 0; /* n: the full length; written: the prefix that fits */
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
        size_t need = plain ? 1 : 3;
        if (written == n && n + need < cap) {
            if (plain) {
                out[n] = (char)c;
            } else {
                out[n] = '%';
                out[n + 1] = digits[c >> 4];
                out[n + 2] = digits[c & 15];
            }
            written += need;
        }
        n += need;
    }
    if (cap)
        out[written] = '\0';
    return n;
}

bool sf_http_form_parse(const char *text, size_t len, sf_http_form *form)
{
    memset(form, 0, sizeof *form);
    if (len == 0)
        return true;
    form->storage = malloc(2 * len + 2); /* every field adds two NULs at most */
    if (!form->storage)
        return false;
    char *dst = form->storage;
    size_t i = 0;
    while (i <= len) {
        size_t end = i;
        while (end < len && text[end] != '&')
            end++;
        if (end > i) { /* empty pieces ("a=1&&b=2") are skipped, as browsers do */
            size_t eq = i;
            while (eq < end && text[eq] != '=')
                eq++;
            if (eq == i || form->count == SF_HTTP_FORM_MAX_FIELDS)
                goto bad;
            size_t n;
            sf_http_field *f = &form->fields[form->count++];
            f->name = dst;
            if (!sf_http_percent_decode(text + i, eq - i, true, dst, &n))
                goto bad;
            dst += n + 1;
            f->value = dst;
            size_t vstart = eq < end ? eq + 1 : end;
            if (!sf_http_percent_decode(text + vstart, end - vstart, true, dst, &n))
                goto bad;
            dst += n + 1;
        }
        i = end + 1;
    }
    return true;
bad:
    sf_http_form_free(form);
    return false;
}

void sf_http_form_free(sf_http_form *form)
{
    free(form->storage);
    memset(form, 0, sizeof *form);
}

const char *sf_http_form_get(const sf_http_form *form, const char *name)
{
    for (size_t i = form->count; i > 0; i--)
        if (strcmp(form->fields[i - 1].name, name) == 0)
            return form->fields[i - 1].value;
    return NULL;
}

bool sf_http_parse_int(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q))
            return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != '\0')
        return false;
    *out = (int64_t)v;
    return true;
}

bool sf_http_parse_bool(const char *s, bool *out)
{
    /* any letter case: Python helper libraries send "True"/"False" */
    if (strcasecmp(s, "true") == 0)
        *out = true;
    else if (strcasecmp(s, "false") == 0)
        *out = false;
    else
        return false;
    return true;
}

int sf_http_base64_digit(char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Standard base64 with padding. false on any other character or a bad length. */
static bool base64_decode(const char *in, size_t len, char *out, size_t cap, size_t *out_len)
{
    if (len % 4 != 0)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; k++) {
            char c = in[i + k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = sf_http_base64_digit(c, false)) < 0) {
                return false;
            }
        }
        uint32_t bits =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        char bytes[3] = {(char)(bits >> 16), (char)(bits >> 8 & 0xff), (char)(bits & 0xff)};
        for (int k = 0; k < 3 - pad; k++) {
            if (n + 1 >= cap)
                return false;
            out[n++] = bytes[k];
        }
    }
    out[n] = '\0';
    *out_len = n;
    return true;
}

/* "Basic " in any letter case, as RFC 7617 allows for the scheme name. */
static int strncasecmp_basic(const char *h)
{
    static const char scheme[] = "basic ";
    for (int i = 0; i < 6; i++)
        if (tolower((unsigned char)h[i]) != scheme[i])
            return 1;
    return 0;
}

bool sf_http_basic_credentials(const char *header, char *user, char *password, size_t cap)
{
    if (!header || strncasecmp_basic(header) != 0)
        return false;
    const char *b64 = header + 6;
    while (*b64 == ' ')
        b64++;
    size_t len = strlen(b64);
    while (len > 0 && b64[len - 1] == ' ')
        len--;
    char decoded[1024];
    size_t n;
    if (len > 4 * (sizeof decoded / 3) || !base64_decode(b64, len, decoded, sizeof decoded, &n))
        return false;
    if (memchr(decoded, '\0', n))
        return false;
    char *colon = memchr(decoded, ':', n);
    if (!colon)
        return false;
    size_t ulen = (size_t)(colon - decoded), plen = n - ulen - 1;
    if (ulen >= cap || plen >= cap)
        return false;
    memcpy(user, decoded, ulen);
    user[ulen] = '\0';
    memcpy(password, colon + 1, plen);
    password[plen] = '\0';
    return true;
}
