/* SPDX-License-Identifier: MIT */
/*
 * syncfake_replay.h: re-executing a recorded journal and finding where it stops matching.
 *
 * A journal recorded with options.journal_params (or sf_journal_record_calls, or the
 * server's --record-calls) and written in its data form (sf_journal_write_data, or
 * GET /_syncfake/journal?data=1) holds every call with its parameters. sf_replay builds a
 * fake as the journal's record.start entry says (seed, clock kind and start, credentials
 * given, limits, journal capacity), re-executes every recorded call in order and compares
 * the replay's journal, entry by entry and byte for byte, with the recorded one. The first
 * entry that differs is the divergence: its seq, the recorded line and the replay's line.
 *
 * Time: a manual clock is moved by the recorded clock.set calls. Any other clock (the
 * server's wall clock, a callback) is replayed as a callback clock that reads, before each
 * call, the time the call ran at in the recording (its entry's t_ms), and the recorded
 * clock.sample entries run what a reading made due.
 *
 * What cannot be replayed, and is reported as an error (not a divergence): a journal without
 * parameters (recorded without the option, or read without ?data=1), entries whose
 * parameters were dropped by the byte cap, calls made from inside a subscriber callback
 * (their "nested" parameter: callbacks are code, not data), and a journal that does not
 * start at a record.start entry with seq 1 (sf_journal_clear, a ring that overwrote its
 * oldest entries) unless it starts from a snapshot (sf_replay_snapshot). Subscribers are re-created
 * with a callback that does nothing: what they received is in the journal.
 */
#ifndef SYNCFAKE_REPLAY_H
#define SYNCFAKE_REPLAY_H

#include "syncfake.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A journal line longer than this is refused (message data is at most 1 MiB, 2 MiB as hex). */
#define SF_REPLAY_LINE_MAX ((size_t)4 * 1024 * 1024)

typedef struct sf_replay_report {
    bool diverged;
    uint64_t seq;      /* diverged: the first entry that differs (the recorded seq, or the
                          replay's when the recording has no more lines) */
    char *expected;    /* diverged: the recorded line, "" when the replay has more */
    char *got;         /* diverged: the replay's line, "" when the replay has fewer */
    uint64_t calls;    /* calls re-executed */
    uint64_t compared; /* entries found identical */
} sf_replay_report;

/* Replays `len` bytes of JSON Lines. SF_OK when the replay ran to the end or to its first
 * divergence (report.diverged says which). Errors: SF_ERR_INVALID_ARGUMENT when the journal
 * cannot be replayed (the message names the line's seq and why), SF_ERR_NOMEM. The report
 * is filled in every case; free it with sf_replay_report_free. */
SF_API sf_status sf_replay(const char *journal, size_t len, sf_replay_report *report,
                           sf_error *err);
SF_API void sf_replay_report_free(sf_replay_report *report);

/* The same from a snapshot (syncfake_snapshot.h: sf_snapshot_save_buffer or _file) taken
 * while the journal was recorded: the fake is restored from it, the journal's lines before
 * the snapshot's journal position are history and skipped, and the rest must start right
 * there. A snapshot does not say which clock the fake had: external_clock true replays the
 * rest as an external clock (see above), false as a manual one. Errors: as sf_replay, and
 * the snapshot's own (sf_fake_from_snapshot_buffer). */
SF_API sf_status sf_replay_snapshot(const char *snapshot, size_t snapshot_len, bool external_clock,
                                    const char *journal, size_t len, sf_replay_report *report,
                                    sf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SYNCFAKE_REPLAY_H */
