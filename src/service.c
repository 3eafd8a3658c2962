/* SPDX-License-Identifier: MIT */
/* service.c: Sync services: create, fetch, update, remove, list. */
#include "internal.h"
#include "text.h"

#include <stddef.h>
#include <string.h>

static sf_status check_params(const sf_fake *fake, const sf_service_params *p, sf_error *err)
{
    const sf_limits *l = &fake->opts.limits;
    size_t chars;
    if (p->friendly_name &&
        (!sf__text_chars(p->friendly_name, l->friendly_name_max, &chars) || chars == 0))
        return sf__fail(err, SF_ERR_INVALID_FRIENDLY_NAME);
    if (p->webhook_url && !sf__valid_http_url(p->webhook_url, l->webhook_url_max))
        return sf__fail(err, SF_ERR_INVALID_WEBHOOK_URL);
    /* 20001 names the parameter, as Twilio words it ("Invalid parameter: <Name>") */
    const sf_opt_bool flags[] = {p->reachability_webhooks_enabled, p->acl_enabled,
                                 p->reachability_debouncing_enabled, p->webhooks_from_rest_enabled};
    static const char *const flag_names[] = {"ReachabilityWebhooksEnabled", "AclEnabled",
                                             "ReachabilityDebouncingEnabled",
                                             "WebhooksFromRestEnabled"};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if ((unsigned)flags[i] > SF_BOOL_TRUE)
            return sf__fail_detail(err, SF_ERR_INVALID_PARAMETER, "%s", flag_names[i]);
    if (p->has_reachability_debouncing_window &&
        (p->reachability_debouncing_window < l->debouncing_window_min_ms ||
         p->reachability_debouncing_window > l->debouncing_window_max_ms))
        return sf__fail_detail(err, SF_ERR_INVALID_PARAMETER, "ReachabilityDebouncingWindow");
    return SF_OK;
}

static void apply_flag(bool *field, sf_opt_bool v)
{
    if (v != SF_BOOL_UNSET)
        *field = v == SF_BOOL_TRUE;
}

/* Applies validated params; the two strings were allocated beforehand (NULL: not given). */
static void apply(sf_fake *fake, sf__service *svc, const sf_service_params *p, char *friendly,
                  char *webhook)
{
    if (p->friendly_name) {
        sf__free(fake, svc->friendly_name);
        svc->friendly_name = friendly;
    }
    if (p->webhook_url) {
        sf__free(fake, svc->webhook_url);
        svc->webhook_url = webhook;
    }
    apply_flag(&svc->reachability_webhooks_enabled, p->reachability_webhooks_enabled);
    apply_flag(&svc->acl_enabled, p->acl_enabled);
    apply_flag(&svc->reachability_debouncing_enabled, p->reachability_debouncing_enabled);
    apply_flag(&svc->webhooks_from_rest_enabled, p->webhooks_from_rest_enabled);
    if (p->has_reachability_debouncing_window)
        svc->reachability_debouncing_window = p->reachability_debouncing_window;
}

/* Copies the given strings up front so that applying cannot fail half way. */
static bool copy_strings(sf_fake *fake, const sf_service_params *p, char **friendly, char **webhook)
{
    *friendly = *webhook = NULL;
    if (p->friendly_name &&
        !(*friendly = sf__strndup(fake, p->friendly_name, strlen(p->friendly_name))))
        return false;
    if (p->webhook_url && !(*webhook = sf__strndup(fake, p->webhook_url, strlen(p->webhook_url)))) {
        sf__free(fake, *friendly);
        return false;
    }
    return true;
}

static void to_record(const sf__service *svc, sf_service_record *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    memcpy(out->sid, svc->sid, SF_SID_SIZE);
    memcpy(out->account_sid, svc->account->sid, SF_SID_SIZE);
    out->has_friendly_name = svc->friendly_name != NULL;
    if (svc->friendly_name)
        strcpy(out->friendly_name, svc->friendly_name);
    out->has_webhook_url = svc->webhook_url != NULL;
    if (svc->webhook_url)
        strcpy(out->webhook_url, svc->webhook_url);
    out->webhooks_from_rest_enabled = svc->webhooks_from_rest_enabled;
    out->reachability_webhooks_enabled = svc->reachability_webhooks_enabled;
    out->acl_enabled = svc->acl_enabled;
    out->reachability_debouncing_enabled = svc->reachability_debouncing_enabled;
    out->reachability_debouncing_window = svc->reachability_debouncing_window;
    out->date_created_ms = svc->date_created;
    out->date_updated_ms = svc->date_updated;
}

static sf_status service_create(sf_fake *fake, sf__call *call, const char *account_sid,
                                const sf_service_params *params, sf_service_record *out,
                                sf_error *err)
{
    static const sf_service_params none;
    sf_ms now = call->now;
    const sf_service_params *p = params ? params : &none;
    sf__account *account;
    sf_status st = sf__warn_service_params(fake, call->op, account_sid, NULL, params, err);
    if (st == SF_OK)
        st = sf__resolve_account(fake, account_sid, &account, err);
    if (st == SF_OK)
        st = check_params(fake, p, err);
    if (st != SF_OK)
        return st;

    sf__service *svc = sf__malloc(fake, sizeof *svc);
    char *friendly, *webhook;
    if (!svc || !copy_strings(fake, p, &friendly, &webhook)) {
        sf__free(fake, svc);
        return sf__fail(err, SF_ERR_NOMEM);
    }
    memset(svc, 0, sizeof *svc);
    sf__sid_peek_packed(fake, SF__SID_SERVICE, svc->sid, svc->packed);
    svc->account = account;
    svc->reachability_debouncing_window = 5000;
    svc->date_created = svc->date_updated = now;
    svc->order.key = fake->next_seq;
    sf__order_init(&svc->streams);
    apply(fake, svc, p, friendly, webhook);
    uint32_t order_cap = account->services.cap;
    if (!sf__order_reserve(fake, &account->services) || !sf__table_add_service(fake, svc)) {
        sf__order_trim(fake, &account->services, order_cap);
        sf__free(fake, svc->friendly_name);
        sf__free(fake, svc->webhook_url);
        sf__free(fake, svc);
        return sf__fail(err, SF_ERR_NOMEM);
    }
    sf__sid_commit(fake, SF__SID_SERVICE);
    fake->next_seq++;
    sf__order_append(&account->services, &svc->order);
    sf__call_service(call, svc->packed);
    to_record(svc, out);
    return SF_OK;
}

static sf_status service_fetch(sf_fake *fake, const char *account_sid, const char *service_sid,
                               sf_service_record *out, sf_error *err)
{
    sf__service *svc;
    sf_status st = sf__resolve_service(fake, account_sid, service_sid, "", &svc, err);
    if (st != SF_OK)
        return st;
    to_record(svc, out);
    return SF_OK;
}

static sf_status service_update(sf_fake *fake, sf__call *call, const char *account_sid,
                                const char *service_sid, const sf_service_params *params,
                                sf_service_record *out, sf_error *err)
{
    static const sf_service_params none;
    sf_ms now = call->now;
    const sf_service_params *p = params ? params : &none;
    sf__service *svc;
    sf_status st = sf__warn_service_params(fake, call->op, account_sid, service_sid, params, err);
    if (st == SF_OK)
        st = sf__resolve_service(fake, account_sid, service_sid, "", &svc, err);
    if (st == SF_OK)
        st = check_params(fake, p, err);
    if (st != SF_OK)
        return st;
    char *friendly, *webhook;
    if (!copy_strings(fake, p, &friendly, &webhook))
        return sf__fail(err, SF_ERR_NOMEM);
    apply(fake, svc, p, friendly, webhook);
    svc->date_updated = now;
    to_record(svc, out);
    return SF_OK;
}

void sf__service_destroy(sf_fake *fake, sf__service *svc, bool notify)
{
    svc->dying = true; /* callbacks of removed subscribers must not find it */
    while (svc->streams.head)
        sf__stream_destroy(fake, SF__CONTAINER_OF(svc->streams.head, sf__stream, order), notify,
                           SF_REMOVED_DELETED);
    sf__order_remove(&svc->account->services, &svc->order);
    sf__order_release(fake, &svc->streams);
    sf__table_del_service(fake, svc);
    sf__free(fake, svc->friendly_name);
    sf__free(fake, svc->webhook_url);
    sf__free(fake, svc);
}

static sf_status service_remove(sf_fake *fake, const char *account_sid, const char *service_sid,
                                sf_error *err)
{
    sf__service *svc;
    sf_status st = sf__resolve_service(fake, account_sid, service_sid, "", &svc, err);
    if (st != SF_OK)
        return st;
    /* room for every subscriber's `removed` event, so the remove cannot half fail */
    size_t subscribers = 0;
    for (const sf__order_node *n = svc->streams.head; n; n = n->next)
        subscribers += SF__CONTAINER_OF(n, sf__stream, order)->sub_count;
    if (!sf__timerq_reserve_n(fake, &fake->timers, subscribers))
        return sf__fail(err, SF_ERR_NOMEM);
    sf__service_destroy(fake, svc, true);
    return SF_OK;
}

static void fill_service_record(const sf__order_node *n, void *record)
{
    to_record(SF__CONTAINER_OF(n, sf__service, order), record);
}

static const sf__page_shape service_page_shape = {
    sizeof(sf_service_page), offsetof(sf_service_page, info), offsetof(sf_service_page, records),
    sizeof(sf_service_record), fill_service_record};

static sf_status service_list(sf_fake *fake, const char *account_sid, const sf_page_params *params,
                              sf_service_page **out, sf_error *err)
{
    sf__account *account;
    sf_status st = sf__warn_page_params(fake, SF_OP_SERVICE_LIST, account_sid, NULL, params, err);
    if (st == SF_OK)
        st = sf__resolve_account(fake, account_sid, &account, err);
    if (st != SF_OK)
        return st;
    void *page;
    st = sf__page_build(fake, &account->services, account->seq, params, &service_page_shape, &page,
                        err);
    if (st == SF_OK)
        *out = page;
    return st;
}

void sf_service_page_free(sf_fake *fake, sf_service_page *page)
{
    if (!fake || !page)
        return;
    sf__free(fake, page->records);
    sf__free(fake, page);
}

/* ---- the public calls: sf__call around each ---- */

sf_status sf_service_create(sf_fake *fake, const char *account_sid, const sf_service_params *params,
                            sf_service_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_SERVICE_CREATE, account_sid, NULL, NULL, params,
             service_create(fake, &call, account_sid, params, out, err));
}

sf_status sf_service_fetch(sf_fake *fake, const char *account_sid, const char *service_sid,
                           sf_service_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_SERVICE_FETCH, account_sid, service_sid, NULL, NULL,
             service_fetch(fake, account_sid, service_sid, out, err));
}

sf_status sf_service_update(sf_fake *fake, const char *account_sid, const char *service_sid,
                            const sf_service_params *params, sf_service_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_SERVICE_UPDATE, account_sid, service_sid, NULL, params,
             service_update(fake, &call, account_sid, service_sid, params, out, err));
}

sf_status sf_service_remove(sf_fake *fake, const char *account_sid, const char *service_sid,
                            sf_error *err)
{
    SF__CALL(fake, err, SF_OP_SERVICE_REMOVE, account_sid, service_sid, NULL, NULL,
             service_remove(fake, account_sid, service_sid, err));
}

sf_status sf_service_list(sf_fake *fake, const char *account_sid, const sf_page_params *params,
                          sf_service_page **out, sf_error *err)
{
    if (!out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    SF__CALL(fake, err, SF_OP_SERVICE_LIST, account_sid, NULL, NULL, params,
             service_list(fake, account_sid, params, out, err));
}

void sf__service_record_of(const sf__service *svc, sf_service_record *out) { to_record(svc, out); }
