/* bt.log: log.debug/info/warn/error(msg). Messages pass through secret redaction. */
#include "bt/log.h"
#include "bt/prim.h"

/* [-0, +0, e] Log the tostring() of argument 1 at the level in upvalue 1. */
static int l_log(lua_State *L)
{
    bt_log_level level = (bt_log_level)lua_tointeger(L, lua_upvalueindex(1));
    luaL_checkany(L, 1);
    const char *msg = luaL_tolstring(L, 1, NULL);
    if (bt_log_enabled(level))
        bt_log(level, "%s", msg);
    return 0;
}

int luaopen_bt_log(lua_State *L)
{
    static const struct { const char *name; bt_log_level level; } levels[] = {
        {"debug", BT_LOG_DEBUG}, {"info", BT_LOG_INFO}, {"warn", BT_LOG_WARN}, {"error", BT_LOG_ERROR},
    };
    lua_createtable(L, 0, 4);
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
        lua_pushinteger(L, levels[i].level);
        lua_pushcclosure(L, l_log, 1);
        lua_setfield(L, -2, levels[i].name);
    }
    return 1;
}
