/* SPDX-License-Identifier: MIT */
/* replay_args.c: reading one recorded call's parameters (replay_exec.c, replay_calls.c). */
#include "replay.h"

#include <limits.h>

/* A string parameter ("key", "key_hex" or "key_len"), kept until sf__rargs_free. */
const char *sf__rarg_str(sf__rargs *a, const sf__rline *l, const char *key, size_t fill)
{
    if (a->n == (int)(sizeof a->s / sizeof a->s[0])) {
        a->ok = false;
        return NULL;
    }
    sf__rstr *r = &a->s[a->n++];
    if (!sf__rline_str(l, l->params, key, fill, r))
        a->ok = false;
    return r->s;
}

const char *sf__rarg_name(sf__rargs *a, const sf__rline *l, const char *key)
{
    return sf__rarg_str(a, l, key, SF_JOURNAL_PARAM_STRING_MAX + 1);
}

void sf__rargs_free(sf__rargs *a)
{
    for (int i = 0; i < a->n; i++)
        sf__rstr_free(&a->s[i]);
}

bool sf__rarg_has(const sf__rline *l, const char *key)
{
    return sf__rline_find(l, l->params, key) >= 0;
}

bool sf__rarg_flag(const sf__rline *l, const char *key)
{
    bool v = false;
    return sf__rline_bool(l, l->params, key, &v) && v;
}

/* An int-sized number (enums, HTTP statuses); absent or out of range: false. */
bool sf__rarg_int(const sf__rline *l, const char *key, int *out)
{
    int64_t v;
    if (!sf__rline_i64(l, l->params, key, &v) || v < INT_MIN || v > INT_MAX)
        return false;
    *out = (int)v;
    return true;
}
