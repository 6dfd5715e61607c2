/* Lua values -> JSON text (GraphQL variables). Object keys are sorted so the
 * same variables always give the same bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/codec.h"
#include "bt/graphql_lua.h"

#define MAX_DEPTH 64

typedef struct enc {
    lua_State *L;
    bt_http_buf *out;
    const char *what;
    int depth;
    size_t plen;
    char path[200];
} enc;

static int enc_fail(enc *e, const char *why)
{
    return luaL_error(e->L, "%s%s: %s", e->what, e->path, why);
}

static void put(enc *e, const char *s, size_t n)
{
    if (bt_http_buf_append(e->out, s, n) != 0)
        enc_fail(e, "out of memory");
}

/* Appends "s" escaped (the codec's escaper); GraphQL variables refuse
 * invalid UTF-8 rather than repair it: returns the offset of the first
 * invalid byte (nothing appended), or len. */
static size_t escape_into(const char *s, size_t len, bt_http_buf *out, bool *oom)
{
    size_t valid = bt_utf8_valid_prefix(s, len);
    *oom = valid == len && bt_json_str_append(out, s, len) != 0;
    return valid;
}

void bt_graphql_json_string(lua_State *L, const char *s, size_t len, bt_http_buf *out)
{
    bool oom;
    if (escape_into(s, len, out, &oom) != len)
        luaL_error(L, "string is not valid UTF-8");
    if (oom)
        luaL_error(L, "out of memory");
}

static void string(enc *e, int idx)
{
    size_t len;
    const char *s = lua_tolstring(e->L, idx, &len);
    bool oom;
    if (escape_into(s, len, e->out, &oom) != len)
        enc_fail(e, "string is not valid UTF-8");
    if (oom)
        enc_fail(e, "out of memory");
}

static void number(enc *e, int idx)
{
    char text[64];
    if (lua_isinteger(e->L, idx)) {
        snprintf(text, sizeof text, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(e->L, idx));
    } else {
        double v = (double)lua_tonumber(e->L, idx);
        if (!isfinite(v))
            enc_fail(e, "cannot encode NaN or infinity");
        snprintf(text, sizeof text, "%.14g", v);
        if (strtod(text, NULL) != v)
            snprintf(text, sizeof text, "%.17g", v);
    }
    put(e, text, strlen(text));
}

/* ---- tables ---- */

typedef struct json_key {
    const char *s;
    size_t n;
} json_key;

static int key_cmp(const void *a, const void *b)
{
    const json_key *x = a, *y = b;
    int c = memcmp(x->s, y->s, x->n < y->n ? x->n : y->n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static bool marked_array(lua_State *L, int idx);

/* Array length when the keys are exactly 1..n (or the table is marked as an
 * array); -1 for an object, with its key count in *nkeys. */
static lua_Integer table_shape(enc *e, int idx, lua_Integer *nkeys)
{
    lua_State *L = e->L;
    lua_Integer ints = 0, max = 0, strs = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            strs++;
        } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1) {
            ints++;
            max = lua_tointeger(L, -1) > max ? lua_tointeger(L, -1) : max;
        } else {
            enc_fail(e, "table keys must be strings (object) or 1..n (array)");
        }
    }
    if (strs && (ints || marked_array(L, idx)))
        enc_fail(e, "table mixes array items and object keys");
    if (ints != max)
        enc_fail(e, "array has holes (use graphql.null for null items)");
    *nkeys = strs;
    return ints || marked_array(L, idx) ? ints : -1;
}

static void value(enc *e, int idx);

/* Append ".key" or "[i]" to the error path; returns the old length. */
static size_t path_push(enc *e, const char *key, lua_Integer i)
{
    size_t saved = e->plen, room = sizeof e->path - e->plen;
    int n = key ? snprintf(e->path + e->plen, room, ".%s", key)
                : snprintf(e->path + e->plen, room, "[%lld]", (long long)i);
    e->plen += n < 0 ? 0 : (size_t)n < room ? (size_t)n : room - 1;
    return saved;
}

static void path_pop(enc *e, size_t saved)
{
    e->plen = saved;
    e->path[saved] = '\0';
}

static void array(enc *e, int idx, lua_Integer n)
{
    put(e, "[", 1);
    for (lua_Integer i = 1; i <= n; i++) {
        if (i > 1)
            put(e, ",", 1);
        size_t saved = path_push(e, NULL, i);
        lua_rawgeti(e->L, idx, i);
        value(e, lua_gettop(e->L));
        lua_pop(e->L, 1);
        path_pop(e, saved);
    }
    put(e, "]", 1);
}

/* The keys, sorted, in a userdata left on the stack (freed by the GC even
 * when an error unwinds). */
static json_key *sorted_keys(lua_State *L, int idx, lua_Integer n)
{
    json_key *keys = lua_newuserdatauv(L, (size_t)n * sizeof *keys, 0);
    lua_Integer i = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        keys[i].s = lua_tolstring(L, -1, &keys[i].n); /* kept alive by the table */
        i++;
    }
    qsort(keys, (size_t)n, sizeof *keys, key_cmp);
    return keys;
}

static void object(enc *e, int idx, lua_Integer n)
{
    json_key *keys = sorted_keys(e->L, idx, n);
    put(e, "{", 1);
    for (lua_Integer i = 0; i < n; i++) {
        if (i > 0)
            put(e, ",", 1);
        size_t saved = path_push(e, keys[i].s, 0);
        lua_pushlstring(e->L, keys[i].s, keys[i].n);
        string(e, -1);
        put(e, ":", 1);
        lua_rawget(e->L, idx);
        value(e, lua_gettop(e->L));
        lua_pop(e->L, 1);
        path_pop(e, saved);
    }
    put(e, "}", 1);
    lua_pop(e->L, 1); /* the keys */
}

static void table(enc *e, int idx)
{
    if (++e->depth > MAX_DEPTH)
        enc_fail(e, "tables nested too deep (a cycle?)");
    luaL_checkstack(e->L, 6, "json encode");
    lua_Integer nkeys;
    lua_Integer n = table_shape(e, idx, &nkeys);
    if (n >= 0)
        array(e, idx, n);
    else
        object(e, idx, nkeys);
    e->depth--;
}

static void value(enc *e, int idx)
{
    switch (lua_type(e->L, idx)) {
    case LUA_TSTRING: string(e, idx); break;
    case LUA_TNUMBER: number(e, idx); break;
    case LUA_TBOOLEAN: lua_toboolean(e->L, idx) ? put(e, "true", 4) : put(e, "false", 5); break;
    case LUA_TTABLE: table(e, idx); break;
    case LUA_TLIGHTUSERDATA:
        if (bt_graphql_is_null(e->L, idx)) {
            put(e, "null", 4);
            break;
        }
        /* fall through */
    default:
        lua_pushfstring(e->L, "cannot encode a %s", luaL_typename(e->L, idx));
        enc_fail(e, lua_tostring(e->L, -1));
    }
}

void bt_graphql_json_encode(lua_State *L, int idx, bt_http_buf *out, const char *what)
{
    enc e = {L, out, what, 0, 0, {0}};
    value(&e, lua_absindex(L, idx));
}

/* ---- the array mark and the null sentinel ---- */

static char ARRAY_MT; /* registry key of the "this is an array" metatable */
static char NULL_SENTINEL;

void bt_graphql_push_null(lua_State *L) { lua_pushlightuserdata(L, &NULL_SENTINEL); }

bool bt_graphql_is_null(lua_State *L, int idx)
{
    return lua_touserdata(L, idx) == &NULL_SENTINEL && lua_islightuserdata(L, idx);
}

static void push_array_mt(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &ARRAY_MT) == LUA_TTABLE)
        return;
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushliteral(L, "graphql.array");
    lua_setfield(L, -2, "__name");
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ARRAY_MT);
}

void bt_graphql_mark_array(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    push_array_mt(L);
    lua_setmetatable(L, idx);
}

static bool marked_array(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return false;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ARRAY_MT);
    bool same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}
