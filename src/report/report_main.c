/* `baton-twingate report FILE [--against OLD] [-o access.html] [--sync-id ID]`:
 * read the sync (and OLD's, for the changes), build the page's data, write
 * the page next to its final name and rename it into place. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/report.h"

typedef struct {
    const char *file, *against, *output, *sync_id;
    bool help;
} report_opts;

static void usage(FILE *f)
{
    fputs("Usage: baton-twingate report FILE [--against OLD] [-o access.html]\n"
          "\n"
          "Write one self-contained HTML page (inline CSS and JS, nothing fetched)\n"
          "showing a sync file: a summary, users, groups with their members, roles,\n"
          "resources with who can reach them and through which group, a search box,\n"
          "and with --against OLD what changed since OLD. Lists are paged, so a\n"
          "tenant of tens of thousands of users stays usable. Links: #user=ID,\n"
          "#group=ID, #role=ID, #resource=ID open one entry; #q=TEXT searches.\n"
          "\n"
          "Flags:\n"
          "      --against OLD      an older sync file to list the changes from\n"
          "  -o, --output FILE      the page to write (default access.html)\n"
          "      --sync-id ID       the sync of FILE to show (default: as show)\n"
          "  -h, --help             this help\n"
          "\n"
          "Exit status: 0 written, 1 a file could not be read or written, 2 usage error.\n",
          f);
}

static int value(int argc, char **argv, int *i, const char *arg, const char **slot, char *err,
                 size_t errsz)
{
    const char *eq = strchr(arg, '=');
    const char *v = eq ? eq + 1 : arg[1] != '-' && arg[2] ? arg + 2 : NULL;
    if (!v && *i + 1 >= argc) {
        snprintf(err, errsz, "flag needs a value: %s", arg);
        return -1;
    }
    v = v ? v : argv[++*i];
    if (*slot && strcmp(*slot, v) != 0) {
        snprintf(err, errsz, "%s given twice with different values", arg);
        return -1;
    }
    *slot = v;
    return 0;
}

static bool is_flag(const char *arg, const char *lng, char shrt)
{
    size_t n = strlen(lng);
    if (strncmp(arg, lng, n) == 0 && (arg[n] == '\0' || arg[n] == '='))
        return true;
    return shrt && arg[0] == '-' && arg[1] == shrt;
}

static int one_arg(int argc, char **argv, int *i, report_opts *o, char *err, size_t errsz)
{
    const char *a = argv[*i];
    if (is_flag(a, "--help", 'h')) {
        o->help = true;
        return 0;
    }
    if (is_flag(a, "--against", 0))
        return value(argc, argv, i, a, &o->against, err, errsz);
    if (is_flag(a, "--output", 'o'))
        return value(argc, argv, i, a, &o->output, err, errsz);
    if (is_flag(a, "--sync-id", 0))
        return value(argc, argv, i, a, &o->sync_id, err, errsz);
    if (a[0] == '-' && a[1]) {
        snprintf(err, errsz, "unknown flag: %s", a);
        return -1;
    }
    if (o->file && strcmp(o->file, a) != 0) {
        snprintf(err, errsz, "two files given: %s and %s", o->file, a);
        return -1;
    }
    o->file = a;
    return 0;
}

static int parse(int argc, char **argv, report_opts *o, char *err, size_t errsz)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++)
        if (one_arg(argc, argv, &i, o, err, errsz) < 0)
            return -1;
    if (!o->file && !o->help) {
        snprintf(err, errsz, "the sync file to report on is missing");
        return -1;
    }
    if (!o->output)
        o->output = "access.html";
    return 0;
}

int bt_report_write(const char *file, const char *against, const char *output,
                    const char *sync_id, bt_show_err *e, const char **which);

static int main_io(int argc, char **argv, FILE *out, FILE *err)
{
    report_opts o;
    char msg[512];
    if (parse(argc, argv, &o, msg, sizeof msg) < 0) {
        fprintf(err, "report: %s\nRun 'baton-twingate report --help' for usage.\n", msg);
        return 2;
    }
    if (o.help) {
        usage(out);
        return 0;
    }
    bt_show_err e = {{0}};
    const char *which = o.file;
    if (bt_report_write(o.file, o.against, o.output, o.sync_id, &e, &which) == 0)
        return 0;
    bt_show_print_failure(err, "report", which, e.msg);
    return 1;
}

int bt_report_main(int argc, char **argv)
{
    bt_show_install_signal_cleanup();
    return main_io(argc, argv, stdout, stderr);
}
