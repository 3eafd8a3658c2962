/* SPDX-License-Identifier: MIT */
/* server.c: see server.h. One mutex guards the fake: every dispatch, every event callback
 * (which runs inside a dispatch or a background tick) and every unsubscribe happens under it.
 * libmicrohttpd runs an epoll loop on a small thread pool, fed by the front door's thread
 * (front_door.h), which accepts and relays. This file: the server's life (listen, start, the
 * background tick, stop); requests are in server_request.c, the answers
 * the server queues in server_answer.c, event-stream connections in sse.c. */
#include "server_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Sleeps 20 ms, or less when the server stops (a stop waits for this thread). */
static void pause_tick(sf_server *srv)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_nsec += 20 * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping &&
           pthread_cond_timedwait(&srv->tick_wake, &srv->lock, &until) != ETIMEDOUT) {
    }
    pthread_mutex_unlock(&srv->lock);
}

/* Keeps time moving in the background: with the wall clock, TTLs expire and delayed
 * deliveries arrive without a request; and every few seconds each event stream gets a comment
 * line, so a client that went away is noticed (a suspended connection sees no disconnect). */
static void *tick(void *arg)
{
    sf_server *srv = arg;
    for (unsigned n = 1;; n++) {
        pthread_mutex_lock(&srv->lock);
        bool stop = srv->stopping;
        if (!stop && srv->wall_clock)
            sf_run_due(srv->fake);
        if (!stop && n % 500 == 0) /* every 10 s */
            sf_sse_keepalive_all(&srv->streams);
        pthread_mutex_unlock(&srv->lock);
        if (stop)
            return NULL;
        sf_conn_reap(srv->conns, sf_conn_now_ms()); /* requests past their deadline */
        pause_tick(srv);
    }
}

/* libmicrohttpd's own messages (such as "Failed to send the footers" when an event-stream
 * client leaves) say nothing about the fake: written only when asked for (config->mhd_log). */
static void mhd_message(void *cls, const char *format, va_list args)
{
    const sf_server *srv = cls;
    if (!srv->mhd_log)
        return;
    fputs("syncfake-server: libmicrohttpd: ", stderr);
    vfprintf(stderr, format, args);
}

/* libmicrohttpd's own limits sit above ours (front_limit: room for the connections admitted
 * past the cap, which get a 503, and those cut but not yet closed). It listens on nothing: the
 * front door (front_door.h) accepts and hands each connection over (MHD_USE_ITC: an added
 * connection is served at once). */
/* Connections the front door hands over and keeps open at once. */
static unsigned front_limit(const sf_server *srv)
{
    unsigned max = sf_conn_table_max(srv->conns);
    return max + max / 4 + 16;
}

/* libmicrohttpd splits its limit between its two threads and closes, unannounced, a
 * connection handed to a thread that is full (and 0.9.75 then deadlocks in MHD_stop_daemon:
 * seen with this limit equal to the front door's, a 4,500-connection flood and SIGTERM):
 * twice the front door's, so that never happens. */
static unsigned mhd_connection_limit(const sf_server *srv) { return 2 * front_limit(srv) + 16; }

static struct MHD_Daemon *start_daemon(sf_server *srv)
{
    return MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE |
            MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC,
        0, NULL, NULL, sf_server_handle, srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_message,
        srv, /* first */
        MHD_OPTION_THREAD_POOL_SIZE, 2u, MHD_OPTION_UNESCAPE_CALLBACK, sf_server_keep_escaped, NULL,
        MHD_OPTION_NOTIFY_COMPLETED, sf_server_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
        sf_conn_notify, srv->conns, MHD_OPTION_CONNECTION_LIMIT, mhd_connection_limit(srv),
        MHD_OPTION_CONNECTION_TIMEOUT, SF_SERVER_IDLE_TIMEOUT_S, MHD_OPTION_END);
}

int sf_server_listen(const char *host, uint16_t port, uint16_t *bound_port)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (!host || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "syncfake-server: --host must be an IPv4 address: %s\n",
                host ? host : "(none)");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0); /* 2 threads accept */
    if (fd >= 0 && fd <= 2) { /* 0 means "none" in sf_server_config: keep clear of stdio */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        close(fd);
        fd = high;
    }
    int on = 1;
    socklen_t len = sizeof addr;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, SOMAXCONN) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        fprintf(stderr, "syncfake-server: cannot listen on %s:%u: %s\n", host, (unsigned)port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound_port = ntohs(addr.sin_port);
    return fd;
}

/* The listening socket: the config's, or one opened on host:port. *port: the port it has. */
static int listen_socket(const sf_server_config *config, uint16_t *port)
{
    *port = config->port;
    if (config->listen_fd <= 0)
        return sf_server_listen(config->host, config->port, port);
    int flags = fcntl(config->listen_fd, F_GETFL); /* the front door's accept must not block */
    if (flags >= 0)
        fcntl(config->listen_fd, F_SETFL, flags | O_NONBLOCK);
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    if (getsockname(config->listen_fd, (struct sockaddr *)&addr, &len) == 0)
        *port = ntohs(addr.sin_port);
    return config->listen_fd;
}

static bool take_client(void *front, int sock, int *client_fd, char **rest, size_t *rest_len)
{
    return sf_front_take_client(front, sock, client_fd, rest, rest_len);
}

/* A server with the config's settings, its WebSocket hub, lock and event streams; not yet
 * serving. NULL: out of memory. */
static sf_server *server_new(const sf_server_config *config)
{
    sf_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return NULL;
    srv->fake = config->fake;
    srv->wall_clock = config->wall_clock;
    srv->on_reset = config->on_reset;
    srv->on_reset_ctx = config->on_reset_ctx;
    srv->admin_sid = config->admin_sid;
    srv->admin_token = config->admin_token;
    srv->instance_id = config->instance_id;
    srv->cors = config->cors;
    srv->request_log = config->request_log;
    srv->mhd_log = config->mhd_log;
    if (config->ws) {
        srv->ws = sf_ws_hub_new(config->ws, config->ws_io_threads);
        srv->ws_path = strdup(config->ws_path ? config->ws_path : "/v3/wsconnect");
        if (!srv->ws || !srv->ws_path) {
            sf_ws_hub_free(srv->ws);
            free(srv->ws_path);
            free(srv);
            return NULL;
        }
    }
    pthread_mutex_init(&srv->lock, NULL);
    pthread_condattr_t monotonic;
    pthread_condattr_init(&monotonic);
    pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->tick_wake, &monotonic);
    pthread_condattr_destroy(&monotonic);
    srv->streams = (sf_sse_list){.lock = &srv->lock,
                                 .fake = config->fake,
                                 .queue_max = config->sse_queue_max ? config->sse_queue_max
                                                                    : SF_SSE_QUEUE_MAX_DEFAULT};
    return srv;
}

/* Everything server_new made and the connection table; the daemon is not running. */
static void server_free(sf_server *srv)
{
    sf_conn_table_free(srv->conns);
    sf_ws_hub_free(srv->ws);
    free(srv->ws_path);
    pthread_cond_destroy(&srv->tick_wake);
    pthread_mutex_destroy(&srv->lock);
    free(srv);
}

sf_server *sf_server_start(const sf_server_config *config)
{
    uint16_t port;
    int listen_fd = listen_socket(config, &port);
    if (listen_fd < 0)
        return NULL;
    sf_server *srv = server_new(config);
    if (!srv) {
        close(listen_fd);
        return NULL;
    }
    srv->conns = sf_conn_table_new(config->max_connections, config->request_timeout_ms);
    srv->daemon = srv->conns ? start_daemon(srv) : NULL;
    /* the front door owns the listening socket from here on, also when it fails */
    srv->front = srv->daemon ? sf_front_start(listen_fd, srv->daemon, front_limit(srv),
                                              sf_server_front_answer, srv)
                             : NULL;
    if (!srv->front) {
        fprintf(stderr, "syncfake-server: cannot serve %s:%u\n", config->host, (unsigned)port);
        if (!srv->daemon)
            close(listen_fd);
        else
            MHD_stop_daemon(srv->daemon);
        server_free(srv);
        return NULL;
    }
    if (srv->ws) /* WebSocket bytes skip the relay once upgraded */
        sf_ws_hub_set_takeover(srv->ws, take_client, srv->front);
    srv->port = port;
    srv->ticker_started = pthread_create(&srv->ticker, NULL, tick, srv) == 0;
    return srv;
}

uint16_t sf_server_port(const sf_server *server) { return server->port; }

void sf_server_lock(sf_server *server) { pthread_mutex_lock(&server->lock); }

void sf_server_unlock(sf_server *server) { pthread_mutex_unlock(&server->lock); }

void sf_server_stop(sf_server *srv)
{
    if (!srv)
        return;
    sf_front_stop_accepting(srv->front); /* no new connection from here on */
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_signal(&srv->tick_wake);
    sf_sse_close_all(&srv->streams);
    pthread_mutex_unlock(&srv->lock);
    if (srv->ticker_started)
        pthread_join(srv->ticker, NULL);
    /* libmicrohttpd wants every upgraded socket given back before it stops */
    sf_ws_hub_stop(srv->ws);
    MHD_stop_daemon(srv->daemon);
    sf_front_free(srv->front); /* the relays, once libmicrohttpd has closed its ends */
    server_free(srv);
}
