/* UTF-8 decoding for `show`: strict (RFC 3629), like Go's protobuf runtime. */
#include "bt/show.h"

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
    return 0; /* continuation byte, overlong lead C0/C1, or F5..FF */
}

static bool is_continuation(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

static uint32_t lead_bits(unsigned char lead, size_t len)
{
    static const unsigned char mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    return lead & mask[len];
}

static bool in_valid_range(uint32_t cp, size_t len)
{
    static const uint32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[len] || cp > 0x10FFFF)
        return false;
    return cp < 0xD800 || cp > 0xDFFF;
}

size_t bt_show_utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len = n ? sequence_length(s[0]) : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t value = lead_bits(s[0], len);
    for (size_t i = 1; i < len; i++) {
        if (!is_continuation(s[i]))
            return 0;
        value = value << 6 | (s[i] & 0x3F);
    }
    if (!in_valid_range(value, len))
        return 0;
    *cp = value;
    return len;
}

bool bt_show_utf8_valid(const unsigned char *s, size_t n)
{
    uint32_t cp;
    for (size_t i = 0; i < n;) {
        size_t len = bt_show_utf8_next(s + i, n - i, &cp);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}
