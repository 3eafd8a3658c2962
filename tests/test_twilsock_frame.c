/* SPDX-License-Identifier: MIT */
/* test_twilsock_frame.c: Twilsock V3.0 frames (fake_http/twilsock_frame.h): build -> parse
 * round trips, frames byte for byte as the JS client (twilsock 1.0.2, Parser.createPacket)
 * sends them, and malformed frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_depth.h"
#include "twilsock_frame.h"

/* ---------------------------------------------------------------------------------------- */
/* Helpers                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static sf_ts_frame frame; /* 10 KB: not on the stack */

static bool parse_str(const char *s) { return sf_ts_parse((const uint8_t *)s, strlen(s), &frame); }

/* "TWILSOCK V3.0 <len>\r\n<header>\r\n<payload>" with the header length computed. */
static char *make(const char *header, const char *sep, const char *payload)
{
    size_t n = strlen(header) + strlen(sep) + strlen(payload) + 64;
    char *s = malloc(n);
    assert_non_null(s);
    snprintf(s, n, "TWILSOCK V3.0 %zu\r\n%s%s%s", strlen(header), header, sep, payload);
    return s;
}

static bool parse_made(const char *header, const char *sep, const char *payload)
{
    char *s = make(header, sep, payload);
    bool ok = parse_str(s);
    free(s);
    return ok;
}

static void assert_refused(const char *header, const char *sep, const char *payload)
{
    if (parse_made(header, sep, payload))
        fail_msg("accepted header %s", header);
    assert_string_equal(frame.method, ""); /* zeroed on failure */
}

/* ---------------------------------------------------------------------------------------- */
/* Frames the JS client sends (generated with twilsock 1.0.2's Parser.createPacket)           */
/* ---------------------------------------------------------------------------------------- */

static const char JS_INIT[] =
    "TWILSOCK V3.0 320\r\n"
    "{\"id\":\"TM0001\",\"method\":\"init\",\"token\":\"eyJhbGciOiJIUzI1NiJ9.e30.sig\","
    "\"metadata\":{\"env\":\"Node.js\",\"sdk\":\"JS\"},\"registrations\":[{\"product\":"
    "\"data_sync\",\"type\":\"ers\",\"notification_protocol_version\":0,\"message_types\":"
    "[\"twilio.sync.event\"]}],\"capabilities\":[\"client_update\",\"offline_storage\","
    "\"telemetry.v1\"],\"payload_size\":0}\r\n";

static const char JS_MESSAGE[] =
    "TWILSOCK V3.0 237\r\n"
    "{\"id\":\"TM0002\",\"method\":\"message\",\"active_grant\":\"data_sync\",\"payload_type\":"
    "\"application/json\",\"http_request\":{\"host\":\"127.0.0.1:8080\",\"path\":"
    "\"/v3/Streams\",\"method\":\"POST\",\"headers\":{\"Content-Type\":\"application/json\"}},"
    "\"payload_size\":32}\r\n"
    "{\"unique_name\":\"caf\xc3\xa9\",\"ttl\":60}";

static const char JS_REPLY[] =
    "TWILSOCK V3.0 119\r\n"
    "{\"id\":\"TM0003\",\"method\":\"reply\",\"payload_type\":\"application/json\",\"status\":"
    "{\"code\":200,\"status\":\"OK\"},\"payload_size\":0}\r\n";

static const char JS_UPDATE[] = "TWILSOCK V3.0 65\r\n"
                                "{\"id\":\"TM0004\",\"method\":\"update\",\"token\":\"tok2\","
                                "\"payload_size\":0}\r\n";

static const char JS_CLOSE[] =
    "TWILSOCK V3.0 49\r\n{\"id\":\"TM0005\",\"method\":\"close\",\"payload_size\":0}\r\n";

static void test_js_init(void **state)
{
    (void)state;
    assert_true(parse_str(JS_INIT));
    assert_string_equal(frame.method, "init");
    assert_string_equal(frame.id, "TM0001");
    assert_string_equal(frame.token, "eyJhbGciOiJIUzI1NiJ9.e30.sig");
    assert_string_equal(frame.payload_type, "");
    assert_false(frame.has_http_request);
    assert_int_equal(frame.payload_len, 0);
    assert_non_null(frame.payload);
}

static void test_js_message(void **state)
{
    (void)state;
    assert_true(parse_str(JS_MESSAGE));
    assert_string_equal(frame.method, "message");
    assert_string_equal(frame.id, "TM0002");
    assert_string_equal(frame.payload_type, "application/json");
    assert_true(frame.has_http_request);
    assert_string_equal(frame.http_method, "POST");
    assert_string_equal(frame.http_path, "/v3/Streams");
    assert_string_equal(frame.http_host, "127.0.0.1:8080");
    assert_string_equal(frame.token, "");
    const char *body = "{\"unique_name\":\"caf\xc3\xa9\",\"ttl\":60}";
    assert_int_equal(frame.payload_len, strlen(body));
    assert_memory_equal(frame.payload, body, strlen(body));
    assert_ptr_equal(frame.payload, JS_MESSAGE + sizeof JS_MESSAGE - 1 - strlen(body));
}

static void test_js_reply_update_close(void **state)
{
    (void)state;
    assert_true(parse_str(JS_REPLY));
    assert_string_equal(frame.method, "reply");
    assert_string_equal(frame.id, "TM0003");
    assert_string_equal(frame.payload_type, "application/json");
    assert_int_equal(frame.payload_len, 0);
    assert_true(parse_str(JS_UPDATE));
    assert_string_equal(frame.method, "update");
    assert_string_equal(frame.token, "tok2");
    assert_true(parse_str(JS_CLOSE));
    assert_string_equal(frame.method, "close");
    assert_string_equal(frame.id, "TM0005");
}

/* payload_size 0: the "\r\n" after the header may be left out; absent payload_size is 0 */
static void test_empty_payload_forms(void **state)
{
    (void)state;
    assert_true(parse_made("{\"method\":\"close\",\"payload_size\":0}", "", ""));
    assert_int_equal(frame.payload_len, 0);
    assert_true(parse_made("{\"method\":\"close\"}", "\r\n", ""));
    assert_true(parse_made("{\"method\":\"close\"}", "", ""));
    assert_true(parse_made("{}", "", ""));
    assert_string_equal(frame.method, "");
    assert_true(parse_made(" { \"method\" : \"close\" } ", "\r\n", ""));
    assert_string_equal(frame.method, "close");
    /* one stray byte, or a lone "\r", is not a separator */
    assert_refused("{\"method\":\"close\"}", "\r", "");
    assert_refused("{\"method\":\"close\"}", "\n", "");
    assert_refused("{\"method\":\"close\"}", "\r\n", "x");
    assert_refused("{\"method\":\"close\"}", "\r\n\r\n", "");
}

/* ---------------------------------------------------------------------------------------- */
/* Build                                                                                     */
/* ---------------------------------------------------------------------------------------- */

static void assert_builds(const char *header, const char *payload, const char *want)
{
    size_t n = 0;
    uint8_t *b = sf_ts_build(header, payload, payload ? strlen(payload) : 0, &n);
    assert_non_null(b);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(b, want, n);
    free(b);
}

static void test_build_exact(void **state)
{
    (void)state;
    /* as the JS client would write the same header */
    assert_builds("{\"id\":\"TM0005\",\"method\":\"close\"}", "", JS_CLOSE);
    assert_builds("{\"id\":\"TM0005\",\"method\":\"close\"}", NULL, JS_CLOSE);
    assert_builds("{}", "ab", "TWILSOCK V3.0 18\r\n{\"payload_size\":2}\r\nab");
    assert_builds("{ }", "", "TWILSOCK V3.0 19\r\n{\"payload_size\":0 }\r\n");
    assert_builds("{\"a\":1}\n", "", "TWILSOCK V3.0 25\r\n{\"a\":1,\"payload_size\":0}\n\r\n");
    assert_builds("{\"a\":{}}", "", "TWILSOCK V3.0 25\r\n{\"a\":{},\"payload_size\":0}\r\n");
    size_t n = 1;
    assert_null(sf_ts_build("[]", "", 0, &n));
    assert_null(sf_ts_build("", "", 0, &n));
    assert_null(sf_ts_build("}", "", 0, &n));
    assert_null(sf_ts_build(NULL, "", 0, &n));
    assert_null(sf_ts_build("{}", NULL, 3, &n));
}

/* The head alone: the same bytes as a whole frame's start, written only when they fit. */
static void test_build_head(void **state)
{
    (void)state;
    const char *header = "{\"id\":\"TM0005\",\"method\":\"close\"}";
    size_t n;
    uint8_t *whole = sf_ts_build(header, "abc", 3, &n);
    assert_non_null(whole);
    char head[128];
    size_t len = sf_ts_build_head(header, 3, head, sizeof head);
    assert_int_equal(len, n - 3);
    assert_memory_equal(head, whole, len);
    free(whole);
    /* exactly enough room, then one byte less */
    char exact[128];
    assert_int_equal(sf_ts_build_head(header, 3, exact, len), len);
    assert_memory_equal(exact, head, len);
    assert_int_equal(sf_ts_build_head(header, 3, exact, len - 1), 0);
    assert_int_equal(sf_ts_build_head(header, 3, exact, 3), 0);
    assert_int_equal(sf_ts_build_head(header, 3, exact, 0), 0);
    assert_int_equal(sf_ts_build_head("[]", 0, exact, sizeof exact), 0);
    assert_int_equal(sf_ts_build_head(NULL, 0, exact, sizeof exact), 0);
    assert_int_equal(sf_ts_build_head(header, 0, NULL, 10), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    const char *header = "{\"method\":\"reply\",\"id\":\"TM\\u00e9\\ud83d\\ude00\","
                         "\"payload_type\":\"application/json\",\"status\":{\"code\":200,"
                         "\"status\":\"OK\"},\"http_status\":{\"code\":404,\"status\":\"NF\"}}";
    const char *payloads[] = {"", "{}", "{\"status\":404,\"code\":54100,\"message\":\"x\"}",
                              "\r\n\r\nTWILSOCK V3.0 2\r\n{}"};
    for (size_t i = 0; i < sizeof payloads / sizeof payloads[0]; i++) {
        size_t n;
        uint8_t *b = sf_ts_build(header, payloads[i], strlen(payloads[i]), &n);
        assert_non_null(b);
        assert_true(sf_ts_parse(b, n, &frame));
        assert_string_equal(frame.method, "reply");
        assert_string_equal(frame.id, "TM\xc3\xa9\xf0\x9f\x98\x80");
        assert_string_equal(frame.payload_type, "application/json");
        assert_int_equal(frame.payload_len, strlen(payloads[i]));
        assert_memory_equal(frame.payload, payloads[i], frame.payload_len);
        /* one byte less, or one more, is refused */
        assert_false(sf_ts_parse(b, n - 1, &frame));
        uint8_t *longer = malloc(n + 1);
        assert_non_null(longer);
        memcpy(longer, b, n);
        longer[n] = 'x';
        assert_false(sf_ts_parse(longer, n + 1, &frame));
        free(longer);
        free(b);
    }
    /* a binary payload with NULs */
    size_t n;
    uint8_t *b = sf_ts_build("{\"method\":\"message\"}", "a\0b", 3, &n);
    assert_non_null(b);
    assert_true(sf_ts_parse(b, n, &frame));
    assert_int_equal(frame.payload_len, 3);
    assert_memory_equal(frame.payload, "a\0b", 3);
    free(b);
}

/* ---------------------------------------------------------------------------------------- */
/* Escapes                                                                                   */
/* ---------------------------------------------------------------------------------------- */

static void test_escapes(void **state)
{
    (void)state;
    assert_true(parse_made("{\"method\":\"a\\\"b\\\\c\\/d\\ne\\tf\\r\\b\\f\","
                           "\"id\":\"\\u0041\\u00e9\\u20ac\\uD834\\uDD1E\"}",
                           "\r\n", ""));
    assert_string_equal(frame.method, "a\"b\\c/d\ne\tf\r\b\f");
    assert_string_equal(frame.id, "A\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e");
    /* escaped keys are matched by their value */
    assert_true(parse_made("{\"meth\\u006fd\":\"init\",\"payload\\u005fsize\":1}", "\r\n", "x"));
    assert_string_equal(frame.method, "init");
    /* invalid escapes */
    assert_refused("{\"method\":\"a\\x\"}", "", "");
    assert_refused("{\"method\":\"\\u12\"}", "", "");
    assert_refused("{\"method\":\"\\u12G4\"}", "", "");
    assert_refused("{\"method\":\"\\ud800\"}", "", "");        /* lone high surrogate */
    assert_refused("{\"method\":\"\\ud800\\u0041\"}", "", ""); /* not followed by a low one */
    assert_refused("{\"method\":\"\\udc00x\"}", "", "");       /* lone low surrogate */
    assert_refused("{\"method\":\"a\\u0000b\"}", "", "");      /* would cut the C string */
    assert_refused("{\"method\":\"a\\\"}", "", "");            /* escape eats the quote */
    assert_refused("{\"method\":\"a\tb\"}", "", "");           /* raw control character */
    assert_refused("{\"method\":\"\xc3\"}", "", "");           /* invalid UTF-8 */
}

/* ---------------------------------------------------------------------------------------- */
/* Malformed frames                                                                          */
/* ---------------------------------------------------------------------------------------- */

static void test_bad_preamble(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "TWILSOCK",
        "TWILSOCK V3.0 ",
        "TWILSOCK V3.0 2\r\n{}x",
        "TWILSOCK V3.1 2\r\n{}\r\n",
        "twilsock V3.0 2\r\n{}\r\n",
        "TWILSOCK V3.0  2\r\n{}\r\n",
        "TWILSOCK  V3.0 2\r\n{}\r\n",
        " TWILSOCK V3.0 2\r\n{}\r\n",
        "TWILSOCK V3.0\r\n{}\r\n",
        "TWILSOCK V3.0 02\r\n{}\r\n",
        "TWILSOCK V3.0 0\r\n\r\n",
        "TWILSOCK V3.0 +2\r\n{}\r\n",
        "TWILSOCK V3.0 2 \r\n{}\r\n",
        "TWILSOCK V3.0 x\r\n{}\r\n",
        "TWILSOCK V3.0 2x\r\n{}\r\n",
        "TWILSOCK V3.0 -2\r\n{}\r\n",
        "TWILSOCK V3.0 0x2\r\n{}\r\n",
        "TWILSOCK V3.0 2\n{}\r\n",
        "TWILSOCK V3.0 2\r{}\r\n",
        "TWILSOCK V3.0 2{}\r\n",
        "TWILSOCK V3.0 2\r\n\r\n{}", /* CRLF in the wrong place */
        "TWILSOCK V3.0 3\r\n{}\r\n", /* header length off by one */
        "TWILSOCK V3.0 1\r\n{}\r\n",
        "TWILSOCK V3.0 99999999999999999999999\r\n{}\r\n", /* huge */
        "TWILSOCK V3.0 65537\r\n{}\r\n",                   /* above SF_TS_MAX_HEADER */
        "TWILSOCK V3.0 5\r\n{}",                           /* truncated header */
        "TWILSOCK V3.0 18\r\n{\"method\":\"init\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_str(bad[i]))
            fail_msg("accepted %s", bad[i]);
    assert_false(sf_ts_parse(NULL, 0, &frame));
    assert_false(sf_ts_parse((const uint8_t *)"TWILSOCK V3.0 2\r\n{}", 19, NULL));
    /* a NUL inside the header text */
    assert_false(sf_ts_parse((const uint8_t *)"TWILSOCK V3.0 3\r\n{\0}\r\n", 22, &frame));
}

static void test_header_not_object(void **state)
{
    (void)state;
    assert_refused("[]", "", "");
    assert_refused("[{}]", "", "");
    assert_refused("\"{}\"", "", "");
    assert_refused("12", "", "");
    assert_refused("null", "", "");
    assert_refused("{", "", "");
    assert_refused("{}}", "", "");
    assert_refused("{}{}", "", "");
    assert_refused("{\"a\"}", "", "");
    assert_refused("{\"a\":1,}", "", "");
    assert_refused("{\"a\":1 \"b\":2}", "", "");
    assert_refused("{a:1}", "", "");
    assert_refused("{'a':1}", "", "");
    assert_refused("{\"a\":01}", "", "");
}

static void test_field_types(void **state)
{
    (void)state;
    assert_refused("{\"method\":1}", "", "");
    assert_refused("{\"method\":null}", "", "");
    assert_refused("{\"id\":[\"x\"]}", "", "");
    assert_refused("{\"token\":{}}", "", "");
    assert_refused("{\"method\":\"a\",\"method\":\"b\"}", "", "");
    assert_refused("{\"http_request\":\"GET /\"}", "", "");
    assert_refused("{\"http_request\":{\"path\":5}}", "", "");
    assert_refused("{\"http_request\":{},\"http_request\":{}}", "", "");
    /* nested names are not the top-level fields */
    assert_true(parse_made("{\"metadata\":{\"method\":\"x\",\"token\":7}}", "", ""));
    assert_string_equal(frame.method, "");
    assert_true(parse_made("{\"http_request\":{}}", "", ""));
    assert_true(frame.has_http_request);
    assert_string_equal(frame.http_path, "");
}

static void test_payload_size(void **state)
{
    (void)state;
    assert_true(parse_made("{\"payload_size\":3}", "\r\n", "abc"));
    assert_refused("{\"payload_size\":3}", "\r\n", "ab");   /* short */
    assert_refused("{\"payload_size\":3}", "\r\n", "abcd"); /* long */
    assert_refused("{\"payload_size\":3}", "", "abc");      /* no separator */
    assert_refused("{\"payload_size\":0}", "\r\n", "a");
    assert_refused("{\"payload_size\":2}", "\r\n", "");
    assert_refused("{\"payload_size\":-1}", "\r\n", "");
    assert_refused("{\"payload_size\":-0.5}", "\r\n", "");
    assert_refused("{\"payload_size\":3.0}", "\r\n", "abc");
    assert_refused("{\"payload_size\":3e0}", "\r\n", "abc");
    assert_refused("{\"payload_size\":\"3\"}", "\r\n", "abc");
    assert_refused("{\"payload_size\":true}", "\r\n", "");
    assert_refused("{\"payload_size\":null}", "\r\n", "");
    assert_refused("{\"payload_size\":99999999999999999999}", "\r\n", "");
    assert_refused("{\"payload_size\":18446744073709551613}", "\r\n", "abc");
    assert_refused("{\"payload_size\":1,\"payload_size\":1}", "\r\n", "a");
}

/* The Kotlin SDK (TwilsockMessage.kt encode()) ends a non-empty payload with "\r\n" that
 * payload_size does not count: accepted, and not part of the payload; nothing else is. */
static void test_kotlin_payload_terminator(void **state)
{
    (void)state;
    char *s = make("{\"method\":\"message\",\"payload_size\":3}", "\r\n", "abc\r\n");
    assert_true(parse_str(s)); /* frame.payload points into s */
    assert_int_equal(frame.payload_len, 3);
    assert_memory_equal(frame.payload, "abc", 3);
    free(s);
    assert_true(parse_made("{\"payload_size\":2}", "\r\n", "\r\n\r\n")); /* payload "\r\n" */
    assert_int_equal(frame.payload_len, 2);
    assert_refused("{\"payload_size\":3}", "\r\n", "abc\n\r");
    assert_refused("{\"payload_size\":3}", "\r\n", "abc\r\n\r\n");
    assert_refused("{\"payload_size\":3}", "\r\n", "abcde");
    assert_refused("{\"payload_size\":0}", "\r\n", "\r\n");
}

/* Each field of a fixed-size buffer takes one byte less than its buffer, and no more. */
static void test_oversize_fields(void **state)
{
    (void)state;
    char *big = malloc(SF_TS_MAX_HEADER + 64);
    assert_non_null(big);
    struct {
        const char *name;
        size_t cap;
        bool nested;
    } fields[] = {
        {"method", sizeof frame.method, false},
        {"id", sizeof frame.id, false},
        {"payload_type", sizeof frame.payload_type, false},
        {"path", sizeof frame.http_path, true},
        {"host", sizeof frame.http_host, true},
        {"method", sizeof frame.http_method, true},
    };
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (size_t len = fields[f].cap - 1; len <= fields[f].cap; len++) {
            size_t o = (size_t)sprintf(
                big, "{%s\"%s\":\"", fields[f].nested ? "\"http_request\":{" : "", fields[f].name);
            memset(big + o, 'a', len);
            o += len;
            sprintf(big + o, "\"}%s", fields[f].nested ? "}" : "");
            bool ok = parse_made(big, "", "");
            if (ok != (len == fields[f].cap - 1))
                fail_msg("%s of %zu bytes: %s", fields[f].name, len, ok ? "accepted" : "refused");
        }
    }
    /* an id of SF_TS_MAX_ID bytes is echoed whole (the SDK's are 34; a client may send 128) */
    assert_int_equal(sizeof frame.id, SF_TS_MAX_ID + 1);
    free(big);
}

/* A token too long to be one, or with an escaped NUL, is read as "" and flagged; a token that
 * is not a string, or given twice, makes the frame malformed. */
static void test_oversize_token(void **state)
{
    (void)state;
    char *big = malloc(SF_TS_MAX_HEADER + 64);
    assert_non_null(big);
    /* a token too long to be one is read as "" and flagged, not a malformed frame: the
     * session answers it with a 401 reply (tests/test_twilsock_limits.c) */
    assert_int_equal(sizeof frame.token, SF_TS_MAX_TOKEN + 1);
    for (size_t len = SF_TS_MAX_TOKEN; len <= SF_TS_MAX_TOKEN + 1024; len += 1) {
        size_t o = (size_t)sprintf(big, "{\"method\":\"init\",\"id\":\"TM1\",\"token\":\"");
        memset(big + o, 't', len);
        strcpy(big + o + len, "\"}");
        assert_true(parse_made(big, "", ""));
        assert_string_equal(frame.method, "init");
        assert_string_equal(frame.id, "TM1");
        assert_int_equal(frame.bad_token, len > SF_TS_MAX_TOKEN);
        assert_int_equal(strlen(frame.token), len > SF_TS_MAX_TOKEN ? 0 : len);
        if (len == SF_TS_MAX_TOKEN + 2)
            len = SF_TS_MAX_TOKEN + 1023; /* and one much longer */
    }
    assert_true(parse_made("{\"method\":\"init\",\"token\":\"a\\u0000b\"}", "", ""));
    assert_true(frame.bad_token); /* an escaped NUL cannot be in a token either */
    assert_string_equal(frame.token, "");
    assert_refused("{\"method\":\"init\",\"token\":7}", "", ""); /* not a string */
    assert_refused("{\"token\":\"a\",\"token\":\"b\"}", "", "");
    free(big);
}

/* An escape that grows a field past its limit is refused; a header of exactly
 * SF_TS_MAX_HEADER bytes is fine, one more is not. */
static void test_oversize_escape_and_header(void **state)
{
    (void)state;
    char *big = malloc(SF_TS_MAX_HEADER + 64);
    assert_non_null(big);
    /* an escape that grows past the limit: 2047 bytes + a 2-byte UTF-8 character */
    size_t o = (size_t)sprintf(big, "{\"http_request\":{\"path\":\"");
    memset(big + o, 'p', sizeof frame.http_path - 2);
    o += sizeof frame.http_path - 2;
    sprintf(big + o, "\\u00e9\"}}");
    assert_refused(big, "", "");
    /* a header of exactly SF_TS_MAX_HEADER bytes is fine, one more is not */
    o = (size_t)sprintf(big, "{\"x\":\"");
    memset(big + o, 'x', SF_TS_MAX_HEADER - o - 2);
    strcpy(big + SF_TS_MAX_HEADER - 2, "\"}");
    assert_int_equal(strlen(big), SF_TS_MAX_HEADER);
    assert_true(parse_made(big, "", ""));
    big[SF_TS_MAX_HEADER - 2] = 'x';
    strcpy(big + SF_TS_MAX_HEADER - 1, "\"}");
    assert_refused(big, "", "");
    free(big);
}

/* Nesting beyond SF_JSON_FIELD_MAX_DEPTH is refused before any tokenizer runs: jsmn's
 * cost grows with the square of the depth. Brackets inside strings do not count. */
static void test_nesting_depth(void **state)
{
    (void)state;
    char *h = malloc(SF_TS_MAX_HEADER + 64);
    assert_non_null(h);
    for (size_t depth = SF_JSON_FIELD_MAX_DEPTH - 1; depth <= SF_JSON_FIELD_MAX_DEPTH; depth++) {
        /* {"a": [ ... [ ] ... ]} is depth + 1 deep with the object */
        size_t o = (size_t)sprintf(h, "{\"method\":\"init\",\"a\":");
        memset(h + o, '[', depth);
        memset(h + o + depth, ']', depth);
        strcpy(h + o + 2 * depth, "}");
        if (parse_made(h, "", "") != (depth + 1 <= SF_JSON_FIELD_MAX_DEPTH))
            fail_msg("depth %zu", depth + 1);
    }
    /* the report's header: 64 KB of nested arrays */
    size_t o = (size_t)sprintf(h, "{\"a\":");
    size_t n = (SF_TS_MAX_HEADER - o - 1) / 2;
    memset(h + o, '[', n);
    memset(h + o + n, ']', n);
    strcpy(h + o + 2 * n, "}");
    assert_refused(h, "", "");
    /* unbalanced too deep: refused the same way */
    h[o + n] = '\0';
    assert_refused(h, "", "");
    /* brackets and escaped quotes inside strings are text */
    o = (size_t)sprintf(h, "{\"method\":\"init\",\"id\":\"\\\"");
    memset(h + o, '[', 100);
    strcpy(h + o + 100, "\"}");
    assert_true(parse_made(h, "", ""));
    assert_int_equal(strlen(frame.id), 101);
    free(h);
}

static void test_token_budget(void **state)
{
    (void)state;
    /* {"a":[0,0,...]}: 3 + n tokens */
    char *h = malloc(4 * SF_TS_MAX_HEADER_TOKENS + 64);
    assert_non_null(h);
    for (size_t n = SF_TS_MAX_HEADER_TOKENS - 3; n <= SF_TS_MAX_HEADER_TOKENS - 2; n++) {
        size_t o = (size_t)sprintf(h, "{\"a\":[");
        for (size_t i = 0; i < n; i++)
            o += (size_t)sprintf(h + o, i ? ",0" : "0");
        strcpy(h + o, "]}");
        assert_int_equal(parse_made(h, "", ""), n == SF_TS_MAX_HEADER_TOKENS - 3);
    }
    free(h);
}

static void test_frame_limit(void **state)
{
    (void)state;
    size_t n;
    char *payload = malloc(SF_TS_MAX_FRAME);
    assert_non_null(payload);
    memset(payload, 'p', SF_TS_MAX_FRAME);
    const char *header = "{\"method\":\"message\"}";
    /* the largest payload that keeps the frame at SF_TS_MAX_FRAME bytes */
    uint8_t *b = sf_ts_build(header, payload, 0, &n);
    assert_non_null(b);
    size_t overhead = n + 6; /* payload_size grows from "0" to 7 digits */
    free(b);
    b = sf_ts_build(header, payload, SF_TS_MAX_FRAME - overhead, &n);
    assert_non_null(b);
    assert_int_equal(n, SF_TS_MAX_FRAME);
    assert_true(sf_ts_parse(b, n, &frame));
    assert_int_equal(frame.payload_len, SF_TS_MAX_FRAME - overhead);
    free(b);
    b = sf_ts_build(header, payload, SF_TS_MAX_FRAME - overhead + 1, &n);
    assert_non_null(b);
    assert_int_equal(n, SF_TS_MAX_FRAME + 1);
    assert_false(sf_ts_parse(b, n, &frame));
    free(b);
    free(payload);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_js_init),
        cmocka_unit_test(test_js_message),
        cmocka_unit_test(test_js_reply_update_close),
        cmocka_unit_test(test_empty_payload_forms),
        cmocka_unit_test(test_build_exact),
        cmocka_unit_test(test_build_head),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_bad_preamble),
        cmocka_unit_test(test_header_not_object),
        cmocka_unit_test(test_field_types),
        cmocka_unit_test(test_payload_size),
        cmocka_unit_test(test_kotlin_payload_terminator),
        cmocka_unit_test(test_oversize_fields),
        cmocka_unit_test(test_oversize_token),
        cmocka_unit_test(test_oversize_escape_and_header),
        cmocka_unit_test(test_nesting_depth),
        cmocka_unit_test(test_token_budget),
        cmocka_unit_test(test_frame_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
