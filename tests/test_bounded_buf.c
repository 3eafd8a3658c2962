/* SPDX-License-Identifier: MIT */
/* test_bounded_buf.c: the one growable buffer (fake_http/buf.c) with a size cap, as the
 * WebSocket outboxes, event-stream queues and request bodies use it: appends past the cap are
 * refused whole and change nothing, reading from the front frees room for more, the sticky
 * writers stop at the cap, and an emptied buffer gives large memory back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void put(sf_http_buf *b, const char *s)
{
    assert_true(sf_http_buf_reserve(b, strlen(s)));
    sf_http_buf_put(b, s, strlen(s));
}

static void cap_refuses_whole_appends(void **state)
{
    (void)state;
    sf_http_buf b;
    sf_http_buf_init_max(&b, 8);
    put(&b, "abcde");
    assert_true(sf_http_buf_fits(&b, 3));
    assert_false(sf_http_buf_fits(&b, 4));
    assert_false(sf_http_buf_reserve(&b, 4)); /* 9 > 8: refused, nothing written */
    assert_int_equal(sf_http_buf_pending(&b), 5);
    assert_string_equal(b.data, "abcde");
    assert_false(b.failed); /* the all-or-nothing path does not stick */
    put(&b, "fgh");         /* exactly the cap */
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "abcdefgh");
    assert_false(sf_http_buf_fits(&b, 1));
    assert_false(sf_http_buf_fits(&b, SIZE_MAX)); /* no overflow in the check */
    sf_http_buf_free(&b);
}

static void consumed_front_frees_room(void **state)
{
    (void)state;
    sf_http_buf b;
    sf_http_buf_init_max(&b, 8);
    put(&b, "abcdefgh");
    sf_http_buf_consume(&b, 6); /* "gh" wait */
    assert_int_equal(sf_http_buf_pending(&b), 2);
    assert_memory_equal(b.data + b.off, "gh", 2);
    put(&b, "123456"); /* 2 + 6 = 8 waiting: fits, as the consumed front does not count */
    assert_int_equal(sf_http_buf_pending(&b), 8);
    assert_string_equal(b.data + b.off, "gh123456");
    assert_false(sf_http_buf_fits(&b, 1));
    sf_http_buf_consume(&b, 8); /* all read: back to the front */
    assert_int_equal(b.off, 0);
    assert_int_equal(b.len, 0);
    sf_http_buf_free(&b);
    assert_int_equal(b.max, 8); /* free keeps the cap: the buffer can be used again */

    sf_http_buf full; /* a full buffer with a consumed front moves it down to make room */
    sf_http_buf_init_max(&full, 1000);
    char fill[255];
    memset(fill, 'a', sizeof fill);
    assert_true(sf_http_buf_reserve(&full, sizeof fill));
    sf_http_buf_put(&full, fill, sizeof fill); /* 255 + NUL: the first 256 bytes are full */
    size_t cap = full.cap;
    sf_http_buf_consume(&full, 200);
    put(&full, "0123456789");
    assert_int_equal(full.cap, cap); /* no growth: the front was reused */
    assert_int_equal(full.off, 0);
    assert_int_equal(sf_http_buf_pending(&full), 65);
    assert_memory_equal(full.data + 55, "0123456789", 10);
    sf_http_buf_free(&full);
}

static void sticky_writers_stop_at_the_cap(void **state)
{
    (void)state;
    sf_http_buf b;
    sf_http_buf_init_max(&b, 10);
    sf_http_buf_str(&b, "0123456789");
    assert_false(b.failed);
    sf_http_buf_printf(&b, "%d", 7);
    assert_true(b.failed);
    sf_http_buf_str(&b, ""); /* later appends do nothing */
    assert_int_equal(b.len, 10);
    sf_http_buf_free(&b);

    sf_http_buf u; /* no cap: plain writers as before */
    sf_http_buf_init(&u);
    for (int i = 0; i < 1000; i++)
        sf_http_buf_str(&u, "0123456789");
    assert_false(u.failed);
    assert_int_equal(u.len, 10000);
    sf_http_buf_free(&u);
}

static void clear_gives_large_memory_back(void **state)
{
    (void)state;
    sf_http_buf b;
    sf_http_buf_init_max(&b, 1 << 20);
    char big[5000];
    memset(big, 'x', sizeof big);
    assert_true(sf_http_buf_reserve(&b, sizeof big));
    sf_http_buf_put(&b, big, sizeof big);
    sf_http_buf_clear(&b, 4096); /* above keep: freed */
    assert_null(b.data);
    assert_int_equal(b.cap, 0);
    put(&b, "small");
    size_t cap = b.cap;
    sf_http_buf_clear(&b, 4096); /* within keep: kept, empty */
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    sf_http_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cap_refuses_whole_appends),
        cmocka_unit_test(consumed_front_frees_room),
        cmocka_unit_test(sticky_writers_stop_at_the_cap),
        cmocka_unit_test(clear_gives_large_memory_back),
    };
    return cmocka_run_group_tests_name("bounded_buf", tests, NULL, NULL);
}
