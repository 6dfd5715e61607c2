/* The provisioning actions, one row each in actions.c: the script handler that
 * runs it, what selects it (the one-shot flags, the service task case), which
 * resource-type promise requires the handler, how its request table is built in
 * each mode and how service mode answers its success. One-shot
 * (driver/provision.c) and service mode (service/tasks.c, child_provision.c)
 * both dispatch from this table and call the handler through bt_action_call;
 * a task case or handler that has no row is refused, never taken for another.
 * Adding an action is one row plus its steps (steps.h) and the script handler. */
#ifndef BT_ACTION_ACTION_H
#define BT_ACTION_ACTION_H
#include <stdbool.h>
#include <stddef.h>
#include "bt/cli.h"
#include "bt/contract.h"
#include "bt/http.h"
#include "service/pb.h"

/* The response Any of a service-mode success, or why there is none. */
typedef struct {
    bt_http_buf *value;
    char *type_url;
    size_t type_url_size;
    char *error; /* filled when answer returns -1 */
    size_t error_size;
} bt_action_answer;

typedef struct {
    const char *handler; /* the contract function; also the one-shot's name for it */
    int task_case;       /* the Task oneof case (C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_*) */
    size_t promised_by;  /* offsetof the bt_resource_type_decl bool that requires the handler */
    int capability;      /* the baton Capability that promise declares */
    const bt_flag_id *flags; /* one-shot flags that select it, ended by BT_RUNTIME_FLAG_COUNT */
    const bt_flag_id *options; /* flags that only refine it (NULL: none), ended the same way */
    /* [-0, +1] the request table from the one-shot flags; -1 with err. */
    int (*from_flags)(bt_host *h, const bt_contract *c, const bt_cli *cli, char *err, size_t n);
    /* The SDK's pre-check of a task: NULL when it can run, else why not. */
    const char *(*malformed)(const SvcTask *t);
    /* [-0, +1] the request table of a checked task. */
    void (*from_task)(lua_State *L, const SvcTask *t);
    /* [-0, +0] the handler's result at idx as the task's response; -1 with
     * out->error filled when the result does not make one (or out of memory). */
    int (*answer)(lua_State *L, int idx, const bt_contract *c, const SvcTask *t,
                  const bt_action_answer *out);
} bt_action;

/* The i-th row; NULL past the end. */
const bt_action *bt_action_at(int i);
/* The row of a Task oneof case; NULL when it is not a provisioning task. */
const bt_action *bt_action_for_task(int task_case);
/* Whether the resource type promises the action (and so needs its handler). */
bool bt_action_promised(const bt_action *a, const bt_resource_type_decl *t);

typedef enum {
    BT_ACTION_DONE = 0,    /* the handler returned a result: (result, err) on top */
    BT_ACTION_REFUSED,     /* it returned nil or false: (result, err) on top */
    BT_ACTION_THREW,       /* it raised: err filled */
    BT_ACTION_NO_HANDLER,  /* the script has no such function */
} bt_action_status;

/* [-1, +2|0] Call a's handler with the request on top, in the provisioning
 * phase (GraphQL writes allowed, the config readable). defined_at gets where
 * the handler is defined (for a returned error without a position). The
 * caller restores the stack. */
bt_action_status bt_action_call(bt_host *h, const bt_contract *c, const bt_action *a,
                                char *defined_at, size_t n, bt_host_error *err);

#endif
