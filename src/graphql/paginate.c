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

/* Cursors of the last forward pages kept for reading back (read_back). */
#define RING 8

typedef struct walk_state {
    long pages;
    long long items;
    long long max_nodes;
    long max_pages; /* ceil(max_nodes / page size) */
    int stale;      /* pages in a row without a new node */
    long long size; /* page size asked for (variables.first, else 1) */
    long forward;   /* forward pages requested; the ring holds their cursors */
    bool has_total; /* last_total holds the previous page's totalCount */
    long long last_total;
    double waited_at_start;
    double started;       /* bt_clock_monotonic() of the walk's start */
    double last_progress; /* bt_clock_monotonic() of the start or the last line */
} walk_state;

/* Stack slots of a walk's tables. */
typedef struct walk_slots {
    int vars; /* the walk's copy of the variables */
    int seen; /* cursors seen */
    int prev; /* ids on the previous page */
    int ring; /* cursors of the last forward pages */
} walk_slots;

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
    bt_graphql_page_begin(); /* one attempt cap and deadline for the page */
    for (;;) {
        int top = lua_gettop(L);
        int n = bt_graphql_execute(L, w->query, w->qlen, vars);
        int found = n == 2 ? 0 : find_connection(L, top + 1, w->path, why, sizeof why);
        if (n == 2 || (found == 0 &&
                       bt_graphql_check_page(L, top + 2, w->id_field, items, why, sizeof why) == 0)) {
            bt_graphql_page_end();
            return n == 2 ? 2 : 0;
        }
        lua_settop(L, top);
        if (found == -1) {
            bt_graphql_page_end();
            return bt_err_push(L, "not_found", 0, why);
        }
        snprintf(msg, sizeof msg, "%s: the page breaks the connection's shape: %s", w->path, why);
        if (!bt_graphql_reask(msg)) {
            bt_graphql_page_end();
            return bt_err_push(L, "decode", 0, msg);
        }
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

/* A list's progress (w->progress names it): done/total from totalCount, the
 * requests, and the seconds left at the pace in force (else at the rate seen
 * so far). end: the list is complete. */
static void progress_record(const bt_graphql_walk *w, const walk_state *st, bool end)
{
    bt_graphql_progress p = {.phase = w->progress, .done = st->items, .total = -1,
                             .requests = st->pages, .expected = -1, .eta_s = -1};
    if (st->has_total) {
        p.total = st->last_total;
        p.expected = (st->last_total + st->size - 1) / st->size;
        if (p.expected < st->pages || end)
            p.expected = st->pages;
        long left = p.expected - st->pages;
        double pace = bt_graphql_reads_per_minute();
        double per_page = pace > 0 ? 60.0 / pace
                                   : (bt_clock_monotonic() - st->started) / (double)st->pages;
        p.eta_s = end ? 0 : (long long)((double)left * per_page + 0.5);
    }
    bt_graphql_log_progress(&p);
}

static void progress(const bt_graphql_walk *w, walk_state *st)
{
    double now = bt_clock_monotonic();
    if (now - st->last_progress < PROGRESS_SECONDS)
        return;
    st->last_progress = now;
    if (w->progress) {
        progress_record(w, st, false);
        return;
    }
    bt_info("graphql: paging %s: %ld pages, %lld items so far, %.1f s waited", w->path, st->pages,
            st->items, waited_so_far() - st->waited_at_start);
}

/* [-(top-base), +n, -] Keep only the n results at the top above base. */
static int results(lua_State *L, int base, int n)
{
    lua_rotate(L, base + 1, n);
    lua_settop(L, base + n);
    return n;
}

/* ---- reading back ----
 * Offset cursors (Relay's arrayconnection) shift when an earlier node is
 * deleted between two requests: the nodes at the next page boundary move
 * before the cursor and are never served. A connection that reports
 * totalCount shows it: when the count drops by d between two pages, the walk
 * reads the ceil(d / page size) pages before the current one again, from the
 * cursors it used for them. The repeats are absorbed downstream (a sink keeps
 * one row per id); with cursors that are keys, the read is only a repeat. */

/* [-0, +0, m] Remember the cursor variable the next forward page is asked
 * with (false for none) in the ring at slot forward % RING. */
static void remember_cursor(lua_State *L, const bt_graphql_walk *w, int vars, int ring,
                            walk_state *st)
{
    if (lua_getfield(L, vars, w->cursor_var) == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
    }
    lua_rawseti(L, ring, st->forward % RING);
    st->forward++;
}

/* [-0, +0, -] How many nodes the connection lost since the previous page
 * (0 when it did not, or does not report totalCount). */
static long long shrinkage(lua_State *L, int conn, walk_state *st)
{
    long long lost = 0;
    if (lua_getfield(L, conn, "totalCount") == LUA_TNUMBER && lua_isinteger(L, -1)) {
        long long total = (long long)lua_tointeger(L, -1);
        if (st->has_total && total < st->last_total)
            lost = st->last_total - total;
        st->has_total = true;
        st->last_total = total;
    }
    lua_pop(L, 1);
    return lost;
}

/* Read the pages before the current forward page again after the list lost
 * `lost` nodes. 0 = go on, 1 = on_page said stop, 2 = nil, err on top. The
 * stack above its entry top is cleared on 0 and 1. */
static int read_back(lua_State *L, const bt_graphql_walk *w, int vars, int ring, walk_state *st,
                     long long lost)
{
    long want = (long)((lost + st->size - 1) / st->size);
    long have = st->forward - 1 < RING - 1 ? st->forward - 1 : RING - 1;
    long back = want < have ? want : have;
    if (back < want)
        bt_warn("graphql: %s lost %lld nodes between two pages; reading back %ld pages "
                "cannot cover all the nodes that moved", w->path, lost, back);
    else
        bt_info("graphql: %s lost %lld nodes during the walk; reading %ld earlier pages again "
                "so that no node moves out of reach", w->path, lost, back);
    int top = lua_gettop(L), from = top + 1; /* the cursor to ask with; false: none */
    lua_rawgeti(L, ring, (st->forward - 1 - back) % RING);
    for (long i = 0; i < back; i++) {
        if (i > 0 && lua_isnil(L, from))
            break; /* an empty page: nothing after it */
        if (lua_toboolean(L, from))
            lua_pushvalue(L, from);
        else
            lua_pushnil(L);
        lua_setfield(L, vars, w->cursor_var);
        lua_Integer items;
        if (fetch_page(L, w, vars, &items) == 2)
            return 2;
        st->pages++;
        st->items += items;
        bt_graphql_note_page();
        if (!call_on_page(L, w->on_page_idx, from + 2, from + 1)) {
            lua_settop(L, top);
            return 1;
        }
        lua_getfield(L, from + 2, "pageInfo");
        lua_getfield(L, -1, "endCursor");
        lua_replace(L, from);
        lua_settop(L, from);
    }
    lua_settop(L, top);
    return 0;
}

/* One page: request and check it, hand it to on_page, read back when the
 * list shrank, check the bounds and move the cursor variable on. 0 = go on,
 * 1 = done, 2 = nil, err on top. */
static int page(lua_State *L, const bt_graphql_walk *w, const walk_slots *at, walk_state *st)
{
    lua_Integer items;
    remember_cursor(L, w, at->vars, at->ring, st);
    if (fetch_page(L, w, at->vars, &items) == 2)
        return 2;
    int data = lua_gettop(L) - 1, conn = data + 1;
    long long lost = shrinkage(L, conn, st);
    bool more = page_info(L, conn); /* pushes the end cursor */
    st->pages++;
    st->items += items;
    bt_graphql_note_page();
    progress(w, st);
    bool fresh = note_ids(L, conn, at->prev, w->id_field, items);
    if (!call_on_page(L, w->on_page_idx, conn, data))
        return 1;
    int rc = lost > 0 ? read_back(L, w, at->vars, at->ring, st, lost) : 0;
    if (rc != 0 || !more)
        return rc == 0 ? 1 : rc;
    if (check_bounds(L, w, st, fresh) == 2 || check_cursor(L, at->seen, w->path) == 2)
        return 2;
    lua_setfield(L, at->vars, w->cursor_var);
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
    st->size = page_size(L, vars);
    long long pages = (st->max_nodes + st->size - 1) / st->size;
    st->max_pages = pages > LONG_MAX ? LONG_MAX : (long)pages;
    st->waited_at_start = waited_so_far();
    st->started = st->last_progress = bt_clock_monotonic();
}

/* [-0, +0, m] A walk that continues a list whose previous page the caller
 * read (w->prior_total >= 0): that page's cursor goes first in the ring and
 * its totalCount is the one the first page is compared with. */
static void seed_prior(lua_State *L, const bt_graphql_walk *w, int ring, walk_state *st)
{
    if (w->prior_total < 0)
        return;
    if (w->prior_after_idx)
        lua_pushvalue(L, w->prior_after_idx);
    else
        lua_pushboolean(L, 0);
    lua_rawseti(L, ring, 0);
    st->forward = 1;
    st->has_total = true;
    st->last_total = w->prior_total;
}

int bt_graphql_paginate(lua_State *L, const bt_graphql_walk *w)
{
    int base = lua_gettop(L);
    luaL_checkstack(L, 24, "graphql.paginate");
    push_copy(L, w->vars_idx ? lua_absindex(L, w->vars_idx) : 0);
    lua_newtable(L); /* cursors seen, the caller's first one included */
    lua_newtable(L); /* ids on the previous page */
    lua_createtable(L, RING, 0); /* cursors of the last forward pages */
    walk_slots at = {base + 1, base + 2, base + 3, base + 4};
    if (lua_getfield(L, at.vars, w->cursor_var) != LUA_TNIL) {
        lua_pushboolean(L, 1);
        lua_rawset(L, at.seen);
    } else {
        lua_pop(L, 1);
    }
    walk_state st;
    init_state(L, w, at.vars, &st);
    seed_prior(L, w, at.ring, &st);
    int rc;
    while ((rc = page(L, w, &at, &st)) == 0)
        lua_settop(L, at.ring);
    if (rc == 2)
        return results(L, base, 2);
    bt_debug("graphql: paged %s: %ld pages, %lld items", w->path, st.pages, st.items);
    if (w->progress)
        progress_record(w, &st, true);
    lua_settop(L, base);
    lua_pushinteger(L, st.pages);
    return 1;
}
