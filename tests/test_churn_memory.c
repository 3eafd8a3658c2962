/* SPDX-License-Identifier: MIT */
/* test_churn_memory.c: what a long-running fake does over and over (mint tokens, subscribe and
 * unsubscribe) holds no more memory after a thousand rounds than after the first ones (for
 * subscribers: once the retained unsubscribed records are there). Counted with the fixture's
 * allocator (live blocks), the journal kept at zero entries so its ring does not count.
 * `make soak` measures the same over minutes against the server. */
#include "calls.h"
#include "fixture.h"
#include "syncfake_http.h"

#include <nettle/base64.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"

#define WARMUP 10
#define ROUNDS 1000

static int setup(void **state)
{
    sf_fixture fx;
    sf_options opts;
    sf_fixture_options(&fx, &opts);
    opts.journal_capacity = 0;
    opts.limits.publish_rate_per_s = 0; /* lifted: rounds publish back to back */
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
    sf_http_request req = {.method = "POST",
                           .target = "/_syncfake/tokens",
                           .headers = headers,
                           .header_count = 2,
                           .body = body,
                           .body_len = strlen(body)};
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
    assert_status(sf_api_key_fetch(fx->fake, first, &rec, &err), SF_OK);
    assert_string_equal(rec.account_sid, sf_fake_account_sid(fx->fake));
}

#define RETAINED 1024 /* unsubscribed records kept readable (docs/behaviour.md "Caps") */

/* Subscribe, publish, unsubscribe. */
static sf_subscriber_id churn(sf_fixture *fx, const char *stream)
{
    sf_subscriber_id id = sf_test_subscribe(fx, stream);
    sf_publish_params m = {.data = "{}", .data_len = 2};
    sf_error err;
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, stream, &m, NULL, &err),
                  SF_OK);
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    return id;
}

static bool known(sf_fixture *fx, sf_subscriber_id id, sf_subscriber_stats *st)
{
    sf_error err;
    return sf_subscriber_stats_get(fx->fake, id, st, &err) == SF_OK;
}

static void subscribers_coming_and_going_hold_bounded_memory(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "churn", -1, &s);
    for (int i = 0; i < RETAINED + WARMUP; i++)
        churn(fx, s.sid);
    long live = fx->alloc.live;
    for (int i = 0; i < ROUNDS; i++)
        churn(fx, s.sid);
    assert_int_equal(fx->alloc.live, live);
}

static void the_last_unsubscribed_stay_readable(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "recent", -1, &s);
    sf_subscriber_stats st;
    sf_subscriber_id first = churn(fx, s.sid);
    assert_true(known(fx, first, &st));
    assert_false(st.attached);
    assert_int_equal(st.delivered, 1); /* its publish went out before the unsubscribe */
    sf_subscriber_id last = 0;
    for (int i = 0; i < RETAINED - 1; i++)
        last = churn(fx, s.sid);
    assert_true(known(fx, first, &st)); /* exactly RETAINED kept */
    last = churn(fx, s.sid);
    assert_false(known(fx, first, &st)); /* the oldest is forgotten */
    sf_error err;
    assert_status(sf_unsubscribe(fx->fake, first, &err), SF_ERR_INVALID_ARGUMENT);
    assert_true(known(fx, last, &st));
    assert_int_equal(st.delivered, 1);
    /* ids are never reused */
    assert_true(sf_test_subscribe(fx, s.sid) > last);
}

static void a_record_with_deliveries_in_flight_waits(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record late, fast;
    sf_fixture_stream(fx, "late", -1, &late);
    sf_fixture_stream(fx, "fast", -1, &fast);
    sf_fault_params fp = {.scope = SF_SCOPE_STREAM, .stream_sid = late.sid, .delay_ms = 100};
    sf_error err;
    assert_status(sf_fault_add(fx->fake, &fp, NULL, &err), SF_OK);
    sf_subscriber_id slow = churn(fx, late.sid); /* its delivery is 100 ms away */
    sf_subscriber_id next = churn(fx, fast.sid);
    for (int i = 0; i < RETAINED + 5; i++)
        churn(fx, fast.sid);
    sf_subscriber_stats st;
    assert_true(known(fx, slow, &st));
    assert_int_equal(st.in_flight, 1);
    assert_true(known(fx, next, &st)); /* the queue waits behind it */
    assert_status(sf_clock_advance(fx->fake, 200, &err), SF_OK);
    assert_true(known(fx, slow, &st));
    assert_int_equal(st.in_flight, 0);
    assert_int_equal(st.lost, 1);
    churn(fx, fast.sid);
    assert_false(known(fx, slow, &st));
    assert_false(known(fx, next, &st));
}

static void a_record_named_by_a_rule_is_kept(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record s;
    sf_fixture_stream(fx, "ruled", -1, &s);
    sf_subscriber_id named = sf_test_subscribe(fx, s.sid);
    sf_fault_params fp = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = named, .drop_next = 1};
    sf_fault_id rule;
    sf_error err;
    assert_status(sf_fault_add(fx->fake, &fp, &rule, &err), SF_OK);
    assert_status(sf_unsubscribe(fx->fake, named, &err), SF_OK);
    for (int i = 0; i < RETAINED + 5; i++)
        churn(fx, s.sid);
    sf_subscriber_stats st;
    assert_true(known(fx, named, &st));
    assert_status(sf_fault_remove(fx->fake, rule, &err), SF_OK); /* finds its record */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(minting_tokens_holds_no_memory, setup, sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(subscribers_coming_and_going_hold_bounded_memory, setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(the_last_unsubscribed_stay_readable, setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_record_with_deliveries_in_flight_waits, setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(a_record_named_by_a_rule_is_kept, setup,
                                        sf_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
