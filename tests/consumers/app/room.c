/* SPDX-License-Identifier: MIT */
/* room.c: see room.h. */
#include "room.h"

#include <stdio.h>

sf_status room_open(sf_fake *sync, const char *service_sid, const char *room, int64_t ttl_s,
                    sf_error *err)
{
    sf_stream_params params = {.unique_name = room, .has_ttl = true, .ttl = ttl_s};
    sf_stream_record stream;
    return sf_stream_create(sync, NULL, service_sid, &params, &stream, err);
}

sf_status room_say(sf_fake *sync, const char *service_sid, const char *room, const char *text,
                   sf_error *err)
{
    char json[256];
    int n = snprintf(json, sizeof json, "{\"text\": \"%s\"}", text);
    if (n < 0 || (size_t)n >= sizeof json)
        return SF_ERR_INVALID_ARGUMENT;
    sf_publish_params message = {.data = json, .data_len = (size_t)n};
    sf_message_record published;
    return sf_stream_publish(sync, NULL, service_sid, room, &message, &published, err);
}
