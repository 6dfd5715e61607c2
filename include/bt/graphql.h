/* GraphQL over the HTTP client: the driver's C API (options, write permission,
 * counters, shutdown) and the pieces the Lua binding bt.graphql is built from
 * (JSON <-> Lua, mutation detection, response classification, pagination).
 * Nothing here knows a particular server's schema. */
#ifndef BT_GRAPHQL_H
#define BT_GRAPHQL_H
#include <stdbool.h>
#include <stddef.h>
#include "bt/http.h"
#include "bt/lua.h"

/* ---- the driver's API ---- */

typedef struct bt_graphql_options {
    double connect_timeout;            /* seconds (default 10) */
    double timeout;                    /* seconds per attempt (default 60) */
    int max_attempts;                  /* default 8 */
    double max_retry_wait;             /* seconds of retry waiting in all (default 900) */
    size_t max_response_bytes;         /* default 64 MiB */
    double reads_per_minute_override;  /* -1 = unset: the script's value holds */
    double writes_per_minute_override; /* -1 = unset; 0 = unpaced */
    double max_total_time;             /* seconds for one request with all its
                                        * retries (default 1800) */
    bool retry_unreachable;            /* bt_http_limits'; false by default */
} bt_graphql_options;

typedef struct bt_graphql_stats {
    long requests; /* HTTP attempts, retries included */
    long reads;    /* query documents executed */
    long writes;   /* mutation documents executed */
    long retries;  /* = the three below added up */
    long retries_rate_limited;
    long retries_server;
    long retries_transport;
  long retries_decode; /* queries asked again because the answer was mangled */
    long long bytes_received;
    double rate_limit_wait_seconds; /* slept on 429 */
    double backoff_wait_seconds;    /* slept before retrying 5xx/transport failures */
    double pacing_wait_seconds;     /* slept by reads/writes_per_minute pacing */
    long pages;                     /* pages handed to paginate's on_page */
} bt_graphql_stats;

void bt_graphql_default_options(bt_graphql_options *o);
/* NULL restores the defaults. Takes effect from the next request. */
/* A list's progress record (progress.c): console
 * `users 3,500/20,000 (17%) · 35/200 requests · ETA 2m45s`, JSON
 * {"msg":"progress","phase","done","total","requests","eta_s"} (total and
 * eta_s left out when the list has no totalCount). */
typedef struct {
    const char *phase;
    long long done, total; /* total -1: unknown */
    long requests;
    long long expected; /* requests the whole list takes; -1: unknown */
    long long eta_s;    /* -1: unknown; 0 at the list's end */
} bt_graphql_progress;
void bt_graphql_log_progress(const bt_graphql_progress *p);
/* Seconds as "45s", "2m45s", "1h02m". */
void bt_graphql_format_duration(long long s, char *out, size_t n);

/* The reads pace in force now (requests per minute; 0 = unpaced): the
 * script's or --reads-per-minute, as lowered after HTTP 429s. */
double bt_graphql_reads_per_minute(void);
double bt_graphql_writes_per_minute(void);
/* Called after each successful graphql.configure with the endpoint and the
 * pace (the driver's start line); NULL: none. */
typedef void (*bt_graphql_configured_fn)(const char *url, void *ud);
void bt_graphql_on_configure(bt_graphql_configured_fn fn, void *ud);

/* Pace through pacers shared with other processes (bt_http_pacers_share);
 * NULL, NULL goes back to this process's own. */
void bt_graphql_share_pacing(bt_http_pacer *reads, bt_http_pacer *writes);
void bt_graphql_set_options(const bt_graphql_options *o);
/* Mutations raise a Lua error unless allowed (the driver allows them only
 * under --provisioning). Default: refused. */
void bt_graphql_allow_writes(bool allow);
void bt_graphql_get_stats(bt_graphql_stats *out);
void bt_graphql_reset_stats(void);
/* Frees the curl handle and forgets the endpoint and key (configure must be
 * called again). Options, write permission and counters stay. Safe twice. */
void bt_graphql_shutdown(void);

/* ---- the operator's endpoint (operator.c): the one URL a secret goes to ---- */

/* What the connector's bundled endpoint file declares (all strings owned;
 * any may be NULL): the operator's full URL from config field url_config,
 * else template with "{name}" replaced by the name from config field
 * name_config; the secret in config field auth_config goes in header
 * auth_header; redirect_host_suffix applies to the template's URL only. */
typedef struct bt_endpoint_spec {
    char *url_config, *name_config, *template, *auth_header, *auth_config;
    char *redirect_host_suffix;
} bt_endpoint_spec;

void bt_endpoint_spec_free(bt_endpoint_spec *spec);

/* The operator's endpoint from the spec and the resolved configuration. 0,
 * or -1 with the reason in err; either way the previous binding is gone, and
 * on failure every credentialed graphql.configure is refused with that
 * reason. A NULL spec: the connector declares no credentialed endpoint. */
int bt_graphql_bind_operator(const bt_endpoint_spec *spec, char *err, size_t errsz);
/* Bind url, header, config field and suffix directly (tests; copies). */
int bt_graphql_bind_operator_url(const char *url, const char *auth_header,
                                 const char *auth_config, const char *redirect_host_suffix);
void bt_graphql_unbind_operator(void);
/* The bound URL, NULL when none. */
const char *bt_graphql_operator_url(void);

struct bt_graphql_endpoint;
/* 0 when ep may carry its credentials: no auth_header/auth_config at all, or
 * exactly the bound url, header, config field and (absent or equal) redirect
 * suffix. -1 with the reason in err otherwise. */
int bt_graphql_operator_check(const struct bt_graphql_endpoint *ep, char *err, size_t errsz);

/* ---- the endpoint (set by graphql.configure) ---- */

typedef struct bt_graphql_endpoint {
    const char *url;
    const char *auth_header;       /* NULL: no auth header */
    const char *auth_config;       /* config field holding the header's value */
    const char *user_agent_suffix; /* NULL or appended to the User-Agent */
    /* NULL: redirects stay on url's host; else also https hosts ending in it
     * (like ".example.com"); url's host must end in it too. */
    const char *redirect_host_suffix;
    double reads_per_minute;       /* 0 = unpaced */
    double writes_per_minute;
    /* Phrases, one a line, that mark a GraphQL error at HTTP 2xx as a rate
     * limit (matched case-insensitively in its message): retried like a 429,
     * queries and mutations alike. NULL: none. */
    const char *rate_limit_errors;
} bt_graphql_endpoint;

/* 0, or -1 with a message in err (never containing the key). */
int bt_graphql_configure(const bt_graphql_endpoint *ep, char *err, size_t errsz);
bool bt_graphql_is_configured(void);

/* [-0, +1|+2, e] POST one document with the variables table at vars_idx (0 =
 * none) and push data, or nil and an error table. Raises on misuse (not
 * configured, mutation while writes are refused, variables not encodable).
 * Returns the number of values pushed. */
int bt_graphql_execute(lua_State *L, const char *query, size_t qlen, int vars_idx);

/* ---- pieces (exposed for the binding and the tests) ---- */

/* True when the document holds a mutation operation: a top-level `mutation`
 * keyword, after whitespace, commas, comments, strings and fragments. */
bool bt_graphql_is_mutation(const char *doc, size_t len);
/* The operation's name ("" when anonymous), for error messages. */
void bt_graphql_operation_name(const char *doc, size_t len, char *out, size_t n);

/* The sentinel for JSON null inside arrays (a light userdata). */
void bt_graphql_push_null(lua_State *L); /* [-0, +1, -] */
bool bt_graphql_is_null(lua_State *L, int idx);
/* [-0, +0, m] Mark the table at idx as a JSON array (so {} encodes as []). */
void bt_graphql_mark_array(lua_State *L, int idx);

#define BT_JSON_MAX_DEPTH 200

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
 * not_found, rate_limited, server, transport, decode, graphql, http). secret,
 * when not NULL, is blanked out of err.message. Returns values pushed. */
int bt_graphql_push_response(lua_State *L, const bt_http_response *r, const char *secret);

/* The most nodes one connection is expected to hold unless the caller says
 * otherwise: far above any real list, low enough that a server answering
 * "more" forever is stopped (ceil(max / page size) pages). */
#define BT_GRAPHQL_MAX_NODES 10000000LL

typedef struct bt_graphql_walk {
    const char *query;
    size_t qlen;
    int vars_idx;     /* variables table, 0 = none (copied, never modified) */
    const char *path; /* "users" or "group.users" */
    const char *cursor_var;
    int on_page_idx;      /* function(conn, data) */
    const char *id_field; /* every node must carry it ("id"); NULL: not checked */
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
 * `node` object; each node carrying id_field (a non-empty string or an
 * integer; NULL: not checked). 0 with *items = the list's length, or -1 with
 * why filled. */
int bt_graphql_check_page(lua_State *L, int conn, const char *id_field, lua_Integer *items,
                          char *why, size_t whysz);

/* One page of a walk: every time it is asked again because its answer was
 * damaged (a body that is not JSON, or a page of the wrong shape) counts
 * against one attempt cap and one --http-max-total-time deadline, not a cap
 * per layer. */
void bt_graphql_page_begin(void);
void bt_graphql_page_end(void);
/* Before asking the current query again because its answer was damaged:
 * false when the attempt cap or the deadline says stop; else count it in
 * retries_decode, warn with `what`, sleep the backoff and return true. */
bool bt_graphql_reask(const char *what);

/* Count one page handed to on_page (for bt_graphql_get_stats). */
void bt_graphql_note_page(void);
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
