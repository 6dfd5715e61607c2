/* Command line: flags, BATON_* variables, .baton.yaml, defaults, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt/cli.h"
#include "bt/config.h"
#include "tmpdir.h"

static bt_config_field connector_fields[] = {
    {"api-key", "The API key", NULL, NULL, true, true, BT_FIELD_STRING, false, NULL},
    {"domain", "The domain", NULL, "api-url", true, false, BT_FIELD_STRING, false, NULL},
    {"api-url", "The endpoint", NULL, NULL, false, false, BT_FIELD_STRING, false, NULL},
};
static bt_contract contract = {.source_file = "init.lua", .fields = connector_fields, .field_count = 3};

typedef struct {
    bt_cli cli;
    char err[1024];
    char *dir;
    char cwd[4096];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmpdir_make("cli");
    if (!getcwd(f->cwd, sizeof f->cwd) || chdir(f->dir) != 0)
        return -1;
    unsetenv("BATON_API_KEY");
    unsetenv("BATON_API_KEY_FILE");
    unsetenv("BATON_DOMAIN");
    unsetenv("BATON_FILE");
    unsetenv("BATON_CONFIG_PATH");
    bt_cli_config_file_reset();
    bt_cli_init(&f->cli);
    assert_int_equal(bt_cli_add_connector_fields(&f->cli, &contract, f->err, sizeof f->err), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bt_cli_free(&f->cli);
    bt_cli_config_file_reset();
    bt_config_reset();
    if (chdir(f->cwd) != 0)
        return -1;
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

static int parse(fixture *f, int argc, char **argv)
{
    return bt_cli_parse(&f->cli, argc, argv, f->err, sizeof f->err);
}

static void test_defaults_apply(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", NULL};
    assert_int_equal(parse(f, 1, argv), 0);
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_FILE), "sync.c1z");
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_LOG_LEVEL), "info");
    assert_false(bt_cli_get_bool(&f->cli, BT_FLAG_PROVISIONING));
    assert_false(bt_cli_is_set(&f->cli, BT_FLAG_FILE));
}

static void test_flag_beats_env_beats_file(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->dir, ".baton.yaml", "# config\nfile: from-file.c1z\ndomain: \"file-domain\"\napi-key: 'file-key'\n");
    setenv("BATON_DOMAIN", "env-domain", 1);
    setenv("BATON_FILE", "from-env.c1z", 1);
    char *argv[] = {"bin", "-f", "from-flag.c1z", NULL};
    assert_int_equal(parse(f, 3, argv), 0);
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_FILE), "from-flag.c1z");
    assert_string_equal(bt_cli_get_named(&f->cli, "domain"), "env-domain");
    assert_string_equal(bt_cli_get_named(&f->cli, "api-key"), "file-key");
}

static void test_config_path_variable_selects_the_file(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->dir, "other.yml", "domain: acme   # trailing comment\n");
    setenv("BATON_CONFIG_PATH", "other.yml", 1);
    char *argv[] = {"bin", NULL};
    assert_int_equal(parse(f, 1, argv), 0);
    assert_string_equal(bt_cli_get_named(&f->cli, "domain"), "acme");
    unsetenv("BATON_CONFIG_PATH");
}

static void test_config_file_errors_are_clear(void **state)
{
    fixture *f = *state;
    /* An unknown key is warned about and skipped (baton-sdk ignores it). */
    tmpdir_write(f->dir, ".baton.yaml", "domain: acme\ndomian: typo\n");
    char *argv[] = {"bin", NULL};
    assert_int_equal(parse(f, 1, argv), 0);
    assert_string_equal(bt_cli_get_named(&f->cli, "domain"), "acme");
    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    assert_int_equal(bt_cli_add_connector_fields(&f->cli, &contract, f->err, sizeof f->err), 0);
    bt_cli_config_file_reset();
    tmpdir_write(f->dir, ".baton.yaml", "domain:\n  - a\n");
    assert_int_equal(parse(f, 1, argv), -1);
    assert_non_null(strstr(f->err, ".baton.yaml:2"));
    /* A FIFO (no writer) must be refused, not waited on. */
    bt_cli_config_file_reset();
    unlink(".baton.yaml");
    assert_int_equal(mkfifo(".baton.yaml", 0600), 0);
    assert_int_equal(parse(f, 1, argv), -1);
    assert_non_null(strstr(f->err, "config file .baton.yaml is not a regular file"));
}

/* Values a YAML parser would read as something else, and malformed files,
 * are refused with the line number; the value itself is never echoed. */
static void test_config_file_yaml_it_cannot_read_is_refused(void **state)
{
    fixture *f = *state;
    static const struct { const char *text, *needle; } cases[] = {
        {"api-key: [sekret-1234\n", ".baton.yaml:1: unsupported YAML value"},
        {"domain: acme\napi-key: {a: b}\n", ".baton.yaml:2: unsupported YAML value"},
        {"api-key: |\n", ".baton.yaml:1: unsupported YAML value"},
        {"api-key: *anchor\n", ".baton.yaml:1: unsupported YAML value"},
        {"api-key: \"sekret-1234\" junk\n", ".baton.yaml:1: unexpected text after the quoted value"},
        {"domain: a\ndomain: b\n", ".baton.yaml:2: duplicate key 'domain' (first on line 1)"},
    };
    char *argv[] = {"bin", NULL};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_cli_config_file_reset();
        bt_cli_free(&f->cli);
        bt_cli_init(&f->cli);
        assert_int_equal(bt_cli_add_connector_fields(&f->cli, &contract, f->err, sizeof f->err), 0);
        tmpdir_write(f->dir, ".baton.yaml", cases[i].text);
        f->err[0] = '\0';
        assert_int_equal(parse(f, 1, argv), -1);
        if (!strstr(f->err, cases[i].needle))
            fail_msg("case %zu: got \"%s\"", i, f->err);
        assert_null(strstr(f->err, "sekret"));
    }
    /* a line too long for the reader is an error, not two lines */
    char *big = malloc(6000);
    memset(big, 'x', 5999);
    memcpy(big, "domain: ", 8);
    big[5998] = '\n';
    big[5999] = '\0';
    bt_cli_config_file_reset();
    tmpdir_write(f->dir, ".baton.yaml", big);
    free(big);
    assert_int_equal(parse(f, 1, argv), -1);
    assert_non_null(strstr(f->err, ".baton.yaml:1: line longer than"));
}

static void test_config_file_quoted_values(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->dir, ".baton.yaml",
                 "domain: \"a \\\"b\\\" # c\"  # comment\napi-key: 'it''s'\nfile: x.c1z # note\n");
    char *argv[] = {"bin", NULL};
    assert_int_equal(parse(f, 1, argv), 0);
    assert_string_equal(bt_cli_get_named(&f->cli, "domain"), "a \"b\" # c");
    assert_string_equal(bt_cli_get_named(&f->cli, "api-key"), "it's");
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_FILE), "x.c1z");
}

static void test_long_forms(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--domain=acme", "--api-key", "k1234", "-p", "--log-level=debug", "extra", NULL};
    assert_int_equal(parse(f, 7, argv), 0);
    assert_string_equal(bt_cli_get_named(&f->cli, "domain"), "acme");
    assert_string_equal(bt_cli_get_named(&f->cli, "api-key"), "k1234");
    assert_true(bt_cli_get_bool(&f->cli, BT_FLAG_PROVISIONING));
    assert_int_equal(f->cli.arg_count, 1);
    assert_string_equal(f->cli.args[0], "extra");
}

static void test_unknown_flags_are_refused(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--domian", "x", NULL};
    assert_int_equal(parse(f, 3, argv), -1);
    assert_string_equal(f->err, "unknown flag: --domian (see --help)");
    char *argv2[] = {"bin", "-x", NULL};
    assert_int_equal(parse(f, 2, argv2), -1);
    assert_non_null(strstr(f->err, "unknown shorthand flag"));
}

static void test_missing_value_and_bad_types(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--domain", NULL};
    assert_int_equal(parse(f, 2, argv), -1);
    assert_string_equal(f->err, "flag needs an argument: --domain");
    char *argv2[] = {"bin", "--provisioning=maybe", NULL};
    assert_int_equal(parse(f, 2, argv2), -1);
    assert_non_null(strstr(f->err, "is not a boolean"));
    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    char *argv3[] = {"bin", "--http-timeout", "soon", NULL};
    assert_int_equal(parse(f, 3, argv3), -1);
    assert_non_null(strstr(f->err, "--http-timeout"));
}

static void test_required_fields(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--domain", "acme", NULL};
    assert_int_equal(parse(f, 3, argv), 0);
    assert_int_equal(bt_cli_check_required(&f->cli, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "--api-key"));
    assert_non_null(strstr(f->err, "BATON_API_KEY"));
}

static void test_required_unless(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--api-key", "k1234", NULL};
    assert_int_equal(parse(f, 3, argv), 0);
    assert_int_equal(bt_cli_check_required(&f->cli, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "--domain"));
    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    bt_cli_add_connector_fields(&f->cli, &contract, f->err, sizeof f->err);
    char *argv2[] = {"bin", "--api-key", "k1234", "--api-url", "http://127.0.0.1:1/", NULL};
    assert_int_equal(parse(f, 5, argv2), 0);
    assert_int_equal(bt_cli_check_required(&f->cli, f->err, sizeof f->err), 0);
}

static void test_export_marks_secrets(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--api-key", "k-secret-1234", "--domain", "acme", NULL};
    assert_int_equal(parse(f, 5, argv), 0);
    bt_cli_export_config(&f->cli);
    assert_string_equal(bt_config_get("api-key"), "k-secret-1234");
    assert_true(bt_config_is_secret("api-key"));
    assert_false(bt_config_is_secret("domain"));
}

static void test_connector_field_clash(void **state)
{
    fixture *f = *state;
    bt_config_field clash[] = {{"file", "x", NULL, NULL, false, false, BT_FIELD_STRING, false, NULL}};
    bt_contract c = {.source_file = "init.lua", .fields = clash, .field_count = 1};
    assert_int_equal(bt_cli_add_connector_fields(&f->cli, &c, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "'file' clashes"));
}

static void test_env_names_and_prescan(void **state)
{
    (void)state;
    char env[64];
    bt_cli_env_name("grant-principal-type", env, sizeof env);
    assert_string_equal(env, "BATON_GRANT_PRINCIPAL_TYPE");
    char *argv[] = {"bin", "--scripts-dir=/x", NULL};
    assert_string_equal(bt_cli_prescan(2, argv, BT_FLAG_SCRIPTS_DIR), "/x");
    char *argv2[] = {"bin", "--", "--scripts-dir", "/y", NULL};
    setenv("BATON_SCRIPTS_DIR", "/env", 1);
    assert_string_equal(bt_cli_prescan(4, argv2, BT_FLAG_SCRIPTS_DIR), "/env");
    unsetenv("BATON_SCRIPTS_DIR");
}

/* Logging is set up from a prescan before the full parse; a repeated flag
 * must resolve to the value the parser keeps. */
static void test_prescan_agrees_with_the_parser_on_repeats(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--log-format", "console", "--log-level=info", "--log-format=json",
                    "--log-level", "debug", NULL};
    assert_int_equal(parse(f, 7, argv), 0);
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_LOG_FORMAT), "json");
    assert_string_equal(bt_cli_prescan(7, argv, BT_FLAG_LOG_FORMAT), "json");
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_LOG_LEVEL), "debug");
    assert_string_equal(bt_cli_prescan(7, argv, BT_FLAG_LOG_LEVEL), "debug");
}

/* List flags collect repeated values (and A,B) as baton-sdk's string slices
 * do; a repeated non-list flag keeps the last; a flag still beats the env. */
static void test_repeated_list_flags_collect(void **state)
{
    fixture *f = *state;
    setenv("BATON_SYNC_RESOURCE_TYPES", "role", 1);
    char *argv[] = {"bin", "--sync-resource-types", "user", "--sync-resource-types=group,role",
                    "--sync-resources", "group:G1", "--sync-resources", "user:U1",
                    "--domain", "a", "--domain", "b", NULL};
    assert_int_equal(parse(f, 12, argv), 0);
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_SYNC_RESOURCE_TYPES), "user,group,role");
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_SYNC_RESOURCES), "group:G1,user:U1");
    assert_string_equal(bt_cli_get_named(&f->cli, "domain"), "b");
    unsetenv("BATON_SYNC_RESOURCE_TYPES");
}

/* Unsupported SDK flags: refused when they ask for something, whatever the
 * source; accepted when they ask for nothing. */
/* Every runtime flag id has its row at its own index, names unique: a row
 * left out (a hole in the designated initializers) or out of place fails. */
static void test_every_flag_id_has_its_row(void **state)
{
    fixture *f = *state;
    for (int id = 0; id < BT_RUNTIME_FLAG_COUNT; id++) {
        const char *name = bt_cli_flag_name((bt_flag_id)id);
        assert_non_null(name);
        assert_non_null(f->cli.flags[id].help);
        assert_string_equal(f->cli.flags[id].name, name);
        for (int j = 0; j < id; j++)
            assert_string_not_equal(f->cli.flags[j].name, name);
    }
    assert_null(bt_cli_flag_name(BT_RUNTIME_FLAG_COUNT));
    assert_string_equal(bt_cli_flag_name(BT_FLAG_FILE), "file");
    assert_string_equal(bt_cli_flag_name(BT_FLAG_LOG_LEVEL), "log-level");
    assert_true(f->cli.flags[BT_FLAG_PROVISIONING].type == BT_FIELD_BOOL);
    assert_int_equal(f->cli.flags[BT_FLAG_PROVISIONING].short_name, 'p');
    assert_true(f->cli.flags[BT_FLAG_SYNC_RESOURCES].list);
    assert_false(f->cli.flags[BT_FLAG_FILE].list);
}

static void test_unsupported_sdk_flags(void **state)
{
    fixture *f = *state;
    char *argv[] = {"bin", "--otel-collector-endpoint", "http://otel:4318", NULL};
    assert_int_equal(parse(f, 3, argv), -1);
    assert_non_null(strstr(f->err, "--otel-collector-endpoint (OpenTelemetry export"));
    assert_non_null(strstr(f->err, "not supported by this connector"));

    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    char *quiet[] = {"bin", "--ticketing=false", "--workers", "0", "--storage-engine=sqlite", "-f", "x.c1z", NULL};
    assert_int_equal(parse(f, 7, quiet), 0);
    assert_string_equal(bt_cli_get(&f->cli, BT_FLAG_FILE), "x.c1z"); /* the skipped values were consumed */

    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    char *bare[] = {"bin", NULL};
    setenv("BATON_DIFF_SYNCS", "true", 1);
    assert_int_equal(parse(f, 1, bare), -1);
    assert_non_null(strstr(f->err, "BATON_DIFF_SYNCS"));
    unsetenv("BATON_DIFF_SYNCS");

    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    tmpdir_write(f->dir, ".baton.yaml", "event-feed: all\n");
    bt_cli_config_file_reset();
    assert_int_equal(parse(f, 1, bare), -1);
    assert_non_null(strstr(f->err, ".baton.yaml:1: key 'event-feed'"));
}

/* No SDK flag is both implemented and in the unsupported table. */
static void test_sdk_table_lists_only_unimplemented_flags(void **state)
{
    fixture *f = *state;
    for (int i = 0; bt_cli_sdk_flag_at(i); i++)
        if (bt_cli_has_flag(&f->cli, bt_cli_sdk_flag_at(i)->name))
            fail_msg("--%s is implemented and also listed as unsupported", bt_cli_sdk_flag_at(i)->name);
    assert_true(bt_cli_has_flag(&f->cli, "http-timeout-seconds"));
    assert_true(bt_cli_has_flag(&f->cli, "log-path"));
}


/* ---- --<secret>-file ---- */

#define FILE_KEY "tgk-from-a-file-7d2e"

static void write_key_file(fixture *f, const char *name, const char *text, mode_t mode)
{
    assert_int_equal(tmpdir_write(f->dir, name, text), 0);
    assert_int_equal(chmod(name, mode), 0);
}

/* parse + resolve_secret_files, as the driver runs them. */
static int parse_and_resolve(fixture *f, int argc, char **argv)
{
    f->err[0] = '\0';
    int rc = parse(f, argc, argv);
    if (rc == 0)
        rc = bt_cli_resolve_secret_files(&f->cli, f->err, sizeof f->err);
    if (strstr(f->err, FILE_KEY) || strstr(f->err, "tgk-"))
        fail_msg("the error carries the key: %s", f->err);
    return rc;
}

static void test_secret_file_twin_is_declared(void **state)
{
    fixture *f = *state;
    int twins = 0;
    for (int i = 0; i < f->cli.flag_count; i++)
        if (strstr(f->cli.flags[i].name, "-file")) {
            twins++;
            assert_string_equal(f->cli.flags[i].name, "api-key-file");
            assert_false(f->cli.flags[i].secret); /* the path is not the secret */
            assert_true(f->cli.flags[i].connector);
        }
    assert_int_equal(twins, 1); /* only secret fields get one */
}

static void test_secret_file_is_read_once_and_trimmed(void **state)
{
    fixture *f = *state;
    static const char *const texts[] = {FILE_KEY, FILE_KEY "\n", FILE_KEY "\r\n", FILE_KEY "\n\n"};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        write_key_file(f, "key", texts[i], 0600);
        bt_cli_free(&f->cli);
        bt_cli_init(&f->cli);
        assert_int_equal(bt_cli_add_connector_fields(&f->cli, &contract, f->err, sizeof f->err), 0);
        char *argv[] = {"bin", "--api-key-file", "key", "--domain", "acme", NULL};
        assert_int_equal(parse_and_resolve(f, 5, argv), 0);
        assert_string_equal(bt_cli_get_named(&f->cli, "api-key"), FILE_KEY);
        assert_int_equal(bt_cli_check_required(&f->cli, f->err, sizeof f->err), 0);
    }
}

static void test_secret_file_from_the_environment(void **state)
{
    fixture *f = *state;
    write_key_file(f, "ro-key", FILE_KEY "\n", 0400);
    setenv("BATON_API_KEY_FILE", "ro-key", 1);
    char *argv[] = {"bin", NULL};
    assert_int_equal(parse_and_resolve(f, 1, argv), 0);
    assert_string_equal(bt_cli_get_named(&f->cli, "api-key"), FILE_KEY);
    unsetenv("BATON_API_KEY_FILE");
}

static void test_secret_file_open_to_others_is_refused(void **state)
{
    fixture *f = *state;
    static const mode_t modes[] = {0640, 0604, 0620, 0602, 0644, 0660, 0666};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        write_key_file(f, "key", FILE_KEY "\n", modes[i]);
        char *argv[] = {"bin", "--api-key-file", "key", NULL};
        assert_int_equal(parse_and_resolve(f, 3, argv), -1);
        assert_non_null(strstr(f->err, "--api-key-file \"key\": group or others may read"));
        assert_null(bt_cli_get_named(&f->cli, "api-key"));
    }
}

static void test_secret_file_must_be_a_readable_regular_file(void **state)
{
    fixture *f = *state;
    assert_int_equal(mkdir("a-dir", 0700), 0);
    assert_int_equal(mkfifo("a-fifo", 0600), 0); /* must not hang the run */
    write_key_file(f, "target", FILE_KEY, 0600);
    assert_int_equal(symlink("target", "a-link"), 0); /* as Kubernetes mounts secrets */
    write_key_file(f, "empty", "\n", 0600);
    static const struct { const char *path, *needle; } cases[] = {
        {"a-dir", "is not a regular file"},
        {"a-fifo", "is not a regular file"},
        {"missing", "\"missing\": No such file"},
        {"empty", "is empty"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"bin", "--api-key-file", (char *)cases[i].path, NULL};
        assert_int_equal(parse_and_resolve(f, 3, argv), -1);
        if (!strstr(f->err, cases[i].needle))
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].path, f->err, cases[i].needle);
    }
    char *argv[] = {"bin", "--api-key-file", "a-link", NULL};
    assert_int_equal(parse_and_resolve(f, 3, argv), 0);
    assert_string_equal(bt_cli_get_named(&f->cli, "api-key"), FILE_KEY);
}

static void test_secret_file_size_and_nul_are_checked(void **state)
{
    fixture *f = *state;
    char *big = malloc(BT_CLI_SECRET_FILE_MAX + 2);
    memset(big, 'k', BT_CLI_SECRET_FILE_MAX + 1);
    big[BT_CLI_SECRET_FILE_MAX + 1] = '\0';
    write_key_file(f, "big", big, 0600);
    free(big);
    char *argv[] = {"bin", "--api-key-file", "big", NULL};
    assert_int_equal(parse_and_resolve(f, 3, argv), -1);
    assert_non_null(strstr(f->err, "larger than 64 KiB"));
    FILE *fp = fopen("nul", "w");
    fwrite("ab\0cd", 1, 5, fp);
    fclose(fp);
    chmod("nul", 0600);
    char *argv2[] = {"bin", "--api-key-file", "nul", NULL};
    assert_int_equal(parse_and_resolve(f, 3, argv2), -1);
    assert_non_null(strstr(f->err, "NUL byte"));
}

static void test_secret_value_and_file_together_are_refused(void **state)
{
    fixture *f = *state;
    write_key_file(f, "key", FILE_KEY, 0600);
    char *argv[] = {"bin", "--api-key", "tgk-on-the-command-line", "--api-key-file", "key", NULL};
    assert_int_equal(parse_and_resolve(f, 5, argv), -1);
    assert_non_null(strstr(f->err, "both --api-key (or BATON_API_KEY) and --api-key-file"));
    bt_cli_free(&f->cli);
    bt_cli_init(&f->cli);
    assert_int_equal(bt_cli_add_connector_fields(&f->cli, &contract, f->err, sizeof f->err), 0);
    setenv("BATON_API_KEY", "tgk-in-the-environment", 1);
    char *argv2[] = {"bin", "--api-key-file", "key", NULL};
    assert_int_equal(parse_and_resolve(f, 3, argv2), -1);
    assert_non_null(strstr(f->err, "both --api-key"));
    unsetenv("BATON_API_KEY");
}

static void test_secret_file_twin_clash_is_refused(void **state)
{
    fixture *f = *state;
    bt_config_field fields[] = {
        {"token", "A token", NULL, NULL, false, true, BT_FIELD_STRING, false, NULL},
        {"token-file", "Clashes with the twin", NULL, NULL, false, false, BT_FIELD_STRING, false, NULL},
    };
    bt_contract c = {.source_file = "init.lua", .fields = fields, .field_count = 2};
    bt_cli cli;
    bt_cli_init(&cli);
    assert_int_equal(bt_cli_add_connector_fields(&cli, &c, f->err, sizeof f->err), -1);
    assert_non_null(strstr(f->err, "'token-file' clashes"));
    bt_cli_free(&cli);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flag_beats_env_beats_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_path_variable_selects_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_errors_are_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_yaml_it_cannot_read_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_file_quoted_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_flags_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_value_and_bad_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_required_unless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_marks_secrets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connector_field_clash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_names_and_prescan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_prescan_agrees_with_the_parser_on_repeats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_list_flags_collect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_sdk_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sdk_table_lists_only_unimplemented_flags, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_twin_is_declared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_is_read_once_and_trimmed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_from_the_environment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_open_to_others_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_must_be_a_readable_regular_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_size_and_nul_are_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_value_and_file_together_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_file_twin_clash_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_flag_id_has_its_row, setup, teardown),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
