/* SPDX-License-Identifier: MIT */
/* ui_assets.h: the files of the page at /_syncfake/ui (fake_http/ui/), compiled into the
 * library by cmake/embed_ui.cmake. */
#ifndef SF_UI_ASSETS_H
#define SF_UI_ASSETS_H

#include <stddef.h>

typedef struct sf_ui_asset {
    const char *name;         /* "index.html": the file's name under fake_http/ui/ */
    const char *content_type; /* "text/html; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} sf_ui_asset;

extern const sf_ui_asset sf_ui_assets[]; /* in name order */
extern const size_t sf_ui_asset_count;

#endif
