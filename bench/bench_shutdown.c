/* SPDX-License-Identifier: MIT */
/*
 * bench_shutdown.c: how long build/syncfake-server takes from SIGTERM to its exit while 100
 * clients hold connections open (50 event streams, half of whose clients already left without
 * a word, and 50 WebSockets). Target: at most 200 ms in every one of RUNS runs.
 *
 * The unit tests (test_server_shutdown*.c) check that the stop is clean, quiet and bounded;
 * the 200 ms figure is a speed promise, so it is measured here, on a plain build, where a
 * sanitizer's exit-time leak scan does not add to it.
 *
 *   bench_shutdown [SERVER]      SERVER defaults to $SYNCFAKE_SERVER, then build/syncfake-server
 */
#include "loopback.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNS 10
#define STREAM_CLIENTS 50
#define WS_CLIENTS 50
#define BUDGET_MS 200

/* Sends `request` on a fresh connection and reads the answer's head; the socket. */
static int open_client(const char *request, const char *expect)
{
    int fd = lb_tcp_socket(false);
    if (!lb_tcp_connect(fd))
        lb_die("connect failed");
    lb_send_all(fd, request, strlen(request), "a request");
    char head[4096];
    ssize_t n = recv(fd, head, sizeof head - 1, 0);
    if (n <= 0)
        lb_die("no answer to a %s request", expect);
    head[n] = '\0';
    if (!strstr(head, expect))
        lb_die("unexpected answer: %.80s", head);
    return fd;
}

/* One server, 100 clients, SIGTERM: milliseconds from the signal to the exit. */
static double one_stop(const char *server)
{
    lb_start_server(NULL, server, NULL);
    char *body = NULL, service[64], stream[64], path[160], request[1024];
    if (lb_rest("POST", "/v1/Services", "FriendlyName=shutdown", &body) != 201 ||
        !lb_json_str(body, "sid", service, sizeof service))
        lb_die("cannot create a service");
    free(body);
    snprintf(path, sizeof path, "/v1/Services/%s/Streams", service);
    if (lb_rest("POST", path, "UniqueName=s", &body) != 201 ||
        !lb_json_str(body, "sid", stream, sizeof stream))
        lb_die("cannot create a stream");
    free(body);
    int fds[STREAM_CLIENTS + WS_CLIENTS];
    snprintf(request, sizeof request,
             "GET /_syncfake/Services/%s/Streams/%s/Events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
             "Authorization: %s\r\n\r\n",
             service, stream, lb_srv.basic);
    for (int i = 0; i < STREAM_CLIENTS; i++)
        fds[i] = open_client(request, "200 OK");
    for (int i = 0; i < WS_CLIENTS; i++) {
        char key[25], accept[29];
        lb_ws_key(key, accept);
        lb_ws_upgrade_request("/v3/wsconnect", key, request, sizeof request);
        fds[STREAM_CLIENTS + i] = open_client(request, " 101 ");
    }
    for (int i = 0; i < STREAM_CLIENTS / 2; i++) /* these leave without a word */
        close(fds[i]);
    struct timespec settle = {0, 50 * 1000000L};
    nanosleep(&settle, NULL);

    int64_t t0 = lb_now_ns();
    kill(lb_srv.pid, SIGTERM);
    int status = 0;
    while (waitpid(lb_srv.pid, &status, WNOHANG) != lb_srv.pid) {
        lb_check_deadline("waiting for the server to stop");
        struct timespec tick = {0, 200 * 1000L};
        nanosleep(&tick, NULL);
    }
    double ms = (double)(lb_now_ns() - t0) / 1e6;
    lb_srv.pid = -1;
    for (int i = STREAM_CLIENTS / 2; i < STREAM_CLIENTS + WS_CLIENTS; i++)
        close(fds[i]);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        lb_die("the server did not exit 0 (status 0x%x)", (unsigned)status);
    return ms;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    lb_init("bench_shutdown", 120);
    const char *server = argc > 1 ? argv[1] : getenv("SYNCFAKE_SERVER");
    if (!server)
        server = "build/syncfake-server";
    double max = 0, sum = 0;
    for (int run = 0; run < RUNS; run++) {
        double ms = one_stop(server);
        sum += ms;
        if (ms > max)
            max = ms;
    }
    printf("shutdown (SIGTERM with %d event streams and %d WebSockets open, %d runs)\n",
           STREAM_CLIENTS, WS_CLIENTS, RUNS);
    printf("  %-28s %10.1f ms\n", "stop_mean_ms", sum / RUNS);
    printf("  %-28s %10.1f ms   target <= %d   %s\n", "stop_max_ms", max, BUDGET_MS,
           max <= BUDGET_MS ? "PASS" : "MISS");
    return 0;
}
