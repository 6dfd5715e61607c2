/* The output path is never a file this run reads or writes otherwise: a key
 * file (any --<name>-file), the config file, the CA bundle (SSL_CERT_FILE),
 * the log file. Replacing one of them with the c1z would destroy it. */
#include "bt/driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool same_file(const struct stat *a, const char *path)
{
    struct stat b;
    return path && *path && stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

static bool is_file_flag(const char *name)
{
    size_t n = strlen(name);
    return (n > 5 && strcmp(name + n - 5, "-file") == 0) || strcmp(name, "log-path") == 0;
}

int bt_driver_check_output(const bt_cli *cli, const char *path, char *err, size_t errsz)
{
    struct stat out;
    if (!path || stat(path, &out) != 0)
        return 0; /* nothing there yet: it cannot be one of the inputs */
    for (int i = 0; i < cli->flag_count; i++) {
        const char *name = cli->flags[i].name;
        if (i == BT_FLAG_FILE || !is_file_flag(name) || !same_file(&out, cli->values[i]))
            continue;
        snprintf(err, errsz, "-f %.1000s is the same file as --%s; writing the sync there would "
                 "destroy it: choose another output path", path, name);
        return -1;
    }
    const char *config = getenv("BATON_CONFIG_PATH");
    const char *other = same_file(&out, config && *config ? config : ".baton.yaml")
                            ? "the config file"
                        : same_file(&out, getenv("SSL_CERT_FILE")) ? "SSL_CERT_FILE"
                                                                   : NULL;
    if (other) {
        snprintf(err, errsz, "-f %.1000s is the same file as %s; writing the sync there would "
                 "destroy it: choose another output path", path, other);
        return -1;
    }
    return 0;
}
