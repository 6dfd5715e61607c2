/* bt.config: read resolved configuration values. Secret values never reach Lua. */
#include "bt/config.h"
#include "bt/prim.h"

/* config.get(name) -> string | nil; raises for a secret field. */
static int l_get(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    if (bt_config_is_secret(name))
        return luaL_error(L, "bt.config: '%s' is a secret and stays in the runtime "
                             "(use graphql.configure{auth_config = '%s'})", name, name);
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
    const char *value = bt_config_get(luaL_checkstring(L, 1));
    lua_pushboolean(L, value != NULL && value[0] != '\0');
    return 1;
}

int luaopen_bt_config(lua_State *L)
{
    static const luaL_Reg funcs[] = {{"get", l_get}, {"is_set", l_is_set}, {NULL, NULL}};
    luaL_newlib(L, funcs);
    return 1;
}
