/* SPDX-License-Identifier: MIT */
/* faults_suite.h: what the test_faults_*.c suites share: recorders of delivered events (recs,
 * by index), extra fixtures and scratch memory released by faults_teardown, and helpers that
 * subscribe, publish, add rules and read stats asserting success. Include it after
 * <cmocka.h>. */
#ifndef SF_TEST_FAULTS_SUITE_H
#define SF_TEST_FAULTS_SUITE_H

#include "calls.h"
#include "fixture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KIND(k) (1u << (k))
typedef struct rec_event {
    sf_event_kind kind;
    sf_subscriber_id sub;
    char message_sid[SF_SID_SIZE];
    char stream_sid[SF_SID_SIZE];
    sf_ms published_ms, delivered_ms;
    bool is_duplicate;
    sf_removed_reason reason;
    int payload; /* the "i" of {"i":N}, -1 when absent */
} rec_event;

typedef struct recorder {
    rec_event *ev;
    size_t n, cap;
} recorder;

#define NREC 32
#define NEXTRA 4
#define NSCRATCH 8
extern recorder recs[NREC]; /* recorder i is the user of faults_subscribe(.., i) */

/* Zeroed memory freed by faults_teardown. */
void *scratch_alloc(size_t size);

/* Frees the recorders' events (setups and teardown). */
void recs_release(void);

/* cmocka setup: recorders emptied, then the fixture. */
int faults_setup(void **state);

/* Like faults_setup, with the publish rate limit lifted. */
int faults_setup_unlimited(void **state);

int faults_teardown(void **state);

/* A second fake, freed (and leak-checked) by the teardown. */
sf_fixture *extra_fixture(uint64_t seed, bool unlimited);

/* Records an event into the recorder given as user. */
void faults_on_event(sf_fake *fake, const sf_event *e, void *user);

/* Subscribes recording into recs[rec]; publishes {"i":i} (its SID into sid_out if given);
 * adds a rule; reads stats and rules; advances the clock: each asserting success. */
sf_subscriber_id faults_subscribe(sf_fixture *fx, const char *stream, int rec);

void faults_publish(sf_fixture *fx, const char *stream, int i, char sid_out[SF_SID_SIZE]);

sf_fault_id add_fault(sf_fixture *fx, const sf_fault_params *p);

sf_subscriber_stats fault_sub_stats(sf_fixture *fx, sf_subscriber_id id);

void advance_ms(sf_fixture *fx, sf_ms ms);

sf_fault_info fault_info(sf_fixture *fx, sf_fault_id id);

/* Message SID -> publish index, for reading the journal. */
#define MAXMSG 1000
typedef struct msgkey {
    char sid[SF_SID_SIZE];
    int idx;
} msgkey;

typedef struct msgmap {
    msgkey keys[MAXMSG];
    size_t n;
    bool sorted;
} msgmap;

/* A sorted map from message SID to the index of its publish. */
int msgkey_cmp(const void *a, const void *b);

void msgmap_add(msgmap *m, const char *sid, int idx);

int msgmap_find(msgmap *m, const char *sid);

msgmap *msgmap_new(void);

#endif
