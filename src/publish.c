/* SPDX-License-Identifier: MIT */
/* publish.c: publishing a message to a stream. */
#include "internal.h"

#include <string.h>

/* The message as its deliveries see it. For the fast path it lives on the stack and points at
 * the scratch output; queued deliveries get a heap copy with the payload inline, shared by all
 * of them. */
static void describe(const sf__stream *s, const char *sid, const uint8_t packed[16], sf_ms now,
                     uint64_t publisher, sf__message *m)
{
    m->refs = 1;
    m->stream_key = s->order.key;
    m->publisher = publisher;
    m->published = now;
    memcpy(m->sid, sid, SF_SID_SIZE);
    sf__stream_sid(s, m->stream_sid);
    memcpy(m->service_sid, s->service->sid, SF_SID_SIZE);
    memcpy(m->packed[0], s->service->packed, 16);
    memcpy(m->packed[1], s->packed, 16);
    memcpy(m->packed[2], packed, 16);
}

/* The message's data, checked and compacted into the fake's output buffer (one per callback
 * depth), or the error. */
static sf_status compact_data(sf_fake *fake, const sf_publish_params *params, char **data,
                              size_t *data_len, sf_error *err)
{
    if (!params || !params->data)
        return sf__fail(err, SF_ERR_DATA_MISSING);
    /* 0 means NUL-terminated (syncfake.h): a data_len left unset still publishes the text */
    size_t max = fake->opts.limits.max_data_bytes;
    size_t given_len = params->data_len ? params->data_len : strnlen(params->data, max + 1);
    if (given_len > max)
        return sf__fail(err, SF_ERR_DATA_TOO_LARGE);
    *data = fake->data_out[fake->dispatch_depth > 0];
    sf_status st = sf__json_compact_with(fake->json_tokens, fake->json_frames, fake->json_token_cap,
                                         params->data, given_len, *data, data_len);
    return st == SF_OK ? SF_OK : sf__fail(err, st);
}

static sf_status publish(sf_fake *fake, sf__call *call, const char *account_sid,
                         const char *service_sid, const char *stream_id,
                         const sf_publish_params *params, sf_message_record *out, sf_error *err)
{
    sf__stream *s;
    sf_status st =
        sf__resolve_stream(fake, account_sid, service_sid, stream_id, "/Messages", &s, err);
    if (st != SF_OK)
        return st;
    sf__call_stream(call, s);
    char *data = NULL;
    size_t data_len;
    st = compact_data(fake, params, &data, &data_len, err);
    if (st != SF_OK)
        return st;
    if (!sf__bucket_allows(fake, &s->bucket, call->now))
        return sf__fail(err, SF_ERR_RATE_LIMITED);

    sf__message *msg = &call->fanout_msg;
    char sid[SF_SID_SIZE];
    uint8_t packed[16];
    sf__sid_peek_packed(fake, SF__SID_MESSAGE, sid, packed);
    bool queued = s->sub_count > 0 && !sf__fanout_fast_ok(fake, s);
    if (queued) {
        msg = sf__malloc(fake, sizeof *msg + data_len + 1);
        if (!msg)
            return sf__fail(err, SF_ERR_NOMEM);
    }
    describe(s, sid, packed, call->now, params->client_id, msg);
    msg->ordinal = fake->sid_counter[SF__SID_MESSAGE];
    msg->draw_key = sf__message_draw_key(fake, msg);
    msg->len = data_len;
    msg->data = data;
    if (queued) {
        msg->data = (char *)(msg + 1);
        memcpy(msg->data, data, data_len + 1);
        if (sf__fanout(fake, s, msg, &call->plans, &call->plan_count) != SF_OK) {
            sf__free(fake, msg);
            return sf__fail(err, SF_ERR_NOMEM);
        }
        call->queued_msg = msg; /* its reference is dropped once the fates are journaled */
    }

    sf__sid_commit(fake, SF__SID_MESSAGE);
    sf__bucket_take(fake, &s->bucket, call->now);
    s->messages_published++;
    memcpy(call->sids[2], packed, 16);
    call->known |= SF__J_HAS_MESSAGE;
    if (out) {
        memcpy(out->sid, sid, SF_SID_SIZE);
        out->data = data;
        out->data_len = data_len;
    }
    if (!queued && s->sub_count > 0)
        call->fanout_stream = s; /* delivered by sf__call_end, after the call is journaled */
    return SF_OK;
}

sf_status sf_stream_publish(sf_fake *fake, const char *account_sid, const char *service_sid,
                            const char *stream_id, const sf_publish_params *params,
                            sf_message_record *out, sf_error *err)
{
    SF__CALL(fake, err, SF_OP_MESSAGE_CREATE, account_sid, service_sid, stream_id, params,
             publish(fake, &call, account_sid, service_sid, stream_id, params, out, err));
}
