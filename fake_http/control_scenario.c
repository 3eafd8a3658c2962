/* SPDX-License-Identifier: MIT */
/* control_scenario.c: POST /_syncfake/scenario plays a scenario (syncfake_scenario.h) against
 * the server's fake as the calling account: its services, streams, subscribers and fault
 * rules are that account's. Only the fake-wide caller (the default account or the admin
 * credential) may move the clock, as with POST /_syncfake/clock.
 *
 * The text is the form parameter `Scenario`, or the whole body sent as text/plain. A text
 * that does not parse answers 400/20001 naming the line, and nothing changes; one that ran,
 * wholly or until a step failed, answers 200 with its report. */
#include "control_scenario.h"
#include "control_access.h"
#include "control_params.h"
#include "render.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "syncfake_scenario.h"

static bool text_plain(const sf_http_request *req)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (strcasecmp(req->headers[i].name, "Content-Type") == 0)
            return strncasecmp(req->headers[i].value, "text/plain", 10) == 0;
    return false;
}

static void render_failures(sf_http_buf *b, const sf_scenario_report *r)
{
    sf_http_buf_str(b, "\"failures\": [");
    for (size_t i = 0; i < r->failure_count; i++) {
        sf_http_buf_printf(b, "%s{\"line\": %zu, \"message\": ", i ? ", " : "",
                           r->failures[i].line);
        sf_http_buf_json_string(b, r->failures[i].message);
        sf_http_buf_str(b, "}");
    }
    sf_http_buf_str(b, "], \"subscribers\": [");
    for (size_t i = 0; i < r->subscriber_count; i++) {
        sf_http_buf_printf(b, "%s{\"name\": ", i ? ", " : "");
        sf_http_buf_json_string(b, r->subscribers[i].name);
        sf_http_buf_printf(b, ", \"id\": %llu}", (unsigned long long)r->subscribers[i].id);
    }
    sf_http_buf_str(b, "]");
}

void sf_http_render_scenario_report(sf_http_buf *b, const sf_scenario_report *r,
                                    const sf_error *err)
{
    sf_http_buf_printf(b,
                       "{\"completed\": %s, \"passed\": %s, \"steps\": %zu, \"steps_run\": %zu, "
                       "\"expects_passed\": %zu, \"expects_failed\": %zu, \"error\": ",
                       r->completed ? "true" : "false", r->passed ? "true" : "false", r->steps,
                       r->steps_run, r->expects_passed, r->expects_failed);
    if (r->completed || !err) {
        sf_http_buf_str(b, "null, ");
    } else {
        sf_http_buf_printf(b, "{\"line\": %zu, \"status\": %d, \"code\": %d, \"message\": ",
                           r->error_line, err->http_status, err->code);
        sf_http_buf_json_string(b, err->message);
        sf_http_buf_str(b, "}, ");
    }
    render_failures(b, r);
    sf_http_buf_str(b, "}");
}

int sf_http_control_scenario(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    const char *text = sf_http_form_get(&c->params, "Scenario");
    size_t len = text ? strlen(text) : 0;
    if (!text && text_plain(c->req)) {
        text = c->req->body ? c->req->body : "";
        len = c->req->body_len;
    }
    sf_error err;
    if (!text)
        return sf_http_control_bad_param(
            c, "Scenario is required (a form parameter or a text/plain body)");
    bool fake_wide = sf_http_fake_wide(c);
    sf_scenario_options opts = {.account_sid = fake_wide ? NULL : c->account_sid,
                                .no_clock = !fake_wide};
    sf_scenario_report *report = malloc(sizeof *report); /* large for a stack frame */
    if (!report)
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    sf_status s = sf_scenario_run(c->fake, text, len, &opts, report, &err);
    if (s == SF_ERR_NOMEM || (s != SF_OK && report->steps_run == 0)) {
        free(report); /* nothing ran: the error alone (a parse error names its line) */
        return sf_http_fail(c, &err);
    }
    sf_http_render_scenario_report(&c->body, report, &err);
    free(report);
    return sf_http_json(c, 200);
}
