/* Temporary files a crashed run left beside the target: "<name>.tmp-db-XXXXXX"
 * with its "-journal", and "<name>.tmp-out-XXXXXX" (XXXXXX as mkostemp makes
 * it). A live run holds an flock on each of its temporary files for as long as
 * the file exists (atomic.c), so a file this process can lock belongs to no
 * live run and is removed; one it cannot lock is left alone. Only this
 * target's names are touched, and no other pattern (an older version's fixed
 * "<name>.tmp" stays: no lock can tell whether it is in use). */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define TAG_LEN 6 /* mkostemp's XXXXXX */
#define JOURNAL "-journal"

typedef enum { NOT_OURS, STALE_DB, STALE_JOURNAL, STALE_OUT } leftover;

/* Six letters or digits, then `rest`. */
static bool tag_then(const char *s, const char *rest)
{
    for (int i = 0; i < TAG_LEN; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return strcmp(s + TAG_LEN, rest) == 0;
}

static leftover classify(const char *entry, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(entry, base, n) != 0)
        return NOT_OURS;
    const char *rest = entry + n;
    if (strncmp(rest, BT_TEMP_DB, strlen(BT_TEMP_DB)) == 0) {
        rest += strlen(BT_TEMP_DB);
        return tag_then(rest, "") ? STALE_DB : tag_then(rest, JOURNAL) ? STALE_JOURNAL : NOT_OURS;
    }
    if (strncmp(rest, BT_TEMP_OUT, strlen(BT_TEMP_OUT)) == 0)
        return tag_then(rest + strlen(BT_TEMP_OUT), "") ? STALE_OUT : NOT_OURS;
    return NOT_OURS;
}

/* An fd holding the lock on `path` when no live run holds it and the name
 * still refers to the file locked; -1 otherwise. */
static int lock_if_unused(const char *path)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat locked, named;
    if (fstat(fd, &locked) != 0 || !S_ISREG(locked.st_mode) ||
        flock(fd, LOCK_EX | LOCK_NB) != 0 || lstat(path, &named) != 0 ||
        locked.st_ino != named.st_ino || locked.st_dev != named.st_dev) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Remove one leftover; 1 for each file removed. */
static int remove_leftover(const char *path, leftover kind)
{
    char other[PATH_MAX];
    struct stat st;
    if (kind == STALE_JOURNAL) {
        /* A live run's journal always has its database beside it, which
         * that run holds locked; only an orphaned journal goes here. */
        size_t n = strlen(path) - strlen(JOURNAL);
        snprintf(other, sizeof other, "%.*s", (int)n, path);
        return lstat(other, &st) != 0 && errno == ENOENT && unlink(path) == 0;
    }
    int fd = lock_if_unused(path);
    if (fd < 0)
        return 0;
    int removed = 0;
    if (kind == STALE_DB && snprintf(other, sizeof other, "%s" JOURNAL, path) < (int)sizeof other)
        removed += unlink(other) == 0;
    removed += unlink(path) == 0;
    close(fd);
    return removed;
}

int bt_sink_remove_stale_temps(const char *final)
{
    char dir[PATH_MAX], path[PATH_MAX];
    if (bt_dir_of(final, dir, sizeof dir) != 0)
        return 0;
    const char *slash = strrchr(final, '/');
    const char *base = slash ? slash + 1 : final;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        leftover kind = classify(e->d_name, base);
        if (kind != NOT_OURS &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            removed += remove_leftover(path, kind);
    }
    closedir(d);
    return removed;
}
