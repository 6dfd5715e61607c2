/* The sync type a sink records (bt_sink_set_sync_type): full by default,
 * partial and resources_only on request; a partial sync's grants may name
 * principals outside the file, every other reference must still resolve. */
#define TU_OUT_NAME "out.c1z"
#include "test_sink_util.h"

static char *sync_type_of(const char *c1z)
{
    char dbp[1024];
    sqlite3 *db = tu_c1z_open(c1z, dbp, sizeof dbp);
    char *type = tu_sql_text(db, "select sync_type || '|' || (ended_at is not null) from v1_sync_runs");
    sqlite3_close(db);
    unlink(dbp);
    return type;
}

static void set_type(bt_sink *s, const char *type)
{
    char err[256] = "";
    assert_int_equal(bt_sink_set_sync_type(s, type, err, sizeof err), 0);
}

static void full_by_default(void **state)
{
    fixture *f = *state;
    bt_sink *s = tu_open_sink(f->out, "c1z");
    tb_add_tenant(s);
    commit_ok(s);
    char *type = sync_type_of(f->out);
    assert_string_equal(type, "full|1");
    free(type);
}

static void partial_keeps_grants_of_outside_principals(void **state)
{
    fixture *f = *state;
    bt_sink *s = tu_open_sink(f->out, "c1z");
    set_type(s, "partial");
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U9"), BT_SINK_ADDED);
    commit_ok(s);
    char *type = sync_type_of(f->out);
    assert_string_equal(type, "partial|1");
    free(type);
}

static void partial_still_needs_the_entitlement(void **state)
{
    fixture *f = *state;
    char err[1024];
    bt_sink *s = tu_open_sink(f->out, "c1z");
    set_type(s, "partial");
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "admin", "user", "U9"), BT_SINK_ADDED);
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    assert_string_equal(err, "grant group:G1:admin:user:U9: entitlement group:G1:admin was never emitted");
    assert_listing(f->dir, "");
}

static void resources_only_recorded(void **state)
{
    fixture *f = *state;
    bt_sink *s = tu_open_sink(f->out, "c1z");
    set_type(s, "resources_only");
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("user", "User", 1, 1), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_resource, s, tb_user("U1", "Ann Lee"), BT_SINK_ADDED);
    commit_ok(s);
    char *type = sync_type_of(f->out);
    assert_string_equal(type, "resources_only|1");
    free(type);
}

static void refused_late_or_unknown(void **state)
{
    fixture *f = *state;
    char err[256];
    bt_sink *s = tu_open_sink(f->out, "c1z");
    assert_int_equal(bt_sink_set_sync_type(s, "partial_upserts", err, sizeof err), -1);
    assert_string_equal(err, "unknown sync type 'partial_upserts'");
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("user", "User", 1, 1), BT_SINK_ADDED);
    assert_int_equal(bt_sink_set_sync_type(s, "partial", err, sizeof err), -1);
    assert_string_equal(err, "the sync type is set before any row");
    bt_sink_abort(s);
}

static void jsonl_partial_allows_outside_principals(void **state)
{
    fixture *f = *state;
    char *out = tu_path(f->dir, "out.jsonl"), err[1024];
    for (int partial = 0; partial <= 1; partial++) {
        bt_sink *s = tu_open_sink(out, "jsonl");
        if (partial)
            set_type(s, "partial");
        tb_add_tenant(s);
        TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U9"), BT_SINK_ADDED);
        assert_int_equal(bt_sink_commit(s, err, sizeof err), partial ? 0 : -1);
    }
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(full_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_keeps_grants_of_outside_principals, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_still_needs_the_entitlement, setup, teardown),
        cmocka_unit_test_setup_teardown(resources_only_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_late_or_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(jsonl_partial_allows_outside_principals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
