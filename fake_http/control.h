/* SPDX-License-Identifier: MIT */
/* control.h: syncfake's own routes under /_syncfake/ (control.c), for the dispatcher. */
#ifndef SF_HTTP_CONTROL_H
#define SF_HTTP_CONTROL_H

#include "http_ctx.h"

/* Answers a request whose first segment is "_syncfake" (through control.c's route table). */
int sf_http_control(sf_http_ctx *c);

#endif
