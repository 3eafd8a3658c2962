/* SPDX-License-Identifier: MIT */
/* server_args.c: see server_args.h. Each option is a row: its name, whether it is a switch
 * (no value), and the function that takes its value (false: refused). */
#include "server_args.h"
#include "server_flags.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_u64(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > max)
        return false;
    *out = v;
    return true;
}

int sf_args_split(char *s, char **parts, int max)
{
    int n = 0;
    parts[n++] = s;
    for (char *p = s; *p && n < max; p++)
        if (*p == ':') {
            *p = '\0';
            parts[n++] = p + 1;
        }
    return n;
}

/* ---- one function per option: v is its value (NULL when none followed) ---- */

static bool take_strict(sf_server_args *a, char *v) { return (void)v, a->strict = true; }
static bool take_record_calls(sf_server_args *a, char *v)
{
    return (void)v, a->record_calls = true;
}
static bool take_mhd_log(sf_server_args *a, char *v) { return (void)v, a->mhd_log = true; }

static bool take_host(sf_server_args *a, char *v) { return v && (a->host = v); }
static bool take_port(sf_server_args *a, char *v) { return parse_u64(v, 65535, &a->port); }
static bool take_seed(sf_server_args *a, char *v) { return parse_u64(v, UINT64_MAX, &a->seed); }

static bool take_clock(sf_server_args *a, char *v)
{
    if (!v || (strcmp(v, "wall") != 0 && strcmp(v, "manual") != 0))
        return false;
    a->wall = strcmp(v, "wall") == 0;
    return true;
}

static bool take_account_sid(sf_server_args *a, char *v) { return v && (a->account_sid = v); }
static bool take_auth_token(sf_server_args *a, char *v) { return v && (a->auth_token = v); }
static bool take_base_url(sf_server_args *a, char *v) { return v && (a->base_url = v); }

static bool take_limit(sf_server_args *a, char *v)
{
    if (!v || !sf_flags_set_limit(&a->limits, v))
        return false;
    a->default_page_size_given |= strncmp(v, "page_size_default=", 18) == 0;
    return true;
}

static bool take_sse_queue_max(sf_server_args *a, char *v)
{
    return parse_u64(v, SIZE_MAX, &a->sse_queue_max) && a->sse_queue_max > 0;
}

static bool take_max_connections(sf_server_args *a, char *v)
{
    return parse_u64(v, 1000000, &a->max_connections) && a->max_connections > 0;
}

static bool take_request_timeout(sf_server_args *a, char *v)
{
    return parse_u64(v, 3600000, &a->request_timeout_ms) && a->request_timeout_ms > 0;
}

static bool take_account(sf_server_args *a, char *v)
{
    return v && a->naccounts < SF_ARGS_MAX_EXTRA && (a->accounts[a->naccounts++] = v);
}

static bool take_api_key(sf_server_args *a, char *v)
{
    return v && a->nkeys < SF_ARGS_MAX_EXTRA && (a->keys[a->nkeys++] = v);
}

static bool take_admin(sf_server_args *a, char *v)
{
    return v && sf_args_split(v, a->admin_parts, 2) == 2 && a->admin_parts[0][0] &&
           a->admin_parts[1][0];
}

static bool take_instance_id(sf_server_args *a, char *v)
{
    if (!sf_instance_id_valid(v))
        return false;
    snprintf(a->instance_id, sizeof a->instance_id, "%s", v);
    return true;
}

/* --cors-origin ORIGIN: the first one replaces the default list; "none" adds no origin. */
static bool take_cors_origin(sf_server_args *a, char *v)
{
    if (!v)
        return false;
    if (!a->cors_given)
        a->cors->count = 0;
    a->cors_given = true;
    return strcmp(v, "none") == 0 || sf_cors_add(a->cors, v);
}

static bool take_load(sf_server_args *a, char *v) { return v && (a->load_path = v); }
static bool take_save(sf_server_args *a, char *v) { return v && (a->save_path = v); }
static bool take_scenario(sf_server_args *a, char *v) { return v && (a->scenario = v); }

/* ---- the table ---- */

typedef struct option_row {
    const char *name;
    bool is_switch; /* takes no value */
    bool (*take)(sf_server_args *a, char *value);
} option_row;

static const option_row options[] = {
    {"--strict", true, take_strict},
    {"--record-calls", true, take_record_calls},
    {"--log-libmicrohttpd", true, take_mhd_log},
    {"--host", false, take_host},
    {"--port", false, take_port},
    {"--seed", false, take_seed},
    {"--clock", false, take_clock},
    {"--account-sid", false, take_account_sid},
    {"--auth-token", false, take_auth_token},
    {"--base-url", false, take_base_url},
    {"--limit", false, take_limit},
    {"--sse-queue-max", false, take_sse_queue_max},
    {"--max-connections", false, take_max_connections},
    {"--request-timeout-ms", false, take_request_timeout},
    {"--account", false, take_account},
    {"--api-key", false, take_api_key},
    {"--admin", false, take_admin},
    {"--instance-id", false, take_instance_id},
    {"--cors-origin", false, take_cors_origin},
    {"--load", false, take_load},
    {"--save-on-exit", false, take_save},
    {"--scenario", false, take_scenario},
};

static const option_row *find_option(const char *name)
{
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

void sf_server_args_init(sf_server_args *a, sf_cors *cors)
{
    memset(a, 0, sizeof *a);
    a->host = "127.0.0.1";
    a->port = 8787;
    a->seed = 1;
    a->wall = true;
    sf_limits_init(&a->limits);
    a->cors = cors;
    sf_cors_default(cors);
}

/* --log-requests or --log-requests=FILE (one word: it takes no separate value). */
static bool take_log_requests(sf_server_args *a, const char *arg)
{
    if (strcmp(arg, "--log-requests") != 0 &&
        !(strncmp(arg, "--log-requests=", 15) == 0 && arg[15]))
        return false;
    a->log_on = true;
    a->log_path = arg[14] ? arg + 15 : NULL;
    return true;
}

sf_args_result sf_server_args_parse(sf_server_args *a, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return SF_ARGS_HELP;
        if (take_log_requests(a, arg))
            continue;
        const option_row *row = find_option(arg);
        if (!row || !row->take(a, row->is_switch ? NULL : value)) {
            sf_flags_explain(stderr, arg, value);
            return SF_ARGS_BAD;
        }
        if (!row->is_switch)
            i++;
    }
    return SF_ARGS_RUN;
}
