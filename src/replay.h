/* SPDX-License-Identifier: MIT */
/* replay.h: the parts of sf_replay (replay.c): reading a journal line back (replay_parse.c)
 * and re-executing its call (replay_exec.c). */
#ifndef SF_REPLAY_H
#define SF_REPLAY_H

#include "journal_params.h"
#include "syncfake_replay.h"

#define JSMN_HEADER
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>
#undef JSMN_HEADER

/* Tokens one line may have: an entry has ~16 keys, its parameters ~25 more. */
#define SF__RLINE_TOKENS 160

typedef struct sf__rline {
    const char *text;
    size_t len;
    uint64_t seq;
    sf_ms t_ms;
    sf_journal_kind kind;
    sf_op op;           /* api */
    sf__call_kind call; /* call */
    int params;         /* token of the params object, -1: none */
    bool params_dropped;
    jsmntok_t tok[SF__RLINE_TOKENS];
    int ntok;
} sf__rline;

/* Parses one journal line (no newline). false with `why` filled when it is not one. */
bool sf__rline_parse(const char *text, size_t len, sf__rline *out, char why[160]);

/* A parameter read back: bytes (NUL-terminated copy), or not given. */
typedef struct sf__rstr {
    char *s; /* NULL: not given */
    size_t len;
} sf__rstr;

/* Value token of `key` in object token `obj`, -1 when absent. */
int sf__rline_find(const sf__rline *l, int obj, const char *key);
bool sf__rline_i64(const sf__rline *l, int obj, const char *key, int64_t *out);
bool sf__rline_u64(const sf__rline *l, int obj, const char *key, uint64_t *out);
bool sf__rline_bool(const sf__rline *l, int obj, const char *key, bool *out);
bool sf__rline_double(const sf__rline *l, int obj, const char *key, double *out);
/* A string parameter as recorded: "key", "key_hex" or "key_len" (then `len_fill` bytes of
 * 'x', at least len+... see sf__pb_bytes). false on a malformed value or no memory; a
 * parameter not given is true with s NULL. */
bool sf__rline_str(const sf__rline *l, int obj, const char *key, size_t len_fill, sf__rstr *out);
void sf__rstr_free(sf__rstr *s);

/* The parameters of one call being read; its strings are freed together. */
typedef struct sf__rargs {
    sf__rstr s[8]; /* a call has at most 5 string parameters */
    int n;
    bool ok; /* false once a parameter was malformed */
} sf__rargs;
const char *sf__rarg_str(sf__rargs *a, const sf__rline *l, const char *key, size_t fill);
const char *sf__rarg_name(sf__rargs *a, const sf__rline *l, const char *key);
void sf__rargs_free(sf__rargs *a);
bool sf__rarg_has(const sf__rline *l, const char *key);
bool sf__rarg_flag(const sf__rline *l, const char *key);
bool sf__rarg_int(const sf__rline *l, const char *key, int *out);
/* Calls that are not REST operations (replay_calls.c). */
bool sf__replay_calls(sf_fake *fake, const sf__rline *l);

/* Re-executes the line's call on `fake` (replay_exec.c). false with `why` when the line's
 * parameters are malformed. */
bool sf__replay_exec(sf_fake *fake, const sf__rline *l, char why[160]);

#endif
