/* SPDX-License-Identifier: MIT */
/* ts_fixture.h: what the Twilsock fuzz targets share: a fake (manual clock) with one service,
 * one API key, a stream named "fz" and a good token for identity "fuzz", and a Twilsock
 * manager wired to it with a plain mutex as the host lock. */
#ifndef SF_FUZZ_TS_FIXTURE_H
#define SF_FUZZ_TS_FIXTURE_H

#include "syncfake.h"
#include "twilsock_session.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ts_fixture {
    sf_fake *fake;
    sf_ts_manager *mgr;
    pthread_mutex_t lock; /* the host lock */
    char token[2048];
    char service_sid[SF_SID_SIZE], stream_sid[SF_SID_SIZE];
    unsigned inputs;
} ts_fixture;

/* Once per process; aborts when the fake or the manager cannot be made. */
void ts_fixture_start(ts_fixture *fx);

/* Between two inputs (no session open): every 256th call resets the fake and puts the
 * service, key, stream and token back, so that state stays small but not always empty. */
void ts_fixture_next_input(ts_fixture *fx);

/* Seeds name the service and the stream "fz" by placeholders of the same length, since
 * their SIDs are only known at run time: every "IS" or "TO" followed by 32 "0" in data is
 * replaced by the real SID. */
void ts_fixture_expand(const ts_fixture *fx, uint8_t *data, size_t len);

/* A Twilsock `init` frame carrying the good token (malloc'd, *len bytes). */
uint8_t *ts_fixture_init_frame(const ts_fixture *fx, size_t *len);

/* Aborts unless data is one well-formed Twilsock frame of a method the server sends. */
void ts_fixture_check_server_frame(const uint8_t *data, size_t len);

#endif
