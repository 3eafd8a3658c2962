/* SPDX-License-Identifier: MIT */
/* ws_client.h: a minimal blocking WebSocket client for loopback tests: the upgrade, masked
 * frames out, frames in, every socket operation under a poll() deadline. */
#ifndef SF_TEST_WS_CLIENT_H
#define SF_TEST_WS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sf_wsc_frame {
    bool fin;
    int opcode;    /* 1 text, 2 binary, 8 close, 9 ping, 10 pong; -1 EOF; -2 timeout or garbage */
    uint8_t *data; /* malloc'd, NUL-terminated; free() it */
    size_t len;
} sf_wsc_frame;

/* Connects to 127.0.0.1:port and upgrades at path; the socket, or -1. */
int sf_wsc_open(uint16_t port, const char *path);

/* Sends raw bytes (all of them, within 5 s). */
bool sf_wsc_send_raw(int fd, const void *data, size_t len);

/* One client frame (masked), in one send. */
bool sf_wsc_send(int fd, bool fin, int opcode, const void *payload, size_t len);

/* The bytes of one masked client frame (malloc'd; *out_len bytes), for tests that send
 * several frames in one write or tamper with a header. */
uint8_t *sf_wsc_frame_bytes(bool fin, int opcode, const void *payload, size_t len, size_t *out_len);

/* Reads one frame within timeout_ms (the payload then within 5 s). */
sf_wsc_frame sf_wsc_read(int fd, int timeout_ms);

/* The status code of a close frame (0 when it has none). */
uint16_t sf_wsc_close_code(const sf_wsc_frame *f);

#endif
