/* SPDX-License-Identifier: MIT */
/* room.h: the consumers' small "app under test": a chat room is a Sync Message Stream whose
 * unique name is the room's name and whose TTL makes an idle room go away. */
#ifndef ROOM_H
#define ROOM_H

#include <syncfake.h>

/* Opens (creates) the room's stream, expiring after ttl_s seconds. */
sf_status room_open(sf_fake *sync, const char *service_sid, const char *room, int64_t ttl_s,
                    sf_error *err);

/* Says `text` (plain ASCII without quotes or backslashes) in the room: {"text": "..."}. */
sf_status room_say(sf_fake *sync, const char *service_sid, const char *room, const char *text,
                   sf_error *err);

#endif
