/* `show access --resource TYPE:ID`: every principal that holds one of the
 * resource's entitlements, directly or through expandable grants (a group's
 * access reaches its members), each with its path. Walks the entitlement
 * graph backwards, breadth first; holders stream out, only the entitlements
 * on the way (groups with access) are kept in memory. */
#include <stdlib.h>
#include <string.h>

#include "show_access.h"

#include "c1/connector/v2/annotation_grant.pb-c.h"

typedef struct {
    access_out *o;
    access_nodes nodes;
    access_node *at; /* the node whose grants are being read */
} walk;

/* Only direct holders count below a shallow expansion. */
static bool expands_below(const access_node *n)
{
    for (; n; n = n->parent)
        if (n->shallow)
            return false;
    return true;
}

static bool admitted(const access_node *n, const char *principal_type)
{
    for (; n; n = n->parent)
        if (!access_node_admits(n, principal_type))
            return false;
    return true;
}

static int add_source(walk *w, const bt_show_edge *edge, const char *source, bt_show_err *e)
{
    if (access_nodes_find(&w->nodes, source))
        return 0; /* reached already, by a path as short or shorter */
    char *name = access_name_of(w->o->c, edge->principal_type, edge->principal_id);
    access_node *n =
        name ? access_node_new(source, edge->principal_type, edge->principal_id, name, w->at)
             : NULL;
    free(name);
    if (n && access_node_limits(n, edge->expandable) < 0) {
        access_node_free(n);
        n = NULL;
    }
    return access_nodes_add(&w->nodes, n, e);
}

static void holder_json(walk *w, const bt_show_edge *edge, const char *name)
{
    FILE *out = w->o->c->out;
    fputs(w->o->first ? "{" : ",{", out);
    w->o->first = false;
    access_json_ref(out, edge->principal_type, edge->principal_id, name);
    fputs(",\"path\":", out);
    access_path_json(out, w->at, false);
    fputc('}', out);
}

static int holder(walk *w, const bt_show_edge *edge, bt_show_err *e)
{
    if (!admitted(w->at, edge->principal_type))
        return 0;
    char *name = access_name_of(w->o->c, edge->principal_type, edge->principal_id);
    char *path = name ? access_path_text(edge->principal_type, name, w->at, false) : NULL;
    int rc = path ? 0 : -1;
    if (rc < 0)
        bt_show_fail(e, "out of memory");
    else if (w->o->pass == BT_SHOW_PASS_JSON)
        holder_json(w, edge, name);
    else {
        const char *cells[4] = {edge->principal_type, edge->principal_id, name, path};
        access_row(w->o, cells);
    }
    free(name);
    free(path);
    return rc;
}

static int on_grant(void *ud, const bt_show_edge *edge, bt_show_err *e)
{
    walk *w = ud;
    if (edge->derived)
        return 0; /* expanded by a Go syncer: reached again below, with its path */
    if (!edge->expandable)
        return holder(w, edge, e);
    if (!expands_below(w->at))
        return 0;
    for (size_t i = 0; i < edge->expandable->n_entitlement_ids; i++)
        if (add_source(w, edge, edge->expandable->entitlement_ids[i], e) < 0)
            return -1;
    return 0;
}

static int add_root(void *ud, const char *entitlement_id, bt_show_err *e)
{
    walk *w = ud;
    if (access_nodes_find(&w->nodes, entitlement_id))
        return 0;
    access_node *n = access_node_new(entitlement_id, w->at->type, w->at->id, w->at->name, NULL);
    return access_nodes_add(&w->nodes, n, e);
}

static void json_open(access_out *o, const access_node *r)
{
    FILE *out = o->c->out;
    fputs("\"resource\":{", out);
    access_json_ref(out, r->type, r->id, r->name);
    fputs("},\"principals\":[", out);
}

int access_by_resource(access_out *o, const char *type, const char *id, bt_show_err *e)
{
    char *name = access_name_of(o->c, type, id);
    access_node *target = name ? access_node_new("", type, id, name, NULL) : NULL;
    free(name);
    walk w = {o, {NULL, 0, 0}, target};
    if (!target) {
        bt_show_fail(e, "out of memory");
        return -1;
    }
    int rc = bt_show_graph_entitlements_of(o->g, type, id, add_root, &w, e);
    if (rc == 0 && o->pass == BT_SHOW_PASS_JSON)
        json_open(o, target);
    for (size_t i = 0; rc == 0 && i < w.nodes.n; i++) {
        w.at = w.nodes.v[i];
        rc = bt_show_graph_grants_of(o->g, w.at->entitlement, on_grant, &w, e);
    }
    if (rc == 0 && o->pass == BT_SHOW_PASS_JSON)
        fputc(']', o->c->out);
    access_nodes_free(&w.nodes);
    access_node_free(target);
    return rc;
}
