/* SPDX-License-Identifier: MIT */
/* text.h: checks on caller-supplied text. */
#ifndef SF_TEXT_H
#define SF_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of the valid UTF-8 sequence at s (n bytes available), or 0 when invalid. */
size_t sf__utf8_seq(const unsigned char *s, size_t n);
/* true when s is valid UTF-8 without control characters and has at most max_chars code
 * points; *chars receives the count. */
bool sf__text_chars(const char *s, size_t max_chars, size_t *chars);
/* true for an absolute http:// or https:// URL with a host, printable, <= max_len bytes. */
bool sf__valid_http_url(const char *s, size_t max_len);
int sf__strncasecmp_ascii(const char *a, const char *b, size_t n);

#endif
