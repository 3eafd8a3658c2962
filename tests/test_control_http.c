/* SPDX-License-Identifier: MIT */
/* test_control_http.c: the control API over the in-process dispatcher, where the golden cases
 * cannot reach: a full journal read page by page (each answer bounded, every entry exactly
 * once, byte-identical for the same calls), the admin credential, and what an account's reset
 * does to the event streams of its subscribers and of the others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "syncfake_http.h"
#include "two_accounts.h"

/* Basic admin:root-token, admin:wrong */
#define AUTH_ADMIN "Basic YWRtaW46cm9vdC10b2tlbg=="
#define AUTH_ADMIN_WRONG "Basic YWRtaW46d3Jvbmc="

/* What the journal route promises: at most this many lines, each under 1 KB. */
#define PAGE_DEFAULT 1000
#define PAGE_MAX 10000
#define LINE_MAX_BYTES 1024

/* One request: `form` is the body of a POST; `admin` gives the request the admin
 * credential admin:root-token, as a server started with --admin does. */
static int send(sf_fake *fake, const char *method, const char *target, const char *auth,
                const char *form, const sf_http_events_hook *events, bool admin,
                sf_http_response *resp)
{
    sf_http_header h[2] = {{"Authorization", auth},
                           {"Content-Type", "application/x-www-form-urlencoded"}};
    sf_http_request req = {.method = method,
                           .target = target,
                           .headers = h,
                           .header_count = 2,
                           .body = form,
                           .body_len = form ? strlen(form) : 0,
                           .events = events,
                           .admin_sid = admin ? "admin" : NULL,
                           .admin_token = admin ? "root-token" : NULL};
    return sf_http_dispatch(fake, &req, resp);
}

static int status_of(sf_fake *fake, const char *method, const char *target, const char *auth,
                     const char *form, bool admin)
{
    sf_http_response r;
    int st = send(fake, method, target, auth, form, NULL, admin, &r);
    sf_http_response_free(&r);
    return st;
}

static size_t count_lines(const char *text, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    return n;
}

/* Every held entry, read as pages of `limit` (0: the default page), concatenated. */
static char *read_all_pages(sf_fake *fake, unsigned limit, size_t *pages)
{
    size_t len = 0, page_limit = limit ? limit : PAGE_DEFAULT;
    char *all = calloc(1, 1);
    unsigned long long since = 0;
    *pages = 0;
    for (;;) {
        char target[96];
        if (limit)
            snprintf(target, sizeof target, "/_syncfake/journal?since=%llu&limit=%u", since, limit);
        else
            snprintf(target, sizeof target, "/_syncfake/journal?since=%llu", since);
        sf_http_response r;
        assert_int_equal(send(fake, "GET", target, AUTH_A, NULL, NULL, false, &r), 200);
        size_t lines = count_lines(r.body, r.body_len);
        assert_true(lines <= page_limit);
        assert_true(r.body_len <= page_limit * LINE_MAX_BYTES); /* the bound on one answer */
        (*pages)++;
        all = realloc(all, len + r.body_len + 1);
        assert_non_null(all);
        memcpy(all + len, r.body, r.body_len + 1);
        len += r.body_len;
        if (lines == page_limit) { /* a full page: the next starts after its last seq */
            const char *last = r.body_len > 1 ? r.body + r.body_len - 2 : r.body;
            while (last > r.body && last[-1] != '\n')
                last--;
            assert_int_equal(sscanf(last, "{\"seq\":%llu", &since), 1);
        }
        sf_http_response_free(&r);
        if (lines < page_limit)
            return all;
    }
}

/* A full journal (25,000 entries, the ring wrapped): no answer exceeds its page bound, and the
 * pages together are the whole journal, each entry once, the same for the same calls. (Kept
 * smaller than the default 65,536 so that the valgrind run stays short.) */
static void test_journal_pages_are_bounded_and_complete(void **state)
{
    (void)state;
    char *first = NULL;
    for (int round = 0; round < 2; round++) {
        sf_fake *fake = sf_test_accounts_fake(25000, true);
        for (int i = 0; i < 30000; i++)
            sf_service_fetch(fake, i % 2 ? A_SID : B_SID, "IS00000000000000000000000000000000",
                             NULL, NULL);
        assert_int_equal(sf_journal_count(fake), 25000);
        size_t need = sf_journal_render(fake, NULL, NULL, 0);
        char *whole = malloc(need + 1);
        sf_journal_render(fake, NULL, whole, need + 1);

        sf_http_response r;
        assert_int_equal(send(fake, "GET", "/_syncfake/journal", AUTH_A, NULL, NULL, false, &r),
                         200);
        assert_int_equal(count_lines(r.body, r.body_len), PAGE_DEFAULT);
        assert_true(r.body_len <= PAGE_DEFAULT * LINE_MAX_BYTES);
        sf_http_response_free(&r);

        size_t pages;
        char *paged = read_all_pages(fake, PAGE_MAX, &pages);
        assert_int_equal(pages, 3); /* 2 full pages and 5,000 entries */
        assert_string_equal(paged, whole);
        free(paged);
        paged = read_all_pages(fake, 0, &pages);
        assert_int_equal(pages, 26); /* 25 full pages, then an empty one */
        assert_string_equal(paged, whole);
        free(paged);

        /* account B's pages: only its own entries, every one of them */
        sf_journal_filter only_b = {.account_sid = B_SID};
        size_t b_need = sf_journal_render(fake, &only_b, NULL, 0);
        assert_int_equal(
            send(fake, "GET", "/_syncfake/journal?limit=10000", AUTH_B, NULL, NULL, false, &r),
            200);
        assert_int_equal(count_lines(r.body, r.body_len), PAGE_MAX); /* of B's 12,500 */
        assert_true(r.body_len < b_need);
        assert_non_null(strstr(r.body, "\"seq\":5001,")); /* B made the odd-numbered calls */
        assert_null(strstr(r.body, "\"seq\":5002,"));
        sf_http_response_free(&r);

        if (round == 0)
            first = whole;
        else {
            assert_string_equal(whole, first); /* same calls, same journal */
            free(whole);
            free(first);
        }
        sf_fake_free(fake);
    }
}

static void test_admin_credential(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(65536, true);
    const char *clock = "/_syncfake/clock";
    /* B may not move the clock; the admin may, and so may A (the fake's own account) */
    assert_int_equal(status_of(fake, "POST", clock, AUTH_B, "AdvanceMs=1", false), 403);
    assert_int_equal(status_of(fake, "POST", clock, AUTH_ADMIN, "AdvanceMs=1", true), 200);
    assert_int_equal(status_of(fake, "POST", clock, AUTH_A, "AdvanceMs=1", false), 200);
    assert_int_equal(sf_clock_now(fake), SF_DEFAULT_EPOCH_MS + 2);
    /* a wrong token, no admin configured, or the Twilio API: 401 */
    assert_int_equal(status_of(fake, "POST", clock, AUTH_ADMIN_WRONG, "AdvanceMs=1", true), 401);
    assert_int_equal(status_of(fake, "GET", clock, AUTH_ADMIN, NULL, false), 401);
    assert_int_equal(status_of(fake, "GET", "/v1/Services", AUTH_ADMIN, NULL, true), 401);
    /* the admin sees B's rules; a reset by B is B's, a reset by the admin the whole fake's */
    assert_int_equal(status_of(fake, "POST", "/_syncfake/faults", AUTH_B, "DelayMs=5", false), 201);
    assert_int_equal(status_of(fake, "GET", "/_syncfake/faults/1", AUTH_ADMIN, NULL, true), 200);
    sf_http_response r;
    assert_int_equal(send(fake, "POST", "/_syncfake/reset", AUTH_B, NULL, NULL, false, &r), 204);
    assert_false(r.fake_was_reset);
    sf_http_response_free(&r);
    assert_int_equal(sf_fault_list(fake, NULL, 0), 0);
    assert_int_equal(sf_fake_generation(fake), 0);
    assert_int_equal(send(fake, "POST", "/_syncfake/reset", AUTH_ADMIN, NULL, NULL, true, &r), 204);
    assert_true(r.fake_was_reset);
    sf_http_response_free(&r);
    assert_int_equal(sf_fake_generation(fake), 1);
    sf_fake_free(fake);
}

typedef struct stream_events {
    unsigned published, removed;
} stream_events;

static void count_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    stream_events *e = user;
    if (ev->kind == SF_EVENT_REMOVED)
        e->removed++;
    else
        e->published++;
}

/* B's reset ends B's event streams with `removed` (the server then closes them); A's go on. */
static void test_account_reset_ends_only_its_event_streams(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(65536, true);
    stream_events ev[2] = {{0, 0}, {0, 0}};
    sf_http_events_hook hooks[2] = {{count_event, &ev[0]}, {count_event, &ev[1]}};
    const char *auth[2] = {AUTH_A, AUTH_B}, *acct[2] = {A_SID, B_SID};
    char svc[2][SF_SID_SIZE], events[2][160];
    for (int i = 0; i < 2; i++) {
        sf_service_record s;
        sf_stream_params sp = {.unique_name = "s"};
        assert_status(sf_service_create(fake, acct[i], NULL, &s, NULL), SF_OK);
        assert_status(sf_stream_create(fake, acct[i], s.sid, &sp, NULL, NULL), SF_OK);
        memcpy(svc[i], s.sid, SF_SID_SIZE);
        snprintf(events[i], sizeof events[i], "/_syncfake/Services/%s/Streams/s/Events", s.sid);
        sf_http_response r;
        assert_int_equal(send(fake, "GET", events[i], auth[i], NULL, &hooks[i], false, &r), 200);
        assert_true(r.event_stream);
        sf_http_response_free(&r);
    }
    assert_int_equal(status_of(fake, "POST", "/_syncfake/reset", AUTH_B, NULL, false), 204);
    assert_int_equal(ev[1].removed, 1);
    assert_int_equal(ev[0].removed, 0);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(fake, A_SID, svc[0], "s", &pp, NULL, NULL), SF_OK);
    assert_int_equal(ev[0].published, 1);
    /* B's old subscriber is gone for B too */
    assert_int_equal(status_of(fake, "GET", "/_syncfake/subscribers/2", AUTH_B, NULL, false), 404);
    assert_int_equal(status_of(fake, "GET", "/_syncfake/subscribers/1", AUTH_A, NULL, false), 200);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_journal_pages_are_bounded_and_complete),
        cmocka_unit_test(test_admin_credential),
        cmocka_unit_test(test_account_reset_ends_only_its_event_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
