/* Where a script went wrong: the first frame of script code (a Lua function
 * outside a lib/ directory, not C), so an error names the author's line even
 * when a C function or a library raised it. */
#include "bt/host.h"

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

void bt_host_returned_error(lua_State *L, int err_idx, const char *fallback, bt_host_error *err)
{
    err_idx = lua_absindex(L, err_idx);
    const char *msg = lua_isnil(L, err_idx) ? "returned nil" : luaL_tolstring(L, err_idx, NULL);
    const char *where = fallback;
    if (lua_istable(L, err_idx) && lua_getfield(L, err_idx, "where") == LUA_TSTRING)
        where = lua_tostring(L, -1);
    if (where && *where && !bt_host_message_has_position(msg))
        snprintf(err->message, sizeof err->message, "%s: %s", where, msg);
    else
        snprintf(err->message, sizeof err->message, "%s", msg);
    err->traceback[0] = '\0';
    lua_settop(L, err_idx);
}
