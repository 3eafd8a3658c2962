/* SPDX-License-Identifier: MIT */
/* param_warn.c: the REST face's warnings. Twilio ignores form parameters an endpoint does not
 * know (a misspelt `Tll`, a wrongly cased `ttl`) and reads no parameters from a JSON body, so
 * such calls quietly do something else than meant. The answer stays Twilio's; the fake adds a
 * Syncfake-Warning header and a `warning` journal entry (sf_warn) naming the parameter and the
 * nearest known one. In strict mode (sf_options.strict_params) the call is refused instead. */
#include "param_warn.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Each endpoint's parameters, as Twilio's Sync v1 API names them. */
static const char *const page_names[] = {"PageSize", "Page", "PageToken", NULL};
static const char *const service_names[] = {"FriendlyName",
                                            "WebhookUrl",
                                            "ReachabilityWebhooksEnabled",
                                            "AclEnabled",
                                            "ReachabilityDebouncingEnabled",
                                            "ReachabilityDebouncingWindow",
                                            "WebhooksFromRestEnabled",
                                            NULL};
static const char *const stream_create_names[] = {"UniqueName", "Ttl", NULL};
static const char *const stream_update_names[] = {"Ttl", NULL};
static const char *const message_names[] = {"Data", NULL};
static const char *const no_names[] = {NULL};

static const char *const *known_names(sf_op op)
{
    switch (op) {
    case SF_OP_SERVICE_LIST:
    case SF_OP_STREAM_LIST:
        return page_names;
    case SF_OP_SERVICE_CREATE:
    case SF_OP_SERVICE_UPDATE:
        return service_names;
    case SF_OP_STREAM_CREATE:
        return stream_create_names;
    case SF_OP_STREAM_UPDATE:
        return stream_update_names;
    case SF_OP_MESSAGE_CREATE:
        return message_names;
    default:
        return no_names; /* fetch and remove take none */
    }
}

/* Names longer than this get no suggestion (and are cut in messages). */
#define NAME_SHOWN_MAX 64

/* Optimal string alignment distance, ignoring letter case: edits (insert, delete, replace,
 * swap two neighbours) that turn a into b. Both are at most NAME_SHOWN_MAX long. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[NAME_SHOWN_MAX + 1][NAME_SHOWN_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + (ca != cb);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* The known name nearest to `name`: the same letters in another case, else one within a
 * third of its length (at least 1, at most 2 edits); first in table order on a tie. */
const char *sf_http_nearest_name(const char *name, const char *const *known)
{
    if (strlen(name) > NAME_SHOWN_MAX)
        return NULL;
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; known[i]; i++) {
        size_t len = strlen(known[i]);
        size_t limit = len / 3 < 1 ? 1 : len / 3 > 2 ? 2 : len / 3;
        size_t d = edit_distance(name, known[i]);
        if (d <= limit && d < best_d) {
            best = known[i];
            best_d = d;
        }
    }
    return best;
}

static bool is_known(const char *name, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (strcmp(name, known[i]) == 0)
            return true;
    return false;
}

/* The name as shown in a message: printable ASCII, cut at NAME_SHOWN_MAX. */
void sf_http_shown_name(const char *name, char out[SF_HTTP_NAME_SHOWN_SIZE])
{
    size_t i = 0;
    for (; name[i] && i < NAME_SHOWN_MAX; i++) {
        unsigned char ch = (unsigned char)name[i];
        out[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    strcpy(out + i, name[i] ? "..." : "");
}

/* Adds one warning to the response header (" | " between two); a warning that no longer
 * fits ends the header with " | ..." (the journal has them all). */
static void add_header(sf_http_response *resp, const char *text)
{
    size_t used = strlen(resp->warning), len = strlen(text), cap = sizeof resp->warning;
    if (used && used + 3 + len < cap) { /* sizes checked: copies, not a format to truncate */
        memcpy(resp->warning + used, " | ", 3);
        memcpy(resp->warning + used + 3, text, len + 1);
    } else if (!used && len < cap) {
        memcpy(resp->warning, text, len + 1);
    } else if (used + 6 < cap && !strstr(resp->warning, " | ...")) {
        snprintf(resp->warning + used, cap - used, " | ...");
    }
}

/* One warning: journaled, in the header, and in strict mode the refusal (returns its status). */
static int warn(sf_http_ctx *c, sf_op op, const char *param, const char *suggestion,
                const char *text)
{
    const char *service = c->segment_count > 2 ? c->segments[2] : NULL;
    const char *stream = c->segment_count > 4 ? c->segments[4] : NULL;
    sf_error err;
    add_header(c->resp, text);
    if (sf_warn(c->fake, c->account_sid, op, service, stream, param, suggestion, text, &err) ==
        SF_OK)
        return 0;
    sf_journal_refused_as(c->fake, c->account_sid, op, service, stream, err.status);
    return sf_http_fail(c, &err);
}

void sf_http_list_names(const char *const *known, char *out, size_t cap)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; known[i] && used < cap; i++)
        used += (size_t)snprintf(out + used, cap - used, "%s%s", i ? ", " : "", known[i]);
}

static int warn_unknown(sf_http_ctx *c, sf_op op, const char *name, const char *const *known)
{
    char text[2 * SF_WARNING_SIZE], name_text[SF_HTTP_NAME_SHOWN_SIZE], names[200];
    const char *near = sf_http_nearest_name(name, known);
    sf_http_shown_name(name, name_text);
    if (near && strcasecmp(near, name) == 0) {
        snprintf(text, sizeof text,
                 "Parameter %s has the wrong letter case (did you mean %s?); Twilio ignores it",
                 name_text, near);
    } else if (near) {
        snprintf(text, sizeof text, "Unknown parameter %s (did you mean %s?); Twilio ignores it",
                 name_text, near);
    } else if (known[0]) {
        sf_http_list_names(known, names, sizeof names);
        snprintf(text, sizeof text, "Unknown parameter %s (%s takes %s); Twilio ignores it",
                 name_text, sf_op_name(op), names);
    } else {
        snprintf(text, sizeof text,
                 "Unknown parameter %s (%s takes no parameters); Twilio ignores it", name_text,
                 sf_op_name(op));
    }
    return warn(c, op, name, near, text);
}

static const char *header_value(const sf_http_request *req, const char *name)
{
    for (size_t i = 0; i < req->header_count; i++)
        if (req->headers[i].name && strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

static bool looks_like_json(const char *body, size_t len)
{
    size_t i = 0;
    while (i < len && (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n'))
        i++;
    return i < len && (body[i] == '{' || body[i] == '[');
}

/* A POST body Twilio cannot read as parameters: another content type, or JSON sent as a
 * form. true when it warned (then its fields are not checked one by one). */
static bool body_warning(sf_http_ctx *c, sf_op op, int *status)
{
    const sf_http_request *req = c->req;
    const char *type = header_value(req, "Content-Type");
    bool form = !type || strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0;
    bool json = req->body && looks_like_json(req->body, req->body_len);
    if (!sf_http_is(c, "POST") || (form && !json) || req->body_len == 0)
        return false;
    char text[SF_WARNING_SIZE], type_text[SF_HTTP_NAME_SHOWN_SIZE];
    sf_http_shown_name(type ? type : "none", type_text);
    const char *hint = op == SF_OP_MESSAGE_CREATE ? "send Data=<the JSON text> as a form field"
                                                  : "send name=value pairs as a form";
    snprintf(text, sizeof text,
             "Body %s (Content-Type %s): Twilio reads only form parameters "
             "(application/x-www-form-urlencoded) and ignores it; %s",
             json ? "is JSON" : "is not a form", type_text, hint);
    *status = warn(c, op, "Content-Type", "application/x-www-form-urlencoded", text);
    return true;
}

/* The first occurrence of a name only: a repeated field warns once. */
static bool seen_before(const sf_http_form *form, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (strcmp(form->fields[k].name, form->fields[i].name) == 0)
            return true;
    return false;
}

int sf_http_warn_params(sf_http_ctx *c, sf_op op)
{
    int status = 0;
    if (body_warning(c, op, &status))
        return status;
    const char *const *known = known_names(op);
    for (size_t i = 0; i < c->params.count && status == 0; i++) {
        const char *name = c->params.fields[i].name;
        if (!is_known(name, known) && !seen_before(&c->params, i))
            status = warn_unknown(c, op, name, known);
    }
    return status;
}

bool sf_http_route_op(const sf_http_ctx *c, sf_op *op)
{
    size_t n = c->segment_count;
    bool get = sf_http_is(c, "GET"), post = sf_http_is(c, "POST"), del = sf_http_is(c, "DELETE");
    if (n == 2 || n == 4) { /* .../Services or .../Streams */
        *op = n == 2 ? (get ? SF_OP_SERVICE_LIST : SF_OP_SERVICE_CREATE)
                     : (get ? SF_OP_STREAM_LIST : SF_OP_STREAM_CREATE);
        return get || post;
    }
    if (n == 3 || n == 5) { /* one service or stream */
        bool service = n == 3;
        *op = get    ? (service ? SF_OP_SERVICE_FETCH : SF_OP_STREAM_FETCH)
              : post ? (service ? SF_OP_SERVICE_UPDATE : SF_OP_STREAM_UPDATE)
                     : (service ? SF_OP_SERVICE_REMOVE : SF_OP_STREAM_REMOVE);
        return get || post || del;
    }
    *op = SF_OP_MESSAGE_CREATE;
    return n == 6 && post;
}
