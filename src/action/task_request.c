/* Service-mode requests: each provisioning task checked as the SDK does,
 * then as the request table the one-shot flags build for the same script
 * handler (flags_request.c); the rows of actions.c point here. */
#include "action/steps.h"

#include <string.h>

/* [-0, +1] {id, type, resource, slug}: the slug is what follows
 * "<type>:<resource>:" in the entitlement id (else its last segment). */
static void push_entitlement(lua_State *L, const bt_pb_entitlement *e)
{
    const char *type = e->resource->id->resource_type, *rid = e->resource->id->resource;
    const char *id = e->id ? e->id : "", *slug = strrchr(id, ':');
    size_t tl = strlen(type), rl = strlen(rid);
    if (strncmp(id, type, tl) == 0 && id[tl] == ':' && strncmp(id + tl + 1, rid, rl) == 0 &&
        id[tl + 1 + rl] == ':')
        slug = id + tl + 1 + rl;
    lua_createtable(L, 0, 4);
    lua_pushstring(L, id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, type);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, rid);
    lua_setfield(L, -2, "resource");
    lua_pushstring(L, slug ? slug + 1 : "");
    lua_setfield(L, -2, "slug");
}

/* [-0, +1] {type, id} */
static void push_principal(lua_State *L, const bt_pb_resource *r)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, r->id->resource_type);
    lua_setfield(L, -2, "type");
    lua_pushstring(L, r->id->resource);
    lua_setfield(L, -2, "id");
}

static void push_value(lua_State *L, const Google__Protobuf__Value *v, int depth);

/* [-0, +1] A Struct as a table of its fields. */
static void push_struct(lua_State *L, const bt_pb_struct *s, int depth)
{
    lua_newtable(L);
    for (size_t i = 0; s && i < s->n_fields && depth < 16; i++) {
        push_value(L, s->fields[i]->value, depth + 1);
        lua_setfield(L, -2, s->fields[i]->key);
    }
}

static void push_value(lua_State *L, const Google__Protobuf__Value *v, int depth)
{
    switch (v ? v->kind_case : GOOGLE__PROTOBUF__VALUE__KIND__NOT_SET) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: lua_pushnumber(L, v->number_value); break;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: lua_pushstring(L, v->string_value); break;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE: lua_pushboolean(L, v->bool_value); break;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE: push_struct(L, v->struct_value, depth); break;
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        lua_newtable(L);
        for (size_t i = 0; v->list_value && i < v->list_value->n_values && depth < 16; i++) {
            push_value(L, v->list_value->values[i], depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    default: lua_pushnil(L);
    }
}

static void set_string(lua_State *L, const char *key, const char *v)
{
    if (v && *v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, key);
    }
}

/* The primary email, else the first one, else the profile's "email". */
static const char *primary_email(const C1__Connector__V2__AccountInfo *a)
{
    for (size_t i = 0; i < a->n_emails; i++)
        if (a->emails[i]->is_primary && a->emails[i]->address && a->emails[i]->address[0])
            return a->emails[i]->address;
    if (a->n_emails && a->emails[0]->address && a->emails[0]->address[0])
        return a->emails[0]->address;
    for (size_t i = 0; a->profile && i < a->profile->n_fields; i++) {
        const Google__Protobuf__Value *v = a->profile->fields[i]->value;
        if (strcmp(a->profile->fields[i]->key, "email") == 0 && v &&
            v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE)
            return v->string_value;
    }
    return NULL;
}

void bt_act_create_from_task(lua_State *L, const SvcTask *t)
{
    const C1__Connector__V2__AccountInfo *a = t->create_account->account_info;
    const char *email = primary_email(a), *login = a->login && a->login[0] ? a->login : NULL;
    lua_createtable(L, 0, 4);
    push_struct(L, a->profile, 0);
    lua_setfield(L, -2, "profile");
    set_string(L, "email", email ? email : login);
    set_string(L, "login", login ? login : email);
    set_string(L, "resource_type", t->create_account->resource_type_id);
}

void bt_act_grant_from_task(lua_State *L, const SvcTask *t)
{
    lua_createtable(L, 0, 2);
    push_entitlement(L, t->grant->entitlement);
    lua_setfield(L, -2, "entitlement");
    push_principal(L, t->grant->principal);
    lua_setfield(L, -2, "principal");
}

void bt_act_revoke_from_task(lua_State *L, const SvcTask *t)
{
    lua_createtable(L, 0, 3);
    push_entitlement(L, t->revoke->grant->entitlement);
    lua_setfield(L, -2, "entitlement");
    push_principal(L, t->revoke->grant->principal);
    lua_setfield(L, -2, "principal");
    set_string(L, "grant", t->revoke->grant->id);
}

void bt_act_delete_from_task(lua_State *L, const SvcTask *t)
{
    lua_createtable(L, 0, 2);
    set_string(L, "id", t->delete_resource->resource_id->resource);
    set_string(L, "type", t->delete_resource->resource_id->resource_type);
}

static bool id_set(const C1__Connector__V2__ResourceId *id)
{
    return id && id->resource_type && id->resource_type[0] && id->resource && id->resource[0];
}

static bool resource_set(const bt_pb_resource *r) { return r && id_set(r->id); }

const char *bt_act_grant_malformed(const SvcTask *t)
{
    if (!t->grant->entitlement || !resource_set(t->grant->entitlement->resource) ||
        !t->grant->entitlement->id || !resource_set(t->grant->principal))
        return "malformed grant task: an entitlement and a principal are required";
    return NULL;
}

const char *bt_act_revoke_malformed(const SvcTask *t)
{
    if (!t->revoke->grant || !t->revoke->grant->entitlement ||
        !resource_set(t->revoke->grant->entitlement->resource) ||
        !resource_set(t->revoke->grant->principal))
        return "malformed revoke task: a grant with entitlement and principal is required";
    return NULL;
}

const char *bt_act_create_malformed(const SvcTask *t)
{
    return t->create_account->account_info ? NULL
                                           : "malformed create_account task: account_info is required";
}

const char *bt_act_delete_malformed(const SvcTask *t)
{
    return id_set(t->delete_resource->resource_id)
               ? NULL : "malformed delete_resource task: resource_id is required";
}
