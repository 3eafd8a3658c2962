/* SPDX-License-Identifier: MIT */
/* loopback.h: what the end-to-end programs (ws_fanout, soak) share to drive a
 * build/syncfake-server child over loopback: starting and stopping it, failing with its
 * cleanup, blocking REST calls, and the client side of WebSocket (handshake, masked frames). */
#ifndef SF_BENCH_LOOPBACK_H
#define SF_BENCH_LOOPBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The server child, once lb_start_server has read its banner. */
typedef struct lb_server {
    pid_t pid; /* -1: none running */
    uint16_t port;
    char account_sid[64], auth_token[128];
    char basic[320]; /* "Basic base64(sid:token)" */
} lb_server;

extern lb_server lb_srv;

/* Names the program in messages and arms the whole-run deadline: lb_check_deadline fails
 * after timeout_s, and SIGALRM 15 s later kills the server and exits (something blocked). */
void lb_init(const char *program, unsigned timeout_s);

int64_t lb_now_ns(void); /* CLOCK_MONOTONIC */

/* Prints "program: message", stops the server and exits 1. */
void lb_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void lb_check_deadline(const char *phase);
int64_t lb_deadline_ns(void); /* when lb_check_deadline starts failing (lb_now_ns time) */

/* xorshift: WebSocket keys and masks, and the soak's choices. */
void lb_seed(uint64_t seed);
uint32_t lb_rnd32(void);

/* Starts `[wrapper...] server --port 0 <extra...>` (wrapper and extra NULL-terminated or
 * NULL; wrapper[0] is looked up in PATH, e.g. valgrind), reads its banner and fills lb_srv.
 * The child dies with this process. */
void lb_start_server(const char *const *wrapper, const char *server, const char *const *extra);

/* When set before lb_start_server: the server's stderr goes to this file (truncated). */
extern const char *lb_server_stderr;

/* SIGTERM; whether it exited with status 0 by itself within the stop wait (3 s unless
 * lb_set_stop_wait_ms says otherwise; else it is killed). */
bool lb_stop_server(void);
void lb_set_stop_wait_ms(unsigned ms);

/* utime + stime of a process in seconds (-1 if unreadable), and its thread count. */
double lb_proc_cpu_s(pid_t pid, int *threads);

/* Sockets to the server's port (TCP_NODELAY). lb_tcp_connect may return with the connection
 * in progress on a non-blocking socket. */
int lb_tcp_socket(bool nonblocking);
bool lb_tcp_connect(int fd);
void lb_send_all(int fd, const void *data, size_t len, const char *what);

/* One request on a fresh connection ("Connection: close") with the server's Basic
 * credentials; returns the status, *body is malloc'd (NUL-ended). */
int lb_rest(const char *method, const char *path, const char *form, char **body);

/* The string value of "key" in a JSON text (first occurrence; no escapes expected). */
bool lb_json_str(const char *json, const char *key, char *out, size_t cap);

/* A random Sec-WebSocket-Key and the Sec-WebSocket-Accept the server must answer with. */
void lb_ws_key(char key[25], char accept[29]);

/* The upgrade request for `path` with `key`, written to out (NUL-ended); its length. */
size_t lb_ws_upgrade_request(const char *path, const char *key, char *out, size_t cap);

/* A masked client frame's head (FIN set) for a payload of len bytes; its length (<= 14).
 * The caller XORs payload byte i with mask[i & 3]. */
size_t lb_ws_frame_head(int opcode, size_t len, uint8_t head[14], uint8_t mask[4]);

#endif
