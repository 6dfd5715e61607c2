/* Opening a file a user named (config, key file): never blocks on a FIFO or
 * a device, and reads only regular files. */
#ifndef BT_FILES_H
#define BT_FILES_H
#include <sys/stat.h>

/* A read-only descriptor of the regular file at path (symlinks followed),
 * blocking reads restored; st receives its stat. -1 with errno when it cannot
 * be opened; -2 when it is not a regular file (st says what it is). */
int bt_open_regular(const char *path, struct stat *st);

#endif
