/* JSON string literals from any bytes: escapes, and U+FFFD for bytes that
 * are not valid UTF-8 (bt/json_str.h). */
#include "bt/json_str.h"
#include "bt/model.h"

#include <stdbool.h>

/* The escape of an ASCII byte into esc; its length, 0 when it needs none. */
static size_t escape_of(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    static const char shorts[] = {'b', 't', 'n', 0, 'f', 'r'}; /* 8..13 */
    esc[0] = '\\';
    if (c == '"' || c == '\\') {
        esc[1] = (char)c;
        return 2;
    }
    if (c >= 0x20)
        return 0;
    if (c >= 8 && c <= 13 && shorts[c - 8]) {
        esc[1] = shorts[c - 8];
        return 2;
    }
    esc[1] = 'u', esc[2] = '0', esc[3] = '0';
    esc[4] = hex[c >> 4];
    esc[5] = hex[c & 15];
    return 6;
}

int bt_json_str_append(bt_http_buf *out, const char *s, size_t n)
{
    bool fail = bt_http_buf_append(out, "\"", 1) != 0;
    size_t from = 0, i = 0;
    while (!fail && i < n) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t len = c < 0x80 ? 1 : bt_utf8_next_len(s + i, n - i);
        size_t elen = c < 0x80 ? escape_of(c, esc) : 0;
        if (len > 0 && elen == 0) {
            i += len; /* copied as it is, with the run it belongs to */
            continue;
        }
        fail = bt_http_buf_append(out, s + from, i - from) != 0 ||
               (len ? bt_http_buf_append(out, esc, elen)
                    : bt_http_buf_append(out, "\xef\xbf\xbd", 3)) != 0;
        from = ++i; /* an invalid byte is replaced alone; the next one is looked at anew */
    }
    fail = fail || bt_http_buf_append(out, s + from, n - from) != 0 ||
           bt_http_buf_append(out, "\"", 1) != 0;
    return fail ? -1 : 0;
}
