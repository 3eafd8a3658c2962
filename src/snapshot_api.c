/* SPDX-License-Identifier: MIT */
/* snapshot_api.c: the snapshot entry points: restore from a reader, a file or memory,
 * replace a fake's state in place, and re-attach restored subscribers. */
#include "snapshot_internal.h"

#include <stdio.h>
#include <stdlib.h>

void sf__snapshot_placeholder(sf_fake *fake, const sf_event *event, void *user)
{
    (void)fake;
    (void)event;
    (void)user;
}

/* A restore from read_fn, or (read_fn NULL) from the `len` bytes at `user`. */
static sf_status load_with(const sf_options *opts, sf_snapshot_read_fn read_fn, void *user,
                           size_t len, sf_fake **out, sf_error *err)
{
    /* the reader's buffer is too big for every stack: allocate it as the fake will */
    sf_allocator a = opts ? opts->allocator : (sf_allocator){0};
    sf__snap_reader *r = a.malloc_fn ? a.malloc_fn(sizeof *r, a.user) : malloc(sizeof *r);
    if (!r)
        return sf__fail(err, SF_ERR_NOMEM);
    if (read_fn)
        sf__sr_init(r, read_fn, user);
    else
        sf__sr_init_memory(r, user, len);
    sf_status st = sf__snapshot_load(opts, r, out, err);
    if (a.malloc_fn)
        a.free_fn(r, a.user);
    else
        free(r);
    return st;
}

sf_status sf_fake_from_snapshot(const sf_options *opts, sf_snapshot_read_fn read_fn, void *user,
                                sf_fake **out, sf_error *err)
{
    if (!out || !read_fn)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL", out ? "read_fn" : "out");
    *out = NULL;
    return load_with(opts, read_fn, user, 0, out, err);
}

sf_status sf_fake_restore(sf_fake *fake, sf_snapshot_read_fn read_fn, void *user, sf_error *err)
{
    if (!fake || !read_fn)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL",
                               fake ? "read_fn" : "fake");
    if (fake->dispatch_depth > 0)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT,
                               "a fake cannot be restored inside a subscriber callback");
    sf_fake *fresh;
    sf_status st = load_with(&fake->opts, read_fn, user, 0, &fresh, err);
    if (st != SF_OK)
        return st;
    /* Swap the contents: nothing inside a fake points at the fake itself except the base
     * URL option, so the handle keeps working and the old state goes with `fresh`. */
    sf_fake old = *fake;
    *fake = *fresh;
    *fresh = old;
    fake->opts.base_url = fake->base_url_copy;
    fresh->opts.base_url = fresh->base_url_copy;
    sf_fake_free(fresh);
    sf__ok(err);
    return SF_OK;
}

/* ---- files and memory ---- */

static bool file_write(const void *buf, size_t len, void *user)
{
    return fwrite(buf, 1, len, user) == len;
}

static size_t file_read(void *buf, size_t len, void *user) { return fread(buf, 1, len, user); }

sf_status sf_snapshot_save_file(sf_fake *fake, const char *path, sf_error *err)
{
    if (!fake || !path)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL", fake ? "path" : "fake");
    FILE *f = fopen(path, "wb");
    if (!f)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "cannot write %.512s", path);
    sf_status st = sf_snapshot_save(fake, file_write, f, err);
    if (fclose(f) != 0 && st == SF_OK)
        st = sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "cannot write %.512s", path);
    return st;
}

sf_status sf_fake_from_snapshot_file(const sf_options *opts, const char *path, sf_fake **out,
                                     sf_error *err)
{
    if (!path || !out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s is NULL", path ? "out" : "path");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "cannot read %.512s", path);
    sf_status st = sf_fake_from_snapshot(opts, file_read, f, out, err);
    fclose(f);
    return st;
}

typedef struct mem_sink {
    sf_fake *fake;
    char *buf;
    size_t len, cap;
} mem_sink;

static bool mem_write(const void *buf, size_t len, void *user)
{
    mem_sink *m = user;
    if (len > m->cap - m->len) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap - m->len < len)
            cap *= 2;
        char *n = sf__realloc(m->fake, m->buf, cap);
        if (!n)
            return false;
        m->buf = n;
        m->cap = cap;
    }
    memcpy(m->buf + m->len, buf, len);
    m->len += len;
    return true;
}

sf_status sf_snapshot_save_buffer(sf_fake *fake, char **buf, size_t *len, sf_error *err)
{
    if (!fake || !buf || !len)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake, buf and len are needed");
    mem_sink m = {fake, NULL, 0, 0};
    sf_status st = sf_snapshot_save(fake, mem_write, &m, err);
    if (st != SF_OK) {
        sf__free(fake, m.buf);
        /* the only way a write to memory fails is running out of it */
        return st == SF_ERR_INVALID_ARGUMENT ? sf__fail(err, SF_ERR_NOMEM) : st;
    }
    *buf = m.buf;
    *len = m.len;
    return SF_OK;
}

void sf_snapshot_buffer_free(sf_fake *fake, char *buf)
{
    if (fake)
        sf__free(fake, buf);
}

sf_status sf_fake_from_snapshot_buffer(const sf_options *opts, const char *buf, size_t len,
                                       sf_fake **out, sf_error *err)
{
    if (!buf && len)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "buf is NULL");
    if (!out)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    /* read in place: no copy of the bytes through a read_fn */
    return load_with(opts, NULL, (void *)(uintptr_t)buf, len, out, err);
}

/* ---- placeholders ---- */

sf_status sf_subscriber_reattach(sf_fake *fake, sf_subscriber_id id, sf_event_fn on_event,
                                 void *user, sf_error *err)
{
    if (!fake || !on_event)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "%s",
                               !fake ? "fake is NULL" : "on_event callback is required");
    sf__subscriber *sub = sf__subscriber_get(fake, id);
    if (!sub)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "unknown subscriber %llu",
                               (unsigned long long)id);
    sub->fn = on_event;
    sub->user = user;
    sf__ok(err);
    return SF_OK;
}

size_t sf_subscriber_placeholders(const sf_fake *fake, sf_subscriber_id *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; fake && i < fake->sub_count; i++) {
        if (fake->subs[i]->fn != sf__snapshot_placeholder)
            continue;
        if (out && n < cap)
            out[n] = fake->subs[i]->id;
        n++;
    }
    return n;
}
