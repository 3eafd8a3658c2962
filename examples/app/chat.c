/* SPDX-License-Identifier: MIT */
/* chat.c: see chat.h. */
#include "chat.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

sf_status chat_room_touch(const chat_config *cfg, const char *room, sf_error *err)
{
    sf_stream_params ttl = {.has_ttl = true, .ttl = cfg->room_ttl_s};
    sf_stream_record stream;
    return sf_stream_update(cfg->sync, NULL, cfg->service_sid, room, &ttl, &stream, err);
}

sf_status chat_room_open(const chat_config *cfg, const char *room, sf_error *err)
{
    sf_stream_params params = {.unique_name = room, .has_ttl = true, .ttl = cfg->room_ttl_s};
    sf_stream_record stream;
    sf_status st = sf_stream_create(cfg->sync, NULL, cfg->service_sid, &params, &stream, err);
    if (st == SF_ERR_UNIQUE_NAME_EXISTS) /* someone opened it first: keep it alive instead */
        return chat_room_touch(cfg, room, err);
    return st;
}

static bool text_ok(const char *text)
{
    size_t n = 0;
    for (; text[n]; n++)
        if (text[n] < 0x20 || text[n] > 0x7e || text[n] == '"' || text[n] == '\\')
            return false;
    return n >= 1 && n <= CHAT_TEXT_MAX;
}

sf_status chat_post(const chat_config *cfg, const char *room, uint64_t seq, const char *text,
                    unsigned *attempts, sf_error *err)
{
    if (attempts)
        *attempts = 0;
    if (!text || !text_ok(text) || cfg->max_attempts < 1)
        return SF_ERR_INVALID_ARGUMENT;
    char json[CHAT_TEXT_MAX + 64];
    int n = snprintf(json, sizeof json, "{\"seq\": %" PRIu64 ", \"text\": \"%s\"}", seq, text);
    sf_publish_params message = {.data = json, .data_len = (size_t)n};
    sf_message_record published;
    sf_ms backoff = cfg->backoff_initial_ms;
    for (unsigned attempt = 1;; attempt++) {
        if (attempts)
            *attempts = attempt;
        sf_status st =
            sf_stream_publish(cfg->sync, NULL, cfg->service_sid, room, &message, &published, err);
        /* Only a 429 says for sure that nothing was published; anything else is final. */
        if (st != SF_ERR_RATE_LIMITED || attempt == cfg->max_attempts)
            return st;
        cfg->sleep_ms(cfg->sleep_user, backoff);
        backoff = backoff * 2 > cfg->backoff_max_ms ? cfg->backoff_max_ms : backoff * 2;
    }
}

sf_status chat_rooms_walk(const chat_config *cfg, uint32_t page_size, chat_room_fn visit,
                          void *user, sf_error *err)
{
    char token[SF_PAGE_TOKEN_SIZE] = "";
    for (;;) {
        sf_page_params params = {
            .has_page_size = true, .page_size = page_size, .page_token = token[0] ? token : NULL};
        sf_stream_page *page;
        sf_status st = sf_stream_list(cfg->sync, NULL, cfg->service_sid, &params, &page, err);
        if (st != SF_OK)
            return st;
        for (size_t i = 0; i < page->info.count; i++)
            visit(user, &page->records[i]);
        bool more = page->info.has_next;
        if (more)
            memcpy(token, page->info.next_token, sizeof token);
        sf_stream_page_free(cfg->sync, page);
        if (!more)
            return SF_OK;
    }
}

/* ---- receiving ---- */

void chat_inbox_init(chat_inbox *inbox, chat_message_fn on_message, void *user)
{
    memset(inbox, 0, sizeof *inbox);
    inbox->on_message = on_message;
    inbox->user = user;
    inbox->next_seq = 1;
}

/* Hands over held messages from next_seq on, up to the first gap. */
static void release_in_order(chat_inbox *inbox)
{
    for (;;) {
        size_t slot = inbox->next_seq % CHAT_WINDOW;
        if (!inbox->held[slot])
            return;
        inbox->held[slot] = false;
        inbox->on_message(inbox->user, inbox->next_seq, inbox->text[slot]);
        inbox->next_seq++;
    }
}

/* Skips next_seq (counted lost) and hands over what then follows in order. */
static void skip_one(chat_inbox *inbox)
{
    inbox->lost++;
    inbox->next_seq++;
    release_in_order(inbox);
}

static void accept(chat_inbox *inbox, uint64_t seq, const char *text)
{
    if (seq < inbox->next_seq ||
        (seq - inbox->next_seq < CHAT_WINDOW && inbox->held[seq % CHAT_WINDOW])) {
        inbox->duplicates++;
        return;
    }
    /* Too far ahead for the window: the oldest gaps were dropped, give up on them. */
    while (seq - inbox->next_seq >= CHAT_WINDOW) {
        if (inbox->held[inbox->next_seq % CHAT_WINDOW])
            release_in_order(inbox);
        else
            skip_one(inbox);
    }
    size_t slot = seq % CHAT_WINDOW;
    inbox->held[slot] = true;
    snprintf(inbox->text[slot], sizeof inbox->text[slot], "%s", text);
    release_in_order(inbox);
}

void chat_inbox_on_event(sf_fake *sync, const sf_event *event, void *user)
{
    (void)sync;
    chat_inbox *inbox = user;
    if (event->kind != SF_EVENT_MESSAGE_PUBLISHED)
        return;
    /* compact JSON as published by chat_post: {"seq":N,"text":"..."} */
    uint64_t seq;
    char text[CHAT_TEXT_MAX + 1];
    int used = 0;
    if (sscanf(event->data, "{\"seq\":%" SCNu64 ",\"text\":\"%200[^\"]\"}%n", &seq, text, &used) !=
            2 ||
        (size_t)used != event->data_len || seq == 0) {
        inbox->malformed++;
        return;
    }
    accept(inbox, seq, text);
}

void chat_inbox_flush(chat_inbox *inbox)
{
    uint64_t last = 0;
    for (uint64_t s = inbox->next_seq; s < inbox->next_seq + CHAT_WINDOW; s++)
        if (inbox->held[s % CHAT_WINDOW])
            last = s;
    while (last && inbox->next_seq <= last) {
        if (inbox->held[inbox->next_seq % CHAT_WINDOW])
            release_in_order(inbox);
        else
            skip_one(inbox);
    }
}
