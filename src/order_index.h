/* order_index.h: an ordered index of intrusive nodes keyed by a creation sequence number.
 *
 * Why: paging walks records in creation order from an opaque cursor. The index is a treap
 * (priorities are a hash of the key, so its shape is deterministic) with subtree sizes, threaded
 * with a doubly linked list. That gives: insert/remove O(log n), find the first key after or the
 * last key before a cursor O(log n), select by rank O(log n), and step to a neighbour O(1). So a
 * page costs O(page size + log n) however deep it is, and nothing scans the whole set. */
#ifndef SF_ORDER_INDEX_H
#define SF_ORDER_INDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct sf__order_node {
    struct sf__order_node *left, *right; /* treap children */
    struct sf__order_node *prev, *next;  /* neighbours in key order */
    uint64_t key;
    uint32_t size;                       /* nodes in this subtree */
} sf__order_node;

typedef struct sf__order_index {
    sf__order_node *root;
    sf__order_node *head, *tail;
} sf__order_index;

void sf__order_init(sf__order_index *idx);
/* `node->key` must be greater than every key in the index (creation order only grows). */
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
