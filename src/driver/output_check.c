/* The output path is never a file this run reads or writes otherwise: a key
 * file (any --<name>-file), the config file, the CA bundle (SSL_CERT_FILE),
 * the log file. Replacing one of them with the c1z would destroy it. */
#include "bt/driver.h"
#include "bt/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_file_flag(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, "-file") == 0) || strcmp(name, "log-path") == 0;
}

int bt_driver_check_output(const bt_cli *cli, const char *path, char *err, size_t errsz)
{
    for (int i = 0; i < cli->flag_count; i++) {
        const char *name = cli->flags[i].name;
        if (i == BT_FLAG_FILE || !is_file_flag(name) || !bt_same_file(path, cli->values[i]))
            continue;
        snprintf(err, errsz, "-f %.1000s is the same file as --%s; writing the sync there would "
                 "destroy it: choose another output path", path, name);
        return -1;
    }
    const char *config = getenv("BATON_CONFIG_PATH");
    const char *other = bt_same_file(path, config && *config ? config : ".baton.yaml")
                            ? "the config file"
                        : bt_same_file(path, getenv("SSL_CERT_FILE")) ? "SSL_CERT_FILE"
                                                                   : NULL;
    if (other) {
        snprintf(err, errsz, "-f %.1000s is the same file as %s; writing the sync there would "
                 "destroy it: choose another output path", path, other);
        return -1;
    }
    return 0;
}
