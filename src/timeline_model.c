/* SPDX-License-Identifier: MIT */
/* timeline_model.c: reads a journal (JSON Lines, as sf_journal_entry_json and the control
 * API's GET /_syncfake/journal write it) into the timeline's lanes, columns and marks.
 *
 * Each line must be one strict JSON object (sf_json_compact_object); unknown keys and nested
 * values are skipped, so lines that carry more than the journal writes today still read.
 * The axis is fake time, one block of columns per distinct time (in journal order): within a
 * block each message has one column, so a message's publish and its fates for every
 * subscriber line up; a delayed copy shows up again in the block of the time it arrived. */
#include "timeline.h"

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fields the picture reads from an entry. */
typedef struct tl_entry {
    bool has_t, has_until, duplicate;
    sf_ms t, until;
    int64_t status, rule;
    uint64_t subscriber;
    char kind[24], op[24], reason[24];
    char stream[SF_SID_SIZE], message[SF_SID_SIZE];
} tl_entry;

/* ---- one line ---- */

static bool token_is(const char *js, const jsmntok_t *t, const char *s)
{
    size_t n = strlen(s);
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n &&
           memcmp(js + t->start, s, n) == 0;
}

/* A string value without escapes (the journal's strings have none), else "". */
static void take_string(const char *js, const jsmntok_t *t, char *out, size_t cap)
{
    size_t n = (size_t)(t->end - t->start);
    out[0] = '\0';
    if (t->type == JSMN_STRING && n < cap && !memchr(js + t->start, '\\', n)) {
        memcpy(out, js + t->start, n);
        out[n] = '\0';
    }
}

static bool take_int(const char *js, const jsmntok_t *t, int64_t *out)
{
    char num[24];
    size_t n = (size_t)(t->end - t->start);
    if (t->type != JSMN_PRIMITIVE || n == 0 || n >= sizeof num)
        return false;
    memcpy(num, js + t->start, n);
    num[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(num, &end, 10);
    if (*end || errno)
        return false; /* a fraction, an exponent or out of range: not a journal integer */
    *out = v;
    return true;
}

static void take_member(const char *js, const jsmntok_t *key, const jsmntok_t *v, tl_entry *e)
{
    int64_t n;
    /* times outside the fake's range are no times: differences of two stay in range */
    if (token_is(js, key, "t_ms") && take_int(js, v, &n))
        e->t = n, e->has_t = n >= SF_TIME_MIN_MS && n <= SF_TIME_MAX_MS;
    else if (token_is(js, key, "until_ms") && take_int(js, v, &n))
        e->until = n, e->has_until = n >= SF_TIME_MIN_MS && n <= SF_TIME_MAX_MS;
    else if (token_is(js, key, "status") && take_int(js, v, &n))
        e->status = n;
    else if (token_is(js, key, "rule") && take_int(js, v, &n))
        e->rule = n;
    else if (token_is(js, key, "subscriber_id") && take_int(js, v, &n) && n > 0)
        e->subscriber = (uint64_t)n;
    else if (token_is(js, key, "duplicate"))
        e->duplicate = v->type == JSMN_PRIMITIVE && js[v->start] == 't';
    else if (token_is(js, key, "kind"))
        take_string(js, v, e->kind, sizeof e->kind);
    else if (token_is(js, key, "op"))
        take_string(js, v, e->op, sizeof e->op);
    else if (token_is(js, key, "reason"))
        take_string(js, v, e->reason, sizeof e->reason);
    else if (token_is(js, key, "stream_sid"))
        take_string(js, v, e->stream, sizeof e->stream);
    else if (token_is(js, key, "message_sid"))
        take_string(js, v, e->message, sizeof e->message);
}

/* Parses compact JSON text (checked strict already) into e, with `tokens` of room `cap`. */
static bool parse_entry(const char *js, size_t len, jsmntok_t *tokens, size_t cap, tl_entry *e)
{
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, js, len, tokens, (unsigned)cap);
    if (n < 1 || tokens[0].type != JSMN_OBJECT)
        return false;
    memset(e, 0, sizeof *e);
    int i = 1;
    for (int member = 0; member < tokens[0].size && i + 1 < n; member++) {
        take_member(js, &tokens[i], &tokens[i + 1], e);
        int end = tokens[i + 1].end; /* skip the value, however deeply nested */
        for (i += 2; i < n && tokens[i].start < end; i++)
            ;
    }
    return true;
}

/* ---- the model ---- */

static int lane_of(sf_tl_model *m, const tl_entry *e)
{
    for (int i = 0; i < m->lane_count; i++)
        if (m->lanes[i].subscriber == e->subscriber)
            return i;
    if (m->lane_count == SF_TL_MAX_LANES)
        return -1;
    sf_tl_lane *l = &m->lanes[m->lane_count];
    memset(l, 0, sizeof *l);
    l->subscriber = e->subscriber;
    snprintf(l->stream_sid, sizeof l->stream_sid, "%s", e->stream);
    l->first_col = l->last_col = -1;
    return m->lane_count++;
}

/* Messages by SID: linear from the newest (fates follow their publish closely). */
static int message_of(sf_tl_model *m, const tl_entry *e)
{
    for (int i = m->message_count - 1; i >= 0; i--)
        if (strcmp(m->messages[i].sid, e->message) == 0)
            return i;
    if (m->message_count == SF_TL_MAX_MESSAGES)
        return -1;
    sf_tl_message *msg = &m->messages[m->message_count];
    snprintf(msg->sid, sizeof msg->sid, "%s", e->message);
    snprintf(msg->stream_sid, sizeof msg->stream_sid, "%s", e->stream);
    msg->publish_col = -1;
    msg->ordinal = m->message_count + 1;
    return m->message_count++;
}

/* The column for (t, message) in the current block of time t, or a new one; -1 when full. */
static int column_of(sf_tl_model *m, sf_ms t, int message)
{
    for (int i = m->column_count - 1; i >= 0 && m->columns[i].t == t; i--)
        if (m->columns[i].message == message && (message >= 0 || i == m->column_count - 1))
            return i;
    if (m->column_count == SF_TL_MAX_COLUMNS)
        return -1;
    m->columns[m->column_count] = (sf_tl_column){t, message};
    return m->column_count++;
}

/* Appends a mark whose tooltip is `what`, a newline and the journal line (cut to fit). */
static void add_mark(sf_tl_model *m, sf_tl_mark_kind kind, int col, int lane, int message,
                     const char *what, const char *line, size_t line_len)
{
    if (col < 0 || m->mark_count == SF_TL_MAX_MARKS) {
        m->cut++;
        return;
    }
    size_t quote = line_len;
    if (quote > SF_TL_TITLE_MAX) { /* cut at a character boundary */
        quote = SF_TL_TITLE_MAX;
        while (quote > 0 && ((unsigned char)line[quote] & 0xC0) == 0x80)
            quote--;
    }
    size_t cap = strlen(what) + quote + 8;
    char *title = malloc(cap);
    if (!title) {
        m->failed = true;
        return;
    }
    snprintf(title, cap, "%s\n%.*s%s", what, (int)quote, line, quote < line_len ? "..." : "");
    m->marks[m->mark_count++] = (sf_tl_mark){kind, col, lane, message, title};
    if (lane >= 0) {
        sf_tl_lane *l = &m->lanes[lane];
        if (l->first_col < 0)
            l->first_col = col;
        if (col > l->last_col)
            l->last_col = col;
    }
}

static const struct {
    const char *kind;
    sf_tl_mark_kind mark;
    const char *what; /* printf: message ordinal, subscriber */
} fates[] = {
    {"delivered", SF_TL_DELIVERED, "m%d delivered to subscriber %llu"},
    {"dropped", SF_TL_DROPPED, "m%d dropped for subscriber %llu"},
    {"delayed", SF_TL_DELAYED, "m%d delayed for subscriber %llu"},
    {"duplicated", SF_TL_DUPLICATED, "m%d duplicated for subscriber %llu"},
    {"held", SF_TL_HELD, "m%d held for subscriber %llu (partition: waits for a heal)"},
    {"discarded", SF_TL_DISCARDED, "m%d discarded for subscriber %llu at the heal"},
    {"lost", SF_TL_LOST, "m%d lost for subscriber %llu (disconnected or detached)"},
};

/* A delivery fate: a mark on the subscriber's lane in the message's column. */
static bool add_fate(sf_tl_model *m, const tl_entry *e, const char *line, size_t len)
{
    size_t f = 0;
    while (f < sizeof fates / sizeof fates[0] && strcmp(fates[f].kind, e->kind) != 0)
        f++;
    if (f == sizeof fates / sizeof fates[0] || !e->subscriber || !e->message[0])
        return false;
    int lane = lane_of(m, e), msg = message_of(m, e);
    if (lane < 0 || msg < 0) {
        m->cut++;
        return true;
    }
    sf_tl_mark_kind kind = fates[f].mark;
    if (kind == SF_TL_DELIVERED && e->duplicate)
        kind = SF_TL_DUP_DELIVERED;
    char what[256];
    int n = snprintf(what, sizeof what, fates[f].what, m->messages[msg].ordinal,
                     (unsigned long long)e->subscriber);
    if (kind == SF_TL_DUP_DELIVERED)
        snprintf(what + n, sizeof what - (size_t)n, " (the duplicate copy)");
    else if ((kind == SF_TL_DELAYED || kind == SF_TL_DUPLICATED) && e->has_until)
        snprintf(what + n, sizeof what - (size_t)n, ": %s at t_ms %lld (+%lld ms)",
                 kind == SF_TL_DELAYED ? "arrives" : "second copy", (long long)e->until,
                 (long long)(e->until - e->t));
    n = (int)strlen(what);
    if (e->rule > 0)
        snprintf(what + n, sizeof what - (size_t)n, " by rule %lld", (long long)e->rule);
    add_mark(m, kind, column_of(m, e->t, msg), lane, msg, what, line, len);
    return true;
}

/* subscribed, unsubscribed, removed: marks that start or end a lane. */
static bool add_lane_event(sf_tl_model *m, const tl_entry *e, const char *line, size_t len)
{
    sf_tl_mark_kind kind;
    if (strcmp(e->kind, "subscribed") == 0)
        kind = SF_TL_SUBSCRIBED;
    else if (strcmp(e->kind, "unsubscribed") == 0)
        kind = SF_TL_UNSUBSCRIBED;
    else if (strcmp(e->kind, "removed") == 0)
        kind = SF_TL_REMOVED;
    else
        return false;
    if (!e->subscriber)
        return false;
    int lane = lane_of(m, e);
    if (lane < 0) {
        m->cut++;
        return true;
    }
    char what[160];
    if (kind == SF_TL_SUBSCRIBED)
        snprintf(what, sizeof what, "subscriber %llu joined stream %s",
                 (unsigned long long)e->subscriber, e->stream);
    else if (kind == SF_TL_UNSUBSCRIBED)
        snprintf(what, sizeof what, "subscriber %llu unsubscribed%s%s",
                 (unsigned long long)e->subscriber, e->reason[0] ? ": " : "", e->reason);
    else
        snprintf(what, sizeof what, "subscriber %llu told its stream was removed (%s)",
                 (unsigned long long)e->subscriber, m->lanes[lane].expired ? "expired" : "deleted");
    int col = column_of(m, e->t, -1);
    add_mark(m, kind, col, lane, -1, what, line, len);
    if (kind == SF_TL_SUBSCRIBED && col >= 0) {
        m->lanes[lane].joined_seen = true;
        m->lanes[lane].first_col = col;
    }
    if (kind != SF_TL_SUBSCRIBED)
        m->lanes[lane].ended = true;
    return true;
}

/* A publish (a successful message.create) or a stream's expiry. */
static bool add_stream_event(sf_tl_model *m, const tl_entry *e, const char *line, size_t len)
{
    char what[160];
    if (strcmp(e->kind, "api") == 0 && strcmp(e->op, "message.create") == 0 && e->status >= 200 &&
        e->status < 300 && e->message[0]) {
        int msg = message_of(m, e);
        int col = msg < 0 ? -1 : column_of(m, e->t, msg);
        if (col >= 0)
            m->messages[msg].publish_col = col;
        snprintf(what, sizeof what, "m%d published on %s", msg < 0 ? 0 : m->messages[msg].ordinal,
                 e->stream);
        add_mark(m, SF_TL_PUBLISHED, col, -1, msg, what, line, len);
        return true;
    }
    if (strcmp(e->kind, "expired") != 0 || !e->stream[0])
        return false;
    int col = column_of(m, e->t, -1);
    snprintf(what, sizeof what, "stream %s expired", e->stream);
    for (int i = 0; i < m->lane_count; i++) {
        sf_tl_lane *l = &m->lanes[i];
        if (strcmp(l->stream_sid, e->stream) == 0 && !l->ended) {
            add_mark(m, SF_TL_EXPIRED, col, i, -1, what, line, len);
            l->ended = l->expired = true; /* its `removed` notice follows */
        }
    }
    return true;
}

/* Messages published on a lane's stream before it joined: missed, not lost. */
static void add_missed(sf_tl_model *m)
{
    for (int l = 0; l < m->lane_count; l++) {
        const sf_tl_lane *lane = &m->lanes[l];
        for (int i = 0; lane->joined_seen && i < m->message_count; i++) {
            const sf_tl_message *msg = &m->messages[i];
            if (msg->publish_col < 0 || msg->publish_col >= lane->first_col ||
                strcmp(msg->stream_sid, lane->stream_sid) != 0)
                continue;
            char what[160];
            snprintf(what, sizeof what, "subscriber %llu missed m%d: it joined later",
                     (unsigned long long)lane->subscriber, msg->ordinal);
            add_mark(m, SF_TL_MISSED, msg->publish_col, l, i, what, msg->sid, strlen(msg->sid));
        }
    }
}

static void add_line(sf_tl_model *m, const char *text, size_t len, char *compact, jsmntok_t *tokens)
{
    size_t clen;
    tl_entry e;
    m->lines++;
    if (len > SF_TL_MAX_LINE ||
        sf_json_compact_object(text, len, compact, SF_TL_MAX_LINE + 1, &clen) != SF_OK ||
        !parse_entry(compact, clen, tokens, SF_TL_MAX_LINE, &e)) {
        m->unreadable++;
        return;
    }
    if (!e.has_t || !(add_fate(m, &e, compact, clen) || add_lane_event(m, &e, compact, clen) ||
                      add_stream_event(m, &e, compact, clen)))
        m->other++;
}

bool sf__tl_build(sf_tl_model *m, const char *journal, size_t len)
{
    memset(m, 0, sizeof *m);
    m->messages = calloc(SF_TL_MAX_MESSAGES, sizeof *m->messages);
    m->columns = calloc(SF_TL_MAX_COLUMNS, sizeof *m->columns);
    m->marks = calloc(SF_TL_MAX_MARKS, sizeof *m->marks);
    char *compact = malloc(SF_TL_MAX_LINE + 1);
    jsmntok_t *tokens = malloc(SF_TL_MAX_LINE * sizeof *tokens);
    bool ok = m->messages && m->columns && m->marks && compact && tokens;
    for (size_t pos = 0; ok && journal && pos < len && !m->failed;) {
        const char *nl = memchr(journal + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - journal) : len;
        size_t line_len = end - pos;
        if (line_len && journal[pos + line_len - 1] == '\r')
            line_len--; /* CRLF files */
        if (line_len)
            add_line(m, journal + pos, line_len, compact, tokens);
        pos = end + 1;
    }
    if (ok && !m->failed)
        add_missed(m);
    free(compact);
    free(tokens);
    return ok && !m->failed;
}

void sf__tl_release(sf_tl_model *m)
{
    for (int i = 0; m->marks && i < m->mark_count; i++)
        free(m->marks[i].title);
    free(m->marks);
    free(m->columns);
    free(m->messages);
    memset(m, 0, sizeof *m);
}
