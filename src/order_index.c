/* SPDX-License-Identifier: MIT */
/* order_index.c: slot array + Fenwick tree + threaded list (see order_index.h for why). */
#include "internal.h"

void sf__order_init(sf__order_index *idx) { memset(idx, 0, sizeof *idx); }

void sf__order_release(sf_fake *fake, sf__order_index *idx)
{
    sf__free(fake, idx->nodes);
    sf__free(fake, idx->keys);
    sf__free(fake, idx->tree);
    sf__order_init(idx);
}

void sf__order_trim(sf_fake *fake, sf__order_index *idx, uint32_t cap_before)
{
    if (cap_before == 0 && idx->live == 0)
        sf__order_release(fake, idx);
}

/* Builds the Fenwick tree of the first `len` slots in O(cap). */
static void rebuild(sf__order_index *idx)
{
    memset(idx->tree, 0, ((size_t)idx->cap + 1) * sizeof *idx->tree);
    for (uint32_t i = 1; i <= idx->len; i++)
        idx->tree[i] = idx->nodes[i - 1] != NULL;
    for (uint32_t i = 1; i <= idx->cap; i++) {
        uint32_t parent = i + (i & -i);
        if (parent <= idx->cap)
            idx->tree[parent] += idx->tree[i];
    }
}

/* Closes the holes in place: slots change, order does not. */
static void compact(sf__order_index *idx)
{
    uint32_t out = 0;
    for (uint32_t i = 0; i < idx->len; i++) {
        sf__order_node *n = idx->nodes[i];
        if (!n)
            continue;
        n->slot = out;
        idx->nodes[out] = n;
        idx->keys[out] = idx->keys[i];
        out++;
    }
    idx->len = out;
    rebuild(idx);
}

bool sf__order_reserve(sf_fake *fake, sf__order_index *idx)
{
    if (idx->len < idx->cap)
        return true;
    if (idx->live < idx->len / 2) { /* mostly holes: reuse the room instead of growing */
        compact(idx);
        return true;
    }
    if (idx->cap >= UINT32_MAX / 4)
        return false;
    uint32_t cap = idx->cap ? idx->cap * 2 : 16;
    /* each array only grows; the index stays valid whichever step fails */
    sf__order_node **nodes = sf__realloc(fake, idx->nodes, (size_t)cap * sizeof *nodes);
    if (!nodes)
        return false;
    idx->nodes = nodes;
    uint64_t *keys = sf__realloc(fake, idx->keys, (size_t)cap * sizeof *keys);
    if (!keys)
        return false;
    idx->keys = keys;
    uint32_t *tree = sf__realloc(fake, idx->tree, ((size_t)cap + 1) * sizeof *tree);
    if (!tree)
        return false;
    idx->tree = tree;
    idx->cap = cap;
    rebuild(idx);
    return true;
}

static void tree_add(sf__order_index *idx, uint32_t slot, int32_t delta)
{
    for (uint32_t i = slot + 1; i <= idx->cap; i += i & -i)
        idx->tree[i] += (uint32_t)delta;
}

/* Live slots among the first n. */
static uint32_t prefix(const sf__order_index *idx, uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = n; i > 0; i -= i & -i)
        sum += idx->tree[i];
    return sum;
}

void sf__order_append(sf__order_index *idx, sf__order_node *node)
{
    uint32_t slot = idx->len++;
    idx->nodes[slot] = node;
    idx->keys[slot] = node->key;
    node->slot = slot;
    tree_add(idx, slot, 1);
    idx->live++;
    node->next = NULL;
    node->prev = idx->tail;
    if (idx->tail)
        idx->tail->next = node;
    else
        idx->head = node;
    idx->tail = node;
}

void sf__order_remove(sf__order_index *idx, sf__order_node *node)
{
    idx->nodes[node->slot] = NULL;
    tree_add(idx, node->slot, -1);
    idx->live--;
    if (node->prev)
        node->prev->next = node->next;
    else
        idx->head = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        idx->tail = node->prev;
    node->prev = node->next = NULL;
    if (idx->live == 0)
        idx->len = 0; /* empty: start the slots over */
}

size_t sf__order_count(const sf__order_index *idx) { return idx->live; }

sf__order_node *sf__order_select(const sf__order_index *idx, size_t rank)
{
    if (rank >= idx->live)
        return NULL;
    uint32_t pos = 0, left = (uint32_t)rank;
    uint32_t step = 1;
    while (step * 2 <= idx->cap)
        step *= 2;
    for (; step; step /= 2) {
        if (pos + step <= idx->cap && idx->tree[pos + step] <= left) {
            pos += step;
            left -= idx->tree[pos];
        }
    }
    return idx->nodes[pos]; /* slot `pos` holds the (rank+1)-th live node */
}

/* First slot whose key is > key (or >= key when inclusive). */
static uint32_t search(const sf__order_index *idx, uint64_t key, bool inclusive)
{
    uint32_t lo = 0, hi = idx->len;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (idx->keys[mid] < key || (!inclusive && idx->keys[mid] == key))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

sf__order_node *sf__order_after(const sf__order_index *idx, uint64_t key)
{
    return sf__order_select(idx, prefix(idx, search(idx, key, false)));
}

sf__order_node *sf__order_before(const sf__order_index *idx, uint64_t key)
{
    uint32_t live_before = prefix(idx, search(idx, key, true));
    return live_before ? sf__order_select(idx, live_before - 1) : NULL;
}
