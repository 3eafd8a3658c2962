/* SPDX-License-Identifier: MIT */
/* test_account.c: accounts, API keys, HTTP Basic credentials and isolation between accounts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "fixture.h"
#include "syncfake.h"

#define GIVEN_AC "AC0123456789abcdef0123456789abcdef"
#define GIVEN_SK "SKfedcba9876543210fedcba9876543210"
#define UNKNOWN_AC "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define UNKNOWN_SK "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void assert_lower_hex_sid(const char *sid, const char *prefix)
{
    assert_non_null(sid);
    assert_int_equal(strlen(sid), SF_SID_LEN);
    assert_memory_equal(sid, prefix, 2);
    assert_int_equal(strspn(sid + 2, "0123456789abcdef"), 32);
}

static void assert_minted_secret(const char *s)
{
    assert_non_null(s);
    assert_int_equal(strlen(s), 32);
    assert_int_equal(strspn(s, "0123456789abcdef"), 32);
}

static void expect_auth_fails(sf_fake *fake, const char *user, const char *password)
{
    char out[SF_SID_SIZE];
    memset(out, 'q', sizeof out);
    sf_error err;
    assert_status(sf_authenticate(fake, user, password, out, &err), SF_ERR_AUTHENTICATE);
    assert_status(err.status, SF_ERR_AUTHENTICATE);
    sf_assert_twilio_error(&err, 401, 20003);
    assert_string_equal(err.message, "Authenticate");
    assert_string_equal(err.more_info, "https://www.twilio.com/docs/errors/20003");
}

static void expect_auth_ok(sf_fake *fake, const char *user, const char *password,
                           const char *account_sid)
{
    char out[SF_SID_SIZE];
    memset(out, 0, sizeof out);
    sf_error err;
    sf_status st = sf_authenticate(fake, user, password, out, &err);
    if (st != SF_OK)
        fail_msg("authenticate %s failed: %d %s", user, err.code, err.message);
    assert_status(err.status, SF_OK);
    assert_string_equal(out, account_sid);
}

static char *repeat_char(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* ---------------------------------------------------------------------------------------- */
/* The default account                                                                       */
/* ---------------------------------------------------------------------------------------- */

static void the_default_account_has_twilio_shaped_credentials(void **state)
{
    sf_fixture *fx = *state;
    const char *sid = sf_fake_account_sid(fx->fake);
    const char *token = sf_fake_auth_token(fx->fake);
    assert_lower_hex_sid(sid, "AC");
    assert_minted_secret(token);
    const sf_options *o = sf_fake_options(fx->fake);
    assert_non_null(o);
    assert_string_equal(o->account_sid, sid);
    assert_string_equal(o->auth_token, token);
    expect_auth_ok(fx->fake, sid, token, sid);
    /* services created without an account belong to it */
    sf_service_record svc;
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, &svc, NULL), SF_OK);
    assert_string_equal(svc.account_sid, sid);
    sf_stream_record s;
    sf_fixture_stream(fx, NULL, -1, &s);
    assert_string_equal(s.account_sid, sid);
}

static void null_fake_has_no_credentials(void **state)
{
    (void)state;
    assert_null(sf_fake_account_sid(NULL));
    assert_null(sf_fake_auth_token(NULL));
    assert_null(sf_fake_options(NULL));
}

static int setup_given_credentials(void **state)
{
    sf_fixture tmp = {0};
    sf_options opts;
    sf_fixture_options(&tmp, &opts);
    opts.account_sid = GIVEN_AC;
    opts.auth_token = "s3cr3t!~token";
    return sf_fixture_setup_with(state, &opts);
}

static void given_account_sid_and_auth_token_options_are_honoured(void **state)
{
    sf_fixture *fx = *state;
    assert_string_equal(sf_fake_account_sid(fx->fake), GIVEN_AC);
    assert_string_equal(sf_fake_auth_token(fx->fake), "s3cr3t!~token");
    assert_string_equal(sf_fake_options(fx->fake)->account_sid, GIVEN_AC);
    assert_string_equal(sf_fake_options(fx->fake)->auth_token, "s3cr3t!~token");
    expect_auth_ok(fx->fake, GIVEN_AC, "s3cr3t!~token", GIVEN_AC);
    expect_auth_fails(fx->fake, GIVEN_AC, "s3cr3t!~toke");
    sf_service_record svc;
    assert_status(sf_service_fetch(fx->fake, GIVEN_AC, fx->service_sid, &svc, NULL), SF_OK);
    assert_string_equal(svc.account_sid, GIVEN_AC);
    /* a minted account is still another one */
    sf_account_record acc;
    assert_status(sf_account_create(fx->fake, NULL, &acc, NULL), SF_OK);
    assert_string_not_equal(acc.sid, GIVEN_AC);
    assert_lower_hex_sid(acc.sid, "AC");
}

static void the_options_strings_are_copied(void **state)
{
    (void)state;
    char sid[SF_SID_SIZE] = GIVEN_AC;
    char token[16] = "tok-en";
    sf_options opts;
    sf_options_init(&opts);
    opts.account_sid = sid;
    opts.auth_token = token;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    memset(sid, 'x', sizeof sid - 1);
    memset(token, 'y', sizeof token - 1);
    assert_string_equal(sf_fake_account_sid(fake), GIVEN_AC);
    assert_string_equal(sf_fake_auth_token(fake), "tok-en");
    expect_auth_ok(fake, GIVEN_AC, "tok-en", GIVEN_AC);
    sf_fake_free(fake);
}

static void malformed_credential_options_are_refused(void **state)
{
    (void)state;
    char *long_token = repeat_char('t', SF_SECRET_CAP);
    const struct {
        const char *sid;
        const char *token;
    } bad[] = {
        {"AC0123456789ABCDEF0123456789ABCDEF", NULL}, /* uppercase hex */
        {"SK0123456789abcdef0123456789abcdef", NULL},
        {"AC0123456789abcdef0123456789abcde", NULL},
        {"AC0123456789abcdef0123456789abcdef0", NULL},
        {"ac0123456789abcdef0123456789abcdef", NULL},
        {"", NULL},
        {NULL, ""},
        {NULL, "has space"},
        {NULL, "tab\t"},
        {NULL, long_token},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_options opts;
        sf_options_init(&opts);
        opts.account_sid = bad[i].sid;
        opts.auth_token = bad[i].token;
        sf_fake *fake = (sf_fake *)(uintptr_t)1;
        sf_error err;
        assert_status(sf_fake_new(&opts, &fake, &err), SF_ERR_INVALID_ARGUMENT);
        assert_null(fake);
        assert_int_equal(err.http_status, 400);
        assert_int_equal(err.code, 20001);
    }
    /* 127 printable characters is the longest token */
    long_token[SF_SECRET_CAP - 1] = '\0';
    sf_options opts;
    sf_options_init(&opts);
    opts.auth_token = long_token;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    assert_string_equal(sf_fake_auth_token(fake), long_token);
    expect_auth_ok(fake, sf_fake_account_sid(fake), long_token, sf_fake_account_sid(fake));
    sf_fake_free(fake);
    free(long_token);
}

/* ---------------------------------------------------------------------------------------- */
/* sf_account_create                                                                         */
/* ---------------------------------------------------------------------------------------- */

static void account_create_mints_a_sid_and_token(void **state)
{
    sf_fixture *fx = *state;
    sf_account_record a, b;
    sf_error err;
    assert_status(sf_account_create(fx->fake, NULL, &a, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_lower_hex_sid(a.sid, "AC");
    assert_minted_secret(a.auth_token);
    assert_string_not_equal(a.sid, sf_fake_account_sid(fx->fake));
    assert_string_not_equal(a.auth_token, sf_fake_auth_token(fx->fake));
    sf_account_params empty = {0};
    assert_status(sf_account_create(fx->fake, &empty, &b, NULL), SF_OK);
    assert_lower_hex_sid(b.sid, "AC");
    assert_string_not_equal(a.sid, b.sid);
    assert_string_not_equal(a.auth_token, b.auth_token);
    expect_auth_ok(fx->fake, a.sid, a.auth_token, a.sid);
    expect_auth_ok(fx->fake, b.sid, b.auth_token, b.sid);
    expect_auth_fails(fx->fake, a.sid, b.auth_token);
    /* out may be NULL */
    assert_status(sf_account_create(fx->fake, NULL, NULL, NULL), SF_OK);
}

static void account_create_takes_a_given_sid_and_token(void **state)
{
    sf_fixture *fx = *state;
    sf_account_params p = {.sid = GIVEN_AC, .auth_token = "pa$$word"};
    sf_account_record a;
    assert_status(sf_account_create(fx->fake, &p, &a, NULL), SF_OK);
    assert_string_equal(a.sid, GIVEN_AC);
    assert_string_equal(a.auth_token, "pa$$word");
    expect_auth_ok(fx->fake, GIVEN_AC, "pa$$word", GIVEN_AC);

    /* only one of the two given */
    sf_account_params sid_only = {.sid = "ACcccccccccccccccccccccccccccccccc"};
    assert_status(sf_account_create(fx->fake, &sid_only, &a, NULL), SF_OK);
    assert_string_equal(a.sid, sid_only.sid);
    assert_minted_secret(a.auth_token);
    sf_account_params token_only = {.auth_token = "only-the-token"};
    assert_status(sf_account_create(fx->fake, &token_only, &a, NULL), SF_OK);
    assert_lower_hex_sid(a.sid, "AC");
    assert_string_equal(a.auth_token, "only-the-token");
    expect_auth_ok(fx->fake, a.sid, "only-the-token", a.sid);
}

static void account_create_with_a_taken_sid_is_a_conflict(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_account_params dflt = {.sid = sf_fake_account_sid(fx->fake)};
    assert_status(sf_account_create(fx->fake, &dflt, NULL, &err), SF_ERR_CONFLICT);
    sf_assert_twilio_error(&err, 409, 20409);

    sf_account_params p = {.sid = GIVEN_AC, .auth_token = "first"};
    assert_status(sf_account_create(fx->fake, &p, NULL, NULL), SF_OK);
    sf_account_params again = {.sid = GIVEN_AC, .auth_token = "second"};
    assert_status(sf_account_create(fx->fake, &again, NULL, &err), SF_ERR_CONFLICT);
    sf_assert_twilio_error(&err, 409, 20409);
    /* the first account keeps its token */
    expect_auth_ok(fx->fake, GIVEN_AC, "first", GIVEN_AC);
    expect_auth_fails(fx->fake, GIVEN_AC, "second");

    sf_account_record minted;
    assert_status(sf_account_create(fx->fake, NULL, &minted, NULL), SF_OK);
    sf_account_params dup = {.sid = minted.sid};
    assert_status(sf_account_create(fx->fake, &dup, NULL, &err), SF_ERR_CONFLICT);
}

static void account_create_refuses_malformed_sids_and_tokens(void **state)
{
    sf_fixture *fx = *state;
    char *long_token = repeat_char('k', SF_SECRET_CAP);
    sf_account_params bad[] = {
        {.sid = "AC0123456789ABCDEF0123456789ABCDEF"},
        {.sid = "AC0123456789abcdef"},
        {.sid = "SK0123456789abcdef0123456789abcdef"},
        {.sid = "AC0123456789abcdef0123456789abcdeg"},
        {.sid = ""},
        {.auth_token = ""},
        {.auth_token = "with space"},
        {.auth_token = "ctrl\x01"},
        {.auth_token = "caf\xc3\xa9"},
        {.auth_token = long_token},
        {.sid = GIVEN_AC, .auth_token = ""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_account_record out;
        assert_status(sf_account_create(fx->fake, &bad[i], &out, &err), SF_ERR_INVALID_ARGUMENT);
        assert_status(err.status, SF_ERR_INVALID_ARGUMENT);
        assert_int_equal(err.http_status, 400);
        assert_int_equal(err.code, 20001);
        assert_true(strncmp(err.message, "Invalid parameter", 17) == 0);
    }
    /* the rejected GIVEN_AC was not created */
    sf_account_params ok = {.sid = GIVEN_AC};
    assert_status(sf_account_create(fx->fake, &ok, NULL, NULL), SF_OK);
    free(long_token);
    sf_error err;
    assert_status(sf_account_create(NULL, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
}

static void failed_account_and_key_creation_spends_no_sid_or_secret(void **state)
{
    void **pair = *state;
    sf_fixture *fx = pair[0], *twin = pair[1];
    sf_account_params bad_sid = {.sid = "nope"};
    sf_account_params taken = {.sid = sf_fake_account_sid(fx->fake)};
    sf_account_params bad_token = {.auth_token = " "};
    assert_status_not(sf_account_create(fx->fake, &bad_sid, NULL, NULL), SF_OK);
    assert_status_not(sf_account_create(fx->fake, &taken, NULL, NULL), SF_OK);
    assert_status_not(sf_account_create(fx->fake, &bad_token, NULL, NULL), SF_OK);
    sf_api_key_params bad_key = {.sid = "SKxyz"};
    sf_api_key_params bad_secret = {.secret = ""};
    assert_status_not(sf_api_key_create(fx->fake, NULL, &bad_key, NULL, NULL), SF_OK);
    assert_status_not(sf_api_key_create(fx->fake, NULL, &bad_secret, NULL, NULL), SF_OK);
    assert_status_not(sf_api_key_create(fx->fake, UNKNOWN_AC, NULL, NULL, NULL), SF_OK);

    sf_account_record a1, a2;
    assert_status(sf_account_create(fx->fake, NULL, &a1, NULL), SF_OK);
    assert_status(sf_account_create(twin->fake, NULL, &a2, NULL), SF_OK);
    assert_memory_equal(&a1, &a2, sizeof a1);
    sf_api_key_record k1, k2;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &k1, NULL), SF_OK);
    assert_status(sf_api_key_create(twin->fake, NULL, NULL, &k2, NULL), SF_OK);
    assert_memory_equal(&k1, &k2, sizeof k1);
}

/* A caller may give any well-formed SID, including the one the fake would mint next. The fake
 * must still be able to mint: "sid NULL: minted" cannot turn into a permanent conflict. */
static void minting_still_works_after_a_given_sid_took_the_next_minted_one(void **state)
{
    void **pair = *state;
    sf_fixture *fx = pair[0], *twin = pair[1];
    sf_account_record next_acc;
    assert_status(sf_account_create(twin->fake, NULL, &next_acc, NULL), SF_OK);
    sf_api_key_record next_key;
    assert_status(sf_api_key_create(twin->fake, NULL, NULL, &next_key, NULL), SF_OK);

    sf_account_params squat = {.sid = next_acc.sid, .auth_token = "squatter"};
    assert_status(sf_account_create(fx->fake, &squat, NULL, NULL), SF_OK);
    sf_api_key_params squat_key = {.sid = next_key.sid, .secret = "squatter"};
    assert_status(sf_api_key_create(fx->fake, NULL, &squat_key, NULL, NULL), SF_OK);

    for (int i = 0; i < 3; i++) {
        sf_account_record acc;
        sf_error err;
        sf_status st = sf_account_create(fx->fake, NULL, &acc, &err);
        if (st != SF_OK)
            fail_msg("minted account create #%d failed: %s (%s)", i + 1, sf_status_name(st),
                     err.message);
        assert_string_not_equal(acc.sid, next_acc.sid);
        sf_api_key_record key;
        st = sf_api_key_create(fx->fake, NULL, NULL, &key, &err);
        if (st != SF_OK)
            fail_msg("minted key create #%d failed: %s (%s)", i + 1, sf_status_name(st),
                     err.message);
        assert_string_not_equal(key.sid, next_key.sid);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* API keys                                                                                  */
/* ---------------------------------------------------------------------------------------- */

static void api_key_create_mints_a_sid_and_secret_for_the_default_account(void **state)
{
    sf_fixture *fx = *state;
    sf_api_key_record k1, k2;
    sf_error err;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &k1, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_lower_hex_sid(k1.sid, "SK");
    assert_minted_secret(k1.secret);
    assert_string_equal(k1.account_sid, sf_fake_account_sid(fx->fake));
    assert_string_not_equal(k1.secret, sf_fake_auth_token(fx->fake));
    sf_api_key_params empty = {0};
    assert_status(sf_api_key_create(fx->fake, sf_fake_account_sid(fx->fake), &empty, &k2, NULL),
                  SF_OK);
    assert_string_not_equal(k1.sid, k2.sid);
    assert_string_not_equal(k1.secret, k2.secret);
    expect_auth_ok(fx->fake, k1.sid, k1.secret, sf_fake_account_sid(fx->fake));
    expect_auth_ok(fx->fake, k2.sid, k2.secret, sf_fake_account_sid(fx->fake));
    expect_auth_fails(fx->fake, k1.sid, k2.secret);
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, NULL, NULL), SF_OK);
}

static void api_key_create_takes_a_given_sid_and_secret_for_any_account(void **state)
{
    sf_fixture *fx = *state;
    sf_account_record b;
    assert_status(sf_account_create(fx->fake, NULL, &b, NULL), SF_OK);
    sf_api_key_params p = {.sid = GIVEN_SK, .secret = "key-secret"};
    sf_api_key_record k;
    assert_status(sf_api_key_create(fx->fake, b.sid, &p, &k, NULL), SF_OK);
    assert_string_equal(k.sid, GIVEN_SK);
    assert_string_equal(k.secret, "key-secret");
    assert_string_equal(k.account_sid, b.sid);
    expect_auth_ok(fx->fake, GIVEN_SK, "key-secret", b.sid);

    sf_api_key_params secret_only = {.secret = "s2"};
    assert_status(sf_api_key_create(fx->fake, b.sid, &secret_only, &k, NULL), SF_OK);
    assert_lower_hex_sid(k.sid, "SK");
    assert_string_equal(k.secret, "s2");
    sf_api_key_params sid_only = {.sid = "SK11111111111111111111111111111111"};
    assert_status(sf_api_key_create(fx->fake, NULL, &sid_only, &k, NULL), SF_OK);
    assert_string_equal(k.sid, sid_only.sid);
    assert_minted_secret(k.secret);
}

static void api_key_create_refuses_bad_input(void **state)
{
    sf_fixture *fx = *state;
    sf_error err;
    sf_api_key_record k;
    assert_status(sf_api_key_create(fx->fake, UNKNOWN_AC, NULL, &k, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);

    char *long_secret = repeat_char('s', SF_SECRET_CAP);
    sf_api_key_params bad[] = {
        {.sid = "SKFEDCBA9876543210FEDCBA9876543210"},
        {.sid = "AC0123456789abcdef0123456789abcdef"},
        {.sid = "SK123"},
        {.secret = ""},
        {.secret = "two words"},
        {.secret = long_secret},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_status(sf_api_key_create(fx->fake, NULL, &bad[i], &k, &err),
                      SF_ERR_INVALID_ARGUMENT);
        assert_int_equal(err.http_status, 400);
        assert_int_equal(err.code, 20001);
    }
    free(long_secret);

    sf_api_key_params p = {.sid = GIVEN_SK, .secret = "one"};
    assert_status(sf_api_key_create(fx->fake, NULL, &p, &k, NULL), SF_OK);
    sf_api_key_params dup = {.sid = GIVEN_SK, .secret = "two"};
    assert_status(sf_api_key_create(fx->fake, NULL, &dup, &k, &err), SF_ERR_CONFLICT);
    sf_assert_twilio_error(&err, 409, 20409);
    expect_auth_ok(fx->fake, GIVEN_SK, "one", sf_fake_account_sid(fx->fake));
    expect_auth_fails(fx->fake, GIVEN_SK, "two");
    assert_status(sf_api_key_create(NULL, NULL, NULL, &k, &err), SF_ERR_INVALID_ARGUMENT);
}

/* ---------------------------------------------------------------------------------------- */
/* sf_authenticate                                                                           */
/* ---------------------------------------------------------------------------------------- */

static void wrong_or_missing_credentials_are_401_20003_authenticate(void **state)
{
    sf_fixture *fx = *state;
    const char *sid = sf_fake_account_sid(fx->fake);
    const char *token = sf_fake_auth_token(fx->fake);
    sf_api_key_record k;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &k, NULL), SF_OK);

    char prefix[64], suffix[64], upper[SF_SID_SIZE];
    snprintf(prefix, sizeof prefix, "%.*s", (int)strlen(token) - 1, token);
    snprintf(suffix, sizeof suffix, "%sx", token);
    memcpy(upper, sid, SF_SID_SIZE);
    for (int i = 2; i < SF_SID_LEN; i++)
        if (upper[i] >= 'a' && upper[i] <= 'f')
            upper[i] = (char)(upper[i] - 32);

    expect_auth_fails(fx->fake, sid, "wrong");
    expect_auth_fails(fx->fake, sid, "");
    expect_auth_fails(fx->fake, sid, prefix);
    expect_auth_fails(fx->fake, sid, suffix);
    expect_auth_fails(fx->fake, sid, k.secret); /* a key's secret is not the token */
    expect_auth_fails(fx->fake, k.sid, token);  /* nor the other way round */
    expect_auth_fails(fx->fake, k.sid, "wrong");
    expect_auth_fails(fx->fake, UNKNOWN_AC, token);
    expect_auth_fails(fx->fake, UNKNOWN_SK, k.secret);
    expect_auth_fails(fx->fake, "bob", token);
    expect_auth_fails(fx->fake, "", "");
    expect_auth_fails(fx->fake, fx->service_sid, token);
    if (strcmp(upper, sid) != 0)
        expect_auth_fails(fx->fake, upper, token);
    expect_auth_fails(fx->fake, NULL, token);
    expect_auth_fails(fx->fake, sid, NULL);
    expect_auth_fails(fx->fake, NULL, NULL);

    /* right credentials still work, with or without an output buffer */
    expect_auth_ok(fx->fake, sid, token, sid);
    assert_status(sf_authenticate(fx->fake, k.sid, k.secret, NULL, NULL), SF_OK);
    assert_status(sf_authenticate(fx->fake, sid, "nope", NULL, NULL), SF_ERR_AUTHENTICATE);
    sf_error err;
    assert_status(sf_authenticate(NULL, sid, token, NULL, &err), SF_ERR_INVALID_ARGUMENT);
}

static void a_key_authenticates_as_its_own_account(void **state)
{
    sf_fixture *fx = *state;
    sf_account_record b;
    assert_status(sf_account_create(fx->fake, NULL, &b, NULL), SF_OK);
    sf_api_key_record ka, kb;
    assert_status(sf_api_key_create(fx->fake, NULL, NULL, &ka, NULL), SF_OK);
    assert_status(sf_api_key_create(fx->fake, b.sid, NULL, &kb, NULL), SF_OK);
    expect_auth_ok(fx->fake, ka.sid, ka.secret, sf_fake_account_sid(fx->fake));
    expect_auth_ok(fx->fake, kb.sid, kb.secret, b.sid);
    expect_auth_fails(fx->fake, kb.sid, b.auth_token);
}

/* ---------------------------------------------------------------------------------------- */
/* Isolation between accounts                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef struct two_accounts {
    sf_fixture *fx;
    sf_account_record b;
    sf_service_record b_service;
    sf_stream_record b_stream;
} two_accounts;

static void make_account_b(sf_fixture *fx, two_accounts *t)
{
    t->fx = fx;
    assert_status(sf_account_create(fx->fake, NULL, &t->b, NULL), SF_OK);
    sf_service_params p = {.friendly_name = "B's service"};
    assert_status(sf_service_create(fx->fake, t->b.sid, &p, &t->b_service, NULL), SF_OK);
    assert_string_equal(t->b_service.account_sid, t->b.sid);
    sf_stream_params sp = {.unique_name = "b-stream"};
    assert_status(sf_stream_create(fx->fake, t->b.sid, t->b_service.sid, &sp, &t->b_stream, NULL),
                  SF_OK);
    assert_string_equal(t->b_stream.account_sid, t->b.sid);
}

static void expect_hidden(const sf_error *err, const char *path)
{
    sf_assert_twilio_error(err, 404, 20404);
    char expected[SF_ERROR_MESSAGE_SIZE];
    snprintf(expected, sizeof expected, "The requested resource %s was not found", path);
    assert_string_equal(err->message, expected);
}

static void another_accounts_service_is_not_found(void **state)
{
    two_accounts t;
    make_account_b(*state, &t);
    sf_fake *fake = t.fx->fake;
    const char *svc = t.b_service.sid;
    char path[256];
    snprintf(path, sizeof path, "/Services/%s", svc);
    const char *a_sids[] = {NULL, sf_fake_account_sid(fake)};
    for (size_t i = 0; i < 2; i++) {
        const char *a = a_sids[i];
        sf_error err;
        sf_service_record rec;
        assert_status(sf_service_fetch(fake, a, svc, &rec, &err), SF_ERR_NOT_FOUND);
        expect_hidden(&err, path);
        sf_service_params up = {.friendly_name = "hijacked"};
        assert_status(sf_service_update(fake, a, svc, &up, &rec, &err), SF_ERR_NOT_FOUND);
        expect_hidden(&err, path);
        assert_status(sf_service_remove(fake, a, svc, &err), SF_ERR_NOT_FOUND);
        expect_hidden(&err, path);
    }
    /* B still has it, unchanged */
    sf_service_record rec;
    assert_status(sf_service_fetch(fake, t.b.sid, svc, &rec, NULL), SF_OK);
    assert_memory_equal(&rec, &t.b_service, sizeof rec);
}

static void a_hidden_service_answers_exactly_like_a_missing_one(void **state)
{
    two_accounts t;
    make_account_b(*state, &t);
    sf_fake *fake = t.fx->fake;
    sf_error hidden, missing;
    memset(&hidden, 0, sizeof hidden);
    memset(&missing, 0, sizeof missing);
    sf_service_record rec;
    assert_status(sf_service_fetch(fake, NULL, t.b_service.sid, &rec, &hidden), SF_ERR_NOT_FOUND);
    /* remove it for real, then ask again as B */
    assert_status(sf_service_remove(fake, t.b.sid, t.b_service.sid, NULL), SF_OK);
    assert_status(sf_service_fetch(fake, t.b.sid, t.b_service.sid, &rec, &missing),
                  SF_ERR_NOT_FOUND);
    assert_memory_equal(&hidden, &missing, sizeof hidden);
}

static void another_accounts_streams_are_not_found(void **state)
{
    two_accounts t;
    make_account_b(*state, &t);
    sf_fake *fake = t.fx->fake;
    const char *svc = t.b_service.sid;
    const char *ids[] = {t.b_stream.sid, "b-stream"};
    for (size_t i = 0; i < 2; i++) {
        char path[256];
        snprintf(path, sizeof path, "/Services/%s/Streams/%s", svc, ids[i]);
        sf_error err;
        sf_stream_record s;
        assert_status(sf_stream_fetch(fake, NULL, svc, ids[i], &s, &err), SF_ERR_NOT_FOUND);
        expect_hidden(&err, path);
        sf_stream_params ttl = {.has_ttl = true, .ttl = 10};
        assert_status(sf_stream_update(fake, NULL, svc, ids[i], &ttl, &s, &err), SF_ERR_NOT_FOUND);
        expect_hidden(&err, path);
        sf_publish_params pp = {.data = "{\"a\":1}", .data_len = 7};
        sf_message_record m;
        assert_status(sf_stream_publish(fake, NULL, svc, ids[i], &pp, &m, &err), SF_ERR_NOT_FOUND);
        snprintf(path, sizeof path, "/Services/%s/Streams/%s/Messages", svc, ids[i]);
        expect_hidden(&err, path);
        sf_rate_state rs;
        assert_status(sf_stream_rate_state(fake, NULL, svc, ids[i], &rs, &err), SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
        assert_status(sf_stream_remove(fake, NULL, svc, ids[i], &err), SF_ERR_NOT_FOUND);
        sf_assert_twilio_error(&err, 404, 20404);
    }
    sf_error err;
    sf_stream_record s;
    assert_status(sf_stream_create(fake, NULL, svc, NULL, &s, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, svc, NULL, &page, &err), SF_ERR_NOT_FOUND);
    assert_null(page);
    sf_assert_twilio_error(&err, 404, 20404);

    /* B's stream is untouched and B can use it */
    assert_status(sf_stream_fetch(fake, t.b.sid, svc, "b-stream", &s, NULL), SF_OK);
    assert_memory_equal(&s, &t.b_stream, sizeof s);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record m;
    assert_status(sf_stream_publish(fake, t.b.sid, svc, "b-stream", &pp, &m, NULL), SF_OK);
    assert_status(sf_stream_list(fake, t.b.sid, svc, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    assert_string_equal(page->records[0].sid, t.b_stream.sid);
    sf_stream_page_free(fake, page);
}

static void each_account_lists_only_its_own_services(void **state)
{
    two_accounts t;
    make_account_b(*state, &t);
    sf_fake *fake = t.fx->fake;
    sf_service_record a2;
    assert_status(sf_service_create(fake, NULL, NULL, &a2, NULL), SF_OK);

    sf_service_page *page = NULL;
    assert_status(sf_service_list(fake, NULL, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 2);
    assert_string_equal(page->records[0].sid, t.fx->service_sid);
    assert_string_equal(page->records[1].sid, a2.sid);
    for (size_t i = 0; i < page->info.count; i++) {
        assert_string_not_equal(page->records[i].sid, t.b_service.sid);
        assert_string_equal(page->records[i].account_sid, sf_fake_account_sid(fake));
    }
    sf_service_page_free(fake, page);

    assert_status(sf_service_list(fake, t.b.sid, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    assert_memory_equal(&page->records[0], &t.b_service, sizeof t.b_service);
    sf_service_page_free(fake, page);

    /* a token from B's list is not valid for A's */
    sf_service_record more;
    assert_status(sf_service_create(fake, t.b.sid, NULL, &more, NULL), SF_OK);
    sf_page_params one = {.has_page_size = true, .page_size = 1};
    assert_status(sf_service_list(fake, t.b.sid, &one, &page, NULL), SF_OK);
    assert_true(page->info.has_next);
    char token[SF_PAGE_TOKEN_SIZE];
    memcpy(token, page->info.next_token, sizeof token);
    sf_service_page_free(fake, page);
    sf_page_params with_token = {.has_page_size = true, .page_size = 1, .page_token = token};
    sf_error err;
    assert_status(sf_service_list(fake, NULL, &with_token, &page, &err), SF_ERR_INVALID_PAGE_TOKEN);
    sf_assert_twilio_error(&err, 400, 54453);
    assert_status(sf_service_list(fake, t.b.sid, &with_token, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 1);
    assert_string_equal(page->records[0].sid, more.sid);
    sf_service_page_free(fake, page);
}

static void account_b_cannot_see_account_a_either(void **state)
{
    two_accounts t;
    make_account_b(*state, &t);
    sf_fake *fake = t.fx->fake;
    sf_stream_record a_stream;
    sf_fixture_stream(t.fx, "a-stream", -1, &a_stream);
    sf_error err;
    sf_service_record rec;
    assert_status(sf_service_fetch(fake, t.b.sid, t.fx->service_sid, &rec, &err), SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    sf_stream_record s;
    assert_status(sf_stream_fetch(fake, t.b.sid, t.fx->service_sid, a_stream.sid, &s, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    /* and an unknown account sees nothing at all */
    assert_status(sf_service_fetch(fake, UNKNOWN_AC, t.fx->service_sid, &rec, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
    assert_status(sf_stream_fetch(fake, UNKNOWN_AC, t.fx->service_sid, "a-stream", &s, &err),
                  SF_ERR_NOT_FOUND);
    sf_assert_twilio_error(&err, 404, 20404);
}

static void same_unique_name_lives_independently_in_each_account(void **state)
{
    two_accounts t;
    make_account_b(*state, &t);
    sf_fake *fake = t.fx->fake;
    sf_stream_record a_stream;
    sf_fixture_stream(t.fx, "b-stream", -1, &a_stream); /* same name as B's, in A's service */
    assert_string_not_equal(a_stream.sid, t.b_stream.sid);
    sf_stream_record s;
    assert_status(sf_stream_fetch(fake, NULL, t.fx->service_sid, "b-stream", &s, NULL), SF_OK);
    assert_string_equal(s.sid, a_stream.sid);
    assert_status(sf_stream_fetch(fake, t.b.sid, t.b_service.sid, "b-stream", &s, NULL), SF_OK);
    assert_string_equal(s.sid, t.b_stream.sid);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
    const struct CMUnitTest tests[] = {
        T(the_default_account_has_twilio_shaped_credentials),
        cmocka_unit_test(null_fake_has_no_credentials),
        cmocka_unit_test_setup_teardown(given_account_sid_and_auth_token_options_are_honoured,
                                        setup_given_credentials, sf_fixture_teardown),
        cmocka_unit_test(the_options_strings_are_copied),
        cmocka_unit_test(malformed_credential_options_are_refused),
        T(account_create_mints_a_sid_and_token),
        T(account_create_takes_a_given_sid_and_token),
        T(account_create_with_a_taken_sid_is_a_conflict),
        T(account_create_refuses_malformed_sids_and_tokens),
        cmocka_unit_test_setup_teardown(failed_account_and_key_creation_spends_no_sid_or_secret,
                                        sf_test_setup_twins, sf_test_teardown_twins),
        cmocka_unit_test_setup_teardown(
            minting_still_works_after_a_given_sid_took_the_next_minted_one, sf_test_setup_twins,
            sf_test_teardown_twins),
        T(api_key_create_mints_a_sid_and_secret_for_the_default_account),
        T(api_key_create_takes_a_given_sid_and_secret_for_any_account),
        T(api_key_create_refuses_bad_input),
        T(wrong_or_missing_credentials_are_401_20003_authenticate),
        T(a_key_authenticates_as_its_own_account),
        T(another_accounts_service_is_not_found),
        T(a_hidden_service_answers_exactly_like_a_missing_one),
        T(another_accounts_streams_are_not_found),
        T(each_account_lists_only_its_own_services),
        T(account_b_cannot_see_account_a_either),
        T(same_unique_name_lives_independently_in_each_account),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
