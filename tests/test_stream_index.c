/* SPDX-License-Identifier: MIT */
/* test_stream_index.c: the stream SID index (src/stream_index.c): an open-addressing table
 * whose deletes shift later slots back. A model check drives it with SIDs that share their
 * first 8 bytes (one home slot, long runs that wrap past the table's end) and compares every
 * lookup with a plain list; then duplicates, out-of-memory growth and the table's release.
 * White-box: the index is internal (internal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "internal.h"

enum { CANDIDATES = 64, TAGS = 4 };

/* CANDIDATES streams (free them): stream i's first 8 bytes are one of TAGS values (so many
 * share a home slot), its last 8 bytes are its own. */
static sf__stream *new_candidates(void)
{
    sf__stream *s = calloc(CANDIDATES, sizeof *s);
    assert_non_null(s);
    for (int i = 0; i < CANDIDATES; i++) {
        memset(s[i].packed, 0xa0 + i % TAGS, 8);
        s[i].packed[8] = (uint8_t)i;
        s[i].packed[15] = 0x5c;
    }
    return s;
}

/* Frees the fake: every block it took, the index's included, went back. */
static void free_and_count(sf_fake *fake, const sf_test_alloc *alloc)
{
    sf_fake_free(fake);
    assert_int_equal(alloc->live, 0);
}

static uint64_t next_draw(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

/* Every candidate is found exactly when the model holds it, and the count agrees. */
static void assert_matches(const sf__stream_index *idx, sf__stream *s, const bool *held)
{
    size_t count = 0;
    for (int i = 0; i < CANDIDATES; i++) {
        assert_ptr_equal(sf__sindex_find(idx, s[i].packed), held[i] ? &s[i] : NULL);
        count += held[i];
    }
    assert_int_equal(idx->count, count);
}

static void random_adds_and_deletes_match_a_model(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    sf__stream *s = new_candidates();
    bool held[CANDIDATES] = {false};
    sf__stream_index idx = {0};
    uint64_t draw = 0x9e3779b97f4a7c15u;
    for (int op = 0; op < 4000; op++) {
        int i = (int)(next_draw(&draw) % CANDIDATES);
        if (held[i]) {
            sf__sindex_del(fake, &idx, &s[i]);
            held[i] = false;
        } else {
            assert_int_equal(sf__sindex_add(fake, &idx, &s[i]), SF__TABLE_ADDED);
            held[i] = true;
        }
        assert_matches(&idx, s, held);
        assert_true(idx.count == 0 || idx.count * 2 <= idx.cap);
    }
    sf__sindex_release(fake, &idx);
    free(s);
    free_and_count(fake, &alloc);
}

/* A first-8-bytes value whose home is `slot` of a 16-slot table, found by trying them. */
static uint8_t byte_homed_at(sf_fake *fake, size_t slot)
{
    sf__stream probe;
    memset(&probe, 0, sizeof probe);
    for (int b = 0; b < 256; b++) {
        memset(probe.packed, b, 8);
        sf__stream_index idx = {0};
        assert_int_equal(sf__sindex_add(fake, &idx, &probe), SF__TABLE_ADDED);
        assert_int_equal(idx.cap, 16);
        bool there = idx.slots[slot].stream == &probe;
        sf__sindex_release(fake, &idx);
        if (there)
            return (uint8_t)b;
    }
    fail_msg("no byte value has home slot %zu", slot);
    return 0;
}

/* A run that wraps past the table's end: deleting its first slot must leave in place the
 * entries past the end whose home is there, and move back the ones whose home is before. */
static void a_delete_in_a_run_that_wraps_keeps_every_stream_found(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    uint8_t last = byte_homed_at(fake, 15), first = byte_homed_at(fake, 0);
    sf__stream s[5];
    memset(s, 0, sizeof s);
    const uint8_t tags[5] = {last, first, first, last, first}; /* slots 15, 0, 1, 2, 3 */
    bool held[5] = {true, true, true, true, true};
    sf__stream_index idx = {0};
    for (int i = 0; i < 5; i++) {
        memset(s[i].packed, tags[i], 8);
        s[i].packed[15] = (uint8_t)i;
        assert_int_equal(sf__sindex_add(fake, &idx, &s[i]), SF__TABLE_ADDED);
    }
    assert_ptr_equal(idx.slots[15].stream, &s[0]);
    assert_ptr_equal(idx.slots[2].stream, &s[3]);
    const int order[5] = {0, 3, 1, 4, 2};
    for (int k = 0; k < 5; k++) {
        sf__sindex_del(fake, &idx, &s[order[k]]);
        held[order[k]] = false;
        for (int i = 0; i < 5; i++)
            assert_ptr_equal(sf__sindex_find(&idx, s[i].packed), held[i] ? &s[i] : NULL);
    }
    free_and_count(fake, &alloc);
}

static void a_taken_sid_is_refused_and_a_put_twin_is_shadowed(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    sf__stream a, twin;
    memset(&a, 0, sizeof a);
    memset(a.packed, 7, 16);
    twin = a;
    sf__stream_index idx = {0};
    assert_int_equal(sf__sindex_add(fake, &idx, &a), SF__TABLE_ADDED);
    assert_int_equal(sf__sindex_add(fake, &idx, &twin), SF__TABLE_TAKEN);
    assert_int_equal(idx.count, 1);
    /* a put does not check: the older record keeps answering, each leaves by its address */
    assert_true(sf__sindex_put(fake, &idx, &twin));
    assert_ptr_equal(sf__sindex_find(&idx, a.packed), &a);
    sf__sindex_del(fake, &idx, &a);
    assert_ptr_equal(sf__sindex_find(&idx, a.packed), &twin);
    sf__sindex_del(fake, &idx, &a); /* no longer there: nothing changes */
    assert_int_equal(idx.count, 1);
    sf__sindex_del(fake, &idx, &twin);
    assert_null(sf__sindex_find(&idx, a.packed));
    /* the last stream gone, the table is too */
    assert_null(idx.slots);
    assert_int_equal(idx.cap, 0);
    free_and_count(fake, &alloc);
}

static void a_growth_out_of_memory_changes_nothing(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    sf__stream *s = new_candidates();
    bool held[CANDIDATES] = {false};
    sf__stream_index idx = {0};
    for (int i = 0; i < 8; i++) { /* 8 of 16 slots: the next add must double the table */
        assert_int_equal(sf__sindex_add(fake, &idx, &s[i]), SF__TABLE_ADDED);
        held[i] = true;
    }
    sf__stream_slot *slots = idx.slots;
    alloc.fail_at = alloc.calls + 1; /* the next allocation only */
    assert_int_equal(sf__sindex_add(fake, &idx, &s[8]), SF__TABLE_NOMEM);
    alloc.fail_at = alloc.calls + 1;
    assert_false(sf__sindex_put(fake, &idx, &s[8]));
    alloc.fail_at = alloc.calls + 1;
    assert_false(sf__sindex_reserve(fake, &idx, 9));
    assert_ptr_equal(idx.slots, slots);
    assert_int_equal(idx.cap, 16);
    assert_matches(&idx, s, held);
    alloc.fail_at = 0;
    assert_int_equal(sf__sindex_add(fake, &idx, &s[8]), SF__TABLE_ADDED);
    held[8] = true;
    assert_int_equal(idx.cap, 32);
    assert_matches(&idx, s, held);
    /* a count whose table could not be sized is refused, not wrapped */
    assert_false(sf__sindex_reserve(fake, &idx, SIZE_MAX / 2));
    assert_int_equal(idx.cap, 32);
    sf__sindex_release(fake, &idx);
    free(s);
    free_and_count(fake, &alloc);
}

/* Through the fake: a lookup takes only "TO" and 32 lowercase hex digits. */
static void lookups_by_text_take_only_a_stream_sid(void **state)
{
    (void)state;
    sf_fake *fake;
    assert_int_equal(sf_fake_new(NULL, &fake, NULL), SF_OK);
    sf_service_record svc;
    sf_stream_record st;
    assert_int_equal(sf_service_create(fake, NULL, NULL, &svc, NULL), SF_OK);
    assert_int_equal(sf_stream_create(fake, NULL, svc.sid, NULL, &st, NULL), SF_OK);
    sf__stream *found = sf__find_stream_sid(fake, st.sid);
    assert_non_null(found);
    char text[SF_SID_SIZE];
    sf__stream_sid(found, text);
    assert_string_equal(text, st.sid);
    assert_true(sf__stream_has_sid(found, st.sid));
    char other[SF_SID_SIZE];
    memcpy(other, st.sid, SF_SID_SIZE);
    other[0] = 'I';
    other[1] = 'S';
    assert_null(sf__find_stream_sid(fake, other)); /* the same bits, another prefix */
    assert_false(sf__stream_has_sid(found, other));
    memcpy(other, st.sid, SF_SID_SIZE);
    for (int i = 2; i < SF_SID_LEN; i++)
        if (other[i] >= 'a')
            other[i] = (char)(other[i] - 'a' + 'A');
    assert_null(sf__find_stream_sid(fake, other)); /* upper case is not a SID the fake mints */
    assert_false(sf__stream_has_sid(found, other));
    memcpy(other, st.sid, SF_SID_SIZE);
    other[SF_SID_LEN - 1] = '\0';
    assert_null(sf__find_stream_sid(fake, other)); /* too short */
    assert_null(sf__find_stream_sid(fake, NULL));
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_adds_and_deletes_match_a_model),
        cmocka_unit_test(a_delete_in_a_run_that_wraps_keeps_every_stream_found),
        cmocka_unit_test(a_taken_sid_is_refused_and_a_put_twin_is_shadowed),
        cmocka_unit_test(a_growth_out_of_memory_changes_nothing),
        cmocka_unit_test(lookups_by_text_take_only_a_stream_sid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
