/* SPDX-License-Identifier: MIT */
/* account.c: accounts, API keys and HTTP Basic credentials. */
#include "internal.h"
#include "journal_params.h"

#include <string.h>

/* Compares secrets without stopping at the first difference. */
static bool same_secret(const char *a, const char *b)
{
    size_t la = strnlen(a, SF_SECRET_CAP), lb = strnlen(b, SF_SECRET_CAP);
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static bool lower_hex_sid(const char *s, const char *prefix)
{
    return sf_sid_is(s, prefix) && strspn(s + 2, "0123456789abcdef") == 32;
}

sf_status sf__account_add(sf_fake *fake, const char *sid, const char *token, sf__account **out,
                          sf_error *err)
{
    char minted[SF_SID_SIZE];
    uint64_t counter = fake->sid_counter[SF__SID_ACCOUNT];
    if (!sid) {
        sid = minted;
        /* a SID given earlier may be the one the counter would mint: skip past it */
        for (sf__sid_peek(fake, SF__SID_ACCOUNT, minted); sf__find_account(fake, minted);
             sf__sid_peek(fake, SF__SID_ACCOUNT, minted))
            sf__sid_commit(fake, SF__SID_ACCOUNT);
    }
    /* a given sid was checked by the caller: sf_account_create, or a fresh fake */
    sf__account *a = sf__malloc(fake, sizeof *a);
    if (!a) {
        fake->sid_counter[SF__SID_ACCOUNT] = counter;
        return sf__fail(err, SF_ERR_NOMEM);
    }
    memset(a, 0, sizeof *a);
    memcpy(a->sid, sid, SF_SID_SIZE);
    strcpy(a->auth_token, token);
    a->seq = fake->next_seq;
    sf__order_init(&a->services);
    if (!sf__table_add_account(fake, a)) {
        sf__free(fake, a);
        fake->sid_counter[SF__SID_ACCOUNT] = counter;
        return sf__fail(err, SF_ERR_NOMEM);
    }
    fake->next_seq++;
    if (sid == minted)
        sf__sid_commit(fake, SF__SID_ACCOUNT);
    *out = a;
    return SF_OK;
}

/* Accounts go only at teardown, after every API key. */
void sf__account_destroy(sf_fake *fake, sf__account *a)
{
    while (a->services.head)
        sf__service_destroy(fake, SF__CONTAINER_OF(a->services.head, sf__service, order), false);
    sf__order_release(fake, &a->services);
    sf__table_del_account(fake, a);
    sf__free(fake, a);
}

sf_status sf_account_create(sf_fake *fake, const sf_account_params *params, sf_account_record *out,
                            sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_account_create(fake, params));
    sf__begin(fake);
    const char *sid = params ? params->sid : NULL;
    const char *token = params ? params->auth_token : NULL;
    if (sid && !lower_hex_sid(sid, "AC"))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "account sid must be AC + 32 lowercase hex digits");
    if (token && !sf__valid_secret(token))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "auth_token must be 1..127 printable characters");
    if (sid && sf__find_account(fake, sid))
        return sf__fail_detail(err, SF_ERR_CONFLICT, "account %s exists", sid);

    char minted_token[33];
    if (!token) {
        /* minted only once the account is sure to be created: peek, then commit */
        uint64_t saved = fake->sid_counter[SF__SID_SECRET];
        sf__secret_mint(fake, minted_token);
        fake->sid_counter[SF__SID_SECRET] = saved;
        token = minted_token;
    }
    sf__account *a;
    sf_status st = sf__account_add(fake, sid, token, &a, err);
    if (st != SF_OK)
        return st;
    if (token == minted_token)
        fake->sid_counter[SF__SID_SECRET]++;
    if (out) {
        memcpy(out->sid, a->sid, SF_SID_SIZE);
        memcpy(out->auth_token, a->auth_token, SF_SECRET_CAP);
    }
    sf__ok(err);
    return SF_OK;
}

/* A key's given SID and secret (each optional: NULL mints one). */
static sf_status check_key_params(const char *sid, const char *secret, sf_error *err)
{
    if (sid && !lower_hex_sid(sid, "SK"))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "key sid must be SK + 32 lowercase hex digits");
    if (secret && !sf__valid_secret(secret))
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "secret must be 1..127 printable characters");
    return SF_OK;
}

sf_status sf_api_key_create(sf_fake *fake, const char *account_sid, const sf_api_key_params *params,
                            sf_api_key_record *out, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_api_key_create(fake, account_sid, params));
    sf__begin(fake);
    sf__account *account;
    sf_status st = sf__resolve_account(fake, account_sid, &account, err);
    if (st != SF_OK)
        return st;
    const char *sid = params ? params->sid : NULL;
    const char *secret = params ? params->secret : NULL;
    st = check_key_params(sid, secret, err);
    if (st != SF_OK)
        return st;
    char minted_sid[SF_SID_SIZE];
    uint64_t key_counter = fake->sid_counter[SF__SID_API_KEY];
    if (!sid) {
        sid = minted_sid;
        for (sf__sid_peek(fake, SF__SID_API_KEY, minted_sid); sf__find_api_key(fake, minted_sid);
             sf__sid_peek(fake, SF__SID_API_KEY, minted_sid))
            sf__sid_commit(fake, SF__SID_API_KEY);
    }
    if (sf__find_api_key(fake, sid))
        return sf__fail_detail(err, SF_ERR_CONFLICT, "key %s exists", sid);

    sf__api_key *k = sf__malloc(fake, sizeof *k);
    if (!k) {
        fake->sid_counter[SF__SID_API_KEY] = key_counter;
        return sf__fail(err, SF_ERR_NOMEM);
    }
    memset(k, 0, sizeof *k);
    memcpy(k->sid, sid, SF_SID_SIZE);
    uint64_t saved = fake->sid_counter[SF__SID_SECRET];
    if (secret)
        strcpy(k->secret, secret);
    else
        sf__secret_mint(fake, k->secret);
    k->account = account;
    if (!sf__table_add_api_key(fake, k)) {
        fake->sid_counter[SF__SID_SECRET] = saved;
        fake->sid_counter[SF__SID_API_KEY] = key_counter;
        sf__free(fake, k);
        return sf__fail(err, SF_ERR_NOMEM);
    }
    if (sid == minted_sid)
        sf__sid_commit(fake, SF__SID_API_KEY);
    if (out) {
        memcpy(out->sid, k->sid, SF_SID_SIZE);
        memcpy(out->account_sid, account->sid, SF_SID_SIZE);
        memcpy(out->secret, k->secret, SF_SECRET_CAP);
    }
    sf__ok(err);
    return SF_OK;
}

sf_status sf_api_key_fetch(sf_fake *fake, const char *key_sid, sf_api_key_record *out,
                           sf_error *err)
{
    if (!fake || !key_sid || !out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake, key_sid and out are needed");
    const sf__api_key *k = sf__find_api_key(fake, key_sid);
    if (!k)
        return sf__not_found(err, "/Keys/%.64s", key_sid);
    memcpy(out->sid, k->sid, SF_SID_SIZE);
    memcpy(out->account_sid, k->account->sid, SF_SID_SIZE);
    memcpy(out->secret, k->secret, SF_SECRET_CAP);
    sf__ok(err);
    return SF_OK;
}

sf_status sf_authenticate(sf_fake *fake, const char *user, const char *password,
                          char account_sid_out[SF_SID_SIZE], sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    if (!user || !password)
        return sf__fail(err, SF_ERR_AUTHENTICATE);
    const sf__account *account = NULL;
    if (sf_sid_is(user, "AC")) {
        const sf__account *a = sf__find_account(fake, user);
        if (a && same_secret(a->auth_token, password))
            account = a;
    } else if (sf_sid_is(user, "SK")) {
        const sf__api_key *k = sf__find_api_key(fake, user);
        if (k && same_secret(k->secret, password))
            account = k->account;
    }
    if (!account)
        return sf__fail(err, SF_ERR_AUTHENTICATE);
    if (account_sid_out)
        memcpy(account_sid_out, account->sid, SF_SID_SIZE);
    sf__ok(err);
    return SF_OK;
}
