/* SPDX-License-Identifier: MIT */
/* ts_client.h: the Twilsock side of the loopback suites' client, over ws_client.h: one
 * Twilsock message out as one binary WebSocket message, written exactly as given (so a suite
 * can replay an SDK's bytes), and the next message of a given method in. Helpers fail the test
 * through cmocka: include this after <cmocka.h>. */
#ifndef SF_TEST_TS_CLIENT_H
#define SF_TEST_TS_CLIENT_H

#include <stddef.h>

#define TSC_TIMEOUT_MS 5000

/* Sends "TWILSOCK V3.0 <strlen(header)>\r\n<header>\r\n<payload>" (payload may be ""). */
void tsc_send(int fd, const char *header, const char *payload);

/* The next Twilsock message whose header starts {"method":"<method>", others skipped (pings
 * and other WebSocket control frames too); malloc'd and NUL-terminated. Fails the test when
 * none comes within TSC_TIMEOUT_MS of each read or the connection closes first. With the
 * environment variable TS_DEBUG set, every message read is printed to stderr. */
char *tsc_next(int fd, const char *method);

/* The payload of a message (what follows the header's CRLF), or "" when it has none. */
const char *tsc_payload(const char *msg);

#endif
