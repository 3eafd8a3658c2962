/* SPDX-License-Identifier: MIT */
/* unemulated.c: Sync's other resources (Documents, Lists, Maps and what hangs under them) are
 * linked from every service body, so a client may well follow those links. They answer
 * Twilio's 404/20404 for an unknown resource, with a message that says why. */
#include "http_ctx.h"

#include <string.h>

static const char *const unemulated[] = {"Documents", "Lists", "Maps"};

bool sf_http_unemulated(const sf_http_ctx *c)
{
    /* v1_routes asks only about /v1/Services/{IS}/{collection}/... */
    for (size_t i = 0; c->segment_count >= 4 && i < sizeof unemulated / sizeof unemulated[0]; i++)
        if (strcmp(c->segments[3], unemulated[i]) == 0)
            return true;
    return false;
}

int sf_http_unemulated_not_found(sf_http_ctx *c)
{
    return sf_http_not_found_note(
        c, ": syncfake emulates Message Streams only (Documents, Lists and Maps are not "
           "emulated)");
}
