/* SPDX-License-Identifier: MIT */
/* ts_fixture.c: see ts_fixture.h. */
#include "ts_fixture.h"

#include "jwt.h"
#include "twilsock_frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void lock_host(void *ctx) { pthread_mutex_lock(&((ts_fixture *)ctx)->lock); }
static void unlock_host(void *ctx) { pthread_mutex_unlock(&((ts_fixture *)ctx)->lock); }

/* The service, key, stream and token; after a reset too. Caller holds the lock. */
static void populate(ts_fixture *fx)
{
    sf_service_record svc;
    sf_api_key_record key;
    sf_stream_record stream;
    sf_stream_params sp = {.unique_name = "fz"};
    const char *account = sf_fake_account_sid(fx->fake);
    int64_t now_s = sf_clock_now(fx->fake) / 1000;
    if (sf_service_create(fx->fake, NULL, NULL, &svc, NULL) != SF_OK ||
        sf_api_key_create(fx->fake, account, NULL, &key, NULL) != SF_OK ||
        sf_stream_create(fx->fake, NULL, svc.sid, &sp, &stream, NULL) != SF_OK ||
        !sf_jwt_mint(key.sid, key.secret, account, "fuzz", svc.sid, now_s, now_s + 3600, fx->token,
                     sizeof fx->token))
        abort();
    memcpy(fx->service_sid, svc.sid, SF_SID_SIZE);
    memcpy(fx->stream_sid, stream.sid, SF_SID_SIZE);
}

void ts_fixture_start(ts_fixture *fx)
{
    sf_options opts;
    sf_options_init(&opts);
    opts.seed = 7;
    opts.base_url = "http://127.0.0.1:1";
    opts.journal_capacity = 1024;
    pthread_mutex_init(&fx->lock, NULL);
    fx->mgr = sf_ts_manager_new();
    if (!fx->mgr || sf_fake_new(&opts, &fx->fake, NULL) != SF_OK)
        abort();
    populate(fx);
    sf_ts_host host = {lock_host, unlock_host, fx, fx->fake, opts.base_url, NULL};
    if (!sf_ts_manager_start(fx->mgr, &host))
        abort();
}

void ts_fixture_next_input(ts_fixture *fx)
{
    if (++fx->inputs % 256 != 0)
        return;
    pthread_mutex_lock(&fx->lock);
    if (sf_fake_reset(fx->fake, NULL) != SF_OK)
        abort();
    populate(fx);
    pthread_mutex_unlock(&fx->lock);
}

void ts_fixture_expand(const ts_fixture *fx, uint8_t *data, size_t len)
{
    static const char zeros[32] = "00000000000000000000000000000000";
    for (size_t i = 0; i + 34 <= len; i++) {
        if (memcmp(data + i + 2, zeros, 32) != 0)
            continue;
        if (data[i] == 'I' && data[i + 1] == 'S')
            memcpy(data + i, fx->service_sid, 34);
        else if (data[i] == 'T' && data[i + 1] == 'O')
            memcpy(data + i, fx->stream_sid, 34);
    }
}

uint8_t *ts_fixture_init_frame(const ts_fixture *fx, size_t *len)
{
    char header[2200];
    snprintf(header, sizeof header, "{\"method\":\"init\",\"id\":\"TMfuzzinit\",\"token\":\"%s\"}",
             fx->token);
    return sf_ts_build(header, "", 0, len);
}

void ts_fixture_check_server_frame(const uint8_t *data, size_t len)
{
    static __thread sf_ts_frame frame; /* 10 KB: not on the stack */
    static const char *const methods[] = {"reply", "notification", "client_update", "close"};
    if (!sf_ts_parse(data, len, &frame))
        abort(); /* the server wrote a frame it would refuse itself */
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(frame.method, methods[i]) == 0)
            return;
    abort();
}
