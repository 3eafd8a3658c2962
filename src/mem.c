/* SPDX-License-Identifier: MIT */
/* mem.c: every byte the fake owns goes through its allocator. */
#include "internal.h"

#include <string.h>

void *sf__malloc(sf_fake *fake, size_t size)
{
    return fake->alloc.malloc_fn(size ? size : 1, fake->alloc.user);
}

void *sf__realloc(sf_fake *fake, void *ptr, size_t size)
{
    return fake->alloc.realloc_fn(ptr, size ? size : 1, fake->alloc.user);
}

void sf__free(sf_fake *fake, void *ptr)
{
    if (ptr)
        fake->alloc.free_fn(ptr, fake->alloc.user);
}

char *sf__strndup(sf_fake *fake, const char *s, size_t len)
{
    char *copy = sf__malloc(fake, len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, s, len);
    copy[len] = '\0';
    return copy;
}
