/* Where a sink really writes. The output path must name a regular file or
 * nothing yet: a rename over a device, FIFO or socket would replace it (as
 * root, `-f /dev/null` replaced the system's /dev/null). A symbolic link is
 * followed to its final target, and the temporary files and the rename go
 * beside that target, so the link itself survives. */
#include "internal.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINK_HOPS 40 /* what the kernel allows (ELOOP) */

#define MUST_BE "the output must be a regular file or not exist yet"

static const char *kind_of(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

int bt_dir_of(const char *path, char *out, size_t outsz)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    const char *d = dirname(tmp);
    return snprintf(out, outsz, "%s", d) >= (int)outsz ? -1 : 0;
}

/* Replace the link at `path` by what it points to; a relative target is
 * relative to the link's directory. */
static int follow_link(char *path, size_t n, char *err, size_t errsz)
{
    char target[PATH_MAX], dir[PATH_MAX];
    ssize_t len = readlink(path, target, sizeof target - 1);
    if (len < 0) {
        bt_sink_errf(err, errsz, "cannot read the symbolic link %s: %s", path, strerror(errno));
        return -1;
    }
    target[len] = '\0';
    int w = target[0] == '/' || bt_dir_of(path, dir, sizeof dir) != 0
                ? snprintf(path, n, "%s", target)
                : snprintf(path, n, "%s/%s", dir, target);
    if (w < 0 || (size_t)w >= n || (size_t)len == sizeof target - 1) {
        bt_sink_errf(err, errsz, "path too long: %s", target);
        return -1;
    }
    return 0;
}

/* Refuse what is there when it is not a regular file; name the link's
 * target when a link led to it. (Callers prefix the path given.) */
static int refuse(const char *given, const char *final, mode_t mode, char *err, size_t errsz)
{
    if (strcmp(given, final) == 0)
        bt_sink_errf(err, errsz, "it is %s; " MUST_BE, kind_of(mode));
    else
        bt_sink_errf(err, errsz, "it is a symbolic link to %s, which is %s; " MUST_BE, final,
                     kind_of(mode));
    return -1;
}

/* In a sticky directory (/tmp) only the owner of a file, the owner of the
 * directory or root may rename over it: find that out now, not at the commit
 * after every request. */
static int check_sticky(const char *final, const char *dir, const struct stat *dst, char *err,
                        size_t errsz)
{
    struct stat st;
    uid_t me = geteuid();
    if (!(dst->st_mode & S_ISVTX) || me == 0 || dst->st_uid == me || lstat(final, &st) != 0 ||
        st.st_uid == me)
        return 0;
    bt_sink_errf(err, errsz, "it belongs to another user and %s is a sticky directory, so it "
                 "cannot be replaced", dir);
    return -1;
}

static int check_dir(const char *final, char *err, size_t errsz)
{
    char dir[PATH_MAX];
    struct stat st;
    if (bt_dir_of(final, dir, sizeof dir) != 0) {
        bt_sink_errf(err, errsz, "path too long: %s", final);
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        bt_sink_errf(err, errsz, "directory %s does not exist", dir);
        return -1;
    }
    return check_sticky(final, dir, &st, err, errsz);
}

int bt_sink_resolve_target(const char *path, char *out, size_t outsz, char *err, size_t errsz)
{
    if (!path || !*path) {
        bt_sink_errf(err, errsz, "no output path");
        return -1;
    }
    if (bt_path_with_suffix(path, "", out, outsz, err, errsz) != 0)
        return -1;
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(out, &st) != 0) {
            if (errno == ENOENT)
                break; /* created at commit; its directory is checked below */
            bt_sink_errf(err, errsz, "cannot check %s: %s", out, strerror(errno));
            return -1;
        }
        if (S_ISREG(st.st_mode))
            break;
        if (!S_ISLNK(st.st_mode))
            return refuse(path, out, st.st_mode, err, errsz);
        if (hops == MAX_LINK_HOPS) {
            bt_sink_errf(err, errsz, "too many levels of symbolic links");
            return -1;
        }
        if (follow_link(out, outsz, err, errsz) != 0)
            return -1;
    }
    return check_dir(out, err, errsz);
}

int bt_sink_check_replaceable(const char *final, char *err, size_t errsz)
{
    struct stat st;
    if (lstat(final, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        bt_sink_errf(err, errsz, "cannot check %s: %s", final, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode))
        return 0;
    bt_sink_errf(err, errsz, "%s became %s during the sync; it was left alone", final,
                 S_ISLNK(st.st_mode) ? "a symbolic link" : kind_of(st.st_mode));
    return -1;
}
