/* Script limits: a memory cap enforced by the Lua allocator and a CPU budget
 * for Lua work between two requests, checked by a count hook and backed by a
 * CPU-time timer (for time in C and in finalizers, where no hook runs). The
 * host owns them (src/host/limits.c); primitives only say "the script waited
 * here". */
#ifndef BT_BUDGET_H
#define BT_BUDGET_H
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "bt/lua.h"

/* Defaults no real sync reaches (README: the 20k-user tenant peaks far below). */
#define BT_SCRIPT_MEMORY_LIMIT_MB 512
#define BT_SCRIPT_CPU_LIMIT_SECONDS 60
/* CPU seconds past the limit that the script gets to unwind; a script still
 * running then (in C code, a finalizer, ...) ends the process. */
#define BT_SCRIPT_CPU_GRACE_SECONDS 2
/* The exit status of a process so ended. */
#define BT_SCRIPT_CPU_EXIT_STATUS 3

typedef struct bt_budget {
    size_t used, peak, cap; /* Lua heap bytes; cap 0 = none */
    bool refused;           /* the allocator refused growth since the call began */
    double cpu_cap;         /* CPU seconds between two touches; 0 = none */
    double mark;            /* thread CPU time at the last touch */
    double longest;         /* longest stretch seen, seconds */
    bool tripped;           /* the CPU budget ran out in this call */
    char where[300];        /* "file:line" of the latest hook tick */
    lua_State *main;        /* the state's main thread, once installed */
    bool watching;          /* past half the cap: the hook notes every line */
    volatile sig_atomic_t fired; /* the CPU timer went off in this call */
    int depth;              /* nested begin_call/end_call */
} bt_budget;

/* The lua_Alloc that counts bytes in the bt_budget passed as ud. */
void *bt_budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Bind the budget to L (and every coroutine created from it) and start the
 * count hook. */
void bt_budget_install(lua_State *L, bt_budget *b);
/* A handler call starts: a fresh CPU budget, no refusal noted, the CPU
 * timer armed. end_call disarms it (C work after the script is not its). */
void bt_budget_begin_call(bt_budget *b);
void bt_budget_end_call(bt_budget *b);
/* True once the CPU budget of the running call is spent: every protected
 * call (pcall, xpcall, coroutine.resume) then raises again. */
bool bt_budget_spent(lua_State *L);
/* [-0, +1, v] Raise the CPU limit error. */
int bt_budget_raise(lua_State *L);
/* Limits a new host starts with (bt_host_new): set once from the flags before
 * any script loads, so load time and service-mode tasks run under them. */
void bt_budget_set_defaults(size_t memory_mb, double cpu_seconds);
void bt_budget_get_defaults(size_t *memory_mb, double *cpu_seconds);
/* The script waited on the runtime (a request answered): the CPU budget
 * starts again. No-op for a state without a budget. */
void bt_budget_touch(lua_State *L);
/* Rewrite a "not enough memory" error caused by the cap into one naming the
 * limit and where the script was; false when msg is another error. */
bool bt_budget_explain_memory(const bt_budget *b, const char *msg, char *out, size_t n);

#endif
