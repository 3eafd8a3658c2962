/* SPDX-License-Identifier: MIT */
/* test_control_ui.c: the page at /_syncfake/ui through the in-process dispatcher: each file of
 * fake_http/ui/ is served byte for byte as it is on disk (the build embedded it), with its
 * Content-Type and Cache-Control: no-store; only with the control API's credentials (401
 * otherwise, so a browser prompts); unknown names 404, other methods 405; serving it adds
 * nothing to the journal. The page itself is tested in Chromium (tests/browser/ui.test.js). */
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

#define AUTH_WRONG "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTp3cm9uZw=="

static int get(sf_fake *fake, const char *method, const char *target, const char *auth,
               sf_http_response *resp)
{
    sf_http_header h[1] = {{"Authorization", auth}};
    sf_http_request req = {
        .method = method, .target = target, .headers = h, .header_count = auth ? 1 : 0};
    return sf_http_dispatch(fake, &req, resp);
}

/* The file fake_http/ui/NAME of this source tree (found from this file's own path). */
static char *read_source_file(const char *name, size_t *len)
{
    char path[4096];
    const char *here = __FILE__;
    const char *slash = strrchr(here, '/');
    assert_non_null(slash);
    snprintf(path, sizeof path, "%.*s/../fake_http/ui/%s", (int)(slash - here), here, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return data;
}

static void expect_file(sf_fake *fake, const char *target, const char *file, const char *type)
{
    sf_http_response r;
    assert_int_equal(get(fake, "GET", target, AUTH_A, &r), 200);
    assert_string_equal(r.content_type, type);
    assert_non_null(r.cache_control);
    assert_string_equal(r.cache_control, "no-store");
    size_t len;
    char *want = read_source_file(file, &len);
    assert_int_equal(r.body_len, len);
    assert_memory_equal(r.body, want, len);
    free(want);
    sf_http_response_free(&r);
}

static void test_every_file_served_as_on_disk(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(0, false);
    const char *html = "text/html; charset=utf-8", *js = "text/javascript; charset=utf-8";
    expect_file(fake, "/_syncfake/ui", "index.html", html);
    expect_file(fake, "/_syncfake/ui/", "index.html", html);
    expect_file(fake, "/_syncfake/ui/index.html", "index.html", html);
    expect_file(fake, "/_syncfake/ui/ui.css", "ui.css", "text/css; charset=utf-8");
    expect_file(fake, "/_syncfake/ui/data.js", "data.js", js);
    expect_file(fake, "/_syncfake/ui/timeline.js", "timeline.js", js);
    expect_file(fake, "/_syncfake/ui/app.js", "app.js", js);
    sf_fake_free(fake);
}

static void test_credentials_names_and_methods(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(0, false);
    sf_http_response r;
    assert_int_equal(get(fake, "GET", "/_syncfake/ui", NULL, &r), 401);
    assert_null(r.cache_control);
    sf_http_response_free(&r);
    assert_int_equal(get(fake, "GET", "/_syncfake/ui/app.js", AUTH_WRONG, &r), 401);
    sf_http_response_free(&r);
    assert_int_equal(get(fake, "GET", "/_syncfake/ui/nope.js", AUTH_A, &r), 404);
    sf_http_response_free(&r);
    assert_int_equal(get(fake, "GET", "/_syncfake/ui/ui/app.js", AUTH_A, &r), 404);
    sf_http_response_free(&r);
    assert_int_equal(get(fake, "GET", "/_syncfake/ui/..%2Fjournal", AUTH_A, &r), 404);
    sf_http_response_free(&r);
    assert_int_equal(get(fake, "POST", "/_syncfake/ui", AUTH_A, &r), 405);
    assert_string_equal(r.allow, "GET");
    sf_http_response_free(&r);
    /* the API's own answers keep no Cache-Control */
    assert_int_equal(get(fake, "GET", "/_syncfake/clock", AUTH_A, &r), 200);
    assert_null(r.cache_control);
    sf_http_response_free(&r);
    sf_fake_free(fake);
}

static void test_serving_the_page_journals_nothing(void **state)
{
    (void)state;
    sf_fake *fake = sf_test_accounts_fake(0, false);
    sf_http_response r;
    assert_int_equal(get(fake, "GET", "/_syncfake/journal", AUTH_A, &r), 200);
    assert_int_equal(r.body_len, 0);
    sf_http_response_free(&r);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(get(fake, "GET", "/_syncfake/ui", AUTH_A, &r), 200);
        sf_http_response_free(&r);
    }
    assert_int_equal(sf_journal_count(fake), 0);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_file_served_as_on_disk),
        cmocka_unit_test(test_credentials_names_and_methods),
        cmocka_unit_test(test_serving_the_page_journals_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
