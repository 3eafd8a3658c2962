/* SPDX-License-Identifier: MIT */
/* control_access.h: the control routes' parameter readers and account scoping
 * (control_access.c). */
#ifndef SF_HTTP_CONTROL_ACCESS_H
#define SF_HTTP_CONTROL_ACCESS_H

#include "http_ctx.h"

/* The request's form parameter `name`, or NULL. */
const char *sf_http_param(const sf_http_ctx *c, const char *name);
/* Parameter `name` as an integer (a finite double) into *out; true when absent (out kept),
 * false when present and malformed. */
bool sf_http_int_or_absent(const sf_http_ctx *c, const char *name, int64_t *out);
bool sf_http_double_or_absent(const sf_http_ctx *c, const char *name, double *out);
/* Whether the caller is the fake's default account or the admin credential. */
bool sf_http_fake_wide(const sf_http_ctx *c);
/* What the caller's rules, injections and journal reads are limited to: NULL, nothing (a
 * fake-wide caller), else its own account SID. */
const char *sf_http_own_account(const sf_http_ctx *c);

#endif
