/* SPDX-License-Identifier: MIT */
/* lookup.c: finding accounts, services and streams the way Twilio answers: anything not
 * visible to the calling account is 404/20404 naming the requested path. */
#include "internal.h"

#include <string.h>

sf_status sf__resolve_account(sf_fake *fake, const char *account_sid, sf__account **out,
                              sf_error *err)
{
    if (!account_sid) {
        *out = fake->default_account;
        return *out ? SF_OK : sf__not_found(err, "/Accounts");
    }
    *out = sf__find_account(fake, account_sid);
    if (!*out)
        return sf__not_found(err, "/Accounts/%.64s", account_sid);
    return SF_OK;
}

sf_status sf__resolve_service(sf_fake *fake, const char *account_sid, const char *service_sid,
                              const char *path_suffix, sf__service **out, sf_error *err)
{
    if (!service_sid)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "service_sid is NULL");
    sf__account *account =
        account_sid ? sf__find_account(fake, account_sid) : fake->default_account;
    sf__service *svc = sf__find_service_any(fake, service_sid);
    if (!account || !svc || svc->account != account || svc->dying)
        return sf__not_found(err, "/Services/%.64s%s", service_sid, path_suffix);
    *out = svc;
    return SF_OK;
}

sf_status sf__resolve_stream(sf_fake *fake, const char *account_sid, const char *service_sid,
                             const char *stream_id, const char *path_suffix, sf__stream **out,
                             sf_error *err)
{
    if (!service_sid || !stream_id)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL",
                               service_sid ? "stream_id" : "service_sid");
    sf__account *account =
        account_sid ? sf__find_account(fake, account_sid) : fake->default_account;
    sf__stream *s = NULL;
    if (sf__sid_shaped(stream_id, strnlen(stream_id, SF_SID_LEN + 1))) {
        /* by SID (a unique name never has its shape): one lookup, then check it is this
         * account's service's stream */
        s = sf__find_stream_shaped(fake, stream_id);
        if (s && (!account || s->service->account != account || s->service->dying ||
                  strncmp(s->service->sid, service_sid, SF_SID_SIZE) != 0))
            s = NULL;
    } else {
        sf__service *svc = sf__find_service_any(fake, service_sid);
        if (account && svc && svc->account == account && !svc->dying) {
            size_t max = SF_UNIQUE_NAME_CAP * SF_UTF8_MAX;
            size_t len = strnlen(stream_id, max + 1);
            if (len <= max)
                s = sf__find_stream_name(fake, svc, stream_id, len);
        }
    }
    if (!s)
        return sf__not_found(err, "/Services/%.64s/Streams/%.1000s%s", service_sid, stream_id,
                             path_suffix);
    *out = s;
    return SF_OK;
}
