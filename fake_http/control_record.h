/* SPDX-License-Identifier: MIT */
/* control_record.h: the recorded calls over HTTP (control_record.c): the journal's data form
 * (GET /_syncfake/journal?data=1) and turning recording on or off. */
#ifndef SF_HTTP_CONTROL_RECORD_H
#define SF_HTTP_CONTROL_RECORD_H

#include "http_ctx.h"

/* One page of the journal in its data form: at most `limit` entries from `cursor`, and at
 * most SF_HTTP_JOURNAL_DATA_PAGE_BYTES of lines (at least one line), since one entry's
 * message data can be large. */
#define SF_HTTP_JOURNAL_DATA_PAGE_BYTES ((size_t)4 * 1024 * 1024)
int sf_http_journal_data_page(sf_http_ctx *c, const sf_journal_filter *filter, uint64_t cursor,
                              int64_t limit);

/* GET/POST /_syncfake/journal/record: whether calls are recorded; POST Enabled=true|false
 * (fake-wide callers only) turns recording on or off. */
int sf_http_journal_record_route(sf_http_ctx *c, bool fake_wide);

#endif
