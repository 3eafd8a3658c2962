/* SPDX-License-Identifier: MIT */
/* twilsock_frame.c: Twilsock V3.0 frames (twilsock_frame.h).
 *
 * What the JS client (twilsock 1.0.2, Parser.createPacket) sends: "TWILSOCK V3.0 <n>\r\n",
 * the header as JSON.stringify writes it with "payload_size" always set (last), then "\r\n"
 * and the payload, the "\r\n" included also when the payload is empty. The parser accepts the
 * bare header (no trailing "\r\n") when payload_size is 0, and one "\r\n" after a non-empty
 * payload (the Kotlin SDK sends it), and nothing else: any byte after the header that is not
 * "\r\n" + exactly payload_size bytes (+ that "\r\n") is refused. */
#include "twilsock_frame.h"

#include "json_field.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREAMBLE "TWILSOCK V3.0 "
#define PREAMBLE_LEN (sizeof PREAMBLE - 1)

/* Copies string member `key` of object `obj` into out; absent is fine (out stays ""), any
 * other type, a duplicate key or an oversize value is not. */
static bool get_string(const sf_jf_doc *doc, int obj, const char *key, char *out, size_t cap,
                       bool *present)
{
    int v = sf_jf_member(doc, obj, key);
    if (present)
        *present = v >= 0;
    if (v == SF_JF_ABSENT)
        return true;
    if (v < 0)
        return false;
    return sf_jf_string(doc, v, out, cap);
}

/* The token as get_string reads it, except that a string that cannot be one is not a
 * malformed frame: the session answers it like any invalid token (twilsock_frame.h). */
static bool get_token(const sf_jf_doc *doc, sf_ts_frame *out)
{
    int v = sf_jf_member(doc, 0, "token");
    if (v == SF_JF_ABSENT)
        return true;
    if (v < 0 || sf_jf_kind_of(doc, v) != SF_JF_STRING)
        return false;
    if (!sf_jf_string(doc, v, out->token, sizeof out->token)) {
        out->token[0] = '\0';
        out->bad_token = true;
    }
    return true;
}

static bool read_header(const char *text, size_t len, sf_ts_frame *out, int64_t *payload_size)
{
    sf_jf_doc doc;
    if (!sf_jf_parse_object(&doc, text, len, SF_TS_MAX_HEADER_TOKENS))
        return false;
    bool ok =
        get_string(&doc, 0, "method", out->method, sizeof out->method, NULL) &&
        get_string(&doc, 0, "id", out->id, sizeof out->id, NULL) &&
        get_string(&doc, 0, "payload_type", out->payload_type, sizeof out->payload_type, NULL) &&
        get_token(&doc, out);
    *payload_size = 0;
    if (ok) {
        int v = sf_jf_member(&doc, 0, "payload_size");
        if (v == SF_JF_DUPLICATE)
            ok = false;
        else if (v >= 0)
            ok = sf_jf_int(&doc, v, payload_size) && *payload_size >= 0;
    }
    if (ok) {
        int req = sf_jf_member(&doc, 0, "http_request");
        if (req == SF_JF_DUPLICATE) {
            ok = false;
        } else if (req >= 0) {
            out->has_http_request = true;
            ok = sf_jf_kind_of(&doc, req) == SF_JF_OBJECT &&
                 get_string(&doc, req, "method", out->http_method, sizeof out->http_method, NULL) &&
                 get_string(&doc, req, "path", out->http_path, sizeof out->http_path, NULL) &&
                 get_string(&doc, req, "host", out->http_host, sizeof out->http_host, NULL);
        }
    }
    sf_jf_free(&doc);
    return ok;
}

bool sf_ts_parse(const uint8_t *data, size_t len, sf_ts_frame *out)
{
    if (!out)
        return false;
    memset(out, 0, sizeof *out);
    if (!data || len > SF_TS_MAX_FRAME || len < PREAMBLE_LEN ||
        memcmp(data, PREAMBLE, PREAMBLE_LEN) != 0)
        return false;
    size_t p = PREAMBLE_LEN, header_len = 0;
    if (p >= len || data[p] < '1' || data[p] > '9')
        return false; /* no digits, or a leading zero (a header is never empty) */
    while (p < len && data[p] >= '0' && data[p] <= '9') {
        header_len = header_len * 10 + (size_t)(data[p] - '0');
        if (header_len > SF_TS_MAX_HEADER)
            return false;
        p++;
    }
    if (len - p < 2 || data[p] != '\r' || data[p + 1] != '\n')
        return false;
    p += 2;
    if (len - p < header_len)
        return false;
    const char *header = (const char *)data + p;
    p += header_len;
    size_t rest = len - p;
    if (rest > 0) {
        if (rest < 2 || data[p] != '\r' || data[p + 1] != '\n')
            return false;
        p += 2;
        rest -= 2;
    }
    int64_t payload_size;
    bool ok = read_header(header, header_len, out, &payload_size);
    /* the Kotlin and iOS SDKs (TwilsockMessage.kt encode()) end a non-empty payload with
     * "\r\n", which payload_size does not count */
    if (ok && payload_size > 0 && rest == (uint64_t)payload_size + 2 &&
        memcmp(data + len - 2, "\r\n", 2) == 0)
        rest -= 2;
    if (!ok || (uint64_t)payload_size != rest) {
        memset(out, 0, sizeof *out);
        return false;
    }
    out->payload = (const char *)data + p;
    out->payload_len = rest;
    return true;
}

size_t sf_ts_build_head(const char *header_json, size_t payload_len, char *out, size_t cap)
{
    if (!header_json || !out)
        return 0;
    size_t hlen = strlen(header_json);
    size_t close = hlen;
    while (close > 0 && strchr(" \t\r\n", header_json[close - 1]))
        close--;
    if (close == 0 || header_json[close - 1] != '}')
        return 0;
    close--; /* index of the closing brace */
    size_t before = close;
    while (before > 0 && strchr(" \t\r\n", header_json[before - 1]))
        before--;
    if (before == 0)
        return 0;
    bool empty = header_json[before - 1] == '{';
    char member[48];
    int mlen =
        snprintf(member, sizeof member, "%s\"payload_size\":%zu", empty ? "" : ",", payload_len);
    if (mlen < 0 || (size_t)mlen >= sizeof member)
        return 0;
    size_t new_hlen = hlen + (size_t)mlen;
    char preamble[48];
    int plen = snprintf(preamble, sizeof preamble, PREAMBLE "%zu\r\n", new_hlen);
    if (plen < 0 || (size_t)plen >= sizeof preamble || cap < (size_t)plen + 2 ||
        new_hlen > cap - (size_t)plen - 2)
        return 0;
    char *w = out;
    memcpy(w, preamble, (size_t)plen);
    w += plen;
    memcpy(w, header_json, before); /* up to the last member, trailing whitespace dropped */
    w += before;
    memcpy(w, member, (size_t)mlen);
    w += mlen;
    memcpy(w, header_json + before, hlen - before); /* the whitespace, "}" and what follows */
    w += hlen - before;
    memcpy(w, "\r\n", 2);
    w += 2;
    return (size_t)(w - out);
}

uint8_t *sf_ts_build(const char *header_json, const char *payload, size_t payload_len,
                     size_t *out_len)
{
    if (!header_json || !out_len || (!payload && payload_len > 0))
        return NULL;
    /* the head is the header's length plus a preamble and a member of under 48 bytes each */
    size_t cap = strlen(header_json) + 96 + 2;
    if (payload_len > SIZE_MAX - cap)
        return NULL;
    uint8_t *buf = malloc(cap + payload_len);
    if (!buf)
        return NULL;
    size_t head = sf_ts_build_head(header_json, payload_len, (char *)buf, cap);
    if (!head) {
        free(buf);
        return NULL;
    }
    if (payload_len)
        memcpy(buf + head, payload, payload_len);
    *out_len = head + payload_len;
    return buf;
}
