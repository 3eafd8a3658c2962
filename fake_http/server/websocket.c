/* websocket.c: see websocket.h and websocket_server.h.
 *
 * One thread per connection runs a poll() loop over the socket and an eventfd. wslay does the
 * framing: it reassembles fragments, answers pings, answers a peer's close and enforces the
 * 1 MiB message limit (close 1009). Other threads never touch wslay: sf_ws_send copies the
 * message into the connection's outbox (under the connection's mutex) and signals the eventfd;
 * the connection's thread moves the outbox into wslay.
 *
 * Ending a connection: the close handshake (ours or the peer's) is followed by shutdown(WR)
 * and a short drain until the peer's EOF, so the peer reads our close frame rather than a
 * reset; every wait after a close is bounded (2 s, 250 ms while the server stops). Then, on
 * the connection's thread and in this order: sends start failing, handler->closed(session),
 * MHD_upgrade_action(CLOSE), the hub forgets the connection, the connection is freed.
 *
 * Locks: hub->lock may be taken before conn->lock, never after. No lock is held while a
 * handler callback runs. */
#include "websocket_server.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#define CLOSE_WAIT_MS 2000    /* after a close is requested/sent: until the socket goes */
#define STOP_WAIT_MS 250      /* the same while the server stops */
#define GOING_AWAY 1001

typedef struct out_msg {
    struct out_msg *next;
    size_t len;
    uint8_t data[];
} out_msg;

/* A finished connection thread, waiting to be joined. */
typedef struct reap_node {
    struct reap_node *next;
    pthread_t thread;
} reap_node;

struct sf_ws_conn {
    sf_ws_hub *hub;
    struct MHD_UpgradeResponseHandle *urh;
    int fd;
    int wake_fd;                 /* eventfd: the outbox or a close request changed */
    reap_node *reap;             /* given to the hub when the thread ends */
    struct sf_ws_conn *prev, *next; /* hub->conns, under hub->lock */

    pthread_mutex_t lock;        /* guards the fields below */
    out_msg *head, *tail;
    bool close_requested;        /* sf_ws_close or server stop: no more sends */
    uint16_t close_code;
    bool stopping;               /* the server stops: shorter waits */
    bool ended;                  /* the loop is over: sends fail */

    /* the connection's thread only */
    wslay_event_context_ptr ws;
    void *session;
    uint8_t *extra;              /* bytes libmicrohttpd read past the request */
    size_t extra_len, extra_off;
    bool close_queued;           /* our close frame is in wslay */
};

struct sf_ws_hub {
    const sf_ws_handler *handler;
    pthread_mutex_t lock;
    pthread_cond_t idle;
    sf_ws_conn *conns;
    size_t live;                 /* connections whose thread has not finished */
    reap_node *finished;
    bool stopping;
};

/* ---- time ---- */

/* Socket deadlines only (how long to wait for a peer's close): transport time, never the
 * fake's time, which comes from its clock alone. */
static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- handshake ---- */

bool sf_ws_accept_key(const char *key, char accept[SF_WS_ACCEPT_LEN + 1])
{
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    size_t key_len = key ? strlen(key) : 0;
    if (key_len != 24)
        return false;
    struct base64_decode_ctx b64;
    uint8_t raw[BASE64_DECODE_LENGTH(24)];
    size_t raw_len = sizeof raw;
    base64_decode_init(&b64);
    if (!base64_decode_update(&b64, &raw_len, raw, key_len, key) ||
        !base64_decode_final(&b64) || raw_len != 16)
        return false;
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&sha);
    sha1_update(&sha, key_len, (const uint8_t *)key);
    sha1_update(&sha, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&sha, sizeof digest, digest);
    base64_encode_raw(accept, sizeof digest, digest);
    accept[SF_WS_ACCEPT_LEN] = '\0';
    return true;
}

/* ---- sending from any thread ---- */

/* Caller holds c->lock. */
static void wake_locked(sf_ws_conn *c)
{
    uint64_t one = 1;
    ssize_t n = write(c->wake_fd, &one, sizeof one);
    (void)n; /* EAGAIN only when the counter is huge: the thread is awake anyway */
}

bool sf_ws_send(sf_ws_conn *conn, const uint8_t *data, size_t len)
{
    if (!conn || (!data && len))
        return false;
    out_msg *m = malloc(sizeof *m + len);
    if (!m)
        return false;
    m->next = NULL;
    m->len = len;
    if (len)
        memcpy(m->data, data, len);
    pthread_mutex_lock(&conn->lock);
    if (conn->close_requested || conn->ended) {
        pthread_mutex_unlock(&conn->lock);
        free(m);
        return false;
    }
    if (conn->tail)
        conn->tail->next = m;
    else
        conn->head = m;
    conn->tail = m;
    wake_locked(conn);
    pthread_mutex_unlock(&conn->lock);
    return true;
}

void sf_ws_close(sf_ws_conn *conn, uint16_t code)
{
    if (!conn)
        return;
    pthread_mutex_lock(&conn->lock);
    if (!conn->close_requested && !conn->ended) {
        conn->close_requested = true;
        conn->close_code = code;
        wake_locked(conn);
    }
    pthread_mutex_unlock(&conn->lock);
}

/* ---- wslay callbacks (the connection's thread) ---- */

static ssize_t on_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
                       void *user)
{
    (void)flags;
    sf_ws_conn *c = user;
    if (c->extra_off < c->extra_len) {
        size_t n = c->extra_len - c->extra_off;
        if (n > len)
            n = len;
        memcpy(buf, c->extra + c->extra_off, n);
        c->extra_off += n;
        return (ssize_t)n;
    }
    ssize_t n;
    do
        n = recv(c->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE); /* EOF or error */
    return -1;
}

static ssize_t on_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *user)
{
    (void)flags;
    sf_ws_conn *c = user;
    ssize_t n;
    do
        n = send(c->fd, data, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    else
        wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
}

static void on_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *user)
{
    (void)ctx;
    sf_ws_conn *c = user;
    if (arg->opcode == WSLAY_BINARY_FRAME || arg->opcode == WSLAY_TEXT_FRAME)
        c->hub->handler->message(c->session, arg->msg, arg->msg_length);
}

/* ---- the connection's thread ---- */

/* Moves the outbox into wslay; queues our close frame once wslay has sent everything before
 * it (wslay sends control frames ahead of queued data). Returns whether a close was asked. */
static bool pump(sf_ws_conn *c, bool *stopping)
{
    pthread_mutex_lock(&c->lock);
    out_msg *m = c->head;
    c->head = c->tail = NULL;
    bool close_requested = c->close_requested;
    uint16_t code = c->close_code;
    *stopping = c->stopping;
    pthread_mutex_unlock(&c->lock);
    while (m) {
        out_msg *next = m->next;
        struct wslay_event_msg msg = {WSLAY_BINARY_FRAME, m->data, m->len};
        (void)wslay_event_queue_msg(c->ws, &msg); /* fails only once a close is queued */
        free(m);
        m = next;
    }
    if (close_requested && !c->close_queued && wslay_event_get_queued_msg_count(c->ws) == 0) {
        (void)wslay_event_queue_close(c->ws, code, NULL, 0);
        c->close_queued = true;
    }
    return close_requested;
}

static void drain_wake(sf_ws_conn *c)
{
    uint64_t v;
    ssize_t n = read(c->wake_fd, &v, sizeof v);
    (void)n;
}

/* After the close handshake: half-close and read until the peer's EOF or the deadline. */
static void linger(sf_ws_conn *c, int64_t deadline)
{
    shutdown(c->fd, SHUT_WR);
    uint8_t buf[16384];
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return;
        struct pollfd p = {c->fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return;
    }
}

static void run(sf_ws_conn *c)
{
    int64_t deadline = -1; /* set once the connection is closing */
    for (;;) {
        bool stopping;
        bool asked = pump(c, &stopping);
        bool closing = asked || !wslay_event_want_read(c->ws) ||
                       wslay_event_get_close_sent(c->ws) ||
                       wslay_event_get_close_received(c->ws);
        if (closing) {
            int64_t limit = now_ms() + (stopping ? STOP_WAIT_MS : CLOSE_WAIT_MS);
            if (deadline < 0 || limit < deadline)
                deadline = limit;
        }
        bool want_read = wslay_event_want_read(c->ws);
        bool want_write = wslay_event_want_write(c->ws);
        if (!want_read && !want_write) {
            if (wslay_event_get_close_sent(c->ws))
                linger(c, deadline);
            return;
        }
        if (want_read && c->extra_off < c->extra_len) { /* bytes read before the upgrade */
            if (wslay_event_recv(c->ws) != 0)
                return;
            continue;
        }
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - now_ms();
            if (left <= 0)
                return; /* the peer did not finish the close in time */
            timeout = (int)left;
        }
        struct pollfd p[2] = {
            {c->fd, (short)((want_read ? POLLIN : 0) | (want_write ? POLLOUT : 0)), 0},
            {c->wake_fd, POLLIN, 0},
        };
        int r = poll(p, 2, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (p[1].revents & POLLIN)
            drain_wake(c);
        if (p[0].revents & (POLLERR | POLLNVAL))
            return;
        if (want_read && (p[0].revents & (POLLIN | POLLHUP))) {
            if (wslay_event_recv(c->ws) != 0)
                return; /* EOF or error */
        } else if (!want_read && (p[0].revents & POLLHUP)) {
            return;
        }
        if (wslay_event_want_write(c->ws) && wslay_event_send(c->ws) != 0)
            return;
    }
}

static void conn_free(sf_ws_conn *c)
{
    while (c->head) {
        out_msg *m = c->head;
        c->head = m->next;
        free(m);
    }
    if (c->ws)
        wslay_event_context_free(c->ws);
    if (c->wake_fd >= 0)
        close(c->wake_fd);
    free(c->extra);
    free(c->reap);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Caller holds hub->lock. */
static void hub_unlink(sf_ws_hub *hub, sf_ws_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
}

static void *conn_main(void *arg)
{
    sf_ws_conn *c = arg;
    sf_ws_hub *hub = c->hub;
    const sf_ws_handler *h = hub->handler;

    pthread_mutex_lock(&c->lock);
    bool stop_first = c->stopping;
    pthread_mutex_unlock(&c->lock);
    c->session = stop_first ? NULL : h->open(h->ctx, c);
    if (c->session)
        run(c);

    pthread_mutex_lock(&c->lock);
    c->ended = true; /* from now on sf_ws_send fails; conn stays valid until closed() returns */
    pthread_mutex_unlock(&c->lock);
    if (c->session)
        h->closed(c->session);
    MHD_upgrade_action(c->urh, MHD_UPGRADE_ACTION_CLOSE);

    pthread_mutex_lock(&hub->lock);
    hub_unlink(hub, c);
    reap_node *r = c->reap;
    c->reap = NULL;
    r->next = hub->finished;
    hub->finished = r;
    hub->live--;
    pthread_cond_broadcast(&hub->idle);
    pthread_mutex_unlock(&hub->lock);
    conn_free(c);
    return NULL;
}

/* Joins finished threads. Caller does not hold hub->lock. */
static void reap(sf_ws_hub *hub)
{
    pthread_mutex_lock(&hub->lock);
    reap_node *r = hub->finished;
    hub->finished = NULL;
    pthread_mutex_unlock(&hub->lock);
    while (r) {
        reap_node *next = r->next;
        pthread_join(r->thread, NULL);
        free(r);
        r = next;
    }
}

/* ---- the hub ---- */

sf_ws_hub *sf_ws_hub_new(const sf_ws_handler *handler)
{
    sf_ws_hub *hub = calloc(1, sizeof *hub);
    if (!hub)
        return NULL;
    hub->handler = handler;
    pthread_mutex_init(&hub->lock, NULL);
    pthread_cond_init(&hub->idle, NULL);
    return hub;
}

void sf_ws_upgraded(void *cls, struct MHD_Connection *connection, void *con_cls,
                    const char *extra_in, size_t extra_in_size, MHD_socket sock,
                    struct MHD_UpgradeResponseHandle *urh)
{
    (void)connection;
    (void)con_cls;
    sf_ws_hub *hub = cls;
    reap(hub);

    sf_ws_conn *c = calloc(1, sizeof *c);
    if (!c) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        return;
    }
    pthread_mutex_init(&c->lock, NULL);
    c->hub = hub;
    c->urh = urh;
    c->fd = sock;
    c->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    c->reap = malloc(sizeof *c->reap);
    struct wslay_event_callbacks cb = {on_recv, on_send, NULL, NULL, NULL, NULL, on_msg};
    bool ok = c->wake_fd >= 0 && c->reap && wslay_event_context_server_init(&c->ws, &cb, c) == 0;
    if (ok) {
        wslay_event_config_set_max_recv_msg_length(c->ws, SF_WS_MAX_MESSAGE);
        int fl = fcntl(sock, F_GETFL);
        ok = fl >= 0 && fcntl(sock, F_SETFL, fl | O_NONBLOCK) == 0;
    }
    if (ok && extra_in_size) {
        c->extra = malloc(extra_in_size);
        ok = c->extra != NULL;
        if (ok) {
            memcpy(c->extra, extra_in, extra_in_size);
            c->extra_len = extra_in_size;
        }
    }
    if (ok) {
        pthread_mutex_lock(&hub->lock);
        ok = !hub->stopping;
        if (ok) {
            c->next = hub->conns;
            if (hub->conns)
                hub->conns->prev = c;
            hub->conns = c;
            hub->live++;
            /* under hub->lock: the thread's last step takes it, so c->reap->thread is set */
            if (pthread_create(&c->reap->thread, NULL, conn_main, c) != 0) {
                hub_unlink(hub, c);
                hub->live--;
                ok = false;
            }
        }
        pthread_mutex_unlock(&hub->lock);
    }
    if (!ok) {
        MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
        conn_free(c);
    }
}

void sf_ws_hub_stop(sf_ws_hub *hub)
{
    if (!hub)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->stopping = true;
    for (sf_ws_conn *c = hub->conns; c; c = c->next) {
        pthread_mutex_lock(&c->lock);
        if (!c->close_requested && !c->ended) {
            c->close_requested = true;
            c->close_code = GOING_AWAY;
        }
        c->stopping = true;
        wake_locked(c);
        pthread_mutex_unlock(&c->lock);
    }
    while (hub->live)
        pthread_cond_wait(&hub->idle, &hub->lock);
    pthread_mutex_unlock(&hub->lock);
    reap(hub);
}

void sf_ws_hub_free(sf_ws_hub *hub)
{
    if (!hub)
        return;
    sf_ws_hub_stop(hub); /* no-op when already stopped */
    pthread_cond_destroy(&hub->idle);
    pthread_mutex_destroy(&hub->lock);
    free(hub);
}
