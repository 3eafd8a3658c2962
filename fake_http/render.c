/* SPDX-License-Identifier: MIT */
/* render.c: see render.h. */
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void sf_http_render_date(sf_http_buf *b, sf_ms t)
{
    char iso[21];
    sf_format_iso8601(t, iso);
    sf_http_buf_printf(b, "\"%s\"", iso);
}

static void date_or_null(sf_http_buf *b, bool has, sf_ms t)
{
    if (has)
        sf_http_render_date(b, t);
    else
        sf_http_buf_str(b, "null");
}

static const char *yes_no(bool v) { return v ? "true" : "false"; }

void sf_http_render_error(sf_http_buf *b, const sf_error *err)
{
    sf_http_buf_printf(b, "{\"code\": %d, \"message\": ", err->code);
    sf_http_buf_json_string(b, err->message);
    sf_http_buf_str(b, ", \"more_info\": ");
    sf_http_buf_json_string(b, err->more_info);
    sf_http_buf_printf(b, ", \"status\": %d}", err->http_status);
}

void sf_http_status_error(sf_status status, const char *detail, sf_error *err)
{
    memset(err, 0, sizeof *err);
    err->status = status;
    err->http_status = sf_status_http(status);
    err->code = sf_status_code(status);
    if (detail)
        snprintf(err->message, sizeof err->message, "%s: %s", sf_status_message(status), detail);
    else
        snprintf(err->message, sizeof err->message, "%s", sf_status_message(status));
    snprintf(err->more_info, sizeof err->more_info, "https://www.twilio.com/docs/errors/%d",
             err->code);
}

void sf_http_not_found_error(const char *path, sf_error *err)
{
    sf_http_status_error(SF_ERR_NOT_FOUND, NULL, err);
    const char *format = sf_status_message(SF_ERR_NOT_FOUND);
    const char *hole = strstr(format, "%s"); /* the table's message is a format */
    snprintf(err->message, sizeof err->message, "%.*s%.900s%s", (int)(hole - format), format, path,
             hole + 2);
}

void sf_http_render_status(sf_http_buf *b, sf_status status)
{
    sf_error err;
    sf_http_status_error(status, NULL, &err);
    sf_http_render_error(b, &err);
}

void sf_http_render_not_found(sf_http_buf *b, const char *path)
{
    const char *format = sf_status_message(SF_ERR_NOT_FOUND);
    const char *hole = strstr(format, "%s"); /* the table's message is a format */
    int code = sf_status_code(SF_ERR_NOT_FOUND);
    sf_http_buf_printf(b, "{\"code\": %d, \"message\": \"", code);
    sf_http_buf_add(b, format, (size_t)(hole - format)); /* plain text */
    sf_http_buf_json_chars(b, path);
    sf_http_buf_json_chars(b, hole + 2);
    sf_http_buf_printf(b,
                       "\", \"more_info\": \"https://www.twilio.com/docs/errors/%d\", "
                       "\"status\": %d}",
                       code, sf_status_http(SF_ERR_NOT_FOUND));
}

void sf_http_render_client_error(sf_http_buf *b, const sf_error *err)
{
    sf_http_buf_printf(b, "{\"status\":%d,\"code\":%d,\"message\":", err->http_status, err->code);
    sf_http_buf_json_string(b, err->message);
    sf_http_buf_str(b, "}");
}

/* The separators and URL version of one API's JSON (sf_http_api). */
typedef struct api_style {
    const char *version, *comma, *colon;
} api_style;

static const api_style API_STYLES[] = {
    [SF_HTTP_API_REST_V1] = {"v1", ", ", ": "},
    [SF_HTTP_API_CLIENT_V3] = {"v3", ",", ":"},
};

/* `, "name": ` in the API's separators (the member's value follows) */
static void member_key(sf_http_buf *b, const api_style *st, const char *name)
{
    sf_http_buf_printf(b, "%s\"%s\"%s", st->comma, name, st->colon);
}

static void stream_url(sf_http_buf *b, const api_style *st, const char *base,
                       const sf_stream_record *r, const char *suffix)
{
    sf_http_buf_printf(b, "\"%s/%s/Services/%s/Streams/%s%s\"", base, st->version, r->service_sid,
                       r->sid, suffix);
}

void sf_http_render_stream_for(sf_http_buf *b, sf_http_api api, const char *base,
                               const sf_stream_record *r)
{
    const api_style *st = &API_STYLES[api];
    sf_http_buf_printf(b, "{\"sid\"%s\"%s\"", st->colon, r->sid);
    member_key(b, st, "unique_name");
    sf_http_buf_json_string_or_null(b, r->has_unique_name ? r->unique_name : NULL);
    member_key(b, st, "account_sid");
    sf_http_buf_printf(b, "\"%s\"", r->account_sid);
    member_key(b, st, "service_sid");
    sf_http_buf_printf(b, "\"%s\"", r->service_sid);
    member_key(b, st, "url");
    stream_url(b, st, base, r, "");
    member_key(b, st, "links");
    sf_http_buf_printf(b, "{\"messages\"%s", st->colon);
    stream_url(b, st, base, r, "/Messages");
    sf_http_buf_str(b, "}");
    member_key(b, st, "date_expires");
    date_or_null(b, r->has_date_expires, r->date_expires_ms);
    member_key(b, st, "date_created");
    date_or_null(b, true, r->date_created_ms);
    member_key(b, st, "date_updated");
    date_or_null(b, true, r->date_updated_ms);
    member_key(b, st, "created_by");
    sf_http_buf_json_string(b, r->created_by);
    sf_http_buf_str(b, "}");
}

void sf_http_render_stream(sf_http_buf *b, const char *base, const sf_stream_record *r)
{
    sf_http_render_stream_for(b, SF_HTTP_API_REST_V1, base, r);
}

void sf_http_render_service(sf_http_buf *b, const char *base, const sf_service_record *r)
{
    sf_http_buf_printf(b,
                       "{\"sid\": \"%s\", \"unique_name\": null, \"account_sid\": \"%s\", "
                       "\"friendly_name\": ",
                       r->sid, r->account_sid);
    sf_http_buf_json_string_or_null(b, r->has_friendly_name ? r->friendly_name : NULL);
    sf_http_buf_str(b, ", \"date_created\": ");
    date_or_null(b, true, r->date_created_ms);
    sf_http_buf_str(b, ", \"date_updated\": ");
    date_or_null(b, true, r->date_updated_ms);
    sf_http_buf_printf(b, ", \"url\": \"%s/v1/Services/%s\", \"webhook_url\": ", base, r->sid);
    sf_http_buf_json_string_or_null(b, r->has_webhook_url ? r->webhook_url : NULL);
    sf_http_buf_printf(b,
                       ", \"webhooks_from_rest_enabled\": %s, "
                       "\"reachability_webhooks_enabled\": %s, \"acl_enabled\": %s, "
                       "\"reachability_debouncing_enabled\": %s, "
                       "\"reachability_debouncing_window\": %" PRId64 ", \"links\": {",
                       yes_no(r->webhooks_from_rest_enabled),
                       yes_no(r->reachability_webhooks_enabled), yes_no(r->acl_enabled),
                       yes_no(r->reachability_debouncing_enabled),
                       r->reachability_debouncing_window);
    static const char *const links[] = {"documents", "lists", "maps", "streams"};
    static const char *const paths[] = {"Documents", "Lists", "Maps", "Streams"};
    for (int i = 0; i < 4; i++)
        sf_http_buf_printf(b, "%s\"%s\": \"%s/v1/Services/%s/%s\"", i ? ", " : "", links[i], base,
                           r->sid, paths[i]);
    sf_http_buf_str(b, "}}");
}

void sf_http_render_message(sf_http_buf *b, const sf_message_record *m)
{
    sf_http_buf_printf(b, "{\"sid\": \"%s\", \"data\": ", m->sid);
    sf_http_buf_add(b, m->data, m->data_len);
    sf_http_buf_str(b, "}");
}

static void page_url(sf_http_buf *b, const char *list_url, uint32_t size, int64_t page,
                     const char *token)
{
    sf_http_buf_printf(b, "\"%s?PageSize=%u&Page=%" PRId64, list_url, size, page);
    if (token)
        sf_http_buf_printf(b, "&PageToken=%s", token); /* tokens are [A-Za-z0-9] only */
    sf_http_buf_str(b, "\"");
}

void sf_http_render_meta(sf_http_buf *b, const char *list_url, const char *key,
                         const sf_page_info *info, const char *token)
{
    sf_http_buf_printf(b, "\"meta\": {\"page\": %" PRId64 ", \"page_size\": %u, ", info->page,
                       info->page_size);
    sf_http_buf_str(b, "\"first_page_url\": ");
    page_url(b, list_url, info->page_size, 0, NULL);
    sf_http_buf_str(b, ", \"previous_page_url\": ");
    if (info->has_previous)
        page_url(b, list_url, info->page_size, info->page > 0 ? info->page - 1 : 0,
                 info->previous_token);
    else
        sf_http_buf_str(b, "null");
    sf_http_buf_str(b, ", \"url\": ");
    page_url(b, list_url, info->page_size, info->page, token);
    sf_http_buf_str(b, ", \"next_page_url\": ");
    if (info->has_next)
        page_url(b, list_url, info->page_size, info->page + 1, info->next_token);
    else
        sf_http_buf_str(b, "null");
    sf_http_buf_printf(b, ", \"key\": \"%s\"}", key);
}
