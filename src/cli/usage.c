/* --help text in the cobra style baton connectors print. */
#include "bt/cli.h"

#include <string.h>

static const char *type_word(bt_field_type t)
{
    return t == BT_FIELD_STRING ? "string" : t == BT_FIELD_INT ? "int" : "";
}

static void print_flag(const bt_flag *f, FILE *out)
{
    char left[96], shorthand[4] = "   ", env[128];
    if (f->short_name)
        snprintf(shorthand, sizeof shorthand, "-%c,", f->short_name);
    snprintf(left, sizeof left, "  %s --%s %s", shorthand, f->name, type_word(f->type));
    bt_cli_env_name(f->name, env, sizeof env);
    fprintf(out, "%-38s %s%s ($%s)", left, f->required ? "required: " : "", f->help, env);
    if (f->default_value && f->type != BT_FIELD_BOOL)
        fprintf(out, " (default \"%s\")", f->default_value);
    fputc('\n', out);
}

void bt_cli_print_usage(const bt_cli *cli, const bt_contract *c, FILE *out)
{
    const char *name = c && c->name ? c->name : BT_PROGRAM;
    if (c && c->description)
        fprintf(out, "%s\n\n", c->description);
    fprintf(out, "Usage:\n  %s [flags]\n  %s [command]\n\n", name, name);
    fputs("Available Commands:\n"
          "  capabilities  Print the connector's capabilities (JSON)\n"
          "  completion    Print a shell completion script: completion bash|zsh\n"
          "  config        Print the connector's configuration schema (JSON)\n"
          "  help          Print this help\n"
          "  report        Write a sync file as one HTML access report\n"
          "  show          Print a sync file: listings, access paths, diffs\n\n",
          out);
    fputs("Flags:\n", out);
    for (int i = 0; i < cli->flag_count; i++)
        if (cli->flags[i].connector && !cli->flags[i].hidden)
            print_flag(&cli->flags[i], out);
    for (int i = 0; i < cli->flag_count; i++)
        if (!cli->flags[i].connector && !cli->flags[i].hidden)
            print_flag(&cli->flags[i], out);
    fprintf(out, "%-38s %s\n%-38s %s\n", "  -h, --help", "help for this command",
            "  -v, --version", "version for this command");
    fprintf(out, "\nValues come from flags, then BATON_* variables, then ./.baton.yaml "
                 "(or $BATON_CONFIG_PATH), then defaults.\n");
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
