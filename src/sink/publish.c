/* A file that is not a sync (the HTML report) published the way the sinks
 * publish theirs: the same output-path rules (a regular file or nothing; a
 * symbolic link written through; a device, FIFO, socket or directory
 * refused), a unique locked temporary file beside the target (never a fixed
 * name another user could plant a link at), the replaced file's mode or 0600,
 * fsync and rename, and removal on a signal. */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

/* write_fn's output through a FILE* on a copy of fd; 0, or -1 with err. */
static int fill(int fd, const char *tmp, int (*write_fn)(FILE *f, void *ud), void *ud, char *err,
                size_t errsz)
{
    int copy = dup(fd);
    FILE *f = copy >= 0 ? fdopen(copy, "wb") : NULL;
    if (!f) {
        bt_sink_errf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        if (copy >= 0)
            close(copy);
        return -1;
    }
    int rc = write_fn(f, ud);
    bool failed = ferror(f) != 0;
    if (fclose(f) != 0)
        failed = true;
    if (rc == 0 && failed) {
        bt_sink_errf(err, errsz, "cannot write %s: %s", tmp, strerror(errno));
        rc = -1;
    }
    return rc;
}

int bt_sink_publish_stream(const char *path, int (*write_fn)(FILE *f, void *ud), void *ud,
                           char *err, size_t errsz)
{
    char final[PATH_MAX], tmp[PATH_MAX];
    if (bt_sink_resolve_target(path, final, sizeof final, err, errsz) != 0)
        return -1;
    int fd = bt_make_output_temp(final, tmp, sizeof tmp, err, errsz);
    if (fd < 0)
        return -1;
    int slot = bt_cleanup_register(tmp);
    int rc = fill(fd, tmp, write_fn, ud, err, errsz);
    if (rc == 0)
        rc = bt_atomic_publish(fd, tmp, final, err, errsz); /* closes fd */
    else
        close(fd);
    if (rc == 0)
        bt_cleanup_unregister(slot);
    else
        bt_cleanup_remove(tmp, &slot);
    return rc;
}
