/* Walking a Relay connection page by page: one page in memory at a time,
 * the cursor passed as a variable, a repeated cursor stops the walk. */
#include <stdio.h>
#include <string.h>

#include "bt/clock.h"
#include "bt/errobj.h"
#include "bt/graphql.h"
#include "bt/log.h"

/* A progress line at info level at most this often, so a long walk shows
 * life (and its waits) without a line per page on a fast one. */
#define PROGRESS_SECONDS 10.0

typedef struct walk_state {
    long pages;
    long long items;
    double waited_at_start;
    double last_progress; /* bt_clock_monotonic() of the start or the last line */
} walk_state;

static double waited_so_far(void)
{
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    return s.rate_limit_wait_seconds + s.backoff_wait_seconds + s.pacing_wait_seconds;
}

/* [-0, +1, m] A shallow copy of the table at idx (0: a new empty table). */
static void push_copy(lua_State *L, int idx)
{
    lua_newtable(L);
    if (idx == 0)
        return;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/* [-0, +1|+2, m] Push the connection at dotted `path` under the table at
 * data, or nil, err (not_found for a null object, pagination otherwise). */
static int find_connection(lua_State *L, int data, const char *path)
{
    char msg[300];
    lua_pushvalue(L, data);
    for (const char *seg = path; seg;) {
        const char *dot = strchr(seg, '.');
        int n = dot ? (int)(dot - seg) : (int)strlen(seg);
        lua_pushlstring(L, seg, (size_t)n);
        int t = lua_rawget(L, -2);
        lua_remove(L, -2);
        int upto = (int)(seg - path) + n;
        if (t == LUA_TNIL) {
            lua_pop(L, 1);
            snprintf(msg, sizeof msg, "nothing at %.*s (null or missing in the response)", upto,
                     path);
            return bt_err_push(L, "not_found", 0, msg);
        }
        if (t != LUA_TTABLE) {
            lua_pop(L, 1);
            snprintf(msg, sizeof msg, "%.*s is not an object", upto, path);
            return bt_err_push(L, "pagination", 0, msg);
        }
        seg = dot ? dot + 1 : NULL;
    }
    return 1;
}

/* [-0, +0, -] Items on the page: #edges, else #nodes. */
static lua_Integer count_items(lua_State *L, int conn)
{
    int top = lua_gettop(L);
    lua_Integer n = 0;
    if (lua_getfield(L, conn, "edges") == LUA_TTABLE)
        n = (lua_Integer)lua_rawlen(L, -1);
    else if (lua_getfield(L, conn, "nodes") == LUA_TTABLE)
        n = (lua_Integer)lua_rawlen(L, -1);
    lua_settop(L, top);
    return n;
}

/* [-0, +1|+2, m] Push pageInfo.endCursor (may be nil) and set *more from
 * hasNextPage; or nil, err when the connection has no pageInfo. */
static int page_info(lua_State *L, int conn, const char *path, bool *more)
{
    if (lua_getfield(L, conn, "pageInfo") != LUA_TTABLE) {
        char msg[300];
        lua_pop(L, 1);
        snprintf(msg, sizeof msg, "no connection at %s (pageInfo missing)", path);
        return bt_err_push(L, "pagination", 0, msg);
    }
    lua_getfield(L, -1, "hasNextPage");
    *more = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, -1, "endCursor");
    lua_remove(L, -2);
    return 1;
}

/* [-0, +0|+2, m] Check the cursor at the top before walking on: nil, err
 * when it is missing or was seen before; else remember it. */
static int check_cursor(lua_State *L, int seen, const char *path)
{
    char msg[300];
    if (lua_isnil(L, -1)) {
        snprintf(msg, sizeof msg, "%s: hasNextPage is true but endCursor is null", path);
        return bt_err_push(L, "pagination", 0, msg);
    }
    lua_pushvalue(L, -1);
    if (lua_rawget(L, seen) != LUA_TNIL) {
        snprintf(msg, sizeof msg, "%s: the server repeated cursor %.80s; stopping", path,
                 luaL_tolstring(L, -2, NULL));
        return bt_err_push(L, "pagination", 0, msg);
    }
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, seen);
    return 0;
}

/* [-0, +0, e] on_page(conn, data); false when it returned false. */
static bool call_on_page(lua_State *L, int fn, int conn, int data)
{
    lua_pushvalue(L, fn);
    lua_pushvalue(L, conn);
    lua_pushvalue(L, data);
    lua_call(L, 2, 1);
    bool go_on = !(lua_isboolean(L, -1) && !lua_toboolean(L, -1));
    lua_pop(L, 1);
    return go_on;
}

static void progress(walk_state *st, const char *path)
{
    double now = bt_clock_monotonic();
    if (now - st->last_progress < PROGRESS_SECONDS)
        return;
    st->last_progress = now;
    bt_info("graphql: paging %s: %ld pages, %lld items so far, %.1f s waited", path, st->pages,
            st->items, waited_so_far() - st->waited_at_start);
}

/* [-(top-base), +n, -] Keep only the n results at the top above base. */
static int results(lua_State *L, int base, int n)
{
    lua_rotate(L, base + 1, n);
    lua_settop(L, base + n);
    return n;
}

/* One page: request it, find the connection, hand it to on_page, move the
 * cursor variable on. 0 = go on, 1 = done, 2 = nil, err on top. */
static int page(lua_State *L, const bt_graphql_walk *w, int vars, int seen, walk_state *st)
{
    if (bt_graphql_execute(L, w->query, w->qlen, vars) == 2)
        return 2;
    int data = lua_gettop(L);
    if (find_connection(L, data, w->path) == 2)
        return 2;
    int conn = lua_gettop(L);
    bool more = false;
    if (page_info(L, conn, w->path, &more) == 2) /* pushes the end cursor */
        return 2;
    st->pages++;
    st->items += count_items(L, conn);
    bt_graphql_note_page();
    progress(st, w->path);
    if (!call_on_page(L, w->on_page_idx, conn, data) || !more)
        return 1;
    if (check_cursor(L, seen, w->path) == 2)
        return 2;
    lua_setfield(L, vars, w->cursor_var);
    return 0;
}

int bt_graphql_paginate(lua_State *L, const bt_graphql_walk *w)
{
    int base = lua_gettop(L);
    luaL_checkstack(L, 16, "graphql.paginate");
    push_copy(L, w->vars_idx ? lua_absindex(L, w->vars_idx) : 0);
    int vars = base + 1;
    lua_newtable(L); /* cursors seen, the caller's first one included */
    int seen = base + 2;
    if (lua_getfield(L, vars, w->cursor_var) != LUA_TNIL) {
        lua_pushboolean(L, 1);
        lua_rawset(L, seen);
    } else {
        lua_pop(L, 1);
    }
    walk_state st = {0, 0, waited_so_far(), bt_clock_monotonic()};
    int rc;
    while ((rc = page(L, w, vars, seen, &st)) == 0)
        lua_settop(L, seen);
    if (rc == 2)
        return results(L, base, 2);
    bt_debug("graphql: paged %s: %ld pages, %lld items", w->path, st.pages, st.items);
    lua_settop(L, base);
    lua_pushinteger(L, st.pages);
    return 1;
}
