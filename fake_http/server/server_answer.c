/* SPDX-License-Identifier: MIT */
/* server_answer.c: the answers the server queues itself or for the dispatcher, each noted for
 * the request log, and the journal line of a request refused before the dispatcher. */
#include "server_internal.h"
#include "render.h"

#include <stdio.h>
#include <string.h>

/* The answer being queued by this thread's request, for the request log (see handle). */
static _Thread_local sf_request_note *current_note;

void sf_server_note_begin(sf_request_note *note) { current_note = note; }

void sf_server_note_end(void) { current_note = NULL; }

void sf_server_note_queued(unsigned status, struct MHD_Response *resp)
{
    if (current_note)
        sf_request_note_response(current_note, status, resp);
}

static void note_body(const char *body, size_t len)
{
    if (current_note)
        sf_request_note_body(current_note, body, len);
}

enum MHD_Result sf_server_collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                         const char *value)
{
    (void)kind;
    header_list *h = cls;
    if (h->count < sizeof h->items / sizeof h->items[0])
        h->items[h->count++] = (sf_http_header){key, value ? value : ""};
    else
        h->overflow = true;
    return MHD_YES;
}

/* cors_origin: the page's origin when the control API answers one (cors.c), else NULL. */
enum MHD_Result sf_server_queue(struct MHD_Connection *conn, const sf_http_response *r,
                                const char *cors_origin)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->body_len, r->body ? r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (r->content_type)
        MHD_add_response_header(resp, "Content-Type", r->content_type);
    MHD_add_response_header(resp, "Date", r->date);
    if (r->allow[0])
        MHD_add_response_header(resp, "Allow", r->allow);
    if (r->warning[0]) /* printable ASCII only (param_warn.c): safe as a header value */
        MHD_add_response_header(resp, "Syncfake-Warning", r->warning);
    if (r->cache_control)
        MHD_add_response_header(resp, "Cache-Control", r->cache_control);
    if (r->status == 401) /* as Twilio: the scheme it wants */
        MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"Twilio API\"");
    sf_cors_headers(resp, cors_origin, false);
    sf_server_note_queued((unsigned)r->status, resp);
    note_body(r->body, r->body_len);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* An answer the server makes itself (the request never reached the dispatcher). */
static enum MHD_Result queue_simple(sf_server *srv, struct MHD_Connection *conn, int status,
                                    const char *json)
{
    sf_http_response r;
    memset(&r, 0, sizeof r);
    r.status = status;
    r.content_type = "application/json";
    r.body = (char *)json;
    r.body_len = strlen(json);
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), r.date); /* the fake's clock, as always */
    pthread_mutex_unlock(&srv->lock);
    return sf_server_queue(conn, &r, NULL);
}

/* A preflight of the control API (cors.c), answered without credentials: 204 and the CORS
 * headers for an allowed origin, 403 for any other. */
enum MHD_Result sf_server_answer_preflight(sf_server *srv, struct MHD_Connection *conn,
                                           const char *allowed)
{
    if (!allowed)
        return sf_server_queue_status(srv, conn, SF_ERR_ORIGIN_NOT_ALLOWED);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    char date[30];
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), date); /* the fake's clock, as always */
    pthread_mutex_unlock(&srv->lock);
    MHD_add_response_header(resp, "Date", date);
    sf_cors_headers(resp, allowed, true);
    sf_server_note_queued(MHD_HTTP_NO_CONTENT, resp);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* The server's own refusals, with their Twilio error body from the status table. */
enum MHD_Result sf_server_queue_status(sf_server *srv, struct MHD_Connection *conn, sf_status st)
{
    sf_http_buf body;
    sf_http_buf_init(&body);
    sf_http_render_status(&body, st);
    enum MHD_Result ret =
        body.failed ? MHD_NO : queue_simple(srv, conn, sf_status_http(st), body.data);
    sf_http_buf_free(&body);
    return ret;
}

/* A Twilio-shaped refusal, its body from the status table, after which the connection is
 * closed. */
enum MHD_Result sf_server_refuse(sf_server *srv, struct MHD_Connection *conn, sf_status st)
{
    char date[30];
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), date);
    pthread_mutex_unlock(&srv->lock);
    sf_http_buf body;
    sf_http_buf_init(&body);
    sf_http_render_status(&body, st);
    struct MHD_Response *resp =
        body.failed ? NULL
                    : MHD_create_response_from_buffer(body.len, body.data, MHD_RESPMEM_MUST_COPY);
    if (resp)
        note_body(body.data, body.len);
    sf_http_buf_free(&body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Date", date);
    MHD_add_response_header(resp, "Connection", "close");
    sf_server_note_queued((unsigned)sf_status_http(st), resp);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)sf_status_http(st), resp);
    MHD_destroy_response(resp);
    return ret;
}

size_t sf_server_front_answer(void *ctx, sf_status st, char *out, size_t cap)
{
    sf_server *srv = ctx;
    char date[30];
    pthread_mutex_lock(&srv->lock);
    sf_format_http_date(sf_clock_now(srv->fake), date); /* the fake's clock, as always */
    pthread_mutex_unlock(&srv->lock);
    sf_http_buf body;
    sf_http_buf_init(&body);
    sf_http_render_status(&body, st);
    unsigned status = (unsigned)sf_status_http(st);
    const char *reason = MHD_get_reason_phrase_for(status);
    int n = body.failed ? -1
                        : snprintf(out, cap,
                                   "HTTP/1.1 %u %s\r\nConnection: close\r\n"
                                   "Content-Type: application/json\r\nDate: %s\r\n"
                                   "Content-Length: %zu\r\n\r\n%s",
                                   status, reason, date, body.len, body.data);
    sf_http_buf_free(&body);
    return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

/* Journals a request the server refuses before the dispatcher sees it (refused.c), as the
 * account its credentials name. */
void sf_server_journal_refused(sf_server *srv, struct MHD_Connection *conn, const char *method,
                               sf_status status, sf_refusal reason)
{
    header_list headers = {.count = 0};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, sf_server_collect_header, &headers);
    sf_http_request req = {.method = method,
                           .headers = headers.items,
                           .header_count = headers.count,
                           .admin_sid = srv->admin_sid,
                           .admin_token = srv->admin_token};
    pthread_mutex_lock(&srv->lock);
    if (!srv->stopping)
        sf_http_journal_refused(srv->fake, &req, status, reason);
    pthread_mutex_unlock(&srv->lock);
}
