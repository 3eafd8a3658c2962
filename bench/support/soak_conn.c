/* SPDX-License-Identifier: MIT */
/* soak_conn.c: the soak's blocking reads and its keep-alive REST connection (soak_conn.h). */
#define _GNU_SOURCE
#include "soak_conn.h"

#include "loopback.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_WAIT_MS 5000 /* one answer, event or frame: longer is a failure */
#define REST_IN_CAP (1024 * 1024)

soak_counts soak_count;
char soak_service_sid[64];

size_t soak_recv_wait(int fd, void *buf, size_t cap, const char *what)
{
    int64_t end = lb_now_ns() + IO_WAIT_MS * 1000000LL;
    for (;;) {
        lb_check_deadline(what);
        int left = (int)((end - lb_now_ns()) / 1000000);
        if (left <= 0)
            lb_die("%s: nothing from the server for %d ms", what, IO_WAIT_MS);
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, left < 100 ? left : 100) <= 0)
            continue;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            lb_die("%s: recv: %s", what, strerror(errno));
        return (size_t)n;
    }
}

int soak_connect(void)
{
    int fd = lb_tcp_socket(false);
    if (!lb_tcp_connect(fd))
        lb_die("connect: %s", strerror(errno));
    return fd;
}

static struct {
    int fd;
    char in[REST_IN_CAP];
    size_t len;
} rest = {.fd = -1};

/* Reads one whole answer; its status, *body (in rest.in) NUL-ended, *used its size. */
static int rest_read(const char *path, char **body, size_t *used, bool *closing)
{
    for (;;) {
        rest.in[rest.len] = '\0';
        char *sep = strstr(rest.in, "\r\n\r\n");
        char *cl = sep ? strcasestr(rest.in, "\r\nContent-Length:") : NULL;
        bool empty = strncmp(rest.in, "HTTP/1.1 204 ", 13) == 0; /* no body, no length */
        if (sep && !empty && (!cl || cl > sep))
            lb_die("%s: answer without Content-Length: %.400s", path, rest.in);
        size_t body_len = sep && !empty ? strtoul(cl + 17, NULL, 10) : 0;
        size_t total = sep ? (size_t)(sep + 4 - rest.in) + body_len : 0;
        if (sep && rest.len >= total) {
            int status = 0;
            sscanf(rest.in, "HTTP/1.%*d %d", &status);
            *closing = strcasestr(rest.in, "\r\nConnection: close") != NULL;
            *body = sep + 4;
            *used = total;
            return status;
        }
        if (rest.len + 1 >= sizeof rest.in)
            lb_die("%s: answer over %d bytes", path, REST_IN_CAP);
        size_t n = soak_recv_wait(rest.fd, rest.in + rest.len, sizeof rest.in - 1 - rest.len, path);
        if (n == 0)
            lb_die("%s: the server closed the REST connection mid-answer", path);
        rest.len += n;
    }
}

void soak_api(const char *method, const char *path, const char *form, int want, char *out,
              size_t cap)
{
    if (rest.fd < 0) {
        rest.fd = soak_connect();
        rest.len = 0;
    }
    char req[4096];
    size_t flen = form ? strlen(form) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nAuthorization: %s\r\n"
                     "Content-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, (unsigned)lb_srv.port, lb_srv.basic, flen, form ? form : "");
    if (n <= 0 || (size_t)n >= sizeof req)
        lb_die("request too long");
    lb_send_all(rest.fd, req, (size_t)n, path);
    soak_count.requests++;
    char *body;
    size_t used;
    bool closing;
    int status = rest_read(path, &body, &used, &closing);
    if (status != want)
        lb_die("%s %s answered %d (want %d): %.300s", method, path, status, want, body);
    if (out) {
        size_t blen = used - (size_t)(body - rest.in);
        snprintf(out, cap, "%.*s", (int)blen, body);
    }
    memmove(rest.in, rest.in + used, rest.len - used);
    rest.len -= used;
    if (closing) { /* the server ends keep-alive connections now and then */
        close(rest.fd);
        rest.fd = -1;
    }
}

void soak_publish(const char *stream, uint64_t n)
{
    char path[256], form[128];
    snprintf(path, sizeof path, "/v1/Services/%s/Streams/%s/Messages", soak_service_sid, stream);
    snprintf(form, sizeof form, "Data=%%7B%%22n%%22%%3A%" PRIu64 "%%7D", n);
    soak_api("POST", path, form, 201, NULL, 0);
}

void soak_rest_close(void)
{
    if (rest.fd >= 0)
        close(rest.fd);
}
