/* A minimal, strict JSON reader for the two small objects service mode reads
 * (the client secret's JWK and the token answer): it validates the whole text
 * and returns one top-level member. Values are never logged. */
#include "service/svc.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int depth;
} cursor;

static void skip_ws(cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char ch = p[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
              : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (unsigned)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(unsigned cp, char *o)
{
    if (cp < 0x80)
        return o[0] = (char)cp, 1;
    if (cp < 0x800)
        return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 63)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | (cp >> 6 & 63)),
               o[2] = (char)(0x80 | (cp & 63)), 3;
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | (cp >> 12 & 63));
    o[2] = (char)(0x80 | (cp >> 6 & 63)), o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* \uXXXX at c->p (the backslash), with a surrogate pair when needed;
 * advances c->p past it. */
static int unicode_escape(cursor *c, char *out, size_t *o)
{
    unsigned cp, lo;
    if (c->end - c->p < 6 || hex4(c->p + 2, &cp) != 0)
        return -1;
    c->p += 6;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (c->end - c->p < 6 || c->p[0] != '\\' || c->p[1] != 'u' || hex4(c->p + 2, &lo) != 0 ||
            lo < 0xdc00 || lo > 0xdfff)
            return -1;
        c->p += 6;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0)
        return -1; /* a lone low surrogate; or U+0000, which would cut a C string short */
    if (out)
        *o += put_utf8(cp, out + *o);
    return 0;
}

/* A string at c->p ('"'); decoded into out (NULL: only checked). out needs
 * the raw length + 1 bytes. */
static int read_string(cursor *c, char *out, size_t *outlen)
{
    size_t o = 0;
    if (c->p >= c->end || *c->p != '"')
        return -1;
    for (c->p++; c->p < c->end && *c->p != '"';) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch < 0x20)
            return -1;
        if (ch != '\\') {
            if (out)
                out[o] = (char)ch;
            o++, c->p++;
            continue;
        }
        if (c->end - c->p < 2)
            return -1;
        /* c->p[1] may be a NUL byte of the input: strchr would find the
         * literal's terminator, so NUL is ruled out first. */
        const char *map = c->p[1] ? strchr("\"\"\\\\//b\bf\fn\nr\rt\t", c->p[1]) : NULL;
        if (c->p[1] == 'u') {
            if (unicode_escape(c, out, &o) != 0)
                return -1;
            if (!out)
                o++;
            continue;
        }
        if (!map || (map - "\"\"\\\\//b\bf\fn\nr\rt\t") % 2 != 0)
            return -1;
        if (out)
            out[o] = map[1];
        o++, c->p += 2;
    }
    if (c->p >= c->end)
        return -1;
    c->p++;
    if (out)
        out[o] = '\0';
    if (outlen)
        *outlen = o;
    return 0;
}

static int skip_value(cursor *c);

static int skip_number(cursor *c)
{
    const char *start = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    while (c->p < c->end && *c->p && strchr("0123456789.eE+-", *c->p))
        c->p++;
    return c->p > start && (c->p[-1] >= '0' && c->p[-1] <= '9') ? 0 : -1;
}

static int skip_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int skip_container(cursor *c, char close, bool object)
{
    if (++c->depth > 32)
        return -1;
    c->p++;
    skip_ws(c);
    if (c->p < c->end && *c->p == close)
        return c->p++, c->depth--, 0;
    for (;;) {
        if (object && (read_string(c, NULL, NULL) != 0 || (skip_ws(c), c->p >= c->end) ||
                       *c->p++ != ':'))
            return -1;
        if (skip_value(c) != 0)
            return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            skip_ws(c);
            continue;
        }
        if (c->p < c->end && *c->p == close)
            return c->p++, c->depth--, 0;
        return -1;
    }
}

static int skip_value(cursor *c)
{
    skip_ws(c);
    if (c->p >= c->end)
        return -1;
    switch (*c->p) {
    case '"': return read_string(c, NULL, NULL);
    case '{': return skip_container(c, '}', true);
    case '[': return skip_container(c, ']', false);
    case 't': return skip_word(c, "true");
    case 'f': return skip_word(c, "false");
    case 'n': return skip_word(c, "null");
    default: return skip_number(c);
    }
}

/* Fill v from the value at c->p. */
static int capture(cursor *c, bt_jmin_value *v)
{
    skip_ws(c);
    const char *start = c->p;
    if (start < c->end && *start == '"') {
        char *s = malloc((size_t)(c->end - start));
        size_t n = 0;
        if (!s || read_string(c, s, &n) != 0)
            return free(s), -1;
        bt_jmin_value_free(v);
        *v = (bt_jmin_value){BT_JMIN_STRING, s, n};
        return 0;
    }
    if (skip_value(c) != 0)
        return -1;
    bt_jmin_value_free(v);
    v->type = (*start == '-' || (*start >= '0' && *start <= '9')) ? BT_JMIN_NUMBER : BT_JMIN_OTHER;
    v->len = (size_t)(c->p - start);
    v->text = strndup(start, v->len);
    return v->text ? 0 : -1;
}

int bt_jmin_find(const char *json, size_t len, const char *key, bt_jmin_value *v)
{
    cursor c = {json, json + len, 0};
    char name[64];
    bool found = false;
    memset(v, 0, sizeof *v);
    skip_ws(&c);
    if (c.p >= c.end || *c.p != '{')
        return -1;
    const char *obj = c.p;
    if (skip_value(&c) != 0 || (skip_ws(&c), c.p != c.end))
        return bt_jmin_value_free(v), -1;
    c = (cursor){obj + 1, json + len, 1};
    for (skip_ws(&c); c.p < c.end && *c.p != '}';) {
        const char *kstart = c.p;
        size_t klen = 0;
        bool short_key = read_string(&(cursor){kstart, kstart + (c.end - kstart) , 0}, NULL, &klen) == 0
                         && klen < sizeof name;
        if (short_key)
            read_string(&c, name, NULL);
        else
            read_string(&c, NULL, NULL);
        skip_ws(&c);
        c.p++; /* ':' (validated above) */
        if (short_key && strcmp(name, key) == 0) {
            if (capture(&c, v) != 0)
                return bt_jmin_value_free(v), -1;
            found = true;
        } else
            skip_value(&c);
        skip_ws(&c);
        if (*c.p == ',')
            c.p++, skip_ws(&c);
    }
    return found ? 1 : 0;
}

void bt_jmin_value_free(bt_jmin_value *v)
{
    if (v->text) {
        explicit_bzero(v->text, v->len);
        free(v->text);
    }
    memset(v, 0, sizeof *v);
}
