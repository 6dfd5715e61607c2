/* `show` on the hand-built fixtures of tests/fixtures/c1z (made by
 * make_fixture.py from the format doc, not by our writer): exact table
 * output, sync selection, filters, JSON, the command line, UTF-8 cells. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt/show.h"

#define FIXTURES BT_TEST_SOURCE_DIR "/tests/fixtures/c1z/"
#define BASIC FIXTURES "basic.c1z"
#define TWO_SYNCS FIXTURES "two_syncs.c1z"
#define MIXED_SYNCS FIXTURES "mixed_syncs.c1z"
#define UNFINISHED FIXTURES "unfinished.c1z"

/* Sync ids make_fixture.py prints. */
#define BASIC_SYNC "2frSFYakMz4OPnd2b3MDHin9cD4"
#define OLDER_SYNC "2frSFZiq3r1ezbdznaNzjErMppf"
#define NEWER_SYNC "2hH14spXdLaHRimcEp2MGehN6X6"
#define UNFINISHED_SYNC "2hH14pWwue2MgB3w8P0Vfu0uqaW"

typedef struct {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
} result;

/* Runs `show <args...>` (NULL-terminated) with captured streams. */
static result run_show(const char *first, ...)
{
    char *argv[32] = {"show"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    result r = {0};
    FILE *out = open_memstream(&r.out, &r.out_len);
    FILE *err = open_memstream(&r.err, &r.err_len);
    r.rc = bt_show_main_io(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void result_free(result *r)
{
    free(r->out);
    free(r->err);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- a small JSON syntax checker ------------------------------------------- */

static const char *json_value(const char *p);

static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static const char *json_str(const char *p)
{
    if (*p++ != '"')
        return NULL;
    for (; *p && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20)
            return NULL;
        if (*p == '\\' && !*++p)
            return NULL;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *json_seq(const char *p, char close, bool keyed)
{
    p = json_ws(p + 1);
    if (*p == close)
        return p + 1;
    for (;;) {
        if (keyed) {
            p = json_str(json_ws(p));
            if (!p || *(p = json_ws(p)) != ':')
                return NULL;
            p++;
        }
        p = json_value(p);
        if (!p)
            return NULL;
        p = json_ws(p);
        if (*p == close)
            return p + 1;
        if (*p++ != ',')
            return NULL;
    }
}

static const char *json_value(const char *p)
{
    p = json_ws(p);
    if (*p == '{')
        return json_seq(p, '}', true);
    if (*p == '[')
        return json_seq(p, ']', false);
    if (*p == '"')
        return json_str(p);
    for (const char *word = "true\0false\0null\0"; *word; word += strlen(word) + 1)
        if (strncmp(p, word, strlen(word)) == 0)
            return p + strlen(word);
    const char *start = p;
    while (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' ||
           isdigit((unsigned char)*p))
        p++;
    return p > start ? p : NULL;
}

static void assert_json(const char *text)
{
    const char *end = json_value(text);
    assert_non_null(end);
    assert_string_equal(json_ws(end), "");
}

/* ---- tables ------------------------------------------------------------------ */

static void default_view_matches_expected_file(void **state)
{
    (void)state;
    result r = run_show(BASIC, NULL);
    char *expected = read_text(FIXTURES "basic.expected.txt");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.err, "");
    assert_string_equal(r.out, expected);
    free(expected);
    result_free(&r);
}

static void newer_sync_wins_by_end_time_not_row_order(void **state)
{
    (void)state;
    result r = run_show("--resources", TWO_SYNCS, NULL);
    char *expected = read_text(FIXTURES "two_syncs.resources.expected.txt");
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, expected);
    free(expected);
    result_free(&r);
}

static void sync_id_selects_the_older_sync(void **state)
{
    (void)state;
    result r = run_show("--sync-id", OLDER_SYNC, "--resources", TWO_SYNCS, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out,
                        "ID               | Display Name  | Resource Type | Parent Resource\n"
                        "R3JvdXA6MjAwMQ== | Engineering   | Group         | -              \n"
                        "VXNlcjoxMDAx     | Alice Example | User          | -              \n"
                        "VXNlcjoxMDAy     | Bob Builder   | User          | -              \n");
    result_free(&r);
}

static void stats_of_the_newer_sync(void **state)
{
    (void)state;
    result r = run_show("--stats", TWO_SYNCS, NULL);
    assert_int_equal(r.rc, 0);
    /* the sync's id, type and times come first, as in baton-sdk HEAD's stats */
    assert_true(starts_with(r.out, "Sync: " NEWER_SYNC " (full, started "));
    assert_string_equal(strchr(r.out, '\n') + 1, "Type           | Count\n"
                               "entitlements   | 3    \n"
                               "grants         | 3    \n"
                               "group          | 2    \n"
                               "resource_types | 3    \n"
                               "role           | 1    \n"
                               "user           | 2    \n");
    result_free(&r);
}

static void partial_and_unfinished_syncs_are_passed_over(void **state)
{
    (void)state;
    result r = run_show("--resources", MIXED_SYNCS, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "ID           | Display Name  | Resource Type | Parent Resource\n"
                               "VXNlcjoxMDAx | Alice Example | User          | -              \n");
    result_free(&r);
}

static void only_an_unfinished_sync_is_shown(void **state)
{
    (void)state;
    result r = run_show(UNFINISHED, NULL);
    assert_int_equal(r.rc, 0);
    assert_true(starts_with(r.out, "Sync: " UNFINISHED_SYNC
                                   " (full, started 2024-06-01 10:00:00, ended unfinished)\n"
                                   "\nStats:\n"));
    assert_non_null(
        strstr(r.out, "\nVXNlcjoxMDA0 | Carol Ödegaard | User          | -              \n"));
    result_free(&r);
}

static void resource_type_filters_resources(void **state)
{
    (void)state;
    result r = run_show("--resources", "--resource-type", "user", BASIC, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out,
                        "ID           | Display Name    | Resource Type | Parent Resource\n"
                        "VXNlcjoxMDAx | Alice Example   | User          | -              \n"
                        "VXNlcjoxMDAy | Bob Builder     | User          | -              \n"
                        "VXNlcjoxMDAz | Zoë Łukasiewicz | User          | -              \n");
    result_free(&r);
}

static void resource_type_filters_entitlements_and_grants(void **state)
{
    (void)state;
    result r = run_show("--entitlements", "--grants", "-t", "role", BASIC, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(
        r.out,
        "Sync: " BASIC_SYNC
        " (full, started 2024-05-01 10:00:00.123456789, ended 2024-05-01 10:00:03.5)\n"
        "\nEntitlements:\n"
        "ID                | Display Name      | Resource Type | Resource | Permission\n"
        "role:ADMIN:member | Admin Role Member | Role          | Admin    | member    \n"
        "\nGrants:\n"
        "ID                                  | Resource Type | Resource | Entitlement       | Principal    \n"
        "role:ADMIN:member:user:VXNlcjoxMDAx | Role          | Admin    | Admin Role Member | Alice Example\n");
    result_free(&r);
}

static void resource_types_view_lists_traits(void **state)
{
    (void)state;
    result r = run_show("--resource-types", BASIC, NULL);
    assert_int_equal(r.rc, 0);
    assert_string_equal(r.out, "ID    | Display Name | Traits     \n"
                               "group | Group        | TRAIT_GROUP\n"
                               "role  | Role         | TRAIT_ROLE \n"
                               "user  | User         | TRAIT_USER \n");
    result_free(&r);
}

static void parent_resource_is_named_with_its_type(void **state)
{
    (void)state;
    result r = run_show("--resources", "-t", "group", TWO_SYNCS, NULL);
    assert_int_equal(r.rc, 0);
    assert_non_null(
        strstr(r.out, "R3JvdXA6MjAwMw== | Design       | Group         | Engineering (group)\n"));
    result_free(&r);
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_resources_have_batons_shape(void **state)
{
    (void)state;
    result r = run_show("--json", "--resources", BASIC, NULL);
    assert_int_equal(r.rc, 0);
    assert_json(r.out);
    assert_true(starts_with(r.out, "{\"resources\":[{\"resource\":{\"id\":{\"resourceType\":"
                                   "\"group\",\"resource\":\"R3JvdXA6MjAwMQ==\"},"
                                   "\"displayName\":\"Engineering\""));
    assert_int_equal(count(r.out, "{\"resource\":"), 6);
    assert_int_equal(count(r.out, "\"resourceType\":{\"id\":\"user\""), 3);
    assert_non_null(strstr(r.out,
                           "\"@type\":\"type.googleapis.com/c1.connector.v2.UserTrait\","
                           "\"emails\":[{\"address\":\"alice@example.com\",\"isPrimary\":true}]"));
    assert_non_null(strstr(r.out, "\"status\":{\"status\":\"STATUS_ENABLED\"}"));
    assert_non_null(strstr(r.out, "\"is_admin\":true"));
    assert_non_null(strstr(r.out, "\"displayName\":\"Zoë Łukasiewicz\""));
    assert_non_null(strstr(
        r.out, "{\"@type\":\"type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants\"}"));
    result_free(&r);
}

static void json_grants_carry_resolved_references(void **state)
{
    (void)state;
    result r = run_show("--json", "--grants", "-t", "role", BASIC, NULL);
    assert_int_equal(r.rc, 0);
    assert_json(r.out);
    assert_true(starts_with(r.out, "{\"grants\":[{\"grant\":{\"entitlement\":"));
    assert_int_equal(count(r.out, "{\"grant\":"), 1);
    assert_non_null(strstr(r.out, ",\"entitlement\":{\"resource\":"));
    assert_non_null(strstr(r.out, "\"displayName\":\"Admin Role Member\""));
    assert_non_null(strstr(r.out, "\"purpose\":\"PURPOSE_VALUE_ASSIGNMENT\""));
    assert_non_null(strstr(r.out,
                           ",\"principal\":{\"id\":{\"resourceType\":\"user\","
                           "\"resource\":\"VXNlcjoxMDAx\"},\"displayName\":\"Alice Example\""));
    result_free(&r);
}

static void json_combined_view_has_sync_and_stats(void **state)
{
    (void)state;
    result r = run_show("--json", BASIC, NULL);
    assert_int_equal(r.rc, 0);
    assert_json(r.out);
    assert_true(starts_with(r.out, "{\"sync\":{\"id\":\"" BASIC_SYNC "\",\"type\":\"full\","));
    assert_non_null(strstr(r.out, "\"stats\":{\"entitlements\":3,\"grants\":6,\"group\":2,"
                                  "\"resource_types\":3,\"role\":1,\"user\":3}"));
    assert_non_null(strstr(r.out, ",\"resources\":[{"));
    assert_non_null(strstr(r.out, ",\"entitlements\":[{"));
    assert_non_null(strstr(r.out, ",\"grants\":[{"));
    assert_int_equal(count(r.out, "{\"grant\":"), 6);
    result_free(&r);
}

/* ---- command line --------------------------------------------------------------- */

static void args_defaults_and_forms(void **state)
{
    (void)state;
    bt_show_opts o;
    char err[128];
    char *a1[] = {"show"};
    assert_int_equal(bt_show_parse_args(1, a1, &o, err, sizeof err), 0);
    assert_string_equal(o.file, "sync.c1z");
    assert_int_equal(o.views, 0);
    assert_null(o.resource_type);
    char *a2[] = {"show", "--resource-type=user", "--sync-id", "X", "--grants", "--stats", "--json",
                  "f.c1z"};
    assert_int_equal(bt_show_parse_args(8, a2, &o, err, sizeof err), 0);
    assert_string_equal(o.resource_type, "user");
    assert_string_equal(o.sync_id, "X");
    assert_string_equal(o.file, "f.c1z");
    assert_int_equal(o.views, BT_SHOW_VIEW_GRANTS | BT_SHOW_VIEW_STATS);
    assert_true(o.json);
    char *a3[] = {"show", "-tgroup", "-f", "g.c1z"};
    assert_int_equal(bt_show_parse_args(4, a3, &o, err, sizeof err), 0);
    assert_string_equal(o.resource_type, "group");
    assert_string_equal(o.file, "g.c1z");
}

static void args_errors_exit_2(void **state)
{
    (void)state;
    result r = run_show("--bogus", NULL);
    assert_int_equal(r.rc, 2);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "show: unknown flag: --bogus\n"));
    result_free(&r);
    r = run_show("--sync-id", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "flag needs a value: --sync-id"));
    result_free(&r);
    r = run_show("--json=yes", NULL);
    assert_int_equal(r.rc, 2);
    result_free(&r);
    r = run_show("a.c1z", "b.c1z", NULL);
    assert_int_equal(r.rc, 2);
    assert_non_null(strstr(r.err, "two files given: a.c1z and b.c1z"));
    result_free(&r);
}

static void help_prints_usage(void **state)
{
    (void)state;
    result r = run_show("-h", NULL);
    assert_int_equal(r.rc, 0);
    assert_true(starts_with(r.out, "Usage: baton-twingate show [COMMAND] [FILE] [flags]\n"));
    assert_non_null(strstr(r.out, "--resource-type TYPE"));
    result_free(&r);
}

static void limits_follow_the_environment(void **state)
{
    (void)state;
    setenv("BATON_DECODER_MAX_DECODED_SIZE_MB", "3", 1);
    setenv("BATON_DECODER_MAX_MEMORY_MB", "bogus", 1);
    bt_show_limits lim = bt_show_default_limits();
    assert_int_equal(lim.max_decoded, 3u << 20);
    assert_int_equal(lim.max_window, 128u << 20);
    unsetenv("BATON_DECODER_MAX_DECODED_SIZE_MB");
    unsetenv("BATON_DECODER_MAX_MEMORY_MB");
    assert_int_equal(bt_show_default_limits().max_decoded, (uint64_t)2048 << 20);
}

/* ---- UTF-8 display ------------------------------------------------------------ */

static char *printed(const char *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    bt_show_print_display(f, s);
    fclose(f);
    return buf;
}

static void widths_count_code_points(void **state)
{
    (void)state;
    assert_int_equal(bt_show_display_width("Zoë Łukasiewicz"), 15);
    assert_int_equal(bt_show_display_width("日本"), 2);
    assert_int_equal(bt_show_display_width(""), 0);
    assert_int_equal(bt_show_display_width("a\tb"), 3);
    assert_int_equal(bt_show_display_width("\xff\xfe"), 2);
    assert_int_equal(bt_show_display_width("\xC0\xAF"), 2); /* overlong '/' */
}

static void unprintable_bytes_become_replacement_chars(void **state)
{
    (void)state;
    char *p = printed("a\x1b[31mb\xffé");
    assert_string_equal(p, "a\xEF\xBF\xBD[31mb\xEF\xBF\xBDé");
    free(p);
}

static void table_pads_every_cell_and_joins_with_bars(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *header[] = {"A", "Bee"};
    const char *row[] = {"ünï", "x"};
    bt_show_table t;
    bt_show_table_init(&t, f, header, 2);
    bt_show_table_measure(&t, row);
    bt_show_table_print(&t, header);
    bt_show_table_print(&t, row);
    fclose(f);
    assert_string_equal(buf, "A   | Bee\nünï | x  \n");
    free(buf);
}

/* ---- baton's commands, aliases and disagreements ----------------------------------- */

static void args_commands_and_aliases(void **state)
{
    (void)state;
    bt_show_opts o;
    char err[256];
    char *a1[] = {"show", "grants", "f.c1z", "-e", "group:1:member", "--principal", "user:2"};
    assert_int_equal(bt_show_parse_args(7, a1, &o, err, sizeof err), 0);
    assert_int_equal(o.views, BT_SHOW_VIEW_GRANTS);
    assert_string_equal(o.file, "f.c1z");
    assert_string_equal(o.entitlement, "group:1:member");
    assert_string_equal(o.principal, "user:2");
    char *a2[] = {"show", "resources", "-f", "f.c1z", "f.c1z", "--resources", "-o", "csv"};
    assert_int_equal(bt_show_parse_args(8, a2, &o, err, sizeof err), 0);
    assert_int_equal(o.views, BT_SHOW_VIEW_RESOURCES);
    assert_int_equal(o.output, BT_SHOW_OUT_CSV);
    char *a3[] = {"show", "diff", "old.c1z", "new.c1z", "--json", "-o", "json"};
    assert_int_equal(bt_show_parse_args(7, a3, &o, err, sizeof err), 0);
    assert_int_equal(o.command, BT_SHOW_CMD_DIFF);
    assert_string_equal(o.file2, "new.c1z");
    assert_true(o.json);
    char *a4[] = {"show", "access", "x.c1z", "--resource=resource:1"};
    assert_int_equal(bt_show_parse_args(4, a4, &o, err, sizeof err), 0);
    assert_int_equal(o.command, BT_SHOW_CMD_ACCESS);
    char *a5[] = {"show", "./resources"}; /* a file named like a command */
    assert_int_equal(bt_show_parse_args(2, a5, &o, err, sizeof err), 0);
    assert_string_equal(o.file, "./resources");
    assert_int_equal(o.views, 0);
}

static void args_that_disagree_exit_2(void **state)
{
    (void)state;
    static const char *const cases[][6] = {
        {"-f", "a.c1z", "b.c1z", NULL, NULL, "two files given: a.c1z and b.c1z"},
        {"resources", "--grants", NULL, NULL, NULL, "--grants disagrees with the command resources"},
        {"--json", "-o", "table", NULL, NULL, "-o disagrees with --json"},
        {"--sync-id", "A", "--sync-id", "B", NULL, "--sync-id given twice with different values"},
        {"resources", "-e", "x", NULL, NULL, "--entitlement does not apply"},
        {"access", "--principal", "user:1", "--resource", "resource:1", "access needs one of"},
        {"diff", "a.c1z", NULL, NULL, NULL, "diff needs two files"},
        {"-o", "csv", NULL, NULL, NULL, "-o csv does not apply to several views"},
        {"-o", "yaml", NULL, NULL, NULL, "unknown output format"},
        {"grants", "--resource", "nocolon", NULL, NULL, "expected TYPE:ID: nocolon"},
        {"access", "--principal", "user:", NULL, NULL, "expected TYPE:ID: user:"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[7] = {"show"};
        int argc = 1;
        for (int j = 0; j < 5 && cases[i][j]; j++)
            argv[argc++] = (char *)cases[i][j];
        bt_show_opts o;
        char err[256];
        assert_int_equal(bt_show_parse_args(argc, argv, &o, err, sizeof err), -1);
        if (!strstr(err, cases[i][5]))
            fail_msg("case %zu: %s", i, err);
    }
}

static void grants_filters_narrow_the_rows(void **state)
{
    (void)state;
    result all = run_show("grants", BASIC, NULL);
    result one = run_show("grants", BASIC, "--principal", "user:VXNlcjoxMDAx", NULL);
    assert_int_equal(one.rc, 0);
    assert_true(count(one.out, "\n") < count(all.out, "\n"));
    assert_true(count(one.out, "\n") > 1);
    assert_null(strstr(one.out, "Bob Builder"));
    result_free(&all);
    result_free(&one);
}

static void csv_quotes_like_rfc_4180(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *header[] = {"A", "B"};
    const char *row[] = {"x,y", "say \"hi\""};
    bt_show_table t;
    bt_show_table_init(&t, f, header, 2);
    t.csv = true;
    bt_show_table_print(&t, row);
    fclose(f);
    assert_string_equal(buf, "\"x,y\",\"say \"\"hi\"\"\"\r\n");
    free(buf);
}

static void long_cells_end_in_an_ellipsis(void **state)
{
    (void)state;
    char *buf = NULL, cell[121];
    size_t len = 0;
    memset(cell, 'x', 120);
    cell[120] = '\0';
    FILE *f = open_memstream(&buf, &len);
    const char *header[] = {"A"};
    const char *row[] = {cell};
    bt_show_table t;
    bt_show_table_init(&t, f, header, 1);
    bt_show_table_measure(&t, row);
    bt_show_table_print(&t, row);
    fclose(f);
    assert_int_equal(t.width[0], BT_SHOW_MAX_CELL);
    assert_int_equal(bt_show_display_width(buf), BT_SHOW_MAX_CELL + 1); /* and the newline */
    assert_non_null(strstr(buf, "xxx\xE2\x80\xA6"));
    free(buf);
}

static void a_fifo_is_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/bt-show-fifo-XXXXXX";
    assert_non_null(mkdtemp(path));
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/f", path);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    result r = run_show(fifo, NULL); /* would block forever on open() */
    assert_int_equal(r.rc, 1);
    assert_non_null(strstr(r.err, "not a regular file"));
    result_free(&r);
    unlink(fifo);
    rmdir(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_view_matches_expected_file),
        cmocka_unit_test(newer_sync_wins_by_end_time_not_row_order),
        cmocka_unit_test(sync_id_selects_the_older_sync),
        cmocka_unit_test(stats_of_the_newer_sync),
        cmocka_unit_test(partial_and_unfinished_syncs_are_passed_over),
        cmocka_unit_test(only_an_unfinished_sync_is_shown),
        cmocka_unit_test(resource_type_filters_resources),
        cmocka_unit_test(resource_type_filters_entitlements_and_grants),
        cmocka_unit_test(resource_types_view_lists_traits),
        cmocka_unit_test(parent_resource_is_named_with_its_type),
        cmocka_unit_test(json_resources_have_batons_shape),
        cmocka_unit_test(json_grants_carry_resolved_references),
        cmocka_unit_test(json_combined_view_has_sync_and_stats),
        cmocka_unit_test(args_defaults_and_forms),
        cmocka_unit_test(args_errors_exit_2),
        cmocka_unit_test(help_prints_usage),
        cmocka_unit_test(limits_follow_the_environment),
        cmocka_unit_test(widths_count_code_points),
        cmocka_unit_test(unprintable_bytes_become_replacement_chars),
        cmocka_unit_test(table_pads_every_cell_and_joins_with_bars),
        cmocka_unit_test(args_commands_and_aliases),
        cmocka_unit_test(args_that_disagree_exit_2),
        cmocka_unit_test(grants_filters_narrow_the_rows),
        cmocka_unit_test(csv_quotes_like_rfc_4180),
        cmocka_unit_test(long_cells_end_in_an_ellipsis),
        cmocka_unit_test(a_fifo_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
