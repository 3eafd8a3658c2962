/* SPDX-License-Identifier: MIT */
/* test_front_check.c: the front door's request checker (fake_http/server/front_check.h).
 * Every case is fed whole and one byte at a time, with the same outcome: the malformed shapes
 * libmicrohttpd answered with HTML (version, request line, header line, Content-Length,
 * Transfer-Encoding, chunk lines) each refused with its status; the caps at their boundary
 * (head exactly SF_FC_HEAD_MAX bytes and one more, SF_FC_MAX_FIELDS lines and one more, a
 * chunk line at its cap); Content-Length edge values; pipelined requests; the Upgrade wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front_check.h"
#include "syncfake_http.h"

typedef struct outcome {
    size_t taken, pending;
    sf_fc_state state;
    sf_status refusal;
} outcome;

static outcome feed_whole(const char *s, size_t n)
{
    sf_front_check c;
    sf_fc_init(&c);
    outcome o = {0};
    o.taken = sf_fc_feed(&c, s, n);
    o.pending = sf_fc_pending(&c);
    o.state = c.state;
    o.refusal = sf_fc_refusal(&c);
    return o;
}

static outcome feed_bytes(const char *s, size_t n)
{
    sf_front_check c;
    sf_fc_init(&c);
    outcome o = {0};
    for (size_t i = 0; i < n; i++) {
        size_t t = sf_fc_feed(&c, s + i, 1);
        o.taken += t;
        if (!t)
            break;
    }
    o.pending = sf_fc_pending(&c);
    o.state = c.state;
    o.refusal = sf_fc_refusal(&c);
    return o;
}

/* Fed whole and byte by byte: the same state, refusal and pending count. */
static outcome check_len(const char *s, size_t n)
{
    outcome a = feed_whole(s, n), b = feed_bytes(s, n);
    assert_int_equal(a.state, b.state);
    assert_int_equal(a.refusal, b.refusal);
    if (a.state != SF_FC_REFUSED) {
        assert_int_equal(a.taken, b.taken);
        assert_int_equal(a.pending, b.pending);
    }
    return a;
}

static outcome check(const char *s) { return check_len(s, strlen(s)); }

static void expect_refused(const char *s, sf_status st)
{
    outcome o = check(s);
    if (o.state != SF_FC_REFUSED || o.refusal != st)
        fail_msg("%s: state %d refusal %s, wanted %s", s, (int)o.state, sf_status_name(o.refusal),
                 sf_status_name(st));
}

static void expect_whole(const char *s, sf_fc_state state)
{
    outcome o = check(s);
    if (o.state != state || o.taken != strlen(s) || o.pending)
        fail_msg("%s: state %d (wanted %d), taken %zu of %zu, pending %zu (%s)", s, (int)o.state,
                 (int)state, o.taken, strlen(s), o.pending, sf_status_name(o.refusal));
}

static void test_good_requests(void **state)
{
    (void)state;
    expect_whole("GET /v1/Services HTTP/1.1\r\nHost: x\r\n\r\n", SF_FC_REQUEST_LINE);
    expect_whole("GET / HTTP/1.0\r\n\r\n", SF_FC_REQUEST_LINE);
    expect_whole("GET / HTTP/1.1\nHost: x\n\n", SF_FC_REQUEST_LINE); /* bare LF lines */
    expect_whole("\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", SF_FC_REQUEST_LINE);
    expect_whole("GET /a?b=%20 HTTP/1.1\r\nX-Empty:\r\nX:\tv  \r\n\r\n", SF_FC_REQUEST_LINE);
    /* a body: taken as it comes, then the next request */
    expect_whole("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", SF_FC_REQUEST_LINE);
    expect_whole("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel", SF_FC_BODY);
    expect_whole("POST / HTTP/1.1\r\ncontent-length:  0 \r\n\r\n", SF_FC_REQUEST_LINE);
    expect_whole("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
                 SF_FC_REQUEST_LINE);
    /* a head is not let through before it is whole */
    const char *part = "GET / HTTP/1.1\r\nHost: x\r\n";
    outcome o = check(part);
    assert_int_equal(o.state, SF_FC_FIELDS);
    assert_int_equal(o.pending, strlen(part));
}

static void test_request_line(void **state)
{
    (void)state;
    expect_refused("GET / HTTP/2.0\r\n\r\n", SF_ERR_HTTP_VERSION);
    expect_refused("GET / HTTP/1.2\r\n\r\n", SF_ERR_HTTP_VERSION);
    expect_refused("GET / HTTP/0.9\r\n\r\n", SF_ERR_HTTP_VERSION);
    expect_refused("GET / HTTP/11111111111111111111\r\n\r\n", SF_ERR_HTTP_VERSION);
    expect_refused("GET / FOO/1.1\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("GET /\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("GET\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("GET  / HTTP/1.1\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("GET / HTTP/1.1 \r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused(" GET / HTTP/1.1\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("G(T / HTTP/1.1\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("GET /a\x01 HTTP/1.1\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE);
    expect_refused("GET / HTTP/1.1\rX\r\n\r\n", SF_ERR_MALFORMED_REQUEST_LINE); /* bare CR */
    expect_refused("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n",
                   SF_ERR_MALFORMED_REQUEST_LINE); /* 9 empty lines */
    expect_refused("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", SF_ERR_MALFORMED_REQUEST_LINE);
    const char nul[] = "GET /\0 HTTP/1.1\r\n\r\n";
    outcome o = check_len(nul, sizeof nul - 1);
    assert_int_equal(o.refusal, SF_ERR_MALFORMED_REQUEST_LINE);
}

static void test_header_lines(void **state)
{
    (void)state;
    expect_refused("GET / HTTP/1.1\r\nno colon\r\n\r\n", SF_ERR_MALFORMED_HEADER);
    expect_refused("GET / HTTP/1.1\r\nnocolon\r\n\r\n", SF_ERR_MALFORMED_HEADER);
    expect_refused("GET / HTTP/1.1\r\nHost : x\r\n\r\n", SF_ERR_MALFORMED_HEADER);
    expect_refused("GET / HTTP/1.1\r\n: x\r\n\r\n", SF_ERR_MALFORMED_HEADER);
    expect_refused("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", SF_ERR_MALFORMED_HEADER);
    expect_refused("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", SF_ERR_MALFORMED_HEADER);
    expect_refused("GET / HTTP/1.1\r\nA(b: c\r\n\r\n", SF_ERR_MALFORMED_HEADER);
}

/* A request whose head is exactly `size` bytes: one header padded to fit. */
static char *head_of(size_t size)
{
    const char *start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    char *s = malloc(size + 1);
    assert_non_null(s);
    size_t n = strlen(start);
    memcpy(s, start, n);
    memset(s + n, 'p', size - n - 4);
    memcpy(s + size - 4, "\r\n\r\n", 4);
    s[size] = '\0';
    return s;
}

static void test_head_cap(void **state)
{
    (void)state;
    char *s = head_of(SF_FC_HEAD_MAX);
    expect_whole(s, SF_FC_REQUEST_LINE);
    free(s);
    s = head_of(SF_FC_HEAD_MAX + 1);
    expect_refused(s, SF_ERR_HEADERS_TOO_LARGE);
    free(s);
    /* a request line longer than the cap: 414 */
    s = malloc(SF_FC_HEAD_MAX + 64);
    assert_non_null(s);
    memset(s, 'a', SF_FC_HEAD_MAX + 63);
    memcpy(s, "GET /", 5);
    s[SF_FC_HEAD_MAX + 63] = '\0';
    expect_refused(s, SF_ERR_URI_TOO_LONG);
    free(s);
}

/* A head with `fields` header lines. */
static char *fields_of(unsigned fields)
{
    size_t cap = 32 + (size_t)fields * 8;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t n = (size_t)snprintf(s, cap, "GET / HTTP/1.1\r\n");
    for (unsigned i = 0; i < fields; i++)
        n += (size_t)snprintf(s + n, cap - n, "A%u:\r\n", i % 100);
    snprintf(s + n, cap - n, "\r\n");
    return s;
}

static void test_field_cap(void **state)
{
    (void)state;
    char *s = fields_of(SF_FC_MAX_FIELDS);
    expect_whole(s, SF_FC_REQUEST_LINE);
    free(s);
    s = fields_of(SF_FC_MAX_FIELDS + 1);
    expect_refused(s, SF_ERR_HEADERS_TOO_LARGE);
    free(s);
}

static void length_case(const char *value, sf_fc_state want, sf_status refusal)
{
    char s[256];
    snprintf(s, sizeof s, "POST / HTTP/1.1\r\nContent-Length: %s\r\n\r\n", value);
    if (refusal != SF_OK)
        expect_refused(s, refusal);
    else
        expect_whole(s, want);
}

static void test_content_length(void **state)
{
    (void)state;
    length_case("0", SF_FC_REQUEST_LINE, SF_OK);
    length_case("000", SF_FC_REQUEST_LINE, SF_OK);
    length_case("1", SF_FC_BODY, SF_OK);
    length_case("65536", SF_FC_BODY, SF_OK); /* SF_HTTP_MAX_BODY: read */
    length_case("65537", SF_FC_LAST, SF_OK); /* past it: the server's 413, nothing more */
    length_case("18446744073709551615", SF_FC_LAST, SF_OK);                       /* 2^64 - 1 */
    length_case("18446744073709551616", SF_FC_REFUSED, SF_ERR_REQUEST_TOO_LARGE); /* 2^64 */
    length_case("99999999999999999999999", SF_FC_REFUSED, SF_ERR_REQUEST_TOO_LARGE);
    length_case("-1", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case("+1", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case("1x", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case("0x10", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case("1 2", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case("1,1", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case("", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    length_case(" ", SF_FC_REFUSED, SF_ERR_INVALID_CONTENT_LENGTH);
    /* two different values: the server refuses them (400, journalled); nothing after goes */
    expect_whole("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", SF_FC_LAST);
    outcome o = check("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy");
    assert_int_equal(o.state, SF_FC_LAST);
    assert_int_equal(o.pending, 0);
}

static void test_transfer_encoding(void **state)
{
    (void)state;
    const char *head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    expect_whole(head, SF_FC_CHUNK_LINE);
    expect_whole("POST / HTTP/1.1\r\nTransfer-Encoding:  Chunked \r\n\r\n", SF_FC_CHUNK_LINE);
    expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                   SF_ERR_INVALID_TRANSFER_ENCODING);
    expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
                   SF_ERR_INVALID_TRANSFER_ENCODING);
    expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n",
                   SF_ERR_INVALID_TRANSFER_ENCODING);
    expect_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                   SF_ERR_INVALID_TRANSFER_ENCODING);
}

static void chunked(const char *body, sf_fc_state want, sf_status refusal)
{
    char s[4096];
    snprintf(s, sizeof s, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n%s", body);
    if (refusal != SF_OK)
        expect_refused(s, refusal);
    else
        expect_whole(s, want);
}

static void test_chunks(void **state)
{
    (void)state;
    chunked("5\r\nhello\r\n0\r\n\r\n", SF_FC_REQUEST_LINE, SF_OK);
    chunked("5;name=value;x\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n", SF_FC_REQUEST_LINE, SF_OK);
    chunked("5\nhello\n0\n\n", SF_FC_REQUEST_LINE, SF_OK);
    chunked("5\r\nhello\r\n0\r\nX-Trailer: 1\r\nY: 2\r\n\r\n", SF_FC_REQUEST_LINE, SF_OK);
    chunked("5\r\nhel", SF_FC_CHUNK_DATA, SF_OK);
    chunked("ffffffffffffffff\r\n", SF_FC_CHUNK_DATA, SF_OK); /* 2^64 - 1 */
    chunked("0000000000000000000000005\r\nhello\r\n0\r\n\r\n", SF_FC_REQUEST_LINE, SF_OK);
    chunked("zz\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked("-1\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked("\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked(";ext\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked("5 \r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked("10000000000000000\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK); /* 2^64 */
    chunked("5\r\nhelloX\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked("5\r\nhello\rX", SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
    chunked("5\r\nhello\r\n0\r\nbad trailer\r\n\r\n", SF_FC_REFUSED, SF_ERR_MALFORMED_HEADER);
    /* refused in its body: its head went on (the relay then closes the pair at once) */
    const char *bad = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
    sf_front_check c;
    sf_fc_init(&c);
    sf_fc_feed(&c, bad, strlen(bad));
    assert_int_equal(sf_fc_refusal(&c), SF_ERR_MALFORMED_CHUNK);
    assert_true(sf_fc_head_passed(&c));
    /* the chunk line's cap: at it, and one byte over */
    char line[SF_FC_CHUNK_LINE_MAX + 8];
    memset(line, 'x', sizeof line);
    memcpy(line, "1;", 2);
    memcpy(line + SF_FC_CHUNK_LINE_MAX - 2, "\r\n", 2);
    line[SF_FC_CHUNK_LINE_MAX] = '\0';
    chunked(line, SF_FC_CHUNK_DATA, SF_OK);
    memcpy(line + SF_FC_CHUNK_LINE_MAX - 2, "x\r\n", 3);
    line[SF_FC_CHUNK_LINE_MAX + 1] = '\0';
    chunked(line, SF_FC_REFUSED, SF_ERR_MALFORMED_CHUNK);
}

static void test_pipelined(void **state)
{
    (void)state;
    const char *two = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                      "POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
                      "GET /c HTTP/1.1\r\n";
    outcome o = check(two);
    assert_int_equal(o.state, SF_FC_FIELDS);
    assert_int_equal(o.taken, strlen(two));
    assert_int_equal(o.pending, strlen("GET /c HTTP/1.1\r\n")); /* the third is not whole */
    /* the second request bad: the first may go on, the second never */
    const char *first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
    char s[256];
    snprintf(s, sizeof s, "%sGET /b HTTP/1.1\r\nbad\r\n\r\n", first);
    sf_front_check c;
    sf_fc_init(&c);
    size_t taken = sf_fc_feed(&c, s, strlen(s));
    assert_int_equal(sf_fc_refusal(&c), SF_ERR_MALFORMED_HEADER);
    assert_int_equal(taken - sf_fc_pending(&c), strlen(first));
    assert_false(sf_fc_head_passed(&c)); /* the refused request never went on */
    /* a refused checker takes nothing more */
    assert_int_equal(sf_fc_feed(&c, "x", 1), 0);
}

static void test_upgrade(void **state)
{
    (void)state;
    const char *req = "GET /v3/wsconnect HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\n\r\n";
    sf_front_check c;
    sf_fc_init(&c);
    assert_int_equal(sf_fc_feed(&c, req, strlen(req)), strlen(req));
    assert_int_equal(sf_fc_pending(&c), 0);
    assert_true(sf_fc_waiting(&c));
    assert_int_equal(sf_fc_feed(&c, "\x81\x85", 2), 0); /* waits for the answer */
    sf_fc_answered(&c, true);
    assert_false(sf_fc_waiting(&c));
    assert_int_equal(sf_fc_feed(&c, "\x81\x85 not http", 12), 12);
    assert_int_equal(c.state, SF_FC_OPAQUE);
    /* refused (no 101): the next bytes are a request again */
    sf_fc_init(&c);
    assert_int_equal(sf_fc_feed(&c, req, strlen(req)), strlen(req));
    sf_fc_answered(&c, false);
    assert_int_equal(c.state, SF_FC_REQUEST_LINE);
    assert_int_equal(sf_fc_feed(&c, "\x81\x85", 2), 1);
    assert_int_equal(sf_fc_refusal(&c), SF_ERR_MALFORMED_REQUEST_LINE);
    /* an answer with no Upgrade request waiting changes nothing */
    sf_fc_init(&c);
    sf_fc_answered(&c, true);
    assert_int_equal(c.state, SF_FC_REQUEST_LINE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_requests),     cmocka_unit_test(test_request_line),
        cmocka_unit_test(test_header_lines),      cmocka_unit_test(test_head_cap),
        cmocka_unit_test(test_field_cap),         cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_transfer_encoding), cmocka_unit_test(test_chunks),
        cmocka_unit_test(test_pipelined),         cmocka_unit_test(test_upgrade),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
