#define _GNU_SOURCE /* mkostemp */
/* Temporary files beside the target, atomic publication (fsync, rename,
 * fsync the directory) and the signal-time cleanup of temporary files. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void bt_sink_errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

int bt_path_with_suffix(const char *path, const char *suffix, char *out, size_t outsz,
                        char *err, size_t errsz)
{
    int n = snprintf(out, outsz, "%s%s", path, suffix);
    if (n < 0 || (size_t)n >= outsz) {
        bt_sink_errf(err, errsz, "path too long: %s", path);
        return -1;
    }
    return 0;
}

/* The directory part of path ("." when none), into out. */
static int dir_of(const char *path, char *out, size_t outsz)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    const char *d = dirname(tmp);
    return snprintf(out, outsz, "%s", d) >= (int)outsz ? -1 : 0;
}

int bt_sink_check_target(const char *path, char *err, size_t errsz)
{
    struct stat st;
    if (!path || !*path) {
        bt_sink_errf(err, errsz, "no output path");
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        bt_sink_errf(err, errsz, "%s is a directory", path);
        return -1;
    }
    char dir[PATH_MAX];
    if (dir_of(path, dir, sizeof dir) != 0) {
        bt_sink_errf(err, errsz, "path too long: %s", path);
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        bt_sink_errf(err, errsz, "directory %s does not exist", dir);
        return -1;
    }
    return 0;
}

int bt_make_temp_beside(const char *path, const char *suffix, char *name, size_t namesz,
                        char *err, size_t errsz)
{
    char sfx[64];
    snprintf(sfx, sizeof sfx, "%sXXXXXX", suffix);
    if (bt_path_with_suffix(path, sfx, name, namesz, err, errsz) != 0)
        return -1;
    int fd = mkostemp(name, O_CLOEXEC);
    if (fd < 0) {
        bt_sink_errf(err, errsz, "cannot create a temporary file beside %s: %s", path,
                     strerror(errno));
        return -1;
    }
    return fd;
}

int bt_open_tmp_output(const char *tmp, char *err, size_t errsz)
{
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0)
        bt_sink_errf(err, errsz, "cannot create %s: %s", tmp, strerror(errno));
    return fd;
}

/* Make the rename durable. Best effort: the rename already happened and the
 * file is complete, so a directory that cannot be synced is not a failure. */
static void fsync_dir(const char *path)
{
    char dir[PATH_MAX];
    if (dir_of(path, dir, sizeof dir) != 0)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

int bt_atomic_publish(int fd, const char *tmp, const char *path, char *err, size_t errsz)
{
    if (fsync(fd) != 0) {
        bt_sink_errf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        close(fd);
        return -1;
    }
    if (close(fd) != 0) {
        bt_sink_errf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        return -1;
    }
    if (rename(tmp, path) != 0) {
        bt_sink_errf(err, errsz, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        return -1;
    }
    fsync_dir(path);
    return 0;
}

/* ------------------------------------------------------------------------
 * Signal cleanup. The handler may run at any point of the main thread, so a
 * slot's path is written before the slot is marked used, and the mark is
 * cleared before the path is touched again. */

#define CLEANUP_SLOTS 32

static char cleanup_paths[CLEANUP_SLOTS][PATH_MAX];
static volatile sig_atomic_t cleanup_used[CLEANUP_SLOTS];
static volatile sig_atomic_t cleanup_installed;

int bt_cleanup_register(const char *path)
{
    if (strlen(path) >= PATH_MAX)
        return -1;
    for (int i = 0; i < CLEANUP_SLOTS; i++) {
        if (cleanup_used[i])
            continue;
        memcpy(cleanup_paths[i], path, strlen(path) + 1);
        cleanup_used[i] = 1;
        return i;
    }
    return -1;
}

void bt_cleanup_unregister(int slot)
{
    if (slot >= 0 && slot < CLEANUP_SLOTS)
        cleanup_used[slot] = 0;
}

void bt_cleanup_remove(const char *path, int *slot)
{
    if (path && *path)
        unlink(path);
    if (slot) {
        bt_cleanup_unregister(*slot);
        *slot = -1;
    }
}

static void on_fatal_signal(int sig)
{
    for (int i = 0; i < CLEANUP_SLOTS; i++)
        if (cleanup_used[i])
            unlink(cleanup_paths[i]);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL); /* the handler runs with sig blocked */
    raise(sig);
    _exit(128 + sig); /* not reached unless the signal is blocked */
}

void bt_sink_install_signal_cleanup(void)
{
    if (cleanup_installed)
        return;
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
    cleanup_installed = 1;
}
