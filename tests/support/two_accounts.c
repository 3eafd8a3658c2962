/* SPDX-License-Identifier: MIT */
/* two_accounts.c: see two_accounts.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "assert_status.h"
#include "two_accounts.h"

sf_fake *sf_test_accounts_fake(size_t journal_capacity, bool with_b)
{
    sf_options o;
    sf_options_init(&o);
    if (journal_capacity)
        o.journal_capacity = journal_capacity;
    o.account_sid = A_SID;
    o.auth_token = "secret-token";
    sf_fake *fake;
    assert_status(sf_fake_new(&o, &fake, NULL), SF_OK);
    if (with_b) {
        sf_account_params ap = {.sid = B_SID, .auth_token = "other-token"};
        assert_status(sf_account_create(fake, &ap, NULL, NULL), SF_OK);
    }
    return fake;
}
