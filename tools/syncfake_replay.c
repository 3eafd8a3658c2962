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

static void usage(FILE *out)
{
    fprintf(out,
            "usage: syncfake-replay [--snapshot FILE [--clock manual|external]] JOURNAL.jsonl\n"
            "  JOURNAL.jsonl: a journal recorded with parameters (sf_options.journal_params,\n"
            "  or syncfake-server --record-calls) in its data form (sf_journal_write_data, or\n"
            "  GET /_syncfake/journal?data=1), replayed on a new fake built as its first\n"
            "  entry (record.start) says.\n"
            "  --snapshot FILE   start from this snapshot instead (sf_snapshot_save_file, GET\n"
            "                    /_syncfake/snapshot) taken while the journal was recorded:\n"
            "                    the journal's entries before it are skipped\n"
            "  --clock KIND      with --snapshot: the recording's clock, manual (default) or\n"
            "                    external (wall or callback: replayed from the recorded times)\n"
            "  Exit 0 when the replay is identical, 1 at the first divergence (its seq, the\n"
            "  recorded line, the replay's line), 2 when it cannot be replayed.\n");
}

static char *read_file(const char *path, size_t *len)
{
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

/* Options; false on bad usage. */
static bool parse_args(int argc, char **argv, const char **journal, const char **snapshot,
                       bool *external)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--snapshot") && v)
            *snapshot = argv[++i];
        else if (!strcmp(argv[i], "--clock") && v &&
                 (!strcmp(v, "manual") || !strcmp(v, "external")))
            *external = !strcmp(argv[++i], "external");
        else if (argv[i][0] != '-' && !*journal)
            *journal = argv[i];
        else
            return false;
    }
    return *journal != NULL;
}

static int report(sf_status st, const sf_error *err, const sf_replay_report *rep)
{
    if (st != SF_OK) {
        fprintf(stderr, "syncfake-replay: %s\n", err->message);
        return 2;
    }
    if (rep->diverged) {
        printf("diverged at seq %llu (after %llu identical entries, %llu calls)\n"
               "  expected: %s\n  got:      %s\n",
               (unsigned long long)rep->seq, (unsigned long long)rep->compared,
               (unsigned long long)rep->calls, rep->expected, rep->got);
        return 1;
    }
    printf("identical: %llu entries, %llu calls re-executed\n", (unsigned long long)rep->compared,
           (unsigned long long)rep->calls);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    const char *journal = NULL, *snapshot = NULL;
    bool external = false;
    if (!parse_args(argc, argv, &journal, &snapshot, &external)) {
        usage(stderr);
        return 2;
    }
    size_t len, snap_len = 0;
    char *text = read_file(journal, &len);
    char *snap = snapshot ? read_file(snapshot, &snap_len) : NULL;
    if (!text || (snapshot && !snap)) {
        fprintf(stderr, "syncfake-replay: cannot read %s (or it is larger than 1 GiB)\n",
                text ? snapshot : journal);
        free(text);
        free(snap);
        return 2;
    }
    sf_replay_report rep;
    sf_error err;
    sf_status st = snapshot ? sf_replay_snapshot(snap, snap_len, external, text, len, &rep, &err)
                            : sf_replay(text, len, &rep, &err);
    free(text);
    free(snap);
    int code = report(st, &err, &rep);
    sf_replay_report_free(&rep);
    return code;
}
