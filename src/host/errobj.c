/* The {kind, status, message} error value returned by primitives as `nil, err`. */
#include "bt/errobj.h"
#include "bt/host.h"

#include <string.h>

static const char ERR_MT[] = "bt.error";

/* [-0, +1, m] __tostring: "<kind>: <message> (HTTP <status>)" */
static int err_tostring(lua_State *L)
{
    lua_getfield(L, 1, "kind");
    lua_getfield(L, 1, "message");
    lua_getfield(L, 1, "status");
    const char *kind = luaL_optstring(L, -3, "error");
    const char *msg = luaL_optstring(L, -2, "");
    if (lua_isinteger(L, -1))
        lua_pushfstring(L, "%s: %s (HTTP %d)", kind, msg, (int)lua_tointeger(L, -1));
    else
        lua_pushfstring(L, "%s: %s", kind, msg);
    return 1;
}

/* [-0, +1, m] Push the shared metatable, creating it on first use. */
static void push_metatable(lua_State *L)
{
    if (luaL_newmetatable(L, ERR_MT)) {
        lua_pushcfunction(L, err_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushstring(L, "bt.error");
        lua_setfield(L, -2, "__name");
    }
}

void bt_err_open(lua_State *L)
{
    push_metatable(L);
    lua_pop(L, 1);
}

/* [-0, +1, m] Push a new error table. status <= 0 leaves `status` unset. */
static void err_new(lua_State *L, const char *kind, long status, const char *message)
{
    char where[512];
    lua_createtable(L, 0, 5);
    /* The script line whose call failed: a failure returned up through
     * several functions is still reported where it happened. */
    if (bt_host_script_position(L, 1, where, sizeof where)) {
        lua_pushstring(L, where);
        lua_setfield(L, -2, "where");
    }
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, message ? message : "");
    lua_setfield(L, -2, "message");
    if (status > 0) {
        lua_pushinteger(L, status);
        lua_setfield(L, -2, "status");
    }
    push_metatable(L);
    lua_setmetatable(L, -2);
}

int bt_err_push(lua_State *L, const char *kind, long status, const char *message)
{
    lua_pushnil(L);
    err_new(L, kind, status, message);
    return 2;
}

