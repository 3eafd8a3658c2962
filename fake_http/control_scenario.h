/* SPDX-License-Identifier: MIT */
/* control_scenario.h: POST /_syncfake/scenario (control_scenario.c). */
#ifndef SF_HTTP_CONTROL_SCENARIO_H
#define SF_HTTP_CONTROL_SCENARIO_H

#include "http_ctx.h"
#include "syncfake_scenario.h"

/* Plays a scenario (syncfake_scenario.h) as the calling account and answers its report. */
int sf_http_control_scenario(sf_http_ctx *c);

/* The report as JSON (the endpoint's answer; syncfake-server --scenario prints it too). */
void sf_http_render_scenario_report(sf_http_buf *b, const sf_scenario_report *r,
                                    const sf_error *err);

#endif
