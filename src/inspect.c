/* SPDX-License-Identifier: MIT */
/* inspect.c: read-only views of the fake for dashboards and the control API's /state. Unlike
 * the API calls, nothing here journals, samples the clock or runs what fell due, so reading
 * the fake never changes what a test sees. The lookups take a non-const fake only because the
 * hash tables' find macros do; they change nothing. */
#include "internal.h"

#include <string.h>

const char *sf_connection_kind_name(sf_connection_kind kind)
{
    switch (kind) {
    case SF_CONNECTION_C:
        return "c";
    case SF_CONNECTION_SSE:
        return "sse";
    case SF_CONNECTION_TWILSOCK:
        return "twilsock";
    }
    return NULL;
}

sf_ms sf_inspect_now(const sf_fake *fake) { return fake ? fake->now : 0; }

size_t sf_inspect_accounts(const sf_fake *fake, size_t skip, char (*out)[SF_SID_SIZE], size_t cap)
{
    if (!fake)
        return 0;
    /* uthash keeps insertion order in its app list, and accounts are only ever appended
     * (they go all at once at a reset): that order is creation order. */
    size_t n = 0;
    for (const sf__account *a = fake->accounts; a; a = a->hh.next, n++)
        if (out && n >= skip && n - skip < cap)
            memcpy(out[n - skip], a->sid, SF_SID_SIZE);
    return n;
}

size_t sf_inspect_services(const sf_fake *fake, const char *account_sid, size_t skip,
                           sf_service_record *out, size_t cap)
{
    if (!fake)
        return 0;
    sf_fake *f = (sf_fake *)fake;
    const sf__account *a = account_sid ? sf__find_account(f, account_sid) : fake->default_account;
    if (!a)
        return 0;
    const sf__order_node *n = sf__order_select(&a->services, skip);
    for (size_t i = 0; n && out && i < cap; n = n->next, i++)
        sf__service_record_of(SF__CONTAINER_OF(n, sf__service, order), &out[i]);
    return sf__order_count(&a->services);
}

size_t sf_inspect_streams(const sf_fake *fake, const char *service_sid, size_t skip,
                          sf_stream_view *out, size_t cap)
{
    if (!fake || !service_sid)
        return 0;
    const sf__service *svc = sf__find_service_any((sf_fake *)fake, service_sid);
    if (!svc)
        return 0;
    const sf__order_node *n = sf__order_select(&svc->streams, skip);
    for (size_t i = 0; n && out && i < cap; n = n->next, i++) {
        const sf__stream *s = SF__CONTAINER_OF(n, sf__stream, order);
        sf_stream_view *v = &out[i];
        memset(v, 0, sizeof *v);
        sf__stream_record_of(s, &v->record);
        sf__bucket_state(fake, &s->bucket, fake->now, &v->rate);
        v->messages_published = s->messages_published;
        v->subscribers = s->sub_count;
    }
    return sf__order_count(&svc->streams);
}

static bool subscriber_matches(const sf__subscriber *sub, const sf_subscriber_filter *f)
{
    if (!f)
        return true;
    if (sub->id <= f->after)
        return false;
    if (f->account_sid && (!sub->account || strcmp(sub->account->sid, f->account_sid) != 0))
        return false;
    return !f->stream_sid || strcmp(sub->stream_sid, f->stream_sid) == 0;
}

size_t sf_subscriber_list(const sf_fake *fake, const sf_subscriber_filter *filter,
                          sf_subscriber_info *out, size_t cap)
{
    if (!fake || !out)
        return 0;
    size_t copied = 0;
    for (size_t i = 0; i < fake->sub_count && copied < cap; i++) {
        const sf__subscriber *sub = fake->subs[i];
        if (!subscriber_matches(sub, filter))
            continue;
        sf_subscriber_info *info = &out[copied++];
        memset(info, 0, sizeof *info);
        info->id = sub->id;
        info->client_id = sub->client_id;
        info->connection = sub->connection;
        info->stats = sub->stats;
        /* the fields sf_subscriber_stats_get derives from the record */
        info->stats.attached = sub->stream != NULL;
        if (sub->account)
            memcpy(info->stats.account_sid, sub->account->sid, SF_SID_SIZE);
        else
            info->stats.account_sid[0] = '\0';
    }
    return copied;
}

size_t sf_inspect_injections(const sf_fake *fake, size_t skip, sf_injection_info *out, size_t cap)
{
    if (!fake)
        return 0;
    size_t n = 0;
    for (unsigned op = 0; op < SF_OP_COUNT; op++) {
        for (const sf__injection *j = fake->injections[op]; j; j = j->next, n++) {
            if (!out || n < skip || n - skip >= cap)
                continue;
            sf_injection_info *info = &out[n - skip];
            memset(info, 0, sizeof *info);
            info->op = j->inj.op;
            info->count_left = j->inj.count;
            info->http_status = j->inj.http_status;
            info->code = j->inj.code;
            memcpy(info->message, j->message, sizeof info->message);
            info->after_apply = j->inj.after_apply;
            if (j->account)
                memcpy(info->account_sid, j->account->sid, SF_SID_SIZE);
        }
    }
    return n;
}
