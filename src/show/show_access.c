/* `show access FILE --principal TYPE:ID | --resource TYPE:ID`: open the
 * file, choose the sync, check the target is in it, then walk the grant
 * graph (show_access_principal.c, show_access_resource.c) once to size the
 * table and once to print it (or once for JSON). Nothing but the file is
 * read. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "show_access.h"

static const char *const BY_PRINCIPAL[] = {"Type", "ID", "Name", "Entitlement", "Path"};
static const char *const BY_RESOURCE[] = {"Principal Type", "ID", "Name", "Path"};

static const char NO_TARGETS[] =
    "this sync holds only users, groups and roles (no resource types beyond them): it was "
    "made without --include-network-resources, so it shows memberships, not resource access";

/* Does the sync hold a resource type with none of the user, group and role
 * traits (what access is granted to)? */
static int on_type(void *ud, const C1__Connector__V2__ResourceType *rt, bt_show_err *e)
{
    bool *found = ud;
    (void)e;
    if (!bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_USER) &&
        !bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_GROUP) &&
        !bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_ROLE))
        *found = true;
    return 0;
}

static int target_exists(bt_show_ctx *c, const char *target, char **type, char **id,
                         bt_show_err *e)
{
    const char *t, *i;
    size_t tl, il;
    bt_show_split_id(target, &t, &tl, &i, &il);
    *type = t ? strndup(t, tl) : NULL;
    *id = i ? strdup(i) : NULL;
    if (!*type || !*id) {
        bt_show_fail(e, "%s: expected TYPE:ID", target);
        return -1;
    }
    C1__Connector__V2__ResourceId rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    rid.resource_type = *type;
    rid.resource = *id;
    bool missing = false;
    C1__Connector__V2__Resource *r = bt_show_lookup_resource_if_any(c->lookup, &rid, &missing, e);
    bt_show_msg_free((ProtobufCMessage *)r);
    if (r)
        return 0;
    if (missing)
        bt_show_fail(e, "%s is not in the sync %s", target, c->sync->id);
    return -1;
}

static int walk(access_out *o, const char *type, const char *id, bt_show_err *e)
{
    o->first = true;
    o->rows = 0;
    if (o->c->opts->principal)
        return access_by_principal(o, type, id, e);
    return access_by_resource(o, type, id, e);
}

static void print_note(access_out *o, bool has_targets)
{
    FILE *out = o->c->out;
    if (o->pass == BT_SHOW_PASS_JSON) {
        fputs("{", out);
        if (!has_targets) {
            fputs("\"note\":", out);
            bt_show_json_string(out, NO_TARGETS, strlen(NO_TARGETS));
            fputc(',', out);
        }
    } else if (!has_targets)
        fprintf(out, "Note: %s.\n", NO_TARGETS);
}

static int run_walk(access_out *o, const char *type, const char *id, bool has_targets,
                    bt_show_err *e)
{
    const bool by_principal = o->c->opts->principal != NULL;
    bt_show_table t;
    bt_show_table_init(&t, o->c->out, by_principal ? BY_PRINCIPAL : BY_RESOURCE,
                       by_principal ? 5 : 4);
    o->t = &t;
    if (o->c->opts->json) {
        o->pass = BT_SHOW_PASS_JSON;
        print_note(o, has_targets);
        int rc = walk(o, type, id, e);
        fputs(rc == 0 ? "}\n" : "", o->c->out);
        return rc;
    }
    o->pass = BT_SHOW_PASS_MEASURE;
    if (walk(o, type, id, e) < 0)
        return -1;
    o->pass = BT_SHOW_PASS_TABLE;
    print_note(o, has_targets);
    bt_show_table_print(&t, by_principal ? BY_PRINCIPAL : BY_RESOURCE);
    return walk(o, type, id, e);
}

static int access_sync(bt_show_ctx *c, bt_show_err *e)
{
    bool has_targets = false;
    char *type = NULL, *id = NULL;
    const char *target = c->opts->principal ? c->opts->principal : c->opts->resource;
    int rc = bt_show_each_type(c->db, c->sync->id, on_type, &has_targets, e);
    if (rc == 0)
        rc = target_exists(c, target, &type, &id, e);
    bt_show_graph *g = rc == 0 ? bt_show_graph_new(c->db, c->sync->id, e) : NULL;
    if (g) {
        access_out o = {c, g, BT_SHOW_PASS_MEASURE, NULL, true, 0};
        rc = run_walk(&o, type, id, has_targets, e);
    } else
        rc = -1;
    bt_show_graph_free(g);
    free(type);
    free(id);
    if (rc == 0 && (fflush(c->out) != 0 || ferror(c->out))) {
        bt_show_fail(e, "cannot write the output");
        rc = -1;
    }
    return rc;
}

static const char *const DATA_TABLES[] = {"v1_resource_types", "v1_resources", "v1_entitlements",
                                          "v1_grants"};

int bt_show_access_file(const bt_show_opts *o, FILE *out, bt_show_c1z *c1z, bt_show_err *e)
{
    sqlite3 *db = bt_show_c1z_db(c1z);
    for (size_t i = 0; i < sizeof DATA_TABLES / sizeof DATA_TABLES[0]; i++)
        if (bt_show_require_table(db, DATA_TABLES[i], e) < 0)
            return -1;
    return bt_show_with_sync(db, o, out, access_sync, e);
}
