/* Validates the entry script's table once, with errors naming the file and field. */
#include "bt/contract.h"
#include "action/action.h"
#include "bt/suggest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ITEM_PATH_LEN 64 /* "resource_types[<int>]." and the like */

typedef struct {
    lua_State *L;
    bt_host *host;
    const char *file;
    bt_host_error *err;
} checker;

static const char *const known_traits[] = {"user", "group", "role", "app", NULL};

/* The keys each table of the contract may hold; any other key is a typo. */
/* The contract's own keys; the provisioning handlers (the action table's)
 * come after "sync" (top_keys). */
static const char *const top_head[] = {"api_version", "name", "display_name", "description",
                                       "config", "resource_types", "sync", NULL};
static const char *const top_tail[] = {"validate", "account_creation_schema", "external_link",
                                       NULL};
static const char *const field_keys[] = {"name", "help", "default", "required_unless", "type",
                                         "required", "secret", "ops", "display_name", NULL};
static const char *const type_keys[] = {"id", "display_name", "description", "traits",
                                        "skip_entitlements_and_grants", "provision",
                                        "account_provisioning", "resource_delete", "opt_in",
                                        "targeted_sync", "sync", NULL};
/* The optional functions besides sync and the provisioning handlers (the action table's). */
static const char *const other_handlers[] = {"validate", "external_link", NULL};
/* account_creation_schema[*]: the form ConductorOne shows for a new account. */
static const char *const account_field_keys[] = {"key", "display_name", "description",
                                                 "placeholder", "required", "type", NULL};

static int fail(checker *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(checker *k, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(k->err->message, sizeof k->err->message, "%s: %s", k->file, what);
    k->err->traceback[0] = '\0';
    k->err->kind[0] = '\0';
    return -1;
}

/* Every key of the table at idx must be in allowed: a misspelt key (`secrte`)
 * would otherwise be ignored silently, and a misspelt `secret` exposes a key. */
static int check_keys(checker *k, int idx, const char *path, const char *const *allowed)
{
    int t = lua_absindex(k->L, idx);
    lua_pushnil(k->L);
    while (lua_next(k->L, t)) {
        lua_pop(k->L, 1);
        if (lua_type(k->L, -1) != LUA_TSTRING) {
            const char *what = luaL_typename(k->L, -1);
            lua_pop(k->L, 1);
            return fail(k, "unexpected %s key in '%s' (fields are named)", what,
                        *path ? path : "the contract");
        }
        const char *key = lua_tostring(k->L, -1);
        bool known = false;
        for (int i = 0; allowed[i] && !known; i++)
            known = strcmp(key, allowed[i]) == 0;
        if (!known) {
            char hint[128];
            bt_suggest_hint(key, allowed, hint, sizeof hint);
            int rc = fail(k, "unknown field '%s%s'%s", path, key, hint);
            lua_pop(k->L, 1);
            return rc;
        }
    }
    return 0;
}

/* top_head, the action handlers, top_tail: NULL-terminated in out[n]. */
static void list_top_keys(const char **out, int n)
{
    int used = 0;
    for (int i = 0; top_head[i] && used < n - 1; i++)
        out[used++] = top_head[i];
    for (int i = 0; bt_action_at(i) && used < n - 1; i++)
        out[used++] = bt_action_at(i)->handler;
    for (int i = 0; top_tail[i] && used < n - 1; i++)
        out[used++] = top_tail[i];
    out[used] = NULL;
}

/* Read t[key] (t at idx) as a string into *out. Missing: error if required. */
static int get_string(checker *k, int idx, const char *key, const char *path, bool required,
                      char **out)
{
    int type = lua_getfield(k->L, idx, key);
    *out = NULL;
    if (type == LUA_TNIL && !required) {
        lua_pop(k->L, 1);
        return 0;
    }
    if (type != LUA_TSTRING) {
        const char *got = lua_typename(k->L, type);
        lua_pop(k->L, 1);
        return fail(k, "field '%s%s' must be a string (got %s)", path, key, got);
    }
    *out = strdup(lua_tostring(k->L, -1));
    lua_pop(k->L, 1);
    return *out ? 0 : fail(k, "out of memory reading field '%s%s'", path, key);
}

static int get_bool(checker *k, int idx, const char *key, const char *path, bool *out)
{
    int type = lua_getfield(k->L, idx, key);
    *out = false;
    if (type != LUA_TNIL && type != LUA_TBOOLEAN) {
        lua_pop(k->L, 1);
        return fail(k, "field '%s%s' must be a boolean (got %s)", path, key,
                    lua_typename(k->L, type));
    }
    *out = lua_toboolean(k->L, -1);
    lua_pop(k->L, 1);
    return 0;
}

/* Push t[key] and check it is a sequence table; returns its length or -1. */
static int get_list(checker *k, int idx, const char *key, bool required)
{
    int type = lua_getfield(k->L, idx, key);
    if (type == LUA_TNIL && !required) {
        lua_pop(k->L, 1);
        lua_newtable(k->L);
        return 0;
    }
    if (type != LUA_TTABLE) {
        lua_pop(k->L, 1);
        return fail(k, "field '%s' must be a list (got %s)", key, lua_typename(k->L, type));
    }
    return (int)luaL_len(k->L, -1);
}

static int parse_field_type(checker *k, const char *s, const char *path, bt_field_type *out)
{
    static const char *const names[] = {"string", "bool", "int"};
    *out = BT_FIELD_STRING;
    if (!s)
        return 0;
    for (int i = 0; i < 3; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (bt_field_type)i;
            return 0;
        }
    return fail(k, "field '%stype' must be \"string\", \"bool\" or \"int\" (got \"%s\")", path, s);
}

/* Item i of list `list`, on top of the stack, must be a table of known keys;
 * path gets its prefix for errors ("list[i]."). */
static int check_item(checker *k, const char *list, int i, const char *const *keys,
                      char path[ITEM_PATH_LEN])
{
    snprintf(path, ITEM_PATH_LEN, "%s[%d].", list, i);
    if (!lua_istable(k->L, -1))
        return fail(k, "field '%s[%d]' must be a table", list, i);
    return check_keys(k, -1, path, keys);
}

/* config[i], on top of the stack, into c->fields[i - 1]. */
static int read_field(checker *k, bt_contract *c, int i)
{
    bt_config_field *f = &c->fields[i - 1];
    char path[ITEM_PATH_LEN], *type = NULL;
    int rc = check_item(k, "config", i, field_keys, path);
    rc = rc ? rc : get_string(k, -1, "name", path, true, &f->name);
    rc = rc ? rc : get_string(k, -1, "help", path, true, &f->help);
    rc = rc ? rc : get_string(k, -1, "default", path, false, &f->default_value);
    rc = rc ? rc : get_string(k, -1, "required_unless", path, false, &f->required_unless);
    rc = rc ? rc : get_string(k, -1, "display_name", path, false, &f->display_name);
    rc = rc ? rc : get_string(k, -1, "type", path, false, &type);
    rc = rc ? rc : get_bool(k, -1, "required", path, &f->required);
    rc = rc ? rc : get_bool(k, -1, "secret", path, &f->secret);
    rc = rc ? rc : get_bool(k, -1, "ops", path, &f->ops);
    rc = rc ? rc : parse_field_type(k, type, path, &f->type);
    free(type);
    return rc;
}

/* Reads items 1..n of the list on top of the stack with read(k, c, i), up to
 * the first that fails, counting them in *count; pops the list. */
static int read_items(checker *k, bt_contract *c, int n, int *count,
                      int (*read)(checker *, bt_contract *, int))
{
    int rc = 0;
    for (int i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(k->L, -1, i);
        rc = read(k, c, i);
        *count = i;
        lua_pop(k->L, 1);
    }
    lua_pop(k->L, 1);
    return rc;
}

static int read_fields(checker *k, bt_contract *c)
{
    int n = get_list(k, -1, "config", true);
    if (n < 0)
        return -1;
    c->fields = calloc((size_t)n + 1, sizeof *c->fields);
    return read_items(k, c, n, &c->field_count, read_field);
}

static int read_traits(checker *k, bt_resource_type_decl *t, const char *path)
{
    lua_getfield(k->L, -1, "traits");
    if (!lua_istable(k->L, -1)) {
        lua_pop(k->L, 1);
        return fail(k, "field '%straits' must be a list of trait names", path);
    }
    int n = (int)luaL_len(k->L, -1), rc = 0;
    if (n > BT_MAX_TRAITS)
        rc = fail(k, "field '%straits' lists more than %d traits", path, BT_MAX_TRAITS);
    for (int i = 1; i <= n && rc == 0; i++) {
        lua_rawgeti(k->L, -1, i);
        const char *name = lua_tostring(k->L, -1);
        int known = 0;
        for (int j = 0; name && known_traits[j]; j++)
            known |= strcmp(name, known_traits[j]) == 0;
        if (!known)
            rc = fail(k, "field '%straits[%d]' must be one of user, group, role, app", path, i);
        else if (!(t->traits[t->trait_count] = strdup(name)))
            rc = fail(k, "out of memory reading field '%straits'", path);
        else
            t->trait_count++;
        lua_pop(k->L, 1);
    }
    lua_pop(k->L, 1);
    return rc;
}

/* resource_types[i], on top of the stack, into c->types[i - 1]. */
static int read_type(checker *k, bt_contract *c, int i)
{
    bt_resource_type_decl *t = &c->types[i - 1];
    char path[ITEM_PATH_LEN];
    int rc = check_item(k, "resource_types", i, type_keys, path);
    rc = rc ? rc : get_string(k, -1, "id", path, true, &t->id);
    rc = rc ? rc : get_string(k, -1, "display_name", path, true, &t->display_name);
    rc = rc ? rc : get_string(k, -1, "description", path, false, &t->description);
    rc = rc ? rc : read_traits(k, t, path);
    rc = rc ? rc : get_bool(k, -1, "skip_entitlements_and_grants", path,
                            &t->skip_entitlements_and_grants);
    rc = rc ? rc : get_bool(k, -1, "provision", path, &t->provision);
    rc = rc ? rc : get_bool(k, -1, "account_provisioning", path, &t->account_provisioning);
    rc = rc ? rc : get_bool(k, -1, "resource_delete", path, &t->resource_delete);
    rc = rc ? rc : get_bool(k, -1, "targeted_sync", path, &t->targeted_sync);
    rc = rc ? rc : get_string(k, -1, "opt_in", path, false, &t->opt_in);
    rc = rc ? rc : get_string(k, -1, "sync", path, false, &t->sync_module);
    return rc;
}

static int read_types(checker *k, bt_contract *c)
{
    int n = get_list(k, -1, "resource_types", true);
    if (n < 0)
        return -1;
    if (n == 0) {
        lua_pop(k->L, 1);
        return fail(k, "field 'resource_types' must list at least one resource type");
    }
    c->types = calloc((size_t)n, sizeof *c->types);
    return read_items(k, c, n, &c->type_count, read_type);
}

/* The handler called name, when the script gives one, must be a function. */
static int check_optional_function(checker *k, const char *name)
{
    int type = lua_getfield(k->L, -1, name);
    lua_pop(k->L, 1);
    if (type != LUA_TNIL && type != LUA_TFUNCTION)
        return fail(k, "field '%s' must be a function (got %s)", name, lua_typename(k->L, type));
    return 0;
}

/* A type that promises an action needs the action's handler. */
static int check_promises(checker *k, const bt_contract *c)
{
    for (int i = 0; i < c->type_count; i++)
        for (int j = 0; bt_action_at(j); j++) {
            const bt_action *a = bt_action_at(j);
            if (!bt_action_promised(a, &c->types[i]))
                continue;
            int type = lua_getfield(k->L, -1, a->handler);
            lua_pop(k->L, 1);
            if (type != LUA_TFUNCTION)
                return fail(k, "resource type '%s' promises it but field '%s' is not a function",
                            c->types[i].id, a->handler);
        }
    return 0;
}

static int check_functions(checker *k, const bt_contract *c)
{
    int type = lua_getfield(k->L, -1, "sync");
    lua_pop(k->L, 1);
    if (type != LUA_TFUNCTION)
        return fail(k, "field 'sync' must be a function (got %s)", lua_typename(k->L, type));
    for (int j = 0; bt_action_at(j); j++)
        if (check_optional_function(k, bt_action_at(j)->handler) != 0)
            return -1;
    for (int i = 0; other_handlers[i]; i++)
        if (check_optional_function(k, other_handlers[i]) != 0)
            return -1;
    return check_promises(k, c);
}

/* An opt-in type names the bool setting that turns it on. */
static int check_opt_ins(checker *k, const bt_contract *c)
{
    for (int i = 0; i < c->type_count; i++) {
        const char *want = c->types[i].opt_in;
        if (!want)
            continue;
        int found = -1;
        for (int j = 0; j < c->field_count && found < 0; j++)
            if (strcmp(c->fields[j].name, want) == 0)
                found = j;
        if (found < 0 || c->fields[found].type != BT_FIELD_BOOL)
            return fail(k, "field 'resource_types[%d].opt_in' must name a bool config field (\"%s\" is %s)",
                        i + 1, want, found < 0 ? "not a config field" : "not a bool");
    }
    return 0;
}

/* A type's `sync` names a module whose sync() emits that type: loading it now
 * turns a misspelt module name into a load error instead of a failed sync. */
static int check_sync_modules(checker *k, const bt_contract *c)
{
    for (int i = 0; i < c->type_count; i++) {
        const char *module = c->types[i].sync_module;
        if (!module)
            continue;
        if (bt_host_require(k->host, module, k->err) != 0) {
            char why[1024];
            snprintf(why, sizeof why, "%.1000s", k->err->message);
            return fail(k, "field 'resource_types[%d].sync': %s", i + 1, why);
        }
        bool has_sync = false;
        if (lua_istable(k->L, -1)) {
            lua_getfield(k->L, -1, "sync");
            has_sync = lua_isfunction(k->L, -1);
            lua_pop(k->L, 1);
        }
        lua_pop(k->L, 1);
        if (!has_sync)
            return fail(k, "field 'resource_types[%d].sync': module '%s' has no sync function",
                        i + 1, module);
    }
    return 0;
}

static int check_version(checker *k)
{
    int type = lua_getfield(k->L, -1, "api_version");
    int isnum = 0;
    lua_Integer v = lua_tointegerx(k->L, -1, &isnum);
    lua_pop(k->L, 1);
    if (type == LUA_TNIL || !isnum)
        return fail(k, "field 'api_version' must be an integer (the runtime provides API version %d)",
                    BT_API_VERSION);
    if (v != BT_API_VERSION)
        return fail(k, "script targets runtime API version %lld but this runtime provides version %d",
                    (long long)v, BT_API_VERSION);
    return 0;
}

/* Optional account_creation_schema: a list of fields, each with a string key
 * and a type of "string" or "bool". */
static int check_account_schema(checker *k)
{
    int n = get_list(k, -1, "account_creation_schema", false);
    if (n < 0)
        return -1;
    int rc = 0;
    for (int i = 1; i <= n && rc == 0; i++) {
        char path[64];
        snprintf(path, sizeof path, "account_creation_schema[%d].", i);
        lua_rawgeti(k->L, -1, i);
        char *key = NULL, *type = NULL;
        if (!lua_istable(k->L, -1))
            rc = fail(k, "field 'account_creation_schema[%d]' must be a table", i);
        rc = rc ? rc : check_keys(k, -1, path, account_field_keys);
        rc = rc ? rc : get_string(k, -1, "key", path, true, &key);
        rc = rc ? rc : get_string(k, -1, "type", path, false, &type);
        if (rc == 0 && type && strcmp(type, "string") != 0 && strcmp(type, "bool") != 0)
            rc = fail(k, "field '%stype' must be \"string\" or \"bool\" (got \"%s\")", path, type);
        free(key);
        free(type);
        lua_pop(k->L, 1);
    }
    lua_pop(k->L, 1);
    return rc;
}

static int validate(checker *k, bt_contract *c)
{
    if (!lua_istable(k->L, -1))
        return fail(k, "the entry script must return a table (got %s)", luaL_typename(k->L, -1));
    const char *top_keys[32];
    list_top_keys(top_keys, 32);
    int rc = check_keys(k, -1, "", top_keys);
    rc = rc ? rc : check_version(k);
    rc = rc ? rc : get_string(k, -1, "name", "", true, &c->name);
    rc = rc ? rc : get_string(k, -1, "display_name", "", true, &c->display_name);
    rc = rc ? rc : get_string(k, -1, "description", "", false, &c->description);
    rc = rc ? rc : read_fields(k, c);
    rc = rc ? rc : read_types(k, c);
    rc = rc ? rc : check_opt_ins(k, c);
    rc = rc ? rc : check_functions(k, c);
    rc = rc ? rc : check_sync_modules(k, c);
    rc = rc ? rc : check_account_schema(k);
    return rc;
}

int bt_contract_load(bt_host *h, const char *module, bt_contract *c, bt_host_error *err)
{
    memset(c, 0, sizeof *c);
    c->table_ref = LUA_NOREF;
    if (bt_host_require(h, module, err) != 0)
        return -1;
    const char *file = bt_host_module_file(h, module);
    c->source_file = strdup(file ? file : module);
    checker k = {bt_host_lua(h), h, c->source_file ? c->source_file : module, err};
    if (validate(&k, c) != 0) {
        lua_pop(k.L, 1);
        bt_contract_free(c); /* the caller keeps no half-read contract */
        return -1;
    }
    c->table_ref = luaL_ref(k.L, LUA_REGISTRYINDEX);
    return 0;
}

static void free_type(bt_resource_type_decl *t)
{
    free(t->id);
    free(t->display_name);
    free(t->description);
    free(t->opt_in);
    free(t->sync_module);
    for (int j = 0; j < t->trait_count; j++)
        free(t->traits[j]);
}

void bt_contract_free(bt_contract *c)
{
    for (int i = 0; i < c->field_count; i++) {
        bt_config_field *f = &c->fields[i];
        free(f->name);
        free(f->help);
        free(f->default_value);
        free(f->required_unless);
        free(f->display_name);
    }
    for (int i = 0; i < c->type_count; i++)
        free_type(&c->types[i]);
    free(c->fields);
    free(c->types);
    free(c->source_file);
    free(c->name);
    free(c->display_name);
    free(c->description);
    memset(c, 0, sizeof *c);
}

void bt_contract_push_function(bt_host *h, const bt_contract *c, const char *name)
{
    lua_State *L = bt_host_lua(h);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->table_ref);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
}

bool bt_contract_has_function(bt_host *h, const bt_contract *c, const char *name)
{
    bt_contract_push_function(h, c, name);
    bool yes = lua_isfunction(bt_host_lua(h), -1);
    lua_pop(bt_host_lua(h), 1);
    return yes;
}

