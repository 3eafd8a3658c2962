/* SPDX-License-Identifier: MIT */
/* test_snapshot_http.c: GET /_syncfake/snapshot then PUT /_syncfake/snapshot in process: the
 * download is the C API's snapshot byte for byte, and putting it back undoes everything done
 * in between (the journal included); the PUT is reported as a reset so a server drops its
 * event streams. Made with the admin credential (the server loopback test uses the default
 * account's; golden cases control-snapshot-errors pin another account's 403). */
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
#include "syncfake_snapshot.h"

static char auth[64];

static int call(sf_fake *fake, const char *method, const char *target, const char *body, size_t len,
                sf_http_response *resp)
{
    sf_http_header h[2] = {{"Authorization", auth},
                           {"Content-Type", "application/x-www-form-urlencoded"}};
    sf_http_request req = {.method = method,
                           .target = target,
                           .headers = h,
                           .header_count = 2,
                           .body = body,
                           .body_len = len,
                           .admin_sid = "admin",
                           .admin_token = "letmein"};
    return sf_http_dispatch(fake, &req, resp);
}

static void post(sf_fake *fake, const char *target, const char *form)
{
    sf_http_response r;
    int st = call(fake, "POST", target, form, strlen(form), &r);
    assert_true(st == 201 || st == 200);
    sf_http_response_free(&r);
}

static char *render_journal(sf_fake *fake)
{
    size_t n = sf_journal_render(fake, NULL, NULL, 0);
    char *text = malloc(n + 1);
    sf_journal_render(fake, NULL, text, n + 1);
    return text;
}

static void test_download_and_put_back(void **state)
{
    (void)state;
    sf_fake *fake;
    assert_status(sf_fake_new(NULL, &fake, NULL), SF_OK);
    strcpy(auth, "Basic YWRtaW46bGV0bWVpbg=="); /* admin:letmein, the request's admin */
    sf_service_record svc;
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    sf_stream_params kept = {.unique_name = "kept"}, gone = {.unique_name = "gone"};
    assert_status(sf_stream_create(fake, NULL, svc.sid, &kept, NULL, NULL), SF_OK);

    sf_http_response got;
    assert_int_equal(call(fake, "GET", "/_syncfake/snapshot", NULL, 0, &got), 200);
    assert_string_equal(got.content_type, "application/octet-stream");
    char *direct;
    size_t direct_len;
    assert_status(sf_snapshot_save_buffer(fake, &direct, &direct_len, NULL), SF_OK);
    assert_int_equal(got.body_len, direct_len);
    assert_memory_equal(got.body, direct, direct_len);
    char *journal_then = render_journal(fake);

    assert_status(sf_stream_create(fake, NULL, svc.sid, &gone, NULL, NULL), SF_OK);
    post(fake, "/_syncfake/clock", "AdvanceMs=60000");
    sf_http_response put;
    assert_int_equal(call(fake, "PUT", "/_syncfake/snapshot", got.body, got.body_len, &put), 204);
    assert_true(put.fake_was_reset);
    sf_http_response_free(&put);

    char *journal_now = render_journal(fake);
    assert_string_equal(journal_now, journal_then);
    sf_stream_record r;
    assert_status(sf_stream_fetch(fake, NULL, svc.sid, "kept", &r, NULL), SF_OK);
    assert_status(sf_stream_fetch(fake, NULL, svc.sid, "gone", &r, NULL), SF_ERR_NOT_FOUND);
    char *after;
    size_t after_len;
    sf_journal_clear(fake); /* the fetches above were journaled */
    assert_status(sf_snapshot_save_buffer(fake, &after, &after_len, NULL), SF_OK);
    assert_true(after_len > 0);
    sf_snapshot_buffer_free(fake, after);

    /* a second round trip: PUT of the same bytes again */
    sf_http_response again;
    assert_int_equal(call(fake, "GET", "/_syncfake/snapshot", NULL, 0, &again), 200);
    sf_http_response_free(&again);
    assert_int_equal(call(fake, "PUT", "/_syncfake/snapshot", got.body, got.body_len, &again), 204);
    sf_http_response_free(&again);

    free(journal_then);
    free(journal_now);
    sf_snapshot_buffer_free(fake, direct);
    sf_http_response_free(&got);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_download_and_put_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
