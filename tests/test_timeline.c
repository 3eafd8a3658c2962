/* SPDX-License-Identifier: MIT */
/* test_timeline.c: the journal -> SVG timeline (sf_timeline_svg). Golden files: every
 * tests/timeline_cases/NAME.jsonl is drawn and compared byte for byte with NAME.svg
 * (SF_TIMELINE_GOLDEN_WRITE=1 writes a missing NAME.svg, never overwrites: review it, e.g. in
 * a browser, before keeping it). Then: a journal straight from the C API draws every fate,
 * the same journal gives the same bytes, and a journal far beyond the caps gives a bounded
 * picture that says what it left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "syncfake.h"

static char *case_path(const char *name, const char *ext)
{
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    int dir_len = slash ? (int)(slash - src) : 1;
    size_t n = (size_t)dir_len + strlen(name) + strlen(ext) + 32;
    char *path = malloc(n);
    assert_non_null(path);
    snprintf(path, n, "%.*s/timeline_cases/%s%s", dir_len, slash ? src : ".", name, ext);
    return path;
}

static void golden(const char *name)
{
    char *in_path = case_path(name, ".jsonl"), *out_path = case_path(name, ".svg");
    size_t in_len = 0, want_len = 0, got_len = 0;
    char *journal = sf_test_read_file(in_path, &in_len);
    assert_non_null(journal);
    char *svg = sf_timeline_svg(journal, in_len, &got_len);
    assert_non_null(svg);
    assert_int_equal(strlen(svg), got_len);
    char *want = sf_test_read_file(out_path, &want_len);
    if (!want && getenv("SF_TIMELINE_GOLDEN_WRITE")) {
        FILE *f = fopen(out_path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(svg, 1, got_len, f), got_len);
        fclose(f);
        fprintf(stderr, "wrote %s (review it)\n", out_path);
    } else {
        assert_non_null(want);
        assert_int_equal(got_len, want_len);
        assert_memory_equal(svg, want, got_len);
    }
    free(want);
    sf_timeline_free(svg);
    free(journal);
    free(in_path);
    free(out_path);
}

/* Every fate the fake journals, from a run of the C API. */
static void test_golden_lesson(void **state)
{
    (void)state;
    golden("lesson");
}

/* Keys and kinds the journal may grow (ISO time, message data, warnings), CRLF endings. */
static void test_golden_extra_keys(void **state)
{
    (void)state;
    golden("extra-keys");
}

/* Lines that are not journal entries, markup in strings, invalid UTF-8, a 70 KB line. */
static void test_golden_garbage(void **state)
{
    (void)state;
    golden("garbage");
}

static void test_golden_empty(void **state)
{
    (void)state;
    golden("empty");
}

/* A fake with `subs` subscribers on one stream, `messages` published, a drop rule on the
 * first subscriber; returns its journal as text. */
static char *journal_of(int subs, int messages, size_t *len)
{
    sf_options o;
    sf_options_init(&o);
    o.limits.publish_rate_per_s = 0;
    o.journal_capacity = 200000; /* keeps every entry of test_caps */
    sf_fake *f = NULL;
    assert_status(sf_fake_new(&o, &f, NULL), SF_OK);
    sf_service_record svc;
    sf_stream_record s;
    assert_status(sf_service_create(f, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_stream_create(f, NULL, svc.sid, NULL, &s, NULL), SF_OK);
    sf_subscribe_params p = {.on_event = sf_test_ignore_event};
    for (int i = 0; i < subs; i++)
        assert_status(sf_subscribe(f, NULL, svc.sid, s.sid, &p, NULL, NULL), SF_OK);
    sf_fault_params drop = {.scope = SF_SCOPE_SUBSCRIBER, .subscriber = 1, .drop_rate = 1};
    assert_status(sf_fault_add(f, &drop, NULL, NULL), SF_OK);
    sf_publish_params msg = {.data = "{}", .data_len = 2};
    for (int i = 0; i < messages; i++) {
        assert_status(sf_stream_publish(f, NULL, svc.sid, s.sid, &msg, NULL, NULL), SF_OK);
        assert_status(sf_clock_advance(f, 10, NULL), SF_OK);
    }
    *len = sf_journal_render(f, NULL, NULL, 0);
    char *text = malloc(*len + 1);
    assert_non_null(text);
    assert_int_equal(sf_journal_render(f, NULL, text, *len + 1), *len);
    sf_fake_free(f);
    return text;
}

/* The journal straight from sf_journal_render; drawn twice, the same bytes. */
static void test_same_journal_same_bytes(void **state)
{
    (void)state;
    size_t len, a_len, b_len;
    char *journal = journal_of(2, 3, &len);
    char *a = sf_timeline_svg(journal, len, &a_len);
    char *b = sf_timeline_svg(journal, len, &b_len);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    assert_non_null(strstr(a, "m3 dropped for subscriber 1 by rule 1"));
    assert_non_null(strstr(a, "m3 delivered to subscriber 2"));
    assert_non_null(strstr(a, "3 messages, 2 subscribers"));
    assert_null(strstr(a, "not drawn"));
    sf_timeline_free(a);
    sf_timeline_free(b);
    free(journal);
}

/* 100 subscribers and 1,500 messages: past every cap. The picture stays bounded and says so. */
static void test_caps(void **state)
{
    (void)state;
    size_t len, svg_len;
    char *journal = journal_of(100, 1500, &len);
    char *svg = sf_timeline_svg(journal, len, &svg_len);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "entries not drawn: the picture stops at 64 subscribers, "
                                "1000 columns, 2000 messages and 4000 marks"));
    assert_non_null(strstr(svg, "subscriber 64 ("));
    assert_null(strstr(svg, "subscriber 65 ("));
    assert_true(svg_len < 4 * 1024 * 1024);
    sf_timeline_free(svg);
    free(journal);
}

static void test_no_journal(void **state)
{
    (void)state;
    size_t len = 0;
    char *svg = sf_timeline_svg(NULL, 0, &len);
    assert_non_null(svg);
    assert_non_null(strstr(svg, "0 journal lines"));
    assert_int_equal(strlen(svg), len);
    sf_timeline_free(svg);
    svg = sf_timeline_svg("\n\n", 2, NULL);
    assert_non_null(svg);
    sf_timeline_free(svg);
    sf_timeline_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_lesson),
        cmocka_unit_test(test_golden_extra_keys),
        cmocka_unit_test(test_golden_garbage),
        cmocka_unit_test(test_golden_empty),
        cmocka_unit_test(test_same_journal_same_bytes),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_no_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
