/* SPDX-License-Identifier: MIT */
/* test_json_field.c: the one JSON reader of fake_http (json_field.h), which reads Twilsock
 * frame headers, their payloads and access tokens. Its readers take any token index: an
 * absent or duplicate member, or any index of a doc that did not parse, reads as nothing
 * (the Twilsock session chains lookups on that). Strings unescape every JSON escape and
 * refuse what cannot be text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "json_field.h"

static sf_jf_doc parsed(const char *text)
{
    sf_jf_doc doc;
    assert_true(sf_jf_parse_object(&doc, text, strlen(text), 64));
    return doc;
}

/* Every reader on token `tok`, which names nothing: nothing comes back. */
static void reads_nothing(const sf_jf_doc *doc, int tok)
{
    char out[16] = "untouched";
    int64_t v = 7;
    const char *start = NULL;
    size_t len = 99;
    assert_int_equal(sf_jf_kind_of(doc, tok), SF_JF_NONE);
    assert_false(sf_jf_string(doc, tok, out, sizeof out));
    assert_string_equal(out, "untouched");
    assert_false(sf_jf_int(doc, tok, &v));
    assert_int_equal(v, 7);
    assert_int_equal(sf_jf_count(doc, tok), 0);
    assert_int_equal(sf_jf_member(doc, tok, "a"), SF_JF_ABSENT);
    assert_int_equal(sf_jf_next(doc, tok), SF_JF_ABSENT);
    sf_jf_span(doc, tok, &start, &len);
    assert_non_null(start);
    assert_int_equal(len, 0);
}

static void absent_and_duplicate_members_read_as_nothing(void **state)
{
    (void)state;
    sf_jf_doc doc = parsed("{\"a\":1,\"a\":2,\"n\":5}");
    int absent = sf_jf_member(&doc, 0, "missing");
    int twice = sf_jf_member(&doc, 0, "a");
    assert_int_equal(absent, SF_JF_ABSENT);
    assert_int_equal(twice, SF_JF_DUPLICATE);
    reads_nothing(&doc, absent);
    reads_nothing(&doc, twice);
    reads_nothing(&doc, doc.ntok); /* one past the last token */
    int64_t n;
    assert_true(sf_jf_int(&doc, sf_jf_member(&doc, 0, "n"), &n));
    assert_int_equal(n, 5);
    sf_jf_free(&doc);
}

static void a_doc_that_did_not_parse_has_no_members(void **state)
{
    (void)state;
    const char *bad[] = {"{\"a\":1", "[1]", "{\"a\":01}", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sf_jf_doc doc;
        assert_false(sf_jf_parse_object(&doc, bad[i], strlen(bad[i]), 64));
        assert_int_equal(sf_jf_member(&doc, 0, "a"), SF_JF_ABSENT);
        reads_nothing(&doc, 0);
        sf_jf_free(&doc);
    }
    sf_jf_doc zeroed = {0}; /* never parsed */
    reads_nothing(&zeroed, 0);
}

/* The string member "s" of a one-member object, unescaped into out. */
static bool string_of(const char *text, char *out, size_t cap)
{
    sf_jf_doc doc = parsed(text);
    bool ok = sf_jf_string(&doc, sf_jf_member(&doc, 0, "s"), out, cap);
    sf_jf_free(&doc);
    return ok;
}

static void strings_unescape_every_json_escape(void **state)
{
    (void)state;
    char out[64];
    assert_true(string_of("{\"s\":\"q\\\" b\\\\ s\\/ \\b\\f\\n\\r\\t\"}", out, sizeof out));
    assert_string_equal(out, "q\" b\\ s/ \b\f\n\r\t");
    /* one, two, three and four UTF-8 bytes; a surrogate pair joined */
    assert_true(string_of("{\"s\":\"\\u0041\\u00e9\\u20ac\\ud83d\\ude00\"}", out, sizeof out));
    assert_string_equal(out, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_true(string_of("{\"s\":\"\\u07FF\\uFFFF\"}", out, sizeof out));
    assert_string_equal(out, "\xdf\xbf\xef\xbf\xbf");
    /* keys are unescaped too */
    sf_jf_doc doc = parsed("{\"\\u0073\":\"key\"}");
    assert_true(sf_jf_string(&doc, sf_jf_member(&doc, 0, "s"), out, sizeof out));
    assert_string_equal(out, "key");
    sf_jf_free(&doc);
}

static void strings_refuse_what_cannot_be_text(void **state)
{
    (void)state;
    char out[64];
    assert_false(string_of("{\"s\":\"\\u0000\"}", out, sizeof out));         /* escaped NUL */
    assert_false(string_of("{\"s\":\"\\ude00\"}", out, sizeof out));         /* lone low */
    assert_false(string_of("{\"s\":\"\\ud83d\"}", out, sizeof out));         /* lone high */
    assert_false(string_of("{\"s\":\"\\ud83dx\\ude00\"}", out, sizeof out)); /* not a pair */
    assert_false(string_of("{\"s\":\"\\ud83d\\u0041\"}", out, sizeof out));  /* high, then no low */
    assert_false(string_of("{\"s\":\"abcd\"}", out, 4));                     /* no room for NUL */
    assert_true(string_of("{\"s\":\"abc\"}", out, 4));
    assert_string_equal(out, "abc");
    assert_false(string_of("{\"s\":1}", out, sizeof out)); /* not a string */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absent_and_duplicate_members_read_as_nothing),
        cmocka_unit_test(a_doc_that_did_not_parse_has_no_members),
        cmocka_unit_test(strings_unescape_every_json_escape),
        cmocka_unit_test(strings_refuse_what_cannot_be_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
