/* SPDX-License-Identifier: MIT */
/* test_warnings.c: warnings about what Twilio silently ignores. On the wire they never change
 * an answer (only the Syncfake-Warning header and `warning` journal entries differ); from C
 * they reach sf_options.on_warning; strict mode refuses instead and changes nothing. Also
 * publish's data_len 0 (strlen) and sf_stream_lookup. */
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

#define AUTH "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQtdG9rZW4="
#define SVC "ISe68e6fc01df08360b815246f417cade2"

typedef struct seen {
    int count;
    int op;
    char param[64], suggestion[64], message[SF_WARNING_SIZE];
} seen;

static void on_warning(const sf_warning *w, void *user)
{
    seen *s = user;
    s->count++;
    s->op = w->op;
    snprintf(s->param, sizeof s->param, "%s", w->param ? w->param : "");
    snprintf(s->suggestion, sizeof s->suggestion, "%s", w->suggestion ? w->suggestion : "");
    snprintf(s->message, sizeof s->message, "%s", w->message);
}

static sf_fake *new_fake(bool strict, seen *s)
{
    sf_options o;
    sf_options_init(&o);
    o.account_sid = "AC00000000000000000000000000000001";
    o.auth_token = "secret-token";
    o.strict_params = strict;
    o.on_warning = s ? on_warning : NULL;
    o.warning_user = s;
    sf_fake *fake;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    return fake;
}

static int send(sf_fake *fake, const char *method, const char *target, const char *type,
                const char *body, sf_http_response *resp)
{
    sf_http_header h[2] = {{"Authorization", AUTH}, {"Content-Type", type}};
    sf_http_request req = {.method = method,
                           .target = target,
                           .headers = h,
                           .header_count = type ? 2 : 1,
                           .body = body,
                           .body_len = body ? strlen(body) : 0};
    return sf_http_dispatch(fake, &req, resp);
}

/* One request of the transcript: the body without and with the mistake. */
typedef struct exchange {
    const char *method, *target, *type, *clean, *typo;
} exchange;

#define FORM "application/x-www-form-urlencoded"
static const exchange transcript[] = {
    {"POST", "/v1/Services", FORM, "FriendlyName=a", "FriendlyName=a&FriendlyNme=b"},
    {"POST", "/v1/Services/" SVC "/Streams", FORM, "UniqueName=s", "UniqueName=s&Tll=60"},
    {"POST", "/v1/Services/" SVC "/Streams", FORM, "UniqueName=t&Ttl=1",
     "UniqueName=t&Ttl=1&ttl=9"},
    {"POST", "/v1/Services/" SVC "/Streams/s", FORM, "Ttl=5", "Ttl=5&UniqueName=x"},
    {"POST", "/v1/Services/" SVC "/Streams/s/Messages", FORM, "Data=%7B%7D", "Data=%7B%7D&Date=1"},
    {"POST", "/v1/Services/" SVC "/Streams/s/Messages", "application/json", "", "{\"Data\":{}}"},
    {"GET", "/v1/Services/" SVC "/Streams?PageSize=1", NULL, NULL, NULL},
    {"GET", "/v1/Services/" SVC "/Streams?PageSize=1&pagesize=2", NULL, NULL, NULL},
    {"DELETE", "/v1/Services/" SVC "/Streams/t", NULL, NULL, NULL},
};

/* The journal without its warning entries (seq renumbered away: compared by content). */
static char *journal_without_warnings(sf_fake *fake)
{
    sf_journal_filter f = {.kinds = ~(1u << SF_JOURNAL_WARNING)};
    size_t n = sf_journal_render(fake, &f, NULL, 0);
    char *text = malloc(n + 1);
    assert_non_null(text);
    sf_journal_render(fake, &f, text, n + 1);
    /* drop each "seq":N, so that the two journals compare entry by entry */
    char *out = text, *in = text;
    while (*in) {
        if (strncmp(in, "\"seq\":", 6) == 0) {
            in += 6;
            while (*in >= '0' && *in <= '9')
                in++;
            continue;
        }
        *out++ = *in++;
    }
    *out = '\0';
    return text;
}

/* The same calls with and without the mistakes: the same status, type and body every time;
 * the header only with them. (The 6th and 8th exchanges differ only in the typo's form.) */
static void test_warnings_never_change_the_answer(void **state)
{
    (void)state;
    sf_fake *clean = new_fake(false, NULL), *typo = new_fake(false, NULL);
    for (size_t i = 0; i < sizeof transcript / sizeof transcript[0]; i++) {
        const exchange *x = &transcript[i];
        sf_http_response a, b;
        const char *clean_target = x->target, *typo_target = x->target;
        if (i == 7)
            clean_target = transcript[6].target;
        send(clean, x->method, clean_target, x->type, x->clean, &a);
        send(typo, x->method, typo_target, x->type, x->typo ? x->typo : x->clean, &b);
        assert_int_equal(a.status, b.status);
        assert_true((a.content_type == NULL) == (b.content_type == NULL));
        if (a.content_type)
            assert_string_equal(a.content_type, b.content_type);
        assert_int_equal(a.body_len, b.body_len);
        assert_memory_equal(a.body ? a.body : "", b.body ? b.body : "", a.body_len);
        assert_string_equal(a.warning, "");
        bool mistaken = x->typo || i == 7; /* 7: the typo is in the query */
        assert_int_equal(strlen(b.warning) > 0, mistaken);
        sf_http_response_free(&a);
        sf_http_response_free(&b);
    }
    char *ja = journal_without_warnings(clean), *jb = journal_without_warnings(typo);
    assert_string_equal(ja, jb);
    free(ja);
    free(jb);
    sf_fake_free(clean);
    sf_fake_free(typo);
}

static void test_strict_http_refuses_and_changes_nothing(void **state)
{
    (void)state;
    seen s = {0};
    sf_fake *fake = new_fake(true, &s);
    sf_http_response r;
    assert_int_equal(send(fake, "POST", "/v1/Services", FORM, "", &r), 201);
    sf_http_response_free(&r);
    assert_int_equal(send(fake, "POST", "/v1/Services/" SVC "/Streams", FORM, "Tll=60", &r), 400);
    assert_non_null(strstr(r.body, "\"code\": 20001"));
    assert_non_null(strstr(r.body, "Invalid parameter: Unknown parameter Tll (did you mean "
                                   "Ttl?); Twilio ignores it (strict mode)"));
    assert_string_equal(r.warning, "Unknown parameter Tll (did you mean Ttl?); Twilio ignores it");
    sf_http_response_free(&r);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.param, "Tll");
    assert_string_equal(s.suggestion, "Ttl");
    assert_int_equal(s.op, SF_OP_STREAM_CREATE);
    sf_stream_page *page;
    assert_status(sf_stream_list(fake, NULL, SVC, NULL, &page, NULL), SF_OK);
    assert_int_equal(page->info.count, 0);
    sf_stream_page_free(fake, page);
    char text[4096];
    sf_journal_render(fake, NULL, text, sizeof text);
    assert_non_null(strstr(text, "\"kind\":\"warning\",\"op\":\"stream.create\""));
    assert_non_null(strstr(text, "\"op\":\"stream.create\",\"status\":400,\"code\":20001"));
    sf_fake_free(fake);
}

static void test_c_warnings_reach_the_hook(void **state)
{
    (void)state;
    seen s = {0};
    sf_fake *fake = new_fake(false, &s);
    sf_service_record svc;
    sf_service_params sp = {.reachability_debouncing_window = 5000};
    assert_status(sf_service_create(fake, NULL, &sp, &svc, NULL), SF_OK);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.param, "reachability_debouncing_window");
    assert_string_equal(s.suggestion, "has_reachability_debouncing_window");
    sf_stream_params p = {.unique_name = "s", .ttl = 60}; /* has_ttl forgotten */
    sf_stream_record rec;
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, &rec, NULL), SF_OK);
    assert_false(rec.has_date_expires); /* done as asked: no TTL */
    assert_int_equal(s.count, 2);
    assert_string_equal(s.message,
                        "ttl is set but has_ttl is false (did you mean to set has_ttl?); it is "
                        "ignored");
    sf_stream_params up = {.unique_name = "renamed", .has_ttl = true, .ttl = 5};
    assert_status(sf_stream_update(fake, NULL, svc.sid, "s", &up, &rec, NULL), SF_OK);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.param, "unique_name");
    assert_string_equal(rec.unique_name, "s");
    sf_page_params pp = {.page_size = 5, .page = 1};
    sf_stream_page *page;
    assert_status(sf_stream_list(fake, NULL, svc.sid, &pp, &page, NULL), SF_OK);
    sf_stream_page_free(fake, page);
    assert_int_equal(s.count, 5); /* one for page_size, then one for page */
    assert_string_equal(s.param, "page");
    sf_service_page *spage;
    pp.page = 0;
    assert_status(sf_service_list(fake, NULL, &pp, &spage, NULL), SF_OK);
    sf_service_page_free(fake, spage);
    assert_int_equal(s.count, 6);
    assert_string_equal(s.param, "page_size");
    pp = (sf_page_params){.page = 2};
    assert_status(sf_service_list(fake, NULL, &pp, &spage, NULL), SF_OK);
    sf_service_page_free(fake, spage);
    assert_int_equal(s.count, 7);
    assert_string_equal(s.param, "page");
    sf_fake_free(fake);
}

static void test_strict_c_refuses_and_spends_nothing(void **state)
{
    (void)state;
    sf_fake *fake = new_fake(true, NULL), *twin = new_fake(false, NULL);
    sf_service_record svc, svc2;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_service_create(twin, NULL, NULL, &svc2, NULL), SF_OK);
    sf_stream_params bad = {.ttl = 60};
    sf_error err;
    sf_stream_record rec, rec2;
    assert_status(sf_stream_create(fake, NULL, svc.sid, &bad, &rec, &err),
                  SF_ERR_INVALID_PARAMETER);
    assert_int_equal(err.http_status, 400);
    assert_int_equal(err.code, 20001);
    assert_string_equal(err.message, "Invalid parameter: ttl is set but has_ttl is false (did "
                                     "you mean to set has_ttl?); it is ignored (strict mode)");
    /* no SID spent: the next stream is the twin's first */
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &rec, NULL), SF_OK);
    assert_status(sf_stream_create(twin, NULL, svc2.sid, NULL, &rec2, NULL), SF_OK);
    assert_string_equal(rec.sid, rec2.sid);
    sf_fake_free(fake);
    sf_fake_free(twin);
}

static void test_publish_data_len_zero_is_strlen(void **state)
{
    (void)state;
    sf_fake *fake = new_fake(false, NULL);
    sf_service_record svc;
    sf_stream_record st;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL), SF_OK);
    sf_message_record m;
    sf_publish_params p = {.data = "{\"a\": 1}"}; /* data_len left 0 */
    assert_status(sf_stream_publish(fake, NULL, svc.sid, st.sid, &p, &m, NULL), SF_OK);
    assert_string_equal(m.data, "{\"a\":1}");
    sf_error err;
    p.data = "";
    assert_status(sf_stream_publish(fake, NULL, svc.sid, st.sid, &p, &m, &err),
                  SF_ERR_DATA_INVALID);
    char big[5000];
    memset(big, ' ', sizeof big - 1);
    big[0] = '{';
    big[sizeof big - 2] = '}';
    big[sizeof big - 1] = '\0';
    p.data = big;
    assert_status(sf_stream_publish(fake, NULL, svc.sid, st.sid, &p, &m, &err),
                  SF_ERR_DATA_TOO_LARGE);
    sf_fake_free(fake);
}

static void test_sf_warn_arguments_and_old_texts(void **state)
{
    (void)state;
    sf_error err;
    assert_status(sf_warn(NULL, NULL, SF_OP_STREAM_CREATE, NULL, NULL, "x", NULL, "m", &err),
                  SF_ERR_INVALID_ARGUMENT);
    sf_fake *fake = new_fake(false, NULL);
    assert_status(sf_warn(fake, NULL, SF_OP_COUNT, NULL, NULL, "x", NULL, "m", &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_warn(fake, NULL, SF_OP_STREAM_CREATE, NULL, NULL, "x", NULL, NULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    /* bytes outside printable ASCII are shown as '?', quotes are escaped in JSON */
    assert_status(
        sf_warn(fake, NULL, SF_OP_STREAM_CREATE, SVC, NULL, "x", NULL, "a\"b\\c\n\x80", &err),
        SF_OK);
    char text[2048];
    sf_journal_render(fake, NULL, text, sizeof text);
    assert_non_null(strstr(text, "\"service_sid\":\"" SVC "\",\"warning\":\"a\\\"b\\\\c??\"}"));
    for (int i = 0; i < 300; i++)
        sf_warn(fake, NULL, SF_OP_STREAM_FETCH, NULL, NULL, "x", NULL, "later", NULL);
    uint64_t cursor = 0;
    sf_journal_entry e;
    assert_true(sf_journal_next(fake, NULL, &cursor, &e));
    assert_int_equal(e.kind, SF_JOURNAL_WARNING);
    assert_string_equal(e.warning, "(text no longer kept)");
    cursor = sf_journal_cursor_after(fake, sf_journal_count(fake) - 1);
    assert_true(sf_journal_next(fake, NULL, &cursor, &e));
    assert_string_equal(e.warning, "later");
    sf_fake_free(fake);
}

static void test_stream_lookup(void **state)
{
    (void)state;
    sf_fake *fake = new_fake(false, NULL);
    sf_service_record a, b;
    sf_stream_record s1, s2;
    assert_status(sf_service_create(fake, NULL, NULL, &a, NULL), SF_OK);
    assert_status(sf_service_create(fake, NULL, NULL, &b, NULL), SF_OK);
    sf_stream_params p = {.unique_name = "n"};
    assert_status(sf_stream_create(fake, NULL, a.sid, &p, &s1, NULL), SF_OK);
    char sid[SF_SID_SIZE];
    sf_error err;
    assert_status(sf_stream_lookup(fake, NULL, false, NULL, "n", sid, &err), SF_OK);
    assert_string_equal(sid, s1.sid);
    assert_status(sf_stream_lookup(fake, NULL, false, NULL, s1.sid, sid, &err), SF_OK);
    assert_status(sf_stream_create(fake, NULL, b.sid, &p, &s2, NULL), SF_OK);
    assert_status(sf_stream_lookup(fake, NULL, false, NULL, "n", sid, &err), SF_ERR_CONFLICT);
    assert_status(sf_stream_lookup(fake, NULL, false, b.sid, "n", sid, &err), SF_OK);
    assert_string_equal(sid, s2.sid);
    assert_status(sf_stream_lookup(fake, NULL, false, b.sid, s1.sid, sid, &err), SF_ERR_NOT_FOUND);
    assert_status(
        sf_stream_lookup(fake, "AC00000000000000000000000000000009", false, NULL, "n", sid, &err),
        SF_ERR_NOT_FOUND);
    assert_status(
        sf_stream_lookup(fake, "AC00000000000000000000000000000009", true, NULL, s2.sid, sid, &err),
        SF_OK);
    assert_status(sf_stream_lookup(fake, NULL, false, NULL, NULL, sid, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_journal_count(fake), 4); /* the creates only: lookups are not calls */
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warnings_never_change_the_answer),
        cmocka_unit_test(test_strict_http_refuses_and_changes_nothing),
        cmocka_unit_test(test_c_warnings_reach_the_hook),
        cmocka_unit_test(test_strict_c_refuses_and_spends_nothing),
        cmocka_unit_test(test_publish_data_len_zero_is_strlen),
        cmocka_unit_test(test_sf_warn_arguments_and_old_texts),
        cmocka_unit_test(test_stream_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
