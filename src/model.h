/* SPDX-License-Identifier: MIT */
/* model.h: the service model's data structures (accounts, services, streams, messages,
 * subscribers, rules, the journal, the fake), shared by the files of src/ only; the functions
 * over them are declared in internal.h. */
#ifndef SF_MODEL_H
#define SF_MODEL_H

#include "syncfake.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
    uint64_t seq; /* creation order; also the identity of its service list */
    sf__order_index services;
    UT_hash_handle hh; /* fake->accounts, by sid */
};

typedef struct sf__api_key {
    char sid[SF_SID_SIZE];
    char secret[SF_SECRET_CAP];
    sf__account *account;
    UT_hash_handle hh; /* fake->api_keys, by sid */
} sf__api_key;

/* A unique name, allocated only for streams that have one. */
typedef struct sf__stream_name {
    sf__stream *stream;
    size_t len;
    UT_hash_handle hh; /* service->names, by name bytes */
    char text[];
} sf__stream_name;

struct sf__service {
    char sid[SF_SID_SIZE];
    uint8_t packed[16]; /* the SID's bits, for the journal */
    sf__account *account;
    char *friendly_name; /* NULL: null */
    char *webhook_url;   /* NULL: null */
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
    bool dying;              /* being removed: invisible to calls made from callbacks */
    UT_hash_handle hh;       /* fake->services, by sid */
};

/* Token bucket in milli-tokens: integer arithmetic keeps it exact for any whole rate. */
typedef struct sf__bucket {
    uint64_t milli_tokens;
    sf_ms refilled_at;
} sf__bucket;

/* Records of one size in one allocation (slab.c): a restore's streams. */
typedef struct sf__slab {
    struct sf__slab *prev, *next; /* fake->slabs */
    size_t size, cap, used;       /* record bytes, records, records handed out */
    size_t live;                  /* handed out and not yet put back: freed at 0 */
    alignas(max_align_t) unsigned char data[];
} sf__slab;

/* Its SID is kept as its 16 bytes only (sf__stream_sid renders the text): a million streams
 * are 35 MB smaller, and a restore renders nothing. */
struct sf__stream {
    uint8_t packed[16]; /* the SID's bits */
    bool lagging;       /* past date_expires, kept alive by an expiry-lag rule */
    sf__slab *slab;     /* the block it was carved from; NULL: allocated on its own */
    sf__service *service;
    sf__stream_name *name; /* NULL: no unique name */
    sf_ms date_created;
    sf_ms date_updated;
    sf_ms date_expires; /* SF__NEVER when it never expires */
    sf__bucket bucket;
    sf__timer expiry;                             /* queued while date_expires != SF__NEVER */
    sf__order_node order;                         /* in service->streams, keyed by creation seq */
    struct sf__subscriber *subs_head, *subs_tail; /* attached, in subscription order */
    uint64_t sub_count;
    uint64_t impaired; /* attached subscribers that are held or disconnected */
    uint64_t messages_published;
};

/* Every stream by SID (stream_index.c): an open-addressing table; a NULL stream is empty. */
typedef struct sf__stream_slot {
    uint64_t tag; /* the packed SID's first 8 bytes */
    sf__stream *stream;
} sf__stream_slot;

typedef struct sf__stream_index {
    sf__stream_slot *slots;
    size_t cap, count; /* cap: 0 or a power of two, at least twice count */
} sf__stream_index;

#define SF__NEVER INT64_MAX

/* A published message shared by all its deliveries (the payload is never copied per
 * subscriber). The SIDs are also kept packed for the journal. */
typedef struct sf__message {
    uint32_t refs;
    uint64_t ordinal;    /* the message counter: part of every random draw about it */
    uint64_t stream_key; /* the stream's creation key: likewise */
    uint64_t draw_key;   /* hash of (seed, stream, message) under every draw about it */
    uint64_t publisher;  /* client_id of the publisher, 0 none */
    sf_ms published;
    char sid[SF_SID_SIZE];
    char stream_sid[SF_SID_SIZE];
    char service_sid[SF_SID_SIZE];
    uint8_t packed[3][16]; /* service, stream, message SIDs for the journal */
    size_t len;
    char *data; /* inline storage after the struct, or scratch for a stack message */
} sf__message;

typedef struct sf__rule sf__rule;

typedef struct sf__subscriber {
    sf_subscriber_id id;
    sf__stream *stream; /* NULL once detached */
    char stream_sid[SF_SID_SIZE];
    sf_event_fn fn;
    void *user;
    uint64_t client_id;
    bool skip_local; /* its own client's publishes are not delivered */
    bool held, disconnected;
    struct sf__subscriber *prev, *next; /* in stream order; kept as they were on detach */
    struct sf__delivery *parked_head, *parked_tail;
    sf__timer notice; /* the queued `removed` event */
    sf_removed_reason notice_reason;
    char notice_service[SF_SID_SIZE];
    sf__rule **rules; /* subscriber-scope rules, in id order */
    size_t rule_count, rule_cap;
    sf_subscriber_stats stats;
    sf__account *account; /* its stream's account; NULL once that account was reset */
    bool released;        /* sf_unsubscribe was called: queued to be forgotten */
    struct sf__subscriber *retired_next; /* fake->retired queue */
    sf_connection_kind connection;       /* a label for inspection (sf_subscribe_params) */
} sf__subscriber;

/* Unsubscribed records kept readable (stats, journal ids) before the oldest is freed. */
#define SF__RETAINED_SUBSCRIBERS 1024

typedef struct sf__delivery {
    sf__timer timer;
    sf__message *msg;
    sf__subscriber *sub;
    bool duplicate;
    struct sf__delivery *next; /* parked list, or the free list */
} sf__delivery;

struct sf__rule {
    sf_fault_id id;
    sf_fault_params params;
    char stream_sid[SF_SID_SIZE];
    uint32_t drop_next_left;
    uint32_t pending_drops; /* planned by a publish not yet committed */
    uint64_t hits;
    sf__account *account; /* only this account's streams and subscribers; NULL: all */
};

typedef struct sf__injection {
    sf_error_injection inj;
    char message[SF_ERROR_MESSAGE_SIZE];
    sf__account *account; /* only calls made as this account; NULL: every call */
    struct sf__injection *next;
} sf__injection;

/* Journal entry as stored: SIDs packed to 16 bytes (their 32 hex digits). */
typedef struct sf__jentry {
    uint64_t seq;
    sf_ms t;
    sf_ms until;
    uint64_t subscriber;
    uint32_t rule;
    int32_t code;
    uint16_t status;
    uint8_t kind, op;
    uint8_t flags;
    uint8_t reason;      /* unsubscribed: an sf_unsubscribe_reason */
    uint8_t sids[3][16]; /* service, stream, message */
    uint64_t note;       /* warning: the id of its text in sf_fake.notes (warn.c) */
    /* whose entry it is; NULL: no account's (a call naming an unknown account). Accounts
     * live until a full reset, which also empties the journal, so this never dangles. */
    const sf__account *account;
} sf__jentry;

enum {
    SF__J_INJECTED = 1,
    SF__J_DUPLICATE = 2,
    SF__J_HAS_SERVICE = 4,
    SF__J_HAS_STREAM = 8,
    SF__J_HAS_MESSAGE = 16,
    SF__J_HAS_PARAMS = 32 /* parameters were recorded for it (journal_params.c) */
};

typedef struct sf__journal {
    sf__jentry *ring;
    size_t cap, max, head, count; /* head: index of the oldest entry */
    uint64_t next_seq;
    uint64_t overwritten;
} sf__journal;

struct sf_fake {
    sf_options opts; /* strings point into the copies below */
    char account_sid_copy[SF_SID_SIZE];
    char auth_token_copy[SF_SECRET_CAP];
    char base_url_copy[SF_BASE_URL_CAP];
    sf_allocator alloc;

    sf_ms now;         /* latest time seen; never goes backwards */
    uint64_t next_seq; /* creation order of accounts, services, streams */
    uint64_t sid_counter[SF__SID_KIND_COUNT];
    uint64_t generation;     /* sf_fake_reset calls so far */
    uint64_t fresh_next_seq; /* next_seq and sid_counter right after sf_fake_new: */
    uint64_t fresh_sid_counter[SF__SID_KIND_COUNT]; /* what sf_fake_reset restores */

    sf__account *default_account;
    sf__account *accounts;    /* uthash head, by sid */
    sf__api_key *api_keys;    /* uthash head, by sid */
    sf__service *services;    /* uthash head, by sid: every account's */
    sf__stream_index streams; /* every service's, by sid */
    sf__slab *slabs;          /* blocks of restored streams with live records */

    sf__timerq timers;       /* expiries and deliveries, in (due, seq) order */
    unsigned dispatch_depth; /* > 0 while a subscriber callback runs */
    bool free_requested;     /* sf_fake_free ran inside a callback: freed on the way out */
    size_t pending_deliveries;

    sf__subscriber **subs; /* the records kept, in id order (ids only grow) */
    size_t sub_count, sub_cap;
    sf_subscriber_id last_sub_id;
    sf__subscriber *retired_head, *retired_tail; /* unsubscribed, oldest first */
    size_t retired_count;

    sf__rule **rules; /* every rule, by id order */
    size_t rule_count, rule_cap;
    sf__rule **shared_rules; /* fake- and stream-scope rules, by id order */
    size_t shared_count, shared_cap;
    sf_fault_id next_rule_id;

    sf__injection *injections[SF_OP_COUNT];

    sf__journal journal;
    struct sf__note *notes; /* the text of the latest SF__NOTE_SLOTS warnings (warn.c) */
    uint64_t notes_written; /* a warning's id is its number, from 1 */
    sf__delivery *free_deliveries;

    /* Scratch for publish: JSON tokens and the compacted data handed back as borrowed. */
    void *json_tokens;
    void *json_frames;
    size_t json_token_cap;
    char *data_out[2]; /* [0] for top-level calls, [1] for calls from callbacks */
    size_t data_out_cap;

    struct sf__params *params; /* recorded call parameters; NULL: not recording */
};

#endif /* SF_MODEL_H */
