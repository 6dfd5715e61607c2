/* bt.config: read resolved configuration values. Secret values never reach Lua. */
#include "bt/config.h"
#include "bt/prim.h"

/* The configuration is resolved only after the script has loaded (its
 * contract declares the flags), so reads are open while a handler runs. */
static bool readable;

void bt_config_set_readable(bool yes) { readable = yes; }

static void check_phase(lua_State *L, const char *fn)
{
    if (!readable)
        luaL_error(L, "bt.config.%s: not in the sync or provisioning phase (the configuration "
                      "is resolved after the script loads; read it inside sync or a handler)", fn);
}

/* config.get(name) -> string | nil; raises for a secret field. */
static int l_get(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    check_phase(L, "get");
    if (bt_config_is_secret(name))
        return luaL_error(L, "bt.config.get: '%s' is a secret: scripts never read it, the runtime "
                             "sends it (graphql.configure{auth_config = '%s'})", name, name);
    const char *value = bt_config_get(name);
    if (value)
        lua_pushstring(L, value);
    else
        lua_pushnil(L);
    return 1;
}

/* config.is_set(name) -> boolean (true when a non-empty value was given) */
static int l_is_set(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    check_phase(L, "is_set");
    const char *value = bt_config_get(name);
    lua_pushboolean(L, value != NULL && value[0] != '\0');
    return 1;
}

int luaopen_bt_config(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"get", l_get}, {"is_set", l_is_set}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}
