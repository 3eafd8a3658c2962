/* SPDX-License-Identifier: MIT */
/* hex_digit.h: one hex digit's value, for the core (src/) and the HTTP face (fake_http/)
 * alike. common/ holds private headers both may include; it is never installed. */
#ifndef SF_COMMON_HEX_DIGIT_H
#define SF_COMMON_HEX_DIGIT_H

/* 0..15 for 0-9, a-f, A-F; -1 for anything else. */
static inline int sf_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

#endif
