/* SPDX-License-Identifier: MIT */
/* test_array.c: the core's shared array helpers (src/array.c): doubling growth that changes
 * nothing when out of memory, the lower bound over ascending keys, and a ring's regrowth
 * oldest first. White-box: they are internal (internal.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "internal.h"

static void grow_doubles_from_first_and_keeps_contents(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    size_t cap = 0;
    uint32_t *a = sf__array_grow(fake, NULL, &cap, 1, sizeof *a, 8);
    assert_non_null(a);
    assert_int_equal(cap, 8);
    for (uint32_t i = 0; i < 8; i++)
        a[i] = i * 3;
    assert_ptr_equal(sf__array_grow(fake, a, &cap, 8, sizeof *a, 8), a); /* has room */
    assert_int_equal(cap, 8);
    a = sf__array_grow(fake, a, &cap, 9, sizeof *a, 8);
    assert_int_equal(cap, 16);
    a = sf__array_grow(fake, a, &cap, 100, sizeof *a, 8); /* doubles until it fits */
    assert_int_equal(cap, 128);
    for (uint32_t i = 0; i < 8; i++)
        assert_int_equal(a[i], i * 3);
    sf__free(fake, a);
    sf_fake_free(fake);
}

static void grow_out_of_memory_changes_nothing(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    size_t cap = 0;
    uint64_t *a = sf__array_grow(fake, NULL, &cap, 4, sizeof *a, 4);
    assert_non_null(a);
    a[3] = 77;
    alloc.fail_at = alloc.calls + 1;
    assert_null(sf__array_grow(fake, a, &cap, 5, sizeof *a, 4));
    assert_int_equal(cap, 4);
    assert_int_equal(a[3], 77); /* still the caller's, untouched */
    alloc.fail_at = 0;
    sf__free(fake, a);
    sf_fake_free(fake);
}

static uint64_t key_at(const void *items, size_t i) { return ((const uint64_t *)items)[i]; }

static void lower_bound_finds_first_key_not_below(void **state)
{
    (void)state;
    static const uint64_t keys[] = {2, 4, 4, 9, UINT64_MAX};
    size_t n = sizeof keys / sizeof keys[0];
    assert_int_equal(sf__lower_bound(keys, n, 0, key_at), 0);
    assert_int_equal(sf__lower_bound(keys, n, 2, key_at), 0);
    assert_int_equal(sf__lower_bound(keys, n, 3, key_at), 1);
    assert_int_equal(sf__lower_bound(keys, n, 4, key_at), 1); /* the first of equal keys */
    assert_int_equal(sf__lower_bound(keys, n, 5, key_at), 3);
    assert_int_equal(sf__lower_bound(keys, n, 10, key_at), 4);
    assert_int_equal(sf__lower_bound(keys, n, UINT64_MAX, key_at), 4);
    assert_int_equal(sf__lower_bound(keys, 4, UINT64_MAX, key_at), 4); /* past the end */
    assert_int_equal(sf__lower_bound(NULL, 0, 1, key_at), 0);
}

static void ring_regrow_unrolls_oldest_first(void **state)
{
    (void)state;
    sf_test_alloc alloc;
    sf_fake *fake = sf_test_counting_fake(&alloc);
    /* a full ring of 4 whose oldest element sits at index 2: 30 40 10 20 holds 10 20 30 40 */
    const uint16_t ring[4] = {30, 40, 10, 20};
    uint16_t *n = sf__ring_regrow(fake, ring, sizeof *n, 4, 2, 4, 8);
    assert_non_null(n);
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(n[i], 10 * (i + 1));
    sf__free(fake, n);
    alloc.fail_at = alloc.calls + 1;
    assert_null(sf__ring_regrow(fake, ring, sizeof *n, 4, 2, 4, 8));
    alloc.fail_at = 0;
    n = sf__ring_regrow(fake, NULL, sizeof *n, 0, 0, 0, 8); /* an empty ring: a new block */
    assert_non_null(n);
    sf__free(fake, n);
    sf_fake_free(fake);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grow_doubles_from_first_and_keeps_contents),
        cmocka_unit_test(grow_out_of_memory_changes_nothing),
        cmocka_unit_test(lower_bound_finds_first_key_not_below),
        cmocka_unit_test(ring_regrow_unrolls_oldest_first),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
