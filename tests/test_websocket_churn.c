/* SPDX-License-Identifier: MIT */
/* test_websocket_churn.c: 20 clients open and close WebSockets of the loopback server (four
 * rounds each, some with a close handshake, some abruptly) while another thread sends to every
 * open connection (websocket_suite.h's ws_echo.live, under its lock): every client gets the
 * messages in order, every open() gets exactly one closed(), and no send touches a connection
 * after its closed(). Run it under ThreadSanitizer too (make tsan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "loopback.h"
#include "websocket_suite.h"
#include "ws_client.h"

/* ---- 20 connections opening and closing while another thread sends ---- */

static atomic_bool broadcasting;
static atomic_long broadcast_sent;

static void *broadcaster(void *arg)
{
    (void)arg;
    uint64_t seq = 0;
    while (atomic_load(&broadcasting)) {
        pthread_mutex_lock(&ws_echo.lock);
        for (int i = 0; i < WS_MAX_CONNS; i++) {
            if (!ws_echo.live[i])
                continue;
            uint8_t msg[16] = "seq:";
            memcpy(msg + 4, &seq, 8);
            if (sf_ws_send(ws_echo.live[i]->conn, msg, 12))
                atomic_fetch_add(&broadcast_sent, 1);
        }
        pthread_mutex_unlock(&ws_echo.lock);
        seq++;
        lb_sleep_ms(1);
    }
    return NULL;
}

typedef struct churn_arg {
    uint16_t port;
    int id;
    int failures;
    int received;
} churn_arg;

static void *churn(void *arg)
{
    churn_arg *a = arg;
    for (int round = 0; round < 4; round++) {
        int fd = sf_wsc_open_key(a->port, WS_PATH, NULL);
        if (fd < 0) {
            a->failures++;
            continue;
        }
        /* read a few broadcast messages, in order */
        uint64_t last = 0;
        bool first = true;
        for (int k = 0; k < 3; k++) {
            sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
            if (f.opcode != 2 || f.len != 12 || memcmp(f.data, "seq:", 4) != 0) {
                a->failures++;
                free(f.data);
                break;
            }
            uint64_t seq;
            memcpy(&seq, f.data + 4, 8);
            if (!first && seq <= last)
                a->failures++;
            first = false;
            last = seq;
            a->received++;
            free(f.data);
        }
        if ((a->id + round) % 3 == 0) {
            close(fd); /* abrupt */
        } else {
            uint8_t p[2] = {0x03, 0xe8};
            if (!sf_wsc_send(fd, true, 8, p, 2))
                a->failures++;
            /* broadcast frames may come before the close reply */
            for (;;) {
                sf_wsc_frame f = sf_wsc_read(fd, WS_IO_TIMEOUT_MS);
                free(f.data);
                if (f.opcode == 8)
                    break;
                if (f.opcode < 0) {
                    a->failures++;
                    break;
                }
            }
            close(fd);
        }
    }
    return NULL;
}

static void test_churn_with_sender(void **state)
{
    ws_env *e = *state;
    int o0, c0;
    ws_settled_counts(&o0, &c0);
    atomic_store(&broadcasting, true);
    pthread_t b;
    assert_int_equal(pthread_create(&b, NULL, broadcaster, NULL), 0);
    enum { N = 20 };
    pthread_t t[N];
    churn_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (churn_arg){e->port, i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, churn, &args[i]), 0);
    }
    int failures = 0, received = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        failures += args[i].failures;
        received += args[i].received;
    }
    assert_int_equal(failures, 0);
    assert_int_equal(received, N * 4 * 3);
    assert_true(ws_wait_closed(c0 + N * 4));
    atomic_store(&broadcasting, false);
    pthread_join(b, NULL);
    int o, c;
    ws_counts(&o, &c);
    assert_int_equal(o, o0 + N * 4);
    assert_int_equal(c, c0 + N * 4);
    assert_false(atomic_load(&ws_echo.double_close));
    assert_true(atomic_load(&broadcast_sent) > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_churn_with_sender),
    };
    return cmocka_run_group_tests_name("websocket_churn", tests, ws_env_setup, ws_env_teardown);
}
