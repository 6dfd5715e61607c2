/* The report's data, one JSON object the page's script reads:
 *   types: {type id: [display name, kind]}   kind: user, group, role, resource
 *   users: [[type, id, name, login, status]]
 *   groups, roles: [[type, id, name, [user index...]]]
 *   resources: [[type, id, name, description, status, [group index...],
 *                [user index...]]]  (groups whose members reach it through an
 *                expandable grant; users and service accounts granted directly)
 * Kinds come from the resource types' traits (user, group, role; anything
 * else is a resource access is granted to). */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "bt/buf.h"
#include "bt/report.h"

#include "c1/connector/v2/annotation_grant.pb-c.h"

#define MAX_TYPES 64

enum kind { KIND_USER, KIND_GROUP, KIND_ROLE, KIND_RESOURCE, KIND_COUNT };
static const char *const KIND_NAMES[KIND_COUNT] = {"user", "group", "role", "resource"};

typedef struct {
    bt_report_src *s;
    char *type_id[MAX_TYPES];
    enum kind type_kind[MAX_TYPES];
    size_t ntypes;
    bt_report_index *users, *groups;
    long count[KIND_COUNT];
    sqlite3_stmt *members;
    bt_show_graph *graph;
    enum kind kind; /* the section being written */
    bool first;
} writer;

static void jstr(FILE *out, const char *s)
{
    bt_show_json_string(out, s ? s : "", s ? strlen(s) : 0);
}

/* ---- types ---------------------------------------------------------------------- */

static enum kind kind_of(const C1__Connector__V2__ResourceType *rt)
{
    if (bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_USER))
        return KIND_USER;
    if (bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_GROUP))
        return KIND_GROUP;
    if (bt_show_type_has_trait(rt, C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_ROLE))
        return KIND_ROLE;
    return KIND_RESOURCE;
}

static int on_type(void *ud, const C1__Connector__V2__ResourceType *rt, bt_show_err *e)
{
    writer *w = ud;
    if (w->ntypes == MAX_TYPES) {
        bt_show_fail(e, "more than %d resource types", MAX_TYPES);
        return -1;
    }
    w->type_kind[w->ntypes] = kind_of(rt);
    int rc = (w->type_id[w->ntypes] = strdup(rt->id)) ? 0 : -1;
    w->ntypes += rc == 0;
    fputs(w->first ? "" : ",", w->s->out);
    w->first = false;
    jstr(w->s->out, rt->id);
    fputs(":[", w->s->out);
    jstr(w->s->out, rt->display_name);
    fprintf(w->s->out, ",\"%s\"]", KIND_NAMES[kind_of(rt)]);
    return rc;
}

/* ---- one resource row ------------------------------------------------------------- */

static void member_list(writer *w, const char *type, const char *id)
{
    sqlite3_stmt *st = w->members;
    sqlite3_bind_text(st, 1, w->s->sync->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
    fputc('[', w->s->out);
    bool first = true;
    while (sqlite3_step(st) == SQLITE_ROW) {
        long u = bt_report_index_get(w->users, (const char *)sqlite3_column_text(st, 0),
                                     (const char *)sqlite3_column_text(st, 1));
        if (u < 0)
            continue;
        fprintf(w->s->out, "%s%ld", first ? "" : ",", u);
        first = false;
    }
    sqlite3_reset(st);
    fputc(']', w->s->out);
}

/* Groups (through expandable grants) and users (direct) with access. */
typedef struct {
    writer *w;
    long *group, *user;
    size_t ngroup, nuser, capg, capu;
} access_lists;

static int push(long **v, size_t *n, size_t *cap, long x, bt_show_err *e)
{
    if (bt_grow_array(v, cap, *n, sizeof **v, 8) != 0) {
        bt_show_fail(e, "out of memory");
        return -1;
    }
    (*v)[(*n)++] = x;
    return 0;
}

static int on_access(void *ud, const bt_show_edge *edge, bt_show_err *e)
{
    access_lists *a = ud;
    if (edge->derived)
        return 0;
    if (!edge->expandable) {
        long u = bt_report_index_get(a->w->users, edge->principal_type, edge->principal_id);
        long g = bt_report_index_get(a->w->groups, edge->principal_type, edge->principal_id);
        if (u >= 0)
            return push(&a->user, &a->nuser, &a->capu, u, e);
        return g >= 0 ? push(&a->group, &a->ngroup, &a->capg, g, e) : 0;
    }
    for (size_t i = 0; i < edge->expandable->n_entitlement_ids; i++) {
        char *type = NULL, *id = NULL;
        if (bt_show_graph_owner(a->w->graph, edge->expandable->entitlement_ids[i], &type, &id,
                                e) < 0)
            return -1;
        long g = type ? bt_report_index_get(a->w->groups, type, id) : -1;
        free(type);
        free(id);
        if (g >= 0 && push(&a->group, &a->ngroup, &a->capg, g, e) < 0)
            return -1;
    }
    return 0;
}

static int on_entitlement(void *ud, const char *entitlement_id, bt_show_err *e)
{
    access_lists *a = ud;
    return bt_show_graph_grants_of(a->w->graph, entitlement_id, on_access, a, e);
}

static void print_list(FILE *out, const long *v, size_t n)
{
    fputc('[', out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%s%ld", i ? "," : "", v[i]);
    fputc(']', out);
}

static int access_of(writer *w, const char *type, const char *id, bt_show_err *e)
{
    access_lists a = {w, NULL, NULL, 0, 0, 0, 0};
    int rc = bt_show_graph_entitlements_of(w->graph, type, id, on_entitlement, &a, e);
    print_list(w->s->out, a.group, a.ngroup);
    fputc(',', w->s->out);
    print_list(w->s->out, a.user, a.nuser);
    free(a.group);
    free(a.user);
    return rc;
}

static int row_tail(writer *w, const C1__Connector__V2__Resource *r, bt_show_err *e)
{
    FILE *out = w->s->out;
    const char *type = r->id->resource_type, *id = r->id->resource;
    if (w->kind == KIND_USER) {
        char *login = bt_show_resource_login(r);
        fputc(',', out);
        jstr(out, login);
        fputc(',', out);
        jstr(out, bt_show_resource_status(r));
        free(login);
        return bt_report_index_put(w->users, type, id, w->count[KIND_USER]);
    }
    if (w->kind != KIND_RESOURCE) {
        fputc(',', out);
        member_list(w, type, id);
        return w->kind == KIND_GROUP ? bt_report_index_put(w->groups, type, id, w->count[KIND_GROUP])
                                     : 0;
    }
    fputc(',', out);
    jstr(out, r->description);
    fputc(',', out);
    jstr(out, bt_show_resource_status(r));
    fputc(',', out);
    return access_of(w, type, id, e);
}

static int on_resource(void *ud, const C1__Connector__V2__Resource *r, bt_show_err *e)
{
    writer *w = ud;
    if (!r->id)
        return 0;
    FILE *out = w->s->out;
    fputs(w->first ? "[" : ",[", out);
    w->first = false;
    jstr(out, r->id->resource_type);
    fputc(',', out);
    jstr(out, r->id->resource);
    fputc(',', out);
    jstr(out, r->display_name && *r->display_name ? r->display_name : r->id->resource);
    int rc = row_tail(w, r, e);
    fputc(']', out);
    w->count[w->kind]++;
    if (rc < 0 && !e->msg[0])
        bt_show_fail(e, "out of memory");
    return rc;
}

/* ---- sections --------------------------------------------------------------------- */

static int section(writer *w, enum kind k, const char *key, bt_show_err *e)
{
    fprintf(w->s->out, ",\"%s\":[", key);
    w->kind = k;
    w->first = true;
    for (size_t i = 0; i < w->ntypes; i++)
        if (w->type_kind[i] == k &&
            bt_show_each_resource(w->s->db, w->s->sync->id, w->type_id[i], on_resource, w, e) < 0)
            return -1;
    fputc(']', w->s->out);
    return 0;
}

static void sync_json(writer *w)
{
    const bt_show_sync *s = w->s->sync;
    FILE *out = w->s->out;
    fputs("\"sync\":{\"id\":", out);
    jstr(out, s->id);
    fputs(",\"type\":", out);
    jstr(out, s->type);
    fputs(",\"startedAt\":", out);
    jstr(out, s->started_at);
    fputs(",\"endedAt\":", out);
    jstr(out, s->ended_at ? s->ended_at : "");
    fputs("},\"file\":", out);
    jstr(out, w->s->file_name);
}

static long count_grants(writer *w)
{
    sqlite3_stmt *st = NULL;
    long n = 0;
    if (sqlite3_prepare_v2(w->s->db, "SELECT count(*) FROM v1_grants WHERE sync_id = ?1", -1,
                           &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, w->s->sync->id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            n = (long)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return n;
}

static int write_all(writer *w, bt_show_err *e)
{
    sync_json(w);
    fputs(",\"types\":{", w->s->out);
    w->first = true;
    if (bt_show_each_type(w->s->db, w->s->sync->id, on_type, w, e) < 0)
        return -1;
    fputc('}', w->s->out);
    if (section(w, KIND_USER, "users", e) < 0 || section(w, KIND_GROUP, "groups", e) < 0 ||
        section(w, KIND_ROLE, "roles", e) < 0 || section(w, KIND_RESOURCE, "resources", e) < 0)
        return -1;
    fprintf(w->s->out, ",\"grants\":%ld", count_grants(w));
    return 0;
}

int bt_report_data(bt_report_src *s, bt_show_err *e)
{
    writer w = {.s = s, .users = bt_report_index_new(), .groups = bt_report_index_new()};
    w.graph = bt_show_graph_new(s->db, s->sync->id, e);
    int rc = w.users && w.groups && w.graph ? 0 : -1;
    if (rc == 0 && sqlite3_prepare_v2(s->db,
                                      "SELECT principal_resource_type_id, principal_resource_id "
                                      "FROM v1_grants WHERE sync_id = ?1 AND resource_type_id = ?2 "
                                      "AND resource_id = ?3 ORDER BY id",
                                      -1, &w.members, NULL) != SQLITE_OK) {
        bt_show_fail(e, "cannot read the grants: %s", sqlite3_errmsg(s->db));
        rc = -1;
    }
    if (rc == 0)
        rc = write_all(&w, e);
    else if (!e->msg[0])
        bt_show_fail(e, "out of memory");
    sqlite3_finalize(w.members);
    bt_show_graph_free(w.graph);
    bt_report_index_free(w.users);
    bt_report_index_free(w.groups);
    for (size_t i = 0; i < w.ntypes; i++)
        free(w.type_id[i]);
    return rc;
}
