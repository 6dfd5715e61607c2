/* The scripts' environment: dangerous functions removed (reading one raises
 * "not available in the connector sandbox"), no environment variables (they
 * hold BATON_* secrets), text-only loading, and strict globals (reading or
 * writing an undeclared global raises). */
#include "bt/host.h"

#include <string.h>

static const char *const removed[][2] = {
    {"os", "execute"}, {"os", "exit"},     {"os", "remove"},  {"os", "rename"},
    {"os", "tmpname"}, {"os", "setlocale"}, {"os", "getenv"}, {"package", "loadlib"},
    {NULL, "dofile"},  {NULL, "loadfile"},
};

/* Standard libraries that are never opened: reading them says so. */
static const char *const unopened[] = {"io", "debug", NULL};

static const char not_available[] = "%s%s%s is not available in the connector sandbox";

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

/* A removed or unopened name (prefix "" for a global, "os" for os.*), or NULL. */
static const char *removed_name(const char *prefix, const char *name)
{
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        const char *lib = removed[i][0] ? removed[i][0] : "";
        if (strcmp(lib, prefix) == 0 && strcmp(removed[i][1], name) == 0)
            return removed[i][1];
    }
    for (int i = 0; !*prefix && unopened[i]; i++)
        if (strcmp(unopened[i], name) == 0)
            return unopened[i];
    return NULL;
}

static int strict_index(lua_State *L)
{
    const char *name = luaL_tolstring(L, 2, NULL);
    if (removed_name("", name))
        return luaL_error(L, not_available, "", "", name);
    return luaL_error(L, "undeclared global '%s' (scripts use locals and require)", name);
}

/* __index of os and package: a removed function raises instead of reading nil,
 * so calling it fails with the reason, not "attempt to call a nil value". */
static int library_index(lua_State *L)
{
    const char *lib = lua_tostring(L, lua_upvalueindex(1));
    const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (name && removed_name(lib, name))
        return luaL_error(L, not_available, lib, ".", name);
    return 0;
}

static int strict_newindex(lua_State *L)
{
    return luaL_error(L, "assignment to undeclared global '%s' (declare it local)",
                      luaL_tolstring(L, 2, NULL));
}

static void guard_library(lua_State *L, const char *lib)
{
    lua_getglobal(L, lib);
    lua_createtable(L, 0, 1);
    lua_pushstring(L, lib);
    lua_pushcclosure(L, library_index, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
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
    guard_library(L, "os");
    guard_library(L, "package");
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
