/* timefmt.c: UTC calendar formatting without the C library's locale or time zone. */
#include "internal.h"

#include <stdio.h>

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm, public domain). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t year = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = year + (*m <= 2);
}

typedef struct civil {
    int64_t year;
    unsigned month, day, hour, minute, second, weekday; /* weekday 0 = Sunday */
} civil;

static civil split(sf_ms t)
{
    civil c;
    int64_t secs = t >= 0 ? t / 1000 : -((-t + 999) / 1000); /* floor */
    int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
    int64_t rem = secs - days * 86400;
    civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (unsigned)(rem / 3600);
    c.minute = (unsigned)(rem % 3600 / 60);
    c.second = (unsigned)(rem % 60);
    c.weekday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    return c;
}

void sf_format_iso8601(sf_ms t, char buf[21])
{
    civil c = split(t);
    long long y = c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year;
    snprintf(buf, 21, "%04lld-%02u-%02uT%02u:%02u:%02uZ", y, c.month % 100, c.day % 100,
             c.hour % 100, c.minute % 100, c.second % 100);
}

void sf_format_http_date(sf_ms t, char buf[30])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    civil c = split(t);
    long long y = c.year < 0 ? 0 : c.year > 9999 ? 9999 : c.year;
    snprintf(buf, 30, "%s, %02u %s %04lld %02u:%02u:%02u GMT", days[c.weekday % 7],
             c.day % 100, months[(c.month + 11) % 12], y, c.hour % 100, c.minute % 100,
             c.second % 100);
}
