/* base64 (padded, RFC 4648 §4) and base64url (unpadded, §5): one encoder for
 * both alphabets (bt/codec.h). */
#include "bt/codec.h"

#include <string.h>

static const char STANDARD[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char URL[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The characters for in[0..n) (n <= 3) into out; '=' for the missing ones
 * when pad, else fewer characters. Returns how many were written. */
static size_t quantum(const unsigned char *in, size_t n, const char *alphabet, bool pad, char out[4])
{
    uint32_t v = (uint32_t)in[0] << 16 | (n > 1 ? (uint32_t)in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
    size_t used = n + 1, i = 0;
    for (; i < used; i++)
        out[i] = alphabet[v >> (18 - 6 * i) & 63];
    for (; pad && i < 4; i++)
        out[i] = '=';
    return i;
}

static size_t encode(const unsigned char *in, size_t n, const char *alphabet, bool pad, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3)
        o += quantum(in + i, n - i < 3 ? n - i : 3, alphabet, pad, out + o);
    out[o] = '\0';
    return o;
}

int bt_base64_append(bt_buf *b, const void *p, size_t n)
{
    size_t len = (n + 2) / 3 * 4;
    if (bt_buf_reserve(b, len) != 0)
        return -1;
    b->len += encode(p, n, STANDARD, true, b->data + b->len);
    return 0;
}

size_t bt_b64url_encoded_len(size_t n) { return (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0); }

size_t bt_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    return encode(in, n, URL, false, out);
}

static int sextet(char c)
{
    const char *p = c ? strchr(URL, c) : NULL;
    return p ? (int)(p - URL) : -1;
}

long bt_b64url_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int s = sextet(in[i]);
        if (s < 0)
            return -1;
        acc = (acc << 6 | (unsigned)s) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}
