/* SPDX-License-Identifier: MIT */
/* server_flags.c: see server_flags.h. The rules here only describe what server_main.c
 * accepts; they decide nothing except the --limit names. */
#include "server_flags.h"
#include "cors.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- --limit ---- */

typedef struct limit_row {
    const char *name;
    size_t offset, size; /* the field in sf_limits */
    const char *note;    /* after the default in --help, or "" */
} limit_row;

/* clang-format off */
#define LIMIT_ROW(field, note) \
    {#field, offsetof(sf_limits, field), sizeof(((sf_limits *)0)->field), note}
/* clang-format on */
static const limit_row limit_rows[] = {
    LIMIT_ROW(max_data_bytes, "bytes of a message's Data"),
    LIMIT_ROW(publish_rate_per_s, "publishes per second per stream; 0 lifts it"),
    LIMIT_ROW(publish_burst, "publishes in a burst per stream"),
    LIMIT_ROW(unique_name_max, "characters of a UniqueName"),
    LIMIT_ROW(ttl_max_s, "largest Ttl"),
    LIMIT_ROW(page_size_default, "page size when none is asked for"),
    LIMIT_ROW(page_size_max, "largest PageSize"),
    LIMIT_ROW(friendly_name_max, "characters of a FriendlyName"),
    LIMIT_ROW(webhook_url_max, "characters of a WebhookUrl"),
};
#undef LIMIT_ROW
#define LIMIT_COUNT (sizeof limit_rows / sizeof limit_rows[0])

static unsigned long long limit_get(const sf_limits *l, const limit_row *row)
{
    const char *p = (const char *)l + row->offset;
    if (row->size == sizeof(uint32_t)) {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint64_t v; /* size_t and int64_t fields: 8 bytes on every supported target */
    memcpy(&v, p, sizeof v);
    return v;
}

static void limit_put(sf_limits *l, const limit_row *row, unsigned long long v)
{
    char *p = (char *)l + row->offset;
    if (row->size == sizeof(uint32_t)) {
        uint32_t x = (uint32_t)v;
        memcpy(p, &x, sizeof x);
    } else {
        uint64_t x = v;
        memcpy(p, &x, sizeof x);
    }
}

_Static_assert(sizeof(size_t) == 8 && sizeof(int64_t) == 8, "limit fields are 4 or 8 bytes");

static const limit_row *find_limit(const char *name, size_t len)
{
    for (size_t i = 0; i < LIMIT_COUNT; i++)
        if (strlen(limit_rows[i].name) == len && strncmp(limit_rows[i].name, name, len) == 0)
            return &limit_rows[i];
    return NULL;
}

/* A decimal integer 0..UINT32_MAX, nothing else (no sign, no spaces). */
static bool limit_value(const char *s, unsigned long long *out)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || v > UINT32_MAX)
        return false;
    *out = v;
    return true;
}

bool sf_flags_set_limit(sf_limits *limits, const char *arg)
{
    const char *eq = arg ? strchr(arg, '=') : NULL;
    unsigned long long v;
    if (!eq)
        return false;
    const limit_row *row = find_limit(arg, (size_t)(eq - arg));
    if (!row || !limit_value(eq + 1, &v))
        return false;
    limit_put(limits, row, v);
    return true;
}

void sf_flags_print_limits(FILE *out)
{
    sf_limits defaults;
    sf_limits_init(&defaults);
    for (size_t i = 0; i < LIMIT_COUNT; i++)
        fprintf(out, "                             %s=%llu: %s\n", limit_rows[i].name,
                limit_get(&defaults, &limit_rows[i]), limit_rows[i].note);
}

/* ---- explaining a refused option ---- */

typedef struct flag_row {
    const char *name;
    const char *allowed; /* what its value may be */
} flag_row;

static const flag_row flag_rows[] = {
    {"--host", "an IPv4 address such as 127.0.0.1"},
    {"--port", "an integer 0..65535 (0 picks a free port)"},
    {"--seed", "an integer 0..18446744073709551615"},
    {"--clock", "wall or manual"},
    {"--account-sid", "an account SID AC..."},
    {"--auth-token", "the account's auth token"},
    {"--account", "AC...:TOKEN, at most 32 times"},
    {"--api-key", "SK...:SECRET:AC..., at most 32 times"},
    {"--admin", "USER:TOKEN, both not empty"},
    {"--base-url", "a URL such as http://127.0.0.1:8787"},
    {"--limit", "NAME=VALUE with VALUE an integer 0..4294967295"},
    {"--sse-queue-max", "an integer of bytes >= 1"},
    {"--max-connections", "an integer 1..1000000"},
    {"--request-timeout-ms", "an integer 1..3600000"},
    {"--instance-id", "1-64 characters of A-Z a-z 0-9 . _ -"},
    {"--cors-origin", "http[s]://HOST, http[s]://HOST:PORT, http[s]://HOST:* or none, at most "
                      "16 times"},
    {"--log-requests", "nothing (stderr) or =FILE"},
    {"--log-libmicrohttpd", "nothing"},
};
#define FLAG_COUNT (sizeof flag_rows / sizeof flag_rows[0])

/* Edit distance of two short strings, for "did you mean"; longer ones count as far apart. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t above = row[j];
            size_t best = diagonal + (a[i - 1] != b[j - 1]);
            if (above + 1 < best)
                best = above + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diagonal = above;
        }
    }
    return row[lb];
}

/* " (did you mean X?)" when one of `names` is within two edits of `given`, else "". */
static void suggest(FILE *out, const char *given, const char *const *names, size_t count)
{
    const char *best = NULL;
    size_t best_d = 3;
    for (size_t i = 0; i < count; i++) {
        size_t d = distance(given, names[i]);
        if (d < best_d) {
            best_d = d;
            best = names[i];
        }
    }
    if (best)
        fprintf(out, " (did you mean %s?)", best);
}

static const flag_row *find_flag(const char *name)
{
    for (size_t i = 0; i < FLAG_COUNT; i++)
        if (strcmp(flag_rows[i].name, name) == 0)
            return &flag_rows[i];
    return NULL;
}

static void explain_limit(FILE *out, const char *value)
{
    const char *eq = strchr(value, '=');
    if (!eq) {
        fprintf(out, "syncfake-server: --limit \"%s\": allowed: NAME=VALUE\n", value);
        return;
    }
    size_t len = (size_t)(eq - value);
    if (!find_limit(value, len)) {
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), value);
        const char *names[LIMIT_COUNT];
        fprintf(out, "syncfake-server: --limit %s: unknown limit \"%s\"", value, name);
        for (size_t i = 0; i < LIMIT_COUNT; i++)
            names[i] = limit_rows[i].name;
        suggest(out, name, names, LIMIT_COUNT);
        fprintf(out, "; allowed:");
        for (size_t i = 0; i < LIMIT_COUNT; i++)
            fprintf(out, "%s %s", i ? "," : "", limit_rows[i].name);
        fprintf(out, "\n");
        return;
    }
    fprintf(out,
            "syncfake-server: --limit %s: \"%s\" is not allowed; allowed: an integer "
            "0..4294967295\n",
            value, eq + 1);
}

static void explain_unknown(FILE *out, const char *option)
{
    const char *names[FLAG_COUNT + 1];
    for (size_t i = 0; i < FLAG_COUNT; i++)
        names[i] = flag_rows[i].name;
    names[FLAG_COUNT] = "--help";
    fprintf(out, "syncfake-server: unknown option \"%s\"", option);
    suggest(out, option, names, FLAG_COUNT + 1);
    fprintf(out, "\n");
}

void sf_flags_explain(FILE *out, const char *option, const char *value)
{
    const flag_row *flag = find_flag(option);
    if (!flag) {
        explain_unknown(out, option);
    } else if (!value) {
        fprintf(out, "syncfake-server: %s needs a value: %s\n", option, flag->allowed);
    } else if (strcmp(option, "--limit") == 0) {
        explain_limit(out, value);
    } else if (strcmp(option, "--clock") == 0) {
        static const char *const clocks[] = {"wall", "manual"};
        fprintf(out, "syncfake-server: --clock %s: unknown clock \"%s\"", value, value);
        suggest(out, value, clocks, 2);
        fprintf(out, "; allowed: wall (the server's default) or manual\n");
    } else {
        fprintf(out, "syncfake-server: %s \"%s\" is not allowed; allowed: %s\n", option, value,
                flag->allowed);
    }
    fprintf(out, "syncfake-server --help lists every option and its default.\n");
}
