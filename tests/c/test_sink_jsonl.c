/* The JSON-lines sink: exact lines, duplicates, forward references, the
 * same integrity messages as the c1z sink, and atomic replacement. */
#define TU_OUT_NAME "out.jsonl"
#include "test_sink_util.h"


static bt_sink *open_jsonl(const char *path)
{
    return tu_open_sink(path, "jsonl");
}

#define USER_PROFILE                                                                               \
    "{\"email\":\"ann@example.com\",\"first_name\":\"Ann\",\"id\":\"U1\",\"is_admin\":false,"      \
    "\"last_name\":\"Lee\",\"score\":1.5}"

static const char TENANT_LINES[] =
    "{\"kind\":\"resource_type\",\"id\":\"user\",\"displayName\":\"User\",\"traits\":[\"TRAIT_USER\"],"
    "\"annotations\":[{\"@type\":\"type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants\"}]}\n"
    "{\"kind\":\"resource_type\",\"id\":\"group\",\"displayName\":\"Group\",\"traits\":[\"TRAIT_GROUP\"]}\n"
    "{\"kind\":\"resource\",\"id\":{\"resourceType\":\"user\",\"resource\":\"U1\"},"
    "\"displayName\":\"Ann Lee\",\"annotations\":[{\"@type\":"
    "\"type.googleapis.com/c1.connector.v2.UserTrait\",\"emails\":[{\"address\":"
    "\"ann@example.com\",\"isPrimary\":true}],\"status\":{\"status\":\"STATUS_ENABLED\"},"
    "\"profile\":" USER_PROFILE ",\"accountType\":\"ACCOUNT_TYPE_HUMAN\",\"login\":"
    "\"ann@example.com\",\"createdAt\":\"2023-11-14T22:13:20.125Z\",\"structuredName\":"
    "{\"givenName\":\"Ann\",\"familyName\":\"Lee\"}}],\"profile\":" USER_PROFILE ","
    "\"status\":{\"status\":\"RESOURCE_STATUS_ENABLED\"},\"createdAt\":\"2023-11-14T22:13:20.125Z\"}\n"
    "{\"kind\":\"resource\",\"id\":{\"resourceType\":\"group\",\"resource\":\"G1\"},"
    "\"displayName\":\"Eng\",\"annotations\":[{\"@type\":"
    "\"type.googleapis.com/c1.connector.v2.GroupTrait\",\"profile\":{\"group_id\":\"G1\","
    "\"group_name\":\"Eng\"},\"groupSourceType\":\"native\",\"rawGroupSourceType\":\"MANUAL\"}],"
    "\"profile\":{\"group_id\":\"G1\",\"group_name\":\"Eng\"}}\n"
    "{\"kind\":\"entitlement\",\"resource\":{\"id\":{\"resourceType\":\"group\",\"resource\":\"G1\"}},"
    "\"id\":\"group:G1:member\",\"displayName\":\"Eng Group Member\",\"description\":"
    "\"Is member of the Eng group in Twingate\",\"grantableTo\":[{\"id\":\"user\"}],"
    "\"purpose\":\"PURPOSE_VALUE_ASSIGNMENT\",\"slug\":\"member\"}\n"
    "{\"kind\":\"grant\",\"entitlement\":{\"resource\":{\"id\":{\"resourceType\":\"group\","
    "\"resource\":\"G1\"}},\"id\":\"group:G1:member\"},\"principal\":{\"id\":{\"resourceType\":"
    "\"user\",\"resource\":\"U1\"}},\"id\":\"group:G1:member:user:U1\"}\n";

static void exact_lines(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_jsonl(f->out);
    tb_add_tenant(s);
    /* While running, only the (uniquely named) temporary file exists. */
    char *during = tu_listdir(f->dir);
    assert_int_equal(strncmp(during, "out.jsonl.tmp-out-", 18), 0);
    assert_int_equal(strlen(during), strlen("out.jsonl.tmp-out-XXXXXX\n"));
    free(during);
    commit_ok(s);
    assert_listing(f->dir, "out.jsonl\n");
    char *got = (char *)tu_read(f->out, NULL);
    assert_string_equal(got, TENANT_LINES);
    free(got);
}

static size_t count_lines(const char *path)
{
    char *text = (char *)tu_read(path, NULL);
    size_t n = 0;
    for (char *p = text; p && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

static void conflicts_skips_and_lookups(void **state)
{
    fixture *f = *state;
    tu_conflicts_skips_and_lookups(open_jsonl(f->out));
}

static void duplicates_and_forward_references(void **state)
{
    fixture *f = *state;
    bt_sink *s = open_jsonl(f->out);
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_resource_type, s, tb_rt("user", "Again", 1, 0), BT_SINK_DUPLICATE);
    TB_ADD(bt_sink_add_resource, s, tb_user("U1", "Else"), BT_SINK_DUPLICATE);
    TB_ADD(bt_sink_add_entitlement, s, tb_member_of("G1", "Eng"), BT_SINK_DUPLICATE);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U1"), BT_SINK_DUPLICATE);
    /* A grant may name a principal (and an entitlement) emitted later. */
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "later", "user", "U2"), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_resource, s, tb_user("U2", "Bo"), BT_SINK_ADDED);
    TB_ADD(bt_sink_add_entitlement, s, tb_entitlement("group", "G1", "later", NULL, NULL, NULL),
           BT_SINK_ADDED);
    bt_sink_counts n;
    bt_sink_get_counts(s, &n);
    assert_int_equal(n.resource_types, 2);
    assert_int_equal(n.resources, 3);
    assert_int_equal(n.entitlements, 2);
    assert_int_equal(n.grants, 2);
    assert_int_equal(n.duplicates, 4);
    commit_ok(s);
    assert_int_equal(count_lines(f->out), 9);
}

static void integrity_failures_name_the_id(void **state)
{
    fixture *f = *state;
    char err[1024];
    /* principal */
    bt_sink *s = open_jsonl(f->out);
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U9"), BT_SINK_ADDED);
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    assert_string_equal(err, "grant group:G1:member:user:U9: principal user:U9 was never emitted");
    assert_listing(f->dir, "");
    /* entitlement */
    s = open_jsonl(f->out);
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "admin", "user", "U1"), BT_SINK_ADDED);
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    assert_string_equal(err,
                        "grant group:G1:admin:user:U1: entitlement group:G1:admin was never emitted");
    /* resource type and parent */
    s = open_jsonl(f->out);
    tb_add_tenant(s);
    bt_pb_resource *r = tb_group("D1", "Laptop");
    r->id = tb_rid("device", "D1");
    TB_ADD(bt_sink_add_resource, s, r, BT_SINK_ADDED);
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    assert_string_equal(err, "resource device:D1: resource type device was never emitted");
    s = open_jsonl(f->out);
    tb_add_tenant(s);
    r = tb_user("U2", "Bo");
    r->parent_resource_id = tb_rid("group", "G404");
    TB_ADD(bt_sink_add_resource, s, r, BT_SINK_ADDED);
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    assert_string_equal(err, "resource user:U2: parent group:G404 was never emitted");
    /* an entitlement before its resource fails at once, as in the c1z sink */
    s = open_jsonl(f->out);
    tb_add_tenant(s);
    assert_int_equal(bt_sink_add_entitlement(s, tb_member_of("G2", "Ops"), err, sizeof err),
                     BT_SINK_ERROR);
    assert_string_equal(err, "entitlement group:G2:member: resource group:G2 was never emitted "
                             "(emit a resource before its entitlements and grants)");
    commit_ok(s);
    assert_listing(f->dir, "out.jsonl\n");
}

static void atomic_replacement(void **state)
{
    fixture *f = *state;
    static const char old[] = "{\"kind\":\"old\"}\n";
    assert_int_equal(tu_write(f->out, old, sizeof old - 1), 0);
    bt_sink *s = open_jsonl(f->out);
    tb_add_tenant(s);
    TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", "U9"), BT_SINK_ADDED);
    char err[1024];
    assert_int_equal(bt_sink_commit(s, err, sizeof err), -1);
    char *got = (char *)tu_read(f->out, NULL);
    assert_string_equal(got, old);
    free(got);
    assert_listing(f->dir, "out.jsonl\n");
    s = open_jsonl(f->out);
    tb_add_tenant(s);
    bt_sink_abort(s);
    got = (char *)tu_read(f->out, NULL);
    assert_string_equal(got, old);
    free(got);
    assert_listing(f->dir, "out.jsonl\n");
}

/* Thousands of forward references: the pending list compacts and still
 * names the one that never resolves. */
static void many_pending_references(void **state)
{
    fixture *f = *state;
    for (int missing = 0; missing < 2; missing++) {
        bt_sink *s = open_jsonl(f->out);
        tb_add_tenant(s);
        char id[32];
        for (int i = 0; i < 6000; i++) {
            snprintf(id, sizeof id, "P%d", i);
            TB_ADD(bt_sink_add_grant, s, tb_grant("group", "G1", "member", "user", id),
                   BT_SINK_ADDED);
        }
        for (int i = 0; i < 6000; i++) {
            if (missing && i == 4321)
                continue;
            snprintf(id, sizeof id, "P%d", i);
            TB_ADD(bt_sink_add_resource, s, tb_user(id, id), BT_SINK_ADDED);
            if (i % 500 == 0)
                bt_arena_reset(&tb_arena);
        }
        char err[1024] = "";
        int rc = bt_sink_commit(s, err, sizeof err);
        if (missing) {
            assert_int_equal(rc, -1);
            assert_string_equal(err,
                                "grant group:G1:member:user:P4321: principal user:P4321 was never emitted");
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(count_lines(f->out), 6 + 12000);
        }
        bt_arena_reset(&tb_arena);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(exact_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicates_and_forward_references, setup, teardown),
        cmocka_unit_test_setup_teardown(conflicts_skips_and_lookups, setup, teardown),
        cmocka_unit_test_setup_teardown(integrity_failures_name_the_id, setup, teardown),
        cmocka_unit_test_setup_teardown(atomic_replacement, setup, teardown),
        cmocka_unit_test_setup_teardown(many_pending_references, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
