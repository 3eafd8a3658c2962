/* SPDX-License-Identifier: MIT */
/* test_snapshot_property.c: the snapshot guarantee. For many seeds, a random sequence of C
 * API calls A then B is run on one fake, and A, save, restore (re-attaching every subscriber
 * by id), B on another: B's answers and events, the whole journal, and the final state
 * (saved again) must be byte for byte the same. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "fixture.h"
#include "snap_ops.h"
#include "syncfake_snapshot.h"

#define SEEDS 150
#define STEPS_A 70
#define STEPS_B 70

static sf_fake *new_fake(uint64_t seed, size_t journal)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = seed;
    o.journal_capacity = journal;
    o.limits.publish_burst = 3; /* so the rate limit shows in short runs */
    o.limits.publish_rate_per_s = 2;
    sf_fake *fake = NULL;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    return fake;
}

static void save(sf_fake *fake, char **buf, size_t *len)
{
    sf_error err;
    if (sf_snapshot_save_buffer(fake, buf, len, &err) != SF_OK)
        fail_msg("save: %s", err.message);
}

static sf_fake *restore(const char *buf, size_t len, sf_ops_log *log)
{
    sf_fake *fake = NULL;
    sf_error err;
    if (sf_fake_from_snapshot_buffer(NULL, buf, len, &fake, &err) != SF_OK)
        fail_msg("restore: %s", err.message);
    size_t n = sf_subscriber_placeholders(fake, NULL, 0);
    sf_subscriber_id *ids = calloc(n + 1, sizeof *ids);
    assert_int_equal(sf_subscriber_placeholders(fake, ids, n), n);
    for (size_t i = 0; i < n; i++)
        assert_status(sf_subscriber_reattach(fake, ids[i], sf_ops_on_event, log, NULL), SF_OK);
    assert_int_equal(sf_subscriber_placeholders(fake, NULL, 0), 0);
    free(ids);
    return fake;
}

static void assert_same_text(const char *what, const char *a, size_t alen, const char *b,
                             size_t blen, uint64_t seed)
{
    if (alen == blen && memcmp(a, b, alen) == 0)
        return;
    size_t i = 0;
    while (i < alen && i < blen && a[i] == b[i])
        i++;
    size_t from = i > 200 ? i - 200 : 0;
    fail_msg("seed %llu: %s differ at byte %zu:\n--- straight\n%.400s\n--- restored\n%.400s",
             (unsigned long long)seed, what, i, a + from, b + from);
}

static char *journal_of(sf_fake *fake, size_t *len)
{
    *len = sf_journal_render(fake, NULL, NULL, 0);
    char *text = malloc(*len + 1);
    sf_journal_render(fake, NULL, text, *len + 1);
    return text;
}

static void check_seed(uint64_t seed, size_t journal)
{
    sf_ops_driver dx, dy;
    sf_ops_log lx = {0}, ly = {0};
    sf_fake *x = new_fake(seed, journal), *y = new_fake(seed, journal);
    sf_ops_init(&dx, seed);
    sf_ops_init(&dy, seed);
    for (int i = 0; i < STEPS_A; i++) {
        sf_ops_step(&dx, x, &lx);
        sf_ops_step(&dy, y, &ly);
    }
    char *snap, *again;
    size_t snap_len, again_len;
    save(y, &snap, &snap_len);
    sf_fake_free(y);
    size_t split = lx.len;
    sf_ops_log_free(&ly);
    y = restore(snap, snap_len, &ly);
    /* the restored fake saves to the same bytes: nothing was lost or reordered */
    save(y, &again, &again_len);
    assert_same_text("re-saved snapshot", snap, snap_len, again, again_len, seed);
    sf_snapshot_buffer_free(y, again);
    for (int i = 0; i < STEPS_B; i++) {
        sf_ops_step(&dx, x, &lx);
        sf_ops_step(&dy, y, &ly);
    }
    assert_same_text("answers of B", lx.buf + split, lx.len - split, ly.buf, ly.len, seed);
    size_t jx_len, jy_len;
    char *jx = journal_of(x, &jx_len), *jy = journal_of(y, &jy_len);
    assert_same_text("journals", jx, jx_len, jy, jy_len, seed);
    char *sx, *sy;
    size_t sx_len, sy_len;
    save(x, &sx, &sx_len);
    save(y, &sy, &sy_len);
    assert_same_text("final snapshots", sx, sx_len, sy, sy_len, seed);
    free(jx);
    free(jy);
    sf_snapshot_buffer_free(x, sx);
    sf_snapshot_buffer_free(y, sy);
    free(snap); /* from y's first incarnation: the default allocator */
    sf_fake_free(x);
    sf_fake_free(y);
    sf_ops_log_free(&lx);
    sf_ops_log_free(&ly);
}

static void test_a_save_restore_b_equals_a_b(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= SEEDS; seed++)
        check_seed(seed, 65536);
}

/* A journal ring that wraps: the held entries, the overwritten count and what is overwritten
 * next all carry over. */
static void test_small_journal_ring(void **state)
{
    (void)state;
    for (uint64_t seed = 1000; seed < 1000 + SEEDS / 3; seed++)
        check_seed(seed, 37);
}

/* The run actually exercises what the snapshot must carry: over the seeds, restored fakes
 * held queued deliveries, parked ones, expiries, rules and placeholders at the split. */
static void test_runs_cover_the_queue(void **state)
{
    (void)state;
    size_t with_deliveries = 0, with_rules = 0, with_subs = 0, with_events = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        sf_ops_driver d;
        sf_ops_log log = {0};
        sf_fake *fake = new_fake(seed, 65536);
        sf_ops_init(&d, seed);
        for (int i = 0; i < STEPS_A; i++)
            sf_ops_step(&d, fake, &log);
        with_deliveries += sf_pending_deliveries(fake) > 0;
        with_events += sf_pending_events(fake) > sf_pending_deliveries(fake);
        with_rules += sf_fault_list(fake, NULL, 0) > 0;
        with_subs += d.nsubs > 0;
        sf_fake_free(fake);
        sf_ops_log_free(&log);
    }
    print_message("split states: %zu with deliveries, %zu with other events, %zu with rules, %zu "
                  "with subscribers (of %d)\n",
                  with_deliveries, with_events, with_rules, with_subs, SEEDS);
    assert_true(with_deliveries > SEEDS / 10);
    assert_true(with_events > SEEDS / 10);
    assert_true(with_rules > SEEDS / 2);
    assert_true(with_subs > SEEDS / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_save_restore_b_equals_a_b),
        cmocka_unit_test(test_small_journal_ring),
        cmocka_unit_test(test_runs_cover_the_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
