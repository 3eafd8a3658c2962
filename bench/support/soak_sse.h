/* SPDX-License-Identifier: MIT */
/* soak_sse.h: the soak's server-sent-event subscribers
 * (/_syncfake/Services/{IS}/Streams/{TO}/Events on lb_srv), blocking, counted in soak_count. */
#ifndef SF_BENCH_SOAK_SSE_H
#define SF_BENCH_SOAK_SSE_H

#include <stdbool.h>

/* Opens an event stream on `stream` and reads up to its "subscribed" event; its socket. */
int soak_sse_open(const char *stream);

/* Reads until a message_published event arrives. */
void soak_sse_expect_event(int fd);

/* Reads what is there without waiting; false when the server closed the stream. */
bool soak_drain(int fd);

#endif
