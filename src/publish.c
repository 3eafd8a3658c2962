/* publish.c: publishing a message to a stream. */
#include "internal.h"

#include <string.h>

sf_status sf_stream_publish(sf_fake *fake, const char *account_sid, const char *service_sid,
                            const char *stream_id, const sf_publish_params *params,
                            sf_message_record *out, sf_error *err)
{
    if (!fake)
        return sf__fail_detail(err, SF_ERR_INVALID_ARGUMENT, "fake is NULL");
    sf_ms now = sf__begin(fake);
    sf__stream *s;
    sf_status st =
        sf__resolve_stream(fake, account_sid, service_sid, stream_id, "/Messages", &s, err);
    if (st != SF_OK)
        return st;
    if (!params || !params->data)
        return sf__fail(err, SF_ERR_DATA_MISSING);
    if (params->data_len > fake->opts.limits.max_data_bytes)
        return sf__fail(err, SF_ERR_DATA_TOO_LARGE);
    size_t data_len;
    st = sf__json_compact_with(fake->json_tokens, fake->json_frames, fake->json_token_cap,
                               params->data, params->data_len, fake->data_out, &data_len);
    if (st != SF_OK)
        return sf__fail(err, st);
    if (!sf__bucket_allows(fake, &s->bucket, now))
        return sf__fail(err, SF_ERR_RATE_LIMITED);

    sf__bucket_take(fake, &s->bucket, now);
    if (out) {
        sf__sid_mint(fake, SF__SID_MESSAGE, out->sid);
        out->data = fake->data_out;
        out->data_len = data_len;
    } else {
        sf__sid_commit(fake, SF__SID_MESSAGE);
    }
    sf__ok(err);
    return SF_OK;
}
