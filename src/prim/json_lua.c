/* The Lua-table builder: a sink of the codec's JSON reader that pushes
 * values onto the Lua stack (bt/json_lua.h). */
#include "bt/json_lua.h"

#include <stdio.h>

typedef struct {
    lua_State *L;
    const bt_json_lua_opts *o;
    int depth; /* containers open */
    bool in_array[BT_JSON_LUA_MAX_DEPTH + 1];
    lua_Integer count[BT_JSON_LUA_MAX_DEPTH + 1];
    bool top_object;
} builder;

/* The value on top goes into the open container (the key below it for an
 * object); at depth 0 it is the result and stays. */
static const char *placed(builder *b)
{
    if (b->depth == 0)
        return NULL;
    if (b->in_array[b->depth])
        lua_rawseti(b->L, -2, ++b->count[b->depth]);
    else
        lua_rawset(b->L, -3);
    return NULL;
}

static const char *open_table(builder *b, bool array)
{
    if (b->depth >= BT_JSON_LUA_MAX_DEPTH)
        return "nesting too deep";
    if (!lua_checkstack(b->L, 4))
        return "nesting too deep for the Lua stack";
    if (b->depth == 0)
        b->top_object = !array;
    lua_newtable(b->L);
    b->depth++;
    b->in_array[b->depth] = array;
    b->count[b->depth] = 0;
    return NULL;
}

static const char *close_table(builder *b)
{
    b->depth--;
    return placed(b);
}

static const char *on_begin_object(void *ud) { return open_table(ud, false); }
static const char *on_begin_array(void *ud) { return open_table(ud, true); }
static const char *on_end(void *ud) { return close_table(ud); }

static const char *on_key(void *ud, const char *s, size_t n)
{
    lua_pushlstring(((builder *)ud)->L, s, n);
    return NULL;
}

static const char *on_string(void *ud, const char *s, size_t n)
{
    lua_pushlstring(((builder *)ud)->L, s, n);
    return placed(ud);
}

static const char *on_number(void *ud, const char *text, size_t n, bool integer)
{
    builder *b = ud;
    (void)n, (void)integer; /* Lua tells integers from floats by the text itself */
    if (lua_stringtonumber(b->L, text) == 0)
        return "number out of range";
    return placed(b);
}

static const char *on_boolean(void *ud, bool v)
{
    lua_pushboolean(((builder *)ud)->L, v);
    return placed(ud);
}

static const char *on_null(void *ud)
{
    builder *b = ud;
    bool in_array = b->depth > 0 && b->in_array[b->depth];
    bool pushed = true;
    if (b->depth == 0)
        lua_pushnil(b->L);
    else if (b->o->null_value)
        pushed = b->o->null_value(b->L, b->depth, in_array, b->o->ud);
    else
        lua_pushlightuserdata(b->L, NULL);
    if (!pushed && in_array) {
        lua_pushlightuserdata(b->L, NULL); /* an element cannot be left out */
        pushed = true;
    }
    if (!pushed)
        lua_pushnil(b->L); /* an absent member, also when an earlier duplicate set it */
    return placed(b);
}

/* begin and end object, begin and end array, key, string, number, boolean, null */
static const bt_json_sink lua_sink = {on_begin_object, on_end,    on_begin_array,
                                      on_end,          on_key,    on_string,
                                      on_number,       on_boolean, on_null};

int bt_json_lua_decode(lua_State *L, const char *s, size_t len, const bt_json_lua_opts *o,
                       char *err, size_t errsz)
{
    static const bt_json_lua_opts defaults = {{0}, NULL, NULL};
    builder b = {.L = L, .o = o ? o : &defaults};
    bt_json_read_opts read = b.o->read;
    if (read.max_depth <= 0 || read.max_depth > BT_JSON_LUA_MAX_DEPTH)
        read.max_depth = read.max_depth <= 0 ? BT_JSON_READ_MAX_DEPTH : BT_JSON_LUA_MAX_DEPTH;
    int base = lua_gettop(L);
    luaL_checkstack(L, 4, "json decode");
    if (bt_json_read(s, len, &read, &lua_sink, &b, err, errsz) != 0) {
        lua_settop(L, base);
        return -1;
    }
    return b.top_object ? 1 : 0;
}

typedef struct {
    const char *s;
    size_t len;
    const bt_json_lua_opts *o;
    char *err;
    size_t errsz;
    int rc;
} call;

static int decode_protected(lua_State *L)
{
    call *c = lua_touserdata(L, 1);
    lua_pop(L, 1);
    c->rc = bt_json_lua_decode(L, c->s, c->len, c->o, c->err, c->errsz);
    return c->rc < 0 ? 0 : 1;
}

int bt_json_lua_pdecode(lua_State *L, const char *s, size_t len, const bt_json_lua_opts *o,
                        char *err, size_t errsz)
{
    call c = {s, len, o, err, errsz, -1};
    if (!lua_checkstack(L, 2)) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    lua_pushcfunction(L, decode_protected);
    lua_pushlightuserdata(L, &c);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        lua_pop(L, 1);
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    if (c.rc < 0)
        lua_pop(L, 1); /* the nil a failed call returns */
    return c.rc;
}
