/* SPDX-License-Identifier: MIT */
/* syncfake-replay: re-executes a recorded journal (JSON Lines with parameters) on a new fake
 * and reports the first entry that differs. Exit status: 0 identical, 1 diverged, 2 the
 * journal cannot be replayed (or bad usage). */
#include "syncfake_replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The journal is read whole: a cap keeps a wrong file from exhausting memory. */
#define JOURNAL_FILE_MAX ((size_t)1 << 30)

static void usage(FILE *out) {
    fprintf(out,
            "usage: syncfake-replay JOURNAL.jsonl\n"
            "  JOURNAL.jsonl: a journal recorded with parameters (sf_options.journal_params,\n"
            "  or syncfake-server --record-calls) in its data form (sf_journal_write_data, or\n"
            "  GET /_syncfake/journal?data=1). Exit 0 when the replay is identical, 1 at the\n"
            "  first divergence (its seq, the recorded line, the replay's line), 2 when the\n"
            "  journal cannot be replayed.\n");
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= JOURNAL_FILE_MAX)
            break;
        char *bigger = realloc(buf, cap * 2);
        if (!bigger)
            free(buf);
        buf = bigger;
        cap *= 2;
    }
    bool bad = !buf || ferror(f) || (n == cap && !feof(f));
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    if (argc != 2) {
        usage(stderr);
        return 2;
    }
    size_t len;
    char *text = read_file(argv[1], &len);
    if (!text) {
        fprintf(stderr, "syncfake-replay: cannot read %s (or it is larger than 1 GiB)\n", argv[1]);
        return 2;
    }
    sf_replay_report rep;
    sf_error err;
    sf_status st = sf_replay(text, len, &rep, &err);
    free(text);
    int code = 0;
    if (st != SF_OK) {
        fprintf(stderr, "syncfake-replay: %s\n", err.message);
        code = 2;
    } else if (rep.diverged) {
        printf("diverged at seq %llu (after %llu identical entries, %llu calls)\n"
               "  expected: %s\n  got:      %s\n",
               (unsigned long long)rep.seq, (unsigned long long)rep.compared,
               (unsigned long long)rep.calls, rep.expected, rep.got);
        code = 1;
    } else {
        printf("identical: %llu entries, %llu calls re-executed\n",
               (unsigned long long)rep.compared, (unsigned long long)rep.calls);
    }
    sf_replay_report_free(&rep);
    return code;
}
