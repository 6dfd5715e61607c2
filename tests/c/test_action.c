/* The table of provisioning actions (src/action/): every provisioning task
 * case has exactly its row, any other case has none, and a task whose case
 * has no row is refused in service mode rather than run as another action. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "action/action.h"
#include "service/svc.h"

#define TASK(name) C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_##name

static bt_host *host;
static bt_contract contract;

static int setup(void **state)
{
    (void)state;
    bt_host_error err;
    host = bt_host_new(NULL, BT_TEST_SOURCE_DIR "/scripts", &err);
    assert_non_null(host);
    assert_int_equal(bt_contract_load(host, "twingate", &contract, &err), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bt_contract_free(&contract);
    bt_host_free(host);
    return 0;
}

static void each_provisioning_case_has_its_row(void **state)
{
    (void)state;
    assert_string_equal(bt_action_for_task(TASK(GRANT))->handler, "grant");
    assert_string_equal(bt_action_for_task(TASK(REVOKE))->handler, "revoke");
    assert_string_equal(bt_action_for_task(TASK(CREATE_ACCOUNT))->handler, "create_account");
    assert_string_equal(bt_action_for_task(TASK(DELETE_RESOURCE))->handler, "delete_resource");
}

static void other_cases_have_no_row(void **state)
{
    (void)state;
    assert_null(bt_action_for_task(TASK(_NOT_SET)));
    assert_null(bt_action_for_task(TASK(NONE)));
    assert_null(bt_action_for_task(TASK(HELLO)));
    assert_null(bt_action_for_task(TASK(SYNC_FULL)));
    assert_null(bt_action_for_task(TASK(CREATE_RESOURCE)));
    assert_null(bt_action_for_task(9999));
}

static void every_row_is_complete(void **state)
{
    (void)state;
    int n = 0;
    for (const bt_action *a; (a = bt_action_at(n)); n++) {
        assert_non_null(a->handler);
        assert_true(a->flags[0] < BT_RUNTIME_FLAG_COUNT);
        assert_non_null(a->from_flags);
        assert_non_null(a->malformed);
        assert_non_null(a->from_task);
        assert_non_null(a->answer);
        assert_ptr_equal(bt_action_for_task(a->task_case), a);
        /* the bundled script implements every action */
        assert_true(bt_contract_has_function(host, &contract, a->handler));
    }
    assert_int_equal(n, 4);
    assert_null(bt_action_at(-1));
}

/* A case with no row (create_resource, hello: delete_resource is NULL) must not be
 * taken for delete_resource: it is refused, and no handler runs. */
static void unknown_case_is_refused(void **state)
{
    (void)state;
    int cases[] = {TASK(HELLO), TASK(CREATE_RESOURCE), TASK(_NOT_SET), 9999};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        SvcTask t = C1__CONNECTORAPI__BATON__V1__TASK__INIT;
        t.id = "task-1";
        t.task_type_case = cases[i];
        bt_svc_outcome out;
        memset(&out, 0, sizeof out);
        int top = lua_gettop(bt_host_lua(host));
        bt_svc_provision_task(host, &contract, &t, &out);
        assert_int_equal(out.code, BT_GRPC_UNKNOWN);
        assert_true(out.non_retryable);
        assert_string_equal(out.text, "unsupported task type");
        assert_int_equal(out.value.len, 0);
        assert_string_equal(out.type_url, "");
        assert_int_equal(lua_gettop(bt_host_lua(host)), top);
        bt_http_buf_free(&out.value);
    }
}

/* [-0, +0] create_account's answer to the handler result the Lua chunk
 * returns: the return code, the error text or the response. */
static int create_answer_of(const char *chunk, char *error, size_t n, bt_http_buf *value)
{
    lua_State *L = bt_host_lua(host);
    int top = lua_gettop(L);
    assert_int_equal(luaL_dostring(L, chunk), LUA_OK);
    C1__Connectorapi__Baton__V1__Task__CreateAccountTask create =
        C1__CONNECTORAPI__BATON__V1__TASK__CREATE_ACCOUNT_TASK__INIT;
    SvcTask t = C1__CONNECTORAPI__BATON__V1__TASK__INIT;
    t.id = "task-1";
    t.task_type_case = TASK(CREATE_ACCOUNT);
    t.create_account = &create;
    char type_url[256] = "";
    bt_action_answer out = {value, type_url, sizeof type_url, error, n};
    error[0] = '\0';
    int rc = bt_action_for_task(TASK(CREATE_ACCOUNT))->answer(L, top + 1, &contract, &t, &out);
    assert_int_equal(lua_gettop(L), top + 1);
    lua_settop(L, top);
    if (rc != 0)
        assert_string_equal(type_url, "");
    return rc;
}

/* A create_account result without an account id is an error, not a success
 * with an empty id; a result that is no table is an error, not a Lua error
 * raised outside a protected call (which aborted the task process). */
static void create_answer_needs_a_table_with_an_id(void **state)
{
    (void)state;
    static const char *const bad[][2] = {
        {"return true", "create_account returned a boolean, not a table"},
        {"return 'VXNlcjox'", "create_account returned a string, not a table"},
        {"return 12", "create_account returned a number, not a table"},
        {"return {message = 'created'}", "create_account returned no account id"},
        {"return {id = ''}", "create_account returned no account id"},
        {"return {id = 12}", "create_account returned no account id"},
        {"return {id = {}}", "create_account returned no account id"},
        {"return setmetatable({}, {__index = function() error('boom') end})",
         "create_account returned no account id"},
    };
    char error[256];
    bt_http_buf value = {0};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(create_answer_of(bad[i][0], error, sizeof error, &value), -1);
        assert_string_equal(error, bad[i][1]);
    }
    assert_int_equal(create_answer_of("return {id = 'VXNlcjox', email = 'a@b.example'}", error,
                                      sizeof error, &value), 0);
    assert_string_equal(error, "");
    ProtobufCMessage *m = protobuf_c_message_unpack(&c1__connector__v2__create_account_response__descriptor,
                                                    NULL, value.len, (const uint8_t *)value.data);
    assert_non_null(m);
    C1__Connector__V2__CreateAccountResponse *r = (C1__Connector__V2__CreateAccountResponse *)m;
    assert_int_equal(r->result_case, C1__CONNECTOR__V2__CREATE_ACCOUNT_RESPONSE__RESULT_SUCCESS);
    assert_string_equal(r->success->resource->id->resource, "VXNlcjox");
    assert_string_equal(r->success->resource->display_name, "a@b.example");
    protobuf_c_message_free_unpacked(m, NULL);
    bt_http_buf_free(&value);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_provisioning_case_has_its_row),
        cmocka_unit_test(other_cases_have_no_row),
        cmocka_unit_test(every_row_is_complete),
        cmocka_unit_test(unknown_case_is_refused),
        cmocka_unit_test(create_answer_needs_a_table_with_an_id),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
