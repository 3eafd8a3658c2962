/* SPDX-License-Identifier: MIT */
/* bad_args.c: see bad_args.h. */
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

/* Fakes and buffers a test holds outside the fixture; the teardown releases what a failed
 * assertion left behind. */
static sf_fake *held_fakes[HELD_MAX];
static void *held_blocks[HELD_MAX];

static void hold_in(void **list, void *from, void *to)
{
    for (int i = 0; i < HELD_MAX; i++)
        if (list[i] == from) {
            list[i] = to;
            return;
        }
    fail_msg("too many held objects");
}

sf_fake *held_fake(sf_fake *fake)
{
    hold_in((void **)held_fakes, NULL, fake);
    return fake;
}

void fake_release(sf_fake *fake)
{
    hold_in((void **)held_fakes, fake, NULL);
    sf_fake_free(fake);
}

/* A buffer of `len` copies of `c`, NUL-terminated. */
char *filled(size_t len, char c)
{
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, c, len);
    s[len] = '\0';
    hold_in(held_blocks, NULL, s);
    return s;
}

void block_release(void *p)
{
    hold_in(held_blocks, p, NULL);
    free(p);
}

void release_held(void)
{
    for (int i = 0; i < HELD_MAX; i++) {
        if (held_fakes[i])
            sf_fake_free(held_fakes[i]);
        free(held_blocks[i]);
        held_fakes[i] = NULL;
        held_blocks[i] = NULL;
    }
}

/* A fake like the fixture's (same seed, same first service), on the C library's allocator. */
sf_fake *twin_new(const char *service_sid)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = SF_TEST_SEED;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&opts, &fake, NULL), SF_OK);
    held_fake(fake);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_string_equal(svc.sid, service_sid);
    return fake;
}

/* err holds `status` with its Twilio (http, code) body. */
void assert_error(const sf_error *err, sf_status status, int http, int code)
{
    assert_status(err->status, status);
    sf_assert_twilio_error(err, http, code);
    assert_non_null(memchr(err->message, '\0', sizeof err->message));
}

void assert_invalid_argument(const sf_error *err, const char *detail)
{
    assert_error(err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    char want[256];
    snprintf(want, sizeof want, "Invalid parameter: %s", detail);
    assert_string_equal(err->message, want);
}

void fingerprint_take(sf_fake *fake, const char *service_sid, fingerprint *fp)
{
    memset(fp, 0, sizeof *fp);
    fp->now = sf_clock_now(fake);
    fp->pending = sf_pending_events(fake);
    sf_page_params all = {.has_page_size = true, .page_size = 100};
    sf_service_page *spage = NULL;
    assert_status(sf_service_list(fake, NULL, &all, &spage, NULL), SF_OK);
    fp->nservices = spage->info.count;
    sf_service_page_free(fake, spage);
    assert_status(sf_service_fetch(fake, NULL, service_sid, &fp->service, NULL), SF_OK);
    sf_stream_page *page = NULL;
    assert_status(sf_stream_list(fake, NULL, service_sid, &all, &page, NULL), SF_OK);
    assert_true(page->info.count <= 8);
    fp->nstreams = page->info.count;
    memcpy(fp->streams, page->records, page->info.count * sizeof *page->records);
    sf_stream_page_free(fake, page);
    for (size_t i = 0; i < fp->nstreams; i++)
        assert_status(
            sf_stream_rate_state(fake, NULL, service_sid, fp->streams[i].sid, &fp->rates[i], NULL),
            SF_OK);
}

void fingerprint_assert_same(sf_fake *fake, const char *service_sid, const fingerprint *want)
{
    static fingerprint got;
    fingerprint_take(fake, service_sid, &got);
    assert_int_equal(got.now, want->now);
    assert_int_equal(got.pending, want->pending);
    assert_int_equal(got.nservices, want->nservices);
    assert_memory_equal(&got.service, &want->service, sizeof want->service);
    assert_int_equal(got.nstreams, want->nstreams);
    for (size_t i = 0; i < want->nstreams; i++) {
        assert_memory_equal(&got.streams[i], &want->streams[i], sizeof want->streams[i]);
        assert_int_equal(got.rates[i].tokens, want->rates[i].tokens);
        assert_int_equal(got.rates[i].next_allowed_ms, want->rates[i].next_allowed_ms);
    }
}

/* Mints one SID of every kind (and a secret) on both fakes: they must agree. */
void assert_same_next_sids(sf_fake *fake, sf_fake *twin, const char *service_sid)
{
    sf_stream_record s1, s2;
    assert_status(sf_stream_create(fake, NULL, service_sid, NULL, &s1, NULL), SF_OK);
    assert_status(sf_stream_create(twin, NULL, service_sid, NULL, &s2, NULL), SF_OK);
    assert_memory_equal(&s1, &s2, sizeof s1);
    sf_service_record v1, v2;
    assert_status(sf_service_create(fake, NULL, NULL, &v1, NULL), SF_OK);
    assert_status(sf_service_create(twin, NULL, NULL, &v2, NULL), SF_OK);
    assert_memory_equal(&v1, &v2, sizeof v1);
    sf_account_record a1, a2;
    assert_status(sf_account_create(fake, NULL, &a1, NULL), SF_OK);
    assert_status(sf_account_create(twin, NULL, &a2, NULL), SF_OK);
    assert_memory_equal(&a1, &a2, sizeof a1);
    sf_api_key_record k1, k2;
    assert_status(sf_api_key_create(fake, NULL, NULL, &k1, NULL), SF_OK);
    assert_status(sf_api_key_create(twin, NULL, NULL, &k2, NULL), SF_OK);
    assert_memory_equal(&k1, &k2, sizeof k1);
    sf_publish_params pub = {.data = "{}", .data_len = 2};
    sf_message_record m1, m2;
    assert_status(sf_stream_publish(fake, NULL, service_sid, s1.sid, &pub, &m1, NULL), SF_OK);
    assert_status(sf_stream_publish(twin, NULL, service_sid, s2.sid, &pub, &m2, NULL), SF_OK);
    assert_string_equal(m1.sid, m2.sid);
}

const sf_publish_params ok_data = {.data = "{\"k\":1}", .data_len = 7};

int bad_args_teardown(void **state)
{
    release_held();
    return sf_fixture_teardown(state);
}

int bad_args_teardown_held(void **state)
{
    (void)state;
    release_held();
    return 0;
}
