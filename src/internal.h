/* internal.h: the service model's data structures, shared by the files of src/ only. */
#ifndef SF_INTERNAL_H
#define SF_INTERNAL_H

#include "syncfake.h"

#include <stddef.h>
#include <stdint.h>

#include "order_index.h"
#include "timerq.h"

#include <uthash.h>

#define SF__CONTAINER_OF(ptr, type, member) ((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* SID kinds: each has its own counter so that, e.g., publishing messages does not change the
 * SIDs of streams created later. */
typedef enum sf__sid_kind {
    SF__SID_ACCOUNT = 0,
    SF__SID_SERVICE,
    SF__SID_STREAM,
    SF__SID_MESSAGE,
    SF__SID_API_KEY,
    SF__SID_SECRET, /* not a SID: auth tokens and key secrets */
    SF__SID_KIND_COUNT
} sf__sid_kind;

typedef struct sf__account sf__account;
typedef struct sf__service sf__service;
typedef struct sf__stream sf__stream;

struct sf__account {
    char sid[SF_SID_SIZE];
    char auth_token[SF_SECRET_CAP];
    uint64_t seq;            /* creation order; also the identity of its service list */
    sf__order_index services;
    UT_hash_handle hh;       /* fake->accounts, by sid */
};

typedef struct sf__api_key {
    char sid[SF_SID_SIZE];
    char secret[SF_SECRET_CAP];
    sf__account *account;
    UT_hash_handle hh;       /* fake->api_keys, by sid */
} sf__api_key;

/* A unique name, allocated only for streams that have one. */
typedef struct sf__stream_name {
    sf__stream *stream;
    size_t len;
    UT_hash_handle hh;       /* service->names, by name bytes */
    char text[];
} sf__stream_name;

struct sf__service {
    char sid[SF_SID_SIZE];
    sf__account *account;
    char *friendly_name;     /* NULL: null */
    char *webhook_url;       /* NULL: null */
    bool webhooks_from_rest_enabled;
    bool reachability_webhooks_enabled;
    bool acl_enabled;
    bool reachability_debouncing_enabled;
    int64_t reachability_debouncing_window;
    sf_ms date_created;
    sf_ms date_updated;
    sf__order_node order;    /* in account->services, keyed by creation seq */
    sf__order_index streams; /* live streams in creation order */
    sf__stream_name *names;  /* uthash head: unique name -> stream */
    UT_hash_handle hh;       /* fake->services, by sid */
};

/* Token bucket in milli-tokens: integer arithmetic keeps it exact for any whole rate. */
typedef struct sf__bucket {
    uint64_t milli_tokens;
    sf_ms refilled_at;
} sf__bucket;

struct sf__stream {
    char sid[SF_SID_SIZE];
    sf__service *service;
    sf__stream_name *name;   /* NULL: no unique name */
    sf_ms date_created;
    sf_ms date_updated;
    sf_ms date_expires;      /* SF__NEVER when it never expires */
    sf__bucket bucket;
    sf__timer expiry;        /* queued while date_expires != SF__NEVER */
    sf__order_node order;    /* in service->streams, keyed by creation seq */
    UT_hash_handle hh;       /* fake->streams, by sid */
};

#define SF__NEVER INT64_MAX

struct sf_fake {
    sf_options opts;         /* strings point into the copies below */
    char account_sid_copy[SF_SID_SIZE];
    char auth_token_copy[SF_SECRET_CAP];
    char base_url_copy[SF_BASE_URL_CAP];
    sf_allocator alloc;

    sf_ms now;               /* latest time seen; never goes backwards */
    uint64_t next_seq;       /* creation order of accounts, services, streams */
    uint64_t sid_counter[SF__SID_KIND_COUNT];

    sf__account *default_account;
    sf__account *accounts;   /* uthash head, by sid */
    sf__api_key *api_keys;   /* uthash head, by sid */
    sf__service *services;   /* uthash head, by sid: every account's */
    sf__stream *streams;     /* uthash head, by sid: every service's */

    sf__timerq timers;       /* expiries, in (due, seq) order */

    /* Scratch for publish: JSON tokens and the compacted data handed back as borrowed. */
    void *json_tokens;
    void *json_frames;
    size_t json_token_cap;
    char *data_out;
    size_t data_out_cap;
};

/* ---- memory (mem.c) ---- */
void *sf__malloc(sf_fake *fake, size_t size);
void *sf__realloc(sf_fake *fake, void *ptr, size_t size);
void sf__free(sf_fake *fake, void *ptr);
char *sf__strndup(sf_fake *fake, const char *s, size_t len);

/* ---- errors (status.c) ---- */
/* Fills err (may be NULL) for `status`, returns status. */
sf_status sf__fail(sf_error *err, sf_status status);
/* 404 with the requested path (without /v1) in the message. */
sf_status sf__not_found(sf_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* An error whose message carries detail (C-only errors). */
sf_status sf__fail_detail(sf_error *err, sf_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sf__ok(sf_error *err);

/* ---- clock (clock.c) ---- */
/* Samples the clock once, runs everything due up to it, returns "now" for the call. */
sf_ms sf__begin(sf_fake *fake);
/* Runs events with due <= until in (due, seq) order; returns how many ran. */
size_t sf__run_until(sf_fake *fake, sf_ms until);

/* ---- randomness and SIDs (rng.c, sid.c) ---- */
uint64_t sf__mix64(uint64_t x);
uint64_t sf__hash3(uint64_t seed, uint64_t a, uint64_t b);
void sf__sid_mint(sf_fake *fake, sf__sid_kind kind, char out[SF_SID_SIZE]);
/* The SID that sf__sid_mint would give next, without spending it. */
void sf__sid_peek(const sf_fake *fake, sf__sid_kind kind, char out[SF_SID_SIZE]);
void sf__sid_commit(sf_fake *fake, sf__sid_kind kind);
void sf__secret_mint(sf_fake *fake, char out[33]);

/* ---- tables (tables.c): every uthash operation lives there ---- */
bool sf__table_add_account(sf_fake *fake, sf__account *a);
bool sf__table_add_api_key(sf_fake *fake, sf__api_key *k);
bool sf__table_add_service(sf_fake *fake, sf__service *s);
bool sf__table_add_stream(sf_fake *fake, sf__stream *s);
bool sf__table_add_name(sf_fake *fake, sf__service *svc, sf__stream_name *n);
void sf__table_del_account(sf_fake *fake, sf__account *a);
void sf__table_del_api_key(sf_fake *fake, sf__api_key *k);
void sf__table_del_service(sf_fake *fake, sf__service *s);
void sf__table_del_stream(sf_fake *fake, sf__stream *s);
void sf__table_del_name(sf_fake *fake, sf__service *svc, sf__stream_name *n);
sf__account *sf__find_account(sf_fake *fake, const char *sid);
sf__api_key *sf__find_api_key(sf_fake *fake, const char *sid);
sf__service *sf__find_service_any(sf_fake *fake, const char *sid);
sf__stream *sf__find_stream_sid(sf_fake *fake, const char *sid);
sf__stream *sf__find_stream_name(sf_fake *fake, sf__service *svc, const char *name, size_t len);

/* ---- lookups with Twilio's errors (lookup.c) ---- */
sf_status sf__resolve_account(sf_fake *fake, const char *account_sid, sf__account **out,
                              sf_error *err);
/* 404 message names `path_suffix` after the service path ("" for the service itself). */
sf_status sf__resolve_service(sf_fake *fake, const char *account_sid, const char *service_sid,
                              sf__service **out, sf_error *err);
sf_status sf__resolve_stream(sf_fake *fake, const char *account_sid, const char *service_sid,
                             const char *stream_id, const char *path_suffix, sf__stream **out,
                             sf_error *err);

/* ---- streams (stream.c) ---- */
/* Unlinks and frees a stream: from its service, the SID table, the name table, the timers. */
void sf__stream_destroy(sf_fake *fake, sf__stream *s);
void sf__stream_expire(sf_fake *fake, sf__stream *s);

/* ---- services (service.c) ---- */
void sf__service_destroy(sf_fake *fake, sf__service *svc);

/* ---- accounts (account.c) ---- */
void sf__account_destroy(sf_fake *fake, sf__account *a);
sf_status sf__account_add(sf_fake *fake, const char *sid, const char *token,
                          sf__account **out, sf_error *err);

/* ---- rate limit (ratelimit.c) ---- */
void sf__bucket_init(const sf_fake *fake, sf__bucket *b, sf_ms now);
/* Whether a publish is allowed at now; does not change the bucket. */
bool sf__bucket_allows(const sf_fake *fake, const sf__bucket *b, sf_ms now);
/* Takes one token at now (only after sf__bucket_allows said yes). */
void sf__bucket_take(const sf_fake *fake, sf__bucket *b, sf_ms now);
void sf__bucket_state(const sf_fake *fake, const sf__bucket *b, sf_ms now, sf_rate_state *out);

/* ---- paging (paging.c) ---- */
typedef struct sf__page_plan {
    sf__order_node *first; /* first node of the page, NULL when empty */
    size_t count;
    sf_page_info info;
} sf__page_plan;
sf_status sf__page_plan_make(sf_fake *fake, const sf__order_index *idx, uint64_t list_id,
                             const sf_page_params *params, sf__page_plan *plan, sf_error *err);

/* ---- JSON (json_check.c) ---- */
sf_status sf__json_scratch_init(sf_fake *fake);
/* Validates and compacts with caller-provided scratch: `cap` tokens and `cap` frames. */
sf_status sf__json_compact_with(void *tokens, void *frames, size_t cap, const char *text,
                                size_t len, char *out, size_t *out_len);
size_t sf__json_token_budget(size_t max_len);

/* ---- checks ---- */
bool sf__valid_secret(const char *s);

#endif /* SF_INTERNAL_H */
