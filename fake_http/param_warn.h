/* SPDX-License-Identifier: MIT */
/* param_warn.h: warnings about REST parameters Twilio would ignore (param_warn.c). */
#ifndef SF_HTTP_PARAM_WARN_H
#define SF_HTTP_PARAM_WARN_H

#include "http_ctx.h"

/* The operation a /v1 route runs (segments and method already checked to be a route);
 * false for a method the route does not take. */
bool sf_http_route_op(const sf_http_ctx *c, sf_op *op);

/* Warns (header, journal, hook) about each parameter `op` does not know and about a body that
 * is not a form. Returns 0, or in strict mode the status of the 400 it answered. */
int sf_http_warn_params(sf_http_ctx *c, sf_op op);

/* The known name nearest to `name` (another letter case, or a few edits away), or NULL.
 * `known` is NULL-terminated. */
const char *sf_http_nearest_name(const char *name, const char *const *known);

/* A name as messages show it: printable ASCII, cut at 64 characters ("..."). */
#define SF_HTTP_NAME_SHOWN_SIZE 68
void sf_http_shown_name(const char *name, char out[SF_HTTP_NAME_SHOWN_SIZE]);
/* The NULL-terminated names as "a, b, c" into out (cut to cap bytes, NUL included). */
void sf_http_list_names(const char *const *known, char *out, size_t cap);

#endif
