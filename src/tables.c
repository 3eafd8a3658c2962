/* SPDX-License-Identifier: MIT */
/* tables.c: every uthash operation of the fake, so that uthash's allocations go through the
 * fake's allocator and a failed allocation is reported instead of aborting the process. */
#include "syncfake.h"

#include <stdbool.h>
#include <stddef.h>

/* uthash reads these at expansion time: `hash_fake` and `hash_oom` are locals of every
 * function below. With HASH_NONFATAL_OOM a failed add leaves the table as it was. */
#define HASH_NONFATAL_OOM 1
#define uthash_malloc(size) sf__malloc(hash_fake, (size))
#define uthash_free(ptr, size) sf__free(hash_fake, (ptr))
#define uthash_nonfatal_oom(obj) (hash_oom = true)
/* uthash's default (Jenkins) hash was a tenth of a restore's time; the keys (SIDs, unique
 * names) need no more than a multiply-xorshift over 8-byte words. Where an item lands in the
 * buckets decides no output: tables are walked in insertion order. */
#define HASH_FUNCTION(keyptr, keylen, hashv) ((hashv) = sf__key_hash((keyptr), (keylen)))

#include "internal.h"

#include <string.h>

static inline unsigned sf__key_hash(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ len, w;
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
        h ^= h >> 31;
    }
    if (len) {
        w = 0;
        memcpy(&w, p, len);
        h = (h ^ w) * UINT64_C(0x94d049bb133111eb);
    }
    h ^= h >> 29;
    return (unsigned)(h ^ h >> 32);
}

#define ADD_BY_SID(head, item)                                                                     \
    do {                                                                                           \
        sf_fake *hash_fake = fake;                                                                 \
        bool hash_oom = false;                                                                     \
        HASH_ADD(hh, head, sid, SF_SID_LEN, item);                                                 \
        return !hash_oom;                                                                          \
    } while (0)

#define DEL(head, item)                                                                            \
    do {                                                                                           \
        sf_fake *hash_fake = fake;                                                                 \
        HASH_DELETE(hh, head, item);                                                               \
        (void)hash_fake;                                                                           \
    } while (0)

bool sf__table_add_account(sf_fake *fake, sf__account *a) { ADD_BY_SID(fake->accounts, a); }
bool sf__table_add_api_key(sf_fake *fake, sf__api_key *k) { ADD_BY_SID(fake->api_keys, k); }
bool sf__table_add_service(sf_fake *fake, sf__service *s) { ADD_BY_SID(fake->services, s); }
bool sf__table_add_stream(sf_fake *fake, sf__stream *s)
{
    return sf__sindex_put(fake, &fake->streams, s);
}

bool sf__table_add_name(sf_fake *fake, sf__service *svc, sf__stream_name *n)
{
    sf_fake *hash_fake = fake;
    bool hash_oom = false;
    HASH_ADD_KEYPTR(hh, svc->names, n->text, n->len, n);
    return !hash_oom;
}

void sf__table_del_account(sf_fake *fake, sf__account *a) { DEL(fake->accounts, a); }
void sf__table_del_api_key(sf_fake *fake, sf__api_key *k) { DEL(fake->api_keys, k); }
void sf__table_del_service(sf_fake *fake, sf__service *s) { DEL(fake->services, s); }
void sf__table_del_stream(sf_fake *fake, sf__stream *s) { sf__sindex_del(fake, &fake->streams, s); }
void sf__table_del_name(sf_fake *fake, sf__service *svc, sf__stream_name *n) { DEL(svc->names, n); }

/* Lookups by SID: a value of the wrong length can never match. */
#define FIND_BY_SID(head, type, sid)                                                               \
    do {                                                                                           \
        type *found = NULL;                                                                        \
        if (sid && strnlen(sid, SF_SID_SIZE) == SF_SID_LEN)                                        \
            HASH_FIND(hh, head, sid, SF_SID_LEN, found);                                           \
        return found;                                                                              \
    } while (0)

sf__account *sf__find_account(sf_fake *fake, const char *sid)
{
    FIND_BY_SID(fake->accounts, sf__account, sid);
}
sf__api_key *sf__find_api_key(sf_fake *fake, const char *sid)
{
    FIND_BY_SID(fake->api_keys, sf__api_key, sid);
}
sf__service *sf__find_service_any(sf_fake *fake, const char *sid)
{
    FIND_BY_SID(fake->services, sf__service, sid);
}
/* A stream SID is found by its bits: anything but "TO" and 32 lowercase hex digits (the
 * only form the fake mints) matches nothing, as it matched no key before. */
sf__stream *sf__find_stream_sid(sf_fake *fake, const char *sid)
{
    if (!sid || !sf__sid_shaped(sid, strnlen(sid, SF_SID_SIZE)))
        return NULL;
    return sf__find_stream_shaped(fake, sid);
}

sf__stream *sf__find_stream_shaped(sf_fake *fake, const char *sid)
{
    uint8_t packed[16];
    if (sid[0] != 'T' || sid[1] != 'O')
        return NULL;
    sf__sid_pack_shaped(sid, packed);
    return sf__sindex_find(&fake->streams, packed);
}

sf__stream *sf__find_stream_name(sf_fake *fake, sf__service *svc, const char *name, size_t len)
{
    (void)fake;
    sf__stream_name *found = NULL;
    HASH_FIND(hh, svc->names, name, len, found);
    return found ? found->stream : NULL;
}

/* For a restore (snapshot_load.c): adds a stream unless its SID is taken. */
sf__table_result sf__table_add_stream_new(sf_fake *fake, sf__stream *s)
{
    return sf__sindex_add(fake, &fake->streams, s);
}

/* Replaces tbl's buckets by 2^log2 of them, rehashing its items as HASH_EXPAND_BUCKETS does
 * but in one step (uthash only ever doubles). false when out of memory: nothing changes. */
static bool rebucket(sf_fake *fake, UT_hash_table *tbl, unsigned log2)
{
    unsigned n = 1u << log2;
    UT_hash_bucket *buckets = sf__malloc(fake, n * sizeof *buckets);
    if (!buckets)
        return false;
    memset(buckets, 0, n * sizeof *buckets);
    tbl->ideal_chain_maxlen = (tbl->num_items >> log2) + ((tbl->num_items & (n - 1)) != 0);
    tbl->nonideal_items = 0;
    for (unsigned i = 0; i < tbl->num_buckets; i++) {
        UT_hash_handle *h = tbl->buckets[i].hh_head, *next;
        for (; h; h = next) {
            next = h->hh_next;
            UT_hash_bucket *b = &buckets[h->hashv & (n - 1)];
            if (++b->count > tbl->ideal_chain_maxlen) {
                tbl->nonideal_items++;
                if (b->count > b->expand_mult * tbl->ideal_chain_maxlen)
                    b->expand_mult++;
            }
            h->hh_prev = NULL;
            h->hh_next = b->hh_head;
            if (b->hh_head)
                b->hh_head->hh_prev = h;
            b->hh_head = h;
        }
    }
    sf__free(fake, tbl->buckets);
    tbl->buckets = buckets;
    tbl->num_buckets = n;
    tbl->log2_num_buckets = log2;
    return true;
}

/* Room for `items` at about one a bucket (the table must exist): the adds of a restore then
 * walk short chains and never stop to rehash. */
static bool reserve(sf_fake *fake, UT_hash_table *tbl, size_t items)
{
    unsigned log2 = tbl->log2_num_buckets;
    while (log2 < 30 && ((size_t)1 << log2) < items)
        log2++;
    return log2 == tbl->log2_num_buckets || rebucket(fake, tbl, log2);
}

bool sf__table_reserve_streams(sf_fake *fake, size_t count)
{
    return sf__sindex_reserve(fake, &fake->streams, count);
}

bool sf__table_reserve_name(sf_fake *fake, sf__service *svc)
{
    return !svc->names || reserve(fake, svc->names->hh.tbl, svc->names->hh.tbl->num_items + 1);
}
