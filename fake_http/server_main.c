/* SPDX-License-Identifier: MIT */
/* main.c: syncfake-server's command line. See --help. */
#include "syncfake_snapshot.h"

#include "conn_limits.h"
#include "cors.h"
#include "instance_id.h"
#include "scenario_load.h"
#include "server.h"
#include "server_args.h"
#include "server_flags.h"
#include "request_log.h"
#include "twilsock_session.h"

#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        int n = sf_args_split(copy, parts, 2);
        if (n == 2 && sf_authenticate(fake, parts[0], parts[1], NULL, NULL) == SF_OK)
            continue; /* a loaded or restored snapshot has it already */
        if (n != 2 || sf_account_create(fake, &(sf_account_params){parts[0], parts[1]}, NULL,
                                        &err) != SF_OK) {
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
        if (sf_args_split(copy, parts, 3) == 3 &&
            sf_api_key_fetch(fake, parts[0], &have, NULL) == SF_OK)
            continue; /* a loaded or restored snapshot has it already */
        snprintf(copy, sizeof copy, "%s", x->keys[i]);
        if (sf_args_split(copy, parts, 3) != 3 ||
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
    sf_status st =
        load ? sf_fake_from_snapshot_file(opts, load, &fake, &err) : sf_fake_new(opts, &fake, &err);
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

/* Each connection costs three descriptors (the client's socket and a socket pair to
 * libmicrohttpd: front_door.h), for up to max + max / 4 + 16 connections at once: a limit
 * below that is said once at start (accepting pauses when descriptors run out). */
static void check_fd_limit(const sf_server_args *a, const struct rlimit *files)
{
    unsigned long long max = a->max_connections ? a->max_connections : SF_CONN_MAX_DEFAULT;
    unsigned long long need = 3 * (max + max / 4 + 16) + 64;
    if (files->rlim_cur != RLIM_INFINITY && files->rlim_cur < need)
        fprintf(stderr,
                "syncfake-server: warning: %llu open files allowed; %llu connections may need "
                "%llu (three each): raise the limit (ulimit -n) or lower --max-connections\n",
                (unsigned long long)files->rlim_cur, max, need);
}

/* What the process needs before any thread starts: an instance id, as many open files as
 * the system allows (every connection holds three descriptors), and SIGINT/SIGTERM blocked so
 * that only sigwait sees them (threads inherit the mask). false: message printed. */
static bool prepare_process(sf_server_args *a, sigset_t *stop_signals)
{
    if (!a->instance_id[0] && !sf_instance_id_new(a->instance_id)) {
        fprintf(stderr, "syncfake-server: no random bytes for an instance id: give one with "
                        "--instance-id\n");
        return false;
    }
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    if (getrlimit(RLIMIT_NOFILE, &files) == 0)
        check_fd_limit(a, &files);
    sigemptyset(stop_signals);
    sigaddset(stop_signals, SIGINT);
    sigaddset(stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, stop_signals, NULL);
    return true;
}

/* The fake's options from the command line (base_url is set once the port is known). */
static void fake_options(sf_server_args *a, sf_options *opts)
{
    sf_options_init(opts);
    opts->seed = a->seed;
    opts->strict_params = a->strict;
    opts->clock = a->wall ? SF_CLOCK_SYSTEM : SF_CLOCK_MANUAL;
    opts->account_sid = a->account_sid;
    opts->auth_token = a->auth_token;
    /* a smaller page_size_max given alone also caps the default page size */
    if (a->limits.page_size_default > a->limits.page_size_max && !a->default_page_size_given)
        a->limits.page_size_default = a->limits.page_size_max;
    opts->limits = a->limits;
    opts->journal_params = a->record_calls;
}

/* What a running server is made of, for its start and its stop. */
typedef struct running {
    sf_server_args *args;
    extras extra;
    sf_ts_manager *twilsock; /* the client SDK's WebSocket sessions */
    sf_fake *fake;
    sf_server *srv;
    sf_request_log *request_log;
} running;

/* The fake, built whole before the server (and its threads) can touch it: options, snapshot,
 * extras, recording, scenario. Exit status on failure, 0 on success. */
static int build_fake(running *r, sf_options *opts)
{
    sf_server_args *a = r->args;
    r->extra = (extras){a->accounts, a->keys, a->naccounts, a->nkeys};
    r->twilsock = sf_ts_manager_new();
    r->fake = r->twilsock ? make_fake(opts, &r->extra, a->load_path) : NULL;
    if (r->fake && a->record_calls && a->load_path) /* a snapshot's options do not say it */
        sf_journal_record_calls(r->fake, true, NULL);
    if (r->fake && a->scenario && !sf_server_play_scenario(r->fake, a->scenario, stderr)) {
        sf_fake_free(r->fake);
        r->fake = NULL;
    }
    if (r->fake)
        return 0;
    sf_ts_manager_free(r->twilsock);
    return r->twilsock ? 2 : 1;
}

/* The server on listen_fd (which it owns from here, even when it fails) and the Twilsock
 * sessions' thread. false: everything is freed. */
static bool start_serving(running *r, int listen_fd, uint16_t port)
{
    sf_server_args *a = r->args;
    sf_server_config cfg = {.host = a->host,
                            .port = port,
                            .listen_fd = listen_fd,
                            .fake = r->fake,
                            .wall_clock = a->wall,
                            .on_reset = readd_extras,
                            .on_reset_ctx = &r->extra,
                            .ws = sf_ts_handler(r->twilsock),
                            .admin_sid = a->admin_parts[0],
                            .admin_token = a->admin_parts[1],
                            .sse_queue_max = (size_t)a->sse_queue_max,
                            .max_connections = (unsigned)a->max_connections,
                            .request_timeout_ms = (unsigned)a->request_timeout_ms,
                            .instance_id = a->instance_id,
                            .cors = a->cors,
                            .request_log = r->request_log,
                            .mhd_log = a->mhd_log};
    r->srv = sf_server_start(&cfg);
    if (!r->srv) {
        sf_fake_free(r->fake);
        sf_ts_manager_free(r->twilsock);
        return false;
    }
    sf_ts_host host_of_sessions = {.lock = lock_server,
                                   .unlock = unlock_server,
                                   .ctx = r->srv,
                                   .fake = r->fake,
                                   .base_url = sf_fake_options(r->fake)->base_url,
                                   .instance_id = a->instance_id};
    if (!sf_ts_manager_start(r->twilsock, &host_of_sessions)) {
        sf_server_stop(r->srv);
        sf_ts_manager_free(r->twilsock); /* its thread never started */
        sf_fake_free(r->fake);
        return false;
    }
    return true;
}

static void print_banner(const running *r)
{
    const sf_server_args *a = r->args;
    printf("syncfake-server listening on http://%s:%u\n", a->host,
           (unsigned)sf_server_port(r->srv));
    printf("account_sid %s\nauth_token %s\nbase_url %s\nclock %s\nseed %llu\n",
           sf_fake_account_sid(r->fake), sf_fake_auth_token(r->fake),
           sf_fake_options(r->fake)->base_url, a->wall ? "wall" : "manual",
           (unsigned long long)sf_fake_options(r->fake)->seed);
    printf("instance_id %s\n", a->instance_id);
    fflush(stdout);
}

/* After SIGINT/SIGTERM: stops everything, saves when asked. The exit status. */
static int stop_serving(running *r)
{
    sf_ts_manager_stop(r->twilsock); /* its thread uses the server's lock */
    sf_server_stop(r->srv);          /* closes every WebSocket session */
    sf_ts_manager_free(r->twilsock);
    sf_error err;
    int rc = 0;
    const char *save = r->args->save_path;
    if (save && sf_snapshot_save_file(r->fake, save, &err) != SF_OK) {
        fprintf(stderr, "syncfake-server: --save-on-exit: %s\n", err.message);
        rc = 1;
    }
    sf_fake_free(r->fake);
    sf_request_log_close(r->request_log);
    return rc;
}

int main(int argc, char **argv)
{
    static sf_cors cors; /* static: large, and it outlives the server */
    sf_server_args args;
    sf_server_args_init(&args, &cors);
    sf_args_result parsed = sf_server_args_parse(&args, argc, argv);
    if (parsed != SF_ARGS_RUN) {
        if (parsed == SF_ARGS_HELP)
            usage(stdout);
        return parsed == SF_ARGS_HELP ? 0 : 2;
    }
    sigset_t stop_signals;
    if (!prepare_process(&args, &stop_signals))
        return 1;
    sf_options opts;
    fake_options(&args, &opts);

    /* bound first: the default base URL names the port (any free one with --port 0) */
    uint16_t bound_port;
    int listen_fd = sf_server_listen(args.host, (uint16_t)args.port, &bound_port);
    if (listen_fd < 0)
        return 1;
    char url[600];
    opts.base_url = args.base_url;
    if (!args.base_url) {
        snprintf(url, sizeof url, "http://%s:%u", args.host, (unsigned)bound_port);
        opts.base_url = url;
    }
    static sf_request_log request_log; /* static: it outlives the server */
    if (!sf_request_log_open(&request_log, args.log_path, args.log_on)) {
        close(listen_fd);
        return 2;
    }
    running run = {.args = &args, .request_log = &request_log};
    int failed = build_fake(&run, &opts);
    if (failed) {
        close(listen_fd);
        return failed;
    }
    if (!start_serving(&run, listen_fd, bound_port))
        return 1;
    print_banner(&run);
    int sig;
    sigwait(&stop_signals, &sig);
    return stop_serving(&run);
}
