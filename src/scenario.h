/* SPDX-License-Identifier: MIT */
/* scenario.h: a parsed scenario (scenario_parse.c) and what playing it needs
 * (scenario_run.c, scenario_expect.c). Names are resolved to table indices at parse time, so
 * the runner never meets an unknown name. */
#ifndef SF_SCENARIO_INTERNAL_H
#define SF_SCENARIO_INTERNAL_H

#include "syncfake_scenario.h"

typedef enum sf__scn_kind {
    SCN_SERVICE,
    SCN_STREAM,
    SCN_SUBSCRIBE,
    SCN_UNSUBSCRIBE,
    SCN_FAULT,
    SCN_UNFAULT,
    SCN_PUBLISH, /* a burst too: count publishes, labels label..label+count-1 */
    SCN_TTL,
    SCN_DELETE,
    SCN_ADVANCE,
    SCN_SET,
    SCN_IDLE,
    SCN_HOLD,
    SCN_HEAL,
    SCN_DISCONNECT,
    SCN_RECONNECT,
    SCN_EXPECT_RECEIVED,
    SCN_EXPECT_FATE,
    SCN_EXPECT_REMOVED,
    SCN_EXPECT_STREAM,
    SCN_EXPECT_STATUS,
    SCN_EXPECT_STATS,
    SCN_EXPECT_PENDING
} sf__scn_kind;

/* Names by namespace. */
enum { NS_SERVICE, NS_STREAM, NS_SUBSCRIBER, NS_FAULT, NS_COUNT };

typedef enum sf__scn_stat {
    STAT_DELIVERED,
    STAT_DUPLICATED,
    STAT_DROPPED,
    STAT_LOST,
    STAT_IN_FLIGHT,
    STAT_PARKED,
    STAT_COUNT
} sf__scn_stat;

typedef struct sf__scn_step {
    sf__scn_kind kind;
    size_t line;
    uint32_t a, b;  /* name indices (stream, subscriber, service, fault, label) */
    uint32_t count; /* publishes of a publish step */
    int64_t n, m;   /* numbers: ttl, ms, http status/code, client id, pending */
    bool flag;      /* ttl given, skip_local, heal discard, stream gone, code given,
                       set relative to start */
    bool has_client;
    sf_fault_params fault; /* SCN_FAULT: the target's index is in b */
    const char *data;      /* publish: borrowed from the text */
    size_t data_len;
    uint32_t *labels;          /* expect received: `count` label indices */
    int64_t stats[STAT_COUNT]; /* expect stats: -1 when not checked */
} sf__scn_step;

typedef struct sf__scn_names {
    char (*name)[SF_SCENARIO_NAME_MAX + 1];
    uint32_t count, cap;
} sf__scn_names;

typedef struct sf__scenario {
    sf__scn_step *steps;
    size_t step_count;
    sf__scn_names names[NS_COUNT];
    uint32_t stream_service[SF_SCENARIO_NAMES_MAX]; /* each stream's service index */
    /* Message labels are numbered in the order they are declared. A publish declares one
     * (its name), a burst COUNT of them under one prefix: "m" with 3 is m1, m2, m3. */
    uint32_t label_count;
    sf__scn_names label_names; /* a publish's name or a burst's prefix */
    uint32_t *label_first;     /* per label name: its first label */
    uint32_t *label_burst;     /* per label name: 0 for a publish, else the burst's count */
} sf__scenario;

/* Parses text into *out (zeroed first). Errors: SF_ERR_INVALID_ARGUMENT with the line in
 * err and *error_line; SF_ERR_NOMEM. Free with sf__scenario_free in every case. */
sf_status sf__scenario_parse(sf_fake *fake, const char *text, size_t len, sf__scenario *out,
                             size_t *error_line, sf_error *err);
void sf__scenario_free(sf_fake *fake, sf__scenario *s);
/* "LABEL" or "LABEL<seq>" of a label index. */
void sf__scenario_label_text(const sf__scenario *s, uint32_t label, char *buf, size_t cap);

/* What the runner knows while playing. */
typedef struct sf__scn_label_state {
    char sid[SF_SID_SIZE]; /* "" until published */
    int status, code;      /* 0 until published */
} sf__scn_label_state;

typedef struct sf__scn_run {
    sf_fake *fake;
    const sf__scenario *scn;
    const char *account;
    char service_sid[SF_SCENARIO_NAMES_MAX][SF_SID_SIZE];
    sf_subscriber_id sub[SF_SCENARIO_NAMES_MAX];
    sf_fault_id fault[SF_SCENARIO_NAMES_MAX];
    sf__scn_label_state *labels;
    uint64_t journal_start; /* seq of the last entry before the run (0: none) */
    sf_ms start_ms;
    sf_scenario_report *report;
} sf__scn_run;

/* Evaluates one expect step; true when it holds, else writes why into why[cap]. */
bool sf__scenario_expect(const sf__scn_run *run, const sf__scn_step *step, char *why, size_t cap);

#endif
