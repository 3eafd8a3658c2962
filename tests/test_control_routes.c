/* SPDX-License-Identifier: MIT */
/* test_control_routes.c: which handler answers which /_syncfake/ path (control.c's route
 * table): each route at its own segment counts, its neighbours (an extra or a wrong segment)
 * a 404 naming the path, never another route's answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "syncfake_http.h"

#define A_SID "AC00000000000000000000000000000001"
/* Basic A_SID:secret-token */
#define AUTH_A "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQtdG9rZW4="

static sf_fake *new_fake(void)
{
    sf_options o;
    sf_options_init(&o);
    o.account_sid = A_SID;
    o.auth_token = "secret-token";
    sf_fake *fake;
    assert_int_equal(sf_fake_new(&o, &fake, NULL), SF_OK);
    return fake;
}

/* The status of `method target`, and whether its body is the 404 that names the path. */
static int status_of(sf_fake *fake, const char *method, const char *target, bool *names_path)
{
    sf_http_header h[1] = {{"Authorization", AUTH_A}};
    sf_http_request req = {.method = method, .target = target, .headers = h, .header_count = 1};
    sf_http_response r;
    int st = sf_http_dispatch(fake, &req, &r);
    *names_path = r.body && strstr(r.body, target) && strstr(r.body, "\"code\": 20404");
    sf_http_response_free(&r);
    return st;
}

static void assert_route(sf_fake *fake, const char *method, const char *target, int want)
{
    bool names_path;
    int st = status_of(fake, method, target, &names_path);
    if (st != want)
        fail_msg("%s %s: %d, expected %d", method, target, st, want);
    if (want == 404 && !names_path)
        fail_msg("%s %s: a 404 that does not name the path", method, target);
}

static void routes_answer_at_their_segment_counts(void **state)
{
    (void)state;
    sf_fake *fake = new_fake();
    assert_route(fake, "GET", "/_syncfake/clock", 200);
    assert_route(fake, "GET", "/_syncfake/state", 200);
    assert_route(fake, "GET", "/_syncfake/subscribers", 200);
    assert_route(fake, "GET", "/_syncfake/journal", 200);
    assert_route(fake, "GET", "/_syncfake/faults", 200);
    assert_route(fake, "POST", "/_syncfake/reset", 204);
    sf_fake_free(fake);
}

static void neighbours_of_routes_are_not_found(void **state)
{
    (void)state;
    sf_fake *fake = new_fake();
    static const char *const paths[] = {
        "/_syncfake",
        "/_syncfake/nothing",
        "/_syncfake/clock/now",
        "/_syncfake/state/x",
        "/_syncfake/journal/other",
        "/_syncfake/journal/record/x",
        "/_syncfake/faults/1/2",
        "/_syncfake/faults/x",
        "/_syncfake/reset/x",
        "/_syncfake/subscribers/999",
        "/_syncfake/Services/IS00000000000000000000000000000001/Streams/"
        "TO00000000000000000000000000000001/Other",
        "/_syncfake/Services/IS00000000000000000000000000000001/Other/"
        "TO00000000000000000000000000000001/Events",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        assert_route(fake, "GET", paths[i], 404);
    assert_route(fake, "POST", "/_syncfake/journal/other", 404);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_answer_at_their_segment_counts),
        cmocka_unit_test(neighbours_of_routes_are_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
