/* SPDX-License-Identifier: MIT */
/* fuzz_timeline.c: libFuzzer target over the journal-line parser and the timeline renderer
 * (sf_timeline_svg). Input is a journal in JSON Lines (the .jsonl files of tests/timeline_cases are
 * the seed corpus). Anything goes: the target checks that nothing crashes, leaks or reads out of
 * bounds, that the picture is a complete SVG document of the length reported, and that the
 * same input draws the same bytes twice. */
#include "syncfake.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t len = 0, again_len = 0;
    char *svg = sf_timeline_svg((const char *)data, size, &len);
    if (!svg)
        abort(); /* only out of memory returns NULL */
    if (strlen(svg) != len || len < 7 || strcmp(svg + len - 7, "</svg>\n") != 0)
        abort();
    char *again = sf_timeline_svg((const char *)data, size, &again_len);
    if (!again || again_len != len || memcmp(again, svg, len) != 0)
        abort();
    sf_timeline_free(again);
    sf_timeline_free(svg);
    return 0;
}
