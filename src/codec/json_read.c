/* A strict JSON reader feeding a callback sink (bt/json_read.h). The rules
 * are the GraphQL decoder's (once src/graphql/json_decode.c), without Lua. */
#include "bt/json_read.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/codec.h"

typedef struct {
    const char *s, *p, *end;
    int depth, max_depth;
    bt_json_surrogates surrogates;
    bool refuse_nul;
    const bt_json_sink *sink;
    void *ud;
    bt_buf text; /* unescaped strings */
    const char *why; /* the first error */
} reader;

static int value(reader *r);

static int fail(reader *r, const char *why)
{
    if (!r->why)
        r->why = why;
    return -1;
}

static int fail_here(reader *r)
{
    return fail(r, r->p >= r->end ? "unexpected end of input" : "unexpected character");
}

/* The sink's answer: NULL goes on, a reason stops. */
static int sent(reader *r, const char *why) { return why ? fail(r, why) : 0; }

#define EMIT0(r, cb) ((r)->sink->cb ? sent((r), (r)->sink->cb((r)->ud)) : 0)
#define EMIT(r, cb, ...) ((r)->sink->cb ? sent((r), (r)->sink->cb((r)->ud, __VA_ARGS__)) : 0)

static void skip_ws(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int literal(reader *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail_here(r);
    r->p += n;
    return 0;
}

/* ---- strings ---- */

/* Find the closing quote; raw bytes must be valid UTF-8 and not controls. */
static int scan_string(reader *r, const char **close, bool *escaped)
{
    const char *q = r->p;
    *escaped = false;
    while (q < r->end) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *close = q;
            return 0;
        }
        if (c == '\\') {
            *escaped = true;
            q += 2; /* the escape itself is checked while unescaping */
            continue;
        }
        size_t n = c < 0x20 ? 0 : c < 0x80 ? 1 : bt_utf8_next(q, (size_t)(r->end - q), NULL);
        if (n == 0) {
            r->p = q;
            return fail(r, c < 0x20 ? "control character in string" : "invalid UTF-8 in string");
        }
        q += n;
    }
    r->p = r->end;
    return fail(r, "unterminated string");
}

static long hex4(const char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int h = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (h < 0)
            return -1;
        v = v << 4 | h;
    }
    return v;
}

static void put_cp(reader *r, uint32_t cp)
{
    char o[4];
    bt_buf_append(&r->text, o, bt_utf8_put(cp, o));
}

/* \uXXXX at p (with a following low surrogate when p holds a high one).
 * Returns the input consumed, 0 on a malformed or refused escape. */
static size_t unescape_u(reader *r, const char *p, const char *close)
{
    long u = close - p >= 6 ? hex4(p + 2) : -1;
    if (u < 0 || (u == 0 && r->refuse_nul))
        return 0;
    if (u >= 0xD800 && u <= 0xDBFF && close - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        long lo = hex4(p + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            put_cp(r, 0x10000 + ((uint32_t)(u - 0xD800) << 10) + (uint32_t)(lo - 0xDC00));
            return 12;
        }
    }
    bool lone = u >= 0xD800 && u <= 0xDFFF;
    if (lone && r->surrogates == BT_JSON_SURROGATE_REFUSE)
        return 0;
    put_cp(r, lone && r->surrogates == BT_JSON_SURROGATE_REPLACE ? 0xFFFD : (uint32_t)u);
    return 6;
}

static char simple_escape(char c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

/* r->p .. close unescaped into r->text. */
static int unescape(reader *r, const char *close)
{
    const char *p = r->p;
    bt_buf_clear(&r->text);
    while (p < close) {
        const char *run = p;
        while (p < close && *p != '\\')
            p++;
        bt_buf_append(&r->text, run, (size_t)(p - run));
        if (p >= close)
            break;
        char c = simple_escape(p[1]);
        size_t used = c ? 2 : p[1] == 'u' ? unescape_u(r, p, close) : 0;
        if (used == 0) {
            r->p = p;
            return fail(r, "invalid escape in string");
        }
        if (c)
            bt_buf_putc(&r->text, c);
        p += used;
    }
    return r->text.oom ? fail(r, "out of memory") : 0;
}

/* The string at r->p (the opening quote) to the key or string callback. */
static int string(reader *r, bool is_key)
{
    const char *close, *open = r->p;
    bool escaped;
    r->p++;
    if (scan_string(r, &close, &escaped) != 0)
        return -1;
    const char *s = r->p;
    size_t n = (size_t)(close - r->p);
    if (escaped) {
        if (unescape(r, close) != 0)
            return -1;
        s = r->text.data ? r->text.data : "";
        n = r->text.len;
    }
    r->p = open; /* a sink's refusal points at the string */
    if ((is_key ? EMIT(r, key, s, n) : EMIT(r, string, s, n)) != 0)
        return -1;
    r->p = close + 1;
    return 0;
}

/* ---- numbers ---- */

static bool digit(const reader *r) { return r->p < r->end && *r->p >= '0' && *r->p <= '9'; }

static void digits(reader *r)
{
    while (digit(r))
        r->p++;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(reader *r)
{
    const char *start = r->p;
    bool integer = true;
    if (*r->p == '-')
        r->p++;
    if (!digit(r))
        return fail_here(r);
    if (*r->p++ != '0')
        digits(r);
    if (r->p < r->end && *r->p == '.') {
        r->p++, integer = false;
        if (!digit(r))
            return fail_here(r);
        digits(r);
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        r->p++, integer = false;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (!digit(r))
            return fail_here(r);
        digits(r);
    }
    char text[512];
    size_t n = (size_t)(r->p - start);
    if (n >= sizeof text) {
        r->p = start;
        return fail(r, "number too long");
    }
    memcpy(text, start, n);
    text[n] = '\0';
    const char *at = r->p;
    r->p = start; /* a sink's refusal points at the number */
    if (EMIT(r, number, text, n, integer) != 0)
        return -1;
    r->p = at;
    return 0;
}

int bt_json_number_int64(const char *text, int64_t *out)
{
    if (strpbrk(text, ".eE"))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno == ERANGE || end == text || *end)
        return -1;
    *out = v;
    return 0;
}

/* ---- containers ---- */

static int enter(reader *r)
{
    if (++r->depth > r->max_depth)
        return fail(r, "nesting too deep");
    r->p++; /* the bracket */
    skip_ws(r);
    return 0;
}

/* After an element: *more when another follows (a comma was eaten). */
static int next_or_close(reader *r, char close, bool *more)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        skip_ws(r);
        *more = true;
        return 0;
    }
    if (r->p < r->end && *r->p == close) {
        r->p++;
        r->depth--;
        *more = false;
        return 0;
    }
    return fail_here(r);
}

static int member(reader *r)
{
    if (r->p >= r->end || *r->p != '"')
        return fail_here(r);
    if (string(r, true) != 0)
        return -1;
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':')
        return fail_here(r);
    r->p++;
    return value(r);
}

/* An object (members) or an array (values), from its opening bracket. */
static int container(reader *r, bool object)
{
    char close = object ? '}' : ']';
    if ((object ? EMIT0(r, begin_object) : EMIT0(r, begin_array)) != 0 || enter(r) != 0)
        return -1;
    bool more = !(r->p < r->end && *r->p == close);
    if (!more)
        r->p++, r->depth--;
    while (more)
        if ((object ? member(r) : value(r)) != 0 || next_or_close(r, close, &more) != 0)
            return -1;
    return object ? EMIT0(r, end_object) : EMIT0(r, end_array);
}

static int value(reader *r)
{
    skip_ws(r);
    if (r->p >= r->end)
        return fail_here(r);
    switch (*r->p) {
    case '{': return container(r, true);
    case '[': return container(r, false);
    case '"': return string(r, false);
    case 't': return literal(r, "true", 4) != 0 ? -1 : EMIT(r, boolean, true);
    case 'f': return literal(r, "false", 5) != 0 ? -1 : EMIT(r, boolean, false);
    case 'n': return literal(r, "null", 4) != 0 ? -1 : EMIT0(r, null);
    default: return number(r);
    }
}

int bt_json_read(const char *s, size_t len, const bt_json_read_opts *opts, const bt_json_sink *sink,
                 void *ud, char *err, size_t errsz)
{
    static const bt_json_read_opts defaults = {0};
    const bt_json_read_opts *o = opts ? opts : &defaults;
    reader r = {.s = s,
                .p = s,
                .end = s + len,
                .max_depth = o->max_depth > 0 ? o->max_depth : BT_JSON_READ_MAX_DEPTH,
                .surrogates = o->lone_surrogate,
                .refuse_nul = o->refuse_nul,
                .sink = sink,
                .ud = ud};
    int rc = value(&r);
    if (rc == 0) {
        skip_ws(&r);
        if (r.p < r.end)
            rc = fail(&r, "trailing characters after the value");
    }
    if (r.text.data)
        explicit_bzero(r.text.data, r.text.cap); /* a secret may have passed through */
    bt_buf_free(&r.text);
    if (rc != 0 && err && errsz)
        snprintf(err, errsz, "%s at byte %zu", r.why, (size_t)(r.p - s));
    return rc;
}
