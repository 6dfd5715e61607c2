/* Where a script went wrong: the first frame of script code (a Lua function
 * outside a lib/ directory, not C), so an error names the author's line even
 * when a C function or a library raised it. */
#include "bt/host.h"
#include "bt/log.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Library code: C functions, and scripts in a directory named lib. */
static bool is_library(const lua_Debug *ar)
{
    if (strcmp(ar->what, "C") == 0 || ar->source[0] != '@')
        return strcmp(ar->what, "C") == 0;
    const char *end = strrchr(ar->source, '/');
    if (!end)
        return false;
    const char *start = end;
    while (start > ar->source && start[-1] != '/')
        start--;
    return end - start == 3 && strncmp(start, "lib", 3) == 0;
}

bool bt_host_script_position(lua_State *L, int level, char *out, size_t n)
{
    lua_Debug ar;
    for (; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || is_library(&ar) || ar.currentline <= 0)
            continue;
        snprintf(out, n, "%s:%d", ar.short_src, ar.currentline);
        return true;
    }
    return false;
}

bool bt_host_message_has_position(const char *msg)
{
    for (const char *p = strchr(msg, ':'); p; p = strchr(p + 1, ':')) {
        const char *d = p + 1;
        while (isdigit((unsigned char)*d))
            d++;
        if (d > p + 1 && *d == ':')
            return true;
    }
    return false;
}

void bt_host_function_position(lua_State *L, int idx, char *out, size_t n)
{
    lua_Debug ar;
    out[0] = '\0';
    lua_pushvalue(L, idx);
    if (lua_getinfo(L, ">S", &ar) && strcmp(ar.what, "C") != 0)
        snprintf(out, n, "%s:%d", ar.short_src, ar.linedefined);
}

void bt_host_error_kind(lua_State *L, int idx, char *out, size_t n)
{
    out[0] = '\0';
    if (!lua_istable(L, idx))
        return;
    idx = lua_absindex(L, idx);
    lua_pushliteral(L, "kind");
    if (lua_rawget(L, idx) == LUA_TSTRING)
        snprintf(out, n, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* [-1, +2] The error value as a string, and its `where` (or nil). Runs the
 * value's metamethods (__tostring, __index), so it is called protected. */
static int describe_error(lua_State *L)
{
    /* A plain table ({message = ..., kind = ...}) says its message. */
    bool plain_message = lua_istable(L, 1) &&
                         luaL_getmetafield(L, 1, "__tostring") == LUA_TNIL &&
                         lua_getfield(L, 1, "message") == LUA_TSTRING;
    if (!plain_message)
        luaL_tolstring(L, 1, NULL);
    if (lua_istable(L, 1))
        lua_getfield(L, 1, "where");
    else
        lua_pushnil(L);
    return 2;
}

void bt_host_returned_error(lua_State *L, int err_idx, const char *fallback, bt_host_error *err)
{
    err_idx = lua_absindex(L, err_idx);
    bt_host_error_kind(L, err_idx, err->kind, sizeof err->kind);
    const char *msg = "returned nil", *where = fallback;
    char unshowable[96];
    if (!lua_isnil(L, err_idx)) {
        /* A script's error value is script code too: a throwing or endless
         * __tostring must not escape the protected call that ran the handler. */
        lua_pushcfunction(L, describe_error);
        lua_pushvalue(L, err_idx);
        if (lua_pcall(L, 1, 2, 0) == LUA_OK && lua_type(L, -2) == LUA_TSTRING) {
            msg = lua_tostring(L, -2);
            if (lua_type(L, -1) == LUA_TSTRING)
                where = lua_tostring(L, -1);
        } else {
            snprintf(unshowable, sizeof unshowable,
                     "the handler failed with a %s that cannot be shown as text",
                     luaL_typename(L, err_idx));
            msg = unshowable;
        }
    }
    if (err->kind[0]) {
        /* A failure about the input or the world: its message is the
         * report; the script line that returned it is for debugging. */
        snprintf(err->message, sizeof err->message, "%s", msg);
        bt_debug("%s failure returned at %s: %s", err->kind, where && *where ? where : "?", msg);
    } else if (where && *where && !bt_host_message_has_position(msg))
        snprintf(err->message, sizeof err->message, "%s: %s", where, msg);
    else
        snprintf(err->message, sizeof err->message, "%s", msg);
    err->traceback[0] = '\0';
    lua_settop(L, err_idx);
}
