/* Opening a file a user named (config, key file): never blocks on a FIFO or
 * a device, and reads only regular files. */
#ifndef BT_FILES_H
#define BT_FILES_H
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* A read-only descriptor of the regular file at path (symlinks followed),
 * blocking reads restored; st receives its stat. -1 with errno when it cannot
 * be opened; -2 when it is not a regular file (st says what it is). */
int bt_open_regular(const char *path, struct stat *st);

/* Writes all n bytes at p to fd, again after EINTR and short writes. 0, or -1
 * with errno (EIO when write made no progress). Safe in a signal handler. */
int bt_write_all(int fd, const void *p, size_t n);

/* Whether both paths exist and name the same file (links followed). */
bool bt_same_file(const char *a, const char *b);

#endif
