/* SPDX-License-Identifier: MIT */
/* control_params.h: the control API's parameter checks (control_params.c). */
#ifndef SF_HTTP_CONTROL_PARAMS_H
#define SF_HTTP_CONTROL_PARAMS_H

#include "http_ctx.h"

/* 400/20001 "Invalid parameter: <what>". Returns the status. */
int sf_http_control_bad_param(sf_http_ctx *c, const char *what);

/* A parameter the route does not take: answers 400 naming it, the nearest known name and
 * the names the route takes, and returns 400; 0 when all are known (or the route is not
 * one this file lists). */
int sf_http_control_check_params(sf_http_ctx *c);

/* "service.create, service.fetch, ..." (every sf_op). */
void sf_http_operation_names(char *out, size_t cap);

/* A stream rule's Target (SID or unique name, in ServiceSid or in any of the caller's
 * services; every_account: any account's) as a SID. 0 on success, else the status of the
 * 400 it answered. */
int sf_http_control_stream_target(sf_http_ctx *c, const char *target, const char *service_sid,
                                  bool every_account, char sid_out[SF_SID_SIZE]);

#endif
