/* SPDX-License-Identifier: MIT */
/* ts_server.c: see ts_server.h. */
#include "ts_server.h"

static void lock_server(void *srv) { sf_server_lock(srv); }

static void unlock_server(void *srv) { sf_server_unlock(srv); }

bool ts_server_start(ts_server *t, sf_fake *fake, const char *base_url, unsigned io_threads)
{
    *t = (ts_server){0};
    t->mgr = sf_ts_manager_new();
    if (!t->mgr)
        return false;
    sf_server_config cfg = {.host = "127.0.0.1",
                            .fake = fake,
                            .ws = sf_ts_handler(t->mgr),
                            .ws_io_threads = io_threads};
    t->srv = sf_server_start(&cfg);
    sf_ts_host host = {.lock = lock_server,
                       .unlock = unlock_server,
                       .ctx = t->srv,
                       .fake = fake,
                       .base_url = base_url};
    if (!t->srv || !sf_ts_manager_start(t->mgr, &host)) {
        if (t->srv)
            sf_server_stop(t->srv);
        sf_ts_manager_free(t->mgr);
        *t = (ts_server){0};
        return false;
    }
    t->port = sf_server_port(t->srv);
    return true;
}

void ts_server_stop(ts_server *t)
{
    if (t->mgr)
        sf_ts_manager_stop(t->mgr);
    if (t->srv)
        sf_server_stop(t->srv);
    sf_ts_manager_free(t->mgr);
    *t = (ts_server){0};
}
