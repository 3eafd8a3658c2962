/* SPDX-License-Identifier: MIT */
/* loopback.h: helpers for tests that run the syncfake-server binary as a child process and
 * talk to it over raw loopback sockets (shutdown under load, connection and queue caps, HTTP
 * edge cases). Every socket operation has a deadline, so a broken server fails a test instead
 * of hanging it. Helpers that can fail a test do so through cmocka. */
#ifndef SF_TEST_LOOPBACK_H
#define SF_TEST_LOOPBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LB_IO_TIMEOUT_MS 5000
#define LB_START_LINES 6 /* "listening on", then five: account_sid, auth_token, base_url, ... */

typedef struct lb_server {
    pid_t pid;
    int out; /* the child's stdout (and its stderr when no err_fd was given) */
    uint16_t port;
    char account_sid[64];
    char auth_token[128];
    char auth[512];                  /* "Authorization: Basic ..." header line, without CRLF */
    char lines[LB_START_LINES][256]; /* the start-up lines as printed, without newline */
} lb_server;

int64_t lb_now_ms(void);
void lb_sleep_ms(long ms);

/* How many runs a repeated test makes: SF_SHUTDOWN_RUNS from the environment when it is a
 * positive number, else default_runs. */
int lb_runs(int default_runs);

/* Raises this process's open-file limit to its hard limit; returns the soft limit now. */
long lb_raise_fd_limit(void);

/* Starts syncfake-server (SF_SERVER_BIN, else next to the test binary) with
 * --port 0 --clock manual --seed 5 and `extra` (NULL-terminated, may be NULL), and reads its
 * start-up lines. Skips the test when the binary is not built. */
void lb_start(lb_server *s, const char *const *extra);
/* The same with the child's stderr on err_fd (-1: this process's stderr). */
void lb_start_err(lb_server *s, const char *const *extra, int err_fd);
/* The same with exactly `args` (NULL-terminated, none of the defaults above): they must make
 * it listen on 127.0.0.1. */
void lb_start_args(lb_server *s, const char *const *args, int err_fd);
/* Sends `sig` and waits up to timeout_ms; returns the wait status (-1: killed after the
 * timeout) and the time from the signal to the exit in *elapsed_ms. */
int lb_signal_wait(lb_server *s, int sig, int timeout_ms, int64_t *elapsed_ms);
/* SIGTERM and assert a clean exit (status 0) within LB_IO_TIMEOUT_MS. */
void lb_stop(lb_server *s);
/* The same with signal `sig`. */
void lb_stop_signal(lb_server *s, int sig);
/* The child's peak resident set (VmHWM) and current one (VmRSS) in KiB; -1 if unknown. */
long lb_peak_rss_kb(pid_t pid);
long lb_rss_kb(pid_t pid);

/* Waits for `events` (poll) on fd until `deadline` (lb_now_ms): 1 ready, 0 timed out, -1 error. */
int lb_wait_fd(int fd, short events, int64_t deadline);

/* A connected, blocking TCP socket to 127.0.0.1:port, or -1. */
int lb_connect(uint16_t port);
/* The same with SO_RCVBUF set to rcvbuf bytes (> 0) before connecting. */
int lb_connect_rcvbuf(uint16_t port, int rcvbuf);
bool lb_send_all(int fd, const void *data, size_t n, int timeout_ms);
bool lb_send_str(int fd, const char *text, int timeout_ms);
/* Reads one HTTP response (head, then Content-Length bytes or a chunked body, or until EOF)
 * into buf (NUL-terminated). Returns its length, or -1 on timeout/error with nothing read. */
ssize_t lb_read_response(int fd, char *buf, size_t cap, int timeout_ms);
/* Reads whatever arrives until EOF or timeout; returns the bytes read. */
ssize_t lb_read_until_close(int fd, char *buf, size_t cap, int timeout_ms);
/* True when the peer closed (EOF or reset) within timeout_ms, reading and discarding data. */
bool lb_wait_closed(int fd, int timeout_ms);
/* The status code of a response text, or -1. */
int lb_status(const char *response);
/* The body of a response text (after the blank line), or "". */
const char *lb_body(const char *response);
/* A header's value copied into out (case-insensitive name); false when absent. */
bool lb_header(const char *response, const char *name, char *out, size_t cap);

/* One request on a new connection (Connection: close); returns the status, the whole
 * response in resp (may be NULL). body may be NULL. */
int lb_request(const lb_server *s, const char *method, const char *target, const char *body,
               char *resp, size_t cap);
/* A string field's value from a flat JSON text, into out; false when absent. */
bool lb_json_str(const char *json, const char *key, char *out, size_t cap);
/* Creates a service and a stream; their SIDs into service[64] and stream[64]. */
void lb_make_stream(const lb_server *s, char *service, char *stream);
/* Runs syncfake-server with `args` (NULL-terminated) until it exits; its stdout and stderr
 * into out (NUL-terminated, cut at cap - 1). Returns its exit status (-1: killed, or still
 * running after 3 x LB_IO_TIMEOUT_MS, then killed). Skips the test when the binary is not
 * built. */
int lb_run_server(const char *const *args, char *out, size_t cap);

#endif
