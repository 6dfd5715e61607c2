/* RFC 3339 timestamps as the SDK writes them: 2026-12-01T14:00:00Z,
 * with optional fractional seconds and a Z or ±hh:mm offset. */
#include "bt/clock.h"

#include <ctype.h>
#include <string.h>

/* n digits at *p as an integer, advancing p; -1 when they are not digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        v = v * 10 + (**p - '0');
    }
    return v;
}

static int expect(const char **p, char c)
{
    return *(*p)++ == c ? 0 : -1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_offset(const char **p, long *seconds)
{
    char sign = **p;
    *seconds = 0;
    if (sign == 'Z' || sign == 'z')
        return (*p)++, 0;
    if (sign != '+' && sign != '-')
        return -1;
    (*p)++;
    int h = digits(p, 2);
    if (h < 0 || h > 23 || expect(p, ':') != 0)
        return -1;
    int m = digits(p, 2);
    if (m < 0 || m > 59)
        return -1;
    *seconds = (sign == '-' ? -1 : 1) * (h * 3600L + m * 60L);
    return 0;
}

int bt_parse_rfc3339(const char *s, time_t *out)
{
    const char *p = s;
    int y = digits(&p, 4), mo, d, h, mi, se;
    if (y < 0 || expect(&p, '-') || (mo = digits(&p, 2)) < 1 || mo > 12 || expect(&p, '-') ||
        (d = digits(&p, 2)) < 1 || d > 31 || (*p != 'T' && *p != 't' && *p != ' '))
        return -1;
    p++;
    if ((h = digits(&p, 2)) < 0 || h > 23 || expect(&p, ':') || (mi = digits(&p, 2)) < 0 ||
        mi > 59 || expect(&p, ':') || (se = digits(&p, 2)) < 0 || se > 60)
        return -1;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        while (isdigit((unsigned char)*p))
            p++;
    }
    long offset;
    if (parse_offset(&p, &offset) != 0 || *p != '\0')
        return -1;
    *out = (time_t)(days_from_civil(y, mo, d) * 86400L + h * 3600L + mi * 60L + se - offset);
    return 0;
}
