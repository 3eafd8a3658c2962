/* SPDX-License-Identifier: MIT */
/* http_ctx.h: what the route handlers of the HTTP face share: the request being answered and
 * the responses they finish it with (respond.c, refused.c, unemulated.c). The handlers never
 * include the dispatcher (dispatch.c): it reaches them through route tables (control.h). */
#ifndef SF_HTTP_CTX_H
#define SF_HTTP_CTX_H

#include "buf.h"
#include "codec.h"
#include "syncfake_http.h"

#define SF_HTTP_MAX_SEGMENTS 8
#define SF_HTTP_COUNT(array) (sizeof(array) / sizeof((array)[0]))

typedef struct sf_http_ctx {
    sf_fake *fake;
    const sf_http_request *req;
    sf_http_response *resp;
    char account_sid[SF_SID_SIZE];
    bool admin; /* authenticated with the request's admin credential */
    const char *method;
    const char *path;                     /* raw path, still encoded, NUL-terminated copy */
    char *segments[SF_HTTP_MAX_SEGMENTS]; /* each decoded on its own */
    size_t segment_count;
    sf_http_form params; /* query for GET/DELETE, body for POST */
    sf_http_buf body;
    const char *bad_param; /* the parameter a parse refused, named in its 20001 */
} sf_http_ctx;

/* Finishes the response with a Twilio error body. Returns the status. */
int sf_http_fail(sf_http_ctx *c, const sf_error *err);
/* The same for a status of the core table (its standard message). */
int sf_http_fail_status(sf_http_ctx *c, sf_status status);
/* 404 naming the requested path (without "/v1"). */
int sf_http_not_found(sf_http_ctx *c);
/* The same with `note` (plain text, JSON-escaped here) after the message. */
int sf_http_not_found_note(sf_http_ctx *c, const char *note);
/* Whether a /v1/Services/{IS}/... path is one of Sync's resources syncfake does not emulate
 * (unemulated.c), and the 404 for it, whose message says so. */
bool sf_http_unemulated(const sf_http_ctx *c);
int sf_http_unemulated_not_found(sf_http_ctx *c);
/* 405 with an Allow header. */
int sf_http_method_not_allowed(sf_http_ctx *c, const char *allow);
/* Finishes a JSON response of the body built so far. */
int sf_http_json(sf_http_ctx *c, int status);
int sf_http_no_content(sf_http_ctx *c);
bool sf_http_is(const sf_http_ctx *c, const char *method);

/* A request refused before it reached an operation: a `refused` journal entry (refused.c)
 * and the status's Twilio error. Returns the status. */
int sf_http_refuse(sf_http_ctx *c, sf_status status, sf_refusal reason);

/* A route's handler: answers the request, returns the status. */
typedef int (*sf_http_handler)(sf_http_ctx *c);

/* One entry of a route table: the handler of the paths that have `name` at the segment the
 * table looks at and min_segments..max_segments segments in all. */
typedef struct sf_http_route {
    const char *name;
    size_t min_segments, max_segments;
    sf_http_handler handle;
} sf_http_route;

/* The handler of the first of `count` routes matching c's path at segment `segment`, or NULL
 * (respond.c). */
sf_http_handler sf_http_route_find(const sf_http_route *routes, size_t count, const sf_http_ctx *c,
                                   size_t segment);

#endif
