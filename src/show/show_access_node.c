/* The nodes of `show access`'s walk and how a path is printed. */
#define _GNU_SOURCE /* open_memstream */
#include <stdlib.h>
#include <string.h>

#include "bt/buf.h"
#include "show_access.h"

#include "c1/connector/v2/annotation_grant.pb-c.h"

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

access_node *access_node_new(const char *entitlement, const char *type, const char *id,
                             const char *name, access_node *parent)
{
    access_node *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->entitlement = dup_or_empty(entitlement);
    n->type = dup_or_empty(type);
    n->id = dup_or_empty(id);
    n->name = dup_or_empty(name && *name ? name : id);
    n->parent = parent;
    if (n->entitlement && n->type && n->id && n->name)
        return n;
    access_node_free(n);
    return NULL;
}

void access_node_free(access_node *n)
{
    if (!n)
        return;
    free(n->entitlement);
    free(n->type);
    free(n->id);
    free(n->name);
    for (size_t i = 0; i < n->ntypes; i++)
        free(n->types[i]);
    free(n->types);
    free(n);
}

int access_nodes_add(access_nodes *a, access_node *n, bt_show_err *e)
{
    if (!n || bt_grow_array(&a->v, &a->cap, a->n, sizeof *a->v, 16) != 0) {
        access_node_free(n);
        bt_show_fail(e, "out of memory");
        return -1;
    }
    a->v[a->n++] = n;
    return 0;
}

access_node *access_nodes_find(const access_nodes *a, const char *entitlement)
{
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i]->entitlement, entitlement) == 0)
            return a->v[i];
    return NULL;
}

void access_nodes_free(access_nodes *a)
{
    for (size_t i = 0; i < a->n; i++)
        access_node_free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

int access_node_limits(access_node *n, const C1__Connector__V2__GrantExpandable *x)
{
    n->shallow = x->shallow;
    if (x->n_resource_type_ids == 0)
        return 0;
    n->types = calloc(x->n_resource_type_ids, sizeof *n->types);
    if (!n->types)
        return -1;
    for (size_t i = 0; i < x->n_resource_type_ids; i++)
        if (!(n->types[n->ntypes++] = strdup(x->resource_type_ids[i])))
            return -1;
    return 0;
}

bool access_node_admits(const access_node *n, const char *principal_type)
{
    if (!n->types)
        return true;
    for (size_t i = 0; i < n->ntypes; i++)
        if (strcmp(n->types[i], principal_type) == 0)
            return true;
    return false;
}

char *access_name_of(bt_show_ctx *c, const char *type, const char *id)
{
    C1__Connector__V2__ResourceId rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    rid.resource_type = (char *)type;
    rid.resource = (char *)id;
    bool missing = false;
    bt_show_err ignored;
    C1__Connector__V2__Resource *r =
        bt_show_lookup_resource_if_any(c->lookup, &rid, &missing, &ignored);
    char *name = dup_or_empty(r && r->display_name && *r->display_name ? r->display_name : id);
    bt_show_msg_free((ProtobufCMessage *)r);
    return name;
}

/* ---- paths --------------------------------------------------------------------- */

static void chain(FILE *f, const access_node *n, bool from_root)
{
    if (!n)
        return;
    if (from_root)
        chain(f, n->parent, true);
    fprintf(f, " \xE2\x86\x92 %s %s", n->type, n->name);
    if (!from_root)
        chain(f, n->parent, false);
}

char *access_path_text(const char *ptype, const char *pname, const access_node *n,
                       bool from_root)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "%s %s", ptype, pname);
    chain(f, n, from_root);
    fclose(f);
    return buf;
}

void access_json_ref(FILE *out, const char *type, const char *id, const char *name)
{
    fputs("\"type\":", out);
    bt_show_json_string(out, type, strlen(type));
    fputs(",\"id\":", out);
    bt_show_json_string(out, id, strlen(id));
    fputs(",\"displayName\":", out);
    bt_show_json_string(out, name, strlen(name));
}

static void json_chain(FILE *out, const access_node *n, bool from_root, bool *first)
{
    if (!n)
        return;
    if (from_root)
        json_chain(out, n->parent, true, first);
    fputs(*first ? "{" : ",{", out);
    *first = false;
    access_json_ref(out, n->type, n->id, n->name);
    fputs(",\"entitlement\":", out);
    bt_show_json_string(out, n->entitlement, strlen(n->entitlement));
    fputc('}', out);
    if (!from_root)
        json_chain(out, n->parent, false, first);
}

void access_path_json(FILE *out, const access_node *n, bool from_root)
{
    bool first = true;
    fputc('[', out);
    json_chain(out, n, from_root, &first);
    fputc(']', out);
}

void access_row(access_out *o, const char *const *cells)
{
    o->rows++;
    if (o->pass == BT_SHOW_PASS_MEASURE)
        bt_show_table_measure(o->t, cells);
    else
        bt_show_table_print(o->t, cells);
}
