/* Sinks: where a sync's rows go. Two formats, one contract:
 *
 *   c1z    shared/c1z-format.md format v1: "C1ZF\0" + one zstd frame around a
 *          SQLite database (v1_* tables, one finished full sync run).
 *   jsonl  one JSON object per line and row (src/sink/jsonl.c documents the
 *          shape): {"kind":"resource_type"|"resource"|"entitlement"|"grant", ...}.
 *
 * Rows stream to disk as they are added (memory does not grow with the
 * tenant). Adding an id a second time is absorbed: the first row wins and
 * `duplicates` counts the rest; a second row whose content differs from the
 * first is also a warning and a skip of cause "duplicate_id_different_content". bt_sink_commit checks that every reference
 * resolves (a grant's entitlement and principal, an entitlement's resource, a
 * resource's type and parent), then publishes atomically: the output is
 * written to a unique "<path>.tmp-out-XXXXXX", fsynced and renamed over
 * <path>, and the directory fsynced. A failed, aborted or interrupted run
 * removes its temporary files and leaves any earlier <path> byte-identical.
 *
 * <path> must be a regular file or not exist yet. A symbolic link is followed
 * to its final target, which must be one of those too; the temporary files
 * and the rename go beside that target, so the link survives. Two runs may
 * write one path at once: each has its own temporary files, the last to
 * commit wins.
 *
 * The row adders take the messages the way a connector describes them, with
 * references by id, and the sink fills in what the format embeds:
 *   - resource type, resource: complete messages.
 *   - entitlement: `resource` holds only `id` (the resource must already have
 *     been added); `grantable_to` entries hold only `id` (resource types
 *     already added). The c1z sink embeds the stored resource and types.
 *   - grant: `entitlement` holds `id` and `resource` {id} (the resource must
 *     already have been added); `principal` holds only `id`. The c1z sink
 *     embeds the stored resource (c1z-format.md 5.2).
 * The adders never keep pointers into the message after they return. */
#ifndef BT_SINK_H
#define BT_SINK_H
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "bt/model.h"

typedef struct bt_sink bt_sink;

/* Rows a sync left out on purpose, by cause (bt_sink_skip). Causes beyond
 * the first BT_SINK_SKIP_CAUSES are counted under "other". */
#define BT_SINK_SKIP_CAUSES 16
#define BT_SINK_CAUSE_LEN 48

typedef struct {
    char cause[BT_SINK_CAUSE_LEN];
    uint64_t n;
} bt_sink_skip_count;

typedef struct {
    uint64_t resource_types;
    uint64_t resources;
    uint64_t entitlements;
    uint64_t grants;
    uint64_t duplicates; /* adds absorbed because the id was already there */
    bt_sink_skip_count skipped[BT_SINK_SKIP_CAUSES];
    size_t n_skipped; /* causes used in skipped[] */
    /* Resources the connector chose to leave out (bt_sink_filter), by
     * resource type in `cause`; apart from skipped: nothing was lost. */
    bt_sink_skip_count filtered[BT_SINK_SKIP_CAUSES];
    size_t n_filtered;
} bt_sink_counts;

/* Results of the row adders. */
enum {
    BT_SINK_ADDED = 0,
    BT_SINK_DUPLICATE = 1, /* absorbed, counted in duplicates */
    BT_SINK_CONFLICT = 2,  /* backend only: a duplicate whose content differs */
    BT_SINK_ERROR = -1     /* err says why; the row was not added */
};

/* Count one row left out for `cause` (a short snake_case word) and return
 * the new count for that cause. The caller logs why. */
uint64_t bt_sink_skip(bt_sink *s, const char *cause);

/* Record resource type:id as left out on purpose by the connector (a filter
 * of its own, not a failure): counted once per id under its type in
 * counts.filtered. 1 when new, 0 when already recorded, -1 out of memory or
 * blank type/id (err filled). */
int bt_sink_filter(bt_sink *s, const char *type, const char *id, char *err, size_t errsz);
/* Whether bt_sink_filter recorded type:id. */
bool bt_sink_is_filtered(const bt_sink *s, const char *type, const char *id);

/* Whether resource type:id was added: 1 yes, 0 no, -1 error (err filled;
 * an I/O failure also marks the sink failed). */
int bt_sink_has_resource(bt_sink *s, const char *type, const char *id, char *err, size_t errsz);

/* Open a sink writing to `path`. format: "c1z", "jsonl" ("ndjson" is an
 * alias) or NULL = by extension (.jsonl/.ndjson -> jsonl, anything else c1z).
 * Refuses a path that is (or links to) a directory, device, FIFO or socket.
 * Removes the temporary files of this path that crashed runs left (those a
 * live run holds locked stay), then creates its own, so a directory that
 * cannot be written fails here, before any work. NULL with err filled on
 * failure. */
bt_sink *bt_sink_open(const char *path, const char *format, char *err, size_t errsz);
/* What the one error line of an interrupted run says when no output file is
 * involved (a provisioning action): "error: interrupted by SIGTERM; <text>".
 * The handler is bt_sink_install_signal_cleanup's. */
void bt_sink_note_interruption(const char *text);
/* No line at all (a service-mode task: its daemon reports the outcome). */
void bt_sink_quiet_interruption(void);
/* --c1z-temp-dir: where the c1z sink keeps its working database (NULL: beside
 * the target, the default). The compressed file is still written beside the
 * target and renamed into place. For the sinks opened after the call. */
void bt_sink_set_work_dir(const char *dir);
/* How many leftover temporary files bt_sink_open removed. */
int bt_sink_stale_removed(const bt_sink *s);

/* Settle the counts: grant rows the backend took in without telling a
 * repeat from a new id (c1z: for speed, its unique grant index is built once
 * here instead of kept during the inserts) are sorted out, each repeat moved
 * from `grants` to `duplicates` (a conflict also warned and skipped), so the
 * counts are exact. Later rows are told apart as they come. Cheap to call
 * again. 0, or -1 with err (the sink is then failed). bt_sink_commit settles
 * first. */
int bt_sink_settle(bt_sink *s, char *err, size_t errsz);

/* Check integrity, finish the file and rename it over `path`. Frees s (also
 * on failure, after removing the temporary files). 0 on success; -1 with err
 * naming the first dangling reference or the I/O failure. */
int bt_sink_commit(bt_sink *s, char *err, size_t errsz);

/* Remove the temporary files and free s. NULL is fine. */
void bt_sink_abort(bt_sink *s);

/* The sync's type in the file (c1z-format.md 3.1): "full" (the default),
 * "partial" (a targeted sync, amending a full one: a grant's principal may
 * live there, so the commit does not require it here) or "resources_only".
 * Only before the first row; -1 with err otherwise or for another type. */
int bt_sink_set_sync_type(bt_sink *s, const char *type, char *err, size_t errsz);

/* The counts so far; exact once bt_sink_settle has run (before that a
 * repeated grant may still count as a grant). */
void bt_sink_get_counts(const bt_sink *s, bt_sink_counts *out);
/* The i-th resource type added (in order) and how many resources of it were
 * added; false past the end. */
bool bt_sink_type_at(const bt_sink *s, size_t i, const char **id, uint64_t *resources);
/* "c1z" or "jsonl". */
const char *bt_sink_format(const bt_sink *s);
/* The c1z sync run's KSUID (the jsonl sink makes one too, for logs). */
const char *bt_sink_sync_id(const bt_sink *s);

/* Row adders: BT_SINK_ADDED, BT_SINK_DUPLICATE, or BT_SINK_ERROR with err.
 * An I/O or database failure also marks the sink failed: every later add and
 * the commit fail with the same message. A reference error (for example an
 * entitlement whose resource was never added) fails only that row. */
int bt_sink_add_resource_type(bt_sink *s, const bt_pb_resource_type *rt, char *err, size_t errsz);
int bt_sink_add_resource(bt_sink *s, const bt_pb_resource *r, char *err, size_t errsz);
int bt_sink_add_entitlement(bt_sink *s, const bt_pb_entitlement *e, char *err, size_t errsz);
int bt_sink_add_grant(bt_sink *s, const bt_pb_grant *g, char *err, size_t errsz);
/* bt_sink_add_grant for a grant whose annotations are also given packed: `tail` is exactly
 * what packing g->annotations as Grant field 4 writes (the same for many rows). A backend that
 * can writes the row from pieces it keeps (c1z: the embedded entitlement and its stored
 * resource, packed once per entitlement); the row is the same bytes either way. */
int bt_sink_add_grant_packed(bt_sink *s, const bt_pb_grant *g, const bt_bytes *tail, char *err,
                             size_t errsz);

/* Install SIGINT/SIGTERM/SIGHUP handlers that unlink every open sink's
 * temporary files (paths kept in static buffers; only async-signal-safe
 * calls), write one line "error: interrupted by SIGTERM; PATH unchanged" to
 * stderr, then restore the default action and re-raise, so the process still
 * dies of the signal with a non-zero status. Idempotent. */
void bt_sink_install_signal_cleanup(void);
/* End the process now, from a signal handler too (async-signal-safe): remove
 * the temporary files, write "error: <reason>; <path> unchanged" and _exit
 * with status. */
void bt_sink_stop_now(const char *reason, int status) __attribute__((noreturn));
/* Called by bt_sink_stop_now with the reason before the process ends (a
 * service-mode task reports it to its daemon); must be async-signal-safe. */
void bt_sink_set_stop_hook(void (*fn)(const char *reason));
/* The path that line names (as the user gave it); without a note the line
 * names only the signal. It says "not written" when PATH did not exist at the
 * note, and "was already written" once a sink has published. */
void bt_sink_note_output(const char *path);

/* bt.emit (src/prim/emit.c): while bound to s, emit.* writes to s; bound to
 * NULL, every emit.* call raises "bt.emit: not in the sync phase". */
struct lua_State;
void bt_emit_bind(struct lua_State *L, bt_sink *s);

/* Publish a file that is not a sync (the HTML report) as the sinks publish
 * theirs (publish.c): path a regular file or absent (a symbolic link written
 * through), a unique temporary file beside it with the replaced file's mode
 * or 0600, write_fn(f, ud) filling it (0, or -1 having said why), fsync and
 * rename. 0, or -1 with err (empty when write_fn failed). */
int bt_sink_publish_stream(const char *path, int (*write_fn)(FILE *f, void *ud), void *ud,
                           char *err, size_t errsz);

#endif
