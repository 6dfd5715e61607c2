/* The JSON-lines backend: one compact JSON object per row, written to a
 * unique "<out>.tmp-out-XXXXXX" (flock-ed while it exists, atomic.c) and
 * renamed over <out> at commit.
 *
 * Line shape: {"kind":K, ...} where K is "resource_type", "resource",
 * "entitlement" or "grant" and the other members are the protojson form of
 * the c1.connector.v2 message (lowerCamelCase names, enums by name, proto3
 * defaults omitted, annotations as {"@type": ..., fields}, profile as a plain
 * object, createdAt as RFC 3339). References stay references: an
 * entitlement's "resource" and "grantableTo" entries and a grant's
 * "entitlement" ({"id", "resource"}) and "principal" carry only ids, e.g.
 *
 *   {"kind":"resource_type","id":"user","displayName":"User","traits":["TRAIT_USER"]}
 *   {"kind":"resource","id":{"resourceType":"user","resource":"U1"},"displayName":"Ann",...}
 *   {"kind":"entitlement","resource":{"id":{"resourceType":"group","resource":"G1"}},
 *    "id":"group:G1:member","displayName":"G1 Group Member",...,"slug":"member"}
 *   {"kind":"grant","entitlement":{"resource":{"id":{...}},"id":"group:G1:member"},
 *    "principal":{"id":{"resourceType":"user","resource":"U1"}},"id":"group:G1:member:user:U1"}
 *
 * Duplicates and references are tracked with 64-bit digests of the ids
 * (idset.c), and each resource's and entitlement's content with a digest of
 * its encoding seeded by its id, to tell a repeated row from a conflicting
 * one (a grant is little more than its ids, and grants are the rows that
 * are counted in millions: they are not compared); a reference not yet resolvable when its row is written is kept
 * in a pending list, re-checked at commit, and compacted as it grows. */
#include "bt/buf.h"
#include "bt/files.h"
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLUSH_AT (64u * 1024u)
#define PENDING_COMPACT_MIN 4096

typedef struct {
    uint64_t digest;
    size_t msg; /* offset of the failure message in msgs */
} pending_ref;

typedef struct {
    int fd, tmp_slot;
    char out[PATH_MAX], tmp[PATH_MAX];
    const bt_sink_types *types;
    bt_idset ids;      /* 't' types, 'r' resources, 'e' entitlements, 'g' grants */
    bt_idset contents; /* digests of added resources and entitlements, seeded by id */
    bt_buf packed;   /* scratch for those encodings */
    pending_ref *pending;
    size_t n_pending, cap_pending, compact_at;
    bt_buf msgs;
    bt_buf out_buf;
    bool principals_outside; /* a partial sync: principals live in the full one */
} jsonl_writer;

static int write_all(int fd, const char *p, size_t n, char *err, size_t errsz)
{
    if (bt_write_all(fd, p, n) == 0)
        return 0;
    bt_sink_errf(err, errsz, "write failed: %s", strerror(errno));
    return -1;
}

static int flush(jsonl_writer *w, char *err, size_t errsz)
{
    int rc = write_all(w->fd, w->out_buf.data, w->out_buf.len, err, errsz);
    bt_buf_clear(&w->out_buf);
    return rc;
}

/* Append one line {"kind":kind,<members of m>}. */
static int put_line(jsonl_writer *w, const char *kind, const ProtobufCMessage *m, bool *fatal,
                    char *err, size_t errsz)
{
    bt_buf *b = &w->out_buf;
    size_t mark = b->len;
    bt_buf_puts(b, "{\"kind\":");
    bt_json_str_append(b, kind, strlen(kind));
    bool first = false;
    if (bt_protojson_append_members(b, m, &first) != 0 || b->oom) {
        b->len = mark;
        *fatal = true;
        bt_sink_errf(err, errsz, "out of memory writing a %s line", kind);
        return BT_SINK_ERROR;
    }
    bt_buf_puts(b, "}\n");
    if (b->len >= FLUSH_AT && flush(w, err, errsz) != 0) {
        *fatal = true;
        return BT_SINK_ERROR;
    }
    return BT_SINK_ADDED;
}

/* ------------------------------------------------------------------------
 * Pending references */

static void compact_pending(jsonl_writer *w)
{
    size_t k = 0;
    for (size_t i = 0; i < w->n_pending; i++)
        if (!bt_idset_has(&w->ids, w->pending[i].digest))
            w->pending[k++] = w->pending[i];
    w->n_pending = k;
    w->compact_at = k * 2 > PENDING_COMPACT_MIN ? k * 2 : PENDING_COMPACT_MIN;
}

/* Remember that `digest` must exist by commit; msg is the error then. */
static int add_pending(jsonl_writer *w, uint64_t digest, const char *msg)
{
    if (w->n_pending >= w->compact_at)
        compact_pending(w);
    if (bt_grow_array(&w->pending, &w->cap_pending, w->n_pending, sizeof *w->pending, 64) != 0)
        return -1;
    size_t off = w->msgs.len;
    bt_buf_append(&w->msgs, msg, strlen(msg) + 1);
    if (w->msgs.oom)
        return -1;
    w->pending[w->n_pending++] = (pending_ref){digest, off};
    return 0;
}

/* Require kind/a/b to exist by commit (now, or pending). */
static int require_ref(jsonl_writer *w, char kind, const char *a, const char *b,
                       const char *row_kind, const char *row_id, const char *what, bool *fatal,
                       char *err, size_t errsz)
{
    uint64_t d = bt_id_digest(kind, a, b);
    if (bt_idset_has(&w->ids, d))
        return 0;
    char msg[1024];
    char ref[512];
    snprintf(ref, sizeof ref, "%s%s%s", a, b ? ":" : "", b ? b : "");
    snprintf(msg, sizeof msg, BT_DANGLING_FMT, row_kind, row_id, what, ref);
    if (add_pending(w, d, msg) == 0)
        return 0;
    *fatal = true;
    bt_sink_errf(err, errsz, "out of memory");
    return -1;
}

/* Insert a row's own digest (and, when m is given, its content's): ADDED,
 * DUPLICATE, CONFLICT (the id was there with other content) or ERROR. */
static int claim(jsonl_writer *w, uint64_t d, const ProtobufCMessage *m, bool *fatal, char *err,
                 size_t errsz)
{
    bt_buf_clear(&w->packed);
    int rc = !m || bt_pb_pack(m, &w->packed) == 0 ? bt_idset_add(&w->ids, d) : -1;
    uint64_t content = m ? bt_xxh64(w->packed.data, w->packed.len, d) : 0;
    if (rc == 1 && m && bt_idset_add(&w->contents, content) < 0)
        rc = -1;
    if (rc < 0) {
        *fatal = true;
        bt_sink_errf(err, errsz, "out of memory");
        return BT_SINK_ERROR;
    }
    if (rc == 1)
        return BT_SINK_ADDED;
    return !m || bt_idset_has(&w->contents, content) ? BT_SINK_DUPLICATE : BT_SINK_CONFLICT;
}

/* ------------------------------------------------------------------------
 * Rows */

static int jsonl_resource_type(void *impl, const bt_pb_resource_type *rt, const bt_buf *encoded,
                               bool *fatal, char *err, size_t errsz)
{
    jsonl_writer *w = impl;
    (void)encoded;
    int rc = claim(w, bt_id_digest('t', rt->id, NULL), NULL, fatal, err, errsz);
    return rc == BT_SINK_ADDED ? put_line(w, "resource_type", &rt->base, fatal, err, errsz) : rc;
}

static int jsonl_resource(void *impl, const bt_pb_resource *r, bool *fatal, char *err, size_t errsz)
{
    jsonl_writer *w = impl;
    const bt_pb_resource_id *id = r->id, *p = r->parent_resource_id;
    int rc = claim(w, bt_id_digest('r', id->resource_type, id->resource), &r->base, fatal, err,
                   errsz);
    if (rc != BT_SINK_ADDED)
        return rc;
    char row[512];
    snprintf(row, sizeof row, "%s:%s", id->resource_type, id->resource);
    if (require_ref(w, 't', id->resource_type, NULL, "resource", row, "resource type", fatal, err,
                    errsz) != 0 ||
        (p && require_ref(w, 'r', p->resource_type, p->resource, "resource", row, "parent", fatal,
                          err, errsz) != 0))
        return BT_SINK_ERROR;
    return put_line(w, "resource", &r->base, fatal, err, errsz);
}

/* The embedded resource must exist already (as in the c1z sink). */
static int require_owner(jsonl_writer *w, const char *kind, const char *row_id,
                         const bt_pb_resource_id *rid, char *err, size_t errsz)
{
    if (bt_idset_has(&w->ids, bt_id_digest('r', rid->resource_type, rid->resource)))
        return 0;
    bt_sink_errf(err, errsz,
                 "%s %s: resource %s:%s was never emitted (emit a resource before its "
                 "entitlements and grants)",
                 kind, row_id, rid->resource_type, rid->resource);
    return -1;
}

static int jsonl_entitlement(void *impl, const bt_pb_entitlement *e, bool *fatal, char *err,
                             size_t errsz)
{
    jsonl_writer *w = impl;
    if (require_owner(w, "entitlement", e->id, e->resource->id, err, errsz) != 0)
        return BT_SINK_ERROR;
    int rc = claim(w, bt_id_digest('e', e->id, NULL), &e->base, fatal, err, errsz);
    return rc == BT_SINK_ADDED ? put_line(w, "entitlement", &e->base, fatal, err, errsz) : rc;
}

static int jsonl_grant(void *impl, const bt_pb_grant *g, bool *fatal, char *err, size_t errsz)
{
    jsonl_writer *w = impl;
    const bt_pb_resource_id *pid = g->principal->id;
    if (require_owner(w, "grant", g->id, g->entitlement->resource->id, err, errsz) != 0)
        return BT_SINK_ERROR;
    int rc = claim(w, bt_id_digest('g', g->id, NULL), NULL, fatal, err, errsz);
    if (rc != BT_SINK_ADDED)
        return rc;
    if (require_ref(w, 'e', g->entitlement->id, NULL, "grant", g->id, "entitlement", fatal, err,
                    errsz) != 0 ||
        (!w->principals_outside &&
         require_ref(w, 'r', pid->resource_type, pid->resource, "grant", g->id, "principal",
                     fatal, err, errsz) != 0))
        return BT_SINK_ERROR;
    return put_line(w, "grant", &g->base, fatal, err, errsz);
}

static int jsonl_has_resource(void *impl, const char *type, const char *id, char *err,
                              size_t errsz)
{
    jsonl_writer *w = impl;
    (void)err;
    (void)errsz;
    return bt_idset_has(&w->ids, bt_id_digest('r', type, id)) ? 1 : 0;
}

/* ------------------------------------------------------------------------
 * Open, commit, abort */

static void jsonl_abort(void *impl)
{
    jsonl_writer *w = impl;
    if (!w)
        return;
    bt_cleanup_remove(w->tmp, &w->tmp_slot);
    if (w->fd >= 0) /* after the unlink: the lock guards the file while it exists */
        close(w->fd);
    bt_idset_free(&w->ids);
    bt_idset_free(&w->contents);
    bt_buf_free(&w->packed);
    free(w->pending);
    bt_buf_free(&w->msgs);
    bt_buf_free(&w->out_buf);
    free(w);
}

static void *jsonl_writer_open(const char *path, const bt_sink_types *types, char *err,
                               size_t errsz)
{
    jsonl_writer *w = calloc(1, sizeof *w);
    if (!w) {
        bt_sink_errf(err, errsz, "out of memory");
        return NULL;
    }
    w->fd = -1;
    w->tmp_slot = -1;
    w->types = types;
    w->compact_at = PENDING_COMPACT_MIN;
    if (bt_path_with_suffix(path, "", w->out, sizeof w->out, err, errsz) != 0) {
        jsonl_abort(w);
        return NULL;
    }
    w->fd = bt_make_output_temp(path, w->tmp, sizeof w->tmp, err, errsz);
    if (w->fd < 0) {
        w->tmp[0] = '\0'; /* not ours: never created */
        jsonl_abort(w);
        return NULL;
    }
    w->tmp_slot = bt_cleanup_register(w->tmp);
    return w;
}

static int check_pending(jsonl_writer *w, char *err, size_t errsz)
{
    for (size_t i = 0; i < w->n_pending; i++) {
        if (!bt_idset_has(&w->ids, w->pending[i].digest)) {
            bt_sink_errf(err, errsz, "%s", (const char *)w->msgs.data + w->pending[i].msg);
            return -1;
        }
    }
    return 0;
}

static int jsonl_commit(void *impl, char *err, size_t errsz)
{
    jsonl_writer *w = impl;
    int rc = check_pending(w, err, errsz);
    if (rc == 0)
        rc = flush(w, err, errsz);
    if (rc == 0) {
        rc = bt_atomic_publish(w->fd, w->tmp, w->out, err, errsz);
        w->fd = -1;
        if (rc == 0) {
            bt_cleanup_unregister(w->tmp_slot);
            w->tmp_slot = -1;
            w->tmp[0] = '\0';
        }
    }
    jsonl_abort(w);
    return rc;
}

static void jsonl_sync_type(void *impl, const char *type)
{
    jsonl_writer *w = impl;
    w->principals_outside = strcmp(type, "partial") == 0;
}

/* The vtable's open: JSON lines carry no sync id. */
static void *jsonl_open(const char *path, const char *sync_id, const bt_sink_types *types,
                        char *err, size_t errsz)
{
    (void)sync_id;
    return jsonl_writer_open(path, types, err, errsz);
}

const bt_sink_backend bt_jsonl_backend = {
    .name = "jsonl",
    .open = jsonl_open,
    .resource_type = jsonl_resource_type,
    .resource = jsonl_resource,
    .entitlement = jsonl_entitlement,
    .grant = jsonl_grant,
    .has_resource = jsonl_has_resource,
    .commit = jsonl_commit,
    .abort = jsonl_abort,
    .sync_type = jsonl_sync_type,
};
