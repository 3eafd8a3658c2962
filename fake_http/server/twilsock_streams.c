/* SPDX-License-Identifier: MIT */
/* twilsock_streams.c: the Sync client API for streams, as the SDKs tunnel it in `message`
 * frames: routing of the request's path, v3 Streams (create, fetch, update, remove, publish)
 * and v3 Configuration; v4 Subscriptions are twilsock_subscriptions.c's. */
#include "twilsock_internal.h"

#include "client_config.h"
#include "codec.h"
#include "render.h"

#include <string.h>

#define MAX_PAYLOAD_TOKENS 4096
#define MAX_SEGMENTS 6
#define SEGMENT_CAP (SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1)

/* A request's payload, read by the one JSON reader (json_field.c) that also reads frame
 * headers and tokens: strict RFC 8259, keys and strings unescaped, so that a unique name
 * reads the same here as over REST. An unreadable payload's doc has no members. */
typedef struct payload {
    sf_jf_doc doc;
    bool present; /* a non-empty payload was sent */
} payload;

static void payload_parse(payload *p, const char *text, size_t len)
{
    p->doc = (sf_jf_doc){0};
    p->present = len > 0;
    if (p->present)
        sf_jf_parse_object_within(&p->doc, text, len, MAX_PAYLOAD_TOKENS, SF_TS_MAX_PAYLOAD_DEPTH);
}

/* It was read as one JSON object within the caps. */
static bool payload_readable(const payload *p) { return p->doc.ntok > 0; }

static void answer_stream(ts_session *s, const char *id, int status, const sf_stream_record *r)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_render_stream_for(&b, SF_HTTP_API_CLIENT_V3, s->mgr->base_url, r);
    sf_ts_reply_http(s, id, status, &b);
    sf_http_buf_free(&b);
}

/* A payload that was sent but is not one JSON object (malformed, not UTF-8, too deep, over
 * the token budget) is Invalid JSON, as REST's Data is: never read as no payload, which
 * would create or change a stream the caller did not describe. */
static bool refused_unreadable(ts_session *s, const char *id, const payload *p)
{
    if (!p->present || payload_readable(p))
        return false;
    sf_error err;
    sf_http_status_error(SF_ERR_DATA_INVALID, NULL, &err);
    sf_ts_reply_error(s, id, &err);
    return true;
}

/* The member `key` as a Ttl (a non-integer is -1: the core answers 54011); false when the
 * key is there twice (answered 400). */
static bool read_ttl(ts_session *s, const char *id, const payload *p, sf_stream_params *sp)
{
    int v = sf_jf_member(&p->doc, 0, "ttl");
    if (v == SF_JF_DUPLICATE) {
        sf_ts_bad_request(s, id, "ttl");
        return false;
    }
    sp->has_ttl = v >= 0;
    if (v >= 0 && !sf_jf_int(&p->doc, v, &sp->ttl))
        sp->ttl = -1;
    return true;
}

static void stream_create(ts_session *s, const char *id, const payload *p)
{
    char name[SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1];
    sf_stream_params sp = {0};
    if (refused_unreadable(s, id, p))
        return;
    int v = sf_jf_member(&p->doc, 0, "unique_name");
    if (v == SF_JF_DUPLICATE)
        return sf_ts_bad_request(s, id, "unique_name");
    if (sf_jf_kind_of(&p->doc, v) == SF_JF_STRING) { /* any other kind: no unique name */
        if (!sf_jf_string(&p->doc, v, name, sizeof name))
            return sf_ts_bad_request(s, id, "unique_name");
        sp.unique_name = name;
    }
    if (!read_ttl(s, id, p, &sp))
        return;
    sf_stream_record r;
    sf_error err;
    if (sf_stream_create(s->mgr->host.fake, s->account_sid, s->service_sid, &sp, &r, &err) != SF_OK)
        return sf_ts_reply_error(s, id, &err);
    answer_stream(s, id, 201, &r);
}

static void stream_fetch(ts_session *s, const char *id, const char *stream)
{
    sf_stream_record r;
    sf_error err;
    if (sf_stream_fetch(s->mgr->host.fake, s->account_sid, s->service_sid, stream, &r, &err) !=
        SF_OK)
        return sf_ts_reply_stream_error(s, id, stream, &err);
    answer_stream(s, id, 200, &r);
}

static void stream_update(ts_session *s, const char *id, const char *stream, const payload *p)
{
    sf_stream_params sp = {0};
    if (refused_unreadable(s, id, p) || !read_ttl(s, id, p, &sp))
        return;
    sf_stream_record r;
    sf_error err;
    if (sf_stream_update(s->mgr->host.fake, s->account_sid, s->service_sid, stream, &sp, &r,
                         &err) != SF_OK)
        return sf_ts_reply_stream_error(s, id, stream, &err);
    answer_stream(s, id, 200, &r);
}

/* The SDK sends a stray body with DELETE: ignored. */
static void stream_remove(ts_session *s, const char *id, const char *stream)
{
    sf_error err;
    if (sf_stream_remove(s->mgr->host.fake, s->account_sid, s->service_sid, stream, &err) != SF_OK)
        return sf_ts_reply_stream_error(s, id, stream, &err);
    sf_ts_reply_json(s, id, 200, "{}");
}

static void publish(ts_session *s, const char *id, const char *stream, const payload *p)
{
    if (refused_unreadable(s, id, p))
        return;
    int v = sf_jf_member(&p->doc, 0, "data");
    if (v == SF_JF_DUPLICATE)
        return sf_ts_bad_request(s, id, "data");
    sf_publish_params mp = {.client_id = s->client_id};
    if (v >= 0) /* as sent: a string keeps its quotes (not an object: 54008) */
        sf_jf_span(&p->doc, v, &mp.data, &mp.data_len);
    sf_message_record m;
    sf_error err;
    if (sf_stream_publish(s->mgr->host.fake, s->account_sid, s->service_sid, stream, &mp, &m,
                          &err) != SF_OK)
        return sf_ts_reply_stream_error(s, id, stream, &err);
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_buf_printf(&b, "{\"sid\":\"%s\",\"created_by\":", m.sid);
    sf_http_buf_json_string(&b, s->identity);
    sf_http_buf_str(&b, "}");
    sf_ts_reply_http(s, id, 201, &b);
    sf_http_buf_free(&b);
}

/* What the Kotlin and iOS SDKs fetch first, for their links. */
static void configuration(ts_session *s, const char *id)
{
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_render_configuration(&b, s->mgr->base_url, s->service_sid);
    sf_ts_reply_http(s, id, 200, &b);
    sf_http_buf_free(&b);
}

/* ---- routing ---- */

/* Path segments after the scheme and host (which the SDK may send), each decoded. */
static size_t split_path(const char *path, char segs[MAX_SEGMENTS][SEGMENT_CAP])
{
    const char *p = path;
    const char *scheme = strstr(p, "://");
    if (scheme) {
        p = strchr(scheme + 3, '/');
        if (!p)
            return 0;
    }
    const char *query = strchr(p, '?');
    size_t end = query ? (size_t)(query - p) : strlen(p);
    size_t n = 0;
    for (size_t i = 1; i <= end && n < MAX_SEGMENTS;) {
        size_t j = i;
        while (j < end && p[j] != '/')
            j++;
        size_t len;
        if (j - i > SF_UNIQUE_NAME_CAP * SF_UTF8_MAX * 3 ||
            !sf_http_percent_decode(p + i, j - i, false, segs[n], &len))
            return 0;
        n++;
        i = j + 1;
    }
    return n;
}

/* The client API's resources, as a path names them. */
typedef enum route {
    ROUTE_NONE,
    ROUTE_SUBSCRIPTIONS, /* /v4/Subscriptions */
    ROUTE_CONFIGURATION, /* /v3/Configuration */
    ROUTE_STREAMS,       /* /v3/Streams */
    ROUTE_STREAM,        /* /v3/Streams/{id}, /v3/Services/{own service}/Streams/{id} */
    ROUTE_MESSAGES,      /* /v3/Services/{own service}/Streams/{id}/Messages */
} route;

/* The route of n decoded segments; *stream is the stream's SID or unique name (in segs) for
 * a stream's routes. Another service's paths have no route. */
static route route_of(const ts_session *s, char segs[MAX_SEGMENTS][SEGMENT_CAP], size_t n,
                      const char **stream)
{
    bool v3 = n >= 2 && strcmp(segs[0], "v3") == 0;
    bool service_path =
        v3 && n >= 5 && strcmp(segs[1], "Services") == 0 && strcmp(segs[3], "Streams") == 0;
    *stream = NULL;
    if (n == 2 && strcmp(segs[0], "v4") == 0 && strcmp(segs[1], "Subscriptions") == 0)
        return ROUTE_SUBSCRIPTIONS;
    if (v3 && n == 2 && strcmp(segs[1], "Configuration") == 0)
        return ROUTE_CONFIGURATION;
    if (v3 && n == 2 && strcmp(segs[1], "Streams") == 0)
        return ROUTE_STREAMS;
    if (v3 && n == 3 && strcmp(segs[1], "Streams") == 0)
        *stream = segs[2];
    else if (service_path && strcmp(segs[2], s->service_sid) == 0)
        *stream = segs[4];
    if (*stream && service_path && n == 6 && strcmp(segs[5], "Messages") == 0)
        return ROUTE_MESSAGES;
    if (*stream && (n == 3 || (service_path && n == 5)))
        return ROUTE_STREAM;
    return ROUTE_NONE;
}

/* Serves a request on route r with method m; false when the route has no such method. */
static bool serve(ts_session *s, const sf_ts_frame *f, route r, const char *stream,
                  const payload *p)
{
    const char *m = f->http_method;
    bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    if (r == ROUTE_SUBSCRIPTIONS && post)
        sf_ts_subscriptions(s, f->id, &p->doc);
    else if (r == ROUTE_CONFIGURATION && get)
        configuration(s, f->id);
    else if (r == ROUTE_STREAMS && post)
        stream_create(s, f->id, p);
    else if (r == ROUTE_MESSAGES && post)
        publish(s, f->id, stream, p);
    else if (r == ROUTE_STREAM && get)
        stream_fetch(s, f->id, stream);
    else if (r == ROUTE_STREAM && post)
        stream_update(s, f->id, stream, p);
    else if (r == ROUTE_STREAM && strcmp(m, "DELETE") == 0)
        stream_remove(s, f->id, stream);
    else
        return false;
    return true;
}

void sf_ts_client_request(ts_session *s, const sf_ts_frame *f)
{
    static char segs[MAX_SEGMENTS][SEGMENT_CAP]; /* under the host lock */
    if (!s->authed)
        return sf_ts_reply_status(s, f->id, SF_ERR_TOKEN_INVALID);
    payload p;
    payload_parse(&p, f->payload, f->payload_len);
    size_t n = f->has_http_request ? split_path(f->http_path, segs) : 0;
    const char *stream;
    route r = route_of(s, segs, n, &stream);
    if (!serve(s, f, r, stream, &p)) {
        sf_error err;
        sf_http_not_found_error(f->http_path, &err); /* no such route: the path asked for */
        sf_ts_reply_error(s, f->id, &err);
    }
    sf_jf_free(&p.doc);
}
