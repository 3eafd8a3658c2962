/* SPDX-License-Identifier: MIT */
/* main.c: syncfake-server's command line. See --help. */
#include "syncfake_snapshot.h"

#include "cors.h"
#include "instance_id.h"
#include "scenario_load.h"
#include "server.h"
#include "server_flags.h"
#include "request_log.h"
#include "twilsock_session.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_EXTRA 32

static void usage(FILE *out)
{
    fprintf(out,
            "usage: syncfake-server [options]\n"
            "  --host ADDR              IPv4 address to listen on (default 127.0.0.1)\n"
            "  --port N                 port (default 8787; 0 picks a free one)\n"
            "  --seed N                 seed of SIDs, tokens and fault draws (default 1)\n"
            "  --clock wall|manual      wall: real time; manual: moved by POST /_syncfake/clock\n"
            "                           (default wall; the C library's sf_options default is\n"
            "                           manual)\n"
            "  --account-sid AC...      the default account (default: minted from the seed)\n"
            "  --auth-token TOKEN       its auth token (default: minted from the seed)\n"
            "  --account AC...:TOKEN    an extra account (repeatable, at most 32; default none)\n"
            "  --api-key SK...:SECRET:AC...  an API key of an account (repeatable, at most 32;\n"
            "                           default none)\n"
            "  --admin USER:TOKEN       Basic credentials for the control API's fake-wide\n"
            "                           powers (clock, full reset, every account's journal)\n"
            "                           (default none: the default account has them)\n"
            "  --base-url URL           base of url/links/paging URLs (default http://HOST:PORT)\n"
            "  --limit NAME=VALUE       override a limit (repeatable); NAME, its default, what it\n"
            "                           bounds:\n");
    sf_flags_print_limits(out);
    fprintf(out,
            "  --sse-queue-max BYTES    events waiting for one event-stream client before it is\n"
            "                           cut off (default 16777216)\n"
            "  --max-connections N      connections served at once; past it the connection\n"
            "                           waiting longest for its request is cut, else 503\n"
            "                           (default 1024)\n"
            "  --request-timeout-ms N   time a connection has to send a whole request once it\n"
            "                           waits for one (default 10000)\n"
            "  --instance-id ID         this run's id, in the Twilsock offline storage id and\n"
            "                           GET /_syncfake/clock (default: random at start); 1-64\n"
            "                           of A-Z a-z 0-9 . _ -, for reproducible transcripts\n"
            "  --cors-origin ORIGIN     pages of ORIGIN may call /_syncfake/* (repeatable, at\n"
            "                           most 16): http[s]://HOST, http[s]://HOST:PORT or\n"
            "                           http[s]://HOST:* (any port); none: no page may.\n"
            "                           Default: http://127.0.0.1:* and http://localhost:*\n"
            "  --strict                 refuse (400/20001, naming the parameter) what Twilio\n"
            "                           would silently ignore and syncfake only warns about\n"
            "                           (Syncfake-Warning header): unknown or wrongly cased\n"
            "                           parameters, a JSON body (default: warn only)\n"
            "  --log-requests[=FILE]    one line per request (method, path, status, Twilio\n"
            "                           code, microseconds, Syncfake-Warning) to stderr or\n"
            "                           FILE; POST /_syncfake/request-log Enabled=true|false\n"
            "                           turns it on and off (default: off)\n"
            "  --log-libmicrohttpd      libmicrohttpd's own messages, such as a client that\n"
            "                           left mid-answer, to stderr (default: off)\n"
            "  --load FILE              start from a snapshot (sf_snapshot_save, GET\n"
            "                           /_syncfake/snapshot): its state, seed, limits, base URL\n"
            "                           and accounts; --clock still chooses the clock\n"
            "  --save-on-exit FILE      on SIGINT/SIGTERM, save the state to FILE\n"
            "  --record-calls           record every call's parameters in the journal, for\n"
            "                           syncfake-replay (default off; also POST\n"
            "                           /_syncfake/journal/record Enabled=true)\n"
            "  --scenario FILE          play a scenario file (see syncfake_scenario.h) at start,\n"
            "                           then serve the fake it built; clock steps need\n"
            "                           --clock manual. A parse error or failed step exits 2\n"
            "  --help, -h               this text\n");

}

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

/* Splits "a:b" or "a:b:c" in place. */
static int split(char *s, char **parts, int max)
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

/* --cors-origin ORIGIN: the first one replaces the default list; "none" adds no origin. */
static bool add_cors_origin(sf_cors *cors, bool *given, const char *origin)
{
    if (!origin)
        return false;
    if (!*given)
        cors->count = 0;
    *given = true;
    return strcmp(origin, "none") == 0 || sf_cors_add(cors, origin);
}

static void lock_server(void *srv) { sf_server_lock(srv); }
static void unlock_server(void *srv) { sf_server_unlock(srv); }

typedef struct extras {
    char **accounts, **keys;
    int naccounts, nkeys;
} extras;

/* Adds the extra accounts and API keys of the command line; false (message printed) on error. */
static bool add_extras(sf_fake *fake, const extras *x)
{
    sf_error err;
    for (int i = 0; i < x->naccounts; i++) {
        char copy[512], *parts[2];
        memset(&err, 0, sizeof err);
        snprintf(copy, sizeof copy, "%s", x->accounts[i]);
        int n = split(copy, parts, 2);
        if (n == 2 && sf_authenticate(fake, parts[0], parts[1], NULL, NULL) == SF_OK)
            continue; /* a loaded or restored snapshot has it already */
        if (n != 2 ||
            sf_account_create(fake, &(sf_account_params){parts[0], parts[1]}, NULL, &err) !=
                SF_OK) {
            fprintf(stderr, "syncfake-server: --account AC...:TOKEN: %s\n",
                    err.message[0] ? err.message : "malformed");
            return false;
        }
    }
    for (int i = 0; i < x->nkeys; i++) {
        char copy[512], *parts[3];
        memset(&err, 0, sizeof err);
        snprintf(copy, sizeof copy, "%s", x->keys[i]);
        sf_api_key_record have;
        if (split(copy, parts, 3) == 3 && sf_api_key_fetch(fake, parts[0], &have, NULL) == SF_OK)
            continue; /* a loaded or restored snapshot has it already */
        snprintf(copy, sizeof copy, "%s", x->keys[i]);
        if (split(copy, parts, 3) != 3 ||
            sf_api_key_create(fake, parts[2], &(sf_api_key_params){parts[0], parts[1]}, NULL,
                              &err) != SF_OK) {
            fprintf(stderr, "syncfake-server: --api-key SK...:SECRET:AC...: %s\n",
                    err.message[0] ? err.message : "malformed");
            return false;
        }
    }
    return true;
}

/* A reset keeps only the default account: the command line's extras come back. */
static void readd_extras(sf_fake *fake, void *ctx) { add_extras(fake, ctx); }

/* A fake with the options, extra accounts and API keys; NULL (message printed) on error. */
static sf_fake *make_fake(const sf_options *opts, const extras *x, const char *load)
{
    sf_fake *fake;
    sf_error err;
    sf_status st = load ? sf_fake_from_snapshot_file(opts, load, &fake, &err)
                        : sf_fake_new(opts, &fake, &err);
    if (st != SF_OK) {
        fprintf(stderr, "syncfake-server: %s\n", err.message);
        return NULL;
    }
    if (!add_extras(fake, x)) {
        sf_fake_free(fake);
        return NULL;
    }
    return fake;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *base_url = NULL, *account_sid = NULL, *auth_token = NULL;
    unsigned long long port = 8787, seed = 1;
    bool wall = true;
    sf_limits limits;
    sf_limits_init(&limits);
    bool default_page_size_given = false;
    char *accounts[MAX_EXTRA], *keys[MAX_EXTRA];
    int naccounts = 0, nkeys = 0;
    char *admin_parts[2] = {NULL, NULL};
    unsigned long long sse_queue_max = 0, max_connections = 0, request_timeout_ms = 0;
    char instance_id[SF_INSTANCE_ID_MAX + 1] = "";
    bool strict = false;
    const char *load_path = NULL, *save_path = NULL;
    static sf_cors cors; /* static: large, and it outlives the server */
    bool cors_given = false;
    bool record_calls = false;
    sf_cors_default(&cors);
    const char *log_path = NULL;
    bool log_on = false, mhd_log = false;
    const char *scenario = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(a, "--strict") == 0) { /* a switch: it takes no value */
            strict = true;
            continue;
        }
        if (strcmp(a, "--record-calls") == 0) { /* a flag: takes no value */
            record_calls = true;
            continue;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--log-requests") == 0 ||
                   (strncmp(a, "--log-requests=", 15) == 0 && a[15])) {
            log_on = true;
            log_path = a[14] ? a + 15 : NULL;
            continue; /* takes no separate value */
        } else if (strcmp(a, "--log-libmicrohttpd") == 0) {
            mhd_log = true;
            continue;
        } else if (strcmp(a, "--host") == 0 && v) {
            host = v;
        } else if (strcmp(a, "--port") == 0 && parse_u64(v, 65535, &port)) {
        } else if (strcmp(a, "--seed") == 0 && parse_u64(v, UINT64_MAX, &seed)) {
        } else if (strcmp(a, "--clock") == 0 && v && (!strcmp(v, "wall") || !strcmp(v, "manual"))) {
            wall = strcmp(v, "wall") == 0;
        } else if (strcmp(a, "--account-sid") == 0 && v) {
            account_sid = v;
        } else if (strcmp(a, "--auth-token") == 0 && v) {
            auth_token = v;
        } else if (strcmp(a, "--base-url") == 0 && v) {
            base_url = v;
        } else if (strcmp(a, "--limit") == 0 && v && sf_flags_set_limit(&limits, v)) {
            default_page_size_given |= strncmp(v, "page_size_default=", 18) == 0;
        } else if (strcmp(a, "--sse-queue-max") == 0 && parse_u64(v, SIZE_MAX, &sse_queue_max) &&
                   sse_queue_max > 0) {
        } else if (strcmp(a, "--max-connections") == 0 &&
                   parse_u64(v, 1000000, &max_connections) && max_connections > 0) {
        } else if (strcmp(a, "--request-timeout-ms") == 0 &&
                   parse_u64(v, 3600000, &request_timeout_ms) && request_timeout_ms > 0) {
        } else if (strcmp(a, "--account") == 0 && v && naccounts < MAX_EXTRA) {
            accounts[naccounts++] = argv[i + 1];
        } else if (strcmp(a, "--api-key") == 0 && v && nkeys < MAX_EXTRA) {
            keys[nkeys++] = argv[i + 1];
        } else if (strcmp(a, "--admin") == 0 && v && split(argv[i + 1], admin_parts, 2) == 2 &&
                   admin_parts[0][0] && admin_parts[1][0]) {
        } else if (strcmp(a, "--instance-id") == 0 && sf_instance_id_valid(v)) {
            snprintf(instance_id, sizeof instance_id, "%s", v);
        } else if (strcmp(a, "--cors-origin") == 0 && add_cors_origin(&cors, &cors_given, v)) {
        } else if (strcmp(a, "--load") == 0 && v) {
            load_path = v;
        } else if (strcmp(a, "--save-on-exit") == 0 && v) {
            save_path = v;
        } else if (strcmp(a, "--scenario") == 0 && v) {
            scenario = v;
        } else {
            takes = false;
        }
        if (!takes) {
            sf_flags_explain(stderr, a, v);
            return 2;
        }
        i++;
    }

    if (!instance_id[0] && !sf_instance_id_new(instance_id)) {
        fprintf(stderr, "syncfake-server: no random bytes for an instance id: give one with "
                        "--instance-id\n");
        return 1;
    }

    /* every WebSocket holds a socket: allow as many open files as the system lets us */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL); /* threads inherit: only sigwait sees them */

    sf_options opts;
    sf_options_init(&opts);
    opts.seed = seed;
    opts.strict_params = strict;
    opts.clock = wall ? SF_CLOCK_SYSTEM : SF_CLOCK_MANUAL;
    opts.account_sid = account_sid;
    opts.auth_token = auth_token;
    /* a smaller page_size_max given alone also caps the default page size */
    if (limits.page_size_default > limits.page_size_max && !default_page_size_given)
        limits.page_size_default = limits.page_size_max;
    opts.limits = limits;
    opts.journal_params = record_calls;

    /* bound first: the default base URL names the port (any free one with --port 0) */
    uint16_t bound_port;
    int listen_fd = sf_server_listen(host, (uint16_t)port, &bound_port);
    if (listen_fd < 0)
        return 1;
    char url[600];
    opts.base_url = base_url;
    if (!base_url) {
        snprintf(url, sizeof url, "http://%s:%u", host, (unsigned)bound_port);
        opts.base_url = url;
    }
    static sf_request_log request_log; /* static: it outlives the server */
    if (!sf_request_log_open(&request_log, log_path, log_on)) {
        close(listen_fd);
        return 2;
    }
    extras extra = {accounts, keys, naccounts, nkeys};
    sf_ts_manager *twilsock = sf_ts_manager_new(); /* the client SDK's WebSocket sessions */
    /* the whole fake is built before the server (and its threads) can touch it */
    sf_fake *fake = twilsock ? make_fake(&opts, &extra, load_path) : NULL;
    if (fake && record_calls && load_path) /* a snapshot's options do not say it */
        sf_journal_record_calls(fake, true, NULL);
    if (fake && scenario && !sf_server_play_scenario(fake, scenario, stderr)) {
        sf_fake_free(fake);
        fake = NULL;
    }
    if (!fake) {
        close(listen_fd);
        sf_ts_manager_free(twilsock);
        return twilsock ? 2 : 1;
    }
    sf_server_config cfg = {.host = host,
                            .port = bound_port,
                            .listen_fd = listen_fd,
                            .fake = fake,
                            .wall_clock = wall,
                            .on_reset = readd_extras,
                            .on_reset_ctx = &extra,
                            .ws = sf_ts_handler(twilsock),
                            .admin_sid = admin_parts[0],
                            .admin_token = admin_parts[1],
                            .sse_queue_max = (size_t)sse_queue_max,
                            .max_connections = (unsigned)max_connections,
                            .request_timeout_ms = (unsigned)request_timeout_ms,
                            .instance_id = instance_id,
                            .cors = &cors,
                            .request_log = &request_log,
                            .mhd_log = mhd_log};
    sf_server *srv = sf_server_start(&cfg); /* owns listen_fd from here, even when it fails */
    if (!srv) {
        sf_fake_free(fake);
        sf_ts_manager_free(twilsock);
        return 1;
    }
    sf_ts_host host_of_sessions = {.lock = lock_server,
                                   .unlock = unlock_server,
                                   .ctx = srv,
                                   .fake = fake,
                                   .base_url = sf_fake_options(fake)->base_url,
                                   .instance_id = instance_id};
    if (!sf_ts_manager_start(twilsock, &host_of_sessions)) {
        sf_server_stop(srv);
        sf_ts_manager_free(twilsock); /* its thread never started */
        sf_fake_free(fake);
        return 1;
    }

    printf("syncfake-server listening on http://%s:%u\n", host, (unsigned)sf_server_port(srv));
    printf("account_sid %s\nauth_token %s\nbase_url %s\nclock %s\nseed %llu\n",
           sf_fake_account_sid(fake), sf_fake_auth_token(fake), sf_fake_options(fake)->base_url,
           wall ? "wall" : "manual", (unsigned long long)sf_fake_options(fake)->seed);
    printf("instance_id %s\n", instance_id);
    fflush(stdout);

    int sig;
    sigwait(&stop_signals, &sig);
    sf_ts_manager_stop(twilsock); /* its thread uses the server's lock */
    sf_server_stop(srv);          /* closes every WebSocket session */
    sf_ts_manager_free(twilsock);
    sf_error err;
    int rc = 0;
    if (save_path && sf_snapshot_save_file(fake, save_path, &err) != SF_OK) {
        fprintf(stderr, "syncfake-server: --save-on-exit: %s\n", err.message);
        rc = 1;
    }
    sf_fake_free(fake);
    sf_request_log_close(&request_log);
    return rc;
}
