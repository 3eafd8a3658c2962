/* SPDX-License-Identifier: MIT */
/* timeline_svg.c: draws the timeline model (timeline_model.c) as SVG: a row of publishes,
 * one lane per subscriber, one column per moment on the fake-time axis, a shape per fate with
 * a <title> tooltip (what happened, then the journal entry), dashed lines from a delayed,
 * duplicated or held copy to its arrival, and a legend. The output depends only on the model,
 * so the same journal gives the same bytes. */
#include "text.h"
#include "timeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEFT 230 /* lane labels */
#define COLW 34  /* one column */
#define TOP 78   /* title, summary and axis */
#define ROWH 34  /* one lane */
#define LEGEND 150

typedef struct out {
    char *data;
    size_t len, cap;
    bool failed;
} out;

static void put_raw(out *o, const char *s, size_t n)
{
    if (o->failed)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *data = realloc(o->data, cap);
        if (!data) {
            o->failed = true;
            return;
        }
        o->data = data;
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, n);
    o->len += n;
    o->data[o->len] = '\0';
}

static void put(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(out *o, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    put_raw(o, buf, n < 0 ? 0 : (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

/* Text as XML character data: markup characters escaped, control characters and invalid
 * UTF-8 replaced, so any input gives well-formed XML. */
static void put_text(out *o, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t seq = p[i] < 0x80 ? 1 : sf__utf8_seq(p + i, n - i);
        if (seq == 0) {
            put_raw(o, "?", 1), i++;
            continue;
        }
        if (p[i] == '&')
            put_raw(o, "&amp;", 5);
        else if (p[i] == '<')
            put_raw(o, "&lt;", 4);
        else if (p[i] == '>')
            put_raw(o, "&gt;", 4);
        else if (p[i] == '"')
            put_raw(o, "&quot;", 6);
        else if (p[i] == '\n')
            put_raw(o, "&#10;", 5);
        else if (p[i] < 0x20 || p[i] == 0x7f)
            put_raw(o, " ", 1);
        else
            put_raw(o, s + i, seq);
        i += seq;
    }
}

static int col_x(int col) { return LEFT + col * COLW + COLW / 2; }
static int row_y(int lane) { return TOP + 24 + (lane + 1) * ROWH; } /* lane -1: publishes */

/* The shape of a mark centred at (x, y). */
static void put_shape(out *o, sf_tl_mark_kind k, int x, int y)
{
    switch (k) {
    case SF_TL_PUBLISHED:
        put(o, "<circle cx=\"%d\" cy=\"%d\" r=\"7\" fill=\"#1f77b4\"/>", x, y);
        break;
    case SF_TL_DELIVERED:
        put(o, "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"#2ca02c\"/>", x, y);
        break;
    case SF_TL_DUP_DELIVERED:
        put(o,
            "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"#2ca02c\" stroke=\"#ff7f0e\" "
            "stroke-width=\"3\"/>",
            x, y);
        break;
    case SF_TL_DELAYED:
    case SF_TL_DUPLICATED:
        put(o, "<polygon points=\"%d,%d %d,%d %d,%d %d,%d\" fill=\"%s\"/>", x, y - 7, x + 7, y, x,
            y + 7, x - 7, y, k == SF_TL_DELAYED ? "#e6b800" : "#ff7f0e");
        break;
    case SF_TL_DROPPED:
    case SF_TL_LOST:
        put(o, "<path d=\"M%d %dl12 12m0 -12l-12 12\" stroke=\"%s\" stroke-width=\"3\"/>", x - 6,
            y - 6, k == SF_TL_DROPPED ? "#d62728" : "#7f7f7f");
        break;
    case SF_TL_HELD:
    case SF_TL_DISCARDED:
        put(o, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>", x - 6, y - 6,
            k == SF_TL_HELD ? "#9467bd" : "#000000");
        break;
    case SF_TL_MISSED:
        put(o,
            "<circle cx=\"%d\" cy=\"%d\" r=\"6\" fill=\"none\" stroke=\"#7f7f7f\" "
            "stroke-dasharray=\"2 2\"/>",
            x, y);
        break;
    case SF_TL_SUBSCRIBED:
        put(o, "<polygon points=\"%d,%d %d,%d %d,%d\" fill=\"#17becf\"/>", x - 6, y - 7, x + 7, y,
            x - 6, y + 7);
        break;
    default: /* unsubscribed, removed, expired: a bar that ends the lane */
        put(o, "<rect x=\"%d\" y=\"%d\" width=\"4\" height=\"20\" fill=\"%s\"/>", x - 2, y - 10,
            k == SF_TL_UNSUBSCRIBED ? "#555555"
            : k == SF_TL_REMOVED    ? "#8c564b"
                                    : "#e377c2");
        break;
    }
}

/* Marks that share a cell (a held copy delivered at the heal, a duplicate and its copies)
 * are spread across it, in journal order, so that none hides another. */
static int spread(const sf_tl_model *m, int i)
{
    int before = 0, all = 0;
    for (int j = 0; j < m->mark_count; j++)
        if (m->marks[j].col == m->marks[i].col && m->marks[j].lane == m->marks[i].lane) {
            before += j < i;
            all++;
        }
    int dx = (2 * before - (all - 1)) * 5;
    return dx < -12 ? -12 : dx > 12 ? 12 : dx;
}

static void put_mark(out *o, const sf_tl_model *m, int i)
{
    const sf_tl_mark *mark = &m->marks[i];
    put_raw(o, "<g><title>", 10);
    put_text(o, mark->title);
    put_raw(o, "</title>", 8);
    put_shape(o, mark->kind, col_x(mark->col) + spread(m, i), row_y(mark->lane));
    put_raw(o, "</g>\n", 5);
}

static void put_header(out *o, const sf_tl_model *m, int width, int height)
{
    put(o,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
        "viewBox=\"0 0 %d %d\" font-family=\"monospace\" font-size=\"11\">\n",
        width, height, width, height);
    put(o, "<title>syncfake delivery timeline</title>\n");
    put(o, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", width, height);
    put(o, "<text x=\"8\" y=\"18\" font-size=\"14\">syncfake delivery timeline</text>\n");
    put(o,
        "<text x=\"8\" y=\"34\">%zu journal lines: %d messages, %d subscribers, %d marks; "
        "%zu entries of other kinds, %zu unreadable lines</text>\n",
        m->lines, m->message_count, m->lane_count, m->mark_count, m->other, m->unreadable);
    if (m->cut)
        put(o,
            "<text x=\"8\" y=\"48\" fill=\"#d62728\">%zu entries not drawn: the picture "
            "stops at %d subscribers, %d columns, %d messages and %d marks</text>\n",
            m->cut, SF_TL_MAX_LANES, SF_TL_MAX_COLUMNS, SF_TL_MAX_MESSAGES, SF_TL_MAX_MARKS);
}

/* One block of columns per distinct fake time, labelled with the time since the first one
 * (when there is room); the axis is ordered, not to scale. */
static void put_axis(out *o, const sf_tl_model *m, int bottom)
{
    put(o, "<text x=\"8\" y=\"%d\">fake time (ms since the first entry; not to scale)</text>\n",
        TOP - 18);
    int last_label = -100;
    for (int i = 0; i < m->column_count; i++) {
        if (i > 0 && m->columns[i].t == m->columns[i - 1].t)
            continue;
        int x = LEFT + i * COLW;
        put(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#dddddd\"/>\n", x, TOP, x,
            bottom);
        if (i - last_label < 4)
            continue;
        last_label = i;
        put(o, "<text x=\"%d\" y=\"%d\" fill=\"#555555\">+%lld</text>\n", x + 2, TOP - 2,
            (long long)(m->columns[i].t - m->columns[0].t));
    }
}

static void put_lanes(out *o, const sf_tl_model *m, int right)
{
    put(o, "<text x=\"8\" y=\"%d\">published</text>\n", row_y(-1) + 4);
    for (int i = 0; i < m->lane_count; i++) {
        const sf_tl_lane *l = &m->lanes[i];
        int y = row_y(i);
        /* the stream's SID cut short: its tooltips carry it whole */
        char shortened[13] = {0};
        memcpy(shortened, l->stream_sid, strnlen(l->stream_sid, sizeof shortened - 1));
        put(o, "<text x=\"8\" y=\"%d\">subscriber %llu (", y + 4,
            (unsigned long long)l->subscriber);
        put_text(o, shortened);
        put_raw(o, "...)</text>\n", 12);
        if (l->first_col < 0)
            continue;
        int x2 = l->ended ? col_x(l->last_col) : right;
        put(o, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#bbbbbb\"/>\n",
            col_x(l->first_col), y, x2, y);
    }
    for (int i = 0; i < m->message_count; i++)
        if (m->messages[i].publish_col >= 0)
            put(o, "<text x=\"%d\" y=\"%d\" font-size=\"9\" text-anchor=\"middle\">m%d</text>\n",
                col_x(m->messages[i].publish_col), row_y(-1) - 10, m->messages[i].ordinal);
}

/* A dashed line from where a copy was put off (delayed, duplicated, held) to where it came. */
static void put_links(out *o, const sf_tl_model *m)
{
    for (int i = 0; i < m->mark_count; i++) {
        const sf_tl_mark *to = &m->marks[i];
        if (to->kind != SF_TL_DELIVERED && to->kind != SF_TL_DUP_DELIVERED &&
            to->kind != SF_TL_DISCARDED)
            continue;
        for (int j = i - 1; j >= 0; j--) {
            const sf_tl_mark *from = &m->marks[j];
            if (from->lane != to->lane || from->message != to->message || from->col >= to->col)
                continue;
            if (from->kind == SF_TL_DELAYED || from->kind == SF_TL_DUPLICATED ||
                from->kind == SF_TL_HELD)
                put(o,
                    "<path d=\"M%d %dQ%d %d %d %d\" fill=\"none\" stroke=\"#b8860b\" "
                    "stroke-dasharray=\"4 3\"/>\n",
                    col_x(from->col), row_y(from->lane), (col_x(from->col) + col_x(to->col)) / 2,
                    row_y(from->lane) - 22, col_x(to->col), row_y(to->lane));
            break;
        }
    }
}

static void put_legend(out *o, int y)
{
    static const struct {
        sf_tl_mark_kind kind;
        const char *text;
    } items[] = {
        {SF_TL_PUBLISHED, "published"},
        {SF_TL_DELIVERED, "delivered"},
        {SF_TL_DUP_DELIVERED, "duplicate copy delivered"},
        {SF_TL_DELAYED, "delayed (dashed: until it arrives)"},
        {SF_TL_DUPLICATED, "duplicated (second copy planned)"},
        {SF_TL_DROPPED, "dropped by a fault rule"},
        {SF_TL_HELD, "held (partition)"},
        {SF_TL_DISCARDED, "discarded at heal"},
        {SF_TL_LOST, "lost (disconnected/detached)"},
        {SF_TL_MISSED, "missed: joined later"},
        {SF_TL_SUBSCRIBED, "subscribed"},
        {SF_TL_UNSUBSCRIBED, "unsubscribed"},
        {SF_TL_REMOVED, "removed (stream gone)"},
        {SF_TL_EXPIRED, "stream expired"},
    };
    put(o, "<text x=\"8\" y=\"%d\">legend (hover a mark for its journal entry)</text>\n", y);
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++) {
        int x = 20 + (int)(i % 4) * 250, row = y + 24 + (int)(i / 4) * 26;
        put_shape(o, items[i].kind, x, row);
        put(o, "<text x=\"%d\" y=\"%d\">%s</text>\n", x + 14, row + 4, items[i].text);
    }
}

char *sf__tl_draw(const sf_tl_model *m, size_t *out_len)
{
    out o = {0};
    int right = col_x(m->column_count > 0 ? m->column_count - 1 : 0) + COLW;
    int width = right + 20 < 1040 ? 1040 : right + 20;
    int lanes_bottom = row_y(m->lane_count) - ROWH / 2;
    int height = lanes_bottom + LEGEND;
    put_header(&o, m, width, height);
    put_axis(&o, m, lanes_bottom);
    put_lanes(&o, m, right);
    put_links(&o, m);
    for (int i = 0; i < m->mark_count; i++)
        put_mark(&o, m, i);
    put_legend(&o, lanes_bottom + 24);
    put_raw(&o, "</svg>\n", 7);
    if (o.failed) {
        free(o.data);
        return NULL;
    }
    if (out_len)
        *out_len = o.len;
    return o.data;
}

char *sf_timeline_svg(const char *journal, size_t len, size_t *out_len)
{
    sf_tl_model m;
    char *svg = NULL;
    if (sf__tl_build(&m, journal, len))
        svg = sf__tl_draw(&m, out_len);
    sf__tl_release(&m);
    return svg;
}

void sf_timeline_free(char *svg) { free(svg); }
