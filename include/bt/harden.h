/* Process hardening done once at start, before any secret is read. */
#ifndef BT_HARDEN_H
#define BT_HARDEN_H
#include <stdbool.h>

/* The variable that keeps core dumps on, for debugging ("1" only). */
#define BT_ALLOW_CORE_DUMPS_ENV "BATON_ALLOW_CORE_DUMPS"

/* Turns core dumps off (RLIMIT_CORE 0, soft and hard, and not dumpable, which
 * also keeps other same-user processes from ptrace-attaching or reading
 * /proc/<pid>/mem) unless allow is true. 0, or -1 when the kernel refused. */
int bt_harden_core_dumps(bool allow);
/* True when BATON_ALLOW_CORE_DUMPS is "1". */
bool bt_harden_core_dumps_allowed(void);

#endif
