/* The Lua host: search order, sandbox, error reporting, contract validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bt/config.h"
#include "bt/contract.h"
#include "bt/host.h"
#include "bt/log.h"
#include "bt/prim.h"

#include <stdio.h>
#include "tmpdir.h"

typedef struct {
    char *bundled;
    char *override;
    bt_host *host;
    bt_host_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->bundled = tmpdir_make("bundled");
    f->override = tmpdir_make("override");
    *state = f;
    return f->bundled && f->override ? 0 : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;
    bt_host_free(f->host);
    tmpdir_remove(f->bundled);
    tmpdir_remove(f->override);
    bt_config_reset();
    free(f);
    return 0;
}

static bt_host *new_host(fixture *f, int with_override)
{
    f->host = bt_host_new(with_override ? f->override : NULL, f->bundled, &f->err);
    assert_non_null(f->host);
    return f->host;
}

/* Run a chunk of Lua text in the sandbox; 0 when it ran without error. */
static int run(fixture *f, const char *code)
{
    lua_State *L = bt_host_lua(f->host);
    assert_int_equal(luaL_loadstring(L, code), LUA_OK);
    int rc = bt_host_call(f->host, 0, 0, &f->err);
    if (rc != 0)
        print_message("lua: %s\n", f->err.message);
    return rc;
}

static void test_override_dir_is_searched_first(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->bundled, "conn/users.lua", "return 'bundled'");
    tmpdir_write(f->override, "conn/users.lua", "return 'override'");
    new_host(f, 1);
    assert_int_equal(bt_host_require(f->host, "conn.users", &f->err), 0);
    assert_string_equal(lua_tostring(bt_host_lua(f->host), -1), "override");
    assert_non_null(strstr(bt_host_module_file(f->host, "conn.users"), f->override));
}

static void test_bundled_dir_serves_what_the_override_lacks(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->bundled, "conn/init.lua", "return 'from init'");
    new_host(f, 1);
    assert_int_equal(bt_host_require(f->host, "conn", &f->err), 0);
    assert_string_equal(lua_tostring(bt_host_lua(f->host), -1), "from init");
    assert_non_null(strstr(bt_host_module_file(f->host, "conn"), f->bundled));
}

static void test_missing_module_is_a_clear_error(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(bt_host_require(f->host, "nope.nothing", &f->err), -1);
    assert_non_null(strstr(f->err.message, "module 'nope.nothing' not found"));
    assert_null(strchr(f->err.message, '\n'));
}

static void test_module_names_cannot_escape_the_dirs(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(bt_host_require(f->host, "..etc", &f->err), -1);
    assert_int_equal(bt_host_require(f->host, "a/b", &f->err), -1);
    assert_non_null(strstr(f->err.message, "invalid module name"));
}

static void test_sandbox_removes_dangerous_functions(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(run(f, "assert(rawget(os, 'execute') == nil and rawget(_G, 'io') == nil)"), 0);
    assert_int_equal(run(f, "assert(rawget(_G, 'debug') == nil and rawget(package, 'loadlib') == nil)"), 0);
    assert_int_equal(run(f, "assert(rawget(_G, 'dofile') == nil and rawget(_G, 'loadfile') == nil)"), 0);
    assert_int_equal(run(f, "assert(rawget(os, 'exit') == nil and rawget(os, 'getenv') == nil)"), 0);
    assert_int_equal(run(f, "assert(os.time ~= nil and os.nothing == nil)"), 0);
}

/* A removed function says why it is missing, at the caller's line. */
static void test_removed_functions_say_so(void **state)
{
    fixture *f = *state;
    static const char *const calls[] = {"os.execute('id')", "os.getenv('BATON_API_KEY')",
                                        "package.loadlib('x', 'y')", "dofile('x')",
                                        "io.open('/etc/passwd')", "debug.getinfo(1)", NULL};
    new_host(f, 0);
    for (int i = 0; calls[i]; i++) {
        char code[128];
        snprintf(code, sizeof code, "local x = 1\nreturn %s", calls[i]);
        assert_int_equal(run(f, code), -1);
        if (!strstr(f->err.message, "is not available in the connector sandbox") ||
            !strstr(f->err.message, ":2:"))
            fail_msg("%s: got \"%s\"", calls[i], f->err.message);
    }
}

/* No environment variable reaches a script: BATON_* hold the secrets. */
static void test_environment_is_out_of_reach(void **state)
{
    fixture *f = *state;
    setenv("BATON_API_KEY", "env-s3cr3t", 1);
    new_host(f, 0);
    assert_int_equal(run(f, "local ok, err = pcall(function() return os.getenv('BATON_API_KEY') end)\n"
                            "assert(not ok and not tostring(err):find('env-s3cr3t'))"), 0);
    unsetenv("BATON_API_KEY");
}

static void test_bundled_prefix_skips_the_override(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->bundled, "conn/users.lua", "return { name = 'bundled' }");
    tmpdir_write(f->override, "conn/users.lua",
                 "local m = require 'bundled:conn.users'\nm.name = m.name .. '+override'\nreturn m");
    new_host(f, 1);
    assert_int_equal(bt_host_require(f->host, "conn.users", &f->err), 0);
    lua_getfield(bt_host_lua(f->host), -1, "name");
    assert_string_equal(lua_tostring(bt_host_lua(f->host), -1), "bundled+override");
    assert_non_null(strstr(bt_host_module_file(f->host, "bundled:conn.users"), f->bundled));
    /* Without an override, both names are one module (one instance of its tables). */
    tmpdir_write(f->bundled, "conn/queries.lua", "return { fields = {} }");
    assert_int_equal(run(f, "assert(require('bundled:conn.queries') == require('conn.queries'))"), 0);
    assert_int_equal(bt_host_require(f->host, "bundled:conn.nothing", &f->err), -1);
    assert_non_null(strstr(f->err.message, "module 'bundled:conn.nothing' not found"));
    assert_int_equal(bt_host_require(f->host, "bundled:../x", &f->err), -1);
    assert_non_null(strstr(f->err.message, "invalid module name"));
}

static void test_sandbox_refuses_bytecode(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(run(f, "local fn, err = load('\\27Lua fake'); assert(fn == nil); "
                            "assert(err:find('binary'), err)"), 0);
    assert_int_equal(run(f, "assert(load('return 1 + 1')() == 2)"), 0);
}

static void test_strict_globals(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(run(f, "local x = dispaly_name"), -1);
    assert_non_null(strstr(f->err.message, "undeclared global 'dispaly_name'"));
    assert_int_equal(run(f, "newglobal = 1"), -1);
    assert_non_null(strstr(f->err.message, "assignment to undeclared global 'newglobal'"));
}

static void test_c_modules_are_allow_listed(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(run(f, "assert(require('cjson').encode({1}) == '[1]')"), 0);
    assert_int_equal(run(f, "require('lpeg')"), -1);
    assert_non_null(strstr(f->err.message, "lpeg"));
}

/* Issue 16 §2: a script cannot point require at its own native module. */
static void test_module_paths_are_read_only(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(run(f, "assert(package.cpath:find('/lua/5.4/?.so', 1, true))"), 0);
    assert_int_equal(run(f, "local x = 1\npackage.cpath = '/tmp/x/?.so'"), -1);
    assert_non_null(strstr(f->err.message, ":2: package.cpath is read-only"));
    assert_int_equal(run(f, "package.path = './?.lua'"), -1);
    assert_non_null(strstr(f->err.message, "package.path is read-only"));
    /* not even caught and retried: the write never happens */
    assert_int_equal(run(f, "pcall(function() package.cpath = '/tmp/x/?.so' end)\n"
                            "assert(not package.cpath:find('/tmp/x', 1, true))\n"
                            "assert(require('cjson').encode({1}) == '[1]')"), 0);
    /* rawset lands in what scripts see, never in what the C searcher reads */
    assert_int_equal(run(f, "rawset(package, 'cpath', '/tmp/x/?.so')\n"
                            "rawset(require('package'), 'cpath', '/tmp/x/?.so')\n"
                            "package.loaded.cjson = nil\n"
                            "assert(require('cjson').encode({1}) == '[1]')\n"
                            "assert(package.searchers[3] ~= nil)"), 0);
    assert_int_equal(run(f, "package.searchers = {}"), -1);
    assert_non_null(strstr(f->err.message, "package.searchers is read-only"));
}

static char g_logged[512];
static void capture_log(bt_log_level level, const char *line, void *ud)
{
    (void)level;
    (void)ud;
    snprintf(g_logged, sizeof g_logged, "%s", line);
}

/* print goes to the log (redacted), never to stdout. */
static void test_print_goes_to_the_log_redacted(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    bt_log_add_secret("tgk-print-SECRET");
    bt_log_set_sink(capture_log, NULL);
    g_logged[0] = '\0';
    int rc = run(f, "print('key', 'tgk-print-SECRET', 42)");
    bt_log_set_sink(NULL, NULL);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(g_logged, "key"));
    assert_non_null(strstr(g_logged, "42"));
    assert_null(strstr(g_logged, "tgk-print-SECRET"));
}

static void test_errors_carry_file_line_and_traceback(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->bundled, "conn/bad.lua", "local M = {}\nfunction M.go()\n  error('boom')\nend\nreturn M\n");
    new_host(f, 0);
    assert_int_equal(run(f, "require('conn.bad').go()"), -1);
    assert_non_null(strstr(f->err.message, "conn/bad.lua:3: boom"));
    assert_non_null(strstr(f->err.traceback, "stack traceback"));
    assert_int_equal(lua_gettop(bt_host_lua(f->host)), 0);
}

static void test_syntax_error_names_the_file(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->bundled, "conn/init.lua", "return {\n  name = 'x'\n  oops\n}\n");
    new_host(f, 0);
    assert_int_equal(bt_host_require(f->host, "conn", &f->err), -1);
    assert_non_null(strstr(f->err.message, "conn/init.lua:3:"));
}

static void test_error_tables_use_tostring(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    assert_int_equal(run(f, "error(setmetatable({}, {__tostring = function() return 'rate_limited: slow' end}))"), -1);
    assert_non_null(strstr(f->err.message, "]:1: rate_limited: slow"));
}

/* Errors without a position (raised by C, thrown as tables, or by a library
 * with level 0) name the first line of script code outside lib/. */
static void test_errors_name_the_authors_line(void **state)
{
    fixture *f = *state;
    tmpdir_write(f->bundled, "lib/check.lua",
                 "return { need = function(v)\n  if not v then error('need a value', 0) end\nend }\n");
    tmpdir_write(f->bundled, "conn/use.lua", "local check = require 'lib.check'\n"
                 "return { go = function()\n  check.need(nil)\nend, arg = function() local s = string.rep() return s end }\n");
    new_host(f, 0);
    assert_int_equal(run(f, "require('conn.use').go()"), -1);
    assert_non_null(strstr(f->err.message, "conn/use.lua:3: need a value"));
    assert_int_equal(run(f, "require('conn.use').arg()"), -1);
    assert_non_null(strstr(f->err.message, "conn/use.lua:4: bad argument #1 to 'rep'"));
    /* A message that has a position keeps it, unprefixed. */
    assert_int_equal(run(f, "local x = nil\nreturn x.y"), -1);
    assert_non_null(strstr(f->err.message, "]:2: attempt to index a nil value"));
    assert_null(strstr(f->err.message, "]:2: [string"));
}

static const char valid_contract[] =
    "return { api_version = 1, name = 'c', display_name = 'C',\n"
    "  config = { { name = 'api-key', help = 'key', required = true, secret = true } },\n"
    "  resource_types = { { id = 'user', display_name = 'User', traits = {'user'},\n"
    "                       skip_entitlements_and_grants = true },\n"
    "                     { id = 'group', display_name = 'Group', traits = {'group'}, provision = true } },\n"
    "  sync = function() end, grant = function() end, revoke = function() end }\n";

static void test_valid_contract_loads(void **state)
{
    fixture *f = *state;
    bt_contract c;
    tmpdir_write(f->bundled, "conn/init.lua", valid_contract);
    new_host(f, 0);
    assert_int_equal(bt_contract_load(f->host, "conn", &c, &f->err), 0);
    assert_int_equal(c.type_count, 2);
    assert_string_equal(c.types[1].id, "group");
    assert_true(c.types[1].provision);
    assert_true(c.types[0].skip_entitlements_and_grants);
    assert_int_equal(c.field_count, 1);
    assert_true(c.fields[0].secret && c.fields[0].required);
    assert_true(bt_contract_has_function(f->host, &c, "grant"));
    assert_false(bt_contract_has_function(f->host, &c, "create_account"));
    bt_contract_free(&c);
}

/* Each broken contract must fail with a message naming the file and field. */
static void test_broken_contracts_name_file_and_field(void **state)
{
    fixture *f = *state;
    static const struct { const char *code, *expect; } cases[] = {
        {"return 42", "must return a table"},
        {"return { name = 'c' }", "field 'api_version' must be an integer"},
        {"return { api_version = 99 }", "targets runtime API version 99"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'u', traits = {'user'} } }, sync = function() end }",
         "field 'resource_types[1].display_name' must be a string (got nil)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'u', display_name = 'U', traits = {'person'} } }, sync = function() end }",
         "resource_types[1].traits[1]"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'u', display_name = 'U', traits = {} } } }",
         "field 'sync' must be a function"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {}, provision = true } },\n"
         " sync = function() end }",
         "field 'grant' is not a function"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = { { name = 'x' } },\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end }",
         "field 'config[1].help' must be a string"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = { { name = 'x', help = 'h' } },\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {}, opt_in = 'x' } },\n"
         " sync = function() end }",
         "field 'resource_types[1].opt_in' must name a bool config field (\"x\" is not a bool)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {}, opt_in = 'y' } },\n"
         " sync = function() end }",
         "(\"y\" is not a config field)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end,\n"
         " account_creation_schema = { { key = 'email', tpye = 'string' } } }",
         "unknown field 'account_creation_schema[1].tpye' (did you mean 'type'?)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end,\n"
         " account_creation_schema = { { key = 'age', type = 'int' } } }",
         "field 'account_creation_schema[1].type' must be \"string\" or \"bool\""},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end,\n"
         " validate = 'yes' }",
         "field 'validate' must be a function"},
        /* Unknown keys: a typo must not be ignored (a misspelt secret exposes a key). */
        {"return { api_version = 1, name = 'c', display_name = 'C',\n"
         " config = { { name = 'api-key', help = 'h', secrte = true } },\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end }",
         "unknown field 'config[1].secrte' (did you mean 'secret'?)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', dispaly_name = 'G', traits = {} } }, sync = function() end }",
         "unknown field 'resource_types[1].dispaly_name' (did you mean 'display_name'?)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {}, grnat = 1,\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end }",
         "unknown field 'grnat' (did you mean 'grant'?)"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {}, zzzzzz = 1,\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end }",
         "unknown field 'zzzzzz'"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {}, [1] = 1,\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {} } }, sync = function() end }",
         "unexpected number key in 'the contract'"},
        /* A type's sync module must exist and export sync(). */
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {}, sync = 'conn.nope' } },\n"
         " sync = function() end }",
         "field 'resource_types[1].sync': module 'conn.nope' not found"},
        {"return { api_version = 1, name = 'c', display_name = 'C', config = {},\n"
         " resource_types = { { id = 'g', display_name = 'G', traits = {}, sync = 'bt.log' } },\n"
         " sync = function() end }",
         "field 'resource_types[1].sync': module 'bt.log' has no sync function"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_contract c;
        char name[32];
        snprintf(name, sizeof name, "c%zu/init.lua", i);
        tmpdir_write(f->bundled, name, cases[i].code);
        bt_host_free(f->host);
        new_host(f, 0);
        snprintf(name, sizeof name, "c%zu", i);
        assert_int_equal(bt_contract_load(f->host, name, &c, &f->err), -1);
        if (!strstr(f->err.message, cases[i].expect) || !strstr(f->err.message, "init.lua"))
            fail_msg("case %zu: got \"%s\"", i, f->err.message);
        bt_contract_free(&c);
    }
}

static void test_config_module_keeps_secrets_in_c(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    bt_config_set("api-key", "s3cr3t-value", true);
    bt_config_set("domain", "acme", false);
    /* Outside the sync and provisioning phases the configuration is not read. */
    assert_int_equal(run(f, "require('bt.config').get('domain')"), -1);
    assert_non_null(strstr(f->err.message, "not in the sync or provisioning phase"));
    assert_int_equal(run(f, "require('bt.config').is_set('domain')"), -1);
    bt_config_set_readable(true);
    assert_int_equal(run(f, "local c = require 'bt.config'; assert(c.get('domain') == 'acme'); "
                            "assert(c.is_set('api-key')); assert(c.get('nothing') == nil)"), 0);
    assert_int_equal(run(f, "require('bt.config').get('api-key')"), -1);
    assert_non_null(strstr(f->err.message, "'api-key' is a secret: scripts never read it"));
    assert_null(strstr(f->err.message, "s3cr3t-value"));
    bt_config_set_readable(false);
}

/* A returned error value whose metamethods throw is reported, not raised
 * outside the protected call (that aborted the process). */
static void test_returned_error_with_throwing_metamethods(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    lua_State *L = bt_host_lua(f->host);
    static const char *const values[] = {
        "return setmetatable({}, {__tostring = function() error('boom') end})",
        "return setmetatable({}, {__index = function() error('boom') end})",
        "return { message = 'plain', where = 'x.lua:3' }",
    };
    for (size_t i = 0; i < 3; i++) {
        int top = lua_gettop(L);
        assert_int_equal(luaL_loadstring(L, values[i]), LUA_OK);
        assert_int_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
        bt_host_error err;
        bt_host_returned_error(L, -1, "init.lua:9", &err);
        assert_int_equal(lua_gettop(L), top + 1);
        assert_non_null(strstr(err.message, i < 2 ? "init.lua:9: the handler failed with a table"
                                                  : "x.lua:3: plain"));
        lua_settop(L, top);
    }
}

/* A failure (a table with a string kind) reports a fact about the input or
 * the world: returned or thrown, its message comes without a script position
 * and its kind travels along; a plain error keeps its position. */
static void test_failures_carry_no_script_position(void **state)
{
    fixture *f = *state;
    new_host(f, 0);
    lua_State *L = bt_host_lua(f->host);
    static const char *const failure =
        "setmetatable({ kind = 'input', message = 'domain must be acme', where = 'x.lua:3' }, "
        "{ __tostring = function(e) return e.message end })";
    char chunk[512];
    snprintf(chunk, sizeof chunk, "return %s", failure);
    assert_int_equal(luaL_loadstring(L, chunk), LUA_OK);
    assert_int_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
    bt_host_error err;
    bt_host_returned_error(L, -1, "init.lua:9", &err);
    assert_string_equal(err.message, "domain must be acme");
    assert_string_equal(err.kind, "input");
    lua_settop(L, 0);

    snprintf(chunk, sizeof chunk, "error(%s)", failure);
    assert_int_equal(run(f, chunk), -1);
    assert_string_equal(f->err.message, "domain must be acme");
    assert_string_equal(f->err.kind, "input");
    assert_non_null(strstr(f->err.traceback, "stack traceback"));

    /* A plain error and a table without a kind keep their position. */
    assert_int_equal(run(f, "error('boom')"), -1);
    assert_non_null(strstr(f->err.message, "]:1: boom"));
    assert_string_equal(f->err.kind, "");
    assert_int_equal(run(f, "error(setmetatable({}, {__tostring = function() return 'x' end}))"), -1);
    assert_non_null(strstr(f->err.message, "]:1: x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_override_dir_is_searched_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundled_dir_serves_what_the_override_lacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_module_is_a_clear_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_module_names_cannot_escape_the_dirs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_removes_dangerous_functions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_functions_say_so, setup, teardown),
        cmocka_unit_test_setup_teardown(test_environment_is_out_of_reach, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bundled_prefix_skips_the_override, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sandbox_refuses_bytecode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strict_globals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_c_modules_are_allow_listed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_module_paths_are_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_print_goes_to_the_log_redacted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_carry_file_line_and_traceback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_error_names_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_error_tables_use_tostring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_name_the_authors_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_valid_contract_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_broken_contracts_name_file_and_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_module_keeps_secrets_in_c, setup, teardown),
        cmocka_unit_test_setup_teardown(test_returned_error_with_throwing_metamethods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_carry_no_script_position, setup, teardown),
    };
    return cmocka_run_group_tests_name("host", tests, NULL, NULL);
}
