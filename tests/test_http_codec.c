/* SPDX-License-Identifier: MIT */
/* test_http_codec.c: the wire encodings of the HTTP face (fake_http/codec.h): percent
 * decoding and encoding, form bodies, integers, booleans, HTTP Basic credentials; and the
 * server-sent event framing (sf_http_sse_format). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "codec.h"
#include "syncfake.h"
#include "syncfake_http.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* Decodes the NUL-terminated s; on success the result is in out (NUL-terminated, *n bytes). */
static bool decode(const char *s, bool plus_is_space, char *out, size_t *n)
{
    return sf_http_percent_decode(s, strlen(s), plus_is_space, out, n);
}

static void assert_decodes(const char *s, bool plus_is_space, const char *want, size_t want_len)
{
    char out[256];
    size_t n = 12345;
    memset(out, 'X', sizeof out);
    if (!decode(s, plus_is_space, out, &n))
        fail_msg("\"%s\" was refused", s);
    assert_int_equal(n, want_len);
    assert_memory_equal(out, want, want_len);
    assert_int_equal(out[n], '\0');
}

static void assert_refused(const char *s)
{
    char out[256];
    assert_false(decode(s, false, out, NULL));
    assert_false(decode(s, true, out, NULL));
}

static const char *basic_of(const char *b64, char *buf, size_t cap)
{
    snprintf(buf, cap, "Basic %s", b64);
    return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* Percent decoding                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void test_decode_escaped_slash(void **state)
{
    (void)state;
    assert_decodes("room%2F42", false, "room/42", 7);
    assert_decodes("room%2f42", false, "room/42", 7); /* hex digits in either case */
    assert_decodes("room%2F42", true, "room/42", 7);
    assert_decodes("%2F", false, "/", 1);
    assert_decodes("a%2F%2Fb", false, "a//b", 4);
}

static void test_decode_plus_in_paths_and_forms(void **state)
{
    (void)state;
    assert_decodes("a+b", false, "a+b", 3);   /* a path: '+' is itself */
    assert_decodes("a+b", true, "a b", 3);    /* a form or query: '+' is a space */
    assert_decodes("a%2Bb", false, "a+b", 3); /* an escaped '+' is '+' everywhere */
    assert_decodes("a%2Bb", true, "a+b", 3);
    assert_decodes("a%20b", false, "a b", 3);
    assert_decodes("a%20b", true, "a b", 3);
    assert_decodes("++", true, "  ", 2);
}

static void test_decode_plain_and_utf8(void **state)
{
    (void)state;
    assert_decodes("", false, "", 0);
    assert_decodes("abc-_.~", false, "abc-_.~", 7);
    assert_decodes("%C3%A9t%C3%A9", false, "\xc3\xa9t\xc3\xa9", 5);
    assert_decodes("%7e%7E", false, "~~", 2);
    assert_decodes("%FF%01", false, "\xff\x01", 2); /* any byte but NUL */
    assert_decodes("%25", false, "%", 1);
    assert_decodes("%2525", false, "%25", 3); /* decoded once only */
}

static void test_decode_truncated_escape(void **state)
{
    (void)state;
    assert_refused("%");
    assert_refused("%2");
    assert_refused("ab%2");
    assert_refused("ab%");
    assert_refused("%2F%");
}

static void test_decode_bad_hex(void **state)
{
    (void)state;
    assert_refused("%zz");
    assert_refused("%2z");
    assert_refused("%z2");
    assert_refused("%GG");
    assert_refused("% 2F");
    assert_refused("%+2");
    assert_refused("%-1");
}

static void test_decode_nul_refused(void **state)
{
    (void)state;
    assert_refused("%00");
    assert_refused("a%00b");
    /* a raw NUL inside the given length too */
    char out[8];
    assert_false(sf_http_percent_decode("a\0b", 3, false, out, NULL));
    assert_false(sf_http_percent_decode("a\0b", 3, true, out, NULL));
}

static void test_decode_respects_length(void **state)
{
    (void)state;
    char out[16];
    size_t n;
    /* only s[0..len) is read: the escape after it does not count */
    assert_true(sf_http_percent_decode("abc%2Fdef", 3, false, out, &n));
    assert_int_equal(n, 3);
    assert_string_equal(out, "abc");
    /* an escape cut by the length is truncated, even if the bytes after it are hex */
    assert_false(sf_http_percent_decode("ab%2F", 4, false, out, &n));
    assert_false(sf_http_percent_decode("%2F", 2, false, out, &n));
    /* length 0 */
    assert_true(sf_http_percent_decode("%zz", 0, false, out, &n));
    assert_int_equal(n, 0);
    assert_string_equal(out, "");
}

static void test_decode_out_len_optional(void **state)
{
    (void)state;
    char out[16];
    assert_true(sf_http_percent_decode("a%2Fb", 5, false, out, NULL));
    assert_string_equal(out, "a/b");
}

/* ---------------------------------------------------------------------------------------- */
/* Percent encoding                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void test_encode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(sf_http_percent_encode("a/b c", out, sizeof out), 9);
    assert_string_equal(out, "a%2Fb%20c");
    assert_int_equal(sf_http_percent_encode("AZaz09-_.~", out, sizeof out), 10);
    assert_string_equal(out, "AZaz09-_.~");
    assert_int_equal(sf_http_percent_encode("+&=?#%", out, sizeof out), 18);
    assert_string_equal(out, "%2B%26%3D%3F%23%25");
    assert_int_equal(sf_http_percent_encode("\xc3\xa9", out, sizeof out), 6);
    assert_string_equal(out, "%C3%A9");
    assert_int_equal(sf_http_percent_encode("", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_encode_round_trip(void **state)
{
    (void)state;
    const char *inputs[] = {"room/42", "a b+c", "q\"b\\s \xc3\xa9", "%2F", "~!*'()"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char enc[128], dec[128];
        size_t n;
        size_t need = sf_http_percent_encode(inputs[i], enc, sizeof enc);
        assert_int_equal(need, strlen(enc));
        assert_true(sf_http_percent_decode(enc, need, false, dec, &n));
        assert_string_equal(dec, inputs[i]);
        assert_true(sf_http_percent_decode(enc, need, true, dec, &n)); /* no '+' left */
        assert_string_equal(dec, inputs[i]);
    }
}

static void test_encode_small_buffer(void **state)
{
    (void)state;
    char out[8];
    memset(out, 'X', sizeof out);
    /* snprintf-like: returns the full length, writes a NUL-terminated prefix */
    assert_int_equal(sf_http_percent_encode("abcdefghij", out, 4), 10);
    assert_string_equal(out, "abc");
    assert_int_equal(out[4], 'X');
    /* whatever is written is a prefix of the full encoding "a%2Fb": no stale bytes */
    for (size_t cap = 1; cap <= 6; cap++) {
        memset(out, 'X', sizeof out);
        assert_int_equal(sf_http_percent_encode("a/b", out, cap), 5);
        assert_non_null(memchr(out, '\0', cap));
        if (strncmp(out, "a%2Fb", strlen(out)) != 0)
            fail_msg("capacity %zu gave \"%s\", not a prefix of \"a%%2Fb\"", cap, out);
    }
    /* capacity 0 writes nothing */
    memset(out, 'X', sizeof out);
    assert_int_equal(sf_http_percent_encode("a/b", out, 0), 5);
    assert_int_equal(out[0], 'X');
    /* exactly enough */
    assert_int_equal(sf_http_percent_encode("a/b", out, 6), 5);
    assert_string_equal(out, "a%2Fb");
}

/* ---------------------------------------------------------------------------------------- */
/* Forms                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void test_form_empty(void **state)
{
    (void)state;
    sf_http_form f;
    assert_true(sf_http_form_parse("", 0, &f));
    assert_int_equal(f.count, 0);
    assert_null(sf_http_form_get(&f, "a"));
    sf_http_form_free(&f);
    assert_true(sf_http_form_parse("&", 1, &f));
    assert_int_equal(f.count, 0);
    sf_http_form_free(&f);
    assert_true(sf_http_form_parse("&&&", 3, &f));
    assert_int_equal(f.count, 0);
    sf_http_form_free(&f);
}

static void test_form_empty_pieces_skipped(void **state)
{
    (void)state;
    sf_http_form f;
    const char *t = "a=1&&b=2&";
    assert_true(sf_http_form_parse(t, strlen(t), &f));
    assert_int_equal(f.count, 2);
    assert_string_equal(f.fields[0].name, "a");
    assert_string_equal(f.fields[0].value, "1");
    assert_string_equal(f.fields[1].name, "b");
    assert_string_equal(f.fields[1].value, "2");
    assert_string_equal(sf_http_form_get(&f, "a"), "1");
    assert_string_equal(sf_http_form_get(&f, "b"), "2");
    assert_null(sf_http_form_get(&f, "c"));
    assert_null(sf_http_form_get(&f, ""));
    sf_http_form_free(&f);
}

static void test_form_name_without_value(void **state)
{
    (void)state;
    sf_http_form f;
    assert_true(sf_http_form_parse("a", 1, &f));
    assert_int_equal(f.count, 1);
    assert_string_equal(f.fields[0].name, "a");
    assert_string_equal(f.fields[0].value, "");
    assert_string_equal(sf_http_form_get(&f, "a"), "");
    sf_http_form_free(&f);
    assert_true(sf_http_form_parse("a=", 2, &f));
    assert_int_equal(f.count, 1);
    assert_string_equal(sf_http_form_get(&f, "a"), "");
    sf_http_form_free(&f);
}

static void test_form_empty_name_refused(void **state)
{
    (void)state;
    sf_http_form f;
    assert_false(sf_http_form_parse("=x", 2, &f));
    assert_int_equal(f.count, 0);
    assert_null(f.storage);
    sf_http_form_free(&f); /* harmless after a refusal */
    assert_false(sf_http_form_parse("a=1&=2", 6, &f));
    assert_false(sf_http_form_parse("=", 1, &f));
}

static void test_form_decoding(void **state)
{
    (void)state;
    sf_http_form f;
    const char *t = "Unique+Name=room%2F42+x&Data=%7B%22a%22%3A1%7D&eq=b=c&pct=%25";
    assert_true(sf_http_form_parse(t, strlen(t), &f));
    assert_int_equal(f.count, 4);
    assert_string_equal(sf_http_form_get(&f, "Unique Name"), "room/42 x");
    assert_string_equal(sf_http_form_get(&f, "Data"), "{\"a\":1}");
    assert_string_equal(sf_http_form_get(&f, "eq"), "b=c"); /* only the first '=' splits */
    assert_string_equal(sf_http_form_get(&f, "pct"), "%");
    sf_http_form_free(&f);
}

static void test_form_bad_escape_refused(void **state)
{
    (void)state;
    sf_http_form f;
    assert_false(sf_http_form_parse("a=%zz", 5, &f));
    assert_false(sf_http_form_parse("%zz=1", 5, &f));
    assert_false(sf_http_form_parse("a=1&b=%2", 8, &f));
    assert_false(sf_http_form_parse("a=%00", 5, &f));
    assert_int_equal(f.count, 0);
}

static void test_form_duplicates_last_wins(void **state)
{
    (void)state;
    sf_http_form f;
    const char *t = "a=1&b=x&a=2&a=3";
    assert_true(sf_http_form_parse(t, strlen(t), &f));
    assert_int_equal(f.count, 4);
    assert_string_equal(sf_http_form_get(&f, "a"), "3");
    assert_string_equal(sf_http_form_get(&f, "b"), "x");
    sf_http_form_free(&f);
}

static void test_form_names_are_case_sensitive(void **state)
{
    (void)state;
    sf_http_form f;
    assert_true(sf_http_form_parse("Ttl=5", 5, &f));
    assert_null(sf_http_form_get(&f, "ttl"));
    assert_string_equal(sf_http_form_get(&f, "Ttl"), "5");
    sf_http_form_free(&f);
}

static char *fields_text(int n)
{
    char *t = malloc((size_t)n * 16 + 1);
    assert_non_null(t);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(t + len, "%sf%d=%d", i ? "&" : "", i, i);
    return t;
}

static void test_form_field_limit(void **state)
{
    (void)state;
    sf_http_form f;
    char *t = fields_text(SF_HTTP_FORM_MAX_FIELDS);
    assert_true(sf_http_form_parse(t, strlen(t), &f));
    assert_int_equal(f.count, SF_HTTP_FORM_MAX_FIELDS);
    assert_string_equal(sf_http_form_get(&f, "f63"), "63");
    sf_http_form_free(&f);
    free(t);

    t = fields_text(SF_HTTP_FORM_MAX_FIELDS + 1);
    assert_false(sf_http_form_parse(t, strlen(t), &f));
    assert_int_equal(f.count, 0);
    free(t);

    /* empty pieces do not count towards the limit */
    t = fields_text(SF_HTTP_FORM_MAX_FIELDS);
    size_t len = strlen(t);
    char *padded = malloc(len + 3);
    assert_non_null(padded);
    snprintf(padded, len + 3, "&%s&", t);
    assert_true(sf_http_form_parse(padded, strlen(padded), &f));
    assert_int_equal(f.count, SF_HTTP_FORM_MAX_FIELDS);
    sf_http_form_free(&f);
    free(padded);
    free(t);
}

static void test_form_respects_length(void **state)
{
    (void)state;
    sf_http_form f;
    const char *t = "a=1&b=2";
    assert_true(sf_http_form_parse(t, 3, &f)); /* "a=1" */
    assert_int_equal(f.count, 1);
    assert_string_equal(sf_http_form_get(&f, "a"), "1");
    assert_null(sf_http_form_get(&f, "b"));
    sf_http_form_free(&f);
    /* not NUL-terminated input */
    char buf[5] = {'x', '=', 'y', 'z', '!'};
    assert_true(sf_http_form_parse(buf, 4, &f));
    assert_string_equal(sf_http_form_get(&f, "x"), "yz");
    sf_http_form_free(&f);
}

/* ---------------------------------------------------------------------------------------- */
/* Integers and booleans                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void assert_int_parses(const char *s, int64_t want)
{
    int64_t v = 0x5555;
    if (!sf_http_parse_int(s, &v))
        fail_msg("\"%s\" was refused", s);
    if (v != want)
        fail_msg("\"%s\" gave %lld, not %lld", s, (long long)v, (long long)want);
}

static void assert_int_refused(const char *s)
{
    int64_t v = 0x5555;
    if (sf_http_parse_int(s, &v))
        fail_msg("\"%s\" was accepted (%lld)", s, (long long)v);
    assert_int_equal(v, 0x5555); /* untouched */
}

static void test_parse_int_values(void **state)
{
    (void)state;
    assert_int_parses("0", 0);
    assert_int_parses("-0", 0);
    assert_int_parses("1", 1);
    assert_int_parses("-1", -1);
    assert_int_parses("007", 7);
    assert_int_parses("31536000", 31536000);
    assert_int_parses("1438286400000", INT64_C(1438286400000));
}

static void test_parse_int_limits(void **state)
{
    (void)state;
    assert_int_parses("9223372036854775807", INT64_MAX);
    assert_int_parses("-9223372036854775808", INT64_MIN);
    assert_int_refused("9223372036854775808");
    assert_int_refused("-9223372036854775809");
    assert_int_refused("99999999999999999999");
    assert_int_refused("-99999999999999999999");
    assert_int_refused("18446744073709551616");
}

static void test_parse_int_refuses_non_decimal(void **state)
{
    (void)state;
    assert_int_refused("");
    assert_int_refused("-");
    assert_int_refused("+1");
    assert_int_refused(" 1");
    assert_int_refused("1 ");
    assert_int_refused("\t1");
    assert_int_refused("1\n");
    assert_int_refused("--1");
    assert_int_refused("-+1");
    assert_int_refused("1a");
    assert_int_refused("0x10");
    assert_int_refused("1.0");
    assert_int_refused("1e3");
    assert_int_refused("1,000");
    assert_int_refused("abc");
    assert_int_refused("\xd9\xa1"); /* ARABIC-INDIC DIGIT ONE */
}

static void test_parse_bool(void **state)
{
    (void)state;
    bool b = false;
    assert_true(sf_http_parse_bool("true", &b));
    assert_true(b);
    assert_true(sf_http_parse_bool("false", &b));
    assert_false(b);
    /* any letter case (codec.h): Python's helper library sends "True" / "False" */
    assert_true(sf_http_parse_bool("True", &b));
    assert_true(b);
    assert_true(sf_http_parse_bool("FALSE", &b));
    assert_false(b);
    assert_true(sf_http_parse_bool("tRuE", &b));
    assert_true(b);
    assert_true(sf_http_parse_bool("False", &b));
    assert_false(b);
    const char *bad[] = {"1",     "0", "",  "yes",   "no",   "on",     "true ",
                         " true", "t", "f", "truee", "fals", "true\n", "\"true\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        b = true;
        if (sf_http_parse_bool(bad[i], &b))
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_true(b); /* untouched */
        b = false;
        assert_false(sf_http_parse_bool(bad[i], &b));
        assert_false(b);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* HTTP Basic credentials                                                                    */
/* ---------------------------------------------------------------------------------------- */

#define CAP 512

static void assert_credentials(const char *header, const char *want_user, const char *want_pw)
{
    char user[CAP], pw[CAP];
    if (!sf_http_basic_credentials(header, user, pw, CAP))
        fail_msg("\"%s\" was refused", header);
    assert_string_equal(user, want_user);
    assert_string_equal(pw, want_pw);
}

static void assert_no_credentials(const char *header)
{
    char user[CAP], pw[CAP];
    if (sf_http_basic_credentials(header, user, pw, CAP))
        fail_msg("\"%s\" was accepted (user \"%s\")", header ? header : "(null)", user);
}

static void test_basic_valid(void **state)
{
    (void)state;
    /* AC00000000000000000000000000000001:secret-token */
    assert_credentials("Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQtdG9rZW4=",
                       "AC00000000000000000000000000000001", "secret-token");
    /* SK00000000000000000000000000000001:key-secret (no padding needed) */
    assert_credentials("Basic U0swMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTprZXktc2VjcmV0",
                       "SK00000000000000000000000000000001", "key-secret");
}

static void test_basic_padding(void **state)
{
    (void)state;
    assert_credentials("Basic YTpi", "a", "b");       /* "a:b": no padding */
    assert_credentials("Basic YTpiYw==", "a", "bc");  /* two '=' */
    assert_credentials("Basic YTpiY2Q=", "a", "bcd"); /* one '=' */
    assert_no_credentials("Basic YTpiYw");            /* padding left out */
    assert_no_credentials("Basic YTpiYw=");           /* half the padding */
    assert_no_credentials("Basic YTpiY2Q");
    assert_no_credentials("Basic YTpi===="); /* a quad of padding */
    assert_no_credentials("Basic YQ==YTpi"); /* padding in the middle */
    assert_no_credentials("Basic Y===");     /* '=' in the second place */
    assert_no_credentials("Basic =TpiYw==");
    assert_no_credentials("Basic YTp=Yw==");
}

static void test_basic_bad_characters(void **state)
{
    (void)state;
    assert_no_credentials("Basic YTp!");
    assert_no_credentials("Basic YT-i"); /* base64url alphabet */
    assert_no_credentials("Basic YT_i");
    assert_no_credentials("Basic YT pi"); /* a space inside */
    assert_no_credentials("Basic YTpi\n");
    assert_no_credentials("Basic !!!notbase64!!!");
    assert_credentials("Basic dTp+fn4/", "u", "~~~?"); /* '+' and '/' are the standard ones */
    assert_credentials("Basic YTo/Pv8=", "a", "?>\xff");
}

static void test_basic_colons(void **state)
{
    (void)state;
    char h[128];
    assert_no_credentials(basic_of("QUMwMDAx", h, sizeof h)); /* "AC0001": no colon */
    assert_credentials(basic_of("dTpwOnE6cg==", h, sizeof h), "u", "p:q:r"); /* "u:p:q:r" */
    assert_credentials(basic_of("OnA=", h, sizeof h), "", "p");              /* ":p" */
    assert_credentials(basic_of("dTo=", h, sizeof h), "u", "");              /* "u:" */
    assert_credentials(basic_of("Og==", h, sizeof h), "", "");               /* ":" */
}

static void test_basic_scheme(void **state)
{
    (void)state;
    assert_credentials("basic YTpi", "a", "b");
    assert_credentials("BASIC YTpi", "a", "b");
    assert_credentials("bAsIc YTpi", "a", "b");
    assert_credentials("Basic    YTpi  ", "a", "b"); /* spaces around the token */
    assert_no_credentials("Bearer YTpi");
    assert_no_credentials("Basic");
    assert_no_credentials("Basic ");
    assert_no_credentials("Basi");
    assert_no_credentials("BasicYTpi");
    assert_no_credentials("Basic\tYTpi");
    assert_no_credentials(" Basic YTpi");
    assert_no_credentials("YTpi");
    assert_no_credentials("");
    assert_no_credentials(NULL);
}

static void test_basic_embedded_nul_refused(void **state)
{
    (void)state;
    assert_no_credentials("Basic YQA6Yg=="); /* "a\0:b" */
    assert_no_credentials("Basic YTpiAA=="); /* "a:b\0" */
}

static void test_basic_capacity(void **state)
{
    (void)state;
    char user[4], pw[4];
    assert_true(
        sf_http_basic_credentials("Basic YWJjOnh5eg==", user, pw, sizeof user)); /* abc:xyz */
    assert_string_equal(user, "abc");
    assert_string_equal(pw, "xyz");
    assert_false(sf_http_basic_credentials("Basic YWJjZDp4", user, pw, sizeof user)); /* abcd:x */
    assert_false(sf_http_basic_credentials("Basic eDphYmNk", user, pw, sizeof user)); /* x:abcd */
}

static void test_basic_long_header_refused(void **state)
{
    (void)state;
    /* 3000 bytes of base64 ("aaa..." decoded), far beyond any credential */
    size_t n = 3000;
    char *h = malloc(n + 7);
    assert_non_null(h);
    memcpy(h, "Basic ", 6);
    for (size_t i = 0; i < n; i++)
        h[6 + i] = (i % 4 == 1) ? 'T' : 'Y';
    h[6 + n] = '\0';
    char user[CAP], pw[CAP];
    assert_false(sf_http_basic_credentials(h, user, pw, CAP));
    free(h);
}

/* ---------------------------------------------------------------------------------------- */
/* Server-sent events                                                                        */
/* ---------------------------------------------------------------------------------------- */

#define SSE_STREAM "TOd5159b73432a2795671422de47bb5938"
#define SSE_SERVICE "ISe68e6fc01df08360b815246f417cade2"
#define SSE_MESSAGE "TZ5e0e314529444bfe13027522bc69b876"

/* docs/http.md "Server-sent events": "event: NAME\n", "data: <one-line JSON>\n", "\n". */
static void assert_sse_frame(const char *text, size_t len, const char *name)
{
    assert_int_equal(strlen(text), len);
    char head[64];
    snprintf(head, sizeof head, "event: %s\ndata: ", name);
    assert_memory_equal(text, head, strlen(head));
    const char *data = text + strlen(head);
    const char *nl = strchr(data, '\n');
    assert_non_null(nl);
    assert_string_equal(nl, "\n\n"); /* the data line is the last, then the blank line */
    assert_int_equal(data[0], '{');
    assert_int_equal(nl[-1], '}');
}

static void test_sse_message_published(void **state)
{
    (void)state;
    const char *data = "{\"a\":1,\"s\":\"x\\ny\"}";
    sf_event ev = {
        .kind = SF_EVENT_MESSAGE_PUBLISHED,
        .subscriber = 3,
        .service_sid = SSE_SERVICE,
        .stream_sid = SSE_STREAM,
        .message_sid = SSE_MESSAGE,
        .data = data,
        .data_len = strlen(data),
        .is_duplicate = false,
        .published_ms = INT64_C(1438286400000),
        .delivered_ms = INT64_C(1438286400010),
    };
    size_t len = 0;
    char *text = sf_http_sse_format(&ev, &len);
    assert_non_null(text);
    assert_sse_frame(text, len, "message_published");
    assert_string_equal(text,
                        "event: message_published\n"
                        "data: {\"stream_sid\": \"" SSE_STREAM "\", \"message_sid\": \"" SSE_MESSAGE
                        "\", \"data\": {\"a\":1,\"s\":\"x\\ny\"}, \"is_duplicate\": false, "
                        "\"published_ms\": 1438286400000, \"delivered_ms\": 1438286400010}\n"
                        "\n");
    free(text);

    ev.is_duplicate = true;
    text = sf_http_sse_format(&ev, NULL); /* len is optional */
    assert_non_null(text);
    assert_sse_frame(text, strlen(text), "message_published");
    assert_non_null(strstr(text, "\"is_duplicate\": true"));
    free(text);
}

static void test_sse_message_data_used_by_length(void **state)
{
    (void)state;
    /* data_len bounds the data even when more bytes follow */
    const char *data = "{\"k\":[]}TRAILING";
    sf_event ev = {.kind = SF_EVENT_MESSAGE_PUBLISHED,
                   .stream_sid = SSE_STREAM,
                   .message_sid = SSE_MESSAGE,
                   .data = data,
                   .data_len = 8};
    size_t len;
    char *text = sf_http_sse_format(&ev, &len);
    assert_non_null(text);
    assert_sse_frame(text, len, "message_published");
    assert_non_null(strstr(text, "\"data\": {\"k\":[]}, "));
    assert_null(strstr(text, "TRAILING"));
    free(text);
}

static void test_sse_removed(void **state)
{
    (void)state;
    sf_event ev = {.kind = SF_EVENT_REMOVED,
                   .subscriber = 1,
                   .service_sid = SSE_SERVICE,
                   .stream_sid = SSE_STREAM,
                   .reason = SF_REMOVED_DELETED,
                   .delivered_ms = INT64_C(1438286400000)};
    size_t len;
    char *text = sf_http_sse_format(&ev, &len);
    assert_non_null(text);
    assert_sse_frame(text, len, "removed");
    assert_string_equal(text, "event: removed\ndata: {\"stream_sid\": \"" SSE_STREAM
                              "\", \"reason\": \"deleted\"}\n\n");
    free(text);

    ev.reason = SF_REMOVED_EXPIRED;
    text = sf_http_sse_format(&ev, &len);
    assert_non_null(text);
    assert_sse_frame(text, len, "removed");
    assert_string_equal(text, "event: removed\ndata: {\"stream_sid\": \"" SSE_STREAM
                              "\", \"reason\": \"expired\"}\n\n");
    free(text);
}

/* ---------------------------------------------------------------------------------------- */

/* Response bodies escape what JSON requires and keep every other byte (UTF-8 included). */
static void test_buf_json_string_escapes(void **state)
{
    (void)state;
    sf_http_buf b;
    sf_http_buf_init(&b);
    sf_http_buf_json_string(&b, "q\"b\\n\nr\rt\tc\x01\x1f \xc3\xa9/");
    assert_false(b.failed);
    assert_string_equal(b.data, "\"q\\\"b\\\\n\\nr\\rt\\tc\\u0001\\u001f \xc3\xa9/\"");
    sf_http_buf_str(&b, ",");
    sf_http_buf_json_string_or_null(&b, NULL);
    sf_http_buf_printf(&b, ",%d", 42);
    assert_string_equal(b.data + b.len - 8, ",null,42");
    sf_http_buf_free(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_json_string_escapes),
        cmocka_unit_test(test_decode_escaped_slash),
        cmocka_unit_test(test_decode_plus_in_paths_and_forms),
        cmocka_unit_test(test_decode_plain_and_utf8),
        cmocka_unit_test(test_decode_truncated_escape),
        cmocka_unit_test(test_decode_bad_hex),
        cmocka_unit_test(test_decode_nul_refused),
        cmocka_unit_test(test_decode_respects_length),
        cmocka_unit_test(test_decode_out_len_optional),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_encode_round_trip),
        cmocka_unit_test(test_encode_small_buffer),
        cmocka_unit_test(test_form_empty),
        cmocka_unit_test(test_form_empty_pieces_skipped),
        cmocka_unit_test(test_form_name_without_value),
        cmocka_unit_test(test_form_empty_name_refused),
        cmocka_unit_test(test_form_decoding),
        cmocka_unit_test(test_form_bad_escape_refused),
        cmocka_unit_test(test_form_duplicates_last_wins),
        cmocka_unit_test(test_form_names_are_case_sensitive),
        cmocka_unit_test(test_form_field_limit),
        cmocka_unit_test(test_form_respects_length),
        cmocka_unit_test(test_parse_int_values),
        cmocka_unit_test(test_parse_int_limits),
        cmocka_unit_test(test_parse_int_refuses_non_decimal),
        cmocka_unit_test(test_parse_bool),
        cmocka_unit_test(test_basic_valid),
        cmocka_unit_test(test_basic_padding),
        cmocka_unit_test(test_basic_bad_characters),
        cmocka_unit_test(test_basic_colons),
        cmocka_unit_test(test_basic_scheme),
        cmocka_unit_test(test_basic_embedded_nul_refused),
        cmocka_unit_test(test_basic_capacity),
        cmocka_unit_test(test_basic_long_header_refused),
        cmocka_unit_test(test_sse_message_published),
        cmocka_unit_test(test_sse_message_data_used_by_length),
        cmocka_unit_test(test_sse_removed),
    };
    return cmocka_run_group_tests_name("http_codec", tests, NULL, NULL);
}
