/* SPDX-License-Identifier: MIT */
/* test_determinism_seeds.c: the same seed and the same calls give the same bytes; another seed
 * gives other SIDs; reset repeats a new fake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "syncfake.h"
#include "determinism_suite.h"

/* ---------------------------------------------------------------------------------------- */
/* Same seed, same calls                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void same_seed_and_calls_give_byte_identical_answers(void **state)
{
    (void)state;
    sf_fake *a = tx_new_fake(SF_TEST_SEED), *b = tx_new_fake(SF_TEST_SEED);
    transcript ta = {0}, tb = {0};
    tx_scenario(a, &ta);
    tx_scenario(b, &tb);
    assert_true(ta.entries > 200);
    assert_true(ta.len > 40 * sizeof(sf_stream_record));
    assert_same_transcript(&ta, &tb);
    tx_free(&ta);
    tx_free(&tb);
    sf_fake_free(a);
    sf_fake_free(b);
}

static void records_are_fully_initialised_so_memcmp_is_meaningful(void **state)
{
    (void)state;
    /* Different garbage in the caller's buffers must not show through. */
    sf_fake *a = tx_new_fake(7), *b = tx_new_fake(7);
    sf_service_record sa, sb;
    memset(&sa, 0x11, sizeof sa);
    memset(&sb, 0xee, sizeof sb);
    assert_status(sf_service_create(a, NULL, NULL, &sa, NULL), SF_OK);
    assert_status(sf_service_create(b, NULL, NULL, &sb, NULL), SF_OK);
    assert_memory_equal(&sa, &sb, sizeof sa);
    sf_stream_record ra, rb;
    memset(&ra, 0x11, sizeof ra);
    memset(&rb, 0xee, sizeof rb);
    sf_stream_params p = {.unique_name = "n", .has_ttl = true, .ttl = 5};
    assert_status(sf_stream_create(a, NULL, sa.sid, &p, &ra, NULL), SF_OK);
    assert_status(sf_stream_create(b, NULL, sb.sid, &p, &rb, NULL), SF_OK);
    assert_memory_equal(&ra, &rb, sizeof ra);
    memset(&ra, 0x22, sizeof ra);
    memset(&rb, 0xdd, sizeof rb);
    assert_status(sf_stream_fetch(a, NULL, sa.sid, "n", &ra, NULL), SF_OK);
    assert_status(sf_stream_fetch(b, NULL, sb.sid, "n", &rb, NULL), SF_OK);
    assert_memory_equal(&ra, &rb, sizeof ra);
    sf_fake_free(a);
    sf_fake_free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Another seed                                                                              */
/* ---------------------------------------------------------------------------------------- */

typedef struct firsts {
    char account[SF_SID_SIZE];
    char token[SF_SECRET_CAP];
    char service[SF_SID_SIZE];
    char stream[SF_SID_SIZE];
    char message[SF_SID_SIZE];
    char minted_account[SF_SID_SIZE];
    char key[SF_SID_SIZE];
    char key_secret[SF_SECRET_CAP];
    char page_token[SF_PAGE_TOKEN_SIZE];
} firsts;

static void first_of_each(uint64_t seed, firsts *f)
{
    memset(f, 0, sizeof *f);
    sf_fake *fake = tx_new_fake(seed);
    strcpy(f->account, sf_fake_account_sid(fake));
    strcpy(f->token, sf_fake_auth_token(fake));
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    strcpy(f->service, svc.sid);
    sf_stream_record s;
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &s, NULL), SF_OK);
    strcpy(f->stream, s.sid);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, NULL, NULL), SF_OK);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    sf_message_record m;
    assert_status(sf_stream_publish(fake, NULL, svc.sid, s.sid, &pp, &m, NULL), SF_OK);
    strcpy(f->message, m.sid);
    sf_account_record acc;
    assert_status(sf_account_create(fake, NULL, &acc, NULL), SF_OK);
    strcpy(f->minted_account, acc.sid);
    sf_api_key_record k;
    assert_status(sf_api_key_create(fake, NULL, NULL, &k, NULL), SF_OK);
    strcpy(f->key, k.sid);
    strcpy(f->key_secret, k.secret);
    sf_stream_page *page = NULL;
    sf_page_params one = {.has_page_size = true, .page_size = 1};
    assert_status(sf_stream_list(fake, NULL, svc.sid, &one, &page, NULL), SF_OK);
    assert_true(page->info.has_next);
    strcpy(f->page_token, page->info.next_token);
    sf_stream_page_free(fake, page);
    sf_fake_free(fake);
}

static void another_seed_gives_other_sids_of_every_kind(void **state)
{
    (void)state;
    firsts a, b, a2;
    first_of_each(SF_TEST_SEED, &a);
    first_of_each(SF_TEST_SEED + 1, &b);
    first_of_each(SF_TEST_SEED, &a2);
    assert_memory_equal(&a, &a2, sizeof a);
    assert_string_not_equal(a.account, b.account);
    assert_string_not_equal(a.token, b.token);
    assert_string_not_equal(a.service, b.service);
    assert_string_not_equal(a.stream, b.stream);
    assert_string_not_equal(a.message, b.message);
    assert_string_not_equal(a.minted_account, b.minted_account);
    assert_string_not_equal(a.key, b.key);
    assert_string_not_equal(a.key_secret, b.key_secret);
    assert_string_not_equal(a.page_token, b.page_token);
    /* shapes hold for both */
    const firsts *fs[] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        assert_true(sf_sid_is(fs[i]->account, "AC"));
        assert_true(sf_sid_is(fs[i]->service, "IS"));
        assert_true(sf_sid_is(fs[i]->stream, "TO"));
        assert_true(sf_sid_is(fs[i]->message, "TZ"));
        assert_true(sf_sid_is(fs[i]->key, "SK"));
    }
}

static void many_seeds_give_pairwise_different_sids(void **state)
{
    (void)state;
    enum { N = 24 };
    static const uint64_t seeds[N] = {0,
                                      1,
                                      2,
                                      3,
                                      4,
                                      5,
                                      6,
                                      7,
                                      8,
                                      9,
                                      10,
                                      41,
                                      42,
                                      43,
                                      255,
                                      256,
                                      1u << 31,
                                      UINT64_C(1) << 32,
                                      UINT64_C(1) << 63,
                                      UINT64_MAX,
                                      UINT64_MAX - 1,
                                      0x9e3779b97f4a7c15u,
                                      12345678901234567u,
                                      1000000007u};
    static char services[N][SF_SID_SIZE], streams[N][SF_SID_SIZE], accounts[N][SF_SID_SIZE];
    for (int i = 0; i < N; i++) {
        sf_fake *fake = tx_new_fake(seeds[i]);
        strcpy(accounts[i], sf_fake_account_sid(fake));
        sf_service_record svc;
        assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
        strcpy(services[i], svc.sid);
        sf_stream_record s;
        assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &s, NULL), SF_OK);
        strcpy(streams[i], s.sid);
        sf_fake_free(fake);
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(accounts[i], accounts[j]);
            assert_string_not_equal(services[i], services[j]);
            assert_string_not_equal(streams[i], streams[j]);
            /* the 32 hex digits differ too, not just the prefix */
            assert_string_not_equal(services[i] + 2, streams[j] + 2);
        }
}

/* ---------------------------------------------------------------------------------------- */
/* Reset                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void reset_repeats_a_new_fake_byte_for_byte(void **state)
{
    (void)state;
    sf_fake *used = tx_new_fake(SF_TEST_SEED), *fresh = tx_new_fake(SF_TEST_SEED);
    transcript first = {0}, again = {0}, ref = {0};
    tx_scenario(used, &first);
    /* extra state that reset must forget */
    sf_account_params ap = {.sid = "AC0123456789abcdef0123456789abcdef", .auth_token = "x"};
    assert_status(sf_account_create(used, &ap, NULL, NULL), SF_OK);
    sf_api_key_params kp = {.sid = "SK0123456789abcdef0123456789abcdef", .secret = "y"};
    assert_status(sf_api_key_create(used, NULL, &kp, NULL, NULL), SF_OK);
    assert_status(sf_clock_advance(used, 123456789, NULL), SF_OK);

    sf_error err;
    memset(&err, 0x33, sizeof err);
    assert_status(sf_fake_reset(used, &err), SF_OK);
    assert_status(err.status, SF_OK);

    /* fresh state: clock, services, accounts, keys, events */
    assert_int_equal(sf_clock_now(used), SF_DEFAULT_EPOCH_MS);
    assert_int_equal(sf_pending_events(used), 0);
    assert_false(sf_next_event_time(used, NULL));
    assert_string_equal(sf_fake_account_sid(used), sf_fake_account_sid(fresh));
    assert_string_equal(sf_fake_auth_token(used), sf_fake_auth_token(fresh));
    assert_string_equal(sf_fake_options(used)->account_sid, sf_fake_account_sid(used));
    assert_status(sf_authenticate(used, ap.sid, "x", NULL, NULL), SF_ERR_AUTHENTICATE);
    assert_status(sf_authenticate(used, kp.sid, "y", NULL, NULL), SF_ERR_AUTHENTICATE);
    sf_service_page *page = NULL;
    assert_status(sf_service_list(used, NULL, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_service_page_free(used, page);

    tx_scenario(used, &again);
    tx_scenario(fresh, &ref);
    assert_same_transcript(&again, &ref);
    assert_same_transcript(&first, &ref);

    /* and a second reset does it again */
    assert_status(sf_fake_reset(used, NULL), SF_OK);
    tx_free(&again);
    tx_scenario(used, &again);
    assert_same_transcript(&again, &ref);

    tx_free(&first);
    tx_free(&again);
    tx_free(&ref);
    sf_fake_free(used);
    sf_fake_free(fresh);
}

static void reset_keeps_the_options(void **state)
{
    (void)state;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 99;
    opts.manual_start_ms = 1000;
    opts.account_sid = "ACabcdefabcdefabcdefabcdefabcdefab";
    opts.auth_token = "tok";
    opts.base_url = "http://127.0.0.1:1234";
    opts.limits.page_size_default = 2;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    assert_status(sf_clock_advance(fake, 5000, NULL), SF_OK);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    const sf_options *o = sf_fake_options(fake);
    assert_int_equal(o->seed, 99);
    assert_int_equal(o->manual_start_ms, 1000);
    assert_string_equal(o->account_sid, "ACabcdefabcdefabcdefabcdefabcdefab");
    assert_string_equal(o->auth_token, "tok");
    assert_string_equal(o->base_url, "http://127.0.0.1:1234");
    assert_int_equal(o->limits.page_size_default, 2);
    assert_int_equal(sf_clock_now(fake), 1000);
    assert_string_equal(sf_fake_account_sid(fake), "ACabcdefabcdefabcdefabcdefabcdefab");
    assert_status(sf_authenticate(fake, "ACabcdefabcdefabcdefabcdefabcdefab", "tok", NULL, NULL),
                  SF_OK);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_int_equal(svc.date_created_ms, 1000);
    assert_string_equal(svc.account_sid, "ACabcdefabcdefabcdefabcdefabcdefab");
    sf_fake_free(fake);

    sf_error err;
    assert_status(sf_fake_reset(NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(err.http_status, 400);
}

static void reset_releases_everything_the_fake_held(void **state)
{
    (void)state;
    sf_test_alloc counts = {0};
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    opts.allocator = sf_test_allocator(&counts);
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    long baseline = counts.live;
    transcript t = {0};
    tx_scenario(fake, &t);
    tx_free(&t);
    assert_true(counts.live > baseline);
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    /* what a fresh fake holds, plus at most scratch kept for reuse */
    assert_true(counts.live <= baseline + 4);
    sf_fake_free(fake);
    assert_int_equal(counts.live, 0);
    assert_true(counts.calls > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_seed_and_calls_give_byte_identical_answers),
        cmocka_unit_test(records_are_fully_initialised_so_memcmp_is_meaningful),
        cmocka_unit_test(another_seed_gives_other_sids_of_every_kind),
        cmocka_unit_test(many_seeds_give_pairwise_different_sids),
        cmocka_unit_test(reset_repeats_a_new_fake_byte_for_byte),
        cmocka_unit_test(reset_keeps_the_options),
        cmocka_unit_test(reset_releases_everything_the_fake_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
