/* bt_sink: the public sink API. Picks the backend (c1z or jsonl), keeps the
 * resource types, counts rows and duplicates, checks what every format needs
 * (ids present, trait annotations the resource type demands, grantable_to
 * types known) and remembers a fatal failure so the commit refuses. */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt/buf.h"
#include "bt/log.h"

#define CONFLICT_CAUSE "duplicate_id_different_content"

struct bt_sink {
    const bt_sink_backend *be;
    void *impl;
    bt_sink_types types;
    bt_sink_counts counts;
    bt_bytes buf;
    char sync_id[BT_KSUID_LEN + 1];
    char failure[1024]; /* non-empty: the sink is unusable */
    int stale_removed;  /* temporary files of crashed runs removed at open */
    bt_idset filtered;  /* digests of the resources bt_sink_filter recorded */
};

/* ------------------------------------------------------------------------
 * Resource types */

const bt_pb_resource_type *bt_sink_types_find(const bt_sink_types *t, const char *id)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->v[i].id, id) == 0)
            return t->v[i].msg;
    return NULL;
}

/* Keep a decoded copy of the stored encoding. -1 when out of memory. */
static int types_add(bt_sink_types *t, const char *id, const bt_bytes *encoded)
{
    if (bt_grow_array(&t->v, &t->cap, t->n, sizeof *t->v, 8) != 0)
        return -1;
    bt_sink_type *e = &t->v[t->n];
    e->resources = 0;
    e->id = strdup(id);
    e->msg = c1__connector__v2__resource_type__unpack(NULL, encoded->len, (const uint8_t *)encoded->data);
    if (!e->id || !e->msg) {
        free(e->id);
        if (e->msg)
            c1__connector__v2__resource_type__free_unpacked(e->msg, NULL);
        return -1;
    }
    t->n++;
    return 0;
}

/* Undo the last types_add. */
static void types_free_last(bt_sink_types *t)
{
    if (t->n == 0)
        return;
    t->n--;
    free(t->v[t->n].id);
    c1__connector__v2__resource_type__free_unpacked(t->v[t->n].msg, NULL);
}

static void types_free(bt_sink_types *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].id);
        c1__connector__v2__resource_type__free_unpacked(t->v[i].msg, NULL);
    }
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* ------------------------------------------------------------------------
 * Open, commit, abort */

static bool has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static const bt_sink_backend *pick_backend(const char *path, const char *format, char *err,
                                           size_t errsz)
{
    if (!format || !*format)
        return has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson") ? &bt_jsonl_backend
                                                                          : &bt_c1z_backend;
    if (strcasecmp(format, "c1z") == 0)
        return &bt_c1z_backend;
    if (strcasecmp(format, "jsonl") == 0 || strcasecmp(format, "ndjson") == 0)
        return &bt_jsonl_backend;
    bt_sink_errf(err, errsz, "unknown output format '%s' (want c1z or jsonl)", format);
    return NULL;
}

static char *g_work_dir;

void bt_sink_set_work_dir(const char *dir)
{
    free(g_work_dir);
    g_work_dir = dir && *dir ? strdup(dir) : NULL;
}

const char *bt_sink_work_path(const char *final, char *buf, size_t n)
{
    if (!g_work_dir)
        return final;
    const char *slash = strrchr(final, '/');
    int len = snprintf(buf, n, "%s/%s", g_work_dir, slash ? slash + 1 : final);
    return len > 0 && (size_t)len < n ? buf : final;
}

bt_sink *bt_sink_open(const char *path, const char *format, char *err, size_t errsz)
{
    char final[PATH_MAX];
    const bt_sink_backend *be = path ? pick_backend(path, format, err, errsz) : NULL;
    if (!path)
        bt_sink_errf(err, errsz, "no output path");
    if (!be || bt_sink_resolve_target(path, final, sizeof final, err, errsz) != 0)
        return NULL;
    bt_sink *s = calloc(1, sizeof *s);
    if (!s) {
        bt_sink_errf(err, errsz, "out of memory");
        return NULL;
    }
    s->be = be;
    char now[BT_SYNC_TIME_LEN + 1];
    if (bt_ksuid_new(bt_sync_time_now(now), s->sync_id) != 0) {
        bt_sink_errf(err, errsz, "no randomness for the sync id");
        free(s);
        return NULL;
    }
    char work[PATH_MAX];
    const char *work_path = bt_sink_work_path(final, work, sizeof work);
    s->stale_removed = bt_sink_remove_stale_temps(final);
    if (work_path != final)
        s->stale_removed += bt_sink_remove_stale_temps(work_path);
    /* The backends create their temporary files now, beside the final
     * target: an unwritable directory fails here, before any request. */
    s->impl = be->open(final, s->sync_id, &s->types, err, errsz);
    if (!s->impl) {
        free(s);
        return NULL;
    }
    return s;
}

int bt_sink_stale_removed(const bt_sink *s)
{
    return s ? s->stale_removed : 0;
}

static void sink_free(bt_sink *s)
{
    types_free(&s->types);
    bt_bytes_free(&s->buf);
    bt_idset_free(&s->filtered);
    free(s);
}

int bt_sink_commit(bt_sink *s, char *err, size_t errsz)
{
    if (!s) {
        bt_sink_errf(err, errsz, "no sink");
        return -1;
    }
    if (s->failure[0]) {
        bt_sink_errf(err, errsz, "%s", s->failure);
        s->be->abort(s->impl);
        sink_free(s);
        return -1;
    }
    if (bt_sink_settle(s, err, errsz) != 0) {
        s->be->abort(s->impl);
        sink_free(s);
        return -1;
    }
    int rc = s->be->commit(s->impl, err, errsz);
    sink_free(s);
    return rc;
}

void bt_sink_abort(bt_sink *s)
{
    if (!s)
        return;
    s->be->abort(s->impl);
    sink_free(s);
}

int bt_sink_set_sync_type(bt_sink *s, const char *type, char *err, size_t errsz)
{
    static const char *const known[] = {"full", "partial", "resources_only"};
    if (s->counts.resource_types || s->counts.resources || s->counts.entitlements ||
        s->counts.grants) {
        bt_sink_errf(err, errsz, "the sync type is set before any row");
        return -1;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (type && strcmp(type, known[i]) == 0) {
            s->be->sync_type(s->impl, known[i]);
            return 0;
        }
    bt_sink_errf(err, errsz, "unknown sync type '%s'", type ? type : "(null)");
    return -1;
}

void bt_sink_get_counts(const bt_sink *s, bt_sink_counts *out)
{
    if (s)
        *out = s->counts;
    else
        memset(out, 0, sizeof *out);
}

const char *bt_sink_format(const bt_sink *s)
{
    return s ? s->be->name : NULL;
}

const char *bt_sink_sync_id(const bt_sink *s)
{
    return s ? s->sync_id : NULL;
}

/* ------------------------------------------------------------------------
 * Rows */

static bool blank(const char *s)
{
    return !s || !*s;
}

static bool id_ok(const bt_pb_resource_id *id)
{
    return id && !blank(id->resource_type) && !blank(id->resource);
}

/* Refuse when failed; fill err. */
static bool usable(const bt_sink *s, char *err, size_t errsz)
{
    if (!s) {
        bt_sink_errf(err, errsz, "no sink");
        return false;
    }
    if (s->failure[0]) {
        bt_sink_errf(err, errsz, "%s", s->failure);
        return false;
    }
    return true;
}

/* One more under key in a by-key tally of BT_SINK_SKIP_CAUSES slots, the
 * last of which collects the keys beyond as "other". The new count. */
static uint64_t tally(bt_sink_skip_count *v, size_t *n, const char *key)
{
    size_t i = 0;
    while (i < *n && strcmp(v[i].cause, key) != 0)
        i++;
    if (i == *n && i + 1 >= BT_SINK_SKIP_CAUSES) {
        key = "other"; /* the last slot collects the rest */
        for (i = 0; i < *n && strcmp(v[i].cause, key) != 0;)
            i++;
    }
    if (i == *n) {
        snprintf(v[i].cause, sizeof v[i].cause, "%s", key);
        (*n)++;
    }
    return ++v[i].n;
}

uint64_t bt_sink_skip(bt_sink *s, const char *cause)
{
    return tally(s->counts.skipped, &s->counts.n_skipped, cause);
}

int bt_sink_filter(bt_sink *s, const char *type, const char *id, char *err, size_t errsz)
{
    if (blank(type) || blank(id)) {
        bt_sink_errf(err, errsz, "filter needs a type and an id");
        return -1;
    }
    int rc = bt_idset_add(&s->filtered, bt_id_digest('f', type, id));
    if (rc < 0) {
        bt_sink_errf(err, errsz, "out of memory");
        return -1;
    }
    if (rc == 1)
        tally(s->counts.filtered, &s->counts.n_filtered, type);
    return rc;
}

bool bt_sink_is_filtered(const bt_sink *s, const char *type, const char *id)
{
    return !blank(type) && !blank(id) && bt_idset_has(&s->filtered, bt_id_digest('f', type, id));
}

/* A second row under an id with other content: the first is kept (rows
 * that reference it are already written), and a person should know. */
static void note_conflict(bt_sink *s, const char *kind, const char *id)
{
    uint64_t n = bt_sink_skip(s, CONFLICT_CAUSE);
    if (n <= 20)
        bt_warn("sink: %s %s was emitted twice with different content; the first is kept "
                "(skipped: " CONFLICT_CAUSE ")", kind, id);
    else if (n == 21)
        bt_warn("sink: more %s conflicts are not logged one by one", CONFLICT_CAUSE);
}

/* Count a backend result; remember a fatal error. */
static int account(bt_sink *s, int rc, bool fatal, uint64_t *counter, const char *err)
{
    if (rc == BT_SINK_ADDED)
        (*counter)++;
    else if (rc == BT_SINK_DUPLICATE)
        s->counts.duplicates++;
    else if (fatal)
        snprintf(s->failure, sizeof s->failure, "%s", err ? err : "sink failed");
    return rc;
}

/* account() for a row that may come back as a conflicting duplicate. */
static int account_row(bt_sink *s, int rc, bool fatal, uint64_t *counter, const char *err,
                       const char *kind, const char *id)
{
    if (rc != BT_SINK_CONFLICT)
        return account(s, rc, fatal, counter, err);
    note_conflict(s, kind, id);
    return account(s, BT_SINK_DUPLICATE, false, counter, err);
}

/* settle_grants' report of one grant row removed as a repeat of an earlier one. */
static void grant_repeat(void *ctx, const char *id, bool conflict)
{
    bt_sink *s = ctx;
    if (s->counts.grants > 0)
        s->counts.grants--;
    s->counts.duplicates++;
    if (conflict)
        note_conflict(s, "grant", id);
}

int bt_sink_settle(bt_sink *s, char *err, size_t errsz)
{
    if (!usable(s, err, errsz))
        return -1;
    if (!s->be->settle_grants || s->be->settle_grants(s->impl, grant_repeat, s, err, errsz) == 0)
        return 0;
    snprintf(s->failure, sizeof s->failure, "%s", err);
    return -1;
}

int bt_sink_has_resource(bt_sink *s, const char *type, const char *id, char *err, size_t errsz)
{
    if (!usable(s, err, errsz))
        return -1;
    if (blank(type) || blank(id)) {
        bt_sink_errf(err, errsz, "has_resource needs a type and an id");
        return -1;
    }
    int rc = s->be->has_resource(s->impl, type, id, err, errsz);
    if (rc < 0)
        snprintf(s->failure, sizeof s->failure, "%s", err);
    return rc;
}

int bt_sink_add_resource_type(bt_sink *s, const bt_pb_resource_type *rt, char *err, size_t errsz)
{
    if (!usable(s, err, errsz))
        return BT_SINK_ERROR;
    if (!rt || blank(rt->id)) {
        bt_sink_errf(err, errsz, "resource type without an id");
        return BT_SINK_ERROR;
    }
    if (bt_sink_types_find(&s->types, rt->id)) {
        s->counts.duplicates++;
        return BT_SINK_DUPLICATE;
    }
    bool fatal = false;
    int rc = BT_SINK_ERROR;
    if (bt_pb_pack(&rt->base, &s->buf) != 0 || types_add(&s->types, rt->id, &s->buf) != 0) {
        fatal = true;
        bt_sink_errf(err, errsz, "out of memory");
    } else {
        rc = s->be->resource_type(s->impl, rt, &s->buf, &fatal, err, errsz);
        if (rc != BT_SINK_ADDED) /* keep the registry equal to what was written */
            types_free_last(&s->types);
    }
    return account(s, rc, fatal, &s->counts.resource_types, err);
}

/* The trait annotation each trait of a resource type demands. */
static const ProtobufCMessageDescriptor *trait_descriptor(int trait)
{
    switch (trait) {
    case C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_USER:
        return &c1__connector__v2__user_trait__descriptor;
    case C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_GROUP:
        return &c1__connector__v2__group_trait__descriptor;
    case C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_ROLE:
        return &c1__connector__v2__role_trait__descriptor;
    case C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_APP:
        return &c1__connector__v2__app_trait__descriptor;
    default: return NULL;
    }
}

static bool has_annotation(const bt_pb_resource *r, const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < r->n_annotations; i++)
        if (bt_pb_any_is(r->annotations[i], d))
            return true;
    return false;
}

/* The SDK syncer refuses a resource whose type lists TRAIT_USER/GROUP/ROLE/
 * APP without the matching trait annotation (c1z-format.md 4.2). */
static int check_traits(const bt_sink *s, const bt_pb_resource *r, char *err, size_t errsz)
{
    const bt_pb_resource_type *rt = bt_sink_types_find(&s->types, r->id->resource_type);
    for (size_t i = 0; rt && i < rt->n_traits; i++) {
        const ProtobufCMessageDescriptor *d = trait_descriptor((int)rt->traits[i]);
        if (d && !has_annotation(r, d)) {
            bt_sink_errf(err, errsz, "resource %s:%s: its type '%s' has trait %s but the resource has no %s",
                         r->id->resource_type, r->id->resource, rt->id,
                         protobuf_c_enum_descriptor_get_value(
                             &c1__connector__v2__resource_type__trait__descriptor,
                             (int)rt->traits[i])->name,
                         d->name);
            return -1;
        }
    }
    return 0;
}

int bt_sink_add_resource(bt_sink *s, const bt_pb_resource *r, char *err, size_t errsz)
{
    if (!usable(s, err, errsz))
        return BT_SINK_ERROR;
    if (!r || !id_ok(r->id)) {
        bt_sink_errf(err, errsz, "resource without a complete id (resource_type and resource)");
        return BT_SINK_ERROR;
    }
    if (r->parent_resource_id && !id_ok(r->parent_resource_id)) {
        bt_sink_errf(err, errsz, "resource %s:%s: incomplete parent id", r->id->resource_type,
                     r->id->resource);
        return BT_SINK_ERROR;
    }
    if (check_traits(s, r, err, errsz) != 0)
        return BT_SINK_ERROR;
    bool fatal = false;
    int rc = s->be->resource(s->impl, r, &fatal, err, errsz);
    if (rc == BT_SINK_ADDED)
        for (size_t i = 0; i < s->types.n; i++)
            if (strcmp(s->types.v[i].id, r->id->resource_type) == 0)
                s->types.v[i].resources++;
    char id[512] = ""; /* named only in the rare conflict's warning */
    if (rc == BT_SINK_CONFLICT)
        snprintf(id, sizeof id, "%s:%s", r->id->resource_type, r->id->resource);
    return account_row(s, rc, fatal, &s->counts.resources, err, "resource", id);
}

bool bt_sink_type_at(const bt_sink *s, size_t i, const char **id, uint64_t *resources)
{
    if (!s || i >= s->types.n)
        return false;
    *id = s->types.v[i].id;
    *resources = s->types.v[i].resources;
    return true;
}

static int check_grantable_to(const bt_sink *s, const bt_pb_entitlement *e, char *err,
                              size_t errsz)
{
    for (size_t i = 0; i < e->n_grantable_to; i++) {
        const bt_pb_resource_type *t = e->grantable_to[i];
        if (!t || blank(t->id) || !bt_sink_types_find(&s->types, t->id)) {
            bt_sink_errf(err, errsz, BT_DANGLING_FMT, "entitlement", e->id, "grantable_to type",
                         t && t->id ? t->id : "(none)");
            return -1;
        }
    }
    return 0;
}

int bt_sink_add_entitlement(bt_sink *s, const bt_pb_entitlement *e, char *err, size_t errsz)
{
    if (!usable(s, err, errsz))
        return BT_SINK_ERROR;
    if (!e || blank(e->id) || !e->resource || !id_ok(e->resource->id)) {
        bt_sink_errf(err, errsz, "entitlement without an id or a resource id");
        return BT_SINK_ERROR;
    }
    if (check_grantable_to(s, e, err, errsz) != 0)
        return BT_SINK_ERROR;
    bool fatal = false;
    int rc = s->be->entitlement(s->impl, e, &fatal, err, errsz);
    return account_row(s, rc, fatal, &s->counts.entitlements, err, "entitlement", e->id);
}

static bool grant_ok(const bt_pb_grant *g, char *err, size_t errsz)
{
    if (!g || blank(g->id) || !g->entitlement || blank(g->entitlement->id) ||
        !g->entitlement->resource || !id_ok(g->entitlement->resource->id) || !g->principal ||
        !id_ok(g->principal->id)) {
        bt_sink_errf(err, errsz, "grant without an id, entitlement id, resource id or principal id");
        return false;
    }
    return true;
}

int bt_sink_add_grant(bt_sink *s, const bt_pb_grant *g, char *err, size_t errsz)
{
    if (!usable(s, err, errsz) || !grant_ok(g, err, errsz))
        return BT_SINK_ERROR;
    bool fatal = false;
    int rc = s->be->grant(s->impl, g, &fatal, err, errsz);
    return account_row(s, rc, fatal, &s->counts.grants, err, "grant", g->id);
}

int bt_sink_add_grant_packed(bt_sink *s, const bt_pb_grant *g, const bt_bytes *tail, char *err,
                             size_t errsz)
{
    if (!usable(s, err, errsz) || !grant_ok(g, err, errsz))
        return BT_SINK_ERROR;
    bool fatal = false;
    int rc = s->be->grant_packed && tail
                 ? s->be->grant_packed(s->impl, g, tail, &fatal, err, errsz)
                 : s->be->grant(s->impl, g, &fatal, err, errsz);
    return account_row(s, rc, fatal, &s->counts.grants, err, "grant", g->id);
}
