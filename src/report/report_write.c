/* Writing the report: the sync's data (report_data.c) and, with --against,
 * the changes (show diff's merge) go into the page template between its
 * two halves. Every '<' in the data is written as \u003c, so no text from
 * the file can end the <script> element it sits in. The page is written to
 * <output>.tmp and renamed into place. */
#define _GNU_SOURCE /* open_memstream */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/files.h"
#include "bt/sink.h"
#include "bt/report.h"

static const char MARKER[] = "__BT_REPORT_DATA__";

static int data_of(bt_show_c1z *c1z, const char *file, const char *sync_id, FILE *out,
                   bt_show_err *e)
{
    bt_show_sync sync;
    if (bt_show_pick_sync(bt_show_c1z_db(c1z), sync_id, &sync, e) < 0)
        return -1;
    const char *base = strrchr(file, '/');
    bt_report_src src = {bt_show_c1z_db(c1z), &sync, base ? base + 1 : file, out, NULL};
    int rc = bt_report_data(&src, e);
    bt_show_sync_free(&sync);
    return rc;
}

static int changes(bt_show_c1z *cur, const char *against, const bt_show_limits *lim, FILE *out,
                   bt_show_err *e, const char **which)
{
    bt_show_c1z *old = NULL;
    *which = against;
    if (bt_show_c1z_open(against, lim, &old, e) < 0)
        return -1;
    size_t n = 0;
    fputs(",\"changes\":", out);
    int rc = bt_show_diff_json(old, cur, out, &n, e);
    bt_show_c1z_close(old);
    return rc;
}

static int build(const char *file, const char *against, const char *sync_id, char **buf,
                 size_t *len, bt_show_err *e, const char **which)
{
    bt_show_limits lim = bt_show_default_limits();
    bt_show_c1z *c1z = NULL;
    FILE *out = open_memstream(buf, len);
    if (!out) {
        bt_show_fail(e, "out of memory");
        return -1;
    }
    int rc = bt_show_c1z_open(file, &lim, &c1z, e);
    if (rc == 0 && (rc = bt_show_require_table(bt_show_c1z_db(c1z), "v1_grants", e)) == 0) {
        fputc('{', out);
        rc = data_of(c1z, file, sync_id, out, e);
    }
    if (rc == 0 && against)
        rc = changes(c1z, against, &lim, out, e, which);
    fputs("}", out);
    bt_show_c1z_close(c1z);
    if (fclose(out) != 0 && rc == 0) {
        bt_show_fail(e, "out of memory");
        rc = -1;
    }
    return rc;
}

static void write_data(FILE *f, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '<')
            fputs("\\u003c", f);
        else
            fputc(data[i], f);
    }
}

static int write_page(FILE *f, const char *data, size_t len, bt_show_err *e)
{
    const char *t = (const char *)bt_report_template;
    const char *mark = strstr(t, MARKER);
    if (!mark) {
        bt_show_fail(e, "the page template has no data marker");
        return -1;
    }
    fwrite(t, 1, (size_t)(mark - t), f);
    write_data(f, data, len);
    const char *rest = mark + strlen(MARKER);
    fwrite(rest, 1, bt_report_template_len - (size_t)(rest - t), f);
    return 0;
}

typedef struct {
    const char *data;
    size_t len;
    bt_show_err *e;
} page_job;

static int write_job(FILE *f, void *ud)
{
    const page_job *j = ud;
    return write_page(f, j->data, j->len, j->e);
}

/* The page goes where a sync would: bt_sink_publish_stream's path rules,
 * a unique temporary file, mode 0600 for a new file (it lists people). */
static int save(const char *output, const char *data, size_t len, bt_show_err *e)
{
    page_job job = {data, len, e};
    char why[512] = "";
    if (bt_sink_publish_stream(output, write_job, &job, why, sizeof why) == 0)
        return 0;
    if (why[0])
        bt_show_fail(e, "%s", why);
    return -1;
}

int bt_report_write(const char *file, const char *against, const char *output,
                    const char *sync_id, bt_show_err *e, const char **which)
{
    char *data = NULL;
    size_t len = 0;
    *which = output;
    if (bt_same_file(output, file) || bt_same_file(output, against)) {
        bt_show_fail(e, "it is the same file as %s, which the page is made from; writing the "
                     "page there would destroy it: choose another output path",
                     bt_same_file(output, file) ? file : against);
        return -1;
    }
    *which = file;
    int rc = build(file, against, sync_id, &data, &len, e, which);
    if (rc == 0) {
        *which = output;
        rc = save(output, data, len, e);
    }
    free(data);
    return rc;
}
