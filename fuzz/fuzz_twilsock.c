/* SPDX-License-Identifier: MIT */
/* fuzz_twilsock.c: libFuzzer target over the Twilsock session (twilsock_session.c) without
 * sockets: this file is the WebSocket layer (sf_ws_send, sf_ws_sendv, sf_ws_close) the
 * session is linked against, and calls the session's handler as websocket.c would.
 *
 * Input: one flags byte, then Twilsock frames separated by the bytes FF FE FD (seeds in
 * fuzz/corpus/twilsock, made by fuzz/make_seeds.py from the tests' frames; SIDs as placeholders,
 * see ts_fixture_expand). Flags bit 0: the
 * session first gets an `init` with a good token, so the frames run after `init` (bit 0
 * clear: before it). Each input is one session: open, every frame, closed. Checks: nothing
 * crashes, leaks or reads out of bounds; every frame the session sends is a well-formed
 * Twilsock frame of a server method; nothing is sent after closed() returned. */
#include "ts_fixture.h"

#include "websocket.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t SEPARATOR[] = {0xff, 0xfe, 0xfd};

struct sf_ws_conn {
    atomic_bool close_requested, ended;
};

bool sf_ws_sendv(sf_ws_conn *conn, const sf_ws_chunk *chunks, size_t count)
{
    if (atomic_load(&conn->ended))
        abort(); /* a send after closed(): the session layer broke websocket.h's contract */
    size_t len = 0;
    for (size_t i = 0; i < count; i++)
        len += chunks[i].len;
    uint8_t *joined = malloc(len ? len : 1);
    if (!joined)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < count; i++) {
        if (chunks[i].len)
            memcpy(joined + o, chunks[i].data, chunks[i].len);
        o += chunks[i].len;
    }
    ts_fixture_check_server_frame(joined, len);
    free(joined);
    return !atomic_load(&conn->close_requested);
}

bool sf_ws_send(sf_ws_conn *conn, const uint8_t *data, size_t len)
{
    sf_ws_chunk one = {data, len};
    return sf_ws_sendv(conn, &one, 1);
}

void sf_ws_close(sf_ws_conn *conn, uint16_t code)
{
    (void)code;
    atomic_store(&conn->close_requested, true);
}

static ts_fixture fx;

static const uint8_t *find_separator(const uint8_t *p, const uint8_t *end)
{
    for (; end - p >= (ptrdiff_t)sizeof SEPARATOR; p++)
        if (memcmp(p, SEPARATOR, sizeof SEPARATOR) == 0)
            return p;
    return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fx.fake)
        ts_fixture_start(&fx);
    if (size < 1)
        return 0;
    ts_fixture_next_input(&fx);
    const sf_ws_handler *h = sf_ts_handler(fx.mgr);
    struct sf_ws_conn conn = {false, false};
    void *session = h->open(h->ctx, &conn);
    if (!session)
        abort();
    if (data[0] & 1) {
        size_t n;
        uint8_t *init = ts_fixture_init_frame(&fx, &n);
        if (!init)
            abort();
        h->message(session, init, n);
        free(init);
    }
    const uint8_t *p = data + 1, *end = data + size;
    while (p < end) {
        const uint8_t *sep = find_separator(p, end);
        /* a copy of exactly the frame's bytes, so that reading past it is caught */
        size_t n = (size_t)(sep - p);
        uint8_t *frame = malloc(n ? n : 1);
        if (!frame)
            abort();
        memcpy(frame, p, n);
        ts_fixture_expand(&fx, frame, n);
        h->message(session, frame, n);
        free(frame);
        p = sep < end ? sep + sizeof SEPARATOR : end;
    }
    h->closed(session);
    atomic_store(&conn.ended, true); /* the token thread must not reach it any more */
    return 0;
}
