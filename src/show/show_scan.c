/* Streaming the rows of one sync out of a v1_* table, a page at a time, the
 * way the SDK lists them: WHERE id >= <next> ORDER BY id LIMIT <page>. */
#include <sqlite3.h>
#include <stdlib.h>

#include "bt/show.h"

#define PAGE_SIZE 500

typedef struct {
    sqlite3 *db;
    sqlite3_stmt *st;
    bt_show_scan_fn fn;
    void *ud;
    int64_t next_id;
    bool done;
} scan;

/* The grants filters (bt_show_scan_filter) as ?4..?8. */
static const char GRANT_FILTERS[] =
    " AND (?4 IS NULL OR entitlement_id = ?4)"
    " AND (?5 IS NULL OR resource_type_id = ?5) AND (?6 IS NULL OR resource_id = ?6)"
    " AND (?7 IS NULL OR principal_resource_type_id = ?7)"
    " AND (?8 IS NULL OR principal_resource_id = ?8)";

static int prepare(scan *s, const char *table, const char *type_column, bool filtered,
                   bt_show_err *e)
{
    char sql[768];
    snprintf(sql, sizeof sql,
             "SELECT id, data FROM %s WHERE sync_id = ?1 AND (?2 IS NULL OR %s = ?2)%s "
             "AND id >= ?3 ORDER BY id LIMIT %d",
             table, type_column, filtered ? GRANT_FILTERS : "", PAGE_SIZE);
    if (sqlite3_prepare_v2(s->db, sql, -1, &s->st, NULL) == SQLITE_OK)
        return 0;
    bt_show_fail(e, "cannot read %s: %s", table, sqlite3_errmsg(s->db));
    return -1;
}

static int one_row(scan *s, bt_show_err *e)
{
    int64_t id = sqlite3_column_int64(s->st, 0);
    const void *blob = sqlite3_column_blob(s->st, 1);
    size_t len = (size_t)sqlite3_column_bytes(s->st, 1);
    if (id == INT64_MAX)
        s->done = true;
    else
        s->next_id = id + 1;
    return s->fn(s->ud, id, blob, len, e);
}

/* Returns rows read in this page, or -1. */
static int one_page(scan *s, bt_show_err *e)
{
    sqlite3_reset(s->st);
    sqlite3_bind_int64(s->st, 3, s->next_id);
    int rows = 0, rc;
    while ((rc = sqlite3_step(s->st)) == SQLITE_ROW) {
        rows++;
        if (one_row(s, e) < 0)
            return -1;
    }
    if (rc == SQLITE_DONE)
        return rows;
    bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(s->db));
    return -1;
}

static void bind_filters(sqlite3_stmt *st, const bt_show_scan_filter *f)
{
    for (int i = 0; i < BT_SHOW_SCAN_FILTERS; i++)
        if (f->value[i])
            sqlite3_bind_text(st, 4 + i, f->value[i], f->len[i] ? (int)f->len[i] : -1,
                              SQLITE_STATIC);
}

int bt_show_scan_where(sqlite3 *db, const char *table, const char *type_column,
                       const char *sync_id, const char *type_filter,
                       const bt_show_scan_filter *filter, bt_show_scan_fn fn, void *ud,
                       bt_show_err *e)
{
    scan s = {.db = db, .fn = fn, .ud = ud, .next_id = INT64_MIN};
    if (prepare(&s, table, type_column, filter != NULL, e) < 0)
        return -1;
    sqlite3_bind_text(s.st, 1, sync_id, -1, SQLITE_STATIC);
    if (type_filter)
        sqlite3_bind_text(s.st, 2, type_filter, -1, SQLITE_STATIC);
    if (filter)
        bind_filters(s.st, filter);
    int rows;
    do
        rows = one_page(&s, e);
    while (rows == PAGE_SIZE && !s.done);
    sqlite3_finalize(s.st);
    return rows < 0 ? -1 : 0;
}

/* One scan of decoded rows: the message type and the callback for it. */
typedef struct {
    const ProtobufCMessageDescriptor *desc;
    bt_show_type_fn on_type;
    bt_show_resource_fn on_resource;
    void *ud;
} decoded_scan;

static int decoded_row(void *ud, int64_t rowid, const void *blob, size_t len, bt_show_err *e)
{
    decoded_scan *d = ud;
    (void)rowid;
    ProtobufCMessage *m = bt_show_decode(d->desc, blob, len, e);
    if (!m)
        return -1;
    int rc = d->on_type ? d->on_type(d->ud, (const C1__Connector__V2__ResourceType *)m, e)
                        : d->on_resource(d->ud, (const C1__Connector__V2__Resource *)m, e);
    bt_show_msg_free(m);
    return rc;
}

int bt_show_each_type(sqlite3 *db, const char *sync_id, bt_show_type_fn fn, void *ud,
                      bt_show_err *e)
{
    decoded_scan d = {&c1__connector__v2__resource_type__descriptor, fn, NULL, ud};
    return bt_show_scan_where(db, "v1_resource_types", "external_id", sync_id, NULL, NULL,
                              decoded_row, &d, e);
}

int bt_show_each_resource(sqlite3 *db, const char *sync_id, const char *type_id,
                          bt_show_resource_fn fn, void *ud, bt_show_err *e)
{
    decoded_scan d = {&c1__connector__v2__resource__descriptor, NULL, fn, ud};
    return bt_show_scan_where(db, "v1_resources", "resource_type_id", sync_id, type_id, NULL,
                              decoded_row, &d, e);
}
