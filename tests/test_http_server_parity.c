/* SPDX-License-Identifier: MIT */
/* test_http_server_parity.c: the loopback server (fake_http/server/server.c) answers over real
 * TCP sockets exactly as the in-process dispatcher (sf_http_dispatch) answers a twin fake:
 * status, Content-Type, Date, Allow and body byte for byte, across services, streams (a unique
 * name with a slash), messages, paging through next_page_url, the clock moving both Dates,
 * deletes, 405, 401 and 404 and bad escapes. The client is tests/support/http_client.h. */
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
#include "syncfake_http.h"

typedef struct twin {
    sf_fake *fake;
    const char *auth;
} twin;

/* Sends the request over TCP and to the twin fake in-process; asserts identical answers.
 * Returns the TCP body (malloc'd). */
static char *same_answer(hconn *c, twin *t, const char *method, const char *target,
                         const char *auth, const char *form, int status)
{
    hresp r;
    if (!hc_request(c, method, target, auth, form, &r))
        fail_msg("%s %s: no HTTP answer", method, target);

    sf_http_header headers[2];
    size_t nh = 0;
    if (auth)
        headers[nh++] = (sf_http_header){"Authorization", auth};
    if (form)
        headers[nh++] = (sf_http_header){"Content-Type", "application/x-www-form-urlencoded"};
    sf_http_request req = {method,
                           target,
                           headers,
                           nh,
                           form,
                           form ? strlen(form) : 0,
                           NULL,
                           NULL,
                           NULL,
                           NULL,
                           SF_HTTP_REQUEST_LOG_NONE};
    sf_http_response want;
    sf_http_dispatch(t->fake, &req, &want);

    if (r.status != want.status || r.status != status)
        fail_msg("%s %s: TCP %d, in-process %d, expected %d; TCP body %.300s", method, target,
                 r.status, want.status, status, r.body);
    assert_string_equal(r.content_type, want.content_type ? want.content_type : "");
    assert_string_equal(r.date, want.date);
    assert_string_equal(r.allow, want.allow);
    if (r.body_len != want.body_len || memcmp(r.body, want.body ? want.body : "", r.body_len))
        fail_msg("%s %s: bodies differ\n TCP:        %.600s\n in-process: %.600s", method, target,
                 r.body, want.body ? want.body : "");
    sf_http_response_free(&want);
    char *body = r.body;
    r.body = NULL;
    hresp_free(&r);
    return body;
}

/* Where the parity test sends: the TCP connection, the in-process twin and the credentials. */
typedef struct parity {
    hconn *c;
    twin *t;
    const char *auth;
} parity;

/* Streams of service svc (created, refused, fetched by SID and by an escaped name, updated
 * without Ttl) and messages of the first (to: its SID) answer alike. */
static void same_streams_and_messages(const parity *p, const char *svc, char *to, size_t to_size)
{
    char path[512];
    char *b;
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", svc);
    b = same_answer(p->c, p->t, "POST", path, p->auth, "UniqueName=a%2Fslash&Ttl=3600", 201);
    assert_true(hc_json_get(b, "sid", to, to_size));
    free(b);
    free(same_answer(p->c, p->t, "POST", path, p->auth, "UniqueName=second", 201));
    free(same_answer(p->c, p->t, "POST", path, p->auth, "", 201));
    free(same_answer(p->c, p->t, "POST", path, p->auth, "UniqueName=second", 409));
    free(same_answer(p->c, p->t, "POST", path, p->auth, "Ttl=-1", 400));

    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", svc, to);
    free(same_answer(p->c, p->t, "GET", path, p->auth, NULL, 200));
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/a%%2Fslash", svc);
    free(same_answer(p->c, p->t, "GET", path, p->auth, NULL, 200));
    free(same_answer(p->c, p->t, "POST", path, p->auth, "", 400)); /* update without Ttl */

    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s/Messages", svc, to);
    free(same_answer(p->c, p->t, "POST", path, p->auth,
                     "Data=%7B%22a%22%3A+1%2C%22b%22%3A%5B%5D%7D", 201));
    free(same_answer(p->c, p->t, "POST", path, p->auth, "Data=not-json", 400));
    free(same_answer(p->c, p->t, "GET", path, p->auth, NULL, 404));
}

/* Paging answers alike: the query survives the trip, including a PageToken from
 * next_page_url, and a bad PageSize is refused alike. */
static void same_pages(const parity *p, const char *svc)
{
    char path[512], next[1024];
    char *b;
    snprintf(path, sizeof path, "/v1/Services/%s/Streams?PageSize=1", svc);
    b = same_answer(p->c, p->t, "GET", path, p->auth, NULL, 200);
    assert_true(hc_json_get(b, "next_page_url", next, sizeof next));
    free(b);
    assert_true(strncmp(next, HTTP_ENV_BASE_URL, strlen(HTTP_ENV_BASE_URL)) == 0);
    b = same_answer(p->c, p->t, "GET", next + strlen(HTTP_ENV_BASE_URL), p->auth, NULL, 200);
    assert_non_null(strstr(b, "\"second\""));
    free(b);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams?PageSize=abc", svc);
    free(same_answer(p->c, p->t, "GET", path, p->auth, NULL, 400));
}

static void test_tcp_equals_in_process(void **state)
{
    http_env *e = *state;
    twin t = {http_env_new_fake(), e->auth};
    hconn c;
    http_env_connect(e, &c);
    parity p = {&c, &t, e->auth};
    char svc[64], to[64], path[512];

    char *b = same_answer(&c, &t, "POST", "/v1/Services", e->auth, "FriendlyName=twin%20one", 201);
    assert_true(hc_json_get(b, "sid", svc, sizeof svc));
    free(b);
    snprintf(path, sizeof path, "/v1/Services/%s", svc);
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 200));
    same_streams_and_messages(&p, svc, to, sizeof to);
    same_pages(&p, svc);

    /* the clock moves both Dates */
    free(same_answer(&c, &t, "POST", "/_syncfake/clock", e->auth, "AdvanceMs=1500", 200));
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s", svc, to);
    free(same_answer(&c, &t, "DELETE", path, e->auth, NULL, 204));
    free(same_answer(&c, &t, "GET", path, e->auth, NULL, 404));
    free(same_answer(&c, &t, "PUT", "/v1/Services", e->auth, NULL, 405));
    free(same_answer(&c, &t, "GET", "/v1/Services", "Basic QUM6bm9wZQ==", NULL, 401));
    free(same_answer(&c, &t, "GET", "/v1/Services", NULL, NULL, 401));
    free(same_answer(&c, &t, "GET", "/nowhere/at/all", e->auth, NULL, 404));
    free(same_answer(&c, &t, "GET", "/v1/Services/%zz", e->auth, NULL, 400));
    b = same_answer(&c, &t, "GET", "/_syncfake/journal", e->auth, NULL, 200);
    assert_non_null(strstr(b, "\"kind\":\"api\""));
    free(b);

    hc_close(&c);
    sf_fake_free(t.fake);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_equals_in_process, http_env_setup,
                                        http_env_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
