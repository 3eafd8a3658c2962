/* SPDX-License-Identifier: MIT */
/* test_unsubscribe_reason.c: sf_unsubscribe_because records why an adapter detached a
 * subscriber in its `unsubscribed` journal entry ("reason"), and plain sf_unsubscribe adds no
 * key (journals stay as they were). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assert_status.h"
#include "calls.h"
#include "fixture.h"

/* The last `unsubscribed` entry of the journal as JSON. */
static void last_unsubscribed(sf_fixture *fx, char *json, size_t cap)
{
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_UNSUBSCRIBED};
    uint64_t cursor = 0;
    sf_journal_entry e, last;
    bool any = false;
    while (sf_journal_next(fx->fake, &f, &cursor, &e)) {
        last = e;
        any = true;
    }
    assert_true(any);
    assert_true(sf_journal_entry_json(&last, json, cap) < cap);
}

static void test_queue_full_reason_in_journal(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", 0, NULL);
    sf_subscriber_id id = sf_test_subscribe(fx, "s");
    sf_error err;
    assert_status(sf_unsubscribe_because(fx->fake, id, SF_UNSUBSCRIBE_QUEUE_FULL, &err), SF_OK);
    char json[512];
    last_unsubscribed(fx, json, sizeof json);
    assert_non_null(strstr(json, "\"kind\":\"unsubscribed\""));
    assert_non_null(strstr(json, ",\"reason\":\"queue_full\"}"));
    /* detaching again is no error and journals nothing more */
    size_t count = sf_journal_count(fx->fake);
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    assert_int_equal(sf_journal_count(fx->fake), count);
}

static void test_plain_unsubscribe_has_no_reason(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", 0, NULL);
    sf_subscriber_id id = sf_test_subscribe(fx, "s");
    sf_error err;
    assert_status(sf_unsubscribe(fx->fake, id, &err), SF_OK);
    char json[512];
    last_unsubscribed(fx, json, sizeof json);
    assert_null(strstr(json, "reason"));
    sf_journal_entry e;
    uint64_t cursor = 0;
    sf_journal_filter f = {.kinds = 1u << SF_JOURNAL_UNSUBSCRIBED};
    assert_true(sf_journal_next(fx->fake, &f, &cursor, &e));
    assert_int_equal(e.reason, SF_UNSUBSCRIBE_REQUESTED);
}

static void test_bad_reason_and_names(void **state)
{
    sf_fixture *fx = *state;
    sf_fixture_stream(fx, "s", 0, NULL);
    sf_subscriber_id id = sf_test_subscribe(fx, "s");
    sf_error err;
    size_t count = sf_journal_count(fx->fake);
    assert_status(sf_unsubscribe_because(fx->fake, id, (sf_unsubscribe_reason)99, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_int_equal(sf_journal_count(fx->fake), count); /* refused: still attached */
    sf_subscriber_stats st;
    assert_status(sf_subscriber_stats_get(fx->fake, id, &st, &err), SF_OK);
    assert_true(st.attached);
    assert_status(sf_unsubscribe_because(fx->fake, 12345, SF_UNSUBSCRIBE_QUEUE_FULL, &err),
                  SF_ERR_INVALID_ARGUMENT);
    assert_string_equal(sf_unsubscribe_reason_name(SF_UNSUBSCRIBE_QUEUE_FULL), "queue_full");
    assert_null(sf_unsubscribe_reason_name(SF_UNSUBSCRIBE_REQUESTED));
    assert_null(sf_unsubscribe_reason_name((sf_unsubscribe_reason)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_queue_full_reason_in_journal, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_plain_unsubscribe_has_no_reason, sf_fixture_setup,
                                        sf_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_reason_and_names, sf_fixture_setup,
                                        sf_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
