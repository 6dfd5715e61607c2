/* The Lua binding bt.graphql's pieces (src/prim/graphql*.c): a document
 * executed from Lua values, JSON <-> Lua, response classification into data
 * or nil, err, and pagination. prim/ is the only layer that pushes to the Lua
 * stack; the session underneath is bt/graphql.h's, with no Lua. */
#ifndef BT_GRAPHQL_LUA_H
#define BT_GRAPHQL_LUA_H
#include "bt/graphql.h"
#include "bt/lua.h"

/* [-0, +1|+2, e] POST one document with the variables table at vars_idx (0 =
 * none) and push data, or nil and an error table. Raises on misuse (not
 * configured, mutation while writes are refused, variables not encodable).
 * Returns the number of values pushed. */
int bt_graphql_execute(lua_State *L, const char *query, size_t qlen, int vars_idx);

/* The sentinel for JSON null inside arrays (a light userdata). */
void bt_graphql_push_null(lua_State *L); /* [-0, +1, -] */
bool bt_graphql_is_null(lua_State *L, int idx);
/* [-0, +0, m] Mark the table at idx as a JSON array (so {} encodes as []). */
void bt_graphql_mark_array(lua_State *L, int idx);

/* [-0, +1|+0, m] Decode JSON text s[0..len) strictly and push the value
 * (prim/graphql_json.c: the Lua-table builder of bt/json_lua.h): objects and
 * arrays become tables, null in an object leaves the key absent, null in an
 * array becomes the null sentinel, a top-level null becomes nil; a lone
 * surrogate escape keeps its three bytes. Returns 0 (one value pushed) or -1
 * (nothing pushed, reason in err). */
int bt_graphql_json_decode(lua_State *L, const char *s, size_t len, int max_depth, char *err,
                           size_t errsz);
/* While set, a null member of the object one level down (a GraphQL
 * answer's data.<root field>) decodes to the null sentinel instead of an
 * absent key, so a walk tells "null: gone" from "missing: damaged". Set by
 * bt_graphql_execute around its decoding only (never left set by an error). */
void bt_graphql_json_root_nulls(bool keep);
/* The next bt_graphql_execute decodes data.<root field> nulls as the null
 * sentinel (bt_graphql_json_root_nulls); it takes and clears the request at
 * its start. */
void bt_graphql_next_keeps_root_nulls(void);
/* [-0, +0, e] Append the JSON encoding of the value at idx to out. Raises a
 * Lua error naming `what` and the path of a value that cannot be encoded. */
void bt_graphql_json_encode(lua_State *L, int idx, bt_http_buf *out, const char *what);
/* [-0, +0, e] Append a JSON string literal (escaped) for s[0..len). */
void bt_graphql_json_string(lua_State *L, const char *s, size_t len, bt_http_buf *out);

/* [-0, +1|+2, m] Turn an HTTP result into `data` or `nil, err` (kinds: auth,
 * endpoint, rate_limited, server, transport, decode, graphql, http). The
 * session's secret is blanked out of err.message. Returns values pushed. */
int bt_graphql_push_response(lua_State *L, const bt_http_response *r);

/* The id field nodes carry ("id"; NULL: none, not checked) and whether a
 * node may lack it (a union member the query selects no id on): then a walk
 * anchors its pages on the ids present. */
typedef struct bt_graphql_ids {
    const char *field;
    bool optional;
} bt_graphql_ids;

typedef struct bt_graphql_walk {
    const char *query;
    size_t qlen;
    int vars_idx;     /* variables table, 0 = none (copied, never modified) */
    const char *path; /* "users" or "group.users" */
    const char *cursor_var;
    int on_page_idx;      /* function(conn, data) */
    bt_graphql_ids ids;  /* every node must carry ids.field unless ids.optional */
    long long max_nodes;  /* 0: BT_GRAPHQL_MAX_NODES */
    /* The caller read the page before the first one (a nested first page)
     * and starts from the cursor of its second-to-last node: the offset of
     * the node after that cursor (-1: unknown) and the stack index of its
     * last node's id, the first page's anchor (0: none). graphql_paginate.c. */
    long long prior_offset;
    int prior_anchor_idx;
    /* function(conn) -> true | nil, why: a page it refuses is damaged, asked
     * again like a body that is not JSON (0: none). */
    int check_idx;
    /* The list's name in progress records ("users"): every 10 s and at the
     * list's end, done/total from totalCount and an ETA from the pace. NULL:
     * a plain walk (a nested list), no progress records. */
    const char *progress;
} bt_graphql_walk;

/* [-0, +0, m] Check that the connection at conn has the shape of a Relay
 * page: pageInfo with a boolean hasNextPage and a string endCursor whenever
 * it is true; `edges` (else `nodes`) a list of objects, each edge holding a
 * `node` object; each node carrying ids->field (a non-empty string or an
 * integer; field NULL: not checked; optional: absent or null passes too).
 * 0 with *items = the list's length, or -1 with why filled. */
int bt_graphql_check_page(lua_State *L, int conn, const bt_graphql_ids *ids, lua_Integer *items,
                          char *why, size_t whysz);

/* [-0, +1|+2, e] Run a query whose answer must hold data.<root>: an object,
 * or an explicit null (gone: data.<root> is nil in the pushed data). Missing
 * or of another type it is asked again like a damaged body, then nil, err
 * (decode). graphql_root_field.c. */
int bt_graphql_query_root(lua_State *L, const char *q, size_t qlen, int vars, const char *root);
/* [-0, +0, -] Set the root fields of data at idx that hold the null sentinel to nil. */
void bt_graphql_drop_root_nulls(lua_State *L, int data);

/* [-0, +1|+2, e] Walk a Relay connection; push the page count, or nil, err. */
int bt_graphql_paginate(lua_State *L, const bt_graphql_walk *w);

#endif
