/* SPDX-License-Identifier: MIT */
/*
 * syncfake_scenario.h: scenarios, small line-oriented scripts that build a situation in a
 * fake (services, streams, subscribers, fault rules), play messages and clock moves through
 * it, and check what every subscriber saw. The same file serves as a C test fixture
 * (sf_scenario_run), as a server's starting state (syncfake-server --scenario FILE) and as a
 * control API call (POST /_syncfake/scenario).
 *
 * Format. One step per line. A word starting with '#' begins a comment that runs to the end
 * of the line; blank lines are ignored. Words are separated by spaces or tabs. NAME
 * is 1..SF_SCENARIO_NAME_MAX characters of [A-Za-z0-9_.:-]; each kind of name (service, stream,
 * subscriber, fault, message label) has its own namespace, and a name must be declared by an
 * earlier line before it is used. DUR is an integer with a unit: 250ms, 3s, 2m. P is a probability
 * 0..1 (0.25).
 *
 *   service NAME                         create a service (friendly name NAME)
 *   stream NAME [service=SVC] [ttl=S]    create a stream with unique name NAME in SVC (default:
 *                                        the last service created); ttl in seconds
 *   subscribe SUB STREAM [client=N] [skip_local]
 *                                        attach subscriber SUB (it sees later messages only)
 *   unsubscribe SUB
 *   fault NAME [stream=STREAM | subscriber=SUB] [drop=P] [duplicate=P] [delay=DUR]
 *              [jitter=DUR] [drop_next=N] [expiry_lag=DUR]
 *                                        add a fault rule (no target: every delivery);
 *                                        at least one effect
 *   unfault NAME                         remove that rule
 *   publish LABEL STREAM [client=N] {JSON object...}
 *                                        publish; the JSON object must close on its
 *                                        line (its validity is the fake's to judge: 54008).
 *                                        A refused publish (429, 413...) does not stop the
 *                                        run: its status is kept for `expect status`
 *   burst LABEL COUNT STREAM {JSON...}   COUNT publishes (1..SF_SCENARIO_BURST_MAX) labelled
 *                                        LABEL1..LABEL<COUNT>
 *   ttl STREAM S                         set the stream's TTL (seconds from now; 0 clears it)
 *   delete STREAM                        remove the stream
 *   advance DUR                          move the manual clock forward
 *   set T                                move the manual clock to T: ms since the epoch, or
 *                                        start+DUR (the clock when the scenario began)
 *   idle                                 run every pending delivery (sf_run_until_idle)
 *   hold SUB | heal SUB [discard] | disconnect SUB | reconnect SUB
 *                                        partition (heal flushes what was parked unless
 *                                        `discard`), or a dropped connection
 *   expect received SUB LABEL... | none  SUB's delivered messages, exactly and in order
 *                                        (a duplicate copy appears twice)
 *   expect fate SUB LABEL KIND           the journal has a KIND entry (delivered, dropped,
 *                                        delayed, duplicated, held, lost, discarded) for it
 *   expect removed SUB                   SUB got the stream's `removed` event
 *   expect stream STREAM gone|exists
 *   expect status LABEL HTTP [CODE]      how that publish answered (201; 429 54009...)
 *   expect stats SUB KEY=N...            sf_subscriber_stats counters: delivered,
 *                                        duplicated, dropped, lost, in_flight, parked
 *   expect pending N                     deliveries waiting in the queue
 *
 * `received`, `fate` and `removed` read the fake's journal, so they need a journal that
 * still holds every entry since the scenario began (else the expect fails saying so).
 *
 * Running. The whole text is parsed first: a malformed line changes nothing and fails with
 * SF_ERR_INVALID_ARGUMENT, err->message "Invalid parameter: line N: expected ...". Then the
 * steps run in order. A step other than publish/burst whose call fails stops the run with that
 * call's error (what ran before stays). Every expect runs and is counted; failures are
 * recorded with their line. Subscribers stay attached after the run (their events are only
 * journaled), as does everything the scenario built.
 */
#ifndef SYNCFAKE_SCENARIO_H
#define SYNCFAKE_SCENARIO_H

#include "syncfake.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bounds of a scenario (a text past one is refused at parse time, naming the bound). */
#define SF_SCENARIO_TEXT_MAX (64 * 1024)  /* bytes of text */
#define SF_SCENARIO_LINE_MAX 8192         /* bytes of one line */
#define SF_SCENARIO_STEPS_MAX 2048        /* steps (non-blank, non-comment lines) */
#define SF_SCENARIO_NAME_MAX 64           /* characters of a name */
#define SF_SCENARIO_NAMES_MAX 64          /* services, streams, subscribers, faults: each */
#define SF_SCENARIO_LABELS_MAX 2048       /* message labels, bursts included */
#define SF_SCENARIO_BURST_MAX 1000        /* publishes of one burst */
#define SF_SCENARIO_EXPECT_LABELS_MAX 256 /* labels of one `expect received` */
#define SF_SCENARIO_FAILURES_MAX 16       /* failures kept in a report (all are counted) */
#define SF_SCENARIO_MESSAGE_SIZE 512

typedef struct sf_scenario_options {
    const char *account_sid; /* NULL: the fake's default account */
    bool no_clock;           /* true: a scenario with an advance/set/idle step is refused
                                (SF_ERR_FORBIDDEN, nothing runs): a caller without fake-wide
                                powers */
} sf_scenario_options;

typedef struct sf_scenario_failure {
    size_t line; /* 1-based line of the text */
    char message[SF_SCENARIO_MESSAGE_SIZE];
} sf_scenario_failure;

typedef struct sf_scenario_subscriber {
    char name[SF_SCENARIO_NAME_MAX + 1];
    sf_subscriber_id id; /* 0 when its subscribe step did not run */
} sf_scenario_subscriber;

typedef struct sf_scenario_report {
    bool completed; /* every step ran (no parse error, no failed call) */
    bool passed;    /* completed and no expect failed */
    size_t steps;   /* steps in the text */
    size_t steps_run;
    size_t expects_passed;
    size_t expects_failed;
    size_t error_line;    /* the line of the parse error or failed call; 0: none */
    size_t failure_count; /* entries in failures (the first SF_SCENARIO_FAILURES_MAX) */
    sf_scenario_failure failures[SF_SCENARIO_FAILURES_MAX];
    size_t subscriber_count; /* subscribers by name, in the order they were declared */
    sf_scenario_subscriber subscribers[SF_SCENARIO_NAMES_MAX];
} sf_scenario_report;

/* Parses and plays text[0..len) against `fake` (see the format above). `opts` NULL: the
 * default account, clock steps allowed. `report` (may be NULL) is always filled. Returns
 * SF_OK when every step ran, whether or not every expect passed (see report->passed).
 * Errors: SF_ERR_INVALID_ARGUMENT (NULL fake or text, a parse error: nothing changed),
 * SF_ERR_FORBIDDEN (a clock step with opts->no_clock: refused before any step runs), else the
 * failed step's own error (err->message names nothing more: report->error_line has the line),
 * SF_ERR_NOMEM. */
SF_API sf_status sf_scenario_run(sf_fake *fake, const char *text, size_t len,
                                 const sf_scenario_options *opts, sf_scenario_report *report,
                                 sf_error *err);

/* A subscriber of a report by name; 0 when unknown. */
SF_API sf_subscriber_id sf_scenario_subscriber_id(const sf_scenario_report *report,
                                                  const char *name);

#ifdef __cplusplus
}
#endif

#endif /* SYNCFAKE_SCENARIO_H */
