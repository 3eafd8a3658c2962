/* order_index.c: treap + threaded list (see order_index.h for why). */
#include "order_index.h"

#include <stdbool.h>

/* Priority from the key alone: deterministic shape, expected depth O(log n) even though keys
 * arrive in increasing order. */
static uint32_t priority(uint64_t key)
{
    key ^= key >> 33;
    key *= UINT64_C(0xff51afd7ed558ccd);
    key ^= key >> 33;
    key *= UINT64_C(0xc4ceb9fe1a85ec53);
    key ^= key >> 33;
    return (uint32_t)key;
}

static uint32_t size_of(const sf__order_node *n) { return n ? n->size : 0; }

static void refresh(sf__order_node *n) { n->size = 1 + size_of(n->left) + size_of(n->right); }

/* Joins two treaps where every key of a is below every key of b. */
static sf__order_node *merge(sf__order_node *a, sf__order_node *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (priority(a->key) >= priority(b->key)) {
        a->right = merge(a->right, b);
        refresh(a);
        return a;
    }
    b->left = merge(a, b->left);
    refresh(b);
    return b;
}

/* Inserts node, which holds a key above all others: it goes down the right spine until its
 * priority wins, and the spine below it becomes its left subtree. */
static sf__order_node *insert_max(sf__order_node *root, sf__order_node *node)
{
    if (!root)
        return node;
    if (priority(node->key) > priority(root->key)) {
        node->left = root;
        refresh(node);
        return node;
    }
    root->right = insert_max(root->right, node);
    refresh(root);
    return root;
}

static sf__order_node *remove_key(sf__order_node *root, uint64_t key)
{
    if (!root)
        return NULL;
    if (key == root->key)
        return merge(root->left, root->right);
    if (key < root->key)
        root->left = remove_key(root->left, key);
    else
        root->right = remove_key(root->right, key);
    refresh(root);
    return root;
}

void sf__order_init(sf__order_index *idx)
{
    idx->root = NULL;
    idx->head = NULL;
    idx->tail = NULL;
}

void sf__order_append(sf__order_index *idx, sf__order_node *node)
{
    node->left = node->right = NULL;
    node->size = 1;
    node->next = NULL;
    node->prev = idx->tail;
    if (idx->tail)
        idx->tail->next = node;
    else
        idx->head = node;
    idx->tail = node;
    idx->root = insert_max(idx->root, node);
}

void sf__order_remove(sf__order_index *idx, sf__order_node *node)
{
    idx->root = remove_key(idx->root, node->key);
    if (node->prev)
        node->prev->next = node->next;
    else
        idx->head = node->next;
    if (node->next)
        node->next->prev = node->prev;
    else
        idx->tail = node->prev;
    node->prev = node->next = node->left = node->right = NULL;
    node->size = 0;
}

size_t sf__order_count(const sf__order_index *idx) { return size_of(idx->root); }

sf__order_node *sf__order_after(const sf__order_index *idx, uint64_t key)
{
    sf__order_node *best = NULL;
    for (sf__order_node *n = idx->root; n;) {
        if (n->key > key) {
            best = n;
            n = n->left;
        } else {
            n = n->right;
        }
    }
    return best;
}

sf__order_node *sf__order_before(const sf__order_index *idx, uint64_t key)
{
    sf__order_node *best = NULL;
    for (sf__order_node *n = idx->root; n;) {
        if (n->key < key) {
            best = n;
            n = n->right;
        } else {
            n = n->left;
        }
    }
    return best;
}

sf__order_node *sf__order_select(const sf__order_index *idx, size_t rank)
{
    sf__order_node *n = idx->root;
    while (n) {
        size_t left = size_of(n->left);
        if (rank < left) {
            n = n->left;
        } else if (rank == left) {
            return n;
        } else {
            rank -= left + 1;
            n = n->right;
        }
    }
    return NULL;
}
