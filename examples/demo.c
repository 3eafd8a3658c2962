/* SPDX-License-Identifier: MIT */
/*
 * demo.c: a narrated walk through syncfake's C API, for a person learning how Twilio Sync
 * Message Streams behave. Everything runs on the fake's manual clock, so the output is the
 * same on every run and every machine. Each step checks that the fake did what the narration
 * says; the program exits non-zero (and says which step) otherwise, so it doubles as a check.
 */
#include "syncfake.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void step(const char *title) { printf("\n== %s\n", title); }

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("   ", stdout);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

/* Records a narrated expectation that did not hold. */
static void check(int ok, const char *what)
{
    if (!ok) {
        printf("   !! NOT AS NARRATED: %s\n", what);
        failures++;
    }
}

/* A fatal API failure: prints the error and stops. */
static void must(sf_status st, const sf_error *err, const char *what)
{
    if (st == SF_OK)
        return;
    fprintf(stderr, "demo: %s failed: %d/%d %s\n", what, err->http_status, err->code, err->message);
    exit(1);
}

/* "2015-07-30T20:00:00Z" plus the milliseconds ISO 8601 (whole seconds) leaves out. */
static const char *when(sf_ms t)
{
    static char buf[2][48];
    static int which;
    char iso[21];
    sf_format_iso8601(t, iso);
    char *out = buf[which++ & 1];
    long ms = (long)(((t % 1000) + 1000) % 1000);
    if (ms)
        snprintf(out, sizeof buf[0], "%s +%03ld ms", iso, ms);
    else
        snprintf(out, sizeof buf[0], "%s", iso);
    return out;
}

/* The Twilio error body, as the REST API would send it. */
static void show_error(const sf_error *err)
{
    say("HTTP %d {\"code\": %d, \"message\": \"%s\",", err->http_status, err->code, err->message);
    say("         \"more_info\": \"%s\", \"status\": %d}", err->more_info, err->http_status);
}

/* A stream as a person would name it: its unique name, else its SID shortened. */
static const char *label(const sf_stream_record *r, char buf[16])
{
    if (r->has_unique_name)
        return r->unique_name;
    snprintf(buf, 16, "%.8s...", r->sid);
    return buf;
}

/* ---------------------------------------------------------------------------------------- */
/* The delivery lesson: what each subscriber saw, and the journal's account of why           */
/* ---------------------------------------------------------------------------------------- */

#define LANES 2
#define MESSAGES 4

typedef struct lane {
    const char *name;
    sf_subscriber_id id;
    char got[96]; /* "M1 M3 M2", in arrival order */
    struct chapter *ch;
} lane;

typedef struct chapter {
    sf_fake *fake;
    const char *service;
    char stream[32];
    sf_ms t0;
    uint64_t mark; /* the journal seq before the chapter: its entries come after */
    lane lanes[LANES];
    char msgs[MESSAGES][SF_SID_SIZE];
    int published;
} chapter;

/* "M2" for a message of the chapter. */
static const char *msg_name(const chapter *ch, const char *sid)
{
    static char buf[16];
    for (int i = 0; i < ch->published; i++)
        if (strcmp(ch->msgs[i], sid) == 0) {
            snprintf(buf, sizeof buf, "M%d", i + 1);
            return buf;
        }
    return "?";
}

static void on_lane_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    lane *l = user;
    int k; /* the message's number, from its data: a delivery can run before publish returns */
    if (ev->kind != SF_EVENT_MESSAGE_PUBLISHED || sscanf(ev->data, "{\"n\":%d}", &k) != 1)
        return;
    size_t n = strlen(l->got);
    snprintf(l->got + n, sizeof l->got - n, "%sM%d", n ? " " : "", k);
}

static void chapter_begin(chapter *ch, sf_fake *fake, const char *service, const char *stream)
{
    sf_error err;
    memset(ch, 0, sizeof *ch);
    ch->fake = fake;
    ch->service = service;
    snprintf(ch->stream, sizeof ch->stream, "%s", stream);
    sf_stream_params p = {.unique_name = stream};
    sf_stream_record rec;
    must(sf_stream_create(fake, NULL, service, &p, &rec, &err), &err, "create a lesson stream");
    const char *names[LANES] = {"alice", "bob"};
    for (int i = 0; i < LANES; i++) {
        ch->lanes[i] = (lane){.name = names[i], .ch = ch};
        sf_subscribe_params sp = {.on_event = on_lane_event, .user = &ch->lanes[i]};
        must(sf_subscribe(fake, NULL, service, stream, &sp, &ch->lanes[i].id, &err), &err,
             "subscribe");
    }
    uint64_t cursor = 0;
    sf_journal_entry e;
    while (sf_journal_next(fake, NULL, &cursor, &e))
        ch->mark = e.seq;
    ch->t0 = sf_clock_now(fake);
    say("stream \"%s\", subscribers alice (#%" PRIu64 ") and bob (#%" PRIu64 ")", stream,
        ch->lanes[0].id, ch->lanes[1].id);
}

static void chapter_publish(chapter *ch)
{
    sf_error err;
    char data[32];
    int n = snprintf(data, sizeof data, "{\"n\":%d}", ch->published + 1);
    sf_publish_params p = {.data = data, .data_len = (size_t)n};
    sf_message_record m;
    must(sf_stream_publish(ch->fake, NULL, ch->service, ch->stream, &p, &m, &err), &err, "publish");
    memcpy(ch->msgs[ch->published++], m.sid, SF_SID_SIZE);
    say("+%4" PRId64 " ms  publish M%d", sf_clock_now(ch->fake) - ch->t0, ch->published);
}

static const char *lane_name(const chapter *ch, sf_subscriber_id id)
{
    for (int i = 0; i < LANES; i++)
        if (ch->lanes[i].id == id)
            return ch->lanes[i].name;
    return "?";
}

/* One journal entry in words. */
static void explain_entry(const chapter *ch, const sf_journal_entry *e)
{
    const char *who = lane_name(ch, e->subscriber), *m = msg_name(ch, e->message_sid);
    char rule[24] = "";
    if (e->rule)
        snprintf(rule, sizeof rule, " by rule %u", (unsigned)e->rule);
    sf_ms at = e->t_ms - ch->t0, until = e->until_ms - ch->t0;
    const char *copy = e->duplicate ? " (the extra copy)" : "";
    switch (e->kind) {
    case SF_JOURNAL_DELIVERED:
        say("+%4" PRId64 " ms  %-5s received %s%s", at, who, m, copy);
        break;
    case SF_JOURNAL_DROPPED:
        say("+%4" PRId64 " ms  %-5s: %s dropped%s, and nobody tells %s", at, who, m, rule, who);
        break;
    case SF_JOURNAL_DELAYED:
        say("+%4" PRId64 " ms  %-5s: %s delayed%s until +%" PRId64 " ms", at, who, m, rule, until);
        break;
    case SF_JOURNAL_DUPLICATED:
        say("+%4" PRId64 " ms  %-5s: %s duplicated%s, a second copy at +%" PRId64 " ms", at, who, m,
            rule, until);
        break;
    case SF_JOURNAL_HELD:
        say("+%4" PRId64 " ms  %-5s: %s%s held: %s is partitioned, parked until a heal", at, who, m,
            copy, who);
        break;
    case SF_JOURNAL_DISCARDED:
        say("+%4" PRId64 " ms  %-5s: %s discarded at the heal", at, who, m);
        break;
    case SF_JOURNAL_LOST:
        say("+%4" PRId64 " ms  %-5s: %s lost: %s was disconnected", at, who, m, who);
        break;
    default:
        break;
    }
}

/* What every subscriber saw, then the journal's entries of the chapter's stream in words. */
static void chapter_explain(chapter *ch)
{
    for (int i = 0; i < LANES; i++)
        say("%-5s saw: %s", ch->lanes[i].name, ch->lanes[i].got[0] ? ch->lanes[i].got : "nothing");
    say("why, from the journal:");
    uint64_t cursor = sf_journal_cursor_after(ch->fake, ch->mark);
    sf_journal_entry e;
    while (sf_journal_next(ch->fake, NULL, &cursor, &e))
        if (e.subscriber && e.message_sid[0])
            explain_entry(ch, &e);
}

static void chapter_end(chapter *ch, sf_fault_id rule)
{
    if (rule)
        sf_fault_remove(ch->fake, rule, NULL);
    for (int i = 0; i < LANES; i++)
        sf_unsubscribe(ch->fake, ch->lanes[i].id, NULL);
}

static sf_fault_id add_rule(sf_fake *fake, sf_fault_params p)
{
    sf_error err;
    sf_fault_id id;
    must(sf_fault_add(fake, &p, &id, &err), &err, "sf_fault_add");
    return id;
}

static void chapter_drop(sf_fake *fake, const char *IS)
{
    step("12. Drop: Message Streams do not promise delivery (a rule drops bob's next message)");
    chapter ch;
    chapter_begin(&ch, fake, IS, "lesson-drop");
    sf_fault_id r = add_rule(fake, (sf_fault_params){.scope = SF_SCOPE_SUBSCRIBER,
                                                     .subscriber = ch.lanes[1].id,
                                                     .drop_next = 1});
    chapter_publish(&ch);
    chapter_publish(&ch);
    chapter_explain(&ch);
    check(strcmp(ch.lanes[0].got, "M1 M2") == 0 && strcmp(ch.lanes[1].got, "M2") == 0,
          "alice gets M1 M2, bob only M2");
    chapter_end(&ch, r);
}

static void chapter_delay(sf_fake *fake, const char *IS)
{
    sf_error err;
    step("13. Delay and reorder: bob's messages arrive 100-500 ms late, in another order");
    chapter ch;
    chapter_begin(&ch, fake, IS, "lesson-delay");
    sf_fault_id r = add_rule(fake, (sf_fault_params){.scope = SF_SCOPE_SUBSCRIBER,
                                                     .subscriber = ch.lanes[1].id,
                                                     .delay_ms = 100,
                                                     .jitter_ms = 400});
    for (int i = 0; i < 3; i++)
        chapter_publish(&ch);
    say("bob so far: %s; the clock moves on by one second",
        ch.lanes[1].got[0] ? ch.lanes[1].got : "nothing");
    must(sf_clock_advance(fake, 1000, &err), &err, "advance 1 s");
    chapter_explain(&ch);
    check(strcmp(ch.lanes[0].got, "M1 M2 M3") == 0 && strlen(ch.lanes[1].got) == 8 &&
              strcmp(ch.lanes[1].got, "M1 M2 M3") != 0,
          "alice in order; bob all three, in another order");
    chapter_end(&ch, r);
}

static void chapter_duplicate(sf_fake *fake, const char *IS)
{
    sf_error err;
    step("14. Duplicate: alice gets every message twice (make your handlers idempotent)");
    chapter ch;
    chapter_begin(&ch, fake, IS, "lesson-duplicate");
    sf_fault_id r = add_rule(fake, (sf_fault_params){.scope = SF_SCOPE_SUBSCRIBER,
                                                     .subscriber = ch.lanes[0].id,
                                                     .duplicate_rate = 1.0});
    chapter_publish(&ch);
    must(sf_clock_advance(fake, 1000, &err), &err, "advance 1 s");
    chapter_explain(&ch);
    check(strcmp(ch.lanes[0].got, "M1 M1") == 0 && strcmp(ch.lanes[1].got, "M1") == 0,
          "alice gets M1 twice, bob once");
    chapter_end(&ch, r);
}

static void chapter_partition(sf_fake *fake, const char *IS)
{
    sf_error err;
    step("15. Hold and heal: bob is partitioned; a heal flushes what was parked, or discards it");
    chapter ch;
    chapter_begin(&ch, fake, IS, "lesson-partition");
    must(sf_subscriber_hold(fake, ch.lanes[1].id, &err), &err, "hold bob");
    chapter_publish(&ch);
    chapter_publish(&ch);
    say("bob is held and has seen: %s; 50 ms later, heal (flush)",
        ch.lanes[1].got[0] ? ch.lanes[1].got : "nothing");
    must(sf_clock_advance(fake, 50, &err), &err, "advance 50 ms");
    must(sf_subscriber_heal(fake, ch.lanes[1].id, true, &err), &err, "heal bob");
    must(sf_subscriber_hold(fake, ch.lanes[1].id, &err), &err, "hold bob again");
    chapter_publish(&ch);
    say("held again for M3; 50 ms later, heal (discard)");
    must(sf_clock_advance(fake, 50, &err), &err, "advance 50 ms");
    must(sf_subscriber_heal(fake, ch.lanes[1].id, false, &err), &err, "heal bob, discarding");
    chapter_explain(&ch);
    check(strcmp(ch.lanes[0].got, "M1 M2 M3") == 0 && strcmp(ch.lanes[1].got, "M1 M2") == 0,
          "alice gets all three, bob M1 M2 at the heal and never M3");
    chapter_end(&ch, 0);
}

static void chapter_disconnect(sf_fake *fake, const char *IS)
{
    sf_error err;
    step("16. Disconnect: what is published while bob is offline is lost, never replayed");
    chapter ch;
    chapter_begin(&ch, fake, IS, "lesson-disconnect");
    must(sf_subscriber_disconnect(fake, ch.lanes[1].id, &err), &err, "disconnect bob");
    chapter_publish(&ch);
    must(sf_subscriber_reconnect(fake, ch.lanes[1].id, &err), &err, "reconnect bob");
    say("bob reconnects");
    chapter_publish(&ch);
    chapter_explain(&ch);
    check(strcmp(ch.lanes[0].got, "M1 M2") == 0 && strcmp(ch.lanes[1].got, "M2") == 0,
          "alice gets M1 M2, bob only M2");
    chapter_end(&ch, 0);
    say("to watch such a story live in a browser: make sandbox (it prints the URL)");
}

int main(void)
{
    sf_error err;
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 2015; /* same seed, same SIDs */
    opts.clock = SF_CLOCK_MANUAL;
    opts.manual_start_ms = SF_DEFAULT_EPOCH_MS;

    step("1. A fake Twilio: seed 2015, manual clock at the default epoch");
    sf_fake *fake;
    must(sf_fake_new(&opts, &fake, &err), &err, "sf_fake_new");
    say("account %s, clock %s", sf_fake_account_sid(fake), when(sf_clock_now(fake)));
    say("time moves only when we say so (sf_clock_advance / sf_clock_set)");
    check(sf_clock_now(fake) == SF_DEFAULT_EPOCH_MS, "clock starts at the default epoch");

    step("2. A Sync service");
    sf_service_params sp = {.friendly_name = "demo"};
    sf_service_record svc;
    must(sf_service_create(fake, NULL, &sp, &svc, &err), &err, "sf_service_create");
    say("service %s \"%s\", created %s", svc.sid, svc.friendly_name, when(svc.date_created_ms));
    const char *IS = svc.sid;

    step("3. Seven streams: \"chat-room\" (Ttl 60 s), \"ticker\", five without a name");
    sf_stream_record chat, ticker, rec;
    sf_stream_params chat_p = {.unique_name = "chat-room", .has_ttl = true, .ttl = 60};
    sf_stream_params ticker_p = {.unique_name = "ticker"};
    must(sf_stream_create(fake, NULL, IS, &chat_p, &chat, &err), &err, "create chat-room");
    must(sf_stream_create(fake, NULL, IS, &ticker_p, &ticker, &err), &err, "create ticker");
    for (int i = 0; i < 5; i++)
        must(sf_stream_create(fake, NULL, IS, NULL, &rec, &err), &err, "create stream");
    say("chat-room %s expires %s", chat.sid, when(chat.date_expires_ms));
    say("ticker    %s never expires (date_expires null)", ticker.sid);
    check(chat.has_date_expires && chat.date_expires_ms == SF_DEFAULT_EPOCH_MS + 60000,
          "chat-room expires 60 s after creation");
    check(!ticker.has_date_expires, "ticker has no deadline");

    step("4. Listing with PageSize=3: the PageToken is a cursor, Page is informational");
    {
        sf_page_params pp = {.has_page_size = true, .page_size = 3, .has_page = true};
        char token[SF_PAGE_TOKEN_SIZE] = "";
        size_t seen = 0;
        int pages = 0;
        for (;;) {
            sf_stream_page *page;
            pp.page_token = token[0] ? token : NULL;
            must(sf_stream_list(fake, NULL, IS, &pp, &page, &err), &err, "sf_stream_list");
            char line[256], b[3][16];
            int n = snprintf(line, sizeof line, "Page=%" PRId64 " %s [", page->info.page,
                             pp.page_token ? "(token)" : "(no token)");
            for (size_t i = 0; i < page->info.count; i++)
                n += snprintf(line + n, sizeof line - (size_t)n, "%s%s", i ? ", " : "",
                              label(&page->records[i], b[i % 3]));
            snprintf(line + n, sizeof line - (size_t)n, "] next %s",
                     page->info.has_next ? page->info.next_token : "null");
            say("%s", line);
            seen += page->info.count;
            pages++;
            bool more = page->info.has_next;
            if (more)
                memcpy(token, page->info.next_token, sizeof token);
            sf_stream_page_free(fake, page);
            if (!more || pages > 3)
                break;
            pp.page++;
        }
        check(pages == 3 && seen == 7, "7 streams in 3 pages of at most 3");
    }

    step("5. Fetch by unique name (a path segment that is not TO+32 hex is a name)");
    must(sf_stream_fetch(fake, NULL, IS, "chat-room", &rec, &err), &err, "fetch chat-room");
    say("GET .../Streams/chat-room -> %s, created %s", rec.sid, when(rec.date_created_ms));
    check(strcmp(rec.sid, chat.sid) == 0, "the name resolves to chat-room's SID");

    step("6. Publish a message (Data is a JSON object; the echo drops insignificant spaces)");
    {
        static const char data[] = "{ \"user\": \"bob\",  \"text\": \"hi there\" }";
        sf_publish_params pub = {.data = data, .data_len = sizeof data - 1};
        sf_message_record msg;
        must(sf_stream_publish(fake, NULL, IS, "chat-room", &pub, &msg, &err), &err, "publish");
        say("sent     %s", data);
        say("answered {\"sid\": \"%s\", \"data\": %s}", msg.sid, msg.data);
        check(strncmp(msg.sid, "TZ", 2) == 0 &&
                  strcmp(msg.data, "{\"user\":\"bob\",\"text\":\"hi there\"}") == 0,
              "a TZ SID and the compact data");
    }

    step("7. Invalid JSON is refused with Twilio's error body (and takes no token)");
    {
        static const char bad[] = "{\"user\": bob}";
        sf_publish_params pub = {.data = bad, .data_len = sizeof bad - 1};
        sf_status st = sf_stream_publish(fake, NULL, IS, "chat-room", &pub, NULL, &err);
        sf_error refused = err;
        sf_rate_state rs;
        must(sf_stream_rate_state(fake, NULL, IS, "chat-room", &rs, &err), &err, "rate state");
        err = refused;
        say("sent %s (chat-room still has %u of %u publish tokens)", bad, rs.tokens, rs.capacity);
        show_error(&err);
        check(rs.tokens == 299, "the refused publish took no token");
        check(st == SF_ERR_DATA_INVALID && err.http_status == 400 && err.code == 54008 &&
                  strcmp(err.message, "Invalid JSON") == 0 &&
                  strcmp(err.more_info, "https://www.twilio.com/docs/errors/54008") == 0,
              "400 / 54008 Invalid JSON");
    }

    step("8. Rate limit: a bucket of 300 per stream, refilled 30/s; publish at one instant");
    {
        sf_publish_params pub = {.data = "{\"tick\":1}", .data_len = 10};
        sf_ms t0 = sf_clock_now(fake);
        int passed = 0;
        sf_status st;
        while ((st = sf_stream_publish(fake, NULL, IS, "ticker", &pub, NULL, &err)) == SF_OK &&
               passed < 1000)
            passed++;
        sf_error limited = err;
        sf_rate_state rs;
        must(sf_stream_rate_state(fake, NULL, IS, "ticker", &rs, &err), &err, "rate state");
        say("%d publishes passed at %s, then HTTP %d / %d \"%s\"", passed, when(t0),
            limited.http_status, limited.code, limited.message);
        say("rate state: %u of %u tokens, next allowed %s", rs.tokens, rs.capacity,
            when(rs.next_allowed_ms));
        check(passed == 300 && st == SF_ERR_RATE_LIMITED && limited.http_status == 429 &&
                  limited.code == 54009 && rs.tokens == 0 && rs.next_allowed_ms == t0 + 34,
              "300 pass, then 429/54009, next token in 34 ms");
    }

    step("9. 34 ms later one token (30/s x 34 ms = 1.02) has refilled");
    {
        sf_publish_params pub = {.data = "{\"tick\":2}", .data_len = 10};
        must(sf_clock_advance(fake, 34, &err), &err, "advance 34 ms");
        sf_status first = sf_stream_publish(fake, NULL, IS, "ticker", &pub, NULL, &err);
        sf_status second = sf_stream_publish(fake, NULL, IS, "ticker", &pub, NULL, &err);
        sf_rate_state rs;
        must(sf_stream_rate_state(fake, NULL, IS, "ticker", &rs, &err), &err, "rate state");
        say("at %s: one publish %s, the next %s", when(sf_clock_now(fake)),
            first == SF_OK ? "passes" : "FAILS", second == SF_OK ? "passes" : "gets 429");
        say("rate state: %u tokens, next allowed %s", rs.tokens, when(rs.next_allowed_ms));
        check(first == SF_OK && second == SF_ERR_RATE_LIMITED && rs.tokens == 0,
              "exactly one more publish");
    }

    step("10. TTL: chat-room expires at its deadline; 1 ms before, it is still there");
    sf_ms deadline = chat.date_expires_ms;
    must(sf_clock_set(fake, deadline - 1, &err), &err, "clock to 1 ms before");
    sf_status before = sf_stream_fetch(fake, NULL, IS, "chat-room", &rec, &err);
    sf_ms next_event = 0;
    bool pending = sf_next_event_time(fake, &next_event);
    say("at %s: fetch -> %s", when(sf_clock_now(fake)),
        before == SF_OK ? "200, still there" : "NOT FOUND");
    say("%zu expiry pending, due %s", sf_pending_events(fake), pending ? when(next_event) : "-");
    check(before == SF_OK && pending && next_event == deadline, "still there, expiry queued");

    step("11. One more millisecond: now >= date_expires, so the stream is gone");
    {
        must(sf_clock_advance(fake, 1, &err), &err, "advance 1 ms");
        sf_status after = sf_stream_fetch(fake, NULL, IS, "chat-room", &rec, &err);
        say("at %s: fetch ->", when(sf_clock_now(fake)));
        show_error(&err);
        char want[200];
        snprintf(want, sizeof want,
                 "The requested resource /Services/%s/Streams/chat-room was not found", IS);
        check(after == SF_ERR_NOT_FOUND && err.http_status == 404 && err.code == 20404 &&
                  strcmp(err.message, want) == 0 && sf_pending_events(fake) == 0,
              "404/20404 at the deadline, nothing left pending");
    }

    chapter_drop(fake, IS);
    chapter_delay(fake, IS);
    chapter_duplicate(fake, IS);
    chapter_partition(fake, IS);
    chapter_disconnect(fake, IS);

    { /* the run's journal as the timeline picture (docs/tools.md "The delivery timeline") */
        const char *path =
            getenv("SF_DEMO_TIMELINE") ? getenv("SF_DEMO_TIMELINE") : "build/demo-timeline.svg";
        size_t len = sf_journal_render(fake, NULL, NULL, 0), svg_len = 0;
        char *journal = malloc(len + 1), *svg = NULL;
        if (journal && sf_journal_render(fake, NULL, journal, len + 1) == len)
            svg = sf_timeline_svg(journal, len, &svg_len);
        FILE *f = svg ? fopen(path, "wb") : NULL;
        bool wrote = f && fwrite(svg, 1, svg_len, f) == svg_len;
        if (f && fclose(f) != 0)
            wrote = false;
        printf("\n%s %s\n", wrote ? "The journal as a timeline picture:" : "Could not write", path);
        sf_timeline_free(svg);
        free(journal);
    }
    sf_fake_free(fake);
    if (failures) {
        printf("\n%d step(s) did not behave as narrated\n", failures);
        return 1;
    }
    printf("\nEvery step behaved as narrated.\n");
    return 0;
}
