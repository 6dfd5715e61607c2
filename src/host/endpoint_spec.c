/* The connector's endpoint file (<bundled dir>/<connector>/endpoint.lua):
 * read from the bundled dir only, never the override dir, before any other
 * script runs, as a chunk with no globals at all (data only). */
#include "bt/graphql.h"
#include "bt/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* [-0, +0] Copy the string fields of the table on top; -1 on a wrong type. */
static int read_fields(lua_State *L, const char *path, bt_endpoint_spec *spec, bt_host_error *err)
{
    for (int i = 0; i < BT_ENDPOINT_SPEC_FIELDS; i++) {
        const char *key = bt_endpoint_spec_keys[i];
        int t = lua_getfield(L, -1, key);
        if (t == LUA_TSTRING)
            *bt_endpoint_spec_slot(spec, i) = strdup(lua_tostring(L, -1));
        lua_pop(L, 1);
        if (t != LUA_TSTRING && t != LUA_TNIL) {
            snprintf(err->message, sizeof err->message, "%.1900s: field %s must be a string", path,
                     key);
            return -1;
        }
    }
    return 0;
}

int bt_host_load_endpoint_spec(bt_host *h, const char *bundled_dir, const char *module,
                               bt_endpoint_spec *spec, bt_host_error *err)
{
    lua_State *L = bt_host_lua(h);
    char path[4096];
    memset(spec, 0, sizeof *spec);
    snprintf(path, sizeof path, "%s/%s/endpoint.lua", bundled_dir, module);
    if (access(path, R_OK) != 0)
        return 1;
    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        snprintf(err->message, sizeof err->message, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -1;
    }
    lua_newtable(L); /* _ENV: nothing */
    lua_setupvalue(L, -2, 1);
    if (bt_host_call(h, 0, 1, err) != 0)
        return -1;
    int rc = 0;
    if (!lua_istable(L, -1)) {
        snprintf(err->message, sizeof err->message, "%.1900s must return a table", path);
        rc = -1;
    } else {
        rc = read_fields(L, path, spec, err);
    }
    lua_pop(L, 1);
    if (rc != 0)
        bt_endpoint_spec_free(spec);
    return rc;
}
