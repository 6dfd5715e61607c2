/* The HTTP client's pure parts: retry policy, backoff, Retry-After, URL
 * policy, redaction, pacing, the buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <string.h>
#include <time.h>

#include "bt/http.h"
#include "lua_fixture.h"

static void retry_cause_for_queries(void **state)
{
    (void)state;
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 200, true), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 404, true), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 400, true), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 429, true), BT_HTTP_RETRY_RATE_LIMITED);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 500, true), BT_HTTP_RETRY_SERVER);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 503, true), BT_HTTP_RETRY_SERVER);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 501, true), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OPERATION_TIMEDOUT, 0, true),
                     BT_HTTP_RETRY_TRANSPORT);
    assert_int_equal(bt_http_retry_cause_of(CURLE_GOT_NOTHING, 0, true), BT_HTTP_RETRY_TRANSPORT);
    assert_int_equal(bt_http_retry_cause_of(CURLE_COULDNT_CONNECT, 0, true),
                     BT_HTTP_RETRY_TRANSPORT);
    /* deterministic failures are not retried */
    assert_int_equal(bt_http_retry_cause_of(CURLE_PEER_FAILED_VERIFICATION, 0, true),
                     BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_TOO_MANY_REDIRECTS, 0, true), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_UNSUPPORTED_PROTOCOL, 0, true),
                     BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_WRITE_ERROR, 0, true), BT_HTTP_RETRY_NONE);
}

static void retry_cause_for_mutations(void **state)
{
    (void)state;
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 429, false), BT_HTTP_RETRY_RATE_LIMITED);
    assert_int_equal(bt_http_retry_cause_of(CURLE_COULDNT_CONNECT, 0, false),
                     BT_HTTP_RETRY_TRANSPORT);
    assert_int_equal(bt_http_retry_cause_of(CURLE_COULDNT_RESOLVE_HOST, 0, false),
                     BT_HTTP_RETRY_TRANSPORT);
    /* may have been applied: never again */
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 500, false), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OK, 503, false), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_OPERATION_TIMEDOUT, 0, false),
                     BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_GOT_NOTHING, 0, false), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_RECV_ERROR, 0, false), BT_HTTP_RETRY_NONE);
    assert_int_equal(bt_http_retry_cause_of(CURLE_PARTIAL_FILE, 0, false), BT_HTTP_RETRY_NONE);
}

/* Every cause has its row: a stats key, a summary word, and 429 alone counts
 * its wait as the server's throttling. */
static void every_retry_cause_has_its_row(void **state)
{
    (void)state;
    assert_null(bt_http_retry_causes[BT_HTTP_RETRY_NONE].key);
    for (int c = BT_HTTP_RETRY_NONE + 1; c < BT_HTTP_RETRY_CAUSES; c++) {
        assert_non_null(bt_http_retry_causes[c].key);
        assert_non_null(bt_http_retry_causes[c].label);
        assert_int_equal(bt_http_retry_causes[c].throttled, c == BT_HTTP_RETRY_RATE_LIMITED);
        for (int d = c + 1; d < BT_HTTP_RETRY_CAUSES; d++)
            assert_string_not_equal(bt_http_retry_causes[c].key, bt_http_retry_causes[d].key);
    }
    assert_string_equal(bt_http_retry_causes[BT_HTTP_RETRY_DECODE].label, "mangled");
}

static void backoff_doubles_with_jitter_and_caps(void **state)
{
    (void)state;
    double expect[] = {1, 2, 4, 8, 16, 32, 60, 60, 60};
    for (int i = 0; i < 9; i++) {
        assert_true(bt_http_backoff(i, 1, 60, 0.0) == expect[i] / 2);
        double hi = bt_http_backoff(i, 1, 60, 0.999999);
        assert_true(hi <= expect[i] && hi > expect[i] * 0.99);
        double mid = bt_http_backoff(i, 1, 60, 0.5);
        assert_true(mid >= expect[i] / 2 && mid <= expect[i]);
    }
    assert_true(bt_http_backoff(1000, 1, 60, 0.999) <= 60);
    assert_true(bt_http_backoff(0, 1, 60, 7.0) == 0.5); /* out-of-range random clamps */
}

static void retry_after_seconds(void **state)
{
    (void)state;
    assert_true(bt_http_parse_retry_after("7", 0) == 7);
    assert_true(bt_http_parse_retry_after(" 120 \r\n", 0) == 120);
    assert_true(bt_http_parse_retry_after("0", 0) == 0);
    assert_true(bt_http_parse_retry_after("", 0) < 0);
    assert_true(bt_http_parse_retry_after("-5", 0) < 0);
    assert_true(bt_http_parse_retry_after("1.5", 0) < 0);
    assert_true(bt_http_parse_retry_after("soon", 0) < 0);
}

static void retry_after_http_date(void **state)
{
    (void)state;
    /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
    double now = 784111777.0 - 30;
    assert_true(bt_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now) == 30);
    /* a date in the past means now */
    assert_true(bt_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 100) == 0);
}

static void url_policy(void **state)
{
    (void)state;
    char err[200];
    bool lb;
    assert_int_equal(
        bt_http_url_check("https://acme.example.com/api/graphql/", &lb, err, sizeof err), 0);
    assert_false(lb);
    assert_int_equal(bt_http_url_check("http://127.0.0.1:8080/x", &lb, err, sizeof err), 0);
    assert_true(lb);
    assert_int_equal(bt_http_url_check("http://127.3.2.1/x", &lb, err, sizeof err), 0);
    assert_int_equal(bt_http_url_check("http://localhost:1/x", &lb, err, sizeof err), 0);
    assert_int_equal(bt_http_url_check("http://LOCALHOST/", &lb, err, sizeof err), 0);
    assert_int_equal(bt_http_url_check("http://[::1]:99/graphql", &lb, err, sizeof err), 0);
    assert_true(lb);
    assert_int_equal(bt_http_url_check("http://example.com/", &lb, err, sizeof err), -1);
    assert_non_null(strstr(err, "loopback"));
    assert_int_equal(bt_http_url_check("http://128.0.0.1/", &lb, err, sizeof err), -1);
    assert_int_equal(bt_http_url_check("http://[::2]/", &lb, err, sizeof err), -1);
    assert_int_equal(bt_http_url_check("http://localhost.evil.com/", &lb, err, sizeof err), -1);
    assert_int_equal(bt_http_url_check("ftp://127.0.0.1/", &lb, err, sizeof err), -1);
    assert_int_equal(bt_http_url_check("not a url", &lb, err, sizeof err), -1);
    assert_int_equal(bt_http_url_check("https://user:pw@example.com/", &lb, err, sizeof err), -1);
    assert_null(strstr(err, "pw"));
}

/* Explicit --api-url forms that would mean a different host to another
 * parser, or that libcurl would silently cut down, are refused. */
static void url_policy_refuses_ambiguous_forms(void **state)
{
    (void)state;
    char err[200];
    bool lb;
    const char *bad[] = {
        "https://evil.example/#.twingate.com", "https://evil.example\\@acme.twingate.com/",
        "https://acme.twingate.com /x",        "https://acme.twingate.com/\n",
        "https://@acme.twingate.com/",         "https:/acme.twingate.com/",
        "//acme.twingate.com/",                "https://",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (bt_http_url_check(bad[i], &lb, err, sizeof err) != -1)
            fail_msg("accepted: %s", bad[i]);
    }
}

typedef struct redirect_case {
    const char *from, *to, *suffix;
    bool allowed;
    const char *names; /* in the refusal message */
} redirect_case;

static void redirect_policy(void **state)
{
    (void)state;
    static const char *const TG = "https://acme.twingate.com/api/graphql/";
    static const char *const LO = "http://127.0.0.1:8080/api/graphql/";
    const redirect_case cases[] = {
        /* allowed: the same host and port, or a shard under the suffix */
        {TG, "https://acme.twingate.com/other/", NULL, true, NULL},
        {TG, "https://ACME.twingate.com:443/x", NULL, true, NULL},
        {TG, "https://acme.us1.twingate.com/api/graphql/", ".twingate.com", true, NULL},
        {TG, "https://acme.us1.TWINGATE.com/api/graphql/", ".twingate.com", true, NULL},
        {LO, "http://127.0.0.1:8080/shard/", NULL, true, NULL},
        /* refused: another host, another port, no suffix given */
        {TG, "https://acme.us1.twingate.com/api/graphql/", NULL, false, "acme.us1.twingate.com"},
        {TG, "https://evil.example/api/graphql/", ".twingate.com", false, "evil.example"},
        {TG, "https://twingate.com.evil.example/", ".twingate.com", false, "twingate.com.evil"},
        {TG, "https://eviltwingate.com/", ".twingate.com", false, "eviltwingate.com"},
        {TG, "https://.twingate.com/", ".twingate.com", false, NULL},
        {TG, "https://acme.us1.twingate.com:8443/", ".twingate.com", false, "acme.us1"},
        {TG, "https://acme.twingate.com:8443/", NULL, false, "acme.twingate.com"},
        {LO, "http://127.0.0.1:9090/", NULL, false, "127.0.0.1"},
        {LO, "http://localhost:8080/", NULL, false, "localhost"},
        {LO, "http://127.0.0.2:8080/", NULL, false, "127.0.0.2"},
        /* refused: https to http, loopback to a non-loopback host */
        {TG, "http://acme.twingate.com/api/graphql/", NULL, false, "plain http"},
        {TG, "http://127.0.0.1/", ".twingate.com", false, "plain http"},
        {LO, "https://acme.twingate.com/", ".twingate.com", false, "leaves a loopback host"},
        {LO, "http://evil.example/", NULL, false, "evil.example"},
        /* refused: not a usable url */
        {TG, "ftp://acme.twingate.com/", NULL, false, "acme.twingate.com"},
        {TG, "https://user:pw@acme.twingate.com/", NULL, false, "credentials"},
        {TG, NULL, NULL, false, "Location"},
        {TG, "no url", NULL, false, "Location"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const redirect_case *c = &cases[i];
        char err[300] = "";
        int rc = bt_http_redirect_check(c->from, c->to, c->suffix, err, sizeof err);
        if (rc != (c->allowed ? 0 : -1))
            fail_msg("case %zu (%s): got %d (%s)", i, c->to ? c->to : "NULL", rc, err);
        if (c->names && !strstr(err, c->names))
            fail_msg("case %zu: message \"%s\" lacks \"%s\"", i, err, c->names);
        if (strstr(err, "pw"))
            fail_msg("case %zu: message carries a credential", i);
    }
}

static void redact_header_line(void **state)
{
    (void)state;
    char out[256];
    const char *line = "X-API-KEY: s3cr3t-key-value";
    bt_http_redact_line(line, strlen(line), "x-api-key", "s3cr3t-key-value", out, sizeof out);
    assert_string_equal(out, "X-API-KEY: [REDACTED]");
    /* a different header name keeps its value, but the secret is blanked anywhere */
    line = "Via: proxy s3cr3t-key-value echo s3cr3t-key-value!";
    bt_http_redact_line(line, strlen(line), "x-api-key", "s3cr3t-key-value", out, sizeof out);
    assert_string_equal(out, "Via: proxy [REDACTED] echo [REDACTED]!");
    line = "X-API-KEYS: other";
    bt_http_redact_line(line, strlen(line), "x-api-key", NULL, out, sizeof out);
    assert_string_equal(out, "X-API-KEYS: other");
    /* truncation never leaks part of the key */
    char tiny[12];
    line = "A: s3cr3t-key-value";
    bt_http_redact_line(line, strlen(line), NULL, "s3cr3t-key-value", tiny, sizeof tiny);
    assert_string_equal(tiny, "A: [REDACTE");
}

static void pacer_allows_a_burst_then_keeps_the_window(void **state)
{
    (void)state;
    fake_clock fc = {0};
    fake_clock_install(&fc);
    bt_http_pacer p;
    bt_http_pacer_set(&p, 3); /* 3 per minute: a burst of 3, then the window rules */
    for (int i = 0; i < 3; i++) {
        assert_true(bt_http_pacer_wait(&p) == 0);
        fc.now += 1;
    }
    /* sends at 0, 1, 2: the 4th waits until the first leaves the window at 60 */
    assert_true(bt_http_pacer_wait(&p) == 57.0);
    assert_true(bt_http_pacer_wait(&p) == 1.0); /* the send at 1 leaves at 61 */
    fc.now += 200;                              /* idle: a fresh burst */
    for (int i = 0; i < 3; i++)
        assert_true(bt_http_pacer_wait(&p) == 0);
    assert_int_equal(fc.nsleeps, 2);
    assert_true(bt_http_pacer_per_minute(&p) == 3.0);
    bt_http_pacer_set(&p, 0); /* unpaced */
    for (int i = 0; i < 5; i++)
        assert_true(bt_http_pacer_wait(&p) == 0);
    fake_clock_remove();
}

/* Never more than N sends in any 60 s window, over a long run. */
static void pacer_never_exceeds_the_rate_in_any_window(void **state)
{
    (void)state;
    fake_clock fc = {0};
    fake_clock_install(&fc);
    bt_http_pacer p;
    bt_http_pacer_set(&p, 20);
    double times[200];
    for (int i = 0; i < 200; i++) {
        bt_http_pacer_wait(&p);
        times[i] = fc.now;
        fc.now += (i % 7) * 0.5; /* uneven work between sends */
    }
    for (int i = 20; i < 200; i++)
        assert_true(times[i] - times[i - 20] >= 60.0);
    fake_clock_remove();
}

/* Above the burst cap the average rate holds with a shorter window. */
static void pacer_high_rates_keep_their_average(void **state)
{
    (void)state;
    bt_http_pacer p;
    bt_http_pacer_set(&p, 1200);
    assert_int_equal(p.limit, BT_PACER_MAX_BURST);
    assert_true(p.window == 12.0);
    assert_true(bt_http_pacer_per_minute(&p) == 1200.0);
}

/* After a 429 the pace drops by a quarter and holds from then on: the sends
 * already in the window still count, so no fresh burst follows the drop. */
static void pacer_lowered_keeps_its_window(void **state)
{
    (void)state;
    fake_clock fc = {0};
    fake_clock_install(&fc);
    bt_http_pacer p = {0};
    bt_http_pacer_set(&p, 8);
    for (int i = 0; i < 8; i++) { /* sends at 0..7 */
        assert_true(bt_http_pacer_wait(&p) == 0);
        fc.now += 1;
    }
    assert_true(bt_http_pacer_lower(&p, 0.75) == 6.0);
    assert_true(bt_http_pacer_per_minute(&p) == 6.0);
    /* The last 6 sends (at 2..7) are kept: the next leaves when the one at 2 does. */
    assert_true(bt_http_pacer_wait(&p) == 62.0 - 8.0);
    double times[40];
    for (int i = 0; i < 40; i++) {
        bt_http_pacer_wait(&p);
        times[i] = fc.now;
        fc.now += 0.5;
    }
    for (int i = 6; i < 40; i++)
        assert_true(times[i] - times[i - 6] >= 60.0);
    assert_true(bt_http_pacer_lower(&p, 0.01) == 1.0); /* never below 1 a minute */
    bt_http_pacer_set(&p, 0);
    assert_true(bt_http_pacer_lower(&p, 0.75) == 0); /* unpaced stays unpaced */
    assert_true(bt_http_pacer_wait(&p) == 0);
    fake_clock_remove();
}

static void buffer_grows_and_terminates(void **state)
{
    (void)state;
    bt_buf b = {0};
    for (int i = 0; i < 1000; i++)
        assert_int_equal(bt_buf_puts(&b, "abc"), 0);
    assert_int_equal(b.len, 3000);
    assert_int_equal(b.data[3000], '\0');
    bt_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(bt_buf_reserve(&b, SIZE_MAX), -1);
    bt_buf_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_cause_for_queries),
        cmocka_unit_test(retry_cause_for_mutations),
        cmocka_unit_test(every_retry_cause_has_its_row),
        cmocka_unit_test(backoff_doubles_with_jitter_and_caps),
        cmocka_unit_test(retry_after_seconds),
        cmocka_unit_test(retry_after_http_date),
        cmocka_unit_test(url_policy),
        cmocka_unit_test(url_policy_refuses_ambiguous_forms),
        cmocka_unit_test(redirect_policy),
        cmocka_unit_test(redact_header_line),
        cmocka_unit_test(pacer_allows_a_burst_then_keeps_the_window),
        cmocka_unit_test(pacer_never_exceeds_the_rate_in_any_window),
        cmocka_unit_test(pacer_high_rates_keep_their_average),
        cmocka_unit_test(pacer_lowered_keeps_its_window),
        cmocka_unit_test(buffer_grows_and_terminates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
