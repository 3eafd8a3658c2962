/* SPDX-License-Identifier: MIT */
/* server_flags.h: what syncfake-server's command line says about itself: the --limit lines of
 * --help with their defaults, and one specific message for an option it could not take (which
 * value is wrong and what is allowed), so a typo does not bury its cause under the usage. */
#ifndef SF_SERVER_FLAGS_H
#define SF_SERVER_FLAGS_H

#include "syncfake.h"

#include <stdbool.h>
#include <stdio.h>

/* --limit NAME=VALUE onto limits; false when NAME is unknown or VALUE is not 0..UINT32_MAX. */
bool sf_flags_set_limit(sf_limits *limits, const char *arg);

/* The --limit names, one per line with the library's default, indented for --help. */
void sf_flags_print_limits(FILE *out);

/* Why `option` (with `value`, NULL when none followed) was refused, as one or two lines on
 * `out` naming the wrong value and what is allowed. */
void sf_flags_explain(FILE *out, const char *option, const char *value);

#endif
