/* Ended task processes become FinishTask calls: the outcome they reported,
 * a failure for a crash or a kill, CANCELED for a cancelled task. */
#include "service/svc.h"
#include "bt/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void describe_death(int status, char *out, size_t n)
{
    if (WIFSIGNALED(status))
        snprintf(out, n, "the task process was killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "the task process ended (exit status %d) without a result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void conclude(bt_svc_daemon *d, bt_svc_running *t, int status)
{
    bt_svc_outcome o;
    char why[256];
    bool complete = bt_svc_outcome_decode(&t->result, &o) == 0;
    if (t->cancel_reason)
        bt_svc_finish_error(d, t->task_id, BT_GRPC_CANCELED, t->cancel_reason, false);
    else if (!complete) {
        describe_death(status, why, sizeof why);
        bt_svc_finish_error(d, t->task_id, BT_GRPC_UNKNOWN, why, t->kind == BT_TASK_PROVISION);
    } else if (o.code != BT_GRPC_OK)
        bt_svc_finish_error(d, t->task_id, o.code, o.text, o.non_retryable);
    else /* a sync's file is uploaded by now; syncs answer success {} */
        bt_svc_finish_success(d, t->task_id, t->kind == BT_TASK_SYNC ? NULL : o.type_url, &o.value);
    bt_buf_free(&o.value);
}

static int find_task(bt_svc_daemon *d, pid_t pid)
{
    for (int i = 0; i < d->n_tasks; i++)
        if (d->tasks[i].pid == pid)
            return i;
    return -1;
}

static void end_task(bt_svc_daemon *d, int i, int status)
{
    bt_svc_running *t = &d->tasks[i];
    while (t->fd >= 0) {
        bt_svc_read_results(d); /* the rest of the outcome; EOF follows the exit */
        if (t->fd >= 0)
            usleep(1000);
    }
    t->pid = -1; /* no heartbeat after the end */
    conclude(d, t, status);
    bt_svc_remove_dir(t->dir);
    bt_buf_free(&t->result);
    d->tasks[i] = d->tasks[--d->n_tasks];
}

void bt_svc_reap(bt_svc_daemon *d)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int i = find_task(d, pid);
        if (i >= 0)
            end_task(d, i, status);
        else
            bt_svc_health_reaped(d->health, pid, status);
    }
}
