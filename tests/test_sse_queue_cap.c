/* SPDX-License-Identifier: MIT */
/* test_sse_queue_cap.c: event-stream clients that stop reading cannot grow the server without
 * bound. Five clients subscribe, read their first event and stop reading; MESSAGES messages of
 * 4 KB are published. Each client's queue passes the cap (--sse-queue-max 1 MiB here), so its
 * connection is cut and the journal says why (unsubscribed, reason queue_full), and the
 * server's peak RSS grows by less than RSS_GROWTH_MAX_KB (without the cap every message waits
 * in memory five times: ~100 MB for 6,000 messages). The RSS bound is checked only when the
 * server is not built with AddressSanitizer, whose quarantine keeps freed memory resident.
 *
 * SF_SSE_CAP_MESSAGES overrides MESSAGES; SF_SSE_CAP_DEFAULT=1 runs with the default cap
 * (16 MiB, docs/http.md "Limits of the server") instead; measure it with 30,000 messages. */
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
#include <sys/socket.h>
#include <unistd.h>

#define CLIENTS 5
#define MESSAGES 6000
#define QUEUE_CAP "1048576"
#define RSS_GROWTH_MAX_KB (40 * 1024)
#define DATA_CHARS 4080 /* {"p":"..."} of 4,088 bytes, under the 4,096-byte limit */

static int messages(void)
{
    const char *v = getenv("SF_SSE_CAP_MESSAGES");
    int n = v ? atoi(v) : MESSAGES;
    return n > 0 ? n : MESSAGES;
}

/* True when the server process has AddressSanitizer's runtime mapped. */
static bool server_has_asan(pid_t pid)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(path, "r");
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, "libasan") != NULL;
    if (f)
        fclose(f);
    return found;
}

/* A subscriber that reads the answer's head and first event, then never reads again. Its
 * receive buffer is small so the server's side fills up quickly. */
static int stalled_subscriber(const lb_server *s, const char *service, const char *stream)
{
    int fd = lb_connect_rcvbuf(s->port, 4096);
    assert_true(fd >= 0);
    char req[1024], buf[4096];
    snprintf(req, sizeof req,
             "GET /_syncfake/Services/%s/Streams/%s/Events HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
             "\r\n",
             service, stream, s->auth);
    assert_true(lb_send_str(fd, req, LB_IO_TIMEOUT_MS));
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_int_equal(lb_status(buf), 200);
    return fd;
}

/* Publishes n messages of ~4 KB on one kept-alive connection. */
static void publish_many(const lb_server *s, const char *service, const char *stream, int n)
{
    static char body[3 * DATA_CHARS];
    int len = snprintf(body, sizeof body, "Data=%%7B%%22p%%22%%3A%%22");
    memset(body + len, 'x', DATA_CHARS);
    len += DATA_CHARS;
    len += snprintf(body + len, sizeof body - (size_t)len, "%%22%%7D");
    static char request[3 * DATA_CHARS + 1024];
    char resp[16384];
    int head_len =
        snprintf(request, 1024,
                 "POST /v1/Services/%s/Streams/%s/Messages HTTP/1.1\r\nHost: 127.0.0.1\r\n%s\r\n"
                 "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n",
                 service, stream, s->auth, len);
    memcpy(request + head_len, body, (size_t)len); /* one write: no Nagle stall per request */
    int fd = lb_connect(s->port);
    assert_true(fd >= 0);
    for (int i = 0; i < n; i++) {
        assert_true(lb_send_all(fd, request, (size_t)(head_len + len), LB_IO_TIMEOUT_MS));
        assert_true(lb_read_response(fd, resp, sizeof resp, LB_IO_TIMEOUT_MS) > 0);
        if (lb_status(resp) != 201)
            fail_msg("publish %d: %.300s", i, resp);
    }
    close(fd);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Reads the whole journal page by page (GET /_syncfake/journal?since=&limit=) and counts the
 * unsubscribed entries and those cut for a full queue. */
static void journal_counts(lb_server *s, int *unsubscribed, int *queue_full)
{
    enum { PAGE = 10000 };
    size_t cap = (size_t)PAGE * 1024;
    char *page = malloc(cap);
    assert_non_null(page);
    unsigned long long since = 0;
    for (;;) {
        char target[96];
        snprintf(target, sizeof target, "/_syncfake/journal?limit=%d&since=%llu", PAGE, since);
        assert_int_equal(lb_request(s, "GET", target, NULL, page, cap), 200);
        *unsubscribed += count(page, "\"kind\":\"unsubscribed\"");
        *queue_full += count(page, "\"reason\":\"queue_full\"");
        int lines = count(page, "\n");
        const char *last = NULL;
        for (const char *p = strstr(page, "{\"seq\":"); p; p = strstr(p + 1, "{\"seq\":"))
            last = p;
        if (lines < PAGE || !last)
            break;
        since = strtoull(last + 7, NULL, 10);
    }
    free(page);
}

static void test_stalled_subscribers_are_cut(void **state)
{
    (void)state;
    bool default_cap = getenv("SF_SSE_CAP_DEFAULT") && atoi(getenv("SF_SSE_CAP_DEFAULT")) == 1;
    const char *args[] = {"--limit", "publish_rate_per_s=0", "--sse-queue-max", QUEUE_CAP, NULL};
    if (default_cap)
        args[2] = NULL;
    lb_server s;
    lb_start(&s, args);
    char service[64], stream[64];
    lb_make_stream(&s, service, stream);
    int fds[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fds[i] = stalled_subscriber(&s, service, stream);
    long before_kb = lb_rss_kb(s.pid);
    int n = messages();
    int64_t start = lb_now_ms();
    publish_many(&s, service, stream, n);
    long peak_kb = lb_peak_rss_kb(s.pid), after_kb = lb_rss_kb(s.pid);
    print_message("    %d messages in %lld ms; server RSS %ld KB before, %ld KB after, peak %ld "
                  "KB\n",
                  n, (long long)(lb_now_ms() - start), before_kb, after_kb, peak_kb);

    /* every stalled client was cut: reading on, it meets the end of the stream */
    for (int i = 0; i < CLIENTS; i++) {
        if (!lb_wait_closed(fds[i], LB_IO_TIMEOUT_MS))
            fail_msg("stalled client %d was not disconnected", i);
        close(fds[i]);
    }
    int unsubscribed = 0, queue_full = 0;
    journal_counts(&s, &unsubscribed, &queue_full);
    assert_int_equal(unsubscribed, CLIENTS);
    assert_int_equal(queue_full, CLIENTS);
    if (server_has_asan(s.pid))
        print_message("    AddressSanitizer server: RSS bound not checked\n");
    else if (!default_cap && peak_kb - before_kb > RSS_GROWTH_MAX_KB)
        fail_msg("server RSS grew by %ld KB (at most %d KB)", peak_kb - before_kb,
                 RSS_GROWTH_MAX_KB);
    /* still serving */
    assert_int_equal(lb_request(&s, "GET", "/v1/Services", NULL, NULL, 0), 200);
    lb_stop(&s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stalled_subscribers_are_cut),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
