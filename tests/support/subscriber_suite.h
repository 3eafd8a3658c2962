/* SPDX-License-Identifier: MIT */
/* subscriber_suite.h: what the test_subscriber_*.c suites share: recorders of every event a
 * subscriber gets (with an optional action run from the callback and a shared trace of the
 * order), publishing, stats, and the shape of `removed` events. Include it after <cmocka.h>. */
#ifndef SF_TEST_SUBSCRIBER_SUITE_H
#define SF_TEST_SUBSCRIBER_SUITE_H

#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NOW0 SF_DEFAULT_EPOCH_MS
/* One event as seen by a callback, copied out of the borrowed pointers. */
typedef struct rec_event {
    sf_event_kind kind;
    sf_subscriber_id subscriber;
    char service_sid[SF_SID_SIZE];
    char stream_sid[SF_SID_SIZE];
    char message_sid[SF_SID_SIZE];
    bool has_message_sid;
    char data[96];
    size_t data_len;
    bool data_ok; /* data was NUL-terminated at data_len and fitted the copy */
    bool is_local, is_duplicate;
    sf_ms published_ms, delivered_ms;
    sf_removed_reason reason;
    sf_ms clock_in_callback; /* sf_clock_now() read from inside the callback */
} rec_event;

/* The order in which events reached every subscriber of a test (shared by recorders). */
typedef struct trace_item {
    sf_subscriber_id subscriber;
    sf_event_kind kind;
    char message_sid[SF_SID_SIZE];
} trace_item;

typedef struct trace {
    trace_item items[256];
    size_t n;
    int depth;     /* callbacks currently running */
    int max_depth; /* deepest nesting of callbacks seen */
    bool overflow;
} trace;

typedef struct recorder recorder;

typedef void (*rec_action)(sf_fake *fake, const sf_event *ev, recorder *r);

struct recorder {
    rec_event *ev;
    size_t n, cap;
    bool overflow;
    trace *log;        /* optional */
    rec_action action; /* optional: what the callback does after recording */
    sf_subscriber_id id;

    /* context for actions */
    sf_fixture *fx;
    const char *stream_id;
    const char *other_stream_id;
    int budget; /* how many more times the action may act */
    int counter;
    sf_subscriber_id target; /* a subscriber an action works on */
    recorder *spawn;         /* a recorder an action subscribes */
    sf_status statuses[16];  /* statuses of API calls made by the action */
    sf_error errors[8];
    size_t nstatus;
    char nested_sids[8][SF_SID_SIZE];
    size_t nested;
    size_t seen[8]; /* watch->n right after each nested call returned */
    size_t nseen;
    recorder *watch; /* the recorder whose count is sampled */
};

/* Recorders, freed by subscriber_teardown when a test fails before rec_free. */
recorder *rec_new(trace *log);

void rec_free(recorder *r);

/* The fixture's teardown (which fails on a leak inside the fake), then the recorders. */
int subscriber_teardown(void **state);

/* Copies a SID (or "" for NULL) into out. */
void copy_sid(char out[SF_SID_SIZE], const char *in);

/* Records ev into the recorder at user, then runs its action. */
void rec_on_event(sf_fake *fake, const sf_event *ev, void *user);

/* Events of one kind a recorder got; a recorder's subscription; publishing (publish_ok
 * asserts success); stats; the fields of a `removed` event. */
size_t count_kind(const recorder *r, sf_event_kind kind);

sf_subscriber_id attach(sf_fixture *fx, const char *stream_id, recorder *r, uint64_t client_id);

sf_status publish_c(sf_fake *fake, const char *service_sid, const char *stream_id, const char *data,
                    uint64_t client_id, sf_message_record *m, sf_error *err);

/* Publishes and asserts success; returns the message SID in `sid`. */
void publish_ok(sf_fixture *fx, const char *stream_id, const char *data, uint64_t client_id,
                char sid[SF_SID_SIZE]);

sf_subscriber_stats sub_stats(sf_fixture *fx, sf_subscriber_id id);

sf_stream_stats stream_stats(sf_fixture *fx, const char *stream_id);

void assert_removed(const rec_event *e, sf_subscriber_id id, const char *service_sid,
                    const char *stream_sid, sf_removed_reason reason, sf_ms at);

#endif
