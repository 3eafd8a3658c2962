/* SPDX-License-Identifier: MIT */
/* chat.h: a reference "app under test": chat rooms on Twilio Sync Message Streams.
 *
 * Each room is a stream named after the room, with a TTL so idle rooms go away; posting to a
 * room publishes {"seq": N, "text": "..."} and retries with exponential back-off when Sync
 * answers 429; listing rooms walks every page; and the receiving side (chat_inbox) hands
 * messages to the app in order, once each, although Sync may drop, reorder or duplicate
 * deliveries. The app reaches Sync through syncfake's C API, the seam its tests replace. */
#ifndef CHAT_H
#define CHAT_H

#include <syncfake.h>

#include <stdbool.h>
#include <stdint.h>

typedef struct chat_config {
    sf_fake *sync; /* the Sync backend (the fake, in tests) */
    const char *service_sid;
    int64_t room_ttl_s;       /* an idle room expires this long after its last touch */
    unsigned max_attempts;    /* publishes tried before giving up on 429 (>= 1) */
    sf_ms backoff_initial_ms; /* the first wait after a 429; doubles, up to backoff_max_ms */
    sf_ms backoff_max_ms;
    void (*sleep_ms)(void *user, sf_ms ms); /* how the app waits (tests move the fake clock) */
    void *sleep_user;
} chat_config;

/* Opens a room: creates its stream, or, if it exists (409/54301), refreshes its TTL. */
sf_status chat_room_open(const chat_config *cfg, const char *room, sf_error *err);

/* Refreshes the room's TTL (a room in use should not expire). */
sf_status chat_room_touch(const chat_config *cfg, const char *room, sf_error *err);

/* Posts message `seq` >= 1 (text: 1..200 printable ASCII characters, no '"' or '\\').
 * Retries only 429 (the publish is known not to have happened), waiting back-off between
 * tries. *attempts (optional) receives the number of publishes tried. */
sf_status chat_post(const chat_config *cfg, const char *room, uint64_t seq, const char *text,
                    unsigned *attempts, sf_error *err);

/* Calls visit for every open room, page by page (page_size rooms per request). */
typedef void (*chat_room_fn)(void *user, const sf_stream_record *room);
sf_status chat_rooms_walk(const chat_config *cfg, uint32_t page_size, chat_room_fn visit,
                          void *user, sf_error *err);

/* ---- receiving ---- */

#define CHAT_WINDOW 32 /* messages held while waiting for an earlier one */
#define CHAT_TEXT_MAX 200

typedef void (*chat_message_fn)(void *user, uint64_t seq, const char *text);

typedef struct chat_inbox {
    chat_message_fn on_message; /* gets messages in seq order, each once */
    void *user;
    uint64_t next_seq;      /* the next seq to hand over (starts at 1) */
    bool held[CHAT_WINDOW]; /* slot seq % CHAT_WINDOW holds a message ahead of next_seq */
    char text[CHAT_WINDOW][CHAT_TEXT_MAX + 1];
    uint64_t duplicates; /* copies ignored */
    uint64_t lost;       /* seqs given up on (chat_inbox_flush, or window overflow) */
    uint64_t malformed;  /* deliveries that were not a chat message */
} chat_inbox;

void chat_inbox_init(chat_inbox *inbox, chat_message_fn on_message, void *user);

/* An sf_event_fn (user = the inbox): subscribe it to a room with sf_subscribe. */
void chat_inbox_on_event(sf_fake *sync, const sf_event *event, void *inbox);

/* Gives up on the missing messages before the last one held (they were dropped) and hands
 * over everything held. Call it when the room has been quiet long enough. */
void chat_inbox_flush(chat_inbox *inbox);

#endif
