/* SPDX-License-Identifier: MIT */
/* test_account_scope.c: what belongs to an account (fault rules, error injections,
 * subscribers, journal entries) and sf_account_reset, which clears one account's things and
 * leaves every other account, and everything fake-wide, as it was.
 *
 * Two accounts share one fake as two parallel test workers would: A is the fake's default
 * account, B an extra one. Each has a service, a stream and a subscriber. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "syncfake.h"

#define B_SID "AC000000000000000000000000000000b2"

typedef struct seen {
    unsigned messages, removed;
} seen;

static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    seen *s = user;
    if (ev->kind == SF_EVENT_MESSAGE_PUBLISHED)
        s->messages++;
    else
        s->removed++;
}

/* Re-entrant callback: tries to reset an account from inside a delivery. */
static sf_status inner_reset = SF_OK;
static void reset_inside(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)ev;
    (void)user;
    inner_reset = sf_account_reset(fake, B_SID, NULL);
}

typedef struct world {
    sf_fake *fake;
    char svc[2][SF_SID_SIZE], stream[2][SF_SID_SIZE];
    sf_subscriber_id sub[2];
    seen seen[2];
} world;

static const char *acct(int i) { return i == 0 ? NULL : B_SID; }

static void build(world *w)
{
    memset(w, 0, sizeof *w);
    sf_error err;
    assert_status(sf_fake_new(NULL, &w->fake, &err), SF_OK);
    sf_account_params ap = {.sid = B_SID, .auth_token = "b-token"};
    assert_status(sf_account_create(w->fake, &ap, NULL, &err), SF_OK);
    for (int i = 0; i < 2; i++) {
        sf_service_record svc;
        sf_stream_record st;
        assert_status(sf_service_create(w->fake, acct(i), NULL, &svc, &err), SF_OK);
        assert_status(sf_stream_create(w->fake, acct(i), svc.sid, NULL, &st, &err), SF_OK);
        memcpy(w->svc[i], svc.sid, SF_SID_SIZE);
        memcpy(w->stream[i], st.sid, SF_SID_SIZE);
        sf_subscribe_params sp = {.on_event = on_event, .user = &w->seen[i]};
        assert_status(sf_subscribe(w->fake, acct(i), svc.sid, st.sid, &sp, &w->sub[i], &err),
                      SF_OK);
    }
}

static sf_status publish(world *w, int i)
{
    sf_publish_params pp = {.data = "{\"n\":1}", .data_len = 7};
    return sf_stream_publish(w->fake, acct(i), w->svc[i], w->stream[i], &pp, NULL, NULL);
}

/* Every journal entry of an account as JSON Lines (malloc'd). */
static char *journal_of(sf_fake *fake, const char *account_sid)
{
    sf_journal_filter f = {.account_sid = account_sid};
    size_t n = sf_journal_render(fake, &f, NULL, 0);
    char *text = malloc(n + 1);
    assert_non_null(text);
    sf_journal_render(fake, &f, text, n + 1);
    return text;
}

static void test_entries_know_their_account(void **state)
{
    (void)state;
    world w;
    build(&w);
    assert_status(publish(&w, 0), SF_OK);
    assert_status(publish(&w, 1), SF_OK);
    /* B asks for A's service: B's own call, so B's entry */
    assert_status(sf_service_fetch(w.fake, B_SID, w.svc[0], NULL, NULL), SF_ERR_NOT_FOUND);
    uint64_t cursor = 0;
    sf_journal_entry e;
    size_t a = 0, b = 0;
    while (sf_journal_next(w.fake, NULL, &cursor, &e)) {
        bool is_b = strcmp(e.account_sid, B_SID) == 0;
        assert_true(is_b || strcmp(e.account_sid, sf_fake_account_sid(w.fake)) == 0);
        if (e.service_sid[0] && e.kind != SF_JOURNAL_API)
            assert_string_equal(e.service_sid, w.svc[is_b]); /* fates: the stream's account */
        is_b ? b++ : a++;
    }
    /* each: service.create, stream.create, subscribed, message.create, delivered; B: +fetch */
    assert_int_equal(a, 5);
    assert_int_equal(b, 6);
    /* the filter gives B's six, none of A's (A's service shows only in B's failed fetch) */
    char *only_b = journal_of(w.fake, B_SID);
    size_t lines = 0;
    for (const char *p = only_b; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 6);
    char a_create[160];
    snprintf(a_create, sizeof a_create,
             "\"op\":\"service.create\",\"status\":201,\"code\":0,"
             "\"injected\":false,\"service_sid\":\"%s\"",
             w.svc[0]);
    assert_null(strstr(only_b, a_create));
    free(only_b);

    /* a call naming an unknown account is no account's; a refused call is its caller's */
    size_t before = sf_journal_count(w.fake);
    sf_service_fetch(w.fake, "AC0123456789abcdef0123456789abcdef", w.svc[0], NULL, NULL);
    sf_journal_refused_as(w.fake, B_SID, SF_OP_STREAM_LIST, w.svc[1], NULL,
                          SF_ERR_INVALID_PAGE_SIZE);
    cursor = before;
    assert_true(sf_journal_next(w.fake, NULL, &cursor, &e));
    assert_string_equal(e.account_sid, "");
    assert_true(sf_journal_next(w.fake, NULL, &cursor, &e));
    assert_string_equal(e.account_sid, B_SID);
    assert_int_equal(e.status, 400);
    sf_fake_free(w.fake);
}

static void test_rules_act_on_their_account_only(void **state)
{
    (void)state;
    world w;
    build(&w);
    sf_error err;
    sf_fault_params drop = {.scope = SF_SCOPE_FAKE, .drop_rate = 1.0, .account_sid = B_SID};
    sf_fault_id id;
    assert_status(sf_fault_add(w.fake, &drop, &id, &err), SF_OK);
    assert_status(publish(&w, 0), SF_OK);
    assert_status(publish(&w, 1), SF_OK);
    assert_int_equal(w.seen[0].messages, 1); /* A's delivery untouched */
    assert_int_equal(w.seen[1].messages, 0); /* B's dropped */

    sf_fault_info info[4];
    assert_int_equal(sf_fault_list(w.fake, info, 4), 1);
    assert_string_equal(info[0].account_sid, B_SID);
    assert_ptr_equal(info[0].params.account_sid, info[0].account_sid);

    /* B's rule may not name A's subscriber, nor an unknown account be named */
    sf_fault_params on_a = {.scope = SF_SCOPE_SUBSCRIBER,
                            .subscriber = w.sub[0],
                            .drop_rate = 1.0,
                            .account_sid = B_SID};
    assert_status(sf_fault_add(w.fake, &on_a, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "unknown subscriber"));
    sf_fault_params ghost = {.scope = SF_SCOPE_FAKE,
                             .account_sid = "AC"
                                            "0123456789abcdef0123456789abcdef"};
    assert_status(sf_fault_add(w.fake, &ghost, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    on_a.account_sid = NULL; /* a rule for every account may */
    assert_status(sf_fault_add(w.fake, &on_a, NULL, &err), SF_OK);
    sf_fake_free(w.fake);
}

static void test_injections_hit_their_account_only(void **state)
{
    (void)state;
    world w;
    build(&w);
    sf_error err;
    sf_error_injection inj = {.op = SF_OP_MESSAGE_CREATE,
                              .count = 1,
                              .http_status = 503,
                              .code = 20503,
                              .account_sid = B_SID};
    assert_status(sf_inject_error(w.fake, &inj, &err), SF_OK);
    assert_status(publish(&w, 0), SF_OK); /* A's call passes it by */
    assert_status(publish(&w, 1), SF_ERR_INJECTED);
    assert_status(publish(&w, 1), SF_OK); /* used up */
    inj.account_sid = "AC"
                      "0123456789abcdef0123456789abcdef";
    assert_status(sf_inject_error(w.fake, &inj, &err), SF_ERR_INVALID_ARGUMENT);
    sf_fake_free(w.fake);
}

/* The state sf_account_reset must leave alone: A's records, the SID counters (the next
 * service SID), the clock and the generation. Compared with a twin that never reset. */
/* Puts fault rules and injections on x, some for account B only and some for every account,
 * then publishes once for A and once for B (B's delivery stays in flight for 60 ms). */
static void add_rules_and_publish(world *x)
{
    sf_error err;
    sf_fault_params delay = {.scope = SF_SCOPE_FAKE, .delay_ms = 50, .account_sid = B_SID};
    sf_fault_params every = {.scope = SF_SCOPE_FAKE, .delay_ms = 10};
    assert_status(sf_fault_add(x->fake, &delay, NULL, &err), SF_OK);
    assert_status(sf_fault_add(x->fake, &every, NULL, &err), SF_OK);
    sf_error_injection inj = {.op = SF_OP_STREAM_CREATE,
                              .count = 5,
                              .http_status = 500,
                              .code = 20500,
                              .account_sid = B_SID};
    assert_status(sf_inject_error(x->fake, &inj, &err), SF_OK);
    sf_error_injection any = {.op = SF_OP_SERVICE_UPDATE, .count = 1, .http_status = 500};
    assert_status(sf_inject_error(x->fake, &any, &err), SF_OK);
    sf_fault_params on_b = {.scope = SF_SCOPE_SUBSCRIBER,
                            .subscriber = x->sub[1],
                            .duplicate_rate = 0.5,
                            .account_sid = B_SID};
    assert_status(sf_fault_add(x->fake, &on_b, NULL, &err), SF_OK);
    assert_status(publish(x, 0), SF_OK);
    assert_status(publish(x, 1), SF_OK); /* B's delivery is in flight (60 ms) */
}

/* After B's reset: nothing of B is left, its subscriber was told and forgotten, only the
 * every-account rule and injection stay, and B can create again (svc: its new service). */
static void check_b_cleared(world *w, sf_service_record *svc)
{
    sf_error err;
    char *b_after = journal_of(w->fake, B_SID);
    assert_string_equal(b_after, "");
    free(b_after);
    sf_service_page *page;
    assert_status(sf_service_list(w->fake, B_SID, NULL, &page, &err), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_service_page_free(w->fake, page);
    assert_int_equal(w->seen[1].removed, 1);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(w->fake, w->sub[1], &st, &err), SF_OK);
    assert_string_equal(st.account_sid, "");
    assert_false(st.attached);
    sf_fault_info info[4];
    assert_int_equal(sf_fault_list(w->fake, info, 4), 1); /* the every-account rule stays */
    assert_string_equal(info[0].account_sid, "");
    assert_status(sf_service_update(w->fake, B_SID, w->svc[0], NULL, NULL, &err),
                  SF_ERR_INJECTED); /* and so does the every-account injection */
    assert_status(sf_service_create(w->fake, B_SID, NULL, svc, &err), SF_OK);
    assert_status(sf_stream_create(w->fake, B_SID, svc->sid, NULL, NULL, &err), SF_OK);
}

/* After B's reset, A is as it was (journal a_before) with its delivery still due at 10 ms;
 * B's cancelled delivery left no `lost` entry. */
static void check_a_untouched(world *w, const char *a_before)
{
    sf_error err;
    char *a_after = journal_of(w->fake, sf_fake_account_sid(w->fake));
    assert_string_equal(a_after, a_before);
    free(a_after);
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(w->fake, w->sub[0], &st, &err), SF_OK);
    assert_string_equal(st.account_sid, sf_fake_account_sid(w->fake));
    assert_int_equal(st.in_flight, 1);
    assert_int_equal(sf_pending_deliveries(w->fake), 1);
    sf_run_until_idle(w->fake);
    assert_int_equal(w->seen[0].messages, 1);
    assert_int_equal(w->seen[1].messages, 0);
    char *b_after = journal_of(w->fake, B_SID); /* the cancelled delivery left no `lost` behind */
    assert_null(strstr(b_after, "\"kind\":\"lost\""));
    assert_non_null(strstr(b_after, "\"op\":\"stream.create\",\"status\":201"));
    free(b_after);
}

static void test_account_reset_clears_one_account(void **state)
{
    (void)state;
    world w, twin;
    build(&w);
    build(&twin);
    sf_error err;
    add_rules_and_publish(&w);
    add_rules_and_publish(&twin);
    char *a_before = journal_of(w.fake, sf_fake_account_sid(w.fake));
    uint64_t generation = sf_fake_generation(w.fake);
    sf_ms now = sf_clock_now(w.fake);

    assert_status(sf_account_reset(w.fake, B_SID, &err), SF_OK);
    sf_service_record svc;
    check_b_cleared(&w, &svc);
    check_a_untouched(&w, a_before);
    free(a_before);

    /* fake-wide: clock and generation kept; SIDs go on as if there had been no reset */
    assert_int_equal(sf_fake_generation(w.fake), generation);
    assert_true(sf_clock_now(w.fake) >= now);
    sf_service_record twin_svc;
    assert_status(sf_service_create(twin.fake, B_SID, NULL, &twin_svc, &err), SF_OK);
    assert_string_equal(svc.sid, twin_svc.sid);
    sf_fake_free(twin.fake);
    sf_fake_free(w.fake);
}

static void test_account_reset_errors(void **state)
{
    (void)state;
    sf_error err;
    assert_status(sf_account_reset(NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    world w;
    build(&w);
    assert_status(sf_account_reset(w.fake,
                                   "AC"
                                   "0123456789abcdef0123456789abcdef",
                                   &err),
                  SF_ERR_NOT_FOUND);
    /* inside a callback: refused, nothing happens */
    sf_subscribe_params sp = {.on_event = reset_inside};
    assert_status(sf_subscribe(w.fake, NULL, w.svc[0], w.stream[0], &sp, NULL, &err), SF_OK);
    assert_status(publish(&w, 0), SF_OK);
    assert_status(inner_reset, SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_stream_fetch(w.fake, B_SID, w.svc[1], w.stream[1], NULL, &err), SF_OK);
    /* NULL: the default account, whose things go like any other's */
    assert_status(sf_account_reset(w.fake, NULL, &err), SF_OK);
    assert_status(sf_service_fetch(w.fake, NULL, w.svc[0], NULL, &err), SF_ERR_NOT_FOUND);
    assert_status(sf_stream_fetch(w.fake, B_SID, w.svc[1], w.stream[1], NULL, &err), SF_OK);
    sf_fake_free(w.fake);
}

/* Reading page after page (cursor after the last seq read) sees every entry exactly once,
 * also after the ring wrapped and after an account's entries were taken out. */
static void test_journal_pages_cover_every_entry_once(void **state)
{
    (void)state;
    sf_options o;
    sf_options_init(&o);
    o.journal_capacity = 300;
    sf_fake *fake;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    sf_account_params ap = {.sid = B_SID, .auth_token = "b-token"};
    assert_status(sf_account_create(fake, &ap, NULL, NULL), SF_OK);
    for (int i = 0; i < 500; i++) /* wraps the ring of 300 */
        sf_service_fetch(fake, i % 3 ? NULL : B_SID, "IS00000000000000000000000000000000", NULL,
                         NULL);
    assert_status(sf_account_reset(fake, B_SID, NULL), SF_OK); /* a hole in every third */
    for (unsigned page = 1; page <= 7; page += 3) {
        uint64_t since = 0, last = 0;
        size_t seen_count = 0;
        for (;;) {
            uint64_t cursor = sf_journal_cursor_after(fake, since);
            sf_journal_entry e;
            size_t n = 0;
            while (n < page && sf_journal_next(fake, NULL, &cursor, &e)) {
                assert_true(e.seq > last); /* in order, none twice */
                last = since = e.seq;
                n++;
                seen_count++;
            }
            if (n < page)
                break;
        }
        assert_int_equal(seen_count, sf_journal_count(fake));
    }
    assert_int_equal(sf_journal_cursor_after(fake, UINT64_MAX), sf_journal_count(fake));
    assert_int_equal(sf_journal_cursor_after(NULL, 0), 0);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries_know_their_account),
        cmocka_unit_test(test_rules_act_on_their_account_only),
        cmocka_unit_test(test_injections_hit_their_account_only),
        cmocka_unit_test(test_account_reset_clears_one_account),
        cmocka_unit_test(test_account_reset_errors),
        cmocka_unit_test(test_journal_pages_cover_every_entry_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
