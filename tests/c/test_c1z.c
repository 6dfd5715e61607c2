/* The c1z sink: a written file is read back with libzstd and SQLite directly
 * (magic, frame header, tables, declared types, index names, the sync run,
 * blobs against hand-derived bytes), plus duplicates, reference checks,
 * atomic replacement and signal cleanup. */
#define TU_OUT_NAME "out.c1z"
#include "test_sink_util.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "../fixtures/golden/goldens.h"

static bt_sink *open_c1z(const char *path)
{
    return tu_open_sink(path, "c1z");
}

static void assert_sql(sqlite3 *db, const char *sql, const char *want)
{
    char *got = tu_sql_rows(db, sql);
    if (strcmp(got, want) != 0)
        print_error("query: %s\n", sql);
    assert_string_equal(got, want);
    free(got);
}

static void assert_blob(sqlite3 *db, const char *sql, const uint8_t *want, size_t n)
{
    size_t len;
    unsigned char *got = tu_sql_blob(db, sql, &len);
    assert_non_null(got);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    free(got);
}

/* ------------------------------------------------------------------------
 * The file */

static void zstd_frame_header(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    commit_ok(s);
    size_t n = 0;
    unsigned char *data = tu_read(f->out, &n);
    assert_non_null(data);
    assert_memory_equal(data, "C1ZF\0", 5);
    tu_zstd_header h;
    assert_int_equal(tu_zstd_parse_header(data + 5, n - 5, &h), 0);
    assert_int_equal(h.checksum, 1);
    assert_int_equal(h.dict_id_flag, 0);
    assert_true(h.fcs_present);
    assert_true(h.window_size <= 8u << 20); /* v0.1.7 caps decoder memory at 32 MiB */
    assert_true(ZSTD_getFrameContentSize(data + 5, n - 5) == h.content_size);
    /* Exactly one frame fills the rest of the file. */
    assert_int_equal(ZSTD_findFrameCompressedSize(data + 5, n - 5), n - 5);
    char *db = tu_path(f->dir, "x.db");
    long long size = tu_c1z_inflate(f->out, db);
    assert_int_equal(size, (long long)h.content_size);
    size_t dn;
    unsigned char *raw = tu_read(db, &dn);
    assert_memory_equal(raw, "SQLite format 3\0", 16);
    assert_int_equal(raw[18], 1); /* rollback journal, not WAL (2) */
    assert_int_equal(raw[19], 1);
    free(raw);
    free(db);
    free(data);
}

static void tables_and_declared_types(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_non_null(db);
    assert_sql(db, "select name from sqlite_master where type = 'table' order by name",
               "v1_assets\nv1_connector_sessions\nv1_entitlements\nv1_grants\n"
               "v1_resource_types\nv1_resources\nv1_sync_runs\n");
#define INFO(t) "select name, lower(type), \"notnull\", coalesce(dflt_value, '-'), pk from pragma_table_info('" t "')"
    assert_sql(db, INFO("v1_resource_types"),
               "id|integer|0|-|1\nexternal_id|text|1|-|0\ndata|blob|1|-|0\nsync_id|text|1|-|0\n"
               "discovered_at|datetime|1|-|0\n");
    assert_sql(db, INFO("v1_resources"),
               "id|integer|0|-|1\nresource_type_id|text|1|-|0\nexternal_id|text|1|-|0\n"
               "parent_resource_type_id|text|0|-|0\nparent_resource_id|text|0|-|0\n"
               "data|blob|1|-|0\nsync_id|text|1|-|0\ndiscovered_at|datetime|1|-|0\n");
    assert_sql(db, INFO("v1_entitlements"),
               "id|integer|0|-|1\nresource_type_id|text|1|-|0\nresource_id|text|1|-|0\n"
               "external_id|text|1|-|0\ndata|blob|1|-|0\nsync_id|text|1|-|0\n"
               "discovered_at|datetime|1|-|0\n");
    assert_sql(db, INFO("v1_grants"),
               "id|integer|0|-|1\nresource_type_id|text|1|-|0\nresource_id|text|1|-|0\n"
               "entitlement_id|text|1|-|0\nprincipal_resource_type_id|text|1|-|0\n"
               "principal_resource_id|text|1|-|0\nexternal_id|text|1|-|0\nexpansion|blob|0|-|0\n"
               "needs_expansion|integer|1|0|0\ndata|blob|1|-|0\nsync_id|text|1|-|0\n"
               "discovered_at|datetime|1|-|0\n");
    assert_sql(db, INFO("v1_sync_runs"),
               "id|integer|0|-|1\nsync_id|text|1|-|0\nstarted_at|datetime|1|-|0\n"
               "ended_at|datetime|0|-|0\nsync_token|text|1|-|0\nsync_type|text|1|'full'|0\n"
               "parent_sync_id|text|1|''|0\nlinked_sync_id|text|1|''|0\n"
               "supports_diff|integer|1|0|0\ngrants_backfilled|integer|1|0|0\nstats|text|0|-|0\n"
               "ingest_invariant_generation|text|1|''|0\ningest_invariant_coverage|text|1|''|0\n"
               "ingest_invariant_mode|text|1|''|0\n");
    assert_sql(db, INFO("v1_assets"),
               "id|integer|0|-|1\nexternal_id|text|1|-|0\ncontent_type|text|1|-|0\n"
               "data|blob|1|-|0\nsync_id|text|1|-|0\ndiscovered_at|datetime|1|-|0\n");
    assert_sql(db, INFO("v1_connector_sessions"),
               "id|integer|0|-|1\nsync_id|text|1|-|0\nkey|text|1|-|0\nvalue|blob|1|-|0\n");
#undef INFO
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_assets"), 0);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_connector_sessions"), 0);
    assert_sql(db, "pragma integrity_check", "ok\n");
    sqlite3_close(db);
}

/* Index names (two swapped on purpose, like every SDK), columns, uniqueness
 * and partial indexes. */
static void index_names_and_columns(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_non_null(db);
    assert_sql(db,
               "select m.name, m.tbl_name, l.\"unique\", l.partial,"
               " (select group_concat(name, ',') from (select name from pragma_index_info(m.name)"
               " order by seqno)) from sqlite_master m join pragma_index_list(m.tbl_name) l"
               " on l.name = m.name where m.type = 'index' order by m.name",
               "idx_assets_external_sync_v1|v1_assets|1|0|external_id,sync_id\n"
               "idx_entitlements_external_sync_v1|v1_entitlements|1|0|external_id,sync_id\n"
               "idx_entitlements_resource_id_v1|v1_entitlements|0|0|resource_type_id,resource_id\n"
               "idx_grants_entitlement_id_principal_id_v1|v1_grants|0|0|"
               "entitlement_id,principal_resource_type_id,principal_resource_id\n"
               "idx_grants_entitlement_sync_grant_v1|v1_grants|0|0|entitlement_id,sync_id,id\n"
               "idx_grants_external_sync_v1|v1_grants|1|0|external_id,sync_id\n"
               "idx_grants_principal_id_v1|v1_grants|0|0|"
               "principal_resource_type_id,principal_resource_id\n"
               "idx_grants_resource_type_id_resource_id_v1|v1_grants|0|0|"
               "resource_type_id,resource_id\n"
               "idx_grants_sync_expansion_v1|v1_grants|0|1|sync_id\n"
               "idx_grants_sync_needs_expansion_v1|v1_grants|0|1|sync_id\n"
               "idx_resource_types_external_sync_v1|v1_resource_types|1|0|external_id,sync_id\n"
               "idx_resources_external_sync_v1|v1_resources|0|0|"
               "parent_resource_type_id,parent_resource_id\n"
               "idx_resources_parent_resource_id_v1|v1_resources|1|0|external_id,sync_id\n"
               "idx_resources_resource_type_id_v1|v1_resources|0|0|resource_type_id\n"
               "idx_session_store_sync_key_v1|v1_connector_sessions|1|0|sync_id,key\n"
               "idx_sync_runs_sync_id_v1|v1_sync_runs|1|0|sync_id\n");
    assert_sql(db, "select sql like '%where expansion is not null%' from sqlite_master"
                   " where name = 'idx_grants_sync_expansion_v1'", "1\n");
    assert_sql(db, "select sql like '%where needs_expansion = 1%' from sqlite_master"
                   " where name = 'idx_grants_sync_needs_expansion_v1'", "1\n");
    sqlite3_close(db);
}

static int is_base62(const char *s)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if (strlen(s) != 27)
        return 0;
    for (; *s; s++)
        if (!strchr(b62, *s))
            return 0;
    return 1;
}

static void sync_run_row(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    char sync_id[64];
    snprintf(sync_id, sizeof sync_id, "%s", bt_sink_sync_id(s));
    tb_add_tenant(s);
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_non_null(db);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_sync_runs"), 1);
    char *id = tu_sql_text(db, "select sync_id from v1_sync_runs");
    assert_string_equal(id, sync_id);
    assert_true(is_base62(id));
    assert_sql(db,
               "select sync_type, sync_token, parent_sync_id, linked_sync_id, supports_diff,"
               " grants_backfilled, stats is null, ingest_invariant_generation,"
               " ingest_invariant_coverage, ingest_invariant_mode, typeof(started_at),"
               " typeof(ended_at), started_at <= ended_at from v1_sync_runs",
               "full||||0|0|1||||text|text|1\n");
    char *started = tu_sql_text(db, "select started_at from v1_sync_runs");
    char *ended = tu_sql_text(db, "select ended_at from v1_sync_runs");
    assert_true(tu_is_sync_time(started));
    assert_true(tu_is_sync_time(ended));
    /* Every row belongs to the sync; discovered_at uses the same layout. */
    static const char *const tables[] = {"v1_resource_types", "v1_resources", "v1_entitlements",
                                         "v1_grants"};
    for (size_t i = 0; i < 4; i++) {
        char sql[256];
        snprintf(sql, sizeof sql, "select count(*) from %s where sync_id <> '%s'", tables[i], id);
        assert_int_equal(tu_sql_int(db, sql), 0);
        snprintf(sql, sizeof sql, "select discovered_at from %s order by id limit 1", tables[i]);
        char *t = tu_sql_text(db, sql);
        assert_true(tu_is_sync_time(t));
        free(t);
    }
    free(id);
    free(started);
    free(ended);
    sqlite3_close(db);
}

static void rows_and_blobs(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.resource_types, 2);
    assert_int_equal(n.resources, 2);
    assert_int_equal(n.entitlements, 1);
    assert_int_equal(n.grants, 1);
    assert_int_equal(n.duplicates, 0);
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_non_null(db);
    assert_sql(db, "select external_id from v1_resource_types order by id", "user\ngroup\n");
    assert_sql(db,
               "select resource_type_id, external_id, coalesce(parent_resource_type_id, 'NULL'),"
               " coalesce(parent_resource_id, 'NULL') from v1_resources order by id",
               "user|user:U1|NULL|NULL\ngroup|group:G1|NULL|NULL\n");
    assert_sql(db, "select resource_type_id, resource_id, external_id from v1_entitlements",
               "group|G1|group:G1:member\n");
    assert_sql(db,
               "select resource_type_id, resource_id, entitlement_id, principal_resource_type_id,"
               " principal_resource_id, external_id, coalesce(expansion, 'NULL'), needs_expansion"
               " from v1_grants",
               "group|G1|group:G1:member|user|U1|group:G1:member:user:U1|NULL|0\n");
    assert_blob(db, "select data from v1_resource_types where external_id = 'user'", GOLDEN_RT_USER,
                sizeof GOLDEN_RT_USER);
    assert_blob(db, "select data from v1_resource_types where external_id = 'group'",
                GOLDEN_RT_GROUP, sizeof GOLDEN_RT_GROUP);
    assert_blob(db, "select data from v1_resources where external_id = 'user:U1'", GOLDEN_RES_USER,
                sizeof GOLDEN_RES_USER);
    assert_blob(db, "select data from v1_resources where external_id = 'group:G1'",
                GOLDEN_RES_GROUP, sizeof GOLDEN_RES_GROUP);
    /* The entitlement embeds the stored group and the stored user type. */
    assert_blob(db, "select data from v1_entitlements", GOLDEN_ENT_MEMBER, sizeof GOLDEN_ENT_MEMBER);
    assert_blob(db, "select data from v1_grants", GOLDEN_GRANT_MEMBER, sizeof GOLDEN_GRANT_MEMBER);

    /* And a protobuf-c decode sees section 5.2's shape. */
    size_t len;
    unsigned char *blob = tu_sql_blob(db, "select data from v1_grants", &len);
    bt_pb_grant *g = c1__connector__v2__grant__unpack(NULL, len, blob);
    assert_non_null(g);
    assert_string_equal(g->id, "group:G1:member:user:U1");
    assert_string_equal(g->entitlement->id, "group:G1:member");
    assert_string_equal(g->entitlement->display_name, "");
    assert_string_equal(g->entitlement->resource->display_name, "Eng");
    assert_int_equal(g->entitlement->resource->n_annotations, 1);
    assert_string_equal(g->principal->id->resource_type, "user");
    assert_string_equal(g->principal->id->resource, "U1");
    assert_string_equal(g->principal->display_name, "");
    assert_int_equal(g->principal->n_annotations, 0);
    c1__connector__v2__grant__free_unpacked(g, NULL);
    free(blob);
    sqlite3_close(db);
    assert_listing(f->dir, "out.c1z\nout.c1z.db\n");
}

/* ------------------------------------------------------------------------
 * Duplicates and references */

static void conflicts_skips_and_lookups(void **state)
{
    fixture *f = *state;
    tu_conflicts_skips_and_lookups(open_c1z(f->out));
}

static void duplicates_absorbed(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("user", "Again", 1, 0), BT_SINK_DUPLICATE);
    TB_ADD(bt_sink_add_resource, s, tb_user("U1", "Somebody Else"), BT_SINK_DUPLICATE);
    TB_ADD(bt_sink_add_entitlement, s, tb_entitlement("group", "G1", "member", "X", NULL, NULL),
           BT_SINK_DUPLICATE);
    /* a grant repeat is stored until the sink settles (the unique grant
     * index is built then, not kept during the inserts) */
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U1"), BT_SINK_ADDED);
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.grants, 2);
    assert_int_equal(n.duplicates, 3);
    char err[512];
    assert_int_equal(bt_sink_settle(s, err, sizeof err), 0);
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.resource_types, 2);
    assert_int_equal(n.resources, 2);
    assert_int_equal(n.entitlements, 1);
    assert_int_equal(n.grants, 1);
    assert_int_equal(n.duplicates, 4);
    assert_int_equal(tu_skipped(s, "duplicate_id_different_content"), 2); /* resource, entitlement */
    /* settled: a repeat is told apart at once, and settling again changes nothing */
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U1"), BT_SINK_DUPLICATE);
    assert_int_equal(bt_sink_settle(s, err, sizeof err), 0);
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.grants, 1);
    assert_int_equal(n.duplicates, 5);
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_resources"), 2);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_grants"), 1);
    /* First wins. */
    assert_blob(db, "select data from v1_resources where external_id = 'user:U1'", GOLDEN_RES_USER,
                sizeof GOLDEN_RES_USER);
    assert_blob(db, "select data from v1_resource_types where external_id = 'user'", GOLDEN_RT_USER,
                sizeof GOLDEN_RT_USER);
    sqlite3_close(db);
}

/* A grant id stored twice with other content before the sink settled: the
 * first row stays, the second is counted as a conflict and leaves no byte in
 * the file (its principal was never emitted, so it could not stay either). */
static void grant_conflict_found_when_settling(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    bt_pb_grant *other = tb_grant("group", "G1", "member", "user", "Ughost7731");
    other->id = bt_id_grant(&tb_arena, "group:G1:member", "user", "U1");
    TB_ADD(bt_sink_add_grant, s, other, BT_SINK_ADDED);
    commit_ok(s); /* commit settles: the ghost principal is gone before the checks */
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_grants"), 1);
    assert_blob(db, "select data from v1_grants", GOLDEN_GRANT_MEMBER, sizeof GOLDEN_GRANT_MEMBER);
    assert_sql(db, "select name from sqlite_master where name = 'idx_grants_external_sync_v1'",
               "idx_grants_external_sync_v1\n");
    sqlite3_close(db);
    size_t n = 0;
    unsigned char *raw = tu_read(dbp, &n);
    assert_non_null(raw);
    assert_null(memmem(raw, n, "Ughost7731", 10));
    free(raw);
}

/* Many repeats, in another order than their ids: the settle walk keeps the
 * first of each and the counts come out exact. */
static void many_grant_repeats_settled(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    char uid[32], err[512];
    for (int round = 0; round < 2; round++)
        for (int i = 2999; i >= 0; i--) {
            snprintf(uid, sizeof uid, "U%d", (i * 7919) % 3000 + 2);
            if (round == 0)
                TB_ADD(bt_sink_add_resource, s, tb_user(uid, uid), BT_SINK_ADDED);
            TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", uid),
                   BT_SINK_ADDED);
        }
    assert_int_equal(bt_sink_settle(s, err, sizeof err), 0);
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.grants, 3001);
    assert_int_equal(n.duplicates, 3000);
    assert_int_equal(tu_skipped(s, "duplicate_id_different_content"), 0);
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_grants"), 3001);
    assert_int_equal(tu_sql_int(db, "select count(distinct external_id) from v1_grants"), 3001);
    /* the first of each stayed: the rows of the first round, rowids 2 to 3001 */
    assert_int_equal(tu_sql_int(db, "select max(id) from v1_grants"), 3001);
    sqlite3_close(db);
}

/* Adds that cannot be written fail alone; the sink goes on. */
static void order_errors_are_per_row(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    char err[1024];
    assert_int_equal(bt_sink_add_entitlement(s, tb_member_of("G2", "Ops"), err, sizeof err),
                     BT_SINK_ERROR);
    assert_string_equal(err, "entitlement group:G2:member: resource group:G2 was never emitted "
                             "(emit a resource before its entitlements and grants)");
    assert_int_equal(
        bt_sink_add_grant(s, tb_grant("group", "G2", "member", "user", "U1"), err, sizeof err),
        BT_SINK_ERROR);
    assert_string_equal(err, "grant group:G2:member:user:U1: resource group:G2 was never emitted "
                             "(emit a resource before its entitlements and grants)");
    assert_int_equal(bt_sink_add_entitlement(
                         s, tb_entitlement("group", "G1", "admin", NULL, NULL, "device"), err,
                         sizeof err),
                     BT_SINK_ERROR);
    assert_string_equal(err,
                        "entitlement group:G1:admin: grantable_to type device was never emitted");
    bt_pb_resource *bare = tb_group("G3", "Bare");
    bare->n_annotations = 0; /* type group demands a GroupTrait */
    assert_int_equal(bt_sink_add_resource(s, bare, err, sizeof err), BT_SINK_ERROR);
    assert_string_equal(err, "resource group:G3: its type 'group' has trait TRAIT_GROUP but the "
                             "resource has no c1.connector.v2.GroupTrait");
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.resources, 2);
    assert_int_equal(n.entitlements, 1);
    assert_int_equal(n.grants, 1);
    commit_ok(s);
}

typedef void (*dangler)(bt_sink *s);

static void dangle_principal(bt_sink *s)
{
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U9"), BT_SINK_ADDED);
}

static void dangle_entitlement(bt_sink *s)
{
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "admin", "user", "U1"), BT_SINK_ADDED);
}

static void dangle_type(bt_sink *s)
{
    bt_pb_resource *r = tb_group("D1", "Laptop");
    r->id = tb_rid("device", "D1");
    TB_ADD(bt_sink_add_resource, s, r, BT_SINK_ADDED);
}

static void dangle_parent(bt_sink *s)
{
    bt_pb_resource *r = tb_user("U2", "Bo");
    r->parent_resource_id = tb_rid("group", "G404");
    TB_ADD(bt_sink_add_resource, s, r, BT_SINK_ADDED);
}

static void integrity_failures_name_the_id(void **state)
{
    fixture *f = *state;
    static const struct {
        dangler add;
        const char *want;
    } cases[] = {
        {dangle_principal, "grant group:G1:member:user:U9: principal user:U9 was never emitted"},
        {dangle_entitlement,
         "grant group:G1:admin:user:U1: entitlement group:G1:admin was never emitted"},
        {dangle_type, "resource device:D1: resource type device was never emitted"},
        {dangle_parent, "resource user:U2: parent group:G404 was never emitted"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_sink *s = open_c1z(f->out);
        tb_add_tenant(s);
        cases[i].add(s);
        char err[1024] = "";
        assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
        assert_string_equal(err, cases[i].want);
        assert_listing(f->dir, ""); /* no output, no temporary files */
    }
}

/* ------------------------------------------------------------------------
 * Atomicity */

static const char OLD[] = "an earlier sync file\n";

static void assert_old_file_intact(const fixture *f)
{
    size_t n;
    unsigned char *got = tu_read(f->out, &n);
    assert_non_null(got);
    assert_int_equal(n, sizeof OLD - 1);
    assert_memory_equal(got, OLD, n);
    free(got);
    assert_listing(f->dir, "out.c1z\n");
}

static void atomic_replacement(void **state)
{
    fixture *f = *state;
    assert_int_equal(tu_write(f->out, OLD, sizeof OLD - 1), 0);

    /* While running, the working database sits beside the target. */
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    char *during = tu_listdir(f->dir);
    assert_non_null(strstr(during, "out.c1z.tmp-db-"));
    free(during);
    dangle_principal(s);
    char err[1024];
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    assert_old_file_intact(f);

    s = open_c1z(f->out);
    tb_add_tenant(s);
    bt_sink_abort(s);
    assert_old_file_intact(f);
    bt_sink_abort(NULL);

    s = open_c1z(f->out);
    tb_add_tenant(s);
    commit_ok(s);
    size_t n;
    unsigned char *got = tu_read(f->out, &n);
    assert_memory_equal(got, "C1ZF\0", 5);
    free(got);
    assert_listing(f->dir, "out.c1z\n");
}

/* A child killed by SIGTERM/SIGINT mid-sync leaves no temporary file and the
 * earlier file untouched. */
static void signal_cleanup(void **state)
{
    fixture *f = *state;
    assert_int_equal(tu_write(f->out, OLD, sizeof OLD - 1), 0);
    static const int sigs[] = {SIGTERM, SIGINT};
    for (size_t i = 0; i < 2; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            bt_sink_install_signal_cleanup();
            char err[512];
            bt_sink *s = bt_sink_open(f->out, NULL, err, sizeof err);
            if (!s)
                _exit(3);
            tb_add_tenant(s);
            raise(sigs[i]);
            _exit(4); /* not reached */
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), sigs[i]);
        assert_old_file_intact(f);
    }
}

/* ------------------------------------------------------------------------
 * Opening */

static void open_picks_format_and_fails_early(void **state)
{
    fixture *f = *state;
    char err[512];
    char *p = tu_path(f->dir, "x.jsonl");
    bt_sink *s = bt_sink_open(p, NULL, err, sizeof err);
    assert_string_equal(bt_sink_format(s), "jsonl");
    bt_sink_abort(s);
    s = bt_sink_open(p, "c1z", err, sizeof err);
    assert_string_equal(bt_sink_format(s), "c1z");
    bt_sink_abort(s);
    free(p);
    p = tu_path(f->dir, "X.NDJSON");
    s = bt_sink_open(p, "", err, sizeof err);
    assert_string_equal(bt_sink_format(s), "jsonl");
    bt_sink_abort(s);
    s = bt_sink_open(p, "xml", err, sizeof err);
    assert_null(s);
    assert_string_equal(err, "unknown output format 'xml' (want c1z or jsonl)");
    free(p);
    assert_null(bt_sink_open(f->dir, NULL, err, sizeof err));
    assert_non_null(strstr(err, "is a directory"));
    p = tu_path(f->dir, "missing/out.c1z");
    assert_null(bt_sink_open(p, NULL, err, sizeof err));
    assert_non_null(strstr(err, "does not exist"));
    free(p);
    assert_null(bt_sink_open(NULL, NULL, err, sizeof err));
    assert_listing(f->dir, "");
}

/* More rows than one batch: every row lands, references still check out. */
static void many_rows_across_batches(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_c1z(f->out);
    tb_add_tenant(s);
    char id[32];
    for (int i = 0; i < 12000; i++) {
        snprintf(id, sizeof id, "U%d", 1000 + i);
        TB_ADD(bt_sink_add_resource, s, tb_user(id, id), BT_SINK_ADDED);
        TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", id), BT_SINK_ADDED);
        if (i % 1000 == 999)
            bt_arena_reset(&tb_arena);
    }
    commit_ok(s);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_resources"), 12002);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_grants"), 12001);
    assert_true(tu_sql_int(db, "select count(distinct discovered_at) from v1_grants") >= 1);
    assert_sql(db, "select external_id from v1_grants order by id desc limit 1",
               "group:G1:member:user:U12999\n");
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(zstd_frame_header, setup, teardown),
        cmocka_unit_test_setup_teardown(tables_and_declared_types, setup, teardown),
        cmocka_unit_test_setup_teardown(index_names_and_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_run_row, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_and_blobs, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicates_absorbed, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicts_skips_and_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(grant_conflict_found_when_settling, setup, teardown),
        cmocka_unit_test_setup_teardown(many_grant_repeats_settled, setup, teardown),
        cmocka_unit_test_setup_teardown(order_errors_are_per_row, setup, teardown),
        cmocka_unit_test_setup_teardown(integrity_failures_name_the_id, setup, teardown),
        cmocka_unit_test_setup_teardown(atomic_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(signal_cleanup, setup, teardown),
        cmocka_unit_test_setup_teardown(open_picks_format_and_fails_early, setup, teardown),
        cmocka_unit_test_setup_teardown(many_rows_across_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
