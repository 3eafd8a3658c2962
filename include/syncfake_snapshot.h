/* SPDX-License-Identifier: MIT */
/*
 * syncfake_snapshot.h: saving a fake's whole state and restoring it, so that a restored fake
 * continues byte for byte as the original would have: same answers, same SIDs, same journal.
 *
 * What a snapshot holds: the options that shape answers (seed, limits, base URL, journal
 * capacity, the default account's credentials, the manual start time), the clock, every SID
 * counter and creation sequence, accounts and API keys, services, streams (unique names,
 * TTL deadlines, expiry-lag state, rate-limit buckets, message counts), subscribers (their
 * state, stats and parked deliveries; not their callbacks), fault rules with their counters,
 * pending error injections, the event queue (delayed deliveries with their messages, stream
 * expiries, queued `removed` notices, in their exact (due, sequence) order), the journal
 * (entries held, next seq, overwritten count), the reset generation and the subscriber and
 * rule id counters. Page tokens stay valid (or invalid) as before: they are sealed with the
 * seed and creation keys, which the snapshot keeps.
 *
 * What it cannot hold: callbacks and their `user` pointers, the allocator and the clock
 * source. These come from the options given to sf_fake_from_snapshot. A restored fake's
 * subscribers are detached placeholders: events that reach one before it is re-attached are
 * journaled and counted as they would be, but no callback runs. sf_subscriber_reattach gives
 * one a callback again; sf_subscriber_placeholders lists the ids that still wait for one.
 *
 * The format (docs/snapshot-format.md): a little-endian binary, versioned, with a checksum;
 * the same state gives the same bytes on every run and machine. `syncfake-snapshot-dump FILE`
 * prints one as JSON.
 */
#ifndef SYNCFAKE_SNAPSHOT_H
#define SYNCFAKE_SNAPSHOT_H

#include "syncfake.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The format version this library writes; it reads this one and older ones. */
#define SF_SNAPSHOT_VERSION 2u

/* Writes len bytes; returns false when it could not (the save then fails). */
typedef bool (*sf_snapshot_write_fn)(const void *buf, size_t len, void *user);
/* Reads up to len bytes into buf; returns how many (0: the end, or a read error). */
typedef size_t (*sf_snapshot_read_fn)(void *buf, size_t len, void *user);

/* Writes the fake's state. Not inside a subscriber callback. The fake does not change (its
 * clock is not sampled). Errors: SF_ERR_INVALID_ARGUMENT (NULL fake or write_fn, inside a
 * callback, or a write failed: the message says which), SF_ERR_NOMEM. */
SF_API sf_status sf_snapshot_save(sf_fake *fake, sf_snapshot_write_fn write_fn, void *user,
                                  sf_error *err);

/* A new fake from a snapshot. From `opts` (NULL: defaults) only the allocator and the clock
 * (clock, clock_fn, clock_user) are used; everything else comes from the snapshot. With a
 * manual clock the restored fake's time is the saved time; another clock is sampled as usual
 * (the fake's time never goes backwards from the saved one). On any error *out is NULL and
 * nothing was allocated that is not freed. Errors: SF_ERR_INVALID_ARGUMENT (truncated,
 * corrupt, a checksum mismatch, a newer format version, or an inconsistent state: the message
 * says which and where), SF_ERR_NOMEM. */
SF_API sf_status sf_fake_from_snapshot(const sf_options *opts, sf_snapshot_read_fn read_fn,
                                       void *user, sf_fake **out, sf_error *err);

/* Replaces a fake's whole state with a snapshot's, keeping the fake's allocator and clock
 * source (the handle stays valid). Every subscriber of the old state is forgotten without
 * an event. On error the fake is unchanged. Not inside a callback. Errors: as
 * sf_fake_from_snapshot. */
SF_API sf_status sf_fake_restore(sf_fake *fake, sf_snapshot_read_fn read_fn, void *user,
                                 sf_error *err);

/* The same through files (written whole to `path`, or read from it). */
SF_API sf_status sf_snapshot_save_file(sf_fake *fake, const char *path, sf_error *err);
SF_API sf_status sf_fake_from_snapshot_file(const sf_options *opts, const char *path, sf_fake **out,
                                            sf_error *err);

/* The same through memory: *buf is allocated with the fake's allocator (free it with
 * sf_snapshot_buffer_free); sf_fake_from_snapshot_buffer reads len bytes of buf. */
SF_API sf_status sf_snapshot_save_buffer(sf_fake *fake, char **buf, size_t *len, sf_error *err);
SF_API void sf_snapshot_buffer_free(sf_fake *fake, char *buf);
SF_API sf_status sf_fake_from_snapshot_buffer(const sf_options *opts, const char *buf, size_t len,
                                              sf_fake **out, sf_error *err);

/* Gives a restored placeholder subscriber its callback again (or replaces a live one's).
 * From now on it receives events exactly as the original would have. Errors:
 * SF_ERR_INVALID_ARGUMENT (unknown id, no callback). */
SF_API sf_status sf_subscriber_reattach(sf_fake *fake, sf_subscriber_id id, sf_event_fn on_event,
                                        void *user, sf_error *err);

/* Copies up to `cap` ids of subscribers that still have no callback (restored and not
 * re-attached), in id order; returns how many there are. */
SF_API size_t sf_subscriber_placeholders(const sf_fake *fake, sf_subscriber_id *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* SYNCFAKE_SNAPSHOT_H */
