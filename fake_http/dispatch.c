/* SPDX-License-Identifier: MIT */
/* dispatch.c: request parsing, authentication and the routes of Twilio's Sync v1 API for
 * services, streams and messages. */
#include "client_config.h"
#include "control.h"
#include "http_ctx.h"
#include "param_warn.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- parameters ---- */

static const char *param(const sf_http_ctx *c, const char *name)
{
    return sf_http_form_get(&c->params, name);
}

/* Records which parameter was malformed (its 20001 names it); returns false. */
static bool malformed(const sf_http_ctx *c, const char *name)
{
    ((sf_http_ctx *)c)->bad_param = name;
    return false;
}

/* An integer parameter: absent (has = false), or parsed; false when malformed. */
static bool int_param(const sf_http_ctx *c, const char *name, bool *has, int64_t *out)
{
    const char *v = param(c, name);
    *has = v != NULL;
    return !v || sf_http_parse_int(v, out) || malformed(c, name);
}

static bool bool_param(const sf_http_ctx *c, const char *name, sf_opt_bool *out)
{
    const char *v = param(c, name);
    bool b;
    *out = SF_BOOL_UNSET;
    if (!v)
        return true;
    if (!sf_http_parse_bool(v, &b))
        return malformed(c, name);
    *out = b ? SF_BOOL_TRUE : SF_BOOL_FALSE;
    return true;
}

static bool page_params(const sf_http_ctx *c, sf_page_params *p)
{
    memset(p, 0, sizeof *p);
    p->page_token = param(c, "PageToken");
    return int_param(c, "PageSize", &p->has_page_size, &p->page_size) &&
           int_param(c, "Page", &p->has_page, &p->page);
}

static bool service_params(const sf_http_ctx *c, sf_service_params *p)
{
    memset(p, 0, sizeof *p);
    p->friendly_name = param(c, "FriendlyName");
    p->webhook_url = param(c, "WebhookUrl");
    return bool_param(c, "ReachabilityWebhooksEnabled", &p->reachability_webhooks_enabled) &&
           bool_param(c, "AclEnabled", &p->acl_enabled) &&
           bool_param(c, "ReachabilityDebouncingEnabled", &p->reachability_debouncing_enabled) &&
           bool_param(c, "WebhooksFromRestEnabled", &p->webhooks_from_rest_enabled) &&
           int_param(c, "ReachabilityDebouncingWindow", &p->has_reachability_debouncing_window,
                     &p->reachability_debouncing_window);
}

/* ---- services ---- */

/* A parameter refused here, before the fake sees the call: Twilio's error, and the call in the
 * journal all the same (as the fake journals the calls it refuses itself). */
static int refuse(sf_http_ctx *c, sf_op op, const char *service_sid, const char *stream_id,
                  sf_status status)
{
    sf_journal_refused_as(c->fake, c->account_sid, op, service_sid, stream_id, status);
    if (status != SF_ERR_INVALID_PARAMETER || !c->bad_param)
        return sf_http_fail_status(c, status);
    sf_error err; /* "Invalid parameter: PageSize", as Twilio names the one it refused */
    sf_http_status_error(status, c->bad_param, &err);
    return sf_http_fail(c, &err);
}

static void services_url(const sf_http_ctx *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s/v1/Services", sf_fake_options(c->fake)->base_url);
}

/* A list answer: {"<key>": [its records, each by `one`], <paging meta>}. */
static void render_list(sf_http_ctx *c, const char *key, const char *list_url,
                        const sf_page_info *info, const char *page_token, const void *records,
                        void (*one)(sf_http_buf *b, const char *base, const void *records,
                                    size_t i))
{
    const char *base = sf_fake_options(c->fake)->base_url;
    sf_http_buf_printf(&c->body, "{\"%s\": [", key);
    for (size_t i = 0; i < info->count; i++) {
        if (i)
            sf_http_buf_str(&c->body, ", ");
        one(&c->body, base, records, i);
    }
    sf_http_buf_str(&c->body, "], ");
    sf_http_render_meta(&c->body, list_url, key, info, page_token);
    sf_http_buf_str(&c->body, "}");
}

static void one_service(sf_http_buf *b, const char *base, const void *records, size_t i)
{
    sf_http_render_service(b, base, &((const sf_service_record *)records)[i]);
}

static void one_stream(sf_http_buf *b, const char *base, const void *records, size_t i)
{
    sf_http_render_stream(b, base, &((const sf_stream_record *)records)[i]);
}

/* GET /v1/Services: one page of the caller's services. */
static int service_list_route(sf_http_ctx *c)
{
    sf_error err;
    sf_page_params pp;
    sf_service_page *page;
    if (!page_params(c, &pp))
        return refuse(c, SF_OP_SERVICE_LIST, NULL, NULL, SF_ERR_INVALID_PARAMETER);
    if (sf_service_list(c->fake, c->account_sid, &pp, &page, &err) != SF_OK)
        return sf_http_fail(c, &err);
    char list_url[SF_BASE_URL_CAP + 32];
    services_url(c, list_url, sizeof list_url);
    render_list(c, "services", list_url, &page->info, pp.page_token, page->records, one_service);
    sf_service_page_free(c->fake, page);
    return sf_http_json(c, 200);
}

static int service_routes(sf_http_ctx *c)
{
    const char *base = sf_fake_options(c->fake)->base_url;
    sf_error err;
    sf_service_params sp;
    sf_service_record rec;
    if (c->segment_count == 2) {
        if (sf_http_is(c, "GET"))
            return service_list_route(c);
        if (sf_http_is(c, "POST")) {
            if (!service_params(c, &sp))
                return refuse(c, SF_OP_SERVICE_CREATE, NULL, NULL, SF_ERR_INVALID_PARAMETER);
            if (sf_service_create(c->fake, c->account_sid, &sp, &rec, &err) != SF_OK)
                return sf_http_fail(c, &err);
            sf_http_render_service(&c->body, base, &rec);
            return sf_http_json(c, 201);
        }
        return sf_http_method_not_allowed(c, "GET, POST");
    }
    /* /v1/Services/{IS} */
    const char *sid = c->segments[2];
    if (sf_http_is(c, "GET")) {
        if (sf_service_fetch(c->fake, c->account_sid, sid, &rec, &err) != SF_OK)
            return sf_http_fail(c, &err);
        sf_http_render_service(&c->body, base, &rec);
        return sf_http_json(c, 200);
    }
    if (sf_http_is(c, "POST")) {
        if (!service_params(c, &sp))
            return refuse(c, SF_OP_SERVICE_UPDATE, sid, NULL, SF_ERR_INVALID_PARAMETER);
        if (sf_service_update(c->fake, c->account_sid, sid, &sp, &rec, &err) != SF_OK)
            return sf_http_fail(c, &err);
        sf_http_render_service(&c->body, base, &rec);
        return sf_http_json(c, 200);
    }
    if (sf_http_is(c, "DELETE")) {
        if (sf_service_remove(c->fake, c->account_sid, sid, &err) != SF_OK)
            return sf_http_fail(c, &err);
        return sf_http_no_content(c);
    }
    return sf_http_method_not_allowed(c, "GET, POST, DELETE");
}

/* ---- streams ---- */

/* Ttl: absent, or an integer; anything else is Twilio's 54011 (not 20001). */
static bool ttl_param(const sf_http_ctx *c, sf_stream_params *p)
{
    const char *v = param(c, "Ttl");
    p->has_ttl = v != NULL;
    return !v || sf_http_parse_int(v, &p->ttl);
}

static int stream_list_route(sf_http_ctx *c, const char *service_sid)
{
    const char *base = sf_fake_options(c->fake)->base_url;
    sf_error err;
    sf_page_params pp;
    sf_stream_page *page;
    if (!page_params(c, &pp))
        return refuse(c, SF_OP_STREAM_LIST, service_sid, NULL, SF_ERR_INVALID_PARAMETER);
    if (sf_stream_list(c->fake, c->account_sid, service_sid, &pp, &page, &err) != SF_OK)
        return sf_http_fail(c, &err);
    char list_url[SF_BASE_URL_CAP + 96];
    snprintf(list_url, sizeof list_url, "%s/v1/Services/%s/Streams", base, service_sid);
    render_list(c, "streams", list_url, &page->info, pp.page_token, page->records, one_stream);
    sf_stream_page_free(c->fake, page);
    return sf_http_json(c, 200);
}

static int stream_routes(sf_http_ctx *c)
{
    const char *base = sf_fake_options(c->fake)->base_url;
    const char *service_sid = c->segments[2];
    sf_error err;
    sf_stream_params p = {0};
    sf_stream_record rec;
    if (c->segment_count == 4) {
        if (sf_http_is(c, "GET"))
            return stream_list_route(c, service_sid);
        if (!sf_http_is(c, "POST"))
            return sf_http_method_not_allowed(c, "GET, POST");
        p.unique_name = param(c, "UniqueName");
        if (!ttl_param(c, &p))
            return refuse(c, SF_OP_STREAM_CREATE, service_sid, NULL, SF_ERR_INVALID_TTL);
        if (sf_stream_create(c->fake, c->account_sid, service_sid, &p, &rec, &err) != SF_OK)
            return sf_http_fail(c, &err);
        sf_http_render_stream(&c->body, base, &rec);
        return sf_http_json(c, 201);
    }
    const char *id = c->segments[4];
    if (c->segment_count == 6) {
        /* Messages can only be created: any other method is an unknown resource. */
        if (!sf_http_is(c, "POST"))
            return sf_http_not_found(c);
        const char *data = param(c, "Data");
        sf_publish_params mp = {.data = data, .data_len = data ? strlen(data) : 0};
        sf_message_record m;
        if (sf_stream_publish(c->fake, c->account_sid, service_sid, id, &mp, &m, &err) != SF_OK)
            return sf_http_fail(c, &err);
        sf_http_render_message(&c->body, &m);
        return sf_http_json(c, 201);
    }
    if (sf_http_is(c, "GET")) {
        if (sf_stream_fetch(c->fake, c->account_sid, service_sid, id, &rec, &err) != SF_OK)
            return sf_http_fail(c, &err);
    } else if (sf_http_is(c, "POST")) {
        if (!ttl_param(c, &p))
            return refuse(c, SF_OP_STREAM_UPDATE, service_sid, id, SF_ERR_INVALID_TTL);
        if (sf_stream_update(c->fake, c->account_sid, service_sid, id, &p, &rec, &err) != SF_OK)
            return sf_http_fail(c, &err);
    } else if (sf_http_is(c, "DELETE")) {
        if (sf_stream_remove(c->fake, c->account_sid, service_sid, id, &err) != SF_OK)
            return sf_http_fail(c, &err);
        return sf_http_no_content(c);
    } else {
        return sf_http_method_not_allowed(c, "GET, POST, DELETE");
    }
    sf_http_render_stream(&c->body, base, &rec);
    return sf_http_json(c, 200);
}

static int v1_routes(sf_http_ctx *c)
{
    char **s = c->segments;
    size_t n = c->segment_count;
    sf_op op;
    bool service = n >= 2 && n <= 3 && strcmp(s[1], "Services") == 0;
    bool stream = n >= 4 && strcmp(s[1], "Services") == 0 && strcmp(s[3], "Streams") == 0 &&
                  (n == 4 || n == 5 || (n == 6 && strcmp(s[5], "Messages") == 0));
    if ((service || stream) && sf_http_route_op(c, &op)) {
        int refused = sf_http_warn_params(c, op); /* strict mode: a 400 */
        if (refused)
            return refused;
    }
    if (service)
        return service_routes(c);
    if (n >= 4 && strcmp(s[1], "Services") == 0 && sf_http_unemulated(c))
        return sf_http_unemulated_not_found(c);
    if (stream)
        return stream_routes(c);
    return sf_http_not_found(c);
}

/* ---- request parsing ---- */

static const char *header(const sf_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

/* Splits the path into segments, each percent-decoded on its own (so "%2F" stays inside its
 * segment). The decoded text lives in `storage`. */
static bool split_path(sf_http_ctx *c, char *storage)
{
    const char *p = c->path + 1; /* after the leading '/' */
    c->segment_count = 0;
    for (;;) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (c->segment_count == SF_HTTP_MAX_SEGMENTS)
            return true; /* too deep for any route: routed as unknown */
        size_t n;
        if (!sf_http_percent_decode(p, len, false, storage, &n))
            return false;
        c->segments[c->segment_count++] = storage;
        storage += n + 1;
        if (!end)
            return true;
        p = end + 1;
    }
}

static bool form_body(const sf_http_request *req)
{
    const char *type = header(req, "Content-Type");
    return !type || strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0;
}

/* Compares without stopping at the first difference (as the core does for secrets). */
static bool same_text(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The admin credential acts as the fake's default account, with its fake-wide powers. */
static bool is_admin(sf_http_ctx *c, const char *user, const char *password)
{
    const sf_http_request *r = c->req;
    if (!r->admin_sid || !r->admin_token || !same_text(user, r->admin_sid) ||
        !same_text(password, r->admin_token))
        return false;
    snprintf(c->account_sid, sizeof c->account_sid, "%s", sf_fake_account_sid(c->fake));
    c->admin = true;
    return true;
}

static int authenticate(sf_http_ctx *c)
{
    char user[512], password[512];
    sf_error err;
    if (!sf_http_basic_credentials(header(c->req, "Authorization"), user, password, sizeof user))
        return sf_http_refuse(c, SF_ERR_AUTHENTICATE, SF_REFUSAL_UNAUTHENTICATED);
    if (!is_admin(c, user, password) &&
        sf_authenticate(c->fake, user, password, c->account_sid, &err) != SF_OK)
        return sf_http_refuse(c, SF_ERR_AUTHENTICATE, SF_REFUSAL_UNAUTHENTICATED);
    return 0;
}

/* The first segment: Twilio's API, or syncfake's own (control.c). */
static const sf_http_route top_routes[] = {
    {"v1", 1, SF_HTTP_MAX_SEGMENTS, v1_routes},
    {"_syncfake", 1, SF_HTTP_MAX_SEGMENTS, sf_http_control},
};

static int route(sf_http_ctx *c, char *path_copy, char *segment_storage)
{
    const sf_http_request *req = c->req;
    if (!req->target || req->target[0] != '/' || strlen(req->target) > SF_HTTP_MAX_TARGET) {
        c->path = "/";
        return sf_http_refuse(c, SF_ERR_INVALID_PARAMETER, SF_REFUSAL_BAD_TARGET);
    }
    const char *query = strchr(req->target, '?');
    size_t path_len = query ? (size_t)(query - req->target) : strlen(req->target);
    memcpy(path_copy, req->target, path_len);
    path_copy[path_len] = '\0';
    c->path = path_copy;
    if (req->body_len > SF_HTTP_MAX_BODY)
        return sf_http_refuse(c, SF_ERR_DATA_TOO_LARGE, SF_REFUSAL_BODY_TOO_LARGE);
    if (!req->body && req->body_len)
        return sf_http_refuse(c, SF_ERR_INVALID_PARAMETER, SF_REFUSAL_BAD_FORM);
    if (strcmp(c->path, "/v3/Configuration") == 0) /* the client API's: a token, not Basic */
        return sf_http_client_configuration(c, header(req, "X-Twilio-Token"));
    int st = authenticate(c);
    if (st)
        return st;
    if (!split_path(c, segment_storage))
        return sf_http_refuse(c, SF_ERR_INVALID_PARAMETER, SF_REFUSAL_BAD_PATH);
    bool ok;
    if (sf_http_is(c, "POST"))
        ok = !form_body(req) || sf_http_form_parse(req->body, req->body_len, &c->params);
    else
        ok = !query || sf_http_form_parse(query + 1, strlen(query + 1), &c->params);
    if (!ok)
        return sf_http_refuse(c, SF_ERR_INVALID_PARAMETER, SF_REFUSAL_BAD_FORM);
    if (c->admin && strcmp(c->segments[0], "_syncfake") != 0) /* for the control API only */
        return sf_http_refuse(c, SF_ERR_AUTHENTICATE, SF_REFUSAL_ADMIN_OUTSIDE_CONTROL);
    sf_http_handler handle = sf_http_route_find(top_routes, SF_HTTP_COUNT(top_routes), c, 0);
    return handle ? handle(c) : sf_http_not_found(c);
}

int sf_http_dispatch(sf_fake *fake, const sf_http_request *req, sf_http_response *resp)
{
    if (!resp)
        return 0;
    memset(resp, 0, sizeof *resp);
    if (!fake || !req || !req->method) {
        resp->status = 500;
        return 500;
    }
    sf_http_ctx c;
    memset(&c, 0, sizeof c);
    c.fake = fake;
    c.req = req;
    c.resp = resp;
    c.method = req->method;
    sf_http_buf_init(&c.body);
    size_t target_len = req->target ? strnlen(req->target, SF_HTTP_MAX_TARGET + 1) : 0;
    char *path_copy = malloc(target_len + 1);
    char *segments = malloc(target_len + 1);
    if (!path_copy || !segments) {
        resp->status = 500;
    } else {
        route(&c, path_copy, segments);
    }
    sf_http_form_free(&c.params);
    free(path_copy);
    free(segments);
    sf_format_http_date(sf_clock_now(fake), resp->date);
    if (c.body.failed) {
        sf_http_buf_free(&c.body);
        resp->status = 500;
        resp->content_type = NULL;
    }
    resp->body = c.body.data;
    resp->body_len = c.body.len;
    if (!resp->body && resp->status != 204 && resp->status != 500) {
        resp->body = calloc(1, 1);
    }
    return resp->status;
}

void sf_http_response_free(sf_http_response *resp)
{
    if (!resp)
        return;
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}
