/* SPDX-License-Identifier: MIT */
/* control_events.c: GET /_syncfake/Services/{IS}/Streams/{TO}/Events, where the connection
 * becomes a subscriber and its events arrive as server-sent events (sf_http_sse_format). */
#include "control_routes.h"
#include "render.h"

#include <inttypes.h>
#include <string.h>

int sf_http_control_events(sf_http_ctx *c)
{
    /* segments shift by one from the v1 layout: s[2] = service, s[4] = stream */
    if (strcmp(c->segments[3], "Streams") != 0 || strcmp(c->segments[5], "Events") != 0)
        return sf_http_not_found(c);
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    if (!c->req->events)
        return sf_http_not_found(c);
    sf_subscribe_params sp = {.on_event = c->req->events->on_event,
                              .user = c->req->events->user,
                              .connection = SF_CONNECTION_SSE};
    sf_subscriber_id id;
    sf_error err;
    if (sf_subscribe(c->fake, c->account_sid, c->segments[2], c->segments[4], &sp, &id, &err) !=
        SF_OK)
        return sf_http_fail(c, &err);
    sf_http_buf_printf(&c->body, "event: subscribed\ndata: {\"subscriber_id\": %" PRIu64 "}\n\n",
                       id);
    c->resp->status = 200;
    c->resp->content_type = "text/event-stream";
    c->resp->event_stream = true;
    c->resp->subscriber = id;
    return 200;
}

char *sf_http_sse_format(const sf_event *ev, size_t *len)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED) {
        sf_http_buf_printf(&b,
                           "event: message_published\ndata: {\"stream_sid\": \"%s\", "
                           "\"message_sid\": \"%s\", \"data\": ",
                           ev->stream_sid, ev->message_sid);
        sf_http_buf_add(&b, ev->data, ev->data_len);
        sf_http_buf_printf(&b,
                           ", \"is_duplicate\": %s, \"published_ms\": %" PRId64
                           ", \"delivered_ms\": %" PRId64 "}\n\n",
                           ev->is_duplicate ? "true" : "false", ev->published_ms, ev->delivered_ms);
    } else {
        sf_http_buf_printf(
            &b, "event: removed\ndata: {\"stream_sid\": \"%s\", \"reason\": \"%s\"}\n\n",
            ev->stream_sid, ev->reason == SF_REMOVED_EXPIRED ? "expired" : "deleted");
    }
    if (b.failed) {
        sf_http_buf_free(&b);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.data;
}
