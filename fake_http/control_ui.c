/* SPDX-License-Identifier: MIT */
/* control_ui.c: serves the page at /_syncfake/ui from the files compiled into the library
 * (ui_assets.h). The dispatcher has authenticated the caller already, so a browser without
 * credentials gets the 401 with WWW-Authenticate: Basic and prompts for them. The page only
 * reads and calls the existing REST and control routes: serving it touches no state. */
#include "control_ui.h"
#include "ui_assets.h"

#include <string.h>

static const sf_ui_asset *find_asset(const char *name)
{
    for (size_t i = 0; i < sf_ui_asset_count; i++)
        if (strcmp(sf_ui_assets[i].name, name) == 0)
            return &sf_ui_assets[i];
    return NULL;
}

int sf_http_control_ui(sf_http_ctx *c)
{
    /* /_syncfake/ui is the page; /_syncfake/ui/ and /_syncfake/ui/index.html name it too */
    const char *name = "index.html";
    if (c->segment_count == 3 && c->segments[2][0])
        name = c->segments[2];
    else if (c->segment_count > 3)
        return sf_http_not_found(c);
    const sf_ui_asset *asset = find_asset(name);
    if (!asset)
        return sf_http_not_found(c);
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    sf_http_buf_add(&c->body, (const char *)asset->data, asset->len);
    c->resp->status = 200;
    c->resp->content_type = asset->content_type;
    /* The files change with the binary: the browser asks again each time (and keeps no copy
     * of a page that shows a test's data behind credentials). */
    c->resp->cache_control = "no-store";
    return 200;
}
