/* The account-creation form from the script's contract table:
 *   account_creation_schema = { { key = "email", display_name = "Email",
 *     required = true, type = "string" }, ... }
 * The list position is the field's order. Read once in the daemon. */
#include "service/svc.h"

#include <string.h>

typedef C1__Connector__V2__ConnectorAccountCreationSchema Schema;
typedef C1__Connector__V2__ConnectorAccountCreationSchema__Field Field;
typedef C1__Connector__V2__ConnectorAccountCreationSchema__FieldMapEntry Entry;

/* [-0, +0] A string field of the table on top, copied into the arena. */
static char *opt_string(lua_State *L, const char *key, bt_arena *a)
{
    lua_getfield(L, -1, key);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    char *copy = bt_arena_strdup(a, v);
    lua_pop(L, 1);
    return copy;
}

static bool opt_bool(lua_State *L, const char *key)
{
    lua_getfield(L, -1, key);
    bool v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

/* [-0, +0] One list element (a table on top) as a map entry. */
static Entry *entry(lua_State *L, int order, bt_arena *a)
{
    Entry *e = bt_arena_alloc(a, sizeof *e);
    Field *f = bt_arena_alloc(a, sizeof *f);
    c1__connector__v2__connector_account_creation_schema__field_map_entry__init(e);
    c1__connector__v2__connector_account_creation_schema__field__init(f);
    e->key = opt_string(L, "key", a);
    e->value = f;
    f->display_name = opt_string(L, "display_name", a);
    f->description = opt_string(L, "description", a);
    f->placeholder = opt_string(L, "placeholder", a);
    f->required = opt_bool(L, "required");
    f->order = order;
    char *type = opt_string(L, "type", a);
    if (strcmp(type, "bool") == 0) {
        f->field_case = C1__CONNECTOR__V2__CONNECTOR_ACCOUNT_CREATION_SCHEMA__FIELD__FIELD_BOOL_FIELD;
        f->bool_field = bt_arena_alloc(a, sizeof *f->bool_field);
        c1__connector__v2__connector_account_creation_schema__bool_field__init(f->bool_field);
    } else {
        f->field_case = C1__CONNECTOR__V2__CONNECTOR_ACCOUNT_CREATION_SCHEMA__FIELD__FIELD_STRING_FIELD;
        f->string_field = bt_arena_alloc(a, sizeof *f->string_field);
        c1__connector__v2__connector_account_creation_schema__string_field__init(f->string_field);
    }
    return e;
}

Schema *bt_svc_account_schema(bt_host *h, const bt_contract *c, bt_arena *a)
{
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L);
    Schema *s = NULL;
    bt_contract_push_function(h, c, "account_creation_schema");
    size_t n = lua_istable(L, -1) ? lua_rawlen(L, -1) : 0;
    if (n > 0 && n < 64) {
        s = bt_arena_alloc(a, sizeof *s);
        c1__connector__v2__connector_account_creation_schema__init(s);
        s->field_map = bt_arena_alloc(a, sizeof *s->field_map * n);
        for (size_t i = 1; i <= n; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i);
            if (lua_istable(L, -1))
                s->field_map[s->n_field_map++] = entry(L, (int)i, a);
            lua_pop(L, 1);
        }
    }
    lua_settop(L, top);
    return s;
}
