/* `baton-twingate show [FILE]`: read a .c1z sync file (format v1) and print
 * it the way the baton CLI does (shared/c1z-format.md section 7).
 *
 * The first part is the public entry point. The rest are the pieces that
 * files of src/show share with each other and with the show tests. */
#ifndef BT_SHOW_H
#define BT_SHOW_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "bt/pb_check.h"

#include "c1/connector/v2/entitlement.pb-c.h"
#include "c1/connector/v2/grant.pb-c.h"
#include "c1/connector/v2/resource.pb-c.h"

/* argv[0] is "show". Prints to stdout/stderr. Returns 0 on success, 1 when
 * the file cannot be read or shown, 2 on a command-line error. */
int bt_show_main(int argc, char **argv);
/* The same with explicit streams (tests capture them). */
int bt_show_main_io(int argc, char **argv, FILE *out, FILE *err);

/* ------------------------------------------------------------------------
 * Options (show_args.c) */

enum {
    BT_SHOW_VIEW_STATS = 1 << 0,
    BT_SHOW_VIEW_RESOURCE_TYPES = 1 << 1,
    BT_SHOW_VIEW_RESOURCES = 1 << 2,
    BT_SHOW_VIEW_ENTITLEMENTS = 1 << 3,
    BT_SHOW_VIEW_GRANTS = 1 << 4,
    BT_SHOW_VIEW_PRINCIPALS = 1 << 5,
    BT_SHOW_VIEW_SYNCS = 1 << 6,
};

typedef enum { BT_SHOW_OUT_TABLE, BT_SHOW_OUT_JSON, BT_SHOW_OUT_CSV } bt_show_output;
/* LIST: the listing views; ACCESS: `show access`; DIFF: `show diff OLD NEW`. */
typedef enum { BT_SHOW_CMD_LIST, BT_SHOW_CMD_ACCESS, BT_SHOW_CMD_DIFF } bt_show_command;
#define BT_SHOW_VIEW_DEFAULT                                                                       \
    (BT_SHOW_VIEW_STATS | BT_SHOW_VIEW_RESOURCES | BT_SHOW_VIEW_ENTITLEMENTS | BT_SHOW_VIEW_GRANTS)

typedef struct {
    uint64_t max_decoded; /* bytes the zstd payload may expand to */
    uint64_t max_window;  /* largest zstd window accepted, bytes */
} bt_show_limits;

typedef struct {
    bt_show_command command;
    const char *file;          /* default "sync.c1z"; diff: OLD */
    const char *file2;         /* diff: NEW */
    const char *resource_type; /* NULL: all */
    const char *sync_id;       /* NULL: pick like the SDK */
    const char *entitlement;   /* grants: only this entitlement id */
    const char *resource;      /* grants, access: TYPE:ID */
    const char *principal;     /* grants, access: TYPE:ID */
    unsigned views;            /* BT_SHOW_VIEW_* bits; 0: BT_SHOW_VIEW_DEFAULT */
    bt_show_output output;
    bool json; /* output == BT_SHOW_OUT_JSON */
    bool help;
    bt_show_limits limits;
} bt_show_opts;

/* Parse argv (argv[0] = "show"). Returns 0, or -1 with err filled. */
int bt_show_parse_args(int argc, char **argv, bt_show_opts *o, char *err, size_t errsz);
void bt_show_usage(FILE *f);
/* 2 GiB decoded, 128 MiB window, unless BATON_DECODER_MAX_DECODED_SIZE_MB /
 * BATON_DECODER_MAX_MEMORY_MB say otherwise. */
bt_show_limits bt_show_default_limits(void);

/* Run a parsed listing or `show access`: 0 shown, 1 error. Errors go to err
 * as one line naming the file. */
int bt_show_run(const bt_show_opts *o, FILE *out, FILE *err);
/* `show diff OLD NEW` (show_diff*.c): 0 same, 1 different, 2 error. */
int bt_show_diff_run(const bt_show_opts *o, FILE *out, FILE *err);

/* ------------------------------------------------------------------------
 * Errors: every failing function fills one of these and returns -1. */

typedef struct {
    char msg[512];
} bt_show_err;

void bt_show_fail(bt_show_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------
 * Opening a c1z (show_c1z.c): check the magic, decompress the zstd payload
 * into a temporary file under $TMPDIR, open it with SQLite read-only
 * (immutable) and unlink it at once: SQLite's descriptor keeps the data. */

struct sqlite3;
typedef struct bt_show_c1z bt_show_c1z;

int bt_show_c1z_open(const char *path, const bt_show_limits *lim, bt_show_c1z **out,
                     bt_show_err *e);
struct sqlite3 *bt_show_c1z_db(const bt_show_c1z *c);
/* Closes SQLite (and with it the unlinked copy). NULL is fine. */
void bt_show_c1z_close(bt_show_c1z *c);
/* `show access` (show_access*.c) on an opened file: 0, or -1 with e filled. */
int bt_show_access_file(const bt_show_opts *o, FILE *out, bt_show_c1z *c1z, bt_show_err *e);
/* SIGINT/SIGTERM/SIGHUP remove a temporary file still being written, then
 * the signal's default action runs. bt_show_main installs it. */
void bt_show_install_signal_cleanup(void);
/* The changes from old's sync to new's as {"old":{...},"partial":..,"list":[...]}
 * (show_diff.c), for the report; *count changes. */
int bt_show_diff_json(bt_show_c1z *old, bt_show_c1z *new, FILE *out, size_t *count,
                      bt_show_err *e);

/* Stream-decompress the payload of `in` (positioned after the magic) into
 * `out`, enforcing the limits. */
int bt_show_inflate(FILE *in, FILE *out, const bt_show_limits *lim, bt_show_err *e);

/* ------------------------------------------------------------------------
 * Choosing the sync (show_sync.c), section 3.4. */

typedef struct {
    char *id;
    char *started_at;
    char *ended_at; /* NULL: unfinished */
    char *type;     /* "full" when the file predates sync_type */
} bt_show_sync;

/* wanted == NULL: latest finished full sync by ended_at DESC, sync_id DESC,
 * else the latest unfinished one, else the latest finished one of any type.
 * Otherwise exactly that sync id. */
int bt_show_pick_sync(struct sqlite3 *db, const char *wanted, bt_show_sync *out, bt_show_err *e);
void bt_show_sync_free(bt_show_sync *s);
/* Fails unless `table` exists and is a table (not a view). */
int bt_show_require_table(struct sqlite3 *db, const char *table, bt_show_err *e);

/* ------------------------------------------------------------------------
 * Lookups by id within one sync (show_lookup.c): prepared statements in
 * front of a small cache of raw blobs. Each call returns a freshly decoded
 * message the caller frees with bt_show_msg_free(&m->base); NULL with e filled
 * when the row is missing or its blob does not decode. */

typedef struct bt_show_lookup bt_show_lookup;

bt_show_lookup *bt_show_lookup_new(struct sqlite3 *db, const char *sync_id, bt_show_err *e);
void bt_show_lookup_free(bt_show_lookup *l);
C1__Connector__V2__ResourceType *bt_show_lookup_resource_type(bt_show_lookup *l,
                                                              const char *type_id, bt_show_err *e);
C1__Connector__V2__Resource *
bt_show_lookup_resource(bt_show_lookup *l, const C1__Connector__V2__ResourceId *id, bt_show_err *e);
/* Like bt_show_lookup_resource, but a resource the sync does not hold gives
 * NULL with *missing set and e untouched (a partial sync's principals live
 * in the full sync it amends). */
C1__Connector__V2__Resource *bt_show_lookup_resource_if_any(bt_show_lookup *l,
                                                            const C1__Connector__V2__ResourceId *id,
                                                            bool *missing, bt_show_err *e);
C1__Connector__V2__Entitlement *
bt_show_lookup_entitlement(bt_show_lookup *l, const char *entitlement_id, bt_show_err *e);

/* ------------------------------------------------------------------------
 * Tables (show_table.c): pterm style. Header first, every cell left-aligned
 * and padded with spaces to its column's width in code points, columns
 * joined by " | ". Cells are made printable: control characters and bytes
 * that are not UTF-8 are shown as U+FFFD; a cell over BT_SHOW_MAX_CELL code
 * points is cut and ends in "…". CSV rows are written as they are. */

#define BT_SHOW_MAX_COLS 8
#define BT_SHOW_MAX_CELL 80 /* code points; longer cells end in an ellipsis */

typedef struct {
    FILE *out;
    size_t ncols;
    size_t width[BT_SHOW_MAX_COLS];
    bool csv; /* print rows as CSV (RFC 4180, CRLF) instead */
} bt_show_table;

void bt_show_table_init(bt_show_table *t, FILE *out, const char *const *header, size_t ncols);
void bt_show_table_measure(bt_show_table *t, const char *const *cells);
void bt_show_table_print(const bt_show_table *t, const char *const *cells);
/* Code points `s` takes once made printable. */
size_t bt_show_display_width(const char *s);
/* Print `s` made printable (no padding). */
void bt_show_print_display(FILE *out, const char *s);
/* "<command>: <file>: <msg>" and a newline, file and msg made printable; a
 * NULL file leaves its part out. */
void bt_show_print_failure(FILE *out, const char *command, const char *file, const char *msg);

/* ------------------------------------------------------------------------
 * Views (show_view.c runs them; show_rows.c and show_stats.c define them).
 * Every view runs in passes: MEASURE resolves every row and sizes the table
 * (so nothing is printed for a file that would fail half way), TABLE prints
 * it, JSON prints the view's JSON value. Rows stream from SQLite page by page. */

typedef struct {
    struct sqlite3 *db;
    const bt_show_sync *sync;
    const bt_show_opts *opts;
    bt_show_lookup *lookup;
    FILE *out;
} bt_show_ctx;

/* Picks the sync o->sync_id names (bt_show_pick_sync) in db and runs fn with a
 * context for it, lookup included; frees both after. 0, or -1 with e filled. */
typedef int (*bt_show_sync_fn)(bt_show_ctx *c, bt_show_err *e);
int bt_show_with_sync(struct sqlite3 *db, const bt_show_opts *o, FILE *out, bt_show_sync_fn fn,
                      bt_show_err *e);

typedef enum { BT_SHOW_PASS_MEASURE, BT_SHOW_PASS_TABLE, BT_SHOW_PASS_JSON } bt_show_pass;

typedef struct {
    char *cell[BT_SHOW_MAX_COLS];
} bt_show_row;

int bt_show_row_set(bt_show_row *r, size_t i, const char *s);
int bt_show_row_setf(bt_show_row *r, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One listed row with what it refers to: {"grant": ..., "entitlement": ...}.
 * A NULL message is left out of the JSON (e.g. no parent). */
#define BT_SHOW_RESOLVED_MAX 5
typedef struct {
    const char *key[BT_SHOW_RESOLVED_MAX];
    ProtobufCMessage *msg[BT_SHOW_RESOLVED_MAX];
} bt_show_resolved;

typedef struct bt_show_view bt_show_view;
struct bt_show_view {
    unsigned bit;         /* BT_SHOW_VIEW_* */
    const char *title;    /* section title in the combined view */
    const char *json_key; /* key of the JSON output */
    const char *const *header;
    size_t ncols;
    /* Views over a table of blobs: */
    const char *table;       /* "v1_grants" */
    const char *type_column; /* the column --resource-type filters on */
    int (*resolve)(bt_show_ctx *c, int64_t rowid, const void *blob, size_t len, bt_show_resolved *r,
                   bt_show_err *e);
    int (*cells)(const bt_show_resolved *r, bt_show_row *row);
    /* The pass runner (bt_show_view_run_rows for the views above). */
    int (*run)(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass, bt_show_table *t,
               bt_show_err *e);
    bool filters; /* takes the grants filters (bt_show_scan_filter) */
};

#define BT_SHOW_VIEW_MAX 8 /* capacity callers size arrays with; BT_SHOW_VIEW_COUNT <= it */
extern const bt_show_view BT_SHOW_VIEWS[];
extern const size_t BT_SHOW_VIEW_COUNT;

int bt_show_view_run_rows(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                          bt_show_table *t, bt_show_err *e);
/* bt_show_view_run_rows once per type (NULL: all) into one table or array. */
int bt_show_view_run_types(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                           bt_show_table *t, const char *const *types, size_t ntypes,
                           bt_show_err *e);
int bt_show_view_run_principals(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                                bt_show_table *t, bt_show_err *e);
int bt_show_view_run_syncs(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                           bt_show_table *t, bt_show_err *e);
int bt_show_view_run_stats(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                           bt_show_table *t, bt_show_err *e);

/* Calls fn for each row (id order) of `table` in the sync, optionally only
 * rows whose type_column equals type_filter and that pass filter (v1_grants
 * only, NULL: no filter); pages through by id. */
typedef int (*bt_show_scan_fn)(void *ud, int64_t rowid, const void *blob, size_t len,
                               bt_show_err *e);
/* v1_grants only: entitlement id, resource type, resource id, principal type,
 * principal id; NULL matches anything. len 0: up to the NUL. */
#define BT_SHOW_SCAN_FILTERS 5
typedef struct {
    const char *value[BT_SHOW_SCAN_FILTERS];
    size_t len[BT_SHOW_SCAN_FILTERS];
} bt_show_scan_filter;
int bt_show_scan_where(struct sqlite3 *db, const char *table, const char *type_column,
                       const char *sync_id, const char *type_filter,
                       const bt_show_scan_filter *filter, bt_show_scan_fn fn, void *ud,
                       bt_show_err *e);
/* The scan of the sync's resource types, or of its resources (only those of
 * type_id unless it is NULL), each row decoded (bt_show_decode) for fn and
 * freed after it. A row that does not decode stops the scan: -1, e filled. */
typedef int (*bt_show_type_fn)(void *ud, const C1__Connector__V2__ResourceType *rt,
                               bt_show_err *e);
typedef int (*bt_show_resource_fn)(void *ud, const C1__Connector__V2__Resource *r,
                                   bt_show_err *e);
int bt_show_each_type(struct sqlite3 *db, const char *sync_id, bt_show_type_fn fn, void *ud,
                      bt_show_err *e);
int bt_show_each_resource(struct sqlite3 *db, const char *sync_id, const char *type_id,
                          bt_show_resource_fn fn, void *ud, bt_show_err *e);
/* "TYPE:ID" -> its two parts (not copied); NULL or no ':' leaves both NULL. */
void bt_show_split_id(const char *s, const char **type, size_t *type_len, const char **id,
                      size_t *id_len);

/* ------------------------------------------------------------------------
 * Protobuf blobs (show_pb.c). Before protobuf-c unpacks a blob it is walked
 * once, guided by the descriptor (bt_pb_decode, bt/pb_check.h): malformed
 * wire data, nesting deeper than BT_SHOW_MAX_DEPTH and invalid UTF-8 in string
 * fields are refused (Go's runtime refuses the last too). Unknown fields are
 * skipped. */

#define BT_SHOW_MAX_DEPTH BT_PB_MAX_DEPTH

/* Returns the unpacked message (free with bt_show_msg_free) or NULL, e filled. */
ProtobufCMessage *bt_show_decode(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                                 bt_show_err *e);
void bt_show_msg_free(ProtobufCMessage *m);
/* Descriptor for an Any type URL ("type.googleapis.com/c1.connector.v2.UserTrait"),
 * matched on the text after the last '/'; NULL when unknown. */
const ProtobufCMessageDescriptor *bt_show_type_for_url(const char *type_url);

/* ------------------------------------------------------------------------
 * The grant graph of one sync (show_graph.c): what `access` and `report`
 * expand, read through the file's indexes. */

typedef struct C1__Connector__V2__GrantExpandable C1__Connector__V2__GrantExpandable;
typedef struct bt_show_graph bt_show_graph;

typedef struct {
    const char *principal_type, *principal_id; /* the grant's principal */
    C1__Connector__V2__Grant *grant;
    C1__Connector__V2__GrantExpandable *expandable; /* NULL: not an edge */
    bool derived; /* a Go syncer's expansion result (sources not its own) */
} bt_show_edge;

typedef int (*bt_show_edge_fn)(void *ud, const bt_show_edge *edge, bt_show_err *e);
typedef int (*bt_show_ent_fn)(void *ud, const char *entitlement_id, bt_show_err *e);

bt_show_graph *bt_show_graph_new(struct sqlite3 *db, const char *sync_id, bt_show_err *e);
void bt_show_graph_free(bt_show_graph *g);
/* Each grant of the entitlement / to the principal, in row order. The
 * callback must not call back into the same listing. */
int bt_show_graph_grants_of(bt_show_graph *g, const char *entitlement_id, bt_show_edge_fn fn,
                            void *ud, bt_show_err *e);
int bt_show_graph_grants_to(bt_show_graph *g, const char *type, const char *id,
                            bt_show_edge_fn fn, void *ud, bt_show_err *e);
/* 1 with the entitlement's resource (malloc'd), 0 unknown, -1 error. */
int bt_show_graph_owner(bt_show_graph *g, const char *entitlement_id, char **type, char **id,
                        bt_show_err *e);
/* Each entitlement of a resource, in row order. */
int bt_show_graph_entitlements_of(bt_show_graph *g, const char *type, const char *id,
                                  bt_show_ent_fn fn, void *ud, bt_show_err *e);

/* ------------------------------------------------------------------------
 * Facts read from messages (show_facts.c) */

/* The first annotation of message type d, decoded (free it), or NULL. */
ProtobufCMessage *bt_show_annotation(size_t n, Google__Protobuf__Any **anns,
                                     const ProtobufCMessageDescriptor *d);
bool bt_show_type_has_trait(const C1__Connector__V2__ResourceType *rt, int trait);
/* "enabled", "disabled", "deleted", or "" when unknown. */
const char *bt_show_resource_status(const C1__Connector__V2__Resource *r);
/* Login, else primary email, else ""; malloc'd (NULL: out of memory). */
char *bt_show_resource_login(const C1__Connector__V2__Resource *r);

/* ------------------------------------------------------------------------
 * JSON (show_json.c) */

/* A JSON string literal (bt_json_escape: bytes that are not UTF-8 become U+FFFD). */
void bt_show_json_string(FILE *out, const char *s, size_t n);
/* protojson of m: lowerCamelCase keys, proto3 defaults omitted, enums by
 * name, int64 quoted, bytes base64, Any/Struct/Value/ListValue/Timestamp in
 * their JSON forms (an Any of unknown type: {"@type", "value": base64}):
 * the codec's writer (bt/protojson.h). Nothing is written when it fails. */
int bt_show_json_message(FILE *out, const ProtobufCMessage *m, bt_show_err *e);

#endif
