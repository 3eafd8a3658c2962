/* SPDX-License-Identifier: MIT */
/* test_snapshot_errors.c: a snapshot that cannot be restored is a clean error that leaves
 * nothing behind (truncated at every length, any byte flipped, a newer format version,
 * trailing bytes, structurally corrupt with a valid checksum); running out of memory at
 * every allocation of a save or a restore is a clean SF_ERR_NOMEM with no leak; and the
 * file, memory and in-place helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "snap_ops.h"
#include "syncfake_snapshot.h"

static sf_test_alloc alloc_state;
static sf_ops_log events;

/* A fake with some of everything, and its snapshot. */
static sf_fake *busy_fake(uint64_t seed, int steps)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = seed;
    o.allocator = sf_test_allocator(&alloc_state);
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    sf_ops_driver d;
    sf_ops_init(&d, seed);
    for (int i = 0; i < steps; i++)
        sf_ops_step(&d, fake, &events);
    return fake;
}

static char *snapshot_of(sf_fake *fake, size_t *len)
{
    char *buf;
    assert_status(sf_snapshot_save_buffer(fake, &buf, len, NULL), SF_OK);
    char *copy = malloc(*len);
    memcpy(copy, buf, *len);
    sf_snapshot_buffer_free(fake, buf);
    return copy;
}

/* The format's checksum (docs/snapshot-format.md): the bytes before it as little-endian
 * 64-bit words (the last zero-padded); version 2 folds word i into lane i mod 4, each lane
 * from h0 as h = (h ^ w) * P; h ^= h >> 32, then the four lanes and the byte count into h0
 * the same way; version 1 folds every word, then the byte count, into one h. Written
 * little-endian. */
static uint64_t fold(uint64_t h, uint64_t w)
{
    h = (h ^ w) * UINT64_C(0x100000001b3);
    return h ^ (h >> 32);
}

static void reseal_lanes(char *buf, size_t len, int lanes)
{
    const uint64_t h0 = UINT64_C(0xcbf29ce484222325);
    uint64_t lane[4] = {h0, h0, h0, h0};
    size_t n = len - 8;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t w = 0;
        for (size_t k = 0; k < 8 && i + k < n; k++)
            w |= (uint64_t)(unsigned char)buf[i + k] << (8 * k);
        lane[(i / 8) % lanes] = fold(lane[(i / 8) % lanes], w);
    }
    uint64_t h = lane[0];
    if (lanes == 4)
        h = fold(fold(fold(fold(h0, lane[0]), lane[1]), lane[2]), lane[3]);
    h = fold(h, n);
    for (int i = 0; i < 8; i++)
        buf[len - 8 + i] = (char)(h >> (8 * i));
}

static void reseal(char *buf, size_t len) { reseal_lanes(buf, len, 4); }

/* Restores with a counting allocator; on failure checks that nothing is left allocated. */
static sf_status try_restore(const char *buf, size_t len, sf_error *err)
{
    sf_test_alloc a = {0};
    sf_options o;
    sf_options_init(&o);
    o.allocator = sf_test_allocator(&a);
    sf_fake *fake = (sf_fake *)&a; /* must be reset to NULL on failure */
    sf_status st = sf_fake_from_snapshot_buffer(&o, buf, len, &fake, err);
    if (st == SF_OK) {
        assert_non_null(fake);
        sf_fake_free(fake);
    } else {
        assert_null(fake);
    }
    assert_int_equal(a.live, 0);
    return st;
}

static void test_truncated_at_every_length(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(3, 120);
    size_t len;
    char *snap = snapshot_of(fake, &len);
    assert_true(len > 2000);
    sf_error err;
    assert_status(try_restore(snap, len, &err), SF_OK);
    for (size_t cut = 0; cut < len; cut++) {
        assert_status(try_restore(snap, cut, &err), SF_ERR_INVALID_ARGUMENT);
        if (!strstr(err.message, "truncated") && !strstr(err.message, "not a syncfake"))
            fail_msg("cut at %zu: %s", cut, err.message);
    }
    free(snap);
    sf_fake_free(fake);
}

static void test_any_flipped_byte_is_caught(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(4, 120);
    size_t len;
    char *snap = snapshot_of(fake, &len);
    sf_error err;
    for (size_t i = 0; i < len; i++) {
        snap[i] ^= 0x20;
        assert_status(try_restore(snap, len, &err), SF_ERR_INVALID_ARGUMENT);
        snap[i] ^= 0x20;
    }
    free(snap);
    sf_fake_free(fake);
}

static void test_newer_version_and_trailing_bytes(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(5, 40);
    size_t len;
    char *snap = snapshot_of(fake, &len);
    sf_error err;
    snap[8] = 3; /* the u32 version after the 8-byte magic */
    reseal(snap, len);
    assert_status(try_restore(snap, len, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(
        strstr(err.message, "snapshot format version 3; this library reads versions 1 to 2"));
    snap[8] = 0;
    reseal(snap, len);
    assert_status(try_restore(snap, len, &err), SF_ERR_INVALID_ARGUMENT);
    snap[8] = 2;
    reseal(snap, len);
    assert_status(try_restore(snap, len, &err), SF_OK);
    char *longer = malloc(len + 1);
    memcpy(longer, snap, len);
    longer[len] = 0;
    assert_status(try_restore(longer, len + 1, &err), SF_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(err.message, "bytes after the checksum"));
    free(longer);
    free(snap);
    sf_fake_free(fake);
}

/* With the checksum made valid again, a changed byte reaches the structural checks: the
 * restore either succeeds (a plausible state) or fails cleanly; never a crash or a leak
 * (the sanitizers watch), and a restored fake keeps working. */
static void test_corrupt_with_valid_checksum(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(6, 120);
    size_t len;
    char *snap = snapshot_of(fake, &len);
    size_t refused = 0;
    for (size_t i = 8; i + 8 < len; i++) {
        for (int v = 0; v < 3; v++) {
            char old = snap[i];
            snap[i] = (char)(v == 0 ? 0xff : v == 1 ? 0 : old + 1);
            reseal(snap, len);
            sf_error err;
            refused += try_restore(snap, len, &err) != SF_OK;
            snap[i] = old;
        }
    }
    reseal(snap, len);
    assert_true(refused > 0);
    free(snap);
    sf_fake_free(fake);
}

static void test_save_out_of_memory_at_every_allocation(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(7, 120);
    size_t ref_len;
    char *ref = snapshot_of(fake, &ref_len);
    long failures = 0;
    for (long n = 1;; n++) {
        long live = alloc_state.live;
        alloc_state.fail_at = alloc_state.calls + n;
        char *buf = NULL;
        size_t len = 0;
        sf_error err;
        sf_status st = sf_snapshot_save_buffer(fake, &buf, &len, &err);
        alloc_state.fail_at = 0;
        if (st == SF_OK) {
            assert_int_equal(len, ref_len);
            assert_memory_equal(buf, ref, len);
            sf_snapshot_buffer_free(fake, buf);
            break;
        }
        failures++;
        assert_status(st, SF_ERR_NOMEM);
        sf_assert_twilio_error(&err, 500, 20500);
        assert_int_equal(alloc_state.live, live);
    }
    assert_true(failures >= 4); /* writer, tables, sort arrays, the buffer's growth */
    free(ref);
    sf_fake_free(fake);
    assert_int_equal(alloc_state.live, 0);
}

static void test_restore_out_of_memory_at_every_allocation(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(8, 120);
    size_t len;
    char *snap = snapshot_of(fake, &len);
    long failures = 0;
    for (long n = 1;; n++) {
        sf_test_alloc a = {.fail_at = n};
        sf_options o;
        sf_options_init(&o);
        o.allocator = sf_test_allocator(&a);
        sf_fake *restored = NULL;
        sf_error err;
        sf_status st = sf_fake_from_snapshot_buffer(&o, snap, len, &restored, &err);
        a.fail_at = 0;
        if (st == SF_OK) {
            size_t again_len;
            char *again = snapshot_of(restored, &again_len);
            assert_int_equal(again_len, len);
            assert_memory_equal(again, snap, len);
            free(again);
            sf_fake_free(restored);
            assert_int_equal(a.live, 0);
            break;
        }
        failures++;
        assert_status(st, SF_ERR_NOMEM);
        assert_null(restored);
        assert_int_equal(a.live, 0);
    }
    assert_true(failures > 50); /* one per record at least */
    free(snap);
    sf_fake_free(fake);
}

typedef struct mem_src {
    const char *p;
    size_t left;
    size_t piece; /* at most this many bytes a read; 0: as many as asked */
} mem_src;

static size_t mem_read(void *buf, size_t len, void *user)
{
    mem_src *m = user;
    size_t n = len < m->left ? len : m->left;
    if (m->piece && n > m->piece)
        n = m->piece;
    memcpy(buf, m->p, n);
    m->p += n;
    m->left -= n;
    return n;
}

static sf_status restore_into(sf_fake *fake, const char *buf, size_t len, sf_error *err)
{
    mem_src m = {buf, len, 0};
    return sf_fake_restore(fake, mem_read, &m, err);
}

static void test_restore_in_place(void **state)
{
    (void)state;
    sf_fake *a = busy_fake(9, 100), *b = busy_fake(10, 100);
    size_t alen, blen;
    char *asnap = snapshot_of(a, &alen), *bsnap = snapshot_of(b, &blen);
    sf_error err;
    /* a failed restore leaves the fake as it was */
    asnap[alen / 2] ^= 1;
    sf_fake *before = b;
    assert_status(sf_fake_restore(b, NULL, NULL, &err), SF_ERR_INVALID_ARGUMENT);
    assert_status(restore_into(b, asnap, alen, &err), SF_ERR_INVALID_ARGUMENT);
    size_t now_len;
    char *now = snapshot_of(b, &now_len);
    assert_int_equal(now_len, blen);
    assert_memory_equal(now, bsnap, blen);
    free(now);
    asnap[alen / 2] ^= 1;
    assert_status(restore_into(b, asnap, alen, &err), SF_OK);
    assert_ptr_equal(b, before);
    now = snapshot_of(b, &now_len);
    assert_int_equal(now_len, alen);
    assert_memory_equal(now, asnap, alen);
    free(now);
    free(asnap);
    free(bsnap);
    sf_fake_free(a);
    sf_fake_free(b);
    assert_int_equal(alloc_state.live, 0);
}

static void test_files(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(11, 60);
    char path[] = "/tmp/sf_snapshot_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sf_error err;
    assert_status(sf_snapshot_save_file(fake, path, &err), SF_OK);
    sf_fake *back = NULL;
    assert_status(sf_fake_from_snapshot_file(NULL, path, &back, &err), SF_OK);
    size_t a_len, b_len;
    char *a = snapshot_of(fake, &a_len), *b = snapshot_of(back, &b_len);
    assert_int_equal(a_len, b_len);
    assert_memory_equal(a, b, a_len);
    free(a);
    free(b);
    sf_fake_free(back);
    unlink(path);
    back = (sf_fake *)path;
    assert_status(sf_fake_from_snapshot_file(NULL, path, &back, &err), SF_ERR_INVALID_ARGUMENT);
    assert_null(back);
    assert_non_null(strstr(err.message, "cannot read"));
    assert_status(sf_snapshot_save_file(fake, "/nonexistent-dir/x", &err), SF_ERR_INVALID_ARGUMENT);
    sf_fake_free(fake);
}

static void count_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    (void)ev;
    (*(int *)user)++;
}

/* A placeholder gets no callback (its delivery is journaled and counted as the original
 * would have been); once re-attached it gets them again. */
static void test_placeholders(void **state)
{
    (void)state;
    sf_fake *fake = NULL;
    sf_service_record svc;
    sf_stream_record st;
    sf_subscriber_id id;
    int calls = 0;
    assert_status(sf_fake_new(NULL, &fake, NULL), SF_OK);
    assert_status(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_status(sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL), SF_OK);
    sf_subscribe_params sp = {.on_event = count_event, .user = &calls};
    assert_status(sf_subscribe(fake, NULL, svc.sid, st.sid, &sp, &id, NULL), SF_OK);
    size_t len;
    char *snap = snapshot_of(fake, &len);
    sf_fake *back = NULL;
    assert_status(sf_fake_from_snapshot_buffer(NULL, snap, len, &back, NULL), SF_OK);
    sf_subscriber_id ids[4];
    assert_int_equal(sf_subscriber_placeholders(back, ids, 4), 1);
    assert_int_equal(ids[0], id);
    sf_publish_params pp = {.data = "{}", .data_len = 2};
    assert_status(sf_stream_publish(back, NULL, svc.sid, st.sid, &pp, NULL, NULL), SF_OK);
    assert_int_equal(calls, 0);
    sf_subscriber_stats stats;
    assert_status(sf_subscriber_stats_get(back, id, &stats, NULL), SF_OK);
    assert_int_equal(stats.delivered, 1);
    sf_error err;
    assert_status(sf_subscriber_reattach(back, id + 1, count_event, &calls, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_status(sf_subscriber_reattach(back, id, NULL, &calls, &err), SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_subscriber_placeholders(back, NULL, 0), 1);
    assert_status(sf_subscriber_reattach(back, id, count_event, &calls, &err), SF_OK);
    assert_int_equal(sf_subscriber_placeholders(back, NULL, 0), 0);
    assert_status(sf_stream_publish(back, NULL, svc.sid, st.sid, &pp, NULL, NULL), SF_OK);
    assert_int_equal(calls, 1);
    free(snap);
    sf_fake_free(back);
    sf_fake_free(fake);
}

/* A version 1 snapshot (one checksum chain) is still read, from memory and in small pieces
 * (the reader learns how the checksum is taken only after some bytes are in), and the
 * restored fake saves as version 2 the bytes the original saves. */
static void test_version_1_still_read(void **state)
{
    (void)state;
    sf_fake *fake = busy_fake(12, 80);
    size_t len;
    char *v2 = snapshot_of(fake, &len), *v1 = malloc(len);
    memcpy(v1, v2, len);
    v1[8] = 1;
    reseal_lanes(v1, len, 1);
    sf_error err;
    assert_status(try_restore(v1, len, &err), SF_OK);
    mem_src m = {v1, len, 5};
    sf_fake *back = NULL;
    assert_status(sf_fake_from_snapshot(NULL, mem_read, &m, &back, &err), SF_OK);
    size_t again_len;
    char *again = snapshot_of(back, &again_len);
    assert_int_equal(again_len, len);
    assert_memory_equal(again, v2, len);
    v1[len / 2] ^= 1; /* a version 1 checksum still catches a flipped byte */
    assert_status(try_restore(v1, len, &err), SF_ERR_INVALID_ARGUMENT);
    free(again);
    free(v1);
    free(v2);
    sf_fake_free(back);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_truncated_at_every_length),
        cmocka_unit_test(test_any_flipped_byte_is_caught),
        cmocka_unit_test(test_newer_version_and_trailing_bytes),
        cmocka_unit_test(test_version_1_still_read),
        cmocka_unit_test(test_corrupt_with_valid_checksum),
        cmocka_unit_test(test_save_out_of_memory_at_every_allocation),
        cmocka_unit_test(test_restore_out_of_memory_at_every_allocation),
        cmocka_unit_test(test_restore_in_place),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_placeholders),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sf_ops_log_free(&events);
    return rc;
}
