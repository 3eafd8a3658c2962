/* SPDX-License-Identifier: MIT */
/* scenario_load.c: loads and plays a scenario file before the server serves its fake. */
#include "scenario_load.h"

#include "syncfake_scenario.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The whole file, or NULL (message written) when it cannot be read or is over the cap. */
static char *read_file(const char *path, size_t *len, FILE *log)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(log, "syncfake-server: --scenario %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *text = malloc(SF_SCENARIO_TEXT_MAX + 1);
    *len = text ? fread(text, 1, SF_SCENARIO_TEXT_MAX + 1, f) : 0;
    bool failed = !text || ferror(f);
    fclose(f);
    if (failed || *len > SF_SCENARIO_TEXT_MAX) {
        fprintf(log, "syncfake-server: --scenario %s: %s\n", path,
                failed ? "cannot read it" : "over 65536 bytes");
        free(text);
        return NULL;
    }
    return text;
}

bool sf_server_play_scenario(sf_fake *fake, const char *path, FILE *log)
{
    size_t len;
    char *text = read_file(path, &len, log);
    if (!text)
        return false;
    sf_scenario_report *r = malloc(sizeof *r);
    sf_error err;
    sf_status s = r ? sf_scenario_run(fake, text, len, NULL, r, &err) : SF_ERR_NOMEM;
    free(text);
    if (!r) {
        fprintf(log, "syncfake-server: --scenario %s: out of memory\n", path);
        return false;
    }
    if (s != SF_OK) {
        fprintf(log, "syncfake-server: --scenario %s: %s%s\n", path,
                r->error_line && s != SF_ERR_INVALID_ARGUMENT ? r->failures[0].message
                                                              : err.message,
                s == SF_ERR_CLOCK_NOT_MANUAL ? " (clock steps need --clock manual)" : "");
        free(r);
        return false;
    }
    fprintf(log, "scenario %s: %zu steps, %zu expects passed, %zu failed\n", path, r->steps,
            r->expects_passed, r->expects_failed);
    for (size_t i = 0; i < r->failure_count; i++)
        fprintf(log, "scenario %s: expect failed: %s\n", path, r->failures[i].message);
    free(r);
    return true;
}
