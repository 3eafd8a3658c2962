/* SPDX-License-Identifier: MIT */
/* paging.c: page selection and opaque page tokens.
 * A token is a cursor: a direction and the creation key of the record it continues from,
 * sealed with a keyed hash of the list it belongs to. Creation keys never repeat, so records
 * created or removed between two pages cannot shift the walk. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

enum { AFTER = 'N', BEFORE = 'B' };
#define TOKEN_LEN 35 /* "PT" + direction + 16 hex key + 16 hex seal */

static uint64_t seal(const sf_fake *fake, uint64_t list_id, int dir, uint64_t key)
{
    return sf__hash3(fake->opts.seed ^ UINT64_C(0x70616765746f6b65), list_id,
                     sf__mix64(key) ^ (uint64_t)dir);
}

static void make_token(const sf_fake *fake, uint64_t list_id, int dir, uint64_t key,
                       char out[SF_PAGE_TOKEN_SIZE])
{
    snprintf(out, SF_PAGE_TOKEN_SIZE, "PT%c%016llx%016llx", dir, (unsigned long long)key,
             (unsigned long long)seal(fake, list_id, dir, key));
}

static bool parse_hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

static bool parse_token(const sf_fake *fake, uint64_t list_id, const char *token, int *dir,
                        uint64_t *key)
{
    uint64_t sealed;
    if (strnlen(token, TOKEN_LEN + 1) != TOKEN_LEN || token[0] != 'P' || token[1] != 'T')
        return false;
    *dir = token[2];
    if ((*dir != AFTER && *dir != BEFORE) || !parse_hex64(token + 3, key) ||
        !parse_hex64(token + 19, &sealed))
        return false;
    return sealed == seal(fake, list_id, *dir, *key);
}

/* The page size asked (or the default) once PageSize and Page are checked. */
static sf_status page_size_of(const sf_fake *fake, const sf_page_params *p, size_t *size,
                              sf_error *err)
{
    const sf_limits *l = &fake->opts.limits;
    *size = l->page_size_default;
    if (p->has_page_size) {
        if (p->page_size < 1 || p->page_size > (int64_t)l->page_size_max)
            return sf__fail(err, SF_ERR_INVALID_PAGE_SIZE);
        *size = (size_t)p->page_size;
    }
    if (p->has_page && p->page < 0)
        return sf__fail_detail(err, SF_ERR_INVALID_PARAMETER, "Page");
    return SF_OK;
}

sf_status sf__page_plan_make(sf_fake *fake, const sf__order_index *idx, uint64_t list_id,
                             const sf_page_params *params, sf__page_plan *plan, sf_error *err)
{
    static const sf_page_params none;
    const sf_page_params *p = params ? params : &none;
    size_t size;
    sf_status st = page_size_of(fake, p, &size, err);
    if (st != SF_OK)
        return st;

    sf__order_node *first = NULL, *last = NULL;
    size_t count = 0;
    uint64_t empty_before = 0; /* for an empty page: records before this key come earlier */
    if (p->page_token) {
        int dir;
        uint64_t key;
        if (!parse_token(fake, list_id, p->page_token, &dir, &key))
            return sf__fail(err, SF_ERR_INVALID_PAGE_TOKEN);
        if (dir == AFTER) {
            first = sf__order_after(idx, key);
            empty_before = key + 1;
        } else {
            last = sf__order_before(idx, key);
            for (first = last, count = last ? 1 : 0; first && first->prev && count < size; count++)
                first = first->prev;
            empty_before = 0;
        }
    } else {
        uint64_t page = p->has_page ? (uint64_t)p->page : 0;
        if (page <= SIZE_MAX / size)
            first = sf__order_select(idx, (size_t)(page * size));
        empty_before = UINT64_MAX; /* past the end: everything is earlier */
    }
    if (first && !last) {
        for (last = first, count = 1; count < size && last->next; count++)
            last = last->next;
    }

    memset(plan, 0, sizeof *plan);
    plan->first = first;
    plan->count = count;
    plan->info.page = p->has_page ? p->page : 0;
    plan->info.page_size = (uint32_t)size;
    plan->info.count = count;
    if (last && last->next) {
        plan->info.has_next = true;
        make_token(fake, list_id, AFTER, last->key, plan->info.next_token);
    }
    if (first && first->prev) {
        plan->info.has_previous = true;
        make_token(fake, list_id, BEFORE, first->key, plan->info.previous_token);
    } else if (!first && empty_before && sf__order_before(idx, empty_before)) {
        plan->info.has_previous = true;
        make_token(fake, list_id, BEFORE, empty_before, plan->info.previous_token);
    }
    return SF_OK;
}

sf_status sf__page_build(sf_fake *fake, const sf__order_index *idx, uint64_t list_id,
                         const sf_page_params *params, const sf__page_shape *shape, void **out,
                         sf_error *err)
{
    sf__page_plan plan;
    sf_status st = sf__page_plan_make(fake, idx, list_id, params, &plan, err);
    if (st != SF_OK)
        return st;
    unsigned char *page = sf__malloc(fake, shape->page_size);
    void *records = sf__malloc(fake, plan.count * shape->record_size);
    if (!page || !records) {
        sf__free(fake, page);
        sf__free(fake, records);
        return sf__fail(err, SF_ERR_NOMEM);
    }
    memset(page, 0, shape->page_size);
    memcpy(page + shape->info_offset, &plan.info, sizeof plan.info);
    memcpy(page + shape->records_offset, &records, sizeof records); /* the typed pointer */
    sf__order_node *n = plan.first;
    for (size_t i = 0; i < plan.count; i++, n = n->next)
        shape->fill(n, (unsigned char *)records + i * shape->record_size);
    *out = page;
    return SF_OK;
}
