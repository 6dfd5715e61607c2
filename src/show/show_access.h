/* Shared by the files of `show access` (show_access*.c): the nodes of the
 * expansion walk and the output of a path. */
#ifndef BT_SHOW_ACCESS_H
#define BT_SHOW_ACCESS_H
#include "bt/show.h"

/* An entitlement reached by the walk, with the resource it belongs to (the
 * group whose membership it is, the resource it gives access to). */
typedef struct access_node {
    char *entitlement;
    char *type, *id, *name; /* the resource; name: its display name */
    struct access_node *parent;
    bool shallow;  /* only direct holders of `entitlement` count (GrantExpandable) */
    char **types;  /* principal types that count; NULL: any */
    size_t ntypes;
} access_node;

typedef struct {
    access_node **v;
    size_t n, cap;
} access_nodes;

typedef struct {
    bt_show_ctx *c;
    bt_show_graph *g;
    bt_show_pass pass;
    bt_show_table *t;
    bool first; /* JSON: no comma yet */
    size_t rows;
} access_out;

access_node *access_node_new(const char *entitlement, const char *type, const char *id,
                             const char *name, access_node *parent);
void access_node_free(access_node *n);
int access_nodes_add(access_nodes *a, access_node *n, bt_show_err *e);
access_node *access_nodes_find(const access_nodes *a, const char *entitlement);
void access_nodes_free(access_nodes *a);
/* Copy an expandable grant's shallow flag and principal types onto n. */
int access_node_limits(access_node *n, const C1__Connector__V2__GrantExpandable *x);
bool access_node_admits(const access_node *n, const char *principal_type);

/* A resource's display name (its id when it has none or is not in the sync). */
char *access_name_of(bt_show_ctx *c, const char *type, const char *id);
/* "user Alice → group Engineering → resource prod-db": the principal, then
 * the chain from n (nearest the principal) to the root, or the reverse. */
char *access_path_text(const char *ptype, const char *pname, const access_node *n,
                       bool from_root);
/* One path as JSON: [{"type","id","displayName","entitlement"}, ...]. */
void access_path_json(FILE *out, const access_node *n, bool from_root);
void access_json_ref(FILE *out, const char *type, const char *id, const char *name);
/* The walk output: one table row (or JSON object with key/value pairs given
 * by the caller). */
void access_row(access_out *o, const char *const *cells);

int access_by_principal(access_out *o, const char *type, const char *id, bt_show_err *e);
int access_by_resource(access_out *o, const char *type, const char *id, bt_show_err *e);

#endif
