/* Sync options: baton resource ids (bid:r:...) and the short form, the
 * comma-separated flags, checks against the contract, the sync type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/config.h"
#include "bt/sync_options.h"
#include "tmpdir.h"

static void assert_target(const char *text, const char *type, const char *id)
{
    bt_sync_target t;
    char err[256] = "";
    if (bt_sync_target_parse(text, &t, err, sizeof err) != 0)
        print_error("%s: %s\n", text, err);
    assert_string_equal(t.type, type);
    assert_string_equal(t.id, id);
    free(t.type);
    free(t.id);
}

static void assert_refused(const char *text, const char *want)
{
    bt_sync_target t;
    char err[256] = "";
    assert_int_equal(bt_sync_target_parse(text, &t, err, sizeof err), -1);
    assert_non_null(strstr(err, want));
    assert_null(t.type);
}

static void baton_ids(void **state)
{
    (void)state;
    assert_target("bid:r:group/R3JvdXA6MQ==", "group", "R3JvdXA6MQ==");
    assert_target("bid:r:user/VXNlcjox", "user", "VXNlcjox");
    assert_target("bid:r:org/O1/group/G1", "group", "G1");      /* with a parent */
    assert_target("bid:r:group/a\\/b\\:c\\\\d", "group", "a/b:c\\d"); /* escapes */
    assert_target("group:R3JvdXA6MQ==", "group", "R3JvdXA6MQ==");
    assert_target("role:a:b", "role", "a:b"); /* the short form splits at the first ':' */
}

static void malformed_ids(void **state)
{
    (void)state;
    assert_refused("bid:r:group", "not a resource baton id");
    assert_refused("bid:r:group/", "not a resource baton id");
    assert_refused("bid:r:/G1", "not a resource baton id");
    assert_refused("bid:r:a/b/c", "not a resource baton id");
    assert_refused("bid:r:a/b/c/d/e/f", "not a resource baton id");
    assert_refused("bid:r:gr:oup/G1", "not a resource baton id");
    assert_refused("bid:r:group/G\\1", "not a resource baton id");
    assert_refused("bid:e:group/G1:member", "not a resource baton id");
    assert_refused("G1", "is not a resource id");
    assert_refused("group:", "is not a resource id");
    assert_refused(":G1", "is not a resource id");
    assert_refused("", "is not a resource id");
}

static bt_resource_type_decl types[] = {
    {.id = "user", .targeted_sync = true},
    {.id = "group", .targeted_sync = true},
    {.id = "resource"},
};
static bt_contract contract = {.source_file = "init.lua", .types = types, .type_count = 3};

static void checked_against_the_contract(void **state)
{
    (void)state;
    bt_sync_options o = {0};
    char err[256] = "";
    assert_true(bt_sync_options_is_default(&o));
    assert_string_equal(bt_sync_options_sync_type(&o), "full");
    assert_int_equal(bt_sync_options_add_type(&o, "group"), 0);
    assert_int_equal(bt_sync_options_add_target(&o, "user", "U1"), 0);
    assert_int_equal(bt_sync_options_check(&o, &contract, err, sizeof err), 0);
    assert_string_equal(bt_sync_options_sync_type(&o), "partial");
    assert_false(bt_sync_options_is_default(&o));
    assert_int_equal(bt_sync_options_add_target(&o, "resource", "R1"), 0);
    assert_int_equal(bt_sync_options_check(&o, &contract, err, sizeof err), -1);
    assert_string_equal(err, "--sync-resources: resources of type \"resource\" cannot be synced alone");
    bt_sync_options_free(&o);

    assert_int_equal(bt_sync_options_add_target(&o, "device", "D1"), 0);
    assert_int_equal(bt_sync_options_check(&o, &contract, err, sizeof err), -1);
    assert_string_equal(err, "--sync-resources: unknown resource type \"device\"");
    bt_sync_options_free(&o);

    assert_int_equal(bt_sync_options_add_type(&o, "users"), 0);
    assert_int_equal(bt_sync_options_check(&o, &contract, err, sizeof err), -1);
    assert_string_equal(err, "--sync-resource-types: unknown resource type \"users\"");
    bt_sync_options_free(&o);

    o.skip_entitlements_and_grants = true;
    assert_string_equal(bt_sync_options_sync_type(&o), "resources_only");
    o.skip_entitlements_and_grants = false;
    o.skip_grants = true;
    assert_string_equal(bt_sync_options_sync_type(&o), "full");
}

/* argv through the real parser (no .baton.yaml: a scratch directory). */
static int parse_options(char **argv, int argc, bt_sync_options *o, char *err, size_t errsz)
{
    char cwd[4096], *dir = tmpdir_make("syncopt");
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    unsetenv("BATON_SYNC_RESOURCES");
    bt_cli_config_file_reset();
    bt_cli cli;
    bt_cli_init(&cli);
    int rc = bt_cli_parse(&cli, argc, argv, err, errsz);
    if (rc == 0)
        rc = bt_sync_options_from_cli(&cli, o, err, errsz);
    bt_cli_free(&cli);
    bt_cli_config_file_reset();
    assert_int_equal(chdir(cwd), 0);
    tmpdir_remove(dir);
    return rc;
}

static void from_the_command_line(void **state)
{
    (void)state;
    bt_sync_options o;
    char err[256] = "";
    char *argv[] = {"bin", "--sync-resources", " bid:r:group/G1 ,, user:U2", "--sync-resource-types",
                    "group,user", "--skip-grants", NULL};
    assert_int_equal(parse_options(argv, 6, &o, err, sizeof err), 0);
    assert_int_equal(o.target_count, 2);
    assert_string_equal(o.targets[0].type, "group");
    assert_string_equal(o.targets[0].id, "G1");
    assert_string_equal(o.targets[1].type, "user");
    assert_string_equal(o.targets[1].id, "U2");
    assert_int_equal(o.type_count, 2);
    assert_string_equal(o.resource_types[1], "user");
    assert_true(o.skip_grants);
    assert_false(o.skip_entitlements_and_grants);
    bt_sync_options_free(&o);

    char *bad[] = {"bin", "--sync-resources", "group:G1,nonsense", NULL};
    assert_int_equal(parse_options(bad, 3, &o, err, sizeof err), -1);
    assert_string_equal(err, "--sync-resources: \"nonsense\" is not a resource id "
                             "(want bid:r:<type>/<id> or <type>:<id>)");
    assert_int_equal(o.target_count, 0);

    char *plain[] = {"bin", NULL};
    assert_int_equal(parse_options(plain, 1, &o, err, sizeof err), 0);
    assert_true(bt_sync_options_is_default(&o));
    bt_sync_options_free(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(baton_ids),
        cmocka_unit_test(malformed_ids),
        cmocka_unit_test(checked_against_the_contract),
        cmocka_unit_test(from_the_command_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
