/* SPDX-License-Identifier: MIT */
/* buf.h: the one growable byte buffer of fake_http and the server (response bodies, request
 * bodies, WebSocket outboxes, event-stream queues), optionally with a size cap (curl's dynbuf
 * idea). Two ways to append:
 *   sf_http_buf_add/str/printf/json_*: a failed allocation (or passing the cap) sets `failed`
 *     and later appends do nothing, so writers check once at the end;
 *   sf_http_buf_reserve + sf_http_buf_put: all or nothing, reported at once, `failed` untouched
 *     (queues that refuse one message and go on).
 * A queue reads from the front: the bytes [off, len) wait; sf_http_buf_consume moves off on,
 * and the consumed front is reused (moved down) before the buffer grows. data is always
 * NUL-terminated after len when not NULL. */
#ifndef SF_HTTP_BUF_H
#define SF_HTTP_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf_http_buf {
    char *data;
    size_t len, cap;
    bool failed;
    size_t off; /* bytes already consumed from the front (queues); 0 for plain writers */
    size_t max; /* the cap on bytes waiting (len - off); 0: no cap */
} sf_http_buf;

void sf_http_buf_init(sf_http_buf *b);
/* An empty buffer whose waiting bytes may never pass max. */
void sf_http_buf_init_max(sf_http_buf *b, size_t max);
void sf_http_buf_free(sf_http_buf *b);
/* Bytes waiting: len - off. */
static inline size_t sf_http_buf_pending(const sf_http_buf *b) { return b->len - b->off; }
/* Whether n more bytes stay within the cap. */
bool sf_http_buf_fits(const sf_http_buf *b, size_t n);
/* Room for n more bytes at data + len (moving the consumed front down first). false: past the
 * cap or out of memory; the buffer is unchanged. */
bool sf_http_buf_reserve(sf_http_buf *b, size_t n);
/* Appends n bytes after a successful sf_http_buf_reserve of at least n. */
void sf_http_buf_put(sf_http_buf *b, const void *data, size_t n);
/* Marks n waiting bytes read; an emptied buffer starts again at the front. */
void sf_http_buf_consume(sf_http_buf *b, size_t n);
/* Empties it (cap and `failed` kept); memory above keep bytes is given back. */
void sf_http_buf_clear(sf_http_buf *b, size_t keep);
void sf_http_buf_add(sf_http_buf *b, const char *s, size_t n);
void sf_http_buf_str(sf_http_buf *b, const char *s);
void sf_http_buf_printf(sf_http_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The characters of a JSON string, escaped per RFC 8259, without the quotes. */
void sf_http_buf_json_chars(sf_http_buf *b, const char *s);
/* A JSON string literal, escaped per RFC 8259 (the input is UTF-8; bytes are kept). */
void sf_http_buf_json_string(sf_http_buf *b, const char *s);
/* A JSON string or null. */
void sf_http_buf_json_string_or_null(sf_http_buf *b, const char *s);

#endif
