/* Private to src/sink: the backend interface behind bt_sink (sink.c), the
 * resource-type registry shared by both backends, and the file helpers. */
#ifndef BT_SINK_INTERNAL_H
#define BT_SINK_INTERNAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/model.h"
#include "bt/sink.h"

/* printf into err (NULL/0 tolerated). */
void bt_sink_errf(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ------------------------------------------------------------------------
 * Resource types seen so far (sink.c). Few per sync, kept in memory: they are
 * embedded in entitlements (grantable_to) and say which trait a resource
 * needs. `msg` is decoded from the stored encoding, so it is byte-identical to
 * the row. */

typedef struct {
    char *id;
    bt_pb_resource_type *msg;
    uint64_t resources; /* resources of this type added */
} bt_sink_type;

typedef struct {
    bt_sink_type *v;
    size_t n, cap;
} bt_sink_types;

const bt_pb_resource_type *bt_sink_types_find(const bt_sink_types *t, const char *id);

/* ------------------------------------------------------------------------
 * Backends. Each adder returns BT_SINK_ADDED, BT_SINK_DUPLICATE,
 * BT_SINK_CONFLICT (a duplicate whose content differs from the first row) or
 * BT_SINK_ERROR; on an error that leaves the backend unusable it also sets
 * *fatal. commit and abort free the backend. */

typedef struct {
    const char *name;
    /* Creates the backend's temporary file beside path (an unwritable
     * directory fails here, before any request); NULL with err. */
    void *(*open)(const char *path, const char *sync_id, const bt_sink_types *types, char *err,
                  size_t errsz);
    int (*resource_type)(void *impl, const bt_pb_resource_type *rt, const bt_bytes *encoded,
                         bool *fatal, char *err, size_t errsz);
    int (*resource)(void *impl, const bt_pb_resource *r, bool *fatal, char *err, size_t errsz);
    int (*entitlement)(void *impl, const bt_pb_entitlement *e, bool *fatal, char *err, size_t errsz);
    int (*grant)(void *impl, const bt_pb_grant *g, bool *fatal, char *err, size_t errsz);
    /* Optional (bt_sink_add_grant_packed): g with its annotations already packed as
     * `tail`; the row must be byte for byte what grant writes. NULL: grant is used. */
    int (*grant_packed)(void *impl, const bt_pb_grant *g, const bt_bytes *tail, bool *fatal,
                        char *err, size_t errsz);
    /* 1 / 0 whether resource type:id was added; -1 (fatal) on error. */
    int (*has_resource)(void *impl, const char *type, const char *id, char *err, size_t errsz);
    /* Optional: grants added without being told apart from earlier rows of
     * the same id (the c1z backend builds its unique grant index here rather
     * than during the inserts) are sorted out now. Each later row but the
     * first of an id is removed and reported once: repeat(ctx, id, conflict),
     * conflict when its content differs from the first. Later grants are told
     * apart as they arrive. 0, or -1 with err (fatal). */
    int (*settle_grants)(void *impl, void (*repeat)(void *ctx, const char *id, bool conflict),
                         void *ctx, char *err, size_t errsz);
    int (*commit)(void *impl, char *err, size_t errsz);
    void (*abort)(void *impl);
    /* bt_sink_set_sync_type: type is "full", "partial" or "resources_only";
     * a partial sync's grant principals may live outside the file. */
    void (*sync_type)(void *impl, const char *type);
} bt_sink_backend;

/* ------------------------------------------------------------------------
 * grant_prefix.c: packed grant heads (Grant field 1) per entitlement. */

/* 4-way set associative: a tenant's few thousand groups fit without two of them evicting each
 * other on every user (a direct-mapped table of 1024 lost a quarter of 600 groups that way). */
#define BT_GRANT_PREFIX_WAYS 4
#define BT_GRANT_PREFIX_SETS 1024
#define BT_GRANT_PREFIX_SLOTS (BT_GRANT_PREFIX_WAYS * BT_GRANT_PREFIX_SETS)

typedef struct {
    char *ent_id, *type, *id; /* NULL: empty */
    bt_bytes bytes;
    uint64_t used; /* last use, for the eviction within a set */
} bt_grant_prefix;

typedef struct {
    bt_grant_prefix slots[BT_GRANT_PREFIX_SLOTS];
    uint64_t tick;
} bt_grant_prefixes;

/* The bytes kept for (entitlement id, resource type, resource id), or NULL. */
const bt_bytes *bt_grant_prefix_find(bt_grant_prefixes *c, const char *ent_id, const char *type,
                                     const char *id);
/* An emptied buffer for that key (replacing what its slot held), NULL on out of memory. */
bt_bytes *bt_grant_prefix_slot(bt_grant_prefixes *c, const char *ent_id, const char *type,
                               const char *id);
/* Drops the entry whose buffer is `bytes` (it could not be filled). */
void bt_grant_prefix_forget(bt_grant_prefixes *c, const bt_bytes *bytes);
void bt_grant_prefixes_free(bt_grant_prefixes *c);

/* The two backends (their open: `types` outlives the backend). */
extern const bt_sink_backend bt_c1z_backend;
extern const bt_sink_backend bt_jsonl_backend;

/* The messages an integrity failure prints, shared so both backends word
 * them the same way. */
#define BT_DANGLING_FMT "%s %s: %s %s was never emitted"

/* ------------------------------------------------------------------------
 * The v1 schema (c1z_schema.c): tables plus unique indexes, the remaining
 * indexes (created at commit). */

extern const char bt_c1z_schema_sql[];
extern const char bt_c1z_index_sql[];
extern const char bt_c1z_grant_unique_sql[];

/* c1z_repeats.c: builds the unique grant index of db (no transaction open).
 * A grant id stored more than once keeps its first row (lowest rowid); each
 * later one is reported, repeat(ctx, id, conflict) with conflict when its
 * bytes differ from the first's, and deleted (its bytes zeroed in the file).
 * 0, or -1 with err. */
struct sqlite3;
int bt_c1z_settle_grants(struct sqlite3 *db, void (*repeat)(void *ctx, const char *id, bool conflict),
                         void *ctx, char *err, size_t errsz);

/* ------------------------------------------------------------------------
 * Files (atomic.c) */

/* out = path + suffix; -1 (err filled) when it does not fit. */
int bt_path_with_suffix(const char *path, const char *suffix, char *out, size_t outsz,
                        char *err, size_t errsz);
/* Temporary names: "<target>.tmp-db-XXXXXX" (the c1z working database) and
 * "<target>.tmp-out-XXXXXX" (the file renamed over the target). */
#define BT_TEMP_DB ".tmp-db-"
#define BT_TEMP_OUT ".tmp-out-"

/* The directory part of path ("." when none), into out; -1 when too long. */
int bt_dir_of(const char *path, char *out, size_t outsz);
/* target.c: the file a sink writes for `path`: path itself, or the final
 * target of a symbolic link (chain). -1 with err when that is a directory,
 * device, FIFO or socket, when the links loop, or when its directory does not
 * exist. */
int bt_sink_resolve_target(const char *path, char *out, size_t outsz, char *err, size_t errsz);
/* 0 when `final` is a regular file or does not exist (checked again just
 * before the rename). */
int bt_sink_check_replaceable(const char *final, char *err, size_t errsz);
/* stale.c: remove the temporary files of `final` that no live run holds;
 * returns how many were removed. */
int bt_sink_remove_stale_temps(const char *final);
/* The path whose directory holds the working database of `final`: final
 * itself, or <work dir>/<base name of final> (bt_sink_set_work_dir). */
const char *bt_sink_work_path(const char *final, char *buf, size_t n);
/* Create a unique empty file "<path><suffix>XXXXXX" (mode 0600), locked with
 * flock for as long as the returned fd is open; returns the fd and its name. */
int bt_make_temp_beside(const char *path, const char *suffix, char *name, size_t namesz,
                        char *err, size_t errsz);
/* The same with BT_TEMP_OUT: the file to publish, with the mode and group of
 * the regular file it will replace, or mode 0600 for a new one. */
int bt_make_output_temp(const char *path, char *name, size_t namesz, char *err, size_t errsz);
/* fsync fd, rename tmp over path (refused unless path is still a regular
 * file or absent), close fd, fsync the directory. fd is closed in every
 * case. */
int bt_atomic_publish(int fd, const char *tmp, const char *path, char *err, size_t errsz);

/* Signal cleanup registry: each registered path is unlinked if SIGINT,
 * SIGTERM or SIGHUP arrives. Returns a slot (>= 0), or -1 when every slot is
 * taken (the path is then only removed by the normal abort path). */
int bt_cleanup_register(const char *path);
void bt_cleanup_unregister(int slot);
/* unlink(path) if it exists and unregister its slot (slot may be -1). */
void bt_cleanup_remove(const char *path, int *slot);

/* ------------------------------------------------------------------------
 * zstd (zstd_file.c) */

#define BT_C1Z_MAGIC "C1ZF\0"
#define BT_C1Z_MAGIC_LEN 5
#define BT_C1Z_ZSTD_LEVEL 3
#define BT_C1Z_ZSTD_WINDOW_LOG 20 /* 1 MiB, well under the readers' 8 MiB */

/* Write magic then one zstd frame of the whole file src_path (content size in
 * the frame header, checksum on, window of `level`) to out_fd. */
int bt_zstd_compress_file(const char *src_path, int out_fd, const void *magic, size_t magic_len,
                          int level, char *err, size_t errsz);

/* ------------------------------------------------------------------------
 * 64-bit digests of ids (idset.c), for the jsonl sink's duplicate and
 * reference checks. */

uint64_t bt_xxh64(const void *p, size_t n, uint64_t seed);
/* Digest of kind byte + the NUL-separated parts. */
uint64_t bt_id_digest(char kind, const char *a, const char *b);

typedef struct {
    uint64_t *slots;
    size_t cap, n;
} bt_idset;

/* 1 when inserted, 0 when already present, -1 out of memory. */
int bt_idset_add(bt_idset *s, uint64_t digest);
bool bt_idset_has(const bt_idset *s, uint64_t digest);
void bt_idset_free(bt_idset *s);

#endif
