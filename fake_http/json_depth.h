/* SPDX-License-Identifier: MIT */
/* json_depth.h: how deeply JSON text nests, found in one pass before a tokenizer sees it.
 * jsmn closes a container by walking up from the last token to the first still-open one, so
 * text nested n deep costs it O(n^2) (32,000 nested arrays in a 64 KB Twilsock header took
 * a second of CPU). Refusing text deeper than a small cap first keeps every parse linear. */
#ifndef SF_HTTP_JSON_DEPTH_H
#define SF_HTTP_JSON_DEPTH_H

#include <stdbool.h>
#include <stddef.h>

/* Nesting of the JSON read by json_field.c (Twilsock frame headers, access-token headers and
 * payloads): the outer object is depth 1. Twilio's own headers and tokens use 4 at most. */
#define SF_JSON_FIELD_MAX_DEPTH 32

/* Whether no "[" or "{" outside a string opens a container deeper than max_depth. Strings
 * (with their escapes) are skipped; the grammar is not checked here. O(len). */
bool sf_json_depth_within(const char *text, size_t len, unsigned max_depth);

#endif
