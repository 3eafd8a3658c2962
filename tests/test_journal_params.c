/* SPDX-License-Identifier: MIT */
/* test_journal_params.c: the journal's recorded parameters (sf_options.journal_params):
 * off by default (the journal is then exactly as before), their exact JSON (byte-exact
 * strings: UTF-8, hex, lengths; NaN; no params), the byte cap and what the journal says when
 * it bites, reset, turning recording on later, the buffer semantics of the data form, and
 * allocation failure at every step. Values a REST client cannot send replay identically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "assert_status.h"
#include "syncfake.h"
#include "syncfake_replay.h"

static sf_fake *fake;
static char *text;
static sf_replay_report rep;

static int teardown(void **state)
{
    (void)state;
    sf_fake_free(fake);
    fake = NULL;
    free(text);
    text = NULL;
    sf_replay_report_free(&rep);
    return 0;
}

static void make(bool record, size_t bytes)
{
    sf_options o;
    sf_options_init(&o);
    o.journal_params = record;
    o.journal_params_bytes = bytes;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
}

static char *render_data(void)
{
    size_t n = sf_journal_render_data(fake, NULL, NULL, 0);
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    assert_int_equal(sf_journal_render_data(fake, NULL, buf, n + 1), n);
    return buf;
}

static void some_calls(void)
{
    sf_service_record svc;
    sf_stream_record st;
    sf_message_record m;
    memset(&svc, 0, sizeof svc); /* a call that fails (no memory) fills in nothing */
    memset(&st, 0, sizeof st);
    sf_service_create(fake, NULL, NULL, &svc, NULL);
    sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL);
    sf_publish_params p = {.data = "{}", .data_len = 2};
    sf_stream_publish(fake, NULL, svc.sid, st.sid, &p, &m, NULL);
    sf_clock_advance(fake, 5, NULL);
}

/* The default: no `call` entries, no parameters; the data form is the plain form. */
static void off_by_default(void **state)
{
    (void)state;
    sf_options o;
    sf_options_init(&o);
    assert_false(o.journal_params);
    make(false, 0);
    some_calls();
    assert_false(sf_journal_recording(fake));
    assert_int_equal(sf_journal_count(fake), 3); /* the three API calls, nothing else */
    size_t n = sf_journal_render(fake, NULL, NULL, 0);
    char *plain = malloc(n + 1);
    assert_non_null(plain);
    sf_journal_render(fake, NULL, plain, n + 1);
    text = render_data();
    assert_string_equal(text, plain);
    free(plain);
    assert_null(strstr(text, "\"call\""));
    assert_int_equal(sf_journal_entry_params(fake, 1, NULL, 0), 0);
}

/* The text of entry `seq`'s parameters. */
static void expect_params(uint64_t seq, const char *want)
{
    char buf[20000];
    size_t n = sf_journal_entry_params(fake, seq, buf, sizeof buf);
    assert_true(n < sizeof buf);
    assert_string_equal(buf, want);
}

/* Entries 2-5: a service with control characters in its name, one without parameters
 * (svc), a stream with an oversize name, one without parameters (st). */
static void exact_service_and_stream_params(sf_service_record *svc, sf_stream_record *st)
{
    sf_service_params sp = {.friendly_name = "a\"b\\c\n\x01",
                            .acl_enabled = SF_BOOL_TRUE,
                            .has_reachability_debouncing_window = true,
                            .reachability_debouncing_window = 2000};
    assert_status_not(sf_service_create(fake, NULL, &sp, svc, NULL), SF_OK); /* 54053 */
    expect_params(2, "{\"friendly_name\":\"a\\\"b\\\\c\\u000a\\u0001\",\"acl_enabled\":true,"
                     "\"reachability_debouncing_window\":2000}");
    assert_status(sf_service_create(fake, NULL, NULL, svc, NULL), SF_OK);
    expect_params(3, "{\"no_params\":true}");
    static char long_name[9000];
    memset(long_name, 'n', sizeof long_name - 1);
    sf_stream_params tp = {.unique_name = long_name};
    sf_stream_create(fake, NULL, svc->sid, &tp, st, NULL);
    char want[256];
    snprintf(want, sizeof want, "{\"service\":\"%s\",\"unique_name_len\":8193}", svc->sid);
    expect_params(4, want);
    assert_status(sf_stream_create(fake, NULL, svc->sid, NULL, st, NULL), SF_OK);
}

/* Entries 6-7: publishes of invalid UTF-8 for another account, and of oversize data. */
static void exact_publish_params(const sf_service_record *svc, const sf_stream_record *st)
{
    sf_message_record m;
    char want[256];
    sf_publish_params bad = {.data = "{\"x\":\"\xff\"}", .data_len = 9, .client_id = 4};
    sf_stream_publish(fake, "AC00000000000000000000000000000000", svc->sid, st->sid, &bad, &m,
                      NULL);
    snprintf(want, sizeof want,
             "{\"account\":\"AC00000000000000000000000000000000\",\"service\":\"%s\","
             "\"stream\":\"%s\",\"data_hex\":\"7b2278223a22ff227d\",\"client_id\":4}",
             svc->sid, st->sid);
    expect_params(6, want);
    static char big[5000];
    memset(big, ' ', sizeof big);
    sf_publish_params huge = {.data = big, .data_len = sizeof big};
    sf_stream_publish(fake, NULL, svc->sid, st->sid, &huge, &m, NULL);
    snprintf(want, sizeof want, "{\"service\":\"%s\",\"stream\":\"%s\",\"data_len\":5000}",
             svc->sid, st->sid);
    expect_params(7, want);
}

/* Entries 8-13: fault rules with NaN and NULL parameters, an injection, an account and a
 * refused call. */
static void exact_fault_injection_account_params(const sf_service_record *svc, sf_stream_record *st)
{
    char want[256];
    sf_fault_params nan_rate = {.drop_rate = NAN};
    assert_status_not(sf_fault_add(fake, &nan_rate, NULL, NULL), SF_OK);
    expect_params(8, "{\"scope\":0,\"subscriber\":0,\"drop_rate\":null,\"duplicate_rate\":0,"
                     "\"delay_ms\":0,\"jitter_ms\":0,\"drop_next\":0,\"expiry_lag_ms\":0}");
    assert_status_not(sf_fault_add(fake, NULL, NULL, NULL), SF_OK);
    expect_params(9, "{\"no_params\":true}");
    sf_error_injection inj = {
        .op = SF_OP_STREAM_FETCH, .count = 2, .http_status = 500, .code = 1, .message = "boom"};
    assert_status(sf_inject_error(fake, &inj, NULL), SF_OK);
    expect_params(10, "{\"op\":6,\"count\":2,\"http_status\":500,\"code\":1,\"message\":\"boom\","
                      "\"after_apply\":false}");
    sf_stream_fetch(fake, NULL, svc->sid, st->sid, st, NULL);
    sf_account_record acc;
    sf_account_params ap = {.auth_token = "tok"};
    assert_status(sf_account_create(fake, &ap, &acc, NULL), SF_OK);
    expect_params(12, "{\"auth_token\":\"tok\"}");
    sf_journal_refused_as(fake, acc.sid, SF_OP_STREAM_UPDATE, svc->sid, "x", SF_ERR_INVALID_TTL);
    snprintf(want, sizeof want,
             "{\"account\":\"%s\",\"service\":\"%s\",\"stream\":\"x\","
             "\"refused\":\"SF_ERR_INVALID_TTL\"}",
             acc.sid, svc->sid);
    expect_params(13, want);
}

/* Values only the C API can pass: invalid UTF-8, oversize data and names, NaN, NULLs. */
static void exact_parameters(void **state)
{
    (void)state;
    make(true, 0);
    sf_service_record svc;
    sf_stream_record st;
    exact_service_and_stream_params(&svc, &st);
    exact_publish_params(&svc, &st);
    exact_fault_injection_account_params(&svc, &st);
    /* all of it replays to the same journal */
    text = render_data();
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    assert_false(rep.diverged);
    assert_int_equal(rep.compared, 13);
}

/* A cap smaller than the records: the oldest go, their entries say so, the count grows. */
static void byte_cap(void **state)
{
    (void)state;
    make(true, 1000);
    for (int i = 0; i < 20; i++)
        some_calls();
    text = render_data();
    assert_non_null(strstr(text, "\"params_dropped\":true"));
    assert_true(sf_journal_params_dropped(fake) > 0);
    /* the newest entry kept its parameters */
    uint64_t last = sf_journal_count(fake);
    char buf[200];
    assert_true(sf_journal_entry_params(fake, last, buf, sizeof buf) > 0);
    /* one record larger than the whole cap is dropped at once */
    sf_service_record svc;
    static char name[990];
    memset(name, 'f', sizeof name - 1);
    sf_service_params sp = {.friendly_name = name};
    uint64_t before = sf_journal_params_dropped(fake);
    sf_service_create(fake, NULL, &sp, &svc, NULL);
    assert_int_equal(sf_journal_params_dropped(fake), before + 1);
    assert_int_equal(sf_journal_entry_params(fake, last + 1, buf, sizeof buf), 0);
}

/* A reset journals record.start again, as a new fake does; turning recording on later
 * records a start that is not fresh, which replay refuses. */
static void reset_and_late_start(void **state)
{
    (void)state;
    make(true, 0);
    char first[2048];
    sf_journal_entry e;
    uint64_t cursor = 0;
    assert_true(sf_journal_next(fake, NULL, &cursor, &e));
    size_t n = sf_journal_entry_json_data(fake, &e, first, sizeof first);
    assert_true(n < sizeof first);
    assert_non_null(strstr(first, "\"fresh\":true"));
    some_calls();
    assert_status(sf_fake_reset(fake, NULL), SF_OK);
    assert_int_equal(sf_journal_count(fake), 1);
    char again[2048];
    cursor = 0;
    assert_true(sf_journal_next(fake, NULL, &cursor, &e));
    sf_journal_entry_json_data(fake, &e, again, sizeof again);
    assert_string_equal(again, first);
    sf_fake_free(fake);
    make(false, 0);
    some_calls();
    assert_status(sf_journal_record_calls(fake, true, NULL), SF_OK);
    assert_status(sf_journal_record_calls(fake, true, NULL), SF_OK); /* on already */
    assert_true(sf_journal_recording(fake));
    some_calls();
    text = render_data();
    assert_non_null(strstr(text, "\"fresh\":false"));
    sf_error err;
    sf_journal_filter calls = {.kinds = 1u << SF_JOURNAL_CALL};
    cursor = 0;
    assert_true(sf_journal_next(fake, &calls, &cursor, &e));
    assert_string_equal(e.call, "record.start");
    assert_status(sf_journal_record_calls(fake, false, &err), SF_OK);
    assert_false(sf_journal_recording(fake));
    assert_status(sf_journal_record_calls(NULL, true, &err), SF_ERR_INVALID_ARGUMENT);
}

/* snprintf semantics: the length needed whatever the buffer, never a partial entry. */
static void buffer_semantics(void **state)
{
    (void)state;
    make(true, 0);
    some_calls();
    text = render_data();
    size_t n = strlen(text);
    char small[64];
    assert_int_equal(sf_journal_render_data(fake, NULL, small, sizeof small), n);
    assert_string_equal(small, ""); /* the first entry alone does not fit */
    sf_journal_entry e;
    uint64_t cursor = 0;
    assert_true(sf_journal_next(fake, NULL, &cursor, &e));
    size_t need = sf_journal_entry_json_data(fake, &e, NULL, 0);
    char *line = malloc(need);
    assert_non_null(line);
    assert_int_equal(sf_journal_entry_json_data(fake, &e, line, need), need);
    assert_int_equal(strlen(line), need - 1); /* cut by one byte, NUL-terminated */
    assert_memory_equal(line, text, need - 1);
    free(line);
    assert_int_equal(sf_journal_entry_json_data(fake, NULL, small, sizeof small), 0);
    FILE *f = tmpfile();
    assert_non_null(f);
    assert_status(sf_journal_write_data(fake, NULL, f, NULL), SF_OK);
    assert_int_equal((size_t)ftell(f), n);
    fclose(f);
    assert_status(sf_journal_write_data(fake, NULL, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
}

/* An allocator that fails from the Nth allocation on. */
static long alloc_left;
static void *maybe_malloc(size_t n, void *u)
{
    (void)u;
    return alloc_left-- > 0 ? malloc(n) : NULL;
}
static void *maybe_realloc(void *p, size_t n, void *u)
{
    (void)u;
    return alloc_left-- > 0 ? realloc(p, n) : NULL;
}
static void plain_free(void *p, void *u)
{
    (void)u;
    free(p);
}

/* Every allocation may fail: calls still answer, nothing leaks (ASan, valgrind), and an
 * entry whose parameters could not be kept says so. */
static void allocation_failure(void **state)
{
    (void)state;
    int dropped_seen = 0;
    for (long n = 0; n < 120; n++) {
        sf_options o;
        sf_options_init(&o);
        o.journal_params = true;
        o.allocator = (sf_allocator){maybe_malloc, maybe_realloc, plain_free, NULL};
        alloc_left = n;
        if (sf_fake_new(&o, &fake, NULL) != SF_OK) {
            assert_null(fake);
            continue;
        }
        some_calls();
        sf_fault_params p = {.drop_rate = 0.5};
        sf_fault_add(fake, &p, NULL, NULL);
        dropped_seen += sf_journal_params_dropped(fake) > 0;
        alloc_left = 1 << 30;
        text = render_data();
        free(text);
        text = NULL;
        sf_fake_free(fake);
        fake = NULL;
    }
    assert_true(dropped_seen > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(off_by_default, teardown),
        cmocka_unit_test_teardown(exact_parameters, teardown),
        cmocka_unit_test_teardown(byte_cap, teardown),
        cmocka_unit_test_teardown(reset_and_late_start, teardown),
        cmocka_unit_test_teardown(buffer_semantics, teardown),
        cmocka_unit_test_teardown(allocation_failure, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
