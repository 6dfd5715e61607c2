/* JSON text -> Lua values (src/prim/json_lua.c): the Lua-table builder, a
 * sink of the codec's reader (bt/json_read.h). Objects and arrays become
 * tables (arrays 1-based), strings strings, numbers integers when they fit
 * lua_Integer and floats otherwise (lua_stringtonumber on the exact text),
 * booleans booleans. What a null becomes is the caller's choice. */
#ifndef BT_JSON_LUA_H
#define BT_JSON_LUA_H
#include <stdbool.h>
#include <stddef.h>

#include "bt/json_read.h"
#include "bt/lua.h"

typedef struct {
    bt_json_read_opts read; /* depth (at most BT_JSON_LUA_MAX_DEPTH), surrogates, \u0000 */
    /* A null at nesting `depth` (1: a member or element of the top value;
     * 0: the top value itself, which always becomes nil): push what it
     * becomes and return true, or, for an object member only, return false
     * to leave the key absent, removing an earlier duplicate (an array
     * element must be pushed, or the indexes would shift). NULL:
     * lightuserdata NULL everywhere, which is lua-cjson's cjson.null. */
    bool (*null_value)(lua_State *L, int depth, bool in_array, void *ud);
    void *ud;
} bt_json_lua_opts;

#define BT_JSON_LUA_MAX_DEPTH 250

/* Decode s[0..len) and push the value ([-0, +1]; a top-level null pushes
 * nil). Returns 1 when the top-level value was an object, 0 for any other
 * value, -1 with "<why> at byte <n>" in err and nothing pushed. Raises only
 * on a Lua memory error: bt_json_lua_pdecode runs it protected. */
int bt_json_lua_decode(lua_State *L, const char *s, size_t len, const bt_json_lua_opts *o,
                       char *err, size_t errsz);
/* The same in a protected call: a memory error becomes -1 with "out of memory". */
int bt_json_lua_pdecode(lua_State *L, const char *s, size_t len, const bt_json_lua_opts *o,
                        char *err, size_t errsz);

#endif
