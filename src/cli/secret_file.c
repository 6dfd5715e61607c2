/* --<name>-file: a secret read from a file instead of the command line, where
 * every local user could see it in the process list. The file must be a
 * regular file that neither group nor others may read or write. */
#include "bt/cli.h"
#include "bt/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(char *err, size_t errsz, const char *flag, const char *path, const char *why)
{
    snprintf(err, errsz, "--%s \"%.300s\": %s", flag, path, why);
    return -1;
}

/* The open file's type and mode; 0 or -1 with err filled. */
static int check_mode(const struct stat *st, const char *flag, const char *path, char *err,
                      size_t errsz)
{
    if (st->st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH))
        return fail(err, errsz, flag, path,
                    "group or others may read or write it (chmod 600 or 400 it)");
    return 0;
}

/* Up to BT_CLI_SECRET_FILE_MAX bytes into buf (size BT_CLI_SECRET_FILE_MAX + 1),
 * NUL-terminated; the length, or -1 with err filled. */
static ssize_t read_all(int fd, char *buf, const char *flag, const char *path, char *err,
                        size_t errsz)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, BT_CLI_SECRET_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail(err, errsz, flag, path, strerror(errno));
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > BT_CLI_SECRET_FILE_MAX)
            return fail(err, errsz, flag, path, "is larger than 64 KiB");
    }
    buf[len] = '\0';
    return (ssize_t)len;
}

/* The trailing line break(s) an editor or `echo` adds are not part of it. */
static int trim_and_check(char *buf, size_t len, const char *flag, const char *path, char *err,
                          size_t errsz)
{
    if (memchr(buf, '\0', len))
        return fail(err, errsz, flag, path, "holds a NUL byte");
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    if (len == 0)
        return fail(err, errsz, flag, path, "is empty");
    return 0;
}

int bt_cli_read_secret_file(const char *flag, const char *path, char **out, char *err,
                            size_t errsz)
{
    *out = NULL;
    struct stat st;
    int fd = bt_open_regular(path, &st);
    if (fd < 0)
        return fail(err, errsz, flag, path, fd == -2 ? "is not a regular file" : strerror(errno));
    char *buf = malloc(BT_CLI_SECRET_FILE_MAX + 1);
    ssize_t len;
    int rc = -1;
    if (!buf)
        fail(err, errsz, flag, path, "out of memory");
    else if (check_mode(&st, flag, path, err, errsz) == 0 &&
             (len = read_all(fd, buf, flag, path, err, errsz)) >= 0 &&
             trim_and_check(buf, (size_t)len, flag, path, err, errsz) == 0) {
        *out = strdup(buf);
        rc = *out ? 0 : fail(err, errsz, flag, path, "out of memory");
    }
    close(fd);
    if (buf) {
        explicit_bzero(buf, BT_CLI_SECRET_FILE_MAX + 1);
        free(buf);
    }
    return rc;
}
