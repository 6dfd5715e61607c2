/* `show access --principal TYPE:ID`: every entitlement the principal holds,
 * directly or through expandable grants (a group's access reaches its
 * members), with the path: its groups, its role, the resources it can reach.
 * Walks the entitlement graph forwards, breadth first; what the principal
 * holds is kept in memory (its own reach, not the tenant's size). */
#include <stdlib.h>
#include <string.h>

#include "show_access.h"

#include "c1/connector/v2/annotation_grant.pb-c.h"

typedef struct {
    access_out *o;
    const char *ptype;
    access_nodes nodes;
    access_node *at; /* NULL while reading the direct grants */
} walk;

static bool sources_include(const C1__Connector__V2__GrantExpandable *x, const char *ent)
{
    for (size_t i = 0; i < x->n_entitlement_ids; i++)
        if (strcmp(x->entitlement_ids[i], ent) == 0)
            return true;
    return false;
}

static int reach(walk *w, const bt_show_edge *edge, bt_show_err *e)
{
    const C1__Connector__V2__Entitlement *ent = edge->grant->entitlement;
    if (access_nodes_find(&w->nodes, ent->id))
        return 0;
    const C1__Connector__V2__ResourceId *rid = ent->resource ? ent->resource->id : NULL;
    if (!rid)
        return 0;
    char *name = access_name_of(w->o->c, rid->resource_type, rid->resource);
    access_node *n =
        name ? access_node_new(ent->id, rid->resource_type, rid->resource, name, w->at) : NULL;
    free(name);
    return access_nodes_add(&w->nodes, n, e);
}

static int on_direct(void *ud, const bt_show_edge *edge, bt_show_err *e)
{
    return edge->derived ? 0 : reach(ud, edge, e);
}

/* A grant to the resource of w->at: an edge from w->at's entitlement? */
static int on_owner_grant(void *ud, const bt_show_edge *edge, bt_show_err *e)
{
    walk *w = ud;
    const C1__Connector__V2__GrantExpandable *x = edge->expandable;
    if (edge->derived || !x || !sources_include(x, w->at->entitlement))
        return 0;
    if (x->shallow && w->at->parent)
        return 0; /* only direct holders of the source count */
    bool admitted = x->n_resource_type_ids == 0;
    for (size_t i = 0; i < x->n_resource_type_ids; i++)
        admitted = admitted || strcmp(x->resource_type_ids[i], w->ptype) == 0;
    return admitted ? reach(w, edge, e) : 0;
}

static int row(access_out *o, const char *ptype, const char *pname, const access_node *n)
{
    char *path = access_path_text(ptype, pname, n, true);
    if (!path)
        return -1;
    if (o->pass == BT_SHOW_PASS_JSON) {
        FILE *out = o->c->out;
        fputs(o->first ? "{" : ",{", out);
        o->first = false;
        access_json_ref(out, n->type, n->id, n->name);
        fputs(",\"entitlement\":", out);
        bt_show_json_string(out, n->entitlement, strlen(n->entitlement));
        fputs(",\"path\":", out);
        access_path_json(out, n, true);
        fputc('}', out);
    } else {
        const char *cells[5] = {n->type, n->id, n->name, n->entitlement, path};
        access_row(o, cells);
    }
    free(path);
    return 0;
}

static int by_type_then_name(const void *a, const void *b)
{
    const access_node *x = *(access_node *const *)a, *y = *(access_node *const *)b;
    int c = strcmp(x->type, y->type);
    return c ? c : strcmp(x->name, y->name);
}

/* Sorted by resource type id, then name. */
static int print_all(walk *w, const char *type, const char *id, const char *pname,
                     bt_show_err *e)
{
    FILE *out = w->o->c->out;
    if (w->o->pass == BT_SHOW_PASS_JSON) {
        fputs("\"principal\":{", out);
        access_json_ref(out, type, id, pname);
        fputs("},\"access\":[", out);
    }
    if (w->nodes.n)
        qsort(w->nodes.v, w->nodes.n, sizeof *w->nodes.v, by_type_then_name);
    for (size_t i = 0; i < w->nodes.n; i++)
        if (row(w->o, type, pname, w->nodes.v[i]) < 0) {
            bt_show_fail(e, "out of memory");
            return -1;
        }
    if (w->o->pass == BT_SHOW_PASS_JSON)
        fputc(']', out);
    return 0;
}

int access_by_principal(access_out *o, const char *type, const char *id, bt_show_err *e)
{
    walk w = {o, type, {NULL, 0, 0}, NULL};
    int rc = bt_show_graph_grants_to(o->g, type, id, on_direct, &w, e);
    for (size_t i = 0; rc == 0 && i < w.nodes.n; i++) {
        w.at = w.nodes.v[i];
        rc = bt_show_graph_grants_to(o->g, w.at->type, w.at->id, on_owner_grant, &w, e);
    }
    char *pname = rc == 0 ? access_name_of(o->c, type, id) : NULL;
    if (rc == 0)
        rc = pname ? print_all(&w, type, id, pname, e) : -1;
    free(pname);
    access_nodes_free(&w.nodes);
    return rc;
}
