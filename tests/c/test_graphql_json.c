/* JSON <-> Lua: the strict decoder (escapes, surrogate pairs, UTF-8, null,
 * numbers, depth, truncation) and the variables encoder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/graphql_lua.h"
#include "lua_fixture.h"

static int setup(void **state)
{
    *state = lua_fixture_new();
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    lua_close(*state);
    return 0;
}

/* Decode s into global `v`; returns the decoder's result. */
static int decode_len(lua_State *L, const char *s, size_t len)
{
    char err[200];
    int top = lua_gettop(L);
    int rc = bt_graphql_json_decode(L, s, len, 0, err, sizeof err);
    if (rc == 0) {
        assert_int_equal(lua_gettop(L), top + 1);
        lua_setglobal(L, "v");
    } else {
        assert_int_equal(lua_gettop(L), top); /* nothing left behind */
        assert_non_null(strstr(err, "at byte"));
    }
    return rc;
}

static int decode(lua_State *L, const char *s) { return decode_len(L, s, strlen(s)); }

static void check(lua_State *L, const char *chunk)
{
    const char *err = lua_fixture_run(L, chunk);
    if (err)
        fail_msg("%s", err);
}

/* ---- decoding ---- */

static void decodes_scalars_and_numbers(void **state)
{
    lua_State *L = *state;
    assert_int_equal(decode(L, " true "), 0);
    check(L, "assert(v == true)");
    assert_int_equal(decode(L, "false"), 0);
    check(L, "assert(v == false)");
    assert_int_equal(decode(L, "null"), 0);
    check(L, "assert(v == nil)");
    assert_int_equal(decode(L, "123"), 0);
    check(L, "assert(math.type(v) == 'integer' and v == 123)");
    assert_int_equal(decode(L, "-0"), 0);
    check(L, "assert(math.type(v) == 'integer' and v == 0)");
    assert_int_equal(decode(L, "-9223372036854775808"), 0);
    check(L, "assert(v == math.mininteger)");
    assert_int_equal(decode(L, "12345678901234567890"), 0);
    check(L, "assert(math.type(v) == 'float' and v > 1.2e19)");
    assert_int_equal(decode(L, "1.5"), 0);
    check(L, "assert(math.type(v) == 'float' and v == 1.5)");
    assert_int_equal(decode(L, "-2.5E-3"), 0);
    check(L, "assert(v == -0.0025)");
    assert_int_equal(decode(L, "1e3"), 0);
    check(L, "assert(math.type(v) == 'float' and v == 1000)");
    assert_int_equal(decode(L, "\"\""), 0);
    check(L, "assert(v == '')");
}

static void decodes_simple_escapes(void **state)
{
    lua_State *L = *state;
    assert_int_equal(decode(L, "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""), 0);
    check(L, "assert(v == 'a\"b\\\\c/d\\b\\f\\n\\r\\t', v)");
}

static void decodes_unicode_escapes_and_surrogate_pairs(void **state)
{
    lua_State *L = *state;
    assert_int_equal(decode(L, "\"caf\\u00e9 \\u20AC \\u0041\""), 0);
    check(L, "assert(v == 'caf\\u{e9} \\u{20ac} A')");
    assert_int_equal(decode(L, "\"\\uD83D\\uDE00 \\ud83c\\udf89\""), 0);
    check(L, "assert(v == '\\u{1F600} \\u{1F389}' and #v == 9)");
    assert_int_equal(decode(L, "\"x\\u0000y\""), 0);
    check(L, "assert(v == 'x\\0y' and #v == 3)");
    /* raw UTF-8 passes through */
    assert_int_equal(decode(L, "\"\xc3\xa9\xf0\x9f\x98\x80\""), 0);
    check(L, "assert(v == '\\u{e9}\\u{1F600}')");
}

/* Issue 17: a lone surrogate used to become U+FFFD, which rewrote an id
 * (\uD800 in a group id: its 30 memberships were dropped, exit 0). Now its
 * three bytes are kept (not valid UTF-8): nothing is rewritten, ids with one
 * are refused by the page check, names are repaired by lib.fields. */
static void lone_surrogates_are_kept_not_rewritten(void **state)
{
    lua_State *L = *state;
    assert_int_equal(decode(L, "\"a\\uD83Db\""), 0);
    check(L, "assert(v == 'a\\xED\\xA0\\xBDb' and not utf8.len(v))");
    assert_int_equal(decode(L, "\"\\uDE00\""), 0);
    check(L, "assert(v == '\\xED\\xB8\\x80')");
    assert_int_equal(decode(L, "\"\\uD83D\\u0041\""), 0); /* high + non-low */
    check(L, "assert(v == '\\xED\\xA0\\xBDA')");
    assert_int_equal(decode(L, "\"\\uD83D\\uDE00\""), 0); /* a pair is one code point */
    check(L, "assert(v == '\\u{1F600}')");
}

static void rejects_invalid_json(void **state)
{
    lua_State *L = *state;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "[1,2",
        "{\"a\":1",
        "{\"a\" 1}",
        "[1,]",
        "{\"a\":1,}",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "1e+",
        "tru",
        "nul",
        "nulll",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\u12G4\"",
        "\"a\nb\"",
        "\"a\tb\"",
        "\"\xff\"",
        "\"\xc0\x80\"",
        "\"\xed\xa0\x80\"",
        "\"\xf4\x90\x80\x80\"",
        "\"\xe2\x82\"",
        "[1] x",
        "{1:2}",
        "NaN",
        "Infinity",
        "'a'",
        "[1 2]",
        "{\"a\":1 \"b\":2}",
        "[,1]",
        "{,}",
        "\"\\",
        "[\"a\",",
        "<html>",
        "\x00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (decode(L, bad[i]) != -1)
            fail_msg("accepted invalid JSON #%zu: %s", i, bad[i]);
    }
    assert_int_equal(decode_len(L, "[1]\0", 4), -1); /* a NUL after the value */
}

static void every_truncation_is_refused(void **state)
{
    lua_State *L = *state;
    const char *doc =
        "{\"data\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"VXNlcjox\",\"n\":-12.5e1,"
        "\"ok\":true,\"no\":null,\"s\":\"\\u00e9\\uD83D\\uDE00\"}}],"
        "\"pageInfo\":{\"hasNextPage\":false,\"endCursor\":null}}}}";
    size_t n = strlen(doc);
    assert_int_equal(decode_len(L, doc, n), 0);
    for (size_t i = 0; i < n; i++)
        if (decode_len(L, doc, i) != -1)
            fail_msg("accepted a truncation at %zu", i);
}

static void enforces_the_depth_limit(void **state)
{
    lua_State *L = *state;
    char deep[1000];
    char err[200];
    for (int depth = 199; depth <= 201; depth++) {
        memset(deep, '[', (size_t)depth);
        memset(deep + depth, ']', (size_t)depth);
        int rc =
            bt_graphql_json_decode(L, deep, (size_t)depth * 2, BT_JSON_MAX_DEPTH, err, sizeof err);
        assert_int_equal(rc, depth <= 200 ? 0 : -1);
        if (rc == 0)
            lua_pop(L, 1);
        else
            assert_non_null(strstr(err, "too deep"));
    }
    assert_int_equal(bt_graphql_json_decode(L, "[[[1]]]", 7, 2, err, sizeof err), -1);
    assert_int_equal(lua_gettop(L), 0);
}

static void null_handling(void **state)
{
    lua_State *L = *state;
    assert_int_equal(decode(L, "{\"a\":null,\"b\":1,\"c\":[1,null,3,null],\"d\":{\"e\":null}}"), 0);
    check(L, "assert(v.a == nil and v.b == 1)"
             "assert(#v.c == 4 and v.c[2] == graphql.null and v.c[4] == graphql.null)"
             "assert(v.c[3] == 3 and next(v.d) == nil)"
             "assert(type(graphql.null) == 'userdata')");
    assert_int_equal(decode(L, "[null]"), 0);
    check(L, "assert(#v == 1 and v[1] == graphql.null)");
    assert_int_equal(decode(L, "{\"a\":1,\"a\":2}"), 0);
    check(L, "assert(v.a == 2)");
    assert_int_equal(decode(L, "{\"a\":1,\"a\":null}"), 0);
    check(L, "assert(v.a == nil)");
}

/* While a walk asks for it, a null member of the object one level down
 * (data.<root field>) is the sentinel, told from a missing one; nulls
 * anywhere else keep their usual rule, and the rule ends when it is unset. */
static void root_nulls_are_kept_only_one_level_down(void **state)
{
    lua_State *L = *state;
    static const char answer[] =
        "{\"top\":null,\"data\":{\"user\":null,\"group\":{\"name\":null},\"again\":1,"
        "\"again\":null}}";
    bt_graphql_json_root_nulls(true);
    int rc = decode(L, answer);
    bt_graphql_json_root_nulls(false);
    assert_int_equal(rc, 0);
    check(L, "assert(v.top == nil and v.data.user == graphql.null)"
             "assert(v.data.group.name == nil and next(v.data.group) == nil)"
             "assert(v.data.again == graphql.null)");
    assert_int_equal(decode(L, answer), 0);
    check(L, "assert(v.data.user == nil and v.data.again == nil)");
}

static void decodes_large_documents(void **state)
{
    lua_State *L = *state;
    size_t cap = 20000 * 12 + 16, n = 0;
    char *s = malloc(cap);
    s[n++] = '[';
    for (int i = 0; i < 20000; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s{\"i\":%d}", i ? "," : "", i);
    s[n++] = ']';
    assert_int_equal(decode_len(L, s, n), 0);
    free(s);
    check(L, "assert(#v == 20000 and v[1].i == 0 and v[20000].i == 19999)");
}

/* ---- encoding ---- */

static bt_http_buf g_out;

/* [-1, +0, e] encode the argument into g_out */
static int encode_cf(lua_State *L)
{
    bt_graphql_json_encode(L, 1, &g_out, "variables");
    return 0;
}

/* Encode the value of the Lua expression; returns the JSON text, or the
 * error message prefixed with "ERR:". Static buffer. */
static const char *encode(lua_State *L, const char *expr)
{
    static char result[4096];
    char chunk[1000];
    snprintf(chunk, sizeof chunk, "return %s", expr);
    bt_http_buf_clear(&g_out);
    lua_pushcfunction(L, encode_cf);
    if (luaL_loadstring(L, chunk) != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK)
        fail_msg("bad test expression %s: %s", expr, lua_tostring(L, -1));
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        snprintf(result, sizeof result, "ERR:%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    } else {
        snprintf(result, sizeof result, "%s", g_out.data ? g_out.data : "");
    }
    return result;
}

static void encodes_strings_with_escapes(void **state)
{
    lua_State *L = *state;
    assert_string_equal(encode(L, "'plain'"), "\"plain\"");
    assert_string_equal(encode(L, "'a\"b\\\\c/d'"), "\"a\\\"b\\\\c/d\"");
    assert_string_equal(encode(L, "'\\n\\r\\t\\b\\f\\1\\31\\127'"),
                        "\"\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
    assert_string_equal(encode(L, "'\\0x\\9'"), "\"\\u0000x\\t\"");
    assert_string_equal(encode(L, "'\\u{e9}\\u{1F600}'"), "\"\xc3\xa9\xf0\x9f\x98\x80\"");
    assert_string_equal(encode(L, "'\\9\\9'"), "\"\\t\\t\"");
    assert_string_equal(encode(L, "'\\v'"), "\"\\u000b\"");
}

static void encodes_numbers_and_booleans(void **state)
{
    lua_State *L = *state;
    assert_string_equal(encode(L, "42"), "42");
    assert_string_equal(encode(L, "-7"), "-7");
    assert_string_equal(encode(L, "math.maxinteger"), "9223372036854775807");
    assert_string_equal(encode(L, "1.5"), "1.5");
    assert_string_equal(encode(L, "0.1"), "0.1");
    assert_string_equal(encode(L, "2^53"), "9007199254740992");
    assert_string_equal(encode(L, "1e300"), "1e+300");
    assert_string_equal(encode(L, "true"), "true");
    assert_string_equal(encode(L, "false"), "false");
    assert_string_equal(encode(L, "graphql.null"), "null");
}

static void encodes_tables(void **state)
{
    lua_State *L = *state;
    assert_string_equal(encode(L, "{}"), "{}");
    assert_string_equal(encode(L, "graphql.array{}"), "[]");
    assert_string_equal(encode(L, "graphql.array{1, 2}"), "[1,2]");
    assert_string_equal(encode(L, "{1, 'two', 3.5}"), "[1,\"two\",3.5]");
    assert_string_equal(encode(L, "{1, graphql.null, 3}"), "[1,null,3]");
    assert_string_equal(encode(L, "{first = 100, after = 'YXJyYXljb25uZWN0aW9uOjk5'}"),
                        "{\"after\":\"YXJyYXljb25uZWN0aW9uOjk5\",\"first\":100}");
    assert_string_equal(encode(L, "{b = {c = {true}, a = {}}, a = 'x', ['1'] = 1}"),
                        "{\"1\":1,\"a\":\"x\",\"b\":{\"a\":{},\"c\":[true]}}");
    assert_string_equal(encode(L, "{['k\"ey'] = 1}"), "{\"k\\\"ey\":1}");
}

static void refuses_what_json_cannot_say(void **state)
{
    lua_State *L = *state;
    const char *e = encode(L, "{ f = print }");
    assert_non_null(strstr(e, "ERR:"));
    assert_non_null(strstr(e, "variables.f: cannot encode a function"));
    e = encode(L, "{ a = { { x = coroutine.create(print) } } }");
    assert_non_null(strstr(e, "variables.a[1].x: cannot encode a thread"));
    assert_non_null(strstr(encode(L, "{1, a = 2}"), "mixes array items and object keys"));
    assert_non_null(strstr(encode(L, "{1, nil, 3}"), "holes"));
    assert_non_null(strstr(encode(L, "{[0] = 1}"), "keys must be strings"));
    assert_non_null(strstr(encode(L, "{[1.5] = 1}"), "keys must be strings"));
    assert_non_null(strstr(encode(L, "{[true] = 1}"), "keys must be strings"));
    assert_non_null(strstr(encode(L, "{ x = 0/0 }"), "variables.x: cannot encode NaN"));
    assert_non_null(strstr(encode(L, "{ x = math.huge }"), "NaN or infinity"));
    assert_non_null(strstr(encode(L, "{ s = '\\xff' }"), "variables.s: string is not valid UTF-8"));
    assert_non_null(strstr(encode(L, "{ s = '\\xed\\xa0\\x80' }"), "not valid UTF-8"));
    assert_non_null(
        strstr(encode(L, "(function() local t = {} t.t = t return t end)()"), "too deep"));
    assert_non_null(
        strstr(encode(L, "setmetatable({a=1}, getmetatable(graphql.array{}))"), "mixes"));
    assert_non_null(strstr(encode(L, "io.stdout"), "cannot encode a userdata"));
}

static void round_trips_through_the_decoder(void **state)
{
    lua_State *L = *state;
    const char *json = encode(L, "{ s = 'caf\\u{e9} \"q\" \\n \\u{1F600}', n = -3, f = 0.25,"
                                 " list = {1, graphql.null, {deep = {true}}}, e = {} }");
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", json);
    assert_int_equal(decode(L, copy), 0);
    check(L, "assert(v.s == 'caf\\u{e9} \"q\" \\n \\u{1F600}' and v.n == -3 and v.f == 0.25)"
             "assert(#v.list == 3 and v.list[2] == graphql.null and v.list[3].deep[1] == true)"
             "assert(next(v.e) == nil)");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(decodes_scalars_and_numbers),
        T(decodes_simple_escapes),
        T(decodes_unicode_escapes_and_surrogate_pairs),
        T(lone_surrogates_are_kept_not_rewritten),
        T(rejects_invalid_json),
        T(every_truncation_is_refused),
        T(enforces_the_depth_limit),
        T(null_handling),
        T(root_nulls_are_kept_only_one_level_down),
        T(decodes_large_documents),
        T(encodes_strings_with_escapes),
        T(encodes_numbers_and_booleans),
        T(encodes_tables),
        T(refuses_what_json_cannot_say),
        T(round_trips_through_the_decoder),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    bt_http_buf_free(&g_out);
    return rc;
}
