/* SPDX-License-Identifier: MIT */
/* respond.c: how a route handler finishes its response (JSON, 204, a Twilio error, the
 * path-naming 404) and the route-table lookup the dispatcher and the control API share. */
#include "http_ctx.h"
#include "render.h"

#include <stdio.h>
#include <string.h>

/* ---- responses ---- */

bool sf_http_is(const sf_http_ctx *c, const char *method) { return strcmp(c->method, method) == 0; }

int sf_http_json(sf_http_ctx *c, int status)
{
    c->resp->status = status;
    c->resp->content_type = "application/json";
    return status;
}

int sf_http_no_content(sf_http_ctx *c)
{
    c->resp->status = 204;
    c->resp->content_type = NULL;
    c->body.len = 0;
    return 204;
}

int sf_http_fail(sf_http_ctx *c, const sf_error *err)
{
    /* The core names the resource as it was given to it (decoded); on the wire the message
     * names the path as requested, in full. */
    if (err->status == SF_ERR_NOT_FOUND)
        return sf_http_not_found(c);
    c->body.len = 0;
    sf_http_render_error(&c->body, err);
    return sf_http_json(c, err->http_status);
}

int sf_http_fail_status(sf_http_ctx *c, sf_status status)
{
    sf_error err;
    sf_http_status_error(status, NULL, &err);
    return sf_http_fail(c, &err);
}

int sf_http_not_found(sf_http_ctx *c) { return sf_http_not_found_note(c, ""); }

int sf_http_not_found_note(sf_http_ctx *c, const char *note)
{
    const char *path = c->path;
    if (strncmp(path, "/v1/", 4) == 0)
        path += 3;
    /* the table's message is a format with the path in its %s; written here rather than
     * through sf_error, whose message buffer is bounded; `note` follows the message */
    const char *format = sf_status_message(SF_ERR_NOT_FOUND);
    const char *hole = strstr(format, "%s");
    int code = sf_status_code(SF_ERR_NOT_FOUND);
    c->body.len = 0;
    sf_http_buf_printf(&c->body, "{\"code\": %d, \"message\": \"", code);
    sf_http_buf_add(&c->body, format, (size_t)(hole - format)); /* plain text */
    sf_http_buf_json_chars(&c->body, path);
    sf_http_buf_json_chars(&c->body, hole + 2);
    sf_http_buf_json_chars(&c->body, note);
    sf_http_buf_printf(&c->body,
                       "\", \"more_info\": \"https://www.twilio.com/docs/errors/%d\", "
                       "\"status\": %d}",
                       code, sf_status_http(SF_ERR_NOT_FOUND));
    return sf_http_json(c, sf_status_http(SF_ERR_NOT_FOUND));
}

sf_http_handler sf_http_route_find(const sf_http_route *routes, size_t count, const sf_http_ctx *c,
                                   size_t segment)
{
    size_t n = c->segment_count;
    if (n <= segment)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (n >= routes[i].min_segments && n <= routes[i].max_segments &&
            strcmp(c->segments[segment], routes[i].name) == 0)
            return routes[i].handle;
    return NULL;
}
