/* bt.emit: the sync phase's output. Each function validates its table
 * strictly (unknown keys, wrong types and missing required fields raise an
 * error naming the field, at the script's file:line), builds the
 * c1.connector.v2 message with the baton id conventions, and hands it to the
 * bound sink. A sink failure raises too: the sync must stop.
 *
 * Messages are built in a per-state arena that is reset at the start of
 * every call, so an error raised half-way leaks nothing. Strings are copied
 * into the arena (checked for UTF-8, which Go's protobuf requires). */
#include "bt/lua.h"
#include "bt/model.h"
#include "bt/log.h"
#include "bt/prim.h"
#include "bt/sink.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char k_sink = 0;  /* registry[&k_sink] = light userdata bt_sink* */
static const char k_state = 0; /* registry[&k_state] = emit_state userdata */

#define MAX_DEPTH 32
#define MAX_ANNOTATIONS 8
#define PATH_LEN 256

typedef struct {
    bt_arena arena;
} emit_state;

typedef struct {
    lua_State *L;
    const char *fn; /* "bt.emit.resource" */
    bt_arena *a;
    bt_sink *sink;
} ctx;

/* ------------------------------------------------------------------------
 * Errors and allocation */

/* [-0, +0, v] Raise "<fn>: <message>" at the caller's file:line. */
static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static int fail(ctx *c, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    luaL_error(c->L, "%s: %s", c->fn, msg);
    abort(); /* not reached: luaL_error longjmps (its prototype lacks noreturn) */
}

/* A field path such as "user.emails[2].address" (truncated when huge). */
static void pathf(char out[PATH_LEN], const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pathf(char out[PATH_LEN], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_LEN, fmt, ap);
    va_end(ap);
}

static void *alloc(ctx *c, size_t n)
{
    void *p = bt_arena_alloc(c->a, n);
    if (!p)
        fail(c, "out of memory");
    return p;
}

static void *check_mem(ctx *c, void *p)
{
    if (!p)
        fail(c, "out of memory");
    return p;
}

#define NEW(c, T, init)                                                                            \
    ({                                                                                             \
        T *_p = alloc((c), sizeof(T));                                                             \
        init(_p);                                                                                  \
        _p;                                                                                        \
    })

/* ------------------------------------------------------------------------
 * Field specifications */

typedef enum {
    K_STR,      /* string */
    K_ID,       /* non-empty string, or an integer (formatted in base 10) */
    K_BOOL,     /* boolean */
    K_STRLIST,  /* array of strings */
    K_ENUM,     /* one of f->enums */
    K_ENUMLIST, /* array of f->enums */
    K_TABLE,    /* table checked against f->sub */
    K_LIST,     /* array of tables checked against f->sub */
    K_PROFILE,  /* any JSON-like table: becomes a google.protobuf.Struct */
    K_TIME,     /* ISO-8601 string or Unix seconds */
} kind;

typedef struct field {
    const char *name;
    kind k;
    bool required;
    const struct field *sub;
    const char *const *enums; /* value i+1 on the wire */
} field;

static const char *const TRAITS[] = {"user", "group", "role", "app", NULL};
static const char *const STATUSES[] = {"enabled", "disabled", "deleted", NULL};
static const char *const ACCOUNT_TYPES[] = {"human", "service", "system", NULL};
static const char *const PURPOSES[] = {"assignment", "permission", "ownership", NULL};

/* Spec entries: optional, required, with a sub-spec, with enum names, end. */
#define OPT(n, k) {n, k, false, NULL, NULL}
#define REQ(n, k) {n, k, true, NULL, NULL}
#define SUB(n, k, req, sub) {n, k, req, sub, NULL}
#define ENUMS(n, k, names) {n, k, false, NULL, names}
#define END {NULL, K_STR, false, NULL, NULL}

static const field REF[] = {REQ("type", K_ID), REQ("id", K_ID), END};

static const field RESOURCE_TYPE[] = {
    REQ("id", K_ID),
    REQ("display_name", K_STR),
    ENUMS("traits", K_ENUMLIST, TRAITS),
    OPT("description", K_STR),
    OPT("skip_entitlements_and_grants", K_BOOL),
    END,
};

static const field EMAIL[] = {REQ("address", K_STR), OPT("primary", K_BOOL), END};

static const field USER[] = {
    SUB("emails", K_LIST, false, EMAIL),
    OPT("login", K_STR),
    OPT("login_aliases", K_STRLIST),
    ENUMS("status", K_ENUM, STATUSES),
    OPT("status_details", K_STR),
    ENUMS("account_type", K_ENUM, ACCOUNT_TYPES),
    OPT("profile", K_PROFILE),
    OPT("created_at", K_TIME),
    OPT("given_name", K_STR),
    OPT("family_name", K_STR),
    END,
};

static const field GROUP[] = {
    OPT("profile", K_PROFILE), OPT("source_type", K_STR), OPT("raw_source_type", K_STR), END};
static const field ROLE[] = {OPT("profile", K_PROFILE), END};
static const field APP[] = {OPT("profile", K_PROFILE), OPT("help_url", K_STR), END};

static const field RESOURCE[] = {
    REQ("type", K_ID),
    REQ("id", K_ID),
    REQ("display_name", K_STR),
    OPT("description", K_STR),
    SUB("parent", K_TABLE, false, REF),
    OPT("profile", K_PROFILE),
    ENUMS("status", K_ENUM, STATUSES),
    OPT("status_details", K_STR),
    OPT("created_at", K_TIME),
    SUB("user", K_TABLE, false, USER),
    SUB("group", K_TABLE, false, GROUP),
    SUB("role", K_TABLE, false, ROLE),
    SUB("app", K_TABLE, false, APP),
    OPT("external_link", K_STR),
    END,
};

static const field ENTITLEMENT[] = {
    SUB("resource", K_TABLE, true, REF),
    REQ("slug", K_ID),
    OPT("display_name", K_STR),
    OPT("description", K_STR),
    ENUMS("purpose", K_ENUM, PURPOSES),
    OPT("grantable_to", K_STRLIST),
    OPT("immutable", K_BOOL),
    END,
};

static const field EXPANDABLE[] = {
    REQ("entitlement_ids", K_STRLIST),
    OPT("shallow", K_BOOL),
    OPT("resource_type_ids", K_STRLIST),
    END,
};

static const field GRANT[] = {
    SUB("resource", K_TABLE, true, REF),
    REQ("slug", K_ID),
    SUB("principal", K_TABLE, true, REF),
    OPT("immutable", K_BOOL),
    SUB("expandable", K_TABLE, false, EXPANDABLE),
    END,
};

/* ------------------------------------------------------------------------
 * Validation */

static void check_table(ctx *c, int t, const char *prefix, const field *spec);

/* [-0, +1, m] Push t[name] without metamethods (an __index must not run
 * script code half-way through building a row); returns its type. */
static int rawfield(lua_State *L, int t, const char *name)
{
    t = lua_absindex(L, t);
    lua_pushstring(L, name);
    return lua_rawget(L, t);
}

static const field *find_field(const field *spec, const char *name)
{
    for (; spec->name; spec++)
        if (strcmp(spec->name, name) == 0)
            return spec;
    return NULL;
}

static int enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static void expect_type(ctx *c, int idx, int type, const char *path, const char *what)
{
    if (lua_type(c->L, idx) != type)
        fail(c, "field '%s' must be %s, got %s", path, what, luaL_typename(c->L, idx));
}

/* [-0, +0, v] A string value at idx that protobuf can carry. */
static void check_text(ctx *c, int idx, const char *path)
{
    size_t n;
    const char *s = lua_tolstring(c->L, idx, &n);
    if (!bt_utf8_is_valid(s, n))
        fail(c, "field '%s' is not valid UTF-8", path);
}

static void check_enum(ctx *c, int idx, const char *path, const char *const *names)
{
    expect_type(c, idx, LUA_TSTRING, path, "a string");
    if (enum_index(names, lua_tostring(c->L, idx)) < 0) {
        char allowed[128] = "";
        for (int i = 0; names[i]; i++)
            snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s\"%s\"",
                     i ? ", " : "", names[i]);
        fail(c, "field '%s' must be one of %s, got \"%s\"", path, allowed,
             lua_tostring(c->L, idx));
    }
}

static void check_id(ctx *c, int idx, const char *path)
{
    lua_State *L = c->L;
    if (lua_isinteger(L, idx))
        return;
    expect_type(c, idx, LUA_TSTRING, path, "a string");
    if (lua_rawlen(L, idx) == 0)
        fail(c, "field '%s' must not be empty", path);
    check_text(c, idx, path);
}

/* Unix seconds accepted as a number: years 0001..9999. */
#define MIN_UNIX_SECONDS (-62135596800.0)
#define MAX_UNIX_SECONDS 253402300799.0

static void check_time(ctx *c, int idx, const char *path)
{
    lua_State *L = c->L;
    int64_t s;
    int32_t ns;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        double v = lua_tonumber(L, idx);
        if (!(v >= MIN_UNIX_SECONDS && v <= MAX_UNIX_SECONDS))
            fail(c, "field '%s' is out of range for a time", path);
        return;
    }
    expect_type(c, idx, LUA_TSTRING, path, "an ISO-8601 string");
    if (bt_time_parse_iso8601(lua_tostring(L, idx), &s, &ns) != 0)
        fail(c, "field '%s' is not an ISO-8601 time: \"%s\"", path, lua_tostring(L, idx));
}

/* Length of the array at idx; raises unless its keys are exactly 1..n. */
static lua_Integer check_array(ctx *c, int idx, const char *path)
{
    lua_State *L = c->L;
    expect_type(c, idx, LUA_TTABLE, path, "an array");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > n)
            fail(c, "field '%s' must be an array (found a non-index key)", path);
        count++;
    }
    if (count != n)
        fail(c, "field '%s' must be an array without holes", path);
    return n;
}

/* [-0, +0, v] Check each element of the array at idx with `each`. */
static void check_elements(ctx *c, int idx, const char *path, const field *f)
{
    lua_State *L = c->L;
    luaL_checkstack(L, 8, "bt.emit: table nesting");
    lua_Integer n = check_array(c, idx, path);
    char item[PATH_LEN];
    for (lua_Integer i = 1; i <= n; i++) {
        pathf(item, "%s[%lld]", path, (long long)i);
        lua_rawgeti(L, idx, i);
        int top = lua_gettop(L);
        if (f->k == K_STRLIST) {
            expect_type(c, top, LUA_TSTRING, item, "a string");
            check_text(c, top, item);
        } else if (f->k == K_ENUMLIST) {
            check_enum(c, top, item, f->enums);
        } else {
            char prefix[PATH_LEN];
            expect_type(c, top, LUA_TTABLE, item, "a table");
            pathf(prefix, "%s.", item);
            check_table(c, top, prefix, f->sub);
        }
        lua_pop(L, 1);
    }
}

/* [-0, +0, v] Check the value at idx against f. */
static void check_value(ctx *c, int idx, const char *prefix, const field *f)
{
    char path[PATH_LEN];
    pathf(path, "%s%s", prefix, f->name);
    switch (f->k) {
    case K_STR:
        expect_type(c, idx, LUA_TSTRING, path, "a string");
        check_text(c, idx, path);
        break;
    case K_ID: check_id(c, idx, path); break;
    case K_BOOL: expect_type(c, idx, LUA_TBOOLEAN, path, "a boolean"); break;
    case K_ENUM: check_enum(c, idx, path, f->enums); break;
    case K_TIME: check_time(c, idx, path); break;
    case K_PROFILE: expect_type(c, idx, LUA_TTABLE, path, "a table"); break;
    case K_TABLE: {
        char sub[PATH_LEN];
        expect_type(c, idx, LUA_TTABLE, path, "a table");
        pathf(sub, "%s.", path);
        check_table(c, idx, sub, f->sub);
        break;
    }
    case K_STRLIST:
    case K_ENUMLIST:
    case K_LIST: check_elements(c, idx, path, f); break;
    }
}

/* [-0, +0, v] Every key of the table at t is a field of spec with the right
 * type, and every required field is present. */
static void check_table(ctx *c, int t, const char *prefix, const field *spec)
{
    lua_State *L = c->L;
    luaL_checkstack(L, 8, "bt.emit: table nesting");
    t = lua_absindex(L, t);
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            fail(c, "unexpected %s key in %s (fields are named)", luaL_typename(L, -2),
                 *prefix ? prefix : "the argument");
        const char *key = lua_tostring(L, -2);
        const field *f = find_field(spec, key);
        if (!f)
            fail(c, "unknown field '%s%s'", prefix, key);
        check_value(c, lua_gettop(L), prefix, f);
        lua_pop(L, 1);
    }
    for (const field *f = spec; f->name; f++) {
        if (!f->required)
            continue;
        bool missing = rawfield(L, t, f->name) == LUA_TNIL;
        lua_pop(L, 1);
        if (missing)
            fail(c, "missing required field '%s%s'", prefix, f->name);
    }
}

/* ------------------------------------------------------------------------
 * Readers (run after validation, so types are known) */

/* [-0, +0, m] The string or integer at idx as an arena string. */
static char *to_text(ctx *c, int idx)
{
    lua_State *L = c->L;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        char num[32];
        snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, idx));
        return check_mem(c, bt_arena_strdup(c->a, num));
    }
    size_t n, nuls = 0;
    const char *s = lua_tolstring(L, idx, &n);
    for (size_t i = 0; i < n; i++)
        nuls += s[i] == '\0';
    if (nuls == 0)
        return check_mem(c, bt_arena_strndup(c->a, s, n));
    /* Protobuf strings here are C strings: an API value holding U+0000 (a
     * tenant's odd name) keeps its place as U+FFFD instead of failing the sync. */
    char *out = check_mem(c, bt_arena_alloc(c->a, n + 2 * nuls + 1)), *o = out;
    for (size_t i = 0; i < n; i++)
        o = s[i] ? (*o = s[i], o + 1) : (memcpy(o, "\xEF\xBF\xBD", 3), o + 3);
    *o = '\0';
    bt_debug("bt.emit: U+0000 in a value written as U+FFFD");
    return out;
}

/* [-0, +0, m] t[name] as text, or NULL when absent. */
static char *get_text(ctx *c, int t, const char *name)
{
    char *s = NULL;
    if (rawfield(c->L, t, name) != LUA_TNIL)
        s = to_text(c, -1);
    lua_pop(c->L, 1);
    return s;
}

static bool get_bool(ctx *c, int t, const char *name)
{
    rawfield(c->L, t, name);
    bool v = lua_toboolean(c->L, -1);
    lua_pop(c->L, 1);
    return v;
}

/* Wire value of an enum field (index + 1), or dflt when absent. */
static int get_enum(ctx *c, int t, const char *name, const char *const *names, int dflt)
{
    int v = dflt;
    if (rawfield(c->L, t, name) == LUA_TSTRING)
        v = enum_index(names, lua_tostring(c->L, -1)) + 1;
    lua_pop(c->L, 1);
    return v;
}

/* [-0, +1] Push t[name]; returns whether it is a table. */
static bool push_table(ctx *c, int t, const char *name)
{
    return rawfield(c->L, t, name) == LUA_TTABLE;
}

/* t[name] (an array of strings) as an arena array; *n its length. */
static char **get_strlist(ctx *c, int t, const char *name, size_t *n)
{
    lua_State *L = c->L;
    char **v = NULL;
    *n = 0;
    if (push_table(c, t, name)) {
        size_t len = lua_rawlen(L, -1);
        v = alloc(c, (len + 1) * sizeof *v);
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

static Google__Protobuf__Timestamp *get_time(ctx *c, int t, const char *name)
{
    lua_State *L = c->L;
    Google__Protobuf__Timestamp *ts = NULL;
    int type = rawfield(L, t, name);
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

static bt_pb_resource_id *make_id(ctx *c, char *type, char *id)
{
    bt_pb_resource_id *rid = NEW(c, bt_pb_resource_id, c1__connector__v2__resource_id__init);
    rid->resource_type = type;
    rid->resource = id;
    return rid;
}

/* t[name] = {type=, id=} as a ResourceId, or NULL when absent. */
static bt_pb_resource_id *get_ref(ctx *c, int t, const char *name)
{
    bt_pb_resource_id *rid = NULL;
    if (push_table(c, t, name)) {
        int r = lua_gettop(c->L);
        rid = make_id(c, get_text(c, r, "type"), get_text(c, r, "id"));
    }
    lua_pop(c->L, 1);
    return rid;
}

/* A Resource holding only its id (a reference). */
static bt_pb_resource *stub_resource(ctx *c, bt_pb_resource_id *rid)
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
            fail(c, "field '%s' has a %s key; profile tables are objects (string keys) or arrays",
                 path, luaL_typename(L, -1));
    }
    if (ints && strs)
        fail(c, "field '%s' mixes array items and named keys", path);
    if (ints && ints != n)
        fail(c, "field '%s' is an array with holes", path);
    return ints > 0;
}

static Google__Protobuf__ListValue *to_list(ctx *c, int idx, const char *path, int depth)
{
    lua_State *L = c->L;
    Google__Protobuf__ListValue *l =
        NEW(c, Google__Protobuf__ListValue, google__protobuf__list_value__init);
    l->n_values = lua_rawlen(L, idx);
    l->values = alloc(c, l->n_values * sizeof *l->values);
    char item[PATH_LEN];
    for (size_t i = 0; i < l->n_values; i++) {
        pathf(item, "%s[%zu]", path, i + 1);
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
    s->fields = alloc(c, n * sizeof *s->fields);
    char sub[PATH_LEN];
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        pathf(sub, "%s.%s", path, lua_tostring(L, -2));
        check_text(c, -2, sub);
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
        check_text(c, idx, path);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
        v->string_value = to_text(c, idx); /* never protobuf_c_empty_string: "" must be written */
        return v;
    case LUA_TNUMBER:
        if (!isfinite(lua_tonumber(L, idx)))
            fail(c, "field '%s' must be a finite number", path);
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
        v->number_value = lua_tonumber(L, idx);
        return v;
    case LUA_TBOOLEAN:
        v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
        v->bool_value = lua_toboolean(L, idx);
        return v;
    case LUA_TTABLE:
        if (depth >= MAX_DEPTH)
            fail(c, "field '%s' is nested too deeply (a cycle?)", path);
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
        fail(c, "field '%s' holds a %s; profile values are strings, numbers, booleans or tables",
             path, luaL_typename(L, idx));
    }
}

/* t[name] as a sorted Struct, or NULL when absent. */
static bt_pb_struct *get_profile(ctx *c, int t, const char *name, const char *path)
{
    lua_State *L = c->L;
    bt_pb_struct *s = NULL;
    if (push_table(c, t, name)) {
        int idx = lua_gettop(L);
        if (table_shape(c, idx, path))
            fail(c, "field '%s' must be an object (string keys), not an array", path);
        s = to_struct(c, idx, path, 0);
        bt_pb_struct_sort(s);
    }
    lua_pop(L, 1);
    return s;
}

/* ------------------------------------------------------------------------
 * Context */

/* [-0, +0, v] Start an emit.* call: bound sink, one table argument. */
static void ctx_begin(lua_State *L, ctx *c, const char *fn)
{
    c->L = L;
    c->fn = fn;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_sink);
    c->sink = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!c->sink)
        luaL_error(L, "bt.emit: not in the sync phase");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_state);
    emit_state *st = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!st)
        luaL_error(L, "bt.emit: module state missing (require \"bt.emit\" first)");
    c->a = &st->arena;
    bt_arena_reset(c->a);
}

static void ctx_table_arg(ctx *c)
{
    if (lua_gettop(c->L) != 1 || !lua_istable(c->L, 1))
        fail(c, "expects one table argument, got %s", luaL_typename(c->L, 1));
}

/* Report a sink result: a duplicate is fine, an error raises. */
static void sink_result(ctx *c, int rc, const char *err)
{
    if (rc == BT_SINK_ERROR)
        fail(c, "%s", err);
}

typedef struct {
    bt_pb_any *v[MAX_ANNOTATIONS];
    size_t n;
} annotations;

static void annotate(ctx *c, annotations *an, const ProtobufCMessage *m)
{
    if (an->n == MAX_ANNOTATIONS)
        fail(c, "too many annotations");
    an->v[an->n++] = check_mem(c, bt_pb_any_new(c->a, m));
}

/* Copy the collected annotations into a message's repeated field. */
static Google__Protobuf__Any **annotations_array(ctx *c, const annotations *an)
{
    Google__Protobuf__Any **v = alloc(c, (an->n + 1) * sizeof *v);
    memcpy(v, an->v, an->n * sizeof *v);
    return v;
}

/* ------------------------------------------------------------------------
 * emit.resource_type{...} */

static int l_resource_type(lua_State *L)
{
    ctx c;
    ctx_begin(L, &c, "bt.emit.resource_type");
    ctx_table_arg(&c);
    check_table(&c, 1, "", RESOURCE_TYPE);
    bt_pb_resource_type *rt =
        NEW(&c, bt_pb_resource_type, c1__connector__v2__resource_type__init);
    rt->id = get_text(&c, 1, "id");
    rt->display_name = get_text(&c, 1, "display_name");
    char *desc = get_text(&c, 1, "description");
    if (desc)
        rt->description = desc;
    size_t n;
    char **traits = get_strlist(&c, 1, "traits", &n);
    rt->traits = alloc(&c, (n + 1) * sizeof *rt->traits);
    for (size_t i = 0; i < n; i++)
        rt->traits[i] = (C1__Connector__V2__ResourceType__Trait)(enum_index(TRAITS, traits[i]) + 1);
    rt->n_traits = n;
    annotations an = {{0}, 0};
    if (get_bool(&c, 1, "skip_entitlements_and_grants")) {
        C1__Connector__V2__SkipEntitlementsAndGrants skip =
            C1__CONNECTOR__V2__SKIP_ENTITLEMENTS_AND_GRANTS__INIT;
        annotate(&c, &an, &skip.base);
    }
    rt->annotations = annotations_array(&c, &an);
    rt->n_annotations = an.n;
    char err[1024];
    sink_result(&c, bt_sink_add_resource_type(c.sink, rt, err, sizeof err), err);
    return 0;
}

/* ------------------------------------------------------------------------
 * emit.resource{...} */

/* Traits' contributions the resource mirrors when it does not set its own. */
typedef struct {
    bt_pb_struct *profile;
    C1__Connector__V2__Status *status;
    Google__Protobuf__Timestamp *created_at;
} mirror;

static C1__Connector__V2__Status *make_status(ctx *c, int status, char *details)
{
    C1__Connector__V2__Status *s = NEW(c, C1__Connector__V2__Status, c1__connector__v2__status__init);
    s->status = (C1__Connector__V2__Status__ResourceStatus)status;
    if (details)
        s->details = details;
    return s;
}

static C1__Connector__V2__UserTrait__Email **user_emails(ctx *c, int u, size_t *n)
{
    lua_State *L = c->L;
    C1__Connector__V2__UserTrait__Email **v = NULL;
    *n = 0;
    if (push_table(c, u, "emails")) {
        size_t len = lua_rawlen(L, -1);
        v = alloc(c, (len + 1) * sizeof *v);
        for (size_t i = 0; i < len; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
            int e = lua_gettop(L);
            char *addr = get_text(c, e, "address");
            if (addr && *addr) { /* the SDK ignores empty addresses */
                C1__Connector__V2__UserTrait__Email *em = NEW(
                    c, C1__Connector__V2__UserTrait__Email, c1__connector__v2__user_trait__email__init);
                em->address = addr;
                em->is_primary = get_bool(c, e, "primary");
                v[(*n)++] = em;
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return v;
}

static C1__Connector__V2__UserTrait__StructuredName *user_name(ctx *c, int u)
{
    char *given = get_text(c, u, "given_name"), *family = get_text(c, u, "family_name");
    if (!given && !family)
        return NULL;
    C1__Connector__V2__UserTrait__StructuredName *sn =
        NEW(c, C1__Connector__V2__UserTrait__StructuredName,
            c1__connector__v2__user_trait__structured_name__init);
    if (given)
        sn->given_name = given;
    if (family)
        sn->family_name = family;
    return sn;
}

/* Drop empty strings from a list (the SDK ignores empty logins). */
static size_t drop_empty(char **v, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i][0])
            v[k++] = v[i];
    return k;
}

/* user = {...} -> UserTrait (NewUserTrait defaults: enabled, human). */
static void user_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (!push_table(c, t, "user")) {
        lua_pop(c->L, 1);
        return;
    }
    int u = lua_gettop(c->L);
    C1__Connector__V2__UserTrait ut = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    ut.emails = user_emails(c, u, &ut.n_emails);
    C1__Connector__V2__UserTrait__Status *st = NEW(c, C1__Connector__V2__UserTrait__Status,
                                                   c1__connector__v2__user_trait__status__init);
    st->status = (C1__Connector__V2__UserTrait__Status__Status)get_enum(c, u, "status", STATUSES, 1);
    char *details = get_text(c, u, "status_details");
    if (details)
        st->details = details;
    ut.status = st;
    ut.profile = get_profile(c, u, "profile", "user.profile");
    ut.account_type =
        (C1__Connector__V2__UserTrait__AccountType)get_enum(c, u, "account_type", ACCOUNT_TYPES, 1);
    char *login = get_text(c, u, "login");
    if (login)
        ut.login = login;
    ut.login_aliases = get_strlist(c, u, "login_aliases", &ut.n_login_aliases);
    ut.n_login_aliases = drop_empty(ut.login_aliases, ut.n_login_aliases);
    ut.created_at = get_time(c, u, "created_at");
    ut.structured_name = user_name(c, u);
    annotate(c, an, &ut.base);
    m->profile = m->profile ? m->profile : ut.profile;
    m->status = make_status(c, (int)st->status, details); /* same numbers 1..3 */
    m->created_at = ut.created_at;
    lua_pop(c->L, 1);
}

static void group_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (push_table(c, t, "group")) {
        int g = lua_gettop(c->L);
        C1__Connector__V2__GroupTrait gt = C1__CONNECTOR__V2__GROUP_TRAIT__INIT;
        gt.profile = get_profile(c, g, "profile", "group.profile");
        char *src = get_text(c, g, "source_type"), *raw = get_text(c, g, "raw_source_type");
        if (src)
            gt.group_source_type = src;
        if (raw)
            gt.raw_group_source_type = raw;
        annotate(c, an, &gt.base);
        m->profile = m->profile ? m->profile : gt.profile;
    }
    lua_pop(c->L, 1);
}

static void role_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (push_table(c, t, "role")) {
        C1__Connector__V2__RoleTrait rt = C1__CONNECTOR__V2__ROLE_TRAIT__INIT;
        rt.profile = get_profile(c, lua_gettop(c->L), "profile", "role.profile");
        annotate(c, an, &rt.base);
        m->profile = m->profile ? m->profile : rt.profile;
    }
    lua_pop(c->L, 1);
}

static void app_trait(ctx *c, int t, annotations *an, mirror *m)
{
    if (push_table(c, t, "app")) {
        int a = lua_gettop(c->L);
        C1__Connector__V2__AppTrait at = C1__CONNECTOR__V2__APP_TRAIT__INIT;
        at.profile = get_profile(c, a, "profile", "app.profile");
        char *help = get_text(c, a, "help_url");
        if (help)
            at.help_url = help;
        annotate(c, an, &at.base);
        m->profile = m->profile ? m->profile : at.profile;
    }
    lua_pop(c->L, 1);
}

static void resource_annotations(ctx *c, bt_pb_resource *r, mirror *m)
{
    annotations an = {{0}, 0};
    char *link = get_text(c, 1, "external_link");
    if (link) {
        C1__Connector__V2__ExternalLink el = C1__CONNECTOR__V2__EXTERNAL_LINK__INIT;
        el.url = link;
        annotate(c, &an, &el.base);
    }
    user_trait(c, 1, &an, m);
    group_trait(c, 1, &an, m);
    role_trait(c, 1, &an, m);
    app_trait(c, 1, &an, m);
    r->annotations = annotations_array(c, &an);
    r->n_annotations = an.n;
}

/* Resource.profile/status/created_at: the script's, else the trait's (HEAD). */
static void resource_state(ctx *c, bt_pb_resource *r, const mirror *m)
{
    r->profile = get_profile(c, 1, "profile", "profile");
    if (!r->profile)
        r->profile = m->profile;
    int status = get_enum(c, 1, "status", STATUSES, 0);
    char *details = get_text(c, 1, "status_details");
    r->status = status || details ? make_status(c, status, details) : m->status;
    r->created_at = get_time(c, 1, "created_at");
    if (!r->created_at)
        r->created_at = m->created_at;
}

static int l_resource(lua_State *L)
{
    ctx c;
    ctx_begin(L, &c, "bt.emit.resource");
    ctx_table_arg(&c);
    check_table(&c, 1, "", RESOURCE);
    bt_pb_resource *r = NEW(&c, bt_pb_resource, c1__connector__v2__resource__init);
    r->id = make_id(&c, get_text(&c, 1, "type"), get_text(&c, 1, "id"));
    r->parent_resource_id = get_ref(&c, 1, "parent");
    r->display_name = get_text(&c, 1, "display_name");
    char *desc = get_text(&c, 1, "description");
    if (desc)
        r->description = desc;
    mirror m = {0};
    resource_annotations(&c, r, &m);
    resource_state(&c, r, &m);
    char err[1024];
    sink_result(&c, bt_sink_add_resource(c.sink, r, err, sizeof err), err);
    return 0;
}

/* ------------------------------------------------------------------------
 * emit.entitlement{...} */

static bt_pb_resource_type **grantable_to(ctx *c, size_t *n)
{
    char **ids = get_strlist(c, 1, "grantable_to", n);
    bt_pb_resource_type **v = alloc(c, (*n + 1) * sizeof *v);
    for (size_t i = 0; i < *n; i++) {
        v[i] = NEW(c, bt_pb_resource_type, c1__connector__v2__resource_type__init);
        v[i]->id = ids[i];
    }
    return v;
}

static int l_entitlement(lua_State *L)
{
    ctx c;
    ctx_begin(L, &c, "bt.emit.entitlement");
    ctx_table_arg(&c);
    check_table(&c, 1, "", ENTITLEMENT);
    bt_pb_resource_id *rid = get_ref(&c, 1, "resource");
    char *slug = get_text(&c, 1, "slug");
    bt_pb_entitlement *e = NEW(&c, bt_pb_entitlement, c1__connector__v2__entitlement__init);
    e->resource = stub_resource(&c, rid);
    e->id = check_mem(&c, bt_id_entitlement(c.a, rid->resource_type, rid->resource, slug));
    char *name = get_text(&c, 1, "display_name"), *desc = get_text(&c, 1, "description");
    e->display_name = name ? name : slug;
    if (desc)
        e->description = desc;
    e->grantable_to = grantable_to(&c, &e->n_grantable_to);
    annotations an = {{0}, 0};
    if (get_bool(&c, 1, "immutable")) {
        C1__Connector__V2__EntitlementImmutable im = C1__CONNECTOR__V2__ENTITLEMENT_IMMUTABLE__INIT;
        annotate(&c, &an, &im.base);
    }
    e->annotations = annotations_array(&c, &an);
    e->n_annotations = an.n;
    e->purpose = (C1__Connector__V2__Entitlement__PurposeValue)get_enum(&c, 1, "purpose", PURPOSES, 1);
    e->slug = slug;
    char err[1024];
    sink_result(&c, bt_sink_add_entitlement(c.sink, e, err, sizeof err), err);
    lua_pushstring(L, e->id);
    return 1;
}

/* ------------------------------------------------------------------------
 * emit.grant{...} */

static void grant_expandable(ctx *c, annotations *an)
{
    if (push_table(c, 1, "expandable")) {
        int x = lua_gettop(c->L);
        C1__Connector__V2__GrantExpandable ge = C1__CONNECTOR__V2__GRANT_EXPANDABLE__INIT;
        ge.entitlement_ids = get_strlist(c, x, "entitlement_ids", &ge.n_entitlement_ids);
        if (drop_empty(ge.entitlement_ids, ge.n_entitlement_ids) != ge.n_entitlement_ids ||
            ge.n_entitlement_ids == 0)
            fail(c, "field 'expandable.entitlement_ids' must list at least one entitlement id, "
                    "none empty");
        ge.shallow = get_bool(c, x, "shallow");
        ge.resource_type_ids = get_strlist(c, x, "resource_type_ids", &ge.n_resource_type_ids);
        annotate(c, an, &ge.base);
    }
    lua_pop(c->L, 1);
}

static int l_grant(lua_State *L)
{
    ctx c;
    ctx_begin(L, &c, "bt.emit.grant");
    ctx_table_arg(&c);
    check_table(&c, 1, "", GRANT);
    bt_pb_resource_id *rid = get_ref(&c, 1, "resource"), *pid = get_ref(&c, 1, "principal");
    char *slug = get_text(&c, 1, "slug");
    bt_pb_entitlement *ent = NEW(&c, bt_pb_entitlement, c1__connector__v2__entitlement__init);
    ent->resource = stub_resource(&c, rid);
    ent->id = check_mem(&c, bt_id_entitlement(c.a, rid->resource_type, rid->resource, slug));
    bt_pb_grant *g = NEW(&c, bt_pb_grant, c1__connector__v2__grant__init);
    g->entitlement = ent;
    g->principal = stub_resource(&c, pid);
    g->id = check_mem(&c, bt_id_grant(c.a, ent->id, pid->resource_type, pid->resource));
    annotations an = {{0}, 0};
    grant_expandable(&c, &an);
    if (get_bool(&c, 1, "immutable")) {
        C1__Connector__V2__GrantImmutable im = C1__CONNECTOR__V2__GRANT_IMMUTABLE__INIT;
        annotate(&c, &an, &im.base);
    }
    g->annotations = annotations_array(&c, &an);
    g->n_annotations = an.n;
    char err[1024];
    sink_result(&c, bt_sink_add_grant(c.sink, g, err, sizeof err), err);
    lua_pushstring(L, g->id);
    return 1;
}

/* ------------------------------------------------------------------------
 * emit.counts() */

static void set_count(lua_State *L, const char *name, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, name);
}

static int l_counts(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &k_sink);
    bt_sink *s = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (!s)
        return luaL_error(L, "bt.emit: not in the sync phase");
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    lua_createtable(L, 0, 5);
    set_count(L, "resource_types", n.resource_types);
    set_count(L, "resources", n.resources);
    set_count(L, "entitlements", n.entitlements);
    set_count(L, "grants", n.grants);
    set_count(L, "duplicates", n.duplicates);
    return 1;
}

/* ------------------------------------------------------------------------
 * Binding and module */

void bt_emit_bind(lua_State *L, bt_sink *s)
{
    if (s)
        lua_pushlightuserdata(L, s);
    else
        lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &k_sink);
}

static int state_gc(lua_State *L)
{
    emit_state *st = lua_touserdata(L, 1);
    bt_arena_free(&st->arena);
    return 0;
}

/* [-0, +0, m] Create the arena userdata once per lua_State. */
static void ensure_state(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &k_state) != LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    emit_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    bt_arena_init(&st->arena, 16 * 1024);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &k_state);
}

int luaopen_bt_emit(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"resource_type", l_resource_type},
        {"resource", l_resource},
        {"entitlement", l_entitlement},
        {"grant", l_grant},
        {"counts", l_counts},
        {NULL, NULL},
    };
    ensure_state(L);
    luaL_newlib(L, funcs);
    return 1;
}
