/* SPDX-License-Identifier: MIT */
/* journal_params.h: recording each call's parameters beside the journal (journal_params.c
 * keeps them, journal_params_calls.c formats them), so that a journal can be replayed. */
#ifndef SF_JOURNAL_PARAMS_H
#define SF_JOURNAL_PARAMS_H

#include "internal.h"

/* The recorded calls that are not REST operations, journaled as kind `call`. */
#define SF__CALL_MAP(X)                                                                            \
    X(RECORD_START, "record.start")                                                                \
    X(CLOCK_SET, "clock.set")                                                                      \
    X(CLOCK_SAMPLE, "clock.sample")                                                                \
    X(RUN_UNTIL_IDLE, "run.until_idle")                                                            \
    X(FAULT_ADD, "fault.add")                                                                      \
    X(FAULT_REMOVE, "fault.remove")                                                                \
    X(INJECT_ERROR, "inject.error")                                                                \
    X(INJECT_CLEAR, "inject.clear")                                                                \
    X(SUBSCRIBE, "subscribe")                                                                      \
    X(UNSUBSCRIBE, "unsubscribe")                                                                  \
    X(HOLD, "subscriber.hold")                                                                     \
    X(HEAL, "subscriber.heal")                                                                     \
    X(DISCONNECT, "subscriber.disconnect")                                                         \
    X(RECONNECT, "subscriber.reconnect")                                                           \
    X(ACCOUNT_CREATE, "account.create")                                                            \
    X(API_KEY_CREATE, "api_key.create")                                                            \
    X(ACCOUNT_RESET, "account.reset")                                                              \
    X(WARN, "warn")                                                                                \
    X(REQUEST_REFUSED, "request.refused")

typedef enum sf__call_kind {
#define SF__CALL_ENUM(name, wire) SF__CALL_##name,
    SF__CALL_MAP(SF__CALL_ENUM)
#undef SF__CALL_ENUM
        SF__CALL_COUNT
} sf__call_kind;

const char *sf__call_name(unsigned kind); /* NULL when out of range */
bool sf__call_parse(const char *name, size_t len, sf__call_kind *out);

/* A growing text buffer with the fake's allocator, bounded by `max` bytes. */
typedef struct sf__pbuf {
    sf_fake *fake;
    char *data;
    size_t len, cap, max;
    bool failed; /* no memory, or past max */
    bool first;  /* no key written yet in the current object */
} sf__pbuf;

void sf__pb_init(sf__pbuf *pb, sf_fake *fake);
void sf__pb_free(sf__pbuf *pb);
void sf__pb_raw(sf__pbuf *pb, const char *s, size_t n);
void sf__pb_printf(sf__pbuf *pb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sf__pb_key(sf__pbuf *pb, const char *key);
void sf__pb_i64(sf__pbuf *pb, const char *key, int64_t v);
void sf__pb_u64(sf__pbuf *pb, const char *key, uint64_t v);
void sf__pb_bool(sf__pbuf *pb, const char *key, bool v);
void sf__pb_double(sf__pbuf *pb, const char *key, double v);
/* A byte string: "key":"..." when valid UTF-8, "key_hex":"..." otherwise, and
 * "key_len":n (nothing else) when it is longer than max. NULL: nothing. */
void sf__pb_bytes(sf__pbuf *pb, const char *key, const char *s, size_t n, size_t max);
void sf__pb_str(sf__pbuf *pb, const char *key, const char *s);

/* A call being recorded: its parameters are formatted when it starts, and journaled (as a
 * `call` entry) when the scope that declared SF__RECORDED ends. */
typedef struct sf__rec {
    sf_fake *fake;
    sf__call_kind kind;
    sf__pbuf pb; /* pb.data NULL: not recording */
} sf__rec;

bool sf__recording(const sf_fake *fake);
/* Starts a record of `kind`: "{" and the nested flag written; false when not recording. */
bool sf__rec_open(sf_fake *fake, sf__call_kind kind, sf__rec *rec);
void sf__rec_end(sf__rec *rec);
/* Declare after SF__OUTERMOST (cleanups run in reverse order: the entry is journaled before
 * a deferred sf_fake_free can run). */
#define SF__RECORDED(expr)                                                                         \
    sf__rec sf__recorded __attribute__((cleanup(sf__rec_end), unused)) = (expr)

/* Constructors, one per recorded call (journal_params_calls.c). */
sf__rec sf__rec_clock_set(sf_fake *fake, sf_ms now_ms);
sf__rec sf__rec_plain(sf_fake *fake, sf__call_kind kind);
sf__rec sf__rec_fault_add(sf_fake *fake, const sf_fault_params *p);
sf__rec sf__rec_id(sf_fake *fake, sf__call_kind kind, uint64_t id);
sf__rec sf__rec_inject(sf_fake *fake, const sf_error_injection *inj);
sf__rec sf__rec_subscribe(sf_fake *fake, const char *account_sid, const char *service_sid,
                          const char *stream_id, const sf_subscribe_params *p);
sf__rec sf__rec_unsubscribe(sf_fake *fake, sf_subscriber_id id, sf_unsubscribe_reason reason);
sf__rec sf__rec_heal(sf_fake *fake, sf_subscriber_id id, bool flush);
sf__rec sf__rec_account_create(sf_fake *fake, const sf_account_params *p);
sf__rec sf__rec_api_key_create(sf_fake *fake, const char *account_sid, const sf_api_key_params *p);
sf__rec sf__rec_account_reset(sf_fake *fake, const char *account_sid);
/* What only an adapter sees (sf_warn, sf_journal_request_refused): recorded so that a replay
 * journals the same `warning` and `refused` entries. */
sf__rec sf__rec_warn(sf_fake *fake, const char *account_sid, sf_op op, const char *service_sid,
                     const char *stream_id, const char *param, const char *suggestion,
                     const char *message);
sf__rec sf__rec_request_refused(sf_fake *fake, const char *account_sid, const char *method,
                                sf_status status, sf_refusal reason);

/* The clock moved (non-manual clocks) to `now` and events are due: a clock.sample entry. */
void sf__rec_clock_sample(sf_fake *fake, sf_ms now);
/* Journals record.start with the fake's options (recording must be on). */
void sf__rec_start(sf_fake *fake);
/* Attaches an API call's parameters to its `api` entry (sf__call_end). */
void sf__rec_api(sf_fake *fake, sf__jentry *e, const sf__call *call);
/* The same for sf_journal_refused_as. */
void sf__rec_refused(sf_fake *fake, sf__jentry *e, const char *account_sid, const char *service_sid,
                     const char *stream_id, sf_status status);

/* The store (journal_params.c). */
void sf__params_attach(sf_fake *fake, sf__jentry *e, sf__pbuf *pb);
void sf__params_release(sf_fake *fake);
/* Called by sf_fake_new/sf_fake_reset: recording per the options, record.start journaled. */
sf_status sf__params_start(sf_fake *fake);
/* Recording on without a record.start entry: a replay that continues a recorded journal
 * from a snapshot (whose options do not hold the switch). */
sf_status sf__params_continue(sf_fake *fake);

#endif
