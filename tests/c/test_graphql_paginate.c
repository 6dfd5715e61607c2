/* graphql.paginate from Lua against a loopback server that pages like a Relay
 * backend: root and nested connections, empty ones, repeated cursors, null
 * objects, early stop, errors mid-walk, and walks started from on_page; and
 * against a hostile one: pages of the wrong shape, and "more" forever. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/config.h"
#include "bt/graphql_lua.h"
#include "httpd.h"
#include "lua_fixture.h"

typedef struct fx {
    httpd *srv;
    lua_State *L;
    fake_clock fc;
} fx;

/* ---- the fake backend ---- */

/* Integer variable `name` from the request body, or dflt. */
static int int_var(const char *body, const char *name, int dflt)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", name);
    const char *p = strstr(body, pat);
    return p ? atoi(p + strlen(pat)) : dflt;
}

/* String variable `name` into out ("" when absent). */
static void str_var(const char *body, const char *name, char *out, size_t n)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":\"", name);
    const char *p = strstr(body, pat);
    out[0] = '\0';
    if (p) {
        p += strlen(pat);
        const char *q = strchr(p, '"');
        snprintf(out, n, "%.*s", (int)(q - p), p);
    }
}

/* One page of `total` items named <prefix><i>, starting after cursor "c<k>". */
static size_t page_json(char *o, size_t n, const char *body, const char *prefix, int total)
{
    char after[64];
    str_var(body, "after", after, sizeof after);
    if (!after[0])
        str_var(body, "cursor", after, sizeof after);
    int start = after[0] == 'c' ? atoi(after + 1) : 0;
    int first = int_var(body, "first", 2);
    int end = start + first < total ? start + first : total;
    size_t len = (size_t)snprintf(o, n, "{\"edges\":[");
    for (int i = start; i < end; i++)
        len += (size_t)snprintf(o + len, n - len, "%s{\"node\":{\"id\":\"%s%d\"}}",
                                i > start ? "," : "", prefix, i + 1);
    if (end > start)
        len += (size_t)snprintf(o + len, n - len,
                                "],\"pageInfo\":{\"hasNextPage\":%s,\"endCursor\":\"c%d\"}}",
                                end < total ? "true" : "false", end);
    else
        len += (size_t)snprintf(o + len, n - len,
                                "],\"pageInfo\":{\"hasNextPage\":false,\"endCursor\":null}}");
    return len;
}

/* Answers that break a connection's shape, by keyword in the query. */
static const char *const BROKEN[][2] = {
    {"edgesNull", "{\"edges\":null,\"pageInfo\":{\"hasNextPage\":false}}"},
    {"edgesMissing", "{\"pageInfo\":{\"hasNextPage\":false}}"},
    {"edgesObject", "{\"edges\":{\"a\":1},\"pageInfo\":{\"hasNextPage\":false}}"},
    {"edgeNull", "{\"edges\":[{\"node\":{\"id\":\"U1\"}},null],"
                 "\"pageInfo\":{\"hasNextPage\":false}}"},
    {"nodeNull", "{\"edges\":[{\"node\":null}],\"pageInfo\":{\"hasNextPage\":false}}"},
    {"nodeNoId", "{\"edges\":[{\"node\":{\"name\":\"x\"}}],"
                 "\"pageInfo\":{\"hasNextPage\":false}}"},
    {"nodeEmptyId", "{\"edges\":[{\"node\":{\"id\":\"\"}}],"
                    "\"pageInfo\":{\"hasNextPage\":false}}"},
    /* issue 17: an id is never rewritten; one that is not UTF-8 is damage */
    {"nodeSurrogateId", "{\"edges\":[{\"node\":{\"id\":\"R3\\uD800\"}}],"
                        "\"pageInfo\":{\"hasNextPage\":false}}"},
    {"noPageInfo", "{\"edges\":[]}"},
    {"noHasNext", "{\"edges\":[],\"pageInfo\":{\"endCursor\":\"c1\"}}"},
    {"stringHasNext", "{\"edges\":[],\"pageInfo\":{\"hasNextPage\":\"yes\","
                      "\"endCursor\":\"c1\"}}"},
    {"noCursor", "{\"edges\":[],\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":null}}"},
    {"numberCursor", "{\"edges\":[],\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":7}}"},
    {"connString", "\"users\""},
};

static int hostile_calls; /* requests answered by the endless routes */

/* Endless walks: always "more", with a fresh cursor every time. */
static bool endless(const char *q, char *o, size_t n)
{
    int k = ++hostile_calls;
    if (strstr(q, "endlessSame"))
        snprintf(o, n,
                 "{\"data\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"U\"}}],"
                 "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"c%d\"}}}}",
                 k);
    else if (strstr(q, "endlessEmpty"))
        snprintf(o, n,
                 "{\"data\":{\"users\":{\"edges\":[],"
                 "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"c%d\"}}}}",
                 k);
    else if (strstr(q, "endlessFresh"))
        snprintf(o, n,
                 "{\"data\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"N%d\"}}],"
                 "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"c%d\"}}}}",
                 k, k);
    else
        return false;
    return true;
}

/* A list S1..S10 served by offset like graphene's arrayconnection: node k
 * (from 0) has edge cursor "o<k>" and `after: "o<k>"` starts at k + 1.
 * Variables steer it: first (3); deleteAfter = n deletes S1 once n requests
 * were answered (0: already gone), and with create = 1 adds S11 at the end at
 * the same moment, so totalCount does not change; edgeCursors = 0 leaves the
 * edges without cursors; short = k answers request k with the page cut to
 * its first node but the endCursor of the whole page; insertFrontAfter = n
 * adds S0 before S1 once n requests were answered; endEarly = n answers
 * the first n pages that end past offset 5 with hasNextPage false; noId = k
 * serves S<k> without an id (a union member the query selects no id on). */
static int shrink_calls;

static bool shrinking(const char *q, char *o, size_t n)
{
    if (!strstr(q, "shrinking"))
        return false;
    char after[32];
    str_var(q, "after", after, sizeof after);
    int call = shrink_calls++;
    int del = int_var(q, "deleteAfter", -1), ins = int_var(q, "insertFrontAfter", -1);
    int gone = del >= 0 && call >= del ? 1 : 0, made = gone ? int_var(q, "create", 0) : 0;
    int front = ins >= 0 && call >= ins ? 1 : 0; /* S0 inserted before S1 */
    gone -= front;
    int total = 10 - gone + made, first = int_var(q, "first", 3);
    int start = after[0] == 'o' ? atoi(after + 1) + 1 : 0;
    int end = start + first < total ? start + first : total, shown = end;
    if (int_var(q, "short", -1) == call && end > start + 1)
        shown = start + 1;
    bool cursors = int_var(q, "edgeCursors", 1) != 0;
    int no_id = int_var(q, "noId", -1);
    bool more = end < total;
    static int early_left = -1;
    if (call == 0)
        early_left = int_var(q, "endEarly", 0);
    if (more && end > 5 && early_left > 0) {
        early_left--;
        more = false;
    }
    size_t len = (size_t)snprintf(o, n, "{\"data\":{\"users\":{\"totalCount\":%d,\"edges\":[",
                                  total);
    for (int i = start; i < shown; i++) {
        char cur[32] = "";
        if (cursors)
            snprintf(cur, sizeof cur, "\"cursor\":\"o%d\",", i);
        if (i + 1 + gone == no_id)
            len += (size_t)snprintf(o + len, n - len, "%s{%s\"node\":{\"kind\":\"S%d\"}}",
                                    i > start ? "," : "", cur, i + 1 + gone);
        else
            len += (size_t)snprintf(o + len, n - len, "%s{%s\"node\":{\"id\":\"S%d\"}}",
                                    i > start ? "," : "", cur, i + 1 + gone);
    }
    snprintf(o + len, n - len, "],\"pageInfo\":{\"hasNextPage\":%s,\"endCursor\":\"o%d\"}}}}",
             more ? "true" : "false", end - 1);
    return true;
}

/* A server whose anchors always move: the list's first page is S1..S3, any
 * later page brings nodes never seen (X<call>-<i>) and says more. */
static bool always_shifting(const char *q, char *o, size_t n)
{
    if (!strstr(q, "alwaysShifting"))
        return false;
    char after[32];
    str_var(q, "after", after, sizeof after);
    int call = hostile_calls++, start = after[0] == 'o' ? atoi(after + 1) + 1 : 0;
    size_t len = (size_t)snprintf(o, n, "{\"data\":{\"users\":{\"edges\":[");
    for (int i = 0; i < 3; i++) {
        if (start == 0)
            len += (size_t)snprintf(o + len, n - len, "%s{\"cursor\":\"o%d\",\"node\":{\"id\":\"S%d\"}}",
                                    i ? "," : "", i, i + 1);
        else
            len += (size_t)snprintf(o + len, n - len,
                                    "%s{\"cursor\":\"o%d\",\"node\":{\"id\":\"X%d-%d\"}}",
                                    i ? "," : "", start + i, call, i);
    }
    snprintf(o + len, n - len, "],\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"o%d\"}}}}",
             start + 2);
    return true;
}

static void route(const httpd_request *req, char *o, size_t n)
{
    const char *q = req->body;
    char page[32768], id[64];
    str_var(q, "id", id, sizeof id);
    for (size_t i = 0; i < sizeof BROKEN / sizeof *BROKEN; i++) {
        if (strstr(q, BROKEN[i][0])) {
            snprintf(o, n, "{\"data\":{\"users\":%s}}", BROKEN[i][1]);
            return;
        }
    }
    if (endless(q, o, n) || shrinking(q, o, n) || always_shifting(q, o, n))
        return;
    if (strstr(q, "loopy")) {
        snprintf(o, n,
                 "{\"data\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"U\"}}],"
                 "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"same\"}}}}");
    } else if (strstr(q, "missing")) {
        snprintf(o, n, "{\"data\":{\"group\":null}}");
    } else if (strstr(q, "groups")) {
        page_json(page, sizeof page, q, "G", 2);
        snprintf(o, n, "{\"data\":{\"groups\":%s}}", page);
    } else if (strstr(q, "group(")) {
        page_json(page, sizeof page, q, id, strcmp(id, "G1") == 0 ? 5 : 3);
        snprintf(o, n, "{\"data\":{\"group\":{\"id\":\"%s\",\"users\":%s}}}", id, page);
    } else {
        page_json(page, sizeof page, q, "U", int_var(q, "total", 4));
        snprintf(o, n, "{\"data\":{\"users\":%s}}", page);
    }
}

static void backend(const httpd_request *req, httpd_response *out, void *ud)
{
    (void)ud;
    char *body = malloc(65536);
    route(req, body, 65536);
    out->status = 200;
    out->body = body;
    out->free_body = true;
}

/* ---- fixture ---- */

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->srv = httpd_start(0);
    httpd_set_handler(f->srv, backend, NULL);
    bt_graphql_shutdown();
    bt_graphql_reset_stats();
    bt_graphql_set_options(NULL);
    fake_clock_install(&f->fc);
    hostile_calls = 0;
    shrink_calls = 0;
    f->L = lua_fixture_new();
    lua_fixture_set_string(f->L, "URL", httpd_url(f->srv, "/graphql"));
    const char *err = lua_fixture_run(f->L, "graphql.configure{ url = URL }");
    *state = f;
    return f->srv && !err ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    lua_close(f->L);
    bt_graphql_shutdown();
    httpd_stop(f->srv);
    fake_clock_remove();
    free(f);
    return 0;
}

static void run(fx *f, const char *chunk)
{
    const char *err = lua_fixture_run(f->L, chunk);
    if (err)
        fail_msg("%s", err);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay ? hay : "(null)", needle);
}

/* The body of request i. */
static void request_body(fx *f, int i, char *out, size_t n)
{
    httpd_request q;
    assert_true(httpd_request_get(f->srv, i, &q));
    snprintf(out, n, "%s", q.body);
    httpd_request_free(&q);
}

/* ---- walks ---- */

static const char *USERS_Q =
    "USERS = 'query U($first: Int, $after: String) { users(first: $first, after: $after)"
    " { edges { node { id } } pageInfo { hasNextPage endCursor } } }'\n";

static void walks_a_two_page_root_connection(void **state)
{
    fx *f = *state;
    char chunk[2000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local vars = { first = 2, total = 4 }\n"
             "local seen, calls = {}, 0\n"
             "local pages, err = graphql.paginate{ query = USERS, variables = vars, path = 'users',"
             "  on_page = function(conn, data)\n"
             "    calls = calls + 1\n"
             "    assert(conn == data.users)\n"
             "    for _, e in ipairs(conn.edges) do seen[#seen + 1] = e.node.id end\n"
             "  end }\n"
             "assert(pages == 2, tostring(err))\n"
             "assert(calls == 2 and table.concat(seen, ',') == 'U1,U2,U3,U4')\n"
             "assert(vars.after == nil, 'the caller\\'s variables are left alone')\n"
             "assert(graphql.stats().pages == 2)",
             USERS_Q);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 2);
    char body[2000];
    request_body(f, 0, body, sizeof body);
    assert_non_null(strstr(body, "\"variables\":{\"first\":2,\"total\":4}"));
    request_body(f, 1, body, sizeof body);
    assert_non_null(strstr(body, "\"variables\":{\"after\":\"c2\",\"first\":2,\"total\":4}"));
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.pages, 2);
    assert_int_equal(s.reads, 2);
}

static void walks_an_empty_connection(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local calls = 0\n"
             "local pages = graphql.paginate{ query = USERS, variables = { total = 0 },"
             "  path = 'users', on_page = function(conn)\n"
             "    calls = calls + 1\n"
             "    assert(#conn.edges == 0 and conn.pageInfo.endCursor == nil)\n"
             "  end }\n"
             "assert(pages == 1 and calls == 1)",
             USERS_Q);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 1);
}

static void walks_a_nested_connection(void **state)
{
    fx *f = *state;
    run(f, "local ids = {}\n"
           "local pages, err = graphql.paginate{\n"
           "  query = 'query G($id: ID!, $after: String) { group(id: $id) { id users(after: $after)"
           " { edges { node { id } } pageInfo { hasNextPage endCursor } } } }',\n"
           "  variables = { id = 'G1' }, path = 'group.users',\n"
           "  on_page = function(conn, data)\n"
           "    assert(data.group.id == 'G1' and data.group.users == conn)\n"
           "    for _, e in ipairs(conn.edges) do ids[#ids + 1] = e.node.id end\n"
           "  end }\n"
           "assert(pages == 3, tostring(err))\n"
           "assert(table.concat(ids, ',') == 'G11,G12,G13,G14,G15', table.concat(ids, ','))");
    assert_int_equal(httpd_request_count(f->srv), 3);
}

static void custom_cursor_variable(void **state)
{
    fx *f = *state;
    run(f,
        "local n = 0\n"
        "assert(graphql.paginate{ query = 'query($cursor: String) { users(after: $cursor) { x } }',"
        "  variables = { total = 3 }, path = 'users', cursor_var = 'cursor',"
        "  on_page = function(c) n = n + #c.edges end } == 2)\n"
        "assert(n == 3)");
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_non_null(strstr(body, "\"cursor\":\"c2\""));
}

static void stops_on_a_repeated_cursor(void **state)
{
    fx *f = *state;
    run(f, "local calls = 0\n"
           "local pages, err = graphql.paginate{ query = '{ loopy }', path = 'users',"
           "  on_page = function() calls = calls + 1 end }\n"
           "assert(pages == nil and err.kind == 'pagination', tostring(err))\n"
           "assert(err.message:find('repeated cursor same', 1, true), err.message)\n"
           "assert(calls == 2)");
    assert_int_equal(httpd_request_count(f->srv), 2);
    /* the caller's starting cursor counts as seen */
    run(f, "local pages, err = graphql.paginate{ query = '{ loopy }', path = 'users',"
           "  variables = { after = 'same' }, on_page = function() end }\n"
           "assert(err.kind == 'pagination')");
    assert_int_equal(httpd_request_count(f->srv), 3);
}

static void null_object_on_the_path_is_not_found(void **state)
{
    fx *f = *state;
    run(f, "local called = false\n"
           "local pages, err = graphql.paginate{ query = '{ missing }', path = 'group.users',"
           "  on_page = function() called = true end }\n"
           "assert(pages == nil and err.kind == 'not_found', tostring(err))\n"
           "assert(err.message:find('group is null', 1, true), err.message)\n"
           "assert(not called)");
}

static void null_objects_stay_not_found(void **state)
{
    fx *f = *state;
    run(f, "local _, err = graphql.paginate{ query = '{ missing }', path = 'group',"
           "  on_page = function() end }\n"
           "assert(err.kind == 'not_found')\n"
           "_, err = graphql.paginate{ query = '{ u }', path = 'users.edges.x',"
           "  on_page = function() end }\n"
           "assert(err.kind == 'decode', tostring(err))");
}

/* Before the fix `edges: null` walked as an empty page (a file with 0
 * users) and a null or id-less node was skipped: a sync exited 0 with data
 * missing. Now each is a decode failure, asked again up to the attempt cap,
 * and on_page never sees the page. */
static void broken_pages_are_decode_errors_after_asking_again(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 3;
    bt_graphql_set_options(&o);
    int before = 0;
    for (size_t i = 0; i < sizeof BROKEN / sizeof *BROKEN; i++) {
        char chunk[600];
        snprintf(chunk, sizeof chunk,
                 "local called = false\n"
                 "local pages, err = graphql.paginate{ query = '{ %s }', path = 'users',"
                 "  on_page = function() called = true end }\n"
                 "assert(pages == nil and err.kind == 'decode', tostring(err))\n"
                 "assert(err.message:find('breaks the connection', 1, true), err.message)\n"
                 "assert(not called, 'on_page never sees a broken page')",
                 BROKEN[i][0]);
        const char *err = lua_fixture_run(f->L, chunk);
        if (err)
            fail_msg("%s: %s", BROKEN[i][0], err);
        assert_int_equal(httpd_request_count(f->srv) - before, 3);
        before = httpd_request_count(f->srv);
    }
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.retries_by[BT_HTTP_RETRY_DECODE], 2 * (long)(sizeof BROKEN / sizeof *BROKEN));
    assert_int_equal(s.pages, 0);
}

/* Bodies that are not JSON and pages of the wrong shape, mixed, share one
 * attempt cap per page: not a cap per layer (which let a server draw cap x
 * cap requests for one page). */
static void damaged_answers_of_either_kind_share_one_cap(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 4;
    bt_graphql_set_options(&o);
    httpd_push_json(f->srv, 200, "not json {");
    httpd_push_json(f->srv, 200, "not json either");
    char chunk[400];
    snprintf(chunk, sizeof chunk,
             "local pages, err = graphql.paginate{ query = '{ %s }', path = 'users', on_page = function() end }\n"
             "assert(pages == nil and err.kind == 'decode', tostring(err))",
             BROKEN[0][0]);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 4);
    bt_graphql_stats st;
    bt_graphql_get_stats(&st);
    assert_int_equal(st.retries_by[BT_HTTP_RETRY_DECODE], 3);
}

static void a_broken_page_that_heals_is_used_once_whole(void **state)
{
    fx *f = *state;
    httpd_push_json(f->srv, 200, "{\"data\":{\"users\":{\"edges\":null,"
                                 "\"pageInfo\":{\"hasNextPage\":false}}}}");
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local seen = {}\n"
             "local pages, err = graphql.paginate{ query = USERS, variables = { first = 2 },"
             "  path = 'users', on_page = function(conn)\n"
             "    for _, e in ipairs(conn.edges) do seen[#seen + 1] = e.node.id end\n"
             "  end }\n"
             "assert(pages == 2, tostring(err))\n"
             "assert(table.concat(seen, ',') == 'U1,U2,U3,U4', table.concat(seen, ','))\n"
             "assert(graphql.stats().retries_decode == 1)",
             USERS_Q);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 3);
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_null(strstr(body, "\"after\""));
}

static void nodes_without_ids_pass_when_the_caller_says_so(void **state)
{
    fx *f = *state;
    run(f, "local n = 0\n"
           "assert(graphql.paginate{ query = '{ nodeNoId }', path = 'users', id_field = false,"
           "  on_page = function(c) n = n + #c.edges end } == 1)\n"
           "assert(n == 1)\n"
           "assert(graphql.paginate{ query = '{ nodeNoId }', path = 'users', id_field = 'name',"
           "  on_page = function() end } == 1)");
    assert_int_equal(httpd_request_count(f->srv), 2);
}

/* Before the fix a server answering "more" with fresh cursors was followed
 * until the process was killed. */
static void a_walk_in_place_stops_after_three_stale_pages(void **state)
{
    fx *f = *state;
    run(f, "local pages, err = graphql.paginate{ query = '{ endlessSame }', path = 'users',"
           "  on_page = function() end }\n"
           "assert(pages == nil and err.kind == 'pagination', tostring(err))\n"
           "assert(err.message:find('3 pages in a row brought no new node', 1, true), err.message)");
    assert_int_equal(httpd_request_count(f->srv), 4); /* one fresh page, three stale */
    run(f, "local pages, err = graphql.paginate{ query = '{ endlessEmpty }', path = 'users',"
           "  on_page = function() end }\n"
           "assert(err.kind == 'pagination' and err.message:find('no new node'), tostring(err))");
    assert_int_equal(httpd_request_count(f->srv), 4 + 3);
}

static void fresh_nodes_forever_stop_at_the_page_bound(void **state)
{
    fx *f = *state;
    run(f, "local n = 0\n"
           "local pages, err = graphql.paginate{ query = '{ endlessFresh }', path = 'users',"
           "  variables = { first = 2 }, max_nodes = 10, on_page = function() n = n + 1 end }\n"
           "assert(pages == nil and err.kind == 'pagination', tostring(err))\n"
           "assert(err.message:find('11 pages and 11 nodes, more than a list of at most 10 nodes',"
           "  1, true), err.message)\n"
           "assert(n == 11)");
    /* one node a page: the node bound stops it first (the page bound allows
     * for the overlap and walk-backs: 9 + 32 pages) */
    assert_int_equal(httpd_request_count(f->srv), 11);
    run(f, "local pages, err = graphql.paginate{ query = '{ endlessFresh }', path = 'users',"
           "  max_nodes = 7, on_page = function() end }\n"
           "assert(err.kind == 'pagination' and err.message:find('8 pages'), tostring(err))");
    assert_int_equal(httpd_request_count(f->srv), 11 + 8);
    /* without ids (no overlap, no walk-back) the bound is ceil(max_nodes / size) pages */
    run(f, "local pages, err = graphql.paginate{ query = '{ endlessFresh }', path = 'users',"
           "  id_field = false, variables = { first = 2 }, max_nodes = 10,"
           "  on_page = function() end }\n"
           "assert(err.kind == 'pagination' and err.message:find('5 pages and 5 nodes'),"
           "  tostring(err))");
    assert_int_equal(httpd_request_count(f->srv), 11 + 8 + 5);
    /* a list that really is max_nodes long completes */
    char chunk[600];
    snprintf(chunk, sizeof chunk,
             "%s"
             "assert(graphql.paginate{ query = USERS, variables = { first = 2, total = 10 },"
             "  path = 'users', max_nodes = 10, on_page = function() end } == 5)",
             USERS_Q);
    run(f, chunk);
}

/* Review: max_nodes did not allow for the node of overlap a page: a list
 * of exactly 10 nodes at 3 a page (pages at 0, 2, 4, 6, 8) failed with "4
 * pages and 9 nodes, more than a list of at most 10 nodes takes". */
static void a_list_of_max_nodes_completes_with_its_overlap(void **state)
{
    fx *f = *state;
    run(f, "local n = 0\n"
           "local pages, err = graphql.paginate{ query = '{ shrinking }', max_nodes = 10,"
           "  variables = { first = 3 }, path = 'users',"
           "  on_page = function(c) n = n + #c.edges end }\n"
           "assert(pages == 5, tostring(pages or err))\n"
           "assert(n == 10, n)");
    assert_int_equal(httpd_request_count(f->srv), 5);
}

/* Review: a Lua error inside a page's window (here the check hook) left the
 * page's attempt cap and deadline open for the rest of the process: an hour
 * later a plain query ran out of "the 0.001 s cap". */
static void an_error_inside_a_page_does_not_leave_its_deadline_behind(void **state)
{
    fx *f = *state;
    char chunk[2000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local ok, e = pcall(graphql.paginate, { query = USERS,"
             "  variables = { first = 2, total = 4 }, path = 'users', on_page = function() end,"
             "  check = function() error('boom') end })\n"
             "assert(not ok and tostring(e):find('boom'), tostring(e))",
             USERS_Q);
    run(f, chunk);
    f->fc.now += 4000;
    snprintf(chunk, sizeof chunk,
             "%s"
             "local d, err = graphql.query(USERS, { first = 2, total = 4 })\n"
             "assert(d and #d.users.edges == 2, tostring(err))\n"
             "local ok, e = pcall(graphql.paginate, { query = USERS,"
             "  variables = { first = 2, total = 4 }, path = 'users', on_page = function() end,"
             "  check = function() error('boom') end })\n"
             "assert(not ok)",
             USERS_Q);
    run(f, chunk);
    f->fc.now += 4000;
    snprintf(chunk, sizeof chunk,
             "%s"
             "assert(graphql.paginate{ query = USERS, variables = { first = 2, total = 4 },"
             "  path = 'users', on_page = function() end } == 2)",
             USERS_Q);
    run(f, chunk);
}

static const char *SEEN =
    "seen = {}\n"
    "function collect(c) for _, e in ipairs(c.edges) do seen[e.node.id] = true end end\n"
    "function missed(from, to)\n"
    "  for i = from, to do if not seen['S' .. i] then return 'S' .. i end end\n"
    "end\n";

/* Issue 17: one node of page 1 deleted and one created before page 2 is
 * read. totalCount stays 10, and before the fix S4 moved onto page 1 and was
 * never read (a sync exited 0 without it). Now page 2 starts from the
 * second-to-last node of page 1: its first node should be S3 (the anchor);
 * it is S5, so the walk reads from page 1 again. */
static void a_shift_with_an_unchanged_count_is_caught_by_the_overlap(void **state)
{
    fx *f = *state;
    char chunk[2000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, deleteAfter = 1, create = 1 }, path = 'users',"
             "  on_page = collect }\n"
             "assert(pages, tostring(err))\n"
             "assert(missed(1, 11) == nil, missed(1, 11))",
             SEEN);
    run(f, chunk);
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_non_null(strstr(body, "\"after\":\"o1\"")); /* one node of overlap */
    request_body(f, 2, body, sizeof body);
    assert_null(strstr(body, "\"after\"")); /* page 1 read again */
    request_body(f, 3, body, sizeof body);
    assert_non_null(strstr(body, "\"after\":\"o1\""));
    /* 10 nodes, 3 a page, one of overlap: pages at 0, 2, 4, 6, 8; the shift
     * costs the page that showed it and page 1 again */
    assert_int_equal(httpd_request_count(f->srv), 7);
}

/* Review: with id_field = false (nodes of an unknown union member carry no
 * id) a walk had no anchor: S1 deleted after page 1 moved S4 before the
 * cursor, it was never read, and the list-end check passed (its sum fell
 * with totalCount). ids_optional keeps the anchors on the ids present. */
static void optional_ids_still_anchor_the_walk(void **state)
{
    fx *f = *state;
    char chunk[2000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }', ids_optional = true,"
             "  variables = { first = 3, deleteAfter = 1 }, path = 'users', on_page = collect }\n"
             "assert(pages, tostring(err))\n"
             "assert(missed(2, 10) == nil, missed(2, 10))\n"
             "seen = {}\n"
             "pages, err = graphql.paginate{ query = '{ shrinking }', ids_optional = true,"
             "  variables = { first = 3, deleteAfter = 1, create = 1 }, path = 'users',"
             "  on_page = collect }\n"
             "assert(pages, tostring(err))\n"
             "assert(missed(2, 11) == nil, missed(2, 11))",
             SEEN);
    shrink_calls = 0;
    run(f, chunk);
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_non_null(strstr(body, "\"after\":\"o1\"")); /* one node of overlap */
    request_body(f, 2, body, sizeof body);
    assert_null(strstr(body, "\"after\"")); /* the moved anchor: page 1 again */
}

/* A node without an id passes when ids are optional; at a page boundary
 * the walk goes on from its own cursor (nothing to anchor on), and a node
 * whose id is there but damaged is still refused. */
static void a_node_without_an_id_passes_when_ids_are_optional(void **state)
{
    fx *f = *state;
    char chunk[2000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local kinds = 0\n"
             "local function count(c)\n"
             "  for _, e in ipairs(c.edges) do\n"
             "    if e.node.kind then kinds = kinds + 1 else seen[e.node.id] = true end\n"
             "  end\n"
             "end\n"
             "local pages, err = graphql.paginate{ query = '{ shrinking }', ids_optional = true,"
             "  variables = { first = 3, noId = 3 }, path = 'users', on_page = count }\n"
             "assert(pages == 4, tostring(pages or err))\n"
             "assert(kinds == 1, kinds)\n"
             "seen.S3 = true\n"
             "assert(missed(1, 10) == nil, missed(1, 10))\n"
             "pages, err = graphql.paginate{ query = '{ nodeNoId }', path = 'users',"
             "  ids_optional = true, on_page = function() end }\n"
             "assert(pages == 1, tostring(err))\n"
             "pages, err = graphql.paginate{ query = '{ nodeEmptyId }', path = 'users',"
             "  ids_optional = true, on_page = function() end }\n"
             "assert(pages == nil and err.kind == 'decode', tostring(err))\n"
             "local page = { pageInfo = { hasNextPage = false }, edges = { { node = {} } } }\n"
             "assert(graphql.check_page(page, { ids_optional = true }) == 1)\n"
             "page.edges[1].node.id = ''\n"
             "assert(graphql.check_page(page, { ids_optional = true }) == nil)",
             SEEN);
    run(f, chunk);
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_non_null(strstr(body, "\"after\":\"o2\"")); /* S3: no id, its own cursor */
}

/* A node inserted before the boundary only moves the anchor down the next
 * page: nothing is lost, nothing is read again, the walk goes on (the new
 * node, created during the walk, is for the next sync). */
static void an_insertion_before_the_cursor_only_repeats(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, insertFrontAfter = 1 }, path = 'users', on_page = collect }\n"
             "assert(pages == 5, tostring(err))\n"
             "assert(missed(1, 10) == nil, missed(1, 10))\n"
             "assert(not seen.S0, 'created before the cursor after page 1: not read')",
             SEEN);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 5);
}

/* Reading the same pages again after a shift is not progress: a server whose
 * anchors always move stops the walk after 32 such pages. */
static void a_list_that_keeps_moving_is_stopped(void **state)
{
    fx *f = *state;
    run(f, "local pages, err = graphql.paginate{ query = '{ alwaysShifting }',"
           "  variables = { first = 3 }, path = 'users', on_page = function() end }\n"
           "assert(pages == nil and err.kind == 'pagination', tostring(err))\n"
           "assert(err.message:find('the list kept moving during the walk', 1, true), err.message)");
    /* the first page (one page of progress), then a moved page and the first
     * page again, until the 34th moved page: 32 + 1 are allowed */
    assert_int_equal(httpd_request_count(f->srv), 1 + 34 + 33);
}

/* Without edge cursors (or ids) there is no overlap: endCursor as before. */
static void edges_without_cursors_walk_from_end_cursor(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, edgeCursors = 0 }, path = 'users', on_page = collect }\n"
             "assert(pages == 4, tostring(err))\n"
             "assert(missed(1, 10) == nil)",
             SEEN);
    run(f, chunk);
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_non_null(strstr(body, "\"after\":\"o2\""));
}

/* A nested list continued by the caller: it read S1..S3 with the parent,
 * and starts after S2 expecting S3; S1 is gone by now, so the walk goes back
 * to the list's start. */
static void a_walk_continuing_a_nested_page_checks_its_anchor(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, after = 'o1', deleteAfter = 0 }, path = 'users',"
             "  previous_page = { offset = 2, anchor = 'S3' }, on_page = collect }\n"
             "assert(pages, tostring(err))\n"
             "assert(missed(2, 10) == nil, missed(2, 10))",
             SEEN);
    run(f, chunk);
    char body[2000];
    request_body(f, 1, body, sizeof body);
    assert_null(strstr(body, "\"after\"")); /* from the list's start */
    run(f, "local ok, err = pcall(graphql.paginate, { query = 'q', path = 'a', on_page = print,"
           "  previous_page = { total = 3 } })\n"
           "assert(not ok and err:find('unknown field total'), err)\n"
           "ok, err = pcall(graphql.paginate, { query = 'q', path = 'a', on_page = print,"
           "  previous_page = { offset = -1 } })\n"
           "assert(not ok and err:find('previous_page.offset must be'), err)");
}

/* Issue 17 section 2: hasNextPage false while totalCount says more. Read
 * again once; still short, the walk fails (before: 6 of 10, no error). */
static void a_list_that_ends_early_fails_after_one_more_read(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, endEarly = 2 }, path = 'users', on_page = collect }\n"
             "assert(pages == nil and err.kind == 'pagination', tostring(err))\n"
             "assert(err.message:find('ended after 7 nodes but its totalCount is 10', 1, true),"
             "  err.message)",
             SEEN);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 4); /* pages at 0, 2, 4 and 4 again */
}

static void a_list_that_ends_early_once_is_read_on(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, endEarly = 1 }, path = 'users', on_page = collect }\n"
             "assert(pages == 6, tostring(err))\n"
             "assert(missed(1, 10) == nil, missed(1, 10))",
             SEEN);
    run(f, chunk);
}

/* A short page in the middle whose endCursor skips nodes: with edge cursors
 * the overlap continues after the nodes it holds; without them the walk
 * follows endCursor and the end check finds the hole. */
static void a_short_page_mid_list_loses_nothing_or_fails(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, short = 1 }, path = 'users', on_page = collect }\n"
             "assert(pages, tostring(err))\n"
             "assert(missed(1, 10) == nil, missed(1, 10))",
             SEEN);
    run(f, chunk);
    shrink_calls = 0;
    snprintf(chunk, sizeof chunk,
             "%s"
             "local pages, err = graphql.paginate{ query = '{ shrinking }',"
             "  variables = { first = 3, short = 1, edgeCursors = 0 }, path = 'users',"
             "  on_page = collect }\n"
             "assert(pages == nil and err.kind == 'pagination', tostring(err))\n"
             "assert(err.message:find('ended after 8 nodes but its totalCount is 10', 1, true),"
             "  err.message)",
             SEEN);
    run(f, chunk);
}

/* Issue 17 section 3: only an explicit null for the root field means gone;
 * {"data":{}} or {"data":[]} is a damaged answer, asked again, then decode. */
static void an_empty_answer_is_damage_not_a_deletion(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 2;
    bt_graphql_set_options(&o);
    httpd_push_json(f->srv, 200, "{\"data\":{}}");
    httpd_push_json(f->srv, 200, "{\"data\":[]}");
    run(f, "local pages, err = graphql.paginate{ query = '{ missing }', path = 'group.users',"
           "  on_page = print }\n"
           "assert(pages == nil and err.kind == 'decode', tostring(err))\n"
           "assert(err.message:find('group is missing from the answer', 1, true), err.message)");
    httpd_push_json(f->srv, 200, "{\"data\":{\"group\":{}}}");
    run(f, "local pages, err = graphql.paginate{ query = '{ missing }', path = 'group.users',"
           "  on_page = print }\n"
           "assert(pages == nil and err.kind == 'not_found', tostring(err))\n"
           "assert(err.message:find('group is null', 1, true), err.message)");
    assert_int_equal(httpd_request_count(f->srv), 4);
}

/* A check refusing a page makes it damaged: asked again, then decode. */
static void a_page_the_check_refuses_is_asked_again(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "local calls = 0\n"
             "local pages, err = graphql.paginate{ query = USERS, variables = { first = 2 },"
             "  path = 'users', on_page = function() end,"
             "  check = function(conn) calls = calls + 1\n"
             "    if calls == 1 then return nil, 'users[0].name is not a string' end\n"
             "    return true end }\n"
             "assert(pages == 2, tostring(err))\n"
             "assert(calls == 3 and graphql.stats().retries_decode == 1)",
             USERS_Q);
    run(f, chunk);
}

static void check_page_applies_the_same_rule_to_a_nested_page(void **state)
{
    fx *f = *state;
    run(f, "local ok = { pageInfo = { hasNextPage = true, endCursor = 'c' },"
           "  edges = { { node = { id = 'a' } }, { node = { id = 7 } } } }\n"
           "assert(graphql.check_page(ok) == 2)\n"
           "local bad = { pageInfo = { hasNextPage = false }, edges = { { node = {} } } }\n"
           "local n, err = graphql.check_page(bad)\n"
           "assert(n == nil and err.kind == 'decode' and err.message:find('has no id'),"
           "  tostring(err))\n"
           "assert(graphql.check_page(bad, { id_field = false }) == 1)\n"
           "n, err = graphql.check_page({ pageInfo = { hasNextPage = false },"
           "  edges = { graphql.null } })\n"
           "assert(err.message:find('edges%[0%] is null'), tostring(err))\n"
           "n, err = graphql.check_page(nil)\n"
           "assert(err.kind == 'decode')\n"
           "assert(graphql.check_page({ pageInfo = { hasNextPage = false }, nodes = {} }) == 0)");
    assert_int_equal(httpd_request_count(f->srv), 0);
}

static void on_page_returning_false_stops(void **state)
{
    fx *f = *state;
    char chunk[1000];
    snprintf(chunk, sizeof chunk,
             "%s"
             "assert(graphql.paginate{ query = USERS, variables = { total = 9 }, path = 'users',"
             "  on_page = function() return false end } == 1)",
             USERS_Q);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 1);
}

static void a_failing_page_ends_the_walk_with_its_error(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 1;
    bt_graphql_set_options(&o);
    httpd_push_json(f->srv, 200,
                    "{\"data\":{\"users\":{\"edges\":[{\"node\":{\"id\":\"U1\"}}],"
                    "\"pageInfo\":{\"hasNextPage\":true,\"endCursor\":\"c1\"}}}}");
    httpd_push_json(f->srv, 500, "{\"errors\":[{\"message\":\"db down\"}]}");
    run(f, "local calls = 0\n"
           "local pages, err = graphql.paginate{ query = '{ users }', path = 'users',"
           "  on_page = function() calls = calls + 1 end }\n"
           "assert(pages == nil and err.kind == 'server' and err.status == 500)\n"
           "assert(err.message == 'db down', err.message)\n"
           "assert(calls == 1)");
}

static void graphql_errors_on_a_page_are_returned(void **state)
{
    fx *f = *state;
    httpd_push_json(f->srv, 200,
                    "{\"errors\":[{\"message\":\"Requesting 500 records exceeds the limit\"}],"
                    "\"data\":{\"users\":null}}");
    run(f, "local pages, err = graphql.paginate{ query = '{ users }', path = 'users',"
           "  on_page = function() error('not reached') end }\n"
           "assert(err.kind == 'graphql' and err.message:find('exceeds'))");
}

/* The lead's scripts page a group's remaining members from inside the
 * groups walk, and look things up with query from inside on_page. */
static void walks_nest_inside_on_page(void **state)
{
    fx *f = *state;
    run(f,
        "local GROUPS = 'query($first: Int, $after: String) { groups(first: $first,"
        " after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }'\n"
        "local MEMBERS = 'query($id: ID!, $after: String) { group(id: $id) { users(after:"
        " $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }'\n"
        "local out = {}\n"
        "local pages, err = graphql.paginate{ query = GROUPS, variables = { first = 1 },"
        "  path = 'groups', on_page = function(conn)\n"
        "    local gid = conn.edges[1].node.id\n"
        "    local n, e = graphql.paginate{ query = MEMBERS, variables = { id = gid },"
        "      path = 'group.users', on_page = function(m)\n"
        "        for _, edge in ipairs(m.edges) do out[#out + 1] = gid .. ':' .. edge.node.id end\n"
        "        local one = assert(graphql.query('{ users }', { total = 1 }))\n"
        "        assert(one.users.edges[1].node.id == 'U1')\n"
        "      end }\n"
        "    assert(n, tostring(e))\n"
        "  end }\n"
        "assert(pages == 2, tostring(err))\n"
        "local got = table.concat(out, ',')\n"
        "assert(got == 'G1:G11,G1:G12,G1:G13,G1:G14,G1:G15,G2:G21,G2:G22,G2:G23', got)");
    /* 2 group pages + 3 + 2 member pages + one query per member page */
    assert_int_equal(httpd_request_count(f->srv), 2 + 5 + 5);
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.pages, 7);
}

static void errors_raised_in_on_page_propagate(void **state)
{
    fx *f = *state;
    run(f, "local ok, msg = pcall(graphql.paginate, { query = '{ users }', path = 'users',"
           "  on_page = function() error('mapping bug here') end })\n"
           "assert(not ok and msg:find('mapping bug here'), msg)\n"
           "-- the module still works afterwards\n"
           "assert(graphql.paginate{ query = '{ users }', path = 'users',"
           "  on_page = function() end } == 2)");
}

static void misuse_raises(void **state)
{
    fx *f = *state;
    static const char *const cases[][2] = {
        {"graphql.paginate()", "table expected"},
        {"graphql.paginate{ path = 'users', on_page = print }", "query must be a string"},
        {"graphql.paginate{ query = 'q', on_page = print }", "path must be a string"},
        {"graphql.paginate{ query = 'q', path = 'users' }", "on_page must be a function"},
        {"graphql.paginate{ query = 'q', path = 'a..b', on_page = print }", "dot-separated"},
        {"graphql.paginate{ query = 'q', path = '.a', on_page = print }", "dot-separated"},
        {"graphql.paginate{ query = 'q', path = '', on_page = print }", "dot-separated"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, cursor_var = 1 }",
         "cursor_var must be a string"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, variables = 'x' }",
         "variables must be a table"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, page = 1 }",
         "unknown field page"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, id_field = 1 }",
         "id_field must be a non-empty string or false"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, id_field = true }",
         "id_field must be"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, max_nodes = 0 }",
         "max_nodes must be a positive integer"},
        {"graphql.check_page({}, { id = 1 })", "unknown field id"},
        {"graphql.paginate{ query = 'q', path = 'a', on_page = print, id_field = false,"
         " ids_optional = true }",
         "ids_optional needs an id_field"},
        {"graphql.check_page({}, { ids_optional = 1 })", "ids_optional must be a boolean"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_contains(lua_fixture_run(f->L, cases[i][0]), cases[i][1]);
    assert_int_equal(httpd_request_count(f->srv), 0);
}

static fake_clock *progress_clock;

/* advance(seconds): moves the fake clock, as time spent on a page would. */
static int l_advance(lua_State *L)
{
    progress_clock->now += luaL_checknumber(L, 1);
    return 0;
}

static void long_walks_report_progress(void **state)
{
    fx *f = *state;
    progress_clock = &f->fc;
    lua_register(f->L, "advance", l_advance);
    log_capture lc;
    log_capture_start(&lc, BT_LOG_INFO);
    /* a page a second: a line once 10 s have passed, and again at 20 s */
    const char *err = lua_fixture_run(
        f->L,
        "assert(graphql.paginate{ query = '{ users }', variables = { total = 50 }, path = 'users',"
        "  on_page = function() advance(1) end } == 25)");
    int lines = log_capture_count(&lc, "paging users:");
    /* page k arrives after k-1 seconds: 10 s have passed at page 11 */
    int at10 = log_capture_count(&lc, "paging users: 11 pages, 22 items so far");
    int at20 = log_capture_count(&lc, "paging users: 21 pages, 42 items so far");
    log_capture_stop(&lc);
    if (err)
        fail_msg("%s", err);
    assert_int_equal(lines, 2);
    assert_int_equal(at10, 1);
    assert_int_equal(at20, 1);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(walks_a_two_page_root_connection),
        T(walks_an_empty_connection),
        T(walks_a_nested_connection),
        T(custom_cursor_variable),
        T(stops_on_a_repeated_cursor),
        T(null_object_on_the_path_is_not_found),
        T(null_objects_stay_not_found),
        T(broken_pages_are_decode_errors_after_asking_again),
        T(damaged_answers_of_either_kind_share_one_cap),
        T(a_broken_page_that_heals_is_used_once_whole),
        T(nodes_without_ids_pass_when_the_caller_says_so),
        T(a_walk_in_place_stops_after_three_stale_pages),
        T(fresh_nodes_forever_stop_at_the_page_bound),
        T(a_list_of_max_nodes_completes_with_its_overlap),
        T(an_error_inside_a_page_does_not_leave_its_deadline_behind),
        T(check_page_applies_the_same_rule_to_a_nested_page),
        T(a_shift_with_an_unchanged_count_is_caught_by_the_overlap),
        T(edges_without_cursors_walk_from_end_cursor),
        T(a_list_that_keeps_moving_is_stopped),
        T(an_insertion_before_the_cursor_only_repeats),
        T(optional_ids_still_anchor_the_walk),
        T(a_node_without_an_id_passes_when_ids_are_optional),
        T(a_walk_continuing_a_nested_page_checks_its_anchor),
        T(a_list_that_ends_early_fails_after_one_more_read),
        T(a_list_that_ends_early_once_is_read_on),
        T(a_short_page_mid_list_loses_nothing_or_fails),
        T(an_empty_answer_is_damage_not_a_deletion),
        T(a_page_the_check_refuses_is_asked_again),
        T(on_page_returning_false_stops),
        T(a_failing_page_ends_the_walk_with_its_error),
        T(graphql_errors_on_a_page_are_returned),
        T(walks_nest_inside_on_page),
        T(errors_raised_in_on_page_propagate),
        T(misuse_raises),
        T(long_walks_report_progress),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
