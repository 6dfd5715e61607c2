/* The listing views of `show` and their columns (shared/c1z-format.md 7):
 * each decodes its row, resolves what the row refers to through lookups
 * (a missing reference fails the command, as in the baton CLI) and turns
 * the result into table cells. */
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

typedef C1__Connector__V2__ResourceType ResourceType;
typedef C1__Connector__V2__Resource Resource;
typedef C1__Connector__V2__ResourceId ResourceId;
typedef C1__Connector__V2__Entitlement Entitlement;
typedef C1__Connector__V2__Grant Grant;

static const char *str(const char *s)
{
    return s ? s : "";
}

/* Prefixes the message already in e with "<what> <id>: ". */
static int in_context(bt_show_err *e, const char *what, const char *id)
{
    bt_show_err inner = *e;
    bt_show_fail(e, "%s %s: %s", what, str(id), inner.msg);
    return -1;
}

/* Cells 0..n-1 of row, in order; -1 when memory ran out. */
static int set_cells(bt_show_row *row, const char *const *text, size_t n)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= bt_show_row_set(row, i, text[i]);
    return rc;
}
#define CELLS(row, ...) set_cells(row, (const char *const[]){__VA_ARGS__}, \
                                  sizeof((const char *const[]){__VA_ARGS__}) / sizeof(char *))

static ProtobufCMessage *decode_row(const char *table, int64_t rowid,
                                    const ProtobufCMessageDescriptor *d, const void *blob,
                                    size_t len, bt_show_err *e)
{
    bt_show_err inner;
    ProtobufCMessage *m = bt_show_decode(d, blob, len, &inner);
    if (!m)
        bt_show_fail(e, "%s row %lld: bad blob: %s", table, (long long)rowid, inner.msg);
    return m;
}

static void put(bt_show_resolved *r, size_t i, const char *key, void *msg)
{
    r->key[i] = key;
    r->msg[i] = msg;
}

/* ---- resource types: ID, Display Name, Traits ------------------------------ */

static int resource_type_resolve(bt_show_ctx *c, int64_t rowid, const void *blob, size_t len,
                                 bt_show_resolved *r, bt_show_err *e)
{
    (void)c;
    put(r, 0, "resourceType",
        decode_row("v1_resource_types", rowid, &c1__connector__v2__resource_type__descriptor, blob,
                   len, e));
    return r->msg[0] ? 0 : -1;
}

static char *join_traits(const ResourceType *rt)
{
    size_t cap = 1;
    for (size_t i = 0; i < rt->n_traits; i++)
        cap += 32 + 2;
    char *s = calloc(1, cap);
    for (size_t i = 0; s && i < rt->n_traits; i++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &c1__connector__v2__resource_type__trait__descriptor, (int)rt->traits[i]);
        size_t used = strlen(s);
        if (v)
            snprintf(s + used, cap - used, "%s%.32s", i ? ", " : "", v->name);
        else
            snprintf(s + used, cap - used, "%s%d", i ? ", " : "", (int)rt->traits[i]);
    }
    return s;
}

static int resource_type_cells(const bt_show_resolved *r, bt_show_row *row)
{
    const ResourceType *rt = (const ResourceType *)r->msg[0];
    char *traits = join_traits(rt);
    int rc = traits ? CELLS(row, rt->id, rt->display_name, traits) : -1;
    free(traits);
    return rc;
}

/* ---- resources: ID, Display Name, Resource Type, Parent Resource ----------- */

static int resource_resolve(bt_show_ctx *c, int64_t rowid, const void *blob, size_t len,
                            bt_show_resolved *r, bt_show_err *e)
{
    Resource *res = (Resource *)decode_row("v1_resources", rowid,
                                           &c1__connector__v2__resource__descriptor, blob, len, e);
    put(r, 0, "resource", res);
    if (!res)
        return -1;
    const char *id = res->id ? res->id->resource : "";
    const char *type = res->id ? res->id->resource_type : "";
    put(r, 1, "resourceType", bt_show_lookup_resource_type(c->lookup, str(type), e));
    if (!r->msg[1])
        return in_context(e, "resource", id);
    if (!res->parent_resource_id)
        return 0;
    put(r, 2, "parent", bt_show_lookup_resource(c->lookup, res->parent_resource_id, e));
    return r->msg[2] ? 0 : in_context(e, "resource", id);
}

static int resource_cells(const bt_show_resolved *r, bt_show_row *row)
{
    const Resource *res = (const Resource *)r->msg[0];
    const ResourceType *rt = (const ResourceType *)r->msg[1];
    const Resource *parent = (const Resource *)r->msg[2];
    int rc = CELLS(row, res->id ? res->id->resource : "", res->display_name, rt->display_name);
    if (parent)
        rc |= bt_show_row_setf(row, 3, "%s (%s)", str(parent->display_name),
                               str(res->parent_resource_id->resource_type));
    else
        rc |= bt_show_row_set(row, 3, "-");
    return rc;
}

/* ---- entitlements: ID, Display Name, Resource Type, Resource, Permission -- */

/* Puts the resource and resource type an entitlement/grant refers to into
 * slots i and i+1. */
static int resolve_owner(bt_show_ctx *c, const ResourceId *id, bt_show_resolved *r, size_t i,
                         bt_show_err *e)
{
    if (!id) {
        bt_show_fail(e, "bad blob: no entitlement resource id");
        return -1;
    }
    put(r, i, "resource", bt_show_lookup_resource(c->lookup, id, e));
    if (!r->msg[i])
        return -1;
    put(r, i + 1, "resourceType",
        bt_show_lookup_resource_type(c->lookup, str(id->resource_type), e));
    return r->msg[i + 1] ? 0 : -1;
}

static int entitlement_resolve(bt_show_ctx *c, int64_t rowid, const void *blob, size_t len,
                               bt_show_resolved *r, bt_show_err *e)
{
    Entitlement *ent = (Entitlement *)decode_row(
        "v1_entitlements", rowid, &c1__connector__v2__entitlement__descriptor, blob, len, e);
    put(r, 0, "entitlement", ent);
    if (!ent)
        return -1;
    const ResourceId *owner = ent->resource ? ent->resource->id : NULL;
    return resolve_owner(c, owner, r, 1, e) < 0 ? in_context(e, "entitlement", ent->id) : 0;
}

static int entitlement_cells(const bt_show_resolved *r, bt_show_row *row)
{
    const Entitlement *ent = (const Entitlement *)r->msg[0];
    const Resource *res = (const Resource *)r->msg[1];
    const ResourceType *rt = (const ResourceType *)r->msg[2];
    return CELLS(row, ent->id, ent->display_name, rt->display_name, res->display_name, ent->slug);
}

/* ---- grants: ID, Resource Type, Resource, Entitlement, Principal ----------- */

static int grant_refs(bt_show_ctx *c, const Grant *g, bt_show_resolved *r, bt_show_err *e)
{
    if (!g->entitlement || !g->principal || !g->principal->id) {
        bt_show_fail(e, "bad blob: the grant lacks its entitlement or principal");
        return -1;
    }
    put(r, 1, "entitlement", bt_show_lookup_entitlement(c->lookup, str(g->entitlement->id), e));
    if (!r->msg[1])
        return -1;
    const ResourceId *owner = g->entitlement->resource ? g->entitlement->resource->id : NULL;
    if (resolve_owner(c, owner, r, 2, e) < 0)
        return -1;
    if (c->sync && c->sync->type && strcmp(c->sync->type, "partial") == 0) {
        bool missing = false;
        put(r, 4, "principal", bt_show_lookup_resource_if_any(c->lookup, g->principal->id,
                                                              &missing, e));
        return r->msg[4] || missing ? 0 : -1;
    }
    put(r, 4, "principal", bt_show_lookup_resource(c->lookup, g->principal->id, e));
    return r->msg[4] ? 0 : -1;
}

static int grant_resolve(bt_show_ctx *c, int64_t rowid, const void *blob, size_t len,
                         bt_show_resolved *r, bt_show_err *e)
{
    Grant *g = (Grant *)decode_row("v1_grants", rowid, &c1__connector__v2__grant__descriptor, blob,
                                   len, e);
    put(r, 0, "grant", g);
    if (!g)
        return -1;
    return grant_refs(c, g, r, e) < 0 ? in_context(e, "grant", g->id) : 0;
}

static int grant_cells(const bt_show_resolved *r, bt_show_row *row)
{
    const Grant *g = (const Grant *)r->msg[0];
    const Entitlement *ent = (const Entitlement *)r->msg[1];
    const Resource *res = (const Resource *)r->msg[2];
    const ResourceType *rt = (const ResourceType *)r->msg[3];
    const Resource *principal = (const Resource *)r->msg[4];
    int rc = CELLS(row, g->id, rt->display_name, res->display_name, ent->display_name);
    if (principal)
        rc |= bt_show_row_set(row, 4, principal->display_name);
    else /* a partial sync's principal, not in this file */
        rc |= bt_show_row_setf(row, 4, "%s:%s", str(g->principal->id->resource_type),
                               str(g->principal->id->resource));
    return rc;
}

/* ---- principals: ID, Display Name, Resource Type, Login, Status ------------- */

static int principal_cells(const bt_show_resolved *r, bt_show_row *row)
{
    const Resource *res = (const Resource *)r->msg[0];
    const ResourceType *rt = (const ResourceType *)r->msg[1];
    char *login = bt_show_resource_login(res);
    int rc = login ? CELLS(row, res->id ? res->id->resource : "", res->display_name,
                           rt->display_name, login, bt_show_resource_status(res))
                   : -1;
    free(login);
    return rc;
}

/* ---- the views, in the order the combined view prints them ----------------- */

static const char *const STATS_HEADER[] = {"Type", "Count"};
static const char *const RESOURCE_TYPE_HEADER[] = {"ID", "Display Name", "Traits"};
static const char *const RESOURCE_HEADER[] = {"ID", "Display Name", "Resource Type",
                                              "Parent Resource"};
static const char *const ENTITLEMENT_HEADER[] = {"ID", "Display Name", "Resource Type", "Resource",
                                                 "Permission"};
static const char *const GRANT_HEADER[] = {"ID", "Resource Type", "Resource", "Entitlement",
                                           "Principal"};
static const char *const PRINCIPAL_HEADER[] = {"ID", "Display Name", "Resource Type", "Login",
                                               "Status"};
static const char *const SYNC_HEADER[] = {"ID", "Started At", "Ended At", "Type", "Parent ID"};

const bt_show_view BT_SHOW_VIEWS[] = {
    {BT_SHOW_VIEW_STATS, "Stats", "stats", STATS_HEADER, 2, NULL, NULL, NULL, NULL,
     bt_show_view_run_stats, false},
    {BT_SHOW_VIEW_RESOURCE_TYPES, "Resource Types", "resourceTypes", RESOURCE_TYPE_HEADER, 3,
     "v1_resource_types", "external_id", resource_type_resolve, resource_type_cells,
     bt_show_view_run_rows, false},
    {BT_SHOW_VIEW_RESOURCES, "Resources", "resources", RESOURCE_HEADER, 4, "v1_resources",
     "resource_type_id", resource_resolve, resource_cells, bt_show_view_run_rows, false},
    {BT_SHOW_VIEW_ENTITLEMENTS, "Entitlements", "entitlements", ENTITLEMENT_HEADER, 5,
     "v1_entitlements", "resource_type_id", entitlement_resolve, entitlement_cells,
     bt_show_view_run_rows, false},
    {BT_SHOW_VIEW_GRANTS, "Grants", "grants", GRANT_HEADER, 5, "v1_grants", "resource_type_id",
     grant_resolve, grant_cells, bt_show_view_run_rows, true},
    {BT_SHOW_VIEW_PRINCIPALS, "Principals", "principals", PRINCIPAL_HEADER, 5, "v1_resources",
     "resource_type_id", resource_resolve, principal_cells, bt_show_view_run_principals, false},
    {BT_SHOW_VIEW_SYNCS, "Syncs", "syncs", SYNC_HEADER, 5, NULL, NULL, NULL, NULL,
     bt_show_view_run_syncs, false},
};
const size_t BT_SHOW_VIEW_COUNT = sizeof BT_SHOW_VIEWS / sizeof BT_SHOW_VIEWS[0];
_Static_assert(sizeof BT_SHOW_VIEWS / sizeof BT_SHOW_VIEWS[0] <= BT_SHOW_VIEW_MAX,
               "raise BT_SHOW_VIEW_MAX");
