/* Strict UTF-8 (RFC 3629), the one decoder (bt/codec.h). */
#include "bt/codec.h"

/* The length a lead byte announces; 0 for a continuation byte, the overlong
 * leads C0/C1 and F5..FF. */
static size_t sequence_length(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

static bool in_valid_range(uint32_t cp, size_t len)
{
    static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[len] || cp > 0x10FFFF)
        return false;
    return cp < 0xD800 || cp > 0xDFFF;
}

size_t bt_utf8_next(const char *p, size_t n, uint32_t *cp)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    const unsigned char *s = (const unsigned char *)p;
    size_t len = n ? sequence_length(s[0]) : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t value = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        value = value << 6 | (s[i] & 0x3F);
    }
    if (!in_valid_range(value, len))
        return 0;
    if (cp)
        *cp = value;
    return len;
}


size_t bt_utf8_valid_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t len = (unsigned char)s[i] < 0x80 ? 1 : bt_utf8_next(s + i, n - i, NULL);
        if (len == 0)
            return i;
        i += len;
    }
    return n;
}

bool bt_utf8_is_valid(const char *s, size_t n) { return bt_utf8_valid_prefix(s, n) == n; }

size_t bt_utf8_put(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}
