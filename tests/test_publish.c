/* SPDX-License-Identifier: MIT */
/* test_publish.c: publishing messages: addressing, data checks, compact echo, rate limit. */
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

#define NOW0 SF_DEFAULT_EPOCH_MS

static sf_status pub_len(sf_fixture *fx, const char *id, const char *data, size_t len,
                         sf_message_record *m, sf_error *err)
{
    sf_publish_params p = {.data = data, .data_len = len};
    return sf_stream_publish(fx->fake, NULL, fx->service_sid, id, &p, m, err);
}

static sf_status pub(sf_fixture *fx, const char *id, const char *data, sf_message_record *m,
                     sf_error *err)
{
    return pub_len(fx, id, data, data ? strlen(data) : 0, m, err);
}

static sf_rate_state rate(sf_fixture *fx, const char *id)
{
    sf_rate_state rs;
    sf_error err;
    memset(&rs, 0xab, sizeof rs);
    if (sf_stream_rate_state(fx->fake, NULL, fx->service_sid, id, &rs, &err) != SF_OK)
        fail_msg("rate state failed: %s", err.message);
    return rs;
}

/* Publishes `n` small messages that must all be accepted. */
static void publish_ok(sf_fixture *fx, const char *id, int n)
{
    for (int i = 0; i < n; i++) {
        sf_message_record m;
        sf_error err;
        sf_status st = pub(fx, id, "{\"n\":1}", &m, &err);
        if (st != SF_OK)
            fail_msg("publish #%d of %d refused: %d %s", i + 1, n, err.code, err.message);
    }
}

/* A valid JSON object of exactly `size` bytes (size >= 8): {"d":"xxx...x"} */
static char *object_of_size(size_t size)
{
    char *s = malloc(size + 1);
    assert_non_null(s);
    memcpy(s, "{\"d\":\"", 6);
    memset(s + 6, 'x', size - 8);
    memcpy(s + size - 2, "\"}", 2);
    s[size] = '\0';
    return s;
}

static sf_fixture *fixture_with_limits(void **st, uint32_t rate_per_s, uint32_t burst,
                                       size_t max_data)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = SF_TEST_SEED;
    o.limits.publish_rate_per_s = rate_per_s;
    o.limits.publish_burst = burst;
    o.limits.max_data_bytes = max_data;
    assert_int_equal(sf_fixture_setup_with(st, &o), 0);
    return *st;
}

/* ------------------------------------------------------------------------------------- */
/* addressing and the response                                                            */
/* ------------------------------------------------------------------------------------- */

static void test_publish_by_sid_and_by_name(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "room/1 two", -1, &s);
    sf_message_record a, b;
    sf_error err;
    assert_status(pub(fx, s.sid, "{\"by\":\"sid\"}", &a, &err), SF_OK);
    assert_status(err.status, SF_OK);
    assert_int_equal(err.http_status, 200);
    sf_test_assert_sid_shape(a.sid, "TZ");
    assert_string_equal(a.data, "{\"by\":\"sid\"}");
    assert_int_equal(a.data_len, strlen("{\"by\":\"sid\"}"));

    assert_status(pub(fx, "room/1 two", "{\"by\":\"name\"}", &b, &err), SF_OK);
    sf_test_assert_sid_shape(b.sid, "TZ");
    assert_string_not_equal(a.sid, b.sid);
    assert_string_equal(b.data, "{\"by\":\"name\"}");
    /* both took a token from the same stream */
    assert_int_equal(rate(fx, s.sid).tokens, 298);
}

static void test_message_sids_are_distinct_tz_sids(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "m", -1, &s);
    enum { N = 50 };
    char sids[N][SF_SID_SIZE];
    for (int i = 0; i < N; i++) {
        sf_message_record m;
        sf_error err;
        assert_status(pub(fx, "m", "{}", &m, &err), SF_OK);
        sf_test_assert_sid_shape(m.sid, "TZ");
        memcpy(sids[i], m.sid, SF_SID_SIZE);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(sids[i], sids[j]);
    }
}

static void test_same_seed_gives_same_message_sids(void **state)
{
    sf_fixture *fx = fx_of(state);
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup(&st2), 0);
    sf_fixture *fx2 = st2;
    sf_stream_record s1, s2;
    sf_fixture_stream(fx, "x", -1, &s1);
    sf_fixture_stream(fx2, "x", -1, &s2);
    for (int i = 0; i < 5; i++) {
        sf_message_record a, b;
        sf_error err;
        assert_status(pub(fx, "x", "{}", &a, &err), SF_OK);
        assert_status(pub(fx2, "x", "{}", &b, &err), SF_OK);
        assert_string_equal(a.sid, b.sid);
    }
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

static void test_publish_echoes_compact_data_with_key_order_and_strings_untouched(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "c", -1, &s);
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"{ \"z\" : 1 , \"a\" : 2 }", "{\"z\":1,\"a\":2}"},
        {"\n\t{\r\n  \"text\": \"hello  world \\t \\\" \\u00e9 \\/\"\n}\n  ",
         "{\"text\":\"hello  world \\t \\\" \\u00e9 \\/\"}"},
        {"{\"a b\" : [ 1 , { \"c\" : null } , true , false , -0.5e+3 ] , \"d\" : { } }",
         "{\"a b\":[1,{\"c\":null},true,false,-0.5e+3],\"d\":{}}"},
        {"{\"caf\xc3\xa9\" : \"\xe6\x97\xa5 \xf0\x9f\x98\x80\"}",
         "{\"caf\xc3\xa9\":\"\xe6\x97\xa5 \xf0\x9f\x98\x80\"}"},
        {"{}", "{}"},
        {"  { }  ", "{}"},
        {"{\"b\":1,\"b\":2}", "{\"b\":1,\"b\":2}"}, /* duplicates are kept as sent */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sf_message_record m;
        sf_error err;
        sf_status st = pub(fx, "c", cases[i].in, &m, &err);
        if (st != SF_OK)
            fail_msg("case %zu refused: %d %s", i, err.code, err.message);
        assert_string_equal(m.data, cases[i].out);
        assert_int_equal(m.data_len, strlen(cases[i].out));
    }
}

static void test_publish_reads_only_data_len_bytes(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "len", -1, &s);
    /* the buffer is not NUL-terminated after the object */
    char buf[16];
    memcpy(buf, "{\"k\": 7}GARBAGE!", 16);
    sf_message_record m;
    sf_error err;
    assert_status(pub_len(fx, "len", buf, 8, &m, &err), SF_OK);
    assert_string_equal(m.data, "{\"k\":7}");
    assert_int_equal(m.data_len, 7);
    /* the whole buffer is not an object */
    sf_status st = pub_len(fx, "len", buf, 16, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_INVALID, 400, 54008, "Invalid JSON");
}

static void test_publish_with_null_out_still_publishes_and_spends_a_sid(void **state)
{
    sf_fixture *fx = fx_of(state);
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup(&st2), 0);
    sf_fixture *fx2 = st2;
    sf_stream_record s1, s2;
    sf_fixture_stream(fx, "q", -1, &s1);
    sf_fixture_stream(fx2, "q", -1, &s2);
    sf_publish_params p = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "q", &p, NULL, NULL), SF_OK);
    assert_int_equal(rate(fx, "q").tokens, 299);
    sf_message_record a, b1, b2;
    sf_error err;
    assert_status(pub(fx, "q", "{}", &a, &err), SF_OK);
    assert_status(pub(fx2, "q", "{}", &b1, &err), SF_OK);
    assert_status(pub(fx2, "q", "{}", &b2, &err), SF_OK);
    assert_string_equal(a.sid, b2.sid);
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

/* ------------------------------------------------------------------------------------- */
/* data checks                                                                            */
/* ------------------------------------------------------------------------------------- */

static void test_data_of_4096_bytes_is_accepted(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "big", -1, &s);
    char *data = object_of_size(4096);
    assert_int_equal(strlen(data), 4096);
    sf_message_record m;
    sf_error err;
    assert_status(pub(fx, "big", data, &m, &err), SF_OK);
    assert_int_equal(m.data_len, 4096);
    assert_string_equal(m.data, data);
    free(data);
}

static void test_data_of_4096_bytes_with_whitespace_is_accepted_and_compacted(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "ws", -1, &s);
    /* {"a":1} padded with spaces to 4096 bytes */
    char *data = malloc(4097);
    assert_non_null(data);
    memset(data, ' ', 4096);
    data[4096] = '\0';
    memcpy(data + 2000, "{\"a\" :1}", 8);
    sf_message_record m;
    sf_error err;
    assert_status(pub(fx, "ws", data, &m, &err), SF_OK);
    assert_string_equal(m.data, "{\"a\":1}");
    assert_int_equal(m.data_len, 7);
    free(data);
}

static void test_data_of_4097_bytes_is_413_54006(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "big", -1, &s);
    char *data = object_of_size(4097);
    sf_message_record m;
    sf_error err;
    sf_status st = pub(fx, "big", data, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_TOO_LARGE, 413, 54006, "Request entity too large");
    /* size is checked before JSON: oversize garbage is 413 too */
    memset(data, '!', 4097);
    st = pub_len(fx, "big", data, 4097, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_TOO_LARGE, 413, 54006, NULL);
    free(data);
    assert_int_equal(rate(fx, "big").tokens, 300);
}

static void test_size_is_counted_in_bytes_as_sent(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "utf8", -1, &s);
    /* {"d":"éé...é"}: 8 bytes of frame + 2044 two-byte characters = 4096 bytes */
    char *data = malloc(4097);
    assert_non_null(data);
    memcpy(data, "{\"d\":\"", 6);
    for (int i = 0; i < 2044; i++)
        memcpy(data + 6 + 2 * i, "\xc3\xa9", 2);
    memcpy(data + 4094, "\"}", 3);
    assert_int_equal(strlen(data), 4096);
    sf_message_record m;
    sf_error err;
    assert_status(pub(fx, "utf8", data, &m, &err), SF_OK);
    free(data);
    /* 2045 characters but 4098 bytes: too large */
    data = malloc(4099);
    assert_non_null(data);
    memcpy(data, "{\"d\":\"", 6);
    for (int i = 0; i < 2045; i++)
        memcpy(data + 6 + 2 * i, "\xc3\xa9", 2);
    memcpy(data + 4096, "\"}", 3);
    sf_status st = pub(fx, "utf8", data, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_TOO_LARGE, 413, 54006, NULL);
    free(data);
}

static void test_null_data_is_400_54251(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "n", -1, &s);
    sf_message_record m;
    sf_error err;
    sf_status st = pub_len(fx, "n", NULL, 0, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_MISSING, 400, 54251,
                         "Invalid Message Stream Message data");
    /* missing wins over size */
    st = pub_len(fx, "n", NULL, 100000, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_MISSING, 400, 54251, NULL);
    /* no params at all is missing data too */
    st = sf_stream_publish(fx->fake, NULL, fx->service_sid, "n", NULL, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_MISSING, 400, 54251, NULL);
    assert_int_equal(rate(fx, "n").tokens, 300);
}

static void test_invalid_json_is_400_54008(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "j", -1, &s);
    const char *bad[] = {
        "",
        "   ",
        "{",
        "}",
        "{\"a\":1,}",
        "{'a':1}",
        "{\"a\" 1}",
        "{\"a\":01}",
        "{\"a\":NaN}",
        "{\"a\":\"\x01\"}",
        "{}{}",
        "{\"a\":1} x",
        "{\"a\":tru}",
        "{a:1}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\xc0\x80\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_message_record m;
        sf_error err;
        sf_status st = pub(fx, "j", bad[i], &m, &err);
        if (st != SF_ERR_DATA_INVALID)
            fail_msg("case %zu (%s): got %d", i, bad[i], (int)st);
        sf_assert_twilio_error(&err, 400, 54008);
        assert_string_equal(err.message, "Invalid JSON");
    }
    assert_int_equal(rate(fx, "j").tokens, 300);
}

static void test_top_level_non_object_is_400_54008(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "t", -1, &s);
    const char *bad[] = {"[]",   "[1,2]", "\"str\"", "42",        "-1.5",
                         "true", "null",  "false",   " [ { } ] ", "[{\"a\":1}]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_message_record m;
        sf_error err;
        sf_status st = pub(fx, "t", bad[i], &m, &err);
        if (st != SF_ERR_DATA_INVALID)
            fail_msg("case %zu (%s): got %d", i, bad[i], (int)st);
        sf_assert_twilio_error(&err, 400, 54008);
    }
}

static void test_checks_run_in_documented_order(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "order", -1, &s);
    sf_message_record m;
    sf_error err;
    char msg[SF_ERROR_MESSAGE_SIZE];
    /* 404 before missing data */
    sf_status st = pub_len(fx, "ghost", NULL, 0, &m, &err);
    snprintf(msg, sizeof msg,
             "The requested resource /Services/%s/Streams/ghost/Messages was not found",
             fx->service_sid);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, msg);
    /* size before JSON validity was checked above; JSON before rate limit: */
    publish_ok(fx, "order", 300);
    st = pub(fx, "order", "{nope", &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_INVALID, 400, 54008, NULL);
    st = pub_len(fx, "order", NULL, 0, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_MISSING, 400, 54251, NULL);
    char *big = object_of_size(5000);
    st = pub(fx, "order", big, &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_DATA_TOO_LARGE, 413, 54006, NULL);
    free(big);
    st = pub(fx, "order", "{}", &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_RATE_LIMITED, 429, 54009, "Rate limit exceeded");
}

static void test_publish_to_unknown_service_or_stream_is_404(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_message_record m;
    sf_error err;
    char missing[SF_SID_SIZE] = "IS0123456789abcdef0123456789abcdef";
    sf_publish_params p = {.data = "{}", .data_len = 2};
    sf_status st = sf_stream_publish(fx->fake, NULL, missing, "s", &p, &m, &err);
    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg,
             "The requested resource /Services/%s/Streams/s/Messages was not found", missing);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, msg);
    const char *sid = "TO0123456789abcdef0123456789abcdef";
    st = pub(fx, sid, "{}", &m, &err);
    snprintf(msg, sizeof msg,
             "The requested resource /Services/%s/Streams/%s/Messages was not found",
             fx->service_sid, sid);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, msg);
}

static void test_publish_argument_checks(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_publish_params p = {.data = "{}", .data_len = 2};
    sf_message_record m;
    sf_error err;
    assert_status(sf_stream_publish(NULL, NULL, fx->service_sid, "x", &p, &m, &err),
                  SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, NULL, &p, &m, &err),
                  SF_ERR_INVALID_ARGUMENT);
    sf_assert_twilio_error(&err, 400, 20001);
    assert_status(sf_stream_publish(fx->fake, NULL, NULL, "x", &p, &m, &err),
                  SF_ERR_INVALID_ARGUMENT);
    /* errors without an err to fill still return the status */
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "x", &p, &m, NULL),
                  SF_ERR_NOT_FOUND);
}

static void test_rejected_publishes_take_no_token_and_spend_no_sid(void **state)
{
    sf_fixture *fx = fx_of(state);
    void *st2 = NULL;
    assert_int_equal(sf_fixture_setup(&st2), 0);
    sf_fixture *fx2 = st2;
    sf_stream_record s1, s2;
    sf_fixture_stream(fx, "r", -1, &s1);
    sf_fixture_stream(fx2, "r", -1, &s2);
    sf_message_record a, b;
    sf_error err;
    assert_status(pub(fx, "r", "{\"i\":0}", &a, &err), SF_OK);
    assert_status(pub(fx2, "r", "{\"i\":0}", &b, &err), SF_OK);
    assert_string_equal(a.sid, b.sid);

    /* every kind of rejection, on fx only */
    char *big = object_of_size(4097);
    assert_status(pub_len(fx, "r", NULL, 0, &a, &err), SF_ERR_DATA_MISSING);
    assert_status(pub(fx, "r", big, &a, &err), SF_ERR_DATA_TOO_LARGE);
    assert_status(pub(fx, "r", "{bad}", &a, &err), SF_ERR_DATA_INVALID);
    assert_status(pub(fx, "r", "[1]", &a, &err), SF_ERR_DATA_INVALID);
    assert_status(pub(fx, "nope", "{}", &a, &err), SF_ERR_NOT_FOUND);
    free(big);
    assert_int_equal(rate(fx, "r").tokens, 299);

    assert_status(pub(fx, "r", "{\"i\":1}", &a, &err), SF_OK);
    assert_status(pub(fx2, "r", "{\"i\":1}", &b, &err), SF_OK);
    assert_string_equal(a.sid, b.sid);

    /* rate-limited rejections as well */
    publish_ok(fx, "r", 298);
    publish_ok(fx2, "r", 298);
    for (int i = 0; i < 5; i++)
        assert_status(pub(fx, "r", "{}", &a, &err), SF_ERR_RATE_LIMITED);
    assert_int_equal(rate(fx, "r").tokens, 0);
    assert_status(sf_clock_advance(fx->fake, 34, NULL), SF_OK);
    assert_status(sf_clock_advance(fx2->fake, 34, NULL), SF_OK);
    assert_status(pub(fx, "r", "{}", &a, &err), SF_OK);
    assert_status(pub(fx2, "r", "{}", &b, &err), SF_OK);
    assert_string_equal(a.sid, b.sid);
    sf_rate_state r1 = rate(fx, "r"), r2 = rate(fx2, "r");
    assert_int_equal(r1.tokens, r2.tokens);
    assert_int_equal(r1.next_allowed_ms, r2.next_allowed_ms);
    assert_int_equal(sf_fixture_teardown(&st2), 0);
}

/* ------------------------------------------------------------------------------------- */
/* rate limit                                                                             */
/* ------------------------------------------------------------------------------------- */

static void test_burst_of_300_at_one_instant_then_429(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "burst", -1, &s);
    publish_ok(fx, "burst", 300);
    sf_message_record m;
    sf_error err;
    sf_status st = pub(fx, "burst", "{}", &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_RATE_LIMITED, 429, 54009, "Rate limit exceeded");
    assert_int_equal(sf_clock_now(fx->fake), NOW0);
}

static void test_refill_needs_34_ms_for_one_token(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "refill", -1, &s);
    publish_ok(fx, "refill", 300);
    sf_message_record m;
    sf_error err;
    assert_status(sf_clock_advance(fx->fake, 33, NULL), SF_OK);
    sf_status st = pub(fx, "refill", "{}", &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_RATE_LIMITED, 429, 54009, "Rate limit exceeded");
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK); /* 34 ms after the burst */
    assert_status(pub(fx, "refill", "{}", &m, &err), SF_OK);
    st = pub(fx, "refill", "{}", &m, &err);
    sf_test_expect_error(st, &err, SF_ERR_RATE_LIMITED, 429, 54009, NULL);
}

/* A full bucket of 300 on stream "rs" (stream_sid), drained by 100 then 200 publishes: no
 * tokens left and the same next-allowed time, seen from later too; returns that time. */
static sf_ms drain_bucket_and_check_next_allowed(sf_fixture *fx, const char *stream_sid)
{
    sf_rate_state r = rate(fx, "rs");
    assert_int_equal(r.tokens, 300);
    assert_int_equal(r.capacity, 300);
    assert_true(r.limited);
    assert_int_equal(r.next_allowed_ms, NOW0);

    publish_ok(fx, "rs", 100);
    r = rate(fx, stream_sid);
    assert_int_equal(r.tokens, 200);
    assert_int_equal(r.next_allowed_ms, NOW0);

    publish_ok(fx, "rs", 200);
    r = rate(fx, "rs");
    assert_int_equal(r.tokens, 0);
    assert_int_equal(r.capacity, 300);
    assert_int_equal(r.next_allowed_ms, NOW0 + 34);

    /* partway: the same target time, seen from later */
    assert_status(sf_clock_advance(fx->fake, 20, NULL), SF_OK);
    r = rate(fx, "rs");
    assert_int_equal(r.tokens, 0);
    assert_int_equal(r.next_allowed_ms, NOW0 + 34);
    assert_status(sf_clock_advance(fx->fake, 13, NULL), SF_OK);
    r = rate(fx, "rs");
    assert_int_equal(r.tokens, 0);
    assert_int_equal(r.next_allowed_ms, NOW0 + 34);
    return r.next_allowed_ms;
}

/* At next_allowed_ms a publish is indeed allowed, and one ms before the next one it is not. */
static void check_publish_allowed_at_next_allowed(sf_fixture *fx, sf_ms next_allowed_ms)
{
    /* at next_allowed_ms a publish is indeed allowed */
    assert_status(sf_clock_set(fx->fake, next_allowed_ms, NULL), SF_OK);
    sf_rate_state r = rate(fx, "rs");
    assert_int_equal(r.tokens, 1);
    assert_int_equal(r.next_allowed_ms, NOW0 + 34);
    publish_ok(fx, "rs", 1);
    r = rate(fx, "rs");
    assert_int_equal(r.tokens, 0);
    /* 20 milli-tokens left: 980 more at 30 per ms -> 33 ms */
    assert_int_equal(r.next_allowed_ms, NOW0 + 34 + 33);
    assert_status(sf_clock_set(fx->fake, r.next_allowed_ms - 1, NULL), SF_OK);
    sf_message_record m;
    sf_error err;
    assert_status(pub(fx, "rs", "{}", &m, &err), SF_ERR_RATE_LIMITED);
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    assert_status(pub(fx, "rs", "{}", &m, &err), SF_OK);
}

/* Refill: 30 tokens a second, the whole bucket in ten, never more than it holds. */
static void check_refill_and_cap(sf_fixture *fx)
{
    sf_message_record m;
    sf_error err;
    sf_rate_state r;
    /* one second of refill is 30 tokens */
    assert_status(sf_clock_advance(fx->fake, 1000, NULL), SF_OK);
    r = rate(fx, "rs");
    assert_int_equal(r.tokens, 30);
    assert_int_equal(r.next_allowed_ms, sf_clock_now(fx->fake));

    /* ten seconds refill the whole bucket, and it never overflows */
    assert_status(sf_clock_advance(fx->fake, 10000, NULL), SF_OK);
    assert_int_equal(rate(fx, "rs").tokens, 300);
    assert_status(sf_clock_advance(fx->fake, INT64_C(86400000) * 365, NULL), SF_OK);
    assert_int_equal(rate(fx, "rs").tokens, 300);
    publish_ok(fx, "rs", 300);
    assert_status(pub(fx, "rs", "{}", &m, &err), SF_ERR_RATE_LIMITED);
}

static void test_rate_state_reports_tokens_and_next_allowed_consistently(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "rs", -1, &s);
    sf_ms next_allowed_ms = drain_bucket_and_check_next_allowed(fx, s.sid);
    check_publish_allowed_at_next_allowed(fx, next_allowed_ms);
    check_refill_and_cap(fx);
}

static void test_rate_state_of_unknown_stream_is_404(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_rate_state rs;
    sf_error err;
    sf_status st = sf_stream_rate_state(fx->fake, NULL, fx->service_sid, "none", &rs, &err);
    char msg[SF_ERROR_MESSAGE_SIZE];
    snprintf(msg, sizeof msg, "The requested resource /Services/%s/Streams/none was not found",
             fx->service_sid);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, msg);
}

static void test_stream_stats_count_accepted_messages_and_mirror_rate_state(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record s;
    sf_fixture_stream(fx, "stats", -1, &s);
    sf_stream_stats ss;
    sf_error err;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "stats", &ss, &err), SF_OK);
    assert_int_equal(ss.messages_published, 0);
    assert_int_equal(ss.subscribers, 0);
    assert_int_equal(ss.rate.tokens, 300);
    publish_ok(fx, "stats", 300);
    sf_message_record m;
    assert_status(pub(fx, "stats", "{}", &m, &err), SF_ERR_RATE_LIMITED);
    assert_status(pub(fx, "stats", "{x}", &m, &err), SF_ERR_DATA_INVALID);
    assert_status(sf_clock_advance(fx->fake, 10, NULL), SF_OK);
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, s.sid, &ss, &err), SF_OK);
    assert_int_equal(ss.messages_published, 300);
    sf_rate_state r = rate(fx, "stats");
    assert_int_equal(ss.rate.tokens, r.tokens);
    assert_int_equal(ss.rate.capacity, r.capacity);
    assert_int_equal(ss.rate.limited, r.limited);
    assert_int_equal(ss.rate.next_allowed_ms, r.next_allowed_ms);
    assert_int_equal(ss.rate.next_allowed_ms, NOW0 + 34);

    sf_status st = sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "none", &ss, &err);
    sf_test_expect_error(st, &err, SF_ERR_NOT_FOUND, 404, 20404, NULL);
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "stats", NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_stats_get(NULL, NULL, fx->service_sid, "stats", &ss, &err),
                  SF_ERR_INVALID_ARGUMENT);
}

static void test_rate_limit_is_per_stream(void **state)
{
    sf_fixture *fx = fx_of(state);
    sf_stream_record a, b;
    sf_fixture_stream(fx, "a", -1, &a);
    sf_fixture_stream(fx, "b", -1, &b);
    publish_ok(fx, "a", 300);
    sf_message_record m;
    sf_error err;
    assert_status(pub(fx, "a", "{}", &m, &err), SF_ERR_RATE_LIMITED);
    assert_int_equal(rate(fx, "b").tokens, 300);
    publish_ok(fx, "b", 300);
    assert_status(pub(fx, "b", "{}", &m, &err), SF_ERR_RATE_LIMITED);
}

static void test_stream_created_later_starts_with_full_bucket(void **state)
{
    sf_fixture *fx = fx_of(state);
    assert_status(sf_clock_advance(fx->fake, 123456, NULL), SF_OK);
    sf_stream_record s;
    sf_fixture_stream(fx, "late", -1, &s);
    sf_rate_state r = rate(fx, "late");
    assert_int_equal(r.tokens, 300);
    assert_int_equal(r.next_allowed_ms, NOW0 + 123456);
    publish_ok(fx, "late", 300);
    r = rate(fx, "late");
    assert_int_equal(r.next_allowed_ms, NOW0 + 123456 + 34);
}

static void test_rate_limit_lifted_allows_thousands(void **state)
{
    (void)state;
    void *st = NULL;
    sf_fixture *fx = fixture_with_limits(&st, 0, 300, 4096);
    sf_stream_record s;
    sf_fixture_stream(fx, "free", -1, &s);
    publish_ok(fx, "free", 5000);
    sf_rate_state r = rate(fx, "free");
    assert_false(r.limited);
    assert_int_equal(r.capacity, 300);
    assert_int_equal(r.tokens, 300);
    assert_int_equal(r.next_allowed_ms, NOW0);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_custom_burst_5_rate_1(void **state)
{
    (void)state;
    void *st = NULL;
    sf_fixture *fx = fixture_with_limits(&st, 1, 5, 4096);
    sf_stream_record s;
    sf_fixture_stream(fx, "slow", -1, &s);
    sf_rate_state r = rate(fx, "slow");
    assert_int_equal(r.tokens, 5);
    assert_int_equal(r.capacity, 5);
    assert_true(r.limited);
    publish_ok(fx, "slow", 5);
    sf_message_record m;
    sf_error err;
    sf_status stt = pub(fx, "slow", "{}", &m, &err);
    sf_test_expect_error(stt, &err, SF_ERR_RATE_LIMITED, 429, 54009, "Rate limit exceeded");
    r = rate(fx, "slow");
    assert_int_equal(r.tokens, 0);
    assert_int_equal(r.next_allowed_ms, NOW0 + 1000);
    assert_status(sf_clock_advance(fx->fake, 999, NULL), SF_OK);
    assert_status(pub(fx, "slow", "{}", &m, &err), SF_ERR_RATE_LIMITED);
    assert_status(sf_clock_advance(fx->fake, 1, NULL), SF_OK);
    assert_status(pub(fx, "slow", "{}", &m, &err), SF_OK);
    assert_status(pub(fx, "slow", "{}", &m, &err), SF_ERR_RATE_LIMITED);
    /* 5 s refill the bucket of 5, not more */
    assert_status(sf_clock_advance(fx->fake, 60000, NULL), SF_OK);
    assert_int_equal(rate(fx, "slow").tokens, 5);
    publish_ok(fx, "slow", 5);
    assert_status(pub(fx, "slow", "{}", &m, &err), SF_ERR_RATE_LIMITED);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_custom_max_data_bytes(void **state)
{
    (void)state;
    void *st = NULL;
    sf_fixture *fx = fixture_with_limits(&st, 30, 300, 16);
    sf_stream_record s;
    sf_fixture_stream(fx, "tiny", -1, &s);
    char *ok = object_of_size(16), *over = object_of_size(17);
    sf_message_record m;
    sf_error err;
    assert_status(pub(fx, "tiny", ok, &m, &err), SF_OK);
    assert_string_equal(m.data, ok);
    sf_status stt = pub(fx, "tiny", over, &m, &err);
    sf_test_expect_error(stt, &err, SF_ERR_DATA_TOO_LARGE, 413, 54006, NULL);
    /* a deep nest that fills the limit exactly */
    assert_status(pub(fx, "tiny", "{\"a\":[[[[[]]]]]}", &m, &err), SF_OK);
    assert_string_equal(m.data, "{\"a\":[[[[[]]]]]}");
    free(ok);
    free(over);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

static void test_large_limit_accepts_token_dense_object(void **state)
{
    (void)state;
    void *st = NULL;
    sf_fixture *fx = fixture_with_limits(&st, 30, 300, 65536);
    sf_stream_record s;
    sf_fixture_stream(fx, "dense", -1, &s);
    /* {"a":[1,1,1,...,1]} at exactly 65536 bytes: as many tokens as the limit allows */
    size_t n = 65536;
    char *data = malloc(n + 1);
    assert_non_null(data);
    memcpy(data, "{\"a\":[", 6);
    size_t pos = 6;
    while (pos + 2 < n - 2) {
        data[pos++] = '1';
        data[pos++] = ',';
    }
    data[pos++] = '1';
    while (pos < n - 2)
        data[pos++] = ' ';
    data[pos++] = ']';
    data[pos++] = '}';
    data[pos] = '\0';
    assert_int_equal(strlen(data), n);
    sf_message_record m;
    sf_error err;
    sf_status stt = pub(fx, "dense", data, &m, &err);
    if (stt != SF_OK)
        fail_msg("dense object refused: %d %s", err.code, err.message);
    assert_memory_equal(m.data, "{\"a\":[1,1,1", 11);
    free(data);
    assert_int_equal(sf_fixture_teardown(&st), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, sf_fixture_setup, sf_fixture_teardown)
#define P(fn) cmocka_unit_test(fn)
    const struct CMUnitTest tests[] = {
        T(test_publish_by_sid_and_by_name),
        T(test_message_sids_are_distinct_tz_sids),
        T(test_same_seed_gives_same_message_sids),
        T(test_publish_echoes_compact_data_with_key_order_and_strings_untouched),
        T(test_publish_reads_only_data_len_bytes),
        T(test_publish_with_null_out_still_publishes_and_spends_a_sid),
        T(test_data_of_4096_bytes_is_accepted),
        T(test_data_of_4096_bytes_with_whitespace_is_accepted_and_compacted),
        T(test_data_of_4097_bytes_is_413_54006),
        T(test_size_is_counted_in_bytes_as_sent),
        T(test_null_data_is_400_54251),
        T(test_invalid_json_is_400_54008),
        T(test_top_level_non_object_is_400_54008),
        T(test_checks_run_in_documented_order),
        T(test_publish_to_unknown_service_or_stream_is_404),
        T(test_publish_argument_checks),
        T(test_rejected_publishes_take_no_token_and_spend_no_sid),
        T(test_burst_of_300_at_one_instant_then_429),
        T(test_refill_needs_34_ms_for_one_token),
        T(test_rate_state_reports_tokens_and_next_allowed_consistently),
        T(test_rate_state_of_unknown_stream_is_404),
        T(test_stream_stats_count_accepted_messages_and_mirror_rate_state),
        T(test_rate_limit_is_per_stream),
        T(test_stream_created_later_starts_with_full_bucket),
        P(test_rate_limit_lifted_allows_thousands),
        P(test_custom_burst_5_rate_1),
        P(test_custom_max_data_bytes),
        P(test_large_limit_accepts_token_dense_object),
    };
#undef T
#undef P
    return cmocka_run_group_tests(tests, NULL, NULL);
}
