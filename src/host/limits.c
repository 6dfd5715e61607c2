/* Script limits: the allocator counts the Lua heap and refuses growth past the
 * cap (Lua then raises "not enough memory"); a count hook charges thread CPU
 * time to the script and raises when one stretch of Lua work, between two
 * requests, runs longer than the budget. Waiting on HTTP costs no CPU and a
 * request resets the budget, so a sync of any length fits. */
#include "bt/budget.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
    if (ar->event == LUA_HOOKLINE)
        return;
    double stretch = thread_cpu_seconds() - b->mark;
    if (stretch > b->longest)
        b->longest = stretch;
    if (b->cpu_cap <= 0 || (!b->tripped && stretch <= b->cpu_cap))
        return;
    b->tripped = true;
    lua_pushfstring(L,
                    "%s: script ran for more than %d s of CPU without a request "
                    "(an endless loop?); the limit is --script-cpu-limit",
                    b->where, (int)b->cpu_cap);
    lua_error(L);
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
    b->refused = false;
    b->tripped = false;
    b->where[0] = '\0';
    b->mark = thread_cpu_seconds();
}

void bt_budget_touch(lua_State *L)
{
    bt_budget *b = budget_of(L);
    if (b)
        b->mark = thread_cpu_seconds();
}

bool bt_budget_explain_memory(const bt_budget *b, const char *msg, char *out, size_t n)
{
    if (!b->refused || strcmp(msg, "not enough memory") != 0)
        return false;
    snprintf(out, n, "%s%sscript memory limit of %zu MB reached; the limit is "
             "--script-memory-limit", b->where, b->where[0] ? ": " : "", b->cap >> 20);
    return true;
}
