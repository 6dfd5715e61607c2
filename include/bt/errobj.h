/* The error value primitives hand to Lua: a table {kind, status, message, ...}
 * with a __tostring. Failures of the world travel as `nil, err`. */
#ifndef BT_ERROBJ_H
#define BT_ERROBJ_H
#include "bt/lua.h"

/* [-0, +2, m] Push nil and a new error table; returns 2 for `return bt_err_push(...)`. */
int bt_err_push(lua_State *L, const char *kind, long status, const char *message);
void bt_err_open(lua_State *L);

#endif
