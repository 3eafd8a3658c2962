/* SPDX-License-Identifier: MIT */
/* test_http_golden.c: golden HTTP exchanges for the in-process dispatcher (sf_http_dispatch).
 *
 * Every directory under tests/http_cases/ is one case, run on one fresh fake: its exchanges
 * NN.request / NN.response run in sorted order. CMake registers one ctest per case,
 * http_golden/<dir>, which runs `test_http_golden <dir>`; a failure prints the differences.
 * Files of an exchange NN:
 *
 *   NN.request   "METHOD TARGET", then "Name: value" header lines, a blank line, the body.
 *   NN.response  the status code, then the headers to check, a blank line, the exact body.
 *                Content-Type, Allow and Syncfake-Warning are always checked: a header that
 *                is not listed must be absent (no content type / empty Allow / no warning). A Date
 * line, when given, is checked too; every response must carry the RFC 7231 date of the fake clock
 *                anyway.
 *   NN.clock     (optional) ms to advance the manual clock before the exchange.
 *   NN.repeat    (optional) send the request this many times; only the last answer is checked.
 *
 * In request and response files exactly one final "\n" is stripped, if present.
 *
 * The fake: seed 1, manual clock, account AC...0001 (token "secret-token"), plus API key
 * SK...0001 (secret "key-secret") of that account and a second account AC...0002 (token
 * "other-token").
 *
 * Regenerating: with SF_HTTP_GOLDEN_WRITE=1 in the environment, a missing NN.response is
 * written from the dispatcher's answer (existing files are never overwritten). Review every
 * written file against docs/behaviour.md (the contract) before keeping it. SF_HTTP_CASES_DIR
 * overrides the location of the cases (default: http_cases next to this source file).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <time.h>

#include "calls.h"
#include "codec.h"
#include "syncfake.h"
#include "syncfake_http.h"

#define ACCOUNT_SID "AC00000000000000000000000000000001"
#define AUTH_TOKEN "secret-token"
#define KEY_SID "SK00000000000000000000000000000001"
#define KEY_SECRET "key-secret"
#define OTHER_ACCOUNT_SID "AC00000000000000000000000000000002"
#define OTHER_AUTH_TOKEN "other-token"

#define MAX_HEADERS 32
#define MAX_EXCHANGES 100

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                             */
/* ---------------------------------------------------------------------------------------- */

static char *join_path(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Writes a byte string readably: printable ASCII as is, the rest as C escapes. */
static void put_escaped(FILE *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            fputs("\\n", out);
        else if (c == '\r')
            fputs("\\r", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c == '\\')
            fputs("\\\\", out);
        else if (c < 0x20 || c >= 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
}

/* Expected vs got, with the first differing offset and the text around it. */
static void print_diff(const char *what, const char *exp, size_t exp_len, const char *got,
                       size_t got_len)
{
    size_t i = 0;
    while (i < exp_len && i < got_len && exp[i] == got[i])
        i++;
    fprintf(stderr, "    %s differs at offset %zu (expected %zu bytes, got %zu)\n", what, i,
            exp_len, got_len);
    enum { FULL = 1600, CONTEXT = 80 };
    if (exp_len <= FULL && got_len <= FULL) {
        fputs("    expected: ", stderr);
        put_escaped(stderr, exp, exp_len);
        fputs("\n    got:      ", stderr);
        put_escaped(stderr, got, got_len);
        fputc('\n', stderr);
    }
    size_t from = i > CONTEXT ? i - CONTEXT : 0;
    size_t exp_to = i + CONTEXT < exp_len ? i + CONTEXT : exp_len;
    size_t got_to = i + CONTEXT < got_len ? i + CONTEXT : got_len;
    fprintf(stderr, "    around offset %zu:\n      expected: ...", i);
    put_escaped(stderr, exp + from, exp_to - from);
    fputs("...\n      got:      ...", stderr);
    put_escaped(stderr, got + from, got_to - from);
    fputs("...\n      ", stderr);
    /* a caret under the first difference, counted in escaped characters */
    fputs("          ", stderr);
    for (size_t k = 0; k < 3; k++)
        fputc(' ', stderr);
    for (size_t k = from; k < i; k++) {
        unsigned char c = (unsigned char)(k < exp_len ? exp[k] : got[k]);
        int w = 1;
        if (c == '\n' || c == '\r' || c == '\t' || c == '\\')
            w = 2;
        else if (c < 0x20 || c >= 0x7f)
            w = 4;
        for (int j = 0; j < w; j++)
            fputc(' ', stderr);
    }
    fputs("^\n", stderr);
}

/* RFC 7231 IMF-fixdate of t (ms), rounded down to the second; computed here on its own so
 * that the fake's formatter is checked, not reused. */
static void expected_http_date(sf_ms t, char out[30])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t secs = t >= 0 ? t / 1000 : -((-t + 999) / 1000);
    time_t tt = (time_t)secs;
    struct tm tm;
    gmtime_r(&tt, &tm);
    char text[96];
    snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday,
             months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    snprintf(out, 30, "%.29s", text);
}

/* ---------------------------------------------------------------------------------------- */
/* Request and response files                                                                */
/* ---------------------------------------------------------------------------------------- */

typedef struct message_file {
    char *text; /* owned; head lines are NUL-split in place */
    char *first_line;
    sf_http_header headers[MAX_HEADERS];
    size_t header_count;
    const char *body;
    size_t body_len;
} message_file;

/* Splits a request/response file into its first line, header lines and body. */
static bool parse_message(const char *path, message_file *m)
{
    memset(m, 0, sizeof *m);
    size_t len;
    m->text = sf_test_read_file(path, &len);
    if (!m->text) {
        fprintf(stderr, "    cannot read %s: %s\n", path, strerror(errno));
        return false;
    }
    if (len > 0 && m->text[len - 1] == '\n')
        m->text[--len] = '\0';
    char *sep = strstr(m->text, "\n\n");
    char *head_end;
    if (sep) {
        head_end = sep;
        m->body = sep + 2;
        m->body_len = len - (size_t)(sep + 2 - m->text);
    } else {
        head_end = m->text + len;
        m->body = head_end;
        m->body_len = 0;
    }
    *head_end = '\0';
    char *line = m->text;
    m->first_line = line;
    char *nl = strchr(line, '\n');
    line = nl ? (*nl = '\0', nl + 1) : NULL;
    while (line && *line) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *colon = strchr(line, ':');
        if (!colon || colon == line || m->header_count == MAX_HEADERS) {
            fprintf(stderr, "    %s: bad header line \"%s\"\n", path, line);
            return false;
        }
        *colon = '\0';
        char *value = colon + 1;
        while (*value == ' ')
            value++;
        m->headers[m->header_count].name = line;
        m->headers[m->header_count].value = value;
        m->header_count++;
        line = nl ? nl + 1 : NULL;
    }
    return true;
}

static void free_message(message_file *m)
{
    free(m->text);
    memset(m, 0, sizeof *m);
}

/* An optional file holding one non-negative integer. */
static bool read_count(const char *path, bool *present, int64_t *value)
{
    *present = false;
    if (!file_exists(path))
        return true;
    size_t len;
    char *text = sf_test_read_file(path, &len);
    if (!text)
        return false;
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
        text[--len] = '\0';
    bool ok = sf_http_parse_int(text, value) && *value >= 0;
    if (!ok)
        fprintf(stderr, "    %s: not a non-negative integer: \"%s\"\n", path, text);
    free(text);
    *present = ok;
    return ok;
}

static void write_response(const char *path, const sf_http_response *r)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "    cannot write %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "%d\n", r->status);
    if (r->content_type)
        fprintf(f, "Content-Type: %s\n", r->content_type);
    if (r->allow[0])
        fprintf(f, "Allow: %s\n", r->allow);
    if (r->warning[0])
        fprintf(f, "Syncfake-Warning: %s\n", r->warning);
    fputc('\n', f);
    if (r->body_len)
        fwrite(r->body, 1, r->body_len, f);
    fputc('\n', f);
    fclose(f);
    fprintf(stderr, "    wrote %s (review it against docs/behaviour.md)\n", path);
}

/* ---------------------------------------------------------------------------------------- */
/* Running a case                                                                            */
/* ---------------------------------------------------------------------------------------- */

typedef struct golden_case {
    char *name;
    char *dir;
} golden_case;

static sf_fake *new_fake(void)
{
    sf_options o;
    sf_options_init(&o);
    o.seed = 1;
    o.clock = SF_CLOCK_MANUAL;
    o.account_sid = ACCOUNT_SID;
    o.auth_token = AUTH_TOKEN;
    sf_fake *fake = NULL;
    sf_error err;
    if (sf_fake_new(&o, &fake, &err) != SF_OK) {
        fprintf(stderr, "    sf_fake_new: %s\n", err.message);
        return NULL;
    }
    sf_api_key_params kp = {.sid = KEY_SID, .secret = KEY_SECRET};
    sf_api_key_record key;
    sf_account_params ap = {.sid = OTHER_ACCOUNT_SID, .auth_token = OTHER_AUTH_TOKEN};
    sf_account_record acc;
    if (sf_api_key_create(fake, NULL, &kp, &key, &err) != SF_OK ||
        sf_account_create(fake, &ap, &acc, &err) != SF_OK) {
        fprintf(stderr, "    fixture: %s\n", err.message);
        sf_fake_free(fake);
        return NULL;
    }
    return fake;
}

/* A case directory's files: the stems of its *.request files and the names of the others. */
typedef struct case_files {
    char **stems, **others;
    size_t n, n_others;
} case_files;

/* Sorts one directory entry named name into cf; false (with a message) for a file that is no
 * part of an exchange or one exchange too many. */
static bool take_case_file(const golden_case *gc, const char *name, case_files *cf)
{
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) {
        fprintf(stderr, "    %s: unexpected file %s\n", gc->name, name);
        return false;
    }
    if (strcmp(dot, ".request") == 0) {
        if (cf->n == MAX_EXCHANGES) {
            fprintf(stderr, "    %s: more than %d exchanges\n", gc->name, MAX_EXCHANGES);
            return false;
        }
        cf->stems[cf->n++] = strndup(name, (size_t)(dot - name));
        return true;
    }
    if (strcmp(dot, ".response") == 0 || strcmp(dot, ".clock") == 0 ||
        strcmp(dot, ".repeat") == 0 || strcmp(dot, ".events") == 0) {
        if (cf->n_others < 4 * MAX_EXCHANGES)
            cf->others[cf->n_others++] = strdup(name);
        return true;
    }
    fprintf(stderr, "    %s: unexpected file %s\n", gc->name, name);
    return false;
}

/* Every other file is of one of the (sorted) exchanges, and there is at least one exchange;
 * false, with a message, when not. */
static bool others_match_requests(const golden_case *gc, const case_files *cf)
{
    for (size_t i = 0; i < cf->n_others; i++) {
        const char *other = cf->others[i], *dot = strrchr(other, '.');
        bool found = false;
        for (size_t j = 0; j < cf->n && !found; j++)
            found = strlen(cf->stems[j]) == (size_t)(dot - other) &&
                    strncmp(cf->stems[j], other, (size_t)(dot - other)) == 0;
        if (!found) {
            fprintf(stderr, "    %s: %s has no matching .request\n", gc->name, other);
            return false;
        }
    }
    if (cf->n == 0) {
        fprintf(stderr, "    %s: no exchanges\n", gc->name);
        return false;
    }
    return true;
}

/* Exchange names ("01", "02", ...) of a case: the stems of its *.request files, sorted.
 * Every other file must be NN.response, NN.clock or NN.repeat of one of them. */
static bool list_exchanges(const golden_case *gc, char ***out, size_t *count)
{
    *out = NULL;
    *count = 0;
    DIR *d = opendir(gc->dir);
    if (!d) {
        fprintf(stderr, "    cannot open %s\n", gc->dir);
        return false;
    }
    case_files cf = {calloc(MAX_EXCHANGES, sizeof(char *)),
                     calloc(4 * MAX_EXCHANGES, sizeof(char *)), 0, 0};
    bool ok = cf.stems && cf.others;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            ok = take_case_file(gc, e->d_name, &cf);
    closedir(d);
    if (ok) {
        qsort(cf.stems, cf.n, sizeof *cf.stems, cmp_strings);
        ok = others_match_requests(gc, &cf);
    }
    for (size_t i = 0; cf.others && i < cf.n_others; i++)
        free(cf.others[i]);
    free(cf.others);
    if (!ok) {
        for (size_t i = 0; cf.stems && i < cf.n; i++)
            free(cf.stems[i]);
        free(cf.stems);
        return false;
    }
    *out = cf.stems;
    *count = cf.n;
    return true;
}

static bool check_header(const char *case_name, const char *stem, const char *name,
                         const char *expected, const char *got)
{
    const char *e = expected ? expected : "(absent)";
    const char *g = got && *got ? got : "(absent)";
    if (strcmp(e, g) == 0)
        return true;
    fprintf(stderr, "    %s/%s: header %s: expected \"%s\", got \"%s\"\n", case_name, stem, name, e,
            g);
    return false;
}

/* The files of one exchange: <stem>.request, .response, .clock, .repeat and .events. */
typedef struct exchange_files {
    char *request, *response, *clock, *repeat;
    bool with_events; /* an .events file: the request may open an event stream */
} exchange_files;

static void exchange_files_free(exchange_files *f)
{
    free(f->request);
    free(f->response);
    free(f->clock);
    free(f->repeat);
}

static char *stem_path(const golden_case *gc, const char *stem, const char *ext)
{
    char file[64];
    snprintf(file, sizeof file, "%s.%s", stem, ext);
    return join_path(gc->dir, file);
}

static bool exchange_files_find(const golden_case *gc, const char *stem, exchange_files *f)
{
    f->request = stem_path(gc, stem, "request");
    f->response = stem_path(gc, stem, "response");
    f->clock = stem_path(gc, stem, "clock");
    f->repeat = stem_path(gc, stem, "repeat");
    char *events = stem_path(gc, stem, "events");
    f->with_events = events && file_exists(events);
    free(events);
    return f->request && f->response && f->clock && f->repeat;
}

/* Moves the clock as the .clock file says and reads how many times to send the request. */
static bool prepare_exchange(sf_fake *fake, const golden_case *gc, const char *stem,
                             const exchange_files *f, int64_t *repeat)
{
    bool has_clock, has_repeat;
    int64_t advance = 0;
    *repeat = 1;
    if (!read_count(f->clock, &has_clock, &advance) || !read_count(f->repeat, &has_repeat, repeat))
        return false;
    if (has_repeat && *repeat < 1) {
        fprintf(stderr, "    %s/%s: repeat must be at least 1\n", gc->name, stem);
        return false;
    }
    sf_error err;
    if (has_clock && sf_clock_advance(fake, advance, &err) != SF_OK) {
        fprintf(stderr, "    %s/%s: clock advance: %s\n", gc->name, stem, err.message);
        return false;
    }
    return true;
}

/* What every answer must be, whatever the .response file says. */
static bool check_answer_invariants(sf_fake *fake, const golden_case *gc, const char *stem,
                                    const sf_http_response *resp, bool with_events)
{
    bool ok = true;
    char date[30];
    expected_http_date(sf_clock_now(fake), date);
    if (strcmp(resp->date, date) != 0) {
        fprintf(stderr, "    %s/%s: Date: expected \"%s\" (fake clock), got \"%s\"\n", gc->name,
                stem, date, resp->date);
        ok = false;
    }
    if (resp->event_stream && !with_events) {
        fprintf(stderr, "    %s/%s: unexpected event stream\n", gc->name, stem);
        ok = false;
    }
    if (resp->status != 204 && !resp->body) {
        fprintf(stderr, "    %s/%s: status %d without a body\n", gc->name, stem, resp->status);
        ok = false;
    }
    if (resp->body && strlen(resp->body) != resp->body_len) {
        fprintf(stderr, "    %s/%s: body_len %zu but strlen %zu\n", gc->name, stem, resp->body_len,
                strlen(resp->body));
        ok = false;
    }
    return ok;
}

/* The expected answer's headers against the answer's: each one the file names must match, and
 * Content-Type, Allow and Syncfake-Warning must be absent when the file does not name them. */
static bool check_expected_headers(const golden_case *gc, const char *stem, const char *resp_path,
                                   const message_file *exp, const sf_http_response *resp)
{
    bool ok = true;
    const char *exp_type = NULL, *exp_allow = NULL, *exp_warning = NULL;
    for (size_t i = 0; i < exp->header_count; i++) {
        const char *name = exp->headers[i].name;
        if (strcasecmp(name, "Content-Type") == 0) {
            exp_type = exp->headers[i].value;
        } else if (strcasecmp(name, "Allow") == 0) {
            exp_allow = exp->headers[i].value;
        } else if (strcasecmp(name, "Syncfake-Warning") == 0) {
            exp_warning = exp->headers[i].value;
        } else if (strcasecmp(name, "Date") == 0) {
            ok &= check_header(gc->name, stem, "Date", exp->headers[i].value, resp->date);
        } else {
            fprintf(stderr, "    %s: cannot check header %s\n", resp_path, name);
            ok = false;
        }
    }
    ok &= check_header(gc->name, stem, "Content-Type", exp_type, resp->content_type);
    ok &= check_header(gc->name, stem, "Allow", exp_allow, resp->allow);
    ok &= check_header(gc->name, stem, "Syncfake-Warning", exp_warning, resp->warning);
    return ok;
}

/* The answer against the .response file (written instead in write mode when it is missing). */
static bool compare_with_expected(const golden_case *gc, const char *stem, const char *resp_path,
                                  const sf_http_request *r, const sf_http_response *resp,
                                  bool write_mode)
{
    if (!file_exists(resp_path)) {
        if (write_mode) {
            write_response(resp_path, resp);
            return true;
        }
        fprintf(stderr, "    %s: missing (run with SF_HTTP_GOLDEN_WRITE=1 to create it)\n",
                resp_path);
        return false;
    }
    message_file exp = {0};
    int64_t status = 0;
    if (!parse_message(resp_path, &exp) || !sf_http_parse_int(exp.first_line, &status)) {
        if (exp.first_line)
            fprintf(stderr, "    %s: first line must be the status code\n", resp_path);
        free_message(&exp);
        return false;
    }
    bool ok = true;
    if (resp->status != status) {
        fprintf(stderr, "    %s/%s: status: expected %" PRId64 ", got %d\n", gc->name, stem, status,
                resp->status);
        ok = false;
    }
    ok &= check_expected_headers(gc, stem, resp_path, &exp, resp);
    const char *got_body = resp->body ? resp->body : "";
    if (exp.body_len != resp->body_len || memcmp(exp.body, got_body, exp.body_len) != 0) {
        fprintf(stderr, "    %s/%s: %s %s\n", gc->name, stem, r->method, r->target);
        print_diff("body", exp.body, exp.body_len, got_body, resp->body_len);
        ok = false;
    }
    free_message(&exp);
    return ok;
}

/* Runs one exchange; false (with a report on stderr) when its answer is not the expected one. */
static bool run_exchange(sf_fake *fake, const golden_case *gc, const char *stem, bool write_mode)
{
    static const sf_http_events_hook hook = {sf_test_ignore_event, NULL};
    exchange_files f = {0};
    message_file req = {0};
    int64_t repeat = 1;
    bool ok = exchange_files_find(gc, stem, &f) && prepare_exchange(fake, gc, stem, &f, &repeat) &&
              parse_message(f.request, &req);
    char *space = ok ? strchr(req.first_line, ' ') : NULL;
    if (ok && (!space || space == req.first_line)) {
        fprintf(stderr, "    %s: first line must be \"METHOD TARGET\"\n", f.request);
        ok = false;
    }
    if (ok) {
        *space = '\0';
        sf_http_request r = {
            .method = req.first_line,
            .target = space + 1,
            .headers = req.headers,
            .header_count = req.header_count,
            .body = req.body,
            .body_len = req.body_len,
            .events = f.with_events ? &hook : NULL,
        };
        sf_http_response resp = {0};
        for (int64_t i = 0; i < repeat; i++) {
            if (i > 0)
                sf_http_response_free(&resp);
            sf_http_dispatch(fake, &r, &resp);
        }
        ok = check_answer_invariants(fake, gc, stem, &resp, f.with_events);
        ok &= compare_with_expected(gc, stem, f.response, &r, &resp, write_mode);
        sf_http_response_free(&resp);
    }
    free_message(&req);
    exchange_files_free(&f);
    return ok;
}

static bool run_case(const golden_case *gc)
{
    bool write_mode = getenv("SF_HTTP_GOLDEN_WRITE") != NULL;
    char **stems;
    size_t n;
    if (!list_exchanges(gc, &stems, &n))
        return false;
    sf_fake *fake = new_fake();
    bool ok = fake != NULL;
    /* Later exchanges build on earlier ones; all of them run, so that every mismatch shows. */
    for (size_t i = 0; fake && i < n; i++)
        ok &= run_exchange(fake, gc, stems[i], write_mode);
    sf_fake_free(fake);
    for (size_t i = 0; i < n; i++)
        free(stems[i]);
    free(stems);
    return ok;
}

/* Each case runs in a child process, so that a crash (or a sanitizer report) fails that case
 * alone and the others still run; SF_HTTP_GOLDEN_NOFORK=1 runs them in-process (debuggers). */
static void test_golden_case(void **state)
{
    const golden_case *gc = *state;
    if (getenv("SF_HTTP_GOLDEN_NOFORK")) {
        if (!run_case(gc))
            fail_msg("golden case %s failed (details above)", gc->name);
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (pid == 0) {
        /* cmocka's handlers would longjmp back into the test loop of this child */
        static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        bool ok = run_case(gc);
        fflush(stderr);
        exit(ok ? 0 : 3); /* exit, not _exit: leak checkers run per case */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            fail_msg("waitpid: %s", strerror(errno));
    }
    if (WIFSIGNALED(status))
        fail_msg("golden case %s crashed (signal %d)", gc->name, WTERMSIG(status));
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 3)
        fail_msg("golden case %s failed (details above)", gc->name);
    if (WEXITSTATUS(status) != 0)
        fail_msg("golden case %s: the child exited with %d (sanitizer or leak report above?)",
                 gc->name, WEXITSTATUS(status));
}

/* ---------------------------------------------------------------------------------------- */
/* Discovery                                                                                 */
/* ---------------------------------------------------------------------------------------- */

static char *cases_root(void)
{
    const char *env = getenv("SF_HTTP_CASES_DIR");
    if (env && *env)
        return strdup(env);
    const char *src = __FILE__;
    const char *slash = strrchr(src, '/');
    const char *dir = slash ? src : ".";
    size_t dir_len = slash ? (size_t)(slash - src) : 1;
    if (slash == src)
        dir_len = 1; /* "/file.c" */
    size_t n = dir_len + sizeof "/http_cases";
    char *root = malloc(n);
    if (root)
        snprintf(root, n, "%.*s/http_cases", (int)dir_len, dir);
    return root;
}

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The case directories under root, sorted; NULL when none can be read. */
static char **list_cases(const char *root, size_t *count)
{
    DIR *d = opendir(root);
    if (!d) {
        fprintf(stderr, "test_http_golden: cannot open %s: %s\n", root, strerror(errno));
        return NULL;
    }
    size_t cap = 64, n = 0;
    char **names = malloc(cap * sizeof *names);
    struct dirent *e;
    while (names && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = join_path(root, e->d_name);
        bool dir = path && is_dir(path);
        free(path);
        if (!dir)
            continue;
        if (n == cap) {
            char **bigger = realloc(names, 2 * cap * sizeof *names);
            if (!bigger)
                break;
            names = bigger;
            cap *= 2;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (names && n == 0) {
        fprintf(stderr, "test_http_golden: no cases under %s\n", root);
        free(names);
        names = NULL;
    }
    if (names)
        qsort(names, n, sizeof *names, cmp_strings);
    *count = n;
    return names;
}

/* One cmocka group of one test: the case `name`. Returns the group's failure count. */
static int run_named_case(const char *root, const char *name)
{
    golden_case gc = {.name = strdup(name), .dir = join_path(root, name)};
    int failed = 1;
    if (!gc.name || !gc.dir) {
        fprintf(stderr, "out of memory\n");
    } else if (!is_dir(gc.dir)) {
        fprintf(stderr, "test_http_golden: no case %s under %s\n", name, root);
    } else {
        const struct CMUnitTest tests[] = {
            {.name = gc.name, .test_func = test_golden_case, .initial_state = &gc},
        };
        failed = cmocka_run_group_tests_name(gc.name, tests, NULL, NULL);
    }
    free(gc.name);
    free(gc.dir);
    return failed;
}

/* test_http_golden CASE...: runs the named cases (CMake registers one ctest per case, named
 * http_golden/CASE). With no argument every case runs, each as its own group. --list prints
 * the case names. */
int main(int argc, char **argv)
{
    char *root = cases_root();
    if (!root) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    bool list = argc == 2 && strcmp(argv[1], "--list") == 0;
    size_t n = 0;
    char **names = NULL;
    if (argc < 2 || list) {
        names = list_cases(root, &n);
        if (!names) {
            free(root);
            return 1;
        }
    }
    int failed = 0;
    for (size_t i = 0; i < n; i++) {
        if (list)
            printf("%s\n", names[i]);
        else
            failed += run_named_case(root, names[i]);
        free(names[i]);
    }
    free(names);
    for (int i = 1; !list && i < argc; i++)
        failed += run_named_case(root, argv[i]);
    free(root);
    return failed != 0;
}
