/* Which sync `show` displays (shared/c1z-format.md 3.4, HEAD's rule):
 * the latest finished full sync by ended_at DESC, sync_id DESC; else the
 * latest unfinished one (of any age: HEAD stops at 7 days, a viewer need
 * not); else, where HEAD would find nothing, the latest finished sync of any
 * type (e.g. resources_only). Files from v0.1.7 have no sync_type column:
 * every sync there counts as full. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

static char *column_dup(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? strdup((const char *)s) : NULL;
}

static int sql_fail(sqlite3 *db, bt_show_err *e)
{
    bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(db));
    return -1;
}

int bt_show_require_table(sqlite3 *db, const char *table, bt_show_err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT type FROM sqlite_master WHERE name = ?1", -1, &st, NULL))
        return sql_fail(db, e);
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    const unsigned char *type = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
    bool ok = type && strcmp((const char *)type, "table") == 0;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sql_fail(db, e);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    if (ok)
        return 0;
    bt_show_fail(e, "not a c1z database: table %s is missing", table);
    return -1;
}

static int has_sync_type(sqlite3 *db, bool *out, bt_show_err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db,
                           "SELECT 1 FROM pragma_table_info('v1_sync_runs') "
                           "WHERE name = 'sync_type'",
                           -1, &st, NULL))
        return sql_fail(db, e);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sql_fail(db, e);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    *out = rc == SQLITE_ROW;
    return 0;
}

/* Runs one of the selection queries; returns 1 found, 0 none, -1 error. */
static int select_sync(sqlite3 *db, const char *sql, const char *wanted, bt_show_sync *out,
                       bt_show_err *e)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
        return sql_fail(db, e);
    if (wanted)
        sqlite3_bind_text(st, 1, wanted, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = column_dup(st, 0);
        out->started_at = column_dup(st, 1);
        out->ended_at = column_dup(st, 2);
        out->type = column_dup(st, 3);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        sql_fail(db, e);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return -1;
    return rc == SQLITE_ROW;
}

#define SYNC_COLUMNS_HEAD "SELECT sync_id, started_at, ended_at, sync_type FROM v1_sync_runs "
#define SYNC_COLUMNS_V017 "SELECT sync_id, started_at, ended_at, 'full' FROM v1_sync_runs "

static const char *const BY_ID[2] = {
    SYNC_COLUMNS_V017 "WHERE sync_id = ?1",
    SYNC_COLUMNS_HEAD "WHERE sync_id = ?1",
};
static const char *const LATEST_FINISHED_FULL[2] = {
    SYNC_COLUMNS_V017 "WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, sync_id DESC LIMIT 1",
    SYNC_COLUMNS_HEAD "WHERE ended_at IS NOT NULL AND sync_type = 'full' "
                      "ORDER BY ended_at DESC, sync_id DESC LIMIT 1",
};
static const char *const LATEST_FINISHED_ANY[2] = {
    SYNC_COLUMNS_V017 "WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, sync_id DESC LIMIT 1",
    SYNC_COLUMNS_HEAD "WHERE ended_at IS NOT NULL ORDER BY ended_at DESC, sync_id DESC LIMIT 1",
};
static const char *const LATEST_UNFINISHED[2] = {
    SYNC_COLUMNS_V017 "WHERE ended_at IS NULL ORDER BY started_at DESC, sync_id DESC LIMIT 1",
    SYNC_COLUMNS_HEAD "WHERE ended_at IS NULL ORDER BY started_at DESC, sync_id DESC LIMIT 1",
};

static int check_found(int found, const char *wanted, bt_show_err *e)
{
    if (found != 0)
        return found;
    if (wanted)
        bt_show_fail(e, "sync %s not found", wanted);
    else
        bt_show_fail(e, "no sync runs in the file");
    return -1;
}

static int fill_defaults(bt_show_sync *s, bt_show_err *e)
{
    if (!s->id)
        s->id = strdup("");
    if (!s->started_at)
        s->started_at = strdup("");
    if (!s->type || !*s->type) {
        free(s->type);
        s->type = strdup("full");
    }
    if (s->id && s->started_at && s->type)
        return 0;
    bt_show_fail(e, "out of memory");
    return -1;
}

int bt_show_pick_sync(sqlite3 *db, const char *wanted, bt_show_sync *out, bt_show_err *e)
{
    memset(out, 0, sizeof *out);
    bool head = false;
    if (bt_show_require_table(db, "v1_sync_runs", e) < 0 || has_sync_type(db, &head, e) < 0)
        return -1;
    int found;
    if (wanted) {
        found = select_sync(db, BY_ID[head], wanted, out, e);
    } else {
        found = select_sync(db, LATEST_FINISHED_FULL[head], NULL, out, e);
        if (found == 0)
            found = select_sync(db, LATEST_UNFINISHED[head], NULL, out, e);
        if (found == 0)
            found = select_sync(db, LATEST_FINISHED_ANY[head], NULL, out, e);
    }
    if (check_found(found, wanted, e) < 0 || fill_defaults(out, e) < 0) {
        bt_show_sync_free(out);
        return -1;
    }
    return 0;
}

void bt_show_sync_free(bt_show_sync *s)
{
    free(s->id);
    free(s->started_at);
    free(s->ended_at);
    free(s->type);
    memset(s, 0, sizeof *s);
}
