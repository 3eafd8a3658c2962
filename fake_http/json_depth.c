/* SPDX-License-Identifier: MIT */
/* json_depth.c: see json_depth.h. */
#include "json_depth.h"

bool sf_json_depth_within(const char *text, size_t len, unsigned max_depth)
{
    unsigned depth = 0;
    bool in_string = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++; /* the escaped character cannot end the string */
            else if (c == '"')
                in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max_depth)
                return false;
        } else if ((c == ']' || c == '}') && depth > 0) {
            depth--; /* an unbalanced close is the grammar checker's to refuse */
        }
    }
    return true;
}
