/* bt.emit from Lua: phase guard, strict validation with the script's
 * file:line, the rows it produces (compared with hand-derived bytes),
 * defaults and trait mirroring, sink errors raised as Lua errors. */
#include "test_sink_util.h"

#include "../fixtures/golden/goldens.h"
#include "bt/driver.h"
#include "bt/lua.h"
#include "bt/prim.h"

typedef struct {
    char *dir;
    char *out;
    lua_State *L;
    bt_sink *sink;
} fixture;

static lua_State *new_lua(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_bt_emit);
    lua_setfield(L, -2, "bt.emit");
    lua_pop(L, 1);
    return L;
}

/* Run code as chunk "script.lua": NULL on success, else the error (malloc'd). */
static char *run(lua_State *L, const char *code)
{
    char *msg = NULL;
    if (luaL_loadbuffer(L, code, strlen(code), "=script.lua") != LUA_OK ||
        lua_pcall(L, 0, 0, 0) != LUA_OK) {
        msg = strdup(lua_tostring(L, -1) ? lua_tostring(L, -1) : "(non-string error)");
        lua_pop(L, 1);
    }
    assert_int_equal(lua_gettop(L), 0);
    return msg;
}

static void run_ok(lua_State *L, const char *code)
{
    char *msg = run(L, code);
    if (msg)
        print_error("lua: %s\n--- code:\n%s\n", msg, code);
    assert_null(msg);
}

static void run_fails(lua_State *L, const char *code, const char *want)
{
    char *msg = run(L, code);
    assert_non_null(msg);
    assert_string_equal(msg, want);
    free(msg);
}

static int setup_named(void **state, const char *name)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tu_mkdtemp();
    f->out = tu_path(f->dir, name);
    f->L = new_lua();
    char err[512];
    f->sink = bt_sink_open(f->out, NULL, err, sizeof err);
    *state = f;
    if (!f->sink)
        return -1;
    bt_emit_bind(f->L, f->sink);
    return 0;
}

static int setup(void **state)
{
    return setup_named(state, "out.c1z");
}

static int setup_jsonl(void **state)
{
    return setup_named(state, "out.jsonl");
}

static int teardown(void **state)
{
    fixture *f = *state;
    bt_sink_abort(f->sink); /* tests that commit set it to NULL */
    lua_close(f->L);
    tu_rmtree(f->dir);
    free(f->out);
    free(f);
    return 0;
}

static void commit(fixture *f)
{
    char err[1024] = "";
    bt_emit_bind(f->L, NULL);
    int rc = bt_sink_commit(f->sink, err, sizeof err);
    f->sink = NULL;
    if (rc != 0)
        print_error("commit: %s\n", err);
    assert_int_equal(rc, 0);
}

static const char TYPES[] =
    "local emit = require 'bt.emit'\n"
    "emit.resource_type{ id = 'user', display_name = 'User', traits = {'user'},\n"
    "  skip_entitlements_and_grants = true }\n"
    "emit.resource_type{ id = 'group', display_name = 'Group', traits = {'group'} }\n";

/* ------------------------------------------------------------------------
 * Phase */

static void unbound_calls_raise(void **state)
{
    (void)state;
    lua_State *L = new_lua();
    run_fails(L, "require('bt.emit').resource{ type = 'user', id = 'U1', display_name = 'A' }",
              "script.lua:1: bt.emit: not in the sync phase");
    run_fails(L, "local c = require('bt.emit').counts()",
              "script.lua:1: bt.emit: not in the sync phase");
    bt_emit_bind(L, NULL);
    run_fails(L, "require('bt.emit').grant{}", "script.lua:1: bt.emit: not in the sync phase");
    lua_close(L);
}

/* ------------------------------------------------------------------------
 * Validation */

static void validation_errors_name_the_field(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    static const struct {
        const char *code, *want;
    } cases[] = {
        {"E.resource{ type = 'user', id = 'U1', dispaly_name = 'x' }",
         "bt.emit.resource: unknown field 'dispaly_name' (did you mean 'display_name'?)"},
        {"E.resource{ type = 'user', id = 'U1' }",
         "bt.emit.resource: missing required field 'display_name'"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 5 }",
         "bt.emit.resource: field 'display_name' must be a string, got number"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', user = { emial = 'x' } }",
         "bt.emit.resource: unknown field 'user.emial'"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', user = { login = 5 } }",
         "bt.emit.resource: field 'user.login' must be a string, got number"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " user = { emails = {{ primary = true }} } }",
         "bt.emit.resource: missing required field 'user.emails[1].address'"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " user = { emails = { address = 'a@b' } } }",
         "bt.emit.resource: field 'user.emails' must be an array (found a non-index key)"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', status = 'active' }",
         "bt.emit.resource: field 'status' must be one of \"enabled\", \"disabled\", "
         "\"deleted\", got \"active\""},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', created_at = 'yesterday' }",
         "bt.emit.resource: field 'created_at' is not an ISO-8601 time: \"yesterday\""},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', profile = { f = print } }",
         "bt.emit.resource: field 'profile.f' holds a function; profile values are strings, "
         "numbers, booleans or tables"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', profile = { 1, a = 2 } }",
         "bt.emit.resource: field 'profile' mixes array items and named keys"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', profile = { 'x' } }",
         "bt.emit.resource: field 'profile' must be an object (string keys), not an array"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " profile = { l = { [true] = 1 } } }",
         "bt.emit.resource: field 'profile.l' has a boolean key; profile tables are objects "
         "(string keys) or arrays"},
        {"E.resource{ type = 'user', id = 'U1', display_name = '\\xff' }",
         "bt.emit.resource: field 'display_name' is not valid UTF-8"},
        {"E.resource{ type = 'user', id = '', display_name = 'A' }",
         "bt.emit.resource: field 'id' must not be empty"},
        {"E.resource{ type = 'user', id = 1.5, display_name = 'A' }",
         "bt.emit.resource: field 'id' must be a string, got number"},
        {"E.resource('U1')", "bt.emit.resource: expects one table argument, got string"},
        {"E.resource(setmetatable({}, { __index = { type = 'user', id = 'U1',"
         " display_name = 'A' } }))",
         "bt.emit.resource: missing required field 'type'"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', created_at = 1e300 }",
         "bt.emit.resource: field 'created_at' is out of range for a time"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A', created_at = 0/0 }",
         "bt.emit.resource: field 'created_at' is out of range for a time"},
        {"E.resource{ [1] = 'x' }",
         "bt.emit.resource: unexpected number key in the argument (fields are named)"},
        {"E.resource_type{ id = 'x', display_name = 'X', traits = { 'device' } }",
         "bt.emit.resource_type: field 'traits[1]' must be one of \"user\", \"group\", \"role\", "
         "\"app\", got \"device\""},
        {"E.entitlement{ resource = { type = 'group' }, slug = 'm' }",
         "bt.emit.entitlement: missing required field 'resource.id'"},
        {"E.entitlement{ resource = { type = 'group', id = 'G1' }, slug = 'm', purpose = 1 }",
         "bt.emit.entitlement: field 'purpose' must be a string, got number"},
        {"E.grant{ resource = { type = 'group', id = 'G1' }, slug = 'member',"
         " principal = { type = 'user', id = 'U1' }, expandable = { entitlement_ids = {} } }",
         "bt.emit.grant: field 'expandable.entitlement_ids' must list at least one entitlement "
         "id, none empty"},
        {"E.grant{ resource = { type = 'group', id = 'G1' }, slug = 'member' }",
         "bt.emit.grant: missing required field 'principal'"},
        /* string lists: checked without naming each element until one fails */
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " user = { login_aliases = { 'a', 7, 'c' } } }",
         "bt.emit.resource: field 'user.login_aliases[2]' must be a string, got number"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " user = { login_aliases = { 'a', '\\xff' } } }",
         "bt.emit.resource: field 'user.login_aliases[2]' is not valid UTF-8"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " user = { login_aliases = { 'a', x = 'b' } } }",
         "bt.emit.resource: field 'user.login_aliases' must be an array (found a non-index key)"},
        {"E.resource{ type = 'user', id = 'U1', display_name = 'A',"
         " user = { login_aliases = 'a' } }",
         "bt.emit.resource: field 'user.login_aliases' must be an array, got string"},
        {"E.grants{ resource = { type = 'group', id = 'G1' }, slug = 'member',"
         " principals = { type = 'user', ids = { 'U1', false } } }",
         "bt.emit.grants: field 'principals.ids[2]' must be a string, got boolean"},
        {"E.grants{ resource = { type = 'group', id = 'G1' }, slug = 'member',"
         " principals = { type = 'user', ids = { [1] = 'U1', [3] = 'U3' } } }",
         "bt.emit.grants: field 'principals.ids' must be an array (found a non-index key)"},
        {"E.grants{ resource = { type = 'group', id = 7.5 }, slug = 'member',"
         " principals = { type = 'user', ids = { 'U1' } } }",
         "bt.emit.grants: field 'resource.id' must be a string, got number"},
        {"E.grants{ resource = { type = 'group', id = 'G1' }, slug = 'member',"
         " principals = { type = '', ids = { 'U1' } } }",
         "bt.emit.grants: field 'principals.type' must not be empty"},
    };
    char code[1024], want[1024];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(code, sizeof code, "local E = require 'bt.emit'; %s", cases[i].code);
        snprintf(want, sizeof want, "script.lua:1: %s", cases[i].want);
        run_fails(f->L, code, want);
    }
    /* A cyclic profile is caught by the depth limit. */
    char *msg = run(f->L, "local E = require 'bt.emit'; local t = {}; t.t = t\n"
                          "E.resource{ type = 'user', id = 'U1', display_name = 'A', profile = t }");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "script.lua:2: bt.emit.resource: field 'profile.t.t.t"));
    assert_non_null(strstr(msg, "is nested too deeply (a cycle?)"));
    free(msg);
    /* Nothing was written by the failed calls. */
    run_ok(f->L, "local c = require('bt.emit').counts()\n"
                 "assert(c.resource_types == 2 and c.resources == 0, 'counts')");
}

/* ------------------------------------------------------------------------
 * Rows */

static const char TENANT[] =
    "local emit = require 'bt.emit'\n"
    "emit.resource{ type = 'user', id = 'U1', display_name = 'Ann Lee', user = {\n"
    "  emails = {{ address = 'ann@example.com', primary = true }}, login = 'ann@example.com',\n"
    "  status = 'enabled', account_type = 'human', created_at = '2023-11-14T22:13:20.125+00:00',\n"
    "  given_name = 'Ann', family_name = 'Lee',\n"
    "  profile = { first_name = 'Ann', last_name = 'Lee', is_admin = false,\n"
    "              email = 'ann@example.com', id = 'U1', score = 1.5 } } }\n"
    "emit.resource{ type = 'group', id = 'G1', display_name = 'Eng', group = {\n"
    "  profile = { group_id = 'G1', group_name = 'Eng' }, source_type = 'native',\n"
    "  raw_source_type = 'MANUAL' } }\n"
    "emit.resource{ type = 'user', id = 'U2', display_name = 'Bo', user = {} }\n"
    "local eid = emit.entitlement{ resource = { type = 'group', id = 'G1' }, slug = 'member',\n"
    "  display_name = 'Eng Group Member', description = 'Is member of the Eng group in Twingate',\n"
    "  purpose = 'assignment', grantable_to = { 'user' } }\n"
    "assert(eid == 'group:G1:member', eid)\n"
    "local gid = emit.grant{ resource = { type = 'group', id = 'G1' }, slug = 'member',\n"
    "  principal = { type = 'user', id = 'U1' } }\n"
    "assert(gid == 'group:G1:member:user:U1', gid)\n"
    "emit.grant{ resource = { type = 'group', id = 'G1' }, slug = 'member',\n"
    "  principal = { type = 'user', id = 'U2' }, immutable = true,\n"
    "  expandable = { entitlement_ids = { 'group:G2:member' }, shallow = true } }\n"
    "emit.grant{ resource = { type = 'group', id = 'G1' }, slug = 'member',\n"
    "  principal = { type = 'user', id = 'U1' } } -- a repeat: absorbed\n"
    "local c = emit.counts()\n"
    "assert(c.resource_types == 2 and c.resources == 3 and c.entitlements == 1\n"
    "  and c.grants == 2 and c.duplicates == 1, 'counts')\n";

/* emit.has_resource answers from the sink; emit.skip counts per cause and
 * emit.counts reports them; a bad cause raises. */
static void lookups_and_skips(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, TENANT);
    run_ok(f->L, "local emit = require 'bt.emit'\n"
                 "assert(emit.has_resource('user', 'U1') == true)\n"
                 "assert(emit.has_resource('user', 'U9') == false)\n"
                 "assert(emit.has_resource('group', 'U1') == false)\n"
                 "assert(emit.skip('principal_gone', 'grant X dropped') == 1)\n"
                 "assert(emit.skip('principal_gone') == 2)\n"
                 "emit.skip('dangling')\n"
                 "local c = emit.counts()\n"
                 "assert(c.skipped.principal_gone == 2 and c.skipped.dangling == 1)\n"
                 "emit.resource{ type = 'user', id = 'U2', display_name = 'Other', user = {} }\n"
                 "c = emit.counts()\n"
                 "assert(c.skipped.duplicate_id_different_content == 1 and c.duplicates == 2)");
    const char *bad = "script.lua:1: bt.emit.skip: cause must be 1-47 characters of a-z, 0-9 and _";
    run_fails(f->L, "require('bt.emit').skip('Bad Cause')", bad);
    run_fails(f->L, "require('bt.emit').skip('')", bad);
    run_fails(f->L, "require('bt.emit').has_resource('user')",
              "script.lua:1: bad argument #2 to 'has_resource' (string expected, got no value)");
    commit(f);
}

/* emit.filter records a resource left out on purpose, once per id, counted
 * by type apart from skipped; emit.is_filtered answers from that record. */
static void filters(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, "local emit = require 'bt.emit'\n"
                 "assert(emit.is_filtered('user', 'U5') == false)\n"
                 "assert(emit.filter('user', 'U5') == true)\n"
                 "assert(emit.filter('user', 'U5') == false)\n"
                 "assert(emit.filter('user', 'U6') == true)\n"
                 "assert(emit.filter('group', 'U5') == true)\n"
                 "assert(emit.is_filtered('user', 'U5') and emit.is_filtered('group', 'U5'))\n"
                 "assert(not emit.is_filtered('user', 'U7'))\n"
                 "assert(emit.has_resource('user', 'U5') == false)\n"
                 "local c = emit.counts()\n"
                 "assert(c.filtered.user == 2 and c.filtered.group == 1, 'filtered by type')\n"
                 "assert(next(c.skipped) == nil, 'no skip')");
    run_fails(f->L, "require('bt.emit').filter('user', '')",
              "script.lua:1: bt.emit.filter: filter needs a type and an id");
    bt_sink_counts n;
    bt_sink_get_counts(f->sink, &n);
    assert_int_equal(n.n_filtered, 2);
    assert_int_equal(n.n_skipped, 0);
    char summary[64];
    assert_int_equal(bt_driver_report_filtered(&n, summary, sizeof summary), 3);
    assert_string_equal(summary, "user 2, group 1");
    commit(f);
}

static void assert_blob(sqlite3 *db, const char *sql, const uint8_t *want, size_t n)
{
    size_t len;
    unsigned char *got = tu_sql_blob(db, sql, &len);
    assert_non_null(got);
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
    free(got);
}

static void rows_match_golden_bytes(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, TENANT);
    commit(f);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_non_null(db);
    assert_blob(db, "select data from v1_resource_types where external_id = 'user'", GOLDEN_RT_USER,
                sizeof GOLDEN_RT_USER);
    assert_blob(db, "select data from v1_resource_types where external_id = 'group'",
                GOLDEN_RT_GROUP, sizeof GOLDEN_RT_GROUP);
    assert_blob(db, "select data from v1_resources where external_id = 'user:U1'", GOLDEN_RES_USER,
                sizeof GOLDEN_RES_USER);
    assert_blob(db, "select data from v1_resources where external_id = 'group:G1'",
                GOLDEN_RES_GROUP, sizeof GOLDEN_RES_GROUP);
    assert_blob(db, "select data from v1_entitlements", GOLDEN_ENT_MEMBER, sizeof GOLDEN_ENT_MEMBER);
    assert_blob(db, "select data from v1_grants where external_id = 'group:G1:member:user:U1'",
                GOLDEN_GRANT_MEMBER, sizeof GOLDEN_GRANT_MEMBER);
    assert_blob(db, "select data from v1_grants where external_id = 'group:G1:member:user:U2'",
                GOLDEN_GRANT_ANNOTATED, sizeof GOLDEN_GRANT_ANNOTATED);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_grants"), 2);
    sqlite3_close(db);
}

static bt_pb_resource *stored_resource(sqlite3 *db, const char *external_id)
{
    char sql[256];
    snprintf(sql, sizeof sql, "select data from v1_resources where external_id = '%s'",
             external_id);
    size_t n;
    unsigned char *blob = tu_sql_blob(db, sql, &n);
    assert_non_null(blob);
    bt_pb_resource *r = c1__connector__v2__resource__unpack(NULL, n, blob);
    free(blob);
    assert_non_null(r);
    return r;
}

static ProtobufCMessage *annotation(const bt_pb_resource *r, size_t i,
                                    const ProtobufCMessageDescriptor *d)
{
    assert_true(i < r->n_annotations);
    assert_true(bt_pb_any_is(r->annotations[i], d));
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, r->annotations[i]->value.len,
                                                    r->annotations[i]->value.data);
    assert_non_null(m);
    return m;
}

static const char *struct_string(const bt_pb_struct *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_fields; i++)
        if (strcmp(s->fields[i]->key, key) == 0)
            return s->fields[i]->value->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE
                       ? s->fields[i]->value->string_value
                       : "(not a string)";
    return NULL;
}

static double struct_number(const bt_pb_struct *s, const char *key)
{
    for (size_t i = 0; s && i < s->n_fields; i++)
        if (strcmp(s->fields[i]->key, key) == 0)
            return s->fields[i]->value->number_value;
    return -1;
}

static const char MIRROR[] =
    "local emit = require 'bt.emit'\n"
    "emit.resource_type{ id = 'role', display_name = 'Role', traits = { 'role' } }\n"
    "emit.resource_type{ id = 'app', display_name = 'App', traits = { 'app' } }\n"
    "emit.resource{ type = 'user', id = 42, display_name = 'Num', user = {} }\n"
    "emit.resource{ type = 'user', id = 'U3', display_name = 'Dis', status = 'disabled',\n"
    "  status_details = 'left', profile = { a = 1 }, created_at = 1700000000.5,\n"
    "  external_link = 'https://example.com/u3',\n"
    "  user = { status = 'enabled', profile = { b = 2 }, created_at = '2020-01-01T00:00:00Z',\n"
    "    login = '', login_aliases = { '', 'x' }, account_type = 'service',\n"
    "    emails = {{ address = '' }, { address = 'c@d' }} } }\n"
    "emit.resource{ type = 'role', id = 'admin', display_name = 'Admin',\n"
    "  role = { profile = { role_id = 'admin' } } }\n"
    "emit.resource{ type = 'app', id = 'A', display_name = 'App', description = 'an app',\n"
    "  parent = { type = 'role', id = 'admin' },\n"
    "  app = { help_url = 'https://help', profile = { k = 'v' } } }\n";

static void defaults_and_mirroring(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, MIRROR);
    commit(f);
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(f->out, dbp, sizeof dbp);
    assert_non_null(db);

    /* NewUserTrait defaults; the resource mirrors the trait's status. */
    bt_pb_resource *r = stored_resource(db, "user:42");
    assert_string_equal(r->id->resource, "42");
    C1__Connector__V2__UserTrait *ut =
        (void *)annotation(r, 0, &c1__connector__v2__user_trait__descriptor);
    assert_int_equal(ut->status->status, C1__CONNECTOR__V2__USER_TRAIT__STATUS__STATUS__STATUS_ENABLED);
    assert_int_equal(ut->account_type, C1__CONNECTOR__V2__USER_TRAIT__ACCOUNT_TYPE__ACCOUNT_TYPE_HUMAN);
    assert_null(ut->profile);
    assert_int_equal(ut->n_emails, 0);
    assert_int_equal(r->status->status,
                     C1__CONNECTOR__V2__STATUS__RESOURCE_STATUS__RESOURCE_STATUS_ENABLED);
    assert_null(r->profile);
    assert_null(r->created_at);
    protobuf_c_message_free_unpacked(&ut->base, NULL);
    c1__connector__v2__resource__free_unpacked(r, NULL);

    /* The resource's own profile/status/created_at win over the trait's. */
    r = stored_resource(db, "user:U3");
    assert_int_equal(r->n_annotations, 2);
    C1__Connector__V2__ExternalLink *el =
        (void *)annotation(r, 0, &c1__connector__v2__external_link__descriptor);
    assert_string_equal(el->url, "https://example.com/u3");
    protobuf_c_message_free_unpacked(&el->base, NULL);
    ut = (void *)annotation(r, 1, &c1__connector__v2__user_trait__descriptor);
    assert_int_equal(ut->status->status, C1__CONNECTOR__V2__USER_TRAIT__STATUS__STATUS__STATUS_ENABLED);
    assert_int_equal(ut->account_type,
                     C1__CONNECTOR__V2__USER_TRAIT__ACCOUNT_TYPE__ACCOUNT_TYPE_SERVICE);
    assert_true(struct_number(ut->profile, "b") == 2);
    assert_int_equal(ut->created_at->seconds, 1577836800);
    assert_string_equal(ut->login, "");
    assert_int_equal(ut->n_login_aliases, 1);
    assert_string_equal(ut->login_aliases[0], "x");
    assert_int_equal(ut->n_emails, 1);
    assert_string_equal(ut->emails[0]->address, "c@d");
    assert_false(ut->emails[0]->is_primary);
    protobuf_c_message_free_unpacked(&ut->base, NULL);
    assert_int_equal(r->status->status,
                     C1__CONNECTOR__V2__STATUS__RESOURCE_STATUS__RESOURCE_STATUS_DISABLED);
    assert_string_equal(r->status->details, "left");
    assert_true(struct_number(r->profile, "a") == 1);
    assert_int_equal(r->created_at->seconds, 1700000000);
    assert_int_equal(r->created_at->nanos, 500000000);
    c1__connector__v2__resource__free_unpacked(r, NULL);

    /* Role and app traits; the role's profile is mirrored, no status. */
    r = stored_resource(db, "role:admin");
    C1__Connector__V2__RoleTrait *rt =
        (void *)annotation(r, 0, &c1__connector__v2__role_trait__descriptor);
    assert_string_equal(struct_string(rt->profile, "role_id"), "admin");
    protobuf_c_message_free_unpacked(&rt->base, NULL);
    assert_string_equal(struct_string(r->profile, "role_id"), "admin");
    assert_null(r->status);
    c1__connector__v2__resource__free_unpacked(r, NULL);

    r = stored_resource(db, "app:A");
    C1__Connector__V2__AppTrait *at =
        (void *)annotation(r, 0, &c1__connector__v2__app_trait__descriptor);
    assert_string_equal(at->help_url, "https://help");
    assert_string_equal(struct_string(at->profile, "k"), "v");
    protobuf_c_message_free_unpacked(&at->base, NULL);
    assert_string_equal(r->parent_resource_id->resource_type, "role");
    assert_string_equal(r->parent_resource_id->resource, "admin");
    assert_string_equal(r->description, "an app");
    c1__connector__v2__resource__free_unpacked(r, NULL);
    assert_int_equal(tu_sql_int(db, "select count(*) from v1_resources where"
                                    " parent_resource_type_id = 'role' and parent_resource_id = 'admin'"),
                     1);
    sqlite3_close(db);
}

/* ------------------------------------------------------------------------
 * Sink failures */

static void sink_errors_raise(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_fails(f->L,
              "local emit = require 'bt.emit'\n"
              "emit.entitlement{ resource = { type = 'group', id = 'G9' }, slug = 'member' }",
              "script.lua:2: bt.emit.entitlement: entitlement group:G9:member: resource group:G9 "
              "was never emitted (emit a resource before its entitlements and grants)");
    run_fails(f->L,
              "local emit = require 'bt.emit'\n"
              "emit.resource{ type = 'group', id = 'G1', display_name = 'Eng' }",
              "script.lua:2: bt.emit.resource: resource group:G1: its type 'group' has trait "
              "TRAIT_GROUP but the resource has no c1.connector.v2.GroupTrait");
    /* The script may catch it and go on; the sink is still usable. */
    run_ok(f->L, "local emit = require 'bt.emit'\n"
                 "local ok, err = pcall(emit.grant, { resource = { type = 'group', id = 'G9' },\n"
                 "  slug = 'member', principal = { type = 'user', id = 'U1' } })\n"
                 "assert(not ok and err:find('resource group:G9 was never emitted', 1, true), err)\n"
                 "emit.resource{ type = 'group', id = 'G1', display_name = 'Eng', group = {} }\n");
    commit(f);
}

static void jsonl_through_emit(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, TENANT);
    commit(f);
    char *text = (char *)tu_read(f->out, NULL);
    assert_non_null(text);
    size_t lines = 0;
    for (char *p = text; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 2 + 3 + 1 + 2);
    assert_non_null(strstr(text, "{\"kind\":\"grant\",\"entitlement\":{\"resource\":{\"id\":"
                                 "{\"resourceType\":\"group\",\"resource\":\"G1\"}},\"id\":"
                                 "\"group:G1:member\"},\"principal\":{\"id\":{\"resourceType\":"
                                 "\"user\",\"resource\":\"U2\"}},\"id\":\"group:G1:member:user:U2\","
                                 "\"annotations\":[{\"@type\":\"type.googleapis.com/"
                                 "c1.connector.v2.GrantExpandable\",\"entitlementIds\":"
                                 "[\"group:G2:member\"],\"shallow\":true},{\"@type\":"
                                 "\"type.googleapis.com/c1.connector.v2.GrantImmutable\"}]}\n"));
    free(text);
}

/* ------------------------------------------------------------------------
 * emit.grants: the bulk path writes what emit.grant writes */

static const char BULK_TENANT[] =
    "local emit = require 'bt.emit'\n"
    "for _, u in ipairs{ 'U1', 'U2', 'U3', 'U4' } do\n"
    "  emit.resource{ type = 'user', id = u, display_name = 'User ' .. u, user = {\n"
    "    login = u .. '@example.com', profile = { id = u, n = #u } } }\n"
    "end\n"
    "for i, g in ipairs{ 'G1', 'G2', 'G3' } do\n"
    "  emit.resource{ type = 'group', id = g, display_name = 'Group ' .. g, group = {\n"
    "    profile = { group_id = g, rank = i }, source_type = 'native' } }\n"
    "  emit.entitlement{ resource = { type = 'group', id = g }, slug = 'member',\n"
    "    grantable_to = { 'user' }, immutable = i == 3 }\n"
    "end\n";

/* The grants BULK_TENANT's groups hold, one emit.grant each. */
static const char PER_GRANT[] =
    "local emit = require 'bt.emit'\n"
    "local function g(grp, u, im) emit.grant{ resource = { type = 'group', id = grp },\n"
    "  slug = 'member', principal = { type = 'user', id = u }, immutable = im } end\n"
    "g('G1', 'U1') g('G1', 'U2') g('G1', 'U3') g('G3', 'U1', true) g('G3', 'U4', true)\n"
    "g('G2', 'U4') g('G1', 'U4') g('G2', 'U1')\n";

/* The same grants in bulk: a group's members, then a user's groups. */
static const char BULK[] =
    "local emit = require 'bt.emit'\n"
    "assert(emit.grants{ resource = { type = 'group', id = 'G1' }, slug = 'member',\n"
    "  principals = { type = 'user', ids = { 'U1', 'U2', 'U3' } } } == 3)\n"
    "assert(emit.grants{ resource = { type = 'group', id = 'G3' }, slug = 'member',\n"
    "  principals = { type = 'user', ids = { 'U1', 'U4' } }, immutable = true } == 2)\n"
    "assert(emit.grants{ resources = { type = 'group', ids = { 'G2', 'G1' } }, slug = 'member',\n"
    "  principal = { type = 'user', id = 'U4' }, immutable = false } == 2)\n"
    "assert(emit.grants{ resources = { type = 'group', ids = { 'G2' } }, slug = 'member',\n"
    "  principal = { type = 'user', id = 'U1' } } == 1)\n"
    "assert(emit.grants{ resources = { type = 'group', ids = {} }, slug = 'member',\n"
    "  principal = { type = 'user', id = 'U1' } } == 0)\n";

static char *grant_rows(const char *c1z)
{
    char dbp[4096];
    sqlite3 *db = tu_c1z_open(c1z, dbp, sizeof dbp);
    assert_non_null(db);
    char *rows = tu_sql_rows(db, "select external_id, entitlement_id, resource_type_id, "
                                 "resource_id, principal_resource_type_id, principal_resource_id, "
                                 "hex(data) from v1_grants order by external_id");
    sqlite3_close(db);
    return rows;
}

/* A c1z written through emit.grants holds byte for byte the grant rows of one written
 * through emit.grant; in one file, the per-grant repeats of bulk rows are plain duplicates
 * (same bytes), and the JSON lines sink writes the same lines either way. */
static void bulk_grants_match_the_per_grant_path(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, BULK_TENANT);
    run_ok(f->L, BULK);
    run_ok(f->L, PER_GRANT);
    run_ok(f->L, "local c = require('bt.emit').counts()\n"
                 "assert(c.grants == 8 and c.duplicates == 8, c.grants .. ' ' .. c.duplicates)\n"
                 "assert(c.skipped.duplicate_id_different_content == nil)");
    commit(f);
    char *bulk = grant_rows(f->out);

    char *one = tu_path(f->dir, "one.c1z"), err[512];
    lua_State *L = new_lua();
    bt_sink *s = bt_sink_open(one, NULL, err, sizeof err);
    assert_non_null(s);
    bt_emit_bind(L, s);
    run_ok(L, TYPES);
    run_ok(L, BULK_TENANT);
    run_ok(L, PER_GRANT);
    bt_emit_bind(L, NULL);
    assert_int_equal(bt_sink_commit(s, err, sizeof err), 0);
    char *per_grant = grant_rows(one);
    assert_non_null(strstr(per_grant, "group:G3:member:user:U4|group:G3:member|group|G3|user|U4|"));
    assert_string_equal(bulk, per_grant);

    for (int i = 0; i < 2; i++) {
        char *path = tu_path(f->dir, i ? "bulk.jsonl" : "one.jsonl");
        bt_sink *j = bt_sink_open(path, NULL, err, sizeof err);
        assert_non_null(j);
        bt_emit_bind(L, j);
        run_ok(L, TYPES);
        run_ok(L, BULK_TENANT);
        run_ok(L, i ? BULK : PER_GRANT);
        bt_emit_bind(L, NULL);
        assert_int_equal(bt_sink_commit(j, err, sizeof err), 0);
        free(path);
    }
    char *a = tu_path(f->dir, "one.jsonl"), *b = tu_path(f->dir, "bulk.jsonl");
    char *ta = (char *)tu_read(a, NULL), *tb = (char *)tu_read(b, NULL);
    assert_non_null(strstr(ta, "\"id\":\"group:G2:member:user:U4\""));
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    free(a);
    free(b);
    lua_close(L);
    free(one);
    free(bulk);
    free(per_grant);
}

static void bulk_grants_validate(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, BULK_TENANT);
    const char *sides = "script.lua:1: bt.emit.grants: give one resource and a list of principals "
                        "(resource, principals) or a list of resources and one principal "
                        "(resources, principal)";
    run_fails(f->L, "require('bt.emit').grants{ slug = 'member',\n"
                    "  resources = { type = 'group', ids = { 'G1' } },\n"
                    "  principals = { type = 'user', ids = { 'U1' } } }", sides);
    run_fails(f->L, "require('bt.emit').grants{ slug = 'member',\n"
                    "  resource = { type = 'group', id = 'G1' }, principal = { type = 'user', id = 'U1' } }",
              sides);
    run_fails(f->L, "require('bt.emit').grants{ slug = 'member', resource = { type = 'group', id = 'G1' },\n"
                    "  resources = { type = 'group', ids = {} }, principal = { type = 'user', id = 'U1' } }",
              sides);
    run_fails(f->L, "require('bt.emit').grants{ slug = 'member', resource = { type = 'group', id = 'G1' },"
                    " principals = { type = 'user', ids = { 'U1', '' } } }",
              "script.lua:1: bt.emit.grants: field 'principals.ids[2]' must be a non-empty string");
    char *msg = run(f->L, "require('bt.emit').grants{ slug = 'member', resource = { type = 'group', id = 'G1' },"
                          " principals = { type = 'user', ids = { 'U1', 7 } } }");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "principals.ids"));
    free(msg);
    msg = run(f->L, "require('bt.emit').grants{ slug = 'member', resource = { type = 'group', id = 'G9' },"
                    " principals = { type = 'user', ids = { 'U1' } } }");
    assert_non_null(msg);
    assert_non_null(strstr(msg, "never emitted"));
    free(msg);
}

/* U+0000 from the API keeps its place as U+FFFD, in ids and names alike. */
static void nul_bytes_become_replacement_characters(void **state)
{
    fixture *f = *state;
    run_ok(f->L, TYPES);
    run_ok(f->L, "local E = require 'bt.emit'\n"
                 "E.resource{ type = 'group', id = 'G\\0', display_name = 'Eng\\0ineering',"
                 " group = {} }\n"
                 "E.entitlement{ resource = { type = 'group', id = 'G\\0' }, slug = 'member',"
                 " display_name = 'x' }");
    commit(f);
    char *text = (char *)tu_read(f->out, NULL);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"resource\":\"G\xEF\xBF\xBD\"},\"displayName\":\"Eng\xEF\xBF\xBDineering\""));
    assert_non_null(strstr(text, "\"id\":\"group:G\xEF\xBF\xBD:member\""));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unbound_calls_raise),
        cmocka_unit_test_setup_teardown(validation_errors_name_the_field, setup, teardown),
        cmocka_unit_test_setup_teardown(rows_match_golden_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(lookups_and_skips, setup, teardown),
        cmocka_unit_test_setup_teardown(filters, setup, teardown),
        cmocka_unit_test_setup_teardown(defaults_and_mirroring, setup, teardown),
        cmocka_unit_test_setup_teardown(sink_errors_raise, setup, teardown),
        cmocka_unit_test_setup_teardown(nul_bytes_become_replacement_characters, setup_jsonl, teardown),
        cmocka_unit_test_setup_teardown(jsonl_through_emit, setup_jsonl, teardown),
        cmocka_unit_test_setup_teardown(bulk_grants_match_the_per_grant_path, setup, teardown),
        cmocka_unit_test_setup_teardown(bulk_grants_validate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
