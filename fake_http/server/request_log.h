/* SPDX-License-Identifier: MIT */
/* request_log.h: syncfake-server's request log (--log-requests[=FILE], and the control API's
 * POST /_syncfake/request-log): one line per answered request,
 *
 *   METHOD PATH STATUS CODE MICROSECONDSus[ warning: TEXT]
 *
 * e.g. "POST /v1/Services 201 - 412us". PATH is the path as sent, without the query (which
 * may carry credentials-like values); CODE is the Twilio code of an error body ("-" when the
 * answer has none); the time runs from the request's head being read to its answer being
 * queued (a monotonic clock that never reaches the fake); TEXT is the answer's Syncfake-Warning
 * header, when it has one. Off unless asked for. Lines are written whole (one lock) and
 * flushed, so concurrent requests never interleave within a line. */
#ifndef SF_REQUEST_LOG_H
#define SF_REQUEST_LOG_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SF_REQUEST_LOG_PATH_MAX 512    /* characters of a path written; longer ones end "..." */
#define SF_REQUEST_LOG_WARNING_MAX 512 /* characters of a warning written */

typedef struct sf_request_log {
    FILE *out;     /* stderr, or the file of --log-requests=FILE */
    bool owns_out; /* out is that file: closed by sf_request_log_close */
    atomic_bool on;
    pthread_mutex_t lock; /* one line at a time */
} sf_request_log;

/* Writes to `path` (appended to; NULL: stderr), on or off to start with. false (message on
 * stderr) when the file cannot be opened. */
bool sf_request_log_open(sf_request_log *log, const char *path, bool on);
void sf_request_log_close(sf_request_log *log);
void sf_request_log_set(sf_request_log *log, bool on);
bool sf_request_log_is_on(sf_request_log *log);

/* What one answer said, noted when it is queued. */
typedef struct sf_request_note {
    bool queued;
    unsigned status;
    int code;                                     /* 0: none */
    char warning[SF_REQUEST_LOG_WARNING_MAX + 1]; /* "" : none */
} sf_request_note;

/* Notes the status and the Syncfake-Warning header of a response about to be queued. */
void sf_request_note_response(sf_request_note *note, unsigned status, struct MHD_Response *resp);
/* Notes the Twilio code of a JSON error body ({"code": N, ...}); nothing for other bodies. */
void sf_request_note_body(sf_request_note *note, const char *body, size_t len);

/* Writes one line (when the log is on). */
void sf_request_log_line(sf_request_log *log, const char *method, const char *path,
                         const sf_request_note *note, uint64_t micros);

/* Microseconds of a monotonic clock, for the line's time. */
uint64_t sf_request_log_now_us(void);

#endif
