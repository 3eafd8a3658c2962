/* SPDX-License-Identifier: MIT */
/* syncfake-timeline: `syncfake-timeline journal.jsonl > timeline.svg` draws a journal (JSON
 * Lines from GET /_syncfake/journal or sf_journal_write) as the delivery timeline picture
 * (sf_timeline_svg). "-" or no argument reads standard input. */
#include "syncfake.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Journals larger than this are refused rather than read into memory. */
#define INPUT_MAX ((size_t)256 * 1024 * 1024)

static char *read_all(FILE *in, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (got == 0)
            break;
        if (n == cap) {
            char *bigger = cap >= INPUT_MAX ? NULL : realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    if (buf && ferror(in)) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv)
{
    if (argc > 2 || (argc == 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))) {
        fprintf(stderr, "usage: syncfake-timeline [journal.jsonl|-] > timeline.svg\n"
                        "Draws a syncfake journal (JSON Lines) as an SVG delivery timeline.\n");
        return argc > 2 ? 2 : 0;
    }
    const char *path = argc == 2 ? argv[1] : "-";
    FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!in) {
        fprintf(stderr, "syncfake-timeline: %s: %s\n", path, strerror(errno));
        return 1;
    }
    size_t len = 0;
    char *journal = read_all(in, &len);
    if (in != stdin)
        fclose(in);
    if (!journal) {
        fprintf(stderr, "syncfake-timeline: %s: cannot read (at most 256 MB)\n", path);
        return 1;
    }
    size_t svg_len = 0;
    char *svg = sf_timeline_svg(journal, len, &svg_len);
    free(journal);
    if (!svg) {
        fprintf(stderr, "syncfake-timeline: out of memory\n");
        return 1;
    }
    int rc = fwrite(svg, 1, svg_len, stdout) == svg_len && fflush(stdout) == 0 ? 0 : 1;
    sf_timeline_free(svg);
    return rc;
}
