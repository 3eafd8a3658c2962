/* SPDX-License-Identifier: MIT */
/* twilsock_session.c: see twilsock_session.h. The session: its connection, its access token
 * (init, update, the watcher that announces and ends its expiry) and the manager. What a
 * `message` frame asks is twilsock_streams.c's; every frame out is twilsock_reply.c's.
 *
 * Locking: every access to the fake and to session state happens under the host's lock (the
 * server's one mutex). Frames are handled on the connection's I/O thread, with the lock held
 * for those that touch the fake; core events arrive in callbacks that already run under it. A
 * session is unsubscribed and taken out of the token watcher's heap under the lock in
 * `closed`, then freed, so no callback and no token check can meet a freed session. */
#include "twilsock_internal.h"

#include "client_config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- tokens ---- */

/* Checks a token on the fake's clock and, when good, makes it the session's: SF_OK, or the
 * status to refuse it with (client_config.h). */
static sf_status take_token(ts_session *s, const char *token)
{
    sf_jwt_claims c;
    sf_status st = sf_http_check_token(s->mgr->host.fake, token, &c);
    if (st != SF_OK)
        return st;
    snprintf(s->account_sid, sizeof s->account_sid, "%.34s", c.sub);
    snprintf(s->service_sid, sizeof s->service_sid, "%.34s", c.service_sid);
    snprintf(s->identity, sizeof s->identity, "%.256s", c.identity);
    /* exp is the signer's choice (any int64 above now): one past the clock's end would
     * overflow here, so such a token expires when the clock does */
    s->exp_ms = c.exp > SF_TIME_MAX_MS / 1000 ? SF_TIME_MAX_MS : c.exp * 1000;
    s->warned = false;
    s->authed = true;
    sf_deadline_set(&s->mgr->deadlines, s, &s->deadline_slot, s->exp_ms - SF_TS_TOKEN_WARNING_MS,
                    s->client_id);
    return SF_OK;
}

/* init (answered with the offline storage id) or update */
static void token_frame(ts_session *s, const sf_ts_frame *f)
{
    sf_status st = take_token(s, f->token);
    if (st == SF_OK && strcmp(f->method, "init") == 0)
        sf_ts_reply_init(s, f->id);
    else
        sf_ts_reply_status(s, f->id, st); /* update: a bare 200 */
}

/* ---- the WebSocket handler ---- */

static void *ts_open(void *ctx, sf_ws_conn *conn)
{
    sf_ts_manager *mgr = ctx;
    if (!atomic_load_explicit(&mgr->started, memory_order_acquire))
        return NULL; /* the server runs but its sessions are not wired yet */
    ts_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->mgr = mgr;
    s->conn = conn;
    mgr->host.lock(mgr->host.ctx);
    bool room = sf_deadline_reserve(&mgr->deadlines, mgr->session_count + 1);
    if (room) {
        mgr->session_count++;
        s->client_id = UINT64_C(0x7700000000000000) + ++mgr->next_client_id;
    }
    mgr->host.unlock(mgr->host.ctx);
    if (!room) {
        free(s);
        return NULL;
    }
    return s;
}

static void ts_message(void *session, const uint8_t *data, size_t len)
{
    ts_session *s = session;
    sf_ts_frame *f = malloc(sizeof *f);
    if (!f)
        return;
    if (!sf_ts_parse(data, len, f)) {
        free(f);
        sf_ws_close(s->conn, 1002); /* protocol error */
        return;
    }
    bool token = strcmp(f->method, "init") == 0 || strcmp(f->method, "update") == 0;
    if (strcmp(f->method, "close") == 0) {
        sf_ws_close(s->conn, 1000);
    } else if (token || strcmp(f->method, "message") == 0) {
        s->mgr->host.lock(s->mgr->host.ctx);
        if (token)
            token_frame(s, f);
        else
            sf_ts_client_request(s, f);
        s->mgr->host.unlock(s->mgr->host.ctx);
    } /* replies (the client's acks of notifications) and anything else: nothing to do, and
       * no lock taken, since every notification is acked */
    free(f);
}

static void ts_closed(void *session)
{
    ts_session *s = session;
    sf_ts_manager *mgr = s->mgr;
    mgr->host.lock(mgr->host.ctx);
    sf_ts_unsubscribe_all(s);
    sf_deadline_remove(&mgr->deadlines, &s->deadline_slot);
    mgr->session_count--;
    mgr->host.unlock(mgr->host.ctx);
    free(s->subs);
    free(s);
}

/* Announces expiring tokens and ends expired sessions, on the fake's clock. Only sessions
 * with something due are visited (the earliest first), never every session. */
static void *token_watch(void *arg)
{
    sf_ts_manager *mgr = arg;
    struct timespec pause = {0, 20 * 1000000L};
    while (!atomic_load(&mgr->stopping)) {
        mgr->host.lock(mgr->host.ctx);
        sf_ms now = sf_clock_now(mgr->host.fake);
        for (const sf_deadline *d; (d = sf_deadline_first(&mgr->deadlines)) && d->due <= now;) {
            ts_session *s = d->item;
            if (!s->warned) {
                s->warned = true;
                sf_ts_warn_token_expiring(s);
            }
            if (now >= s->exp_ms) {
                s->authed = false;
                sf_ts_close_token_expired(s);
                sf_ws_close(s->conn, 1000);
                sf_deadline_remove(&mgr->deadlines, &s->deadline_slot);
            } else {
                sf_deadline_set(&mgr->deadlines, s, &s->deadline_slot, s->exp_ms, s->client_id);
            }
        }
        mgr->host.unlock(mgr->host.ctx);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

sf_ts_manager *sf_ts_manager_new(void)
{
    sf_ts_manager *mgr = calloc(1, sizeof *mgr);
    if (!mgr)
        return NULL;
    mgr->handler = (sf_ws_handler){ts_open, ts_message, ts_closed, mgr};
    return mgr;
}

bool sf_ts_manager_start(sf_ts_manager *mgr, const sf_ts_host *host)
{
    mgr->host = *host;
    snprintf(mgr->base_url, sizeof mgr->base_url, "%s", host->base_url);
    mgr->ticker_started = pthread_create(&mgr->ticker, NULL, token_watch, mgr) == 0;
    atomic_store_explicit(&mgr->started, mgr->ticker_started, memory_order_release);
    return mgr->ticker_started;
}

const sf_ws_handler *sf_ts_handler(sf_ts_manager *mgr) { return &mgr->handler; }

void sf_ts_manager_stop(sf_ts_manager *mgr)
{
    if (!mgr || !mgr->ticker_started)
        return;
    atomic_store(&mgr->stopping, true);
    pthread_join(mgr->ticker, NULL);
    mgr->ticker_started = false;
}

void sf_ts_manager_free(sf_ts_manager *mgr)
{
    if (!mgr)
        return;
    sf_ts_manager_stop(mgr);
    sf_http_buf_free(&mgr->published);
    sf_deadline_free(&mgr->deadlines);
    free(mgr);
}
