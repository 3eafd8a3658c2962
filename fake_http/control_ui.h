/* SPDX-License-Identifier: MIT */
/* control_ui.h: the page at /_syncfake/ui (control_ui.c). */
#ifndef SF_CONTROL_UI_H
#define SF_CONTROL_UI_H

#include "http_ctx.h"

/* GET /_syncfake/ui (the page) and /_syncfake/ui/NAME (its scripts and style). */
int sf_http_control_ui(sf_http_ctx *c);

#endif
