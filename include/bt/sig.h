/* Signal dispositions (src/util/sig.c). */
#ifndef BT_SIG_H
#define BT_SIG_H
#include <signal.h>

/* A disposition that runs handler (or is SIG_DFL / SIG_IGN) with sa_flags
 * `flags` and no signal blocked beyond the one being handled; the caller may
 * add to sa_mask before installing it. */
struct sigaction bt_sig_action(void (*handler)(int), int flags);

#endif
