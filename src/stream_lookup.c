/* SPDX-License-Identifier: MIT */
/* stream_lookup.c: a stream's SID from its SID or unique name, in one service or in any of an
 * account's services, without making an API call (adapters resolve rule targets with it). */
#include "internal.h"

#include <string.h>

/* The stream `stream_id` names in one live service of `account`, or NULL. */
static sf__stream *in_service(sf_fake *fake, const sf__account *account, sf__service *svc,
                              const char *stream_id)
{
    if (!svc || svc->account != account || svc->dying)
        return NULL;
    size_t max = SF_UNIQUE_NAME_CAP * SF_UTF8_MAX;
    size_t len = strnlen(stream_id, max + 1);
    if (sf__sid_shaped(stream_id, len)) {
        sf__stream *s = sf__find_stream_shaped(fake, stream_id);
        return s && s->service == svc ? s : NULL;
    }
    return len <= max ? sf__find_stream_name(fake, svc, stream_id, len) : NULL;
}

/* Adds the stream `stream_id` names in the account's services to *found; false when it is
 * the second one found. */
static bool search_account(sf_fake *fake, const sf__account *account, const char *service_sid,
                           const char *stream_id, sf__stream **found)
{
    if (service_sid) {
        sf__stream *s =
            in_service(fake, account, sf__find_service_any(fake, service_sid), stream_id);
        if (s && *found)
            return false;
        *found = s ? s : *found;
        return true;
    }
    for (sf__order_node *n = account->services.head; n; n = n->next) {
        sf__stream *s =
            in_service(fake, account, SF__CONTAINER_OF(n, sf__service, order), stream_id);
        if (s && *found)
            return false;
        *found = s ? s : *found;
    }
    return true;
}

sf_status sf_stream_lookup(sf_fake *fake, const char *account_sid, bool every_account,
                           const char *service_sid, const char *stream_id,
                           char sid_out[SF_SID_SIZE], sf_error *err)
{
    if (!fake || !stream_id || !sid_out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL",
                               !fake        ? "fake"
                               : !stream_id ? "stream_id"
                                            : "sid_out");
    const sf__account *own =
        account_sid ? sf__find_account(fake, account_sid) : fake->default_account;
    sf__stream *found = NULL;
    bool single = true;
    if (every_account) /* accounts in the order they were made: the same answer every run */
        for (const sf__account *a = fake->accounts; a && single; a = a->hh.next)
            single = search_account(fake, a, service_sid, stream_id, &found);
    else if (own)
        single = search_account(fake, own, service_sid, stream_id, &found);
    if (!single)
        return sf__fail_detail(err, SF_ERR_CONFLICT,
                               "%.300s names a stream in more than one service", stream_id);
    if (!found)
        return sf__not_found(err, "/Streams/%.300s", stream_id);
    sf__stream_sid(found, sid_out);
    sf__ok(err);
    return SF_OK;
}
