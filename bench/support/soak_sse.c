/* SPDX-License-Identifier: MIT */
/* soak_sse.c: the soak's server-sent-event subscribers (soak_sse.h). */
#define _GNU_SOURCE
#include "soak_sse.h"

#include "loopback.h"
#include "soak_conn.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int soak_sse_open(const char *stream)
{
    int fd = soak_connect();
    char req[1024];
    int n = snprintf(req, sizeof req,
                     "GET /_syncfake/Services/%s/Streams/%s/Events HTTP/1.1\r\n"
                     "Host: 127.0.0.1:%u\r\nAuthorization: %s\r\nAccept: text/event-stream\r\n\r\n",
                     soak_service_sid, stream, (unsigned)lb_srv.port, lb_srv.basic);
    lb_send_all(fd, req, (size_t)n, "event stream");
    char in[8192];
    size_t len = 0;
    while (!memmem(in, len, "event: subscribed", 17) || !memmem(in, len, "}\n\n", 3)) {
        if (len == sizeof in)
            lb_die("event stream: oversized start");
        size_t r = soak_recv_wait(fd, in + len, sizeof in - len, "event stream");
        if (r == 0)
            lb_die("event stream: closed before `subscribed`: %.*s", (int)len, in);
        len += r;
    }
    if (strncmp(in, "HTTP/1.1 200", 12) != 0)
        lb_die("event stream refused: %.*s", (int)len, in);
    soak_count.sse_opened++;
    return fd;
}

void soak_sse_expect_event(int fd)
{
    char in[8192];
    size_t len = 0;
    while (!memmem(in, len, "event: message_published", 24) || !memmem(in, len, "}\n\n", 3)) {
        if (len == sizeof in)
            len = 0; /* chunked framing and other events: keep looking */
        size_t r = soak_recv_wait(fd, in + len, sizeof in - len, "event stream");
        if (r == 0)
            lb_die("event stream: closed before the event");
        len += r;
    }
    soak_count.events++;
}

bool soak_drain(int fd)
{
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0)
            continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
    }
}
