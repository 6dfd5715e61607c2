/* `baton-twingate report FILE [--against OLD] -o access.html`: one
 * self-contained HTML page (inline CSS and JS, nothing fetched) showing who
 * can reach what in a sync file, and what changed since OLD. */
#ifndef BT_REPORT_H
#define BT_REPORT_H
#include <stdio.h>

#include "bt/show.h"

/* argv[0] is "report". 0 written, 1 failed, 2 usage error. */
int bt_report_main(int argc, char **argv);

/* ---- shared by the files of src/report ---------------------------------- */

/* A map from "type:id" to an index (report_index.c). */
typedef struct bt_report_index bt_report_index;
bt_report_index *bt_report_index_new(void);
void bt_report_index_free(bt_report_index *x);
/* -1: out of memory. The key is copied. */
int bt_report_index_put(bt_report_index *x, const char *type, const char *id, long value);
/* -1 when absent. */
long bt_report_index_get(const bt_report_index *x, const char *type, const char *id);

/* The page's data as JSON (report_data.c). */
typedef struct {
    struct sqlite3 *db;
    const bt_show_sync *sync;
    const char *file_name;
    FILE *out;
    bt_show_lookup *lookup;
} bt_report_src;
int bt_report_data(bt_report_src *s, bt_show_err *e);

/* The template (generated from src/report/report.html at build time). */
extern const unsigned char bt_report_template[];
extern const size_t bt_report_template_len;

#endif
