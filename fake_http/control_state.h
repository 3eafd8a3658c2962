/* SPDX-License-Identifier: MIT */
/* control_state.h: the control API's read-only routes (control_state.c) and what they share
 * with control.c. */
#ifndef SF_HTTP_CONTROL_STATE_H
#define SF_HTTP_CONTROL_STATE_H

#include "dispatch.h"

/* Whether /_syncfake/<name> (one segment) is one of the routes below. */
bool sf_http_control_state_owns(const char *name);
/* GET /_syncfake/state, /_syncfake/subscribers, /_syncfake/timeline.svg. */
int sf_http_control_state(sf_http_ctx *c);
/* Narrows a journal read by ?kind=, ?stream= and ?subscriber=. Returns 0, or the status of
 * the 400 it answered (naming the parameter). */
int sf_http_journal_filters(sf_http_ctx *c, sf_journal_filter *filter);
/* control.c's rendering of one fault rule. */
void sf_http_control_render_fault(sf_http_buf *b, const sf_fault_info *f);

#endif
