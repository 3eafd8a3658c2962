/* SPDX-License-Identifier: MIT */
/* control_state.c: the control API's read-only views: GET /_syncfake/state (one snapshot of
 * what the caller's account may see), GET /_syncfake/subscribers, GET /_syncfake/timeline.svg
 * (the caller's journal as a picture) and the journal's filters.
 * Reads use the core's inspection calls (sf_inspect_*, sf_subscriber_list), which neither
 * journal nor move the clock nor run anything due: a page that polls these never changes what
 * a test sees. Account scoping is control.c's: the fake-wide caller (default account or admin
 * credential) sees every account, any other account only its own things. */
#include "control_state.h"
#include "control_access.h"
#include "control_params.h"
#include "control_routes.h"
#include "render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Caps that bound a /state document whatever it holds (docs/http.md "Read endpoints"). Lists cut by
 * a cap say so: each list comes with its total (or `..._more: true`). */
#define STATE_ACCOUNTS_MAX 100
#define STATE_SERVICES_MAX 100     /* per account */
#define STATE_STREAMS_MAX 100      /* per service */
#define STATE_STREAMS_DOC_MAX 1000 /* in the whole document */
#define STATE_SUBSCRIBERS_MAX 1000
#define STATE_FAULTS_MAX 1000
#define STATE_INJECTIONS_MAX 1000
#define SUBSCRIBERS_PAGE_DEFAULT 100
#define SUBSCRIBERS_PAGE_MAX 1000

/* ---- pieces of the document ---- */

static void render_clock(sf_http_ctx *c, sf_ms now)
{
    const sf_options *o = sf_fake_options(c->fake);
    sf_http_buf_str(&c->body, "\"clock\": {\"now\": ");
    sf_http_render_date(&c->body, now);
    sf_http_buf_printf(&c->body, ", \"now_ms\": %" PRId64 ", \"mode\": \"%s\"}", now,
                       o->clock == SF_CLOCK_MANUAL ? "manual" : "wall");
}

static void render_rate(sf_http_buf *b, const sf_rate_state *r)
{
    sf_http_buf_printf(b,
                       "{\"limited\": %s, \"tokens\": %u, \"capacity\": %u, "
                       "\"next_allowed_ms\": %" PRId64 "}",
                       r->limited ? "true" : "false", r->tokens, r->capacity, r->next_allowed_ms);
}

static void render_stream(sf_http_buf *b, const sf_stream_view *v, sf_ms now)
{
    const sf_stream_record *r = &v->record;
    sf_http_buf_printf(b, "{\"sid\": \"%s\", \"unique_name\": ", r->sid);
    sf_http_buf_json_string_or_null(b, r->has_unique_name ? r->unique_name : NULL);
    sf_http_buf_str(b, ", \"date_created\": ");
    sf_http_render_date(b, r->date_created_ms);
    sf_http_buf_str(b, ", \"date_expires\": ");
    if (r->has_date_expires) {
        sf_http_render_date(b, r->date_expires_ms);
        sf_ms left = r->date_expires_ms > now ? r->date_expires_ms - now : 0;
        sf_http_buf_printf(b, ", \"date_expires_ms\": %" PRId64 ", \"expires_in_ms\": %" PRId64,
                           r->date_expires_ms, left);
    } else {
        sf_http_buf_str(b, "null, \"date_expires_ms\": null, \"expires_in_ms\": null");
    }
    sf_http_buf_printf(
        b, ", \"messages_published\": %" PRIu64 ", \"subscribers\": %" PRIu64 ", \"rate_limit\": ",
        v->messages_published, v->subscribers);
    render_rate(b, &v->rate);
    sf_http_buf_str(b, "}");
}

/* The streams of one service, within the document's budget of streams. */
static void render_streams(sf_http_ctx *c, const char *service_sid, sf_ms now, size_t *budget)
{
    sf_stream_view *views = calloc(STATE_STREAMS_MAX, sizeof *views);
    if (!views) {
        c->body.failed = true;
        return;
    }
    size_t cap = *budget < STATE_STREAMS_MAX ? *budget : STATE_STREAMS_MAX;
    size_t total = sf_inspect_streams(c->fake, service_sid, 0, views, cap);
    size_t shown = total < cap ? total : cap;
    sf_http_buf_str(&c->body, "\"streams\": [");
    for (size_t i = 0; i < shown; i++) {
        if (i)
            sf_http_buf_str(&c->body, ", ");
        render_stream(&c->body, &views[i], now);
    }
    sf_http_buf_printf(&c->body, "], \"streams_total\": %zu", total);
    *budget -= shown;
    free(views);
}

static void render_services(sf_http_ctx *c, const char *account_sid, sf_ms now, size_t *budget)
{
    sf_service_record *recs = calloc(STATE_SERVICES_MAX, sizeof *recs);
    if (!recs) {
        c->body.failed = true;
        return;
    }
    size_t total = sf_inspect_services(c->fake, account_sid, 0, recs, STATE_SERVICES_MAX);
    size_t shown = total < STATE_SERVICES_MAX ? total : STATE_SERVICES_MAX;
    sf_http_buf_str(&c->body, "\"services\": [");
    for (size_t i = 0; i < shown; i++) {
        sf_http_buf_printf(&c->body, "%s{\"sid\": \"%s\", \"friendly_name\": ", i ? ", " : "",
                           recs[i].sid);
        sf_http_buf_json_string_or_null(&c->body,
                                        recs[i].has_friendly_name ? recs[i].friendly_name : NULL);
        sf_http_buf_str(&c->body, ", ");
        render_streams(c, recs[i].sid, now, budget);
        sf_http_buf_str(&c->body, "}");
    }
    sf_http_buf_printf(&c->body, "], \"services_total\": %zu", total);
    free(recs);
}

static void render_accounts(sf_http_ctx *c, sf_ms now)
{
    const char *own = sf_http_own_account(c);
    char(*sids)[SF_SID_SIZE] = calloc(STATE_ACCOUNTS_MAX, sizeof *sids);
    if (!sids) {
        c->body.failed = true;
        return;
    }
    size_t total = 1, shown = 1;
    if (own) {
        memcpy(sids[0], own, SF_SID_SIZE);
    } else {
        total = sf_inspect_accounts(c->fake, 0, sids, STATE_ACCOUNTS_MAX);
        shown = total < STATE_ACCOUNTS_MAX ? total : STATE_ACCOUNTS_MAX;
    }
    size_t budget = STATE_STREAMS_DOC_MAX;
    sf_http_buf_str(&c->body, "\"accounts\": [");
    for (size_t i = 0; i < shown; i++) {
        sf_http_buf_printf(&c->body, "%s{\"sid\": \"%s\", ", i ? ", " : "", sids[i]);
        render_services(c, sids[i], now, &budget);
        sf_http_buf_str(&c->body, "}");
    }
    sf_http_buf_printf(&c->body, "], \"accounts_total\": %zu", total);
    free(sids);
}

static void render_subscriber(sf_http_buf *b, const sf_subscriber_info *s)
{
    const sf_subscriber_stats *st = &s->stats;
    sf_http_buf_printf(b, "{\"id\": %" PRIu64 ", \"stream_sid\": \"%s\", \"client_id\": ", s->id,
                       st->stream_sid);
    if (s->client_id)
        sf_http_buf_printf(b, "%" PRIu64, s->client_id);
    else
        sf_http_buf_str(b, "null");
    const char *kind = sf_connection_kind_name(s->connection);
    sf_http_buf_printf(b,
                       ", \"connection\": \"%s\", \"attached\": %s, \"held\": %s, "
                       "\"connected\": %s, \"delivered\": %" PRIu64 ", \"duplicated\": %" PRIu64
                       ", \"dropped\": %" PRIu64 ", \"lost\": %" PRIu64 ", \"in_flight\": %" PRIu64
                       ", \"parked\": %" PRIu64 "}",
                       kind ? kind : "c", st->attached ? "true" : "false",
                       st->held ? "true" : "false", st->connected ? "true" : "false", st->delivered,
                       st->duplicated, st->dropped, st->lost, st->in_flight, st->parked);
}

/* Up to `limit` subscribers after `filter->after` as "subscribers": [...], then
 * "next_after": the cursor of the next page, or null when this page is the last. */
static void render_subscribers(sf_http_ctx *c, sf_subscriber_filter *filter, size_t limit)
{
    sf_subscriber_info *subs = calloc(limit + 1, sizeof *subs);
    if (!subs) {
        c->body.failed = true;
        return;
    }
    size_t n = sf_subscriber_list(c->fake, filter, subs, limit + 1); /* one more: is there? */
    size_t shown = n < limit ? n : limit;
    sf_http_buf_str(&c->body, "\"subscribers\": [");
    for (size_t i = 0; i < shown; i++) {
        if (i)
            sf_http_buf_str(&c->body, ", ");
        render_subscriber(&c->body, &subs[i]);
    }
    sf_http_buf_str(&c->body, "], \"next_after\": ");
    if (n > limit)
        sf_http_buf_printf(&c->body, "%" PRIu64, subs[limit - 1].id);
    else
        sf_http_buf_str(&c->body, "null");
    free(subs);
}

static bool fault_visible(const sf_http_ctx *c, const sf_fault_info *f)
{
    const char *own = sf_http_own_account(c);
    return !own || strcmp(f->account_sid, own) == 0;
}

static void render_faults(sf_http_ctx *c)
{
    size_t n = sf_fault_list(c->fake, NULL, 0);
    sf_fault_info *all = calloc(n ? n : 1, sizeof *all);
    if (!all) {
        c->body.failed = true;
        return;
    }
    sf_fault_list(c->fake, all, n);
    size_t shown = 0, visible = 0;
    sf_http_buf_str(&c->body, "\"faults\": [");
    for (size_t i = 0; i < n; i++) {
        if (!fault_visible(c, &all[i]))
            continue;
        if (visible++ >= STATE_FAULTS_MAX)
            continue;
        if (shown++)
            sf_http_buf_str(&c->body, ", ");
        sf_http_control_render_fault(&c->body, &all[i]);
    }
    sf_http_buf_printf(&c->body, "], \"faults_total\": %zu", visible);
    free(all);
}

static void render_injection(sf_http_buf *b, const sf_injection_info *j)
{
    sf_http_buf_printf(b,
                       "{\"operation\": \"%s\", \"count_left\": %u, \"status\": %d, "
                       "\"code\": %d, \"message\": ",
                       sf_op_name(j->op), j->count_left, j->http_status, j->code);
    sf_http_buf_json_string(b, j->message);
    sf_http_buf_printf(b, ", \"after_apply\": %s}", j->after_apply ? "true" : "false");
}

static void render_injections(sf_http_ctx *c)
{
    const char *own = sf_http_own_account(c);
    size_t n = sf_inspect_injections(c->fake, 0, NULL, 0);
    sf_injection_info *all = calloc(n ? n : 1, sizeof *all);
    if (!all) {
        c->body.failed = true;
        return;
    }
    sf_inspect_injections(c->fake, 0, all, n);
    size_t shown = 0, visible = 0;
    sf_http_buf_str(&c->body, "\"injected_errors\": [");
    for (size_t i = 0; i < n; i++) {
        /* as with rules (GET /_syncfake/faults): an account sees only its own */
        if (own && strcmp(all[i].account_sid, own) != 0)
            continue;
        if (visible++ >= STATE_INJECTIONS_MAX)
            continue;
        if (shown++)
            sf_http_buf_str(&c->body, ", ");
        render_injection(&c->body, &all[i]);
    }
    sf_http_buf_printf(&c->body, "], \"injected_errors_total\": %zu", visible);
    free(all);
}

/* ---- routes ---- */

static int state_route(sf_http_ctx *c)
{
    sf_ms now = sf_inspect_now(c->fake);
    sf_subscriber_filter filter = {.account_sid = sf_http_own_account(c)};
    sf_http_buf_str(&c->body, "{");
    render_clock(c, now);
    sf_http_buf_str(&c->body, ", ");
    render_accounts(c, now);
    sf_http_buf_str(&c->body, ", ");
    render_subscribers(c, &filter, STATE_SUBSCRIBERS_MAX);
    sf_http_buf_str(&c->body, ", ");
    render_faults(c);
    sf_http_buf_str(&c->body, ", ");
    render_injections(c);
    sf_http_buf_str(&c->body, "}");
    if (c->body.failed)
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    return sf_http_json(c, 200);
}

/* A stream filter is a SID as the journal prints it (TO + 32 lowercase hex digits): unique
 * names are per service, and a removed stream's name no longer resolves. */
static bool stream_sid_param(const char *v)
{
    return sf_sid_pattern(v) && v[0] == 'T' && v[1] == 'O';
}

static int subscribers_route(sf_http_ctx *c)
{
    sf_subscriber_filter filter = {.account_sid = sf_http_own_account(c)};
    int64_t after = 0, limit = SUBSCRIBERS_PAGE_DEFAULT;
    const char *v;
    if ((v = sf_http_param(c, "stream")) && !stream_sid_param(v))
        return sf_http_control_bad_param(
            c, "stream is a stream SID (TO followed by 32 lowercase hex digits)");
    filter.stream_sid = v;
    if ((v = sf_http_param(c, "after")) && (!sf_http_parse_int(v, &after) || after < 0))
        return sf_http_control_bad_param(c, "after is a subscriber id (an integer >= 0)");
    if ((v = sf_http_param(c, "limit")) &&
        (!sf_http_parse_int(v, &limit) || limit < 1 || limit > SUBSCRIBERS_PAGE_MAX))
        return sf_http_control_bad_param(c, "limit is an integer within 1..1000");
    filter.after = (sf_subscriber_id)after;
    sf_http_buf_str(&c->body, "{");
    render_subscribers(c, &filter, (size_t)limit);
    sf_http_buf_str(&c->body, "}");
    if (c->body.failed)
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    return sf_http_json(c, 200);
}

/* The caller's journal (narrowed by the journal's filters) drawn by sf_timeline_svg. The
 * journal holds at most options.journal_capacity entries and the picture has its own caps,
 * so the answer is bounded. */
static int timeline_route(sf_http_ctx *c)
{
    sf_journal_filter filter = {.account_sid = sf_http_own_account(c)};
    int refused = sf_http_journal_filters(c, &filter);
    if (refused)
        return refused;
    sf_http_buf lines;
    sf_http_buf_init(&lines);
    uint64_t cursor = 0;
    sf_journal_entry e;
    char line[1024];
    while (sf_journal_next(c->fake, &filter, &cursor, &e)) {
        size_t len = sf_journal_entry_json(&e, line, sizeof line);
        sf_http_buf_add(&lines, line, len < sizeof line ? len : 0);
        sf_http_buf_add(&lines, "\n", 1);
    }
    size_t svg_len = 0;
    char *svg = lines.failed ? NULL : sf_timeline_svg(lines.data, lines.len, &svg_len);
    sf_http_buf_free(&lines);
    if (!svg)
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    sf_http_buf_add(&c->body, svg, svg_len);
    sf_timeline_free(svg);
    if (c->body.failed)
        return sf_http_fail_status(c, SF_ERR_NOMEM);
    c->resp->status = 200;
    c->resp->content_type = "image/svg+xml";
    return 200;
}

int sf_http_control_state(sf_http_ctx *c)
{
    if (!sf_http_is(c, "GET"))
        return sf_http_method_not_allowed(c, "GET");
    if (strcmp(c->segments[1], "state") == 0)
        return state_route(c);
    if (strcmp(c->segments[1], "timeline.svg") == 0)
        return timeline_route(c);
    return subscribers_route(c);
}

/* ---- journal filters ---- */

/* "delivered,dropped" -> the bit set of those kinds; false on an unknown or empty name. */
static bool parse_kinds(const char *list, uint32_t *out)
{
    uint32_t kinds = 0;
    const char *p = list;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool known = false;
        for (unsigned k = 0; k < SF_JOURNAL_KIND_COUNT && !known; k++) {
            const char *name = sf_journal_kind_name((sf_journal_kind)k);
            if (name && strlen(name) == len && memcmp(name, p, len) == 0) {
                kinds |= 1u << k;
                known = true;
            }
        }
        if (!known)
            return false;
        if (!end)
            break;
        p = end + 1;
    }
    *out = kinds;
    return true;
}

int sf_http_journal_filters(sf_http_ctx *c, sf_journal_filter *filter)
{
    const char *v;
    if ((v = sf_http_param(c, "kind")) && !parse_kinds(v, &filter->kinds))
        return sf_http_control_bad_param(c, "kind is a comma-separated list of journal kinds "
                                            "(api, subscribed, delivered, dropped, ...)");
    if ((v = sf_http_param(c, "stream")) && !stream_sid_param(v))
        return sf_http_control_bad_param(
            c, "stream is a stream SID (TO followed by 32 lowercase hex digits)");
    filter->stream_sid = v;
    int64_t sub;
    if ((v = sf_http_param(c, "subscriber")) && (!sf_http_parse_int(v, &sub) || sub < 1))
        return sf_http_control_bad_param(c, "subscriber is a subscriber id (an integer >= 1)");
    if (v)
        filter->subscriber = (sf_subscriber_id)sub;
    return 0;
}
