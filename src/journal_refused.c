/* SPDX-License-Identifier: MIT */
/* journal_refused.c: `refused` journal entries, for HTTP requests turned away before they
 * reached an operation. The method is kept as a small number in the entry's op byte (unused by
 * this kind), so the ring's entries do not grow. */
#include "internal.h"
#include "journal_params.h"

#include <string.h>

static const char *const refusal_names[SF_REFUSAL_COUNT] = {
#define SF__REFUSAL_NAME(name, wire) wire,
    SF_REFUSAL_MAP(SF__REFUSAL_NAME)
#undef SF__REFUSAL_NAME
};

/* Index 0 is every method not listed. */
static const char *const methods[] = {"OTHER", "GET",   "POST", "DELETE",
                                      "PUT",   "PATCH", "HEAD", "OPTIONS"};
#define METHOD_COUNT (sizeof methods / sizeof methods[0])

const char *sf_refusal_name(sf_refusal reason)
{
    return (unsigned)reason < SF_REFUSAL_COUNT ? refusal_names[reason] : NULL;
}

static uint8_t method_number(const char *method)
{
    for (uint8_t i = 1; method && i < METHOD_COUNT; i++)
        if (strcmp(method, methods[i]) == 0)
            return i;
    return 0;
}

const char *sf__journal_method_name(uint8_t number)
{
    return methods[number < METHOD_COUNT ? number : 0];
}

void sf_journal_request_refused(sf_fake *fake, const char *account_sid, const char *method,
                                sf_status status, sf_refusal reason)
{
    if (!fake || status == SF_OK || (unsigned)reason >= SF_REFUSAL_COUNT)
        return;
    SF__OUTERMOST(fake);
    SF__RECORDED(sf__rec_request_refused(fake, account_sid, method, status, reason));
    sf__begin(fake); /* the entry's time, as for any call */
    sf__jentry *e = sf__journal_append(fake, SF_JOURNAL_REFUSED);
    if (!e)
        return;
    e->op = method_number(method);
    e->reason = (uint8_t)reason;
    e->account = account_sid ? sf__find_account(fake, account_sid) : NULL;
    e->status = (uint16_t)sf_status_http(status);
    e->code = sf_status_code(status);
}
