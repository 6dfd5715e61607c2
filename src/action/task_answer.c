/* Service-mode answers: a provisioning handler's success as the response
 * Any its task is finished with (the rows of actions.c point here). */
#include "action/steps.h"

#include <stdio.h>
#include <string.h>

static int pack_into(const ProtobufCMessage *m, const bt_action_answer *out)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (bt_http_buf_reserve(out->value, n + 1) != 0) {
        snprintf(out->error, out->error_size, "out of memory encoding the response");
        return -1;
    }
    out->value->len = protobuf_c_message_pack(m, (uint8_t *)out->value->data);
    snprintf(out->type_url, out->type_url_size, "type.googleapis.com/%s", m->descriptor->name);
    return 0;
}

int bt_act_grant_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                        const bt_action_answer *out)
{
    (void)L, (void)idx, (void)c, (void)t;
    C1__Connector__V2__GrantManagerServiceGrantResponse r = C1__CONNECTOR__V2__GRANT_MANAGER_SERVICE_GRANT_RESPONSE__INIT;
    return pack_into(&r.base, out);
}

int bt_act_revoke_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                         const bt_action_answer *out)
{
    (void)L, (void)idx, (void)c, (void)t;
    C1__Connector__V2__GrantManagerServiceRevokeResponse r = C1__CONNECTOR__V2__GRANT_MANAGER_SERVICE_REVOKE_RESPONSE__INIT;
    return pack_into(&r.base, out);
}

int bt_act_delete_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                         const bt_action_answer *out)
{
    (void)L, (void)idx, (void)c, (void)t;
    C1__Connector__V2__DeleteResourceResponse r = C1__CONNECTOR__V2__DELETE_RESOURCE_RESPONSE__INIT;
    return pack_into(&r.base, out);
}

/* CreateAccountResponse.success for a created account: the new resource with
 * its id, the display name the handler gave (else the email) and a UserTrait
 * with the email as primary, enabled; is_create_account_result true. */
static int account_response(const char *type, const char *id, const char *email,
                            const char *display_name, const bt_action_answer *out)
{
    bt_arena a;
    bt_arena_init(&a, 0);
    C1__Connector__V2__UserTrait trait = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    C1__Connector__V2__UserTrait__Email mail = C1__CONNECTOR__V2__USER_TRAIT__EMAIL__INIT;
    C1__Connector__V2__UserTrait__Email *mails[1] = {&mail};
    C1__Connector__V2__UserTrait__Status status = C1__CONNECTOR__V2__USER_TRAIT__STATUS__INIT;
    status.status = C1__CONNECTOR__V2__USER_TRAIT__STATUS__STATUS__STATUS_ENABLED;
    trait.status = &status;
    if (email) {
        mail.address = (char *)email;
        mail.is_primary = true;
        trait.emails = mails;
        trait.n_emails = 1;
    }
    bt_pb_any *annotations[1] = {bt_pb_any_new(&a, &trait.base)};
    bt_pb_resource_id rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    bt_pb_resource res = C1__CONNECTOR__V2__RESOURCE__INIT;
    rid.resource_type = (char *)type;
    rid.resource = (char *)id;
    res.id = &rid;
    res.display_name = (char *)(display_name ? display_name : email ? email : id);
    res.annotations = annotations;
    res.n_annotations = annotations[0] ? 1 : 0;
    C1__Connector__V2__CreateAccountResponse__SuccessResult ok = C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__SUCCESS_RESULT__INIT;
    ok.resource = &res;
    ok.is_create_account_result = true;
    C1__Connector__V2__CreateAccountResponse r = C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__INIT;
    r.result_case = C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__RESULT_SUCCESS;
    r.success = &ok;
    int rc = pack_into(&r.base, out);
    bt_arena_free(&a);
    return rc;
}

/* [-0, +0] The result's field `key` when it is a string (read raw: no
 * metamethod runs outside a protected call), else NULL. */
static const char *result_string(lua_State *L, int idx, const char *key)
{
    lua_pushstring(L, key);
    lua_rawget(L, idx);
    const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1); /* the string stays referenced by the table */
    return s;
}

/* [-0, +0] The created account as a Resource shaped like the sync's users.
 * The result must be a table with a non-empty string id: without one
 * ConductorOne would be told of an account it cannot name. */
int bt_act_create_answer(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                         const bt_action_answer *out)
{
    if (!lua_istable(L, idx)) {
        snprintf(out->error, out->error_size, "create_account returned a %s, not a table",
                 luaL_typename(L, idx));
        return -1;
    }
    const char *id = result_string(L, idx, "id");
    if (!id || !id[0]) {
        snprintf(out->error, out->error_size, "create_account returned no account id");
        return -1;
    }
    const char *type = t->create_account->resource_type_id;
    for (int i = 0; (!type || !*type) && i < c->type_count; i++)
        if (c->types[i].account_provisioning)
            type = c->types[i].id;
    return account_response(type ? type : "", id, result_string(L, idx, "email"),
                            result_string(L, idx, "display_name"), out);
}
