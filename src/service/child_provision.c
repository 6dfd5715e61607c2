/* Inside a task process: a provisioning task through the script's handler
 * (the one the one-shot flags call), answered with the response Any. */
#include "service/svc.h"
#include "bt/prim.h"
#include "bt/graphql.h"
#include "bt/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TYPE_PREFIX "type.googleapis.com/c1.connector.v2."

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

static int pack_into(const ProtobufCMessage *m, bt_svc_outcome *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (bt_http_buf_reserve(&out->value, n + 1) != 0)
        return -1;
    out->value.len = protobuf_c_message_pack(m, (uint8_t *)out->value.data);
    snprintf(out->type_url, sizeof out->type_url, "type.googleapis.com/%s", m->descriptor->name);
    return 0;
}

/* [-0, +0] The created account as a Resource shaped like the sync's users. */
static int created_account(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                           bt_svc_outcome *out)
{
    const char *type = t->create_account->resource_type_id;
    for (int i = 0; (!type || !*type) && i < c->type_count; i++)
        if (c->types[i].account_provisioning)
            type = c->types[i].id;
    lua_getfield(L, idx, "id");
    lua_getfield(L, idx, "email");
    lua_getfield(L, idx, "display_name");
    const char *id = lua_tostring(L, -3), *email = lua_tostring(L, -2), *name = lua_tostring(L, -1);
    int rc = bt_svc_account_response(type ? type : "", id ? id : "", email, name, out);
    lua_pop(L, 3);
    return rc;
}

static int success(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                   const char *handler, bt_svc_outcome *out)
{
    if (strcmp(handler, "create_account") == 0)
        return created_account(L, idx, c, t, out);
    if (strcmp(handler, "grant") == 0) {
        C1__Connector__V2__GrantManagerServiceGrantResponse r = C1__CONNECTOR__V2__GRANT_MANAGER_SERVICE_GRANT_RESPONSE__INIT;
        return pack_into(&r.base, out);
    }
    if (strcmp(handler, "revoke") == 0) {
        C1__Connector__V2__GrantManagerServiceRevokeResponse r = C1__CONNECTOR__V2__GRANT_MANAGER_SERVICE_REVOKE_RESPONSE__INIT;
        return pack_into(&r.base, out);
    }
    C1__Connector__V2__DeleteResourceResponse r = C1__CONNECTOR__V2__DELETE_RESOURCE_RESPONSE__INIT;
    return pack_into(&r.base, out);
}

static void run_handler(bt_host *h, const bt_contract *c, const SvcTask *t, bt_svc_outcome *out)
{
    lua_State *L = bt_host_lua(h);
    bt_host_error herr;
    int top = lua_gettop(L);
    const char *handler = bt_svc_push_request(L, t);
    bt_contract_push_function(h, c, handler);
    if (!lua_isfunction(L, -1)) {
        out->code = BT_GRPC_UNIMPLEMENTED;
        out->non_retryable = true;
        snprintf(out->text, sizeof out->text, "the connector script has no '%s' handler", handler);
        lua_settop(L, top);
        return;
    }
    lua_insert(L, -2);
    bt_graphql_allow_writes(true);
    bt_config_set_readable(true); /* the provisioning phase, as one-shot runs it */
    if (bt_host_call(h, 1, 2, &herr) != 0) {
        bt_log_redact(herr.message, out->text, sizeof out->text);
        out->code = bt_svc_code_for_kind(herr.kind); /* a thrown failure keeps its code */
        out->non_retryable = true;
    } else if (lua_isnil(L, -2) || (lua_isboolean(L, -2) && !lua_toboolean(L, -2)))
        failure(L, lua_absindex(L, -1), out);
    else if (success(L, lua_absindex(L, -2), c, t, handler, out) != 0) {
        out->code = BT_GRPC_INTERNAL;
        snprintf(out->text, sizeof out->text, "out of memory encoding the response");
    }
    bt_config_set_readable(false);
    bt_graphql_allow_writes(false);
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
    run_handler(h, &c, t, out);
    if (out->code == BT_GRPC_OK)
        bt_info("service: task %s: %s done", t->id, out->type_url + strlen("type.googleapis.com/"));
    bt_contract_free(&c);
    bt_host_free(h);
}
