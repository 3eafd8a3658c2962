/* SPDX-License-Identifier: MIT */
/* http_env.c: see http_env.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_env.h"

#include <errno.h>
#include <stdbool.h>

static void fake_options(sf_options *o)
{
    sf_options_init(o);
    o->seed = HTTP_ENV_SEED;
    o->clock = SF_CLOCK_MANUAL;
    o->base_url = HTTP_ENV_BASE_URL;
    o->limits.publish_rate_per_s = 0; /* 1,000 publishes a stream: no 429 */
}

sf_fake *http_env_new_fake(void)
{
    sf_options o;
    fake_options(&o);
    sf_fake *fake = NULL;
    sf_error err;
    if (sf_fake_new(&o, &fake, &err) != SF_OK)
        fail_msg("sf_fake_new: %s", err.message);
    return fake;
}

int http_env_setup(void **state)
{
    http_env *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->fake = http_env_new_fake();
    sf_server_config cfg = {.host = "127.0.0.1", .port = 0, .fake = e->fake};
    e->srv = sf_server_start(&cfg);
    if (!e->srv) {
        sf_fake_free(e->fake);
        free(e);
        return -1;
    }
    e->port = sf_server_port(e->srv);
    hc_basic_auth(sf_fake_account_sid(e->fake), sf_fake_auth_token(e->fake), e->auth,
                  sizeof e->auth);
    *state = e;
    return 0;
}

int http_env_teardown(void **state)
{
    http_env *e = *state;
    if (!e)
        return 0;
    sf_server_stop(e->srv); /* NULL when the test stopped it itself */
    sf_fake_free(e->fake);
    free(e);
    *state = NULL;
    return 0;
}

/* Creates the fixture's service over HTTP. */
void http_env_service(http_env *e, hconn *c)
{
    hresp r;
    hc_expect(c, "POST", "/v1/Services", e->auth, "FriendlyName=loopback", 201, &r);
    assert_true(hc_json_get(r.body, "sid", e->service, sizeof e->service));
    assert_int_equal(strlen(e->service), SF_SID_LEN);
    hresp_free(&r);
}

void http_env_connect(http_env *e, hconn *c)
{
    if (!hc_open(c, e->port))
        fail_msg("cannot connect to 127.0.0.1:%u: %s", (unsigned)e->port, strerror(errno));
}

/* Creates a stream (optional unique name); its SID into sid. */
void http_create_stream(http_env *e, hconn *c, const char *unique_name, char sid[SF_SID_SIZE])
{
    char target[128], form[512];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", e->service);
    if (unique_name)
        snprintf(form, sizeof form, "UniqueName=%s", unique_name);
    else
        form[0] = '\0';
    hresp r;
    hc_expect(c, "POST", target, e->auth, form, 201, &r);
    assert_true(hc_json_get(r.body, "sid", sid, SF_SID_SIZE));
    assert_int_equal(strlen(sid), SF_SID_LEN);
    hresp_free(&r);
}

/* Publishes {"n":i} (plus a tag); the message SID into sid. */
void http_publish(http_env *e, hconn *c, const char *stream, int i, char sid[SF_SID_SIZE])
{
    char target[160], form[256];
    snprintf(target, sizeof target, "/v1/Services/%s/Streams/%s/Messages", e->service, stream);
    snprintf(form, sizeof form, "Data=%%7B%%22n%%22%%3A%d%%2C%%22tag%%22%%3A%%22a+b%%22%%7D", i);
    hresp r;
    hc_expect(c, "POST", target, e->auth, form, 201, &r);
    assert_true(hc_json_get(r.body, "sid", sid, SF_SID_SIZE));
    assert_int_equal(strlen(sid), SF_SID_LEN);
    char data[128], want[128];
    snprintf(want, sizeof want, "{\"n\":%d,\"tag\":\"a b\"}", i);
    assert_true(hc_json_get(r.body, "data", data, sizeof data));
    assert_string_equal(data, want);
    hresp_free(&r);
}

void http_events_target(const http_env *e, const char *stream, char *out, size_t cap)
{
    snprintf(out, cap, "/_syncfake/Services/%s/Streams/%s/Events", e->service, stream);
}

/* Opens an event stream and reads its `subscribed` event; returns the subscriber id. */
long long http_subscribe(http_env *e, hconn *c, sse_reader *s, const char *stream)
{
    char target[200];
    http_events_target(e, stream, target, sizeof target);
    http_env_connect(e, c);
    if (!sse_open(s, c, target, e->auth))
        fail_msg("GET %s: no answer within %d ms", target, HC_IO_TIMEOUT_MS);
    assert_int_equal(s->head.status, 200);
    assert_string_equal(s->head.content_type, "text/event-stream");
    sse_event ev;
    assert_int_equal(sse_next(s, &ev, HC_IO_TIMEOUT_MS), 1);
    assert_string_equal(ev.name, "subscribed");
    long long id = hc_json_int(ev.data, "subscriber_id");
    assert_true(id > 0);
    return id;
}

/* Lines of the whole journal (GET /_syncfake/journal, page after page), malloc'd text. */
char *http_journal(http_env *e, hconn *c)
{
    /* small pages: each must arrive within HC_IO_TIMEOUT_MS, under valgrind too */
    enum { PAGE = 1000 };
    char *text = calloc(1, 1);
    size_t len = 0;
    unsigned long long since = 0;
    for (bool more = true; more;) {
        char target[96];
        snprintf(target, sizeof target, "/_syncfake/journal?since=%llu&limit=%d", since, PAGE);
        hresp r;
        hc_expect(c, "GET", target, e->auth, NULL, 200, &r);
        assert_string_equal(r.content_type, "application/x-ndjson");
        size_t n = strlen(r.body), lines = 0;
        const char *last = NULL;
        for (const char *p = r.body; *p; p++)
            if (*p == '\n') {
                lines++;
                if (p[1])
                    last = p + 1;
            }
        if (lines && !last)
            last = r.body;
        more = lines == PAGE; /* a short page is the last one */
        if (more)
            assert_int_equal(sscanf(last, "{\"seq\":%llu", &since), 1);
        text = realloc(text, len + n + 1);
        assert_non_null(text);
        memcpy(text + len, r.body, n + 1);
        len += n;
        hresp_free(&r);
    }
    return text;
}

/* Whether `line` holds `frag` not followed by a digit (so "\"rule\":1" does not match 12). */
static bool has_fragment(const char *line, const char *frag)
{
    if (!frag)
        return true;
    size_t n = strlen(frag);
    for (const char *p = strstr(line, frag); p; p = strstr(p + 1, frag))
        if (p[n] < '0' || p[n] > '9')
            return true;
    return false;
}

/* Journal lines that contain every one of the given fragments. */
size_t http_journal_count(const char *text, const char *a, const char *b, const char *d)
{
    size_t n = 0;
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char *copy = strndup(line, len);
        assert_non_null(copy);
        if (has_fragment(copy, a) && has_fragment(copy, b) && has_fragment(copy, d))
            n++;
        free(copy);
        line = nl ? nl + 1 : NULL;
    }
    return n;
}
