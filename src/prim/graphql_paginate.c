/* Walking a Relay connection page by page: one page in memory at a time,
 * the cursor passed as a variable. Every page is checked (graphql_page_check.c) and
 * the walk is bounded: a repeated cursor, STALE_PAGES pages in a row without
 * a new node, or more nodes than max_nodes (or the pages they take) stop it. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "bt/clock.h"
#include "bt/errobj.h"
#include "bt/graphql_lua.h"
#include "bt/log.h"

/* A progress line at info level at most this often, so a long walk shows
 * life (and its waits) without a line per page on a fast one. */
#define PROGRESS_SECONDS 10.0

/* Pages in a row that say hasNextPage but bring no node the previous page did
 * not have: a server walking in place. */
#define STALE_PAGES 3

/* Entries (cursor, anchor, offset) of the last requests kept for walking
 * back when a page's anchor moved. */
#define RING 8

/* Pages whose anchor moved a walk may meet, beyond one per page of progress. */
#define WALK_BACKS 32

typedef struct walk_state {
    long pages;
    long long items;
    long long max_nodes;
    long max_pages; /* the pages max_nodes takes (init_state) */
    int stale;      /* pages in a row without a new node */
    long long size; /* page size asked for (variables.first, else 1) */
    long cur;       /* the entry (request) being read; the ring holds entries low..cur */
    long low;
    long long offsets[RING]; /* each entry's first node's offset; -1: unknown */
    long walk_backs;         /* pages whose anchor had moved */
    long held;               /* pages whose anchor held and that reached past reach */
    long long reach;         /* the furthest offset + nodes any page reached */
    bool reread_end;         /* the list-end check has read a page again */
    double waited_at_start;
    double started;       /* bt_clock_monotonic() of the walk's start */
    double last_progress; /* bt_clock_monotonic() of the start or the last line */
    long long total;      /* the last page's totalCount; -1: none yet */
} walk_state;

/* Stack slots of a walk's tables. */
typedef struct walk_slots {
    int vars; /* the walk's copy of the variables */
    int seen; /* cursors seen */
    int prev; /* ids on the previous page */
    int ring; /* entries of the last requests: { cursor|false, anchor|false } */
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
 * data: 0; or nothing pushed and why filled: -1 for an explicit null as the
 * root field (the object is gone: not_found), -2 for anything else that is
 * not an object: a missing field, a null below the root, the wrong type, or
 * an answer like {"data":{}} (a damaged page, never read as a deletion). */
static int find_connection(lua_State *L, int data, const char *path, char *why, size_t whysz)
{
    lua_pushvalue(L, data);
    for (const char *seg = path; seg;) {
        const char *dot = strchr(seg, '.');
        int n = dot ? (int)(dot - seg) : (int)strlen(seg);
        lua_pushlstring(L, seg, (size_t)n);
        int t = lua_rawget(L, -2);
        bool null = seg == path && bt_graphql_is_null(L, -1);
        lua_remove(L, -2);
        int upto = (int)(seg - path) + n;
        if (t != LUA_TTABLE) {
            lua_pop(L, 1);
            if (null)
                snprintf(why, whysz, "%.*s is null (it no longer exists)", upto, path);
            else if (t == LUA_TNIL)
                snprintf(why, whysz, "%.*s is missing from the answer", upto, path);
            else
                snprintf(why, whysz, "%.*s is not an object", upto, path);
            return null ? -1 : -2;
        }
        seg = dot ? dot + 1 : NULL;
    }
    return 0;
}

/* [-0, +0, e] The walk's check(conn) on a page of the right shape: true, or
 * false with why filled (the page is damaged). */
static bool page_passes(lua_State *L, const bt_graphql_walk *w, int conn, char *why,
                        size_t whysz)
{
    if (!w->check_idx)
        return true;
    lua_pushvalue(L, w->check_idx);
    lua_pushvalue(L, conn);
    lua_call(L, 1, 2);
    bool ok = lua_toboolean(L, -2);
    if (!ok)
        snprintf(why, whysz, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "refused by check");
    lua_pop(L, 2);
    return ok;
}

/* [-0, +1, e] One request; data.<root field> nulls kept as the sentinel. */
static int execute_keeping_nulls(lua_State *L, const bt_graphql_walk *w, int vars)
{
    bt_graphql_next_keeps_root_nulls();
    return bt_graphql_execute(L, w->query, w->qlen, vars);
}

/* [-0, +2, e] Request one page and push data and the connection, returning
 * 0; or push nil, err and return 2. A page that breaks the connection's shape
 * (or that the walk's check refuses) is asked again like a mangled body (a
 * query is safe to repeat), within the attempt cap; then it is a decode
 * error and nothing on it is used. */
static int fetch_page(lua_State *L, const bt_graphql_walk *w, int vars, lua_Integer *items)
{
    char why[300], msg[500];
    bt_graphql_page_begin(); /* one attempt cap and deadline for the page */
    for (;;) {
        int top = lua_gettop(L);
        int n = execute_keeping_nulls(L, w, vars);
        if (n == 2) {
            bt_graphql_page_end();
            return 2;
        }
        int found = find_connection(L, top + 1, w->path, why, sizeof why);
        bool shaped = found == 0 &&
                      bt_graphql_check_page(L, top + 2, &w->ids, items, why, sizeof why) == 0;
        if (shaped && page_passes(L, w, top + 2, why, sizeof why)) {
            bt_graphql_drop_root_nulls(L, top + 1);
            bt_graphql_page_end();
            return 0;
        }
        lua_settop(L, top);
        if (found == -1) {
            bt_graphql_page_end();
            return bt_err_push(L, "not_found", 0, why);
        }
        snprintf(msg, sizeof msg, "%s: %s: %s", w->path,
                 shaped ? "a node on the page is damaged" : "the page breaks the connection's shape",
                 why);
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
 * one of them was not on the previous page, or a node has no id (without
 * ids: when the page has any node). Memory: one page of ids. */
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
        if (lua_getfield(L, -1, id_field) == LUA_TNIL || bt_graphql_is_null(L, -1)) {
            fresh = true; /* ids optional: a node without one */
            lua_settop(L, top + 2);
            continue;
        }
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

/* The requests a list of total nodes takes at size a page, each page after
 * the first overlapping the one before by one node (its anchor). */
static long expected_pages(long long total, long long size)
{
    if (total <= size || size < 2)
        return size < 2 ? (long)total : 1;
    return 1 + (long)((total - size + size - 2) / (size - 1));
}

/* A list's progress (w->progress names it): done/total from totalCount, the
 * requests, and the seconds left at the pace in force (else at the rate seen
 * so far). end: the list is complete. */
static void progress_record(const bt_graphql_walk *w, const walk_state *st, bool end)
{
    bt_graphql_progress p = {.phase = w->progress, .done = st->items, .total = -1,
                             .requests = st->pages, .expected = -1, .eta_s = -1};
    if (st->total >= 0) {
        p.total = st->total;
        p.expected = expected_pages(st->total, st->size);
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

/* ---- overlap, shift detection and the list-end check ----
 * Offset cursors (Relay's arrayconnection, as graphene serves them): when an earlier
 * node is deleted between two requests, the nodes at the next page boundary
 * move before the cursor and are never served. So a walk whose edges carry
 * their own `cursor` (and whose last node carries an id: with ids_optional a
 * page ending on a node without one continues unanchored) continues each page
 * from the cursor of its second-to-last node: the next page must begin with
 * the last node read, its anchor. A page that holds its anchor further down only
 * repeats nodes (something was inserted before it: nothing is lost); a page
 * without it means something before it moved, so the walk goes back one
 * entry at a time (the cursors of the last RING requests, then the list's
 * start) and reads on from the first page whose anchor holds. Cost: one node
 * of overlap per page, about 1 % more requests at 100 a page.
 *
 * Each request's entry also knows the offset of its first node, so at the
 * end of the list (hasNextPage false) offset + nodes must reach the page's
 * totalCount: a list that ends early (a short page whose endCursor skips
 * nodes, hasNextPage false too soon) is read again once, then fails with a
 * `pagination` error. Deletions are already in that sum: the offset is the
 * server's own, checked by the anchors. */

/* [-0, +0, m] Store entry k of the ring: the cursor to ask with (the value at
 * cursor, 0 or nil: the list's start), the anchor id expected first (the
 * value at anchor, 0: none) and the offset of the page's first node. */
static void ring_put(lua_State *L, int ring, walk_state *st, long k, int cursor, int anchor,
                     long long offset)
{
    lua_createtable(L, 2, 0);
    if (cursor && !lua_isnil(L, cursor))
        lua_pushvalue(L, cursor);
    else
        lua_pushboolean(L, 0);
    lua_rawseti(L, -2, 1);
    if (anchor)
        lua_pushvalue(L, anchor);
    else
        lua_pushboolean(L, 0);
    lua_rawseti(L, -2, 2);
    lua_rawseti(L, ring, k % RING);
    st->offsets[k % RING] = offset;
    st->cur = k;
    if (k - st->low >= RING)
        st->low = k - RING + 1;
}

/* [-0, +2, -] Push the current entry's cursor (false: none) and anchor
 * (false: none). */
static void ring_get(lua_State *L, int ring, const walk_state *st)
{
    lua_rawgeti(L, ring, st->cur % RING);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    lua_remove(L, -3);
}

/* [-0, +0, -] Id of node i (1-based) of the checked page at conn pushed, or
 * nothing pushed and false. */
static bool push_node_field(lua_State *L, int conn, lua_Integer i, const char *field, bool edge)
{
    int top = lua_gettop(L);
    if (lua_getfield(L, conn, "edges") != LUA_TTABLE || lua_rawgeti(L, -1, i) != LUA_TTABLE) {
        lua_settop(L, top);
        return false;
    }
    if (!edge && lua_getfield(L, -1, "node") != LUA_TTABLE) {
        lua_settop(L, top);
        return false;
    }
    lua_getfield(L, -1, field);
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return true;
}

/* [-0, +0, -] Where the anchor at idx (false: none) is among the page's
 * nodes: its position from 1; 0 when there is none to look for (a page read
 * from the list's start, or after a page without overlap); -1 when it is not
 * on the page (something before it moved). */
static lua_Integer find_anchor(lua_State *L, int conn, int anchor, const char *id_field,
                               lua_Integer items)
{
    bool edges = lua_getfield(L, conn, "edges") == LUA_TTABLE;
    lua_pop(L, 1);
    if (!lua_toboolean(L, anchor) || !id_field || !edges)
        return 0; /* nothing to look for, or a `nodes` list: no anchors */
    for (lua_Integer i = 1; i <= items; i++) {
        if (!push_node_field(L, conn, i, id_field, false))
            return -1;
        bool same = lua_rawequal(L, -1, anchor);
        lua_pop(L, 1);
        if (same)
            return i;
    }
    return -1;
}

/* [-0, +0, -] Remove the first edge of the page at conn: the anchor, handed
 * on with the page before, is not handed on twice. */
static void drop_first_edge(lua_State *L, int conn, lua_Integer items)
{
    lua_getfield(L, conn, "edges");
    for (lua_Integer i = 1; i < items; i++) {
        lua_rawgeti(L, -1, i + 1);
        lua_rawseti(L, -2, i);
    }
    lua_pushnil(L);
    lua_rawseti(L, -2, items);
    lua_pop(L, 1);
}

/* [-0, +0, m] After a page that says more: the next entry. With a cursor
 * on the second-to-last edge and an id on the last node, that cursor and the
 * last node as the anchor (one node of overlap); a page of one node, or one
 * whose last node has no id (ids_optional), continues from its last node's
 * own cursor; edges without cursors from endCursor (at top). No anchor in
 * the last two cases. */
static void next_entry(lua_State *L, const bt_graphql_walk *w, int conn, int ring,
                       walk_state *st, lua_Integer items)
{
    long long offset = st->offsets[st->cur % RING];
    int top = lua_gettop(L), anchor = 0;
    if (w->ids.field && items >= 2 && push_node_field(L, conn, items, w->ids.field, false)) {
        if (lua_isnil(L, -1) || bt_graphql_is_null(L, -1))
            lua_pop(L, 1);
        else
            anchor = lua_gettop(L);
    }
    lua_Integer at = anchor ? items - 1 : items;
    if (items >= 1 && push_node_field(L, conn, at, "cursor", true) &&
        lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) > 0) {
        ring_put(L, ring, st, st->cur + 1, lua_gettop(L), anchor, offset < 0 ? -1 : offset + at);
        lua_settop(L, top);
        return;
    }
    lua_settop(L, top);
    ring_put(L, ring, st, st->cur + 1, top, 0, offset < 0 ? -1 : offset + items);
}

/* A page whose anchor held: progress when it reaches past every page before
 * (or its offset is unknown). Reading the same pages again is not progress,
 * so a server whose anchors keep moving exhausts the walk-back budget. */
static void note_progress(walk_state *st, lua_Integer items)
{
    long long offset = st->offsets[st->cur % RING];
    if (offset >= 0 && offset + items <= st->reach)
        return;
    st->held++;
    if (offset >= 0)
        st->reach = offset + items;
}

/* [-0, +0|+2, m] The anchor was not on the page: something before it moved.
 * Go back one entry (to the list's start once the ring is spent), within the
 * walk's budget; the cursors seen are forgotten, as they are read again. */
static int walk_back(lua_State *L, const bt_graphql_walk *w, const walk_slots *at,
                     walk_state *st)
{
    char msg[300];
    if (++st->walk_backs > WALK_BACKS + st->held) {
        snprintf(msg, sizeof msg,
                 "%s: the list kept moving during the walk (%ld pages read again); stopping",
                 w->path, st->walk_backs - 1);
        return bt_err_push(L, "pagination", 0, msg);
    }
    bt_info("graphql: %s: the node before a page boundary moved (something before it was "
            "deleted during the walk); reading an earlier page again",
            w->path);
    if (st->cur > st->low) {
        st->cur--;
    } else {
        st->low = 0;
        ring_put(L, at->ring, st, 0, 0, 0, 0); /* the list's start */
    }
    lua_newtable(L);
    lua_replace(L, at->seen);
    return 0;
}

/* [-0, +0, -] The page's integer totalCount, or -1. */
static long long total_count(lua_State *L, int conn)
{
    long long total = -1;
    if (lua_getfield(L, conn, "totalCount") == LUA_TNUMBER && lua_isinteger(L, -1))
        total = (long long)lua_tointeger(L, -1);
    lua_pop(L, 1);
    return total;
}

/* [-0, +0|+2, m] The last page (hasNextPage false) of `items` nodes and its
 * totalCount: 1 when the nodes reach it (or it or the page's offset is not
 * known), 0 to read the page again once, 2 with nil, err (pagination) when it
 * still ends early. */
static int check_end(lua_State *L, const bt_graphql_walk *w, walk_state *st, lua_Integer items,
                     long long total)
{
    char msg[400];
    long long offset = st->offsets[st->cur % RING], reached = offset + items;
    if (offset < 0 || total < 0 || total <= reached)
        return 1;
    if (!st->reread_end) {
        st->reread_end = true;
        bt_warn("graphql: %s ended after %lld nodes but its totalCount is %lld; reading the "
                "last page again",
                w->path, reached, total);
        return 0;
    }
    snprintf(msg, sizeof msg,
             "%s: the list ended after %lld nodes but its totalCount is %lld, also when read "
             "again; stopping",
             w->path, reached, total);
    return bt_err_push(L, "pagination", 0, msg);
}

/* One page: request the current entry and check it. Its anchor missing:
 * the page is handed on whole and the walk goes back. Else the next entry is
 * made (before on_page, which may change the page), the anchor edge dropped
 * when it leads the page, the page handed on, and then the list's end
 * checked, or the bounds and the next cursor. 0 = go on, 1 = done, 2 = nil,
 * err on top. */
static int page(lua_State *L, const bt_graphql_walk *w, const walk_slots *at, walk_state *st)
{
    lua_Integer items;
    ring_get(L, at->ring, st); /* cursor, anchor */
    int anchor = lua_gettop(L);
    if (lua_toboolean(L, anchor - 1))
        lua_pushvalue(L, anchor - 1);
    else
        lua_pushnil(L);
    lua_setfield(L, at->vars, w->cursor_var);
    if (fetch_page(L, w, at->vars, &items) == 2)
        return 2;
    int data = lua_gettop(L) - 1, conn = data + 1;
    bool more = page_info(L, conn); /* pushes the end cursor */
    lua_Integer found = find_anchor(L, conn, anchor, w->ids.field, items);
    st->pages++;
    st->items += found == 1 ? items - 1 : items;
    st->total = total_count(L, conn);
    bt_graphql_note_page();
    progress(w, st);
    bool fresh = note_ids(L, conn, at->prev, w->ids.field, items);
    if (found < 0) {
        if (!call_on_page(L, w->on_page_idx, conn, data))
            return 1;
        return walk_back(L, w, at, st);
    }
    note_progress(st, items);
    long long total = st->total;
    if (more)
        next_entry(L, w, conn, at->ring, st, items); /* st->cur moves on */
    if (found == 1)
        drop_first_edge(L, conn, items);
    if (!call_on_page(L, w->on_page_idx, conn, data))
        return 1;
    if (!more)
        return check_end(L, w, st, items, total);
    if (check_bounds(L, w, st, fresh) == 2)
        return 2;
    ring_get(L, at->ring, st);
    lua_pop(L, 1);
    return check_cursor(L, at->seen, w->path);
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

/* The pages a list of at most max_nodes takes: with ids, one node of overlap
 * a page and the pages its walk-backs may read again; without, ceil(max_nodes
 * / size). */
static long page_bound(const bt_graphql_walk *w, long long max_nodes, long long size)
{
    if (!w->ids.field) {
        long long pages = (max_nodes + size - 1) / size;
        return pages > LONG_MAX ? LONG_MAX : (long)pages;
    }
    long pages = expected_pages(max_nodes, size);
    return pages > LONG_MAX - WALK_BACKS ? LONG_MAX : pages + WALK_BACKS;
}

static void init_state(lua_State *L, const bt_graphql_walk *w, int vars, walk_state *st)
{
    memset(st, 0, sizeof *st);
    st->max_nodes = w->max_nodes > 0 ? w->max_nodes : BT_GRAPHQL_MAX_NODES;
    st->size = page_size(L, vars);
    st->max_pages = page_bound(w, st->max_nodes, st->size);
    st->waited_at_start = waited_so_far();
    st->started = st->last_progress = bt_clock_monotonic();
    st->total = -1;
}

/* [-0, +0, m] The walk's first entry: the caller's cursor, with the anchor
 * and offset of the page the caller read before it (w->prior_offset >= 0: a
 * nested first page); a walk from the list's start has offset 0, one from a
 * cursor of unknown offset -1 (no list-end check). */
static void first_entry(lua_State *L, const bt_graphql_walk *w, int vars, int ring,
                        walk_state *st)
{
    int cursor = lua_gettop(L) + 1;
    lua_getfield(L, vars, w->cursor_var);
    long long offset = lua_isnil(L, cursor) ? 0 : -1;
    if (w->prior_offset >= 0)
        offset = w->prior_offset;
    ring_put(L, ring, st, 0, cursor, w->prior_anchor_idx, offset);
    lua_pop(L, 1);
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
    first_entry(L, w, at.vars, at.ring, &st);
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
