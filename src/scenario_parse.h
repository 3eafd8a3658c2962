/* SPDX-License-Identifier: MIT */
/* scenario_parse.h: what the step parsers share (scenario_parse.c, scenario_parse_expect.c). */
#ifndef SF_SCENARIO_PARSE_H
#define SF_SCENARIO_PARSE_H

#include "scenario_lex.h"

/* The step's first name, of namespace ns: a new one (declare) or one declared before. */
bool sf__scn_name_step(sf__scn_parser *ps, sf__scn_step *st, int ns, bool declare);
bool sf__scn_parse_fault(sf__scn_parser *ps, sf__scn_step *st);
bool sf__scn_parse_expect(sf__scn_parser *ps, sf__scn_step *st);

#endif
