/* The scripts' environment: dangerous functions removed, text-only loading, and
 * strict globals (reading or writing an undeclared global raises). */
#include "bt/host.h"

static const char *const removed[][2] = {
    {"os", "execute"}, {"os", "exit"},     {"os", "remove"},  {"os", "rename"},
    {"os", "tmpname"}, {"os", "setlocale"}, {"package", "loadlib"},
    {NULL, "dofile"},  {NULL, "loadfile"},
};

/* load(chunk, name, mode, env) forced to text mode: no precompiled bytecode. */
static int l_load_text(lua_State *L)
{
    int has_env = lua_gettop(L) >= 4;
    lua_settop(L, 4); /* fixed slots: chunk, name, mode, env */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t");
    if (has_env)
        lua_pushvalue(L, 4);
    lua_call(L, has_env ? 4 : 3, 2);
    return 2;
}

static int strict_index(lua_State *L)
{
    return luaL_error(L, "undeclared global '%s' (scripts use locals and require)",
                      luaL_tolstring(L, 2, NULL));
}

static int strict_newindex(lua_State *L)
{
    return luaL_error(L, "assignment to undeclared global '%s' (declare it local)",
                      luaL_tolstring(L, 2, NULL));
}

static void remove_functions(lua_State *L)
{
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        if (removed[i][0]) {
            lua_getglobal(L, removed[i][0]);
            lua_pushnil(L);
            lua_setfield(L, -2, removed[i][1]);
            lua_pop(L, 1);
        } else {
            lua_pushnil(L);
            lua_setglobal(L, removed[i][1]);
        }
    }
}

void bt_sandbox_apply(lua_State *L)
{
    remove_functions(L);
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load_text, 1);
    lua_setglobal(L, "load");
    lua_pushglobaltable(L);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, strict_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, strict_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}
