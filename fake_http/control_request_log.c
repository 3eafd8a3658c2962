/* SPDX-License-Identifier: MIT */
/* control_request_log.c: GET/POST /_syncfake/request-log, the control API's switch for the
 * server's request log (request_log.h). GET: {"enabled": true|false}; POST Enabled=true|false
 * turns it on or off for the whole server, so only fake-wide callers may. In process there is
 * no log: 404 with a message that says so. */
#include "control_access.h"
#include "control_params.h"
#include "control_routes.h"
#include "render.h"

#include <string.h>
#include <strings.h>

/* POST's one parameter, Enabled: true or false; anything else is 400 naming it. */
static int set_enabled(sf_http_ctx *c)
{
    if (!sf_http_fake_wide(c))
        return sf_http_fail_status(c, SF_ERR_FORBIDDEN); /* the log is the whole server's */
    const char *v = NULL;
    for (size_t i = 0; i < c->params.count; i++) {
        if (strcmp(c->params.fields[i].name, "Enabled") != 0)
            return sf_http_control_bad_param(c, "Invalid parameter: request-log takes only Enabled "
                                                "(true or false)");
        v = c->params.fields[i].value;
    }
    bool on;
    if (!v || !sf_http_parse_bool(v, &on))
        return sf_http_control_bad_param(c, "Invalid parameter: Enabled must be true or false");
    c->resp->request_log_set = on ? SF_HTTP_REQUEST_LOG_ON : SF_HTTP_REQUEST_LOG_OFF;
    return on ? SF_HTTP_REQUEST_LOG_ON : SF_HTTP_REQUEST_LOG_OFF;
}

int sf_http_control_request_log(sf_http_ctx *c)
{
    if (!sf_http_is(c, "GET") && !sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "GET, POST");
    if (c->req->request_log == SF_HTTP_REQUEST_LOG_NONE)
        return sf_http_not_found_note(c, ": only syncfake-server has a request log");
    int state = c->req->request_log;
    if (sf_http_is(c, "POST")) {
        state = set_enabled(c);
        if (state != SF_HTTP_REQUEST_LOG_ON && state != SF_HTTP_REQUEST_LOG_OFF)
            return state; /* an error answer */
    }
    sf_http_buf_printf(&c->body, "{\"enabled\": %s}",
                       state == SF_HTTP_REQUEST_LOG_ON ? "true" : "false");
    return sf_http_json(c, 200);
}
