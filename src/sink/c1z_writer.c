/* The c1z backend: rows stream into a working SQLite database beside the
 * target ("<out>.tmp-db-XXXXXX"), committed every BATCH_ROWS rows. Commit
 * checks references with SQL, adds the remaining indexes, finishes the sync
 * run, closes the database and compresses it into "<out>.tmp-out-XXXXXX"
 * (created at open), which is then renamed over <out> (atomic.c). Both
 * temporary files stay flock-ed through descriptors of our own while they
 * exist, which tells other runs they are in use (stale.c). Entitlements and grants embed their
 * resource: it is read back from v1_resources through a small LRU cache
 * (grants arrive grouped by entitlement, so the hit rate is high). */
#include "internal.h"

#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_ROWS 10000
#define CACHE_SLOTS 8

enum { ST_RT, ST_RES, ST_ENT, ST_GRANT, ST_GET_RES, ST_DATA_RES, ST_DATA_ENT, ST_DATA_GRANT,
       ST_HAS_RES, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
    [ST_RT] = "insert or ignore into v1_resource_types"
              " (external_id, data, sync_id, discovered_at) values (?, ?, ?, ?)",
    [ST_RES] = "insert or ignore into v1_resources (resource_type_id, external_id,"
               " parent_resource_type_id, parent_resource_id, data, sync_id, discovered_at)"
               " values (?, ?, ?, ?, ?, ?, ?)",
    [ST_ENT] = "insert or ignore into v1_entitlements (resource_type_id, resource_id,"
               " external_id, data, sync_id, discovered_at) values (?, ?, ?, ?, ?, ?)",
    [ST_GRANT] = "insert or ignore into v1_grants (resource_type_id, resource_id, entitlement_id,"
                 " principal_resource_type_id, principal_resource_id, external_id, data,"
                 " sync_id, discovered_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    [ST_GET_RES] = "select data from v1_resources"
                   " where resource_type_id = ? and external_id = ? and sync_id = ?",
    /* the stored row under an id, to tell a repeat from a conflict */
    [ST_DATA_RES] = "select data from v1_resources where external_id = ? and sync_id = ?",
    [ST_DATA_ENT] = "select data from v1_entitlements where external_id = ? and sync_id = ?",
    [ST_DATA_GRANT] = "select data from v1_grants where external_id = ? and sync_id = ?",
    [ST_HAS_RES] = "select 1 from v1_resources where external_id = ? and sync_id = ?",
};

typedef struct {
    char *type, *id;     /* NULL: empty slot */
    bt_pb_resource *msg; /* decoded stored row */
    uint64_t used;
} cache_slot;

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    const bt_sink_types *types;
    char out[PATH_MAX], dbpath[PATH_MAX], journal[PATH_MAX], tmp[PATH_MAX];
    int db_slot, journal_slot, tmp_slot;
    int db_lock_fd, tmp_fd; /* hold the flocks; db_lock_fd closes after SQLite does */
    char sync_id[BT_KSUID_LEN + 1];
    char batch_time[BT_SYNC_TIME_LEN + 1];
    unsigned batch_rows;
    bool in_tx;
    bt_bytes buf;
    bt_grant_prefixes prefixes;   /* packed-grant path: Grant field 1 per entitlement */
    bt_arena scratch; /* per-row: composite ids, grantable_to arrays */
    cache_slot cache[CACHE_SLOTS];
    uint64_t tick;
    const char *sync_type; /* static string: "full", "partial", "resources_only" */
    bool grants_settled;   /* the unique grant index exists (c1z_repeats.c) */
} c1z_writer;

/* ------------------------------------------------------------------------
 * SQLite helpers */

static int db_fail(c1z_writer *w, const char *what, char *err, size_t errsz)
{
    bt_sink_errf(err, errsz, "sqlite: %s: %s", what, sqlite3_errmsg(w->db));
    return -1;
}

static int exec(c1z_writer *w, const char *sql, char *err, size_t errsz)
{
    char *msg = NULL;
    if (sqlite3_exec(w->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    bt_sink_errf(err, errsz, "sqlite: %s", msg ? msg : sqlite3_errmsg(w->db));
    sqlite3_free(msg);
    return -1;
}

/* Open a transaction (with a fresh discovered_at) unless one is open. */
static int tx_begin(c1z_writer *w, char *err, size_t errsz)
{
    if (w->in_tx)
        return 0;
    if (exec(w, "begin", err, errsz) != 0)
        return -1;
    w->in_tx = true;
    w->batch_rows = 0;
    bt_sync_time_now(w->batch_time);
    return 0;
}

static int tx_commit(c1z_writer *w, char *err, size_t errsz)
{
    if (!w->in_tx)
        return 0;
    w->in_tx = false;
    return exec(w, "commit", err, errsz);
}

/* A row went in: close the batch when it is full. */
static int tx_row_done(c1z_writer *w, char *err, size_t errsz)
{
    if (++w->batch_rows >= BATCH_ROWS)
        return tx_commit(w, err, errsz);
    return 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* Run an insert whose parameters are bound. ADDED, DUPLICATE or ERROR (fatal). */
static int run_insert(c1z_writer *w, sqlite3_stmt *st, bool *fatal, char *err, size_t errsz)
{
    int rc = sqlite3_step(st);
    int changes = sqlite3_changes(w->db);
    sqlite3_reset(st); /* no clear_bindings: every insert binds each of its parameters */
    if (rc != SQLITE_DONE) {
        *fatal = true;
        bt_sink_errf(err, errsz, "sqlite: insert: %s", sqlite3_errstr(rc));
        return BT_SINK_ERROR;
    }
    if (tx_row_done(w, err, errsz) != 0) {
        *fatal = true;
        return BT_SINK_ERROR;
    }
    return changes > 0 ? BT_SINK_ADDED : BT_SINK_DUPLICATE;
}

/* Encode m into w->buf; on failure fill err and set *fatal. */
static int encode(c1z_writer *w, const ProtobufCMessage *m, bool *fatal, char *err, size_t errsz)
{
    if (bt_pb_pack(m, &w->buf) == 0)
        return 0;
    *fatal = true;
    bt_sink_errf(err, errsz, "out of memory encoding %s", m->descriptor->name);
    return -1;
}

/* After run_insert: a DUPLICATE whose stored row (table `which`, id ext)
 * holds other bytes than w->buf is a CONFLICT. */
static int compare_stored(c1z_writer *w, int rc, int which, const char *ext, bool *fatal,
                          char *err, size_t errsz)
{
    if (rc != BT_SINK_DUPLICATE)
        return rc;
    sqlite3_stmt *st = w->st[which];
    bind_text(st, 1, ext);
    bind_text(st, 2, w->sync_id);
    int step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        const void *data = sqlite3_column_blob(st, 0);
        if (n != w->buf.len || (n > 0 && memcmp(data, w->buf.data, n) != 0))
            rc = BT_SINK_CONFLICT;
    } else if (step != SQLITE_DONE) {
        *fatal = true;
        bt_sink_errf(err, errsz, "sqlite: duplicate check: %s", sqlite3_errstr(step));
        rc = BT_SINK_ERROR;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* Binds the encoded row (w->buf) at column col, the sync id and the batch
 * time after it, runs the insert and, for a duplicate, compares it with the
 * stored row (table `which`, id ext). */
static int insert_encoded(c1z_writer *w, sqlite3_stmt *st, int col, int which, const char *ext,
                          bool *fatal, char *err, size_t errsz)
{
    sqlite3_bind_blob(st, col, w->buf.data, (int)w->buf.len, SQLITE_STATIC);
    bind_text(st, col + 1, w->sync_id);
    bind_text(st, col + 2, w->batch_time);
    int rc = run_insert(w, st, fatal, err, errsz);
    return compare_stored(w, rc, which, ext, fatal, err, errsz);
}

/* ------------------------------------------------------------------------
 * Resource cache */

static void cache_clear_slot(cache_slot *c)
{
    free(c->type);
    free(c->id);
    if (c->msg)
        c1__connector__v2__resource__free_unpacked(c->msg, NULL);
    memset(c, 0, sizeof *c);
}

static cache_slot *cache_find(c1z_writer *w, const char *type, const char *id)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *c = &w->cache[i];
        if (c->type && strcmp(c->type, type) == 0 && strcmp(c->id, id) == 0) {
            c->used = ++w->tick;
            return c;
        }
    }
    return NULL;
}

static cache_slot *cache_victim(c1z_writer *w)
{
    cache_slot *v = &w->cache[0];
    for (int i = 1; i < CACHE_SLOTS; i++)
        if (w->cache[i].used < v->used)
            v = &w->cache[i];
    cache_clear_slot(v);
    return v;
}

/* Decode a stored resource into a cache slot. */
static bt_pb_resource *cache_fill(c1z_writer *w, const char *type, const char *id,
                                  const void *blob, int n, bool *fatal, char *err, size_t errsz)
{
    cache_slot *c = cache_victim(w);
    c->msg = c1__connector__v2__resource__unpack(NULL, (size_t)n, blob);
    c->type = strdup(type);
    c->id = strdup(id);
    if (!c->msg || !c->type || !c->id) {
        cache_clear_slot(c);
        *fatal = true;
        bt_sink_errf(err, errsz, "cannot decode stored resource %s:%s", type, id);
        return NULL;
    }
    c->used = ++w->tick;
    return c->msg;
}

/* The stored resource type:id, or NULL: not found (*fatal false) or error. */
static bt_pb_resource *lookup_resource(c1z_writer *w, const char *type, const char *id,
                                       bool *fatal, char *err, size_t errsz)
{
    cache_slot *hit = cache_find(w, type, id);
    if (hit)
        return hit->msg;
    char *ext = bt_id_resource(&w->scratch, type, id);
    if (!ext) {
        *fatal = true;
        bt_sink_errf(err, errsz, "out of memory");
        return NULL;
    }
    sqlite3_stmt *st = w->st[ST_GET_RES];
    bind_text(st, 1, type);
    bind_text(st, 2, ext);
    bind_text(st, 3, w->sync_id);
    int rc = sqlite3_step(st);
    bt_pb_resource *r = NULL;
    if (rc == SQLITE_ROW)
        r = cache_fill(w, type, id, sqlite3_column_blob(st, 0), sqlite3_column_bytes(st, 0), fatal,
                       err, errsz);
    else if (rc != SQLITE_DONE) {
        *fatal = true;
        bt_sink_errf(err, errsz, "sqlite: lookup: %s", sqlite3_errstr(rc));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r;
}

/* ------------------------------------------------------------------------
 * Rows */

static int c1z_resource_type(void *impl, const bt_pb_resource_type *rt, const bt_bytes *encoded,
                             bool *fatal, char *err, size_t errsz)
{
    c1z_writer *w = impl;
    bt_arena_reset(&w->scratch);
    if (tx_begin(w, err, errsz) != 0) {
        *fatal = true;
        return BT_SINK_ERROR;
    }
    sqlite3_stmt *st = w->st[ST_RT];
    bind_text(st, 1, rt->id);
    sqlite3_bind_blob(st, 2, encoded->data, (int)encoded->len, SQLITE_STATIC);
    bind_text(st, 3, w->sync_id);
    bind_text(st, 4, w->batch_time);
    return run_insert(w, st, fatal, err, errsz);
}

static int c1z_resource(void *impl, const bt_pb_resource *r, bool *fatal, char *err, size_t errsz)
{
    c1z_writer *w = impl;
    bt_arena_reset(&w->scratch);
    char *ext = bt_id_resource(&w->scratch, r->id->resource_type, r->id->resource);
    if (!ext || encode(w, &r->base, fatal, err, errsz) != 0 || tx_begin(w, err, errsz) != 0) {
        *fatal = true;
        return BT_SINK_ERROR;
    }
    const bt_pb_resource_id *p = r->parent_resource_id;
    sqlite3_stmt *st = w->st[ST_RES];
    bind_text(st, 1, r->id->resource_type);
    bind_text(st, 2, ext);
    bind_text(st, 3, p ? p->resource_type : NULL);
    bind_text(st, 4, p ? p->resource : NULL);
    return insert_encoded(w, st, 5, ST_DATA_RES, ext, fatal, err, errsz);
}

/* The stored resource an entitlement or grant embeds; ERROR when missing. */
static bt_pb_resource *owner(c1z_writer *w, const char *kind, const char *row_id,
                             const bt_pb_resource_id *rid, bool *fatal, char *err, size_t errsz)
{
    bt_pb_resource *full = lookup_resource(w, rid->resource_type, rid->resource, fatal, err, errsz);
    if (!full && !*fatal)
        bt_sink_errf(err, errsz,
                     "%s %s: resource %s:%s was never emitted (emit a resource before its "
                     "entitlements and grants)",
                     kind, row_id, rid->resource_type, rid->resource);
    return full;
}

/* e's grantable_to stubs replaced by the stored resource types. */
static bt_pb_resource_type **full_grantable_to(c1z_writer *w, const bt_pb_entitlement *e,
                                               char *err, size_t errsz)
{
    bt_pb_resource_type **v = bt_arena_alloc(&w->scratch, (e->n_grantable_to + 1) * sizeof *v);
    if (!v) {
        bt_sink_errf(err, errsz, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < e->n_grantable_to; i++) {
        const bt_pb_resource_type *t = bt_sink_types_find(w->types, e->grantable_to[i]->id);
        if (!t) {
            bt_sink_errf(err, errsz, BT_DANGLING_FMT, "entitlement", e->id, "grantable_to type",
                         e->grantable_to[i]->id);
            return NULL;
        }
        v[i] = (bt_pb_resource_type *)t;
    }
    return v;
}

static int c1z_entitlement(void *impl, const bt_pb_entitlement *e, bool *fatal, char *err,
                           size_t errsz)
{
    c1z_writer *w = impl;
    bt_arena_reset(&w->scratch);
    const bt_pb_resource_id *rid = e->resource->id;
    bt_pb_entitlement full = *e;
    full.resource = owner(w, "entitlement", e->id, rid, fatal, err, errsz);
    if (!full.resource)
        return BT_SINK_ERROR;
    full.grantable_to = full_grantable_to(w, e, err, errsz);
    if (!full.grantable_to)
        return BT_SINK_ERROR;
    if (encode(w, &full.base, fatal, err, errsz) != 0 || tx_begin(w, err, errsz) != 0) {
        *fatal = true;
        return BT_SINK_ERROR;
    }
    sqlite3_stmt *st = w->st[ST_ENT];
    bind_text(st, 1, rid->resource_type);
    bind_text(st, 2, rid->resource);
    bind_text(st, 3, e->id);
    return insert_encoded(w, st, 4, ST_DATA_ENT, e->id, fatal, err, errsz);
}

static int insert_grant(c1z_writer *w, const bt_pb_grant *g, bool *fatal, char *err,
                        size_t errsz);

static int c1z_grant(void *impl, const bt_pb_grant *g, bool *fatal, char *err, size_t errsz)
{
    c1z_writer *w = impl;
    bt_arena_reset(&w->scratch);
    const bt_pb_resource_id *rid = g->entitlement->resource->id;
    /* c1z-format.md 5.2: the entitlement is {id, resource}, nothing else. */
    bt_pb_entitlement ent = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    ent.id = g->entitlement->id;
    ent.resource = owner(w, "grant", g->id, rid, fatal, err, errsz);
    if (!ent.resource)
        return BT_SINK_ERROR;
    bt_pb_grant full = *g;
    full.entitlement = &ent;
    if (encode(w, &full.base, fatal, err, errsz) != 0)
        return BT_SINK_ERROR;
    return insert_grant(w, g, fatal, err, errsz);
}

/* Inserts grant g whose encoded row is in w->buf. */
static int insert_grant(c1z_writer *w, const bt_pb_grant *g, bool *fatal, char *err, size_t errsz)
{
    if (tx_begin(w, err, errsz) != 0) {
        *fatal = true;
        return BT_SINK_ERROR;
    }
    const bt_pb_resource_id *rid = g->entitlement->resource->id;
    const bt_pb_resource_id *pid = g->principal->id;
    sqlite3_stmt *st = w->st[ST_GRANT];
    bind_text(st, 1, rid->resource_type);
    bind_text(st, 2, rid->resource);
    bind_text(st, 3, g->entitlement->id);
    bind_text(st, 4, pid->resource_type);
    bind_text(st, 5, pid->resource);
    bind_text(st, 6, g->id);
    return insert_encoded(w, st, 7, ST_DATA_GRANT, g->id, fatal, err, errsz);
}

/* Grant field 1 of g's rows (its entitlement id and stored resource), packed once per
 * entitlement; NULL with err when the resource was never emitted or memory ran out. */
static const bt_bytes *grant_prefix(c1z_writer *w, const bt_pb_grant *g, bool *fatal, char *err,
                                    size_t errsz)
{
    const bt_pb_resource_id *rid = g->entitlement->resource->id;
    const char *ent_id = g->entitlement->id;
    const bt_bytes *hit = bt_grant_prefix_find(&w->prefixes, ent_id, rid->resource_type,
                                               rid->resource);
    if (hit)
        return hit;
    bt_pb_entitlement ent = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    ent.id = g->entitlement->id;
    ent.resource = owner(w, "grant", g->id, rid, fatal, err, errsz);
    if (!ent.resource)
        return NULL;
    bt_pb_grant head = C1__CONNECTOR__V2__GRANT__INIT;
    head.entitlement = &ent;
    bt_bytes *slot = bt_grant_prefix_slot(&w->prefixes, ent_id, rid->resource_type, rid->resource);
    if (!slot || bt_pb_pack(&head.base, slot) != 0) {
        if (slot)
            bt_grant_prefix_forget(&w->prefixes, slot);
        *fatal = true;
        bt_sink_errf(err, errsz, "out of memory encoding a grant");
        return NULL;
    }
    return slot;
}

/* A principal as bt.emit hands it over, its id and nothing else: what the
 * packed-grant path encodes by hand (bt_pb_append_grant_principal_and_id). */
static bool id_only(const bt_pb_resource *p)
{
    return p->id && !p->id->baton_resource && !p->parent_resource_id &&
           !(p->display_name && *p->display_name) && p->n_annotations == 0 &&
           !(p->description && *p->description) && !p->baton_resource && !p->external_id &&
           p->creation_source == 0 && !p->profile && !p->icon && !p->status && !p->created_at;
}

/* The packed-grant path: protobuf-c packs fields in number order, so a row is its
 * entitlement (field 1, kept per entitlement), then principal and id (2, 3), then the
 * annotations (4, packed by the caller once for many rows): the bytes c1z_grant packs. */
static int c1z_grant_packed(void *impl, const bt_pb_grant *g, const bt_bytes *tail, bool *fatal,
                            char *err, size_t errsz)
{
    c1z_writer *w = impl;
    bt_arena_reset(&w->scratch);
    if (g->sources || !id_only(g->principal)) /* not rows this path writes */
        return c1z_grant(impl, g, fatal, err, errsz);
    const bt_bytes *head = grant_prefix(w, g, fatal, err, errsz);
    if (!head)
        return BT_SINK_ERROR;
    bt_bytes_clear(&w->buf);
    bt_bytes_append(&w->buf, head->data, head->len);
    const bt_pb_resource_id *pid = g->principal->id;
    bt_pb_append_grant_principal_and_id(&w->buf, pid->resource_type, pid->resource, g->id);
    bt_bytes_append(&w->buf, tail->data, tail->len);
    if (w->buf.oom) {
        *fatal = true;
        bt_sink_errf(err, errsz, "out of memory encoding a grant");
        return BT_SINK_ERROR;
    }
    return insert_grant(w, g, fatal, err, errsz);
}

static int c1z_has_resource(void *impl, const char *type, const char *id, char *err,
                            size_t errsz)
{
    c1z_writer *w = impl;
    bt_arena_reset(&w->scratch);
    char *ext = bt_id_resource(&w->scratch, type, id);
    if (!ext) {
        bt_sink_errf(err, errsz, "out of memory");
        return -1;
    }
    sqlite3_stmt *st = w->st[ST_HAS_RES];
    bind_text(st, 1, ext);
    bind_text(st, 2, w->sync_id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc == SQLITE_ROW;
    bt_sink_errf(err, errsz, "sqlite: lookup: %s", sqlite3_errstr(rc));
    return -1;
}

/* ------------------------------------------------------------------------
 * Integrity: the first row (by insertion order) whose reference does not
 * resolve, per rule. */

/* sql finds the first dangling row (for the message); fast, when set, only
 * whether there is one, from an index instead of the grants table, once per
 * distinct reference (the index keeps them adjacent) rather than once per
 * grant (?1: this sync's id, the only one in the working database). */
typedef struct {
    const char *kind, *what, *sql, *fast;
} integrity_rule;

static const integrity_rule rules[] = {
    {"resource", "resource type",
     "select r.external_id, r.resource_type_id from v1_resources r where not exists"
     " (select 1 from v1_resource_types t where t.external_id = r.resource_type_id"
     " and t.sync_id = r.sync_id) order by r.id limit 1", NULL},
    {"resource", "parent",
     "select r.external_id, r.parent_resource_type_id || ':' || r.parent_resource_id"
     " from v1_resources r where r.parent_resource_type_id is not null and not exists"
     " (select 1 from v1_resources p where p.external_id = r.parent_resource_type_id || ':' ||"
     " r.parent_resource_id and p.resource_type_id = r.parent_resource_type_id"
     " and p.sync_id = r.sync_id) order by r.id limit 1", NULL},
    {"entitlement", "resource",
     "select e.external_id, e.resource_type_id || ':' || e.resource_id from v1_entitlements e"
     " where not exists (select 1 from v1_resources r where r.external_id ="
     " e.resource_type_id || ':' || e.resource_id and r.resource_type_id = e.resource_type_id"
     " and r.sync_id = e.sync_id) order by e.id limit 1", NULL},
    {"grant", "entitlement",
     "select g.external_id, g.entitlement_id from v1_grants g where not exists"
     " (select 1 from v1_entitlements e where e.external_id = g.entitlement_id"
     " and e.sync_id = g.sync_id) order by g.id limit 1",
     "select 1 from (select distinct entitlement_id, sync_id from v1_grants) g where not exists"
     " (select 1 from v1_entitlements e where e.external_id = g.entitlement_id"
     " and e.sync_id = g.sync_id) limit 1"},
    {"grant", "principal",
     "select g.external_id, g.principal_resource_type_id || ':' || g.principal_resource_id"
     " from v1_grants g where not exists (select 1 from v1_resources r where r.external_id ="
     " g.principal_resource_type_id || ':' || g.principal_resource_id and r.resource_type_id ="
     " g.principal_resource_type_id and r.sync_id = g.sync_id) order by g.id limit 1",
     "select 1 from (select distinct principal_resource_type_id t, principal_resource_id i"
     " from v1_grants) g where not exists (select 1 from v1_resources r where"
     " r.external_id = g.t || ':' || g.i and r.resource_type_id = g.t and r.sync_id = ?1)"
     " limit 1"},
};

/* 1 when rule->fast finds a dangling row (or there is no fast query), 0 when not, -1. */
static int may_dangle(c1z_writer *w, const integrity_rule *rule, char *err, size_t errsz)
{
    if (!rule->fast)
        return 1;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, rule->fast, -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "integrity check", err, errsz);
    if (sqlite3_bind_parameter_count(st) > 0)
        bind_text(st, 1, w->sync_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return rc == SQLITE_ROW;
    return db_fail(w, "integrity check", err, errsz);
}

static int check_rule(c1z_writer *w, const integrity_rule *rule, char *err, size_t errsz)
{
    int maybe = may_dangle(w, rule, err, errsz);
    if (maybe <= 0)
        return maybe;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, rule->sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "integrity check", err, errsz);
    int rc = sqlite3_step(st), out = 0;
    if (rc == SQLITE_ROW) {
        bt_sink_errf(err, errsz, BT_DANGLING_FMT, rule->kind,
                     (const char *)sqlite3_column_text(st, 0), rule->what,
                     (const char *)sqlite3_column_text(st, 1));
        out = -1;
    } else if (rc != SQLITE_DONE) {
        out = db_fail(w, "integrity check", err, errsz);
    }
    sqlite3_finalize(st);
    return out;
}

static int check_integrity(c1z_writer *w, char *err, size_t errsz)
{
    /* A partial sync amends a full one, where its grants' principals live. */
    bool principals_outside = strcmp(w->sync_type, "partial") == 0;
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (principals_outside && strcmp(rules[i].what, "principal") == 0)
            continue;
        if (check_rule(w, &rules[i], err, errsz) != 0)
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Open, finish, abort */

static void close_db(c1z_writer *w)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(w->st[i]);
        w->st[i] = NULL;
    }
    if (w->db)
        sqlite3_close_v2(w->db);
    w->db = NULL;
}

static void free_writer(c1z_writer *w)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        cache_clear_slot(&w->cache[i]);
    bt_bytes_free(&w->buf);
    bt_grant_prefixes_free(&w->prefixes);
    bt_arena_free(&w->scratch);
    free(w);
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void c1z_abort(void *impl)
{
    c1z_writer *w = impl;
    if (!w)
        return;
    /* SQLite first: closing any descriptor of the database would drop
     * SQLite's POSIX locks on it. */
    close_db(w);
    bt_cleanup_remove(w->tmp, &w->tmp_slot);
    bt_cleanup_remove(w->journal, &w->journal_slot);
    bt_cleanup_remove(w->dbpath, &w->db_slot);
    close_fd(&w->tmp_fd);
    close_fd(&w->db_lock_fd);
    free_writer(w);
}

static int insert_sync_run(c1z_writer *w, char *err, size_t errsz)
{
    static const char sql[] =
        "insert into v1_sync_runs (sync_id, started_at, ended_at, sync_token, sync_type,"
        " parent_sync_id, linked_sync_id, supports_diff, grants_backfilled, stats)"
        " values (?, ?, null, '', 'full', '', '', 0, 0, null)";
    char now[BT_SYNC_TIME_LEN + 1];
    bt_sync_time_now(now);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "sync run", err, errsz);
    bind_text(st, 1, w->sync_id);
    bind_text(st, 2, now);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : db_fail(w, "sync run", err, errsz);
}

static int open_db(c1z_writer *w, char *err, size_t errsz)
{
    /* One thread uses the connection: no per-call mutex; and no global memory
     * statistics (a mutex around every SQLite allocation). The latter only
     * takes before SQLite's first use in the process, else SQLITE_MISUSE,
     * which changes nothing. */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(w->dbpath, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        return db_fail(w, "open", err, errsz);
    /* The working copy needs no durability and no rollback: the file is
     * published only by rename after a successful commit, and a failed run
     * removes it. So no journal at all (the header stays the rollback
     * journal's, never WAL), no fsync, and no lock traffic per transaction.
     * 8 KiB pages: a grant row is ~700 bytes, and the commit's index builds
     * scan the grants table once each; bigger pages mean fewer page reads and
     * writes through the kernel (measured: -0.1 s CPU at 20k users;
     * 16 KiB gained a little more but the sorter of the index builds then
     * holds 250 pages, +2 MB peak RSS). */
    if (exec(w, "pragma page_size = 8192; pragma journal_mode = off;"
                " pragma synchronous = off; pragma locking_mode = exclusive;"
                " pragma cache_size = -2048;",
             err, errsz) != 0 ||
        exec(w, bt_c1z_schema_sql, err, errsz) != 0 || insert_sync_run(w, err, errsz) != 0)
        return -1;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(w->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &w->st[i],
                               NULL) != SQLITE_OK)
            return db_fail(w, "prepare", err, errsz);
    return 0;
}

/* The working database and the file to publish, both created (and locked)
 * now, each registered for the signal cleanup. A failed name stays empty so
 * the abort removes nothing that is not ours. */
static int make_temps(c1z_writer *w, const char *path, char *err, size_t errsz)
{
    char work[PATH_MAX];
    const char *db_beside = bt_sink_work_path(path, work, sizeof work); /* --c1z-temp-dir */
    w->db_lock_fd = bt_make_temp_beside(db_beside, BT_TEMP_DB, w->dbpath, sizeof w->dbpath, err,
                                        errsz);
    if (w->db_lock_fd < 0) {
        w->dbpath[0] = '\0';
        return -1;
    }
    w->db_slot = bt_cleanup_register(w->dbpath);
    w->tmp_fd = bt_make_output_temp(path, w->tmp, sizeof w->tmp, err, errsz);
    if (w->tmp_fd < 0) {
        w->tmp[0] = '\0';
        return -1;
    }
    w->tmp_slot = bt_cleanup_register(w->tmp);
    if (bt_path_with_suffix(w->dbpath, "-journal", w->journal, sizeof w->journal, err, errsz) != 0)
        return -1;
    w->journal_slot = bt_cleanup_register(w->journal);
    return 0;
}

static void *c1z_open(const char *path, const char *sync_id, const bt_sink_types *types,
                         char *err, size_t errsz)
{
    c1z_writer *w = calloc(1, sizeof *w);
    if (!w) {
        bt_sink_errf(err, errsz, "out of memory");
        return NULL;
    }
    w->types = types;
    w->sync_type = "full";
    w->db_slot = w->journal_slot = w->tmp_slot = -1;
    w->db_lock_fd = w->tmp_fd = -1;
    bt_arena_init(&w->scratch, 4096);
    snprintf(w->sync_id, sizeof w->sync_id, "%s", sync_id);
    if (bt_path_with_suffix(path, "", w->out, sizeof w->out, err, errsz) != 0) {
        free_writer(w);
        return NULL;
    }
    if (make_temps(w, path, err, errsz) != 0 || open_db(w, err, errsz) != 0) {
        c1z_abort(w);
        return NULL;
    }
    return w;
}

/* Everything up to a closed, finished database. */
static int finish_db(c1z_writer *w, char *err, size_t errsz)
{
    char now[BT_SYNC_TIME_LEN + 1];
    if (!w->grants_settled) { /* bt_sink_commit settles first: a file never lacks the index */
        bt_sink_errf(err, errsz, "the grants were not settled before the commit");
        return -1;
    }
    /* the references are checked once the indexes exist: the grant checks read an index */
    if (tx_commit(w, err, errsz) != 0 || exec(w, "begin", err, errsz) != 0 ||
        exec(w, bt_c1z_index_sql, err, errsz) != 0 || check_integrity(w, err, errsz) != 0)
        return -1;
    bt_sync_time_now(now);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(w->db,
                           "update v1_sync_runs set ended_at = ?, sync_type = ? where sync_id = ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_fail(w, "finish sync run", err, errsz);
    bind_text(st, 1, now);
    bind_text(st, 2, w->sync_type);
    bind_text(st, 3, w->sync_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_fail(w, "finish sync run", err, errsz);
    if (exec(w, "commit", err, errsz) != 0)
        return -1;
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(w->st[i]);
        w->st[i] = NULL;
    }
    if (sqlite3_close(w->db) != SQLITE_OK)
        return db_fail(w, "close", err, errsz);
    w->db = NULL;
    return 0;
}

static int c1z_commit(void *impl, char *err, size_t errsz)
{
    c1z_writer *w = impl;
    int rc = finish_db(w, err, errsz);
    if (rc == 0)
        rc = bt_zstd_compress_file(w->dbpath, w->tmp_fd, BT_C1Z_MAGIC, BT_C1Z_MAGIC_LEN,
                                   BT_C1Z_ZSTD_LEVEL, err, errsz);
    if (rc == 0) {
        rc = bt_atomic_publish(w->tmp_fd, w->tmp, w->out, err, errsz);
        w->tmp_fd = -1; /* closed by the publish */
    }
    if (rc == 0) {
        bt_cleanup_unregister(w->tmp_slot); /* renamed: it is the output now */
        w->tmp_slot = -1;
        w->tmp[0] = '\0';
    }
    c1z_abort(w); /* removes the working database and any leftover temp file */
    return rc;
}

/* Until this runs, grants go in without the unique index, so a repeated one
 * is stored as ADDED (compare_stored never sees it); after, as before. */
static int c1z_settle_grants(void *impl, void (*repeat)(void *ctx, const char *id, bool conflict),
                             void *ctx, char *err, size_t errsz)
{
    c1z_writer *w = impl;
    if (w->grants_settled)
        return 0;
    if (tx_commit(w, err, errsz) != 0 || bt_c1z_settle_grants(w->db, repeat, ctx, err, errsz) != 0)
        return -1;
    w->grants_settled = true;
    return 0;
}

static void c1z_sync_type(void *impl, const char *type)
{
    ((c1z_writer *)impl)->sync_type = type;
}

const bt_sink_backend bt_c1z_backend = {
    .name = "c1z",
    .open = c1z_open,
    .resource_type = c1z_resource_type,
    .resource = c1z_resource,
    .entitlement = c1z_entitlement,
    .grant = c1z_grant,
    .grant_packed = c1z_grant_packed,
    .has_resource = c1z_has_resource,
    .settle_grants = c1z_settle_grants,
    .commit = c1z_commit,
    .abort = c1z_abort,
    .sync_type = c1z_sync_type,
};
