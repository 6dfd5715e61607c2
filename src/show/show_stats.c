/* The stats view, like `baton stats`: resource_types, one count of resources
 * per resource type id, entitlements and grants (the last two not for a
 * resources_only sync), sorted by key. --resource-type does not filter it. */
#include <sqlite3.h>
#include <string.h>

#include "bt/show.h"

static const char STATS_SQL[] =
    "SELECT k, n FROM ("
    " SELECT 'resource_types' AS k,"
    "  (SELECT count(*) FROM v1_resource_types WHERE sync_id = ?1) AS n"
    " UNION ALL SELECT 'entitlements',"
    "  (SELECT count(*) FROM v1_entitlements WHERE sync_id = ?1) WHERE ?2"
    " UNION ALL SELECT 'grants',"
    "  (SELECT count(*) FROM v1_grants WHERE sync_id = ?1) WHERE ?2"
    " UNION ALL SELECT rt.external_id,"
    "  (SELECT count(*) FROM v1_resources r"
    "   WHERE r.sync_id = ?1 AND r.resource_type_id = rt.external_id)"
    "  FROM v1_resource_types rt WHERE rt.sync_id = ?1"
    ") ORDER BY k COLLATE BINARY";

typedef struct {
    bt_show_ctx *c;
    bt_show_pass pass;
    bt_show_table *t;
    bool first;
} stats_state;

static void stats_row(stats_state *s, const char *key, long long count)
{
    if (s->pass == BT_SHOW_PASS_JSON) {
        fputs(s->first ? "" : ",", s->c->out);
        bt_show_json_string(s->c->out, key, strlen(key));
        fprintf(s->c->out, ":%lld", count);
        s->first = false;
        return;
    }
    char number[24];
    snprintf(number, sizeof number, "%lld", count);
    const char *cells[2] = {key, number};
    if (s->pass == BT_SHOW_PASS_MEASURE)
        bt_show_table_measure(s->t, cells);
    else
        bt_show_table_print(s->t, cells);
}

static int stats_rows(stats_state *s, bt_show_err *e)
{
    sqlite3 *db = s->c->db;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, STATS_SQL, -1, &st, NULL) != SQLITE_OK) {
        bt_show_fail(e, "cannot count rows: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_text(st, 1, s->c->sync->id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, strcmp(s->c->sync->type, "resources_only") != 0);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *key = sqlite3_column_text(st, 0);
        stats_row(s, key ? (const char *)key : "", sqlite3_column_int64(st, 1));
    }
    if (rc != SQLITE_DONE)
        bt_show_fail(e, "cannot count rows: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int bt_show_view_run_stats(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                           bt_show_table *t, bt_show_err *e)
{
    stats_state s = {c, pass, t, true};
    if (pass == BT_SHOW_PASS_TABLE)
        bt_show_table_print(t, v->header);
    if (pass == BT_SHOW_PASS_JSON)
        fputc('{', c->out);
    int rc = stats_rows(&s, e);
    if (pass == BT_SHOW_PASS_JSON)
        fputc('}', c->out);
    return rc;
}
