/* --help text in the cobra style baton connectors print, and `help COMMAND`. */
#include "bt/cli.h"

#include <string.h>

typedef struct {
    const char *name, *args, *summary, *detail;
} command_help;

static const command_help commands[] = {
    {"capabilities", "", "Print the connector's capabilities (JSON)",
     "The resource types, their traits and capabilities, and the connector's own\n"
     "capabilities, as the baton CLI prints them. Reads no credential, sends nothing."},
    {"completion", " bash|zsh", "Print a shell completion script: completion bash|zsh",
     "Source the bash script, or put the zsh one in a directory of $fpath as\n"
     "_baton-twingate. It completes commands, flags, and file names after -f/--file."},
    {"config", "", "Print the connector's configuration schema (JSON)",
     "Every field with its display name, type, default, whether it is secret, and the\n"
     "constraints between fields (AT_LEAST_ONE, MUTUALLY_EXCLUSIVE, ...)."},
    {"health-check", "", "Ask a running daemon's health endpoint; exit 0 when healthy",
     "For container probes: GET /health on --health-check-bind-address (0.0.0.0: the\n"
     "loopback) and --health-check-port of a daemon started with --health-check.\n"
     "Exit status 0 healthy; 1 unhealthy or no answer (one error: line says which)."},
    {"help", " [command]", "Print this help, or a command's help", NULL},
    {"report", " FILE [--against OLD] [-o access.html]", "Write a sync file as one HTML access report",
     "One self-contained page (inline CSS and JS, nothing fetched): a summary, users,\n"
     "groups with members, roles, resources with who can reach them and through which\n"
     "group, a search box, and with --against OLD what changed since OLD."},
    {"show", " [FILE]", "Print a sync file: listings, access paths, diffs", NULL},
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static const char *type_word(bt_field_type t)
{
    return t == BT_FIELD_STRING ? "string" : t == BT_FIELD_INT ? "int" : "";
}

static void flag_left(const bt_flag *f, char *left, size_t n)
{
    char shorthand[4] = "   ";
    if (f->short_name)
        snprintf(shorthand, sizeof shorthand, "-%c,", f->short_name);
    snprintf(left, n, "  %s --%s %s", shorthand, f->name, type_word(f->type));
}

/* cobra's layout: the help column starts after the widest flag, so long
 * names never push their line out of step. */
static int left_width(const bt_cli *cli)
{
    int width = (int)strlen("  -v, --version");
    char left[160];
    for (int i = 0; i < cli->flag_count; i++) {
        if (cli->flags[i].hidden)
            continue;
        flag_left(&cli->flags[i], left, sizeof left);
        if ((int)strlen(left) > width)
            width = (int)strlen(left);
    }
    return width + 2;
}

static void print_flag(const bt_flag *f, int width, FILE *out)
{
    char left[160], env[128];
    flag_left(f, left, sizeof left);
    bt_cli_env_name(f->name, env, sizeof env);
    fprintf(out, "%-*s %s%s ($%s)", width, left, f->required ? "required: " : "", f->help, env);
    if (f->default_value && f->type == BT_FIELD_STRING)
        fprintf(out, " (default \"%s\")", f->default_value);
    else if (f->default_value && f->type == BT_FIELD_INT)
        fprintf(out, " (default %s)", f->default_value); /* cobra: ints unquoted */
    fputc('\n', out);
}

static void print_refused(const bt_cli *cli, FILE *out)
{
    fputs("\nbaton-sdk flags not supported by this connector (refused when they ask for something):\n ",
          out);
    size_t col = 1;
    for (int i = 0; bt_cli_sdk_flag_at(i); i++) {
        const char *flag = bt_cli_sdk_flag_at(i)->name;
        if (bt_cli_has_flag(cli, flag))
            continue;
        if (col + strlen(flag) + 3 > 100)
            fputs("\n ", out), col = 1;
        col += (size_t)fprintf(out, " --%s", flag);
    }
    fputc('\n', out);
}

void bt_cli_print_usage(const bt_cli *cli, const bt_contract *c, FILE *out)
{
    const char *name = c && c->name ? c->name : BT_PROGRAM;
    if (c && c->description)
        fprintf(out, "%s\n\n", c->description);
    fprintf(out, "Usage:\n  %s [flags]\n  %s [command]\n\n", name, name);
    fputs("Available Commands:\n", out);
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fputs("\nFlags:\n", out);
    int width = left_width(cli);
    for (int i = 0; i < cli->flag_count; i++)
        if (cli->flags[i].connector && !cli->flags[i].hidden)
            print_flag(&cli->flags[i], width, out);
    for (int i = 0; i < cli->flag_count; i++)
        if (!cli->flags[i].connector && !cli->flags[i].hidden)
            print_flag(&cli->flags[i], width, out);
    fprintf(out, "%-*s %s\n%-*s %s\n", width, "  -h, --help", "help for this command", width,
            "  -v, --version", "version for this command");
    fprintf(out, "\nValues come from flags, then BATON_* variables, then ./.baton.yaml "
                 "(or $BATON_CONFIG_PATH), then defaults.\n");
    fprintf(out, "\nUse \"%s help [command]\" for more information about a command.\n", name);
    print_refused(cli, out);
}

int bt_cli_print_command_help(const bt_cli *cli, const char *command, FILE *out)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        const command_help *h = &commands[i];
        if (strcmp(h->name, command) != 0 || !h->detail)
            continue;
        fprintf(out, "%s\n\n%s\n\nUsage:\n  %s %s%s [flags]\n\n", h->summary, h->detail,
                BT_PROGRAM, h->name, h->args);
        if (strcmp(h->name, "health-check") == 0) {
            int width = left_width(cli);
            fputs("Flags:\n", out);
            for (int f = 0; f < cli->flag_count; f++)
                if (strncmp(cli->flags[f].name, "health-check-", 13) == 0)
                    print_flag(&cli->flags[f], width, out);
        }
        return 0;
    }
    return -1;
}
