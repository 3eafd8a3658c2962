/* SPDX-License-Identifier: MIT */
/* stream_index.c: every stream of the fake by SID, in an open-addressing table of
 * (first 8 bytes of the packed SID, stream) slots with linear probing.
 *
 * Why not uthash as for the other records: a stream SID's bits are already a hash of
 * (seed, counter), so they place a slot without hashing 34 characters, and a probe compares
 * 8-byte tags in one array instead of following chains through scattered records. A restore
 * of a million streams spent a quarter of its time in uthash's adds, and the handle cost each
 * record 56 bytes. Deletion shifts the slots after it back (no tombstones), so a table that
 * saw many deletes probes as fast as a fresh one. The table grows (to twice the most streams
 * held at once, rounded up to a power of two) and is freed when its last stream goes. */
#include "internal.h"

#include <string.h>

#define MIN_SLOTS 16

static uint64_t tag_of(const uint8_t packed[16])
{
    uint64_t tag;
    memcpy(&tag, packed, 8);
    return tag;
}

/* The home slot: the tag mixed once more, so that SIDs in a crafted snapshot that share
 * their low bits do not share a slot. */
static size_t home_of(uint64_t tag, size_t mask)
{
    tag ^= tag >> 33;
    tag *= UINT64_C(0xff51afd7ed558ccd);
    return (size_t)(tag ^ tag >> 29) & mask;
}

void sf__sindex_release(sf_fake *fake, sf__stream_index *idx)
{
    sf__free(fake, idx->slots);
    memset(idx, 0, sizeof *idx);
}

static bool rehash(sf_fake *fake, sf__stream_index *idx, size_t cap)
{
    if (cap > SIZE_MAX / sizeof *idx->slots)
        return false;
    sf__stream_slot *slots = sf__malloc(fake, cap * sizeof *slots);
    if (!slots)
        return false;
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < idx->cap; i++) {
        const sf__stream_slot *old = &idx->slots[i];
        if (!old->stream)
            continue;
        size_t at = home_of(old->tag, cap - 1);
        while (slots[at].stream)
            at = (at + 1) & (cap - 1);
        slots[at] = *old;
    }
    sf__free(fake, idx->slots);
    idx->slots = slots;
    idx->cap = cap;
    return true;
}

bool sf__sindex_reserve(sf_fake *fake, sf__stream_index *idx, size_t count)
{
    if (count <= idx->cap / 2)
        return true;
    size_t cap = idx->cap ? idx->cap : MIN_SLOTS;
    while (cap / 2 < count) {
        if (cap > SIZE_MAX / 2)
            return false;
        cap *= 2;
    }
    return rehash(fake, idx, cap);
}

/* The slot of the stream with this packed SID, or of the empty slot where it would go. */
static size_t probe(const sf__stream_index *idx, const uint8_t packed[16])
{
    size_t mask = idx->cap - 1;
    uint64_t tag = tag_of(packed);
    size_t at = home_of(tag, mask);
    for (;; at = (at + 1) & mask) {
        const sf__stream_slot *slot = &idx->slots[at];
        if (!slot->stream ||
            (slot->tag == tag && memcmp(slot->stream->packed + 8, packed + 8, 8) == 0))
            return at;
    }
}

sf__table_result sf__sindex_add(sf_fake *fake, sf__stream_index *idx, sf__stream *s)
{
    if (!sf__sindex_reserve(fake, idx, idx->count + 1))
        return SF__TABLE_NOMEM;
    size_t at = probe(idx, s->packed);
    if (idx->slots[at].stream)
        return SF__TABLE_TAKEN;
    idx->slots[at] = (sf__stream_slot){tag_of(s->packed), s};
    idx->count++;
    return SF__TABLE_ADDED;
}

bool sf__sindex_put(sf_fake *fake, sf__stream_index *idx, sf__stream *s)
{
    if (!sf__sindex_reserve(fake, idx, idx->count + 1))
        return false;
    size_t mask = idx->cap - 1, at = home_of(tag_of(s->packed), mask);
    while (idx->slots[at].stream)
        at = (at + 1) & mask;
    idx->slots[at] = (sf__stream_slot){tag_of(s->packed), s};
    idx->count++;
    return true;
}

sf__stream *sf__sindex_find(const sf__stream_index *idx, const uint8_t packed[16])
{
    return idx->count ? idx->slots[probe(idx, packed)].stream : NULL;
}

/* Removes s (found by its address: a shadowed twin, see sf__sindex_put, is another record),
 * then moves back each slot of its run that may sit at or past the hole, so that no probe
 * ever crosses an empty slot before reaching its stream. */
void sf__sindex_del(sf_fake *fake, sf__stream_index *idx, const sf__stream *s)
{
    if (!idx->count)
        return;
    size_t mask = idx->cap - 1, hole = home_of(tag_of(s->packed), mask);
    while (idx->slots[hole].stream && idx->slots[hole].stream != s)
        hole = (hole + 1) & mask;
    if (!idx->slots[hole].stream)
        return;
    for (size_t at = (hole + 1) & mask; idx->slots[at].stream; at = (at + 1) & mask) {
        size_t home = home_of(idx->slots[at].tag, mask);
        /* the entry may fill the hole unless its home lies cyclically in (hole, at] */
        bool stays = hole <= at ? (home > hole && home <= at) : (home > hole || home <= at);
        if (!stays) {
            idx->slots[hole] = idx->slots[at];
            hole = at;
        }
    }
    idx->slots[hole] = (sf__stream_slot){0, NULL};
    if (--idx->count == 0) /* an empty fake holds no table (a failed first create neither) */
        sf__sindex_release(fake, idx);
}
