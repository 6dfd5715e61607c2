/* One GraphQL document from a script: the body encoded from Lua values, the
 * answer pushed as data or nil, err. The session (endpoint, pacing, retries,
 * re-ask budget, counters) is graphql/session.c's, which has no Lua. */
#include <string.h>

#include "bt/budget.h"
#include "bt/graphql_lua.h"

static void put(lua_State *L, bt_http_buf *body, const char *s)
{
    if (bt_http_buf_puts(body, s) != 0)
        luaL_error(L, "graphql: out of memory");
}

/* [-0, +0, e] {"query":...,"variables":{...}} into the session's body. */
static void build_body(lua_State *L, const char *query, size_t qlen, int vars_idx)
{
    bt_http_buf *body = bt_graphql_body();
    put(L, body, "{\"query\":");
    bt_graphql_json_string(L, query, qlen, body);
    put(L, body, ",\"variables\":");
    size_t at = body->len;
    if (vars_idx == 0)
        put(L, body, "{}");
    else
        bt_graphql_json_encode(L, vars_idx, body, "graphql: variables");
    if (body->data[at] != '{')
        luaL_error(L, "graphql: variables must be a table of named values, not an array");
    put(L, body, "}");
}

static bool answered_2xx(const bt_http_response *resp)
{
    return resp->outcome == BT_HTTP_DONE && resp->status >= 200 && resp->status <= 299;
}

/* [-0, +0, -] Whether the error on top has this kind. */
static bool kind_is(lua_State *L, const char *kind)
{
    lua_getfield(L, -1, "kind");
    bool yes = lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), kind) == 0;
    lua_pop(L, 1);
    return yes;
}

/* [-0, +0, -] True when the pushed result (n values) is a decode error of a
 * complete 2xx answer: a body cut short or mangled on the way. */
static bool is_mangled_answer(lua_State *L, int n, const bt_http_response *resp)
{
    if (n != 2 || !answered_2xx(resp) || !kind_is(L, "decode"))
        return false;
    /* Valid JSON of the wrong shape is the server's answer, not damage. */
    char why[128];
    if (bt_graphql_json_decode(L, resp->body, resp->body_len, BT_JSON_MAX_DEPTH, why, sizeof why) != 0)
        return true;
    lua_pop(L, 1);
    return false;
}

/* [-0, +0, -] The error on top (a mutation's) gets maybe_applied: true when
 * the mutation was sent and its answer lost or unreadable, so the script can
 * read the state back; false when it certainly was not applied. */
static void mark_maybe_applied(lua_State *L, const bt_http_response *resp)
{
    bool maybe = bt_http_maybe_applied(resp);
    if (!maybe && answered_2xx(resp))
        maybe = kind_is(L, "decode");
    lua_pushboolean(L, maybe);
    lua_setfield(L, -2, "maybe_applied");
}

/* [-0, +0, -] The pushed result (n values) is a GraphQL error at HTTP 2xx
 * whose message holds one of the script's rate-limit phrases. */
static bool rate_limited_at_2xx(lua_State *L, int n, const bt_http_response *resp)
{
    if (n != 2 || !answered_2xx(resp) || !kind_is(L, "graphql"))
        return false;
    lua_getfield(L, -1, "message");
    bool hit = lua_isstring(L, -1) && bt_graphql_rate_limit_message(lua_tostring(L, -1));
    lua_pop(L, 1);
    return hit;
}

/* [-0, +1|+2, e] POST the session's body and push the result. A query whose
 * answer arrives mangled is asked again (it is safe to repeat), within the
 * attempt cap; a mutation never is, since it may have been applied. */
static int post_and_push(lua_State *L, bool write, bool keep_root_nulls)
{
    bt_http_response resp;
    bt_graphql_query_begin();
    int limited = 0;
    double limited_wait = 0;
    for (;;) {
        bt_graphql_post(write, &resp);
        bt_budget_touch(L); /* the script waited: its CPU budget starts again */
        bt_graphql_json_root_nulls(keep_root_nulls);
        int n = bt_graphql_push_response(L, &resp);
        bt_graphql_json_root_nulls(false);
        if (rate_limited_at_2xx(L, n, &resp) &&
            bt_graphql_wait_rate_limited(&limited, &limited_wait, &resp)) {
            lua_pop(L, n); /* not applied: the server refused it, as with a 429 */
            continue;
        }
        if (write && n == 2)
            mark_maybe_applied(L, &resp);
        if (write || !is_mangled_answer(L, n, &resp) ||
            !bt_graphql_reask("the answer was not valid JSON")) {
            bt_graphql_query_end();
            return n;
        }
        lua_pop(L, n);
    }
}

/* [-0, +0, m] A GraphQL error names the operation that got it
 * ("graphql: Users: Cannot query field ..."): one sync sends many documents. */
static void name_operation(lua_State *L, int n, const char *query, size_t qlen)
{
    char name[128];
    if (n != 2 || !lua_istable(L, -1))
        return;
    bt_graphql_operation_name(query, qlen, name, sizeof name);
    if (!kind_is(L, "graphql") || !name[0])
        return;
    lua_getfield(L, -1, "message");
    lua_pushfstring(L, "%s: %s", name, luaL_optstring(L, -1, ""));
    lua_setfield(L, -3, "message");
    lua_pop(L, 1);
}

static bool g_next_keeps_root_nulls;

void bt_graphql_next_keeps_root_nulls(void) { g_next_keeps_root_nulls = true; }

int bt_graphql_execute(lua_State *L, const char *query, size_t qlen, int vars_idx)
{
    bool keep = g_next_keeps_root_nulls; /* taken before anything can raise */
    g_next_keeps_root_nulls = false;
    bool write;
    char why[200];
    if (bt_graphql_admit(query, qlen, &write, why, sizeof why) != 0)
        return luaL_error(L, "graphql: %s", why);
    if (vars_idx)
        vars_idx = lua_absindex(L, vars_idx);
    build_body(L, query, qlen, vars_idx);
    bt_graphql_note_request(write);
    int n = post_and_push(L, write, keep);
    name_operation(L, n, query, qlen);
    return n;
}
