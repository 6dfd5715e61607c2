/* bt.graphql from Lua: configure, query, every error kind, misuse, write
 * permission, retries of queries vs mutations, pacing, stats, redaction. */
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

#define KEY "tg-KEY-0123456789abcdef"

typedef struct fx {
    httpd *srv;
    lua_State *L;
    fake_clock fc;
} fx;

static void reset_graphql(void)
{
    bt_graphql_shutdown();
    bt_graphql_reset_stats();
    bt_graphql_set_options(NULL);
    bt_graphql_allow_writes(false);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    f->srv = httpd_start(0);
    reset_graphql();
    bt_config_reset();
    bt_config_set("api-key", KEY, false); /* not registered with bt_log: our redaction alone */
    fake_clock_install(&f->fc);
    f->L = lua_fixture_new();
    lua_fixture_set_string(f->L, "URL", httpd_url(f->srv, "/api/graphql/"));
    /* the operator's endpoint: the only one the key may go to */
    bt_graphql_bind_operator_url(httpd_url(f->srv, "/api/graphql/"), "X-API-KEY", "api-key", NULL);
    *state = f;
    return f->srv && f->L ? 0 : -1;
}

static int teardown(void **state)
{
    fx *f = *state;
    lua_close(f->L);
    reset_graphql();
    bt_graphql_unbind_operator();
    bt_config_reset();
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

static const char *CONFIGURE =
    "graphql.configure{ url = URL, auth_header = 'X-API-KEY', auth_config = 'api-key' }\n";

static void run_configured(fx *f, const char *chunk)
{
    char all[8192];
    snprintf(all, sizeof all, "%s%s", CONFIGURE, chunk);
    run(f, all);
}

/* The Lua error raised by chunk (asserts that it raised). */
static const char *raises(fx *f, const char *chunk)
{
    const char *err = lua_fixture_run(f->L, chunk);
    if (!err)
        fail_msg("expected an error from: %s", chunk);
    return err;
}

static void push(fx *f, int status, const char *headers, const char *body)
{
    httpd_response r = {.status = status, .headers = headers, .body = body, .body_len = -1};
    httpd_push(f->srv, &r);
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("\"%s\" does not contain \"%s\"", hay, needle);
}

/* ---- configure ---- */

static void configure_checks_its_arguments(void **state)
{
    fx *f = *state;
    assert_contains(raises(f, "graphql.query('{ a }')"), "configure");
    assert_contains(raises(f, "graphql.configure{ url = 'http://example.com/graphql' }"),
                    "loopback");
    assert_contains(raises(f, "graphql.configure{ url = 'ftp://127.0.0.1/' }"), "scheme");
    assert_contains(raises(f, "graphql.configure{ urll = URL }"), "unknown field urll");
    assert_contains(raises(f, "graphql.configure{}"), "url must be a string");
    assert_contains(raises(f, "graphql.configure('x')"), "table expected");
    assert_contains(raises(f, "graphql.configure{ url = URL, reads_per_minute = 'x' }"),
                    "reads_per_minute must be a number");
    assert_contains(raises(f, "graphql.configure{ url = URL, reads_per_minute = -1 }"), ">= 0");
    assert_contains(raises(f, "graphql.configure{ url = URL, auth_header = 'X-API-KEY',"
                              " auth_config = 'nope' }"),
                    "credentials go only as the connector's own header X-API-KEY from api-key");
    assert_contains(raises(f, "graphql.configure{ url = URL, auth_header = 'X-API-KEY' }"),
                    "credentials go only as");
    assert_contains(raises(f, "graphql.configure{ url = URL, auth_header = 'Bad Header:',"
                              " auth_config = 'api-key' }"),
                    "credentials go only as");
    assert_false(bt_graphql_is_configured());
    run(f, "graphql.configure{ url = 'https://tenant.example.com/api/graphql/' }");
    assert_true(bt_graphql_is_configured());
    run(f, CONFIGURE);
}

static void configure_checks_the_redirect_host_suffix(void **state)
{
    fx *f = *state;
    const char *bad[] = {"'.com'", "'example.com'", "'..example.com'", "'.example.com.'",
                         "'.exa mple.com'", "'.example.org'", "''", "'.'"};
    char chunk[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(chunk, sizeof chunk,
                 "graphql.configure{ url = 'https://acme.example.com/api/graphql/',"
                 " redirect_host_suffix = %s }",
                 bad[i]);
        assert_contains(raises(f, chunk), "redirect_host_suffix must look like");
    }
    assert_contains(raises(f, "graphql.configure{ url = URL, redirect_host_suffix = '.example.com' }"),
                    "the url's host must end in it");
    assert_false(bt_graphql_is_configured());
    run(f, "graphql.configure{ url = 'https://acme.example.com/api/graphql/',"
           " redirect_host_suffix = '.EXAMPLE.com' }");
    assert_true(bt_graphql_is_configured());
}

static void refused_redirect_is_a_transport_error_naming_the_host(void **state)
{
    fx *f = *state;
    push(f, 308, "Location: http://localhost:1/api/graphql/\r\n", "");
    run_configured(f, "local d, err = graphql.query('{ a }')\n"
                      "assert(d == nil and err.kind == 'transport', tostring(err))\n"
                      "assert(err.message:find('redirect to localhost refused', 1, true),"
                      "  err.message)");
    assert_int_equal(httpd_request_count(f->srv), 1);
}

static void query_returns_data_and_sends_variables(void **state)
{
    fx *f = *state;
    push(f, 200, NULL, "{\"data\":{\"node\":{\"id\":\"R3JvdXA6MQ==\",\"name\":\"Eng\"}}}");
    run_configured(f, "local d, err = graphql.query('query Q($id: ID!) { node(id: $id) { id } }',"
                      "  { id = 'R3JvdXA6MQ==', first = 100, tags = graphql.array{} })\n"
                      "assert(d, tostring(err))\n"
                      "assert(d.node.id == 'R3JvdXA6MQ==' and d.node.name == 'Eng')");
    httpd_request q;
    assert_true(httpd_request_get(f->srv, 0, &q));
    assert_string_equal(q.body,
                        "{\"query\":\"query Q($id: ID!) { node(id: $id) { id } }\","
                        "\"variables\":{\"first\":100,\"id\":\"R3JvdXA6MQ==\",\"tags\":[]}}");
    char v[200];
    assert_true(httpd_header(q.headers, "X-API-KEY", v, sizeof v));
    assert_string_equal(v, KEY);
    assert_true(httpd_header(q.headers, "User-Agent", v, sizeof v));
    assert_string_equal(v, "baton-twingate/" BT_VERSION " (+libcurl)");
    httpd_request_free(&q);
}

static void query_without_variables_sends_an_empty_object(void **state)
{
    fx *f = *state;
    push(f, 200, NULL, "{\"data\":{\"a\":1}}");
    push(f, 200, NULL, "{\"data\":{\"a\":2}}");
    run_configured(f, "assert(graphql.query('{ a }').a == 1)\n"
                      "assert(graphql.query('{ a }', nil).a == 2)");
    httpd_request q;
    assert_true(httpd_request_get(f->srv, 1, &q));
    assert_string_equal(q.body, "{\"query\":\"{ a }\",\"variables\":{}}");
    httpd_request_free(&q);
    assert_int_equal(httpd_connection_count(f->srv), 1); /* keep-alive */
}

/* Issue 16 §2: whatever configure asks, the key goes only to the operator's
 * endpoint under its header; another endpoint is reached without it. */
static void credentials_go_only_to_the_operators_endpoint(void **state)
{
    fx *f = *state;
    httpd *other = httpd_start(0);
    assert_non_null(other);
    lua_fixture_set_string(f->L, "OTHER", httpd_url(other, "/"));
    const char *refused[] = {
        "graphql.configure{ url = OTHER, auth_config = 'api-key', auth_header = 'X-Whatever' }",
        "graphql.configure{ url = OTHER, auth_config = 'api-key', auth_header = 'X-API-KEY' }",
        "graphql.configure{ url = 'https://attacker.example/', auth_config = 'api-key',"
        " auth_header = 'X-API-KEY' }",
        "graphql.configure{ url = URL, auth_config = 'api-key', auth_header = 'X-Whatever' }",
        "graphql.configure{ url = URL, auth_config = 'api-key', auth_header = 'Authorization' }",
        "graphql.configure{ url = URL .. '?x', auth_config = 'api-key', auth_header = 'X-API-KEY' }",
        "graphql.configure{ url = URL, auth_config = 'api-key', auth_header = 'X-API-KEY',"
        " redirect_host_suffix = '.0.0.1' }",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_contains(raises(f, refused[i]), "graphql.configure: ");
    assert_false(bt_graphql_is_configured());
    /* a second endpoint: configured, but with no credentials */
    httpd_push_json(other, 200, "{\"data\":{\"a\":1}}");
    run(f, "graphql.configure{ url = OTHER }\nassert(graphql.query('{ a }').a == 1)");
    httpd_request q;
    assert_true(httpd_request_get(other, 0, &q));
    assert_null(strstr(q.headers, KEY));
    assert_null(strstr(q.body, KEY));
    httpd_request_free(&q);
    assert_int_equal(httpd_request_count(other), 1);
    /* the operator's endpoint, exactly: the key goes, case of the header aside */
    push(f, 200, NULL, "{\"data\":{\"a\":2}}");
    run(f, "graphql.configure{ url = URL, auth_config = 'api-key', auth_header = 'x-api-key' }\n"
           "assert(graphql.query('{ a }').a == 2)");
    char v[200];
    assert_true(httpd_request_get(f->srv, 0, &q));
    assert_true(httpd_header(q.headers, "X-API-KEY", v, sizeof v));
    assert_string_equal(v, KEY);
    httpd_request_free(&q);
    httpd_stop(other);
}

/* Without a bound endpoint no configure carries credentials at all. */
static void no_bound_endpoint_means_no_credentials(void **state)
{
    fx *f = *state;
    bt_graphql_unbind_operator();
    assert_contains(raises(f, "graphql.configure{ url = URL, auth_config = 'api-key',"
                              " auth_header = 'X-API-KEY' }"),
                    "no credentials can be sent");
    bt_endpoint_spec spec = {.url_config = "api-url", .name_config = "domain",
                             .template = "https://{name}.example.com/graphql/",
                             .auth_header = "X-API-KEY", .auth_config = "api-key",
                             .redirect_host_suffix = ".example.com"};
    char err[300];
    bt_config_set("domain", "evil.com#.example.com", false);
    assert_int_equal(bt_graphql_bind_operator(&spec, err, sizeof err), -1);
    assert_contains(err, "domain is not accepted");
    assert_null(bt_graphql_operator_url());
    const char *forms[] = {"acme", "ACME.example.com", "https://acme.example.com/", " acme "};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        bt_config_set("domain", forms[i], false);
        assert_int_equal(bt_graphql_bind_operator(&spec, err, sizeof err), 0);
        assert_string_equal(bt_graphql_operator_url(), "https://acme.example.com/graphql/");
    }
    const char *bad[] = {"acme.example.com.evil.org", "https://acme.example.com/x", "a_b",
                         "https://evil.org/", "acme.example.org", "-acme", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        bt_config_set("domain", bad[i], false);
        assert_int_equal(bt_graphql_bind_operator(&spec, err, sizeof err), -1);
    }
    bt_config_set("domain", "acme", false);
    spec.template = "https://example.com/{name}/"; /* the name must be in the host */
    assert_int_equal(bt_graphql_bind_operator(&spec, err, sizeof err), -1);
    assert_contains(err, "template");
    spec.template = "http://{name}.example.com/";
    assert_int_equal(bt_graphql_bind_operator(&spec, err, sizeof err), -1);
    bt_config_set("api-url", "http://127.0.0.1:1/x/", false);
    assert_int_equal(bt_graphql_bind_operator(&spec, err, sizeof err), 0);
    assert_string_equal(bt_graphql_operator_url(), "http://127.0.0.1:1/x/");
}

static void user_agent_suffix_is_appended(void **state)
{
    fx *f = *state;
    push(f, 200, NULL, "{\"data\":{}}");
    run(f, "graphql.configure{ url = URL, user_agent_suffix = 'script/2' }\n"
           "assert(graphql.query('{ a }'))");
    char v[200];
    httpd_request q;
    assert_true(httpd_request_get(f->srv, 0, &q));
    assert_true(httpd_header(q.headers, "User-Agent", v, sizeof v));
    assert_string_equal(v, "baton-twingate/" BT_VERSION " (+libcurl) script/2");
    assert_false(httpd_header(q.headers, "X-API-KEY", v, sizeof v)); /* no auth configured */
    httpd_request_free(&q);
}

/* ---- failures of the world: nil, err ---- */

typedef struct kind_case {
    int status;
    const char *headers;
    const char *body;
    int repeat;
    const char *kind;
    const char *message_part;
} kind_case;

static void each_status_maps_to_its_kind(void **state)
{
    fx *f = *state;
    static const kind_case cases[] = {
        {401, NULL, "{\"message\":\"Invalid API key\"}", 1, "auth", "Invalid API key"},
        {403, "Content-Type: text/html\r\n", "<html>no</html>", 1, "auth", "not authorized"},
        {404, NULL, "", 1, "endpoint", "no API at this URL (HTTP 404"},
        {429, "Retry-After: 5\r\n", "{\"errors\":[{\"message\":\"429 Too Many Requests\"}]}", 2,
         "rate_limited", "429 Too Many Requests (after 2 attempts)"},
        {503, NULL, "upstream", 2, "server", "server error (after 2 attempts)"},
        {500, NULL, "{\"detail\":\"boom\"}", 2, "server", "boom"},
        {418, NULL, "", 1, "http", "unexpected HTTP status"},
        {400, NULL, "{\"errors\":[{\"message\":\"Syntax Error: Expected Name\"}]}", 1, "graphql",
         "Syntax Error: Expected Name"},
        {400, NULL, "bad request", 1, "http", "unexpected HTTP status"},
        /* invalid JSON on a 200 is asked again (max_attempts = 2) */
        {200, NULL, "<html>hello</html>", 2, "decode", "invalid JSON in the response"},
        {200, NULL, "{\"data\":{\"a\":", 2, "decode", "unexpected end of input"},
        {200, NULL, "", 2, "decode", "unexpected end of input"},
        {200, NULL, "[1,2]", 1, "decode", "not a JSON object"},
        {200, NULL, "{\"foo\":1}", 1, "decode", "neither data nor errors"},
        {200, NULL, "{\"data\":null}", 1, "decode", "neither data nor errors"},
    };
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 2;
    bt_graphql_set_options(&o);
    run(f, CONFIGURE);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const kind_case *c = &cases[i];
        for (int k = 0; k < c->repeat; k++)
            push(f, c->status, c->headers, c->body);
        char chunk[1000];
        snprintf(chunk, sizeof chunk,
                 "local d, err = graphql.query('{ a }')\n"
                 "assert(d == nil and type(err) == 'table', 'case %zu: no error')\n"
                 "assert(err.kind == '%s', 'case %zu: kind ' .. tostring(err.kind))\n"
                 "assert(err.status == %d, 'case %zu: status ' .. tostring(err.status))\n"
                 "assert(err.message:find('%s', 1, true), 'case %zu: ' .. err.message)\n",
                 i, c->kind, i, c->status, i, c->message_part, i);
        run(f, chunk);
    }
}

static void rate_limited_error_carries_retry_after(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 3;
    bt_graphql_set_options(&o);
    for (int i = 0; i < 3; i++)
        push(f, 429, "Retry-After: 9\r\n", "");
    run_configured(f, "local d, err = graphql.query('{ a }')\n"
                      "assert(err.kind == 'rate_limited' and err.retry_after == 9)\n"
                      "assert(tostring(err) == 'rate_limited: rate limited by the server"
                      " (after 3 attempts) (HTTP 429)', tostring(err))");
    assert_int_equal(f->fc.nsleeps, 2);
    assert_true(f->fc.slept == 18.0);
}

static void graphql_errors_come_with_partial_data(void **state)
{
    fx *f = *state;
    push(f, 200, NULL,
         "{\"errors\":[{\"message\":\"{'id': ['Unable to parse global ID']}\","
         "\"locations\":[{\"line\":1,\"column\":3}],\"path\":[\"node\"]},"
         "{\"message\":\"second\"}],"
         "\"data\":{\"node\":null,\"other\":{\"a\":1}}}");
    run_configured(f,
                   "local d, err = graphql.query('{ node(id: \"x\") { id } other { a } }')\n"
                   "assert(d == nil and err.kind == 'graphql' and err.status == 200)\n"
                   "assert(err.message == \"{'id': ['Unable to parse global ID']} (and 1 more)\","
                   "       err.message)\n"
                   "assert(#err.errors == 2 and err.errors[1].path[1] == 'node')\n"
                   "assert(err.errors[2].message == 'second')\n"
                   "assert(err.data.other.a == 1 and err.data.node == nil)\n"
                   "assert(tostring(err):find('^graphql: '))");
}

/* One sync sends many documents: a GraphQL error names the one that got it. */
static void graphql_errors_name_the_operation(void **state)
{
    fx *f = *state;
    push(f, 200, NULL, "{\"errors\":[{\"message\":\"Cannot query field 'x' on type 'User'.\"}]}");
    push(f, 200, NULL, "{\"errors\":[{\"message\":\"boom\"}]}");
    run_configured(f,
                   "local d, err = graphql.query('# list\\nquery Users($first: Int) { users { x } }')\n"
                   "assert(tostring(err) == \"graphql: Users: Cannot query field 'x' on type 'User'. (HTTP 200)\","
                   "       tostring(err))\n"
                   "d, err = graphql.query('{ users { x } }')\n"
                   "assert(err.message == 'boom', err.message)");
}

static void empty_errors_array_is_success(void **state)
{
    fx *f = *state;
    push(f, 200, NULL, "{\"errors\":[],\"data\":{\"a\":7}}");
    run_configured(f, "assert(graphql.query('{ a }').a == 7)");
}

static void transport_failure_has_no_status(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 2;
    bt_graphql_set_options(&o);
    char url[100];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/graphql", httpd_free_port());
    lua_fixture_set_string(f->L, "DEAD", url);
    run(f, "graphql.configure{ url = DEAD }\n"
           "local d, err = graphql.query('{ a }')\n"
           "assert(err.kind == 'transport' and err.status == nil)\n"
           "assert(err.message:find('cannot reach 127.0.0.1:', 1, true), err.message)\n"
           "assert(#err.message > 30)");
    assert_int_equal(f->fc.nsleeps, 0); /* never answered: not retried */
}

static void tls_failure_is_transport(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 1;
    o.timeout = 0.5;
    bt_graphql_set_options(&o);
    char url[100];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/graphql", httpd_port(f->srv));
    lua_fixture_set_string(f->L, "TLS_URL", url); /* the test server speaks plain HTTP */
    run(f, "graphql.configure{ url = TLS_URL }\n"
           "local d, err = graphql.query('{ a }')\n"
           "assert(d == nil and err.kind == 'transport' and err.status == nil, tostring(err))");
}

static void oversize_body_is_a_decode_error(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_response_bytes = 64;
    bt_graphql_set_options(&o);
    push(f, 200, NULL,
         "{\"data\":{\"long\":"
         "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}}");
    run_configured(
        f, "local d, err = graphql.query('{ a }')\n"
           "assert(err.kind == 'decode', err.kind)\n"
           "assert(err.message:find('exceeds the limit of 64 bytes', 1, true), err.message)");
    assert_int_equal(httpd_request_count(f->srv), 1);
}

/* ---- misuse raises ---- */

static void misuse_raises(void **state)
{
    fx *f = *state;
    run(f, CONFIGURE);
    assert_contains(raises(f, "graphql.query()"), "string expected");
    assert_contains(raises(f, "graphql.query({})"), "string expected");
    assert_contains(raises(f, "graphql.query('{ a }', 'vars')"), "table expected");
    assert_contains(raises(f, "graphql.query('{ a }', { f = print })"),
                    "graphql: variables.f: cannot encode a function");
    assert_contains(raises(f, "graphql.query('{ a }', { 1, 2 })"), "not an array");
    assert_contains(raises(f, "graphql.query('{ \\xff }')"), "UTF-8");
    assert_contains(raises(f, "graphql.array('x')"), "table expected");
    assert_int_equal(httpd_request_count(f->srv), 0);
}

/* ---- writes ---- */

static const char *MUTATION = "mutation M($id: ID!) { groupDelete(id: $id) { ok error } }";

static void mutation_refused_unless_writes_are_allowed(void **state)
{
    fx *f = *state;
    char chunk[300];
    snprintf(chunk, sizeof chunk, "%sgraphql.query('%s', { id = 'x' })", CONFIGURE, MUTATION);
    assert_contains(raises(f, chunk), "provisioning");
    snprintf(chunk, sizeof chunk,
             "%sgraphql.query('# c\\nfragment F on G { id } %s', { id = 'x' })", CONFIGURE,
             MUTATION);
    assert_contains(raises(f, chunk), "mutation refused");
    assert_int_equal(httpd_request_count(f->srv), 0);
    bt_graphql_allow_writes(true);
    push(f, 200, NULL, "{\"data\":{\"groupDelete\":{\"ok\":true}}}");
    snprintf(chunk, sizeof chunk, "assert(graphql.query('%s', { id = 'x' }).groupDelete.ok)",
             MUTATION);
    run(f, chunk);
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.writes, 1);
    assert_int_equal(s.reads, 0);
}

static void mutation_not_retried_on_5xx_but_query_is(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    push(f, 502, NULL, "");
    char chunk[400];
    snprintf(chunk, sizeof chunk,
             "local d, err = graphql.query('%s', { id = 'x' })\n"
             "assert(d == nil and err.kind == 'server' and err.status == 502)",
             MUTATION);
    run_configured(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 1);
    assert_int_equal(f->fc.nsleeps, 0);
    push(f, 502, NULL, "");
    push(f, 200, NULL, "{\"data\":{\"a\":1}}");
    run(f, "local d, err = graphql.query('{ a }')\n"
           "assert(d and d.a == 1, tostring(err))");
    assert_int_equal(httpd_request_count(f->srv), 3);
    assert_int_equal(f->fc.nsleeps, 1);
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.retries_by[BT_HTTP_RETRY_SERVER], 1);
    assert_int_equal(s.retries, 1);
}

/* A 200 whose body is cut short: a query asks again, a mutation never does. */
static void mangled_answer_asked_again_only_for_queries(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    push(f, 200, NULL, "{\"data\":{\"a\"");
    push(f, 200, NULL, "{\"data\":{\"a\":1}}");
    run_configured(f, "local d, err = graphql.query('{ a }')\n"
                      "assert(d and d.a == 1, tostring(err))");
    assert_int_equal(httpd_request_count(f->srv), 2);
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.retries_by[BT_HTTP_RETRY_DECODE], 1);
    push(f, 200, NULL, "{\"data\":{\"gro");
    char chunk[400];
    snprintf(chunk, sizeof chunk,
             "local d, err = graphql.query('%s', { id = 'x' })\n"
             "assert(d == nil and err.kind == 'decode', tostring(err))", MUTATION);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 3);
}

/* Mangled answers asked again stay inside the request's total time cap. */
static void mangled_answers_stop_at_the_total_time_cap(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.max_attempts = 40;
    o.max_total_time = 10;
    bt_graphql_set_options(&o);
    for (int i = 0; i < 40; i++)
        push(f, 200, NULL, "{\"data\":{\"a\"");
    run_configured(f, "local d, err = graphql.query('{ a }')\n"
                      "assert(d == nil and err.kind == 'decode', tostring(err))");
    assert_true(httpd_request_count(f->srv) < 40);
    assert_true(f->fc.slept < 10);
}

static void mutation_retried_on_429(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    push(f, 429, "Retry-After: 2\r\n", "");
    push(f, 200, NULL, "{\"data\":{\"groupDelete\":{\"ok\":true}}}");
    char chunk[300];
    snprintf(chunk, sizeof chunk, "assert(graphql.query('%s', { id = 'x' }).groupDelete.ok)",
             MUTATION);
    run_configured(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 2);
    assert_true(f->fc.sleeps[0] == 2.0);
}

/* Issue 17: a rate limit reported as a GraphQL error at HTTP 200 is asked
 * again like a 429 (a mutation too: the server refused it), when the script
 * named the phrase; other GraphQL errors are returned at once. */
static void rate_limit_as_a_graphql_error_is_retried(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    push(f, 200, NULL, "{\"errors\":[{\"message\":\"Rate limit exceeded, slow down\"}]}");
    push(f, 200, "Retry-After: 3\r\n",
         "{\"errors\":[{\"message\":\"Too Many Requests\"}],\"data\":null}");
    push(f, 200, NULL, "{\"data\":{\"groupDelete\":{\"ok\":true}}}");
    push(f, 200, NULL, "{\"errors\":[{\"message\":\"rate limit\"}]}");
    char chunk[900];
    snprintf(chunk, sizeof chunk,
             "graphql.configure{ url = URL, rate_limit_errors = { 'rate limit', 'too many requests' } }\n"
             "assert(graphql.query('%s', { id = 'x' }).groupDelete.ok)\n"
             "graphql.configure{ url = URL }\n"
             "local data, err = graphql.query('{ x }')\n"
             "assert(data == nil and err.kind == 'graphql', tostring(err))",
             MUTATION);
    run(f, chunk);
    assert_int_equal(httpd_request_count(f->srv), 4);
    assert_int_equal(f->fc.nsleeps, 2);
    assert_true(f->fc.sleeps[1] == 3.0);
    assert_int_equal(bt_http_stats_get()->retries[BT_HTTP_RETRY_RATE_LIMITED], 2);
    run(f, "local ok, err = pcall(graphql.configure, { url = URL, rate_limit_errors = { '' } })\n"
           "assert(not ok and err:find('rate_limit_errors must be'), err)");
}

/* A mutation's error tells "maybe applied" (sent, answer lost or unreadable)
 * from "certainly not applied"; a query's error carries neither. */
static void check_maybe_applied(fx *f, const char *expect)
{
    char chunk[500];
    snprintf(chunk, sizeof chunk,
             "local d, err = graphql.query('%s', { id = 'x' })\n"
             "assert(d == nil, 'expected an error')\n"
             "assert(err.maybe_applied == %s, tostring(err) .. ' maybe_applied='"
             " .. tostring(err.maybe_applied))",
             MUTATION, expect);
    run_configured(f, chunk);
}

static void mutation_errors_say_whether_it_may_have_been_applied(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    httpd_response cut = {.status = 200,
                          .body = "{\"data\":{\"groupDelete\":{\"ok\":true}}}",
                          .body_len = -1,
                          .mode = HTTPD_TRUNCATE,
                          .truncate_at = 12};
    httpd_push(f->srv, &cut); /* applied, then the connection closed mid-body */
    check_maybe_applied(f, "true");
    push(f, 200, NULL, "{\"data\":{\"gro");
    check_maybe_applied(f, "true"); /* a 200 whose body is unreadable */
    push(f, 502, NULL, "");
    check_maybe_applied(f, "true"); /* a gateway may answer after the server acted */
    httpd_response dropped = {.status = 200, .body = "", .body_len = 0, .mode = HTTPD_DROP};
    httpd_push(f->srv, &dropped);
    check_maybe_applied(f, "true"); /* sent, then no answer at all */
    push(f, 400, NULL, "{\"errors\":[{\"message\":\"bad\"}]}");
    check_maybe_applied(f, "false");
    push(f, 200, NULL, "{\"errors\":[{\"message\":\"denied\"}],\"data\":null}");
    check_maybe_applied(f, "false");
    push(f, 403, NULL, "{\"message\":\"no\"}");
    check_maybe_applied(f, "false");
    assert_int_equal(httpd_request_count(f->srv), 7); /* never sent twice */
    push(f, 400, NULL, "{\"errors\":[{\"message\":\"bad\"}]}");
    run(f, "local d, err = graphql.query('{ a }')\n"
           "assert(d == nil and err.kind == 'graphql' and err.maybe_applied == nil)");
}

static void refused_mutation_was_certainly_not_applied(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    char url[100], chunk[600];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/graphql", httpd_free_port());
    lua_fixture_set_string(f->L, "DEAD", url);
    snprintf(chunk, sizeof chunk,
             "graphql.configure{ url = DEAD }\n"
             "local d, err = graphql.query('%s', { id = 'x' })\n"
             "assert(err.kind == 'transport' and err.maybe_applied == false, tostring(err))",
             MUTATION);
    run(f, chunk);
}

/* ---- pacing ---- */

static void reads_and_writes_are_paced_separately(void **state)
{
    fx *f = *state;
    bt_graphql_allow_writes(true);
    for (int i = 0; i < 7; i++)
        push(f, 200, NULL, "{\"data\":{\"groupDelete\":{\"ok\":true}}}");
    char chunk[600];
    snprintf(chunk, sizeof chunk,
             "graphql.configure{ url = URL, reads_per_minute = 2, writes_per_minute = 1 }\n"
             "for i = 1, 3 do assert(graphql.query('{ a }')) end\n"
             "for i = 1, 2 do assert(graphql.query('%s', { id = 'x' })) end",
             MUTATION);
    run(f, chunk);
    /* two reads fit the window, the third waits a minute; the first write
     * does not wait on the reads, the second waits its own minute */
    assert_int_equal(f->fc.nsleeps, 2);
    assert_true(f->fc.sleeps[0] == 60.0 && f->fc.sleeps[1] == 60.0);
    run(f, "local s = graphql.stats()\n"
           "assert(s.pacing_wait_seconds == 120 and s.reads == 3 and s.writes == 2)");
}

static void driver_override_beats_the_script(void **state)
{
    fx *f = *state;
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    o.reads_per_minute_override = 1; /* one per minute */
    bt_graphql_set_options(&o);
    for (int i = 0; i < 3; i++)
        push(f, 200, NULL, "{\"data\":{}}");
    run(f, "graphql.configure{ url = URL, reads_per_minute = 600 }\n"
           "for i = 1, 3 do assert(graphql.query('{ a }')) end");
    assert_int_equal(f->fc.nsleeps, 2);
    assert_true(f->fc.sleeps[0] == 60.0 && f->fc.sleeps[1] == 60.0);
    /* 0 = unpaced, whatever the script says */
    o.reads_per_minute_override = 0;
    bt_graphql_set_options(&o);
    for (int i = 0; i < 3; i++)
        push(f, 200, NULL, "{\"data\":{}}");
    run(f, "graphql.configure{ url = URL, reads_per_minute = 1 }\n"
           "for i = 1, 3 do assert(graphql.query('{ a }')) end");
    assert_int_equal(f->fc.nsleeps, 2);
}

static void unpaced_by_default(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 4; i++)
        push(f, 200, NULL, "{\"data\":{}}");
    run_configured(f, "for i = 1, 4 do assert(graphql.query('{ a }')) end");
    assert_int_equal(f->fc.nsleeps, 0);
}

/* ---- stats ---- */

static void stats_from_lua_and_c_agree(void **state)
{
    fx *f = *state;
    push(f, 429, "Retry-After: 4\r\n", "");
    push(f, 500, NULL, "");
    push(f, 200, NULL, "{\"data\":{\"a\":1}}");
    push(f, 200, NULL, "{\"data\":{\"a\":2}}");
    run_configured(f, "assert(graphql.query('{ a }').a == 1)\n"
                      "assert(graphql.query('{ a }').a == 2)\n"
                      "local s = graphql.stats()\n"
                      "assert(s.requests == 4 and s.reads == 2 and s.writes == 0)\n"
                      "assert(s.retries == 2 and s.retries_rate_limited == 1)\n"
                      "assert(s.retries_server == 1 and s.retries_transport == 0)\n"
                      "assert(s.rate_limit_wait_seconds == 4)\n"
                      "assert(s.backoff_wait_seconds > 0 and s.pages == 0)\n"
                      "assert(s.bytes_received == 32, s.bytes_received)");
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    assert_int_equal(s.requests, 4);
    assert_int_equal(s.retries, 2);
    assert_int_equal(s.bytes_received, 32);
    assert_true(s.rate_limit_wait_seconds == 4.0);
    bt_graphql_reset_stats();
    bt_graphql_get_stats(&s);
    assert_int_equal(s.requests + s.reads + s.retries + s.bytes_received, 0);
}

/* ---- the key ---- */

static void key_never_reaches_logs_or_error_messages(void **state)
{
    fx *f = *state;
    log_capture lc;
    log_capture_start(&lc, BT_LOG_DEBUG);
    push(f, 503, NULL, "");
    push(f, 401, NULL, "{\"message\":\"bad key " KEY "\"}");
    run_configured(f, "local d, err = graphql.query('{ a }')\n"
                      "assert(err.kind == 'auth')\n"
                      "assert(not err.message:find('" KEY "', 1, true), err.message)\n"
                      "assert(err.message:find('bad key [REDACTED]', 1, true), err.message)\n"
                      "assert(not tostring(err):find('tg%-KEY'))");
    int leaked = log_capture_count(&lc, KEY) + log_capture_count(&lc, "tg-KEY");
    int redacted = log_capture_count(&lc, "X-API-KEY: [REDACTED]");
    log_capture_stop(&lc);
    assert_int_equal(leaked, 0);
    assert_int_equal(redacted, 2);
}

static void shutdown_forgets_the_endpoint_and_is_idempotent(void **state)
{
    fx *f = *state;
    run(f, CONFIGURE);
    bt_graphql_shutdown();
    bt_graphql_shutdown();
    assert_false(bt_graphql_is_configured());
    assert_contains(raises(f, "graphql.query('{ a }')"), "configure");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(configure_checks_its_arguments),
        T(query_returns_data_and_sends_variables),
        T(query_without_variables_sends_an_empty_object),
        T(credentials_go_only_to_the_operators_endpoint),
        T(no_bound_endpoint_means_no_credentials),
        T(user_agent_suffix_is_appended),
        T(configure_checks_the_redirect_host_suffix),
        T(refused_redirect_is_a_transport_error_naming_the_host),
        T(each_status_maps_to_its_kind),
        T(rate_limited_error_carries_retry_after),
        T(mangled_answer_asked_again_only_for_queries),
        T(graphql_errors_come_with_partial_data),
        T(graphql_errors_name_the_operation),
        T(empty_errors_array_is_success),
        T(transport_failure_has_no_status),
        T(tls_failure_is_transport),
        T(oversize_body_is_a_decode_error),
        T(misuse_raises),
        T(mutation_refused_unless_writes_are_allowed),
        T(mutation_not_retried_on_5xx_but_query_is),
        T(mutation_retried_on_429),
        T(rate_limit_as_a_graphql_error_is_retried),
        T(mangled_answers_stop_at_the_total_time_cap),
        T(mutation_errors_say_whether_it_may_have_been_applied),
        T(refused_mutation_was_certainly_not_applied),
        T(reads_and_writes_are_paced_separately),
        T(driver_override_beats_the_script),
        T(unpaced_by_default),
        T(stats_from_lua_and_c_agree),
        T(key_never_reaches_logs_or_error_messages),
        T(shutdown_forgets_the_endpoint_and_is_idempotent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
