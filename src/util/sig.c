/* Signal dispositions (bt/sig.h). */
#include "bt/sig.h"

#include <string.h>

struct sigaction bt_sig_action(void (*handler)(int), int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    return sa;
}
