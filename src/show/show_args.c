/* The command line of `baton-twingate show` and its entry points. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

#define MIB ((uint64_t)1 << 20)
#define DEFAULT_MAX_DECODED_MB 2048 /* v0.1.7's cap, the smallest of the readers */
#define DEFAULT_MAX_MEMORY_MB 128   /* v0.7.27 and HEAD */

typedef enum { OPT_VIEW, OPT_VALUE, OPT_JSON, OPT_HELP } opt_kind;

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
    {"file", 'f', OPT_VALUE, 0, offsetof(bt_show_opts, file)},
    {"json", 0, OPT_JSON, 0, 0},
    {"help", 'h', OPT_HELP, 0, 0},
};

void bt_show_usage(FILE *f)
{
    fputs("Usage: baton-twingate show [FILE] [flags]\n"
          "\n"
          "Print the contents of a .c1z sync file (format v1, C1ZF) the way the baton\n"
          "CLI does. FILE defaults to sync.c1z. The sync shown is the latest finished\n"
          "full sync (by end time), else the latest unfinished one, else the latest\n"
          "finished one of any type.\n"
          "\n"
          "Views (any combination; default: --stats --resources --entitlements --grants):\n"
          "      --stats                counts: resource_types, resources per type,\n"
          "                             entitlements, grants\n"
          "      --resource-types       ID, Display Name, Traits\n"
          "      --resources            ID, Display Name, Resource Type, Parent Resource\n"
          "      --entitlements         ID, Display Name, Resource Type, Resource, Permission\n"
          "      --grants               ID, Resource Type, Resource, Entitlement, Principal\n"
          "\n"
          "Flags:\n"
          "  -t, --resource-type TYPE   only rows of this resource type id (all views\n"
          "                             but --stats; for grants: the entitlement's type)\n"
          "      --sync-id ID           show this sync instead\n"
          "  -f, --file FILE            the c1z to read (same as the FILE argument)\n"
          "      --json                 JSON instead of tables; one view prints baton's\n"
          "                             shape ({\"resources\":[{\"resource\":...,\n"
          "                             \"resourceType\":...}]}), several views one object\n"
          "                             with \"sync\" and a key per view\n"
          "  -h, --help                 this help\n"
          "\n"
          "With several views, a \"Sync:\" line and a title precede each table.\n"
          "Limits: BATON_DECODER_MAX_DECODED_SIZE_MB (default 2048),\n"
          "BATON_DECODER_MAX_MEMORY_MB (zstd window, default 128). The file is\n"
          "unpacked into $TMPDIR and the copy is removed when done.\n"
          "Exit status: 0 shown, 1 the file could not be read or shown, 2 usage error.\n",
          f);
}

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

/* value: text after '=' or attached to a short flag, NULL if none. */
static int apply(parser *p, const opt_spec *opt, const char *value, const char *arg)
{
    if (opt->kind != OPT_VALUE && value)
        return usage_error(p, "flag takes no value", arg);
    if (opt->kind == OPT_VIEW)
        p->o->views |= opt->view;
    else if (opt->kind == OPT_JSON)
        p->o->json = true;
    else if (opt->kind == OPT_HELP)
        p->o->help = true;
    else {
        if (!value && p->i + 1 >= p->argc)
            return usage_error(p, "flag needs a value", arg);
        *(const char **)((char *)p->o + opt->field) = value ? value : p->argv[++p->i];
    }
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

static int positional(parser *p, const char *arg, bool *have_file)
{
    if (*have_file)
        return usage_error(p, "unexpected argument", arg);
    p->o->file = arg;
    *have_file = true;
    return 0;
}

int bt_show_parse_args(int argc, char **argv, bt_show_opts *o, char *err, size_t errsz)
{
    memset(o, 0, sizeof *o);
    o->limits = bt_show_default_limits();
    parser p = {argc, 1, argv, o, err, errsz};
    bool have_file = false, flags_done = false;
    for (; p.i < argc; p.i++) {
        const char *arg = argv[p.i];
        int rc;
        if (flags_done || arg[0] != '-' || arg[1] == '\0')
            rc = positional(&p, arg, &have_file);
        else if (strcmp(arg, "--") == 0)
            rc = (flags_done = true, 0);
        else if (arg[1] == '-')
            rc = parse_long(&p, arg);
        else
            rc = parse_short(&p, arg);
        if (rc < 0)
            return -1;
    }
    if (!o->file)
        o->file = "sync.c1z";
    return 0;
}

/* ---- entry points ----------------------------------------------------------- */

int bt_show_main_io(int argc, char **argv, FILE *out, FILE *err)
{
    bt_show_opts o;
    char msg[256];
    if (bt_show_parse_args(argc, argv, &o, msg, sizeof msg) < 0) {
        fprintf(err, "show: %s\nRun 'baton-twingate show --help' for usage.\n", msg);
        return 2;
    }
    if (o.help) {
        bt_show_usage(out);
        return 0;
    }
    return bt_show_run(&o, out, err);
}

int bt_show_main(int argc, char **argv)
{
    bt_show_install_signal_cleanup();
    return bt_show_main_io(argc, argv, stdout, stderr);
}
