/* bt_errf: the one "format the reason, return -1" helper. */
#include "bt/errf.h"

#include <stdarg.h>
#include <stdio.h>

int bt_errf(char *err, size_t errsz, const char *fmt, ...)
{
    if (!err || errsz == 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -1;
}
