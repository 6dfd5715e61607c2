/* Core dumps off: the process holds the API key, and a core file (or a
 * debugger attached by another process of the same user) would carry it. */
#include "bt/harden.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

bool bt_harden_core_dumps_allowed(void)
{
    const char *v = getenv(BT_ALLOW_CORE_DUMPS_ENV);
    return v && strcmp(v, "1") == 0;
}

int bt_harden_core_dumps(bool allow)
{
    if (allow)
        return 0;
    struct rlimit none = {0, 0};
    int rc = setrlimit(RLIMIT_CORE, &none);
    if (prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) != 0)
        rc = -1;
    return rc;
}
