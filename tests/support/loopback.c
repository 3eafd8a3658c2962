/* SPDX-License-Identifier: MIT */
/* loopback.c: see loopback.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_client.h"
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int64_t lb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lb_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int lb_runs(int default_runs)
{
    const char *v = getenv("SF_SHUTDOWN_RUNS");
    int n = v ? atoi(v) : default_runs;
    return n >= 1 ? n : default_runs;
}

long lb_raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) != 0)
        return -1;
    if (r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
        getrlimit(RLIMIT_NOFILE, &r);
    }
    return (long)r.rlim_cur;
}

int lb_wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - lb_now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

static bool server_binary(char *out, size_t cap)
{
    const char *env_bin = getenv("SF_SERVER_BIN");
    if (env_bin && access(env_bin, X_OK) == 0) {
        snprintf(out, cap, "%s", env_bin);
        return true;
    }
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return false;
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash)
        return false;
    *slash = '\0';
    int w = snprintf(out, cap, "%s/syncfake-server", self);
    return w > 0 && (size_t)w < cap && access(out, X_OK) == 0;
}

static bool child_line(lb_server *s, char *out, size_t cap, int64_t deadline)
{
    size_t n = 0;
    for (;;) {
        if (lb_wait_fd(s->out, POLLIN, deadline) != 1)
            return false;
        char c;
        if (read(s->out, &c, 1) != 1)
            return false;
        if (c == '\n') {
            out[n] = '\0';
            return true;
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
}

static void spawn(lb_server *s, const char *bin, const char *const *args, int err_fd)
{
    const char *argv[40] = {bin};
    size_t argc = 1;
    for (size_t i = 0; args && args[i] && argc < 39; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves no server behind */
        dup2(fds[1], STDOUT_FILENO);
        if (err_fd >= 0)
            dup2(err_fd, STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    memset(s, 0, sizeof *s);
    s->pid = pid;
    s->out = fds[0];
}

void lb_start(lb_server *s, const char *const *extra) { lb_start_err(s, extra, -1); }

void lb_start_err(lb_server *s, const char *const *extra, int err_fd)
{
    const char *args[40] = {"--port", "0", "--clock", "manual", "--seed", "5"};
    size_t n = 6;
    for (size_t i = 0; extra && extra[i] && n < 39; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    lb_start_args(s, args, err_fd);
}

void lb_start_args(lb_server *s, const char *const *args, int err_fd)
{
    char bin[PATH_MAX];
    if (!server_binary(bin, sizeof bin)) {
        print_message("    syncfake-server not built next to the test: skipped\n");
        skip();
    }
    spawn(s, bin, args, err_fd);
    char *line = s->lines[0];
    unsigned port = 0;
    int64_t deadline = lb_now_ms() + 3 * LB_IO_TIMEOUT_MS; /* sanitizers start slowly */
    if (!child_line(s, line, sizeof s->lines[0], deadline))
        fail_msg("syncfake-server printed no first line");
    if (sscanf(line, "syncfake-server listening on http://127.0.0.1:%u", &port) != 1 || port == 0 ||
        port > 65535)
        fail_msg("unexpected first line: \"%s\"", line);
    s->port = (uint16_t)port;
    for (int i = 1; i < LB_START_LINES; i++) {
        line = s->lines[i];
        if (!child_line(s, line, sizeof s->lines[i], deadline))
            fail_msg("syncfake-server printed %d lines after the first, expected %d", i - 1,
                     LB_START_LINES - 1);
        if (strncmp(line, "account_sid ", 12) == 0)
            snprintf(s->account_sid, sizeof s->account_sid, "%.40s", line + 12);
        else if (strncmp(line, "auth_token ", 11) == 0)
            snprintf(s->auth_token, sizeof s->auth_token, "%.100s", line + 11);
    }
    char basic[400];
    hc_basic_auth(s->account_sid, s->auth_token, basic, sizeof basic);
    snprintf(s->auth, sizeof s->auth, "Authorization: %s", basic);
}

int lb_signal_wait(lb_server *s, int sig, int timeout_ms, int64_t *elapsed_ms)
{
    int64_t start = lb_now_ms();
    assert_int_equal(kill(s->pid, sig), 0);
    int status = -1;
    for (;;) {
        pid_t r = waitpid(s->pid, &status, WNOHANG);
        if (r == s->pid)
            break;
        if (lb_now_ms() - start >= timeout_ms) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            status = -1;
            break;
        }
        struct timespec ts = {0, 500000L}; /* 0.5 ms: the stop time is measured */
        nanosleep(&ts, NULL);
    }
    if (elapsed_ms)
        *elapsed_ms = lb_now_ms() - start;
    close(s->out);
    return status;
}

void lb_stop(lb_server *s) { lb_stop_signal(s, SIGTERM); }

void lb_stop_signal(lb_server *s, int sig)
{
    int status = lb_signal_wait(s, sig, LB_IO_TIMEOUT_MS, NULL);
    if (status == -1)
        fail_msg("syncfake-server did not exit within %d ms of signal %d", LB_IO_TIMEOUT_MS, sig);
    if (WIFSIGNALED(status))
        fail_msg("syncfake-server died of signal %d", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static long status_kb(pid_t pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t n = strlen(field);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0)
            kb = strtol(line + n, NULL, 10);
    fclose(f);
    return kb;
}

long lb_peak_rss_kb(pid_t pid) { return status_kb(pid, "VmHWM:"); }

long lb_rss_kb(pid_t pid) { return status_kb(pid, "VmRSS:"); }

int lb_connect(uint16_t port) { return lb_connect_rcvbuf(port, 0); }

int lb_connect_rcvbuf(uint16_t port, int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (rcvbuf > 0) /* before connect, so the window is small from the start */
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool lb_send_all(int fd, const void *data, size_t n, int timeout_ms)
{
    int64_t deadline = lb_now_ms() + timeout_ms;
    const char *p = data;
    while (n > 0) {
        if (lb_wait_fd(fd, POLLOUT, deadline) != 1)
            return false;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool lb_send_str(int fd, const char *text, int timeout_ms)
{
    return lb_send_all(fd, text, strlen(text), timeout_ms);
}

/* Reads more into buf[*len..cap-1); 1: got bytes, 0: EOF, -1: timeout or error. */
static int fill(int fd, char *buf, size_t cap, size_t *len, int64_t deadline)
{
    if (*len + 1 >= cap)
        return -1;
    if (lb_wait_fd(fd, POLLIN, deadline) != 1)
        return -1;
    ssize_t r = recv(fd, buf + *len, cap - 1 - *len, 0);
    if (r < 0)
        return errno == ECONNRESET ? 0 : -1;
    if (r == 0)
        return 0;
    *len += (size_t)r;
    buf[*len] = '\0';
    return 1;
}

/* Whether buf[0..len) holds a complete chunked body starting at body. */
static bool chunked_done(const char *body, const char *end)
{
    const char *p = body;
    for (;;) {
        const char *eol = strstr(p, "\r\n");
        if (!eol || eol >= end)
            return false;
        unsigned long size = strtoul(p, NULL, 16);
        if (size == 0)
            return strstr(eol + 2, "\r\n") != NULL || eol + 2 == end;
        p = eol + 2 + size + 2;
        if (p > end)
            return false;
    }
}

static bool complete(const char *buf, size_t len)
{
    const char *head_end = strstr(buf, "\r\n\r\n");
    if (!head_end)
        return false;
    const char *body = head_end + 4;
    char v[64];
    if (lb_header(buf, "Content-Length", v, sizeof v))
        return (size_t)(buf + len - body) >= strtoull(v, NULL, 10);
    if (lb_header(buf, "Transfer-Encoding", v, sizeof v) && strcasecmp(v, "chunked") == 0)
        return chunked_done(body, buf + len);
    return false; /* until EOF */
}

ssize_t lb_read_response(int fd, char *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = lb_now_ms() + timeout_ms;
    size_t len = 0;
    buf[0] = '\0';
    while (!complete(buf, len)) {
        int r = fill(fd, buf, cap, &len, deadline);
        if (r == 0)
            break;
        if (r < 0)
            return len ? (ssize_t)len : -1;
    }
    return (ssize_t)len;
}

ssize_t lb_read_until_close(int fd, char *buf, size_t cap, int timeout_ms)
{
    int64_t deadline = lb_now_ms() + timeout_ms;
    size_t len = 0;
    buf[0] = '\0';
    while (fill(fd, buf, cap, &len, deadline) == 1) {
    }
    return (ssize_t)len;
}

bool lb_wait_closed(int fd, int timeout_ms)
{
    int64_t deadline = lb_now_ms() + timeout_ms;
    char scratch[4096];
    for (;;) {
        if (lb_wait_fd(fd, POLLIN, deadline) != 1)
            return false;
        ssize_t r = recv(fd, scratch, sizeof scratch, 0);
        if (r == 0 || (r < 0 && errno == ECONNRESET))
            return true;
        if (r < 0 && errno != EINTR && errno != EAGAIN)
            return false;
    }
}

int lb_status(const char *response)
{
    int status;
    if (!response || sscanf(response, "HTTP/1.%*d %d", &status) != 1)
        return -1;
    return status;
}

const char *lb_body(const char *response)
{
    const char *p = response ? strstr(response, "\r\n\r\n") : NULL;
    return p ? p + 4 : "";
}

bool lb_header(const char *response, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    const char *end = strstr(response, "\r\n\r\n");
    for (const char *p = strstr(response, "\r\n"); p && (!end || p < end);
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            if (len >= cap)
                len = cap - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return true;
        }
    }
    return false;
}

int lb_request(const lb_server *s, const char *method, const char *target, const char *body,
               char *resp, size_t cap)
{
    char local[8192];
    if (!resp) {
        resp = local;
        cap = sizeof local;
    }
    int fd = lb_connect(s->port);
    if (fd < 0)
        return -1;
    size_t blen = body ? strlen(body) : 0;
    char head[1024];
    snprintf(head, sizeof head,
             "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\nConnection: close\r\n"
             "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %zu\r\n\r\n",
             method, target, s->auth, blen);
    int status = -1;
    if (lb_send_str(fd, head, LB_IO_TIMEOUT_MS) &&
        (blen == 0 || lb_send_all(fd, body, blen, LB_IO_TIMEOUT_MS)) &&
        lb_read_response(fd, resp, cap, LB_IO_TIMEOUT_MS) > 0)
        status = lb_status(resp);
    close(fd);
    return status;
}

bool lb_json_str(const char *json, const char *key, char *out, size_t cap)
{
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(json, pat);
    size_t skip = strlen(pat);
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        p = strstr(json, pat);
        skip = strlen(pat);
    }
    if (!p)
        return false;
    p += skip;
    size_t n = strcspn(p, "\"");
    if (n >= cap)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

void lb_make_stream(const lb_server *s, char *service, char *stream)
{
    char resp[8192], target[128];
    assert_int_equal(lb_request(s, "POST", "/v1/Services", "", resp, sizeof resp), 201);
    assert_true(lb_json_str(lb_body(resp), "sid", service, 64));
    snprintf(target, sizeof target, "/v1/Services/%s/Streams", service);
    assert_int_equal(lb_request(s, "POST", target, "", resp, sizeof resp), 201);
    assert_true(lb_json_str(lb_body(resp), "sid", stream, 64));
}

int lb_run_server(const char *const *args, char *out, size_t cap)
{
    char bin[PATH_MAX];
    if (!server_binary(bin, sizeof bin))
        skip();
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        const char *argv[64] = {bin};
        int n = 1;
        for (; args && args[n - 1] && n < 63; n++)
            argv[n] = args[n - 1];
        argv[n] = NULL;
        dup2(pipe_fds[1], 1);
        dup2(pipe_fds[1], 2);
        close(pipe_fds[0]);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(pipe_fds[1]);
    size_t len = 0;
    char chunk[4096];
    int64_t deadline = lb_now_ms() + 3 * LB_IO_TIMEOUT_MS;
    bool eof = false; /* read to EOF (the child never blocks), or killed at the deadline */
    while (!eof && lb_wait_fd(pipe_fds[0], POLLIN, deadline) == 1) {
        ssize_t n = read(pipe_fds[0], chunk, sizeof chunk);
        eof = n <= 0;
        for (ssize_t i = 0; i < n && len < cap - 1; i++)
            out[len++] = chunk[i];
    }
    out[len] = '\0';
    close(pipe_fds[0]);
    if (!eof)
        kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return eof && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
