/* SPDX-License-Identifier: MIT */
/* fuzz_replay.c: libFuzzer target for the journal reader of sf_replay: any bytes as a
 * journal, replayed on a new fake (the line parser, the parameter readers and every call
 * they re-execute), and the same bytes as one line for the line parser alone. Seeded with
 * fuzz/corpus/replay (recorded journals). */
#include "replay.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sf__rline line; /* large: not on the stack */
    char why[160];
    /* a copy of exactly `size` bytes, so that reading past the input is caught */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    if (sf__rline_parse(text, size, &line, why) && line.params >= 0) {
        sf__rstr s;
        if (sf__rline_str(&line, line.params, "data", 64, &s))
            sf__rstr_free(&s);
    }
    sf_replay_report rep;
    sf_replay(text, size, &rep, NULL);
    sf_replay_report_free(&rep);
    free(text);
    return 0;
}
