#define _GNU_SOURCE /* asprintf */
/* `show diff`'s core: each table of both syncs is read in external_id order
 * (the unique (external_id, sync_id) index every c1z has) and merged, so the
 * cost is one pass over each file. A row on one side only is added or
 * removed; a resource on both sides is compared field by field. Against a
 * partial (targeted) sync only what it covers counts: its resources, and
 * entitlements and grants on them. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "show_diff.h"

typedef struct {
    const char *kind;
    const char *sql; /* key, type, owner type, owner id, label a, label b, data */
} table_spec;

static const table_spec TABLES[] = {
    {"resource",
     "SELECT external_id, resource_type_id, resource_type_id,"
     " substr(external_id, length(resource_type_id) + 2), NULL, NULL, data"
     " FROM v1_resources WHERE sync_id = ?1 ORDER BY external_id"},
    {"entitlement",
     "SELECT external_id, resource_type_id, resource_type_id, resource_id, NULL, NULL, NULL"
     " FROM v1_entitlements WHERE sync_id = ?1 ORDER BY external_id"},
    {"grant",
     "SELECT external_id, resource_type_id, resource_type_id, resource_id, entitlement_id,"
     " principal_resource_type_id || ':' || principal_resource_id, NULL"
     " FROM v1_grants WHERE sync_id = ?1 ORDER BY external_id"},
};

typedef struct {
    sqlite3_stmt *st;
    bool row; /* positioned on a row */
} cursor;

static const char *col(const cursor *c, int i)
{
    const unsigned char *s = sqlite3_column_text(c->st, i);
    return s ? (const char *)s : "";
}

static int step(cursor *c, sqlite3 *db, bt_show_err *e)
{
    int rc = sqlite3_step(c->st);
    c->row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return 0;
    bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(db));
    return -1;
}

/* Is the owner of this row among the partial side's resources? */
static bool covered_by(const diff_side *s, const cursor *c)
{
    if (!s->partial)
        return true;
    sqlite3_stmt *st = s->has_resource;
    sqlite3_bind_text(st, 1, s->sync.id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, col(c, 2), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, col(c, 3), -1, SQLITE_TRANSIENT);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return found;
}

static bool covered(const diff_state *d, const cursor *c)
{
    return covered_by(&d->old, c) && covered_by(&d->new, c);
}

static char *label(const table_spec *t, const cursor *c)
{
    char *s = NULL;
    if (strcmp(t->kind, "grant") == 0) {
        if (asprintf(&s, "%s \xE2\x86\x92 %s", col(c, 4), col(c, 5)) < 0)
            s = NULL;
        return s;
    }
    if (strcmp(t->kind, "entitlement") == 0)
        return strdup(col(c, 0));
    bt_show_err ignored;
    C1__Connector__V2__Resource *r = (C1__Connector__V2__Resource *)bt_show_decode(
        &c1__connector__v2__resource__descriptor, sqlite3_column_blob(c->st, 6),
        (size_t)sqlite3_column_bytes(c->st, 6), &ignored);
    const char *name = r && r->display_name && *r->display_name ? r->display_name : col(c, 3);
    if (asprintf(&s, "%s (%s)", name, col(c, 0)) < 0)
        s = NULL;
    bt_show_msg_free((ProtobufCMessage *)r);
    return s;
}

static int one_side(diff_state *d, const table_spec *t, const cursor *c, bool added,
                    bt_show_err *e)
{
    if (!covered(d, c))
        return 0;
    char *l = label(t, c);
    if (!l) {
        bt_show_fail(e, "out of memory");
        return -1;
    }
    if (added)
        diff_added(d, t->kind, col(c, 1), col(c, 0), l);
    else
        diff_removed(d, t->kind, col(c, 1), col(c, 0), l);
    free(l);
    return 0;
}

static int both_sides(diff_state *d, const table_spec *t, const cursor *a, const cursor *b,
                      bt_show_err *e)
{
    if (strcmp(t->kind, "resource") != 0)
        return 0; /* an entitlement or grant is its id */
    return diff_resource_pair(d, col(a, 0), sqlite3_column_blob(a->st, 6),
                              (size_t)sqlite3_column_bytes(a->st, 6),
                              sqlite3_column_blob(b->st, 6),
                              (size_t)sqlite3_column_bytes(b->st, 6), e);
}

static int merge_step(diff_state *d, const table_spec *t, cursor *a, cursor *b, bt_show_err *e)
{
    int cmp = !a->row ? 1 : !b->row ? -1 : strcmp(col(a, 0), col(b, 0));
    int rc;
    if (cmp < 0)
        rc = one_side(d, t, a, false, e) < 0 ? -1 : step(a, d->old.db, e);
    else if (cmp > 0)
        rc = one_side(d, t, b, true, e) < 0 ? -1 : step(b, d->new.db, e);
    else if (both_sides(d, t, a, b, e) < 0)
        rc = -1;
    else
        rc = step(a, d->old.db, e) < 0 ? -1 : step(b, d->new.db, e);
    return rc;
}

static int prepare(diff_side *s, const char *sql, cursor *c, bt_show_err *e)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, &c->st, NULL) != SQLITE_OK) {
        bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(s->db));
        return -1;
    }
    sqlite3_bind_text(c->st, 1, s->sync.id, -1, SQLITE_STATIC);
    return step(c, s->db, e);
}

static int merge_table(diff_state *d, const table_spec *t, bt_show_err *e)
{
    cursor a = {NULL, false}, b = {NULL, false};
    int rc = prepare(&d->old, t->sql, &a, e) < 0 || prepare(&d->new, t->sql, &b, e) < 0 ? -1 : 0;
    while (rc == 0 && (a.row || b.row))
        rc = merge_step(d, t, &a, &b, e);
    sqlite3_finalize(a.st);
    sqlite3_finalize(b.st);
    return rc;
}

int diff_merge_all(diff_state *d, bt_show_err *e)
{
    for (size_t i = 0; i < sizeof TABLES / sizeof TABLES[0]; i++)
        if (merge_table(d, &TABLES[i], e) < 0)
            return -1;
    return 0;
}
