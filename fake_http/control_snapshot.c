/* SPDX-License-Identifier: MIT */
/* control_snapshot.c: GET /_syncfake/snapshot downloads the fake's whole state (the binary
 * format of docs/snapshot-format.md); PUT /_syncfake/snapshot replaces the state with the
 * request body's snapshot. Both are fake-wide, like moving the clock: the default account or
 * the admin credential only, 403/20403 for any other account. */
#include "control_access.h"
#include "control_routes.h"
#include "syncfake_snapshot.h"

#include <string.h>

static bool to_body(const void *buf, size_t len, void *user)
{
    sf_http_buf *b = user;
    sf_http_buf_add(b, buf, len);
    return !b->failed;
}

typedef struct body_source {
    const char *p;
    size_t left;
} body_source;

static size_t from_body(void *buf, size_t len, void *user)
{
    body_source *s = user;
    size_t n = len < s->left ? len : s->left;
    memcpy(buf, s->p, n);
    s->p += n;
    s->left -= n;
    return n;
}

static int download(sf_http_ctx *c)
{
    sf_error err;
    if (sf_snapshot_save(c->fake, to_body, &c->body, &err) != SF_OK)
        return sf_http_fail_status(c, SF_ERR_NOMEM); /* writing to memory fails only so */
    c->resp->status = 200;
    c->resp->content_type = "application/octet-stream";
    return 200;
}

/* The state is replaced as a reset replaces it: the server closes event streams and adds
 * the command line's accounts and keys back when the snapshot lacks them. */
static int replace(sf_http_ctx *c)
{
    body_source src = {c->req->body, c->req->body_len};
    sf_error err;
    if (sf_fake_restore(c->fake, from_body, &src, &err) != SF_OK)
        return sf_http_fail(c, &err);
    c->resp->fake_was_reset = true;
    return sf_http_no_content(c);
}

int sf_http_control_snapshot(sf_http_ctx *c)
{
    if (!sf_http_is(c, "GET") && !sf_http_is(c, "PUT"))
        return sf_http_method_not_allowed(c, "GET, PUT");
    if (!sf_http_fake_wide(c))
        return sf_http_fail_status(c, SF_ERR_FORBIDDEN);
    return sf_http_is(c, "GET") ? download(c) : replace(c);
}
