/* SPDX-License-Identifier: MIT */
/* test_version.c: the version macros agree with each other and with the linked library. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "syncfake.h"

/* SF_VERSION_STRING is MAJOR.MINOR.PATCH spelled out, so the numbers and the text never drift. */
static void version_string_spells_the_numbers(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", SF_VERSION_MAJOR, SF_VERSION_MINOR,
             SF_VERSION_PATCH);
    assert_string_equal(SF_VERSION_STRING, expect);
}

/* The library linked in reports the version of the header compiled against. */
static void linked_library_reports_header_version(void **state)
{
    (void)state;
    assert_non_null(sf_version());
    assert_string_equal(sf_version(), SF_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(version_string_spells_the_numbers),
        cmocka_unit_test(linked_library_reports_header_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
