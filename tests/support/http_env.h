/* SPDX-License-Identifier: MIT */
/* http_env.h: the fixture of the test_http_server_*.c suites: a manual-clock fake (seed
 * HTTP_ENV_SEED, base URL HTTP_ENV_BASE_URL, no publish rate limit) behind the loopback server
 * (fake_http/server/server.c) on a free port of 127.0.0.1, with the account's Basic
 * credentials; and the steps the suites take over HTTP (http_client.h): a service, streams,
 * publishes, an event-stream subscription, the journal. Helpers fail the test through cmocka:
 * include this after <cmocka.h>. */
#ifndef SF_TEST_HTTP_ENV_H
#define SF_TEST_HTTP_ENV_H

#include "http_client.h"
#include "server.h"
#include "syncfake.h"

#include <stddef.h>
#include <stdint.h>

#define HTTP_ENV_SEED 7
#define HTTP_ENV_BASE_URL "http://127.0.0.1"

typedef struct http_env {
    sf_fake *fake;
    sf_server *srv; /* a test that stops the server itself sets it to NULL */
    uint16_t port;
    char auth[512];            /* "Basic ..." of the account */
    char service[SF_SID_SIZE]; /* set by http_env_service */
} http_env;

/* A fake made as the fixture's (its twin), asserting success. */
sf_fake *http_env_new_fake(void);

/* cmocka setup and teardown: *state is the http_env; the teardown stops the server (unless
 * srv is NULL) and frees the fake. */
int http_env_setup(void **state);
int http_env_teardown(void **state);

/* Connects c to the fixture's server (failing the test when it cannot). */
void http_env_connect(http_env *e, hconn *c);
/* Creates the fixture's service over HTTP: its SID into e->service. */
void http_env_service(http_env *e, hconn *c);
/* Creates a stream of e->service (unique_name may be NULL); its SID into sid. */
void http_create_stream(http_env *e, hconn *c, const char *unique_name, char sid[SF_SID_SIZE]);
/* Publishes {"n":i,"tag":"a b"} to stream (a SID or unique name); the message SID into sid. */
void http_publish(http_env *e, hconn *c, const char *stream, int i, char sid[SF_SID_SIZE]);

/* "/_syncfake/Services/<service>/Streams/<stream>/Events" into out. */
void http_events_target(const http_env *e, const char *stream, char *out, size_t cap);
/* Connects c, opens the event stream of `stream` on it and reads its `subscribed` event;
 * returns the subscriber id. */
long long http_subscribe(http_env *e, hconn *c, sse_reader *s, const char *stream);

/* The whole journal (GET /_syncfake/journal, page after page): its lines, malloc'd. */
char *http_journal(http_env *e, hconn *c);
/* Journal lines holding every one of the fragments a, b, d (NULL: any), each not followed by
 * a digit (so "\"rule\":1" does not match 12). */
size_t http_journal_count(const char *text, const char *a, const char *b, const char *d);

#endif
