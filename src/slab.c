/* SPDX-License-Identifier: MIT */
/* slab.c: records of one size carved from one allocation. A restore of a million streams
 * spent most of its time in a million mallocs and in first touches of their scattered
 * headers; one block per batch is allocated once and written in order. A record is still
 * freed on its own (sf__slab_put): the block goes back to the allocator when its last live
 * record does, so the memory of removed records waits for their block-mates. */
#include "internal.h"

#include <stdalign.h>

sf__slab *sf__slab_new(sf_fake *fake, size_t size, size_t cap)
{
    size = (size + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
    if (cap == 0 || cap > (SIZE_MAX - sizeof(sf__slab)) / size)
        return NULL;
    sf__slab *slab = sf__malloc(fake, sizeof *slab + cap * size);
    if (!slab)
        return NULL;
    slab->size = size;
    slab->cap = cap;
    slab->used = slab->live = 0;
    slab->prev = NULL;
    slab->next = fake->slabs;
    if (fake->slabs)
        fake->slabs->prev = slab;
    fake->slabs = slab;
    return slab;
}

void *sf__slab_take(sf__slab *slab)
{
    if (!slab || slab->used == slab->cap)
        return NULL;
    slab->live++;
    return slab->data + slab->size * slab->used++;
}

void sf__slab_put(sf_fake *fake, sf__slab *slab)
{
    if (--slab->live > 0)
        return;
    if (slab->prev)
        slab->prev->next = slab->next;
    else
        fake->slabs = slab->next;
    if (slab->next)
        slab->next->prev = slab->prev;
    sf__free(fake, slab);
}

void sf__slabs_release(sf_fake *fake)
{
    while (fake->slabs) {
        sf__slab *next = fake->slabs->next;
        sf__free(fake, fake->slabs);
        fake->slabs = next;
    }
}
