/* The unique grant index of the working database, built once the grants are
 * in. Keeping it during the inserts cost about a fifth of a sync's CPU: grants
 * arrive grouped by user while the index is ordered by group, so every insert
 * lands on another page of it. Built at the end it is one sort.
 *
 * Building it also tells whether an id was stored twice (a list read again
 * after the tenant changed, a script emitting a grant twice): the build then
 * fails, and only then are the rows of the repeated ids walked in order. The
 * first row of an id (the lowest rowid, the one written first) stays, as it
 * would have with the index in place; each later row is reported and deleted.
 * The sorts and the list of rows to delete live in SQLite's temporary files,
 * so memory stays bounded however many repeats there are. */
#include "internal.h"

#include <sqlite3.h>
#include <string.h>

typedef struct {
    sqlite3 *db;
    void (*repeat)(void *ctx, const char *id, bool conflict);
    void *ctx;
    sqlite3_stmt *walk, *drop;
    bt_buf key, data; /* the first row of the current id */
} settle_state;

static int fail(sqlite3 *db, const char *what, char *err, size_t errsz)
{
    bt_sink_errf(err, errsz, "sqlite: %s: %s", what, sqlite3_errmsg(db));
    return -1;
}

static int out_of_memory(char *err, size_t errsz)
{
    bt_sink_errf(err, errsz, "out of memory");
    return -1;
}

static int run(sqlite3 *db, const char *sql, const char *what, char *err, size_t errsz)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : fail(db, what, err, errsz);
}

/* Only the rows of ids stored more than once, in order: each row's id,
 * external id, sync id and data (the sorts spill to SQLite's temporary
 * files, so memory stays bounded). */
static const char walk_sql[] =
    "select g.id, g.external_id, g.sync_id, g.data from main.v1_grants g"
    " join (select external_id e, sync_id s from main.v1_grants group by 1, 2"
    " having count(*) > 1) r on g.external_id = r.e and g.sync_id = r.s"
    " order by g.external_id, g.sync_id, g.id";

static const char repeats_sql[] = "create temp table bt_grant_repeats (id integer primary key);";

static const char cleanup_sql[] = "drop table if exists temp.bt_grant_repeats;";

/* The row's key: external_id NUL sync_id. */
static int row_key(sqlite3_stmt *st, bt_buf *out)
{
    bt_buf_clear(out);
    return bt_buf_append(out, sqlite3_column_text(st, 1), (size_t)sqlite3_column_bytes(st, 1)) ||
           bt_buf_putc(out, '\0') ||
           bt_buf_append(out, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
}

static bool same_bytes(const bt_buf *b, const void *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

/* One row of the walk: the first of its id is remembered, a later one is
 * reported and queued for deletion. */
static int visit(settle_state *s, bt_buf *key, char *err, size_t errsz)
{
    sqlite3_stmt *st = s->walk;
    const void *data = sqlite3_column_blob(st, 3);
    size_t n = (size_t)sqlite3_column_bytes(st, 3);
    if (row_key(st, key) != 0)
        return out_of_memory(err, errsz);
    if (!same_bytes(&s->key, key->data, key->len)) {
        bt_buf_clear(&s->key);
        bt_buf_clear(&s->data);
        if (bt_buf_append(&s->key, key->data, key->len) || bt_buf_append(&s->data, data, n))
            return out_of_memory(err, errsz);
        return 0;
    }
    s->repeat(s->ctx, (const char *)sqlite3_column_text(st, 1), !same_bytes(&s->data, data, n));
    sqlite3_bind_int64(s->drop, 1, sqlite3_column_int64(st, 0));
    int rc = sqlite3_step(s->drop);
    sqlite3_reset(s->drop);
    return rc == SQLITE_DONE ? 0 : fail(s->db, "grant repeats", err, errsz);
}

static int walk_repeats(settle_state *s, char *err, size_t errsz)
{
    if (sqlite3_prepare_v2(s->db, walk_sql, -1, &s->walk, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "insert into temp.bt_grant_repeats (id) values (?)", -1,
                           &s->drop, NULL) != SQLITE_OK)
        return fail(s->db, "grant repeats", err, errsz);
    bt_buf key = {0};
    int rc;
    while ((rc = sqlite3_step(s->walk)) == SQLITE_ROW)
        if (visit(s, &key, err, errsz) != 0) {
            bt_buf_free(&key);
            return -1;
        }
    bt_buf_free(&key);
    return rc == SQLITE_DONE ? 0 : fail(s->db, "grant repeats", err, errsz);
}

/* Deletes every repeat, zeroing its bytes: a conflicting row's content
 * must not linger in the published file. */
static int drop_repeats(sqlite3 *db, char *err, size_t errsz)
{
    return run(db,
               "begin; pragma secure_delete = on;"
               " delete from main.v1_grants where id in (select id from temp.bt_grant_repeats);"
               " pragma secure_delete = off; commit;",
               "grant repeats", err, errsz);
}

static int absorb(settle_state *s, char *err, size_t errsz)
{
    int rc = run(s->db, repeats_sql, "grant repeats", err, errsz);
    if (rc == 0)
        rc = walk_repeats(s, err, errsz);
    sqlite3_finalize(s->walk);
    sqlite3_finalize(s->drop);
    if (rc == 0)
        rc = drop_repeats(s->db, err, errsz);
    if (run(s->db, cleanup_sql, "grant repeats", rc ? NULL : err, rc ? 0 : errsz) != 0)
        rc = -1;
    bt_buf_free(&s->key);
    bt_buf_free(&s->data);
    return rc;
}

int bt_c1z_settle_grants(sqlite3 *db, void (*repeat)(void *ctx, const char *id, bool conflict),
                         void *ctx, char *err, size_t errsz)
{
    if (sqlite3_exec(db, bt_c1z_grant_unique_sql, NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    if ((sqlite3_errcode(db) & 0xff) != SQLITE_CONSTRAINT)
        return fail(db, "grant index", err, errsz);
    settle_state s = {.db = db, .repeat = repeat, .ctx = ctx};
    if (absorb(&s, err, errsz) != 0)
        return -1;
    return run(db, bt_c1z_grant_unique_sql, "grant index", err, errsz);
}
