/* bt.emit readers: validated Lua values as arena strings (UTF-8, which Go's protobuf
 * requires), resource ids, times, and google.protobuf Struct/Value/List profiles. */
#include "emit_internal.h"

#include "bt/log.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 32

/* ------------------------------------------------------------------------
 * Readers (run after validation, so types are known) */

/* [-0, +0, m] The string or integer at idx as an arena string. */
static char *to_text(ctx *c, int idx)
{
    lua_State *L = c->L;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
        return bt_emit_check_mem(c, bt_arena_strdup(c->a, num));
    }
    size_t n, nuls = 0;
    const char *s = lua_tolstring(L, idx, &n);
    for (size_t i = 0; i < n; i++)
        nuls += s[i] == '\0';
    if (nuls == 0)
        return bt_emit_check_mem(c, bt_arena_strndup(c->a, s, n));
    /* Protobuf strings here are C strings: an API value holding U+0000 (a
     * tenant's odd name) keeps its place as U+FFFD instead of failing the sync. */
    char *out = bt_emit_check_mem(c, bt_arena_alloc(c->a, n + 2 * nuls + 1)), *o = out;
    for (size_t i = 0; i < n; i++)
        o = s[i] ? (*o = s[i], o + 1) : (memcpy(o, "\xEF\xBF\xBD", 3), o + 3);
    *o = '\0';
    bt_debug("bt.emit: U+0000 in a value written as U+FFFD");
    return out;
}

/* [-0, +0, m] t[name] as text, or NULL when absent. */
char *bt_emit_get_text(ctx *c, int t, const char *name)
{
    char *s = NULL;
    if (bt_emit_rawfield(c->L, t, name) != LUA_TNIL)
        s = to_text(c, -1);
    lua_pop(c->L, 1);
    return s;
}

/* [-0, +0, m] t[name] as text, or dflt when absent (a message's default stays). */
char *bt_emit_get_text_or(ctx *c, int t, const char *name, char *dflt)
{
    char *s = bt_emit_get_text(c, t, name);
    return s ? s : dflt;
}

bool bt_emit_get_bool(ctx *c, int t, const char *name)
{
    bt_emit_rawfield(c->L, t, name);
    bool v = lua_toboolean(c->L, -1);
    lua_pop(c->L, 1);
    return v;
}

/* Wire value of an enum field (index + 1), or dflt when absent. */
int bt_emit_get_enum(ctx *c, int t, const char *name, const char *const *names, int dflt)
{
    int v = dflt;
    if (bt_emit_rawfield(c->L, t, name) == LUA_TSTRING)
        v = bt_emit_enum_index(names, lua_tostring(c->L, -1)) + 1;
    lua_pop(c->L, 1);
    return v;
}

/* [-0, +1] Push t[name]; returns whether it is a table. */
bool bt_emit_push_table(ctx *c, int t, const char *name)
{
    return bt_emit_rawfield(c->L, t, name) == LUA_TTABLE;
}

/* t[name] (an array of strings) as an arena array; *n its length. */
char **bt_emit_get_strlist(ctx *c, int t, const char *name, size_t *n)
{
    lua_State *L = c->L;
    char **v = NULL;
    *n = 0;
    if (bt_emit_push_table(c, t, name)) {
        size_t len = lua_rawlen(L, -1);
        v = bt_emit_alloc(c, (len + 1) * sizeof *v);
        for (size_t i = 0; i < len; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
            v[i] = to_text(c, -1);
            lua_pop(L, 1);
        }
        *n = len;
    }
    lua_pop(L, 1);
    return v;
}

Google__Protobuf__Timestamp *bt_emit_get_time(ctx *c, int t, const char *name)
{
    lua_State *L = c->L;
    Google__Protobuf__Timestamp *ts = NULL;
    int type = bt_emit_rawfield(L, t, name);
    if (type != LUA_TNIL) {
        ts = NEW(c, Google__Protobuf__Timestamp, google__protobuf__timestamp__init);
        if (type == LUA_TNUMBER) {
            double secs = floor(lua_tonumber(L, -1));
            ts->seconds = (int64_t)secs;
            ts->nanos = (int32_t)((lua_tonumber(L, -1) - secs) * 1e9);
        } else {
            bt_time_parse_iso8601(lua_tostring(L, -1), &ts->seconds, &ts->nanos);
        }
    }
    lua_pop(L, 1);
    return ts;
}

bt_pb_resource_id *bt_emit_make_id(ctx *c, char *type, char *id)
{
    bt_pb_resource_id *rid = NEW(c, bt_pb_resource_id, c1__connector__v2__resource_id__init);
    rid->resource_type = type;
    rid->resource = id;
    return rid;
}

/* t[name] = {type=, id=} as a ResourceId, or NULL when absent. */
bt_pb_resource_id *bt_emit_get_ref(ctx *c, int t, const char *name)
{
    bt_pb_resource_id *rid = NULL;
    if (bt_emit_push_table(c, t, name)) {
        int r = lua_gettop(c->L);
        rid = bt_emit_make_id(c, bt_emit_get_text(c, r, "type"), bt_emit_get_text(c, r, "id"));
    }
    lua_pop(c->L, 1);
    return rid;
}

/* A Resource holding only its id (a reference). */
bt_pb_resource *bt_emit_stub_resource(ctx *c, bt_pb_resource_id *rid)
{
    bt_pb_resource *r = NEW(c, bt_pb_resource, c1__connector__v2__resource__init);
    r->id = rid;
    return r;
}

/* ------------------------------------------------------------------------
 * Profiles: Lua tables as google.protobuf.Struct (keys sorted later). */

static bt_pb_value *to_value(ctx *c, int idx, const char *path, int depth);

/* 1: array (keys 1..n, n >= 1), 0: object (string keys, or empty). */
static int table_shape(ctx *c, int idx, const char *path)
{
    lua_State *L = c->L;
    lua_Integer ints = 0, strs = 0, n = (lua_Integer)lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING)
            strs++;
        else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= n)
            ints++;
        else
            bt_emit_fail(
                c, "field '%s' has a %s key; profile tables are objects (string keys) or arrays",
                path, luaL_typename(L, -1));
    }
    if (ints && strs)
        bt_emit_fail(c, "field '%s' mixes array items and named keys", path);
    if (ints && ints != n)
        bt_emit_fail(c, "field '%s' is an array with holes", path);
    return ints > 0;
}

static Google__Protobuf__ListValue *to_list(ctx *c, int idx, const char *path, int depth)
{
    lua_State *L = c->L;
    Google__Protobuf__ListValue *l =
        NEW(c, Google__Protobuf__ListValue, google__protobuf__list_value__init);
    l->n_values = lua_rawlen(L, idx);
    l->values = bt_emit_alloc(c, l->n_values * sizeof *l->values);
    char item[PATH_LEN];
    for (size_t i = 0; i < l->n_values; i++) {
        bt_emit_pathf(item, "%s[%zu]", path, i + 1);
        lua_rawgeti(L, idx, (lua_Integer)i + 1);
        l->values[i] = to_value(c, lua_gettop(L), item, depth + 1);
        lua_pop(L, 1);
    }
    return l;
}

static bt_pb_struct *to_struct(ctx *c, int idx, const char *path, int depth)
{
    lua_State *L = c->L;
    bt_pb_struct *s = NEW(c, bt_pb_struct, google__protobuf__struct__init);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        n++;
    }
    s->fields = bt_emit_alloc(c, n * sizeof *s->fields);
    char sub[PATH_LEN];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        bt_emit_pathf(sub, "%s.%s", path, lua_tostring(L, -2));
        bt_emit_check_text(c, -2, sub);
        Google__Protobuf__Struct__FieldsEntry *e = NEW(c, Google__Protobuf__Struct__FieldsEntry,
                                                       google__protobuf__struct__fields_entry__init);
        e->key = to_text(c, -2);
        e->value = to_value(c, lua_gettop(L), sub, depth + 1);
        s->fields[s->n_fields++] = e;
        lua_pop(L, 1);
    }
    return s;
}

static bt_pb_value *to_value(ctx *c, int idx, const char *path, int depth)
{
    lua_State *L = c->L;
    bt_pb_value *v = NEW(c, bt_pb_value, google__protobuf__value__init);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        bt_emit_check_text(c, idx, path);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        v->string_value = to_text(c, idx); /* never protobuf_c_empty_string: "" must be written */
        return v;
    case LUA_TNUMBER:
        if (!isfinite(lua_tonumber(L, idx)))
            bt_emit_fail(c, "field '%s' must be a finite number", path);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        v->number_value = lua_tonumber(L, idx);
        return v;
    case LUA_TBOOLEAN:
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        v->bool_value = lua_toboolean(L, idx);
        return v;
    case LUA_TTABLE:
        if (depth >= MAX_DEPTH)
            bt_emit_fail(c, "field '%s' is nested too deeply (a cycle?)", path);
        /* Each level keeps a key and a value on the stack while it recurses. */
        luaL_checkstack(L, 8, "bt.emit: profile nesting");
        if (table_shape(c, idx, path)) {
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
            v->list_value = to_list(c, idx, path, depth);
        } else {
            v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
            v->struct_value = to_struct(c, idx, path, depth);
        }
        return v;
    default:
        bt_emit_fail(
            c, "field '%s' holds a %s; profile values are strings, numbers, booleans or tables",
            path, luaL_typename(L, idx));
    }
}

/* t[name] as a sorted Struct, or NULL when absent. */
bt_pb_struct *bt_emit_get_profile(ctx *c, int t, const char *name, const char *path)
{
    lua_State *L = c->L;
    bt_pb_struct *s = NULL;
    if (bt_emit_push_table(c, t, name)) {
        int idx = lua_gettop(L);
        if (table_shape(c, idx, path))
            bt_emit_fail(c, "field '%s' must be an object (string keys), not an array", path);
        s = to_struct(c, idx, path, 0);
        bt_pb_struct_sort(s);
    }
    lua_pop(L, 1);
    return s;
}
