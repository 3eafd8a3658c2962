/* SPDX-License-Identifier: MIT */
/* fuzz_front_check.c: libFuzzer target over the front door's request checker
 * (fake_http/server/front_check.h), the first code to read a client's bytes. Input: one flags
 * byte, then the client's bytes. The bytes are fed twice: whole, and in pieces whose sizes come
 * from the flags; whenever the checker waits for an Upgrade request's answer, the answer is a
 * 101 or not (flags bit 7). Checks: nothing crashes or reads out of bounds; both feedings end
 * in the same state, refusal and count of bytes let through; a feed takes no more than it is
 * given; bytes held back never pass the head cap plus a chunk line; a refusal is one of the
 * statuses the front door answers with. */
#include "front_check.h"

#include <stdint.h>
#include <stdlib.h>

typedef struct run {
    size_t taken, passed;
    sf_fc_state state;
    sf_status refusal;
} run;

static bool known_refusal(sf_status st)
{
    switch (st) {
    case SF_ERR_HTTP_VERSION:
    case SF_ERR_MALFORMED_REQUEST_LINE:
    case SF_ERR_MALFORMED_HEADER:
    case SF_ERR_INVALID_CONTENT_LENGTH:
    case SF_ERR_INVALID_TRANSFER_ENCODING:
    case SF_ERR_MALFORMED_CHUNK:
    case SF_ERR_REQUEST_TOO_LARGE:
    case SF_ERR_URI_TOO_LONG:
    case SF_ERR_HEADERS_TOO_LARGE:
        return true;
    default:
        return false;
    }
}

/* Feeds data in pieces of at most `piece` bytes (0: whole), answering Upgrade requests. */
static run feed(const char *data, size_t n, size_t piece, bool switched)
{
    sf_front_check c;
    sf_fc_init(&c);
    run r = {0};
    size_t at = 0;
    while (at < n) {
        size_t len = piece && n - at > piece ? piece : n - at;
        size_t t = sf_fc_feed(&c, data + at, len);
        if (t > len)
            abort();
        at += t;
        r.taken += t;
        if (sf_fc_pending(&c) > r.taken ||
            sf_fc_pending(&c) > SF_FC_HEAD_MAX + SF_FC_CHUNK_LINE_MAX)
            abort();
        if (t == len)
            continue;
        if (!sf_fc_waiting(&c))
            break; /* refused, or the server's to close */
        sf_fc_answered(&c, switched);
    }
    r.passed = r.taken - sf_fc_pending(&c);
    r.state = c.state;
    r.refusal = sf_fc_refusal(&c);
    if ((r.state == SF_FC_REFUSED) != (r.refusal != SF_OK))
        abort();
    if (r.refusal != SF_OK && !known_refusal(r.refusal))
        abort();
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    const char *bytes = (const char *)data + 1;
    size_t n = size - 1;
    bool switched = flags & 0x80;
    run whole = feed(bytes, n, 0, switched);
    run split = feed(bytes, n, (size_t)(flags & 0x7f) + 1, switched);
    if (whole.state != split.state || whole.refusal != split.refusal)
        abort();
    if (whole.state != SF_FC_REFUSED &&
        (whole.taken != split.taken || whole.passed != split.passed))
        abort();
    return 0;
}
