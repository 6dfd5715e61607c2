/* The single protected entry from C into Lua: traceback handler, error to a C struct. */
#include "bt/host.h"
#include "bt/budget.h"
#include "bt/log.h"

#include <stdio.h>
#include <string.h>

/* Message handler: keep the error's text (tostring, so error tables with
 * __tostring read well) and append a traceback, as {message, traceback,
 * kind}. A thrown failure (a table with a string kind: a runtime error value
 * re-raised, a lib.failure) is a report about the world: its message stays
 * without a position, which the traceback keeps for the debug log. */
static int message_handler(lua_State *L)
{
    char where[512], kind[32];
    bt_host_error_kind(L, 1, kind, sizeof kind);
    const char *msg = luaL_tolstring(L, 1, NULL);
    /* An error raised by C (a bad argument, a primitive's misuse) or thrown as a
     * table carries no position: name the author's line. */
    if (!kind[0] && !bt_host_message_has_position(msg) &&
        bt_host_script_position(L, 1, where, sizeof where)) {
        lua_pushfstring(L, "%s: %s", where, msg);
        lua_replace(L, -2);
    }
    luaL_traceback(L, L, NULL, 1);
    lua_createtable(L, 3, 0);
    lua_insert(L, -3);
    lua_rawseti(L, -3, 2);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, kind);
    lua_rawseti(L, -2, 3);
    return 1;
}

static void copy_string(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

/* Keep the message to one line: "\n\t" continuations (require's style) become
 * spaces, anything after another newline belongs in the traceback. */
static void one_line(char *s)
{
    char *w = s;
    for (char *r = s; *r; r++) {
        if (r[0] == '\n' && r[1] == '\t') {
            *w++ = ' ';
            r++;
        } else if (*r == '\n') {
            break;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

/* Fill err from the handler's {message, traceback} table (or a bare value). */
static void fill_error(lua_State *L, bt_host_error *err)
{
    if (lua_istable(L, -1)) {
        lua_rawgeti(L, -1, 1);
        lua_rawgeti(L, -2, 2);
        lua_rawgeti(L, -3, 3);
        copy_string(err->message, sizeof err->message, lua_tostring(L, -3));
        copy_string(err->traceback, sizeof err->traceback, lua_tostring(L, -2));
        copy_string(err->kind, sizeof err->kind, lua_tostring(L, -1));
        lua_pop(L, 3);
    } else {
        err->kind[0] = '\0';
        copy_string(err->message, sizeof err->message,
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "error object is not a string");
        err->traceback[0] = '\0';
    }
    one_line(err->message);
}

/* Lua's bare "not enough memory" becomes the limit's name and the place. */
static void explain_memory(bt_host *h, bt_host_error *err)
{
    char why[sizeof err->message];
    if (bt_budget_explain_memory(bt_host_budget(h), err->message, why, sizeof why))
        memcpy(err->message, why, sizeof why);
}

int bt_host_call(bt_host *h, int nargs, int nresults, bt_host_error *err)
{
    lua_State *L = bt_host_lua(h);
    int base = lua_gettop(L) - nargs;
    lua_pushcfunction(L, message_handler);
    lua_insert(L, base);
    bt_budget_begin_call(bt_host_budget(h));
    int rc = lua_pcall(L, nargs, nresults, base);
    bt_budget_end_call(bt_host_budget(h));
    if (rc != LUA_OK) {
        fill_error(L, err);
        explain_memory(h, err);
        lua_settop(L, base - 1);
        bt_debug("Lua error: %s\n%s", err->message, err->traceback);
        return -1;
    }
    lua_remove(L, base);
    return 0;
}

int bt_host_require(bt_host *h, const char *module, bt_host_error *err)
{
    lua_State *L = bt_host_lua(h);
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    return bt_host_call(h, 1, 1, err);
}
