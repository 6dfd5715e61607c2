/* bt.clock: wall clock and monotonic seconds (injectable in tests). */
#include "bt/clock.h"
#include "bt/prim.h"

static int l_now(lua_State *L)
{
    lua_pushnumber(L, bt_clock_now());
    return 1;
}

static int l_monotonic(lua_State *L)
{
    lua_pushnumber(L, bt_clock_monotonic());
    return 1;
}

int luaopen_bt_clock(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"now", l_now}, {"monotonic", l_monotonic}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}
