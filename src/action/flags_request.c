/* One-shot requests: the baton flags of each provisioning action as the
 * request table its script handler takes (the rows of actions.c). */
#include "action/steps.h"
#include "bt/json_lua.h"
#include "bt/cli.h"

#include <stdio.h>
#include <string.h>

/* [-0, +1] {type=, resource=, slug=, id=} from "type:resource:slug". */
static int push_entitlement_ref(lua_State *L, const char *id, size_t len)
{
    const char *first = memchr(id, ':', len), *last = NULL;
    for (const char *p = id + len; p > id; p--)
        if (p[-1] == ':') {
            last = p - 1;
            break;
        }
    if (!first || last == first || first == id || last + 1 == id + len || last - first < 2)
        return -1;
    lua_createtable(L, 0, 4);
    lua_pushlstring(L, id, len);
    lua_setfield(L, -2, "id");
    lua_pushlstring(L, id, (size_t)(first - id));
    lua_setfield(L, -2, "type");
    lua_pushlstring(L, first + 1, (size_t)(last - first - 1));
    lua_setfield(L, -2, "resource");
    lua_pushlstring(L, last + 1, (size_t)(id + len - last - 1));
    lua_setfield(L, -2, "slug");
    return 0;
}

static void push_principal(lua_State *L, const char *type, const char *id, size_t idlen)
{
    lua_createtable(L, 0, 2);
    if (type) {
        lua_pushstring(L, type);
        lua_setfield(L, -2, "type");
    }
    lua_pushlstring(L, id, idlen);
    lua_setfield(L, -2, "id");
}

/* [-0, +1] The values of two flags that only work together, and the new
 * request table for them; NULL with err (nothing pushed) when one is missing. */
static lua_State *request_of_pair(bt_host *h, const bt_cli *cli, bt_flag_id a, bt_flag_id b,
                                  const char **va, const char **vb, char *err, size_t n)
{
    *va = bt_cli_get(cli, a);
    *vb = bt_cli_get(cli, b);
    if (!*va || !*vb) {
        snprintf(err, n, "--%s and --%s must be given together", bt_cli_flag_name(a),
                 bt_cli_flag_name(b));
        return NULL;
    }
    lua_State *L = bt_host_lua(h);
    lua_createtable(L, 0, 2);
    return L;
}

int bt_act_grant_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n)
{
    (void)c;
    const char *ent, *who;
    lua_State *L = request_of_pair(h, cli, BT_FLAG_GRANT_ENTITLEMENT, BT_FLAG_GRANT_PRINCIPAL, &ent,
                                   &who, err, n);
    if (!L)
        return -1;
    if (push_entitlement_ref(L, ent, strlen(ent)) != 0) {
        snprintf(err, n, "malformed entitlement id \"%s\" (expected <type>:<id>:<slug>)", ent);
        return -1;
    }
    lua_setfield(L, -2, "entitlement");
    push_principal(L, bt_cli_get(cli, BT_FLAG_GRANT_PRINCIPAL_TYPE), who, strlen(who));
    lua_setfield(L, -2, "principal");
    return 0;
}

/* A grant id is "<entitlement id>:<principal type>:<principal id>". */
int bt_act_revoke_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n)
{
    lua_State *L = bt_host_lua(h);
    (void)c;
    const char *g = bt_cli_get(cli, BT_FLAG_REVOKE_GRANT);
    const char *seps[2] = {NULL, NULL};
    for (const char *p = g + strlen(g); p > g && !seps[1]; p--)
        if (p[-1] == ':')
            seps[seps[0] ? 1 : 0] = p - 1;
    lua_createtable(L, 0, 3);
    if (!seps[1] || seps[0] - seps[1] < 2 || seps[0][1] == '\0' ||
        push_entitlement_ref(L, g, (size_t)(seps[1] - g)) != 0) {
        snprintf(err, n, "malformed grant id \"%s\" (expected <type>:<id>:<slug>:<principal type>:<principal id>)", g);
        return -1;
    }
    lua_setfield(L, -2, "entitlement");
    lua_pushlstring(L, seps[1] + 1, (size_t)(seps[0] - seps[1] - 1));
    const char *ptype = lua_tostring(L, -1);
    push_principal(L, ptype, seps[0] + 1, strlen(seps[0] + 1));
    lua_setfield(L, -3, "principal");
    lua_pop(L, 1);
    lua_pushstring(L, g);
    lua_setfield(L, -2, "grant");
    return 0;
}

/* Decode --create-account-profile (a JSON object) with the project's reader
 * (exact integers, strict UTF-8), protected. */
static int push_profile(bt_host *h, const char *json, char *err, size_t n)
{
    lua_State *L = bt_host_lua(h);
    if (!json) {
        lua_newtable(L);
        return 0;
    }
    char why[200];
    int kind = bt_json_lua_pdecode(L, json, strlen(json), NULL, why, sizeof why);
    if (kind < 0) {
        snprintf(err, n, "--create-account-profile is not valid JSON: %s", why);
        return -1;
    }
    if (kind != 1) {
        lua_pop(L, 1);
        snprintf(err, n, "--create-account-profile must be a JSON object");
        return -1;
    }
    return 0;
}

static void set_opt_string(lua_State *L, const char *key, const char *value)
{
    if (!value)
        return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

/* --create-account-resource-type must name a type that declares
 * account_provisioning; without it, the first such type. NULL with err. */
static const char *account_type(const bt_contract *c, const bt_cli *cli, char *err, size_t n)
{
    const char *want = bt_cli_get(cli, BT_FLAG_CREATE_ACCOUNT_RESOURCE_TYPE);
    char can[256] = "";
    for (int i = 0; i < c->type_count; i++) {
        const bt_resource_type_decl *t = &c->types[i];
        if (!t->account_provisioning)
            continue;
        if (!want || strcmp(want, t->id) == 0)
            return t->id;
        size_t used = strlen(can);
        snprintf(can + used, sizeof can - used, "%s%s", used ? ", " : "", t->id);
    }
    if (!want)
        snprintf(err, n, "the connector declares no resource type whose accounts can be created");
    else
        snprintf(err, n, "--create-account-resource-type \"%s\": accounts cannot be created for "
                         "that type; types that can be created: %s", want, *can ? can : "none");
    return NULL;
}

int bt_act_create_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n)
{
    const char *type = account_type(c, cli, err, n);
    if (!type)
        return -1;
    lua_State *L = bt_host_lua(h);
    lua_createtable(L, 0, 4);
    if (push_profile(h, bt_cli_get(cli, BT_FLAG_CREATE_ACCOUNT_PROFILE), err, n) != 0)
        return -1;
    lua_setfield(L, -2, "profile");
    const char *email = bt_cli_get(cli, BT_FLAG_CREATE_ACCOUNT_EMAIL);
    const char *login = bt_cli_get(cli, BT_FLAG_CREATE_ACCOUNT_LOGIN);
    set_opt_string(L, "email", email ? email : login);
    set_opt_string(L, "login", login ? login : email);
    set_opt_string(L, "resource_type", type);
    return 0;
}

int bt_act_delete_from_flags(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n)
{
    (void)c;
    const char *id, *type;
    lua_State *L = request_of_pair(h, cli, BT_FLAG_DELETE_RESOURCE, BT_FLAG_DELETE_RESOURCE_TYPE,
                                   &id, &type, err, n);
    if (L) {
        set_opt_string(L, "id", id);
        set_opt_string(L, "type", type);
    }
    return L ? 0 : -1;
}
