/* The provisioning actions (action.h): one row per action, the only place
 * that pairs a handler with its flags, task case, promise and steps. */
#include "action/action.h"
#include "action/steps.h"

#include <stddef.h>

#define TASK(name) C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_##name
#define CAP(name) C1__CONNECTOR__V2__CAPABILITY__CAPABILITY_##name
#define FLAGS(...) ((const bt_flag_id[]){__VA_ARGS__, BT_RUNTIME_FLAG_COUNT})
#define PROMISE(decl_field) offsetof(bt_resource_type_decl, decl_field)

/* A row per action: handler and task case; the promise that requires the
 * handler and the capability it declares; the one-shot flags; its steps. */
static const bt_action actions[] = {
    {.handler = "grant", .task_case = TASK(GRANT),
     .promised_by = PROMISE(provision), .capability = CAP(PROVISION),
     .flags = FLAGS(BT_FLAG_GRANT_ENTITLEMENT, BT_FLAG_GRANT_PRINCIPAL, BT_FLAG_GRANT_PRINCIPAL_TYPE),
     .from_flags = bt_act_grant_from_flags, .malformed = bt_act_grant_malformed,
     .from_task = bt_act_grant_from_task, .answer = bt_act_grant_answer},
    {.handler = "revoke", .task_case = TASK(REVOKE),
     .promised_by = PROMISE(provision), .capability = CAP(PROVISION),
     .flags = FLAGS(BT_FLAG_REVOKE_GRANT),
     .from_flags = bt_act_revoke_from_flags, .malformed = bt_act_revoke_malformed,
     .from_task = bt_act_revoke_from_task, .answer = bt_act_revoke_answer},
    {.handler = "create_account", .task_case = TASK(CREATE_ACCOUNT),
     .promised_by = PROMISE(account_provisioning), .capability = CAP(ACCOUNT_PROVISIONING),
     .flags = FLAGS(BT_FLAG_CREATE_ACCOUNT_EMAIL, BT_FLAG_CREATE_ACCOUNT_LOGIN, BT_FLAG_CREATE_ACCOUNT_PROFILE),
     .options = FLAGS(BT_FLAG_CREATE_ACCOUNT_RESOURCE_TYPE),
     .from_flags = bt_act_create_from_flags, .malformed = bt_act_create_malformed,
     .from_task = bt_act_create_from_task, .answer = bt_act_create_answer},
    {.handler = "delete_resource", .task_case = TASK(DELETE_RESOURCE),
     .promised_by = PROMISE(resource_delete), .capability = CAP(RESOURCE_DELETE),
     .flags = FLAGS(BT_FLAG_DELETE_RESOURCE, BT_FLAG_DELETE_RESOURCE_TYPE),
     .from_flags = bt_act_delete_from_flags, .malformed = bt_act_delete_malformed,
     .from_task = bt_act_delete_from_task, .answer = bt_act_delete_answer},
};
#define ACTION_COUNT (int)(sizeof actions / sizeof actions[0])

const bt_action *bt_action_at(int i)
{
    return i >= 0 && i < ACTION_COUNT ? &actions[i] : NULL;
}

const bt_action *bt_action_for_task(int task_case)
{
    for (int i = 0; i < ACTION_COUNT; i++)
        if (actions[i].task_case == task_case)
            return &actions[i];
    return NULL;
}

bool bt_action_promised(const bt_action *a, const bt_resource_type_decl *t)
{
    return *(const bool *)((const char *)t + a->promised_by);
}
