/* Every Lua primitive module the host preloads, one C file each in src/prim/. */
#ifndef BT_PRIM_H
#define BT_PRIM_H
#include <stdbool.h>
#include "bt/lua.h"

int luaopen_bt_log(lua_State *L);     /* bt.log    src/prim/log.c */
int luaopen_bt_config(lua_State *L);  /* bt.config src/prim/config.c */
int luaopen_bt_clock(lua_State *L);   /* bt.clock  src/prim/clock.c */
int luaopen_bt_graphql(lua_State *L); /* bt.graphql src/prim/graphql.c */
int luaopen_bt_emit(lua_State *L);    /* bt.emit   src/prim/emit.c */

/* Open or close bt.config reads (open while sync or a provisioning handler runs). */
void bt_config_set_readable(bool yes);

#endif
