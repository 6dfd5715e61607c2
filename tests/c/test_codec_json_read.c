/* The codec's JSON reader (src/codec/json_read.c): events in order, numbers
 * as exact text, strict UTF-8, the lone-surrogate and \u0000 options, depth,
 * errors with their byte offset, and a sink that stops the read. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/buf.h"
#include "bt/json_read.h"

/* A sink that writes each event as a token: { } [ ] k:<key> s:<string>
 * i:<integer text> d:<other number text> t f n, separated by spaces. */
typedef struct {
    bt_buf log;
    const char *stop_at_key; /* a key that makes the sink refuse */
} recorder;

static const char *ev(recorder *r, const char *tag, const char *s, size_t n)
{
    if (r->log.len)
        bt_buf_putc(&r->log, ' ');
    bt_buf_puts(&r->log, tag);
    bt_buf_append(&r->log, s, n);
    return NULL;
}

static const char *on_bo(void *ud) { return ev(ud, "{", "", 0); }
static const char *on_eo(void *ud) { return ev(ud, "}", "", 0); }
static const char *on_ba(void *ud) { return ev(ud, "[", "", 0); }
static const char *on_ea(void *ud) { return ev(ud, "]", "", 0); }
static const char *on_key(void *ud, const char *s, size_t n)
{
    recorder *r = ud;
    if (r->stop_at_key && strlen(r->stop_at_key) == n && memcmp(s, r->stop_at_key, n) == 0)
        return "key refused by the sink";
    return ev(ud, "k:", s, n);
}
static const char *on_str(void *ud, const char *s, size_t n) { return ev(ud, "s:", s, n); }
static const char *on_num(void *ud, const char *s, size_t n, bool integer)
{
    return ev(ud, integer ? "i:" : "d:", s, n);
}
static const char *on_bool(void *ud, bool v) { return ev(ud, v ? "t" : "f", "", 0); }
static const char *on_null(void *ud) { return ev(ud, "n", "", 0); }

static const bt_json_sink sink = {on_bo, on_eo, on_ba, on_ea, on_key, on_str, on_num, on_bool, on_null};

/* Read json with opts; returns the event log (or "ERR <message>"), malloc'd. */
static char *events(const char *json, size_t len, const bt_json_read_opts *opts)
{
    recorder r = {{0}, NULL};
    char err[200];
    if (bt_json_read(json, len, opts, &sink, &r, err, sizeof err) != 0) {
        bt_buf_clear(&r.log);
        bt_buf_printf(&r.log, "ERR %s", err);
    }
    char *out = strdup(r.log.data ? r.log.data : "");
    bt_buf_free(&r.log);
    return out;
}

static void expect(const char *json, const char *want)
{
    char *got = events(json, strlen(json), NULL);
    assert_string_equal(got, want);
    free(got);
}

static void events_in_document_order(void **state)
{
    (void)state;
    expect(" {\"a\": [1, -2.5, \"x\", true, false, null], \"b\": {}, \"c\": []} ",
           "{ k:a [ i:1 d:-2.5 s:x t f n ] k:b { } k:c [ ] }");
    expect("\"top\"", "s:top");
    expect("0", "i:0");
    expect("null", "n");
}

/* Numbers go over as text: 2^53+1 and the int64 limits stay exact (a double
 * would have lost them), and the sink converts with bt_json_number_int64. */
static void numbers_keep_their_precision(void **state)
{
    (void)state;
    expect("[9007199254740993, 1e2, 1E-2, 0.1, 123456789012345678901234567890]",
           "[ i:9007199254740993 d:1e2 d:1E-2 d:0.1 i:123456789012345678901234567890 ]");
    int64_t v = 0;
    assert_int_equal(bt_json_number_int64("9007199254740993", &v), 0);
    assert_true(v == 9007199254740993LL);
    assert_int_equal(bt_json_number_int64("-9223372036854775808", &v), 0);
    assert_true(v == INT64_MIN);
    assert_int_equal(bt_json_number_int64("9223372036854775808", &v), -1);
    assert_int_equal(bt_json_number_int64("1e2", &v), -1);
    assert_int_equal(bt_json_number_int64("1.0", &v), -1);
    static const char *bad[] = {"01", "-", "1.", ".5", "1e", "+1", "--1", "0x10", NULL};
    for (int i = 0; bad[i]; i++) {
        char *got = events(bad[i], strlen(bad[i]), NULL);
        assert_true(strncmp(got, "ERR ", 4) == 0);
        free(got);
    }
}

/* Escapes decode; raw bytes must be valid UTF-8 and not control characters. */
static void strings_are_strict(void **state)
{
    (void)state;
    expect("\"a\\\"b\\\\c\\/d\\n\\u00e9\\ud83d\\ude00\"", "s:a\"b\\c/d\n\xc3\xa9\xf0\x9f\x98\x80");
    expect("\"caf\xc3\xa9\"", "s:caf\xc3\xa9");
    expect("\"a\xff\"", "ERR invalid UTF-8 in string at byte 2");
    expect("\"\xed\xa0\x80\"", "ERR invalid UTF-8 in string at byte 1"); /* raw surrogate */
    expect("\"\xc0\xaf\"", "ERR invalid UTF-8 in string at byte 1");      /* overlong */
    expect("\"a\tb\"", "ERR control character in string at byte 2");
    expect("\"a\\x\"", "ERR invalid escape in string at byte 2");
    expect("\"abc", "ERR unterminated string at byte 4");
}

/* A lone surrogate: U+FFFD by default, its three bytes, or an error. */
static void lone_surrogates_by_option(void **state)
{
    (void)state;
    const char *json = "\"x\\ud800y\"";
    bt_json_read_opts keep = {.lone_surrogate = BT_JSON_SURROGATE_KEEP};
    bt_json_read_opts refuse = {.lone_surrogate = BT_JSON_SURROGATE_REFUSE};
    char *got = events(json, strlen(json), NULL);
    assert_string_equal(got, "s:x\xef\xbf\xbdy");
    free(got);
    got = events(json, strlen(json), &keep);
    assert_string_equal(got, "s:x\xed\xa0\x80y");
    free(got);
    got = events(json, strlen(json), &refuse);
    assert_string_equal(got, "ERR invalid escape in string at byte 2");
    free(got);
}

/* \u0000 is a NUL byte in the text (with its length), or refused. */
static void nul_escape_by_option(void **state)
{
    (void)state;
    const char *json = "\"a\\u0000b\"";
    recorder r = {{0}, NULL};
    assert_int_equal(bt_json_read(json, strlen(json), NULL, &sink, &r, NULL, 0), 0);
    assert_int_equal(r.log.len, 5);
    assert_memory_equal(r.log.data, "s:a\0b", 5);
    bt_buf_free(&r.log);
    bt_json_read_opts refuse = {.refuse_nul = true};
    char *got = events(json, strlen(json), &refuse);
    assert_string_equal(got, "ERR invalid escape in string at byte 2");
    free(got);
}

static void structure_errors_name_the_byte(void **state)
{
    (void)state;
    expect("{\"a\":1,}", "ERR unexpected character at byte 7");
    expect("{\"a\" 1}", "ERR unexpected character at byte 5");
    expect("[1 2]", "ERR unexpected character at byte 3");
    expect("[1,", "ERR unexpected end of input at byte 3");
    expect("tru", "ERR unexpected character at byte 0");
    expect("{} x", "ERR trailing characters after the value at byte 3");
    expect("", "ERR unexpected end of input at byte 0");
    char *got = events("{\"a\":1\0}", 8, NULL); /* NUL inside the text */
    assert_string_equal(got, "ERR unexpected character at byte 6");
    free(got);
}

static void depth_is_limited(void **state)
{
    (void)state;
    bt_json_read_opts two = {.max_depth = 2};
    char *got = events("[[1]]", 5, &two);
    assert_string_equal(got, "[ [ i:1 ] ]");
    free(got);
    got = events("[[[1]]]", 7, &two);
    assert_string_equal(got, "ERR nesting too deep at byte 2");
    free(got);
    char deep[BT_JSON_READ_MAX_DEPTH + 2];
    memset(deep, '[', sizeof deep);
    got = events(deep, sizeof deep, NULL);
    assert_string_equal(got, "ERR nesting too deep at byte 200");
    free(got);
}

/* A sink's reason stops the read and becomes the error. */
static void sink_can_stop_the_read(void **state)
{
    (void)state;
    recorder r = {{0}, "stop"};
    char err[100];
    const char *json = "{\"a\":1,\"stop\":2,\"b\":3}";
    assert_int_equal(bt_json_read(json, strlen(json), NULL, &sink, &r, err, sizeof err), -1);
    assert_string_equal(err, "key refused by the sink at byte 7");
    assert_string_equal(r.log.data, "{ k:a i:1");
    bt_buf_free(&r.log);
}

/* Every callback may be NULL: the text is still checked. */
static void null_callbacks_only_check(void **state)
{
    (void)state;
    bt_json_sink none = {0};
    char err[100];
    assert_int_equal(bt_json_read("{\"a\":[1,\"x\"]}", 13, NULL, &none, NULL, err, sizeof err), 0);
    assert_int_equal(bt_json_read("{\"a\":[1,\"x\"}", 12, NULL, &none, NULL, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(events_in_document_order),
        cmocka_unit_test(numbers_keep_their_precision),
        cmocka_unit_test(strings_are_strict),
        cmocka_unit_test(lone_surrogates_by_option),
        cmocka_unit_test(nul_escape_by_option),
        cmocka_unit_test(structure_errors_name_the_byte),
        cmocka_unit_test(depth_is_limited),
        cmocka_unit_test(sink_can_stop_the_read),
        cmocka_unit_test(null_callbacks_only_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
