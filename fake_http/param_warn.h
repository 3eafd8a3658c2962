/* SPDX-License-Identifier: MIT */
/* param_warn.h: warnings about REST parameters Twilio would ignore (param_warn.c). */
#ifndef SF_HTTP_PARAM_WARN_H
#define SF_HTTP_PARAM_WARN_H

#include "dispatch.h"

/* The operation a /v1 route runs (segments and method already checked to be a route);
 * false for a method the route does not take. */
bool sf_http_route_op(const sf_http_ctx *c, sf_op *op);

/* Warns (header, journal, hook) about each parameter `op` does not know and about a body that
 * is not a form. Returns 0, or in strict mode the status of the 400 it answered. */
int sf_http_warn_params(sf_http_ctx *c, sf_op op);

#endif
