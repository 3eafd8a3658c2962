/* SPDX-License-Identifier: MIT */
/* request_log.c: see request_log.h. */
#include "request_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool sf_request_log_open(sf_request_log *log, const char *path, bool on)
{
    memset(log, 0, sizeof *log);
    log->out = stderr;
    if (path) {
        log->out = fopen(path, "a");
        if (!log->out) {
            fprintf(stderr, "syncfake-server: --log-requests=%s: %s\n", path, strerror(errno));
            return false;
        }
        log->owns_out = true;
    }
    atomic_init(&log->on, on);
    pthread_mutex_init(&log->lock, NULL);
    return true;
}

void sf_request_log_close(sf_request_log *log)
{
    if (!log || !log->out)
        return;
    if (log->owns_out)
        fclose(log->out);
    log->out = NULL;
    pthread_mutex_destroy(&log->lock);
}

void sf_request_log_set(sf_request_log *log, bool on) { atomic_store(&log->on, on); }

bool sf_request_log_is_on(sf_request_log *log) { return atomic_load(&log->on); }

/* Copies at most max characters of text for a log line (cap > max): control bytes become '?',
 * so a line stays one line, and a cut text ends "...". */
static void printable(char *out, size_t cap, const char *in, size_t max)
{
    size_t limit = max < cap - 1 ? max : cap - 1;
    size_t n = 0;
    for (; in && in[n] && n < limit; n++) {
        unsigned char ch = (unsigned char)in[n];
        out[n] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
    }
    out[n] = '\0';
    if (in && in[n] && n >= 3)
        memcpy(out + n - 3, "...", 3);
}

void sf_request_note_response(sf_request_note *note, unsigned status, struct MHD_Response *resp)
{
    note->queued = true;
    note->status = status;
    const char *warning = resp ? MHD_get_response_header(resp, "Syncfake-Warning") : NULL;
    printable(note->warning, sizeof note->warning, warning, SF_REQUEST_LOG_WARNING_MAX);
}

void sf_request_note_body(sf_request_note *note, const char *body, size_t len)
{
    static const char key[] = "{\"code\": ";
    if (!body || len <= sizeof key - 1 || memcmp(body, key, sizeof key - 1) != 0)
        return;
    char digits[12];
    size_t n = 0;
    for (const char *p = body + sizeof key - 1;
         n < sizeof digits - 1 && p < body + len && *p >= '0' && *p <= '9'; p++)
        digits[n++] = *p;
    digits[n] = '\0';
    if (n > 0 && n < 10)
        note->code = atoi(digits);
}

void sf_request_log_line(sf_request_log *log, const char *method, const char *path,
                         const sf_request_note *note, uint64_t micros)
{
    if (!log || !log->out || !sf_request_log_is_on(log) || !note->queued)
        return;
    char m[16], p[SF_REQUEST_LOG_PATH_MAX + 1], code[16];
    printable(m, sizeof m, method, sizeof m - 1);
    printable(p, sizeof p, path, SF_REQUEST_LOG_PATH_MAX);
    if (note->code)
        snprintf(code, sizeof code, "%d", note->code);
    else
        snprintf(code, sizeof code, "-");
    pthread_mutex_lock(&log->lock);
    fprintf(log->out, "%s %s %u %s %lluus%s%s\n", m, p, note->status, code,
            (unsigned long long)micros, note->warning[0] ? " warning: " : "", note->warning);
    fflush(log->out);
    pthread_mutex_unlock(&log->lock);
}

uint64_t sf_request_log_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000u + (uint64_t)t.tv_nsec / 1000u;
}
