/* SPDX-License-Identifier: MIT */
/* calls.c: see calls.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sf_test_ignore_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    (void)user;
}

sf_subscriber_id sf_test_subscribe(sf_fixture *fx, const char *stream)
{
    sf_subscribe_params p = {.on_event = sf_test_ignore_event};
    sf_subscriber_id id = 0;
    sf_error err;
    assert_status(sf_subscribe(fx->fake, NULL, fx->service_sid, stream, &p, &id, &err), SF_OK);
    return id;
}

sf_status sf_test_publish(sf_fixture *fx, const char *stream, const char *data,
                          sf_message_record *out, sf_error *err)
{
    sf_publish_params p = {.data = data, .data_len = strlen(data)};
    return sf_stream_publish(fx->fake, NULL, fx->service_sid, stream, &p, out, err);
}

sf_status sf_test_update_ttl(sf_fixture *fx, const char *stream, int64_t ttl, sf_stream_record *out,
                             sf_error *err)
{
    sf_stream_params p = {.has_ttl = true, .ttl = ttl};
    return sf_stream_update(fx->fake, NULL, fx->service_sid, stream, &p, out, err);
}

void sf_test_set_service_flag(sf_service_params *p, int field, sf_opt_bool value)
{
    if (field == 0)
        p->reachability_webhooks_enabled = value;
    else if (field == 1)
        p->acl_enabled = value;
    else if (field == 2)
        p->reachability_debouncing_enabled = value;
    else
        p->webhooks_from_rest_enabled = value;
}

void sf_test_assert_sid_shape(const char *sid, const char *prefix)
{
    assert_int_equal(strlen(sid), SF_SID_LEN);
    assert_memory_equal(sid, prefix, 2);
    for (int i = 2; i < SF_SID_LEN; i++) {
        char c = sid[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            fail_msg("SID %s has a non lowercase-hex digit at %d", sid, i);
    }
}

void sf_test_expect_error(sf_status st, const sf_error *err, sf_status want, int http, int code,
                          const char *message)
{
    assert_status(st, want);
    assert_status(err->status, want);
    sf_assert_twilio_error(err, http, code);
    if (message)
        assert_string_equal(err->message, message);
}

size_t sf_test_journal_count(sf_fake *fake, uint32_t kinds, sf_subscriber_id sub,
                             const char *stream)
{
    sf_journal_filter f = {.stream_sid = stream, .subscriber = sub, .kinds = kinds};
    uint64_t cursor = 0;
    sf_journal_entry e;
    size_t n = 0;
    while (sf_journal_next(fake, &f, &cursor, &e))
        n++;
    return n;
}

char *sf_test_repeat(const char *unit, size_t times)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * times + 1);
    assert_non_null(s);
    for (size_t i = 0; i < times; i++)
        memcpy(s + i * ul, unit, ul);
    s[ul * times] = '\0';
    return s;
}

char *sf_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
        if (cap - n - 1 == 0) {
            char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

int sf_test_setup_twins(void **state)
{
    void **pair = calloc(2, sizeof *pair);
    if (!pair || sf_fixture_setup(&pair[0]) != 0 || sf_fixture_setup(&pair[1]) != 0)
        return -1;
    *state = pair;
    return 0;
}

int sf_test_teardown_twins(void **state)
{
    void **pair = *state;
    int a = sf_fixture_teardown(&pair[0]);
    int b = sf_fixture_teardown(&pair[1]);
    free(pair);
    return a || b ? -1 : 0;
}

int sf_test_free_fake(void **state)
{
    sf_fake_free(*state);
    *state = NULL;
    return 0;
}
