/* SPDX-License-Identifier: MIT */
/* http_client.h: a small hand-written HTTP/1.1 client for loopback tests that need more than
 * loopback.h's one request per connection: keep-alive connections, Basic auth, Content-Length
 * and chunked bodies parsed into a response (status, the headers the tests compare, body), and
 * an incremental reader of server-sent events. Every socket operation has a deadline (poll), so
 * a broken server fails a test instead of hanging it. hc_expect and hc_basic_auth fail the
 * test through cmocka: include this after <cmocka.h>. */
#ifndef SF_TEST_HTTP_CLIENT_H
#define SF_TEST_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HC_IO_TIMEOUT_MS 5000 /* every read and write on a socket */

/* A connection and the bytes read from it but not consumed yet: buf[start..end). */
typedef struct hconn {
    int fd;
    uint16_t port;
    char buf[32768];
    size_t start, end;
} hconn;

/* One response. */
typedef struct hresp {
    int status;
    char content_type[128];
    char date[64];
    char allow[64];
    char connection[32];
    bool chunked;
    long long content_length; /* -1: none */
    char *body;               /* NUL-terminated, malloc'd */
    size_t body_len;
} hresp;

void hresp_free(hresp *r);

/* Connects to 127.0.0.1:port (TCP_NODELAY); false when it cannot. */
bool hc_open(hconn *c, uint16_t port);
void hc_close(hconn *c);
/* Sends all n bytes within HC_IO_TIMEOUT_MS. */
bool hc_send(hconn *c, const void *data, size_t n);

/* Sends one request: Host, Authorization when auth (the header's value) is not NULL, Accept:
 * application/json, Connection: keep-alive, then Content-Type and Content-Length when there is
 * a body or the method is POST, then extra_headers (CRLF-terminated lines, may be NULL). */
bool hc_send_request(hconn *c, const char *method, const char *target, const char *auth,
                     const char *content_type, const char *body, size_t body_len,
                     const char *extra_headers);
/* Reads the status line and headers (hc_read_head) and then the body (hc_read_body: chunked,
 * Content-Length, none for 204/304, else until the server closes) before the deadline
 * (lb_now_ms). False on a timeout, an early close or a malformed answer. */
bool hc_read_head(hconn *c, hresp *r, int64_t deadline);
bool hc_read_body(hconn *c, hresp *r, int64_t deadline);

/* A whole exchange; form (may be NULL) is sent as application/x-www-form-urlencoded. */
bool hc_request(hconn *c, const char *method, const char *target, const char *auth,
                const char *form, hresp *r);
/* The same, failing the test when no answer came or its status is not `status`. */
void hc_expect(hconn *c, const char *method, const char *target, const char *auth, const char *form,
               int status, hresp *r);

/* "Basic base64(user:password)" into out (asserts that it fits). */
void hc_basic_auth(const char *user, const char *password, char *out, size_t cap);

/* The value of "key" in a flat JSON text: a string (unescaped only of \" and \\), a number,
 * true/false/null, or (for objects) the balanced {...} text. False when absent. */
bool hc_json_get(const char *json, const char *key, char *out, size_t cap);
/* The value of "key" as a number; -1 when absent. */
long long hc_json_int(const char *json, const char *key);

/* Server-sent events over a chunked (or close-delimited) response. */
typedef struct sse_reader {
    hconn *c;
    hresp head;  /* status and headers; head.body collects the decoded stream */
    size_t used; /* bytes of head.body already turned into events */
    bool ended;  /* the stream ended cleanly (last chunk or EOF) */
} sse_reader;

typedef struct sse_event {
    char name[64];
    char data[8192];
} sse_event;

/* Sends GET target (Accept: text/event-stream) on c and reads the head: true when the
 * transport worked (the status is in s->head.status). */
bool sse_open(sse_reader *s, hconn *c, const char *target, const char *auth);
void sse_close(sse_reader *s);
/* The next event: 1 an event, 0 the stream ended cleanly, -1 nothing within timeout_ms (or a
 * malformed stream), -2 the connection closed without the last chunk. */
int sse_next(sse_reader *s, sse_event *ev, int timeout_ms);

#endif
