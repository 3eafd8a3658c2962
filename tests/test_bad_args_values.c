/* SPDX-License-Identifier: MIT */
/* test_bad_args_values.c: out-of-range values, unknown ids, malformed account and key SIDs,
 * wrong credentials and refused clock moves: the documented error, and nothing changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "bad_args.h"
#include "calls.h"
#include "fixture.h"

/* ---------------------------------------------------------------------------------------- */
/* Out-of-range values                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void test_invalid_opt_bool_is_invalid_parameter(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    for (int field = 0; field < 4; field++) {
        for (int v = 3; v <= 7; v += 4) {
            sf_service_params p = {.friendly_name = "flags"};
            sf_opt_bool bad = (sf_opt_bool)v;
            sf_test_set_service_flag(&p, field, bad);
            sf_error err;
            sf_service_record rec;
            memset(&err, 0, sizeof err);
            assert_status(sf_service_create(fx->fake, NULL, &p, &rec, &err),
                          SF_ERR_INVALID_PARAMETER);
            assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
            static const char *const named[] = {"Invalid parameter: ReachabilityWebhooksEnabled",
                                                "Invalid parameter: AclEnabled",
                                                "Invalid parameter: ReachabilityDebouncingEnabled",
                                                "Invalid parameter: WebhooksFromRestEnabled"};
            assert_string_equal(err.message, named[field]); /* 20001 names the parameter */
            memset(&err, 0, sizeof err);
            assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                          SF_ERR_INVALID_PARAMETER);
            assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
        }
    }
    /* a negative value, as a signed enum would hold it */
    sf_service_params neg = {.acl_enabled = (sf_opt_bool)-1};
    assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &neg, NULL, NULL),
                  SF_ERR_INVALID_PARAMETER);
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_debouncing_window_out_of_range_is_invalid_parameter(void **state)
{
    sf_fixture *fx = *state;
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    const int64_t refused[] = {999, 30001, -1, 0, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_service_params p = {.has_reachability_debouncing_window = true,
                               .reachability_debouncing_window = refused[i]};
        sf_error err;
        assert_status(sf_service_create(fx->fake, NULL, &p, NULL, &err), SF_ERR_INVALID_PARAMETER);
        assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, NULL, &err),
                      SF_ERR_INVALID_PARAMETER);
        assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    const int64_t accepted[] = {1000, 30000};
    for (size_t i = 0; i < 2; i++) {
        sf_service_params p = {.has_reachability_debouncing_window = true,
                               .reachability_debouncing_window = accepted[i]};
        sf_service_record rec;
        assert_status(sf_service_update(fx->fake, NULL, fx->service_sid, &p, &rec, NULL), SF_OK);
        assert_int_equal(rec.reachability_debouncing_window, accepted[i]);
    }
}

static void test_ttl_out_of_range_is_invalid_ttl(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_stream_params named = {.unique_name = "ttl"};
    assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    assert_status(sf_stream_create(twin, NULL, fx->service_sid, &named, NULL, NULL), SF_OK);
    static fingerprint before;
    fingerprint_take(fx->fake, fx->service_sid, &before);
    const int64_t refused[] = {-1, 31536001, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        sf_stream_params p = {.has_ttl = true, .ttl = refused[i]};
        sf_error err;
        sf_stream_record rec;
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_create(fx->fake, NULL, fx->service_sid, &p, &rec, &err),
                      SF_ERR_INVALID_TTL);
        assert_error(&err, SF_ERR_INVALID_TTL, 400, 54011);
        assert_string_equal(err.message, "Invalid TTL");
        memset(&err, 0, sizeof err);
        assert_status(sf_stream_update(fx->fake, NULL, fx->service_sid, "ttl", &p, &rec, &err),
                      SF_ERR_INVALID_TTL);
        assert_error(&err, SF_ERR_INVALID_TTL, 400, 54011);
    }
    /* update with no TTL at all */
    sf_stream_params none = {.unique_name = "renamed?"};
    const sf_stream_params *no_ttl[] = {NULL, &none};
    for (size_t i = 0; i < 2; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        assert_status(
            sf_stream_update(fx->fake, NULL, fx->service_sid, "ttl", no_ttl[i], NULL, &err),
            SF_ERR_NO_PARAMETERS);
        assert_error(&err, SF_ERR_NO_PARAMETERS, 400, 54010);
        assert_string_equal(err.message, "No parameters specified");
    }
    fingerprint_assert_same(fx->fake, fx->service_sid, &before);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

/* A stream and a service list's first next-page tokens, real ones to spoil. */
typedef struct {
    char stream[SF_PAGE_TOKEN_SIZE], service[SF_PAGE_TOKEN_SIZE];
} real_tokens;

/* Lists streams and services one a page and keeps each list's next-page token. */
static void take_real_tokens(sf_fixture *fx, real_tokens *rt)
{
    sf_page_params first = {.has_page_size = true, .page_size = 1};
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &first, &page, NULL), SF_OK);
    memcpy(rt->stream, page->info.next_token, SF_PAGE_TOKEN_SIZE);
    sf_stream_page_free(fx->fake, page);
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fx->fake, NULL, &first, &spage, NULL), SF_OK);
    memcpy(rt->service, spage->info.next_token, SF_PAGE_TOKEN_SIZE);
    sf_service_page_free(fx->fake, spage);
    assert_int_equal(strlen(rt->stream), 35);
}

/* Spoilt copies of a real stream token: one digit changed, uppercased, a bad direction, a
 * non-hex digit, one character longer, a wrong prefix. */
typedef struct {
    char tampered[SF_PAGE_TOKEN_SIZE], upper[SF_PAGE_TOKEN_SIZE], direction[SF_PAGE_TOKEN_SIZE],
        non_hex[SF_PAGE_TOKEN_SIZE], longer[SF_PAGE_TOKEN_SIZE + 8], prefix[SF_PAGE_TOKEN_SIZE];
} spoilt_tokens;

/* Makes each spoilt copy of stream_token. */
static void spoil_token(const char *stream_token, spoilt_tokens *sp)
{
    memcpy(sp->tampered, stream_token, SF_PAGE_TOKEN_SIZE);
    sp->tampered[34] = sp->tampered[34] == '0' ? '1' : '0';
    memcpy(sp->upper, stream_token, SF_PAGE_TOKEN_SIZE);
    for (char *c = sp->upper + 3; *c; c++)
        *c = (*c >= 'a' && *c <= 'f') ? (char)(*c - 'a' + 'A') : *c;
    sp->upper[3] = 'A'; /* at least one digit changes case */
    memcpy(sp->direction, stream_token, SF_PAGE_TOKEN_SIZE);
    sp->direction[2] = 'X';
    memcpy(sp->non_hex, stream_token, SF_PAGE_TOKEN_SIZE);
    sp->non_hex[10] = 'g';
    snprintf(sp->longer, sizeof sp->longer, "%s0", stream_token);
    memcpy(sp->prefix, stream_token, SF_PAGE_TOKEN_SIZE);
    sp->prefix[0] = 'Q';
}

/* Every bad token (garbage, empty, spoilt, another list's) is an invalid page token to the
 * stream list, which sets its page to NULL; the stream token is one to the service list. */
static void check_bad_tokens_rejected(sf_fixture *fx, const real_tokens *rt)
{
    spoilt_tokens sp;
    spoil_token(rt->stream, &sp);
    const char *bad_tokens[] = {
        "garbage",  "",        sp.tampered, sp.upper,   sp.direction,
        sp.non_hex, sp.longer, sp.prefix,   rt->service /* another list's */};
    for (size_t i = 0; i < sizeof bad_tokens / sizeof bad_tokens[0]; i++) {
        sf_page_params pp = {.page_token = bad_tokens[i]};
        sf_error err;
        sf_stream_page not_a_page;
        sf_stream_page *page = &not_a_page; /* a failed list must set it to NULL */
        memset(&err, 0, sizeof err);
        sf_status st = sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err);
        if (st != SF_ERR_INVALID_PAGE_TOKEN)
            fail_msg("stream token #%zu '%s': %s, want 54453", i, bad_tokens[i],
                     sf_status_name(st));
        assert_null(page);
        assert_error(&err, SF_ERR_INVALID_PAGE_TOKEN, 400, 54453);
    }
    sf_page_params cross = {.page_token = rt->stream};
    sf_error err;
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fx->fake, NULL, &cross, &spage, &err), SF_ERR_INVALID_PAGE_TOKEN);
    assert_null(spage);
    assert_error(&err, SF_ERR_INVALID_PAGE_TOKEN, 400, 54453);
}

/* Page sizes outside 1..100 and negative pages are refused by both lists; a page far past the
 * end is empty, not an error. */
static void check_bad_sizes_and_pages_rejected(sf_fixture *fx)
{
    sf_error err;
    sf_stream_page *page = NULL;
    sf_service_page *spage = NULL;
    const int64_t bad_sizes[] = {0, -1, 101, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++) {
        sf_page_params pp = {.has_page_size = true, .page_size = bad_sizes[i]};
        assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err),
                      SF_ERR_INVALID_PAGE_SIZE);
        assert_error(&err, SF_ERR_INVALID_PAGE_SIZE, 400, 54454);
        assert_status(sf_service_list(fx->fake, NULL, &pp, &spage, &err), SF_ERR_INVALID_PAGE_SIZE);
        assert_error(&err, SF_ERR_INVALID_PAGE_SIZE, 400, 54454);
    }
    const int64_t bad_pages[] = {-1, INT64_MIN};
    for (size_t i = 0; i < 2; i++) {
        sf_page_params pp = {.has_page = true, .page = bad_pages[i]};
        assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &pp, &page, &err),
                      SF_ERR_INVALID_PARAMETER);
        assert_error(&err, SF_ERR_INVALID_PARAMETER, 400, 20001);
        assert_status(sf_service_list(fx->fake, NULL, &pp, &spage, &err), SF_ERR_INVALID_PARAMETER);
    }
    sf_page_params far = {
        .has_page_size = true, .page_size = 100, .has_page = true, .page = INT64_MAX};
    assert_status(sf_stream_list(fx->fake, NULL, fx->service_sid, &far, &page, &err), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_stream_page_free(fx->fake, page);
}

static void test_page_params_out_of_range_are_rejected(void **state)
{
    sf_fixture *fx = *state;
    for (int i = 0; i < 3; i++) {
        sf_fixture_stream(fx, NULL, -1, NULL);
        assert_status(sf_service_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
    }
    long live = fx->alloc.live;
    real_tokens rt;
    take_real_tokens(fx, &rt);
    check_bad_tokens_rejected(fx, &rt);
    check_bad_sizes_and_pages_rejected(fx);
    assert_int_equal(fx->alloc.live, live);
}

/* ---------------------------------------------------------------------------------------- */
/* Unknown ids, accounts, keys, credentials                                                  */
/* ---------------------------------------------------------------------------------------- */

/* An unknown service, and an unknown stream of a real service, are not found by every call,
 * the message naming the path. */
static void check_unknown_service_and_stream(sf_fixture *fx)
{
    const char *ghost_svc = "IS00000000000000000000000000000000";
    sf_error err;
    char want[256];

    assert_status(sf_service_fetch(fx->fake, NULL, ghost_svc, NULL, &err), SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "The requested resource /Services/%s was not found", ghost_svc);
    assert_string_equal(err.message, want);
    assert_error(&err, SF_ERR_NOT_FOUND, 404, 20404);
    assert_status(sf_service_remove(fx->fake, NULL, ghost_svc, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_service_update(fx->fake, NULL, ghost_svc, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_create(fx->fake, NULL, ghost_svc, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fx->fake, NULL, ghost_svc, NULL, &page, &err), SF_ERR_NOT_FOUND);
    assert_null(page);

    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "ghost", NULL, &err),
                  SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "The requested resource /Services/%s/Streams/ghost was not found",
             fx->service_sid);
    assert_string_equal(err.message, want);
    sf_message_record msg;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "ghost", &ok_data, &msg, &err),
                  SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want,
             "The requested resource /Services/%s/Streams/ghost/Messages was not found",
             fx->service_sid);
    assert_string_equal(err.message, want);
    sf_rate_state rs;
    assert_status(sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "ghost", &rs, &err),
                  SF_ERR_NOT_FOUND);
    sf_stream_stats stats;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "ghost", &stats, &err),
                  SF_ERR_NOT_FOUND);
    sf_subscribe_params sp = {.on_event = sf_test_ignore_event};
    assert_status(sf_subscribe(fx->fake, NULL, ghost_svc, "mine", &sp, NULL, &err),
                  SF_ERR_NOT_FOUND);
}

/* An unknown account is not found, for every kind of call that takes one. */
static void check_unknown_account(sf_fixture *fx)
{
    const char *ghost_acct = "AC00000000000000000000000000000000";
    sf_error err;
    char want[256];

    assert_status(sf_service_create(fx->fake, ghost_acct, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    snprintf(want, sizeof want, "The requested resource /Accounts/%s was not found", ghost_acct);
    assert_string_equal(err.message, want);
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fx->fake, ghost_acct, NULL, &spage, &err), SF_ERR_NOT_FOUND);
    assert_null(spage);
    assert_status(sf_api_key_create(fx->fake, ghost_acct, NULL, NULL, &err), SF_ERR_NOT_FOUND);
    assert_string_equal(err.message, want);
    assert_status(sf_service_fetch(fx->fake, ghost_acct, fx->service_sid, NULL, &err),
                  SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, ghost_acct, fx->service_sid, "mine", NULL, &err),
                  SF_ERR_NOT_FOUND);
}

/* Another account's service, a stream SID under another service and an uppercase spelling of
 * the real SID of stream mine all look absent; mine itself is found. */
static void check_other_scopes_look_absent(sf_fixture *fx, const sf_stream_record *mine)
{
    sf_error err;
    /* another account's service and a stream SID of another service look absent */
    sf_account_record other;
    assert_status(sf_account_create(fx->fake, NULL, &other, NULL), SF_OK);
    assert_status(sf_service_fetch(fx->fake, other.sid, fx->service_sid, NULL, &err),
                  SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, other.sid, fx->service_sid, mine->sid, NULL, &err),
                  SF_ERR_NOT_FOUND);
    sf_service_record svc2;
    assert_status(sf_service_create(fx->fake, NULL, NULL, &svc2, NULL), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, svc2.sid, mine->sid, NULL, &err),
                  SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, NULL, svc2.sid, "mine", NULL, &err), SF_ERR_NOT_FOUND);
    /* and an uppercase spelling of a real SID is not that SID */
    char upper[SF_SID_SIZE];
    memcpy(upper, mine->sid, SF_SID_SIZE);
    for (char *c = upper + 2; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 'a' + 'A');
    if (strcmp(upper, mine->sid) != 0)
        assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, upper, NULL, &err),
                      SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, mine->sid, NULL, &err), SF_OK);
}

static void test_unknown_ids_are_not_found_naming_the_path(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record mine;
    sf_fixture_stream(fx, "mine", -1, &mine);
    check_unknown_service_and_stream(fx);
    check_unknown_account(fx);
    check_other_scopes_look_absent(fx, &mine);
}

static void test_account_create_rejects_malformed_sid_and_token(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    static char long_token[SF_SECRET_CAP + 1];
    memset(long_token, 'x', SF_SECRET_CAP);
    const sf_account_params bad[] = {
        {.sid = "AC0123456789ABCDEF0123456789abcdef"},
        {.sid = "SK0123456789abcdef0123456789abcdef"},
        {.sid = "AC0123456789abcdef"},
        {.sid = ""},
        {.auth_token = ""},
        {.auth_token = "with space"},
        {.auth_token = long_token},
        {.sid = "AC0123456789abcdef0123456789abcdef", .auth_token = "\t"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_account_record rec;
        memset(&err, 0, sizeof err);
        assert_status(sf_account_create(fx->fake, &bad[i], &rec, &err), SF_ERR_INVALID_ARGUMENT);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
        assert_true(strlen(err.message) > strlen("Invalid parameter: "));
    }
    /* an existing SID, the default account's included */
    sf_account_params taken = {.sid = sf_fake_account_sid(fx->fake)};
    sf_error err;
    assert_status(sf_account_create(fx->fake, &taken, NULL, &err), SF_ERR_CONFLICT);
    assert_error(&err, SF_ERR_CONFLICT, 409, 20409);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

/* An account created with the SID the fake would mint next: minting skips past it, and giving
 * that SID again is a conflict that changes nothing. */
static void test_account_create_skips_minted_sid_taken_explicitly(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *peek = twin_new(fx->service_sid);
    sf_account_record next[2];
    assert_status(sf_account_create(peek, NULL, &next[0], NULL), SF_OK);
    assert_status(sf_account_create(peek, NULL, &next[1], NULL), SF_OK);
    fake_release(peek);

    sf_fake *twin = twin_new(fx->service_sid);
    sf_account_params explicit_sid = {.sid = next[0].sid, .auth_token = "chosen"};
    assert_status(sf_account_create(fx->fake, &explicit_sid, NULL, NULL), SF_OK);
    assert_status(sf_account_create(twin, &explicit_sid, NULL, NULL), SF_OK);
    sf_error err;
    sf_account_params again = {.sid = next[0].sid};
    assert_status(sf_account_create(fx->fake, &again, NULL, &err), SF_ERR_CONFLICT);
    assert_error(&err, SF_ERR_CONFLICT, 409, 20409);
    sf_account_record rec;
    assert_status(sf_account_create(fx->fake, NULL, &rec, &err), SF_OK);
    assert_string_equal(rec.sid, next[1].sid);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, next[0].sid, "chosen", who, NULL), SF_OK);
    assert_status(sf_authenticate(fx->fake, next[0].sid, next[0].auth_token, who, NULL),
                  SF_ERR_AUTHENTICATE);
    /* the twin, without the conflict, agrees on everything minted since */
    sf_account_record trec;
    assert_status(sf_account_create(twin, NULL, &trec, NULL), SF_OK);
    assert_memory_equal(&rec, &trec, sizeof rec);
    assert_same_next_sids(fx->fake, twin, fx->service_sid);
    fake_release(twin);
}

static void test_api_key_create_rejects_malformed_and_taken_sids(void **state)
{
    sf_fixture *fx = *state;
    sf_fake *twin = twin_new(fx->service_sid);
    sf_fake *peek = twin_new(fx->service_sid);
    sf_api_key_record next, after;
    assert_status(sf_api_key_create(peek, NULL, NULL, &next, NULL), SF_OK);
    assert_status(sf_api_key_create(peek, NULL, NULL, &after, NULL), SF_OK);
    fake_release(peek);

    static char long_secret[SF_SECRET_CAP + 1];
    memset(long_secret, 's', SF_SECRET_CAP);
    const sf_api_key_params bad[] = {
        {.sid = "SK0123456789ABCDEF0123456789abcdef"},
        {.sid = "AC0123456789abcdef0123456789abcdef"},
        {.sid = "SK"},
        {.secret = ""},
        {.secret = "new\nline"},
        {.secret = long_secret},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        assert_status(sf_api_key_create(fx->fake, NULL, &bad[i], NULL, &err),
                      SF_ERR_INVALID_ARGUMENT);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    }
    /* the SID the fake would mint next, taken explicitly: minting skips past it, and giving
     * it again is a conflict */
    sf_api_key_params explicit_sid = {.sid = next.sid, .secret = "chosen-secret"};
    assert_status(sf_api_key_create(fx->fake, NULL, &explicit_sid, NULL, NULL), SF_OK);
    assert_status(sf_api_key_create(twin, NULL, &explicit_sid, NULL, NULL), SF_OK);
    sf_error err;
    assert_status(sf_api_key_create(fx->fake, NULL, &explicit_sid, NULL, &err), SF_ERR_CONFLICT);
    assert_error(&err, SF_ERR_CONFLICT, 409, 20409);
    sf_api_key_params other_account = {.sid = next.sid};
    sf_account_record acct;
    assert_status(sf_account_create(fx->fake, NULL, &acct, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, NULL, NULL), SF_OK);
    assert_status(sf_api_key_create(fx->fake, acct.sid, &other_account, NULL, &err),
                  SF_ERR_CONFLICT); /* key SIDs are unique across accounts */
    sf_api_key_record k1, k2;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &k1, NULL), SF_OK);
    assert_status(sf_api_key_create(twin, NULL, NULL, &k2, NULL), SF_OK);
    assert_string_equal(k1.sid, after.sid);
    assert_memory_equal(&k1, &k2, sizeof k1);
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, next.sid, "chosen-secret", who, NULL), SF_OK);
    assert_string_equal(who, sf_fake_account_sid(fx->fake));
    /* nothing was spent: an account minted now has the same SID and token as on the twin */
    sf_account_record a1, a2;
    assert_status(sf_account_create(fx->fake, NULL, &a1, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, &a2, NULL), SF_OK);
    assert_memory_equal(&a1, &a2, sizeof a1);
    fake_release(twin);
}

static void test_authenticate_rejects_null_and_wrong_credentials(void **state)
{
    sf_fixture *fx = *state;
    const char *sid = sf_fake_account_sid(fx->fake);
    const char *token = sf_fake_auth_token(fx->fake);
    sf_api_key_record key;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &key, NULL), SF_OK);
    char wrong_len[SF_SECRET_CAP + 8];
    snprintf(wrong_len, sizeof wrong_len, "%sx", token);
    struct {
        const char *user, *password;
    } bad[] = {
        {NULL, token},
        {sid, NULL},
        {NULL, NULL},
        {sid, ""},
        {sid, "nope"},
        {sid, wrong_len},
        {key.sid, token},
        {key.sid, ""},
        {"", token},
        {"user", token},
        {"AC0000000000000000000000000000000", token},
        {"AC00000000000000000000000000000000", token},
        {"SK00000000000000000000000000000000", key.secret},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        char who[SF_SID_SIZE] = "untouched";
        memset(&err, 0, sizeof err);
        assert_status(sf_authenticate(fx->fake, bad[i].user, bad[i].password, who, &err),
                      SF_ERR_AUTHENTICATE);
        assert_error(&err, SF_ERR_AUTHENTICATE, 401, 20003);
        assert_string_equal(err.message, "Authenticate");
        assert_string_equal(who, "untouched");
    }
    char who[SF_SID_SIZE];
    assert_status(sf_authenticate(fx->fake, sid, token, who, NULL), SF_OK);
    assert_string_equal(who, sid);
    assert_status(sf_authenticate(fx->fake, key.sid, key.secret, NULL, NULL), SF_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* Clock                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_clock_refuses_backward_negative_and_overflowing_moves(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record rec;
    sf_fixture_stream(fx, "expiring", 2, &rec);
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 1000, &err), SF_OK);
    assert_status(sf_clock_set(fx->fake, SF_DEFAULT_EPOCH_MS + 999, &err), SF_ERR_INVALID_ARGUMENT);
    assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    assert_status(sf_clock_set(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(fx->fake, -1, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "delta_ms must be >= 0 and fit");
    assert_status(sf_clock_advance(fx->fake, INT64_MIN, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_clock_advance(fx->fake, INT64_MAX, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_clock_now(fx->fake), SF_DEFAULT_EPOCH_MS + 1000);
    assert_int_equal(sf_pending_events(fx->fake), 1);
    assert_int_equal(sf_run_due(fx->fake), 0);
    /* setting to now is allowed and changes nothing */
    assert_status(sf_clock_set(fx->fake, SF_DEFAULT_EPOCH_MS + 1000, &err), SF_OK);
    assert_int_equal(sf_pending_events(fx->fake), 1);
}

static sf_ms callback_time = SF_DEFAULT_EPOCH_MS;
static sf_ms read_callback_time(void *user)
{
    (void)user;
    return callback_time;
}

static void test_clock_moves_are_refused_for_non_manual_clocks(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        sf_options opts;
        sf_options_init(&opts);
        if (kind == 0) {
            opts.clock = SF_CLOCK_SYSTEM;
        } else {
            opts.clock = SF_CLOCK_CALLBACK;
            opts.clock_fn = read_callback_time;
        }
        sf_fake *fake = NULL;
        assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
        held_fake(fake);
        sf_ms before = sf_clock_now(fake);
        sf_error err;
        assert_status(sf_clock_advance(fake, 1000, &err), SF_ERR_CLOCK_NOT_MANUAL);
        assert_error(&err, SF_ERR_CLOCK_NOT_MANUAL, 400, 20001);
        assert_true(strncmp(err.message, "Invalid parameter: ", 19) == 0);
        assert_status(sf_clock_set(fake, before + 1000, &err), SF_ERR_CLOCK_NOT_MANUAL);
        assert_error(&err, SF_ERR_CLOCK_NOT_MANUAL, 400, 20001);
        assert_true(sf_clock_now(fake) < before + 1000 || kind == 0);
        fake_release(fake);
    }
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, bad_args_teardown)
#define S(name) cmocka_unit_test_teardown(name, bad_args_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_invalid_opt_bool_is_invalid_parameter),
        T(test_debouncing_window_out_of_range_is_invalid_parameter),
        T(test_ttl_out_of_range_is_invalid_ttl),
        T(test_page_params_out_of_range_are_rejected),
        T(test_unknown_ids_are_not_found_naming_the_path),
        T(test_account_create_rejects_malformed_sid_and_token),
        T(test_account_create_skips_minted_sid_taken_explicitly),
        T(test_api_key_create_rejects_malformed_and_taken_sids),
        T(test_authenticate_rejects_null_and_wrong_credentials),
        T(test_clock_refuses_backward_negative_and_overflowing_moves),
        S(test_clock_moves_are_refused_for_non_manual_clocks),
    };
    return cmocka_run_group_tests_name("bad_args_values", tests, NULL, NULL);
}
