/* SPDX-License-Identifier: MIT */
/* control_routes.h: the control routes that live outside control.c, named in its route
 * table (each answers one /_syncfake/<name> path; see the file of each). */
#ifndef SF_HTTP_CONTROL_ROUTES_H
#define SF_HTTP_CONTROL_ROUTES_H

#include "http_ctx.h"

/* /_syncfake/faults and /_syncfake/faults/{id} (control_faults.c). */
int sf_http_control_faults(sf_http_ctx *c);
/* POST /_syncfake/errors (control_faults.c). */
int sf_http_control_errors(sf_http_ctx *c);
/* One fault rule as GET /_syncfake/faults shows it (control_faults.c; /state uses it too). */
void sf_http_control_render_fault(sf_http_buf *b, const sf_fault_info *f);
/* POST /_syncfake/tokens (control_tokens.c). */
int sf_http_control_tokens(sf_http_ctx *c);
/* GET /_syncfake/Services/{IS}/Streams/{TO}/Events (control_events.c). */
int sf_http_control_events(sf_http_ctx *c);
/* GET/POST /_syncfake/request-log (control_request_log.c). */
int sf_http_control_request_log(sf_http_ctx *c);
/* GET/PUT /_syncfake/snapshot (control_snapshot.c). */
int sf_http_control_snapshot(sf_http_ctx *c);

#endif
