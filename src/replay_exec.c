/* SPDX-License-Identifier: MIT */
/* replay_exec.c: one recorded call re-executed from its parameters. The answer itself is not
 * checked here: whatever it was, the journal shows it, and replay.c compares journals. */
#include "replay.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool opt_bool(const sf__rline *l, const char *key, sf_opt_bool *out)
{
    bool b;
    int v;
    *out = SF_BOOL_UNSET;
    if (!sf__rarg_has(l, key))
        return true;
    if (sf__rline_bool(l, l->params, key, &b)) {
        *out = b ? SF_BOOL_TRUE : SF_BOOL_FALSE;
        return true;
    }
    if (!sf__rarg_int(l, key, &v))
        return false;
    *out = (sf_opt_bool)v;
    return true;
}

static bool service_params(const sf__rline *l, sf__rargs *a, sf_service_params *p)
{
    memset(p, 0, sizeof *p);
    p->friendly_name = sf__rarg_name(a, l, "friendly_name");
    p->webhook_url = sf__rarg_name(a, l, "webhook_url");
    p->has_reachability_debouncing_window = sf__rarg_has(l, "reachability_debouncing_window");
    return opt_bool(l, "reachability_webhooks_enabled", &p->reachability_webhooks_enabled) &&
           opt_bool(l, "acl_enabled", &p->acl_enabled) &&
           opt_bool(l, "reachability_debouncing_enabled", &p->reachability_debouncing_enabled) &&
           opt_bool(l, "webhooks_from_rest_enabled", &p->webhooks_from_rest_enabled) &&
           (!p->has_reachability_debouncing_window ||
            sf__rline_i64(l, l->params, "reachability_debouncing_window",
                          &p->reachability_debouncing_window));
}

static bool page_params(const sf__rline *l, sf__rargs *a, sf_page_params *p)
{
    memset(p, 0, sizeof *p);
    p->has_page_size = sf__rarg_has(l, "page_size");
    p->has_page = sf__rarg_has(l, "page");
    p->page_token = sf__rarg_name(a, l, "page_token");
    return (!p->has_page_size || sf__rline_i64(l, l->params, "page_size", &p->page_size)) &&
           (!p->has_page || sf__rline_i64(l, l->params, "page", &p->page));
}

static bool run_service_op(sf_fake *fake, const sf__rline *l, sf__rargs *a, const char *account,
                           const char *service)
{
    sf_service_record rec;
    sf_service_params p;
    sf_page_params pp;
    sf_service_page *page = NULL;
    bool none = sf__rarg_flag(l, "no_params");
    switch (l->op) {
    case SF_OP_SERVICE_CREATE:
    case SF_OP_SERVICE_UPDATE:
        if (!none && !service_params(l, a, &p))
            return false;
        if (l->op == SF_OP_SERVICE_CREATE)
            sf_service_create(fake, account, none ? NULL : &p, &rec, NULL);
        else
            sf_service_update(fake, account, service, none ? NULL : &p, &rec, NULL);
        return true;
    case SF_OP_SERVICE_FETCH:
        sf_service_fetch(fake, account, service, &rec, NULL);
        return true;
    case SF_OP_SERVICE_REMOVE:
        sf_service_remove(fake, account, service, NULL);
        return true;
    default: /* SF_OP_SERVICE_LIST */
        if (!none && !page_params(l, a, &pp))
            return false;
        sf_service_list(fake, account, none ? NULL : &pp, &page, NULL);
        sf_service_page_free(fake, page);
        return true;
    }
}

static bool run_stream_op(sf_fake *fake, const sf__rline *l, sf__rargs *a, const char *account,
                          const char *service, const char *stream)
{
    sf_stream_record rec;
    sf_stream_params p = {0};
    sf_page_params pp;
    sf_stream_page *page = NULL;
    bool none = sf__rarg_flag(l, "no_params");
    switch (l->op) {
    case SF_OP_STREAM_CREATE:
    case SF_OP_STREAM_UPDATE:
        p.unique_name = none ? NULL : sf__rarg_name(a, l, "unique_name");
        p.has_ttl = sf__rarg_has(l, "ttl");
        if (p.has_ttl && !sf__rline_i64(l, l->params, "ttl", &p.ttl))
            return false;
        if (l->op == SF_OP_STREAM_CREATE)
            sf_stream_create(fake, account, service, none ? NULL : &p, &rec, NULL);
        else
            sf_stream_update(fake, account, service, stream, none ? NULL : &p, &rec, NULL);
        return true;
    case SF_OP_STREAM_FETCH:
        sf_stream_fetch(fake, account, service, stream, &rec, NULL);
        return true;
    case SF_OP_STREAM_REMOVE:
        sf_stream_remove(fake, account, service, stream, NULL);
        return true;
    default: /* SF_OP_STREAM_LIST */
        if (!none && !page_params(l, a, &pp))
            return false;
        sf_stream_list(fake, account, service, none ? NULL : &pp, &page, NULL);
        sf_stream_page_free(fake, page);
        return true;
    }
}

static bool run_publish(sf_fake *fake, const sf__rline *l, sf__rargs *a, const char *account,
                        const char *service, const char *stream)
{
    sf_publish_params p = {0};
    sf_message_record rec;
    if (!sf__rarg_flag(l, "no_params")) {
        size_t fill = sf_fake_options(fake)->limits.max_data_bytes + 1;
        p.data = sf__rarg_str(a, l, "data", fill);
        p.data_len = a->s[a->n - 1].len;
        if (sf__rarg_has(l, "client_id") && !sf__rline_u64(l, l->params, "client_id", &p.client_id))
            return false;
    }
    sf_stream_publish(fake, account, service, stream, sf__rarg_flag(l, "no_params") ? NULL : &p,
                      &rec, NULL);
    return true;
}

static bool parse_status(const sf__rline *l, sf_status *out)
{
    sf__rstr s;
    if (!sf__rline_str(l, l->params, "refused", 0, &s) || !s.s)
        return false;
    bool found = false;
    for (unsigned i = 0; i < SF_STATUS_COUNT && !found; i++)
        if (strcmp(s.s, sf_status_name((sf_status)i)) == 0)
            *out = (sf_status)i, found = true;
    sf__rstr_free(&s);
    return found;
}

static bool run_api(sf_fake *fake, const sf__rline *l)
{
    sf__rargs a = {.ok = true};
    const char *account = sf__rarg_name(&a, l, "account");
    const char *service = sf__rarg_name(&a, l, "service");
    const char *stream = sf__rarg_name(&a, l, "stream");
    bool ok = a.ok;
    sf_status status;
    if (ok && sf__rarg_has(l, "refused")) {
        ok = parse_status(l, &status);
        if (ok)
            sf_journal_refused_as(fake, account, l->op, service, stream, status);
    } else if (ok && l->op <= SF_OP_SERVICE_LIST) {
        ok = run_service_op(fake, l, &a, account, service);
    } else if (ok && l->op < SF_OP_MESSAGE_CREATE) {
        ok = run_stream_op(fake, l, &a, account, service, stream);
    } else if (ok) {
        ok = run_publish(fake, l, &a, account, service, stream);
    }
    ok = ok && a.ok;
    sf__rargs_free(&a);
    return ok;
}

bool sf__replay_exec(sf_fake *fake, const sf__rline *l, char why[160])
{
    bool ok = l->kind == SF_JOURNAL_API ? run_api(fake, l) : sf__replay_calls(fake, l);
    if (!ok)
        snprintf(why, 160, "malformed or missing parameters");
    return ok;
}
