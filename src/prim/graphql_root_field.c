/* One object read by its root field (user(id:), group(id:)): an explicit
 * null means the object is gone; a missing field, or one of another type
 * ({"data":{}} or {"data":[]}), is a damaged answer, asked again like a body
 * that is not JSON and then a decode error. Never a deletion. */
#include <stdio.h>

#include "bt/errobj.h"
#include "bt/graphql_lua.h"

void bt_graphql_drop_root_nulls(lua_State *L, int data)
{
    data = lua_absindex(L, data);
    lua_pushnil(L);
    while (lua_next(L, data)) {
        bool null = bt_graphql_is_null(L, -1);
        lua_pop(L, 1);
        if (null) {
            lua_pushvalue(L, -1);
            lua_pushnil(L);
            lua_rawset(L, data);
        }
    }
}

int bt_graphql_query_root(lua_State *L, const char *q, size_t qlen, int vars, const char *root)
{
    char msg[300];
    bt_graphql_page_begin(); /* one attempt cap and deadline, as for a page */
    for (;;) {
        int top = lua_gettop(L);
        bt_graphql_next_keeps_root_nulls();
        int n = bt_graphql_execute(L, q, qlen, vars);
        if (n == 2) {
            bt_graphql_page_end();
            return 2;
        }
        int t = lua_getfield(L, top + 1, root);
        bool null = bt_graphql_is_null(L, -1);
        lua_pop(L, 1);
        if (t == LUA_TTABLE || null) {
            bt_graphql_drop_root_nulls(L, top + 1);
            bt_graphql_page_end();
            return 1;
        }
        lua_settop(L, top);
        snprintf(msg, sizeof msg, "%.80s is %s in the answer", root,
                 t == LUA_TNIL ? "missing" : "not an object or null");
        if (!bt_graphql_reask(msg)) {
            bt_graphql_page_end();
            return bt_err_push(L, "decode", 0, msg);
        }
    }
}
