/* SPDX-License-Identifier: MIT */
/* twilsock_frame.h: Twilsock V3.0 frames, the protocol Twilio's client SDKs speak inside one
 * WebSocket: "TWILSOCK V3.0 <header length>\r\n<header JSON>\r\n<payload>", where the header's
 * payload_size gives the payload's length. Parsing is strict and bounded. */
#ifndef SF_TWILSOCK_FRAME_H
#define SF_TWILSOCK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_TS_MAX_FRAME (1024 * 1024) /* larger frames are refused */
#define SF_TS_MAX_HEADER (64 * 1024)
#define SF_TS_MAX_HEADER_TOKENS 4096 /* jsmn token budget of one header; more is refused */
#define SF_TS_MAX_ID 1024            /* bytes of a request id (UTF-8); a longer one is refused */
#define SF_TS_MAX_TOKEN 8191         /* bytes of an access token; a longer one reads as bad_token */
/* Nesting of a `message` frame's JSON payload (the tunnelled request body, whose "data" is
 * the user's): deeper is read as malformed JSON. jsmn's cost grows with the square of the
 * depth; this keeps a payload's parse linear. */
#define SF_TS_MAX_PAYLOAD_DEPTH 64

/* The header fields syncfake reads. Absent strings are "" (and has_* false). */
typedef struct sf_ts_frame {
    char method[32];           /* "init", "message", "reply", "update", "close", ... */
    char id[SF_TS_MAX_ID + 1]; /* request id, echoed in the reply */
    char payload_type[64];
    char token[SF_TS_MAX_TOKEN + 1]; /* init / update */
    /* token was a string that cannot be a token: longer than SF_TS_MAX_TOKEN bytes, or with
     * an escaped NUL or a lone surrogate. token is then "", which no key verifies, so an
     * init or update gets its reply (401) rather than the protocol error a malformed frame
     * gets. */
    bool bad_token;
    bool has_http_request; /* message: the tunnelled HTTP request */
    char http_method[16];
    char http_path[2048]; /* as sent, e.g. "/v3/Streams/TO..." or a full http:// URL's path */
    char http_host[256];
    const char *payload; /* points into the parsed buffer; payload_len bytes, not NUL-ended */
    size_t payload_len;
} sf_ts_frame;

/* Parses one frame (a whole WebSocket message). false when malformed: bad preamble, header
 * length (decimal, no leading zero, <= SF_TS_MAX_HEADER) or JSON (one strict JSON object),
 * payload_size (an integer >= 0; absent means 0) not matching the bytes after the "\r\n" that
 * follows the header (with payload_size 0 that "\r\n" may be absent; the JS client sends it;
 * a non-empty payload may be followed by one "\r\n", as the Kotlin SDK sends it), a field
 * too long (but see bad_token), of the wrong type or given twice, or a header nested deeper
 * than SF_JSON_FIELD_MAX_DEPTH (json_depth.h). On false *out is zeroed. Linear in len. */
bool sf_ts_parse(const uint8_t *data, size_t len, sf_ts_frame *out);

/* Builds a frame from a header JSON object text (without payload_size: it is added as the
 * last member) and a payload; the "\r\n" after the header is always written. Returns a
 * malloc'd buffer (*out_len bytes) or NULL when out of memory or when header_json does not
 * end with "}" (the text is not otherwise checked). */
uint8_t *sf_ts_build(const char *header_json, const char *payload, size_t payload_len,
                     size_t *out_len);

/* The same frame without its payload: preamble, header (with payload_size) and "\r\n",
 * written to out. Returns its length, or 0 when header_json does not end with "}" or the
 * head does not fit in cap bytes. A frame is this head followed by the payload_len bytes. */
size_t sf_ts_build_head(const char *header_json, size_t payload_len, char *out, size_t cap);

#endif
