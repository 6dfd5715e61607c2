/* Walking a Relay connection page by page: one page in memory at a time,
 * the cursor passed as a variable. Every page is checked (page_check.c) and
 * the walk is bounded: a repeated cursor, STALE_PAGES pages in a row without
 * a new node, or more pages than max_nodes / page size stop it. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bt/clock.h"
#include "bt/errobj.h"
#include "bt/graphql.h"
#include "bt/log.h"

/* A progress line at info level at most this often, so a long walk shows
 * life (and its waits) without a line per page on a fast one. */
#define PROGRESS_SECONDS 10.0

/* Pages in a row that say hasNextPage but bring no node the previous page did
 * not have: a server walking in place. */
#define STALE_PAGES 3

typedef struct walk_state {
    long pages;
    long long items;
    long long max_nodes;
    long max_pages; /* ceil(max_nodes / page size) */
    int stale;      /* pages in a row without a new node */
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

/* [-0, +1|+0, m] Push the connection at dotted `path` under the table at
 * data: 0; or nothing pushed and why filled: -1 for a null object on the path
 * (not_found), -2 for a value that is not an object (a broken page). */
static int find_connection(lua_State *L, int data, const char *path, char *why, size_t whysz)
{
    lua_pushvalue(L, data);
    for (const char *seg = path; seg;) {
        const char *dot = strchr(seg, '.');
        int n = dot ? (int)(dot - seg) : (int)strlen(seg);
        lua_pushlstring(L, seg, (size_t)n);
        int t = lua_rawget(L, -2);
        lua_remove(L, -2);
        int upto = (int)(seg - path) + n;
        if (t != LUA_TTABLE) {
            lua_pop(L, 1);
            if (t == LUA_TNIL)
                snprintf(why, whysz, "nothing at %.*s (null or missing in the response)", upto,
                         path);
            else
                snprintf(why, whysz, "%.*s is not an object", upto, path);
            return t == LUA_TNIL ? -1 : -2;
        }
        seg = dot ? dot + 1 : NULL;
    }
    return 0;
}

/* [-0, +2, e] Request one page and push data and the connection, returning
 * 0; or push nil, err and return 2. A page that breaks the connection's shape
 * is asked again like a mangled body (a query is safe to repeat), within the
 * attempt cap; then it is a decode error and nothing on it is used. */
static int fetch_page(lua_State *L, const bt_graphql_walk *w, int vars, lua_Integer *items)
{
    char why[200], msg[400];
    int max = bt_graphql_query_attempts();
    for (int attempt = 1;; attempt++) {
        int top = lua_gettop(L);
        if (bt_graphql_execute(L, w->query, w->qlen, vars) == 2)
            return 2;
        int found = find_connection(L, top + 1, w->path, why, sizeof why);
        if (found == -1) {
            lua_settop(L, top);
            return bt_err_push(L, "not_found", 0, why);
        }
        if (found == 0 &&
            bt_graphql_check_page(L, top + 2, w->id_field, items, why, sizeof why) == 0)
            return 0;
        lua_settop(L, top);
        snprintf(msg, sizeof msg, "%s: the page breaks the connection's shape: %s", w->path, why);
        if (attempt >= max)
            return bt_err_push(L, "decode", 0, msg);
        bt_graphql_decode_backoff(attempt, max, msg);
    }
}

/* [-0, +1, -] Push pageInfo.endCursor (checked by fetch_page) and return
 * hasNextPage. */
static bool page_info(lua_State *L, int conn)
{
    lua_getfield(L, conn, "pageInfo");
    lua_getfield(L, -1, "hasNextPage");
    bool more = lua_toboolean(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, -1, "endCursor");
    lua_remove(L, -2);
    return more;
}

/* [-0, +0, m] Replace the set at prev with the ids on this page; true when
 * one of them was not on the previous page (without ids: when the page has
 * any node). Memory: one page of ids. */
static bool note_ids(lua_State *L, int conn, int prev, const char *id_field, lua_Integer items)
{
    if (!id_field)
        return items > 0;
    int top = lua_gettop(L);
    bool edges = lua_getfield(L, conn, "edges") == LUA_TTABLE;
    if (!edges) {
        lua_pop(L, 1);
        lua_getfield(L, conn, "nodes");
    }
    lua_createtable(L, 0, (int)(items < 1000 ? items : 1000));
    bool fresh = false;
    for (lua_Integer i = 1; i <= items; i++) {
        lua_rawgeti(L, top + 1, i);
        if (edges)
            lua_getfield(L, -1, "node");
        lua_getfield(L, -1, id_field);
        lua_pushvalue(L, -1);
        fresh = fresh || lua_rawget(L, prev) == LUA_TNIL;
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
        lua_rawset(L, top + 2);
        lua_settop(L, top + 2);
    }
    lua_replace(L, prev);
    lua_settop(L, top);
    return fresh;
}

/* [-0, +0|+2, m] The bounds of a walk that goes on: nil, err (pagination)
 * after STALE_PAGES pages in a row with no new node, or past the pages or
 * nodes max_nodes allows. */
static int check_bounds(lua_State *L, const bt_graphql_walk *w, walk_state *st, bool fresh)
{
    char msg[400];
    st->stale = fresh ? 0 : st->stale + 1;
    if (st->stale >= STALE_PAGES)
        snprintf(msg, sizeof msg,
                 "%s: %d pages in a row brought no new node but said hasNextPage; stopping",
                 w->path, st->stale);
    else if (st->pages >= st->max_pages || st->items > st->max_nodes)
        snprintf(msg, sizeof msg,
                 "%s: %ld pages and %lld nodes, more than a list of at most %lld nodes takes; "
                 "stopping (max_nodes raises the bound)",
                 w->path, st->pages, st->items, st->max_nodes);
    else
        return 0;
    return bt_err_push(L, "pagination", 0, msg);
}

/* [-0, +0|+2, m] Check the cursor at the top before walking on: nil, err
 * when it was seen before; else remember it. */
static int check_cursor(lua_State *L, int seen, const char *path)
{
    char msg[300];
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

/* One page: request and check it, hand it to on_page, check the bounds and
 * move the cursor variable on. 0 = go on, 1 = done, 2 = nil, err on top. */
static int page(lua_State *L, const bt_graphql_walk *w, int vars, int seen, int prev,
                walk_state *st)
{
    lua_Integer items;
    if (fetch_page(L, w, vars, &items) == 2)
        return 2;
    int data = lua_gettop(L) - 1, conn = data + 1;
    bool more = page_info(L, conn); /* pushes the end cursor */
    st->pages++;
    st->items += items;
    bt_graphql_note_page();
    progress(st, w->path);
    bool fresh = note_ids(L, conn, prev, w->id_field, items);
    if (!call_on_page(L, w->on_page_idx, conn, data) || !more)
        return 1;
    if (check_bounds(L, w, st, fresh) == 2 || check_cursor(L, seen, w->path) == 2)
        return 2;
    lua_setfield(L, vars, w->cursor_var);
    return 0;
}

/* The page size the walk asks for: an integer variables.first, else 1 (so
 * the page bound falls back to max_nodes pages). */
static long long page_size(lua_State *L, int vars)
{
    long long n = 1;
    if (lua_getfield(L, vars, "first") == LUA_TNUMBER && lua_isinteger(L, -1) &&
        lua_tointeger(L, -1) > 0)
        n = (long long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return n;
}

static void init_state(lua_State *L, const bt_graphql_walk *w, int vars, walk_state *st)
{
    memset(st, 0, sizeof *st);
    st->max_nodes = w->max_nodes > 0 ? w->max_nodes : BT_GRAPHQL_MAX_NODES;
    long long size = page_size(L, vars);
    long long pages = (st->max_nodes + size - 1) / size;
    st->max_pages = pages > LONG_MAX ? LONG_MAX : (long)pages;
    st->waited_at_start = waited_so_far();
    st->last_progress = bt_clock_monotonic();
}

int bt_graphql_paginate(lua_State *L, const bt_graphql_walk *w)
{
    int base = lua_gettop(L);
    luaL_checkstack(L, 16, "graphql.paginate");
    push_copy(L, w->vars_idx ? lua_absindex(L, w->vars_idx) : 0);
    int vars = base + 1;
    lua_newtable(L); /* cursors seen, the caller's first one included */
    int seen = base + 2;
    lua_newtable(L); /* ids on the previous page */
    int prev = base + 3;
    if (lua_getfield(L, vars, w->cursor_var) != LUA_TNIL) {
        lua_pushboolean(L, 1);
        lua_rawset(L, seen);
    } else {
        lua_pop(L, 1);
    }
    walk_state st;
    init_state(L, w, vars, &st);
    int rc;
    while ((rc = page(L, w, vars, seen, prev, &st)) == 0)
        lua_settop(L, prev);
    if (rc == 2)
        return results(L, base, 2);
    bt_debug("graphql: paged %s: %ld pages, %lld items", w->path, st.pages, st.items);
    lua_settop(L, base);
    lua_pushinteger(L, st.pages);
    return 1;
}
