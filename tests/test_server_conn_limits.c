/* SPDX-License-Identifier: MIT */
/* test_server_conn_limits.c: idle sockets cannot lock clients out of syncfake-server.
 * - FLOOD idle TCP connections (no bytes; more than libmicrohttpd's old limit of 4,000), then a
 *   real request on a new connection: answered, because the longest-waiting idle connection
 *   gives way (before: the new connection was dropped for the 120 s idle timeout).
 * - With --max-connections 4 held by 4 event streams (busy, not evictable), a new request is
 *   answered 503 JSON with Twilio code 20503.
 * - With --request-timeout-ms 1000, a connection trickling a header byte every 200 ms is
 *   closed after about a second.
 * - Out of descriptors (its limit lowered to 64 while it runs, each connection costing three),
 *   the server does not spin on its listening socket (under a quarter of a CPU second in two
 *   seconds) and, once the clients leave, serves again. */
#define _GNU_SOURCE /* prlimit: the running server's open-file limit */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "loopback.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOD 4500

static void test_idle_flood_does_not_lock_out(void **state)
{
    (void)state;
    if (lb_raise_fd_limit() < FLOOD + 64) {
        print_message("    open-file limit below %d: skipped\n", FLOOD + 64);
        skip();
    }
    lb_server s;
    lb_start(&s, NULL);
    static int fds[FLOOD];
    int opened = 0;
    int64_t start = lb_now_ms();
    for (; opened < FLOOD; opened++)
        if ((fds[opened] = lb_connect(s.port)) < 0)
            break;
    int64_t flooded = lb_now_ms();
    lb_sleep_ms(200); /* let the server accept them all */
    char resp[8192];
    int64_t t0 = lb_now_ms();
    int status = lb_request(&s, "GET", "/v1/Services", NULL, resp, sizeof resp);
    int64_t latency = lb_now_ms() - t0;
    print_message("    %d idle connections in %lld ms; then GET /v1/Services: %d in %lld ms\n",
                  opened, (long long)(flooded - start), status, (long long)latency);
    assert_int_equal(opened, FLOOD);
    assert_int_equal(status, 200);
    for (int i = 0; i < opened; i++)
        close(fds[i]);
    lb_stop(&s);
}

static void test_busy_cap_answers_503(void **state)
{
    (void)state;
    const char *args[] = {"--max-connections", "4", NULL};
    lb_server s;
    lb_start(&s, args);
    char service[64], stream[64], req[1024], buf[4096];
    lb_make_stream(&s, service, stream);
    snprintf(req, sizeof req,
             "GET /_syncfake/Services/%s/Streams/%s/Events HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
             "\r\n",
             service, stream, s.auth);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = lb_connect(s.port);
        assert_true(fds[i] >= 0);
        assert_true(lb_send_str(fds[i], req, LB_IO_TIMEOUT_MS));
        ssize_t n = recv(fds[i], buf, sizeof buf - 1, 0);
        assert_true(n > 0);
        buf[n] = '\0';
        assert_int_equal(lb_status(buf), 200);
    }
    char resp[8192];
    assert_int_equal(lb_request(&s, "GET", "/v1/Services", NULL, resp, sizeof resp), 503);
    assert_non_null(strstr(lb_body(resp), "\"code\": 20503"));
    assert_non_null(strstr(lb_body(resp), "\"status\": 503"));
    /* (a stream's slot comes back once its close is noticed: a suspended stream notices at
     * its next event or 10 s keepalive, so that is not waited for here) */
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    lb_stop(&s);
}

static void test_trickled_header_is_cut(void **state)
{
    (void)state;
    const char *args[] = {"--request-timeout-ms", "1000", NULL};
    lb_server s;
    lb_start(&s, args);
    int fd = lb_connect(s.port);
    assert_true(fd >= 0);
    const char *line = "GET /v1/Services HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    int64_t start = lb_now_ms();
    bool cut = false;
    for (size_t i = 0; line[i] && !cut; i++) {
        if (!lb_send_all(fd, line + i, 1, 1000))
            cut = true;
        else
            cut = lb_wait_closed(fd, 200);
    }
    int64_t took = lb_now_ms() - start;
    print_message("    trickling connection closed: %s after %lld ms\n", cut ? "yes" : "no",
                  (long long)took);
    assert_true(cut);
    assert_in_range(took, 800, 3000);
    close(fd);
    lb_stop(&s);
}

/* User and system CPU seconds of a process so far. */
static double cpu_seconds(pid_t pid)
{
    char path[64], text[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *p = strrchr(text, ')'); /* after the command's name */
    assert_non_null(p);
    unsigned long utime = 0, stime = 0;
    assert_int_equal(
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime), 2);
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void test_out_of_descriptors_pauses_accepting(void **state)
{
    (void)state;
    lb_server s;
    lb_start(&s, NULL);
    struct rlimit low = {64, 64};
    if (prlimit(s.pid, RLIMIT_NOFILE, &low, NULL) != 0) {
        lb_stop(&s);
        skip();
    }
    int fds[60];
    for (int i = 0; i < 60; i++)
        assert_true((fds[i] = lb_connect(s.port)) >= 0); /* queued in the backlog past ~15 */
    lb_sleep_ms(300);
    double before = cpu_seconds(s.pid);
    lb_sleep_ms(2000);
    double spent = cpu_seconds(s.pid) - before;
    print_message("    60 clients, 64 descriptors: %.2f CPU seconds in 2 s\n", spent);
    assert_true(spent < 0.25);
    for (int i = 0; i < 60; i++)
        close(fds[i]);
    lb_sleep_ms(300);
    char resp[8192];
    assert_int_equal(lb_request(&s, "GET", "/v1/Services", NULL, resp, sizeof resp), 200);
    lb_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_flood_does_not_lock_out),
        cmocka_unit_test(test_busy_cap_answers_503),
        cmocka_unit_test(test_trickled_header_is_cut),
        cmocka_unit_test(test_out_of_descriptors_pauses_accepting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
