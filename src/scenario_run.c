/* SPDX-License-Identifier: MIT */
/* scenario_run.c: plays a parsed scenario against a fake through the public API, as a test
 * would, and fills the report. */
#include "internal.h"
#include "scenario.h"

#include <stdio.h>
#include <string.h>

/* Scenario subscribers leave their traces in the journal only, so nothing of the run has to
 * outlive it: they may stay attached afterwards. */
static void ignore_event(sf_fake *fake, const sf_event *event, void *user)
{
    (void)fake, (void)event, (void)user;
}

static const char *service_of(const sf__scn_run *run, uint32_t stream)
{
    return run->service_sid[run->scn->stream_service[stream]];
}

static const char *stream_name(const sf__scn_run *run, uint32_t stream)
{
    return run->scn->names[NS_STREAM].name[stream];
}

static sf_status create_stream(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    sf_stream_params p = {
        .unique_name = stream_name(run, st->a), .has_ttl = st->flag, .ttl = st->n};
    sf_stream_record rec;
    return sf_stream_create(run->fake, run->account, service_of(run, st->a), &p, &rec, err);
}

static sf_status subscribe(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    sf_subscribe_params p = {.on_event = ignore_event,
                             .client_id = st->has_client ? (uint64_t)st->n : 0,
                             .skip_local = st->flag};
    return sf_subscribe(run->fake, run->account, service_of(run, st->b), stream_name(run, st->b),
                        &p, &run->sub[st->a], err);
}

static sf_status add_fault(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    sf_fault_params p = st->fault;
    sf_stream_record rec;
    p.account_sid = run->account;
    if (p.scope == SF_SCOPE_STREAM) {
        sf_status s = sf_stream_fetch(run->fake, run->account, service_of(run, st->b),
                                      stream_name(run, st->b), &rec, err);
        if (s != SF_OK)
            return s;
        p.stream_sid = rec.sid;
    } else if (p.scope == SF_SCOPE_SUBSCRIBER) {
        p.subscriber = run->sub[st->b];
    }
    return sf_fault_add(run->fake, &p, &run->fault[st->a], err);
}

/* A refused publish is a result to check, not a failed step; only running out of memory
 * stops the run. */
static sf_status publish(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    sf_publish_params p = {.data = st->data,
                           .data_len = st->data_len,
                           .client_id = st->has_client ? (uint64_t)st->n : 0};
    for (uint32_t i = 0; i < st->count; i++) {
        sf_message_record m;
        sf_error e;
        sf_status s = sf_stream_publish(run->fake, run->account, service_of(run, st->b),
                                        stream_name(run, st->b), &p, &m, &e);
        sf__scn_label_state *label = &run->labels[st->a + i];
        label->status = s == SF_OK ? 201 : e.http_status;
        label->code = s == SF_OK ? 0 : e.code;
        if (s == SF_OK)
            snprintf(label->sid, sizeof label->sid, "%s", m.sid);
        if (s == SF_ERR_NOMEM)
            return sf__fail(err, s);
    }
    return SF_OK;
}

static void add_failure(sf_scenario_report *r, size_t line, const char *message)
{
    if (r->failure_count == SF_SCENARIO_FAILURES_MAX)
        return;
    sf_scenario_failure *f = &r->failures[r->failure_count++];
    f->line = line;
    /* the message is cut to fit: the line number always shows */
    snprintf(f->message, sizeof f->message, "line %zu: %.*s", line, (int)sizeof f->message - 32,
             message);
}

/* Without fake-wide powers a scenario may not move the clock: refused before anything runs. */
static bool clock_free(const sf__scenario *scn, sf_scenario_report *r, sf_error *err)
{
    for (size_t i = 0; i < scn->step_count; i++) {
        sf__scn_kind k = scn->steps[i].kind;
        if (k == SCN_ADVANCE || k == SCN_SET || k == SCN_IDLE) {
            r->error_line = scn->steps[i].line;
            sf__fail(err, SF_ERR_FORBIDDEN); /* Twilio's 20403, as is: the report has the line */
            add_failure(r, r->error_line, "only the fake-wide account may move the clock");
            return false;
        }
    }
    return true;
}

static sf_status clock_step(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    if (st->kind == SCN_ADVANCE)
        return sf_clock_advance(run->fake, st->n, err);
    if (st->kind == SCN_SET)
        return sf_clock_set(run->fake, st->flag ? run->start_ms + st->n : st->n, err);
    if (sf_fake_options(run->fake)->clock != SF_CLOCK_MANUAL)
        return sf__fail(err, SF_ERR_CLOCK_NOT_MANUAL);
    sf_run_until_idle(run->fake);
    return SF_OK;
}

static sf_status stream_step(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    if (st->kind == SCN_DELETE)
        return sf_stream_remove(run->fake, run->account, service_of(run, st->a),
                                stream_name(run, st->a), err);
    sf_stream_params p = {.has_ttl = true, .ttl = st->n};
    sf_stream_record rec;
    return sf_stream_update(run->fake, run->account, service_of(run, st->a),
                            stream_name(run, st->a), &p, &rec, err);
}

static sf_status subscriber_step(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    sf_subscriber_id id = run->sub[st->a];
    switch (st->kind) {
    case SCN_UNSUBSCRIBE:
        return sf_unsubscribe(run->fake, id, err);
    case SCN_HOLD:
        return sf_subscriber_hold(run->fake, id, err);
    case SCN_HEAL:
        return sf_subscriber_heal(run->fake, id, !st->flag, err);
    case SCN_DISCONNECT:
        return sf_subscriber_disconnect(run->fake, id, err);
    default:
        return sf_subscriber_reconnect(run->fake, id, err);
    }
}

static sf_status action(sf__scn_run *run, const sf__scn_step *st, sf_error *err)
{
    switch (st->kind) {
    case SCN_SERVICE: {
        sf_service_params p = {.friendly_name = run->scn->names[NS_SERVICE].name[st->a]};
        sf_service_record rec;
        sf_status s = sf_service_create(run->fake, run->account, &p, &rec, err);
        if (s == SF_OK)
            memcpy(run->service_sid[st->a], rec.sid, SF_SID_SIZE);
        return s;
    }
    case SCN_STREAM:
        return create_stream(run, st, err);
    case SCN_SUBSCRIBE:
        return subscribe(run, st, err);
    case SCN_FAULT:
        return add_fault(run, st, err);
    case SCN_UNFAULT:
        return sf_fault_remove(run->fake, run->fault[st->a], err);
    case SCN_PUBLISH:
        return publish(run, st, err);
    case SCN_TTL:
    case SCN_DELETE:
        return stream_step(run, st, err);
    case SCN_ADVANCE:
    case SCN_SET:
    case SCN_IDLE:
        return clock_step(run, st, err);
    default:
        return subscriber_step(run, st, err);
    }
}

/* Seq of the newest journal entry (0: none): the scenario's own entries come after it. */
static uint64_t journal_last_seq(const sf_fake *fake)
{
    uint64_t cursor = 0, last = 0;
    sf_journal_entry e;
    while (sf_journal_next(fake, NULL, &cursor, &e))
        last = e.seq;
    return last;
}

static sf_status play(sf__scn_run *run, sf_error *err)
{
    sf_scenario_report *r = run->report;
    char why[SF_SCENARIO_MESSAGE_SIZE - 32];
    for (size_t i = 0; i < run->scn->step_count; i++) {
        const sf__scn_step *st = &run->scn->steps[i];
        r->steps_run++;
        if (st->kind >= SCN_EXPECT_RECEIVED) {
            bool ok = sf__scenario_expect(run, st, why, sizeof why);
            ok ? r->expects_passed++ : r->expects_failed++;
            if (!ok)
                add_failure(r, st->line, why);
            continue;
        }
        sf_status s = action(run, st, err);
        if (s != SF_OK) {
            r->error_line = st->line;
            add_failure(r, st->line, err->message);
            return s;
        }
    }
    r->completed = true;
    r->passed = r->expects_failed == 0;
    return SF_OK;
}

static void list_subscribers(const sf__scn_run *run)
{
    sf_scenario_report *r = run->report;
    const sf__scn_names *subs = &run->scn->names[NS_SUBSCRIBER];
    r->subscriber_count = subs->count;
    for (uint32_t i = 0; i < subs->count; i++) {
        memcpy(r->subscribers[i].name, subs->name[i], sizeof r->subscribers[i].name);
        r->subscribers[i].id = run->sub[i];
    }
}

sf_status sf_scenario_run(sf_fake *fake, const char *text, size_t len,
                          const sf_scenario_options *opts, sf_scenario_report *report,
                          sf_error *err)
{
    sf_scenario_report local;
    sf_error local_err;
    report = report ? report : &local;
    err = err ? err : &local_err;
    memset(report, 0, sizeof *report);
    if (!fake || !text)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake and text are required");
    sf__scenario scn;
    sf_status s = sf__scenario_parse(fake, text, len, &scn, &report->error_line, err);
    report->steps = scn.step_count;
    if (s != SF_OK) {
        add_failure(report, report->error_line, err->message);
        sf__scenario_free(fake, &scn);
        return s;
    }
    if (opts && opts->no_clock && !clock_free(&scn, report, err)) {
        sf__scenario_free(fake, &scn);
        return SF_ERR_FORBIDDEN;
    }
    sf__scn_run *run = sf__malloc(fake, sizeof *run);
    sf__scn_label_state *labels = sf__malloc(fake, (scn.label_count + 1) * sizeof *labels);
    if (run && labels) {
        memset(run, 0, sizeof *run);
        memset(labels, 0, (scn.label_count + 1) * sizeof *labels);
        run->fake = fake;
        run->scn = &scn;
        run->account = opts ? opts->account_sid : NULL;
        run->labels = labels;
        run->report = report;
        run->journal_start = journal_last_seq(fake);
        run->start_ms = sf_clock_now(fake);
        s = play(run, err);
        list_subscribers(run);
    } else {
        s = sf__fail(err, SF_ERR_NOMEM);
    }
    sf__free(fake, labels);
    sf__free(fake, run);
    sf__scenario_free(fake, &scn);
    return s;
}

sf_subscriber_id sf_scenario_subscriber_id(const sf_scenario_report *report, const char *name)
{
    if (!report || !name)
        return 0;
    for (size_t i = 0; i < report->subscriber_count && i < SF_SCENARIO_NAMES_MAX; i++)
        if (strcmp(report->subscribers[i].name, name) == 0)
            return report->subscribers[i].id;
    return 0;
}
