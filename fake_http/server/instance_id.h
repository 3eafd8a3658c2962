/* SPDX-License-Identifier: MIT */
/* instance_id.h: the id of one run of syncfake-server. Chosen at start from the kernel's
 * randomness (never from the fake, whose state stays a function of its seed), it tells one
 * server run from the next: the Twilsock `init` reply mixes it into the offline storage id, so
 * a browser tab's cache of stream descriptors never outlives the server that described them. */
#ifndef SF_INSTANCE_ID_H
#define SF_INSTANCE_ID_H

#include <stdbool.h>

#define SF_INSTANCE_ID_MAX 64     /* characters of a --instance-id */
#define SF_INSTANCE_ID_NEW_LEN 32 /* hex digits of a chosen one (128 random bits) */

/* Writes a new instance id (SF_INSTANCE_ID_NEW_LEN lowercase hex digits and a NUL) into `out`.
 * false when the kernel gives no random bytes. */
bool sf_instance_id_new(char out[SF_INSTANCE_ID_MAX + 1]);

/* Whether `id` may name an instance: 1 to SF_INSTANCE_ID_MAX characters of A-Z a-z 0-9 . _ -
 * (it is printed into JSON and a banner line unescaped). */
bool sf_instance_id_valid(const char *id);

#endif
