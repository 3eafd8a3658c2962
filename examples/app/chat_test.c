/* SPDX-License-Identifier: MIT */
/* chat_test.c: the chat app against syncfake. Each test names the Sync behaviour it pins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chat.h"

typedef struct world {
    sf_fake *sync;
    sf_service_record service;
    chat_config cfg;
    sf_ms slept[16]; /* the app's waits, in order */
    size_t sleeps;
} world;

/* The app's sleep: in a test, time passes on the fake's manual clock. */
static void sleep_on_fake_clock(void *user, sf_ms ms)
{
    world *w = user;
    if (w->sleeps < sizeof w->slept / sizeof w->slept[0])
        w->slept[w->sleeps] = ms;
    w->sleeps++;
    sf_error err;
    assert_int_equal(sf_clock_advance(w->sync, ms, &err), SF_OK);
}

static int setup_with(void **state, uint32_t burst, uint32_t rate_per_s)
{
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 11;
    if (burst)
        opts.limits.publish_burst = burst;
    if (rate_per_s)
        opts.limits.publish_rate_per_s = rate_per_s;
    sf_error err;
    assert_int_equal(sf_fake_new(&opts, &w->sync, &err), SF_OK);
    assert_int_equal(sf_service_create(w->sync, NULL, NULL, &w->service, &err), SF_OK);
    w->cfg = (chat_config){.sync = w->sync,
                           .service_sid = w->service.sid,
                           .room_ttl_s = 300,
                           .max_attempts = 5,
                           .backoff_initial_ms = 100,
                           .backoff_max_ms = 1000,
                           .sleep_ms = sleep_on_fake_clock,
                           .sleep_user = w};
    *state = w;
    return 0;
}

static int setup(void **state) { return setup_with(state, 0, 0); }

/* Twilio's defaults shrunk: a bucket of 2 publishes that refills 1 per second. */
static int setup_tight_rate(void **state) { return setup_with(state, 2, 1); }

static int teardown(void **state)
{
    world *w = *state;
    sf_fake_free(w->sync);
    free(w);
    return 0;
}

static void advance(world *w, sf_ms ms)
{
    sf_error err;
    assert_int_equal(sf_clock_advance(w->sync, ms, &err), SF_OK);
}

static bool room_exists(world *w, const char *room)
{
    sf_stream_record stream;
    sf_error err;
    return sf_stream_fetch(w->sync, NULL, w->service.sid, room, &stream, &err) == SF_OK;
}

/* Sync: a stream with a TTL is gone (404) once the TTL has passed since its last update. */
static void idle_room_expires_after_its_ttl(void **state)
{
    world *w = *state;
    sf_error err;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    advance(w, 299 * 1000);
    assert_true(room_exists(w, "lobby"));
    advance(w, 1000);
    assert_false(room_exists(w, "lobby"));
    assert_int_equal(chat_post(&w->cfg, "lobby", 1, "hello?", NULL, &err), SF_ERR_NOT_FOUND);
    assert_int_equal(err.code, 20404);
}

/* Sync: updating a stream's TTL counts the new TTL from now. */
static void touched_room_outlives_its_first_ttl(void **state)
{
    world *w = *state;
    sf_error err;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    advance(w, 200 * 1000);
    assert_int_equal(chat_room_touch(&w->cfg, "lobby", &err), SF_OK);
    advance(w, 200 * 1000); /* 400 s after creation, 200 s after the touch */
    assert_true(room_exists(w, "lobby"));
}

/* Sync: creating a stream whose unique name exists is 409/54301; the app re-opens instead. */
static void opening_an_open_room_refreshes_it(void **state)
{
    world *w = *state;
    sf_error err;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    advance(w, 200 * 1000);
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    advance(w, 200 * 1000);
    assert_true(room_exists(w, "lobby"));
}

/* Sync: a publish beyond the stream's bucket is 429/54009 and publishes nothing; the bucket
 * refills at publish_rate_per_s. The app waits 100, then 200 ms... until a token is back. */
static void post_retries_429_with_exponential_backoff(void **state)
{
    world *w = *state;
    sf_error err;
    unsigned attempts;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    assert_int_equal(chat_post(&w->cfg, "lobby", 1, "one", &attempts, &err), SF_OK);
    assert_int_equal(chat_post(&w->cfg, "lobby", 2, "two", &attempts, &err), SF_OK);
    assert_int_equal(attempts, 1);
    assert_int_equal(chat_post(&w->cfg, "lobby", 3, "three", &attempts, &err), SF_OK);
    /* one token per 1000 ms: waits of 100+200+400 = 700 ms are not enough, +800 is */
    assert_int_equal(attempts, 5);
    assert_int_equal(w->sleeps, 4);
    assert_int_equal(w->slept[0], 100);
    assert_int_equal(w->slept[1], 200);
    assert_int_equal(w->slept[2], 400);
    assert_int_equal(w->slept[3], 800);
    sf_stream_stats stats;
    assert_int_equal(sf_stream_stats_get(w->sync, NULL, w->service.sid, "lobby", &stats, &err),
                     SF_OK);
    assert_int_equal(stats.messages_published, 3); /* the 429s published nothing */
}

/* Sync: 429/54009 persists while the bucket is empty; the app gives up after max_attempts. */
static void post_gives_up_with_429_after_max_attempts(void **state)
{
    world *w = *state;
    sf_error err;
    unsigned attempts;
    w->cfg.max_attempts = 2;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    assert_int_equal(chat_post(&w->cfg, "lobby", 1, "a", NULL, &err), SF_OK);
    assert_int_equal(chat_post(&w->cfg, "lobby", 2, "b", NULL, &err), SF_OK);
    assert_int_equal(chat_post(&w->cfg, "lobby", 3, "c", &attempts, &err), SF_ERR_RATE_LIMITED);
    assert_int_equal(attempts, 2);
    assert_int_equal(err.http_status, 429);
    assert_int_equal(err.code, 54009);
}

/* Sync: a 500 may come after the message was published (an ambiguous failure), so the app
 * must not retry it; the injected error is what the caller sees. */
static void post_does_not_retry_an_ambiguous_500(void **state)
{
    world *w = *state;
    sf_error err;
    unsigned attempts;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    sf_error_injection inj = {.op = SF_OP_MESSAGE_CREATE,
                              .count = 1,
                              .http_status = 500,
                              .code = 20500,
                              .after_apply = true};
    assert_int_equal(sf_inject_error(w->sync, &inj, &err), SF_OK);
    assert_int_equal(chat_post(&w->cfg, "lobby", 1, "once", &attempts, &err), SF_ERR_INJECTED);
    assert_int_equal(attempts, 1);
    assert_int_equal(w->sleeps, 0);
}

typedef struct seen_rooms {
    char names[16][32];
    size_t count;
    world *w;
    const char *remove_on_first; /* removed while the walk is under way */
} seen_rooms;

static void remember_room(void *user, const sf_stream_record *room)
{
    seen_rooms *seen = user;
    assert_true(seen->count < 16);
    snprintf(seen->names[seen->count++], sizeof seen->names[0], "%.31s", room->unique_name);
    if (seen->remove_on_first && seen->count == 1) {
        sf_error err;
        assert_int_equal(sf_stream_remove(seen->w->sync, NULL, seen->w->service.sid,
                                          seen->remove_on_first, &err),
                         SF_OK);
    }
}

/* Sync: a stream list is in creation order, page_size at a time, and the next-page token is
 * a cursor: a stream removed during the walk never makes another one appear twice or vanish. */
static void rooms_walk_sees_each_room_once_across_pages(void **state)
{
    world *w = *state;
    sf_error err;
    static const char *rooms[] = {"r1", "r2", "r3", "r4", "r5", "r6", "r7"};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(chat_room_open(&w->cfg, rooms[i], &err), SF_OK);
    seen_rooms seen = {.w = w, .remove_on_first = "r2"};
    assert_int_equal(chat_rooms_walk(&w->cfg, 3, remember_room, &seen, &err), SF_OK);
    /* r2 was on the first page already; removing it must not shift r4 out of page 2 */
    assert_int_equal(seen.count, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(seen.names[i], rooms[i]);
}

typedef struct received {
    uint64_t seqs[64];
    char texts[64][CHAT_TEXT_MAX + 1];
    size_t count;
} received;

static void record_message(void *user, uint64_t seq, const char *text)
{
    received *r = user;
    assert_true(r->count < 64);
    r->seqs[r->count] = seq;
    snprintf(r->texts[r->count], sizeof r->texts[0], "%s", text);
    r->count++;
}

/* Subscribes an inbox to the room and posts messages 1..n (no rate limit in the way). */
static void post_many(world *w, chat_inbox *inbox, received *got, int n)
{
    sf_error err;
    assert_int_equal(chat_room_open(&w->cfg, "lobby", &err), SF_OK);
    chat_inbox_init(inbox, record_message, got);
    sf_subscribe_params sub = {.on_event = chat_inbox_on_event, .user = inbox};
    sf_subscriber_id id;
    assert_int_equal(sf_subscribe(w->sync, NULL, w->service.sid, "lobby", &sub, &id, &err), SF_OK);
    for (int i = 1; i <= n; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i);
        assert_int_equal(chat_post(&w->cfg, "lobby", (uint64_t)i, text, NULL, &err), SF_OK);
    }
    sf_run_until_idle(w->sync);
}

static void assert_in_order(const received *got, int n)
{
    assert_int_equal(got->count, n);
    for (int i = 0; i < n; i++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", i + 1);
        assert_int_equal(got->seqs[i], (uint64_t)i + 1);
        assert_string_equal(got->texts[i], text);
    }
}

/* Sync: delivery order is not guaranteed (a jitter fault reorders); the app still sees
 * messages in the order they were posted. */
static void inbox_restores_order_of_jittered_delivery(void **state)
{
    world *w = *state;
    sf_error err;
    sf_fault_params jitter = {.scope = SF_SCOPE_FAKE, .jitter_ms = 5000};
    sf_fault_id rule;
    assert_int_equal(sf_fault_add(w->sync, &jitter, &rule, &err), SF_OK);
    chat_inbox inbox;
    received got = {0};
    post_many(w, &inbox, &got, 20);
    assert_in_order(&got, 20);
    assert_int_equal(inbox.lost, 0);
}

/* Sync: a delivery may arrive twice (a duplicate fault); the app sees each message once. */
static void inbox_ignores_duplicate_delivery(void **state)
{
    world *w = *state;
    sf_error err;
    sf_fault_params dup = {.scope = SF_SCOPE_FAKE, .duplicate_rate = 1.0};
    sf_fault_id rule;
    assert_int_equal(sf_fault_add(w->sync, &dup, &rule, &err), SF_OK);
    chat_inbox inbox;
    received got = {0};
    post_many(w, &inbox, &got, 10);
    assert_in_order(&got, 10);
    assert_int_equal(inbox.duplicates, 10);
}

/* Sync: delivery is best effort (a drop fault loses messages); the app waits for the gap,
 * then, on flush, gives up on it and hands over what came after. */
static void inbox_skips_dropped_delivery_on_flush(void **state)
{
    world *w = *state;
    sf_error err;
    chat_inbox inbox;
    received got = {0};
    post_many(w, &inbox, &got, 2);
    sf_fault_params drop = {.scope = SF_SCOPE_FAKE, .drop_next = 1};
    sf_fault_id rule;
    assert_int_equal(sf_fault_add(w->sync, &drop, &rule, &err), SF_OK);
    for (uint64_t seq = 3; seq <= 5; seq++) {
        char text[16];
        snprintf(text, sizeof text, "m%d", (int)seq);
        assert_int_equal(chat_post(&w->cfg, "lobby", seq, text, NULL, &err), SF_OK);
    }
    sf_run_until_idle(w->sync);
    assert_int_equal(got.count, 2); /* m4 and m5 wait for m3 */
    chat_inbox_flush(&inbox);
    assert_int_equal(got.count, 4);
    assert_int_equal(got.seqs[2], 4);
    assert_int_equal(got.seqs[3], 5);
    assert_int_equal(inbox.lost, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(idle_room_expires_after_its_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(touched_room_outlives_its_first_ttl, setup, teardown),
        cmocka_unit_test_setup_teardown(opening_an_open_room_refreshes_it, setup, teardown),
        cmocka_unit_test_setup_teardown(post_retries_429_with_exponential_backoff, setup_tight_rate,
                                        teardown),
        cmocka_unit_test_setup_teardown(post_gives_up_with_429_after_max_attempts, setup_tight_rate,
                                        teardown),
        cmocka_unit_test_setup_teardown(post_does_not_retry_an_ambiguous_500, setup, teardown),
        cmocka_unit_test_setup_teardown(rooms_walk_sees_each_room_once_across_pages, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(inbox_restores_order_of_jittered_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(inbox_ignores_duplicate_delivery, setup, teardown),
        cmocka_unit_test_setup_teardown(inbox_skips_dropped_delivery_on_flush, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
