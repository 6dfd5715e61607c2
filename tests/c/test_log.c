/* Logging: JSON lines stay valid JSON for any bytes, and a secret is redacted
 * even when the message is longer than one log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/graphql.h"
#include "bt/log.h"
#include "bt/model.h"
#include "tmpdir.h"

/* Run fn with stderr sent to a file; returns what it wrote (malloc'd). */
static char *capture_stderr(void (*fn)(void))
{
    char *dir = tmpdir_make("log");
    char path[4096];
    snprintf(path, sizeof path, "%s/stderr", dir);
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDERR_FILENO);
    close(fd);
    fn();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    tmpdir_remove(dir);
    return buf;
}

static void log_bad_bytes(void)
{
    bt_log_set_format(BT_LOG_JSON);
    bt_log_set_level(BT_LOG_DEBUG);
    bt_info("name \xff\xfe end, cut \xc3, fine \xc3\xab, overlong \xc0\xaf, %s", "x");
    /* a two-byte character straddling the 8 KiB line cut */
    char *big = malloc(9000);
    memset(big, 'a', 9000);
    for (int i = 8180; i < 8200; i += 2)
        memcpy(big + i, "\xc3\xab", 2);
    big[8999] = '\0';
    bt_info("%s", big);
    free(big);
    bt_log_set_format(BT_LOG_CONSOLE);
}

static void test_json_lines_are_valid_utf8(void **state)
{
    (void)state;
    char *out = capture_stderr(log_bad_bytes);
    assert_true(bt_utf8_is_valid(out, strlen(out)));
    assert_non_null(strstr(out, "name \xef\xbf\xbd\xef\xbf\xbd end, cut \xef\xbf\xbd, fine \xc3\xab, overlong "
                                "\xef\xbf\xbd\xef\xbf\xbd, x\"}\n"));
    /* two lines, each one JSON object */
    char *second = strchr(out, '\n');
    assert_non_null(second);
    assert_string_equal(strchr(second + 1, '\n'), "\n");
    assert_memory_equal(second - 2, "\"}", 2);
    free(out);
}

static char *long_line_with_secret(size_t at)
{
    char *m = malloc(20000);
    memset(m, 'x', 19999);
    m[19999] = '\0';
    memcpy(m + at, "TOPSECRET-123456", 16);
    return m;
}

static void sink_collect(bt_log_level level, const char *line, void *ud)
{
    (void)level;
    snprintf(ud, 16384, "%s", line);
}

static void test_secret_across_the_line_cut_is_redacted(void **state)
{
    (void)state;
    static char got[16384];
    bt_log_add_secret("TOPSECRET-123456");
    bt_log_set_sink(sink_collect, got);
    for (size_t at = 8180; at < 8195; at++) {
        char *m = long_line_with_secret(at);
        bt_error("%s", m);
        free(m);
        assert_null(strstr(got, "TOPSEC"));
        assert_true(strlen(got) < 8192);
    }
    bt_log_set_sink(NULL, NULL);
}

static const bt_graphql_progress users_progress = {"users", 3500, 20000, 35, 200, 165};

/* At exit the redaction list is wiped and dropped: a registered secret is
 * no longer known (nor kept), and the list can be filled again. */
static void test_forgotten_secrets_are_dropped(void **state)
{
    (void)state;
    char out[128];
    bt_log_add_secret("FORGET-ME-123456");
    bt_log_redact("key FORGET-ME-123456 end", out, sizeof out);
    assert_string_equal(out, "key [REDACTED] end");
    bt_log_forget_secrets();
    bt_log_redact("key FORGET-ME-123456 end", out, sizeof out);
    assert_string_equal(out, "key FORGET-ME-123456 end");
    bt_log_add_secret("FORGET-ME-123456");
    bt_log_redact("key FORGET-ME-123456 end", out, sizeof out);
    assert_string_equal(out, "key [REDACTED] end");
    bt_log_forget_secrets();
}

static void log_records(void)
{
    bt_log_set_format(BT_LOG_JSON);
    bt_log_set_level(BT_LOG_INFO);
    bt_graphql_log_progress(&users_progress);
    bt_graphql_progress no_total = {"roles", 7, -1, 1, -1, -1};
    bt_graphql_log_progress(&no_total);
    bt_log_field f[] = {BT_LOG_FSTR("target", "https://x/?k=TOPSECRET-123456"),
                        BT_LOG_FREAL("paced_s", 12.25)};
    bt_log_record(BT_LOG_INFO, "console text", "sync starting", f, 2);
    bt_log_set_format(BT_LOG_CONSOLE);
}

/* The record, field for field; numbers as JSON numbers; string fields
 * redacted like any line. */
static void test_progress_and_records_in_json(void **state)
{
    (void)state;
    bt_log_add_secret("TOPSECRET-123456");
    char *out = capture_stderr(log_records);
    assert_non_null(strstr(out, "\"msg\":\"progress\",\"phase\":\"users\",\"done\":3500,"
                                "\"total\":20000,\"requests\":35,\"eta_s\":165}\n"));
    assert_non_null(strstr(out, "\"msg\":\"progress\",\"phase\":\"roles\",\"done\":7,"
                                "\"requests\":1}\n"));
    assert_non_null(strstr(out, "\"msg\":\"sync starting\",\"target\":\"https://x/?k=[REDACTED]\","
                                "\"paced_s\":12.2"));
    assert_null(strstr(out, "TOPSECRET"));
    assert_null(strstr(out, "console text"));
    free(out);
}

static void test_progress_on_the_console(void **state)
{
    (void)state;
    static char got[16384];
    bt_log_set_sink(sink_collect, got);
    bt_graphql_log_progress(&users_progress);
    assert_string_equal(got, "users 3,500/20,000 (17%) · 35/200 requests · ETA 2m45s");
    bt_graphql_progress end = {"users", 20000, 20000, 200, 200, 0};
    bt_graphql_log_progress(&end);
    assert_string_equal(got, "users 20,000/20,000 (100%) · 200/200 requests · done");
    bt_graphql_progress no_total = {"roles", 1234567, -1, 3, -1, -1};
    bt_graphql_log_progress(&no_total);
    assert_string_equal(got, "roles 1,234,567 · 3 requests");
    bt_log_set_sink(NULL, NULL);
    char d[32];
    bt_graphql_format_duration(45, d, sizeof d);
    assert_string_equal(d, "45s");
    bt_graphql_format_duration(3725, d, sizeof d);
    assert_string_equal(d, "1h02m");
    bt_graphql_format_duration(60, d, sizeof d);
    assert_string_equal(d, "1m00s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_lines_are_valid_utf8),
        cmocka_unit_test(test_secret_across_the_line_cut_is_redacted),
        cmocka_unit_test(test_progress_and_records_in_json),
        cmocka_unit_test(test_progress_on_the_console),
        cmocka_unit_test(test_forgotten_secrets_are_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
