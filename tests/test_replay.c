/* SPDX-License-Identifier: MIT */
/* test_replay.c: a journal recorded with parameters replays with zero divergence (manual and
 * external clocks: faults, subscribers, clock moves, publishes, errors, injections), and a
 * changed rule or an edited line is reported at the exact first entry that differs; what
 * cannot be replayed is a clean error. Also the syncfake-replay command on a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "assert_status.h"
#include "syncfake.h"
#include "syncfake_replay.h"
#include "syncfake_snapshot.h"

static sf_fake *fake;
static char *text;
static sf_replay_report rep;
static int callbacks;

static char *snap;
static size_t snap_len;

static int teardown(void **state)
{
    (void)state;
    if (snap)
        sf_snapshot_buffer_free(fake, snap);
    snap = NULL;
    sf_fake_free(fake);
    fake = NULL;
    free(text);
    text = NULL;
    sf_replay_report_free(&rep);
    return 0;
}

static void count_event(sf_fake *f, const sf_event *ev, void *user)
{
    (void)f, (void)ev, (void)user;
    callbacks++;
}

static sf_ms ext_now;
static sf_ms ext_clock(void *user)
{
    (void)user;
    return ext_now;
}

static void new_fake(bool external, uint32_t burst)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = 7;
    o.journal_params = true;
    o.limits.publish_burst = burst;
    if (external) {
        o.clock = SF_CLOCK_CALLBACK;
        o.clock_fn = ext_clock;
        ext_now = 1700000000000;
    }
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
}

static void publish(const char *svc, const char *stream, const char *data)
{
    sf_publish_params p = {.data = data, .data_len = strlen(data)};
    sf_message_record m;
    sf_stream_publish(fake, NULL, svc, stream, &p, &m, NULL);
}

/* Moves time: the manual clock by a call, the external one by its reading. */
static void advance(bool external, sf_ms ms)
{
    if (external) {
        ext_now += ms;
        sf_run_due(fake);
    } else {
        assert_status(sf_clock_advance(fake, ms, NULL), SF_OK);
    }
}

/* Faults, subscribers (held, disconnected, unsubscribed), clock moves, publishes, errors. */
static void scenario(bool external)
{
    sf_service_record svc;
    sf_stream_record st, st2;
    sf_service_params sp = {.friendly_name = "replayed"};
    assert_status(sf_service_create(fake, NULL, &sp, &svc, NULL), SF_OK);
    sf_stream_params tp = {.unique_name = "feed", .has_ttl = true, .ttl = 30};
    assert_status(sf_stream_create(fake, NULL, svc.sid, &tp, &st, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &st2, NULL), SF_OK);
    assert_status_not(sf_stream_create(fake, NULL, svc.sid, &tp, &st2, NULL), SF_OK);
    sf_subscribe_params sub = {.on_event = count_event, .client_id = 3};
    sf_subscriber_id a, b, c;
    assert_status(sf_subscribe(fake, NULL, svc.sid, "feed", &sub, &a, NULL), SF_OK);
    assert_status(sf_subscribe(fake, NULL, svc.sid, st.sid, &sub, &b, NULL), SF_OK);
    assert_status(sf_subscribe(fake, NULL, svc.sid, st2.sid, &sub, &c, NULL), SF_OK);
    sf_fault_params drop = {.scope = SF_SCOPE_STREAM, .stream_sid = st.sid, .drop_rate = 0.5};
    sf_fault_params late = {.scope = SF_SCOPE_SUBSCRIBER,
                            .subscriber = b,
                            .delay_ms = 250,
                            .jitter_ms = 100,
                            .duplicate_rate = 0.7};
    sf_fault_id rule;
    assert_status(sf_fault_add(fake, &drop, &rule, NULL), SF_OK);
    assert_status(sf_fault_add(fake, &late, NULL, NULL), SF_OK);
    sf_error_injection inj = {.op = SF_OP_MESSAGE_CREATE,
                              .count = 1,
                              .http_status = 503,
                              .code = 20503,
                              .after_apply = true};
    assert_status(sf_inject_error(fake, &inj, NULL), SF_OK);
    char data[64];
    for (int i = 0; i < 12; i++) {
        snprintf(data, sizeof data, "{\"i\": %d, \"s\": \"caf\xc3\xa9\"}", i);
        publish(svc.sid, i % 3 ? "feed" : st2.sid, data);
        if (i == 4)
            sf_subscriber_hold(fake, a, NULL);
        if (i == 7)
            sf_subscriber_heal(fake, a, true, NULL);
        if (i == 8)
            sf_subscriber_disconnect(fake, c, NULL);
        advance(external, 40);
    }
    publish(svc.sid, "feed", "{not json");
    publish(svc.sid, "nope", "{}");
    sf_subscriber_reconnect(fake, c, NULL);
    sf_fault_remove(fake, rule, NULL);
    sf_unsubscribe(fake, b, NULL);
    sf_stream_page *page = NULL;
    sf_page_params pp = {.has_page_size = true, .page_size = 1};
    sf_stream_list(fake, NULL, svc.sid, &pp, &page, NULL);
    sf_stream_page_free(fake, page);
    advance(external, 31000); /* the TTL of "feed" runs out */
    sf_stream_fetch(fake, NULL, svc.sid, "feed", &st, NULL);
}

static char *journal_data(void)
{
    size_t n = sf_journal_render_data(fake, NULL, NULL, 0);
    char *buf = malloc(n + 1);
    assert_non_null(buf);
    assert_int_equal(sf_journal_render_data(fake, NULL, buf, n + 1), n);
    return buf;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void replays_identically(bool external)
{
    new_fake(external, 300);
    scenario(external);
    text = journal_data();
    if (getenv("SF_REPLAY_DUMP")) /* for a human reading a failure */
        fputs(text, stderr);
    assert_non_null(strstr(text, "\"kind\":\"dropped\""));
    assert_non_null(strstr(text, "\"kind\":\"duplicated\""));
    assert_non_null(strstr(text, "\"injected\":true"));
    assert_non_null(strstr(text, "\"kind\":\"expired\""));
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    assert_false(rep.diverged);
    assert_int_equal(rep.compared, count_lines(text));
    assert_true(rep.calls > 30);
}

static void manual_clock_replays(void **state)
{
    (void)state;
    replays_identically(false);
}

static void external_clock_replays(void **state)
{
    (void)state;
    replays_identically(true);
    assert_non_null(strstr(text, "\"call\":\"clock.sample\""));
}

/* The line of the first entry that contains `needle`; its seq in *seq. */
static const char *first_line_with(const char *s, const char *needle, size_t *len,
                                   unsigned long long *seq)
{
    const char *hit = strstr(s, needle);
    assert_non_null(hit);
    const char *start = hit;
    while (start > s && start[-1] != '\n')
        start--;
    *len = (size_t)(strchr(hit, '\n') - start);
    assert_int_equal(sscanf(start, "{\"seq\":%llu", seq), 1);
    return start;
}

/* Editing the drop rule's rate to 0: the first dropped delivery is now delivered. */
static void edited_rule_diverges_at_first_drop(void **state)
{
    (void)state;
    new_fake(false, 300);
    scenario(false);
    text = journal_data();
    char *rate = strstr(text, "\"drop_rate\":0.5");
    assert_non_null(rate);
    memcpy(rate, "\"drop_rate\":0  ", 15); /* same length; still a valid number */
    size_t len;
    unsigned long long seq;
    const char *dropped = first_line_with(text, "\"kind\":\"dropped\"", &len, &seq);
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    assert_true(rep.diverged);
    assert_int_equal(rep.seq, seq);
    assert_int_equal(strlen(rep.expected), len);
    assert_memory_equal(rep.expected, dropped, len);
    assert_null(strstr(rep.got, "\"kind\":\"dropped\""));
    assert_int_equal(rep.compared, seq - 1);
}

/* A different rule in force (a burst of 2 and 1 publish/s instead of 300 and 30/s): the
 * third publish on one stream, accepted when recorded, is refused 429 by the replay. */
static void changed_limit_diverges_at_rate_limit(void **state)
{
    (void)state;
    new_fake(false, 300);
    scenario(false);
    text = journal_data();
    char *burst = strstr(text, "\"publish_burst\":300");
    assert_non_null(burst);
    memcpy(burst, "\"publish_burst\":  2", 19);
    char *rate = strstr(text, "\"publish_rate_per_s\":30");
    assert_non_null(rate);
    memcpy(rate, "\"publish_rate_per_s\": 1", 23);
    /* "feed" takes publishes i = 1, 2, 4, 5: the third of them is i = 4, the 5th publish */
    const char *p = text;
    size_t len = 0;
    unsigned long long seq = 0;
    for (int i = 0; i < 5; i++) {
        p = first_line_with(p, "\"op\":\"message.create\"", &len, &seq) + len;
    }
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    assert_true(rep.diverged);
    assert_int_equal(rep.seq, seq);
    assert_non_null(strstr(rep.expected, "\"status\":201"));
    assert_non_null(strstr(rep.got, "\"status\":429,\"code\":54009"));
}

/* A line the replay does not make: reported with an empty "got". */
static void missing_and_extra_lines_diverge(void **state)
{
    (void)state;
    new_fake(false, 300);
    scenario(false);
    text = journal_data();
    size_t n = strlen(text);
    char extra[96];
    unsigned long long last = count_lines(text);
    snprintf(extra, sizeof extra, "{\"seq\":%llu,\"t_ms\":1,\"kind\":\"expired\"}\n", last + 1);
    char *longer = malloc(n + strlen(extra) + 1);
    assert_non_null(longer);
    memcpy(longer, text, n);
    strcpy(longer + n, extra);
    free(text);
    text = longer;
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    assert_true(rep.diverged);
    assert_int_equal(rep.seq, last + 1);
    assert_string_equal(rep.got, "");
    assert_int_equal(rep.compared, count_lines(text) - 1);
}

static void expect_refused(const char *journal, const char *why)
{
    sf_error err;
    assert_status(sf_replay(journal, strlen(journal), &rep, &err), SF_ERR_INVALID_ARGUMENT);
    if (!strstr(err.message, why))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, why);
    assert_false(rep.diverged);
}

/* Without parameters, without its start, with a nested call, with dropped parameters. */
static void unreplayable_journals_are_errors(void **state)
{
    (void)state;
    new_fake(false, 300);
    scenario(false);
    size_t n = sf_journal_render(fake, NULL, NULL, 0);
    text = malloc(n + 1);
    assert_non_null(text);
    sf_journal_render(fake, NULL, text, n + 1);
    expect_refused(text, "no parameters");
    free(text);
    text = journal_data();
    expect_refused(strchr(text, '\n') + 1, "record.start entry with seq 1");
    expect_refused("", "empty");
    expect_refused("{\"seq\":1}\n", "first line");
    expect_refused("{\"seq\":1,\"t_ms\":0,\"kind\":\"call\",\"call\":\"record.start\","
                   "\"params\":{\"seed\":1}}",
                   "malformed");
    char *rate = strstr(text, "\"drop_rate\":0.5");
    memcpy(rate, "\"drop_rate\":\"x\"", 15);
    expect_refused(text, "malformed or missing parameters");
}

static void nested(sf_fake *f, const sf_event *ev, void *user)
{
    (void)user;
    sf_fault_params p = {.scope = SF_SCOPE_FAKE};
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED)
        sf_fault_add(f, &p, NULL, NULL);
}

static void nested_run(size_t params_bytes)
{
    sf_options o;
    sf_options_init(&o);
    o.journal_params = true;
    o.journal_params_bytes = params_bytes;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    sf_service_record svc;
    sf_stream_record st;
    sf_service_create(fake, NULL, NULL, &svc, NULL);
    sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL);
    sf_subscribe_params sub = {.on_event = nested};
    sf_subscriber_id id;
    sf_subscribe(fake, NULL, svc.sid, st.sid, &sub, &id, NULL);
    publish(svc.sid, st.sid, "{}");
    text = journal_data();
    assert_non_null(strstr(text, "\"nested\":true"));
}

static void nested_calls_are_errors(void **state)
{
    (void)state;
    nested_run(0);
    assert_null(strstr(text, "\"params_dropped\":true"));
    expect_refused(text, "inside a subscriber callback");
}

/* A cap of 800 bytes keeps the last few records: the oldest entries say they lost theirs. */
static void dropped_params_are_errors(void **state)
{
    (void)state;
    nested_run(800);
    assert_non_null(strstr(text, "\"params_dropped\":true"));
    assert_true(sf_journal_params_dropped(fake) > 0);
    expect_refused(text, "dropped");
}

/* A (service, stream, subscribers, a delay rule, publishes), the snapshot, then B. */
static unsigned long long record_with_snapshot(bool external)
{
    new_fake(external, 300);
    sf_service_record svc;
    sf_stream_record st;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL), SF_OK);
    sf_subscribe_params sub = {.on_event = count_event};
    sf_subscriber_id a;
    assert_status(sf_subscribe(fake, NULL, svc.sid, st.sid, &sub, &a, NULL), SF_OK);
    sf_fault_params late = {
        .scope = SF_SCOPE_FAKE, .delay_ms = 100, .jitter_ms = 300, .drop_rate = 0.2};
    assert_status(sf_fault_add(fake, &late, NULL, NULL), SF_OK);
    for (int i = 0; i < 4; i++)
        publish(svc.sid, st.sid, "{\"a\": [1, 2]}");
    assert_status(sf_snapshot_save_buffer(fake, &snap, &snap_len, NULL), SF_OK);
    unsigned long long next = sf_journal_count(fake) + 1; /* nothing cleared or overwritten */
    for (int i = 0; i < 6; i++) {
        publish(svc.sid, st.sid, "{\"b\": true}");
        advance(external, 90);
    }
    sf_unsubscribe(fake, a, NULL);
    advance(external, 1000);
    text = journal_data();
    return next;
}

static void snapshot_start_replays(bool external)
{
    unsigned long long next = record_with_snapshot(external);
    assert_status(sf_replay_snapshot(snap, snap_len, external, text, strlen(text), &rep, NULL),
                  SF_OK);
    assert_false(rep.diverged);
    assert_int_equal(rep.compared, count_lines(text) - (next - 1));
    assert_true(rep.calls >= 8);
}

static void snapshot_manual_replays(void **state)
{
    (void)state;
    snapshot_start_replays(false);
}

static void snapshot_external_replays(void **state)
{
    (void)state;
    snapshot_start_replays(true);
}

/* The first line after the snapshot missing: refused; an edited publish: its entry. */
static void snapshot_journal_mismatch(void **state)
{
    (void)state;
    unsigned long long next = record_with_snapshot(false);
    char needle[32];
    snprintf(needle, sizeof needle, "{\"seq\":%llu,", next);
    char *line = strstr(text, needle);
    assert_non_null(line);
    char *edit = strstr(line, "{\\\"b\\\": true}");
    assert_non_null(edit);
    memcpy(edit, "{\\\"b\\\": tru }", 13); /* now invalid JSON: 400 instead of 201 */
    sf_error err;
    if (sf_replay_snapshot(snap, snap_len, false, text, strlen(text), &rep, &err) != SF_OK)
        fail_msg("%s", err.message);
    assert_true(rep.diverged);
    assert_int_equal(rep.seq, next); /* B starts with that publish */
    assert_non_null(strstr(rep.got, "\"status\":400,\"code\":54008"));
    sf_replay_report_free(&rep);
    memmove(line, strchr(line, '\n') + 1, strlen(strchr(line, '\n') + 1) + 1);
    assert_status(sf_replay_snapshot(snap, snap_len, false, text, strlen(text), &rep, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "does not continue the snapshot"));
}

/* The command: exit 0 for the recorded journal, 1 and the seq for an edited one. */
static void command_line(void **state)
{
    (void)state;
    new_fake(false, 300);
    scenario(false);
    FILE *f = fopen("replay-journal.jsonl", "w");
    assert_non_null(f);
    assert_status(sf_journal_write_data(fake, NULL, f, NULL), SF_OK);
    fclose(f);
    int rc = system("./syncfake-replay replay-journal.jsonl > replay-out.txt");
    assert_true(WIFEXITED(rc));
    assert_int_equal(WEXITSTATUS(rc), 0);
    text = journal_data();
    char *rate = strstr(text, "\"drop_rate\":0.5");
    memcpy(rate, "\"drop_rate\":0  ", 15);
    size_t len;
    unsigned long long seq;
    first_line_with(text, "\"kind\":\"dropped\"", &len, &seq);
    f = fopen("replay-journal.jsonl", "w");
    fputs(text, f);
    fclose(f);
    rc = system("./syncfake-replay replay-journal.jsonl > replay-out.txt");
    assert_int_equal(WEXITSTATUS(rc), 1);
    char out[256] = "", want[64];
    f = fopen("replay-out.txt", "r");
    assert_non_null(fgets(out, sizeof out, f));
    fclose(f);
    snprintf(want, sizeof want, "diverged at seq %llu ", seq);
    assert_memory_equal(out, want, strlen(want));
    rc = system("./syncfake-replay /nonexistent 2> /dev/null");
    assert_int_equal(WEXITSTATUS(rc), 2);
    remove("replay-journal.jsonl");
    remove("replay-out.txt");
}

/* The calls the scenario does not make: service and stream updates, lists, removal,
 * accounts and keys, account reset, injections cleared, run-until-idle, adapter refusals. */
static void other_calls(void)
{
    new_fake(false, 300);
    sf_service_record svc, svc2;
    sf_stream_record st;
    sf_service_params sp = {.friendly_name = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/",
                            .webhooks_from_rest_enabled = SF_BOOL_FALSE};
    assert_status(sf_service_create(fake, NULL, &sp, &svc, NULL), SF_OK);
    assert_status(sf_service_create(fake, NULL, NULL, &svc2, NULL), SF_OK);
    sf_service_params up = {.acl_enabled = (sf_opt_bool)7}; /* out of range: kept as given */
    sf_service_update(fake, NULL, svc.sid, &up, &svc, NULL);
    sf_service_update(fake, NULL, svc.sid, NULL, &svc, NULL);
    sf_service_fetch(fake, NULL, svc.sid, &svc, NULL);
    sf_service_page *sp_page = NULL;
    sf_page_params pp = {.has_page = true, .page = 0, .page_token = "bogus"};
    sf_service_list(fake, NULL, &pp, &sp_page, NULL);
    sf_service_page_free(fake, sp_page);
    sf_service_list(fake, NULL, NULL, &sp_page, NULL);
    sf_service_page_free(fake, sp_page);
    sf_service_remove(fake, NULL, svc2.sid, NULL);
    sf_stream_params tp = {.unique_name = "s", .has_ttl = true, .ttl = 10};
    assert_status(sf_stream_create(fake, NULL, svc.sid, &tp, &st, NULL), SF_OK);
    sf_stream_update(fake, NULL, svc.sid, "s", &tp, &st, NULL);
    sf_stream_update(fake, NULL, svc.sid, "s", NULL, &st, NULL);
    sf_stream_page *page = NULL;
    sf_stream_list(fake, NULL, svc.sid, NULL, &page, NULL);
    sf_stream_page_free(fake, page);
    sf_publish_params pub = {.data = "{}", .data_len = 2};
    sf_message_record m;
    sf_stream_publish(fake, NULL, svc.sid, "s", NULL, &m, NULL);
    sf_subscribe_params sub = {.on_event = count_event};
    sf_subscriber_id id;
    sf_subscribe(fake, NULL, svc.sid, "s", &sub, &id, NULL);
    sf_fault_params late = {.delay_ms = 500};
    sf_fault_add(fake, &late, NULL, NULL);
    sf_stream_publish(fake, NULL, svc.sid, "s", &pub, &m, NULL);
    sf_subscriber_hold(fake, id, NULL);
    sf_run_until_idle(fake);
    sf_subscriber_heal(fake, id, false, NULL);
    sf_stream_remove(fake, NULL, svc.sid, "s", NULL);
    sf_error_injection inj = {.op = SF_OP_STREAM_CREATE, .count = 1, .http_status = 500};
    sf_inject_error(fake, &inj, NULL);
    sf_inject_error(fake, NULL, NULL);
    sf_inject_clear(fake);
    sf_account_record acc;
    sf_api_key_record key;
    assert_status(sf_account_create(fake, NULL, &acc, NULL), SF_OK);
    sf_api_key_params kp = {.secret = "key-secret"};
    assert_status(sf_api_key_create(fake, acc.sid, &kp, &key, NULL), SF_OK);
    sf_account_reset(fake, acc.sid, NULL);
    sf_journal_refused(fake, SF_OP_STREAM_FETCH, svc.sid, "nope", SF_ERR_NOT_FOUND);
    text = journal_data();
    if (getenv("SF_REPLAY_DUMP"))
        fputs(text, stderr);
}

static void other_calls_replay(void **state)
{
    (void)state;
    other_calls();
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    if (rep.diverged)
        fail_msg("seq %llu\n%s\n%s", (unsigned long long)rep.seq, rep.expected, rep.got);
    assert_int_equal(rep.compared, count_lines(text));
}

/* What only an adapter sees (the HTTP face's warnings and requests refused before routing) is
 * recorded too, so a server's journal replays with its `warning` and `refused` entries. */
static void adapter_reports_replay(void **state)
{
    (void)state;
    new_fake(false, 300);
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_warn(fake, NULL, SF_OP_STREAM_CREATE, svc.sid, NULL, "Tll", "Ttl",
                          "Unknown parameter Tll (did you mean Ttl?); Twilio ignores it", NULL),
                  SF_OK);
    sf_journal_request_refused(fake, NULL, "DELETE", SF_ERR_METHOD_NOT_ALLOWED,
                               SF_REFUSAL_METHOD_NOT_ALLOWED);
    sf_journal_request_refused(fake, "ACnotanaccount", "GET", SF_ERR_AUTHENTICATE,
                               SF_REFUSAL_UNAUTHENTICATED);
    text = journal_data();
    assert_non_null(strstr(text, "\"kind\":\"warning\""));
    assert_non_null(strstr(text, "\"call\":\"warn\""));
    assert_non_null(strstr(text, "\"kind\":\"refused\""));
    assert_non_null(strstr(text, "\"call\":\"request.refused\""));
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    if (rep.diverged)
        fail_msg("seq %llu\n%s\n%s", (unsigned long long)rep.seq, rep.expected, rep.got);
    assert_int_equal(rep.compared, count_lines(text));
}

/* Recording turned on after the snapshot was taken (syncfake-server --load --record-calls):
 * its record.start is the first line after the snapshot, and the rest replays. Credentials
 * given in the options are recorded and used. */
static void snapshot_then_recording_starts(void **state)
{
    (void)state;
    sf_options o;
    sf_options_init(&o);
    o.account_sid = "AC0123456789abcdef0123456789abcdef";
    o.auth_token = "given-token";
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    sf_service_record svc;
    sf_stream_record st;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_snapshot_save_buffer(fake, &snap, &snap_len, NULL), SF_OK);
    assert_status(sf_journal_record_calls(fake, true, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL), SF_OK);
    publish(svc.sid, st.sid, "{}");
    text = journal_data();
    assert_non_null(strstr(text, "\"auth_token\":\"given-token\""));
    assert_status(sf_replay_snapshot(snap, snap_len, false, text, strlen(text), &rep, NULL), SF_OK);
    assert_false(rep.diverged);
    assert_int_equal(rep.compared, 3); /* record.start, stream.create, message.create */
    sf_replay_report_free(&rep);
    /* the same journal from a new fake: its record.start is not seq 1 of a fresh fake */
    expect_refused(text, "no parameters");
}

/* sf_account_reset removes that account's entries, calls included: refused, not guessed. */
static void removed_entries_are_refused(void **state)
{
    (void)state;
    new_fake(false, 300);
    sf_account_record acc;
    sf_service_record svc;
    assert_status(sf_account_create(fake, NULL, &acc, NULL), SF_OK);
    sf_service_create(fake, acc.sid, NULL, &svc, NULL);
    sf_service_create(fake, NULL, NULL, &svc, NULL);
    assert_status(sf_account_reset(fake, acc.sid, NULL), SF_OK);
    text = journal_data();
    expect_refused(text, "seq 4 follows seq 2: entries are missing");
}

/* A line written by hand (escapes the recorder never writes, upper-case hex) replays the
 * same bytes: the entries it makes are the recorded ones. */
static void hand_written_escapes_replay(void **state)
{
    (void)state;
    other_calls();
    const char *was = "\"friendly_name\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\"";
    const char *now = "\"friendly_name\":\"\\u00e9\\u20AC\\ud83d\\ude00\\/\"";
    char *at = strstr(text, was);
    assert_non_null(at);
    size_t n = strlen(text), wl = strlen(was), nl = strlen(now);
    char *edited = malloc(n - wl + nl + 1);
    assert_non_null(edited);
    memcpy(edited, text, (size_t)(at - text));
    memcpy(edited + (at - text), now, nl);
    strcpy(edited + (at - text) + nl, at + wl);
    free(text);
    text = edited;
    assert_status(sf_replay(text, strlen(text), &rep, NULL), SF_OK);
    assert_false(rep.diverged);
}

/* Edits that make a line unreadable: each is refused, naming the line. */
static void malformed_values_are_refused(void **state)
{
    (void)state;
    static const char *const edits[][2] = {
        {"\"acl_enabled\":7", "\"acl_enabled\":x"},
        {"\"page\":0", "\"page\":\"0\""},
        {"\"page_token\":\"bogus\"", "\"page_token\":1234567"},
        {"\"ttl\":10", "\"ttl\":1e1"},
        {"\"delay_ms\":500", "\"delay_ms\":5.0"},
        {"\"count\":1", "\"count\":-1"},
        {"\"flush\":false", "\"flush\":0"},
        {"\"data\":\"{}\"", "\"data_hex\":\"7\""},
        {"\"kind\":\"api\",\"op\":\"stream.list\"", "\"kind\":\"api\",\"op\":\"stream.nope\""},
        {"\"call\":\"inject.clear\"", "\"call\":\"inject.cleared\""},
        {"\"refused\":\"SF_ERR_NOT_FOUND\"", "\"refused\":\"SF_ERR_NOPE\""},
        {"\"call\":\"account.create\",\"params\":{}",
         "\"call\":\"account.create\",\"params\":{\"sid\":7}"},
        {"\"secret\":\"key-secret\"", "\"secret\":\"\\ud800\""},
        {"\"call\":\"run.until_idle\"", "\"call\":\"record.start\""},
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        other_calls();
        char *at = strstr(text, edits[i][0]);
        if (!at)
            fail_msg("edit %zu: \"%s\" not in the journal", i, edits[i][0]);
        size_t n = strlen(text), ol = strlen(edits[i][0]), nl = strlen(edits[i][1]);
        char *edited = malloc(n - ol + nl + 1);
        assert_non_null(edited);
        memcpy(edited, text, (size_t)(at - text));
        memcpy(edited + (at - text), edits[i][1], nl);
        strcpy(edited + (at - text) + nl, at + ol);
        sf_error err;
        sf_status st = sf_replay(edited, strlen(edited), &rep, &err);
        free(edited);
        if (st != SF_ERR_INVALID_ARGUMENT)
            fail_msg("edit %zu (%s): status %d, diverged %d", i, edits[i][1], st, rep.diverged);
        teardown(state);
    }
    assert_status(sf_replay("x", 1, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_replay(NULL, 0, &rep, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_replay_snapshot(NULL, 0, false, "", 0, &rep, NULL), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_replay_snapshot("x", 1, false, "", 0, NULL, NULL), SF_ERR_INVALID_ARGUMENT);
}

static int run_command(const char *args)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "./syncfake-replay %s > replay-snap-out.txt 2>&1", args);
    int rc = system(cmd);
    assert_true(WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static void write_file(const char *path, const char *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

/* The command from a snapshot: manual and external clocks. */
static void command_line_snapshot(void **state)
{
    for (int external = 0; external < 2; external++) {
        record_with_snapshot(external);
        write_file("replay-snap.bin", snap, snap_len);
        write_file("replay-snap.jsonl", text, strlen(text));
        assert_int_equal(run_command(external ? "--snapshot replay-snap.bin --clock external "
                                                "replay-snap.jsonl"
                                              : "--snapshot replay-snap.bin replay-snap.jsonl"),
                         0);
        assert_int_equal(run_command("--snapshot replay-snap.bin"), 2); /* no journal */
        teardown(state);
    }
    remove("replay-snap.bin");
    remove("replay-snap.jsonl");
    remove("replay-snap-out.txt");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(manual_clock_replays, teardown),
        cmocka_unit_test_teardown(external_clock_replays, teardown),
        cmocka_unit_test_teardown(edited_rule_diverges_at_first_drop, teardown),
        cmocka_unit_test_teardown(changed_limit_diverges_at_rate_limit, teardown),
        cmocka_unit_test_teardown(missing_and_extra_lines_diverge, teardown),
        cmocka_unit_test_teardown(unreplayable_journals_are_errors, teardown),
        cmocka_unit_test_teardown(nested_calls_are_errors, teardown),
        cmocka_unit_test_teardown(dropped_params_are_errors, teardown),
        cmocka_unit_test_teardown(snapshot_manual_replays, teardown),
        cmocka_unit_test_teardown(snapshot_external_replays, teardown),
        cmocka_unit_test_teardown(snapshot_journal_mismatch, teardown),
        cmocka_unit_test_teardown(other_calls_replay, teardown),
        cmocka_unit_test_teardown(hand_written_escapes_replay, teardown),
        cmocka_unit_test_teardown(removed_entries_are_refused, teardown),
        cmocka_unit_test_teardown(snapshot_then_recording_starts, teardown),
        cmocka_unit_test_teardown(malformed_values_are_refused, teardown),
        cmocka_unit_test_teardown(adapter_reports_replay, teardown),
        cmocka_unit_test_teardown(command_line, teardown),
        cmocka_unit_test_teardown(command_line_snapshot, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
