/* SPDX-License-Identifier: MIT */
/* front_check.c: see front_check.h. A byte-at-a-time state machine over heads and chunk
 * lines (they are short and capped), and a bulk skip over body bytes. */
#include "front_check.h"
#include "hex_digit.h"
#include "syncfake_http.h"

#include <string.h>

enum { LINE_MORE = 0, LINE_END = 1, LINE_BAD = -1, LINE_CR = 2 };

static void refuse(sf_front_check *c, sf_status st)
{
    c->state = SF_FC_REFUSED;
    c->refusal = st;
}

static bool is_tchar(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

/* Where ch stands in a line: its end (LF, or CR LF), a CR waiting for its LF, a bare CR
 * followed by something else (bad), or an ordinary byte. */
static int line_byte(sf_front_check *c, unsigned char ch)
{
    if (c->cr) {
        c->cr = false;
        return ch == '\n' ? LINE_END : LINE_BAD;
    }
    if (ch == '\r') {
        c->cr = true;
        return LINE_CR;
    }
    return ch == '\n' ? LINE_END : LINE_MORE;
}

static void start_line(sf_front_check *c)
{
    c->part = 0;
    c->cr = false;
    c->line_len = 0;
    c->token_len = 0;
    c->name_len = 0;
}

void sf_fc_init(sf_front_check *c)
{
    memset(c, 0, sizeof *c);
    c->state = SF_FC_REQUEST_LINE;
    c->refusal = SF_OK;
}

static void keep_token(sf_front_check *c, unsigned char ch)
{
    if (c->token_len < SF_FC_TOKEN_MAX)
        c->token[c->token_len] = (char)ch;
    if (c->token_len <= SF_FC_TOKEN_MAX)
        c->token_len++; /* SF_FC_TOKEN_MAX + 1: too long to be anything we take */
}

static bool token_is(const sf_front_check *c, const char *want)
{
    size_t n = strlen(want);
    return c->token_len == n && memcmp(c->token, want, n) == 0;
}

/* ---- the request line ---- */

static void version_done(sf_front_check *c)
{
    if (token_is(c, "HTTP/1.1") || token_is(c, "HTTP/1.0")) {
        c->state = SF_FC_FIELDS;
        start_line(c);
    } else if (c->token_len >= 5 && memcmp(c->token, "HTTP/", 5) == 0) {
        refuse(c, SF_ERR_HTTP_VERSION);
    } else {
        refuse(c, SF_ERR_MALFORMED_REQUEST_LINE);
    }
}

/* An empty line before the request line: skipped, a few of them. */
static void blank_line(sf_front_check *c)
{
    if (++c->blank_lines > SF_FC_MAX_BLANK_LINES)
        refuse(c, SF_ERR_MALFORMED_REQUEST_LINE);
    start_line(c);
}

static void request_line_byte(sf_front_check *c, unsigned char ch)
{
    int at = line_byte(c, ch);
    if (at == LINE_CR)
        return;
    if (at == LINE_BAD)
        return refuse(c, SF_ERR_MALFORMED_REQUEST_LINE);
    if (at == LINE_END) {
        if (c->part == 0 && c->line_len == 0)
            return blank_line(c);
        if (c->part != 2 || c->token_len == 0)
            return refuse(c, SF_ERR_MALFORMED_REQUEST_LINE);
        return version_done(c);
    }
    bool first_of_part = c->token_len == 0;
    c->line_len++;
    if (ch == ' ') {
        /* one space between parts, none empty */
        if (c->part == 2 || first_of_part)
            return refuse(c, SF_ERR_MALFORMED_REQUEST_LINE);
        c->part++;
        c->token_len = 0;
        return;
    }
    bool ok = c->part == 0 ? is_tchar(ch) : c->part == 1 ? ch > ' ' && ch != 0x7f : ch > ' ';
    if (!ok)
        return refuse(c, SF_ERR_MALFORMED_REQUEST_LINE);
    keep_token(c, ch); /* of each part, only the version's is looked at */
}

/* ---- header and trailer lines ---- */

static bool name_is(const sf_front_check *c, const char *want)
{
    size_t n = strlen(want);
    return c->name_len == n && memcmp(c->name, want, n) == 0;
}

/* A byte of a Content-Length value: optional spaces, digits, optional spaces. */
static void length_byte(sf_front_check *c, unsigned char ch)
{
    if (ch == ' ' || ch == '\t') {
        c->value_end = c->value_digits;
    } else if (ch >= '0' && ch <= '9' && !c->value_end) {
        unsigned d = ch - '0';
        if (c->value > (UINT64_MAX - d) / 10)
            c->length_overflow = true;
        else
            c->value = c->value * 10 + d;
        c->value_digits = true;
    } else {
        c->value_bad = true;
    }
}

static void value_byte(sf_front_check *c, unsigned char ch)
{
    if (c->state != SF_FC_FIELDS)
        return; /* a trailer's value matters to no check */
    if (name_is(c, "content-length"))
        length_byte(c, ch);
    else if (name_is(c, "transfer-encoding") && (c->token_len || (ch != ' ' && ch != '\t')))
        keep_token(c, (unsigned char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch));
}

static void length_done(sf_front_check *c)
{
    if (c->value_bad || !c->value_digits)
        return refuse(c, SF_ERR_INVALID_CONTENT_LENGTH);
    if (c->length_overflow)
        return refuse(c, SF_ERR_REQUEST_TOO_LARGE);
    if (c->lengths++ == 0)
        c->length = c->value;
    else if (c->value != c->length)
        c->length_conflict = true; /* the server's own 400 (server_request.c) */
}

static void encoding_done(sf_front_check *c)
{
    while (c->token_len && c->token_len <= SF_FC_TOKEN_MAX &&
           (c->token[c->token_len - 1] == ' ' || c->token[c->token_len - 1] == '\t'))
        c->token_len--;
    if (++c->encodings > 1 || !token_is(c, "chunked"))
        return refuse(c, SF_ERR_INVALID_TRANSFER_ENCODING);
    c->chunked = true;
}

static void field_done(sf_front_check *c)
{
    if (++c->fields > SF_FC_MAX_FIELDS)
        return refuse(c, SF_ERR_HEADERS_TOO_LARGE);
    if (c->state == SF_FC_FIELDS) {
        if (name_is(c, "content-length"))
            length_done(c);
        else if (name_is(c, "transfer-encoding"))
            encoding_done(c);
        else if (name_is(c, "upgrade"))
            c->upgrade = true;
    }
    if (c->state != SF_FC_REFUSED)
        start_line(c);
}

static void head_done(sf_front_check *c);
static void request_done(sf_front_check *c);

/* The name: a token, then a colon (no space before it). */
static void name_byte(sf_front_check *c, unsigned char ch)
{
    if (ch == ':' && c->line_len > 0) {
        c->part = 1;
        c->value = 0;
        c->value_digits = c->value_end = c->value_bad = c->length_overflow = false;
        c->token_len = 0;
    } else if (is_tchar(ch)) {
        if (c->name_len < SF_FC_NAME_MAX)
            c->name[c->name_len] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
        if (c->name_len <= SF_FC_NAME_MAX)
            c->name_len++;
    } else {
        refuse(c, SF_ERR_MALFORMED_HEADER); /* no colon, a space before it, a folded line */
    }
}

static void field_byte(sf_front_check *c, unsigned char ch)
{
    int at = line_byte(c, ch);
    if (at == LINE_CR)
        return;
    if (at == LINE_BAD)
        return refuse(c, SF_ERR_MALFORMED_HEADER);
    if (at == LINE_END) {
        if (c->line_len == 0) /* the empty line */
            return c->state == SF_FC_FIELDS ? head_done(c) : request_done(c);
        if (c->part == 0)
            return refuse(c, SF_ERR_MALFORMED_HEADER);
        return field_done(c);
    }
    if (c->part == 0)
        name_byte(c, ch);
    else
        value_byte(c, ch);
    c->line_len++;
}

/* ---- the end of a head, of a request ---- */

static void request_done(sf_front_check *c)
{
    if (c->upgrade) {
        c->state = SF_FC_WAIT_ANSWER;
        c->pending = 0;
        return;
    }
    sf_fc_init(c); /* the next request */
}

static void head_done(sf_front_check *c)
{
    if (c->encodings && c->lengths)
        return refuse(c, SF_ERR_INVALID_TRANSFER_ENCODING);
    c->pending = 0; /* the whole head goes on */
    c->head_passed = true;
    start_line(c);
    if (c->length_conflict || (c->lengths && c->length > SF_HTTP_MAX_BODY)) {
        c->state = SF_FC_LAST; /* the server refuses it and closes */
    } else if (c->chunked) {
        c->state = SF_FC_CHUNK_LINE;
        c->value = 0;
        c->size_digits = false;
    } else if (c->lengths && c->length > 0) {
        c->state = SF_FC_BODY;
        c->remaining = c->length;
    } else {
        request_done(c);
    }
}

/* ---- chunks ---- */

static void chunk_size_done(sf_front_check *c)
{
    if (!c->size_digits)
        return refuse(c, SF_ERR_MALFORMED_CHUNK);
    c->pending = 0;
    c->remaining = c->value;
    start_line(c);
    c->state = c->value ? SF_FC_CHUNK_DATA : SF_FC_TRAILERS;
}

static void chunk_line_byte(sf_front_check *c, unsigned char ch)
{
    if (++c->line_len > SF_FC_CHUNK_LINE_MAX)
        return refuse(c, SF_ERR_MALFORMED_CHUNK);
    int at = line_byte(c, ch);
    if (at == LINE_CR)
        return;
    if (at == LINE_BAD)
        return refuse(c, SF_ERR_MALFORMED_CHUNK);
    if (at == LINE_END)
        return chunk_size_done(c);
    if (c->part == 1) /* an extension: anything up to the line's end */
        return;
    int d = sf_hex_digit((char)ch);
    if (ch == ';' && c->size_digits) {
        c->part = 1;
    } else if (d < 0 || c->value > (UINT64_MAX >> 4)) {
        refuse(c, SF_ERR_MALFORMED_CHUNK); /* not hex, or past 2^64 - 1 */
    } else {
        c->value = c->value << 4 | (uint64_t)d;
        c->size_digits = true;
    }
}

/* The CRLF after a chunk's bytes. */
static void chunk_end_byte(sf_front_check *c, unsigned char ch)
{
    int at = line_byte(c, ch);
    if (at == LINE_END) {
        c->state = SF_FC_CHUNK_LINE;
        start_line(c);
        c->value = 0;
        c->size_digits = false;
    } else if (at != LINE_CR) {
        refuse(c, SF_ERR_MALFORMED_CHUNK);
    }
}

/* ---- feeding ---- */

/* A byte of a head or a trailer section: counted against the head's cap. */
static void head_byte(sf_front_check *c, unsigned char ch)
{
    c->pending++;
    if (++c->head_len > SF_FC_HEAD_MAX)
        return refuse(c, c->state == SF_FC_REQUEST_LINE ? SF_ERR_URI_TOO_LONG
                                                        : SF_ERR_HEADERS_TOO_LARGE);
    if (c->state == SF_FC_REQUEST_LINE)
        request_line_byte(c, ch);
    else
        field_byte(c, ch);
}

static void step(sf_front_check *c, unsigned char ch)
{
    switch (c->state) {
    case SF_FC_REQUEST_LINE:
    case SF_FC_FIELDS:
    case SF_FC_TRAILERS:
        head_byte(c, ch);
        break;
    case SF_FC_CHUNK_LINE:
        c->pending++;
        chunk_line_byte(c, ch);
        break;
    case SF_FC_CHUNK_END:
        chunk_end_byte(c, ch);
        break;
    default:
        break;
    }
}

/* Body or chunk bytes: as many as are due, at once. */
static size_t skip_data(sf_front_check *c, size_t avail)
{
    size_t take = c->remaining < avail ? (size_t)c->remaining : avail;
    c->remaining -= take;
    if (c->remaining == 0) {
        if (c->state == SF_FC_BODY) {
            request_done(c);
        } else {
            c->state = SF_FC_CHUNK_END;
            start_line(c);
        }
    }
    return take;
}

size_t sf_fc_feed(sf_front_check *c, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        switch (c->state) {
        case SF_FC_BODY:
        case SF_FC_CHUNK_DATA:
            i += skip_data(c, n - i);
            break;
        case SF_FC_OPAQUE:
            return n;
        case SF_FC_WAIT_ANSWER:
        case SF_FC_LAST:
        case SF_FC_REFUSED:
            return i;
        default:
            step(c, (unsigned char)p[i++]);
        }
    }
    return i;
}

size_t sf_fc_pending(const sf_front_check *c) { return c->pending; }

sf_status sf_fc_refusal(const sf_front_check *c)
{
    return c->state == SF_FC_REFUSED ? c->refusal : SF_OK;
}

bool sf_fc_waiting(const sf_front_check *c) { return c->state == SF_FC_WAIT_ANSWER; }

bool sf_fc_head_passed(const sf_front_check *c) { return c->head_passed; }

void sf_fc_answered(sf_front_check *c, bool switched)
{
    if (c->state != SF_FC_WAIT_ANSWER)
        return;
    if (switched)
        c->state = SF_FC_OPAQUE;
    else
        sf_fc_init(c);
}
