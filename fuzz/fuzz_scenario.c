/* SPDX-License-Identifier: MIT */
/* fuzz_scenario.c: libFuzzer target over the scenario parser and runner (sf_scenario_run),
 * seeded with the teaching scenarios (examples/scenarios/). Each input is played against a
 * freshly reset fake with a small journal. The target checks that nothing crashes, leaks or
 * reads out of bounds, and that the report agrees with the status: a parse error runs no
 * step and names a line, a completed run counts each expect once. */
#include "syncfake_scenario.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static sf_fake *fake;

static void setup(void)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 3;
    opts.journal_capacity = 512; /* expects scan it: keep each input fast */
    if (sf_fake_new(&opts, &fake, NULL) != SF_OK)
        abort();
}

static void check(sf_status s, const sf_scenario_report *r)
{
    if (s == SF_ERR_INVALID_ARGUMENT && (r->steps_run != 0 || r->error_line == 0 || r->completed))
        abort();
    if (s == SF_OK && (!r->completed || r->expects_passed + r->expects_failed > r->steps ||
                       r->steps_run != r->steps || r->passed != (r->expects_failed == 0)))
        abort();
    if (s != SF_OK && (r->completed || r->passed || r->failure_count == 0))
        abort();
    if (r->failure_count > SF_SCENARIO_FAILURES_MAX || r->subscriber_count > SF_SCENARIO_NAMES_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fake)
        setup();
    sf_fake_reset(fake, NULL);
    sf_scenario_report r;
    sf_error err;
    /* the first byte picks the caller: the fake-wide one or one without the clock */
    sf_scenario_options opts = {.no_clock = size > 0 && data[0] == '!'};
    sf_status s = sf_scenario_run(fake, (const char *)data, size, &opts, &r, &err);
    check(s, &r);
    return 0;
}
