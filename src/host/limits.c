#define _GNU_SOURCE /* SIGEV_THREAD_ID, gettid */
/* Script limits: the allocator counts the Lua heap and refuses growth past the
 * cap (Lua then raises "not enough memory"); a count hook charges thread CPU
 * time to the script and raises when one stretch of Lua work, between two
 * requests, runs longer than the budget. Waiting on HTTP costs no CPU and a
 * request resets the budget, so a sync of any length fits.
 *
 * A thread CPU-time timer backs the hook where it cannot run (a long call
 * into C such as a backtracking string.find, a finalizer, where hooks are
 * off): at the limit it marks the budget spent (the hook and every pcall then
 * raise); BT_SCRIPT_CPU_GRACE_SECONDS of CPU later it ends the process with
 * the error line, its temporary files removed. */
#include "bt/budget.h"
#include "bt/sig.h"
#include "bt/sink.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Instructions between two hook ticks: rare enough to cost nothing measurable,
 * often enough to stop a loop within milliseconds of the budget. */
#define TICK_INSTRUCTIONS 10000

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tick(lua_State *L, lua_Debug *ar);

/* Past half the cap, note the line at every new line (not only every
 * TICK_INSTRUCTIONS), so a refusal can name where the script was; below a
 * quarter, stop again: a line hook slows Lua down many times over. */
static void watch_lines(bt_budget *b)
{
    if (b->main && !b->watching && b->used > b->cap / 2) {
        b->watching = true;
        lua_sethook(b->main, tick, LUA_MASKCOUNT | LUA_MASKLINE, TICK_INSTRUCTIONS);
    } else if (b->main && b->watching && b->used < b->cap / 4) {
        b->watching = false;
        lua_sethook(b->main, tick, LUA_MASKCOUNT, TICK_INSTRUCTIONS);
    }
}

void *bt_budget_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    bt_budget *b = ud;
    size_t old = ptr ? osize : 0; /* without ptr, osize is a type tag */
    if (nsize == 0) {
        free(ptr);
        b->used -= old;
        if (b->cap && b->watching)
            watch_lines(b);
        return NULL;
    }
    if (b->cap && nsize > old && nsize - old > b->cap - (b->used < b->cap ? b->used : b->cap)) {
        b->refused = true;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (!p)
        return NULL;
    b->used = b->used - old + nsize;
    if (b->used > b->peak)
        b->peak = b->used;
    if (b->cap)
        watch_lines(b); /* lua_sethook is safe at any point, even here */
    return p;
}

static const char BUDGET_KEY = 0; /* its address keys the registry entry */

/* [-0, +0, -] The budget bound to L's state, NULL when none (a bare state). */
static bt_budget *budget_of(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &BUDGET_KEY);
    bt_budget *b = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return b;
}

/* [-0, +0, v] Count hook: note where the script is; raise once the stretch
 * since the last touch exceeds the budget (and at every later tick of this
 * call, so a pcall in the script cannot swallow it for long). */
static void tick(lua_State *L, lua_Debug *ar)
{
    bt_budget *b = budget_of(L);
    if (!b)
        return;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        snprintf(b->where, sizeof b->where, "%s:%d", ar->short_src, ar->currentline);
    if (ar->event == LUA_HOOKLINE && !b->fired)
        return;
    double stretch = thread_cpu_seconds() - b->mark;
    if (stretch > b->longest)
        b->longest = stretch;
    if (b->cpu_cap <= 0 || (!b->tripped && !b->fired && stretch <= b->cpu_cap))
        return;
    b->tripped = true;
    bt_budget_raise(L);
}

int bt_budget_raise(lua_State *L)
{
    bt_budget *b = budget_of(L);
    lua_pushfstring(L,
                    "%s: script ran for more than %d s of CPU without a request "
                    "(an endless loop?); the limit is --script-cpu-limit",
                    b ? b->where : "?", b ? (int)b->cpu_cap : 0);
    return lua_error(L);
}

bool bt_budget_spent(lua_State *L)
{
    bt_budget *b = budget_of(L);
    return b && b->cpu_cap > 0 && (b->tripped || b->fired);
}

/* ---- the CPU-time timer ---- */

static timer_t g_timer;
static pid_t g_timer_pid; /* timers do not survive fork: made again in a child */
static bt_budget *volatile g_watched;

static void arm(double seconds)
{
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)seconds;
    its.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
    if (seconds > 0 && its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
        its.it_value.tv_nsec = 1;
    timer_settime(g_timer, 0, &its, NULL);
}

static size_t put(char *buf, size_t used, size_t room, const char *s)
{
    while (*s && used < room)
        buf[used++] = *s++;
    return used;
}

static size_t put_int(char *buf, size_t used, size_t room, long v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v > 0 && n < (int)sizeof digits);
    while (n > 0 && used < room)
        buf[used++] = digits[--n];
    return used;
}

/* In the signal handler, about to end the process: the innermost script
 * frame of the main thread as "file:line" (the Lua function that called the
 * busy C function, or the finalizer). Only reads the stack ("Sl" allocates
 * nothing). Falls back to the hook's last note. */
static void stopped_where(bt_budget *b, char *out, size_t n)
{
    lua_Debug ar;
    size_t w = 0;
    for (int level = 0; b->main && level < 50 && lua_getstack(b->main, level, &ar); level++) {
        if (!lua_getinfo(b->main, "Sl", &ar) || ar.source[0] != '@' || ar.currentline <= 0)
            continue;
        w = put(out, 0, n - 1, ar.short_src);
        w = put(out, w, n - 1, ":");
        w = put_int(out, w, n - 1, ar.currentline);
        out[w] = '\0';
        return;
    }
    /* the hook's note may be mid-update: copy it bounded */
    while (w < n - 1 && w < sizeof b->where && b->where[w])
        out[w] = b->where[w], w++;
    out[w] = '\0';
}

/* In the signal handler: the limit's message, then the end of the process. */
static void stop_process(bt_budget *b)
{
    char reason[512], where[sizeof b->where];
    size_t n = 0, room = sizeof reason - 1;
    stopped_where(b, where, sizeof where);
    n = put(reason, n, room, where[0] ? where : "script");
    n = put(reason, n, room, ": script ran for more than ");
    n = put_int(reason, n, room, (long)b->cpu_cap);
    n = put(reason, n, room, " s of CPU without a request and did not stop (busy in C code or a "
                             "finalizer); the limit is --script-cpu-limit");
    reason[n] = '\0';
    bt_sink_stop_now(reason, BT_SCRIPT_CPU_EXIT_STATUS);
}

static void on_cpu_timer(int sig)
{
    (void)sig;
    bt_budget *b = g_watched;
    if (!b || b->cpu_cap <= 0)
        return;
    if (!b->fired) {
        b->fired = 1; /* the hook raises at its next tick */
        arm(BT_SCRIPT_CPU_GRACE_SECONDS);
        return;
    }
    stop_process(b);
}

/* The timer on this thread's CPU clock, its signal to this thread. */
static bool timer_ready(void)
{
    if (g_timer_pid == getpid())
        return true;
    struct sigaction sa = bt_sig_action(on_cpu_timer, SA_RESTART);
    if (sigaction(SIGXCPU, &sa, NULL) != 0)
        return false;
    struct sigevent sev;
    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGXCPU;
    sev._sigev_un._tid = gettid();
    if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &g_timer) != 0)
        return false;
    g_timer_pid = getpid();
    return true;
}

void bt_budget_install(lua_State *L, bt_budget *b)
{
    lua_pushlightuserdata(L, b);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &BUDGET_KEY);
    b->main = L;
    b->mark = thread_cpu_seconds();
    lua_sethook(L, tick, LUA_MASKCOUNT, TICK_INSTRUCTIONS); /* inherited too */
}

void bt_budget_begin_call(bt_budget *b)
{
    if (b->depth++ > 0)
        return; /* a call inside a call: the outer one's budget runs on */
    b->refused = false;
    b->tripped = false;
    b->fired = 0;
    b->where[0] = '\0';
    b->mark = thread_cpu_seconds();
    if (b->cpu_cap > 0 && timer_ready()) {
        g_watched = b;
        arm(b->cpu_cap);
    }
}

void bt_budget_end_call(bt_budget *b)
{
    if (b->depth > 0 && --b->depth > 0)
        return;
    if (g_watched == b) {
        arm(0);
        g_watched = NULL;
    }
}

void bt_budget_touch(lua_State *L)
{
    bt_budget *b = budget_of(L);
    if (!b || b->tripped || b->fired)
        return; /* a spent budget stays spent until the call ends */
    b->mark = thread_cpu_seconds();
    if (g_watched == b)
        arm(b->cpu_cap);
}

static size_t g_default_mb = BT_SCRIPT_MEMORY_LIMIT_MB;
static double g_default_cpu = BT_SCRIPT_CPU_LIMIT_SECONDS;

void bt_budget_set_defaults(size_t memory_mb, double cpu_seconds)
{
    g_default_mb = memory_mb;
    g_default_cpu = cpu_seconds;
}

void bt_budget_get_defaults(size_t *memory_mb, double *cpu_seconds)
{
    *memory_mb = g_default_mb;
    *cpu_seconds = g_default_cpu;
}

bool bt_budget_explain_memory(const bt_budget *b, const char *msg, char *out, size_t n)
{
    if (!b->refused || strcmp(msg, "not enough memory") != 0)
        return false;
    snprintf(out, n, "%s%sscript memory limit of %zu MB reached; the limit is "
             "--script-memory-limit", b->where, b->where[0] ? ": " : "", b->cap >> 20);
    return true;
}
