/* `show`: open the c1z, choose the sync, check every selected view can be
 * resolved, then print tables (or JSON). Any failure is one line on err. */
#include <sqlite3.h>
#include <string.h>

#include "bt/show.h"

static const char *const DATA_TABLES[] = {"v1_resource_types", "v1_resources", "v1_entitlements",
                                          "v1_grants"};

static int require_data_tables(sqlite3 *db, bt_show_err *e)
{
    for (size_t i = 0; i < sizeof DATA_TABLES / sizeof DATA_TABLES[0]; i++)
        if (bt_show_require_table(db, DATA_TABLES[i], e) < 0)
            return -1;
    return 0;
}

static bool selected(const bt_show_ctx *c, const bt_show_view *v)
{
    return (c->opts->views ? c->opts->views : BT_SHOW_VIEW_DEFAULT) & v->bit;
}

static bool combined(const bt_show_ctx *c)
{
    unsigned views = c->opts->views ? c->opts->views : BT_SHOW_VIEW_DEFAULT;
    return (views & (views - 1)) != 0; /* more than one bit */
}

/* The sync's id, type and times: with several views, and with the stats
 * (as baton-sdk HEAD's stats prints them). */
static bool with_sync(const bt_show_ctx *c)
{
    return combined(c) || c->opts->views == BT_SHOW_VIEW_STATS;
}

/* Pass 1 for every selected view: everything is resolved before any output. */
static int measure_all(bt_show_ctx *c, bt_show_table *tables, bt_show_err *e)
{
    for (size_t i = 0; i < BT_SHOW_VIEW_COUNT; i++) {
        const bt_show_view *v = &BT_SHOW_VIEWS[i];
        if (!selected(c, v))
            continue;
        bt_show_table_init(&tables[i], c->out, v->header, v->ncols);
        tables[i].csv = c->opts->output == BT_SHOW_OUT_CSV;
        if (v->run(v, c, BT_SHOW_PASS_MEASURE, &tables[i], e) < 0)
            return -1;
    }
    return 0;
}

static void print_sync_line(const bt_show_ctx *c)
{
    const bt_show_sync *s = c->sync;
    fputs("Sync: ", c->out);
    bt_show_print_display(c->out, s->id);
    fputs(" (", c->out);
    bt_show_print_display(c->out, s->type);
    fputs(", started ", c->out);
    bt_show_print_display(c->out, s->started_at);
    fputs(", ended ", c->out);
    bt_show_print_display(c->out, s->ended_at ? s->ended_at : "unfinished");
    fputs(")\n", c->out);
}

static int print_tables(bt_show_ctx *c, bt_show_table *tables, bt_show_err *e)
{
    if (with_sync(c) && c->opts->output != BT_SHOW_OUT_CSV)
        print_sync_line(c);
    for (size_t i = 0; i < BT_SHOW_VIEW_COUNT; i++) {
        const bt_show_view *v = &BT_SHOW_VIEWS[i];
        if (!selected(c, v))
            continue;
        if (combined(c))
            fprintf(c->out, "\n%s:\n", v->title);
        if (v->run(v, c, BT_SHOW_PASS_TABLE, &tables[i], e) < 0)
            return -1;
    }
    return 0;
}

static void json_field(FILE *out, const char *key, const char *value)
{
    fprintf(out, "\"%s\":", key);
    bt_show_json_string(out, value, strlen(value));
}

static void print_sync_json(const bt_show_ctx *c)
{
    const bt_show_sync *s = c->sync;
    fputs("\"sync\":{", c->out);
    json_field(c->out, "id", s->id);
    fputc(',', c->out);
    json_field(c->out, "type", s->type);
    fputc(',', c->out);
    json_field(c->out, "startedAt", s->started_at);
    if (s->ended_at) {
        fputc(',', c->out);
        json_field(c->out, "endedAt", s->ended_at);
    }
    fputs("},", c->out);
}

/* {"resources":[...]} for one view (baton's shape); the combined view adds
 * "sync" and one key per view. */
static int print_json(bt_show_ctx *c, bt_show_table *tables, bt_show_err *e)
{
    fputc('{', c->out);
    if (with_sync(c))
        print_sync_json(c);
    bool first = true;
    for (size_t i = 0; i < BT_SHOW_VIEW_COUNT; i++) {
        const bt_show_view *v = &BT_SHOW_VIEWS[i];
        if (!selected(c, v))
            continue;
        fprintf(c->out, "%s\"%s\":", first ? "" : ",", v->json_key);
        first = false;
        if (v->run(v, c, BT_SHOW_PASS_JSON, &tables[i], e) < 0)
            return -1;
    }
    fputs("}\n", c->out);
    return 0;
}

static int show_sync(bt_show_ctx *c, bt_show_err *e)
{
    bt_show_table tables[BT_SHOW_VIEW_MAX];
    if (require_data_tables(c->db, e) < 0 || measure_all(c, tables, e) < 0)
        return -1;
    int rc = c->opts->json ? print_json(c, tables, e) : print_tables(c, tables, e);
    if (rc == 0 && (fflush(c->out) != 0 || ferror(c->out))) {
        bt_show_fail(e, "cannot write the output");
        rc = -1;
    }
    return rc;
}

/* `show syncs` lists the file's syncs: no sync is chosen. */
static int show_syncs(const bt_show_opts *o, FILE *out, bt_show_c1z *c1z, bt_show_err *e)
{
    bt_show_ctx c = {bt_show_c1z_db(c1z), NULL, o, NULL, out};
    bt_show_table tables[BT_SHOW_VIEW_MAX];
    if (bt_show_require_table(c.db, "v1_sync_runs", e) < 0 || measure_all(&c, tables, e) < 0)
        return -1;
    int rc = o->json ? print_json(&c, tables, e) : print_tables(&c, tables, e);
    if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
        bt_show_fail(e, "cannot write the output");
        rc = -1;
    }
    return rc;
}

static int show_file(const bt_show_opts *o, FILE *out, bt_show_c1z *c1z, bt_show_err *e)
{
    if (o->views == BT_SHOW_VIEW_SYNCS)
        return show_syncs(o, out, c1z, e);
    return bt_show_with_sync(bt_show_c1z_db(c1z), o, out, show_sync, e);
}

int bt_show_with_sync(sqlite3 *db, const bt_show_opts *o, FILE *out, bt_show_sync_fn fn,
                      bt_show_err *e)
{
    bt_show_sync sync;
    if (bt_show_pick_sync(db, o->sync_id, &sync, e) < 0)
        return -1;
    bt_show_ctx c = {db, &sync, o, NULL, out};
    c.lookup = bt_show_lookup_new(db, sync.id, e);
    int rc = c.lookup ? fn(&c, e) : -1;
    bt_show_lookup_free(c.lookup);
    bt_show_sync_free(&sync);
    return rc;
}

int bt_show_run(const bt_show_opts *o, FILE *out, FILE *err)
{
    bool access = o->command == BT_SHOW_CMD_ACCESS;
    bt_show_err e = {{0}};
    bt_show_c1z *c1z = NULL;
    int rc = bt_show_c1z_open(o->file, &o->limits, &c1z, &e);
    if (rc == 0)
        rc = access ? bt_show_access_file(o, out, c1z, &e) : show_file(o, out, c1z, &e);
    bt_show_c1z_close(c1z);
    if (rc == 0)
        return 0;
    bt_show_print_failure(err, access ? "show access" : "show", o->file, e.msg);
    return 1;
}
