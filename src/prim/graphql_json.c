/* GraphQL answers -> Lua values: the Lua-table builder (json_lua.c) with
 * GraphQL's null rule. A null member of an object is an absent key, a null
 * element of an array the null sentinel (so the array keeps its length),
 * and, while a walk asks for it, a null member of data (depth 2) the
 * sentinel too, so "null: gone" is told from "missing: damaged". Lone
 * surrogate escapes keep their three bytes: an id holding one is refused
 * where ids are checked (graphql_page_check.c), a script may repair a name. */
#include "bt/graphql_lua.h"
#include "bt/json_lua.h"

/* Set by bt_graphql_execute around its decoding (bt_graphql_json_root_nulls). */
static bool root_nulls;

void bt_graphql_json_root_nulls(bool keep) { root_nulls = keep; }

static bool graphql_null(lua_State *L, int depth, bool in_array, void *ud)
{
    (void)ud;
    if (!in_array && !(root_nulls && depth == 2))
        return false; /* the key stays absent */
    bt_graphql_push_null(L);
    return true;
}

int bt_graphql_json_decode(lua_State *L, const char *s, size_t len, int max_depth, char *err,
                           size_t errsz)
{
    bt_json_lua_opts o = {
        .read = {.max_depth = max_depth > 0 ? max_depth : BT_JSON_MAX_DEPTH,
                 .lone_surrogate = BT_JSON_SURROGATE_KEEP},
        .null_value = graphql_null,
    };
    return bt_json_lua_decode(L, s, len, &o, err, errsz) < 0 ? -1 : 0;
}
