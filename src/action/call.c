/* The one place a provisioning handler is called, for one-shot and service
 * mode alike: in the provisioning phase, with the request on top. */
#include "action/action.h"
#include "bt/graphql.h"
#include "bt/prim.h"

static bool refused(lua_State *L)
{
    return lua_isnil(L, -2) || (lua_isboolean(L, -2) && !lua_toboolean(L, -2));
}

bt_action_status bt_action_call(bt_host *h, const bt_contract *c, const bt_action *a,
                                char *defined_at, size_t n, bt_host_error *err)
{
    lua_State *L = bt_host_lua(h);
    bt_contract_push_function(h, c, a->handler);
    if (!lua_isfunction(L, -1))
        return BT_ACTION_NO_HANDLER;
    bt_host_function_position(L, -1, defined_at, n);
    lua_insert(L, -2);
    bt_graphql_allow_writes(true);
    bt_config_set_readable(true);
    int rc = bt_host_call(h, 1, 2, err);
    bt_config_set_readable(false);
    bt_graphql_allow_writes(false);
    if (rc != 0)
        return BT_ACTION_THREW;
    return refused(L) ? BT_ACTION_REFUSED : BT_ACTION_DONE;
}
