/* The Lua-table builder: a sink of the codec's JSON reader that pushes
 * values onto the Lua stack (bt/json_lua.h). */
#include "bt/json_lua.h"

#include <stdio.h>

/* A container's table is made when it closes, at its final size, from the
 * items waiting above it on the stack (each member's key and value, or each
 * element): a table grown one key at a time is rehashed at 1, 2, 4, ... keys,
 * and a sync decodes a few hundred thousand small ones. Past PENDING_MAX
 * items the table is made at that size and later items go straight in, so
 * the stack holds at most PENDING_MAX items per open container. */
#define PENDING_MAX 128

typedef struct {
    lua_State *L;
    const bt_json_lua_opts *o;
    int depth; /* containers open */
    bool in_array[BT_JSON_LUA_MAX_DEPTH + 1];
    bool made[BT_JSON_LUA_MAX_DEPTH + 1];         /* its table exists, at base + 1 */
    int base[BT_JSON_LUA_MAX_DEPTH + 1];          /* the stack top when it opened */
    lua_Integer count[BT_JSON_LUA_MAX_DEPTH + 1]; /* elements set (arrays) */
    bool top_object;
} builder;

/* Make the open container's table from the items above its base, sized for
 * them (and at least `hint` entries), and leave it alone at base + 1. */
static void make_table(builder *b, int hint)
{
    lua_State *L = b->L;
    int d = b->depth, first = b->base[d] + 1, n = lua_gettop(L) - b->base[d];
    bool array = b->in_array[d];
    int size = n > hint ? n : hint;
    lua_createtable(L, array ? size : 0, array ? 0 : size / 2);
    for (int i = 0; i < n; i++) {
        lua_pushvalue(L, first + i);
        if (array)
            lua_rawseti(L, -2, ++b->count[d]);
        else if (i % 2 == 1)
            lua_rawset(L, -3);
    }
    if (n > 0) { /* the table to first, the items gone (with none it is there already) */
        lua_replace(L, first);
        lua_settop(L, first);
    }
    b->made[d] = true;
}

/* The value on top goes into the open container: into its table once made
 * (the key below it for an object), else it waits on the stack; at depth 0
 * it is the result and stays. */
static const char *placed(builder *b)
{
    int d = b->depth;
    if (d == 0)
        return NULL;
    if (!b->made[d]) {
        if (lua_gettop(b->L) - b->base[d] >= PENDING_MAX)
            make_table(b, 2 * PENDING_MAX);
        return NULL;
    }
    if (b->in_array[d])
        lua_rawseti(b->L, -2, ++b->count[d]);
    else
        lua_rawset(b->L, -3);
    return NULL;
}

static const char *open_table(builder *b, bool array)
{
    if (b->depth >= BT_JSON_LUA_MAX_DEPTH)
        return "nesting too deep";
    if (!lua_checkstack(b->L, PENDING_MAX + 4))
        return "nesting too deep for the Lua stack";
    if (b->depth == 0)
        b->top_object = !array;
    b->depth++;
    b->in_array[b->depth] = array;
    b->made[b->depth] = false;
    b->base[b->depth] = lua_gettop(b->L);
    b->count[b->depth] = 0;
    return NULL;
}

static const char *close_table(builder *b)
{
    if (!b->made[b->depth])
        make_table(b, 0);
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
