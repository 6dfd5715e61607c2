/* KSUIDs (c1z-format.md 3.3) and the sync file's time layout.
 *
 * A KSUID is 20 bytes: 4-byte big-endian seconds since 1400000000, then 16
 * random bytes; as text, the 160-bit number in base 62 (0-9A-Za-z), exactly
 * 27 characters, left-padded with '0'. */
#include "bt/model.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Divide the big-endian number in words[0..5) by 62 in place; return the remainder. */
static uint32_t divmod62(uint32_t words[5])
{
    uint64_t rem = 0;
    for (int i = 0; i < 5; i++) {
        uint64_t cur = (rem << 32) | words[i];
        words[i] = (uint32_t)(cur / 62);
        rem = cur % 62;
    }
    return (uint32_t)rem;
}

void bt_ksuid_encode(const uint8_t raw[20], char out[BT_KSUID_LEN + 1])
{
    uint32_t words[5];
    for (int i = 0; i < 5; i++)
        words[i] = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 |
                   (uint32_t)raw[4 * i + 2] << 8 | raw[4 * i + 3];
    for (int pos = BT_KSUID_LEN - 1; pos >= 0; pos--)
        out[pos] = b62[divmod62(words)];
    out[BT_KSUID_LEN] = '\0';
}

static int fill_random(uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int bt_ksuid_new(int64_t unix_seconds, char out[BT_KSUID_LEN + 1])
{
    uint8_t raw[20];
    int64_t t = unix_seconds - BT_KSUID_EPOCH;
    uint32_t ts = t < 0 ? 0 : t > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)t;
    raw[0] = (uint8_t)(ts >> 24);
    raw[1] = (uint8_t)(ts >> 16);
    raw[2] = (uint8_t)(ts >> 8);
    raw[3] = (uint8_t)ts;
    if (fill_random(raw + 4, 16) != 0)
        return -1;
    bt_ksuid_encode(raw, out);
    return 0;
}

bool bt_ksuid_is_valid(const char *s)
{
    static const char max[] = "aWgEPTl1tmebfsQzFP4bxwgy80V"; /* 2^160 - 1 */
    if (!s || strlen(s) != BT_KSUID_LEN)
        return false;
    for (const char *p = s; *p; p++)
        if (!strchr(b62, *p))
            return false;
    /* Same length, and the alphabet is in ASCII order: compare as text. */
    return strcmp(s, max) <= 0;
}

void bt_sync_time_format(int64_t unix_seconds, long nanos, char out[BT_SYNC_TIME_LEN + 1])
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    if (nanos < 0 || nanos > 999999999)
        nanos = 0;
    char date[20];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S", &tm);
    /* A 4-digit year keeps the layout fixed-width (years 1000..9999). */
    memcpy(out, date, 19);
    out[19] = '.';
    for (int i = 28; i >= 20; i--) {
        out[i] = (char)('0' + nanos % 10);
        nanos /= 10;
    }
    out[BT_SYNC_TIME_LEN] = '\0';
}

int64_t bt_sync_time_now(char out[BT_SYNC_TIME_LEN + 1])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    bt_sync_time_format((int64_t)ts.tv_sec, ts.tv_nsec, out);
    return (int64_t)ts.tv_sec;
}
