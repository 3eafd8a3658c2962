/* SPDX-License-Identifier: MIT */
/* snap_ops.h: a seeded driver of random C API calls for the snapshot suites. Each step makes
 * one call (or a clock move) chosen from the driver's own PRNG and the SIDs, ids and page
 * tokens earlier answers gave it, and writes the answer to a text log; subscriber callbacks
 * write their events to the log they were given. Two fakes that answer alike drive two
 * drivers of the same seed alike. */
#ifndef SF_TEST_SNAP_OPS_H
#define SF_TEST_SNAP_OPS_H

#include "syncfake.h"

#include <stddef.h>
#include <stdint.h>

typedef struct sf_ops_log {
    char *buf;
    size_t len, cap;
} sf_ops_log;

#define SF_OPS_MAX 24

typedef struct sf_ops_driver {
    uint64_t rng;
    char accounts[4][SF_SID_SIZE];
    size_t naccounts;
    char services[SF_OPS_MAX][SF_SID_SIZE];
    size_t nservices;
    int service_account[SF_OPS_MAX]; /* index into accounts; -1: the default account */
    char streams[SF_OPS_MAX][SF_SID_SIZE];
    int stream_service[SF_OPS_MAX]; /* index into services */
    size_t nstreams;
    /* the target of the current call: mostly a stream with its own service and account */
    const char *cur_account, *cur_service, *cur_stream;
    sf_subscriber_id subs[SF_OPS_MAX];
    size_t nsubs;
    sf_fault_id rules[SF_OPS_MAX];
    size_t nrules;
    char token[SF_PAGE_TOKEN_SIZE];
    unsigned names;
} sf_ops_driver;

void sf_ops_init(sf_ops_driver *d, uint64_t seed);
/* One random call on fake; its answer goes to log (and new subscribers' events too). */
void sf_ops_step(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log);
/* The callback the driver subscribes with: `user` is an sf_ops_log. */
void sf_ops_on_event(sf_fake *fake, const sf_event *event, void *user);
void sf_ops_printf(sf_ops_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sf_ops_log_free(sf_ops_log *log);

#endif
