/* SPDX-License-Identifier: MIT */
/* conn_limits.c: see conn_limits.h. Connections waiting for a request sit in one list in the
 * order they began waiting, so both the deadline check and the eviction look at its head
 * only. A connection is cut with shutdown(): libmicrohttpd then sees the end of the stream and
 * closes it in its own thread. The socket stays open until libmicrohttpd reports the
 * connection closed (it closes the socket after that report), and the record is dropped under
 * the same lock, so a cut never reaches a reused descriptor. */
#include "conn_limits.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

typedef struct sf_conn {
    struct sf_conn *prev, *next; /* the waiting list */
    int fd;
    int64_t waiting_since;
    bool waiting;  /* in the waiting list */
    bool over_cap; /* admitted past the cap: its request is answered 503 */
    bool cut;      /* shut down by us; no longer counted */
} sf_conn;

struct sf_conn_table {
    pthread_mutex_t lock;
    unsigned max, timeout_ms;
    unsigned active; /* connections open and not cut */
    sf_conn *head, *tail;
};

int64_t sf_conn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

sf_conn_table *sf_conn_table_new(unsigned max_connections, unsigned request_timeout_ms)
{
    sf_conn_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    t->max = max_connections ? max_connections : SF_CONN_MAX_DEFAULT;
    t->timeout_ms = request_timeout_ms ? request_timeout_ms : SF_CONN_REQUEST_TIMEOUT_MS_DEFAULT;
    return t;
}

void sf_conn_table_free(sf_conn_table *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

unsigned sf_conn_table_max(const sf_conn_table *t) { return t->max; }

/* Caller holds t->lock. */
static void unlink_waiting(sf_conn_table *t, sf_conn *c)
{
    if (!c->waiting)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        t->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        t->tail = c->prev;
    c->prev = c->next = NULL;
    c->waiting = false;
}

static void append_waiting(sf_conn_table *t, sf_conn *c, int64_t now)
{
    c->waiting_since = now;
    c->waiting = true;
    c->prev = t->tail;
    c->next = NULL;
    if (t->tail)
        t->tail->next = c;
    else
        t->head = c;
    t->tail = c;
}

static void cut(sf_conn_table *t, sf_conn *c)
{
    unlink_waiting(t, c);
    c->cut = true;
    t->active--;
    if (c->fd >= 0)
        shutdown(c->fd, SHUT_RDWR);
}

static void started(sf_conn_table *t, struct MHD_Connection *conn, void **socket_context)
{
    sf_conn *c = calloc(1, sizeof *c);
    *socket_context = c;
    if (!c)
        return; /* untracked: served without limits rather than refused */
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    c->fd = info ? info->connect_fd : -1;
    pthread_mutex_lock(&t->lock);
    if (t->active >= t->max) {
        if (t->head)
            cut(t, t->head); /* the longest wait for a request gives way */
        else
            c->over_cap = true;
    }
    t->active++;
    append_waiting(t, c, sf_conn_now_ms());
    pthread_mutex_unlock(&t->lock);
}

void sf_conn_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                    enum MHD_ConnectionNotificationCode code)
{
    sf_conn_table *t = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        started(t, conn, socket_context);
        return;
    }
    sf_conn *c = *socket_context;
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    unlink_waiting(t, c);
    if (!c->cut)
        t->active--;
    pthread_mutex_unlock(&t->lock);
    free(c);
    *socket_context = NULL;
}

static sf_conn *record(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

bool sf_conn_admitted(sf_conn_table *t, struct MHD_Connection *conn)
{
    sf_conn *c = record(conn);
    if (!c)
        return true;
    pthread_mutex_lock(&t->lock);
    bool ok = !c->over_cap;
    pthread_mutex_unlock(&t->lock);
    return ok;
}

void sf_conn_received(sf_conn_table *t, struct MHD_Connection *conn)
{
    sf_conn *c = record(conn);
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    unlink_waiting(t, c);
    pthread_mutex_unlock(&t->lock);
}

void sf_conn_answered(sf_conn_table *t, struct MHD_Connection *conn)
{
    sf_conn *c = record(conn);
    if (!c)
        return;
    pthread_mutex_lock(&t->lock);
    if (!c->cut && !c->waiting)
        append_waiting(t, c, sf_conn_now_ms());
    pthread_mutex_unlock(&t->lock);
}

void sf_conn_reap(sf_conn_table *t, int64_t now_ms)
{
    pthread_mutex_lock(&t->lock);
    while (t->head && now_ms - t->head->waiting_since >= (int64_t)t->timeout_ms)
        cut(t, t->head);
    pthread_mutex_unlock(&t->lock);
}
