/* SPDX-License-Identifier: MIT */
/* test_inspect.c: the read-only inspection calls (sf_inspect_*, sf_subscriber_list): what
 * they report, in creation order and page by page, and that reading changes nothing: no
 * journal entry, no clock sample, nothing due is run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "syncfake.h"

typedef struct counted_clock {
    sf_ms now;
    int samples;
} counted_clock;

static sf_ms counted_now(void *user)
{
    counted_clock *c = user;
    c->samples++;
    return c->now;
}

static sf_fake *new_fake(counted_clock *clock)
{
    sf_options o;
    sf_options_init(&o);
    o.clock = SF_CLOCK_CALLBACK;
    o.clock_fn = counted_now;
    o.clock_user = clock;
    sf_fake *f = NULL;
    assert_status(sf_fake_new(&o, &f, NULL), SF_OK);
    return f;
}

static sf_subscriber_id subscribe(sf_fake *f, const char *svc, const char *stream,
                                  sf_connection_kind kind, uint64_t client_id)
{
    sf_subscribe_params p = {
        .on_event = sf_test_ignore_event, .client_id = client_id, .connection = kind};
    sf_subscriber_id id = 0;
    assert_status(sf_subscribe(f, NULL, svc, stream, &p, &id, NULL), SF_OK);
    return id;
}

/* Services, streams (with TTL and rate state) and accounts, in creation order, paged. */
static void test_services_and_streams(void **state)
{
    (void)state;
    counted_clock clock = {SF_DEFAULT_EPOCH_MS, 0};
    sf_fake *f = new_fake(&clock);
    sf_service_record s1, s2;
    sf_service_params named = {.friendly_name = "class"};
    assert_status(sf_service_create(f, NULL, &named, &s1, NULL), SF_OK);
    assert_status(sf_service_create(f, NULL, NULL, &s2, NULL), SF_OK);
    sf_stream_record a, b;
    sf_stream_params ttl = {.unique_name = "chat", .has_ttl = true, .ttl = 60};
    assert_status(sf_stream_create(f, NULL, s1.sid, &ttl, &a, NULL), SF_OK);
    assert_status(sf_stream_create(f, NULL, s1.sid, NULL, &b, NULL), SF_OK);
    sf_publish_params msg = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(f, NULL, s1.sid, a.sid, &msg, NULL, NULL), SF_OK);
    subscribe(f, s1.sid, a.sid, SF_CONNECTION_C, 0);

    sf_service_record recs[4];
    assert_int_equal(sf_inspect_services(f, NULL, 0, recs, 4), 2);
    assert_string_equal(recs[0].sid, s1.sid);
    assert_string_equal(recs[0].friendly_name, "class");
    assert_string_equal(recs[1].sid, s2.sid);
    assert_int_equal(sf_inspect_services(f, NULL, 1, recs, 1), 2); /* the second page */
    assert_string_equal(recs[0].sid, s2.sid);
    assert_int_equal(sf_inspect_services(f, "AC00000000000000000000000000000009", 0, recs, 4), 0);

    sf_stream_view views[4];
    assert_int_equal(sf_inspect_streams(f, s1.sid, 0, views, 4), 2);
    assert_string_equal(views[0].record.sid, a.sid);
    assert_string_equal(views[0].record.unique_name, "chat");
    assert_int_equal(views[0].record.date_expires_ms, SF_DEFAULT_EPOCH_MS + 60000);
    assert_int_equal(views[0].messages_published, 1);
    assert_int_equal(views[0].subscribers, 1);
    assert_int_equal(views[0].rate.tokens, views[0].rate.capacity - 1);
    assert_string_equal(views[1].record.sid, b.sid);
    assert_int_equal(sf_inspect_streams(f, s2.sid, 0, views, 4), 0);
    assert_int_equal(sf_inspect_streams(f, "ISnone", 0, views, 4), 0);

    sf_account_record other;
    assert_status(sf_account_create(f, NULL, &other, NULL), SF_OK);
    char sids[2][SF_SID_SIZE];
    assert_int_equal(sf_inspect_accounts(f, 0, sids, 2), 2);
    assert_string_equal(sids[0], sf_fake_account_sid(f));
    assert_string_equal(sids[1], other.sid);
    sf_fake_free(f);
}

/* Subscribers in id order, with their connection kind and client id, filtered and paged. */
static void test_subscriber_list(void **state)
{
    (void)state;
    counted_clock clock = {SF_DEFAULT_EPOCH_MS, 0};
    sf_fake *f = new_fake(&clock);
    sf_service_record svc;
    assert_status(sf_service_create(f, NULL, NULL, &svc, NULL), SF_OK);
    sf_stream_record a, b;
    assert_status(sf_stream_create(f, NULL, svc.sid, NULL, &a, NULL), SF_OK);
    assert_status(sf_stream_create(f, NULL, svc.sid, NULL, &b, NULL), SF_OK);
    sf_subscriber_id s1 = subscribe(f, svc.sid, a.sid, SF_CONNECTION_C, 0);
    sf_subscriber_id s2 = subscribe(f, svc.sid, b.sid, SF_CONNECTION_SSE, 0);
    sf_subscriber_id s3 = subscribe(f, svc.sid, a.sid, SF_CONNECTION_TWILSOCK, 77);
    assert_status(sf_subscriber_hold(f, s3, NULL), SF_OK);
    assert_status(sf_unsubscribe(f, s1, NULL), SF_OK);

    sf_subscriber_info out[4];
    assert_int_equal(sf_subscriber_list(f, NULL, out, 4), 3);
    assert_int_equal(out[0].id, s1);
    assert_false(out[0].stats.attached);
    assert_int_equal(out[1].id, s2);
    assert_int_equal(out[1].connection, SF_CONNECTION_SSE);
    assert_int_equal(out[2].id, s3);
    assert_int_equal(out[2].connection, SF_CONNECTION_TWILSOCK);
    assert_int_equal(out[2].client_id, 77);
    assert_true(out[2].stats.held);
    assert_string_equal(out[2].stats.account_sid, sf_fake_account_sid(f));

    sf_subscriber_filter on_a = {.stream_sid = a.sid};
    assert_int_equal(sf_subscriber_list(f, &on_a, out, 4), 2);
    assert_int_equal(out[1].id, s3);
    sf_subscriber_filter page = {.after = s1};
    assert_int_equal(sf_subscriber_list(f, &page, out, 1), 1);
    assert_int_equal(out[0].id, s2);
    sf_subscriber_filter other = {.account_sid = "AC00000000000000000000000000000009"};
    assert_int_equal(sf_subscriber_list(f, &other, out, 4), 0);
    assert_int_equal(sf_subscriber_list(f, NULL, NULL, 4), 0);

    assert_string_equal(sf_connection_kind_name(SF_CONNECTION_C), "c");
    assert_string_equal(sf_connection_kind_name(SF_CONNECTION_SSE), "sse");
    assert_string_equal(sf_connection_kind_name(SF_CONNECTION_TWILSOCK), "twilsock");
    assert_null(sf_connection_kind_name((sf_connection_kind)99));
    sf_fake_free(f);
}

/* Injected errors not yet used, by op and then in order, with what is left of their count. */
static void test_injections(void **state)
{
    (void)state;
    counted_clock clock = {SF_DEFAULT_EPOCH_MS, 0};
    sf_fake *f = new_fake(&clock);
    sf_error_injection later = {.op = SF_OP_MESSAGE_CREATE, .count = 1, .http_status = 500};
    sf_error_injection first = {.op = SF_OP_SERVICE_CREATE,
                                .count = 2,
                                .http_status = 503,
                                .code = 20503,
                                .message = "busy",
                                .after_apply = true};
    assert_status(sf_inject_error(f, &later, NULL), SF_OK);
    assert_status(sf_inject_error(f, &first, NULL), SF_OK);
    assert_status(sf_service_create(f, NULL, NULL, NULL, NULL), SF_ERR_INJECTED);

    sf_injection_info out[2];
    assert_int_equal(sf_inspect_injections(f, 0, out, 2), 2);
    assert_int_equal(out[0].op, SF_OP_SERVICE_CREATE);
    assert_int_equal(out[0].count_left, 1);
    assert_string_equal(out[0].message, "busy");
    assert_true(out[0].after_apply);
    assert_int_equal(out[1].op, SF_OP_MESSAGE_CREATE);
    assert_int_equal(sf_inspect_injections(f, 1, out, 1), 2);
    assert_int_equal(out[0].op, SF_OP_MESSAGE_CREATE);
    sf_fake_free(f);
}

/* With a stream due to expire and a delivery due, reading everything samples no clock, runs
 * nothing and journals nothing: the next real call still sees everything due. */
static void test_reading_changes_nothing(void **state)
{
    (void)state;
    counted_clock clock = {SF_DEFAULT_EPOCH_MS, 0};
    sf_fake *f = new_fake(&clock);
    sf_service_record svc;
    assert_status(sf_service_create(f, NULL, NULL, &svc, NULL), SF_OK);
    sf_stream_record s;
    sf_stream_params ttl = {.has_ttl = true, .ttl = 1};
    assert_status(sf_stream_create(f, NULL, svc.sid, &ttl, &s, NULL), SF_OK);
    subscribe(f, svc.sid, s.sid, SF_CONNECTION_C, 0);
    size_t journal = sf_journal_count(f);
    size_t pending = sf_pending_events(f);
    int samples = clock.samples;
    clock.now += 5000; /* the stream is due to expire */

    sf_service_record recs[1];
    sf_stream_view views[1];
    sf_subscriber_info subs[1];
    char sids[1][SF_SID_SIZE];
    sf_injection_info inj[1];
    assert_int_equal(sf_inspect_now(f), SF_DEFAULT_EPOCH_MS);
    assert_int_equal(sf_inspect_accounts(f, 0, sids, 1), 1);
    assert_int_equal(sf_inspect_services(f, NULL, 0, recs, 1), 1);
    assert_int_equal(sf_inspect_streams(f, svc.sid, 0, views, 1), 1);
    assert_int_equal(views[0].rate.next_allowed_ms, SF_DEFAULT_EPOCH_MS);
    assert_int_equal(sf_subscriber_list(f, NULL, subs, 1), 1);
    assert_true(subs[0].stats.attached);
    assert_int_equal(sf_inspect_injections(f, 0, inj, 1), 0);

    assert_int_equal(clock.samples, samples);
    assert_int_equal(sf_journal_count(f), journal);
    assert_int_equal(sf_pending_events(f), pending);
    assert_int_equal(sf_run_due(f), 2); /* the expiry and the `removed` event, still due */
    assert_int_equal(sf_inspect_streams(f, svc.sid, 0, views, 1), 0);
    assert_int_equal(sf_inspect_now(f), SF_DEFAULT_EPOCH_MS + 5000);
    sf_fake_free(f);
}

/* NULL fakes and services are empty, never a crash. */
static void test_null_arguments(void **state)
{
    (void)state;
    assert_int_equal(sf_inspect_now(NULL), 0);
    assert_int_equal(sf_inspect_accounts(NULL, 0, NULL, 0), 0);
    assert_int_equal(sf_inspect_services(NULL, NULL, 0, NULL, 0), 0);
    assert_int_equal(sf_inspect_streams(NULL, "IS", 0, NULL, 0), 0);
    assert_int_equal(sf_subscriber_list(NULL, NULL, NULL, 0), 0);
    assert_int_equal(sf_inspect_injections(NULL, 0, NULL, 0), 0);
    counted_clock clock = {SF_DEFAULT_EPOCH_MS, 0};
    sf_fake *f = new_fake(&clock);
    assert_int_equal(sf_inspect_streams(f, NULL, 0, NULL, 0), 0);
    assert_int_equal(sf_inspect_accounts(f, 0, NULL, 0), 1);
    sf_fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_services_and_streams), cmocka_unit_test(test_subscriber_list),
        cmocka_unit_test(test_injections),           cmocka_unit_test(test_reading_changes_nothing),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
