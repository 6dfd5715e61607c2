/* Inside a task process: a provisioning task through the script's handler
 * (the one the one-shot flags call), answered with the response Any. */
#include "service/svc.h"
#include "action/action.h"
#include "bt/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool kind_is(const char *kind, const char *name) { return kind && strcmp(kind, name) == 0; }

/* The gRPC code of a handler's failure, from its error kind alone (the
 * runtime's kinds, and those a provisioning script sets: scripts/API.md
 * "Provisioning errors"). The text is never read: what a refusal says is the
 * script's business. */
int bt_svc_code_for_kind(const char *kind)
{
    if (kind_is(kind, "input"))
        return BT_GRPC_INVALID_ARGUMENT;
    if (kind_is(kind, "precondition"))
        return BT_GRPC_FAILED_PRECONDITION;
    if (kind_is(kind, "not_found"))
        return BT_GRPC_NOT_FOUND;
    if (kind_is(kind, "permission") || kind_is(kind, "auth"))
        return BT_GRPC_PERMISSION_DENIED;
    if (kind_is(kind, "transport") || kind_is(kind, "rate_limited") || kind_is(kind, "server"))
        return BT_GRPC_UNAVAILABLE;
    return BT_GRPC_UNKNOWN;
}

/* [-0, +0] The handler's `nil, err` (a string or an error table) as a status:
 * the code from err.kind (bt_svc_code_for_kind), the text from its __tostring, or a
 * plain table's message. */
static void failure(lua_State *L, int idx, bt_svc_outcome *out)
{
    int top = lua_gettop(L);
    const char *kind = NULL, *msg = NULL;
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "kind");
        kind = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL) {
            lua_getfield(L, idx, "message");
            msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        } else
            lua_pop(L, 1);
    }
    if (!msg)
        msg = lua_isnil(L, idx) ? "handler returned nil" : luaL_tolstring(L, idx, NULL);
    bt_log_redact(msg, out->text, sizeof out->text);
    out->code = bt_svc_code_for_kind(kind);
    out->non_retryable = true;
    lua_settop(L, top);
}

static void no_handler(const char *handler, bt_svc_outcome *out)
{
    out->code = BT_GRPC_UNIMPLEMENTED;
    out->non_retryable = true;
    snprintf(out->text, sizeof out->text, "the connector script has no '%s' handler", handler);
}

void bt_svc_provision_task(bt_host *h, const bt_contract *c, const SvcTask *t, bt_svc_outcome *out)
{
    const bt_action *a = bt_action_for_task(t->task_type_case);
    if (!a) { /* tasks.c sends only the table's cases here: never guess one */
        out->code = BT_GRPC_UNKNOWN;
        out->non_retryable = true;
        snprintf(out->text, sizeof out->text, "unsupported task type");
        return;
    }
    lua_State *L = bt_host_lua(h);
    bt_host_error herr;
    char defined_at[512];
    int top = lua_gettop(L);
    a->from_task(L, t);
    bt_action_answer answer = {&out->value, out->type_url, sizeof out->type_url, out->text,
                               sizeof out->text};
    switch (bt_action_call(h, c, a, defined_at, sizeof defined_at, &herr)) {
    case BT_ACTION_NO_HANDLER: no_handler(a->handler, out); break;
    case BT_ACTION_THREW:
        bt_log_redact(herr.message, out->text, sizeof out->text);
        out->code = bt_svc_code_for_kind(herr.kind); /* a thrown failure keeps its code */
        out->non_retryable = true;
        break;
    case BT_ACTION_REFUSED: failure(L, lua_absindex(L, -1), out); break;
    case BT_ACTION_DONE:
        if (a->answer(L, lua_absindex(L, -2), c, t, &answer) != 0) {
            /* the handler ran: its change may be made, so never run it again */
            out->code = BT_GRPC_INTERNAL;
            out->non_retryable = true;
            out->type_url[0] = '\0';
            out->value.len = 0;
        }
        break;
    }
    lua_settop(L, top);
}

void bt_svc_child_provision(bt_svc_daemon *d, const SvcTask *t, const char *dir,
                            bt_svc_outcome *out)
{
    bt_contract c;
    (void)dir;
    bt_host *h = bt_svc_child_host(d, &c, out);
    if (!h) {
        out->non_retryable = true;
        return;
    }
    bt_svc_provision_task(h, &c, t, out);
    if (out->code == BT_GRPC_OK)
        bt_info("service: task %s: %s done", t->id, out->type_url + strlen("type.googleapis.com/"));
    bt_contract_free(&c);
    bt_host_free(h);
}
