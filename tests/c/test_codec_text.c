/* The codec's text helpers (src/codec/): UTF-8, base64, ISO-8601 times, the
 * JSON escaper and the streaming writer. Tests moved here with the code
 * (from test_encode.c, test_show.c, test_service_grpc.c and
 * test_service_credentials.c), plus the ones for what is new. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/codec.h"
#include "bt/json_write.h"

static void iso8601_times(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int64_t sec;
        int32_t ns;
    } ok[] = {
        {"2023-11-14T22:13:20Z", 1700000000, 0},
        {"2023-11-14T22:13:20.125+00:00", 1700000000, 125000000},
        {"2023-11-15T00:13:20.125431+02:00", 1700000000, 125431000},
        {"2023-11-14T17:13:20-0500", 1700000000, 0},
        {"2023-11-14 22:13:20.123456789123Z", 1700000000, 123456789},
        {"2023-11-14T22:13Z", 1699999980, 0},
        {"2023-11-14", 1699920000, 0},
        {"1970-01-01T00:00:00Z", 0, 0},
        {"1969-12-31T23:59:59Z", -1, 0},
        {"2024-02-29T00:00:00Z", 1709164800, 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t s = 42;
        int32_t ns = 42;
        assert_int_equal(bt_time_parse_iso8601(ok[i].in, &s, &ns), 0);
        assert_int_equal(s, ok[i].sec);
        assert_int_equal(ns, ok[i].ns);
    }
    static const char *bad[] = {"",
                                "yesterday",
                                "2023-13-01",
                                "2023-02-29",
                                "2023-11-14T25:00:00Z",
                                "2023-11-14T22:13:20+",
                                "2023-11-14T22:13:20.Z",
                                "2023-11-14T22:13:20Zjunk",
                                "1700000000",
                                "2023-11-14T"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t s;
        int32_t ns;
        assert_int_equal(bt_time_parse_iso8601(bad[i], &s, &ns), -1);
    }
}


static void utf8_checks(void **state)
{
    (void)state;
    assert_true(bt_utf8_is_valid("plain", 5));
    assert_true(bt_utf8_is_valid("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14));
    assert_false(bt_utf8_is_valid("\xc3", 1));             /* truncated */
    assert_false(bt_utf8_is_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(bt_utf8_is_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(bt_utf8_is_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(bt_utf8_is_valid("\xff", 1));
}


/* Moved from test_show.c (show_utf8.c is now codec/utf8.c). */
static void utf8_validation_is_strict(void **state)
{
    (void)state;
    assert_true(bt_utf8_is_valid("Zoë 日本 \xF0\x9F\x98\x80", 16));
    assert_false(bt_utf8_is_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(bt_utf8_is_valid("\xE0\x80\xAF", 3));     /* overlong */
    assert_false(bt_utf8_is_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(bt_utf8_is_valid("\xC3", 1));             /* truncated */
}


static void json_string_escapes_and_replaces(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char s[] = "a\"b\\c\n\x01\xff"
                     "é";
    bt_json_write_string(f, s, sizeof s - 1);
    fclose(f);
    assert_string_equal(buf, "\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd" "é\"");
    free(buf);
}


/* The health answers' and the assertion's JSON strings: valid JSON for any
 * bytes (controls escaped, invalid UTF-8 replaced by U+FFFD). */
static void json_strings(void **state)
{
    (void)state;
    struct { const char *in; size_t n; const char *out; } cases[] = {
        {"plain", 5, "\"plain\""},
        {"q\"b\\", 4, "\"q\\\"b\\\\\""},
        {"a\nb\tc\x01\x0b\x1f", 8, "\"a\\nb\\tc\\u0001\\u000b\\u001f\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"x\xffy", 3, "\"x\xef\xbf\xbdy\""},
        {"\xc3", 1, "\"\xef\xbf\xbd\""},                       /* cut sequence */
        {"\xc0\xaf", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\""},      /* overlong */
        {"\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""}, /* surrogate */
        {"a\0b", 3, "\"a\\u0000b\""},
        {"", 0, "\"\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_buf b = {0};
        assert_int_equal(bt_json_str_append(&b, cases[i].in, cases[i].n), 0);
        assert_int_equal(b.len, strlen(cases[i].out));
        assert_memory_equal(b.data, cases[i].out, b.len);
        bt_buf_free(&b);
    }
}


static void base64url_strict(void **state)
{
    (void)state;
    unsigned char out[16];
    assert_int_equal(bt_b64url_decode("aGk", 3, out), 2);
    assert_memory_equal(out, "hi", 2);
    assert_int_equal(bt_b64url_decode("aGk=", 4, out), -1);  /* padding */
    assert_int_equal(bt_b64url_decode("a+8", 3, out), -1);   /* standard alphabet */
    assert_int_equal(bt_b64url_decode("aGl", 3, out), -1);   /* stray low bits */
    assert_int_equal(bt_b64url_decode("a", 1, out), -1);
    char enc[8];
    assert_int_equal(bt_b64url_encode((const unsigned char *)"\xfb\xff", 2, enc), 3);
    assert_string_equal(enc, "-_8");
}


static void utf8_decodes_and_encodes(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(bt_utf8_next("\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(bt_utf8_next("\xe2\x82", 2, &cp), 0);
    assert_int_equal(bt_utf8_valid_prefix("ab\xff" "cd", 5), 2);
    assert_int_equal(bt_utf8_valid_prefix("abc", 3), 3);
    static const uint32_t points[] = {0x41, 0xE9, 0x20AC, 0x1F600, 0x10FFFF};
    for (size_t i = 0; i < sizeof points / sizeof points[0]; i++) {
        char out[4];
        size_t n = bt_utf8_put(points[i], out);
        assert_int_equal(bt_utf8_next(out, n, &cp), n);
        assert_int_equal(cp, points[i]);
    }
}

/* Padded standard base64, the form protojson writes bytes in. */
static void base64_padded(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
        {"\xfb\xff", "+/8="},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_buf b = {0};
        assert_int_equal(bt_base64_append(&b, cases[i].in, strlen(cases[i].in)), 0);
        assert_int_equal(b.len, strlen(cases[i].out));
        assert_memory_equal(b.data ? b.data : "", cases[i].out, b.len);
        bt_buf_free(&b);
    }
}

static void civil_days_round_trip(void **state)
{
    (void)state;
    static const int64_t days[] = {-719468, -1, 0, 19675, 2932896};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++) {
        int64_t y;
        unsigned m, d;
        bt_civil_from_days(days[i], &y, &m, &d);
        assert_int_equal(bt_days_from_civil(y, m, d), days[i]);
    }
    int64_t y;
    unsigned m, d;
    bt_civil_from_days(19675, &y, &m, &d);
    assert_int_equal(y, 2023);
    assert_int_equal(m, 11);
    assert_int_equal(d, 14);
}

static int put(void *ctx, const char *s, size_t n) { return bt_buf_append(ctx, s, n); }

/* The writer's output through a callback; the same escaper for keys and
 * values, so invalid UTF-8 is repaired here too (it was passed through). */
static void writer_compact_and_indented(void **state)
{
    (void)state;
    bt_buf b = {0};
    bt_jw w;
    bt_jw_start(&w, put, &b, 0);
    bt_jw_begin_object(&w);
    bt_jw_kv_string(&w, "a\xff", "x\"\x01");
    bt_jw_key(&w, "n");
    bt_jw_begin_array(&w);
    bt_jw_int(&w, -5);
    bt_jw_bool(&w, true);
    bt_jw_string(&w, NULL);
    bt_jw_end_array(&w);
    bt_jw_end_object(&w);
    assert_false(w.failed);
    assert_string_equal(b.data, "{\"a\xef\xbf\xbd\":\"x\\\"\\u0001\",\"n\":[-5,true,\"\"]}");
    bt_buf_clear(&b);
    bt_jw_start(&w, put, &b, 2);
    bt_jw_begin_object(&w);
    bt_jw_kv_string(&w, "k", "v");
    bt_jw_key(&w, "e");
    bt_jw_begin_array(&w);
    bt_jw_end_array(&w);
    bt_jw_end_object(&w);
    assert_string_equal(b.data, "{\n  \"k\": \"v\",\n  \"e\": []\n}");
    bt_buf_free(&b);
}

static int refuse(void *ctx, const char *s, size_t n)
{
    (void)s, (void)n;
    return ++*(int *)ctx > 2 ? -1 : 0;
}

/* A failing callback stops the writer: the first failure is kept and nothing
 * more is asked of the callback. */
static void writer_keeps_the_first_failure(void **state)
{
    (void)state;
    int calls = 0;
    bt_jw w;
    bt_jw_start(&w, refuse, &calls, 0);
    bt_jw_begin_array(&w);
    bt_jw_int(&w, 1);
    bt_jw_int(&w, 2);
    bt_jw_int(&w, 3);
    bt_jw_end_array(&w);
    assert_true(w.failed);
    assert_int_equal(calls, 3);
}

/* The buffer: always NUL-terminated, printf of any length, clear keeps memory. */
static void buffer_basics(void **state)
{
    (void)state;
    bt_buf b = {0};
    assert_int_equal(bt_buf_puts(&b, "ab"), 0);
    assert_int_equal(bt_buf_putc(&b, 'c'), 0);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(bt_buf_printf(&b, "%d:%s", 7, big), 0);
    assert_int_equal(b.len, 3 + 2 + 299);
    assert_int_equal(b.data[b.len], 0);
    assert_memory_equal(b.data, "abc7:xx", 7);
    size_t cap = b.cap;
    bt_buf_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    assert_string_equal(b.data, "");
    b.oom = true; /* after a failure nothing more is appended */
    assert_int_equal(bt_buf_puts(&b, "z"), -1);
    assert_int_equal(b.len, 0);
    bt_buf_free(&b);
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iso8601_times),
        cmocka_unit_test(civil_days_round_trip),
        cmocka_unit_test(utf8_checks),
        cmocka_unit_test(utf8_validation_is_strict),
        cmocka_unit_test(utf8_decodes_and_encodes),
        cmocka_unit_test(json_string_escapes_and_replaces),
        cmocka_unit_test(json_strings),
        cmocka_unit_test(base64url_strict),
        cmocka_unit_test(base64_padded),
        cmocka_unit_test(writer_compact_and_indented),
        cmocka_unit_test(writer_keeps_the_first_failure),
        cmocka_unit_test(buffer_basics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
