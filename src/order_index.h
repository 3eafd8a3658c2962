/* SPDX-License-Identifier: MIT */
/* order_index.h: an ordered index of intrusive nodes keyed by a creation sequence number.
 *
 * Why: paging walks records in creation order from an opaque cursor, and expiry removes
 * records in any order. Keys only grow, so nodes sit in a slot array in key order (removed
 * ones leave a hole until the array is compacted), with a Fenwick tree of live slots over it
 * and a doubly linked list through the live nodes. Then: append O(1) amortised, remove
 * O(log n), first key after / last key before a cursor O(log n), select by rank O(log n),
 * step to a neighbour O(1); the arrays are contiguous, so removing many nodes stays cheap.
 * Appending needs room reserved first (sf__order_reserve), so that a create can allocate
 * everything before it changes anything. */
#ifndef SF_ORDER_INDEX_H
#define SF_ORDER_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sf_fake;

typedef struct sf__order_node {
    struct sf__order_node *prev, *next; /* neighbours in key order */
    uint64_t key;
    uint32_t slot;
} sf__order_node;

typedef struct sf__order_index {
    sf__order_node **nodes; /* by slot, in key order; NULL: a hole */
    uint64_t *keys;         /* key of every slot, holes included (for binary search) */
    uint32_t *tree;         /* Fenwick tree of live slots, 1-based: tree[1..cap] */
    uint32_t len, cap, live;
    sf__order_node *head, *tail;
} sf__order_index;

void sf__order_init(sf__order_index *idx);
void sf__order_release(struct sf_fake *fake, sf__order_index *idx);
/* Makes room for one append. false when out of memory (nothing changed). */
bool sf__order_reserve(struct sf_fake *fake, sf__order_index *idx);
/* Undoes a reserve that found no arrays (cap_before 0) and had to allocate them, for a call
 * that failed afterwards. */
void sf__order_trim(struct sf_fake *fake, sf__order_index *idx, uint32_t cap_before);
/* `node->key` must be greater than every key appended before; room must be reserved. */
void sf__order_append(sf__order_index *idx, sf__order_node *node);
void sf__order_remove(sf__order_index *idx, sf__order_node *node);
size_t sf__order_count(const sf__order_index *idx);
/* Smallest key > key, or NULL. */
sf__order_node *sf__order_after(const sf__order_index *idx, uint64_t key);
/* Largest key < key, or NULL. */
sf__order_node *sf__order_before(const sf__order_index *idx, uint64_t key);
/* The node of rank `rank` (0-based), or NULL when rank >= count. */
sf__order_node *sf__order_select(const sf__order_index *idx, size_t rank);

#endif
