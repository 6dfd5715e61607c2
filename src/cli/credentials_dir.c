/* systemd's LoadCredential=: the unit hands the secrets over as files in
 * $CREDENTIALS_DIRECTORY (a private, read-only directory systemd fills at
 * start), so they are neither in the environment nor on the command line.
 * A flag, a BATON_* variable, a --<name>-file or the config file beats them. */
#include "bt/cli.h"
#include "bt/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The flags a credential may fill: service mode's two and every secret field. */
static bool credential_flag(const bt_cli *cli, int i)
{
    const char *name = cli->flags[i].name;
    return cli->flags[i].secret || strcmp(name, "client-id") == 0;
}

/* The --<name>-file twin of flag i is given. */
static bool twin_given(const bt_cli *cli, int i)
{
    for (int t = 0; t < cli->flag_count; t++)
        if (cli->file_of[t] == i + 1 && bt_cli_is_set_named(cli, cli->flags[t].name))
            return true;
    return false;
}

/* The credential file for name: <dir>/<name>, else <dir>/baton-twingate_<name>
 * (LoadCredential=baton-twingate:<directory> names each file so). */
static bool find_file(const char *dir, const char *name, char *path, size_t n)
{
    struct stat st;
    snprintf(path, n, "%s/%s", dir, name);
    if (lstat(path, &st) == 0)
        return true;
    snprintf(path, n, "%s/%s_%s", dir, BT_PROGRAM, name);
    return lstat(path, &st) == 0;
}

int bt_cli_load_credentials(bt_cli *cli, char *err, size_t errsz)
{
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (!dir || !*dir)
        return 0;
    for (int i = 0; i < cli->flag_count; i++) {
        const char *name = cli->flags[i].name;
        char path[4096];
        if (!credential_flag(cli, i) || bt_cli_is_set_named(cli, name) || twin_given(cli, i) ||
            !find_file(dir, name, path, sizeof path))
            continue;
        char *value, flag[160];
        snprintf(flag, sizeof flag, "%s (credential)", name);
        if (bt_cli_read_secret_file(flag, path, &value, err, errsz) != 0)
            return -1;
        int rc = bt_cli_set_fallback(cli, name, value);
        bt_secret_free(value);
        if (rc != 0) {
            snprintf(err, errsz, "out of memory");
            return -1;
        }
    }
    return 0;
}
