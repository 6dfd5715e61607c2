/* The command line of `baton-twingate show` and its entry points: an
 * optional command (baton's names), files, and flags. Today's view flags
 * (--grants, --json, ...) stay as aliases; a flag that disagrees with the
 * command or with an earlier value is an error, never silently dropped. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

#define MIB ((uint64_t)1 << 20)
#define DEFAULT_MAX_DECODED_MB 2048 /* v0.1.7's cap, the smallest of the readers */
#define DEFAULT_MAX_MEMORY_MB 128   /* v0.7.27 and HEAD */
#define MAX_FILES 3                 /* one more than diff takes, to report it */

typedef enum { OPT_VIEW, OPT_VALUE, OPT_FILE, OPT_OUTPUT, OPT_JSON, OPT_HELP } opt_kind;

typedef struct {
    const char *name;
    char short_name;
    opt_kind kind;
    unsigned view; /* OPT_VIEW */
    size_t field;  /* OPT_VALUE: offset of a const char * in bt_show_opts */
} opt_spec;

static const opt_spec OPTIONS[] = {
    {"stats", 0, OPT_VIEW, BT_SHOW_VIEW_STATS, 0},
    {"resource-types", 0, OPT_VIEW, BT_SHOW_VIEW_RESOURCE_TYPES, 0},
    {"resources", 0, OPT_VIEW, BT_SHOW_VIEW_RESOURCES, 0},
    {"entitlements", 0, OPT_VIEW, BT_SHOW_VIEW_ENTITLEMENTS, 0},
    {"grants", 0, OPT_VIEW, BT_SHOW_VIEW_GRANTS, 0},
    {"resource-type", 't', OPT_VALUE, 0, offsetof(bt_show_opts, resource_type)},
    {"sync-id", 0, OPT_VALUE, 0, offsetof(bt_show_opts, sync_id)},
    {"entitlement", 'e', OPT_VALUE, 0, offsetof(bt_show_opts, entitlement)},
    {"resource", 0, OPT_VALUE, 0, offsetof(bt_show_opts, resource)},
    {"principal", 0, OPT_VALUE, 0, offsetof(bt_show_opts, principal)},
    {"file", 'f', OPT_FILE, 0, 0},
    {"output", 'o', OPT_OUTPUT, 0, 0},
    {"json", 0, OPT_JSON, 0, 0},
    {"help", 'h', OPT_HELP, 0, 0},
};

typedef struct {
    const char *name;
    bt_show_command command;
    unsigned view;
} command_spec;

static const command_spec COMMANDS[] = {
    {"resource-types", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_RESOURCE_TYPES},
    {"resources", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_RESOURCES},
    {"entitlements", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_ENTITLEMENTS},
    {"grants", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_GRANTS},
    {"principals", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_PRINCIPALS},
    {"stats", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_STATS},
    {"syncs", BT_SHOW_CMD_LIST, BT_SHOW_VIEW_SYNCS},
    {"access", BT_SHOW_CMD_ACCESS, 0},
    {"diff", BT_SHOW_CMD_DIFF, 0},
};

static uint64_t env_mib(const char *name, uint64_t fallback)
{
    const char *s = getenv(name);
    char *end = NULL;
    unsigned long long v = s && *s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end || v == 0 || v > UINT64_MAX / MIB)
        return fallback * MIB;
    return (uint64_t)v * MIB;
}

bt_show_limits bt_show_default_limits(void)
{
    bt_show_limits lim = {
        env_mib("BATON_DECODER_MAX_DECODED_SIZE_MB", DEFAULT_MAX_DECODED_MB),
        env_mib("BATON_DECODER_MAX_MEMORY_MB", DEFAULT_MAX_MEMORY_MB),
    };
    return lim;
}

/* ---- parsing --------------------------------------------------------------- */

typedef struct {
    int argc, i;
    char **argv;
    bt_show_opts *o;
    char *err;
    size_t errsz;
    const command_spec *command; /* NULL: none named */
    unsigned flag_views;         /* views named by flags */
    const char *files[MAX_FILES];
    int nfiles;
    const char *output_flag; /* the flag that set the output, for messages */
    int npositional;
} parser;

static int usage_error(parser *p, const char *what, const char *arg)
{
    snprintf(p->err, p->errsz, "%s: %s", what, arg);
    return -1;
}

static const opt_spec *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; i++)
        if (strlen(OPTIONS[i].name) == len && strncmp(OPTIONS[i].name, name, len) == 0)
            return &OPTIONS[i];
    return NULL;
}

static const opt_spec *find_short(char c)
{
    for (size_t i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; i++)
        if (OPTIONS[i].short_name && OPTIONS[i].short_name == c)
            return &OPTIONS[i];
    return NULL;
}

static const command_spec *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

static int add_file(parser *p, const char *path)
{
    if (p->nfiles == MAX_FILES)
        return usage_error(p, "too many files", path);
    p->files[p->nfiles++] = path;
    return 0;
}

static int set_output(parser *p, bt_show_output out, const char *arg)
{
    if (p->output_flag && p->o->output != out) {
        snprintf(p->err, p->errsz, "%s disagrees with %s", arg, p->output_flag);
        return -1;
    }
    p->o->output = out;
    p->output_flag = arg;
    return 0;
}

static int parse_output(parser *p, const char *value, const char *arg)
{
    if (strcmp(value, "table") == 0 || strcmp(value, "console") == 0)
        return set_output(p, BT_SHOW_OUT_TABLE, arg);
    if (strcmp(value, "json") == 0)
        return set_output(p, BT_SHOW_OUT_JSON, arg);
    if (strcmp(value, "csv") == 0)
        return set_output(p, BT_SHOW_OUT_CSV, arg);
    return usage_error(p, "unknown output format (table, json, csv)", value);
}

static int set_value(parser *p, const opt_spec *opt, const char *value)
{
    const char **slot = (const char **)((char *)p->o + opt->field);
    if (*slot && strcmp(*slot, value) != 0) {
        snprintf(p->err, p->errsz, "--%s given twice with different values: %s and %s",
                 opt->name, *slot, value);
        return -1;
    }
    *slot = value;
    return 0;
}

static int take_value(parser *p, const opt_spec *opt, const char *value, const char *arg)
{
    if (!value && p->i + 1 >= p->argc)
        return usage_error(p, "flag needs a value", arg);
    value = value ? value : p->argv[++p->i];
    if (opt->kind == OPT_FILE)
        return add_file(p, value);
    if (opt->kind == OPT_OUTPUT)
        return parse_output(p, value, arg);
    return set_value(p, opt, value);
}

/* value: text after '=' or attached to a short flag, NULL if none. */
static int apply(parser *p, const opt_spec *opt, const char *value, const char *arg)
{
    bool takes_value = opt->kind == OPT_VALUE || opt->kind == OPT_FILE || opt->kind == OPT_OUTPUT;
    if (!takes_value && value)
        return usage_error(p, "flag takes no value", arg);
    if (takes_value)
        return take_value(p, opt, value, arg);
    if (opt->kind == OPT_VIEW)
        p->flag_views |= opt->view;
    else if (opt->kind == OPT_JSON)
        return set_output(p, BT_SHOW_OUT_JSON, arg);
    else
        p->o->help = true;
    return 0;
}

static int parse_long(parser *p, const char *arg)
{
    const char *name = arg + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const opt_spec *opt = find_long(name, len);
    return opt ? apply(p, opt, eq ? eq + 1 : NULL, arg) : usage_error(p, "unknown flag", arg);
}

static int parse_short(parser *p, const char *arg)
{
    const opt_spec *opt = find_short(arg[1]);
    return opt ? apply(p, opt, arg[2] ? arg + 2 : NULL, arg) : usage_error(p, "unknown flag", arg);
}

/* The first positional argument may name the command. */
static int positional(parser *p, const char *arg, bool flags_done)
{
    const command_spec *c = flags_done ? NULL : find_command(arg);
    if (c && p->npositional++ == 0) {
        p->command = c;
        return 0;
    }
    return add_file(p, arg);
}

static int parse_all(parser *p)
{
    bool flags_done = false;
    for (; p->i < p->argc; p->i++) {
        const char *arg = p->argv[p->i];
        int rc;
        if (flags_done || arg[0] != '-' || arg[1] == '\0')
            rc = positional(p, arg, flags_done);
        else if (strcmp(arg, "--") == 0)
            rc = (flags_done = true, 0);
        else if (arg[1] == '-')
            rc = parse_long(p, arg);
        else
            rc = parse_short(p, arg);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- checks once everything is read ------------------------------------------ */

static const char *view_flag_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof OPTIONS / sizeof OPTIONS[0]; i++)
        if (OPTIONS[i].kind == OPT_VIEW && OPTIONS[i].view == bit)
            return OPTIONS[i].name;
    return "?";
}

static int not_with(parser *p, const char *flag, const char *where)
{
    snprintf(p->err, p->errsz, "%s does not apply to %s", flag, where);
    return -1;
}

/* A view flag must agree with the command: `show resources --grants` fails. */
static int check_views(parser *p)
{
    unsigned want = p->command ? p->command->view : p->flag_views;
    unsigned extra = p->flag_views & ~want;
    if (extra) {
        snprintf(p->err, p->errsz, "--%s disagrees with the command %s",
                 view_flag_name(extra & -extra), p->command->name);
        return -1;
    }
    p->o->views = want;
    bool one_view = want && (want & (want - 1)) == 0;
    if (p->o->output == BT_SHOW_OUT_CSV && !one_view)
        return not_with(p, "-o csv", "several views (name one)");
    if ((want & BT_SHOW_VIEW_SYNCS) && want != BT_SHOW_VIEW_SYNCS)
        return not_with(p, "syncs", "other views");
    return 0;
}

static int files_disagree(parser *p)
{
    snprintf(p->err, p->errsz, "two files given: %s and %s", p->files[0], p->files[1]);
    return -1;
}

static int check_files(parser *p)
{
    bt_show_opts *o = p->o;
    if (o->command == BT_SHOW_CMD_DIFF) {
        if (p->nfiles != 2)
            return usage_error(p, "diff needs two files", "OLD NEW");
        o->file = p->files[0];
        o->file2 = p->files[1];
        return 0;
    }
    for (int i = 1; i < p->nfiles; i++)
        if (strcmp(p->files[i], p->files[0]) != 0)
            return files_disagree(p);
    o->file = p->nfiles ? p->files[0] : "sync.c1z";
    return 0;
}


static int check_list_filters(parser *p)
{
    const bt_show_opts *o = p->o;
    bool grants_only = o->views == BT_SHOW_VIEW_GRANTS;
    if (!grants_only && (o->entitlement || o->resource || o->principal))
        return not_with(p, o->entitlement ? "--entitlement" : o->resource ? "--resource"
                                                                         : "--principal",
                        "this view (only grants and access take it)");
    return 0;
}

static int check_access(parser *p)
{
    const bt_show_opts *o = p->o;
    if (!o->principal == !o->resource)
        return usage_error(p, "access needs one of", "--principal TYPE:ID, --resource TYPE:ID");
    if (o->entitlement || o->resource_type)
        return not_with(p, o->entitlement ? "--entitlement" : "--resource-type", "access");
    if (o->output == BT_SHOW_OUT_CSV)
        return not_with(p, "-o csv", "access");
    return 0;
}

static int check_diff(parser *p)
{
    const bt_show_opts *o = p->o;
    if (o->entitlement || o->resource || o->principal || o->resource_type || o->sync_id)
        return not_with(p, "filters and --sync-id", "diff");
    if (o->output == BT_SHOW_OUT_CSV)
        return not_with(p, "-o csv", "diff");
    return 0;
}

/* --resource and --principal name TYPE:ID. */
static int check_ids(parser *p)
{
    const char *const ids[2] = {p->o->resource, p->o->principal};
    for (int i = 0; i < 2; i++) {
        const char *colon = ids[i] ? strchr(ids[i], ':') : NULL;
        if (ids[i] && (!colon || colon == ids[i] || !colon[1]))
            return usage_error(p, "expected TYPE:ID", ids[i]);
    }
    return 0;
}

static int check_args(parser *p)
{
    bt_show_opts *o = p->o;
    o->command = p->command ? p->command->command : BT_SHOW_CMD_LIST;
    if (o->help)
        return 0;
    if (o->command != BT_SHOW_CMD_LIST && p->flag_views)
        return not_with(p, "view flags", p->command->name);
    if (check_files(p) < 0 || check_ids(p) < 0)
        return -1;
    if (o->command == BT_SHOW_CMD_ACCESS)
        return check_access(p);
    if (o->command == BT_SHOW_CMD_DIFF)
        return check_diff(p);
    return check_views(p) < 0 ? -1 : check_list_filters(p);
}

int bt_show_parse_args(int argc, char **argv, bt_show_opts *o, char *err, size_t errsz)
{
    memset(o, 0, sizeof *o);
    o->limits = bt_show_default_limits();
    parser p = {argc, 1, argv, o, err, errsz, NULL, 0, {NULL}, 0, NULL, 0};
    if (parse_all(&p) < 0 || check_args(&p) < 0)
        return -1;
    o->json = o->output == BT_SHOW_OUT_JSON;
    return 0;
}

/* ---- entry points ----------------------------------------------------------- */

int bt_show_main_io(int argc, char **argv, FILE *out, FILE *err)
{
    bt_show_opts o;
    char msg[512];
    if (bt_show_parse_args(argc, argv, &o, msg, sizeof msg) < 0) {
        fputs("show: ", err);
        bt_show_print_display(err, msg);
        fputs("\nRun 'baton-twingate show --help' for usage.\n", err);
        return 2;
    }
    if (o.help) {
        bt_show_usage(out);
        return 0;
    }
    if (o.command == BT_SHOW_CMD_DIFF)
        return bt_show_diff_run(&o, out, err);
    return bt_show_run(&o, out, err);
}

int bt_show_main(int argc, char **argv)
{
    bt_show_install_signal_cleanup();
    return bt_show_main_io(argc, argv, stdout, stderr);
}
