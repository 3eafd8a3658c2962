/* SPDX-License-Identifier: MIT */
/* loopback.c: see loopback.h. */
#define _GNU_SOURCE
#include "loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nettle/base64.h>
#include <nettle/sha1.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

lb_server lb_srv = {.pid = -1};
const char *lb_server_stderr;

static const char *program = "loopback";
static unsigned timeout_s;
static int64_t deadline_ns;

int64_t lb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static unsigned stop_wait_ms = 3000;

void lb_set_stop_wait_ms(unsigned ms) { stop_wait_ms = ms; }

bool lb_stop_server(void)
{
    if (lb_srv.pid <= 0)
        return true;
    kill(lb_srv.pid, SIGTERM);
    int status = 0;
    for (unsigned i = 0; i < stop_wait_ms / 10; i++) {
        if (waitpid(lb_srv.pid, &status, WNOHANG) == lb_srv.pid) {
            lb_srv.pid = -1;
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return true;
            fprintf(stderr, "%s: the server ended with %s %d\n", program,
                    WIFEXITED(status) ? "status" : "signal",
                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
            return false;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    kill(lb_srv.pid, SIGKILL);
    waitpid(lb_srv.pid, NULL, 0);
    lb_srv.pid = -1;
    fprintf(stderr, "%s: the server did not stop within %u ms of SIGTERM\n", program, stop_wait_ms);
    return false;
}

void lb_die(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", program);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    lb_stop_server();
    exit(1);
}

void lb_check_deadline(const char *phase)
{
    if (lb_now_ns() > deadline_ns)
        lb_die("timed out after %u s while %s", timeout_s, phase);
}

int64_t lb_deadline_ns(void) { return deadline_ns; }

/* The last resort if something blocks where it should not. */
static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "hard timeout, killing the server\n";
    ssize_t n = write(2, msg, sizeof msg - 1);
    (void)n;
    if (lb_srv.pid > 0)
        kill(lb_srv.pid, SIGKILL);
    _exit(1);
}

void lb_init(const char *name, unsigned seconds)
{
    program = name;
    timeout_s = seconds;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm(seconds + 15); /* behind the deadline checks, in case something blocks */
    deadline_ns = lb_now_ns() + (int64_t)seconds * 1000000000LL;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

void lb_seed(uint64_t seed)
{
    rng_state ^= seed;
    if (!rng_state)
        rng_state = 1;
}

uint32_t lb_rnd32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* Reads the banner (it ends with the "seed N" line) from fd into lb_srv. */
static void read_banner(int fd, const char *server)
{
    char banner[4096];
    size_t len = 0;
    int64_t end = lb_now_ns() + 10 * 1000000000LL;
    bool done = false;
    while (!done) {
        int left = (int)((end - lb_now_ns()) / 1000000);
        if (left <= 0)
            lb_die("no banner from %s within 10 s", server);
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, left) <= 0)
            continue;
        ssize_t n = read(fd, banner + len, sizeof banner - 1 - len);
        if (n <= 0)
            lb_die("%s exited before its banner (is it built? make)", server);
        len += (size_t)n;
        banner[len] = '\0';
        done = strstr(banner, "\nseed ") && banner[len - 1] == '\n';
        if (len == sizeof banner - 1)
            lb_die("banner too long");
    }
    const char *l = strstr(banner, "listening on http://");
    const char *colon = l ? strchr(l + strlen("listening on http://"), ':') : NULL;
    const char *a = strstr(banner, "\naccount_sid ");
    const char *t = strstr(banner, "\nauth_token ");
    unsigned port = 0;
    if (!colon || sscanf(colon + 1, "%u", &port) != 1 || port == 0 || port > 65535 || !a || !t ||
        sscanf(a + 1, "account_sid %63s", lb_srv.account_sid) != 1 ||
        sscanf(t + 1, "auth_token %127s", lb_srv.auth_token) != 1)
        lb_die("unexpected banner:\n%s", banner);
    lb_srv.port = (uint16_t)port;
}

void lb_start_server(const char *const *wrapper, const char *server, const char *const *extra)
{
    const char *args[48];
    size_t n = 0;
    for (; wrapper && *wrapper && n < 16; wrapper++)
        args[n++] = *wrapper;
    args[n++] = server;
    args[n++] = "--port";
    args[n++] = "0";
    for (; extra && *extra; extra++)
        if (n < sizeof args / sizeof *args - 1)
            args[n++] = *extra;
    args[n] = NULL;
    int p[2];
    if (pipe(p) != 0)
        lb_die("pipe: %s", strerror(errno));
    lb_srv.pid = fork();
    if (lb_srv.pid < 0)
        lb_die("fork: %s", strerror(errno));
    if (lb_srv.pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the driver */
        dup2(p[1], 1);
        int log =
            lb_server_stderr ? open(lb_server_stderr, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
        if (log >= 0) {
            dup2(log, 2);
            close(log);
        }
        close(p[0]);
        close(p[1]);
        execvp(args[0], (char *const *)args);
        fprintf(stderr, "%s: cannot run %s: %s\n", program, args[0], strerror(errno));
        _exit(127);
    }
    close(p[1]);
    read_banner(p[0], server);
    /* the pipe stays open (the server prints nothing more); the kernel closes it at exit */
    char creds[200];
    int len = snprintf(creds, sizeof creds, "%s:%s", lb_srv.account_sid, lb_srv.auth_token);
    char b64[BASE64_ENCODE_RAW_LENGTH(200) + 1];
    base64_encode_raw(b64, (size_t)len, (const uint8_t *)creds);
    b64[BASE64_ENCODE_RAW_LENGTH(len)] = '\0';
    snprintf(lb_srv.basic, sizeof lb_srv.basic, "Basic %s", b64);
}

double lb_proc_cpu_s(pid_t pid, int *threads)
{
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* after the command name */
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    long nthreads = 0;
    /* fields after ")": 3 state ... 14 utime 15 stime ... 20 num_threads */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu %*d %*d %*d %*d %ld",
               &ut, &st, &nthreads) != 3)
        return -1;
    if (threads)
        *threads = (int)nthreads;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

int lb_tcp_socket(bool nonblocking)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0)
        lb_die("socket: %s (raise the open files limit)", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

bool lb_tcp_connect(int fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(lb_srv.port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return connect(fd, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS;
}

void lb_send_all(int fd, const void *data, size_t len, const char *what)
{
    const char *p = data;
    while (len) {
        lb_check_deadline(what);
        struct pollfd pf = {fd, POLLOUT, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            lb_die("%s: send: %s", what, strerror(errno));
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        }
    }
}

/* Everything the server sends until it closes; malloc'd, NUL-ended. */
static char *read_to_close(int fd, const char *what)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        lb_die("out of memory");
    for (;;) {
        lb_check_deadline(what);
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        if (len + 1 == cap && !(buf = realloc(buf, cap *= 2)))
            lb_die("out of memory");
        ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            lb_die("%s: recv: %s", what, strerror(errno));
        if (r == 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    return buf;
}

int lb_rest(const char *method, const char *path, const char *form, char **body)
{
    int fd = lb_tcp_socket(false);
    if (!lb_tcp_connect(fd))
        lb_die("connect to the server: %s", strerror(errno));
    char req[16384];
    size_t flen = form ? strlen(form) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nAuthorization: %s\r\n"
                     "Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, path, (unsigned)lb_srv.port, lb_srv.basic, flen, form ? form : "");
    if (n <= 0 || (size_t)n >= sizeof req)
        lb_die("request too long");
    lb_send_all(fd, req, (size_t)n, path);
    char *buf = read_to_close(fd, path);
    close(fd);
    int status = 0;
    char *sep = strstr(buf, "\r\n\r\n");
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !sep)
        lb_die("%s %s: malformed answer", method, path);
    *body = strdup(sep + 4);
    free(buf);
    if (!*body)
        lb_die("out of memory");
    return status;
}

bool lb_json_str(const char *json, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(json, pat);
    if (!p)
        return false;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    if (*p++ != ':')
        return false;
    while (*p == ' ')
        p++;
    if (*p++ != '"')
        return false;
    const char *e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= cap)
        return false;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return true;
}

void lb_ws_key(char key[25], char accept[29])
{
    uint8_t raw[16];
    for (int i = 0; i < 16; i += 4) {
        uint32_t r = lb_rnd32();
        memcpy(raw + i, &r, 4);
    }
    base64_encode_raw(key, 16, raw);
    key[BASE64_ENCODE_RAW_LENGTH(16)] = '\0';
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    struct sha1_ctx sha;
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_init(&sha);
    sha1_update(&sha, strlen(key), (const uint8_t *)key);
    sha1_update(&sha, sizeof guid - 1, (const uint8_t *)guid);
    sha1_digest(&sha, sizeof digest, digest);
    base64_encode_raw(accept, sizeof digest, digest);
    accept[28] = '\0';
}

size_t lb_ws_upgrade_request(const char *path, const char *key, char *out, size_t cap)
{
    int n = snprintf(out, cap,
                     "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n\r\n",
                     path, (unsigned)lb_srv.port, key);
    if (n <= 0 || (size_t)n >= cap)
        lb_die("upgrade request too long");
    return (size_t)n;
}

size_t lb_ws_frame_head(int opcode, size_t len, uint8_t h[14], uint8_t mask[4])
{
    size_t hl = 0;
    h[hl++] = (uint8_t)(0x80 | opcode);
    if (len < 126) {
        h[hl++] = (uint8_t)(0x80 | len);
    } else if (len < 65536) {
        h[hl++] = 0x80 | 126;
        h[hl++] = (uint8_t)(len >> 8);
        h[hl++] = (uint8_t)len;
    } else {
        h[hl++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            h[hl++] = (uint8_t)((uint64_t)len >> (8 * i));
    }
    uint32_t key = lb_rnd32();
    mask[0] = (uint8_t)key;
    mask[1] = (uint8_t)(key >> 8);
    mask[2] = (uint8_t)(key >> 16);
    mask[3] = (uint8_t)(key >> 24);
    memcpy(h + hl, mask, 4);
    return hl + 4;
}
