/* SPDX-License-Identifier: MIT */
/* sse.h: the server-sent-event connections of syncfake-server. Each is a subscriber of the
 * fake with its own queue of event text, guarded by its own mutex; when the queue is empty the
 * connection is suspended (it costs no thread and no polling) and the next event resumes it.
 * A client that stops reading cannot grow its queue without bound: past `queue_max` bytes
 * waiting, the connection is cut and its subscriber detached with the reason "queue_full",
 * which the journal shows. */
#ifndef SF_SSE_H
#define SF_SSE_H

#include "syncfake_http.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>

/* Bytes of event text that may wait for one event-stream client before it is cut off. */
#define SF_SSE_QUEUE_MAX_DEFAULT (16u * 1024 * 1024)

typedef struct sf_sse_stream sf_sse_stream;

/* Every open event stream of a server. All fields and every sf_sse_* call marked "locked"
 * are guarded by *lock, the server's lock (which also guards the fake). */
typedef struct sf_sse_list {
    pthread_mutex_t *lock;
    sf_fake *fake;
    uint64_t generation; /* bumped by every reset: subscriber ids of older streams are void */
    size_t queue_max;    /* SF_SSE_QUEUE_MAX_DEFAULT unless set */
    sf_sse_stream *head;
} sf_sse_list;

/* A stream not yet attached (NULL when out of memory); its hook for sf_http_dispatch. */
sf_sse_stream *sf_sse_new(sf_sse_list *list);
sf_http_events_hook sf_sse_hook(sf_sse_stream *s);
/* Frees a stream that was never attached. */
void sf_sse_discard(sf_sse_stream *s);
/* Locked. Joins the list as the connection of `subscriber` and queues its first event. */
void sf_sse_attach(sf_sse_stream *s, struct MHD_Connection *conn, sf_subscriber_id subscriber,
                   const char *first, size_t first_len);
/* Not locked. Queues the 200 answer that streams the events, with CORS headers for
 * cors_origin (NULL: none); the response owns the stream (freed, and its subscriber
 * detached, when the connection ends). */
enum MHD_Result sf_sse_respond(sf_sse_stream *s, struct MHD_Connection *conn, const char *date,
                               const char *cors_origin);
/* Locked. Ends every stream (the server is stopping, or the fake was reset). */
void sf_sse_close_all(sf_sse_list *list);
/* Locked. A comment line on every stream, so a client that went away is noticed. */
void sf_sse_keepalive_all(sf_sse_list *list);

#endif
