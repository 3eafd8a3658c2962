/* SPDX-License-Identifier: MIT */
/* server_args.h: syncfake-server's command line read into settings, one table row per option
 * (server_args.c); what each option means is in --help (server_main.c), and why one was
 * refused comes from server_flags.c. */
#ifndef SF_SERVER_ARGS_H
#define SF_SERVER_ARGS_H

#include "syncfake.h"

#include "cors.h"
#include "instance_id.h"

#include <stdbool.h>

#define SF_ARGS_MAX_EXTRA 32 /* --account and --api-key, each */

typedef struct sf_server_args {
    const char *host, *base_url, *account_sid, *auth_token;
    unsigned long long port, seed;
    bool wall;
    sf_limits limits;
    bool default_page_size_given;
    char *accounts[SF_ARGS_MAX_EXTRA], *keys[SF_ARGS_MAX_EXTRA];
    int naccounts, nkeys;
    char *admin_parts[2]; /* --admin USER:TOKEN, split in place */
    unsigned long long sse_queue_max, max_connections, request_timeout_ms;
    char instance_id[SF_INSTANCE_ID_MAX + 1];
    bool strict, record_calls;
    const char *load_path, *save_path, *scenario;
    sf_cors *cors; /* the caller's: large, and it outlives the server */
    bool cors_given;
    const char *log_path;
    bool log_on, mhd_log;
} sf_server_args;

typedef enum sf_args_result {
    SF_ARGS_RUN,  /* serve with these settings */
    SF_ARGS_HELP, /* --help or -h: print the usage, exit 0 */
    SF_ARGS_BAD   /* an option was refused (explained on stderr): exit 2 */
} sf_args_result;

/* The defaults, with cors (the caller's) set to the default origins. */
void sf_server_args_init(sf_server_args *a, sf_cors *cors);
/* Reads argv[1..argc-1] into a; refused options are explained on stderr. */
sf_args_result sf_server_args_parse(sf_server_args *a, int argc, char **argv);
/* Splits "a:b" or "a:b:c" in place into at most max parts; returns how many. */
int sf_args_split(char *s, char **parts, int max);

#endif
