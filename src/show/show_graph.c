/* The grant graph of one sync, read straight from SQLite through its
 * indexes: grants of an entitlement, grants to a principal, the resource an
 * entitlement belongs to. A grant's GrantExpandable (in its blob, or in the
 * `expansion` column HEAD's writer moves it to) makes it an edge: holders of
 * the source entitlements also hold the grant's entitlement (c1z-format.md
 * 3.7, 5.4). Grants a Go syncer already expanded (sources that do not name
 * their own entitlement) are reported as derived, so callers can skip them
 * and derive them again with the path. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

#include "c1/connector/v2/annotation_grant.pb-c.h"

struct bt_show_graph {
    sqlite3 *db;
    const char *sync_id;
    sqlite3_stmt *by_entitlement, *by_principal, *owner, *of_resource;
};

static int prepare(bt_show_graph *g, const char *sql, sqlite3_stmt **st, bt_show_err *e)
{
    if (sqlite3_prepare_v2(g->db, sql, -1, st, NULL) == SQLITE_OK)
        return 0;
    bt_show_fail(e, "cannot read the grants: %s", sqlite3_errmsg(g->db));
    return -1;
}

static bool has_expansion_column(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('v1_grants') "
                               "WHERE name = 'expansion'", -1, &st, NULL) != SQLITE_OK)
        return false;
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static int prepare_all(bt_show_graph *g, bt_show_err *e)
{
    const char *x = has_expansion_column(g->db) ? "expansion" : "NULL";
    char sql[2][320];
    snprintf(sql[0], sizeof sql[0],
             "SELECT principal_resource_type_id, principal_resource_id, data, %s FROM v1_grants "
             "WHERE sync_id = ?1 AND entitlement_id = ?2 ORDER BY id", x);
    snprintf(sql[1], sizeof sql[1],
             "SELECT principal_resource_type_id, principal_resource_id, data, %s FROM v1_grants "
             "WHERE sync_id = ?1 AND principal_resource_type_id = ?2 "
             "AND principal_resource_id = ?3 ORDER BY id", x);
    if (prepare(g, sql[0], &g->by_entitlement, e) < 0 ||
        prepare(g, sql[1], &g->by_principal, e) < 0 ||
        prepare(g, "SELECT resource_type_id, resource_id FROM v1_entitlements "
                   "WHERE sync_id = ?1 AND external_id = ?2", &g->owner, e) < 0 ||
        prepare(g, "SELECT external_id FROM v1_entitlements WHERE sync_id = ?1 "
                   "AND resource_type_id = ?2 AND resource_id = ?3 ORDER BY id",
                &g->of_resource, e) < 0)
        return -1;
    return 0;
}

bt_show_graph *bt_show_graph_new(sqlite3 *db, const char *sync_id, bt_show_err *e)
{
    bt_show_graph *g = calloc(1, sizeof *g);
    if (!g) {
        bt_show_fail(e, "out of memory");
        return NULL;
    }
    g->db = db;
    g->sync_id = sync_id;
    if (prepare_all(g, e) == 0)
        return g;
    bt_show_graph_free(g);
    return NULL;
}

void bt_show_graph_free(bt_show_graph *g)
{
    if (!g)
        return;
    sqlite3_finalize(g->by_entitlement);
    sqlite3_finalize(g->by_principal);
    sqlite3_finalize(g->owner);
    sqlite3_finalize(g->of_resource);
    free(g);
}

/* ---- one grant row ------------------------------------------------------------ */

static bool is_derived(const C1__Connector__V2__Grant *gr)
{
    if (!gr->sources || gr->sources->n_sources == 0 || !gr->entitlement)
        return false;
    for (size_t i = 0; i < gr->sources->n_sources; i++) {
        const char *key = gr->sources->sources[i]->key;
        if (key && strcmp(key, gr->entitlement->id) == 0)
            return false;
    }
    return true;
}

static ProtobufCMessage *expandable_of(sqlite3_stmt *st, const C1__Connector__V2__Grant *gr)
{
    if (sqlite3_column_type(st, 3) == SQLITE_BLOB) {
        bt_show_err ignored;
        return bt_show_decode(&c1__connector__v2__grant_expandable__descriptor,
                              sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
                              &ignored);
    }
    return bt_show_annotation(gr->n_annotations, gr->annotations,
                              &c1__connector__v2__grant_expandable__descriptor);
}

static int one_edge(sqlite3_stmt *st, bt_show_edge_fn fn, void *ud, bt_show_err *e)
{
    bt_show_edge edge = {0};
    edge.principal_type = (const char *)sqlite3_column_text(st, 0);
    edge.principal_id = (const char *)sqlite3_column_text(st, 1);
    edge.grant = (C1__Connector__V2__Grant *)bt_show_decode(
        &c1__connector__v2__grant__descriptor, sqlite3_column_blob(st, 2),
        (size_t)sqlite3_column_bytes(st, 2), e);
    if (!edge.grant) {
        bt_show_err inner = *e;
        bt_show_fail(e, "a grant to %s:%s: %s", edge.principal_type ? edge.principal_type : "",
                     edge.principal_id ? edge.principal_id : "", inner.msg);
        return -1;
    }
    if (!edge.principal_type || !edge.principal_id || !edge.grant->entitlement) {
        if (edge.grant)
            bt_show_fail(e, "grant %s: no entitlement or principal", edge.grant->id);
        bt_show_msg_free((ProtobufCMessage *)edge.grant);
        return -1;
    }
    edge.derived = is_derived(edge.grant);
    edge.expandable = (C1__Connector__V2__GrantExpandable *)expandable_of(st, edge.grant);
    int rc = fn(ud, &edge, e);
    bt_show_msg_free((ProtobufCMessage *)edge.expandable);
    bt_show_msg_free(&edge.grant->base);
    return rc;
}

static int run_edges(bt_show_graph *g, sqlite3_stmt *st, bt_show_edge_fn fn, void *ud,
                     bt_show_err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (one_edge(st, fn, ud, e) < 0) {
            sqlite3_reset(st);
            return -1;
        }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    bt_show_fail(e, "cannot read the grants: %s", sqlite3_errmsg(g->db));
    return -1;
}

int bt_show_graph_grants_of(bt_show_graph *g, const char *entitlement_id, bt_show_edge_fn fn,
                            void *ud, bt_show_err *e)
{
    sqlite3_bind_text(g->by_entitlement, 1, g->sync_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(g->by_entitlement, 2, entitlement_id, -1, SQLITE_TRANSIENT);
    return run_edges(g, g->by_entitlement, fn, ud, e);
}

int bt_show_graph_grants_to(bt_show_graph *g, const char *type, const char *id,
                            bt_show_edge_fn fn, void *ud, bt_show_err *e)
{
    sqlite3_bind_text(g->by_principal, 1, g->sync_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(g->by_principal, 2, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(g->by_principal, 3, id, -1, SQLITE_TRANSIENT);
    return run_edges(g, g->by_principal, fn, ud, e);
}

/* ---- entitlements ------------------------------------------------------------- */

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return strdup(s ? (const char *)s : "");
}

int bt_show_graph_owner(bt_show_graph *g, const char *entitlement_id, char **type, char **id,
                        bt_show_err *e)
{
    sqlite3_stmt *st = g->owner;
    sqlite3_bind_text(st, 1, g->sync_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, entitlement_id, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *type = *id = NULL;
    if (rc == SQLITE_ROW) {
        *type = column_dup(st, 0);
        *id = column_dup(st, 1);
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW && *type && *id)
        return 1;
    free(*type);
    free(*id);
    *type = *id = NULL;
    if (rc == SQLITE_DONE)
        return 0;
    bt_show_fail(e, "cannot read the entitlements: %s", sqlite3_errmsg(g->db));
    return -1;
}

/* The ids are collected first: fn may read the graph again. */
static int collect_ids(bt_show_graph *g, sqlite3_stmt *st, char ***ids, size_t *n,
                       bt_show_err *e)
{
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            char **bigger = realloc(*ids, cap * sizeof **ids);
            if (!bigger)
                break;
            *ids = bigger;
        }
        if (!((*ids)[*n] = column_dup(st, 0)))
            break;
        (*n)++;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_ROW)
        bt_show_fail(e, "out of memory");
    else
        bt_show_fail(e, "cannot read the entitlements: %s", sqlite3_errmsg(g->db));
    return -1;
}

int bt_show_graph_entitlements_of(bt_show_graph *g, const char *type, const char *id,
                                  bt_show_ent_fn fn, void *ud, bt_show_err *e)
{
    sqlite3_stmt *st = g->of_resource;
    sqlite3_bind_text(st, 1, g->sync_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
    char **ids = NULL;
    size_t n = 0;
    int out = collect_ids(g, st, &ids, &n, e);
    for (size_t i = 0; i < n; i++) {
        if (out == 0)
            out = fn(ud, ids[i], e);
        free(ids[i]);
    }
    free(ids);
    return out;
}
