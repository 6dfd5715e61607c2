/* require() for scripts: preload first, then the override dir, then the bundled
 * dir; "bundled:<module>" skips the override dir, so an override file can load
 * the version it extends. LUA_PATH/LUA_CPATH are never consulted; C modules are
 * limited to an allow-list (lua-cjson) loaded from the system's Lua 5.4 module dirs. */
#include "bt/host.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Upvalue indexes of the Lua-file searcher. */
enum { UP_HOST = 1, UP_OVERRIDE, UP_BUNDLED };

static const char *const allowed_c_modules[] = {"cjson", "cjson.safe", NULL};
static const char bundled_prefix[] = "bundled:";
static const char system_cpath[] =
    "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so;/usr/lib/aarch64-linux-gnu/lua/5.4/?.so;"
    "/usr/local/lib/lua/5.4/?.so;/usr/lib/lua/5.4/?.so";

/* Module names are dotted identifiers; anything else (slashes, "..") is refused. */
static int valid_module_name(const char *name)
{
    if (!*name || *name == '.')
        return 0;
    for (const char *p = name; *p; p++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '-' || (c == '.' && p[1] != '.' && p[1] != '\0');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Find name as <dir>/<a/b>.lua or <dir>/<a/b>/init.lua. Returns 1 and fills path. */
static int find_in_dir(const char *dir, const char *name, char *path, size_t n)
{
    char rel[512];
    size_t i = 0;
    for (; name[i] && i < sizeof rel - 1; i++)
        rel[i] = name[i] == '.' ? '/' : name[i];
    rel[i] = '\0';
    snprintf(path, n, "%s/%s.lua", dir, rel);
    if (access(path, R_OK) == 0)
        return 1;
    snprintf(path, n, "%s/%s/init.lua", dir, rel);
    return access(path, R_OK) == 0;
}

/* [-0, +0, e] Raise a loading error for path with the message on top of the stack. */
static int load_error(lua_State *L, const char *name)
{
    return luaL_error(L, "error loading module '%s':\n\t%s", name, lua_tostring(L, -1));
}

/* loader(): the module under its plain name. "bundled:<m>" with no override of
 * <m> is the same module, so both names share one instance (and its tables). */
static int alias_loader(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 1, 1);
    return 1;
}

/* searcher(name) -> loader, path | message */
static int lua_file_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    bt_host *h = lua_touserdata(L, lua_upvalueindex(UP_HOST));
    const char *dirs[2] = {lua_tostring(L, lua_upvalueindex(UP_OVERRIDE)),
                           lua_tostring(L, lua_upvalueindex(UP_BUNDLED))};
    char path[4096];
    size_t plen = sizeof bundled_prefix - 1;
    bool bundled_only = strncmp(name, bundled_prefix, plen) == 0;
    if (bundled_only)
        name += plen; /* the module's own name, searched in the bundled dir only */
    if (!valid_module_name(name)) {
        lua_pushfstring(L, "\n\tinvalid module name '%s'", name);
        return 1;
    }
    if (bundled_only && (!dirs[0] || !find_in_dir(dirs[0], name, path, sizeof path)) &&
        dirs[1] && find_in_dir(dirs[1], name, path, sizeof path)) {
        lua_pushstring(L, name);
        lua_pushcclosure(L, alias_loader, 1);
        lua_pushstring(L, path);
        return 2;
    }
    if (bundled_only)
        dirs[0] = NULL;
    for (int i = 0; i < 2; i++) {
        if (!dirs[i] || !find_in_dir(dirs[i], name, path, sizeof path))
            continue;
        if (luaL_loadfilex(L, path, "t") != LUA_OK)
            return load_error(L, name);
        bt_host_record_module(h, lua_tostring(L, 1), path);
        lua_pushstring(L, path);
        return 2;
    }
    lua_pushfstring(L, "\n\tno file '%s' in the override dir or '%s' in the bundled scripts",
                    name, dirs[1] ? dirs[1] : "?");
    return 1;
}

/* Delegates to Lua's own C searcher (upvalue 1) for allow-listed modules only. */
static int c_module_searcher(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    for (int i = 0; allowed_c_modules[i]; i++) {
        if (strcmp(name, allowed_c_modules[i]) == 0) {
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_insert(L, 1);
            lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
            return lua_gettop(L);
        }
    }
    lua_pushfstring(L, "\n\tC module '%s' is not allowed", name);
    return 1;
}

void bt_loader_install(lua_State *L, bt_host *h, const char *override_dir, const char *bundled_dir)
{
    lua_getglobal(L, LUA_LOADLIBNAME);
    lua_pushstring(L, "");
    lua_setfield(L, -2, "path");
    lua_pushstring(L, system_cpath);
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "searchers");
    lua_rawgeti(L, -1, 1); /* the preload searcher */
    lua_rawgeti(L, -2, 3); /* Lua's C searcher, wrapped below */
    lua_createtable(L, 3, 0);
    lua_pushvalue(L, -3);
    lua_rawseti(L, -2, 1);
    lua_pushlightuserdata(L, h);
    if (override_dir)
        lua_pushstring(L, override_dir);
    else
        lua_pushnil(L);
    lua_pushstring(L, bundled_dir);
    lua_pushcclosure(L, lua_file_searcher, 3);
    lua_rawseti(L, -2, 2);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, c_module_searcher, 1);
    lua_rawseti(L, -2, 3);
    lua_setfield(L, -5, "searchers"); /* package.searchers = new table */
    lua_pop(L, 4);
}
