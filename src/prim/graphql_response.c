/* An HTTP result -> GraphQL `data`, or `nil, err` with an error kind: the
 * body read into Lua values, the error object built from graphql/result.c's
 * {kind, status, message}. */
#include <stdio.h>
#include <string.h>

#include "bt/errobj.h"
#include "bt/graphql_lua.h"

typedef struct msgbuf {
    char text[512];
} msgbuf;

/* [-0, +2, m] nil, err: the Lua error object for e. */
static int push_error(lua_State *L, const bt_graphql_error *e)
{
    bt_err_push(L, e->kind, e->status, e->message);
    if (e->retry_after >= 0) {
        lua_pushnumber(L, e->retry_after);
        lua_setfield(L, -2, "retry_after");
    }
    return 2;
}

static int push_err(lua_State *L, const char *kind, const bt_http_response *r, const char *message)
{
    bt_graphql_error e;
    bt_graphql_error_set(&e, r, kind, r->status, message);
    return push_error(L, &e);
}

/* [-0, +1|+0, m] Push the body when it is a JSON object; else fill why. */
static bool decode_object(lua_State *L, const bt_http_response *r, char *why, size_t whysz)
{
    if (bt_graphql_json_decode(L, r->body, r->body_len, BT_JSON_MAX_DEPTH, why, whysz) != 0)
        return false;
    size_t i = strspn(r->body, " \t\r\n"); /* an array decodes to a table too */
    if (lua_type(L, -1) == LUA_TTABLE && r->body[i] == '{')
        return true;
    lua_pop(L, 1);
    snprintf(why, whysz, "the response is not a JSON object");
    return false;
}

/* [-0, +0, -] A non-empty `errors` in the body at idx. */
static bool has_errors(lua_State *L, int idx)
{
    bool yes = lua_getfield(L, idx, "errors") == LUA_TTABLE;
    if (yes) {
        lua_pushnil(L);
        yes = lua_next(L, -2) != 0;
        if (yes)
            lua_pop(L, 2);
    }
    lua_pop(L, 1);
    return yes;
}

/* [-0, +0, m] errors[1].message of the body at idx, noting how many more. */
static bool first_error_message(lua_State *L, int idx, msgbuf *m)
{
    int top = lua_gettop(L);
    bool found = lua_getfield(L, idx, "errors") == LUA_TTABLE &&
                 lua_rawgeti(L, -1, 1) == LUA_TTABLE &&
                 lua_getfield(L, -1, "message") == LUA_TSTRING;
    if (found) {
        lua_Integer more = (lua_Integer)lua_rawlen(L, top + 1) - 1;
        if (more > 0)
            snprintf(m->text, sizeof m->text, "%s (and %lld more)", lua_tostring(L, -1),
                     (long long)more);
        else
            snprintf(m->text, sizeof m->text, "%s", lua_tostring(L, -1));
    }
    lua_settop(L, top);
    return found;
}

/* [-0, +0, m] The message a server put in the body at idx, if any:
 * errors[1].message, then message, detail or error. */
static bool server_message(lua_State *L, int idx, msgbuf *m)
{
    static const char *const fields[] = {"message", "detail", "error"};
    bool found = first_error_message(L, idx, m);
    for (size_t i = 0; !found && i < sizeof fields / sizeof *fields; i++) {
        if (lua_getfield(L, idx, fields[i]) == LUA_TSTRING) {
            snprintf(m->text, sizeof m->text, "%s", lua_tostring(L, -1));
            found = true;
        }
        lua_pop(L, 1);
    }
    return found;
}

/* [-1, +2, m] Replace the body at the top with nil, err{kind="graphql",
 * errors=, data=}. */
static int push_graphql_error(lua_State *L, const bt_http_response *r)
{
    int body = lua_gettop(L);
    msgbuf m;
    if (!first_error_message(L, body, &m))
        snprintf(m.text, sizeof m.text, "the server returned GraphQL errors");
    push_err(L, "graphql", r, m.text);
    lua_getfield(L, body, "errors");
    lua_setfield(L, -2, "errors");
    if (lua_getfield(L, body, "data") == LUA_TTABLE)
        lua_setfield(L, -2, "data");
    else
        lua_pop(L, 1);
    lua_remove(L, body);
    return 2;
}

/* [-0, +1|+2, m] A 2xx: data, or a decode/graphql error. */
static int push_success(lua_State *L, const bt_http_response *r)
{
    char why[160], msg[200];
    if (!decode_object(L, r, why, sizeof why)) {
        snprintf(msg, sizeof msg, "invalid JSON in the response: %s", why);
        return push_err(L, "decode", r, msg);
    }
    if (has_errors(L, -1))
        return push_graphql_error(L, r);
    if (lua_getfield(L, -1, "data") != LUA_TTABLE) {
        lua_pop(L, 2);
        return push_err(L, "decode", r, "the response has neither data nor errors");
    }
    lua_remove(L, -2);
    return 1;
}

/* [-0, +2, m] Any other status (e: its kind and default message), with the
 * server's message when the body is JSON; a 400 carrying GraphQL errors is
 * kind graphql. */
static int push_status_error(lua_State *L, const bt_http_response *r, bt_graphql_error *e)
{
    char why[160];
    msgbuf m;
    if (!decode_object(L, r, why, sizeof why))
        return push_error(L, e);
    if (r->status == 400 && has_errors(L, -1))
        return push_graphql_error(L, r);
    int body = lua_gettop(L);
    if (server_message(L, body, &m))
        bt_graphql_error_set(e, r, e->kind, r->status, m.text);
    push_error(L, e);
    lua_remove(L, body);
    return 2;
}

int bt_graphql_push_response(lua_State *L, const bt_http_response *r)
{
    bt_graphql_error e;
    luaL_checkstack(L, 8, "graphql response");
    if (!bt_graphql_http_error(r, &e))
        return push_success(L, r);
    if (r->outcome != BT_HTTP_DONE)
        return push_error(L, &e);
    return push_status_error(L, r, &e);
}
