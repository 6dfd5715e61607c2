/* The shape a Relay connection page must have before its nodes are trusted.
 * A page read as "empty" because `edges` came back null, or a node dropped
 * because it came back null or without an id, would end in a sync that exits
 * 0 with data missing; such a page is a `decode` failure instead, asked again
 * like a mangled body (graphql_paginate.c). */
#include <stdio.h>

#include "bt/codec.h"
#include "bt/graphql_lua.h"

/* [-0, +0, -] True when the table at idx holds exactly the keys 1..#t, as a
 * decoded JSON array does (an object decodes to a table too). */
static bool is_list(lua_State *L, int idx)
{
    lua_Unsigned n = lua_rawlen(L, idx), keys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 ||
            (lua_Unsigned)lua_tointeger(L, -1) > n) {
            lua_pop(L, 1);
            return false;
        }
        keys++;
    }
    return keys == n;
}

/* [-0, +0, -] A usable id: a non-empty string of valid UTF-8 (an id is never
 * repaired: a lone surrogate in it makes the page damaged) or an integer; or,
 * when ids are optional, none at all (absent or null). */
static bool id_ok(lua_State *L, int node, const char *id_field, bool optional)
{
    size_t n = 0;
    int t = lua_getfield(L, node, id_field);
    const char *s = t == LUA_TSTRING ? lua_tolstring(L, -1, &n) : NULL;
    bool ok = (s && n > 0 && bt_utf8_is_valid(s, n)) || lua_isinteger(L, -1) ||
              (optional && (t == LUA_TNIL || bt_graphql_is_null(L, -1)));
    lua_pop(L, 1);
    return ok;
}

/* [-0, +0, m] Entry i of the list at idx: an object (holding a `node` object
 * when edges) whose node has an id (or none, when ids are optional).
 * Messages number entries from 0, as JSON does (edges[0] is the first). */
static int check_entry(lua_State *L, int list, lua_Integer i, bool edges,
                       const bt_graphql_ids *ids, char *why, size_t whysz)
{
    int top = lua_gettop(L);
    const char *name = edges ? "edges" : "nodes";
    long long at = (long long)i - 1;
    int rc = -1;
    if (lua_rawgeti(L, list, i) != LUA_TTABLE)
        snprintf(why, whysz, "%s[%lld] is null or not an object", name, at);
    else if (edges && lua_getfield(L, -1, "node") != LUA_TTABLE)
        snprintf(why, whysz, "edges[%lld].node is null or not an object", at);
    else if (ids->field && !id_ok(L, lua_gettop(L), ids->field, ids->optional))
        snprintf(why, whysz, "%s[%lld]%s has %s %s (or one not valid UTF-8)", name, at,
                 edges ? ".node" : "", ids->optional ? "a damaged" : "no", ids->field);
    else
        rc = 0;
    lua_settop(L, top);
    return rc;
}

/* [-0, +0, m] pageInfo: hasNextPage a boolean; endCursor a string or absent,
 * and a string whenever there is a next page. */
static int check_page_info(lua_State *L, int conn, char *why, size_t whysz)
{
    int top = lua_gettop(L), rc = -1;
    if (lua_getfield(L, conn, "pageInfo") != LUA_TTABLE) {
        snprintf(why, whysz, "pageInfo is missing or not an object");
    } else if (lua_getfield(L, top + 1, "hasNextPage") != LUA_TBOOLEAN) {
        snprintf(why, whysz, "pageInfo.hasNextPage is missing or not a boolean");
    } else {
        bool more = lua_toboolean(L, -1);
        int t = lua_getfield(L, top + 1, "endCursor");
        if (t != LUA_TNIL && t != LUA_TSTRING)
            snprintf(why, whysz, "pageInfo.endCursor is not a string");
        else if (more && (t != LUA_TSTRING || lua_rawlen(L, -1) == 0))
            snprintf(why, whysz, "hasNextPage is true but endCursor is null or empty");
        else
            rc = 0;
    }
    lua_settop(L, top);
    return rc;
}

int bt_graphql_check_page(lua_State *L, int conn, const bt_graphql_ids *ids, lua_Integer *items,
                          char *why, size_t whysz)
{
    luaL_checkstack(L, 6, "graphql page check");
    conn = lua_absindex(L, conn);
    *items = 0;
    if (!lua_istable(L, conn)) {
        snprintf(why, whysz, "the connection is not an object");
        return -1;
    }
    if (check_page_info(L, conn, why, whysz) != 0)
        return -1;
    bool edges = lua_getfield(L, conn, "edges") != LUA_TNIL;
    if (!edges) {
        lua_pop(L, 1);
        if (lua_getfield(L, conn, "nodes") == LUA_TNIL) {
            lua_pop(L, 1);
            snprintf(why, whysz, "edges is null or missing");
            return -1;
        }
    }
    int list = lua_gettop(L), rc = 0;
    if (!lua_istable(L, list) || !is_list(L, list)) {
        snprintf(why, whysz, "%s is not a list", edges ? "edges" : "nodes");
        rc = -1;
    }
    lua_Integer n = rc == 0 ? (lua_Integer)lua_rawlen(L, list) : 0;
    for (lua_Integer i = 1; rc == 0 && i <= n; i++)
        rc = check_entry(L, list, i, edges, ids, why, whysz);
    lua_pop(L, 1);
    *items = rc == 0 ? n : 0;
    return rc;
}
