/* Running a listing view over its table: one pass to resolve and measure,
 * one to print the table or the JSON array. */
#define _GNU_SOURCE /* vasprintf */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

int bt_show_row_set(bt_show_row *r, size_t i, const char *s)
{
    free(r->cell[i]);
    r->cell[i] = strdup(s ? s : "");
    return r->cell[i] ? 0 : -1;
}

int bt_show_row_setf(bt_show_row *r, size_t i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    free(r->cell[i]);
    if (vasprintf(&r->cell[i], fmt, ap) < 0)
        r->cell[i] = NULL;
    va_end(ap);
    return r->cell[i] ? 0 : -1;
}

static void row_free(bt_show_row *r)
{
    for (size_t i = 0; i < BT_SHOW_MAX_COLS; i++)
        free(r->cell[i]);
    memset(r, 0, sizeof *r);
}

static void resolved_free(bt_show_resolved *r)
{
    for (size_t i = 0; i < BT_SHOW_RESOLVED_MAX; i++)
        bt_show_msg_free(r->msg[i]);
    memset(r, 0, sizeof *r);
}

typedef struct {
    const bt_show_view *v;
    bt_show_ctx *c;
    bt_show_pass pass;
    bt_show_table *t;
    bool first;
} pass_state;

static int table_row(pass_state *p, const bt_show_resolved *r, bt_show_err *e)
{
    bt_show_row row = {{0}};
    int rc = p->v->cells(r, &row);
    if (rc < 0)
        bt_show_fail(e, "out of memory");
    else if (p->pass == BT_SHOW_PASS_MEASURE)
        bt_show_table_measure(p->t, (const char *const *)row.cell);
    else
        bt_show_table_print(p->t, (const char *const *)row.cell);
    row_free(&row);
    return rc;
}

/* {"resource": {...}, "resourceType": {...}} */
static int json_row(pass_state *p, const bt_show_resolved *r, bt_show_err *e)
{
    FILE *out = p->c->out;
    fputs(p->first ? "{" : ",{", out);
    p->first = false;
    bool first_key = true;
    for (size_t i = 0; i < BT_SHOW_RESOLVED_MAX; i++) {
        if (!r->msg[i])
            continue;
        fprintf(out, "%s\"%s\":", first_key ? "" : ",", r->key[i]);
        first_key = false;
        if (bt_show_json_message(out, r->msg[i], e) < 0)
            return -1;
    }
    fputc('}', out);
    return 0;
}

static int on_row(void *ud, int64_t rowid, const void *blob, size_t len, bt_show_err *e)
{
    pass_state *p = ud;
    bt_show_resolved r = {{0}, {0}};
    int rc = p->v->resolve(p->c, rowid, blob, len, &r, e);
    if (rc == 0)
        rc = p->pass == BT_SHOW_PASS_JSON ? json_row(p, &r, e) : table_row(p, &r, e);
    resolved_free(&r);
    return rc;
}

/* The grants filters of the command line, bound as ?4..?8 of the scan. */
static void grant_filters(const bt_show_opts *o, bt_show_scan_filter *f)
{
    memset(f, 0, sizeof *f);
    f->value[0] = o->entitlement;
    bt_show_split_id(o->resource, &f->value[1], &f->len[1], &f->value[2], &f->len[2]);
    bt_show_split_id(o->principal, &f->value[3], &f->len[3], &f->value[4], &f->len[4]);
}

int bt_show_view_run_types(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                           bt_show_table *t, const char *const *types, size_t ntypes,
                           bt_show_err *e)
{
    pass_state p = {v, c, pass, t, true};
    bt_show_scan_filter f;
    grant_filters(c->opts, &f);
    if (pass == BT_SHOW_PASS_TABLE)
        bt_show_table_print(t, v->header);
    if (pass == BT_SHOW_PASS_JSON)
        fputc('[', c->out);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ntypes; i++)
        rc = bt_show_scan_where(c->db, v->table, v->type_column, c->sync->id, types[i],
                                v->filters ? &f : NULL, on_row, &p, e);
    if (pass == BT_SHOW_PASS_JSON)
        fputc(']', c->out);
    return rc;
}

int bt_show_view_run_rows(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                          bt_show_table *t, bt_show_err *e)
{
    const char *types[1] = {c->opts->resource_type};
    return bt_show_view_run_types(v, c, pass, t, types, 1, e);
}
