/* SPDX-License-Identifier: MIT */
/* bench_json.c: see bench_json.h. */
#include "bench_json.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* The file's text without its closing "]" and trailing blanks; NULL (and *len 0) when missing. */
static char *read_open_array(const char *path, long *len)
{
    *len = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *text = NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (*len = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)*len + 1)) != NULL &&
        fread(text, 1, (size_t)*len, f) != (size_t)*len)
        *len = 0;
    fclose(f);
    if (!text)
        *len = 0;
    while (*len > 0 && (text[*len - 1] == '\n' || text[*len - 1] == ' ' || text[*len - 1] == ']'))
        (*len)--;
    return text;
}

int sf_bench_json_append(const char *path, const sf_bench_figure *figures, size_t count)
{
    long len;
    char *old = read_open_array(path, &len);
    bool append = len > 1; /* something after "[" */
    FILE *f = fopen(path, "w");
    if (!f) {
        free(old);
        return -1;
    }
    if (append)
        fwrite(old, 1, (size_t)len, f);
    else
        fputs("[", f);
    free(old);
    for (size_t i = 0; i < count; i++) {
        fprintf(f, "%s\n  {\"name\": \"%s\", \"value\": ", append || i ? "," : "", figures[i].name);
        if (isfinite(figures[i].value))
            fprintf(f, "%.6g", figures[i].value);
        else
            fputs("null", f);
        fprintf(f, ", \"unit\": \"%s\"}", figures[i].unit);
    }
    fputs("\n]\n", f);
    return fclose(f) == 0 ? 0 : -1;
}
