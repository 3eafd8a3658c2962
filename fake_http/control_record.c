/* SPDX-License-Identifier: MIT */
/* control_record.c: the journal with its recorded parameters over HTTP, and the switch that
 * records them (see sf_journal_record_calls). */
#include "control_record.h"
#include "render.h"

#include <inttypes.h>
#include <stdlib.h>

int sf_http_journal_data_page(sf_http_ctx *c, const sf_journal_filter *filter, uint64_t cursor,
                              int64_t limit)
{
    sf_journal_entry e;
    for (int64_t n = 0; n < limit && c->body.len < SF_HTTP_JOURNAL_DATA_PAGE_BYTES &&
                        sf_journal_next(c->fake, filter, &cursor, &e);
         n++) {
        size_t len = sf_journal_entry_json_data(c->fake, &e, NULL, 0);
        char *line = malloc(len + 1);
        if (!line)
            return sf_http_fail_status(c, SF_ERR_NOMEM);
        sf_journal_entry_json_data(c->fake, &e, line, len + 1);
        sf_http_buf_add(&c->body, line, len);
        sf_http_buf_add(&c->body, "\n", 1);
        free(line);
    }
    c->resp->status = 200;
    c->resp->content_type = "application/x-ndjson";
    return 200;
}

static int bad_enabled(sf_http_ctx *c)
{
    sf_error err;
    sf_http_status_error(SF_ERR_INVALID_PARAMETER, "Enabled is true or false", &err);
    return sf_http_fail(c, &err);
}

int sf_http_journal_record_route(sf_http_ctx *c, bool fake_wide)
{
    if (sf_http_is(c, "POST")) {
        if (!fake_wide) /* one switch for the whole fake */
            return sf_http_fail_status(c, SF_ERR_FORBIDDEN);
        const char *v = sf_http_form_get(&c->params, "Enabled");
        bool on;
        sf_error err;
        if (!v || !sf_http_parse_bool(v, &on))
            return bad_enabled(c);
        if (sf_journal_record_calls(c->fake, on, &err) != SF_OK)
            return sf_http_fail(c, &err);
    } else if (!sf_http_is(c, "GET")) {
        return sf_http_method_not_allowed(c, "GET, POST");
    }
    sf_http_buf_printf(&c->body, "{\"recording\": %s, \"params_dropped\": %" PRIu64 "}",
                       sf_journal_recording(c->fake) ? "true" : "false",
                       sf_journal_params_dropped(c->fake));
    return sf_http_json(c, 200);
}
