/* SPDX-License-Identifier: MIT */
/* rest_pub.c: a stream publisher over one keep-alive REST connection (rest_pub.h). */
#define _GNU_SOURCE
#include "rest_pub.h"

#include "loopback.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

void rest_pub_init(rest_pub *p, const char *service_sid, const char *stream_sid, unsigned messages)
{
    memset(p, 0, sizeof *p);
    p->ep = -1;
    p->service_sid = service_sid;
    p->stream_sid = stream_sid;
    p->fd = -1;
    p->start = calloc(messages, sizeof *p->start);
    p->end = calloc(messages, sizeof *p->end);
    p->ms = calloc(messages, sizeof *p->ms);
    if (!p->start || !p->end || !p->ms)
        lb_die("out of memory");
}

/* (Re)connects and adds the connection to the epoll set. */
static void connect_to_server(rest_pub *p)
{
    if (p->fd >= 0) {
        epoll_ctl(p->ep, EPOLL_CTL_DEL, p->fd, NULL);
        close(p->fd);
    }
    p->fd = lb_tcp_socket(false);
    if (!lb_tcp_connect(p->fd))
        lb_die("publisher: connect: %s", strerror(errno));
    int fl = fcntl(p->fd, F_GETFL);
    fcntl(p->fd, F_SETFL, fl | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = REST_PUB_TAG};
    if (epoll_ctl(p->ep, EPOLL_CTL_ADD, p->fd, &ev) != 0)
        lb_die("epoll_ctl: %s", strerror(errno));
    p->in_len = 0;
}

void rest_pub_start(rest_pub *p, int ep)
{
    p->ep = ep;
    connect_to_server(p);
}

/* Sends what is left of the request; EPOLLOUT is wanted while some is. */
static void flush(rest_pub *p)
{
    while (p->out_off < p->out_len) {
        ssize_t n = send(p->fd, p->out + p->out_off, p->out_len - p->out_off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u32 = REST_PUB_TAG};
            epoll_ctl(p->ep, EPOLL_CTL_MOD, p->fd, &ev);
            return;
        }
        if (n < 0)
            lb_die("publisher: send: %s", strerror(errno));
        p->out_off += (size_t)n;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = REST_PUB_TAG};
    epoll_ctl(p->ep, EPOLL_CTL_MOD, p->fd, &ev);
}

void rest_pub_send(rest_pub *p)
{
    unsigned seq = p->seq++;
    int64_t t = lb_now_ns();
    /* Data={"seq":N,"sent_us":T,"text":"fan-out"} form-encoded */
    char form[256];
    int fl = snprintf(form, sizeof form,
                      "Data=%%7B%%22seq%%22%%3A%u%%2C%%22sent_us%%22%%3A%" PRId64
                      "%%2C%%22text%%22%%3A%%22ws%%20fan-out%%20benchmark%%22%%7D",
                      seq, t / 1000);
    p->out_len = (size_t)snprintf(
        p->out, sizeof p->out,
        "POST /v1/Services/%s/Streams/%s/Messages HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
        "Authorization: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: %d\r\n\r\n%s",
        p->service_sid, p->stream_sid, (unsigned)lb_srv.port, lb_srv.basic, fl, form);
    p->out_off = 0;
    p->start[seq] = t;
    p->busy = true;
    flush(p);
}

void rest_pub_event(rest_pub *p, uint32_t events)
{
    if ((events & EPOLLOUT) && p->out_off < p->out_len)
        flush(p);
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        rest_pub_readable(p);
}

void rest_pub_readable(rest_pub *p)
{
    for (;;) {
        ssize_t n = recv(p->fd, p->in + p->in_len, sizeof p->in - 1 - p->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0) {
            if (p->busy)
                lb_die("publisher: connection lost during publish %u", p->seq - 1);
            connect_to_server(p); /* the server ended an idle keep-alive connection */
            return;
        }
        p->in_len += (size_t)n;
        if (p->in_len == sizeof p->in - 1)
            lb_die("publisher: oversized answer");
    }
    p->in[p->in_len] = '\0';
    char *sep = strstr(p->in, "\r\n\r\n");
    if (!sep)
        return;
    int status = 0;
    sscanf(p->in, "HTTP/1.%*d %d", &status);
    char *cl = strcasestr(p->in, "\r\nContent-Length:");
    if (!cl || cl > sep)
        lb_die("publisher: answer without Content-Length");
    size_t body = strtoul(cl + 17, NULL, 10);
    size_t total = (size_t)(sep + 4 - p->in) + body;
    if (p->in_len < total)
        return;
    if (!p->busy)
        lb_die("publisher: unexpected answer");
    unsigned seq = p->seq - 1;
    if (status != 201)
        lb_die("publisher: publish %u answered %d: %.*s", seq, status, (int)body, sep + 4);
    bool closing = strcasestr(p->in, "\r\nConnection: close") != NULL;
    memmove(p->in, p->in + total, p->in_len - total);
    p->in_len -= total;
    p->end[seq] = lb_now_ns();
    double ms = (double)(p->end[seq] - p->start[seq]) / 1e6;
    p->ms[seq] = ms;
    p->total_ms += ms;
    if (ms > p->max_ms)
        p->max_ms = ms;
    p->answered++;
    p->busy = false;
    if (closing)
        connect_to_server(p);
}
