/* `show diff OLD NEW`: open both files, choose each one's sync, merge their
 * tables (show_diff_merge.c) and print what was added, removed and changed.
 * Exit status like diff(1): 0 same content, 1 different, 2 error. */
#include <sqlite3.h>
#include <string.h>

#include "show_diff.h"

static const char *const DATA_TABLES[] = {"v1_resource_types", "v1_resources", "v1_entitlements",
                                          "v1_grants"};

static int open_side(diff_side *s, bt_show_c1z *c1z, bt_show_err *e)
{
    s->db = bt_show_c1z_db(c1z);
    for (size_t i = 0; i < sizeof DATA_TABLES / sizeof DATA_TABLES[0]; i++)
        if (bt_show_require_table(s->db, DATA_TABLES[i], e) < 0)
            return -1;
    if (bt_show_pick_sync(s->db, NULL, &s->sync, e) < 0)
        return -1;
    s->partial = strncmp(s->sync.type, "partial", 7) == 0;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT 1 FROM v1_resources WHERE sync_id = ?1 "
                           "AND external_id = ?2 || ':' || ?3",
                           -1, &s->has_resource, NULL) == SQLITE_OK)
        return 0;
    bt_show_fail(e, "cannot read the database: %s", sqlite3_errmsg(s->db));
    return -1;
}

static void close_side(diff_side *s)
{
    sqlite3_finalize(s->has_resource);
    if (s->sync.id)
        bt_show_sync_free(&s->sync);
}

static void sync_json(FILE *out, const char *key, const diff_side *s)
{
    fprintf(out, "\"%s\":{\"id\":", key);
    bt_show_json_string(out, s->sync.id, strlen(s->sync.id));
    fputs(",\"type\":", out);
    bt_show_json_string(out, s->sync.type, strlen(s->sync.type));
    fputs("},", out);
}

static void print_header(diff_state *d)
{
    if (d->json) {
        fputc('{', d->out);
        sync_json(d->out, "old", &d->old);
        sync_json(d->out, "new", &d->new);
        fprintf(d->out, "\"partial\":%s,\"changes\":[",
                d->old.partial || d->new.partial ? "true" : "false");
    } else if (d->old.partial || d->new.partial)
        fputs("Comparing only what the partial sync covers: its resources and the "
              "entitlements and grants on them.\n",
              d->out);
}

static int diff_files(diff_state *d, bt_show_c1z *a, bt_show_c1z *b, const char **which,
                      const bt_show_opts *o, bt_show_err *e)
{
    *which = o->file;
    if (open_side(&d->old, a, e) < 0)
        return -1;
    *which = o->file2;
    if (open_side(&d->new, b, e) < 0)
        return -1;
    *which = NULL;
    print_header(d);
    if (diff_merge_all(d, e) < 0)
        return -1;
    diff_summary(d);
    if (fflush(d->out) != 0 || ferror(d->out)) {
        bt_show_fail(e, "cannot write the output");
        return -1;
    }
    return 0;
}

int bt_show_diff_run(const bt_show_opts *o, FILE *out, FILE *err)
{
    bt_show_err e = {{0}};
    bt_show_c1z *a = NULL, *b = NULL;
    diff_state d;
    memset(&d, 0, sizeof d);
    d.out = out;
    d.json = o->json;
    d.first = true;
    const char *which = o->file;
    int rc = bt_show_c1z_open(o->file, &o->limits, &a, &e);
    if (rc == 0) {
        which = o->file2;
        rc = bt_show_c1z_open(o->file2, &o->limits, &b, &e);
    }
    if (rc == 0)
        rc = diff_files(&d, a, b, &which, o, &e);
    close_side(&d.old);
    close_side(&d.new);
    bt_show_c1z_close(a);
    bt_show_c1z_close(b);
    if (rc < 0) {
        bt_show_print_failure(err, "show diff", which, e.msg);
        return 2;
    }
    return d.added + d.removed + d.changed ? 1 : 0;
}

/* The report's "changes": the JSON array of changes from old to new. */
int bt_show_diff_json(bt_show_c1z *old, bt_show_c1z *new, FILE *out, size_t *count,
                      bt_show_err *e)
{
    diff_state d;
    memset(&d, 0, sizeof d);
    d.out = out;
    d.json = true;
    d.first = true;
    int rc = open_side(&d.old, old, e) < 0 || open_side(&d.new, new, e) < 0 ? -1 : 0;
    if (rc == 0) {
        fprintf(out, "{\"old\":{\"id\":");
        bt_show_json_string(out, d.old.sync.id, strlen(d.old.sync.id));
        fputs(",\"endedAt\":", out);
        const char *ended = d.old.sync.ended_at ? d.old.sync.ended_at : "";
        bt_show_json_string(out, ended, strlen(ended));
        fprintf(out, "},\"partial\":%s,\"list\":[", d.old.partial || d.new.partial ? "true" : "false");
        rc = diff_merge_all(&d, e);
        fputs("]}", out);
    }
    *count = d.added + d.removed + d.changed;
    close_side(&d.old);
    close_side(&d.new);
    return rc;
}
