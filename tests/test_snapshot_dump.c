/* SPDX-License-Identifier: MIT */
/* test_snapshot_dump.c: the syncfake-snapshot-dump command (tools/snapshot_dump.c) on files
 * the library wrote: a valid snapshot prints one JSON object per line naming what the fake
 * held (its account, the service, the stream with its unique name) and exits 0; a snapshot
 * with one byte flipped fails its checksum and exits 1; no argument or a missing file is 2.
 * Runs in the build directory, where the command is built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "assert_status.h"
#include "syncfake.h"
#include "syncfake_snapshot.h"

#define SNAP "snapshot-dump-test.snap"
#define OUT "snapshot-dump-test.out"

static char stream_sid[SF_SID_SIZE], service_sid[SF_SID_SIZE], account_sid[SF_SID_SIZE];

/* A fake with one service and one named stream, saved to SNAP. */
static void write_snapshot(void)
{
    sf_fake *fake;
    sf_error err;
    sf_service_record svc;
    sf_stream_record st;
    assert_status(sf_fake_new(NULL, &fake, &err), SF_OK);
    assert_status(sf_service_create(fake, NULL, NULL, &svc, &err), SF_OK);
    sf_stream_params p = {.unique_name = "lobby", .has_ttl = true, .ttl = 60};
    assert_status(sf_stream_create(fake, NULL, svc.sid, &p, &st, &err), SF_OK);
    snprintf(service_sid, sizeof service_sid, "%s", svc.sid);
    snprintf(stream_sid, sizeof stream_sid, "%s", st.sid);
    snprintf(account_sid, sizeof account_sid, "%s", sf_fake_account_sid(fake));
    assert_status(sf_snapshot_save_file(fake, SNAP, &err), SF_OK);
    sf_fake_free(fake);
}

/* The exit status of `command`. */
static int run(const char *command)
{
    int rc = system(command);
    assert_true(rc != -1 && WIFEXITED(rc));
    return WEXITSTATUS(rc);
}

static char *read_all(const char *path)
{
    static char text[1 << 16];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static void test_valid_snapshot_prints_json_lines_naming_its_contents(void **state)
{
    (void)state;
    write_snapshot();
    assert_int_equal(run("./syncfake-snapshot-dump " SNAP " > " OUT), 0);
    char *text = read_all(OUT);
    int lines = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        size_t n = strlen(line);
        assert_true(n >= 2 && line[0] == '{' && line[n - 1] == '}');
    }
    assert_true(lines >= 3); /* at least a header, the service and the stream */
    text = read_all(OUT);
    assert_non_null(strstr(text, account_sid));
    assert_non_null(strstr(text, service_sid));
    assert_non_null(strstr(text, stream_sid));
    assert_non_null(strstr(text, "\"lobby\""));
}

static void test_flipped_byte_fails_the_checksum(void **state)
{
    (void)state;
    write_snapshot();
    FILE *f = fopen(SNAP, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -1, SEEK_END), 0); /* the last byte: the checksum itself */
    int c = fgetc(f);
    assert_int_not_equal(c, EOF);
    assert_int_equal(fseek(f, -1, SEEK_END), 0);
    assert_int_not_equal(fputc(c ^ 0x01, f), EOF);
    fclose(f);
    assert_int_equal(run("./syncfake-snapshot-dump " SNAP " > " OUT " 2>&1"), 1);
    assert_non_null(strstr(read_all(OUT), "syncfake-snapshot-dump: "));
}

static void test_usage_and_missing_file_exit_2(void **state)
{
    (void)state;
    assert_int_equal(run("./syncfake-snapshot-dump 2> " OUT), 2);
    assert_non_null(strstr(read_all(OUT), "usage: syncfake-snapshot-dump FILE"));
    assert_int_equal(run("./syncfake-snapshot-dump /nonexistent/x.snap 2> " OUT), 2);
    assert_non_null(strstr(read_all(OUT), "cannot read /nonexistent/x.snap"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_snapshot_prints_json_lines_naming_its_contents),
        cmocka_unit_test(test_flipped_byte_fails_the_checksum),
        cmocka_unit_test(test_usage_and_missing_file_exit_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
