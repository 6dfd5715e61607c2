/* One place that prints failures: one line on stderr, the traceback at debug. */
#include "bt/driver.h"
#include "bt/log.h"

#include <stdio.h>

void bt_driver_report(const char *what, const bt_host_error *err)
{
    char clean[sizeof err->message];
    bt_log_redact(err->message, clean, sizeof clean);
    fprintf(stderr, "error: %s: %s\n", what, clean);
    if (err->traceback[0])
        bt_debug("%s", err->traceback);
}
