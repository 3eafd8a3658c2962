/* SPDX-License-Identifier: MIT */
/* front_check.h: the front door's request checker. It reads a connection's client-to-server
 * bytes incrementally (any split, one byte at a time or all at once) and says which of them
 * may go on to libmicrohttpd, so that libmicrohttpd never sees a request it would answer
 * itself with one of its fixed HTML pages (a head over its connection memory, a header line
 * without a colon, a malformed chunk size or Content-Length, an HTTP version other than 1.x).
 * A request it refuses gets the server's JSON error (front_door.h) instead.
 *
 * What it checks, per request (keep-alive and pipelined requests one after the other):
 * - request line: METHOD SP TARGET SP HTTP/1.0|HTTP/1.1, then CRLF (a bare LF is taken, a
 *   bare CR is not). Another HTTP/x version is 505; anything else malformed is 400. Up to
 *   SF_FC_MAX_BLANK_LINES empty lines before it are skipped (RFC 9112 2.2).
 * - header lines: a token, a colon, a value. No colon, a space before the colon, or a folded
 *   line (obsolete) is 400.
 * - the head (request line through the empty line) is at most SF_FC_HEAD_MAX bytes and
 *   SF_FC_MAX_FIELDS header lines: a longer request line is 414, a longer head or more lines
 *   431. libmicrohttpd's 32 KiB per connection holds such a head and its header records.
 * - Content-Length: digits only; repeats must agree. A value over 2^64 - 1 is 413. Different
 *   values, or a value over the body cap, go on to the server, which refuses them as it did
 *   before (400 / 413, journalled): no byte after that head goes on.
 * - Transfer-Encoding: only `chunked` (one header); with a Content-Length too it is 400.
 *   Chunk lines: hex size (no overflow), optional `;` extensions, at most SF_FC_CHUNK_LINE_MAX
 *   bytes; data; CRLF; after the last chunk, trailer lines as header lines, counted in the
 *   head's caps. Any fault is 400.
 * - a request with an Upgrade header: the bytes after it wait (sf_fc_feed takes none) until
 *   the answer starts: sf_fc_answered with whether it is a 101; after a 101 every byte goes
 *   on unchecked, else checking goes on with the next request.
 *
 * Bytes go on at safe points only: a head once it is complete and good, a chunk line once it
 * has ended, body bytes as they come. No I/O, no allocation: fuzzable on its own. */
#ifndef SF_FRONT_CHECK_H
#define SF_FRONT_CHECK_H

#include "syncfake.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SF_FC_HEAD_MAX (16u * 1024u) /* bytes of a request head, its final CRLF included */
/* header (and trailer) lines of a request: at a 16 KiB head, about 250 short lines fill
 * libmicrohttpd's 32 KiB of connection memory (it then closes without an answer) */
#define SF_FC_MAX_FIELDS 160u
#define SF_FC_CHUNK_LINE_MAX 1024u /* bytes of a chunk-size line, extensions and CRLF in */
#define SF_FC_MAX_BLANK_LINES 8u   /* empty lines skipped before a request line */
#define SF_FC_NAME_MAX 24u         /* header names kept (longer ones matter to no check) */
#define SF_FC_TOKEN_MAX 16u        /* a version or Transfer-Encoding value kept */

typedef enum sf_fc_state {
    SF_FC_REQUEST_LINE, /* reading a head: its request line */
    SF_FC_FIELDS,       /* reading a head: its header lines */
    SF_FC_BODY,         /* Content-Length bytes */
    SF_FC_CHUNK_LINE,   /* a chunk-size line */
    SF_FC_CHUNK_DATA,   /* a chunk's bytes */
    SF_FC_CHUNK_END,    /* the CRLF after a chunk's bytes */
    SF_FC_TRAILERS,     /* trailer lines after the last chunk */
    SF_FC_WAIT_ANSWER,  /* an Upgrade request went on: the next bytes wait for its answer */
    SF_FC_LAST,         /* the server refuses the request that went on: nothing more goes */
    SF_FC_OPAQUE,       /* upgraded: every byte goes on */
    SF_FC_REFUSED       /* refused here: `refusal` says how */
} sf_fc_state;

/* A request checker; zero it with sf_fc_init. Fields are the checker's own. */
typedef struct sf_front_check {
    sf_fc_state state;
    sf_status refusal; /* SF_REFUSED: the answer */
    size_t pending;    /* bytes taken that may not go on yet (a head, a chunk line) */
    /* the current line */
    unsigned part; /* request line: method, target, version; field: name, value */
    bool cr;       /* a CR was read: an LF must follow */
    size_t line_len;
    char token[SF_FC_TOKEN_MAX + 1]; /* the version, or a Transfer-Encoding value */
    size_t token_len;
    char name[SF_FC_NAME_MAX + 1]; /* the current field's name, lower case */
    size_t name_len;
    /* the current request */
    size_t head_len;
    unsigned fields, blank_lines;
    unsigned lengths;       /* Content-Length headers seen */
    uint64_t length, value; /* the first Content-Length; the one being read */
    bool value_digits, value_end, value_bad, length_overflow, length_conflict;
    unsigned encodings; /* Transfer-Encoding headers seen */
    bool chunked, upgrade;
    bool head_passed;   /* the current request's head may go on (its body is being read) */
    uint64_t remaining; /* body or chunk bytes still to come */
    bool size_digits;
} sf_front_check;

void sf_fc_init(sf_front_check *c);
/* Examines up to n bytes of the client's stream, the first following the last byte taken.
 * Returns how many it took (fewer than n when it stops: refused, waiting for an answer, or
 * last); of the bytes taken so far, all but sf_fc_pending's last ones may go on. */
size_t sf_fc_feed(sf_front_check *c, const char *p, size_t n);
/* Trailing bytes taken but not yet allowed to go on. */
size_t sf_fc_pending(const sf_front_check *c);
/* SF_OK, or the refusal when the state is SF_FC_REFUSED. */
sf_status sf_fc_refusal(const sf_front_check *c);
/* Whether the current request's head was let through (a refusal then comes in its body:
 * libmicrohttpd holds part of the request). */
bool sf_fc_head_passed(const sf_front_check *c);
/* Whether it waits for the answer to an Upgrade request. */
bool sf_fc_waiting(const sf_front_check *c);
/* The answer to the Upgrade request has begun: switched (101) or not. */
void sf_fc_answered(sf_front_check *c, bool switched);

#endif
