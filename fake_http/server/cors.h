/* SPDX-License-Identifier: MIT */
/* cors.h: CORS for syncfake's control API (/_syncfake/...), so that test code running in a
 * browser page on another origin (component tests, browser-mode test runners) can mint tokens,
 * move the clock, add faults and read the journal. Only the control API: REST v1 (/v1/...) and
 * the WebSocket endpoint are answered as before.
 *
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) needs no credentials: 204
 * with the allowed methods and headers for an allowed origin, 403 for any other. Other answers
 * to an allowed origin carry Access-Control-Allow-Origin (that origin, never "*") and
 * Vary: Origin. No cookies are involved (the control API takes Basic credentials in the
 * Authorization header), so Access-Control-Allow-Credentials is never sent. */
#ifndef SF_CORS_H
#define SF_CORS_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#define SF_CORS_MAX_ORIGINS 16 /* --cors-origin given more often: refused */
#define SF_CORS_ORIGIN_MAX 255 /* characters of one origin */
#define SF_CORS_MAX_AGE "600"  /* seconds a browser may keep a preflight's answer */
#define SF_CORS_METHODS "GET, POST, DELETE"
#define SF_CORS_HEADERS "Authorization, Content-Type"

/* Allowed origins: exact ones ("http://127.0.0.1:5173") and ones of any port on a host
 * ("http://localhost:*", which also allows "http://localhost"). */
typedef struct sf_cors {
    size_t count;
    char origins[SF_CORS_MAX_ORIGINS][SF_CORS_ORIGIN_MAX + 1];
} sf_cors;

/* The default: pages served from the loopback host, http://127.0.0.1:* and http://localhost:*. */
void sf_cors_default(sf_cors *cors);

/* Adds an allowed origin: "http://" or "https://", a host of A-Z a-z 0-9 . - (or an IPv6
 * address in brackets), then nothing, ":PORT" or ":*". false (nothing added) when malformed,
 * too long or when SF_CORS_MAX_ORIGINS are there. */
bool sf_cors_add(sf_cors *cors, const char *origin);

/* Whether a request's Origin header value is allowed. */
bool sf_cors_allows(const sf_cors *cors, const char *origin);

typedef enum sf_cors_kind {
    SF_CORS_NONE,     /* not the control API, or no Origin header: no CORS headers */
    SF_CORS_REQUEST,  /* a request to the control API from a page */
    SF_CORS_PREFLIGHT /* a preflight of one */
} sf_cors_kind;

/* What a request is to CORS (`url` as received, still percent-encoded; `cors` NULL: always
 * SF_CORS_NONE). *allowed is its Origin when that is allowed, else NULL; it points into the
 * connection's headers and lives as long as the request. */
sf_cors_kind sf_cors_classify(const sf_cors *cors, struct MHD_Connection *conn, const char *url,
                              const char *method, const char **allowed);

/* Adds the CORS headers of an answer to an allowed origin (nothing when allowed is NULL); a
 * preflight's answer also names the methods, headers and max age. */
void sf_cors_headers(struct MHD_Response *resp, const char *allowed, bool preflight);

#endif
