/* The one JSON string escaper (bt/codec.h): escapes, and U+FFFD for every
 * byte that is not part of valid UTF-8. */
#include "bt/codec.h"

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

int bt_json_escape(const char *s, size_t n, bt_json_put_fn put, void *ctx)
{
    bool fail = put(ctx, "\"", 1) != 0;
    size_t from = 0, i = 0;
    while (!fail && i < n) {
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t len = c < 0x80 ? 1 : bt_utf8_next(s + i, n - i, NULL);
        size_t elen = c < 0x80 ? escape_of(c, esc) : 0;
        if (len > 0 && elen == 0) {
            i += len; /* copied as it is, with the run it belongs to */
            continue;
        }
        fail = (i > from && put(ctx, s + from, i - from) != 0) ||
               (len ? put(ctx, esc, elen) : put(ctx, "\xef\xbf\xbd", 3)) != 0;
        from = ++i; /* an invalid byte is replaced alone; the next one is looked at anew */
    }
    fail = fail || (n > from && put(ctx, s + from, n - from) != 0) || put(ctx, "\"", 1) != 0;
    return fail ? -1 : 0;
}

static int put_buf(void *ctx, const char *s, size_t n) { return bt_buf_append(ctx, s, n); }

int bt_json_str_append(bt_buf *out, const char *s, size_t n)
{
    return bt_json_escape(s, n, put_buf, out);
}
