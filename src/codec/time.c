/* ISO-8601 / RFC 3339 times and proleptic Gregorian dates (bt/codec.h). */
#include "bt/codec.h"

int64_t bt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void bt_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Read exactly n digits at *p into *out; advance. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

static bool parse_date(const char **p, int64_t *days)
{
    int y, mo, d;
    if (!digits(p, 4, &y) || *(*p)++ != '-' || !digits(p, 2, &mo) || *(*p)++ != '-' ||
        !digits(p, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    *days = bt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    return true;
}

/* ".digits": up to 9 kept, more are truncated. */
static bool parse_fraction(const char **p, int32_t *nanos)
{
    if (**p != '.' && **p != ',')
        return true;
    (*p)++;
    int n = 0;
    int32_t v = 0;
    while (**p >= '0' && **p <= '9') {
        if (n < 9)
            v = v * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    if (n == 0)
        return false;
    for (int i = n; i < 9; i++)
        v *= 10;
    *nanos = v;
    return true;
}

static bool parse_clock(const char **p, int *secs, int32_t *nanos)
{
    int h, mi, s = 0;
    if (!digits(p, 2, &h) || *(*p)++ != ':' || !digits(p, 2, &mi))
        return false;
    if (**p == ':') {
        (*p)++;
        if (!digits(p, 2, &s) || !parse_fraction(p, nanos))
            return false;
    }
    if (h > 23 || mi > 59 || s > 59)
        return false;
    *secs = h * 3600 + mi * 60 + s;
    return true;
}

/* Z, ±HH, ±HHMM, ±HH:MM or nothing; *offset in seconds east of UTC. */
static bool parse_zone(const char **p, int *offset)
{
    *offset = 0;
    char c = **p;
    if (c == 'Z' || c == 'z') {
        (*p)++;
        return true;
    }
    if (c != '+' && c != '-')
        return c == '\0';
    (*p)++;
    int h, m = 0;
    if (!digits(p, 2, &h))
        return false;
    if (**p == ':')
        (*p)++;
    if (**p >= '0' && **p <= '9' && !digits(p, 2, &m))
        return false;
    if (h > 23 || m > 59)
        return false;
    *offset = (c == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

int bt_time_parse_iso8601(const char *s, int64_t *seconds, int32_t *nanos)
{
    const char *p = s;
    int64_t days;
    int secs = 0, offset = 0;
    int32_t ns = 0;
    if (!s || !parse_date(&p, &days))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!parse_clock(&p, &secs, &ns) || !parse_zone(&p, &offset))
            return -1;
    }
    if (*p != '\0')
        return -1;
    *seconds = days * 86400 + secs - offset;
    *nanos = ns;
    return 0;
}
