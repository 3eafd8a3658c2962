/* SPDX-License-Identifier: MIT */
/* test_deadline_heap.c: the min-heap behind the Twilsock token deadlines
 * (fake_http/server/deadline_heap.c): order by (due, tie), moves and removals anywhere, slot
 * numbers kept right, and 20,000 seeded random operations checked against a plain array. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deadline_heap.h"

#define ITEMS 64

typedef struct item {
    size_t slot;
    bool in;
    int64_t due;
    uint64_t tie;
} item;

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The earliest item by a full scan. */
static item *model_first(item *items)
{
    item *best = NULL;
    for (size_t i = 0; i < ITEMS; i++)
        if (items[i].in && (!best || items[i].due < best->due ||
                            (items[i].due == best->due && items[i].tie < best->tie)))
            best = &items[i];
    return best;
}

/* Every slot points back at its item, and every parent comes before its children. */
static void assert_consistent(const sf_deadline_heap *h, const item *items)
{
    size_t in = 0;
    for (size_t i = 0; i < ITEMS; i++)
        in += items[i].in;
    assert_int_equal(h->len, in);
    for (size_t i = 0; i < h->len; i++) {
        const item *it = h->at[i].item;
        assert_int_equal(it->slot, i + 1);
        assert_true(h->at[i].slot == &it->slot);
        if (i > 0) {
            const sf_deadline *p = &h->at[(i - 1) / 2];
            assert_true(p->due < h->at[i].due ||
                        (p->due == h->at[i].due && p->tie <= h->at[i].tie));
        }
    }
}

static void test_order_and_ties(void **state)
{
    (void)state;
    sf_deadline_heap h = {0};
    item a = {0}, b = {0}, c = {0};
    assert_null(sf_deadline_first(&h));
    assert_true(sf_deadline_reserve(&h, 3));
    sf_deadline_set(&h, &a, &a.slot, 30, 1);
    sf_deadline_set(&h, &b, &b.slot, 10, 2);
    sf_deadline_set(&h, &c, &c.slot, 10, 1); /* same time as b: the smaller tie first */
    assert_ptr_equal(sf_deadline_first(&h)->item, &c);
    sf_deadline_set(&h, &c, &c.slot, 40, 1); /* moved later */
    assert_ptr_equal(sf_deadline_first(&h)->item, &b);
    sf_deadline_set(&h, &a, &a.slot, 5, 1); /* moved earlier */
    assert_ptr_equal(sf_deadline_first(&h)->item, &a);
    sf_deadline_remove(&h, &a.slot);
    assert_int_equal(a.slot, 0);
    sf_deadline_remove(&h, &a.slot); /* not in: nothing */
    assert_ptr_equal(sf_deadline_first(&h)->item, &b);
    assert_int_equal(sf_deadline_first(&h)->due, 10);
    sf_deadline_remove(&h, &b.slot);
    sf_deadline_remove(&h, &c.slot);
    assert_null(sf_deadline_first(&h));
    assert_int_equal(h.len, 0);
    sf_deadline_free(&h);
}

static void test_set_without_room_is_refused(void **state)
{
    (void)state;
    sf_deadline_heap h = {0};
    item a = {0};
    sf_deadline_set(&h, &a, &a.slot, 1, 1); /* nothing reserved: not inserted, no write */
    assert_int_equal(a.slot, 0);
    assert_null(sf_deadline_first(&h));
    sf_deadline_free(&h);
}

static void test_random_against_model(void **state)
{
    (void)state;
    item items[ITEMS] = {{0}};
    sf_deadline_heap h = {0};
    assert_true(sf_deadline_reserve(&h, ITEMS));
    for (int step = 0; step < 20000; step++) {
        item *it = &items[next_random() % ITEMS];
        switch (next_random() % 4) {
        case 0: /* take the earliest, as the token watcher does */
        {
            const sf_deadline *first = sf_deadline_first(&h);
            item *want = model_first(items);
            if (!want) {
                assert_null(first);
                break;
            }
            assert_non_null(first);
            assert_ptr_equal(first->item, want);
            want->in = false;
            sf_deadline_remove(&h, &want->slot);
            break;
        }
        case 1:
            it->in = false;
            sf_deadline_remove(&h, &it->slot);
            break;
        default: /* in, or moved; few distinct times, so that ties happen */
            it->due = (int64_t)(next_random() % 50);
            it->tie = (uint64_t)(it - items);
            it->in = true;
            sf_deadline_set(&h, it, &it->slot, it->due, it->tie);
            break;
        }
        assert_consistent(&h, items);
    }
    sf_deadline_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_ties),
        cmocka_unit_test(test_set_without_room_is_refused),
        cmocka_unit_test(test_random_against_model),
    };
    return cmocka_run_group_tests_name("deadline_heap", tests, NULL, NULL);
}
