/* SPDX-License-Identifier: MIT */
/* control_state.h: the control API's read-only routes (control_state.c). */
#ifndef SF_HTTP_CONTROL_STATE_H
#define SF_HTTP_CONTROL_STATE_H

#include "http_ctx.h"

/* GET /_syncfake/state, /_syncfake/subscribers, /_syncfake/timeline.svg. */
int sf_http_control_state(sf_http_ctx *c);
/* Narrows a journal read by ?kind=, ?stream= and ?subscriber=. Returns 0, or the status of
 * the 400 it answered (naming the parameter). */
int sf_http_journal_filters(sf_http_ctx *c, sf_journal_filter *filter);

#endif
