/* SPDX-License-Identifier: MIT */
/* ts_client.c: see ts_client.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ts_client.h"
#include "ws_client.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tsc_send(int fd, const char *header, const char *payload)
{
    size_t cap = strlen(header) + strlen(payload) + 48;
    char *msg = malloc(cap);
    assert_non_null(msg);
    int n = snprintf(msg, cap, "TWILSOCK V3.0 %zu\r\n%s\r\n%s", strlen(header), header, payload);
    assert_true(n > 0 && (size_t)n < cap);
    assert_true(sf_wsc_send(fd, true, 2, msg, (size_t)n));
    free(msg);
}

char *tsc_next(int fd, const char *method)
{
    char want[64];
    int wn = snprintf(want, sizeof want, "{\"method\":\"%s\"", method);
    assert_true(wn > 0 && (size_t)wn < sizeof want);
    for (;;) {
        sf_wsc_frame f = sf_wsc_read(fd, TSC_TIMEOUT_MS);
        if (f.opcode != 1 && f.opcode != 2) {
            free(f.data);
            if (f.opcode < 0 || f.opcode == 8)
                fail_msg("no %s message (opcode %d)", method, f.opcode);
            continue; /* a ping or pong */
        }
        char *m = (char *)f.data;
        if (getenv("TS_DEBUG"))
            fprintf(stderr, "<< %s\n", m);
        const char *header = strstr(m, "\r\n");
        if (header && strncmp(header + 2, want, (size_t)wn) == 0)
            return m;
        free(m);
    }
}

const char *tsc_payload(const char *msg)
{
    const char *h = strstr(msg, "\r\n");
    const char *p = h ? strstr(h + 2, "\r\n") : NULL;
    return p ? p + 2 : "";
}
