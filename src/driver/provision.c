/* Provisioning actions: parse the baton flags into a request table, call the
 * script's handler under --provisioning, print one line (or JSON) of result. */
#include "bt/driver.h"
#include "bt/graphql.h"
#include "bt/json_write.h"
#include "bt/log.h"
#include "bt/prim.h"
#include "bt/sink.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *handler;  /* contract function */
    const char *flags[3]; /* flags that select it */
} action;

static const action actions[] = {
    {"grant", {"grant-entitlement", "grant-principal", "grant-principal-type"}},
    {"revoke", {"revoke-grant", NULL, NULL}},
    {"create_account", {"create-account-email", "create-account-login", "create-account-profile"}},
    {"delete_resource", {"delete-resource", "delete-resource-type", NULL}},
};
#define ACTION_COUNT (int)(sizeof actions / sizeof actions[0])

static const char *first_flag_given(const bt_cli *cli, const action *a)
{
    for (int i = 0; i < 3; i++)
        if (a->flags[i] && bt_cli_is_set(cli, a->flags[i]))
            return a->flags[i];
    return NULL;
}

bool bt_driver_wants_provisioning(const bt_cli *cli)
{
    for (int i = 0; i < ACTION_COUNT; i++)
        if (first_flag_given(cli, &actions[i]))
            return true;
    return bt_cli_is_set(cli, "create-account-resource-type");
}

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

static int build_grant(lua_State *L, const bt_cli *cli, char *err, size_t n)
{
    const char *ent = bt_cli_get(cli, "grant-entitlement"), *who = bt_cli_get(cli, "grant-principal");
    if (!ent || !who) {
        snprintf(err, n, "--grant-entitlement and --grant-principal must be given together");
        return -1;
    }
    lua_createtable(L, 0, 2);
    if (push_entitlement_ref(L, ent, strlen(ent)) != 0) {
        snprintf(err, n, "malformed entitlement id \"%s\" (expected <type>:<id>:<slug>)", ent);
        return -1;
    }
    lua_setfield(L, -2, "entitlement");
    push_principal(L, bt_cli_get(cli, "grant-principal-type"), who, strlen(who));
    lua_setfield(L, -2, "principal");
    return 0;
}

/* A grant id is "<entitlement id>:<principal type>:<principal id>". */
static int build_revoke(lua_State *L, const bt_cli *cli, char *err, size_t n)
{
    const char *g = bt_cli_get(cli, "revoke-grant");
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

/* Decode --create-account-profile (a JSON object) with lua-cjson, protected. */
static int push_profile(bt_host *h, const char *json, char *err, size_t n)
{
    lua_State *L = bt_host_lua(h);
    if (!json) {
        lua_newtable(L);
        return 0;
    }
    bt_host_error herr;
    if (bt_host_require(h, "cjson", &herr) != 0) {
        snprintf(err, n, "cannot load lua-cjson: %.900s", herr.message);
        return -1;
    }
    lua_getfield(L, -1, "decode");
    lua_remove(L, -2);
    lua_pushstring(L, json);
    if (bt_host_call(h, 1, 1, &herr) != 0) {
        snprintf(err, n, "--create-account-profile is not valid JSON: %.900s", herr.message);
        return -1;
    }
    /* cjson decodes an array to a table too: one with element [1] is not an object. */
    if (!lua_istable(L, -1) || lua_rawlen(L, -1) > 0) {
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
    const char *want = bt_cli_get(cli, "create-account-resource-type");
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

static int build_create(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n)
{
    const char *type = account_type(c, cli, err, n);
    if (!type)
        return -1;
    lua_State *L = bt_host_lua(h);
    lua_createtable(L, 0, 4);
    if (push_profile(h, bt_cli_get(cli, "create-account-profile"), err, n) != 0)
        return -1;
    lua_setfield(L, -2, "profile");
    const char *email = bt_cli_get(cli, "create-account-email");
    const char *login = bt_cli_get(cli, "create-account-login");
    set_opt_string(L, "email", email ? email : login);
    set_opt_string(L, "login", login ? login : email);
    set_opt_string(L, "resource_type", type);
    return 0;
}

static int build_delete(lua_State *L, const bt_cli *cli, char *err, size_t n)
{
    const char *id = bt_cli_get(cli, "delete-resource"), *type = bt_cli_get(cli, "delete-resource-type");
    if (!id || !type) {
        snprintf(err, n, "--delete-resource and --delete-resource-type must be given together");
        return -1;
    }
    lua_createtable(L, 0, 2);
    set_opt_string(L, "id", id);
    set_opt_string(L, "type", type);
    return 0;
}

static int build_request(bt_host *h, const bt_contract *c, const bt_cli *cli, const action *a,
                         char *err, size_t n)
{
    lua_State *L = bt_host_lua(h);
    if (strcmp(a->handler, "grant") == 0)
        return build_grant(L, cli, err, n);
    if (strcmp(a->handler, "revoke") == 0)
        return build_revoke(L, cli, err, n);
    if (strcmp(a->handler, "create_account") == 0)
        return build_create(h, c, cli, err, n);
    return build_delete(L, cli, err, n);
}

/* Exactly one action. As in baton-sdk, the action flag is the explicit intent
 * and turns provisioning on by itself; -p gates what service mode may run. */
static const action *select_action(const bt_cli *cli, char *err, size_t n)
{
    const action *chosen = NULL;
    const char *chosen_flag = NULL;
    for (int i = 0; i < ACTION_COUNT; i++) {
        const char *flag = first_flag_given(cli, &actions[i]);
        if (!flag)
            continue;
        if (chosen) {
            snprintf(err, n, "--%s and --%s cannot be used together", chosen_flag, flag);
            return NULL;
        }
        chosen = &actions[i];
        chosen_flag = flag;
    }
    if (!chosen)
        snprintf(err, n, "no provisioning action given");
    return chosen;
}

/* Scalar fields of the result table as JSON, keys sorted for stable output. */
static void print_json_result(lua_State *L, const char *handler, int idx)
{
    const char *keys[32];
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) && n < 32) {
        if (lua_type(L, -2) == LUA_TSTRING && !lua_istable(L, -1))
            keys[n++] = lua_tostring(L, -2); /* the key stays referenced by the table */
        lua_pop(L, 1);
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    bt_jw w;
    bt_jw_init(&w, stdout, 0);
    bt_jw_begin_object(&w);
    bt_jw_kv_string(&w, "action", handler);
    bt_jw_key(&w, "ok");
    bt_jw_bool(&w, true);
    for (int i = 0; i < n; i++) {
        lua_getfield(L, idx, keys[i]);
        bt_jw_key(&w, keys[i]);
        if (lua_isboolean(L, -1))
            bt_jw_bool(&w, lua_toboolean(L, -1));
        else if (lua_isinteger(L, -1))
            bt_jw_int(&w, lua_tointeger(L, -1));
        else {
            bt_jw_string(&w, luaL_tolstring(L, -1, NULL));
            lua_pop(L, 1); /* the string luaL_tolstring pushed */
        }
        lua_pop(L, 1);
    }
    bt_jw_end_object(&w);
    fputc('\n', stdout);
}

static void print_result(lua_State *L, const char *handler, int idx)
{
    if (bt_log_get_format() == BT_LOG_JSON && lua_istable(L, idx)) {
        print_json_result(L, handler, idx);
        return;
    }
    const char *msg = NULL;
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "message");
        msg = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    printf("%s: %s\n", handler, msg ? msg : "done");
}

/* [-0, +0] Call the handler with the request on top; report its outcome. */
static int run_handler(bt_host *h, const bt_contract *c, const action *a)
{
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L) - 1; /* the request is on top */
    char defined_at[512];
    bt_contract_push_function(h, c, a->handler);
    bt_host_function_position(L, -1, defined_at, sizeof defined_at);
    lua_insert(L, -2);
    bt_host_error herr;
    int rc = bt_host_call(h, 1, 2, &herr);
    if (rc == 0 && (lua_isnil(L, -2) || (lua_isboolean(L, -2) && !lua_toboolean(L, -2)))) {
        bt_host_returned_error(L, -1, defined_at, &herr);
        rc = -1;
    }
    char what[64];
    snprintf(what, sizeof what, "%s failed", a->handler);
    if (rc != 0 && strcmp(herr.kind, "permission") == 0)
        bt_driver_report(NULL, &herr); /* the refusal names the change itself */
    else if (rc != 0)
        bt_driver_report(what, &herr);
    else
        print_result(L, a->handler, lua_absindex(L, -2));
    lua_settop(L, top);
    return rc == 0 ? 0 : 1;
}

int bt_driver_provision(bt_host *h, const bt_contract *c, const bt_cli *cli)
{
    char err[1024];
    const action *a = select_action(cli, err, sizeof err);
    if (!a) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (!bt_contract_has_function(h, c, a->handler)) {
        fprintf(stderr, "error: the connector script has no '%s' handler\n", a->handler);
        return 1;
    }
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L);
    if (build_request(h, c, cli, a, err, sizeof err) != 0) {
        lua_settop(L, top);
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    /* An interrupted change may have reached the target system: say so on the way out. */
    char said[160];
    snprintf(said, sizeof said, "%s: the change may or may not have been applied; check "
             "before trying again", a->handler);
    bt_sink_note_interruption(said);
    bt_sink_install_signal_cleanup();
    bt_graphql_allow_writes(true);
    bt_config_set_readable(true);
    int rc = run_handler(h, c, a);
    bt_config_set_readable(false);
    bt_graphql_allow_writes(false);
    return rc;
}
