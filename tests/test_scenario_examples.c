/* SPDX-License-Identifier: MIT */
/* test_scenario_examples.c: every teaching scenario shipped under examples/scenarios/ runs to
 * its end on a fresh fake (seed 1, the server's default) with every expect passing, and there
 * are the five docs/tools.md "Scenarios" names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>

#include "assert_status.h"
#include "syncfake_scenario.h"

/* examples/scenarios next to this file's directory (CMake compiles it by absolute path). */
static void scenario_dir(char *buf, size_t cap)
{
    snprintf(buf, cap, "%s", __FILE__);
    char *slash = strrchr(buf, '/');
    assert_non_null(slash);
    snprintf(slash, cap - (size_t)(slash - buf), "/../examples/scenarios");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = malloc(SF_SCENARIO_TEXT_MAX + 1);
    assert_non_null(text);
    *len = fread(text, 1, SF_SCENARIO_TEXT_MAX + 1, f);
    fclose(f);
    assert_true(*len <= SF_SCENARIO_TEXT_MAX);
    return text;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_every_shipped_scenario_passes(void **state)
{
    (void)state;
    char dir[4096];
    scenario_dir(dir, sizeof dir);
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *names[64];
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".scn") == 0 && n < 64)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof names[0], by_name);
    const char *wanted[] = {"late_joiner.scn", "lossy_chat.scn", "partition_and_heal.scn",
                            "presence_ttl.scn", "rate_limit_burst.scn"};
    for (size_t w = 0; w < 5; w++) {
        bool found = false;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(names[i], wanted[w]) == 0;
        if (!found)
            fail_msg("examples/scenarios/%s is missing", wanted[w]);
    }
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        size_t len;
        char *text = slurp(path, &len);
        sf_fake *f;
        assert_status(sf_fake_new(NULL, &f, NULL), SF_OK);
        sf_scenario_report r;
        sf_error err;
        sf_status s = sf_scenario_run(f, text, len, NULL, &r, &err);
        if (s != SF_OK || !r.passed)
            fail_msg("%s: %s", names[i], r.failure_count ? r.failures[0].message : err.message);
        assert_true(r.expects_passed >= 2); /* each one teaches by checking */
        printf("%s: %zu steps, %zu expects passed\n", names[i], r.steps, r.expects_passed);
        sf_fake_free(f);
        free(text);
        free(names[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_shipped_scenario_passes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
