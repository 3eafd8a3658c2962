/* SPDX-License-Identifier: MIT */
/* test_json.c: sf_json_compact_object: strict RFC 8259 object check and compact re-emit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"

/* A literal with its exact length (embedded NULs included). */
#define LIT(s) s, sizeof(s) - 1

typedef struct valid_case {
    const char *in;
    size_t len;
    const char *out;
} valid_case;

typedef struct invalid_case {
    const char *name;
    const char *in;
    size_t len;
} invalid_case;

/* Runs the check with an output buffer of exactly len + 1 bytes (overruns show in ASan). */
static sf_status compact(const char *in, size_t len, char **out, size_t *out_len)
{
    *out = malloc(len + 1);
    assert_non_null(*out);
    *out_len = (size_t)-1;
    return sf_json_compact_object(in, len, *out, len + 1, out_len);
}

static const valid_case valid_cases[] = {
    {LIT("{}"), "{}"},
    {LIT(" \t\n\r{ \t\n\r} \t\n\r"), "{}"},
    {LIT("{\"a\":1}"), "{\"a\":1}"},
    {LIT("{ \"a\" : 1 }"), "{\"a\":1}"},
    {LIT("{\n  \"a\": {\n    \"b\": [ 1 , 2 , { \"c\" : [ ] } ]\n  },\n  \"d\": null\n}\n"),
     "{\"a\":{\"b\":[1,2,{\"c\":[]}]},\"d\":null}"},
    {LIT("{\"z\":1, \"a\":2, \"m\":3}"), "{\"z\":1,\"a\":2,\"m\":3}"},
    {LIT("{\"t\" :true,\"f\": false ,\"n\":null}"), "{\"t\":true,\"f\":false,\"n\":null}"},
    {LIT("{\"\":\"\"}"), "{\"\":\"\"}"},
    {LIT("{\"s\" : \"  a \\t b  \"}"), "{\"s\":\"  a \\t b  \"}"}, /* \t as two chars */
    {LIT("{\"s\":\"{[,:]} \\\"x\\\" \"}"), "{\"s\":\"{[,:]} \\\"x\\\" \"}"},
    /* escapes are kept exactly as sent */
    {LIT("{\"e\" : \"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}"),
     "{\"e\":\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"}"},
    {LIT("{\"u\":\"\\u0041\\u00e9\\u00E9\\uD83D\\uDE00\\u0000\\uffff\"}"),
     "{\"u\":\"\\u0041\\u00e9\\u00E9\\uD83D\\uDE00\\u0000\\uffff\"}"},
    {LIT("{\"\\u006b\" : 1}"), "{\"\\u006b\":1}"},
    /* raw UTF-8 in keys and values */
    {LIT("{\"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\" : \"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}"),
     "{\"\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87\":\"\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80\"}"},
    /* UTF-8 boundaries: U+0080 U+07FF U+0800 U+D7FF U+E000 U+FFFF U+10000 U+10FFFF, DEL */
    {LIT("{\"b\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
         "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\"}"),
     "{\"b\":\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"
     "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\x7f\"}"},
    /* numbers */
    {LIT("{\"n\": -0}"), "{\"n\":-0}"},
    {LIT("{\"n\": 1e10}"), "{\"n\":1e10}"},
    {LIT("{\"n\": 1.5E-3}"), "{\"n\":1.5E-3}"},
    {LIT("{\"n\":[0, -0.0, 1E+2, -12.5e+7, 0e0, 9.99, 123456789012345678901234567890]}"),
     "{\"n\":[0,-0.0,1E+2,-12.5e+7,0e0,9.99,123456789012345678901234567890]}"},
    {LIT("{\"a\":[[],[[]],{},[{}]]}"), "{\"a\":[[],[[]],{},[{}]]}"},
    {LIT("{\"a\":[ true , false , null , \"x\" , 1 , { } , [ ] ]}"),
     "{\"a\":[true,false,null,\"x\",1,{},[]]}"},
    {LIT("{\"dup\":1,\"dup\":2}"), "{\"dup\":1,\"dup\":2}"},
    {LIT("{\"k\":1}\n"), "{\"k\":1}"},
};

static void test_valid_objects_compact_to_exact_output(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof *valid_cases; i++) {
        const valid_case *c = &valid_cases[i];
        char *out;
        size_t out_len;
        sf_status st = compact(c->in, c->len, &out, &out_len);
        if (st != SF_OK) {
            free(out);
            fail_msg("valid case %zu refused (%d): %s", i, (int)st, c->in);
        }
        if (strcmp(out, c->out) != 0) {
            fprintf(stderr, "case %zu\n  want %s\n  got  %s\n", i, c->out, out);
            free(out);
            fail_msg("valid case %zu: wrong compact output", i);
        }
        assert_int_equal(out_len, strlen(c->out));
        free(out);
    }
}

static const invalid_case invalid_cases[] = {
    {"trailing comma in object", LIT("{\"a\":1,}")},
    {"trailing comma in array", LIT("{\"a\":[1,2,]}")},
    {"lone comma", LIT("{,}")},
    {"leading comma", LIT("{,\"a\":1}")},
    {"double comma", LIT("{\"a\":1,,\"b\":2}")},
    {"array double comma", LIT("{\"a\":[1,,2]}")},
    {"missing colon", LIT("{\"a\" 1}")},
    {"key without value", LIT("{\"a\"}")},
    {"comma for colon", LIT("{\"a\",1}")},
    {"double colon", LIT("{\"a\"::1}")},
    {"colon chain", LIT("{\"a\":1:2}")},
    {"string colon chain", LIT("{\"a\":\"b\":\"c\"}")},
    {"missing comma members", LIT("{\"a\":1 \"b\":2}")},
    {"missing comma strings", LIT("{\"a\":\"x\" \"b\":1}")},
    {"missing comma array", LIT("{\"a\":[1 2]}")},
    {"missing comma array strings", LIT("{\"a\":[\"x\" \"y\"]}")},
    {"member without value", LIT("{\"a\":}")},
    {"member without value then more", LIT("{\"a\":,\"b\":1}")},
    {"last key without colon", LIT("{\"a\":1,\"b\"}")},
    {"last key without value", LIT("{\"a\":1,\"b\":}")},
    {"array leading comma before array", LIT("{\"a\":[,[]]}")},
    {"array leading comma before number", LIT("{\"a\":[,1]}")},
    {"array leading comma before string", LIT("{\"a\":[,\"x\"]}")},
    {"colon in array", LIT("{\"a\":[:1]}")},
    {"colon pair in array", LIT("{\"a\":[\"b\":1]}")},
    {"value then array", LIT("{\"a\":1 [2]}")},
    {"single quoted key", LIT("{'a':1}")},
    {"single quoted value", LIT("{\"a\":'b'}")},
    {"bare key", LIT("{a:1}")},
    {"number key", LIT("{1:2}")},
    {"literal key", LIT("{true:1}")},
    {"null key", LIT("{null:1}")},
    {"object key", LIT("{{}:1}")},
    {"array key", LIT("{[]:1}")},
    {"leading zero", LIT("{\"a\":01}")},
    {"negative leading zero", LIT("{\"a\":-01}")},
    {"double zero", LIT("{\"a\":00}")},
    {"1.", LIT("{\"a\":1.}")},
    {".5", LIT("{\"a\":.5}")},
    {"+1", LIT("{\"a\":+1}")},
    {"lone minus", LIT("{\"a\":-}")},
    {"double minus", LIT("{\"a\":--1}")},
    {"exponent without digits", LIT("{\"a\":1e}")},
    {"exponent sign only", LIT("{\"a\":1e+}")},
    {"fraction then exponent without digits", LIT("{\"a\":1.5E-}")},
    {"two points", LIT("{\"a\":1.5.3}")},
    {"hex number", LIT("{\"a\":0x10}")},
    {"minus inside", LIT("{\"a\":1-2}")},
    {"tru", LIT("{\"a\":tru}")},
    {"nul", LIT("{\"a\":nul}")},
    {"fals", LIT("{\"a\":fals}")},
    {"truee", LIT("{\"a\":truee}")},
    {"True", LIT("{\"a\":True}")},
    {"NULL", LIT("{\"a\":NULL}")},
    {"NaN", LIT("{\"a\":NaN}")},
    {"Infinity", LIT("{\"a\":Infinity}")},
    {"-Infinity", LIT("{\"a\":-Infinity}")},
    {"raw control char", LIT("{\"a\":\"\x01\"}")},
    {"raw tab in string", LIT("{\"a\":\"x\ty\"}")},
    {"raw newline in string", LIT("{\"a\":\"x\ny\"}")},
    {"raw unit separator in key", LIT("{\"\x1f\":1}")},
    {"invalid escape \\x", LIT("{\"a\":\"\\x41\"}")},
    {"invalid escape \\a", LIT("{\"a\":\"\\a\"}")},
    {"invalid escape \\'", LIT("{\"a\":\"\\'\"}")},
    {"escaped NUL char", LIT("{\"a\":\"\\0\"}")},
    {"short \\u12", LIT("{\"a\":\"\\u12\"}")},
    {"non-hex \\u12G4", LIT("{\"a\":\"\\u12G4\"}")},
    {"\\u at end", LIT("{\"a\":\"\\u\"}")},
    {"backslash at end of input", LIT("{\"a\":\"\\")},
    {"overlong C0 80", LIT("{\"a\":\"\xc0\x80\"}")},
    {"overlong C1 BF", LIT("{\"a\":\"\xc1\xbf\"}")},
    {"overlong E0 80 AF", LIT("{\"a\":\"\xe0\x80\xaf\"}")},
    {"overlong F0 80 80 80", LIT("{\"a\":\"\xf0\x80\x80\x80\"}")},
    {"lone continuation byte", LIT("{\"a\":\"\x80\"}")},
    {"continuation in key", LIT("{\"\xbf\":1}")},
    {"surrogate ED A0 80", LIT("{\"a\":\"\xed\xa0\x80\"}")},
    {"surrogate ED BF BF", LIT("{\"a\":\"\xed\xbf\xbf\"}")},
    {"F5 byte", LIT("{\"a\":\"\xf5\x80\x80\x80\"}")},
    {"above U+10FFFF", LIT("{\"a\":\"\xf4\x90\x80\x80\"}")},
    {"FF byte", LIT("{\"a\":\"\xff\"}")},
    {"truncated sequence", LIT("{\"a\":\"\xe2\x82\"}")},
    {"bad continuation", LIT("{\"a\":\"\xc3\x28\"}")},
    {"embedded NUL after object", LIT("{\"a\":1}\0")},
    {"embedded NUL in string", LIT("{\"a\":\"x\0y\"}")},
    {"embedded NUL between tokens", LIT("{\"a\":\0 1}")},
    {"embedded NUL in number", LIT("{\"a\":1\0}")},
    {"leading NUL", LIT("\0{}")},
    {"garbage after object", LIT("{\"a\":1} x")},
    {"bracket after object", LIT("{\"a\":1}]")},
    {"brace after object", LIT("{\"a\":1}}")},
    {"comma after object", LIT("{},")},
    {"two objects", LIT("{}{}")},
    {"two objects with space", LIT("{\"a\":1} {\"b\":2}")},
    {"empty input", "", 0},
    {"only whitespace", LIT(" \t\r\n ")},
    {"unterminated string", LIT("{\"a\":\"abc")},
    {"unterminated key", LIT("{\"ab")},
    {"unterminated object", LIT("{\"a\":1")},
    {"unterminated nested object", LIT("{\"a\":{}")},
    {"unterminated array", LIT("{\"a\":[1,2")},
    {"lone open brace", LIT("{")},
    {"lone close brace", LIT("}")},
    {"mismatched close bracket", LIT("{\"a\":[1}")},
    {"mismatched close brace", LIT("{\"a\":{]}")},
    {"crossed brackets", LIT("{\"a\":[}]")},
    {"top-level array", LIT("[]")},
    {"top-level array of object", LIT("[{}]")},
    {"top-level string", LIT("\"s\"")},
    {"top-level number", LIT("1")},
    {"top-level negative number", LIT("-2.5")},
    {"top-level true", LIT("true")},
    {"top-level null", LIT("null")},
    {"form feed whitespace", LIT("{\f}")},
    {"vertical tab whitespace", LIT("{\v}")},
    {"no-break space whitespace", LIT("{\xc2\xa0}")},
    {"block comment", LIT("{/*c*/}")},
    {"line comment", LIT("{}//c")},
    {"unquoted value", LIT("{\"a\":b}")},
};

static void test_invalid_inputs_are_54008(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid_cases / sizeof *invalid_cases; i++) {
        const invalid_case *c = &invalid_cases[i];
        char *out;
        size_t out_len;
        sf_status st = compact(c->in, c->len, &out, &out_len);
        free(out);
        if (st != SF_ERR_DATA_INVALID)
            fail_msg("invalid case %zu (%s): got %s", i, c->name, sf_status_name(st));
        assert_int_equal(sf_status_http(st), 400);
        assert_int_equal(sf_status_code(st), 54008);
    }
}

/* {"a":{"a":...{"a":{}}...}} with `depth` objects, spaced out when `spaced`. */
static char *nested_objects(int depth, bool spaced, size_t *len)
{
    const char *open = spaced ? "{ \"a\" : " : "{\"a\":";
    size_t ol = strlen(open);
    size_t cap = (size_t)depth * (ol + 2) + 8;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t pos = 0;
    for (int i = 0; i < depth - 1; i++) {
        memcpy(s + pos, open, ol);
        pos += ol;
    }
    memcpy(s + pos, spaced ? "{ }" : "{}", spaced ? 3 : 2);
    pos += spaced ? 3 : 2;
    for (int i = 0; i < depth - 1; i++) {
        if (spaced)
            s[pos++] = ' ';
        s[pos++] = '}';
    }
    s[pos] = '\0';
    *len = pos;
    return s;
}

static void test_deep_nesting_of_500_objects_compacts(void **state)
{
    (void)state;
    size_t in_len, want_len;
    char *in = nested_objects(500, true, &in_len);
    char *want = nested_objects(500, false, &want_len);
    char *out;
    size_t out_len;
    assert_status(compact(in, in_len, &out, &out_len), SF_OK);
    assert_int_equal(out_len, want_len);
    assert_string_equal(out, want);
    free(out);
    /* remove the last closing brace: unterminated */
    assert_status(compact(in, in_len - 1, &out, &out_len), SF_ERR_DATA_INVALID);
    free(out);
    free(in);
    free(want);
}

static void test_deep_nesting_of_500_arrays_compacts(void **state)
{
    (void)state;
    /* {"a": [ [ ... [ ] ... ] ] } : 1 object + 499 arrays = 500 levels */
    size_t cap = 6 + 499 * 4 + 4;
    char *in = malloc(cap), *want = malloc(cap);
    assert_non_null(in);
    assert_non_null(want);
    size_t p = 0, q = 0;
    memcpy(in + p, "{\"a\": ", 6), p += 6;
    memcpy(want + q, "{\"a\":", 5), q += 5;
    for (int i = 0; i < 499; i++)
        in[p++] = '[', in[p++] = ' ', want[q++] = '[';
    for (int i = 0; i < 499; i++)
        in[p++] = ']', in[p++] = '\n', want[q++] = ']';
    in[p++] = '}';
    want[q++] = '}';
    in[p] = '\0';
    want[q] = '\0';
    char *out;
    size_t out_len;
    assert_status(compact(in, p, &out, &out_len), SF_OK);
    assert_int_equal(out_len, q);
    assert_string_equal(out, want);
    free(out);
    free(in);
    free(want);
}

static void test_token_dense_object_fits_the_token_budget(void **state)
{
    (void)state;
    /* the densest shapes: one-digit array elements, and single-element arrays */
    const char *shapes[] = {"1,", "[1],", "{\"\":1},", "[[]],", "\"\","};
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        size_t unit = strlen(shapes[k]);
        size_t n = 200;
        size_t len = 6 + n * unit - 1 + 2;
        char *in = malloc(len + 1);
        assert_non_null(in);
        memcpy(in, "{\"a\":[", 6);
        for (size_t i = 0; i < n; i++)
            memcpy(in + 6 + i * unit, shapes[k], unit);
        memcpy(in + 6 + n * unit - 1, "]}", 3);
        char *out;
        size_t out_len;
        sf_status st = compact(in, len, &out, &out_len);
        if (st != SF_OK)
            fail_msg("dense shape %s refused: %s", shapes[k], sf_status_name(st));
        assert_int_equal(out_len, len);
        assert_memory_equal(out, in, len);
        free(out);
        free(in);
    }
    /* the smallest possible: {"":1} */
    char *out;
    size_t out_len;
    assert_status(compact(LIT("{\"\":1}"), &out, &out_len), SF_OK);
    assert_string_equal(out, "{\"\":1}");
    free(out);
}

static void test_argument_checks_are_invalid_argument(void **state)
{
    (void)state;
    char out[64];
    size_t out_len = 99;
    assert_status(sf_json_compact_object(NULL, 2, out, sizeof out, &out_len),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object("{}", 2, NULL, 3, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object("{}", 2, out, sizeof out, NULL), SF_ERR_INVALID_ARGUMENT);
    /* out_cap must be at least len + 1, even when the compact form is shorter */
    assert_status(sf_json_compact_object("{ }", 3, out, 3, &out_len), SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_json_compact_object("{ }", 3, out, 4, &out_len), SF_OK);
    assert_string_equal(out, "{}");
    assert_int_equal(out_len, 2);
    /* more than SF_DATA_CAP bytes is refused before being read */
    size_t huge = (size_t)SF_DATA_CAP + 1;
    char *big = malloc(huge + 1);
    assert_non_null(big);
    memset(big, ' ', huge);
    big[0] = '{';
    big[huge - 1] = '}';
    big[huge] = '\0';
    char *bout = malloc(huge + 1);
    assert_non_null(bout);
    assert_status(sf_json_compact_object(big, huge, bout, huge + 1, &out_len),
                  SF_ERR_INVALID_ARGUMENT);
    /* and exactly SF_DATA_CAP is fine */
    big[huge - 1] = ' ';
    big[huge - 2] = '}';
    assert_status(sf_json_compact_object(big, huge - 1, bout, huge, &out_len), SF_OK);
    assert_string_equal(bout, "{}");
    free(big);
    free(bout);
}

static void test_compact_form_is_stable_under_recompaction(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof valid_cases / sizeof *valid_cases; i++) {
        const char *once = valid_cases[i].out;
        size_t n = strlen(once);
        char *out;
        size_t out_len;
        assert_status(compact(once, n, &out, &out_len), SF_OK);
        assert_int_equal(out_len, n);
        assert_string_equal(out, once);
        free(out);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_objects_compact_to_exact_output),
        cmocka_unit_test(test_invalid_inputs_are_54008),
        cmocka_unit_test(test_deep_nesting_of_500_objects_compacts),
        cmocka_unit_test(test_deep_nesting_of_500_arrays_compacts),
        cmocka_unit_test(test_token_dense_object_fits_the_token_budget),
        cmocka_unit_test(test_argument_checks_are_invalid_argument),
        cmocka_unit_test(test_compact_form_is_stable_under_recompaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
