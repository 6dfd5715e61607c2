/* The principals view: the resources of every type with the user trait
 * (users, service accounts), in type-id order, or of the one -t names. */
#include <stdlib.h>
#include <string.h>

#include "bt/show.h"

#define MAX_PRINCIPAL_TYPES 64

typedef struct {
    char *ids[MAX_PRINCIPAL_TYPES];
    size_t n;
    const char *only; /* -t */
} user_types;

static int on_type(void *ud, const C1__Connector__V2__ResourceType *rt, bt_show_err *e)
{
    user_types *u = ud;
    bool wanted = bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_USER) &&
                  (!u->only || strcmp(u->only, rt->id) == 0);
    if (!wanted)
        return 0;
    if (u->n == MAX_PRINCIPAL_TYPES) {
        bt_show_fail(e, "more than %d resource types with the user trait", MAX_PRINCIPAL_TYPES);
        return -1;
    }
    if (!(u->ids[u->n++] = strdup(rt->id))) {
        bt_show_fail(e, "out of memory");
        return -1;
    }
    return 0;
}

int bt_show_view_run_principals(const bt_show_view *v, bt_show_ctx *c, bt_show_pass pass,
                                bt_show_table *t, bt_show_err *e)
{
    user_types u = {{NULL}, 0, c->opts->resource_type};
    int rc = bt_show_each_type(c->db, c->sync->id, on_type, &u, e);
    if (rc == 0)
        rc = bt_show_view_run_types(v, c, pass, t, (const char *const *)u.ids, u.n, e);
    for (size_t i = 0; i < u.n; i++)
        free(u.ids[i]);
    return rc;
}
