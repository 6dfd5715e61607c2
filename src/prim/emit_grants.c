/* emit.grants{...}: many grants of one slug in one call, either one resource with a list of
 * principals (a group's page of members) or a list of resources with one principal (a user's
 * page of groups). The table is checked once, the annotations are packed once, and each row
 * goes through the sink's packed-grant path (bt_sink_add_grant_packed), which writes exactly
 * the bytes emit.grant writes for the same grant. */
#include "emit_internal.h"

#include <stdlib.h>
#include <string.h>

static const field REF[] = {
    {"type", K_ID, true, NULL, NULL},
    {"id", K_ID, true, NULL, NULL},
    {NULL, K_STR, false, NULL, NULL},
};

static const field LIST[] = {
    {"type", K_ID, true, NULL, NULL},
    {"ids", K_STRLIST, true, NULL, NULL},
    {NULL, K_STR, false, NULL, NULL},
};

static const field GRANTS[] = {
    {"resource", K_TABLE, false, REF, NULL},
    {"resources", K_TABLE, false, LIST, NULL},
    {"slug", K_ID, true, NULL, NULL},
    {"principal", K_TABLE, false, REF, NULL},
    {"principals", K_TABLE, false, LIST, NULL},
    {"immutable", K_BOOL, false, NULL, NULL},
    {NULL, K_STR, false, NULL, NULL},
};

/* The list side: its type and the stack index of its ids table (left on the stack). */
typedef struct {
    char *type;
    int ids;
    size_t n;
    bool is_principal;
} list_side;

/* [-0, +1, v] Push t.<name>.ids and read the list's type; every id must be non-empty. */
static void read_list(ctx *c, const char *name, list_side *out)
{
    lua_State *L = c->L;
    bt_emit_push_table(c, 1, name);
    int t = lua_gettop(L);
    out->type = bt_emit_get_text(c, t, "type");
    bt_emit_rawfield(L, t, "ids");
    lua_remove(L, t);
    out->ids = lua_gettop(L);
    out->n = lua_rawlen(L, out->ids);
    for (size_t i = 1; i <= out->n; i++) {
        size_t len = 0;
        lua_rawgeti(L, out->ids, (lua_Integer)i);
        lua_tolstring(L, -1, &len);
        lua_pop(L, 1);
        if (len == 0)
            bt_emit_fail(c, "field '%s.ids[%zu]' must be a non-empty string", name, i);
    }
}

/* Which side is the list; raises unless exactly one side is a list and the other one ref. */
static void read_sides(ctx *c, bt_pb_resource_id **rid, bt_pb_resource_id **pid, list_side *list)
{
    *rid = bt_emit_get_ref(c, 1, "resource");
    *pid = bt_emit_get_ref(c, 1, "principal");
    bool resources = bt_emit_rawfield(c->L, 1, "resources") != LUA_TNIL;
    bool principals = bt_emit_rawfield(c->L, 1, "principals") != LUA_TNIL;
    lua_pop(c->L, 2);
    if (resources + principals != 1 || (*rid != NULL) == resources ||
        (*pid != NULL) == principals)
        bt_emit_fail(c, "give one resource and a list of principals (resource, principals) or "
                        "a list of resources and one principal (resources, principal)");
    list->is_principal = principals;
    read_list(c, principals ? "principals" : "resources", list);
}

/* Sets g's annotations and returns them packed (Grant field 4), copied into the arena. */
static bt_bytes packed_tail(ctx *c, bt_pb_grant *g)
{
    annotations an = {{0}, 0};
    if (bt_emit_get_bool(c, 1, "immutable")) {
        C1__Connector__V2__GrantImmutable im = C1__CONNECTOR__V2__GRANT_IMMUTABLE__INIT;
        bt_emit_annotate(c, &an, &im.base);
    }
    bt_pb_grant only = C1__CONNECTOR__V2__GRANT__INIT;
    only.annotations = bt_emit_annotations_array(c, &an);
    only.n_annotations = an.n;
    g->annotations = only.annotations;
    g->n_annotations = an.n;
    bt_bytes tmp = {0};
    int rc = bt_pb_pack(&only.base, &tmp);
    bt_bytes out = {0};
    if (rc == 0) {
        out.data = bt_arena_alloc(c->a, tmp.len + 1);
        if (out.data) {
            memcpy(out.data, tmp.data, tmp.len + 1);
            out.len = out.cap = tmp.len;
        }
    }
    free(tmp.data);
    if (rc != 0 || !out.data)
        bt_emit_fail(c, "out of memory");
    return out;
}

int bt_emit_l_grants(lua_State *L)
{
    ctx c;
    bt_emit_begin(L, &c, "bt.emit.grants", GRANTS);
    char *slug = bt_emit_get_text(&c, 1, "slug");
    bt_pb_resource_id *rid, *pid;
    list_side list;
    read_sides(&c, &rid, &pid, &list);
    bt_pb_resource_id row_id = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    bt_pb_resource res = C1__CONNECTOR__V2__RESOURCE__INIT, prin = C1__CONNECTOR__V2__RESOURCE__INIT;
    bt_pb_entitlement ent = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    bt_pb_grant g = C1__CONNECTOR__V2__GRANT__INIT;
    row_id.resource_type = list.type;
    res.id = list.is_principal ? rid : &row_id;
    prin.id = list.is_principal ? &row_id : pid;
    ent.resource = &res;
    g.entitlement = &ent;
    g.principal = &prin;
    bt_bytes tail = packed_tail(&c, &g);
    if (list.is_principal)
        ent.id = bt_emit_check_mem(&c, bt_id_entitlement(c.a, rid->resource_type, rid->resource,
                                                         slug));
    for (size_t i = 1; i <= list.n; i++) {
        lua_rawgeti(L, list.ids, (lua_Integer)i);
        row_id.resource = (char *)lua_tostring(L, -1); /* the ids table keeps it alive */
        lua_pop(L, 1);
        if (!list.is_principal)
            ent.id = bt_emit_check_mem(
                &c, bt_id_entitlement(c.a, row_id.resource_type, row_id.resource, slug));
        g.id = bt_emit_check_mem(&c, bt_id_grant(c.a, ent.id, prin.id->resource_type,
                                                 prin.id->resource));
        char err[1024];
        bt_emit_sink_result(&c, bt_sink_add_grant_packed(c.sink, &g, &tail, err, sizeof err),
                            err);
    }
    lua_pushinteger(L, (lua_Integer)list.n);
    return 1;
}
