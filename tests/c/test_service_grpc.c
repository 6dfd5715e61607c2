/* Service mode's wire and timing rules: gRPC framing, the status from headers
 * and trailers (trailers-only included), the HTTP-to-gRPC map, grpc-timeout,
 * the token answer, the poll/heartbeat/Hello clamps, the task outcome pipe
 * format and the os-release reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/codec.h"
#include "service/svc.h"

/* ---- framing ---- */

static void frame_round_trip(void **state)
{
    (void)state;
    bt_buf b = {0};
    const unsigned char *m;
    size_t n;
    assert_int_equal(bt_grpc_frame_append(&b, "\x0a\x03" "abc", 5), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data, "\x00\x00\x00\x00\x05", 5);
    assert_int_equal(bt_grpc_frame_single((unsigned char *)b.data, b.len, &m, &n), 1);
    assert_int_equal(n, 5);
    assert_memory_equal(m, "\x0a\x03" "abc", 5);
    /* Truncated, compressed, or a second message: all refused. */
    assert_int_equal(bt_grpc_frame_single((unsigned char *)b.data, b.len - 1, &m, &n), -1);
    assert_int_equal(bt_grpc_frame_single((unsigned char *)b.data, 3, &m, &n), -1);
    b.data[0] = 1;
    assert_int_equal(bt_grpc_frame_single((unsigned char *)b.data, b.len, &m, &n), -1);
    b.data[0] = 0;
    assert_int_equal(bt_grpc_frame_append(&b, "", 0), 0);
    assert_int_equal(bt_grpc_frame_single((unsigned char *)b.data, b.len, &m, &n), -1);
    /* An empty message is the 5 bytes 00 00 00 00 00; no body is no message. */
    assert_int_equal(bt_grpc_frame_single((const unsigned char *)"\0\0\0\0\0", 5, &m, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(bt_grpc_frame_single((const unsigned char *)"", 0, &m, &n), 0);
    bt_buf_free(&b);
}

/* ---- status ---- */

static int status_of(const char *const *lines, long http, bool h2, const char *body, size_t len,
                     bt_grpc_result *r)
{
    bt_grpc_headers h;
    memset(&h, 0, sizeof h);
    for (int i = 0; lines[i]; i++)
        bt_grpc_headers_line(&h, lines[i], strlen(lines[i]));
    memset(r, 0, sizeof *r);
    return bt_grpc_headers_result(&h, http, h2, (const unsigned char *)body, len, r);
}

static void status_normal_and_trailers_only(void **state)
{
    (void)state;
    bt_grpc_result r;
    const char *normal[] = {"HTTP/2 200\r\n", "Content-Type: application/grpc+proto\r\n",
                            "grpc-status: 0\r\n", NULL};
    assert_int_equal(status_of(normal, 200, true, "\0\0\0\0\x02\x08\x01", 7, &r), BT_GRPC_OK);
    assert_int_equal(r.msg_len, 2);
    const char *only[] = {"content-type: application/grpc\r\n", "grpc-status: 14\r\n",
                          "grpc-message: try%20again%0Alater 100%25\r\n", NULL};
    assert_int_equal(status_of(only, 200, true, "", 0, &r), BT_GRPC_UNAVAILABLE);
    assert_string_equal(r.message, "try again?later 100%"); /* no raw newline reaches a log */
    const char *ok_empty[] = {"content-type: application/grpc\r\n", "grpc-status: 0\r\n", NULL};
    assert_int_equal(status_of(ok_empty, 200, true, "", 0, &r), BT_GRPC_INTERNAL);
    assert_int_equal(status_of(ok_empty, 200, true, "\0\0\0\0\0", 5, &r), BT_GRPC_OK);
    const char *no_status[] = {"content-type: application/grpc\r\n", NULL};
    assert_int_equal(status_of(no_status, 200, true, "", 0, &r), BT_GRPC_UNAVAILABLE);
    const char *bad_status[] = {"content-type: application/grpc\r\n", "grpc-status: 1x\r\n", NULL};
    assert_int_equal(status_of(bad_status, 200, true, "", 0, &r), BT_GRPC_UNAVAILABLE);
    /* The codes are 0-16: larger numbers, however long, are UNKNOWN (no overflow). */
    struct { const char *line; bool has; int status; } st[] = {
        {"grpc-status: 16\r\n", true, 16}, {"grpc-status: 016\r\n", true, 16},
        {"grpc-status: 17\r\n", true, BT_GRPC_UNKNOWN},
        {"grpc-status: 999999999999999\r\n", true, BT_GRPC_UNKNOWN},
        {"grpc-status: 99999999999999999999999999999999\r\n", true, BT_GRPC_UNKNOWN},
        {"grpc-status: 2147483648\r\n", true, BT_GRPC_UNKNOWN},
        {"grpc-status: \r\n", false, 0}, {"grpc-status: -1\r\n", false, 0},
        {"grpc-status: 1 2\r\n", false, 0},
    };
    for (size_t i = 0; i < sizeof st / sizeof st[0]; i++) {
        bt_grpc_headers h;
        memset(&h, 0, sizeof h);
        bt_grpc_headers_line(&h, st[i].line, strlen(st[i].line));
        assert_int_equal(h.has_status, st[i].has);
        if (st[i].has)
            assert_int_equal(h.status, st[i].status);
    }
}

static void status_from_http(void **state)
{
    (void)state;
    bt_grpc_result r;
    const char *html[] = {"content-type: text/html\r\n", NULL};
    const char *grpcish[] = {"content-type: application/grpc\r\n", "grpc-status: 0\r\n", NULL};
    struct { long http; int code; } map[] = {{400, 13}, {401, 16}, {403, 7}, {404, 12}, {429, 14},
                                             {502, 14}, {503, 14}, {504, 14}, {500, 2}, {302, 2}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        assert_int_equal(bt_grpc_code_from_http(map[i].http), map[i].code);
        /* A non-200 answer fails with the mapped code whatever else it carries. */
        assert_int_equal(status_of(grpcish, map[i].http, true, "", 0, &r), map[i].code);
    }
    assert_int_equal(status_of(html, 200, true, "<html>", 6, &r), BT_GRPC_UNKNOWN);
    const char *grpcx[] = {"content-type: application/grpcx\r\n", "grpc-status: 0\r\n", NULL};
    assert_int_equal(status_of(grpcx, 200, true, "\0\0\0\0\0", 5, &r), BT_GRPC_UNKNOWN);
    assert_int_equal(status_of(grpcish, 200, false, "\0\0\0\0\0", 5, &r), BT_GRPC_UNAVAILABLE);
    assert_non_null(strstr(r.message, "HTTP/2"));
}

static void permanent_codes(void **state)
{
    (void)state;
    int permanent[] = {16, 7, 3, 12, 9, 5}, retried[] = {1, 2, 4, 13, 14, 15};
    for (int i = 0; i < 6; i++) {
        assert_true(bt_grpc_code_is_permanent(permanent[i]));
        assert_false(bt_grpc_code_is_permanent(retried[i]));
    }
}

static void grpc_timeout_values(void **state)
{
    (void)state;
    char v[24];
    bt_grpc_timeout_value(30, v, sizeof v);
    assert_string_equal(v, "30000000u");
    bt_grpc_timeout_value(0.05, v, sizeof v);
    assert_string_equal(v, "50000000n");
    bt_grpc_timeout_value(5, v, sizeof v);
    assert_string_equal(v, "5000000u");
    bt_grpc_timeout_value(1000, v, sizeof v);
    assert_string_equal(v, "1000000m");
    bt_grpc_timeout_value(0, v, sizeof v);
    assert_string_equal(v, "1n");
    bt_grpc_timeout_value(1e9, v, sizeof v); /* at most 8 digits whatever the value */
    assert_true(strlen(v) <= 9);
}

/* ---- timing rules ---- */

static void clamps(void **state)
{
    (void)state;
    assert_true(bt_svc_poll_wait(false, 7) == 0); /* unset: poll again at once */
    assert_true(bt_svc_poll_wait(true, 0.2) == 0.2);
    assert_true(bt_svc_poll_wait(true, 301) == 300);
    assert_true(bt_svc_poll_wait(true, -5) == 0);
    double want[] = {1, 4, 9, 16, 25, 36, 49, 60, 60};
    for (int i = 0; i < 9; i++)
        assert_true(bt_svc_poll_error_wait(i + 1) == want[i]);
    assert_true(bt_svc_heartbeat_interval(0) == 30);
    assert_true(bt_svc_heartbeat_interval(0.2) == 1);
    assert_true(bt_svc_heartbeat_interval(12) == 12);
    assert_true(bt_svc_heartbeat_interval(1000) == 300);
    double hello[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300};
    for (int i = 0; i < 11; i++)
        assert_true(bt_svc_hello_backoff(i + 1) == hello[i]);
}

/* ---- token answer ---- */

static void token_answers(void **state)
{
    (void)state;
    char *tok, *type, err[256];
    long exp;
    const char *ok = "{\"access_token\":\"abc.def\",\"token_type\":\"bearer\",\"expires_in\":3600,\"x\":[1]}";
    assert_int_equal(bt_svc_token_parse(ok, strlen(ok), &tok, &type, &exp, err, sizeof err), BT_GRPC_OK);
    assert_string_equal(tok, "abc.def");
    assert_int_equal(exp, 3600);
    free(tok);
    free(type);
    struct { const char *body; int code; } cases[] = {
        {"{\"token_type\":\"bearer\",\"expires_in\":3600}", BT_GRPC_UNAUTHENTICATED},
        {"{\"access_token\":\"\",\"expires_in\":3600}", BT_GRPC_UNAUTHENTICATED},
        {"{\"access_token\":\"a\",\"expires_in\":36.5}", BT_GRPC_UNAVAILABLE},
        {"{\"access_token\":\"a\",\"expires_in\":\"3600\"}", BT_GRPC_UNAVAILABLE},
        {"<html>", BT_GRPC_UNAVAILABLE},
        {"{\"access_token\":\"a b\"}", BT_GRPC_UNAUTHENTICATED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(bt_svc_token_parse(cases[i].body, strlen(cases[i].body), &tok, &type,
                                            &exp, err, sizeof err), cases[i].code);
    char word[32];
    const char *in[] = {"bearer", "BEARER", "", "basic", "mac", "DPoP"};
    const char *out[] = {"Bearer", "Bearer", "Bearer", "Basic", "MAC", "DPoP"};
    for (int i = 0; i < 6; i++) {
        bt_svc_token_type(in[i], word, sizeof word);
        assert_string_equal(word, out[i]);
    }
}

/* GetTask's deadline: 30 s, less when a running sync's heartbeat is due
 * sooner (at least 1 s); cancelled or ended tasks and provisioning don't count. */
static void get_task_deadline(void **state)
{
    (void)state;
    static bt_svc_daemon d;
    memset(&d, 0, sizeof d);
    assert_true(bt_svc_get_task_deadline(&d, 100) == 30);
    d.n_tasks = 3;
    d.tasks[0] = (bt_svc_running){.pid = 10, .kind = BT_TASK_SYNC, .next_heartbeat = 112.5};
    d.tasks[1] = (bt_svc_running){.pid = 11, .kind = BT_TASK_PROVISION, .next_heartbeat = 101};
    d.tasks[2] = (bt_svc_running){.pid = 12, .kind = BT_TASK_SYNC, .next_heartbeat = 200};
    assert_true(bt_svc_get_task_deadline(&d, 100) == 12.5);
    d.tasks[0].next_heartbeat = 100.2; /* due at once: still 1 s */
    assert_true(bt_svc_get_task_deadline(&d, 100) == 1);
    d.tasks[0].next_heartbeat = 90;
    assert_true(bt_svc_get_task_deadline(&d, 100) == 1);
    d.tasks[0].cancel_reason = "cancelled";
    assert_true(bt_svc_get_task_deadline(&d, 100) == 30);
}

/* A refused client is permanent; a busy or broken endpoint is retried. The
 * token's reuse time never makes a token POST per call. */
static void token_status_and_lifetime(void **state)
{
    (void)state;
    assert_int_equal(bt_svc_token_http_code(400), BT_GRPC_UNAUTHENTICATED);
    assert_int_equal(bt_svc_token_http_code(401), BT_GRPC_UNAUTHENTICATED);
    assert_int_equal(bt_svc_token_http_code(403), BT_GRPC_UNAUTHENTICATED);
    long retried[] = {429, 500, 502, 503, 504, 404, 302};
    for (size_t i = 0; i < sizeof retried / sizeof retried[0]; i++)
        assert_int_equal(bt_svc_token_http_code(retried[i]), BT_GRPC_UNAVAILABLE);
    assert_true(bt_svc_token_reuse(3600) == 3590);
    assert_true(bt_svc_token_reuse(12) == 2); /* the SDK's rule (e2e test_20) */
    assert_true(bt_svc_token_reuse(11) == 1);
    assert_true(bt_svc_token_reuse(10) == 5);
    assert_true(bt_svc_token_reuse(1) == 0.5);
    assert_true(bt_svc_token_reuse(0) == 290); /* absent: 300 s */
    assert_true(bt_svc_token_reuse(-5) == 290);
}

/* ---- task outcome and OS info ---- */

static void outcome_round_trip(void **state)
{
    (void)state;
    bt_svc_outcome o, back;
    memset(&o, 0, sizeof o);
    o.code = 9;
    o.non_retryable = true;
    strcpy(o.text, "membership of group X is managed by Twingate");
    strcpy(o.type_url, "type.googleapis.com/c1.connector.v2.GrantManagerServiceGrantResponse");
    bt_buf_append(&o.value, "\x0a\x00", 2);
    bt_buf b = {0};
    assert_int_equal(bt_svc_outcome_encode(&o, &b), 0);
    assert_int_equal(bt_svc_outcome_decode(&b, &back), 0);
    assert_int_equal(back.code, 9);
    assert_true(back.non_retryable);
    assert_string_equal(back.text, o.text);
    assert_string_equal(back.type_url, o.type_url);
    assert_int_equal(back.value.len, 2);
    bt_buf_free(&back.value);
    b.len--; /* a process killed mid-write leaves a short outcome */
    assert_int_equal(bt_svc_outcome_decode(&b, &back), -1);
    b.len = 3;
    assert_int_equal(bt_svc_outcome_decode(&b, &back), -1);
    bt_buf_free(&b);
    bt_buf_free(&o.value);
}

static void os_release_values(void **state)
{
    (void)state;
    const char *text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=Debian\n"
                       "VERSION_ID=\"12\"\nID=debian\nID_LIKE='rhel fedora'\n";
    char v[64];
    bt_svc_os_release(text, "ID", v, sizeof v);
    assert_string_equal(v, "debian");
    bt_svc_os_release(text, "VERSION_ID", v, sizeof v);
    assert_string_equal(v, "12");
    bt_svc_os_release(text, "ID_LIKE", v, sizeof v);
    assert_string_equal(v, "rhel fedora");
    bt_svc_os_release(text, "VERSION_CODENAME", v, sizeof v);
    assert_string_equal(v, "");
}

static void failure_codes(void **state)
{
    (void)state;
    /* The kind decides; a message is never read. */
    assert_int_equal(bt_svc_code_for_kind("transport"), 14);
    assert_int_equal(bt_svc_code_for_kind("rate_limited"), 14);
    assert_int_equal(bt_svc_code_for_kind("server"), 14);
    assert_int_equal(bt_svc_code_for_kind("auth"), 7);
    assert_int_equal(bt_svc_code_for_kind("permission"), 7);
    assert_int_equal(bt_svc_code_for_kind("not_found"), 5);
    assert_int_equal(bt_svc_code_for_kind("precondition"), 9);
    assert_int_equal(bt_svc_code_for_kind("graphql"), 2);
    assert_int_equal(bt_svc_code_for_kind(NULL), 2);
}

static void host_id_rules(void **state)
{
    (void)state;
    char id[300], host[256] = "";
    setenv("BATON_HOST_ID", "rack-7", 1);
    assert_int_equal(bt_svc_host_id(id, sizeof id), 0);
    assert_string_equal(id, "rack-7");
    setenv("BATON_HOST_ID", "", 1); /* set but empty: the SDK's fallback name */
    assert_int_equal(bt_svc_host_id(id, sizeof id), 0);
    assert_string_equal(id, "baton-sdk");
    char longer[300];
    memset(longer, 'h', 257);
    longer[257] = '\0';
    setenv("BATON_HOST_ID", longer, 1);
    assert_int_equal(bt_svc_host_id(id, sizeof id), -1);
    unsetenv("BATON_HOST_ID");
    assert_int_equal(bt_svc_host_id(id, sizeof id), 0);
    gethostname(host, sizeof host - 1);
    assert_string_equal(id, host[0] ? host : "baton-sdk");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frame_round_trip),
        cmocka_unit_test(status_normal_and_trailers_only),
        cmocka_unit_test(status_from_http),
        cmocka_unit_test(permanent_codes),
        cmocka_unit_test(grpc_timeout_values),
        cmocka_unit_test(clamps),
        cmocka_unit_test(get_task_deadline),
        cmocka_unit_test(token_status_and_lifetime),
        cmocka_unit_test(token_answers),
        cmocka_unit_test(outcome_round_trip),
        cmocka_unit_test(os_release_values),
        cmocka_unit_test(failure_codes),
        cmocka_unit_test(host_id_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
