/* SPDX-License-Identifier: MIT */
/* snap_ops.c: see snap_ops.h. */
#include "snap_ops.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sf_ops_printf(sf_ops_log *log, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        abort();
    if (log->len + (size_t)n + 1 > log->cap) {
        size_t cap = log->cap ? log->cap : 4096;
        while (cap < log->len + (size_t)n + 1)
            cap *= 2;
        log->buf = realloc(log->buf, cap);
        if (!log->buf)
            abort();
        log->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(log->buf + log->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    log->len += (size_t)n;
}

void sf_ops_log_free(sf_ops_log *log)
{
    free(log->buf);
    memset(log, 0, sizeof *log);
}

void sf_ops_on_event(sf_fake *fake, const sf_event *ev, void *user)
{
    (void)fake;
    sf_ops_printf(user,
                  "event sub=%" PRIu64 " kind=%d msg=%s data=%.*s local=%d dup=%d at=%" PRId64
                  " reason=%d\n",
                  ev->subscriber, (int)ev->kind, ev->message_sid ? ev->message_sid : "-",
                  (int)ev->data_len, ev->data ? ev->data : "", ev->is_local, ev->is_duplicate,
                  ev->delivered_ms, (int)ev->reason);
}

static uint64_t next(sf_ops_driver *d)
{
    /* xorshift64*: the test's own randomness, independent of the fake's */
    d->rng ^= d->rng >> 12;
    d->rng ^= d->rng << 25;
    d->rng ^= d->rng >> 27;
    return d->rng * UINT64_C(2685821657736338717);
}

static unsigned pick(sf_ops_driver *d, unsigned n) { return n ? (unsigned)(next(d) % n) : 0; }

void sf_ops_init(sf_ops_driver *d, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->rng = seed * UINT64_C(0x9e3779b97f4a7c15) + 1;
}

static void remember(char (*list)[SF_SID_SIZE], size_t *n, const char *sid)
{
    if (*n < SF_OPS_MAX)
        memcpy(list[(*n)++], sid, SF_SID_SIZE);
    else
        memcpy(list[*n - 1], sid, SF_SID_SIZE);
}

static const char *account(sf_ops_driver *d)
{
    unsigned i = pick(d, (unsigned)d->naccounts + 2);
    return i < d->naccounts ? d->accounts[i] : NULL;
}

static const char *service(sf_ops_driver *d)
{
    return d->nservices ? d->services[pick(d, (unsigned)d->nservices)] : "ISnone";
}

static const char *stream(sf_ops_driver *d)
{
    return d->nstreams ? d->streams[pick(d, (unsigned)d->nstreams)] : "TOnone";
}

/* Chooses the call's target: usually a known stream under its own service and account,
 * sometimes a random (often mismatched) combination, for the 404s. */
static void target(sf_ops_driver *d)
{
    if (d->nstreams && pick(d, 5)) {
        unsigned i = pick(d, (unsigned)d->nstreams);
        int svc = d->stream_service[i];
        int acct = d->service_account[svc];
        d->cur_stream = d->streams[i];
        d->cur_service = d->services[svc];
        d->cur_account = acct < 0 ? NULL : d->accounts[acct];
        return;
    }
    d->cur_account = account(d);
    d->cur_service = service(d);
    d->cur_stream = stream(d);
}

static int index_of(char (*list)[SF_SID_SIZE], size_t n, const char *sid)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], sid) == 0)
            return (int)i;
    return 0;
}

static sf_subscriber_id sub(sf_ops_driver *d)
{
    return d->nsubs ? d->subs[pick(d, (unsigned)d->nsubs)] : 999;
}

static void answer(sf_ops_log *log, const char *what, sf_status st, const sf_error *err)
{
    sf_ops_printf(log, "%s -> %d", what, (int)st);
    if (st != SF_OK)
        sf_ops_printf(log, " %d %d %s", err->http_status, err->code, err->message);
    sf_ops_printf(log, "\n");
}

static void stream_record(sf_ops_log *log, const sf_stream_record *r)
{
    sf_ops_printf(log, "  stream %s %s name=%s exp=%" PRId64 " created=%" PRId64 "\n", r->sid,
                  r->service_sid, r->has_unique_name ? r->unique_name : "-",
                  r->has_date_expires ? r->date_expires_ms : -1, r->date_created_ms);
}

static void do_service(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    sf_service_params p = {.friendly_name = pick(d, 2) ? "svc" : NULL,
                           .acl_enabled = (sf_opt_bool)pick(d, 3)};
    sf_service_record r;
    sf_error err;
    const char *acct = account(d);
    sf_status st = pick(d, 4) ? sf_service_create(fake, acct, &p, &r, &err)
                              : sf_service_update(fake, acct, service(d), &p, &r, &err);
    answer(log, "service", st, &err);
    if (st == SF_OK) {
        sf_ops_printf(log, "  %s %s %" PRId64 "\n", r.sid, r.account_sid, r.date_updated_ms);
        if (index_of(d->services, d->nservices, r.sid) == 0 &&
            (!d->nservices || strcmp(d->services[0], r.sid) != 0)) {
            remember(d->services, &d->nservices, r.sid);
            int a = acct ? index_of(d->accounts, d->naccounts, acct) : -1;
            d->service_account[d->nservices - 1] = a;
        }
    }
}

static void do_stream(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    char name[32];
    snprintf(name, sizeof name, "n%u", d->names++ % 7);
    sf_stream_params p = {.unique_name = pick(d, 3) == 0 ? name : NULL,
                          .has_ttl = pick(d, 2) == 0,
                          .ttl = (int64_t)pick(d, 4) * 2};
    sf_stream_record r;
    sf_error err;
    unsigned how = pick(d, 4);
    sf_status st;
    target(d);
    if (how < 2)
        st = sf_stream_create(fake, d->cur_account, d->cur_service, &p, &r, &err);
    else if (how == 2)
        st = sf_stream_update(fake, d->cur_account, d->cur_service, d->cur_stream, &p, &r, &err);
    else
        st = sf_stream_fetch(fake, d->cur_account, d->cur_service,
                             pick(d, 2) ? d->cur_stream : name, &r, &err);
    answer(log, "stream", st, &err);
    if (st == SF_OK) {
        stream_record(log, &r);
        if (how < 2) {
            remember(d->streams, &d->nstreams, r.sid);
            d->stream_service[d->nstreams - 1] = index_of(d->services, d->nservices, r.service_sid);
        }
    }
}

static void do_list(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    sf_page_params p = {.has_page_size = true,
                        .page_size = 1 + pick(d, 3),
                        .page_token = d->token[0] && pick(d, 2) ? d->token : NULL};
    sf_stream_page *page = NULL;
    sf_error err;
    target(d);
    sf_status st = sf_stream_list(fake, d->cur_account, d->cur_service, &p, &page, &err);
    answer(log, "list", st, &err);
    if (st != SF_OK) {
        sf_stream_page_free(fake, page); /* an after-apply injection hands the page back too */
        return;
    }
    for (size_t i = 0; i < page->info.count; i++)
        stream_record(log, &page->records[i]);
    sf_ops_printf(log, "  next=%s prev=%s\n", page->info.next_token, page->info.previous_token);
    if (page->info.has_next)
        memcpy(d->token, page->info.next_token, SF_PAGE_TOKEN_SIZE);
    else if (page->info.has_previous)
        memcpy(d->token, page->info.previous_token, SF_PAGE_TOKEN_SIZE);
    sf_stream_page_free(fake, page);
}

static void do_publish(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    char data[64];
    int n = pick(d, 8) ? snprintf(data, sizeof data, "{ \"n\": %u }", pick(d, 1000))
                       : snprintf(data, sizeof data, "{bad");
    sf_publish_params p = {.data = data, .data_len = (size_t)n, .client_id = pick(d, 3)};
    sf_message_record r;
    sf_error err;
    target(d);
    sf_status st =
        sf_stream_publish(fake, d->cur_account, d->cur_service, d->cur_stream, &p, &r, &err);
    answer(log, "publish", st, &err);
    if (st == SF_OK)
        sf_ops_printf(log, "  %s %.*s\n", r.sid, (int)r.data_len, r.data);
}

static void do_subscriber(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    sf_error err;
    sf_status st;
    unsigned how = pick(d, 8);
    sf_subscriber_id id = sub(d);
    if (how < 3) {
        sf_subscribe_params p = {.on_event = sf_ops_on_event,
                                 .user = log,
                                 .client_id = pick(d, 3),
                                 .skip_local = pick(d, 2)};
        target(d);
        st = sf_subscribe(fake, d->cur_account, d->cur_service, d->cur_stream, &p, &id, &err);
        if (st == SF_OK && d->nsubs < SF_OPS_MAX)
            d->subs[d->nsubs++] = id;
    } else if (how == 3) {
        st = sf_unsubscribe(fake, id, &err);
    } else if (how == 4) {
        st = sf_subscriber_hold(fake, id, &err);
    } else if (how == 5) {
        st = sf_subscriber_heal(fake, id, pick(d, 2), &err);
    } else if (how == 6) {
        st = pick(d, 2) ? sf_subscriber_disconnect(fake, id, &err)
                        : sf_subscriber_reconnect(fake, id, &err);
    } else {
        sf_subscriber_stats s;
        st = sf_subscriber_stats_get(fake, id, &s, &err);
        if (st == SF_OK)
            sf_ops_printf(log,
                          "  stats %d%d%d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                          " %" PRIu64 " %s\n",
                          s.attached, s.held, s.connected, s.delivered, s.duplicated, s.dropped,
                          s.lost, s.in_flight, s.parked, s.account_sid);
    }
    sf_ops_printf(log, "sub %u %" PRIu64 " ", how, id);
    answer(log, "", st, &err);
}

static void do_fault(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    sf_error err;
    sf_status st;
    if (d->nrules && pick(d, 4) == 0) {
        st = sf_fault_remove(fake, d->rules[pick(d, (unsigned)d->nrules)], &err);
    } else {
        sf_fault_params p = {.scope = (sf_fault_scope)pick(d, 3),
                             .stream_sid = stream(d),
                             .subscriber = sub(d),
                             .drop_rate = pick(d, 3) ? 0.0 : 0.3,
                             .duplicate_rate = pick(d, 3) ? 0.0 : 0.4,
                             .delay_ms = pick(d, 2) ? 0 : pick(d, 3000),
                             .jitter_ms = pick(d, 2) ? 0 : pick(d, 500),
                             .drop_next = pick(d, 4) ? 0 : 2};
        p.expiry_lag_ms = p.scope != SF_SCOPE_SUBSCRIBER && pick(d, 3) == 0 ? 1500 : 0;
        sf_fault_id id = 0;
        st = sf_fault_add(fake, &p, &id, &err);
        if (st == SF_OK && d->nrules < SF_OPS_MAX)
            d->rules[d->nrules++] = id;
    }
    answer(log, "fault", st, &err);
    sf_fault_info info[SF_OPS_MAX];
    size_t n = sf_fault_list(fake, info, SF_OPS_MAX);
    for (size_t i = 0; i < n && i < SF_OPS_MAX; i++)
        sf_ops_printf(log, "  rule %u hits=%" PRIu64 " left=%u\n", info[i].id, info[i].hits,
                      info[i].drop_next_left);
}

static void do_admin(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    sf_error err;
    sf_status st;
    unsigned how = pick(d, 6);
    if (how == 0) {
        sf_account_record a;
        st = sf_account_create(fake, NULL, &a, &err);
        if (st == SF_OK) {
            sf_ops_printf(log, "  account %s %s\n", a.sid, a.auth_token);
            if (d->naccounts < 4)
                memcpy(d->accounts[d->naccounts++], a.sid, SF_SID_SIZE);
        }
    } else if (how == 1) {
        sf_api_key_record k;
        st = sf_api_key_create(fake, account(d), NULL, &k, &err);
        if (st == SF_OK)
            sf_ops_printf(log, "  key %s %s\n", k.sid, k.secret);
    } else if (how == 2) {
        sf_error_injection inj = {.op = (sf_op)pick(d, SF_OP_COUNT),
                                  .count = 1 + pick(d, 2),
                                  .http_status = 503,
                                  .code = 20500 + (int)pick(d, 3),
                                  .after_apply = pick(d, 2),
                                  .account_sid = account(d)};
        st = sf_inject_error(fake, &inj, &err);
    } else if (how == 3 && pick(d, 4) == 0) {
        st = sf_account_reset(fake, account(d), &err);
    } else {
        sf_ms step = pick(d, 5) == 0 ? 4000 + pick(d, 9000) : pick(d, 1200);
        st = sf_clock_advance(fake, step, &err);
        sf_ops_printf(log, "  now=%" PRId64 " pending=%zu/%zu\n", sf_clock_now(fake),
                      sf_pending_events(fake), sf_pending_deliveries(fake));
    }
    sf_ops_printf(log, "admin %u ", how);
    answer(log, "", st, &err);
}

void sf_ops_step(sf_ops_driver *d, sf_fake *fake, sf_ops_log *log)
{
    switch (pick(d, 12)) {
    case 0:
        do_service(d, fake, log);
        break;
    case 1:
    case 2:
        do_stream(d, fake, log);
        break;
    case 3:
        do_list(d, fake, log);
        break;
    case 4:
    case 5:
    case 6:
        do_publish(d, fake, log);
        break;
    case 7:
    case 8:
        do_subscriber(d, fake, log);
        break;
    case 9:
        do_fault(d, fake, log);
        break;
    default:
        do_admin(d, fake, log);
        break;
    }
}
