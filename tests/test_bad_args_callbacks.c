/* SPDX-License-Identifier: MIT */
/* test_bad_args_callbacks.c: bad arguments to subscribers, fault rules, injections and journal
 * queries, what a callback may not do, and the public header's helpers. */
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
/* Subscribers, fault rules, injections, journal                                             */
/* ---------------------------------------------------------------------------------------- */

static void test_subscribe_rejects_missing_callback_and_unknown_stream(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    sf_error err;
    sf_subscriber_id id = 42;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", NULL, &id, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "on_event callback is required");
    sf_subscribe_params none = {.user = &err};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &none, &id, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "on_event callback is required");
    sf_subscribe_params ok = {.on_event = sf_test_ignore_event};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "ghost", &ok, &id, &err),
                  SF_ERR_NOT_FOUND);
    assert_error(&err, SF_ERR_NOT_FOUND, 404, 20404);
    assert_status(sf_subscribe(fx->fake, NULL, NULL, "s", &ok, &id, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, NULL, &ok, &id, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(id, 42);
    sf_stream_stats stats;
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "s", &stats, NULL), SF_OK);
    assert_int_equal(stats.subscribers, 0);
    /* nothing spent: the first subscriber still gets id 1 */
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &ok, &id, NULL), SF_OK);
    assert_int_equal(id, 1);
    assert_status(sf_stream_stats_get(fx->fake, NULL, fx->service_sid, "s", NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
}

static void test_unknown_subscriber_ids_are_invalid_argument(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    sf_subscribe_params ok = {.on_event = sf_test_ignore_event};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &ok, &id, NULL), SF_OK);
    const sf_subscriber_id unknown[] = {0, id + 1, UINT64_MAX};
    for (size_t i = 0; i < 3; i++) {
        sf_error err;
        sf_subscriber_stats st;
        char detail[64];
        snprintf(detail, sizeof detail, "unknown subscriber %llu", (unsigned long long)unknown[i]);
#define REJECTS_ID(call)                                                                           \
    do {                                                                                           \
        memset(&err, 0, sizeof err);                                                               \
        assert_status(call, SF_ERR_INVALID_ARGUMENT);                                              \
        assert_invalid_argument(&err, detail);                                                     \
    } while (0)
        REJECTS_ID(sf_unsubscribe(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_hold(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_heal(fx->fake, unknown[i], true, &err));
        REJECTS_ID(sf_subscriber_disconnect(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_reconnect(fx->fake, unknown[i], &err));
        REJECTS_ID(sf_subscriber_stats_get(fx->fake, unknown[i], &st, &err));
#undef REJECTS_ID
    }
    sf_error err;
    assert_status(sf_subscriber_stats_get(fx->fake, id, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    /* detaching twice is not an error, and the record stays readable */
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, id, &st, &err), SF_OK);
    assert_false(st.attached);
}

static void test_fault_add_rejects_invalid_rules(void **state)
{
    sf_fixture *fx = *state;
    sf_stream_record rec;
    sf_fixture_stream(fx, "s", -1, &rec);
    sf_subscribe_params ok = {.on_event = sf_test_ignore_event};
    sf_subscriber_id id;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &ok, &id, NULL), SF_OK);
    const sf_fault_params bad[] = {
        {.scope = SF_SCOPE_FAKE, .drop_rate = -0.1},
        {.scope = SF_SCOPE_FAKE, .drop_rate = 1.5},
        {.scope = SF_SCOPE_FAKE, .drop_rate = 0.0 / 0.0},
        {.scope = SF_SCOPE_FAKE, .duplicate_rate = 2.0},
        {.scope = SF_SCOPE_FAKE, .delay_ms = -1},
        {.scope = SF_SCOPE_FAKE, .jitter_ms = -1},
        {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = -1},
        {.scope = SF_SCOPE_FAKE, .delay_ms = (INT64_C(1) << 40) + 1},
        {.scope = SF_SCOPE_FAKE, .jitter_ms = INT64_MAX},
        {.scope = SF_SCOPE_FAKE, .expiry_lag_ms = INT64_MAX},
        {.scope = SF_SCOPE_STREAM},
        {.scope = SF_SCOPE_STREAM, .stream_sid = "s"},
        {.scope = SF_SCOPE_STREAM, .stream_sid = "IS0123456789abcdef0123456789abcdef"},
        {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 0},
        {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 99},
        {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 1, .expiry_lag_ms = 10},
        {.scope = (sf_fault_scope)9},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        sf_fault_id fid = 1234;
        memset(&err, 0, sizeof err);
        sf_status st = sf_fault_add(fx->fake, &bad[i], &fid, &err);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("rule #%zu: %s, want SF_ERR_INVALID_ARGUMENT", i, sf_status_name(st));
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
        assert_true(strlen(err.message) > strlen("Invalid parameter: "));
        assert_int_equal(fid, 1234);
    }
    sf_error err;
    assert_status(sf_fault_add(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "params is NULL");
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
    /* nothing spent: the first rule still gets id 1; unknown ids cannot be removed */
    sf_fault_params good = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = id, .drop_rate = 1.0};
    sf_fault_id fid;
    assert_status(sf_fault_add(fx->fake, &good, &fid, &err), SF_OK);
    assert_int_equal(fid, 1);
    assert_status(sf_fault_remove(fx->fake, 2, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "unknown rule 2");
    assert_status(sf_fault_remove(fx->fake, 0, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_fault_remove(fx->fake, fid, &err), SF_OK);
    assert_status(sf_fault_remove(fx->fake, fid, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_fault_list(fx->fake, NULL, 0), 0);
}

static void test_inject_error_rejects_invalid_injections(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    const sf_error_injection bad[] = {
        {.op = SF_OP_COUNT, .count = 1, .http_status = 500},
        {.op = (sf_op)-1, .count = 1, .http_status = 500},
        {.op = SF_OP_STREAM_FETCH, .count = 0, .http_status = 500},
        {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 399},
        {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 600},
        {.op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 500, .code = -1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sf_error err;
        memset(&err, 0, sizeof err);
        assert_status(sf_inject_error(fx->fake, &bad[i], &err), SF_ERR_INVALID_ARGUMENT);
        assert_error(&err, SF_ERR_INVALID_ARGUMENT, 400, 20001);
    }
    sf_error err;
    assert_status(sf_inject_error(fx->fake, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "inj is NULL");
    /* none of them was queued */
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "s", NULL, &err), SF_OK);
    /* a message longer than the error body holds is cut, not overrun */
    char *huge = filled(10 * KB, 'm');
    sf_error_injection loud = {
        .op = SF_OP_STREAM_FETCH, .count = 1, .http_status = 502, .message = huge};
    assert_status(sf_inject_error(fx->fake, &loud, &err), SF_OK);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "s", NULL, &err),
                  SF_ERR_INJECTED);
    assert_int_equal(err.http_status, 502);
    assert_int_equal(err.code, 0);
    assert_string_equal(err.more_info, "");
    assert_true(strnlen(err.message, sizeof err.message) < sizeof err.message);
    assert_true(strncmp(err.message, "mmmm", 4) == 0);
    block_release(huge);
}

static void test_journal_queries_reject_missing_outputs(void **state)
{
    sf_fixture *fx = *state;
    assert_true(sf_journal_count(fx->fake) > 0); /* the fixture's service.create */
    uint64_t cursor = 0;
    sf_journal_entry e;
    assert_false(sf_journal_next(fx->fake, NULL, NULL, &e));
    assert_false(sf_journal_next(fx->fake, NULL, &cursor, NULL));
    assert_int_equal(cursor, 0);
    sf_error err;
    assert_status(sf_journal_write(fx->fake, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "out is NULL");
    /* a stream that cannot be written to */
    FILE *read_only = fopen("/dev/null", "r");
    assert_non_null(read_only);
    assert_status(sf_journal_write(fx->fake, NULL, read_only, &err), SF_ERR_INVALID_ARGUMENT);
    assert_invalid_argument(&err, "journal write failed");
    fclose(read_only);
    /* rendering into no buffer only measures */
    size_t need = sf_journal_render(fx->fake, NULL, NULL, 0);
    assert_true(need > 0);
    char small[4] = "abc";
    assert_int_equal(sf_journal_render(fx->fake, NULL, small, sizeof small), need);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_true(sf_journal_next(fx->fake, NULL, &cursor, &e));
    assert_int_equal(sf_journal_entry_json(&e, NULL, 0), sf_journal_entry_json(&e, small, 1));
    assert_string_equal(small, "");
    /* names of out-of-range values */
    assert_null(sf_op_name(SF_OP_COUNT));
    assert_null(sf_op_name((sf_op)-1));
    assert_null(sf_journal_kind_name(SF_JOURNAL_KIND_COUNT));
    sf_op op = SF_OP_STREAM_LIST;
    assert_false(sf_op_parse(NULL, &op));
    assert_false(sf_op_parse("stream.explode", &op));
    assert_false(sf_op_parse("", &op));
    assert_int_equal(op, SF_OP_STREAM_LIST);
    assert_true(sf_op_parse("stream.create", NULL));
}

/* What a callback may not do: move the clock, reset the fake, run the queue. */
typedef struct misuse {
    sf_status reset, advance, set;
    size_t run_due, run_idle;
    int calls;
} misuse;

static void misbehave(sf_fake *fake, const sf_event *ev, void *user)
{
    misuse *m = user;
    (void)ev;
    m->calls++;
    m->reset = sf_fake_reset(fake, NULL);
    m->advance = sf_clock_advance(fake, 1000, NULL);
    m->set = sf_clock_set(fake, sf_clock_now(fake) + 1000, NULL);
    m->run_due = sf_run_due(fake);
    m->run_idle = sf_run_until_idle(fake);
}

static void test_callbacks_cannot_reset_or_move_the_clock(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", -1, NULL);
    sf_fixture_stream(fx, "later", 60, &(sf_stream_record){0});
    misuse m = {SF_OK, SF_OK, SF_OK, 99, 99, 0};
    sf_subscribe_params p = {.on_event = misbehave, .user = &m};
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, "s", &p, NULL, NULL), SF_OK);
    sf_ms before = sf_clock_now(fx->fake);
    assert_status(sf_stream_publish(fx->fake, NULL, fx->service_sid, "s", &ok_data, NULL, NULL),
                  SF_OK);
    assert_int_equal(m.calls, 1);
    assert_status(m.reset, SF_ERR_INVALID_ARGUMENT);
    assert_status(m.advance, SF_ERR_INVALID_ARGUMENT);
    assert_status(m.set, SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(m.run_due, 0);
    assert_int_equal(m.run_idle, 0);
    assert_int_equal(sf_clock_now(fx->fake), before);
    assert_status(sf_stream_fetch(fx->fake, NULL, fx->service_sid, "later", NULL, NULL), SF_OK);
    assert_status(sf_service_fetch(fx->fake, NULL, fx->service_sid, NULL, NULL), SF_OK);
}

/* ---------------------------------------------------------------------------------------- */
/* Helpers of the public header                                                              */
/* ---------------------------------------------------------------------------------------- */

static void test_status_queries_clamp_unknown_status(void **state)
{
    (void)state;
    const sf_status unknown[] = {SF_STATUS_COUNT, (sf_status)999, (sf_status)-1};
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(sf_status_name(unknown[i]), "SF_ERR_INVALID_ARGUMENT");
        assert_string_equal(sf_status_message(unknown[i]), "Invalid parameter");
        assert_int_equal(sf_status_http(unknown[i]), 400);
        assert_int_equal(sf_status_code(unknown[i]), 20001);
    }
    assert_string_equal(sf_status_name(SF_OK), "SF_OK");
    assert_int_equal(sf_status_http(SF_ERR_NOMEM), 500);
    assert_int_equal(sf_status_code(SF_ERR_NOMEM), 20500);
}

static void test_sid_is_rejects_null_and_malformed_input(void **state)
{
    (void)state;
    const char *sid = "TO0123456789abcdef0123456789ABCDEF";
    assert_true(sf_sid_is(sid, "TO"));
    assert_false(sf_sid_is(NULL, "TO"));
    assert_false(sf_sid_is(sid, NULL));
    assert_false(sf_sid_is(sid, "T"));
    assert_false(sf_sid_is(sid, "TOO"));
    assert_false(sf_sid_is(sid, ""));
    assert_false(sf_sid_is(sid, "IS"));
    assert_false(sf_sid_is("", "TO"));
    assert_false(sf_sid_is("T", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789ABCDE", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789ABCDEF0", "TO"));
    assert_false(sf_sid_is("TO0123456789abcdef0123456789ABCDEg", "TO"));
    assert_false(sf_sid_is("to0123456789abcdef0123456789ABCDEF", "TO"));
}

static void test_json_compact_object_rejects_bad_arguments(void **state)
{
    (void)state;
    const char text[] = "{ \"a\" : 1 }";
    size_t len = sizeof text - 1, out_len = 99;
    char out[64];
    assert_status(sf_json_compact_object(NULL, len, out, sizeof out, &out_len),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(text, len, NULL, sizeof out, &out_len),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(text, len, out, sizeof out, NULL),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(text, len, out, len, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(out_len, 99);
    /* longer than SF_DATA_CAP, with room to spare */
    size_t big = SF_DATA_CAP + 1;
    char *in = filled(big, ' ');
    char *dst = filled(big + 1, '\0');
    in[0] = '{';
    in[big - 1] = '}';
    assert_status(sf_json_compact_object(in, big, dst, big + 1, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object(in, big - 1, dst, big + 1, &out_len),
                  SF_ERR_DATA_INVALID); /* its closing brace cut off */
    in[big - 2] = '}';
    assert_status(sf_json_compact_object(in, big - 1, dst, big + 1, &out_len), SF_OK);
    assert_string_equal(dst, "{}");
    block_release(in);
    block_release(dst);
    assert_status(sf_json_compact_object(text, len, out, len + 1, &out_len), SF_OK);
    assert_string_equal(out, "{\"a\":1}");
    assert_int_equal(out_len, 7);
}

#define T(name) cmocka_unit_test_setup_teardown(name, sf_fixture_setup, bad_args_teardown)
#define S(name) cmocka_unit_test_teardown(name, bad_args_teardown_held)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_subscribe_rejects_missing_callback_and_unknown_stream),
        T(test_unknown_subscriber_ids_are_invalid_argument),
        T(test_fault_add_rejects_invalid_rules),
        T(test_inject_error_rejects_invalid_injections),
        T(test_journal_queries_reject_missing_outputs),
        T(test_callbacks_cannot_reset_or_move_the_clock),
        S(test_status_queries_clamp_unknown_status),
        S(test_sid_is_rejects_null_and_malformed_input),
        S(test_json_compact_object_rejects_bad_arguments),
    };
    return cmocka_run_group_tests_name("bad_args_callbacks", tests, NULL, NULL);
}
