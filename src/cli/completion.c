/* `completion bash|zsh`: a shell completion script generated from the same
 * flag table that parses the command line, so the two cannot drift apart. */
#include "bt/cli.h"

#include <string.h>

static const char *const subcommands =
    "capabilities config show help completion health-check report";

/* `show`'s own words: its views and flags, and the subcommands of show. */
static const char *const show_words =
    "resources entitlements grants principals stats syncs access diff "
    "--stats --resource-types --resources --entitlements --grants --resource-type -t "
    "--sync-id --file -f --json --help";

static void print_flag_words(const bt_cli *cli, FILE *out)
{
    for (int i = 0; i < cli->flag_count; i++) {
        if (cli->flags[i].hidden)
            continue;
        fprintf(out, " --%s", cli->flags[i].name);
        if (cli->flags[i].short_name)
            fprintf(out, " -%c", cli->flags[i].short_name);
    }
    fputs(" --help --version", out);
}

/* Flags that take a file path complete file names. */
static bool takes_path(const bt_flag *f)
{
    return strcmp(f->name, "file") == 0 || strcmp(f->name, "log-path") == 0 ||
           strcmp(f->name, "scripts-dir") == 0 || strstr(f->name, "-file") != NULL ||
           strstr(f->name, "-dir") != NULL;
}

static void print_bash(const bt_cli *cli, const char *prog, FILE *out)
{
    fprintf(out, "# bash completion for %s (source it, or put it in "
                 "/etc/bash_completion.d/%s)\n", prog, prog);
    fprintf(out, "_%s_complete() {\n  local cur=${COMP_WORDS[COMP_CWORD]} "
                 "prev=${COMP_WORDS[COMP_CWORD-1]}\n", "baton_connector");
    /* bash splits --file=x at the = (COMP_WORDBREAKS): prev is then "=". */
    fputs("  if [ \"$prev\" = \"=\" ] && [ \"$COMP_CWORD\" -ge 2 ]; then\n"
          "    prev=${COMP_WORDS[COMP_CWORD-2]}\n  fi\n  case \"$prev\" in\n    -f", out);
    for (int i = 0; i < cli->flag_count; i++)
        if (!cli->flags[i].hidden && takes_path(&cli->flags[i]))
            fprintf(out, "|--%s", cli->flags[i].name);
    fputs(") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n  esac\n", out);
    fprintf(out, "  if [ \"${COMP_WORDS[1]}\" = show ] && [ \"$COMP_CWORD\" -ge 2 ]; then\n"
                 "    COMPREPLY=($(compgen -W \"%s\" -- \"$cur\") $(compgen -f -- \"$cur\"))\n"
                 "    return\n  fi\n", show_words);
    fprintf(out, "  COMPREPLY=($(compgen -W \"%s", subcommands);
    print_flag_words(cli, out);
    fprintf(out, "\" -- \"$cur\"))\n}\ncomplete -F _%s_complete %s\n", "baton_connector", prog);
}

static void print_zsh(const bt_cli *cli, const char *prog, FILE *out)
{
    fprintf(out, "#compdef %s\n# zsh completion for %s (put it in a directory of $fpath as _%s)\n",
            prog, prog, prog);
    fprintf(out, "_arguments \\\n");
    for (int i = 0; i < cli->flag_count; i++) {
        const bt_flag *f = &cli->flags[i];
        if (f->hidden)
            continue;
        char help[160];
        size_t n = 0;
        for (const char *h = f->help; *h && n + 2 < sizeof help; h++)
            if (*h != '[' && *h != ']' && *h != '\'' && *h != ':')
                help[n++] = *h;
        help[n] = '\0';
        const char *arg = f->type == BT_FIELD_BOOL ? "" : takes_path(f) ? ":path:_files" : ":value:";
        /* "--name=": the value as the next word or after "=" (--file=x). */
        const char *eq = f->type == BT_FIELD_BOOL ? "" : "=";
        if (f->short_name)
            fprintf(out, "  '(-%c --%s)'{-%c,--%s%s}'[%s]%s' \\\n", f->short_name, f->name,
                    f->short_name, f->name, eq, help, arg);
        else
            fprintf(out, "  '--%s%s[%s]%s' \\\n", f->name, eq, help, arg);
    }
    fprintf(out, "  '1:command:(%s)' \\\n", subcommands);
    fprintf(out, "  '*::show argument:->rest'\n"
                 "[[ $state == rest && ${words[1]} == show ]] && "
                 "_alternative 'words:show:(%s)' 'files:file:_files'\n", show_words);
}

int bt_cli_print_completion(const bt_cli *cli, const char *shell, const char *prog, FILE *out)
{
    if (shell && strcmp(shell, "bash") == 0)
        print_bash(cli, prog, out);
    else if (shell && strcmp(shell, "zsh") == 0)
        print_zsh(cli, prog, out);
    else
        return -1;
    return 0;
}
