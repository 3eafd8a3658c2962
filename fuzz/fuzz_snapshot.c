/* SPDX-License-Identifier: MIT */
/* fuzz_snapshot.c: libFuzzer target over the snapshot reader (sf_fake_from_snapshot).
 *
 * Each input is restored twice: as it is (almost always refused by the checksum, which
 * exercises the truncation and header paths) and with its last 8 bytes replaced by the
 * checksum of the rest, so that the structural checks of every record are reached. A fake
 * that restores must then work: it saves, saves back to the same bytes once restored again,
 * runs its event queue and takes a publish; everything is freed (leaks are reported by ASan).
 * Seeds: fuzz/corpus/snapshot, snapshots of fakes driven by tests/support/snap_ops.c (seeds
 * 1-6, 40 calls each), written once; any snapshot file is a good seed. */
#include "snapshot_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void exercise(sf_fake *fake)
{
    char *buf, *again;
    size_t len, again_len;
    if (sf_snapshot_save_buffer(fake, &buf, &len, NULL) != SF_OK)
        return;
    sf_fake *twin = NULL;
    if (sf_fake_from_snapshot_buffer(NULL, buf, len, &twin, NULL) != SF_OK)
        abort(); /* what the library wrote it must read */
    if (sf_snapshot_save_buffer(twin, &again, &again_len, NULL) != SF_OK)
        abort();
    if (again_len != len || memcmp(again, buf, len) != 0)
        abort(); /* a restore must lose nothing */
    sf_snapshot_buffer_free(twin, again);
    sf_fake_free(twin);
    sf_snapshot_buffer_free(fake, buf);
    sf_run_until_idle(fake);
    sf_clock_advance(fake, 86400000, NULL);
    sf_service_page *page = NULL;
    if (sf_service_list(fake, NULL, NULL, &page, NULL) == SF_OK && page->info.count > 0) {
        sf_stream_page *streams = NULL;
        const char *svc = page->records[0].sid;
        if (sf_stream_list(fake, NULL, svc, NULL, &streams, NULL) == SF_OK &&
            streams->info.count > 0) {
            sf_publish_params p = {.data = "{\"a\":1}", .data_len = 7};
            sf_stream_publish(fake, NULL, svc, streams->records[0].sid, &p, NULL, NULL);
            sf_run_until_idle(fake);
        }
        sf_stream_page_free(fake, streams);
    }
    sf_service_page_free(fake, page);
}

static void restore(const uint8_t *data, size_t size)
{
    sf_fake *fake = NULL;
    if (sf_fake_from_snapshot_buffer(NULL, (const char *)data, size, &fake, NULL) == SF_OK) {
        exercise(fake);
        sf_fake_free(fake);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    restore(data, size);
    if (size < 8)
        return 0;
    uint8_t *sealed = malloc(size);
    if (!sealed)
        return 0;
    memcpy(sealed, data, size);
    sf__snap_sum sum;
    sf__sum_init(&sum);
    if (size >= 12 && sealed[8] == 1 && !sealed[9] && !sealed[10] && !sealed[11])
        sum.lanes = 1; /* a version 1 snapshot (the seeds): its one-chain checksum */
    sf__sum_bytes(&sum, sealed, size - 8);
    uint64_t h = sf__sum_final(&sum);
    for (int i = 0; i < 8; i++)
        sealed[size - 8 + i] = (uint8_t)(h >> (8 * i));
    restore(sealed, size);
    free(sealed);
    return 0;
}
