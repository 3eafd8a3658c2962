/* SPDX-License-Identifier: MIT */
/* scenario_names.h: names and message labels of a scenario (scenario_names.c). */
#ifndef SF_SCENARIO_NAMES_H
#define SF_SCENARIO_NAMES_H

#include "scenario_lex.h"

/* A new name of namespace ns (NS_*): valid, not declared yet, within the cap. */
bool sf__scn_declare(sf__scn_parser *ps, int ns, const sf__scn_word *w, uint32_t *out);
/* A name declared on an earlier line. */
bool sf__scn_use(sf__scn_parser *ps, int ns, const sf__scn_word *w, uint32_t *out);

/* Declares a publish's label (burst 0) or a burst's COUNT labels; *first is the first one. */
bool sf__scn_label_declare(sf__scn_parser *ps, const sf__scn_word *w, uint32_t burst,
                           uint32_t *first);
/* The label index a word names, -1 when none. */
int64_t sf__scn_label_find(const sf__scenario *s, const sf__scn_word *w);

#endif
