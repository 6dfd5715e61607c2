/* What each task type gets: hello answered with a Hello, sync_full and the
 * provisioning types run in a task process, everything else "unsupported
 * task type"; provisioning without --provisioning, and malformed requests,
 * end at once without touching the target. The provisioning types are the
 * rows of the action table (src/action/actions.c). */
#include "service/svc.h"
#include "action/action.h"
#include "bt/clock.h"
#include "bt/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static int make_task_dir(bt_svc_daemon *d, char *dir, size_t n)
{
    snprintf(dir, n, "%s/" BT_PROGRAM "-task-XXXXXX", d->set.temp_dir);
    if (!mkdtemp(dir)) {
        bt_warn("service: cannot create a temporary directory in %s", d->set.temp_dir);
        return -1;
    }
    return 0;
}

/* The initial heartbeat decides whether the sync runs at all; if it fails or
 * answers cancelled, the task is dropped without FinishTask. */
static void start_sync(bt_svc_daemon *d, const SvcTask *t)
{
    char dir[4096];
    double interval = 30;
    bool cancelled;
    if (make_task_dir(d, dir, sizeof dir) != 0) {
        bt_svc_finish_error(d, t->id, BT_GRPC_UNKNOWN, "cannot create a temporary directory", false);
        return;
    }
    if (bt_svc_heartbeat(d, t->id, &interval, &cancelled) != BT_GRPC_OK || cancelled) {
        bt_info("service: sync task %s dropped at its first heartbeat", t->id);
        bt_svc_remove_dir(dir);
        return;
    }
    if (bt_svc_spawn(d, t, BT_TASK_SYNC, dir, bt_svc_child_sync) != 0) {
        bt_svc_remove_dir(dir);
        bt_svc_finish_error(d, t->id, BT_GRPC_UNKNOWN, "cannot start a task process", false);
        return;
    }
    d->tasks[d->n_tasks - 1].heartbeat_interval = interval;
    d->tasks[d->n_tasks - 1].next_heartbeat = bt_clock_monotonic() + interval;
}

static void start_provision(bt_svc_daemon *d, const SvcTask *t, const bt_action *a)
{
    const char *why = a->malformed(t);
    if (!d->set.provisioning)
        bt_svc_finish_error(d, t->id, BT_GRPC_FAILED_PRECONDITION,
                            "provisioning is not enabled", true);
    else if (why)
        bt_svc_finish_error(d, t->id, BT_GRPC_UNKNOWN, why, true);
    else if (bt_svc_spawn(d, t, BT_TASK_PROVISION, "", bt_svc_child_provision) != 0)
        bt_svc_finish_error(d, t->id, BT_GRPC_UNKNOWN, "cannot start a task process", true);
}

static void answer_hello(bt_svc_daemon *d, const SvcTask *t)
{
    char err[1024];
    if (bt_svc_send_hello(d, t->id, err, sizeof err) != BT_GRPC_OK)
        bt_warn("service: Hello for task %s failed: %s", t->id, err);
}

void bt_svc_handle_task(bt_svc_daemon *d, const SvcTask *t)
{
    if (!t->id || !t->id[0]) {
        bt_warn("service: ignoring a task without an id");
        return;
    }
    if (strlen(t->id) > BT_SVC_TASK_ID_MAX) {
        /* Heartbeats and the FinishTask of a running task use the id it keeps:
         * a cut id would name another task, or none. */
        char why[96];
        snprintf(why, sizeof why, "task id longer than %d bytes", BT_SVC_TASK_ID_MAX);
        bt_svc_finish_error(d, t->id, BT_GRPC_INVALID_ARGUMENT, why, true);
        return;
    }
    const bt_action *a = bt_action_for_task(t->task_type_case);
    if (a) {
        bt_info("service: task %s: provisioning (case %d)", t->id, (int)t->task_type_case);
        start_provision(d, t, a);
        return;
    }
    switch (t->task_type_case) {
    case C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_NONE: return;
    case C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_HELLO: answer_hello(d, t); return;
    case C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_SYNC_FULL:
        bt_info("service: task %s: sync_full", t->id);
        if (d->set.skip_full_sync && (!t->sync_full || t->sync_full->n_targeted_sync_resources == 0))
            bt_svc_finish_error(d, t->id, BT_GRPC_FAILED_PRECONDITION,
                                "full syncs are turned off on this connector (--skip-full-sync)",
                                true);
        else
            start_sync(d, t);
        return;
    default:
        bt_svc_finish_error(d, t->id, BT_GRPC_UNKNOWN, "unsupported task type", false);
    }
}
