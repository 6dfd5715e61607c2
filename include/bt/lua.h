/* The one place that picks the Lua 5.4 headers (Debian keeps them under lua5.4/). */
#ifndef BT_LUA_H
#define BT_LUA_H
#include <lua5.4/lua.h>
#include <lua5.4/lauxlib.h>
#include <lua5.4/lualib.h>
#endif
