/* bt.emit field specs and strict validation: unknown keys, wrong types and missing
 * required fields raise an error naming the field, at the script's file:line. */
#include "emit_internal.h"
#include "bt/suggest.h"

#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Field specifications */

const char *const bt_emit_traits[] = {"user", "group", "role", "app", NULL};
const char *const bt_emit_statuses[] = {"enabled", "disabled", "deleted", NULL};
const char *const bt_emit_account_types[] = {"human", "service", "system", NULL};
const char *const bt_emit_purposes[] = {"assignment", "permission", "ownership", NULL};

/* Spec entries: optional, required, with a sub-spec, with enum names, end. */
#define OPT(n, k) {n, k, false, NULL, NULL}
#define REQ(n, k) {n, k, true, NULL, NULL}
#define SUB(n, k, req, sub) {n, k, req, sub, NULL}
#define ENUMS(n, k, names) {n, k, false, NULL, names}
#define END {NULL, K_STR, false, NULL, NULL}

static const field REF[] = {REQ("type", K_ID), REQ("id", K_ID), END};

const field bt_emit_resource_type_fields[] = {
    REQ("id", K_ID),
    REQ("display_name", K_STR),
    ENUMS("traits", K_ENUMLIST, bt_emit_traits),
    OPT("description", K_STR),
    OPT("skip_entitlements_and_grants", K_BOOL),
    END,
};

static const field EMAIL[] = {REQ("address", K_STR), OPT("primary", K_BOOL), END};

static const field USER[] = {
    SUB("emails", K_LIST, false, EMAIL),
    OPT("login", K_STR),
    OPT("login_aliases", K_STRLIST),
    ENUMS("status", K_ENUM, bt_emit_statuses),
    OPT("status_details", K_STR),
    ENUMS("account_type", K_ENUM, bt_emit_account_types),
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

const field bt_emit_resource_fields[] = {
    REQ("type", K_ID),
    REQ("id", K_ID),
    REQ("display_name", K_STR),
    OPT("description", K_STR),
    SUB("parent", K_TABLE, false, REF),
    OPT("profile", K_PROFILE),
    ENUMS("status", K_ENUM, bt_emit_statuses),
    OPT("status_details", K_STR),
    OPT("created_at", K_TIME),
    SUB("user", K_TABLE, false, USER),
    SUB("group", K_TABLE, false, GROUP),
    SUB("role", K_TABLE, false, ROLE),
    SUB("app", K_TABLE, false, APP),
    OPT("external_link", K_STR),
    END,
};

const field bt_emit_entitlement_fields[] = {
    SUB("resource", K_TABLE, true, REF),
    REQ("slug", K_ID),
    OPT("display_name", K_STR),
    OPT("description", K_STR),
    ENUMS("purpose", K_ENUM, bt_emit_purposes),
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

const field bt_emit_grant_fields[] = {
    SUB("resource", K_TABLE, true, REF),
    REQ("slug", K_ID),
    SUB("principal", K_TABLE, true, REF),
    OPT("immutable", K_BOOL),
    SUB("expandable", K_TABLE, false, EXPANDABLE),
    END,
};

/* ------------------------------------------------------------------------
 * Validation */


/* [-0, +1, m] Push t[name] without metamethods (an __index must not run
 * script code half-way through building a row); returns its type. */
int bt_emit_rawfield(lua_State *L, int t, const char *name)
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

int bt_emit_enum_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static void expect_type(ctx *c, int idx, int type, const char *path, const char *what)
{
    if (lua_type(c->L, idx) != type)
        bt_emit_fail(c, "field '%s' must be %s, got %s", path, what, luaL_typename(c->L, idx));
}

/* [-0, +0, v] A string value at idx that protobuf can carry. */
void bt_emit_check_text(ctx *c, int idx, const char *path)
{
    size_t n;
    const char *s = lua_tolstring(c->L, idx, &n);
    if (!bt_utf8_is_valid(s, n))
        bt_emit_fail(c, "field '%s' is not valid UTF-8", path);
}

static void check_enum(ctx *c, int idx, const char *path, const char *const *names)
{
    expect_type(c, idx, LUA_TSTRING, path, "a string");
    if (bt_emit_enum_index(names, lua_tostring(c->L, idx)) < 0) {
        char allowed[128] = "";
        for (int i = 0; names[i]; i++)
            snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s\"%s\"",
                     i ? ", " : "", names[i]);
        bt_emit_fail(c, "field '%s' must be one of %s, got \"%s\"", path, allowed,
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
        bt_emit_fail(c, "field '%s' must not be empty", path);
    bt_emit_check_text(c, idx, path);
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
            bt_emit_fail(c, "field '%s' is out of range for a time", path);
        return;
    }
    expect_type(c, idx, LUA_TSTRING, path, "an ISO-8601 string");
    if (bt_time_parse_iso8601(lua_tostring(L, idx), &s, &ns) != 0)
        bt_emit_fail(c, "field '%s' is not an ISO-8601 time: \"%s\"", path, lua_tostring(L, idx));
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
            bt_emit_fail(c, "field '%s' must be an array (found a non-index key)", path);
        count++;
    }
    if (count != n)
        bt_emit_fail(c, "field '%s' must be an array without holes", path);
    return n;
}

/* ------------------------------------------------------------------------
 * Fast paths: whether a value passes, without naming it. A row's fields and a
 * list's elements are checked for every row; the path of a field (and its
 * formatting) is only needed for the error, so it is built once a check
 * fails, by the checks below that raise. */

static bool text_ok(lua_State *L, int idx)
{
    size_t n;
    const char *s;
    return lua_type(L, idx) == LUA_TSTRING && (s = lua_tolstring(L, idx, &n)) != NULL &&
           bt_utf8_is_valid(s, n);
}

/* A K_ID: an integer, or a non-empty valid string. */
static bool id_ok(lua_State *L, int idx)
{
    return lua_isinteger(L, idx) || (text_ok(L, idx) && lua_rawlen(L, idx) > 0);
}

/* A table whose keys are exactly 1..n, each element (at the absolute index
 * it gets) passing elem_ok. */
static bool sequence_ok(lua_State *L, int idx, bool (*elem_ok)(void *ud, int elem), void *ud)
{
    if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 8))
        return false;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx), count = 0;
    bool ok = true;
    lua_pushnil(L);
    while (ok && lua_next(L, idx)) {
        ok = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 && lua_tointeger(L, -2) <= n &&
             elem_ok(ud, lua_gettop(L));
        lua_pop(L, 1);
        count++;
    }
    if (!ok) {
        lua_pop(L, 1); /* the key lua_next left */
        return false;
    }
    return count == n;
}

static bool text_elem_ok(void *L, int elem) { return text_ok(L, elem); }

/* A K_STRLIST: a sequence of valid strings. */
static bool strlist_ok(lua_State *L, int idx) { return sequence_ok(L, idx, text_elem_ok, L); }

static bool enum_ok(lua_State *L, int idx, const char *const *names)
{
    return lua_type(L, idx) == LUA_TSTRING && bt_emit_enum_index(names, lua_tostring(L, idx)) >= 0;
}

static bool time_ok(lua_State *L, int idx)
{
    int64_t s;
    int32_t ns;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        double v = lua_tonumber(L, idx);
        return v >= MIN_UNIX_SECONDS && v <= MAX_UNIX_SECONDS;
    }
    return lua_type(L, idx) == LUA_TSTRING &&
           bt_time_parse_iso8601(lua_tostring(L, idx), &s, &ns) == 0;
}

static bool table_ok(ctx *c, int t, const field *spec);

typedef struct {
    ctx *c;
    const field *f;
} elem_spec;

static bool list_elem_ok(void *ud, int elem)
{
    const elem_spec *e = ud;
    lua_State *L = e->c->L;
    return e->f->k == K_ENUMLIST
               ? enum_ok(L, elem, e->f->enums)
               : lua_type(L, elem) == LUA_TTABLE && table_ok(e->c, elem, e->f->sub);
}

/* A K_LIST or K_ENUMLIST: keys exactly 1..n, each element passing f. */
static bool elements_ok(ctx *c, int idx, const field *f)
{
    elem_spec e = {c, f};
    return sequence_ok(c->L, idx, list_elem_ok, &e);
}

/* Whether the value at idx passes f. */
static bool value_ok(ctx *c, int idx, const field *f)
{
    lua_State *L = c->L;
    switch (f->k) {
    case K_STR: return text_ok(L, idx);
    case K_ID: return id_ok(L, idx);
    case K_BOOL: return lua_type(L, idx) == LUA_TBOOLEAN;
    case K_PROFILE: return lua_type(L, idx) == LUA_TTABLE;
    case K_ENUM: return enum_ok(L, idx, f->enums);
    case K_TIME: return time_ok(L, idx);
    case K_STRLIST: return strlist_ok(L, idx);
    case K_TABLE: return lua_type(L, idx) == LUA_TTABLE && table_ok(c, idx, f->sub);
    case K_ENUMLIST:
    case K_LIST: return elements_ok(c, idx, f);
    }
    return false;
}

/* [-0, +0, v] Check each element of the array at idx with `each`. */
static void check_elements(ctx *c, int idx, const char *path, const field *f)
{
    lua_State *L = c->L;
    luaL_checkstack(L, 8, "bt.emit: table nesting");
    lua_Integer n = check_array(c, idx, path);
    char item[PATH_LEN];
    for (lua_Integer i = 1; i <= n; i++) {
        bt_emit_pathf(item, "%s[%lld]", path, (long long)i);
        lua_rawgeti(L, idx, i);
        int top = lua_gettop(L);
        if (f->k == K_STRLIST) {
            expect_type(c, top, LUA_TSTRING, item, "a string");
            bt_emit_check_text(c, top, item);
        } else if (f->k == K_ENUMLIST) {
            check_enum(c, top, item, f->enums);
        } else {
            char prefix[PATH_LEN];
            expect_type(c, top, LUA_TTABLE, item, "a table");
            bt_emit_pathf(prefix, "%s.", item);
            bt_emit_check_table(c, top, prefix, f->sub);
        }
        lua_pop(L, 1);
    }
}

/* [-0, +0, v] Check the value at idx against f. */
static void check_value(ctx *c, int idx, const char *prefix, const field *f)
{
    if (value_ok(c, idx, f))
        return;
    char path[PATH_LEN];
    bt_emit_pathf(path, "%s%s", prefix, f->name);
    switch (f->k) {
    case K_STR:
        expect_type(c, idx, LUA_TSTRING, path, "a string");
        bt_emit_check_text(c, idx, path);
        break;
    case K_ID: check_id(c, idx, path); break;
    case K_BOOL: expect_type(c, idx, LUA_TBOOLEAN, path, "a boolean"); break;
    case K_ENUM: check_enum(c, idx, path, f->enums); break;
    case K_TIME: check_time(c, idx, path); break;
    case K_PROFILE: expect_type(c, idx, LUA_TTABLE, path, "a table"); break;
    case K_TABLE: {
        char sub[PATH_LEN];
        expect_type(c, idx, LUA_TTABLE, path, "a table");
        bt_emit_pathf(sub, "%s.", path);
        bt_emit_check_table(c, idx, sub, f->sub);
        break;
    }
    case K_STRLIST:
    case K_ENUMLIST:
    case K_LIST: check_elements(c, idx, path, f); break;
    }
}

/* [-0, +0, v] Raise for a key spec lacks, with the closest field name. */
static void unknown_field(ctx *c, const char *prefix, const char *key, const field *spec)
{
    const char *names[64];
    size_t n = 0;
    for (; spec->name && n < sizeof names / sizeof names[0] - 1; spec++)
        names[n++] = spec->name;
    names[n] = NULL;
    char hint[128];
    bt_suggest_hint(key, names, hint, sizeof hint);
    bt_emit_fail(c, "unknown field '%s%s'%s", prefix, key, hint);
}

/* The first required field of spec that the table at t lacks, or NULL. */
static const field *missing_required(lua_State *L, int t, const field *spec)
{
    for (const field *f = spec; f->name; f++) {
        if (!f->required)
            continue;
        bool missing = bt_emit_rawfield(L, t, f->name) == LUA_TNIL;
        lua_pop(L, 1);
        if (missing)
            return f;
    }
    return NULL;
}

/* Whether the table at t passes spec (as bt_emit_check_table checks it), without a path. */
static bool table_ok(ctx *c, int t, const field *spec)
{
    lua_State *L = c->L;
    if (!lua_checkstack(L, 8))
        return false;
    t = lua_absindex(L, t);
    bool ok = true;
    lua_pushnil(L);
    while (ok && lua_next(L, t)) {
        const field *f = lua_type(L, -2) == LUA_TSTRING ? find_field(spec, lua_tostring(L, -2))
                                                         : NULL;
        ok = f && value_ok(c, lua_gettop(L), f);
        lua_pop(L, 1);
    }
    if (!ok) {
        lua_pop(L, 1); /* the key lua_next left */
        return false;
    }
    return missing_required(L, t, spec) == NULL;
}

/* [-0, +0, v] Every key of the table at t is a field of spec with the right
 * type, and every required field is present. A table that passes is checked
 * once without paths (table_ok); one that does not is checked again below,
 * naming the field that fails. */
void bt_emit_check_table(ctx *c, int t, const char *prefix, const field *spec)
{
    lua_State *L = c->L;
    luaL_checkstack(L, 8, "bt.emit: table nesting");
    t = lua_absindex(L, t);
    if (table_ok(c, t, spec))
        return;
    lua_pushnil(L);
    while (lua_next(L, t)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            bt_emit_fail(c, "unexpected %s key in %s (fields are named)", luaL_typename(L, -2),
                 *prefix ? prefix : "the argument");
        const char *key = lua_tostring(L, -2);
        const field *f = find_field(spec, key);
        if (!f)
            unknown_field(c, prefix, key, spec);
        check_value(c, lua_gettop(L), prefix, f);
        lua_pop(L, 1);
    }
    const field *missing = missing_required(L, t, spec);
    if (missing)
        bt_emit_fail(c, "missing required field '%s%s'", prefix, missing->name);
}
