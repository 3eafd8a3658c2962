/* SPDX-License-Identifier: MIT */
/* scenario_lex.h: the scenario parser's state and its word-level checks (scenario_lex.c). */
#ifndef SF_SCENARIO_LEX_H
#define SF_SCENARIO_LEX_H

#include "scenario.h"

typedef struct sf__scn_parser {
    sf_fake *fake;
    sf__scenario *s;
    size_t line;
    const char *p, *end; /* what is left of the current line */
    sf_status status;    /* SF_OK until the first problem */
    sf_error *err;
    size_t *error_line;
} sf__scn_parser;

typedef struct sf__scn_word {
    const char *s;
    size_t len;
} sf__scn_word;

/* Record a parse error "line N: <detail>" (the first one wins); return false. */
bool sf__scn_fail(sf__scn_parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool sf__scn_nomem(sf__scn_parser *ps);
const char *sf__scn_show(const sf__scn_word *w, char buf[48]);

bool sf__scn_at_end(sf__scn_parser *ps);                /* skips blanks */
bool sf__scn_next(sf__scn_parser *ps, sf__scn_word *w); /* false at the end of the line */
bool sf__scn_need_word(sf__scn_parser *ps, sf__scn_word *w, const char *what);
bool sf__scn_need_end(sf__scn_parser *ps);
bool sf__scn_is(const sf__scn_word *w, const char *text);
bool sf__scn_split(const sf__scn_word *w, sf__scn_word *key, sf__scn_word *value);

bool sf__scn_uint(const sf__scn_word *w, uint64_t max, uint64_t *out);
bool sf__scn_duration(const sf__scn_word *w, sf_ms *out); /* 250ms, 3s, 2m */
bool sf__scn_probability(const sf__scn_word *w, double *out);
bool sf__scn_is_name(const sf__scn_word *w);

int64_t sf__scn_find(const sf__scn_names *t, const sf__scn_word *w); /* -1: absent */
bool sf__scn_add_name(sf__scn_parser *ps, sf__scn_names *t, uint32_t max, const sf__scn_word *w,
                      uint32_t *out);

#endif
