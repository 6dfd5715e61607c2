/* The syncs view, like `baton syncs`: every sync run of the file in row
 * order: ID, Started At, Ended At, Type, Parent ID. Files from v0.1.7 have
 * neither sync_type (every sync counts as full) nor parent_sync_id. */
#include <sqlite3.h>
#include <string.h>

#include "bt/show.h"

static bool has_column(sqlite3 *db, const char *column)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info('v1_sync_runs') WHERE name = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, column, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static const char *text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s ? (const char *)s : "";
}

static void json_pair(FILE *out, const char *key, const char *value, bool comma)
{
    fprintf(out, "%s\"%s\":", comma ? "," : "", key);
    bt_show_json_string(out, value, strlen(value));
}

static void sync_row(sqlite3_stmt *st, bt_show_pass pass, bt_show_table *t, FILE *out, bool first)
{
    const char *cells[5] = {text(st, 0), text(st, 1), text(st, 2), text(st, 3), text(st, 4)};
    if (pass == BT_SHOW_PASS_MEASURE)
        bt_show_table_measure(t, cells);
    else if (pass == BT_SHOW_PASS_TABLE)
        bt_show_table_print(t, cells);
    else {
        fputs(first ? "{" : ",{", out);
        json_pair(out, "id", cells[0], false);
        json_pair(out, "startedAt", cells[1], true);
        if (*cells[2])
            json_pair(out, "endedAt", cells[2], true);
        json_pair(out, "syncType", cells[3], true);
        if (*cells[4])
            json_pair(out, "parentSyncId", cells[4], true);
        fputc('}', out);
    }
}

int bt_show_view_run_syncs(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                           bt_show_table *t, bt_show_err *e)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT sync_id, started_at, ended_at, %s, %s FROM v1_sync_runs ORDER BY id",
             has_column(c->db, "sync_type") ? "sync_type" : "'full'",
             has_column(c->db, "parent_sync_id") ? "parent_sync_id" : "''");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        bt_show_fail(e, "cannot read the syncs: %s", sqlite3_errmsg(c->db));
        return -1;
    }
    if (pass == BT_SHOW_PASS_TABLE)
        bt_show_table_print(t, v->header);
    fputs(pass == BT_SHOW_PASS_JSON ? "[" : "", c->out);
    int rc;
    for (bool first = true; (rc = sqlite3_step(st)) == SQLITE_ROW; first = false)
        sync_row(st, pass, t, c->out, first);
    fputs(pass == BT_SHOW_PASS_JSON ? "]" : "", c->out);
    if (rc != SQLITE_DONE)
        bt_show_fail(e, "cannot read the syncs: %s", sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}
