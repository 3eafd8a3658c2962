/* SPDX-License-Identifier: MIT */
/* cors.c: see cors.h. */
#include "cors.h"
#include "hex_digit.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

void sf_cors_default(sf_cors *cors)
{
    cors->count = 0;
    sf_cors_add(cors, "http://127.0.0.1:*");
    sf_cors_add(cors, "http://localhost:*");
}

static bool is_host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
}

/* Length of the host at s ("name" or "[v6]"), 0 when there is none. */
static size_t host_len(const char *s)
{
    size_t n = 0;
    if (s[0] == '[') {
        for (n = 1; s[n] && s[n] != ']'; n++)
            if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f') ||
                  (s[n] >= 'A' && s[n] <= 'F') || s[n] == ':' || s[n] == '.'))
                return 0;
        return s[n] == ']' && n > 1 ? n + 1 : 0;
    }
    while (is_host_char(s[n]))
        n++;
    return n;
}

/* 1 to 5 digits and nothing after them. */
static bool is_port(const char *s)
{
    size_t n = strspn(s, "0123456789");
    return n >= 1 && n <= 5 && s[n] == '\0';
}

/* Length of "scheme://" at s for http and https, else 0. */
static size_t scheme_len(const char *s)
{
    if (strncmp(s, "http://", 7) == 0)
        return 7;
    if (strncmp(s, "https://", 8) == 0)
        return 8;
    return 0;
}

bool sf_cors_add(sf_cors *cors, const char *origin)
{
    if (!origin || cors->count >= SF_CORS_MAX_ORIGINS || strlen(origin) > SF_CORS_ORIGIN_MAX)
        return false;
    size_t at = scheme_len(origin);
    size_t host = at ? host_len(origin + at) : 0;
    if (!host)
        return false;
    const char *rest = origin + at + host;
    if (*rest && !(rest[0] == ':' && (strcmp(rest + 1, "*") == 0 || is_port(rest + 1))))
        return false;
    snprintf(cors->origins[cors->count++], SF_CORS_ORIGIN_MAX + 1, "%s", origin);
    return true;
}

/* Whether origin matches one allowed pattern: exactly, or for "...:*" the same scheme and
 * host with any port or none. Scheme and host as browsers send them: lowercase, compared
 * without regard to case all the same. */
static bool matches(const char *pattern, const char *origin)
{
    size_t n = strlen(pattern);
    if (n >= 2 && strcmp(pattern + n - 2, ":*") == 0) {
        size_t base = n - 2;
        if (strncasecmp(pattern, origin, base) != 0)
            return false;
        return origin[base] == '\0' || (origin[base] == ':' && is_port(origin + base + 1));
    }
    return strcasecmp(pattern, origin) == 0;
}

bool sf_cors_allows(const sf_cors *cors, const char *origin)
{
    if (!cors || !origin)
        return false;
    for (size_t i = 0; i < cors->count; i++)
        if (matches(cors->origins[i], origin))
            return true;
    return false;
}

/* Whether the path's first segment, percent-decoded as the dispatcher decodes it, is
 * "_syncfake" (so "/%5Fsyncfake/clock" is the control API too). */
static bool is_control_path(const char *url)
{
    static const char want[] = "_syncfake";
    if (!url || url[0] != '/')
        return false;
    size_t w = 0;
    for (const char *p = url + 1; *p && *p != '/'; p++) {
        int c = (unsigned char)*p;
        if (c == '%') {
            int hi = sf_hex_digit(p[1]), lo = hi < 0 ? -1 : sf_hex_digit(p[2]);
            if (lo < 0)
                return false;
            c = hi * 16 + lo;
            p += 2;
        }
        if (w >= sizeof want - 1 || c != want[w])
            return false;
        w++;
    }
    return w == sizeof want - 1;
}

sf_cors_kind sf_cors_classify(const sf_cors *cors, struct MHD_Connection *conn, const char *url,
                              const char *method, const char **allowed)
{
    *allowed = NULL;
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    if (!cors || !origin || !is_control_path(url))
        return SF_CORS_NONE;
    if (sf_cors_allows(cors, origin))
        *allowed = origin;
    bool preflight =
        strcmp(method, "OPTIONS") == 0 &&
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
    return preflight ? SF_CORS_PREFLIGHT : SF_CORS_REQUEST;
}

void sf_cors_headers(struct MHD_Response *resp, const char *allowed, bool preflight)
{
    if (!allowed)
        return;
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", allowed);
    MHD_add_response_header(resp, "Vary", "Origin");
    if (preflight) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", SF_CORS_METHODS);
        MHD_add_response_header(resp, "Access-Control-Allow-Headers", SF_CORS_HEADERS);
        MHD_add_response_header(resp, "Access-Control-Max-Age", SF_CORS_MAX_AGE);
    }
}
