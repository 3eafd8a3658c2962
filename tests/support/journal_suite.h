/* SPDX-License-Identifier: MIT */
/* journal_suite.h: what the test_journal_*.c suites share: fakes with a counting allocator
 * (released by the teardown whatever an assertion left), one scenario run alike on every
 * fake, the journal rendered and written whole, and a strict checker of its JSON lines.
 * Include it after <cmocka.h>. */
#ifndef SF_TEST_JOURNAL_SUITE_H
#define SF_TEST_JOURNAL_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOW0 SF_DEFAULT_EPOCH_MS

typedef struct jfake {
    sf_fake *fake;
    sf_test_alloc alloc;
    char svc[SF_SID_SIZE];
} jfake;

/* Fakes made by jfake_new*, tracked so that journal_teardown frees what a failed assertion
 * left; forget_fake stops tracking one. */
void forget_fake(jfake *j);

/* A tracked fake with a counting allocator and one service (svc). */
jfake *jfake_new_with(uint64_t seed, size_t journal_capacity, const sf_limits *limits);

jfake *jfake_new(uint64_t seed);

/* Frees the fake and checks that it gave back every block. */
void jfake_free(jfake *j);

/* Fails the test with err's message unless st is SF_OK. */
void jok(sf_status st, const sf_error *err);

/* A subscriber callback that counts events into the size_t at user (if any). */
void jcount_event(sf_fake *fake, const sf_event *ev, void *user);

/* Subscribe, publish and create a stream asserting success (jpublish returns the status). */
sf_subscriber_id jsubscribe(sf_fake *fake, const char *svc, const char *stream, uint64_t client_id,
                            size_t *counter);

sf_status jpublish(sf_fake *fake, const char *svc, const char *stream, const char *data,
                   uint64_t client_id, sf_message_record *m, sf_error *err);

void jmake_stream(sf_fake *fake, const char *svc, const char *name, long long ttl,
                  sf_stream_record *out);

/* The same calls for every fake: services, streams, subscribers, publishes under a
 * drop + jitter rule, clock moves, a failed fetch, an expiry, removals. */
void jscenario(sf_fake *f);

/* The journal rendered (sf_journal_render) / written (sf_journal_write) whole, from malloc. */
char *render_all(const sf_fake *fake, const sf_journal_filter *filter, size_t *len_out);

char *write_all(const sf_fake *fake, const sf_journal_filter *filter, size_t *len_out);

/* The keys of a journal line, in their order. */
enum {
    K_SEQ,
    K_T_MS,
    K_TIME,
    K_KIND,
    K_OP,
    K_METHOD,
    K_STATUS,
    K_CODE,
    K_INJECTED,
    K_SERVICE_SID,
    K_STREAM_SID,
    K_MESSAGE_SID,
    K_SUBSCRIBER_ID,
    K_RULE,
    K_UNTIL_MS,
    K_DUPLICATE,
    K_REASON,
    K_COUNT
};

typedef struct parsed_line {
    bool has[K_COUNT];
    long long num[K_COUNT];
    bool flag[K_COUNT];
    char str[K_COUNT][64];
} parsed_line;

/* The index of key k[0..n) in the order of journal keys, or -1. */
int key_index(const char *k, size_t n);

/* Parses line[0..len) (no newline) or fails the test naming the reason. */
void parse_line(const char *line, size_t len, parsed_line *out);

/* Checks every line of a rendering: shape, key order, per-kind keys, seq continuity.
 * Returns the number of lines; counts lines per kind into kinds[] when given. */
size_t check_lines(const char *text, size_t len, uint64_t first_seq,
                   size_t kinds[SF_JOURNAL_KIND_COUNT]);

/* cmocka teardown: frees the fakes a test left. */
int journal_teardown(void **state);

#endif
