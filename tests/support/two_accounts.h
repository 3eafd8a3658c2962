/* SPDX-License-Identifier: MIT */
/* two_accounts.h: the fake of the HTTP and control-API suites: account A (token
 * "secret-token") is the fake's own, account B (token "other-token") a second one, and the
 * Basic credentials that name them. Include it after <cmocka.h>. */
#ifndef SF_TEST_TWO_ACCOUNTS_H
#define SF_TEST_TWO_ACCOUNTS_H

#include "syncfake.h"

#include <stdbool.h>
#include <stddef.h>

#define A_SID "AC00000000000000000000000000000001"
#define B_SID "AC00000000000000000000000000000002"
/* Basic A_SID:secret-token, B_SID:other-token */
#define AUTH_A "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMTpzZWNyZXQtdG9rZW4="
#define AUTH_B "Basic QUMwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMjpvdGhlci10b2tlbg=="

/* A fake of account A (sf_options defaults otherwise; journal_capacity 0 keeps the default)
 * plus, with with_b, account B. Asserts success. */
sf_fake *sf_test_accounts_fake(size_t journal_capacity, bool with_b);

#endif
