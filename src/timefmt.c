/* SPDX-License-Identifier: MIT */
/* timefmt.c: UTC calendar formatting without the C library's locale or time zone. */
#include "internal.h"

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
    /* floor division, without negating (which overflows at INT64_MIN) */
    int64_t secs = t / 1000 - (t % 1000 < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t rem = secs - days * 86400;
    civil_from_days(days, &c.year, &c.month, &c.day);
    c.hour = (unsigned)(rem / 3600);
    c.minute = (unsigned)(rem % 3600 / 60);
    c.second = (unsigned)(rem % 60);
    c.weekday = (unsigned)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    return c;
}

/* Writes n (0 <= n < 10^width) as `width` decimal digits. */
static char *digits(char *p, unsigned n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + n % 10);
        n /= 10;
    }
    return p + width;
}

static char *text(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

static unsigned year_of(const civil *c)
{
    return (unsigned)(c->year < 0 ? 0 : c->year > 9999 ? 9999 : c->year);
}

void sf_format_iso8601(sf_ms t, char buf[21])
{
    civil c = split(t);
    char *p = digits(buf, year_of(&c), 4);
    *p++ = '-';
    p = digits(p, c.month, 2);
    *p++ = '-';
    p = digits(p, c.day, 2);
    *p++ = 'T';
    p = digits(p, c.hour, 2);
    *p++ = ':';
    p = digits(p, c.minute, 2);
    *p++ = ':';
    p = digits(p, c.second, 2);
    *p++ = 'Z';
    *p = '\0';
}

void sf_format_http_date(sf_ms t, char buf[30])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    civil c = split(t);
    char *p = text(buf, days[c.weekday % 7]);
    p = text(p, ", ");
    p = digits(p, c.day, 2);
    *p++ = ' ';
    p = text(p, months[(c.month + 11) % 12]);
    *p++ = ' ';
    p = digits(p, year_of(&c), 4);
    *p++ = ' ';
    p = digits(p, c.hour, 2);
    *p++ = ':';
    p = digits(p, c.minute, 2);
    *p++ = ':';
    p = digits(p, c.second, 2);
    p = text(p, " GMT");
    *p = '\0';
}

void sf__format_iso8601_ms(sf_ms t, char buf[25])
{
    char whole[21];
    sf_format_iso8601(t, whole);
    int64_t ms = t % 1000;
    if (ms < 0)
        ms += 1000;         /* floor, as split() does for the seconds */
    memcpy(buf, whole, 19); /* up to the seconds, without the 'Z' */
    buf[19] = '.';
    digits(buf + 20, (unsigned)ms, 3);
    buf[23] = 'Z';
    buf[24] = '\0';
}
