/* SPDX-License-Identifier: MIT */
/* scenario_load.h: syncfake-server --scenario FILE (scenario_load.c). */
#ifndef SF_SERVER_SCENARIO_LOAD_H
#define SF_SERVER_SCENARIO_LOAD_H

#include "syncfake.h"

#include <stdbool.h>
#include <stdio.h>

/* Reads the scenario file at `path` (at most SF_SCENARIO_TEXT_MAX bytes) and plays it against
 * `fake` as its default account, writing what happened to `log` (a summary, each failed
 * expect, or the error). Returns false when the file cannot be read or the scenario does not
 * run to its end (a parse error or a failed step): a server should not serve a half-built
 * state. Failed expects still return true: the state is whole, and showing it is the point. */
bool sf_server_play_scenario(sf_fake *fake, const char *path, FILE *log);

#endif
