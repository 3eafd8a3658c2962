/* SPDX-License-Identifier: MIT */
/* test_http_server_events.c: the events endpoint of the loopback server
 * (/_syncfake/Services/S/Streams/T/Events, server-sent events over a chunked response):
 * `subscribed`, 100 message_published in publish order, subscriber stats over the control API,
 * `removed` on delete and then the end of the stream; 404, 405 and 401 answers that leave the
 * keep-alive connection usable; a subscriber-scope drop rule (DropRate=0.3) whose every missing
 * message is named by a `dropped` journal entry with the subscriber and the rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <signal.h>

#include "http_env.h"

#define MESSAGES 100

/* The MESSAGES message_published events of stream arrive in publish order (sids), each with
 * its stream, message SID and data, and none a duplicate. */
static void read_published_in_order(sse_reader *s, const char *stream, char sids[][SF_SID_SIZE])
{
    sse_event ev;
    for (int i = 0; i < MESSAGES; i++) {
        if (sse_next(s, &ev, HC_IO_TIMEOUT_MS) != 1)
            fail_msg("event %d of %d did not arrive within %d ms", i, MESSAGES, HC_IO_TIMEOUT_MS);
        assert_string_equal(ev.name, "message_published");
        char v[256], want[128];
        assert_true(hc_json_get(ev.data, "stream_sid", v, sizeof v));
        assert_string_equal(v, stream);
        assert_true(hc_json_get(ev.data, "message_sid", v, sizeof v));
        if (strcmp(v, sids[i]) != 0)
            fail_msg("event %d: message_sid %s, published %s", i, v, sids[i]);
        assert_true(hc_json_get(ev.data, "data", v, sizeof v));
        snprintf(want, sizeof want, "{\"n\":%d,\"tag\":\"a b\"}", i);
        assert_string_equal(v, want);
        assert_true(hc_json_get(ev.data, "is_duplicate", v, sizeof v));
        assert_string_equal(v, "false");
    }
}

/* Deleting stream sends `removed` (reason deleted) on the event stream, which then ends. */
static void delete_and_read_removed(http_env *e, hconn *c, sse_reader *s, const char *stream)
{
    char target[200];
    hresp r;
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s", e->service, stream);
    hc_expect(c, "DELETE", target, e->auth, NULL, 204, &r);
    hresp_free(&r);
    sse_event ev;
    assert_int_equal(sse_next(s, &ev, HC_IO_TIMEOUT_MS), 1);
    assert_string_equal(ev.name, "removed");
    char v[128];
    assert_true(hc_json_get(ev.data, "stream_sid", v, sizeof v));
    assert_string_equal(v, stream);
    assert_true(hc_json_get(ev.data, "reason", v, sizeof v));
    assert_string_equal(v, "deleted");
    assert_int_equal(sse_next(s, &ev, HC_IO_TIMEOUT_MS), 0);
}

static void test_events_in_order_then_removed(void **state)
{
    http_env *e = *state;
    hconn c, sc;
    http_env_connect(e, &c);
    http_env_service(e, &c);
    char stream[SF_SID_SIZE];
    http_create_stream(e, &c, "events-demo", stream);

    sse_reader s;
    long long sub = http_subscribe(e, &sc, &s, "events-demo"); /* by unique name */

    char sids[MESSAGES][SF_SID_SIZE];
    for (int i = 0; i < MESSAGES; i++)
        http_publish(e, &c, stream, i, sids[i]);
    read_published_in_order(&s, stream, sids);

    /* subscriber stats over the control API agree */
    char target[200];
    hresp r;
    snprintf(target, sizeof target, "/_syncfake/subscribers/%lld", sub);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    assert_int_equal(hc_json_int(r.body, "delivered"), MESSAGES);
    assert_int_equal(hc_json_int(r.body, "dropped"), 0);
    hresp_free(&r);

    /* delete: `removed`, then the stream ends */
    delete_and_read_removed(e, &c, &s, stream);

    /* the journal saw the deliveries in publish order */
    char *text = http_journal(e, &c);
    char sub_frag[64];
    snprintf(sub_frag, sizeof sub_frag, "\"subscriber_id\":%lld", sub);
    assert_int_equal(http_journal_count(text, "\"kind\":\"delivered\"", sub_frag, NULL), MESSAGES);
    assert_int_equal(http_journal_count(text, "\"kind\":\"subscribed\"", sub_frag, NULL), 1);
    free(text);

    sse_close(&s);
    hc_close(&sc);
    hc_close(&c);
}

static void test_events_errors(void **state)
{
    http_env *e = *state;
    hconn c;
    http_env_connect(e, &c);
    http_env_service(e, &c);
    char target[200];
    hresp r;

    http_events_target(e, "no-such-stream", target, sizeof target);
    hc_expect(&c, "GET", target, e->auth, NULL, 404, &r);
    assert_string_equal(r.content_type, "application/json");
    assert_int_equal(hc_json_int(r.body, "code"), 20404);
    hresp_free(&r);

    char stream[SF_SID_SIZE];
    http_create_stream(e, &c, NULL, stream);
    http_events_target(e, stream, target, sizeof target);
    hc_expect(&c, "POST", target, e->auth, "", 405, &r);
    assert_string_equal(r.allow, "GET");
    hresp_free(&r);
    hc_expect(&c, "GET", target, NULL, NULL, 401, &r);
    assert_int_equal(hc_json_int(r.body, "code"), 20003);
    hresp_free(&r);

    /* the same keep-alive connection still serves ordinary requests */
    snprintf(target, sizeof target, "/v1/Services/%s", e->service);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    hresp_free(&r);
    hc_close(&c);
}

/* Puts a DropRate=0.3 rule on subscriber sub; returns the rule's id. */
static long long add_drop_rule(http_env *e, hconn *c, long long sub)
{
    char form[128], v[64];
    hresp r;
    snprintf(form, sizeof form, "Scope=subscriber&Target=%lld&DropRate=0.3", sub);
    hc_expect(c, "POST", "/_syncfake/faults", e->auth, form, 201, &r);
    long long rule = hc_json_int(r.body, "id");
    assert_true(rule > 0);
    assert_true(hc_json_get(r.body, "scope", v, sizeof v));
    assert_string_equal(v, "subscriber");
    hresp_free(&r);
    return rule;
}

/* Reads every event up to `removed` and the stream's end; the SIDs received must be a
 * subsequence of those published (got[i]: sids[i] arrived). Returns how many arrived. */
static int read_until_removed(sse_reader *s, char sids[][SF_SID_SIZE], bool *got)
{
    int received = 0, next = 0;
    sse_event ev;
    char v[64];
    for (;;) {
        int st = sse_next(s, &ev, HC_IO_TIMEOUT_MS);
        if (st != 1)
            fail_msg("stream ended (%d) before `removed` after %d events", st, received);
        if (strcmp(ev.name, "removed") == 0)
            break;
        assert_string_equal(ev.name, "message_published");
        assert_true(hc_json_get(ev.data, "message_sid", v, sizeof v));
        while (next < MESSAGES && strcmp(sids[next], v) != 0)
            next++;
        if (next == MESSAGES)
            fail_msg("event %s out of order or unknown", v);
        got[next++] = true;
        received++;
    }
    assert_int_equal(sse_next(s, &ev, HC_IO_TIMEOUT_MS), 0);
    return received;
}

/* Every missing message is named by a `dropped` journal entry with subscriber and rule, every
 * received one by a `delivered` entry; returns how many are missing. */
static int check_drops_journal(http_env *e, hconn *c, char sids[][SF_SID_SIZE], const bool *got,
                               long long sub, long long rule)
{
    char *text = http_journal(e, c);
    char sub_frag[64], rule_frag[64], sid_frag[64];
    snprintf(sub_frag, sizeof sub_frag, "\"subscriber_id\":%lld", sub);
    snprintf(rule_frag, sizeof rule_frag, "\"rule\":%lld", rule);
    int missing = 0;
    for (int i = 0; i < MESSAGES; i++) {
        snprintf(sid_frag, sizeof sid_frag, "\"message_sid\":\"%.34s\"", sids[i]);
        size_t drops = http_journal_count(text, "\"kind\":\"dropped\"", sid_frag, sub_frag);
        size_t with_rule = http_journal_count(text, "\"kind\":\"dropped\"", sid_frag, rule_frag);
        size_t deliveries = http_journal_count(text, "\"kind\":\"delivered\"", sid_frag, sub_frag);
        if (got[i]) {
            if (drops != 0 || deliveries != 1)
                fail_msg("%s received but journal has %zu drops, %zu deliveries", sids[i], drops,
                         deliveries);
        } else {
            missing++;
            if (drops != 1 || with_rule != 1 || deliveries != 0)
                fail_msg("%s missing but journal has %zu drops (%zu with rule %lld), %zu "
                         "deliveries",
                         sids[i], drops, with_rule, rule, deliveries);
        }
    }
    assert_int_equal(http_journal_count(text, "\"kind\":\"dropped\"", NULL, NULL), (size_t)missing);
    free(text);
    return missing;
}

static void test_events_drop_rule_journal(void **state)
{
    http_env *e = *state;
    hconn c, sc;
    http_env_connect(e, &c);
    http_env_service(e, &c);
    char stream[SF_SID_SIZE];
    http_create_stream(e, &c, NULL, stream);
    sse_reader s;
    long long sub = http_subscribe(e, &sc, &s, stream); /* by SID */
    long long rule = add_drop_rule(e, &c, sub);

    char sids[MESSAGES][SF_SID_SIZE];
    for (int i = 0; i < MESSAGES; i++)
        http_publish(e, &c, stream, i, sids[i]);
    char target[200];
    hresp r;
    snprintf(target, sizeof target, "/_syncfake/subscribers/%lld", sub);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    long long delivered = hc_json_int(r.body, "delivered"),
              dropped = hc_json_int(r.body, "dropped");
    hresp_free(&r);
    assert_int_equal(delivered + dropped, MESSAGES);
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s", e->service, stream);
    hc_expect(&c, "DELETE", target, e->auth, NULL, 204, &r);
    hresp_free(&r);

    bool got[MESSAGES] = {false};
    int received = read_until_removed(&s, sids, got);
    print_message("    DropRate=0.3: %d of %d received\n", received, MESSAGES);
    assert_true(received < MESSAGES);
    assert_true(received > 0);
    assert_int_equal(received, delivered);
    int missing = check_drops_journal(e, &c, sids, got, sub, rule);
    assert_int_equal(missing, dropped);

    /* the rule counts its hits */
    snprintf(target, sizeof target, "/_syncfake/faults/%lld", rule);
    hc_expect(&c, "GET", target, e->auth, NULL, 200, &r);
    assert_int_equal(hc_json_int(r.body, "hits"), missing);
    hresp_free(&r);
    sse_close(&s);
    hc_close(&sc);
    hc_close(&c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_events_in_order_then_removed, http_env_setup,
                                        http_env_teardown),
        cmocka_unit_test_setup_teardown(test_events_errors, http_env_setup, http_env_teardown),
        cmocka_unit_test_setup_teardown(test_events_drop_rule_journal, http_env_setup,
                                        http_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
