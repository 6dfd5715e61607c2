/* Test helpers: fake clock, log capture, a Lua state with bt.graphql. */
#include "lua_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/clock.h"
#include "bt/errobj.h"
#include "bt/prim.h"

static double fake_now(void *ud) { return ((fake_clock *)ud)->now; }

static void fake_sleep(double seconds, void *ud)
{
    fake_clock *fc = ud;
    if (fc->nsleeps < FAKE_CLOCK_MAX_SLEEPS)
        fc->sleeps[fc->nsleeps] = seconds;
    fc->nsleeps++;
    fc->slept += seconds;
    fc->now += seconds;
    if (fc->on_sleep)
        fc->on_sleep(fc, seconds);
}

void fake_clock_install(fake_clock *fc)
{
    if (fc->now == 0)
        fc->now = 1700000000.0;
    bt_clock_set_hooks(fake_now, fake_sleep, fc);
}

void fake_clock_remove(void) { bt_clock_set_hooks(NULL, NULL, NULL); }

static void capture_line(bt_log_level level, const char *line, void *ud)
{
    (void)level;
    log_capture *lc = ud;
    if (lc->n < LOG_CAPTURE_MAX)
        lc->lines[lc->n++] = strdup(line);
}

void log_capture_start(log_capture *lc, bt_log_level level)
{
    memset(lc, 0, sizeof *lc);
    bt_log_set_level(level);
    bt_log_set_sink(capture_line, lc);
}

void log_capture_stop(log_capture *lc)
{
    bt_log_set_sink(NULL, NULL);
    bt_log_set_level(BT_LOG_INFO);
    for (int i = 0; i < lc->n; i++)
        free(lc->lines[i]);
    lc->n = 0;
}

int log_capture_count(const log_capture *lc, const char *s)
{
    int n = 0;
    for (int i = 0; i < lc->n; i++)
        n += strstr(lc->lines[i], s) != NULL;
    return n;
}

lua_State *lua_fixture_new(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    bt_err_open(L);
    luaL_requiref(L, "bt.graphql", luaopen_bt_graphql, 0);
    lua_setglobal(L, "graphql");
    return L;
}

const char *lua_fixture_run(lua_State *L, const char *chunk)
{
    static char msg[2048];
    if (luaL_loadstring(L, chunk) == LUA_OK && lua_pcall(L, 0, 0, 0) == LUA_OK)
        return NULL;
    snprintf(msg, sizeof msg, "%s", luaL_tolstring(L, -1, NULL));
    lua_settop(L, 0);
    return msg;
}

void lua_fixture_set_string(lua_State *L, const char *global, const char *value)
{
    lua_pushstring(L, value);
    lua_setglobal(L, global);
}
