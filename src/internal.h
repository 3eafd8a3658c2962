/* SPDX-License-Identifier: MIT */
/* internal.h: what the files of src/ share: the model (model.h) and the functions over it,
 * grouped by the file that defines them. Not for other directories. */
#ifndef SF_INTERNAL_H
#define SF_INTERNAL_H

#include "model.h"

/* ---- memory (mem.c) ---- */
void *sf__malloc(sf_fake *fake, size_t size);
void *sf__realloc(sf_fake *fake, void *ptr, size_t size);
void sf__free(sf_fake *fake, void *ptr);
char *sf__strndup(sf_fake *fake, const char *s, size_t len);

/* ---- slabs (slab.c) ---- */
/* A block for cap records of size bytes, linked into fake->slabs; NULL when out of memory. */
sf__slab *sf__slab_new(sf_fake *fake, size_t size, size_t cap);
/* The next unused record (uninitialised), or NULL when the block is full (or slab is NULL). */
void *sf__slab_take(sf__slab *slab);
/* Gives back one record; the block is freed with its last one. */
void sf__slab_put(sf_fake *fake, sf__slab *slab);
/* Frees the blocks left (only ones whose records all failed to be used). */
void sf__slabs_release(sf_fake *fake);

/* ---- arrays (array.c) ---- */
/* arr (*cap elements of elem bytes) with room for `need`: itself when it has it, else grown
 * by doubling (from `first` when empty; *cap updated). NULL when out of memory: arr and *cap
 * are then unchanged. */
void *sf__array_grow(sf_fake *fake, void *arr, size_t *cap, size_t need, size_t elem, size_t first);
/* The first index in 0..count whose key is >= key, where key_at(items, i) ascends with i. */
size_t sf__lower_bound(const void *items, size_t count, uint64_t key,
                       uint64_t (*key_at)(const void *items, size_t i));
/* A new ring of new_cap elements holding the `count` elements of `ring` (cap elements of elem
 * bytes, the oldest at `head`) oldest first, from index 0; NULL when out of memory. The old
 * ring is the caller's to free. */
void *sf__ring_regrow(sf_fake *fake, const void *ring, size_t elem, size_t count, size_t head,
                      size_t cap, size_t new_cap);

/* ---- lifecycle (fake.c) ---- */
/* sf_fake_free from a callback only marks the fake; it is released when the outermost API call
 * returns. A public function that can run callbacks (directly or through sf__begin) declares
 * SF__OUTERMOST(fake) once, after its NULL check: on every return, after the return value is
 * computed, sf__leave frees a marked fake if no callback is running any more. Only one such
 * guard may be live per call chain at depth 0 (a guarded function must not return into
 * another guarded one that then touches the fake). */
void sf__leave(sf_fake **fake);
#define SF__OUTERMOST(fake)                                                                        \
    sf_fake *sf__outermost __attribute__((cleanup(sf__leave), unused)) = (fake)

/* ---- errors (status.c) ---- */
/* Fills err (may be NULL) for `status`, returns status. */
sf_status sf__fail(sf_error *err, sf_status status);
/* 404 with the requested path (without /v1) in the message. */
sf_status sf__not_found(sf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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
/* The next SID of a kind, without spending it (sf__sid_commit spends it, once the call that
 * mints it cannot fail any more). */
void sf__sid_peek(const sf_fake *fake, sf__sid_kind kind, char out[SF_SID_SIZE]);
/* The same, with the SID's 128 bits as 16 bytes (what the journal stores); out may be NULL
 * for the bits only. */
void sf__sid_peek_packed(const sf_fake *fake, sf__sid_kind kind, char out[SF_SID_SIZE],
                         uint8_t packed[16]);
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
typedef enum { SF__TABLE_ADDED, SF__TABLE_TAKEN, SF__TABLE_NOMEM } sf__table_result;
sf__table_result sf__table_add_stream_new(sf_fake *fake, sf__stream *s);
/* For a restore: buckets for `count` streams in all, and for one more name of svc (about one
 * item a bucket, so that adds stay cheap); false when out of memory (nothing changes). */
bool sf__table_reserve_streams(sf_fake *fake, size_t count);
bool sf__table_reserve_name(sf_fake *fake, sf__service *svc);
sf__account *sf__find_account(sf_fake *fake, const char *sid);
sf__api_key *sf__find_api_key(sf_fake *fake, const char *sid);
sf__service *sf__find_service_any(sf_fake *fake, const char *sid);
sf__stream *sf__find_stream_sid(sf_fake *fake, const char *sid);
/* The same for a sid known to pass sf__sid_shaped (a lookup that checked it already). */
sf__stream *sf__find_stream_shaped(sf_fake *fake, const char *sid);
sf__stream *sf__find_stream_name(sf_fake *fake, sf__service *svc, const char *name, size_t len);

/* ---- the stream SID index (stream_index.c) ---- */
void sf__sindex_release(sf_fake *fake, sf__stream_index *idx);
/* Room for `count` streams in all; false when out of memory (nothing changes). */
bool sf__sindex_reserve(sf_fake *fake, sf__stream_index *idx, size_t count);
/* Adds s unless a stream with its SID is there (TAKEN: nothing changes). */
sf__table_result sf__sindex_add(sf_fake *fake, sf__stream_index *idx, sf__stream *s);
/* Adds s without the check (a create: its SID is new unless a crafted snapshot holds it, and
 * then the older stream keeps answering lookups); false when out of memory. */
bool sf__sindex_put(sf_fake *fake, sf__stream_index *idx, sf__stream *s);
sf__stream *sf__sindex_find(const sf__stream_index *idx, const uint8_t packed[16]);
/* Removes s itself (the table is freed with the last stream); a stream not in the index
 * changes nothing. */
void sf__sindex_del(sf_fake *fake, sf__stream_index *idx, const sf__stream *s);

/* ---- lookups with Twilio's errors (lookup.c) ---- */
sf_status sf__resolve_account(sf_fake *fake, const char *account_sid, sf__account **out,
                              sf_error *err);
/* 404 message names `path_suffix` after the service path ("" for the service itself). */
sf_status sf__resolve_service(sf_fake *fake, const char *account_sid, const char *service_sid,
                              const char *path_suffix, sf__service **out, sf_error *err);
sf_status sf__resolve_stream(sf_fake *fake, const char *account_sid, const char *service_sid,
                             const char *stream_id, const char *path_suffix, sf__stream **out,
                             sf_error *err);

/* ---- streams (stream.c) ---- */
/* The stream's SID as text ("TO" + 32 lowercase hex digits). */
void sf__stream_sid(const sf__stream *s, char out[SF_SID_SIZE]);
/* Whether sid is s's SID (only its exact lowercase text is). */
bool sf__stream_has_sid(const sf__stream *s, const char *sid);
/* A zeroed stream with an idle expiry timer. */
void sf__stream_init(sf__stream *s);
/* Unlinks and frees a stream: from its service, the SID table, the name table, the timers;
 * then (notify) tells its subscribers it was removed, detaching them. */
void sf__stream_destroy(sf_fake *fake, sf__stream *s, bool notify, sf_removed_reason reason);
/* Frees the record alone (linked nowhere): back to its slab, or to the allocator. */
void sf__stream_free(sf_fake *fake, sf__stream *s);
/* Its expiry timer fired: expire it now, or later under an expiry-lag rule. */
void sf__stream_expire(sf_fake *fake, sf__stream *s);

/* ---- services (service.c) ---- */
void sf__service_destroy(sf_fake *fake, sf__service *svc, bool notify);

/* ---- API calls (call.c): one clock sample, error injection, the journal ---- */
typedef struct sf__call {
    sf_op op;
    sf__account *account; /* the calling account; NULL when it does not exist */
    sf_ms now;
    bool inject_before, inject_after;
    int inject_http, inject_code;
    char inject_message[SF_ERROR_MESSAGE_SIZE];
    /* for the journal: SIDs as resolved (packed), else the ids as given */
    const char *given_service, *given_stream;
    uint8_t sids[3][16];       /* service, stream, message */
    uint8_t known;             /* SF__J_HAS_SERVICE | SF__J_HAS_STREAM | SF__J_HAS_MESSAGE */
    sf__stream *fanout_stream; /* fast-path publish: delivered after the call is journaled */
    sf__message fanout_msg;
    sf__message *queued_msg; /* queued publish: its fates are journaled after the call */
    void *plans;
    size_t plan_count;
    const char *given_account; /* for recorded parameters (journal_params.c) */
    const void *rec_params;    /* the op's params struct (service, stream, page, publish) */
} sf__call;
/* Starts a call: samples the clock once, runs what fell due (not inside a callback), takes
 * the next injected error of `op`. Returns false when the call must fail at once. */
bool sf__call_begin(sf_fake *fake, sf_op op, const char *account_sid, const char *service_sid,
                    const char *stream_id, sf__call *call);
static inline void sf__call_service(sf__call *call, const uint8_t packed[16]);
static inline void sf__call_stream(sf__call *call, const struct sf__stream *s);
/* Ends a call: applies an after-apply injection, journals, fills err, and (outside callbacks)
 * runs what the call made due now, such as deliveries. Returns the call's final status. */
sf_status sf__call_end(sf_fake *fake, sf__call *call, sf_status st, sf_error *err);
/* The body of a public call: a NULL fake refused, then `inner` (an expression that may name
 * the sf__call `call`) between sf__call_begin and sf__call_end; rec: the parameters the
 * journal records. Returns from the enclosing function. */
#define SF__CALL(fake, err, op, account_sid, service_sid, stream_id, rec, inner)                   \
    do {                                                                                           \
        if (!(fake))                                                                               \
            return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");                  \
        sf__call call;                                                                             \
        call.rec_params = rec;                                                                     \
        sf_status call_status = SF_OK;                                                             \
        if (sf__call_begin(fake, op, account_sid, service_sid, stream_id, &call))                  \
            call_status = inner;                                                                   \
        return sf__call_end(fake, &call, call_status, err);                                        \
    } while (0)

/* ---- warnings (warn.c) ---- */
/* A warning's text, kept apart from the journal ring so that entries stay small. */
#define SF__NOTE_SLOTS 256
typedef struct sf__note {
    uint64_t id; /* 0: empty slot */
    char text[SF_WARNING_SIZE];
} sf__note;
/* The text of warning `id`, or NULL once a newer warning took its slot. */
const char *sf__note_text(const sf_fake *fake, uint64_t id);
void sf__notes_release(sf_fake *fake);
/* The C API's own warnings: a value set without its has_* flag (ignored), a unique name
 * given to an update. SF_OK, or in strict mode the refusal (err filled). */
sf_status sf__warn_page_params(sf_fake *fake, sf_op op, const char *account_sid,
                               const char *service_sid, const sf_page_params *p, sf_error *err);
sf_status sf__warn_stream_params(sf_fake *fake, sf_op op, const char *account_sid,
                                 const char *service_sid, const char *stream_id,
                                 const sf_stream_params *p, sf_error *err);
sf_status sf__warn_service_params(sf_fake *fake, sf_op op, const char *account_sid,
                                  const char *service_sid, const sf_service_params *p,
                                  sf_error *err);

/* ---- journal (journal.c) ---- */
/* Packed SIDs (flags say which) onto an entry. */
void sf__journal_packed(sf__jentry *e, const uint8_t sids[3][16], uint8_t known);
void sf__journal_init(sf__journal *j, size_t max);
void sf__journal_release(sf_fake *fake, sf__journal *j);
/* A new entry at the fake's now with seq and kind set, the rest zeroed; NULL when the
 * journal keeps nothing. */
sf__jentry *sf__journal_append(sf_fake *fake, sf_journal_kind kind);
/* A `refused` entry's method from its op byte ("GET", ..., "OTHER"). */
const char *sf__journal_method_name(uint8_t number);
/* t as "2015-07-30T20:00:00.123Z" (sf_format_iso8601 with milliseconds). */
void sf__format_iso8601_ms(sf_ms t, char buf[25]);
/* Packs the 32 lowercase hex digits of a SID; false (and zeroes) when it is not one. */
bool sf__sid_pack(const char *sid, uint8_t out[16]);
/* The same for a SID known to pass sf__sid_shaped (unchecked, faster). */
void sf__sid_pack_shaped(const char *sid, uint8_t out[16]);
/* The SID `prefix` + the 32 hex digits of packed `in` (journal.c). */
void sf__sid_unpack(const uint8_t in[16], const char *prefix, char out[SF_SID_SIZE]);
void sf__journal_sids(sf__jentry *e, const char *service, const char *stream, const char *message);
/* A delivery fate of `msg` to subscriber `sub`. */
void sf__journal_fate(sf_fake *fake, sf_journal_kind kind, const sf__message *msg,
                      sf_subscriber_id sub, const sf__rule *rule, sf_ms until, bool duplicate);
/* Removes the entries of one account, keeping the others' order and seq (account_reset.c). */
void sf__journal_forget_account(sf_fake *fake, const sf__account *a);

/* ---- subscribers (subscriber.c) ---- */
sf__subscriber *sf__subscriber_get(sf_fake *fake, sf_subscriber_id id);
/* A zeroed record with an idle `removed` notice. */
void sf__subscriber_init(sf__subscriber *sub);
/* Room for one more record in fake->subs; false when out of memory (nothing changes). */
bool sf__subscribers_reserve(sf_fake *fake);
/* Links sub at the tail of stream s's subscribers (counting it impaired if it is). */
void sf__subscriber_link(sf__stream *s, sf__subscriber *sub);
/* Appends a released record to the queue of retired ones. */
void sf__subscriber_queue_retired(sf_fake *fake, sf__subscriber *sub);
/* Detaches every subscriber of `s` and (notify) queues a `removed` event for each at now; if
 * the queue cannot grow, they are told at once. */
void sf__subscribers_remove_all(sf_fake *fake, sf__stream *s, bool notify,
                                sf_removed_reason reason);
/* A queued `removed` event fell due. */
void sf__subscriber_notice_due(sf_fake *fake, sf__subscriber *sub);
void sf__subscribers_release(sf_fake *fake);

/* ---- delivery (delivery.c) ---- */
/* Hands one message to a subscriber's callback, journals it and counts it. */
void sf__deliver(sf_fake *fake, sf__subscriber *sub, const sf__message *msg, bool duplicate);
/* A queued delivery fell due (timer queue). */
void sf__delivery_due(sf_fake *fake, sf__delivery *d);
/* Carries out a delivery now: to the subscriber, or parked, or lost; with no subscriber
 * (d->sub NULL) it only releases the delivery. */
void sf__delivery_fire(sf_fake *fake, sf__delivery *d);
/* Plans, allocates and queues the deliveries of a validated message (nothing changes on
 * failure). The plans are handed back for sf__fanout_journal, which frees them. */
sf_status sf__fanout(sf_fake *fake, sf__stream *s, sf__message *msg, void **plans, size_t *count);
void sf__fanout_journal(sf_fake *fake, const sf__message *msg, void *plans, size_t count);
bool sf__fanout_fast_ok(const sf_fake *fake, const sf__stream *s);
void sf__fanout_now(sf_fake *fake, sf__stream *s, const sf__message *msg);
void sf__deliveries_release(sf_fake *fake);
void sf__message_unref(sf_fake *fake, sf__message *msg);
uint64_t sf__message_draw_key(const sf_fake *fake, const sf__message *m);

/* ---- faults (fault.c) ---- */
void sf__faults_release(sf_fake *fake);
/* Room for one more rule in fake->rules and in its scope's array (sub's, or the shared one
 * when sub is NULL); false when out of memory. sf__rule_link then adds it to both. */
bool sf__rule_reserve(sf_fake *fake, sf__subscriber *sub);
void sf__rule_link(sf_fake *fake, sf__rule *r, sf__subscriber *sub);
/* The extra time an expiring stream stays, from expiry-lag rules (0: none). */
sf_ms sf__expiry_lag(sf_fake *fake, const sf__stream *s);
/* Takes the next injection of `op` into call; false when there is none. */
bool sf__injection_take(sf_fake *fake, sf_op op, sf__call *call);
/* Removes the rules and injections that belong to one account. */
void sf__faults_forget_account(sf_fake *fake, const sf__account *a);
/* Whether a rule may act on a stream of account `a`. */
static inline bool sf__rule_account_ok(const sf__rule *r, const sf__account *a)
{
    return !r->account || r->account == a;
}

/* ---- accounts (account.c) ---- */
void sf__account_destroy(sf_fake *fake, sf__account *a);
sf_status sf__account_add(sf_fake *fake, const char *sid, const char *token, sf__account **out,
                          sf_error *err);

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
/* A public page type (sf_service_page, sf_stream_page): its size, where its sf_page_info and
 * its records pointer sit, one record's size and how a list node becomes a record. */
typedef struct sf__page_shape {
    size_t page_size, info_offset, records_offset, record_size;
    void (*fill)(const sf__order_node *node, void *record);
} sf__page_shape;
/* The page `params` asks of the list idx (list_id seals its tokens) as a page of `shape`:
 * *out, the page then its records allocated from the fake, freed by the type's _free. */
sf_status sf__page_build(sf_fake *fake, const sf__order_index *idx, uint64_t list_id,
                         const sf_page_params *params, const sf__page_shape *shape, void **out,
                         sf_error *err);

/* ---- JSON (json_check.c) ---- */
sf_status sf__json_scratch_init(sf_fake *fake);
/* Validates and compacts with caller-provided scratch: `cap` tokens and `cap` frames. */
sf_status sf__json_compact_with(void *tokens, void *frames, size_t cap, const char *text,
                                size_t len, char *out, size_t *out_len);
size_t sf__json_token_budget(size_t max_len);

/* ---- checks ---- */
bool sf__valid_secret(const char *s);
/* Twilio's SID pattern [A-Z]{2}[a-f0-9]{32} (any prefix): what a path segment is read as a
 * SID by, and what a unique name may not be. */
bool sf__sid_shaped(const char *s, size_t len);

static inline void sf__call_service(sf__call *call, const uint8_t packed[16])
{
    memcpy(call->sids[0], packed, 16);
    call->known |= SF__J_HAS_SERVICE;
}

static inline void sf__call_stream(sf__call *call, const struct sf__stream *s)
{
    sf__call_service(call, s->service->packed);
    memcpy(call->sids[1], s->packed, 16);
    call->known |= SF__J_HAS_STREAM;
}

/* ---- records for inspection (inspect.c) ---- */
void sf__service_record_of(const sf__service *svc, sf_service_record *out);
void sf__stream_record_of(const sf__stream *s, sf_stream_record *out);

#endif /* SF_INTERNAL_H */
