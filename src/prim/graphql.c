/* bt.graphql: GraphQL primitives for connector scripts (scripts/API.md).
 * This file only checks arguments and pushes results; the Lua-facing work is
 * in prim/graphql_*.c (execute, JSON <-> Lua, responses, paging), on top of
 * src/graphql/ (the session, documents, results; no Lua) and src/http/. */
#include <string.h>

#include "bt/errobj.h"
#include "bt/graphql_lua.h"
#include "bt/prim.h"

/* [-0, +0, e] Raise on a key of the options table at idx not in `allowed`. */
static void check_fields(lua_State *L, int idx, const char *fn, const char *const *allowed)
{
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        const char *const *a = allowed;
        while (key && *a && strcmp(*a, key) != 0)
            a++;
        if (!key || !*a)
            luaL_error(L, "%s: unknown field %s", fn, key ? key : luaL_typename(L, -1));
    }
}

/* [-0, +1, e] Push field `name` of the table at idx, checked to be of type
 * `type` (or nil when optional); returns whether it is set. */
static bool get_field(lua_State *L, int idx, const char *fn, const char *name, int type,
                      bool required)
{
    int t = lua_getfield(L, idx, name);
    if (t == type || (t == LUA_TNIL && !required))
        return t != LUA_TNIL;
    return luaL_error(L, "%s: field %s must be a %s (got %s)", fn, name, lua_typename(L, type),
                      lua_typename(L, t));
}

/* [-0, +0, e] An optional string field (valid while the table lives). */
static const char *opt_string(lua_State *L, int idx, const char *fn, const char *name,
                              bool required)
{
    const char *s = get_field(L, idx, fn, name, LUA_TSTRING, required) ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);
    return s;
}

static double opt_number(lua_State *L, int idx, const char *fn, const char *name, double dflt)
{
    double v = get_field(L, idx, fn, name, LUA_TNUMBER, false) ? (double)lua_tonumber(L, -1) : dflt;
    lua_pop(L, 1);
    return v;
}

/* [-0, +0, e] rate_limit_errors = { "phrase", ... } of the table at idx as
 * lines in buf; NULL when absent. */
static const char *phrase_lines(lua_State *L, int idx, const char *fn, char *buf, size_t n)
{
    if (!get_field(L, idx, fn, "rate_limit_errors", LUA_TTABLE, false)) {
        lua_pop(L, 1);
        return NULL;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
        size_t len;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!s || len == 0 || strchr(s, '\n') || used + len + 2 > n)
            luaL_error(L, "%s: rate_limit_errors must be a list of short non-empty phrases", fn);
        used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? "\n" : "", s);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    return buf;
}

/* graphql.configure{ url=, auth_header=, auth_config=, reads_per_minute=,
 * writes_per_minute=, user_agent_suffix=, redirect_host_suffix= } -> nothing. Raises on bad
 * arguments (a non-https url, an unset auth_config field, ...). */
static int l_configure(lua_State *L)
{
    static const char *const fields[] = {"url",
                                         "auth_header",
                                         "auth_config",
                                         "reads_per_minute",
                                         "writes_per_minute",
                                         "user_agent_suffix",
                                         "redirect_host_suffix",
                                         "rate_limit_errors",
                                         NULL};
    const char *fn = "graphql.configure";
    luaL_checktype(L, 1, LUA_TTABLE);
    check_fields(L, 1, fn, fields);
    bt_graphql_endpoint ep = {
        .url = opt_string(L, 1, fn, "url", true),
        .auth_header = opt_string(L, 1, fn, "auth_header", false),
        .auth_config = opt_string(L, 1, fn, "auth_config", false),
        .user_agent_suffix = opt_string(L, 1, fn, "user_agent_suffix", false),
        .redirect_host_suffix = opt_string(L, 1, fn, "redirect_host_suffix", false),
        .reads_per_minute = opt_number(L, 1, fn, "reads_per_minute", 0),
        .writes_per_minute = opt_number(L, 1, fn, "writes_per_minute", 0),
    };
    char phrases[512];
    ep.rate_limit_errors = phrase_lines(L, 1, fn, phrases, sizeof phrases);
    char err[300];
    if (bt_graphql_configure(&ep, err, sizeof err) != 0)
        return luaL_error(L, "%s: %s", fn, err);
    return 0;
}

/* graphql.query(query, variables?, { root = "user" }?) -> data | nil, err.
 * With root, data.<root> is an object or nil for an explicit null (gone); an
 * answer without it is damaged: asked again, then a decode error. */
static int l_query(lua_State *L)
{
    /* A Lua error raised inside a page's window (a check hook, a variable
     * that cannot be encoded) left it open: this query has its own cap. */
    bt_graphql_page_end();
    size_t qlen;
    const char *q = luaL_checklstring(L, 1, &qlen);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    int vars = lua_istable(L, 2) ? 2 : 0;
    if (lua_isnoneornil(L, 3))
        return bt_graphql_execute(L, q, qlen, vars);
    static const char *const fields[] = {"root", NULL};
    luaL_checktype(L, 3, LUA_TTABLE);
    check_fields(L, 3, "graphql.query", fields);
    const char *root = opt_string(L, 3, "graphql.query", "root", true);
    return bt_graphql_query_root(L, q, qlen, vars, root);
}

static void check_path(lua_State *L, const char *path)
{
    size_t n = strlen(path);
    if (n == 0 || path[0] == '.' || path[n - 1] == '.' || strstr(path, ".."))
        luaL_error(L, "graphql.paginate: path must be dot-separated names, like \"group.users\"");
}

/* [-0, +0, e] id_field of a paginate/check_page table at idx: a string,
 * false (NULL: not checked) or absent ("id"). Valid while the table lives. */
static const char *id_field(lua_State *L, int idx, const char *fn)
{
    int t = lua_getfield(L, idx, "id_field");
    const char *v = t == LUA_TNIL ? "id" : t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if ((t != LUA_TNIL && t != LUA_TSTRING && !(t == LUA_TBOOLEAN && !lua_toboolean(L, -1))) ||
        (v && !*v))
        luaL_error(L, "%s: field id_field must be a non-empty string or false", fn);
    lua_pop(L, 1);
    return v;
}

/* [-0, +0, e] id_field and ids_optional of the table at idx. ids_optional =
 * true: a node may lack its id (a union member the query selects none on);
 * pages are then anchored on the ids present. It needs an id_field. */
static bt_graphql_ids ids_of(lua_State *L, int idx, const char *fn)
{
    bt_graphql_ids ids = {.field = id_field(L, idx, fn)};
    if (get_field(L, idx, fn, "ids_optional", LUA_TBOOLEAN, false))
        ids.optional = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (ids.optional && !ids.field)
        luaL_error(L, "%s: ids_optional needs an id_field", fn);
    return ids;
}

static long long max_nodes(lua_State *L, int idx, const char *fn)
{
    int t = lua_getfield(L, idx, "max_nodes");
    long long v = 0;
    if (t != LUA_TNIL && (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1))
        luaL_error(L, "%s: field max_nodes must be a positive integer", fn);
    if (t != LUA_TNIL)
        v = (long long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

/* [-0, +1, e] previous_page = { offset = n, anchor = id } of the table at
 * idx: the caller read the page before and starts from the cursor of its
 * second-to-last node; offset is the position of the node after that cursor,
 * anchor that page's last id (the node the first page must begin with).
 * Fills the walk's prior fields; pushes anchor (or nil) either way. */
static void previous_page(lua_State *L, int idx, const char *fn, bt_graphql_walk *w)
{
    static const char *const fields[] = {"offset", "anchor", NULL};
    w->prior_offset = -1;
    w->prior_anchor_idx = 0;
    if (!get_field(L, idx, fn, "previous_page", LUA_TTABLE, false)) {
        return; /* the nil stays pushed */
    }
    int t = lua_gettop(L);
    check_fields(L, t, "graphql.paginate previous_page", fields);
    int o = lua_getfield(L, t, "offset");
    if (o != LUA_TNIL && (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0))
        luaL_error(L, "%s: previous_page.offset must be an integer >= 0", fn);
    if (o != LUA_TNIL)
        w->prior_offset = (long long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    int a = lua_getfield(L, t, "anchor");
    if (a != LUA_TNIL && a != LUA_TSTRING && !lua_isinteger(L, -1))
        luaL_error(L, "%s: previous_page.anchor must be an id (a string or an integer)", fn);
    lua_replace(L, t);
    if (a != LUA_TNIL)
        w->prior_anchor_idx = t;
}

/* graphql.paginate{ query=, variables=, path=, cursor_var="after", on_page=,
 * id_field="id", ids_optional=false, max_nodes=, previous_page=, check= }
 * -> pages | nil, err.
 * The fields are pushed at 2..8 and stay there. */
static int l_paginate(lua_State *L)
{
    static const char *const fields[] = {
        "query", "variables", "path", "cursor_var", "on_page", "id_field", "ids_optional",
        "max_nodes", "previous_page", "progress", "check", NULL};
    const char *fn = "graphql.paginate";
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    bt_graphql_page_end(); /* as l_query: each page opens its own window */
    check_fields(L, 1, fn, fields);
    get_field(L, 1, fn, "query", LUA_TSTRING, true);                 /* 2 */
    bool vars = get_field(L, 1, fn, "variables", LUA_TTABLE, false); /* 3 */
    get_field(L, 1, fn, "path", LUA_TSTRING, true);                  /* 4 */
    bool cv = get_field(L, 1, fn, "cursor_var", LUA_TSTRING, false); /* 5 */
    get_field(L, 1, fn, "on_page", LUA_TFUNCTION, true);             /* 6 */
    bt_graphql_walk w = {.vars_idx = vars ? 3 : 0,
                         .path = lua_tostring(L, 4),
                         .cursor_var = cv ? lua_tostring(L, 5) : "after",
                         .on_page_idx = 6,
                         .ids = ids_of(L, 1, fn),
                         .max_nodes = max_nodes(L, 1, fn)};
    previous_page(L, 1, fn, &w);                                     /* 7 */
    get_field(L, 1, fn, "progress", LUA_TSTRING, false);             /* 8 */
    w.progress = lua_tostring(L, 8);
    if (get_field(L, 1, fn, "check", LUA_TFUNCTION, false))          /* 9 */
        w.check_idx = 9;
    w.query = lua_tolstring(L, 2, &w.qlen);
    check_path(L, w.path);
    return bt_graphql_paginate(L, &w);
}

/* graphql.check_page(conn, { id_field = "id", ids_optional = false }?) -> items | nil, err (kind
 * decode): the check paginate applies to every page, for a connection that
 * arrived nested in another answer. */
static int l_check_page(lua_State *L)
{
    bt_graphql_ids ids = {.field = "id"};
    if (!lua_isnoneornil(L, 2)) {
        static const char *const fields[] = {"id_field", "ids_optional", NULL};
        luaL_checktype(L, 2, LUA_TTABLE);
        check_fields(L, 2, "graphql.check_page", fields);
        ids = ids_of(L, 2, "graphql.check_page");
    }
    char why[200];
    lua_Integer items;
    if (bt_graphql_check_page(L, 1, &ids, &items, why, sizeof why) != 0)
        return bt_err_push(L, "decode", 0, why);
    lua_pushinteger(L, items);
    return 1;
}

static void set_int(lua_State *L, const char *name, long long v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, name);
}

static void set_num(lua_State *L, const char *name, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, name);
}

/* graphql.stats() -> a table of this run's counters. */
static int l_stats(lua_State *L)
{
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    lua_createtable(L, 0, 12);
    set_int(L, "requests", s.requests);
    set_int(L, "reads", s.reads);
    set_int(L, "writes", s.writes);
    set_int(L, "retries", s.retries);
    for (int c = BT_HTTP_RETRY_NONE + 1; c < BT_HTTP_RETRY_CAUSES; c++) {
        char key[64];
        snprintf(key, sizeof key, "retries_%s", bt_http_retry_causes[c].key);
        set_int(L, key, s.retries_by[c]);
    }
    set_int(L, "bytes_received", s.bytes_received);
    set_num(L, "rate_limit_wait_seconds", s.rate_limit_wait_seconds);
    set_num(L, "backoff_wait_seconds", s.backoff_wait_seconds);
    set_num(L, "pacing_wait_seconds", s.pacing_wait_seconds);
    set_int(L, "pages", s.pages);
    return 1;
}

/* graphql.array(t) -> t, marked to encode as a JSON array even when empty. */
static int l_array(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    bt_graphql_mark_array(L, 1);
    return 1;
}

static const luaL_Reg graphql_funcs[] = {
    {"configure", l_configure}, {"query", l_query},         {"paginate", l_paginate},
    {"stats", l_stats},         {"array", l_array},         {"check_page", l_check_page},
    {NULL, NULL},
};

int luaopen_bt_graphql(lua_State *L)
{
    luaL_newlib(L, graphql_funcs);
    bt_graphql_push_null(L);
    lua_setfield(L, -2, "null");
    return 1;
}
