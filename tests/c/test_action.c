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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_provisioning_case_has_its_row),
        cmocka_unit_test(other_cases_have_no_row),
        cmocka_unit_test(every_row_is_complete),
        cmocka_unit_test(unknown_case_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
