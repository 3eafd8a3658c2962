/* SPDX-License-Identifier: MIT */
/* sse.c: see sse.h. */
#include "sse.h"
#include "buf.h"
#include "cors.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define QUEUE_KEEP (64u * 1024) /* an emptied queue larger than this is given back */

struct sf_sse_stream {
    sf_sse_list *list;
    pthread_mutex_t lock; /* the fields below; taken inside list->lock, never around it */
    struct MHD_Connection *conn;
    int fd;            /* the connection's socket, to cut a client that stopped reading */
    bool suspended;    /* waiting for an event: resume it to send */
    sf_http_buf queue; /* event text not yet handed to libmicrohttpd, capped at queue_max */
    bool finished;     /* a `removed` event was queued: end after it */
    bool closed;       /* server stopping or fake reset: end now */
    bool overflowed;   /* the queue passed list->queue_max: abort the connection */
    sf_subscriber_id subscriber;
    uint64_t generation;        /* the list's generation it subscribed in */
    sf_sse_stream *prev, *next; /* list->head; guarded by list->lock */
};

/* Lets a suspended stream run again. Caller holds s->lock. */
static void wake(sf_sse_stream *s)
{
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
    }
}

/* The client stopped reading and its queue passed the cap: drop what waits, abort the
 * connection (shutdown wakes libmicrohttpd even when it is blocked sending to this client),
 * and detach the subscriber with the reason the journal shows. Caller holds list->lock and
 * s->lock. */
static void overflow(sf_sse_stream *s)
{
    sf_http_buf_clear(&s->queue, 0);
    s->overflowed = true;
    if (s->fd >= 0)
        shutdown(s->fd, SHUT_RDWR);
    wake(s);
    if (s->generation == s->list->generation)
        sf_unsubscribe_because(s->list->fake, s->subscriber, SF_UNSUBSCRIBE_QUEUE_FULL, NULL);
}

/* Caller holds list->lock (every event and keepalive is made under it). */
static void push(sf_sse_stream *s, const char *text, size_t len, bool last)
{
    pthread_mutex_lock(&s->lock);
    if (s->overflowed) {
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (!sf_http_buf_fits(&s->queue, len)) {
        overflow(s);
        pthread_mutex_unlock(&s->lock);
        return;
    }
    if (sf_http_buf_reserve(&s->queue, len)) { /* out of memory: this event is lost */
        sf_http_buf_put(&s->queue, text, len);
        if (last)
            s->finished = true;
        wake(s);
    }
    pthread_mutex_unlock(&s->lock);
}

/* Called by the fake (under the server lock) for this connection's subscriber. */
static void on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    size_t len;
    char *text = sf_http_sse_format(ev, &len);
    if (!text)
        return;
    push(user, text, len, ev->kind == SF_EVENT_REMOVED);
    free(text);
}

/* Moves queued text into libmicrohttpd's buffer. Caller holds s->lock. */
static size_t drain(sf_sse_stream *s, char *buf, size_t max)
{
    size_t n = sf_http_buf_pending(&s->queue);
    if (n > max)
        n = max;
    if (n)
        memcpy(buf, s->queue.data + s->queue.off, n);
    sf_http_buf_consume(&s->queue, n);
    if (sf_http_buf_pending(&s->queue) == 0)
        sf_http_buf_clear(&s->queue, QUEUE_KEEP); /* a burst is over: give the memory back */
    return n;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sf_sse_stream *s = cls;
    pthread_mutex_lock(&s->lock);
    ssize_t ret;
    if (s->overflowed) {
        ret = MHD_CONTENT_READER_END_WITH_ERROR;
    } else {
        ret = (ssize_t)drain(s, buf, max);
        if (ret == 0 && (s->closed || s->finished)) {
            ret = MHD_CONTENT_READER_END_OF_STREAM;
        } else if (ret == 0) { /* nothing to send: park the connection until push wakes it */
            s->suspended = true;
            MHD_suspend_connection(s->conn);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return ret;
}

static void unlink_stream(sf_sse_stream *s)
{
    sf_sse_list *list = s->list;
    if (s->prev)
        s->prev->next = s->next;
    else
        list->head = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

static void free_stream(void *cls)
{
    sf_sse_stream *s = cls;
    sf_sse_list *list = s->list;
    pthread_mutex_lock(list->lock);
    if (s->generation == list->generation)
        sf_unsubscribe(list->fake, s->subscriber, NULL); /* no-op after an overflow */
    unlink_stream(s);
    pthread_mutex_unlock(list->lock);
    sf_http_buf_free(&s->queue);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

sf_sse_stream *sf_sse_new(sf_sse_list *list)
{
    sf_sse_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->list = list;
    s->fd = -1;
    sf_http_buf_init_max(&s->queue, list->queue_max);
    pthread_mutex_init(&s->lock, NULL);
    return s;
}

sf_http_events_hook sf_sse_hook(sf_sse_stream *s) { return (sf_http_events_hook){on_event, s}; }

void sf_sse_discard(sf_sse_stream *s)
{
    if (!s)
        return;
    sf_http_buf_free(&s->queue);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void sf_sse_attach(sf_sse_stream *s, struct MHD_Connection *conn, sf_subscriber_id subscriber,
                   const char *first, size_t first_len)
{
    sf_sse_list *list = s->list;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->conn = conn;
    s->fd = info ? info->connect_fd : -1;
    s->subscriber = subscriber;
    s->generation = list->generation;
    s->next = list->head;
    if (list->head)
        list->head->prev = s;
    list->head = s;
    /* the first event ("subscribed") goes out before anything the fake sends later */
    push(s, first, first_len, false);
}

enum MHD_Result sf_sse_respond(sf_sse_stream *s, struct MHD_Connection *conn, const char *date,
                               const char *cors_origin)
{
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, read_events, s, free_stream);
    if (!resp) {
        free_stream(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "Date", date);
    sf_cors_headers(resp, cors_origin, false);
    enum MHD_Result ret = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    return ret;
}

void sf_sse_close_all(sf_sse_list *list)
{
    for (sf_sse_stream *s = list->head; s; s = s->next) {
        pthread_mutex_lock(&s->lock);
        s->closed = true;
        wake(s);
        pthread_mutex_unlock(&s->lock);
    }
}

void sf_sse_keepalive_all(sf_sse_list *list)
{
    for (sf_sse_stream *s = list->head; s; s = s->next)
        push(s, ": keepalive\n\n", 13, false);
}
