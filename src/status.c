/* SPDX-License-Identifier: MIT */
/* status.c: the status table and Twilio error bodies. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct status_row {
    const char *name;
    int http;
    int code;
    const char *message;
} status_row;

static const status_row rows[SF_STATUS_COUNT] = {
#define SF__STATUS_ROW(name, http, code, msg) {"SF_" #name, http, code, msg},
    SF_STATUS_MAP(SF__STATUS_ROW)
#undef SF__STATUS_ROW
};

static const status_row *row(sf_status status)
{
    if ((unsigned)status >= SF_STATUS_COUNT)
        status = SF_ERR_INVALID_ARGUMENT;
    return &rows[status];
}

const char *sf_status_name(sf_status status) { return row(status)->name; }
const char *sf_status_message(sf_status status) { return row(status)->message; }
int sf_status_http(sf_status status) { return row(status)->http; }
int sf_status_code(sf_status status) { return row(status)->code; }

static void fill(sf_error *err, sf_status status)
{
    const status_row *r = row(status);
    err->status = status;
    err->http_status = r->http;
    err->code = r->code;
    if (r->code)
        snprintf(err->more_info, sizeof err->more_info, "https://www.twilio.com/docs/errors/%d",
                 r->code);
    else
        err->more_info[0] = '\0';
}

void sf__ok(sf_error *err)
{
    if (!err)
        return;
    fill(err, SF_OK);
    snprintf(err->message, sizeof err->message, "%s", rows[SF_OK].message);
}

sf_status sf__fail(sf_error *err, sf_status status)
{
    if (err) {
        fill(err, status);
        snprintf(err->message, sizeof err->message, "%s", row(status)->message);
    }
    return status;
}

sf_status sf__not_found(sf_error *err, const char *fmt, ...)
{
    if (err) {
        char path[SF_ERROR_MESSAGE_SIZE - 64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(path, sizeof path, fmt, ap);
        va_end(ap);
        fill(err, SF_ERR_NOT_FOUND);
        snprintf(err->message, sizeof err->message, "The requested resource %s was not found",
                 path);
    }
    return SF_ERR_NOT_FOUND;
}

sf_status sf__fail_detail(sf_error *err, sf_status status, const char *fmt, ...)
{
    if (err) {
        char detail[SF_ERROR_MESSAGE_SIZE - 64];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
        fill(err, status);
        snprintf(err->message, sizeof err->message, "%s: %s", row(status)->message, detail);
    }
    return status;
}
