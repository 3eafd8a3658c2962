/* SPDX-License-Identifier: MIT */
/*
 * syncfake.h: a deterministic, in-process fake of Twilio Sync Message Streams.
 *
 * One opaque handle (sf_fake) holds a whole service: accounts, API keys, Sync services,
 * streams, the per-stream publish rate limiter, TTL expiry and the fake's clock. There is no
 * global state, so independent fakes may live in different threads; one fake must not be used
 * by two threads at once.
 *
 * Conventions, the same in every function:
 *   - Endpoints read `sf_<resource>_<verb>(fake, parent ids..., params, out, err)`.
 *   - They return an sf_status; SF_OK is 0. On failure the optional caller-owned `err` is filled
 *     with exactly the Twilio error body (HTTP status, code, message, more_info), and nothing in
 *     the fake has changed: no stream, no message, no rate-limit token, no SID spent.
 *   - Strings passed in are borrowed for the duration of the call only; the fake copies what it
 *     keeps. Records returned are value structs owned by the caller. Pages are allocated by the
 *     fake and released with the matching *_page_free.
 *   - `account_sid` NULL means the fake's own (default) account. A service that belongs to
 *     another account is reported as not found (404/20404), exactly as if it did not exist.
 *   - A stream is addressed by its SID or by its unique name (`stream_id`): a value shaped like
 *     ^TO[0-9a-fA-F]{32}$ is a SID, anything else a unique name.
 *   - Time: every call reads the clock once ("now"), first runs everything that fell due up to
 *     now (expiries), then acts at now. Times are milliseconds since the Unix epoch (sf_ms).
 */
#ifndef SYNCFAKE_H
#define SYNCFAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SF_API __attribute__((visibility("default")))
#else
#define SF_API
#endif

/* ---------------------------------------------------------------------------------------- */
/* Version (semantic versioning; CMakeLists.txt and the .pc files read it from here)        */
/* ---------------------------------------------------------------------------------------- */

#define SF_VERSION_MAJOR 0
#define SF_VERSION_MINOR 1
#define SF_VERSION_PATCH 0
#define SF_VERSION_STRING "0.1.0"

/* The version of the library actually linked ("MAJOR.MINOR.PATCH"): compare it with
 * SF_VERSION_STRING to catch a header/library mismatch (e.g. a stale shared library). */
SF_API const char *sf_version(void);

/* ---------------------------------------------------------------------------------------- */
/* Sizes                                                                                    */
/* ---------------------------------------------------------------------------------------- */

#define SF_SID_LEN 34 /* "TO" + 32 lowercase hex digits */
#define SF_SID_SIZE (SF_SID_LEN + 1)
#define SF_UNIQUE_NAME_CAP 512   /* hard ceiling for limits.unique_name_max (characters) */
#define SF_FRIENDLY_NAME_CAP 512 /* hard ceiling for limits.friendly_name_max (characters) */
#define SF_UTF8_MAX 4            /* bytes per character, at most: records hold that many */
#define SF_WEBHOOK_URL_CAP 2048  /* hard ceiling for limits.webhook_url_max */
#define SF_SECRET_CAP 128        /* auth tokens and API key secrets */
#define SF_BASE_URL_CAP 512
#define SF_DATA_CAP (1024 * 1024) /* hard ceiling for limits.max_data_bytes */
#define SF_PAGE_SIZE_CAP 1000     /* hard ceiling for limits.page_size_max */
#define SF_PAGE_TOKEN_SIZE 40     /* opaque page tokens fit in this, NUL included */
#define SF_ERROR_MESSAGE_SIZE 1200
#define SF_MORE_INFO_SIZE 64
#define SF_CREATED_BY_SIZE 257

/* 2015-07-30T20:00:00Z: where the built-in manual clock starts unless told otherwise. */
#define SF_DEFAULT_EPOCH_MS INT64_C(1438286400000)
#define SF_DEFAULT_BASE_URL "https://sync.twilio.com"

typedef int64_t sf_ms; /* milliseconds since 1970-01-01T00:00:00Z */

/* The fake's time range: 1970-01-01T00:00:00.000Z .. 9999-12-31T23:59:59.999Z. Every time the
 * fake holds, reports or renders lies in it, so every date it shows is a valid 4-digit ISO 8601
 * date. Inputs outside it are refused (SF_ERR_INVALID_ARGUMENT naming the bound); deadlines
 * computed from a time plus a delay or TTL saturate at SF_TIME_MAX_MS (they never overflow). */
#define SF_TIME_MIN_MS INT64_C(0)
#define SF_TIME_MAX_MS INT64_C(253402300799999)

/* ---------------------------------------------------------------------------------------- */
/* Status and errors: one table, X(name, http status, Twilio code, Twilio message)           */
/* ---------------------------------------------------------------------------------------- */

/* The 404 message is a format: its %s is the requested path without "/v1".
 * Rows after ERR_INJECTED are never returned by the core's calls; they are the other errors
 * the wire can show: the client API's (Twilsock, /v3/...: stream and unique name not found,
 * token refusals, the session's token expiry) and the HTTP server's own (malformed requests,
 * the WebSocket handshake, body, URI and header limits). */
#define SF_STATUS_MAP(X)                                                                           \
    X(OK, 200, 0, "OK")                                                                            \
    X(ERR_INVALID_ARGUMENT, 400, 20001, "Invalid parameter")                                       \
    X(ERR_INVALID_PARAMETER, 400, 20001, "Invalid parameter")                                      \
    X(ERR_AUTHENTICATE, 401, 20003, "Authenticate")                                                \
    X(ERR_NOT_FOUND, 404, 20404, "The requested resource %s was not found")                        \
    X(ERR_METHOD_NOT_ALLOWED, 405, 20004, "Method not allowed")                                    \
    X(ERR_NOMEM, 500, 20500, "Internal Server Error")                                              \
    X(ERR_DATA_TOO_LARGE, 413, 54006, "Request entity too large")                                  \
    X(ERR_DATA_INVALID, 400, 54008, "Invalid JSON")                                                \
    X(ERR_RATE_LIMITED, 429, 54009, "Rate limit exceeded")                                         \
    X(ERR_NO_PARAMETERS, 400, 54010, "No parameters specified")                                    \
    X(ERR_INVALID_TTL, 400, 54011, "Invalid TTL")                                                  \
    X(ERR_INVALID_WEBHOOK_URL, 400, 54051, "Invalid webhook URL")                                  \
    X(ERR_INVALID_FRIENDLY_NAME, 400, 54053, "Invalid friendly name")                              \
    X(ERR_DATA_MISSING, 400, 54251, "Invalid Message Stream Message data")                         \
    X(ERR_UNIQUE_NAME_EXISTS, 409, 54301, "Unique name already exists")                            \
    X(ERR_INVALID_UNIQUE_NAME, 400, 54302,                                                         \
      "Invalid unique name. Expected a string with length 1-320 not matching the SID "             \
      "pattern [A-Z]{2}[a-f0-9]{32}")                                                              \
    X(ERR_INVALID_PAGE_TOKEN, 400, 54453, "Invalid 'PageToken' query parameter")                   \
    X(ERR_INVALID_PAGE_SIZE, 400, 54454, "Invalid 'PageSize' query parameter")                     \
    X(ERR_CONFLICT, 409, 20409, "Conflict")                                                        \
    X(ERR_CLOCK_NOT_MANUAL, 400, 20001, "Invalid parameter")                                       \
    X(ERR_INJECTED, 500, 20500, "Injected failure")                                                \
    X(ERR_STREAM_NOT_FOUND, 404, 54250, "Stream not found")                                        \
    X(ERR_UNIQUE_NAME_NOT_FOUND, 404, 54300, "Unique name not found")                              \
    X(ERR_TOKEN_INVALID, 401, 20101, "Invalid Access Token")                                       \
    X(ERR_TOKEN_EXPIRED, 401, 20104, "Access Token expired or expiration date invalid")            \
    X(ERR_SESSION_TOKEN_EXPIRED, 410, 51207, "Token expired")                                      \
    X(ERR_TOO_MANY_SUBSCRIPTIONS, 429, 54009, "Too many subscriptions")                            \
    X(ERR_BAD_REQUEST, 400, 20001, "Bad request")                                                  \
    X(ERR_WEBSOCKET_HANDSHAKE, 400, 20001, "Invalid WebSocket handshake")                          \
    X(ERR_REQUEST_TOO_LARGE, 413, 54006, "Request entity too large")                               \
    X(ERR_URI_TOO_LONG, 414, 20001, "Request-URI too long")                                        \
    X(ERR_HEADERS_TOO_LARGE, 431, 20001, "Request header fields too large")                        \
    /* 403: the control API refuses a fake-wide operation to an account (Twilio's 20403) */        \
    X(ERR_FORBIDDEN, 403, 20403, "Forbidden")                                                      \
    /* the HTTP server's own refusals, made before the dispatcher sees a request */                \
    X(ERR_CONFLICTING_CONTENT_LENGTH, 400, 20001, "Conflicting Content-Length headers")            \
    X(ERR_MISSING_HOST, 400, 20001, "Missing Host header")                                         \
    X(ERR_ORIGIN_NOT_ALLOWED, 403, 20403,                                                          \
      "Origin not allowed: start syncfake-server with --cors-origin ORIGIN")                       \
    X(ERR_TOO_MANY_CONNECTIONS, 503, 20503, "Service unavailable: too many connections")           \
    X(ERR_SERVER_STOPPING, 503, 20503, "Service unavailable: the server is stopping")              \
    /* the server's front door: requests libmicrohttpd would answer with its own HTML */           \
    X(ERR_HTTP_VERSION, 505, 20001, "HTTP version not supported")                                  \
    X(ERR_MALFORMED_REQUEST_LINE, 400, 20001, "Malformed request line")                            \
    X(ERR_MALFORMED_HEADER, 400, 20001, "Malformed header line")                                   \
    X(ERR_INVALID_CONTENT_LENGTH, 400, 20001, "Invalid Content-Length header")                     \
    X(ERR_INVALID_TRANSFER_ENCODING, 400, 20001, "Unsupported Transfer-Encoding")                  \
    X(ERR_MALFORMED_CHUNK, 400, 20001, "Malformed chunked body")

typedef enum sf_status {
#define SF__STATUS_ENUM(name, http, code, msg) SF_##name,
    SF_STATUS_MAP(SF__STATUS_ENUM)
#undef SF__STATUS_ENUM
        SF_STATUS_COUNT
} sf_status;

/* Exactly Twilio's error body. `message` may add detail only for errors that Twilio's wire
 * contract never shows (SF_ERR_INVALID_ARGUMENT, SF_ERR_CLOCK_NOT_MANUAL, SF_ERR_CONFLICT). */
typedef struct sf_error {
    sf_status status;
    int http_status;
    int code; /* Twilio error code, 0 for SF_OK */
    char message[SF_ERROR_MESSAGE_SIZE];
    char more_info[SF_MORE_INFO_SIZE]; /* https://www.twilio.com/docs/errors/<code> */
} sf_error;

/* Static strings for a status: its enum name ("SF_ERR_NOT_FOUND") and Twilio message. */
SF_API const char *sf_status_name(sf_status status);
SF_API const char *sf_status_message(sf_status status);
SF_API int sf_status_http(sf_status status);
SF_API int sf_status_code(sf_status status);

/* ---------------------------------------------------------------------------------------- */
/* Options                                                                                   */
/* ---------------------------------------------------------------------------------------- */

/* A warning: something Twilio accepts and silently ignores, which is almost always a mistake
 * (a misspelt or wrongly cased REST parameter, a JSON body instead of a form; from C, a value
 * set without its has_* flag, a unique_name given to sf_stream_update). The answer does not
 * change; the fake says so in the journal (kind `warning`), through sf_options.on_warning and,
 * on the wire, in a `Syncfake-Warning` response header. Every pointer is borrowed for the
 * duration of the callback. */
#define SF_WARNING_SIZE 320 /* message bytes kept, NUL included; longer ones are cut */
typedef struct sf_warning {
    int op;                 /* the sf_op of the call warned about */
    const char *param;      /* the parameter as given ("Tll"; C: the field, "ttl") */
    const char *suggestion; /* the nearest known parameter ("Ttl"), or NULL */
    const char *message;    /* "Unknown parameter Tll (did you mean Ttl?); Twilio ignores it" */
} sf_warning;
typedef void (*sf_warning_fn)(const sf_warning *warning, void *user);

/* Every limit of the behaviour contract, with Twilio's values as defaults. */
typedef struct sf_limits {
    size_t max_data_bytes;            /* 4096: publish Data size, bytes as sent (413/54006) */
    uint32_t publish_rate_per_s;      /* 30 tokens/s refill; 0 lifts the rate limit */
    uint32_t publish_burst;           /* 300: bucket capacity (429/54009) */
    size_t unique_name_max;           /* 320 characters (400/54302) */
    int64_t ttl_max_s;                /* 31536000 (400/54011) */
    uint32_t page_size_default;       /* 50 */
    uint32_t page_size_max;           /* 100 (400/54454) */
    size_t friendly_name_max;         /* 255 (400/54053) */
    size_t webhook_url_max;           /* 512 (400/54051) */
    int64_t debouncing_window_min_ms; /* 1000 (400/20001) */
    int64_t debouncing_window_max_ms; /* 30000 */
} sf_limits;

/* Clock callback: returns the current time. It may go backwards; the fake never does (it
 * keeps the latest time it has seen). A value outside SF_TIME_MIN_MS..SF_TIME_MAX_MS is
 * clamped to the nearer bound (the system clock too), so the fake's time stays in range. */
typedef sf_ms (*sf_clock_fn)(void *user);

typedef enum sf_clock_kind {
    SF_CLOCK_MANUAL = 0, /* starts at manual_start_ms, moves only by sf_clock_advance/set */
    SF_CLOCK_SYSTEM,     /* CLOCK_REALTIME */
    SF_CLOCK_CALLBACK    /* clock_fn(clock_user) */
} sf_clock_kind;

/* Allocator used for every byte the fake owns. All three functions or none. */
typedef struct sf_allocator {
    void *(*malloc_fn)(size_t size, void *user);
    void *(*realloc_fn)(void *ptr, size_t size, void *user);
    void (*free_fn)(void *ptr, void *user);
    void *user;
} sf_allocator;

typedef struct sf_options {
    uint64_t seed;         /* SIDs, tokens and secrets derive from it; default 1 */
    sf_clock_kind clock;   /* default SF_CLOCK_MANUAL */
    sf_ms manual_start_ms; /* default SF_DEFAULT_EPOCH_MS; SF_TIME_MIN_MS..SF_TIME_MAX_MS */
    sf_clock_fn clock_fn;  /* SF_CLOCK_CALLBACK only */
    void *clock_user;
    sf_allocator allocator;  /* zeroed: the C library's */
    const char *account_sid; /* NULL: minted from the seed */
    const char *auth_token;  /* NULL: minted from the seed (32 hex digits) */
    const char *base_url;    /* NULL: SF_DEFAULT_BASE_URL; no trailing slash */
    size_t journal_capacity; /* entries kept (a ring); default 65536; 0 keeps none */
    sf_limits limits;
    /* Warnings (see "Warnings" below): called once per warning, on the fake's thread, from
     * inside the call warned about; it must not call the fake. NULL: none (the journal still
     * gets each as a `warning` entry). */
    sf_warning_fn on_warning;
    void *warning_user;
    /* true: every warning is refused instead, 400/20001 "Invalid parameter: <warning>
     * (strict mode)", and the call changes nothing. Default false: warned and done as
     * Twilio does. The HTTP face (and syncfake-server --strict) follows it too. */
    bool strict_params;
    bool journal_params;         /* record every call's parameters in the journal (replay);
                                    default false (see "Recorded calls" below) */
    size_t journal_params_bytes; /* cap on the recorded parameters' bytes; 0: the default,
                                    SF_JOURNAL_PARAMS_BYTES_DEFAULT */
} sf_options;

/* Fills `opts` with the defaults above. */
SF_API void sf_options_init(sf_options *opts);
SF_API void sf_limits_init(sf_limits *limits);

/* ---------------------------------------------------------------------------------------- */
/* Lifecycle                                                                                 */
/* ---------------------------------------------------------------------------------------- */

typedef struct sf_fake sf_fake;

/* Creates a fake. `opts` NULL means defaults. Strings in `opts` are copied. On success *out
 * owns a new fake to release with sf_fake_free. Errors: SF_ERR_INVALID_ARGUMENT (bad option,
 * a limit above its *_CAP, malformed account SID), SF_ERR_NOMEM. */
SF_API sf_status sf_fake_new(const sf_options *opts, sf_fake **out, sf_error *err);

/* Releases the fake and everything it owns. NULL is a no-op. Called inside a subscriber
 * callback it is deferred, never a use-after-free: no further callback runs, the API call that
 * ran the callback finishes (with its usual result), and the fake is released when the
 * outermost API call returns. After sf_fake_free the fake must not be used, not even by the
 * rest of the callback. */
SF_API void sf_fake_free(sf_fake *fake);

/* Back to a fresh state with the same options: no services, extra accounts, keys,
 * subscribers, faults or journal; counters, SIDs and the manual clock start over, so a reset
 * fake repeats a new one byte for byte. Allocates nothing, so it cannot fail for lack of
 * memory. Errors: SF_ERR_INVALID_ARGUMENT (NULL fake, or called inside a callback). */
SF_API sf_status sf_fake_reset(sf_fake *fake, sf_error *err);

/* Back to a fresh state for one account only (NULL: the default account), so that parallel
 * test workers can share one fake, one account each: its services and streams go (their
 * subscribers get a `removed` event, reason deleted, before this returns), deliveries in
 * flight to its subscribers are cancelled, its subscribers are forgotten (their stats keep
 * counts but lose account_sid, and no account's control API finds them), and its fault
 * rules, error injections and journal entries are removed. The account itself, its auth
 * token and its API keys stay. Nothing of other accounts changes, and nothing fake-wide
 * starts over: the clock, SID counters (the next SIDs minted are the ones that would have
 * been minted without the reset), journal seq, subscriber ids and rule ids keep counting,
 * and the generation does not change. Rules and injections made for every account
 * (account_sid NULL) stay. Cannot fail for lack of memory (when the event queue cannot grow,
 * the `removed` events are delivered at once). Errors: SF_ERR_INVALID_ARGUMENT (NULL fake, or
 * inside a callback), SF_ERR_NOT_FOUND (no such account). */
SF_API sf_status sf_account_reset(sf_fake *fake, const char *account_sid, sf_error *err);

/* Starts at 0 and grows by one at every sf_fake_reset: subscriber ids of an older generation
 * mean nothing any more. */
SF_API uint64_t sf_fake_generation(const sf_fake *fake);

/* The options in force (strings owned by the fake, valid until sf_fake_free). */
SF_API const sf_options *sf_fake_options(const sf_fake *fake);

/* The default account's SID and auth token (owned by the fake). */
SF_API const char *sf_fake_account_sid(const sf_fake *fake);
SF_API const char *sf_fake_auth_token(const sf_fake *fake);

/* ---------------------------------------------------------------------------------------- */
/* Time                                                                                      */
/* ---------------------------------------------------------------------------------------- */

/* The fake's current time, as last sampled (reads the clock for non-manual clocks). */
SF_API sf_ms sf_clock_now(sf_fake *fake);

/* Manual clock only: move forward by `delta_ms` (>= 0) or to `now_ms` (>= now), running every
 * event due on the way in (due time, sequence) order; each runs with the clock at its due
 * time. The clock stays within SF_TIME_MIN_MS..SF_TIME_MAX_MS. Errors: SF_ERR_CLOCK_NOT_MANUAL,
 * SF_ERR_INVALID_ARGUMENT (negative, backwards, or past SF_TIME_MAX_MS: the message names the
 * bound). */
SF_API sf_status sf_clock_advance(sf_fake *fake, sf_ms delta_ms, sf_error *err);
SF_API sf_status sf_clock_set(sf_fake *fake, sf_ms now_ms, sf_error *err);

/* For any clock: samples it and runs everything due. Returns the number of events run. */
SF_API size_t sf_run_due(sf_fake *fake);

/* Due time of the earliest pending event (expiry or delivery). false when none is pending. */
SF_API bool sf_next_event_time(const sf_fake *fake, sf_ms *out);

/* Number of events waiting in the fake's queue. */
SF_API size_t sf_pending_events(const sf_fake *fake);

/* Formats `t` as "2015-07-30T20:00:00Z" (rounded down to the second) into buf[21]. */
SF_API void sf_format_iso8601(sf_ms t, char buf[21]);

/* Formats `t` as RFC 7231 "Thu, 30 Jul 2015 20:00:00 GMT" into buf[30]. */
SF_API void sf_format_http_date(sf_ms t, char buf[30]);

/* ---------------------------------------------------------------------------------------- */
/* Accounts and API keys (the default account exists from the start)                         */
/* ---------------------------------------------------------------------------------------- */

typedef struct sf_account_params {
    const char *sid;        /* NULL: minted; else must be ^AC[0-9a-f]{32}$ */
    const char *auth_token; /* NULL: minted; else 1..SF_SECRET_CAP-1 printable characters */
} sf_account_params;

typedef struct sf_account_record {
    char sid[SF_SID_SIZE];
    char auth_token[SF_SECRET_CAP];
} sf_account_record;

typedef struct sf_api_key_params {
    const char *sid;    /* NULL: minted; else ^SK[0-9a-f]{32}$ */
    const char *secret; /* NULL: minted */
} sf_api_key_params;

typedef struct sf_api_key_record {
    char sid[SF_SID_SIZE];
    char account_sid[SF_SID_SIZE];
    char secret[SF_SECRET_CAP];
} sf_api_key_record;

/* Errors: SF_ERR_INVALID_ARGUMENT, SF_ERR_CONFLICT (SID taken), SF_ERR_NOMEM. */
SF_API sf_status sf_account_create(sf_fake *fake, const sf_account_params *params,
                                   sf_account_record *out, sf_error *err);
/* Errors: SF_ERR_INVALID_ARGUMENT, SF_ERR_NOT_FOUND (account), SF_ERR_CONFLICT, NOMEM. */
SF_API sf_status sf_api_key_create(sf_fake *fake, const char *account_sid,
                                   const sf_api_key_params *params, sf_api_key_record *out,
                                   sf_error *err);

/* An API key by SID, secret included (for verifying tokens it signed).
 * Errors: SF_ERR_INVALID_ARGUMENT, SF_ERR_NOT_FOUND. */
SF_API sf_status sf_api_key_fetch(sf_fake *fake, const char *key_sid, sf_api_key_record *out,
                                  sf_error *err);

/* HTTP Basic credentials: user = account SID with its auth token, or API key SID with its
 * secret. On success copies the authenticated account SID into account_sid_out.
 * Errors: SF_ERR_AUTHENTICATE (401/20003), SF_ERR_INVALID_ARGUMENT. */
SF_API sf_status sf_authenticate(sf_fake *fake, const char *user, const char *password,
                                 char account_sid_out[SF_SID_SIZE], sf_error *err);

/* ---------------------------------------------------------------------------------------- */
/* Paging (same shape for services and streams)                                              */
/* ---------------------------------------------------------------------------------------- */

typedef struct sf_page_params {
    bool has_page_size;
    int64_t page_size; /* 1..limits.page_size_max, else 400/54454 */
    bool has_page;
    int64_t page;           /* >= 0; without a token selects page*page_size, else informational */
    const char *page_token; /* NULL or as issued in a page; else 400/54453 */
} sf_page_params;

/* Common part of a returned page. Items are in creation order. */
typedef struct sf_page_info {
    int64_t page; /* the page number this page answers as */
    uint32_t page_size;
    size_t count; /* records in this page */
    bool has_next;
    char next_token[SF_PAGE_TOKEN_SIZE];
    bool has_previous;
    char previous_token[SF_PAGE_TOKEN_SIZE];
} sf_page_info;

/* ---------------------------------------------------------------------------------------- */
/* Services                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef enum sf_opt_bool { SF_BOOL_UNSET = 0, SF_BOOL_FALSE, SF_BOOL_TRUE } sf_opt_bool;

typedef struct sf_service_params {
    const char *friendly_name; /* NULL: not given; 1..limits.friendly_name_max (54053) */
    const char *webhook_url;   /* NULL: not given; absolute http(s) URL (54051) */
    sf_opt_bool reachability_webhooks_enabled;
    sf_opt_bool acl_enabled;
    sf_opt_bool reachability_debouncing_enabled;
    sf_opt_bool webhooks_from_rest_enabled;
    bool has_reachability_debouncing_window;
    int64_t reachability_debouncing_window; /* ms, limits.debouncing_window_* (20001) */
} sf_service_params;

typedef struct sf_service_record {
    char sid[SF_SID_SIZE];
    char account_sid[SF_SID_SIZE];
    bool has_friendly_name;
    char friendly_name[SF_FRIENDLY_NAME_CAP * SF_UTF8_MAX + 1];
    bool has_webhook_url;
    char webhook_url[SF_WEBHOOK_URL_CAP + 1];
    bool webhooks_from_rest_enabled;
    bool reachability_webhooks_enabled;
    bool acl_enabled;
    bool reachability_debouncing_enabled;
    int64_t reachability_debouncing_window;
    sf_ms date_created_ms;
    sf_ms date_updated_ms;
} sf_service_record;

typedef struct sf_service_page {
    sf_page_info info;
    sf_service_record *records; /* info.count records, owned by the page */
} sf_service_page;

/* `params` NULL means no parameters. Errors: 54053, 54051, 20001 (window), NOMEM. */
SF_API sf_status sf_service_create(sf_fake *fake, const char *account_sid,
                                   const sf_service_params *params, sf_service_record *out,
                                   sf_error *err);
/* Errors: 404/20404. */
SF_API sf_status sf_service_fetch(sf_fake *fake, const char *account_sid, const char *service_sid,
                                  sf_service_record *out, sf_error *err);
/* Changes only the parameters given. Errors: 404, as create. */
SF_API sf_status sf_service_update(sf_fake *fake, const char *account_sid, const char *service_sid,
                                   const sf_service_params *params, sf_service_record *out,
                                   sf_error *err);
/* Removes the service and all its streams. Errors: 404. */
SF_API sf_status sf_service_remove(sf_fake *fake, const char *account_sid, const char *service_sid,
                                   sf_error *err);
/* The account's services in creation order. *out is freed with sf_service_page_free.
 * Errors: 54454, 54453, 20001 (negative page), NOMEM. */
SF_API sf_status sf_service_list(sf_fake *fake, const char *account_sid,
                                 const sf_page_params *params, sf_service_page **out,
                                 sf_error *err);
SF_API void sf_service_page_free(sf_fake *fake, sf_service_page *page);

/* ---------------------------------------------------------------------------------------- */
/* Streams                                                                                   */
/* ---------------------------------------------------------------------------------------- */

typedef struct sf_stream_params {
    const char *unique_name; /* NULL: none; 1..limits.unique_name_max, not SID-shaped */
    bool has_ttl;
    int64_t ttl; /* seconds, 0..limits.ttl_max_s; 0 = never expires */
} sf_stream_params;

typedef struct sf_stream_record {
    char sid[SF_SID_SIZE];
    char account_sid[SF_SID_SIZE];
    char service_sid[SF_SID_SIZE];
    bool has_unique_name;
    char unique_name[SF_UNIQUE_NAME_CAP * SF_UTF8_MAX + 1];
    bool has_date_expires;
    sf_ms date_expires_ms; /* exact deadline; Twilio shows it rounded down to the second */
    sf_ms date_created_ms;
    sf_ms date_updated_ms;
    char created_by[SF_CREATED_BY_SIZE]; /* "system" for streams created through REST/C */
} sf_stream_record;

typedef struct sf_stream_page {
    sf_page_info info;
    sf_stream_record *records; /* info.count records, owned by the page */
} sf_stream_page;

/* Errors: 404 (service), 54302, 54301, 54011, NOMEM. `params` NULL: no name, no TTL. */
SF_API sf_status sf_stream_create(sf_fake *fake, const char *account_sid, const char *service_sid,
                                  const sf_stream_params *params, sf_stream_record *out,
                                  sf_error *err);
/* Errors: 404. */
SF_API sf_status sf_stream_fetch(sf_fake *fake, const char *account_sid, const char *service_sid,
                                 const char *stream_id, sf_stream_record *out, sf_error *err);
/* Only the TTL can change (`unique_name` in params is ignored). The new deadline counts from
 * now; ttl 0 clears it. Errors: 404, 54010 (no ttl), 54011. */
SF_API sf_status sf_stream_update(sf_fake *fake, const char *account_sid, const char *service_sid,
                                  const char *stream_id, const sf_stream_params *params,
                                  sf_stream_record *out, sf_error *err);
/* Errors: 404. */
SF_API sf_status sf_stream_remove(sf_fake *fake, const char *account_sid, const char *service_sid,
                                  const char *stream_id, sf_error *err);
/* The service's live streams in creation order; the page token is a cursor, so streams
 * created, removed or expired between pages never make another appear twice or vanish.
 * Errors: 404 (service), 54454, 54453, 20001 (negative page), NOMEM. */
SF_API sf_status sf_stream_list(sf_fake *fake, const char *account_sid, const char *service_sid,
                                const sf_page_params *params, sf_stream_page **out, sf_error *err);
SF_API void sf_stream_page_free(sf_fake *fake, sf_stream_page *page);

/* ---------------------------------------------------------------------------------------- */
/* Messages                                                                                  */
/* ---------------------------------------------------------------------------------------- */

typedef struct sf_publish_params {
    const char *data;   /* JSON object text, as sent; NULL: 400/54251 */
    size_t data_len;    /* bytes of `data` (it need not be NUL-terminated). 0 with data not
                           NULL means strlen(data): `data` must then be NUL-terminated (so
                           {.data = "{}"} publishes "{}", and "" is 400/54008 as on the wire) */
    uint64_t client_id; /* 0: none; subscribers with this client_id see it as local */
} sf_publish_params;

typedef struct sf_message_record {
    char sid[SF_SID_SIZE];
    /* The published JSON with insignificant whitespace removed, key order kept. Borrowed:
     * valid until the next call on this fake. NUL-terminated. */
    const char *data;
    size_t data_len;
} sf_message_record;

/* Publishes an ephemeral message. Checks in this order: stream exists (404), Data present
 * (54251), size (413/54006), strict JSON object (54008), rate limit (429/54009).
 * A rejected publish takes no token. */
SF_API sf_status sf_stream_publish(sf_fake *fake, const char *account_sid, const char *service_sid,
                                   const char *stream_id, const sf_publish_params *params,
                                   sf_message_record *out, sf_error *err);

/* Rate-limit state of a stream at now. */
typedef struct sf_rate_state {
    uint32_t tokens;       /* whole publishes allowed right now */
    uint32_t capacity;     /* limits.publish_burst */
    bool limited;          /* false when the rate limit is lifted (rate 0) */
    sf_ms next_allowed_ms; /* earliest time the next publish is allowed (now if tokens>0) */
} sf_rate_state;

/* Errors: 404. */
SF_API sf_status sf_stream_rate_state(sf_fake *fake, const char *account_sid,
                                      const char *service_sid, const char *stream_id,
                                      sf_rate_state *out, sf_error *err);

/* ---------------------------------------------------------------------------------------- */
/* Subscribers and delivery                                                                  */
/* ---------------------------------------------------------------------------------------- */

/* Subscribers are numbered from 1 in the order they attach, per fake. */
typedef uint64_t sf_subscriber_id;

typedef enum sf_event_kind {
    SF_EVENT_MESSAGE_PUBLISHED = 1, /* a message reached this subscriber */
    SF_EVENT_REMOVED = 2            /* the stream was removed or expired; now detached */
} sf_event_kind;

typedef enum sf_removed_reason {
    SF_REMOVED_DELETED = 1, /* sf_stream_remove, or its service was removed */
    SF_REMOVED_EXPIRED = 2  /* its TTL ran out */
} sf_removed_reason;

/* What a subscriber sees. Every pointer is borrowed for the duration of the callback. */
typedef struct sf_event {
    sf_event_kind kind;
    sf_subscriber_id subscriber;
    const char *service_sid;
    const char *stream_sid;
    const char *message_sid; /* message_published only */
    const char *data;        /* message_published only: compact JSON, NUL-terminated */
    size_t data_len;
    bool is_local;            /* published by this subscriber's own client */
    bool is_duplicate;        /* a second copy made by a duplicate fault */
    sf_ms published_ms;       /* message_published only */
    sf_ms delivered_ms;       /* the fake's time at delivery */
    sf_removed_reason reason; /* removed only */
} sf_event;

/* What kind of client a subscriber is: a label that adapters set, shown by inspection. */
typedef enum sf_connection_kind {
    SF_CONNECTION_C = 0,   /* a C callback (sf_subscribe from code) */
    SF_CONNECTION_SSE,     /* the HTTP face's server-sent events stream */
    SF_CONNECTION_TWILSOCK /* a client SDK over WebSocket (Twilsock) */
} sf_connection_kind;

/* "c", "sse", "twilsock"; NULL when out of range. */
SF_API const char *sf_connection_kind_name(sf_connection_kind kind);

/* Called on the fake's thread, from inside the API call (or clock move) that caused the event.
 * It may call the API again (publish, subscribe, unsubscribe, remove...): events those calls
 * cause are queued and run, in (due time, sequence) order, before the outermost call returns.
 * Inside a callback the clock cannot be moved and the fake cannot be reset
 * (SF_ERR_INVALID_ARGUMENT); sf_fake_free there is deferred until the outermost call returns
 * (see sf_fake_free). */
typedef void (*sf_event_fn)(sf_fake *fake, const sf_event *event, void *user);

typedef struct sf_subscribe_params {
    sf_event_fn on_event; /* required */
    void *user;
    uint64_t client_id; /* 0: none. A publish with the same client_id is "local" to it. */
    bool skip_local;    /* local publishes are not delivered to it (as Twilio's client SDKs
                           raise their own event for what they publish) */
    sf_connection_kind connection; /* who is behind it, for inspection only (sf_subscriber_list):
                                      adapters set theirs; 0 is a C callback */
} sf_subscribe_params;

/* Attaches a subscriber to a stream (SID or unique name). It sees only messages published
 * after this call. Errors: 404, SF_ERR_INVALID_ARGUMENT (no callback), NOMEM. */
SF_API sf_status sf_subscribe(sf_fake *fake, const char *account_sid, const char *service_sid,
                              const char *stream_id, const sf_subscribe_params *params,
                              sf_subscriber_id *out, sf_error *err);
/* Detaches; deliveries still in flight to it are lost. Detaching twice is not an error.
 * The record stays readable (stats) while it is among the last 1,024 unsubscribed; after
 * that it is freed and its id is unknown (ids are never reused). One that a subscriber-scope
 * rule names is kept for the fake's life. Errors: SF_ERR_INVALID_ARGUMENT (unknown id). */
SF_API sf_status sf_unsubscribe(sf_fake *fake, sf_subscriber_id id, sf_error *err);

/* Why an adapter detached a subscriber; its `unsubscribed` journal entry names it. */
typedef enum sf_unsubscribe_reason {
    SF_UNSUBSCRIBE_REQUESTED = 0, /* the client asked or went away: no reason in the journal */
    SF_UNSUBSCRIBE_QUEUE_FULL,    /* "queue_full": the client stopped reading, and the events
                                     waiting for it passed the adapter's queue cap */
} sf_unsubscribe_reason;

/* sf_unsubscribe, with the reason recorded in the journal entry (JSON key "reason"). */
SF_API sf_status sf_unsubscribe_because(sf_fake *fake, sf_subscriber_id id,
                                        sf_unsubscribe_reason reason, sf_error *err);
/* "queue_full"; NULL for SF_UNSUBSCRIBE_REQUESTED and out of range. */
SF_API const char *sf_unsubscribe_reason_name(sf_unsubscribe_reason reason);

/* Partition: deliveries that fall due while held are parked, in order, until healed; then
 * they are delivered when it is healed (flush true) or discarded (flush false). */
SF_API sf_status sf_subscriber_hold(sf_fake *fake, sf_subscriber_id id, sf_error *err);
SF_API sf_status sf_subscriber_heal(sf_fake *fake, sf_subscriber_id id, bool flush, sf_error *err);
/* Disconnect: everything that would reach the subscriber until it reconnects is lost, as in
 * Twilio (nothing is replayed after a reconnect). */
SF_API sf_status sf_subscriber_disconnect(sf_fake *fake, sf_subscriber_id id, sf_error *err);
SF_API sf_status sf_subscriber_reconnect(sf_fake *fake, sf_subscriber_id id, sf_error *err);

typedef struct sf_subscriber_stats {
    char stream_sid[SF_SID_SIZE];
    bool attached, held, connected;
    uint64_t delivered;            /* message_published events, duplicates included */
    uint64_t duplicated;           /* of which duplicate copies */
    uint64_t dropped;              /* dropped by a fault rule */
    uint64_t lost;                 /* lost to a disconnect, a detach or a discarded hold */
    uint64_t in_flight;            /* queued (delayed) deliveries */
    uint64_t parked;               /* held deliveries waiting for a heal */
    char account_sid[SF_SID_SIZE]; /* its stream's account; "" once sf_account_reset of that
                                      account forgot it */
} sf_subscriber_stats;

SF_API sf_status sf_subscriber_stats_get(sf_fake *fake, sf_subscriber_id id,
                                         sf_subscriber_stats *out, sf_error *err);

typedef struct sf_stream_stats {
    uint64_t messages_published;
    uint64_t subscribers; /* attached now */
    sf_rate_state rate;
} sf_stream_stats;

/* The SID of the account's stream named by SID or unique name (stream_id), in `service_sid`,
 * or (NULL) in whichever of the account's services has it; with every_account, in any
 * account's (for a caller with fake-wide powers). No API call is made (nothing is journaled
 * or injected). For adapters that take a stream without its service, such as a stream fault
 * rule's target. Errors: SF_ERR_NOT_FOUND (no such stream of the account),
 * SF_ERR_CONFLICT (service_sid NULL and the unique name is in several services),
 * SF_ERR_INVALID_ARGUMENT (NULL fake, stream_id or sid_out). */
SF_API sf_status sf_stream_lookup(sf_fake *fake, const char *account_sid, bool every_account,
                                  const char *service_sid, const char *stream_id,
                                  char sid_out[SF_SID_SIZE], sf_error *err);

/* Errors: 404. */
SF_API sf_status sf_stream_stats_get(sf_fake *fake, const char *account_sid,
                                     const char *service_sid, const char *stream_id,
                                     sf_stream_stats *out, sf_error *err);

/* Manual clock only: moves the clock to each pending delivery in turn until none is pending
 * (expiries that fall due on the way run too; later expiries stay queued). Parked (held)
 * deliveries wait for a heal and do not count. Returns the number of events run. */
SF_API size_t sf_run_until_idle(sf_fake *fake);

/* Deliveries waiting in the queue (delayed ones; parked ones are not queued). */
SF_API size_t sf_pending_deliveries(const sf_fake *fake);

/* ---------------------------------------------------------------------------------------- */
/* Faults                                                                                    */
/* ---------------------------------------------------------------------------------------- */

typedef uint32_t sf_fault_id;

typedef enum sf_fault_scope {
    SF_SCOPE_FAKE = 0,  /* every delivery / every stream */
    SF_SCOPE_STREAM,    /* deliveries of one stream (by SID) */
    SF_SCOPE_SUBSCRIBER /* deliveries to one subscriber */
} sf_fault_scope;

/* One rule may combine several effects. Random effects draw from a keyed hash of
 * (seed, rule, stream, message, subscriber), so adding a subscriber or another rule never
 * changes what a rule decides for the others. */
typedef struct sf_fault_params {
    sf_fault_scope scope;
    const char *stream_sid;      /* SF_SCOPE_STREAM */
    sf_subscriber_id subscriber; /* SF_SCOPE_SUBSCRIBER */
    double drop_rate;            /* 0..1: probability a delivery is dropped */
    double duplicate_rate;       /* 0..1: probability a second copy is delivered */
    sf_ms delay_ms;              /* >= 0: every delivery arrives this much later */
    sf_ms jitter_ms;             /* >= 0: plus a uniform 0..jitter_ms (this reorders) */
    uint32_t drop_next;          /* drop the next N deliveries in scope */
    sf_ms expiry_lag_ms;         /* fake/stream scope: streams vanish this long after their
                                    date_expires (Twilio can be minutes late) */
    const char *account_sid;     /* NULL: the rule acts on every account. Else it acts only
                                    on that account's streams and subscribers (a subscriber
                                    scope needs one of its subscribers), and goes with
                                    sf_account_reset of that account */
} sf_fault_params;

typedef struct sf_fault_info {
    sf_fault_id id;
    sf_fault_params params; /* params.stream_sid points at stream_sid below */
    char stream_sid[SF_SID_SIZE];
    uint32_t drop_next_left;
    uint64_t hits;                 /* deliveries (or expiries) this rule changed */
    char account_sid[SF_SID_SIZE]; /* "" for a rule of every account; params.account_sid
                                      points here (or is NULL) */
} sf_fault_info;

/* Errors: SF_ERR_INVALID_ARGUMENT (rates outside 0..1, negative times, missing target, a
 * subscriber scope with expiry lag, an unknown account_sid or a subscriber of another
 * account, both reported as "unknown"), NOMEM. Rule ids start at 1 and are never reused. */
SF_API sf_status sf_fault_add(sf_fake *fake, const sf_fault_params *params, sf_fault_id *out,
                              sf_error *err);
/* Errors: SF_ERR_INVALID_ARGUMENT (unknown id). */
SF_API sf_status sf_fault_remove(sf_fake *fake, sf_fault_id id, sf_error *err);
/* Copies up to `cap` rules in id order into out; returns how many rules exist. */
SF_API size_t sf_fault_list(sf_fake *fake, sf_fault_info *out, size_t cap);

/* The API operations, for error injection and the journal: X(name, wire name, success HTTP). */
#define SF_OP_MAP(X)                                                                               \
    X(SERVICE_CREATE, "service.create", 201)                                                       \
    X(SERVICE_FETCH, "service.fetch", 200)                                                         \
    X(SERVICE_UPDATE, "service.update", 200)                                                       \
    X(SERVICE_REMOVE, "service.remove", 204)                                                       \
    X(SERVICE_LIST, "service.list", 200)                                                           \
    X(STREAM_CREATE, "stream.create", 201)                                                         \
    X(STREAM_FETCH, "stream.fetch", 200)                                                           \
    X(STREAM_UPDATE, "stream.update", 200)                                                         \
    X(STREAM_REMOVE, "stream.remove", 204)                                                         \
    X(STREAM_LIST, "stream.list", 200)                                                             \
    X(MESSAGE_CREATE, "message.create", 201)

typedef enum sf_op {
#define SF__OP_ENUM(name, wire, http) SF_OP_##name,
    SF_OP_MAP(SF__OP_ENUM)
#undef SF__OP_ENUM
        SF_OP_COUNT
} sf_op;

SF_API const char *sf_op_name(sf_op op); /* "stream.create"; NULL when out of range */
SF_API bool sf_op_parse(const char *name, sf_op *out);

/* The next `count` calls of `op` fail with this Twilio error. With after_apply the call's
 * change is made first (the stream exists, the message went out) and then the error is
 * reported: the ambiguous failure that retry logic must survive. Injections of one op are
 * used in the order they were added. The error reported has status SF_ERR_INJECTED. */
typedef struct sf_error_injection {
    sf_op op;
    uint32_t count;      /* >= 1 */
    int http_status;     /* 400..599 */
    int code;            /* Twilio code, >= 0 */
    const char *message; /* NULL: "Injected failure" */
    bool after_apply;
    const char *account_sid; /* NULL: any call of `op`. Else only calls made as that account
                                (a call's NULL account_sid is the default account); it goes
                                with sf_account_reset of that account. Errors: unknown
                                account: SF_ERR_INVALID_ARGUMENT */
} sf_error_injection;

SF_API sf_status sf_inject_error(sf_fake *fake, const sf_error_injection *inj, sf_error *err);
/* Forgets every injection not yet used. */
SF_API void sf_inject_clear(sf_fake *fake);

/* ---------------------------------------------------------------------------------------- */
/* Journal: every API call and every delivery fate, in order                                 */
/* ---------------------------------------------------------------------------------------- */

#define SF_JOURNAL_KIND_MAP(X)                                                                     \
    X(API, "api")                                                                                  \
    X(SUBSCRIBED, "subscribed")                                                                    \
    X(UNSUBSCRIBED, "unsubscribed")                                                                \
    X(DELIVERED, "delivered")                                                                      \
    X(DROPPED, "dropped")                                                                          \
    X(DELAYED, "delayed")                                                                          \
    X(DUPLICATED, "duplicated")                                                                    \
    X(HELD, "held")                                                                                \
    X(LOST, "lost")                                                                                \
    X(DISCARDED, "discarded")                                                                      \
    X(EXPIRED, "expired")                                                                          \
    X(REMOVED, "removed")                                                                          \
    X(WARNING, "warning")                                                                          \
    X(REFUSED, "refused")                                                                          \
    X(CALL, "call")

typedef enum sf_journal_kind {
#define SF__JOURNAL_ENUM(name, wire) SF_JOURNAL_##name,
    SF_JOURNAL_KIND_MAP(SF__JOURNAL_ENUM)
#undef SF__JOURNAL_ENUM
        SF_JOURNAL_KIND_COUNT
} sf_journal_kind;

SF_API const char *sf_journal_kind_name(sf_journal_kind kind); /* "delivered" */

/* Why an HTTP request was refused before it reached a route's operation (journal kind
 * `refused`, key "reason"): X(name, wire name). */
#define SF_REFUSAL_MAP(X)                                                                          \
    X(NONE, "none")                                                                                \
    X(BAD_TARGET, "bad_target")               /* not "/...", or longer than the cap */             \
    X(BODY_TOO_LARGE, "body_too_large")       /* 413 */                                            \
    X(HEADERS_TOO_LARGE, "headers_too_large") /* 431 */                                            \
    X(MALFORMED_REQUEST, "malformed_request") /* two Content-Lengths, HTTP/1.1 without Host */     \
    X(UNAUTHENTICATED, "unauthenticated")     /* 401: no, malformed or wrong credentials */        \
    X(BAD_PATH, "bad_path")                   /* a path segment that does not percent-decode */    \
    X(BAD_FORM, "bad_form")                   /* a form body or query that does not parse */       \
    X(ADMIN_OUTSIDE_CONTROL, "admin_outside_control") /* --admin credential on /v1 */              \
    X(METHOD_NOT_ALLOWED, "method_not_allowed")       /* 405 */                                    \
    X(BAD_WEBSOCKET_HANDSHAKE, "bad_websocket_handshake")

typedef enum sf_refusal {
#define SF__REFUSAL_ENUM(name, wire) SF_REFUSAL_##name,
    SF_REFUSAL_MAP(SF__REFUSAL_ENUM)
#undef SF__REFUSAL_ENUM
        SF_REFUSAL_COUNT
} sf_refusal;

SF_API const char *sf_refusal_name(sf_refusal reason); /* "bad_form"; NULL when out of range */

typedef struct sf_journal_entry {
    uint64_t seq; /* 1, 2, ... for the fake's life (reset starts over) */
    sf_ms t_ms;   /* the fake's time when it happened */
    sf_journal_kind kind;
    sf_op op;                      /* api: the operation */
    int status;                    /* api: HTTP status of the result (201, 404, ...) */
    int code;                      /* api: Twilio code, 0 on success */
    bool injected;                 /* api: the result came from sf_inject_error */
    char service_sid[SF_SID_SIZE]; /* "" when it does not apply */
    char stream_sid[SF_SID_SIZE];
    char message_sid[SF_SID_SIZE];
    sf_subscriber_id subscriber;   /* 0 when it does not apply */
    sf_fault_id rule;              /* the fault rule that caused it, 0 for none */
    sf_ms until_ms;                /* delayed/duplicated: when it will arrive;
                                      delivered: when it was published */
    bool duplicate;                /* delivery fates of a duplicate copy */
    char account_sid[SF_SID_SIZE]; /* whose entry: the calling account (api), the stream's
                                      account (the rest); "" for a call naming an unknown
                                      account. Not part of the JSON form. */
    sf_unsubscribe_reason reason;  /* unsubscribed: why (key "reason" unless REQUESTED) */
    /* warning: the text (sf_warning.message; key "warning"). The text of the latest 256
     * warnings is kept; an older entry reads "(text no longer kept)". op is the call's. */
    char warning[SF_WARNING_SIZE];
    sf_refusal refusal; /* refused: why (key "reason") */
    char method[8];     /* refused: the request's method ("GET", ...; "OTHER" for
                           one not listed in sf_journal_request_refused) */
    const char *call;   /* call (recorded calls only): its name, "clock.set";
                           NULL for other kinds */
} sf_journal_entry;

/* Select entries: NULL/0 fields match anything. kinds is a bit set of (1u << kind). */
typedef struct sf_journal_filter {
    const char *stream_sid;
    sf_subscriber_id subscriber;
    uint32_t kinds;
    const char *account_sid; /* only that account's entries (see sf_journal_entry) */
} sf_journal_filter;

/* Entries held (at most options.journal_capacity) and entries overwritten so far. */
SF_API size_t sf_journal_count(const sf_fake *fake);
SF_API uint64_t sf_journal_overwritten(const sf_fake *fake);

/* Iterates the held entries oldest first. Start with *cursor = 0; returns false at the end. */
SF_API bool sf_journal_next(const sf_fake *fake, const sf_journal_filter *filter, uint64_t *cursor,
                            sf_journal_entry *out);

/* The cursor for sf_journal_next that starts at the first held entry whose seq is greater
 * than `seq` (0: the oldest held entry), for reading the journal page by page: pass the seq
 * of the last entry read. O(log n). */
SF_API uint64_t sf_journal_cursor_after(const sf_fake *fake, uint64_t seq);

/* One entry as one JSON object (no newline), keys in a fixed order:
 * seq, t_ms, time, kind, op, method, status, code, injected, service_sid, stream_sid,
 * message_sid, subscriber_id, rule, until_ms, duplicate, reason, warning (keys that do not
 * apply are left out; a warning entry has op, the SIDs it names and warning). "time" is t_ms as UTC
 * ISO 8601 with milliseconds ("2015-07-30T20:00:00.000Z"), for people; t_ms stays the number to
 * compute with. snprintf semantics: returns the length it needs. */
SF_API size_t sf_journal_entry_json(const sf_journal_entry *entry, char *buf, size_t cap);

/* The selected entries as JSON Lines. Errors: SF_ERR_INVALID_ARGUMENT (write failed). */
SF_API sf_status sf_journal_write(const sf_fake *fake, const sf_journal_filter *filter, FILE *out,
                                  sf_error *err);
/* The same into a buffer; snprintf semantics (returns the bytes needed, without the NUL). */
SF_API size_t sf_journal_render(const sf_fake *fake, const sf_journal_filter *filter, char *buf,
                                size_t cap);
/* Empties the journal (sequence numbers keep counting). */
SF_API void sf_journal_clear(sf_fake *fake);

/* Records a call of `op` that an adapter refused before it reached the fake, such as the HTTP
 * face's parameter errors (`Ttl=abc`): an `api` entry at the fake's time with the HTTP status
 * and Twilio code of `status` and the service and stream SIDs given (when they are SIDs), so
 * the journal shows every call. Nothing else happens: no state changes and no injected error
 * is used up. Does nothing for SF_OK or an op out of range. */
SF_API void sf_journal_refused(sf_fake *fake, sf_op op, const char *service_sid,
                               const char *stream_id, sf_status status);
/* The same for a call made as `account_sid` (NULL: the default account), so that the entry
 * is that account's (sf_journal_filter.account_sid). */
SF_API void sf_journal_refused_as(sf_fake *fake, const char *account_sid, sf_op op,
                                  const char *service_sid, const char *stream_id, sf_status status);

/* Reports a warning for a call of `op` made as `account_sid` (NULL: the default account), as
 * an adapter does for what only it can see (the HTTP face: unknown form parameters, a JSON
 * body): a `warning` journal entry at the fake's time naming the service and stream given
 * (when they are SIDs), then sf_options.on_warning. `message` is kept up to SF_WARNING_SIZE-1
 * bytes, each byte outside printable ASCII shown as '?'. Returns SF_OK, or with
 * strict_params SF_ERR_INVALID_PARAMETER (400/20001, "Invalid parameter: <message> (strict
 * mode)" in err): the adapter then refuses the call. SF_ERR_INVALID_ARGUMENT: NULL fake or
 * message, op out of range. */
SF_API sf_status sf_warn(sf_fake *fake, const char *account_sid, sf_op op, const char *service_sid,
                         const char *stream_id, const char *param, const char *suggestion,
                         const char *message, sf_error *err);

/* Records an HTTP request refused before it reached a route's operation (a malformed form
 * body, a body over the cap, missing or wrong credentials, a method the resource does not
 * take, ...): a `refused` entry at the fake's time with the request's method (GET, POST,
 * DELETE, PUT, PATCH, HEAD or OPTIONS; "OTHER" for any other), the HTTP status and Twilio code
 * of `status` and `reason`. It is the entry of account_sid when that is an account of the
 * fake, else of no account (only fake-wide journal readers see it). Nothing else happens. Does
 * nothing for SF_OK or a reason out of range. */
SF_API void sf_journal_request_refused(sf_fake *fake, const char *account_sid, const char *method,
                                       sf_status status, sf_refusal reason);

/* ---------------------------------------------------------------------------------------- */
/* Checks shared with the HTTP face                                                          */
/* ---------------------------------------------------------------------------------------- */

/* true when `s` is ^<prefix>[0-9a-fA-F]{32}$ (prefix: "TO", "IS", ...). */
SF_API bool sf_sid_is(const char *s, const char *prefix);
/* Whether s matches Twilio's SID pattern [A-Z]{2}[a-f0-9]{32} (any prefix): a path segment
 * of this shape addresses by SID, any other by unique name. */
SF_API bool sf_sid_pattern(const char *s);

/* Strict RFC 8259 check that text[0..len) is one JSON object; on success writes its compact
 * form (insignificant whitespace removed, key order kept) to out (capacity out_cap >= len+1)
 * and its length to *out_len. Errors: SF_ERR_DATA_INVALID, SF_ERR_INVALID_ARGUMENT. */
SF_API sf_status sf_json_compact_object(const char *text, size_t len, char *out, size_t out_cap,
                                        size_t *out_len);

/* ---------------------------------------------------------------------------------------- */
/* Inspection: read-only views for dashboards and the control API                            */
/* ---------------------------------------------------------------------------------------- */

/* Unlike the API calls above, these never journal, never sample the clock and never run
 * anything due: calling them changes nothing a test can see. Times are at the fake's current
 * time as last sampled (sf_inspect_now). Everything is in creation order; each takes `skip`
 * (or `after`) and a capacity, so a caller reads as much as it wants, page by page. */

/* The fake's time as last sampled by a call (for a manual clock: the clock). */
SF_API sf_ms sf_inspect_now(const sf_fake *fake);

/* Copies the SIDs of accounts [skip, skip+cap) in creation order (the default account
 * first) into out; returns how many accounts exist. */
SF_API size_t sf_inspect_accounts(const sf_fake *fake, size_t skip, char (*out)[SF_SID_SIZE],
                                  size_t cap);

/* Copies the services [skip, skip+cap) of an account (NULL: the default account) in creation
 * order into out; returns how many it has (0 for an unknown account). */
SF_API size_t sf_inspect_services(const sf_fake *fake, const char *account_sid, size_t skip,
                                  sf_service_record *out, size_t cap);

typedef struct sf_stream_view {
    sf_stream_record record;
    sf_rate_state rate; /* at sf_inspect_now */
    uint64_t messages_published;
    uint64_t subscribers; /* attached now */
} sf_stream_view;

/* Copies the live streams [skip, skip+cap) of a service (by SID, any account's) in creation
 * order into out; returns how many it has (0 for an unknown service). */
SF_API size_t sf_inspect_streams(const sf_fake *fake, const char *service_sid, size_t skip,
                                 sf_stream_view *out, size_t cap);

typedef struct sf_subscriber_info {
    sf_subscriber_id id;
    uint64_t client_id; /* as subscribed; 0 none */
    sf_connection_kind connection;
    sf_subscriber_stats stats; /* as sf_subscriber_stats_get */
} sf_subscriber_info;

/* Which subscribers sf_subscriber_list reports: NULL/0 fields match anything. */
typedef struct sf_subscriber_filter {
    const char *account_sid; /* only its stream's account's (a forgotten one: none's) */
    const char *stream_sid;  /* only those of this stream (attached or detached) */
    sf_subscriber_id after;  /* only ids greater than this: the cursor for the next page */
} sf_subscriber_filter;

/* Copies up to `cap` of the subscriber records the fake keeps (every attached one and the
 * last unsubscribed ones, see sf_unsubscribe) in id order into out; returns how many it
 * copied. A page is full when that equals cap: read on with after = the last id. */
SF_API size_t sf_subscriber_list(const sf_fake *fake, const sf_subscriber_filter *filter,
                                 sf_subscriber_info *out, size_t cap);

typedef struct sf_injection_info {
    sf_op op;
    uint32_t count_left; /* calls it will still fail */
    int http_status;
    int code;
    char message[SF_ERROR_MESSAGE_SIZE];
    bool after_apply;
    char account_sid[SF_SID_SIZE]; /* "" for an injection of every account */
} sf_injection_info;

/* Copies the pending injected errors [skip, skip+cap) into out, by op (SF_OP_MAP order), then
 * in the order they are used; returns how many are pending. */
SF_API size_t sf_inspect_injections(const sf_fake *fake, size_t skip, sf_injection_info *out,
                                    size_t cap);

/* ---------------------------------------------------------------------------------------- */
/* The delivery timeline: a journal as a picture                                             */
/* ---------------------------------------------------------------------------------------- */

/* Draws a journal (JSON Lines, as sf_journal_write, sf_journal_entry_json or the control
 * API's GET /_syncfake/journal give it) as an SVG image: a row of publishes and one lane per
 * subscriber on the fake-time axis (one block of columns per distinct time, in journal order,
 * not to scale), each message's fate per subscriber (delivered, delayed until t, duplicated,
 * dropped by rule N, held, discarded at heal, lost, missed because it joined later,
 * unsubscribed, removed, stream expired), each mark with a <title> tooltip quoting its
 * journal entry. The same journal gives the same bytes. Lines that are not one JSON object
 * are counted and skipped; unknown keys and kinds are ignored. Bounded: at most 64 lanes,
 * 1,000 columns, 2,000 messages and 4,000 marks (what is cut is said in the picture), lines
 * up to 64 KB, 480 bytes of each entry quoted. Returns a NUL-terminated string to release
 * with sf_timeline_free (its length in *out_len when not NULL); NULL only when out of
 * memory. Needs no fake: the journal may come from a file of another run. */
SF_API char *sf_timeline_svg(const char *journal, size_t len, size_t *out_len);
SF_API void sf_timeline_free(char *svg);

/* Recorded calls: the journal as a reproducible case (syncfake_replay.h replays it)         */
/* ---------------------------------------------------------------------------------------- */

/* With options.journal_params (or sf_journal_record_calls) every call that can change what
 * the fake answers is recorded with its parameters, so that the journal can be re-executed:
 *   - `api` entries (the REST operations and sf_journal_refused*) keep their parameters;
 *   - a `call` entry (key "call" names it) is journaled at the END of each other call:
 *     record.start (the options, when recording starts: sf_fake_new, sf_fake_reset or
 *     sf_journal_record_calls), clock.set (sf_clock_set and sf_clock_advance),
 *     clock.sample (a callback or system clock's reading that ran due events), run.until_idle,
 *     fault.add, fault.remove, inject.error, inject.clear, subscribe, unsubscribe,
 *     subscriber.hold/heal/disconnect/reconnect, account.create, api_key.create,
 *     account.reset.
 * Reads that change nothing (fetches of stats, lists of rules) are not recorded. The
 * parameters are kept beside the journal, at most journal_params_bytes in all (default
 * 8 MiB): when a new record does not fit, the oldest records go, and their entries say
 * "params_dropped":true. A parameter string longer than SF_JOURNAL_PARAM_STRING_MAX bytes
 * (or message data longer than limits.max_data_bytes) is recorded as its length only: the
 * call's answer depends only on that length. Off by default: recording costs an allocation
 * and a formatting pass per call. */
#define SF_JOURNAL_PARAMS_BYTES_DEFAULT ((size_t)8 * 1024 * 1024)
#define SF_JOURNAL_PARAM_STRING_MAX 8192

/* Turns recording on (a record.start entry is journaled at once) or off. Not inside a
 * callback. Errors: SF_ERR_INVALID_ARGUMENT, SF_ERR_NOMEM. */
SF_API sf_status sf_journal_record_calls(sf_fake *fake, bool on, sf_error *err);
SF_API bool sf_journal_recording(const sf_fake *fake);
/* Recorded parameters dropped so far (the byte cap, or no memory). */
SF_API uint64_t sf_journal_params_dropped(const sf_fake *fake);

/* The recorded parameters of the entry `seq` as one JSON object, keys in a fixed order
 * (docs/tools.md "Replaying"); snprintf semantics. Returns 0 (and writes "") when the entry
 * has none. */
SF_API size_t sf_journal_entry_params(const sf_fake *fake, uint64_t seq, char *buf, size_t cap);
/* sf_journal_entry_json plus the entry's parameters: `"params":{...}` as the last key, or
 * `"params_dropped":true` when they were recorded but dropped. This is the `?data=1` form of
 * GET /_syncfake/journal. snprintf semantics. */
SF_API size_t sf_journal_entry_json_data(const sf_fake *fake, const sf_journal_entry *entry,
                                         char *buf, size_t cap);
/* sf_journal_render / sf_journal_write in that form. */
SF_API size_t sf_journal_render_data(const sf_fake *fake, const sf_journal_filter *filter,
                                     char *buf, size_t cap);
SF_API sf_status sf_journal_write_data(const sf_fake *fake, const sf_journal_filter *filter,
                                       FILE *out, sf_error *err);

#ifdef __cplusplus
}
#endif

#endif /* SYNCFAKE_H */
