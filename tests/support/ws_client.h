/* SPDX-License-Identifier: MIT */
/* ws_client.h: a minimal blocking WebSocket client for loopback tests: the upgrade, masked
 * frames out, frames in, every socket operation under a poll() deadline. Its functions may be
 * called from several threads at once (the masks and keys come from atomic sequences). */
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

/* The same as a browser may spell it ("Upgrade: WebSocket", "Connection: keep-alive, Upgrade")
 * with the client's key `key` (NULL: a fresh one each call, sf_wsc_new_key); -1 too when the
 * 101 lacks the Sec-WebSocket-Accept that answers the key (RFC 6455 4.2.2). */
int sf_wsc_open_key(uint16_t port, const char *path, const char *key);

/* A fresh Sec-WebSocket-Key: 16 bytes of a fixed sequence in base64 (24 characters). */
void sf_wsc_new_key(char out[25]);

/* The Sec-WebSocket-Accept that answers `key`: base64(SHA-1(key + the RFC's GUID)). */
void sf_wsc_accept(const char *key, char out[29]);

/* Reads an HTTP response head up to its blank line into buf (NUL-terminated), byte by byte so
 * that no frame byte after it is consumed; false on timeout, EOF or a head over cap - 1 bytes. */
bool sf_wsc_read_head(int fd, char *buf, size_t cap, int timeout_ms);

/* Sends raw bytes (all of them, within 5 s). */
bool sf_wsc_send_raw(int fd, const void *data, size_t len);

/* One client frame (masked), in one send. */
bool sf_wsc_send(int fd, bool fin, int opcode, const void *payload, size_t len);

/* The bytes of one masked client frame (malloc'd; *out_len bytes), for tests that send
 * several frames in one write or tamper with a header. */
uint8_t *sf_wsc_frame_bytes(bool fin, int opcode, const void *payload, size_t len, size_t *out_len);

/* Reads one frame within timeout_ms (the payload then within 5 s). A connection reset before
 * the frame's first byte reads as EOF (-1), as a close does. */
sf_wsc_frame sf_wsc_read(int fd, int timeout_ms);

/* The status code of a close frame (0 when it has none). */
uint16_t sf_wsc_close_code(const sf_wsc_frame *f);

#endif
