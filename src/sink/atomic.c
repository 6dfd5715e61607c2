#define _GNU_SOURCE /* mkostemp */
/* Temporary files beside the target (unique names, each held under an flock
 * while it exists), atomic publication (fsync, rename, fsync the directory),
 * and what SIGINT/SIGTERM/SIGHUP do: remove the temporary files, print the
 * one error line, die of the signal. */
#include "internal.h"
#include "bt/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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

/* Lock the new temporary file so that a stale-file cleanup by another run
 * leaves it alone (stale.c). That cleanup may have removed or locked the name
 * between mkostemp and the lock: then the name no longer refers to our file,
 * and another name is taken. A file system without flock gets no lock (and
 * its temporary files are then never taken for stale). */
static bool claim(int fd, const char *name)
{
    if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        return errno != EWOULDBLOCK;
    struct stat ours, named;
    return fstat(fd, &ours) == 0 && lstat(name, &named) == 0 && ours.st_ino == named.st_ino &&
           ours.st_dev == named.st_dev;
}

int bt_make_temp_beside(const char *path, const char *suffix, char *name, size_t namesz,
                        char *err, size_t errsz)
{
    char sfx[64];
    snprintf(sfx, sizeof sfx, "%sXXXXXX", suffix);
    for (int attempt = 0; attempt < 8; attempt++) {
        if (bt_path_with_suffix(path, sfx, name, namesz, err, errsz) != 0)
            return -1;
        int fd = mkostemp(name, O_CLOEXEC);
        if (fd < 0) {
            bt_sink_errf(err, errsz, "cannot create a temporary file beside %s: %s", path,
                         strerror(errno));
            return -1;
        }
        if (claim(fd, name))
            return fd;
        close(fd);
    }
    bt_sink_errf(err, errsz, "cannot create a temporary file beside %s: the names keep vanishing",
                 path);
    return -1;
}

/* The mode for the file that replaces path: a regular file there keeps its
 * permission bits and, where we may set it, its group (a group we cannot
 * give the new file loses its group bits: never wider than before); a new
 * file is 0600, since it holds a directory of people. */
static mode_t replacement_mode(int fd, const char *path)
{
    struct stat old;
    if (stat(path, &old) != 0 || !S_ISREG(old.st_mode))
        return 0600;
    mode_t mode = old.st_mode & 0777;
    if (old.st_gid != getegid() && fchown(fd, (uid_t)-1, old.st_gid) != 0)
        mode &= ~(mode_t)070;
    return mode;
}

int bt_make_output_temp(const char *path, char *name, size_t namesz, char *err, size_t errsz)
{
    int fd = bt_make_temp_beside(path, BT_TEMP_OUT, name, namesz, err, errsz);
    if (fd < 0)
        return -1;
    if (fchmod(fd, replacement_mode(fd, path)) != 0) {
        bt_sink_errf(err, errsz, "cannot set the mode of %s: %s", name, strerror(errno));
        close(fd);
        unlink(name);
        return -1;
    }
    return fd;
}

/* Make the rename durable. Best effort: the rename already happened and the
 * file is complete, so a directory that cannot be synced is not a failure. */
static void fsync_dir(const char *path)
{
    char dir[PATH_MAX];
    if (bt_dir_of(path, dir, sizeof dir) != 0)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

/* Set once an output is published, so that a signal after that does not
 * claim the file is unchanged. */
static volatile sig_atomic_t published;

/* The file is renamed while its descriptor, and with it the lock, is still
 * held: otherwise another run's stale-file cleanup could take it between the
 * close and the rename. */
int bt_atomic_publish(int fd, const char *tmp, const char *path, char *err, size_t errsz)
{
    int rc = 0;
    if (fsync(fd) != 0) {
        bt_sink_errf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    /* Checked at open too; this narrows the window in which something else
     * put there would be replaced. */
    if (rc == 0)
        rc = bt_sink_check_replaceable(path, err, errsz);
    if (rc == 0 && rename(tmp, path) != 0) {
        bt_sink_errf(err, errsz, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        rc = -1;
    }
    close(fd); /* after fsync, a close error loses nothing */
    if (rc == 0) {
        published = 1;
        fsync_dir(path);
    }
    return rc;
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

/* ------------------------------------------------------------------------
 * The one error line of an interrupted run, built without stdio (only
 * async-signal-safe calls in the handler) and written with write(2). */

static char note_path[PATH_MAX];
static volatile sig_atomic_t note_set, note_existed;
static char note_text[256]; /* bt_sink_note_interruption: said instead of a path */
static volatile sig_atomic_t note_text_set, note_quiet;

void bt_sink_quiet_interruption(void)
{
    note_quiet = 1;
}

void bt_sink_note_interruption(const char *text)
{
    note_text_set = 0;
    if (!text || strlen(text) >= sizeof note_text)
        return;
    memcpy(note_text, text, strlen(text) + 1);
    note_text_set = 1;
}

void bt_sink_note_output(const char *path)
{
    struct stat st;
    note_set = 0;
    if (!path || strlen(path) >= sizeof note_path)
        return;
    memcpy(note_path, path, strlen(path) + 1);
    note_existed = lstat(path, &st) == 0;
    published = 0;
    note_set = 1;
}

static size_t append(char *buf, size_t used, size_t room, const char *s)
{
    while (*s && used < room)
        buf[used++] = *s++;
    return used;
}

static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGTERM: return "SIGTERM";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
    }
}

/* "; FILE unchanged" (or was already written, or not written): what became
 * of the output file, for a line written from a signal handler. */
static size_t append_file_note(char *line, size_t n, size_t room)
{
    n = append(line, n, room, "; ");
    n = append(line, n, room, note_path);
    return append(line, n, room, published      ? " was already written"
                                 : note_existed ? " unchanged"
                                                : " not written");
}

static void say_interrupted(int sig)
{
    if (note_quiet)
        return;
    char line[PATH_MAX + 96];
    size_t room = sizeof line - 1, n = 0; /* room for the newline */
    n = append(line, n, room, "error: interrupted by ");
    n = append(line, n, room, signal_name(sig));
    if (note_set) {
        n = append_file_note(line, n, room);
    } else if (note_text_set) {
        n = append(line, n, room, "; ");
        n = append(line, n, room, note_text);
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w; /* nothing more can be done about a failed write here */
}

static void remove_registered(void)
{
    for (int i = 0; i < CLEANUP_SLOTS; i++)
        if (cleanup_used[i])
            unlink(cleanup_paths[i]);
}

static void (*stop_hook)(const char *reason);

void bt_sink_set_stop_hook(void (*fn)(const char *reason)) { stop_hook = fn; }

void bt_sink_stop_now(const char *reason, int status)
{
    remove_registered();
    if (stop_hook)
        stop_hook(reason);
    char line[PATH_MAX + 512];
    size_t room = sizeof line - 1, n = 0;
    n = append(line, n, room, "error: ");
    n = append(line, n, room, reason);
    if (note_set)
        n = append_file_note(line, n, room);
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    (void)w;
    _exit(status);
}

static void on_fatal_signal(int sig)
{
    remove_registered();
    say_interrupted(sig);
    struct sigaction dfl = bt_sig_action(SIG_DFL, 0);
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
    struct sigaction sa = bt_sig_action(on_fatal_signal, 0);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        /* An ignored signal stays ignored: nohup's SIGHUP, and the SIGINT a
         * service-mode task leaves to its daemon. */
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(sigs[i], &sa, NULL);
    }
    cleanup_installed = 1;
}
