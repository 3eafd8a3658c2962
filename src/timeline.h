/* SPDX-License-Identifier: MIT */
/* timeline.h: the journal -> SVG picture (sf_timeline_svg), shared by timeline_model.c (reads
 * the journal lines into lanes, columns and marks) and timeline_svg.c (draws them). */
#ifndef SF_TIMELINE_H
#define SF_TIMELINE_H

#include "syncfake.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps: the picture's size is bounded whatever the journal holds; what they cut is counted
 * and said in the picture. docs/tools.md "The delivery timeline". */
#define SF_TL_MAX_LINE 65536    /* longer lines are skipped as unreadable */
#define SF_TL_MAX_LANES 64      /* subscribers drawn */
#define SF_TL_MAX_COLUMNS 1000  /* moments on the axis */
#define SF_TL_MAX_MESSAGES 2000 /* messages tracked */
#define SF_TL_MAX_MARKS 4000    /* marks drawn */
#define SF_TL_TITLE_MAX 480     /* bytes of the journal line quoted in a tooltip */

/* What a mark says happened. */
typedef enum sf_tl_mark_kind {
    SF_TL_PUBLISHED = 0, /* on the publish row */
    SF_TL_DELIVERED,
    SF_TL_DUP_DELIVERED, /* the second copy of a duplicated message */
    SF_TL_DELAYED,       /* planned later: delivered at until_ms */
    SF_TL_DUPLICATED,    /* a second copy planned at until_ms */
    SF_TL_DROPPED,
    SF_TL_HELD,
    SF_TL_DISCARDED,
    SF_TL_LOST,
    SF_TL_MISSED, /* published before the subscriber joined */
    SF_TL_SUBSCRIBED,
    SF_TL_UNSUBSCRIBED,
    SF_TL_REMOVED,
    SF_TL_EXPIRED, /* the stream expired (drawn on each of its lanes) */
    SF_TL_MARK_KIND_COUNT
} sf_tl_mark_kind;

typedef struct sf_tl_lane {
    uint64_t subscriber;
    char stream_sid[SF_SID_SIZE];
    int first_col, last_col; /* -1: not seen */
    bool joined_seen;        /* its `subscribed` entry is in the journal */
    bool ended;              /* unsubscribed, removed or its stream expired */
    bool expired;            /* its stream expired */
} sf_tl_lane;

typedef struct sf_tl_message {
    char sid[SF_SID_SIZE];
    char stream_sid[SF_SID_SIZE];
    int publish_col; /* -1: its publish is not in the journal */
    int ordinal;     /* m1, m2, ... in order of appearance */
} sf_tl_message;

typedef struct sf_tl_column {
    sf_ms t;
    int message; /* the message it shows, -1 for a lane event */
} sf_tl_column;

typedef struct sf_tl_mark {
    sf_tl_mark_kind kind;
    int col, lane; /* lane -1: the publish row */
    int message;   /* -1: none */
    char *title;   /* tooltip text, malloc'd */
} sf_tl_mark;

typedef struct sf_tl_model {
    sf_tl_lane lanes[SF_TL_MAX_LANES];
    int lane_count;
    sf_tl_message *messages;
    int message_count;
    sf_tl_column *columns;
    int column_count;
    sf_tl_mark *marks;
    int mark_count;
    size_t lines, unreadable, other; /* other: entries of kinds it does not draw */
    size_t cut;                      /* entries or marks left out by a cap */
    bool failed;                     /* out of memory */
} sf_tl_model;

/* Reads the journal (JSON Lines) into *m; false only when out of memory. */
bool sf__tl_build(sf_tl_model *m, const char *journal, size_t len);
void sf__tl_release(sf_tl_model *m);
/* Draws the model; NULL when out of memory. */
char *sf__tl_draw(const sf_tl_model *m, size_t *out_len);

#endif
