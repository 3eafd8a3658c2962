/* SPDX-License-Identifier: MIT */
/* version.c: the version of the library that is linked, as opposed to the header's macros. */
#include "internal.h"

const char *sf_version(void) { return SF_VERSION_STRING; }
