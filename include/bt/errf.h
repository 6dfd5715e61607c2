/* An error message into a caller's buffer, for functions that report
 * failure as -1 plus text. */
#ifndef BT_ERRF_H
#define BT_ERRF_H
#include <stddef.h>

/* Formats into err (when err and errsz allow) and returns -1. */
int bt_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
