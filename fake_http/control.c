/* SPDX-License-Identifier: MIT */
/* control.c: syncfake's own routes under /_syncfake/ (not Twilio's): the clock, reset, the
 * journal, fault rules, injected errors, subscriber scripting and server-sent events. Same
 * credentials as the API; form-encoded requests, JSON responses, Twilio-style errors.
 * This file: the clock, reset, the journal, subscriber scripting and the route table; the
 * other routes live in control_*.c (control_routes.h). Account model: control_access.h; a
 * caller that is not fake-wide may not move the clock or reset the whole fake. */
#include "control.h"
#include "control_access.h"
#include "control_params.h"
#include "control_record.h"
#include "control_routes.h"
#include "control_scenario.h"
#include "control_state.h"
#include "control_ui.h" /* the page at /_syncfake/ui */
#include "render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- clock ---- */

static int clock_route(sf_http_ctx *c)
{
    const sf_options *o = sf_fake_options(c->fake);
    sf_error err;
    if (sf_http_is(c, "POST")) {
        if (!sf_http_fake_wide(c)) /* the clock is everyone's: only the primary account moves it */
            return sf_http_fail_status(c, SF_ERR_FORBIDDEN);
        int64_t advance = 0, now = 0;
        bool has_advance = sf_http_param(c, "AdvanceMs") != NULL,
             has_now = sf_http_param(c, "NowMs") != NULL;
        if (!sf_http_int_or_absent(c, "AdvanceMs", &advance) ||
            !sf_http_int_or_absent(c, "NowMs", &now))
            return sf_http_control_bad_param(c, "AdvanceMs and NowMs are integers (ms)");
        if (has_advance == has_now)
            return sf_http_control_bad_param(c, "give exactly one of AdvanceMs or NowMs");
        sf_status st = has_advance ? sf_clock_advance(c->fake, advance, &err)
                                   : sf_clock_set(c->fake, now, &err);
        if (st != SF_OK)
            return sf_http_fail(c, &err);
    } else if (!sf_http_is(c, "GET")) {
        return sf_http_method_not_allowed(c, "GET, POST");
    }
    sf_ms t = sf_clock_now(c->fake);
    sf_http_buf_str(&c->body, "{\"now\": ");
    sf_http_render_date(&c->body, t);
    sf_http_buf_printf(&c->body, ", \"now_ms\": %" PRId64 ", \"mode\": \"%s\"", t,
                       o->clock == SF_CLOCK_MANUAL ? "manual" : "wall");
    if (c->req->instance_id) { /* which server run this is: never part of the fake's state */
        sf_http_buf_str(&c->body, ", \"instance_id\": \"");
        sf_http_buf_json_chars(&c->body, c->req->instance_id);
        sf_http_buf_str(&c->body, "\"");
    }
    sf_http_buf_str(&c->body, "}");
    return sf_http_json(c, 200);
}

/* ---- subscribers: scripted states ---- */

static int subscriber_route(sf_http_ctx *c)
{
    int64_t id;
    if (c->segment_count != 3 || !sf_http_parse_int(c->segments[2], &id) || id <= 0)
        return sf_http_not_found(c);
    sf_subscriber_stats st;
    sf_error err;
    const char *own = sf_http_own_account(c);
    if (sf_subscriber_stats_get(c->fake, (sf_subscriber_id)id, &st, &err) != SF_OK ||
        (own && strcmp(st.account_sid, own) != 0))
        return sf_http_not_found(c); /* another account's subscriber: as if there were none */
    if (sf_http_is(c, "POST")) {
        const char *action = sf_http_param(c, "Action");
        sf_status r;
        if (!action)
            return sf_http_control_bad_param(
                c, "Action is hold, heal, discard, disconnect or reconnect");
        if (strcmp(action, "hold") == 0)
            r = sf_subscriber_hold(c->fake, (sf_subscriber_id)id, &err);
        else if (strcmp(action, "heal") == 0)
            r = sf_subscriber_heal(c->fake, (sf_subscriber_id)id, true, &err);
        else if (strcmp(action, "discard") == 0)
            r = sf_subscriber_heal(c->fake, (sf_subscriber_id)id, false, &err);
        else if (strcmp(action, "disconnect") == 0)
            r = sf_subscriber_disconnect(c->fake, (sf_subscriber_id)id, &err);
        else if (strcmp(action, "reconnect") == 0)
            r = sf_subscriber_reconnect(c->fake, (sf_subscriber_id)id, &err);
        else
            return sf_http_control_bad_param(
                c, "Action is hold, heal, discard, disconnect or reconnect");
        if (r != SF_OK)
            return sf_http_fail(c, &err);
        sf_subscriber_stats_get(c->fake, (sf_subscriber_id)id, &st, NULL);
    } else if (!sf_http_is(c, "GET")) {
        return sf_http_method_not_allowed(c, "GET, POST");
    }
    sf_http_buf_printf(&c->body,
                       "{\"id\": %" PRId64 ", \"stream_sid\": \"%s\", \"attached\": %s, "
                       "\"held\": %s, \"connected\": %s, \"delivered\": %" PRIu64
                       ", \"duplicated\": %" PRIu64 ", \"dropped\": %" PRIu64 ", \"lost\": %" PRIu64
                       ", \"in_flight\": %" PRIu64 ", \"parked\": %" PRIu64 "}",
                       id, st.stream_sid, st.attached ? "true" : "false",
                       st.held ? "true" : "false", st.connected ? "true" : "false", st.delivered,
                       st.duplicated, st.dropped, st.lost, st.in_flight, st.parked);
    return sf_http_json(c, 200);
}

/* ---- reset and the journal ---- */

/* The fake-wide caller resets the whole fake; any other account only its own things. */
static int reset_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "POST"))
        return sf_http_method_not_allowed(c, "POST");
    sf_error err;
    bool whole = sf_http_fake_wide(c);
    sf_status st =
        whole ? sf_fake_reset(c->fake, &err) : sf_account_reset(c->fake, c->account_sid, &err);
    if (st != SF_OK)
        return sf_http_fail(c, &err);
    c->resp->fake_was_reset = whole;
    return sf_http_no_content(c);
}

/* One page of the journal: at most `limit` lines (JOURNAL_PAGE_MAX at most, each under 1 KB),
 * so an answer's size is bounded whatever the journal holds. The next page starts after the
 * seq of the last line; a page shorter than `limit` is the last one. */
#define JOURNAL_PAGE_DEFAULT 1000
#define JOURNAL_PAGE_MAX 10000
#define JOURNAL_LINE_MAX 1024

static int journal_route(sf_http_ctx *c)
{
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    int64_t since = 0, limit = JOURNAL_PAGE_DEFAULT;
    if (!sf_http_int_or_absent(c, "since", &since) || since < 0)
        return sf_http_control_bad_param(c, "since is a journal seq (an integer >= 0)");
    if (!sf_http_int_or_absent(c, "limit", &limit) || limit < 1 || limit > JOURNAL_PAGE_MAX)
        return sf_http_control_bad_param(c, "limit is an integer within 1..10000");
    int64_t data = 0;
    if (!sf_http_int_or_absent(c, "data", &data) || data < 0 || data > 1)
        return sf_http_control_bad_param(c, "data is 0 or 1");
    sf_journal_filter filter = {.account_sid = sf_http_own_account(c)};
    int refused = sf_http_journal_filters(c, &filter); /* ?kind=&stream=&subscriber= */
    if (refused)
        return refused;
    uint64_t cursor = sf_journal_cursor_after(c->fake, (uint64_t)since);
    if (data) /* with the recorded parameters (control_record.c) */
        return sf_http_journal_data_page(c, &filter, cursor, limit);
    sf_journal_entry e;
    char line[JOURNAL_LINE_MAX];
    for (int64_t n = 0; n < limit && sf_journal_next(c->fake, &filter, &cursor, &e); n++) {
        size_t len = sf_journal_entry_json(&e, line, sizeof line);
        if (len >= sizeof line) /* cannot happen: every field has a bounded width */
            return sf_http_fail_status(c, SF_ERR_NOMEM);
        sf_http_buf_add(&c->body, line, len);
        sf_http_buf_add(&c->body, "\n", 1);
    }
    c->resp->status = 200;
    c->resp->content_type = "application/x-ndjson";
    return 200;
}

/* ---- routing ---- */

/* /_syncfake/journal/record; any other /_syncfake/journal/<x> is not a route. */
static int journal_record_route(sf_http_ctx *c)
{
    if (strcmp(c->segments[2], "record") != 0)
        return sf_http_not_found(c);
    return sf_http_journal_record_route(c, sf_http_fake_wide(c));
}

/* segments[1] -> its route; the first entry that matches the name and segment count wins. */
static const sf_http_route control_routes[] = {
    {"clock", 2, 2, clock_route},
    {"state", 2, 2, sf_http_control_state},
    {"subscribers", 2, 2, sf_http_control_state},
    {"timeline.svg", 2, 2, sf_http_control_state},
    {"reset", 2, 2, reset_route},
    {"journal", 2, 2, journal_route},
    {"request-log", 2, 2, sf_http_control_request_log},
    {"journal", 3, 3, journal_record_route},
    {"faults", 2, 3, sf_http_control_faults},
    {"errors", 2, 2, sf_http_control_errors},
    {"tokens", 2, 2, sf_http_control_tokens},
    {"snapshot", 2, 2, sf_http_control_snapshot},
    {"scenario", 2, 2, sf_http_control_scenario},
    {"subscribers", 1, SF_HTTP_MAX_SEGMENTS, subscriber_route},
    {"ui", 1, SF_HTTP_MAX_SEGMENTS, sf_http_control_ui},
    {"Services", 6, 6, sf_http_control_events},
};

int sf_http_control(sf_http_ctx *c)
{
    if (c->segment_count < 2)
        return sf_http_not_found(c);
    int refused = sf_http_control_check_params(c); /* unknown parameters: 400 */
    if (refused)
        return refused;
    sf_http_handler handle =
        sf_http_route_find(control_routes, SF_HTTP_COUNT(control_routes), c, 1);
    return handle ? handle(c) : sf_http_not_found(c);
}
