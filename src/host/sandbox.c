/* The scripts' environment: dangerous functions removed (reading one raises
 * "not available in the connector sandbox"), no environment variables (they
 * hold BATON_* secrets), text-only loading, package.path and package.cpath
 * fixed at start-up (writing them raises), print going to the log (redacted)
 * and strict globals (reading or writing an undeclared global raises). */
#include "bt/budget.h"
#include "bt/host.h"
#include "bt/log.h"

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
    if (bt_budget_spent(L)) /* load catches its reader function's errors */
        return bt_budget_raise(L);
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

/* Fields of package that scripts read but never write: the module search
 * paths the loader set (C modules only from the system's Lua dirs). */
static const char *const fixed_package_fields[] = {"path", "cpath", "searchers", NULL};

static bool is_fixed_package_field(lua_State *L, int idx)
{
    const char *name = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : NULL;
    for (int i = 0; name && fixed_package_fields[i]; i++)
        if (strcmp(fixed_package_fields[i], name) == 0)
            return true;
    return false;
}

/* __index of the package proxy: the real table's field (upvalue 1, the table
 * require and Lua's searchers use), a removed function raises. */
static int package_index(lua_State *L)
{
    const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (name && removed_name(LUA_LOADLIBNAME, name))
        return luaL_error(L, not_available, LUA_LOADLIBNAME, ".", name);
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

/* __newindex of the package proxy: the fixed fields raise (at the script's
 * line); any other field goes to the real table. */
static int package_newindex(lua_State *L)
{
    if (is_fixed_package_field(L, 2))
        return luaL_error(L, "package.%s is read-only in the connector sandbox (modules load only "
                             "from the scripts dirs and C modules only from the system's Lua "
                             "module dirs)", lua_tostring(L, 2));
    lua_settop(L, 3);
    lua_rawset(L, lua_upvalueindex(1));
    return 0;
}

/* Scripts see package through an empty proxy: every write reaches
 * __newindex, and even rawset lands in the proxy, never in the table that
 * require and Lua's C searcher read package.cpath from. package.loaded.package
 * is the proxy too, so require "package" does not hand out the real one. */
static void guard_package(lua_State *L)
{
    lua_getglobal(L, LUA_LOADLIBNAME); /* the real table */
    lua_newtable(L);                   /* the proxy */
    lua_createtable(L, 0, 3);          /* its metatable */
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, package_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, -3);
    lua_pushcclosure(L, package_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushliteral(L, "locked");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_getfield(L, -2, "loaded");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, LUA_LOADLIBNAME);
    lua_pop(L, 1);
    lua_setglobal(L, LUA_LOADLIBNAME);
    lua_pop(L, 1);
}

/* print(...): the arguments' tostring, tab-separated, as one info line of the
 * log (which redacts every secret), never on stdout. */
static int l_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    bt_log(BT_LOG_INFO, "%s", lua_tostring(L, -1));
    return 0;
}

/* Continuation of the protected calls below: once the CPU limit is spent,
 * the error they caught is raised again, so no script can catch it. */
static int reraise_if_spent(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    if (bt_budget_spent(L))
        return bt_budget_raise(L);
    return lua_gettop(L);
}

/* pcall, xpcall and coroutine.resume (the original in upvalue 1) followed by
 * that check. */
static int l_protected(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, n, LUA_MULTRET, 0, reraise_if_spent);
    return reraise_if_spent(L, LUA_OK, 0);
}

static void wrap_protected(lua_State *L, const char *lib, const char *name)
{
    if (lib)
        lua_getglobal(L, lib);
    else
        lua_pushglobaltable(L);
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, l_protected, 1);
    lua_setfield(L, -2, name);
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
    guard_package(L);
}

void bt_sandbox_apply(lua_State *L)
{
    remove_functions(L);
    lua_getglobal(L, "load");
    lua_pushcclosure(L, l_load_text, 1);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_print);
    lua_setglobal(L, "print");
    wrap_protected(L, NULL, "pcall");
    wrap_protected(L, NULL, "xpcall");
    wrap_protected(L, LUA_COLIBNAME, "resume");
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
