/* A strict JSON decoder that pushes straight onto the Lua stack.
 * GraphQL null: absent key in objects, the null sentinel in arrays. */
#include <stdio.h>
#include <string.h>

#include "bt/codec.h"
#include "bt/graphql.h"

typedef struct dec {
    lua_State *L;
    const char *s, *p, *end;
    int depth, max_depth;
    const char *why; /* set on the first error */
} dec;

enum { V_ERR = -1, V_PUSHED = 0, V_NULL = 1 }; /* V_NULL pushes nothing */

static int value(dec *d);

/* Set by a walk around its requests (bt_graphql_json_root_nulls). */
static bool root_nulls;

void bt_graphql_json_root_nulls(bool keep) { root_nulls = keep; }

static int fail(dec *d, const char *why)
{
    if (!d->why)
        d->why = why;
    return V_ERR;
}

static int fail_here(dec *d)
{
    return fail(d, d->p >= d->end ? "unexpected end of input" : "unexpected character");
}

static void skip_ws(dec *d)
{
    while (d->p < d->end && (*d->p == ' ' || *d->p == '\t' || *d->p == '\n' || *d->p == '\r'))
        d->p++;
}

static int literal(dec *d, const char *word, size_t n)
{
    if ((size_t)(d->end - d->p) < n || memcmp(d->p, word, n) != 0)
        return fail_here(d);
    d->p += n;
    return V_PUSHED;
}

size_t bt_graphql_utf8_seq(const unsigned char *p, size_t avail)
{
    return p[0] < 0x80 ? 1 : bt_utf8_next((const char *)p, avail, NULL); /* the codec's decoder */
}

/* ---- strings ---- */

/* Find the closing quote; raw bytes must be valid UTF-8 and not controls. */
static int scan_string(dec *d, const char **close, bool *escaped)
{
    const char *q = d->p;
    *escaped = false;
    while (q < d->end) {
        unsigned char c = (unsigned char)*q;
        if (c == '"') {
            *close = q;
            return V_PUSHED;
        }
        if (c == '\\') {
            *escaped = true;
            q += 2; /* the escape itself is checked while unescaping */
            continue;
        }
        size_t n =
            c < 0x20 ? 0 : bt_graphql_utf8_seq((const unsigned char *)q, (size_t)(d->end - q));
        if (n == 0) {
            d->p = q;
            return fail(d, c < 0x20 ? "control character in string" : "invalid UTF-8 in string");
        }
        q += n;
    }
    d->p = d->end;
    return fail(d, "unterminated string");
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

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX at p (with a following low surrogate when p holds a high one).
 * A lone surrogate is kept as its three bytes, which are not valid UTF-8:
 * the decoder rewrites nothing, an id holding one is refused where ids are
 * checked (page_check.c), and a script may repair a name (lib.fields).
 * Returns the input consumed, 0 on a malformed escape. */
static size_t unescape_u(const char *p, const char *close, char *out, size_t *n)
{
    long u = close - p >= 6 ? hex4(p + 2) : -1;
    if (u < 0)
        return 0;
    if (u >= 0xD800 && u <= 0xDBFF && close - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        long lo = hex4(p + 8);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            *n += put_utf8(out + *n, 0x10000 + ((unsigned long)(u - 0xD800) << 10) +
                                         (unsigned long)(lo - 0xDC00));
            return 12;
        }
    }
    *n += put_utf8(out + *n, (unsigned long)u);
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

/* Output never outgrows the input, so out has close - d->p bytes. */
static int unescape(dec *d, const char *close, char *out, size_t *n)
{
    const char *p = d->p;
    while (p < close) {
        if (*p != '\\') {
            out[(*n)++] = *p++;
            continue;
        }
        char c = simple_escape(p[1]);
        size_t used = c ? 2 : p[1] == 'u' ? unescape_u(p, close, out, n) : 0;
        if (used == 0) {
            d->p = p;
            return fail(d, "invalid escape in string");
        }
        if (c)
            out[(*n)++] = c;
        p += used;
    }
    return V_PUSHED;
}

static int string(dec *d)
{
    const char *close;
    bool escaped;
    d->p++; /* the opening quote */
    if (scan_string(d, &close, &escaped) != V_PUSHED)
        return V_ERR;
    if (!escaped) {
        lua_pushlstring(d->L, d->p, (size_t)(close - d->p));
    } else {
        luaL_Buffer b;
        char *out = luaL_buffinitsize(d->L, &b, (size_t)(close - d->p));
        size_t n = 0;
        if (unescape(d, close, out, &n) != V_PUSHED)
            return V_ERR; /* the buffer box is dropped with the rest of the stack */
        luaL_pushresultsize(&b, n);
    }
    d->p = close + 1;
    return V_PUSHED;
}

/* ---- numbers ---- */

static bool digit(const dec *d) { return d->p < d->end && *d->p >= '0' && *d->p <= '9'; }

static void digits(dec *d)
{
    while (digit(d))
        d->p++;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? ; integers stay integers. */
static int number(dec *d)
{
    const char *start = d->p;
    if (*d->p == '-')
        d->p++;
    if (!digit(d))
        return fail_here(d);
    if (*d->p++ != '0')
        digits(d);
    if (d->p < d->end && *d->p == '.') {
        d->p++;
        if (!digit(d))
            return fail_here(d);
        digits(d);
    }
    if (d->p < d->end && (*d->p == 'e' || *d->p == 'E')) {
        d->p++;
        if (d->p < d->end && (*d->p == '+' || *d->p == '-'))
            d->p++;
        if (!digit(d))
            return fail_here(d);
        digits(d);
    }
    char text[512];
    size_t n = (size_t)(d->p - start);
    if (n >= sizeof text) {
        d->p = start;
        return fail(d, "number too long");
    }
    memcpy(text, start, n);
    text[n] = '\0';
    if (lua_stringtonumber(d->L, text) == 0) {
        d->p = start;
        return fail(d, "number out of range");
    }
    return V_PUSHED;
}

/* ---- containers ---- */

static int enter(dec *d)
{
    if (++d->depth > d->max_depth)
        return fail(d, "nesting too deep");
    if (!lua_checkstack(d->L, 4))
        return fail(d, "nesting too deep for the Lua stack");
    d->p++; /* the bracket */
    skip_ws(d);
    return V_PUSHED;
}

/* After an element: true when another follows (a comma was eaten). */
static int next_or_close(dec *d, char close, bool *more)
{
    skip_ws(d);
    if (d->p < d->end && *d->p == ',') {
        d->p++;
        skip_ws(d);
        *more = true;
        return V_PUSHED;
    }
    if (d->p < d->end && *d->p == close) {
        d->p++;
        d->depth--;
        *more = false;
        return V_PUSHED;
    }
    return fail_here(d);
}

static int array(dec *d)
{
    if (enter(d) != V_PUSHED)
        return V_ERR;
    lua_newtable(d->L);
    if (d->p < d->end && *d->p == ']') {
        d->p++;
        d->depth--;
        return V_PUSHED;
    }
    bool more = true;
    for (lua_Integer i = 1; more; i++) {
        int v = value(d);
        if (v == V_ERR)
            return V_ERR;
        if (v == V_NULL)
            bt_graphql_push_null(d->L); /* keeps the array's length right */
        lua_rawseti(d->L, -2, i);
        if (next_or_close(d, ']', &more) != V_PUSHED)
            return V_ERR;
    }
    return V_PUSHED;
}

static int member(dec *d)
{
    if (d->p >= d->end || *d->p != '"')
        return fail_here(d);
    if (string(d) != V_PUSHED)
        return V_ERR;
    skip_ws(d);
    if (d->p >= d->end || *d->p != ':')
        return fail_here(d);
    d->p++;
    int v = value(d);
    if (v == V_ERR)
        return V_ERR;
    if (v == V_NULL && root_nulls && d->depth == 2)
        bt_graphql_push_null(d->L); /* data.<field>: null, told from missing */
    else if (v == V_NULL)
        lua_pushnil(d->L); /* a null member is an absent key */
    lua_rawset(d->L, -3);
    return V_PUSHED;
}

static int object(dec *d)
{
    if (enter(d) != V_PUSHED)
        return V_ERR;
    lua_newtable(d->L);
    if (d->p < d->end && *d->p == '}') {
        d->p++;
        d->depth--;
        return V_PUSHED;
    }
    bool more = true;
    while (more) {
        if (member(d) != V_PUSHED || next_or_close(d, '}', &more) != V_PUSHED)
            return V_ERR;
    }
    return V_PUSHED;
}

static int value(dec *d)
{
    skip_ws(d);
    if (d->p >= d->end)
        return fail_here(d);
    switch (*d->p) {
    case '{': return object(d);
    case '[': return array(d);
    case '"': return string(d);
    case 't': lua_pushboolean(d->L, 1); return literal(d, "true", 4);
    case 'f': lua_pushboolean(d->L, 0); return literal(d, "false", 5);
    case 'n': return literal(d, "null", 4) == V_ERR ? V_ERR : V_NULL;
    default: return number(d);
    }
}

int bt_graphql_json_decode(lua_State *L, const char *s, size_t len, int max_depth, char *err,
                           size_t errsz)
{
    dec d = {L, s, s, s + len, 0, max_depth > 0 ? max_depth : BT_JSON_MAX_DEPTH, NULL};
    int base = lua_gettop(L);
    luaL_checkstack(L, 4, "json decode");
    int v = value(&d);
    if (v != V_ERR) {
        skip_ws(&d);
        if (d.p < d.end)
            v = fail(&d, "trailing characters after the value");
    }
    if (v == V_ERR) {
        lua_settop(L, base);
        snprintf(err, errsz, "%s at byte %zu", d.why, (size_t)(d.p - s));
        return -1;
    }
    if (v == V_NULL)
        lua_pushnil(L);
    return 0;
}
